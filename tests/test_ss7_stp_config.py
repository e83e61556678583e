"""A signalling transfer point from the configuration (`[[stp]]`) and trunks signalling
through it (`trunk.stp`, `trunk.link_spans`): examples/ss7-stp-sim.toml on the virtual
clock, with calls between the two exchanges carried through the STP, its route management
when a link set fails, tracing, and the configuration errors."""

from __future__ import annotations

import os
import subprocess

import pytest
import tomllib

from core.errors import ConfigError
from cti.calls import CallState
from cti.config import Config, reference_markdown
from cti.runtime import Runtime
from ss7.mtp3_codec import SI_ISUP
from tests.conftest import need_program
from tests.kernel_rig import sim_config

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "ss7-stp-sim.toml")


@pytest.fixture
def rt(tmp_path):
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(tmp_path / "calls.db")
    rt = Runtime(cfg, virtual=True)
    rt.kernel.run_for(5)
    yield rt
    rt.close()


def test_calls_between_the_exchanges_go_through_the_stp(rt):
    stp, a, b = rt.trunks["stp"], rt.trunks["a-isup"], rt.trunks["b-isup"]
    assert stp.node.mtp3.stp and stp.node.mtp3.accessible == {1, 2}
    assert a.link_up and b.link_up
    assert a.node.mtp3.routes[2] == [5] and list(a.node.mtp3.linksets) == [5]
    before = stp.node.mtp3.counters["transferred"]
    cid = rt.ops.call_dial(dnis="4000", trunk="a-isup")
    rt.kernel.run_for(3)
    assert rt.centre.active[cid].state == CallState.CONNECTED
    assert stp.node.mtp3.counters["transferred"] - before >= 2  # IAM; CON (or ACM, ANM)
    assert rt.errors == [] and rt.kernel.errors == []
    st = stp.status()
    assert st["type"] == "stp" and st["pc"] == 5 and st["routes"] == {1: [1], 2: [2]}
    assert st["mtp"]["mtp3"]["stp"] is True
    assert a.status()["stp"] == 5
    assert rt.trunks["stp"] not in [t for g in rt.groups.values() for t in g.trunks]


def test_lost_link_set_is_announced_by_the_stp(rt):
    """B's signalling link fails: S tells A TFP 2 (Q.704 13.2), A pauses B's circuits;
    the link returns: TFA 2 and A resumes."""
    stp, a = rt.trunks["stp"], rt.trunks["a-isup"]
    b_link = rt.trunks["b-isup"].link
    b_link.dispatch("deactivate")
    rt.kernel.run_for(2)
    assert (5, 2) in a.node.mtp3.prohibited and not a.link_up
    assert stp.node.mtp3.linksets[1].told == {2: "TFP"}
    b_link.dispatch("activate")
    rt.kernel.run_for(15)
    assert (5, 2) not in a.node.mtp3.prohibited and a.link_up


def test_trace_the_stp_links(rt, tmp_path):
    path = str(tmp_path / "stp.pcap")
    assert rt.ops.trunk_trace("stp", path)["tracing"] == path
    cid = rt.ops.call_dial(dnis="4001", trunk="a-isup")
    rt.kernel.run_for(2)
    rt.centre.active[cid].drop()
    rt.kernel.run_for(1)
    rt.ops.trunk_trace("stp", None)
    data = open(path, "rb").read()
    assert len(data) > 24 and int.from_bytes(data[20:24], "little") == 139  # MTP2 with PHDR
    tshark = need_program("tshark")
    out = subprocess.run([tshark, "-r", path, "-Y", "isup", "-T", "fields",
                          "-e", "mtp3.opc", "-e", "mtp3.dpc", "-e", "isup.message_type"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    rows = {tuple(r.split("\t")) for r in out if r}
    assert {("1", "2", "1"), ("2", "1", "7"), ("1", "2", "12"), ("2", "1", "16")} <= rows
    # IAM A->B, CON B->A, REL A->B, RLC B->A: each received and sent on by S


def test_congestion_toward_b_draws_tfc_in_the_kernel(rt):
    """B congests the STP's link toward it: A's next messages to B draw TFC from S and A's
    ISUP reduces its traffic toward B (Q.764 2.10)."""
    stp, a = rt.trunks["stp"], rt.trunks["a-isup"]
    rt.trunks["b-isup"].link.mtp2.set_receive_congestion(True)
    rt.kernel.run_for(0.5)
    a.node.mtp3.transfer(SI_ISUP, 2, 1, bytes.fromhex("0100") + b"\x31")  # a message of A's
    rt.kernel.run_for(0.5)
    assert stp.node.mtp3.counters["tx_tfc"] == 1 and a.node.mtp3.counters["rx_tfc"] == 1
    assert a.node.isup.control(2).step > 0
    rt.trunks["b-isup"].link.mtp2.set_receive_congestion(False)
    rt.kernel.run_for(8)
    # international network (Q.704 13.1): TFC alone; ISUP's T29/T30 do the rest, no RCT
    assert a.node.mtp3.counters["tx_rct"] == 0 and a.node.mtp3.status()["congested"] == []


def test_congested_link_to_the_stp_reduces_traffic_to_dpc(rt):
    """Quasi-associated: the STP congests A's only link (its MTP2 busy): A's own messages to
    B draw MTP-STATUS about B (Q.704 11.2.3.1 i), so A's ISUP reduces its traffic toward B
    (Q.764 2.10), not only toward the STP."""
    stp, a = rt.trunks["stp"], rt.trunks["a-isup"]
    stp.node.mtp3.find_link(1, 0).mtp2.set_receive_congestion(True)
    rt.kernel.run_for(0.5)
    assert a.node.mtp3.linksets[5].congested and a.node.isup.control(2).step == 0
    a.node.mtp3.transfer(SI_ISUP, 2, 1, bytes.fromhex("0100") + b"\x31")
    rt.kernel.run_for(0.1)
    assert a.node.isup.control(2).step > 0 and stp.node.mtp3.counters["tx_tfc"] == 0
    stp.node.mtp3.find_link(1, 0).mtp2.set_receive_congestion(False)
    rt.kernel.run_for(1)
    assert rt.errors == [] and rt.kernel.errors == []


def load(text: str) -> Config:
    return Config(tomllib.loads(text), "x.toml", text)


BOARD = '[[board]]\nname = "s"\ntype = "sim"\nspans = 2\n'


@pytest.mark.parametrize("text,key,message", [
    ('[[stp]]\nname = "s1"\npc = 5\n[[stp.linksets]]\nadjacent = 1\n', "stp[0].linksets[0]",
     "spans (transport span) or socket"),
    ('[[stp]]\nname = "s1"\npc = 5\nlinksets = []\n', "stp[0].linksets", "at least one"),
    ('[[stp]]\nname = "s1"\npc = 5\n[[stp.linksets]]\nadjacent = 1\nspans = ["x:1"]\n',
     "stp[0].linksets[0].spans", "no board"),
    ('[[stp]]\nname = "s1"\npc = 5\n[[stp.linksets]]\nadjacent = 1\nspans = ["s:1"]\n'
     'colour = 1\n', "stp[0].linksets[0].colour", "unknown key"),
    ('[[stp]]\nname = "s1"\npc = 5\nroutes = { "x" = [1] }\n[[stp.linksets]]\nadjacent = 1\n'
     'spans = ["s:1"]\n', "stp[0].routes.x", "point code"),
    ('[[trunk]]\nname = "s1"\ntype = "isdn"\n[[stp]]\nname = "s1"\npc = 5\n'
     '[[stp.linksets]]\nadjacent = 1\nspans = ["s:1"]\n', "stp[0].name", "already"),
    ('[[trunk]]\nname = "r"\ntype = "r2"\nspan = "s:1"\nstp = 5\n', "trunk[0]",
     "for ss7/tup trunks"),
])
def test_config_errors_name_the_key(text, key, message):
    with pytest.raises(ConfigError) as e:
        load(BOARD + text)
    assert e.value.key == key and message in str(e.value)


STP5 = '[[stp]]\nname = "s5"\npc = 5\n'
LS1 = '[[stp.linksets]]\nadjacent = 1\nspans = ["s:2"]\n'
SS7 = '[[trunk]]\nname = "t"\ntype = "ss7"\nspan = "s:1"\nopc = 1\ndpc = 2\n'


@pytest.mark.parametrize("text,key,message", [
    # Q.704 2.2: point codes the label carries (14 bits ITU, 24 China)
    (STP5.replace("pc = 5", "pc = 16384") + LS1, "stp[0].pc", "0..16383 (14-bit itu)"),
    (STP5 + LS1.replace("adjacent = 1", "adjacent = -3"), "stp[0].linksets[0].adjacent",
     "point code -3"),
    (STP5 + 'routes = { "99999" = [1] }\n' + LS1, "stp[0].routes.99999", "point code 99999"),
    (STP5 + 'routes = { "7" = [1, 20000] }\n' + LS1, "stp[0].routes.7", "no link set toward "
     "[20000]"),
    (STP5 + 'routes = { "7" = "1" }\n' + LS1, "stp[0].routes.7", "list of adjacent point"),
    (STP5 + 'routes = { "7" = [1.5] }\n' + LS1, "stp[0].routes.7", "list of adjacent point"),
    (STP5 + 'routes = { "7" = [] }\n' + LS1, "stp[0].routes.7", "list of adjacent point"),
    (STP5 + 'routes = { "7" = [3] }\n' + LS1, "stp[0].routes.7", "no link set toward [3]"),
    (STP5 + 'routes = { "5" = [1] }\n' + LS1, "stp[0].routes.5", "STP's own point code"),
    (SS7.replace("opc = 1", "opc = 70000"), "trunk[0].opc", "0..16383"),
    (SS7.replace('"ss7"', '"tup"').replace("dpc = 2", "dpc = 16777216"), "trunk[0].dpc",
     "0..16777215 (24-bit china)"),
    (SS7 + "stp = 2\n", "trunk[0].stp", "neither opc nor dpc"),
    # TS16 of a span carries one link; an STP's spans nothing else
    (SS7 + STP5 + LS1.replace("s:2", "s:1"), "stp[0].linksets[0].spans",
     "TS16 of span 's:1' already carries a link of trunk 't'"),
    (SS7.replace('"ss7"', '"isdn"').replace("opc = 1\ndpc = 2\n", "") + STP5 +
     LS1.replace("s:2", "s:1"), "stp[0].linksets[0].spans", "circuits of trunk 't'"),
    (SS7 + 'link_spans = ["s:2"]\n' + STP5 + LS1, "stp[0].linksets[0].spans",
     "already carries a link of trunk 't'"),
    (STP5 + LS1 + LS1.replace("adjacent = 1", "adjacent = 2"), "stp[0].linksets[1].spans",
     "already carries a link of STP 's5' toward 1"),
    (SS7 + 'transport = "hdlc-socket"\nsocket = "y"\n[[trunk]]\nname = "u"\ntype = "ss7"\n'
     'span = "s:2"\nopc = 3\ndpc = 4\nlink_spans = ["s:1"]\n', "trunk[1].link_spans",
     "span 's:1' carries the circuits of trunk 't'"),
    # a trunk through an STP of this configuration: it must reach both points
    (SS7 + "stp = 5\nlink_spans = [\"s:2\"]\n" + STP5 +
     '[[stp.linksets]]\nadjacent = 3\ntransport = "hdlc-socket"\nsocket = "x"\n',
     "trunk[0].stp", "STP 's5' (pc 5) has no link set toward this trunk's opc 1"),
    (SS7 + "stp = 5\nlink_spans = [\"s:2\"]\n" + STP5 +
     '[[stp.linksets]]\nadjacent = 1\ntransport = "hdlc-socket"\nsocket = "x"\n',
     "trunk[0].stp", "no route to this trunk's dpc 2"),
    ('[[trunk]]\nname = "i"\ntype = "isdn"\nspan = "s:1"\nrct = true\n', "trunk[0]",
     "rct are for ss7/tup trunks"),
])
def test_signalling_config_errors(text, key, message):
    with pytest.raises(ConfigError) as e:
        load(BOARD + text)
    assert e.value.key == key and message in str(e.value), str(e.value)


def test_trunk_through_an_stp_of_a_peer_and_24_bit_codes_load():
    """A ``trunk.stp`` no [[stp]] here has is a peer's STP: nothing to check against; China
    TUP point codes use the 24 bits."""
    cfg = load(BOARD + SS7.replace('"ss7"', '"tup"').replace("opc = 1", "opc = 0xA0B0C")
               + 'stp = 0xFFFFFF\nlink_spans = ["s:2"]\n')
    assert cfg["trunk"][0]["stp"] == 0xFFFFFF and cfg["trunk"][0]["rct"] is False


def test_rct_national_option_from_the_config(tmp_path):
    """``trunk.rct`` / ``stp.rct`` turn on the signalling-route-set-congestion-test (Q.704
    13.9): A, congested toward B through the STP, tests the route set with RCT after
    mtp3.T15 and ends the congestion when T16 passes without TFC."""
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(tmp_path / "calls.db")
    cfg.data["trunk"][0]["rct"] = cfg.data["stp"][0]["rct"] = True
    rt = Runtime(cfg, virtual=True)
    try:
        rt.kernel.run_for(5)
        stp, a = rt.trunks["stp"], rt.trunks["a-isup"]
        assert a.node.mtp3.rct and stp.node.mtp3.rct and not rt.trunks["b-isup"].node.mtp3.rct
        rt.trunks["b-isup"].link.mtp2.set_receive_congestion(True)
        rt.kernel.run_for(0.5)
        a.node.mtp3.transfer(SI_ISUP, 2, 1, bytes.fromhex("0100") + b"\x31")
        rt.kernel.run_for(0.5)
        assert a.node.mtp3.status()["congested"] == [2]
        rt.kernel.run_for(3)  # mtp3.T15: RCT, which S (still congested) answers with TFC
        assert a.node.mtp3.counters["tx_rct"] == 1 and stp.node.mtp3.counters["tx_tfc"] == 2
        rt.trunks["b-isup"].link.mtp2.set_receive_congestion(False)
        rt.kernel.run_for(8)
        assert a.node.mtp3.counters["tx_rct"] == 2 and a.node.mtp3.status()["congested"] == []
        assert rt.errors == [] and rt.kernel.errors == []
    finally:
        rt.close()


@pytest.mark.parametrize("extra,message", [
    ('[[stp.linksets]]\nadjacent = 5\nspans = ["s:2"]\n', "none toward the STP itself"),
    ('timers = { "isup.T7" = 20.0 }\n', "isup.* timers"),
])
def test_stp_build_errors(tmp_path, extra, message):
    cfg = load(BOARD + '[[stp]]\nname = "s1"\npc = 5\n' + extra +
               '[[stp.linksets]]\nadjacent = 1\nspans = ["s:1"]\n'
               f'[crm]\npath = "{tmp_path / "c.db"}"\n')
    with pytest.raises(ConfigError) as e:
        Runtime(cfg, virtual=True)
    assert e.value.key == "stp[0]" and message in str(e.value)


def test_reference_documents_the_linkset_keys():
    doc = reference_markdown()
    assert "## `[[stp]]`" in doc and "`stp.linksets.adjacent`" in doc
    assert "`trunk.link_spans`" in doc and "`trunk.stp`" in doc


SOCKET_STP = """name = "a-isup"
type = "ss7"
opc = 1
dpc = 2
stp = 5
link_spans = ["a:1"]
[[board]]
name = "s"
type = "sim"
spans = 1
[[cable]]
a = "a:1"
b = "s:1"
[[stp]]
name = "stp"
pc = 5
[[stp.linksets]]
adjacent = 1
spans = ["s:1"]
[[stp.linksets]]
adjacent = 2
transport = "hdlc-socket"
socket = "{tmp}/stp.sock"
"""  # the rest of sim_config's [[trunk]] table (circuits nowhere), then the STP's board


def test_stp_link_set_on_an_hdlc_socket(tmp_path):
    """A link set of the STP on an hdlc-socket: a signalling point connecting to it (here our
    own, 2) reaches the trunk's point (1) through the STP, and a call from the trunk gets
    its answer back the same way."""
    from core.hdlcsock import HdlcSocket
    from ss7.isup import IsupListener
    from ss7.stack import HdlcSocketPort, Ss7Node

    class Answer(IsupListener):
        def on_setup(self, call):
            call.accept()
            call.answer()

    rt = Runtime(sim_config(tmp_path, 1, SOCKET_STP.format(tmp=tmp_path)))
    try:
        b = Ss7Node(rt.kernel.loop, 2, isup_listener=Answer())
        b.isup.add_circuits(1, range(1, 32))
        b.mtp3.add_route(1, [5])
        port = HdlcSocketPort(HdlcSocket.connect(str(tmp_path / "stp.sock")))
        link = b.add_link(5, 0, port.send)
        port.attach(link.mtp2.receive)
        rt.kernel.after_tick.append(port.poll)
        b.start()
        rt.kernel.run_for(20)
        assert rt.trunks["stp"].node.mtp3.accessible == {1, 2}
        assert b.mtp3.accessible == {1, 5} and rt.trunks["a-isup"].link_up
        cid = rt.ops.call_dial(dnis="4000", trunk="a-isup")
        rt.kernel.run_for(2)
        assert rt.centre.active[cid].state == CallState.CONNECTED
    finally:
        rt.close()
