"""ISUP continuity check (Q.764 2.1.8; Q.763 3.18 continuity indicators, 3.35 nature of
connection): COT, CCR, LPA and T8, T24-T27, T36 on the virtual clock, with a test line whose
loop can be broken (the check-tone equipment is a callback)."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.pcap import read_pcap
from ss7 import decode as ss7decode
from ss7 import isup_codec as C
from ss7.isup import IsupListener
from ss7.stack import MemoryWire, Ss7Node, connect
from ss7.trace import LinkTracer
from tests.conftest import need_library, need_program
from tests.ss7_peer.ss7_harness import Libss7Pair


class Line:
    """The speech path of every circuit between A and B: B's loop returns A's check tone
    unless the circuit is broken."""

    def __init__(self, clock):
        self.clock = clock
        self.loops: set[int] = set()
        self.broken: set[int] = set()


class Exchange(IsupListener):
    def __init__(self, line: Line, side: str):
        self.line, self.side = line, side
        self.setups: list[int] = []
        self.equipment: list[tuple[float, int, str | None]] = []
        self.alerts: list[str] = []

    def on_setup(self, call):
        self.setups.append(call.cic)
        call.accept()
        call.answer()

    def on_maintenance(self, cic, what):
        self.alerts.append(what)

    def on_continuity(self, call, equipment):
        self.equipment.append((self.line.clock.time(), call.cic, equipment))
        if self.side == "B":
            (self.line.loops.add if equipment == "loop" else self.line.loops.discard)(call.cic)
        elif equipment == "transceiver":  # 2000 Hz out; back 60 ms later through B's loop
            def check():
                if call.cc_equipment == "transceiver" and call.cic in self.line.loops and \
                        call.cic not in self.line.broken:
                    call.continuity_result(True)
            self.line.clock.call_later(0.06, check)


def exchanges(clock):
    line = Line(clock)
    xa, xb = Exchange(line, "A"), Exchange(line, "B")
    a = Ss7Node(clock, 1, isup_listener=xa)
    b = Ss7Node(clock, 2, isup_listener=xb)
    a.isup.add_circuits(2, range(1, 5))
    b.isup.add_circuits(1, range(1, 5))
    connect(a, b, 0, MemoryWire(clock, 0.005))
    sent: list[tuple[float, str, str, int, bytes]] = []
    for name, node in (("A", a), ("B", b)):
        def tap(dpc, cic, message, params=None, unknown_params=None, _orig=node.isup.send,
                _name=name):
            sent.append((clock.time(), _name, message, cic, C.encode(message, cic, params)))
            _orig(dpc, cic, message, params, unknown_params)
        node.isup.send = tap
    a.start()
    b.start()
    clock.advance(2)
    sent.clear()
    for c in list(a.isup.circuits.values()) + list(b.isup.circuits.values()):
        c.keep_transitions = 30
    return a, b, xa, xb, line, sent


def seq(sent, cic, since=0.0):
    return [f"{who}:{msg}" for t, who, msg, c, _ in sent if c == cic and t >= since
            and msg not in ("GRS", "GRA")]


def states(circuit):
    return [s for _, _, s in circuit.transitions]


def test_successful_check_holds_the_call_until_cot(clock):
    a, b, xa, xb, line, sent = exchanges(clock)
    call = a.isup.setup(2, "1234", "99", cic=2, continuity_check=1)
    iam = next(raw for _, who, msg, _, raw in sent if msg == "IAM")
    assert iam[3] == 0x04  # nature of connection: bits DC = 01 continuity check required
    clock.advance(0.03)
    inc = b.isup.circuit(1, 2)
    assert inc.state == "IN_WAIT_COT" and xb.setups == [] and 2 in line.loops  # looped, held
    clock.advance(1)
    cot = next(raw for _, who, msg, _, raw in sent if msg == "COT")
    assert cot == bytes((2, 0, 0x05, 0x01))  # Q.763 3.18: bit A 1 = continuity
    assert seq(sent, 2) == ["A:IAM", "A:COT", "B:ACM", "B:ANM"]
    assert call.state == "ANSWERED" and xb.setups == [2] and not line.loops
    assert states(inc)[0] == "IN_WAIT_COT" and inc.state == "ANSWERED"
    assert [e for _, c, e in xa.equipment if c == 2] == ["transceiver", None]


def test_failed_check_repeats_the_call_and_rechecks_the_circuit(clock):
    a, b, xa, xb, line, sent = exchanges(clock)
    line.broken.add(2)
    a.isup.setup(2, "1234", cic=2, continuity_check=1)
    clock.advance(1.4)
    assert seq(sent, 2) == ["A:IAM"]
    clock.advance(0.2)  # T24 = 1.5 s: COT failure, repeat attempt on another circuit
    cot = next(raw for _, who, msg, c, raw in sent if msg == "COT" and c == 2)
    assert cot[3] == 0x00
    clock.advance(1)
    assert xb.setups and xb.setups[0] != 2  # the call went through on the repeat attempt
    assert a.isup.circuit(2, 2).state == "CC_RETEST"
    assert b.isup.circuit(1, 2).state == "CC_WAIT_CCR" and 2 not in line.loops
    line.broken.discard(2)  # repaired before the recheck
    clock.advance(4)  # T25 = 5 s after the failure: CCR
    clock.advance(1)
    assert seq(sent, 2) == ["A:IAM", "A:COT", "A:CCR", "B:LPA", "A:REL", "B:RLC"]
    assert a.isup.circuit(2, 2).state == b.isup.circuit(1, 2).state == "IDLE"
    assert states(b.isup.circuit(1, 2)) == ["IN_WAIT_COT", "CC_WAIT_CCR", "CC_LOOPED", "IDLE"]


def test_recheck_failures_repeat_every_t26_and_alert(clock):
    a, b, xa, xb, line, sent = exchanges(clock)
    line.broken.add(3)
    a.isup.setup(2, "1234", cic=3, continuity_check=1)
    clock.advance(1.6 + 5 + 1.6)  # T24, T25, T24 of the first recheck
    assert seq(sent, 3) == ["A:IAM", "A:COT", "A:CCR", "B:LPA", "A:COT"]
    assert "continuity recheck failed (2)" in xa.alerts
    assert b.isup.circuit(1, 3).state == "CC_WAIT_CCR"
    t = clock.time()
    clock.advance(119)
    assert seq(sent, 3, t) == []
    clock.advance(2)  # T26 = 120 s
    assert seq(sent, 3, t) == ["A:CCR", "B:LPA"]


def test_t8_releases_the_held_call_with_cause_41(clock):
    a, b, xa, xb, line, sent = exchanges(clock)
    iam = {"nature_of_connection": C.nature_of_connection(continuity_check=1),
           "forward_call": C.forward_call(), "calling_category": 10,
           "transmission_medium_requirement": 0, "called": C.called_party("12F")}
    a.isup.send(2, 4, "IAM", iam)  # no COT follows
    clock.advance(11.9)
    assert b.isup.circuit(1, 4).state == "IN_WAIT_COT" and 4 in line.loops
    clock.advance(0.2)  # T8 = 12 s
    rel = next(raw for _, who, msg, c, raw in sent if msg == "REL" and who == "B")
    assert C.decode(rel)["params"]["cause"]["o2"]["cause"] == 41
    assert 4 not in line.loops and xb.setups == []


def test_t27_resets_when_no_recheck_comes(clock):
    a, b, xa, xb, line, sent = exchanges(clock)
    iam = {"nature_of_connection": C.nature_of_connection(continuity_check=1),
           "forward_call": C.forward_call(), "calling_category": 10,
           "transmission_medium_requirement": 0, "called": C.called_party("12F")}
    a.isup.send(2, 1, "IAM", iam)
    a.isup.send(2, 1, "COT", {"continuity": 0})
    clock.advance(239)
    assert b.isup.circuit(1, 1).state == "CC_WAIT_CCR"
    clock.advance(2)  # T27 = 240 s: RSC, answered by RLC
    assert seq(sent, 1)[-2:] == ["B:RSC", "A:RLC"] and b.isup.circuit(1, 1).state == "IDLE"


def test_t36_resets_after_ccr_without_cot_or_rel(clock):
    a, b, xa, xb, line, sent = exchanges(clock)
    a.isup.send(2, 3, "CCR")
    clock.advance(0.1)
    assert seq(sent, 3) == ["A:CCR", "B:LPA"] and 3 in line.loops
    clock.advance(12)  # T36 = 12 s: RSC, answered by RLC
    assert seq(sent, 3) == ["A:CCR", "B:LPA", "B:RSC", "A:RLC"] and 3 not in line.loops
    assert b.isup.circuit(1, 3).state == "IDLE"


def test_check_on_a_previous_circuit_waits_for_cot_without_a_loop(clock):
    a, b, xa, xb, line, sent = exchanges(clock)
    call = a.isup.setup(2, "1234", cic=1, continuity_check=2)
    clock.advance(0.1)
    assert b.isup.circuit(1, 1).state == "IN_WAIT_COT" and not line.loops
    assert xb.setups == [] and not xa.equipment  # A tests nothing on this circuit
    a.isup.send(2, 1, "COT", {"continuity": 1})  # the previous circuit passed
    clock.advance(0.1)
    assert xb.setups == [1] and call.state == "ANSWERED"


def test_maintenance_recheck_of_an_idle_circuit(clock):
    a, b, xa, xb, line, sent = exchanges(clock)
    a.isup.circuit(2, 4).continuity_recheck()
    clock.advance(1)
    assert seq(sent, 4) == ["A:CCR", "B:LPA", "A:REL", "B:RLC"]
    assert a.isup.circuit(2, 4).state == "IDLE" and not line.loops


_IAM = {"forward_call": C.forward_call(), "calling_category": 10,
        "transmission_medium_requirement": 0, "called": C.called_party("12F")}
_STEPS = [("IAM", 0), ("IAM", 1), ("IAM", 2), ("COT", 0), ("COT", 1), ("CCR", 0), ("LPA", 0),
          ("REL", 0), ("RLC", 0), ("RSC", 0), ("SAM", 0)]


@settings(max_examples=40)
@given(st.lists(st.tuples(st.sampled_from(_STEPS), st.sampled_from([0.0, 0.5, 13.0, 250.0])),
                max_size=12))
def test_any_message_sequence_keeps_the_loop_consistent(steps):
    """Whatever the preceding exchange sends on a circuit, the loop is connected only while
    B waits for COT or rechecks (IN_WAIT_COT / CC_LOOPED), and an RSC returns it to idle."""
    from core.clock import VirtualClock

    clock = VirtualClock()
    a, b, xa, xb, line, sent = exchanges(clock)
    inc = b.isup.circuit(1, 3)
    for (msg, arg), wait in steps:
        params = {"IAM": {**_IAM, "nature_of_connection": C.nature_of_connection(
                      continuity_check=arg)},
                  "COT": {"continuity": arg}, "REL": {"cause": C.cause(16)},
                  "SAM": {"subsequent": {"head": {"nai": 0, "odd": 0}, "digits": "3F"}},
                  }.get(msg)
        a.isup.send(2, 3, msg, params)
        clock.advance(wait + 0.02)
        assert (3 in line.loops) == (inc.state in ("IN_WAIT_COT", "CC_LOOPED") and
                                     inc.cc_mode != 2 or inc.state == "CC_LOOPED")
    a.isup.send(2, 3, "RSC")
    clock.advance(1)
    assert inc.state == "IDLE" and 3 not in line.loops


def test_tshark_decodes_iam_cot_ccr_lpa(clock, tmp_path):
    tshark = need_program("tshark")
    path = tmp_path / "cot.pcap"
    line = Line(clock)
    tracer = LinkTracer(str(path), clock)
    a = Ss7Node(clock, 1, isup_listener=Exchange(line, "A"), tracer=tracer)
    b = Ss7Node(clock, 2, isup_listener=Exchange(line, "B"))
    a.isup.add_circuits(2, range(1, 5))
    b.isup.add_circuits(1, range(1, 5))
    connect(a, b, 0, MemoryWire(clock, 0.005))
    a.start()
    b.start()
    clock.advance(2)
    line.broken.add(1)
    a.isup.setup(2, "1234", cic=1, continuity_check=1)  # fails; the repeat attempt passes
    clock.advance(10)  # T25: the recheck of CIC 1 (still broken) - CCR, LPA, COT failure
    tracer.close()
    out = subprocess.run([tshark, "-r", str(path), "-Y", "isup", "-T", "fields", "-e",
                          "isup.message_type", "-e", "isup.cic", "-e",
                          "isup.continuity_check_indicator", "-e", "isup.continuity_indicator",
                          "-e", "_ws.malformed"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    rows = [line.split("\t") for line in out]
    assert not any(r[4] for r in rows)
    cic1 = [(int(r[0]), r[2], r[3]) for r in rows if r[1] == "1" and r[0] not in ("23", "41")]
    # IAM (check required), COT failure, CCR, LPA, COT failure (Q.763 codes 1, 5, 17, 36)
    assert cic1 == [(1, "0x01", ""), (5, "", "0"), (17, "", ""), (36, "", ""), (5, "", "0")]
    assert (5, "", "1") in [(int(r[0]), r[2], r[3]) for r in rows if r[1] != "1"]  # repeat


# Against libss7 2.0 (the incoming side: it reports the check indicator and COT, and answers
# CCR with LPA) ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    need_library("ss7")
    need_program("gcc")
    p = Libss7Pair(tmp_path_factory.mktemp("libss7cot"), cics=range(1, 9))

    def transceiver(call, equipment):  # our check tone comes back through libss7's loop
        if equipment == "transceiver":
            p.clock.call_later(0.05, call.continuity_result, True)
    p.rec.on_continuity = transceiver
    assert p.run(15, lambda: 2 in p.node.mtp3.accessible and p.saw("UP"))
    yield p
    p.close()


def received(p):
    """(direction, message, CIC) of the ISUP messages in the pair's pcap so far."""
    p.tracer.writer.flush()
    _, recs = read_pcap(str(p.pcap))
    return [(r["direction"], r["message"], r["cic"]) for _, pkt in recs
            for r in ss7decode.LINKTYPES[139](pkt) if r["layer"] == "isup"]


@pytest.mark.interop
def test_libss7_sees_continuity_required_then_cot(peer):
    call = peer.node.isup.setup(2, "5550100", cic=7, continuity_check=1)
    assert peer.run(5, lambda: peer.saw("COT 7 "))
    iam = next(x for x in peer.lines if x.startswith("IAM 7 ")).split()
    assert iam[-1] == "1"  # libss7 decoded "continuity check required"
    assert "COT 7 1" in peer.lines  # and our COT as "passed"
    peer.cmd("acm 7")
    peer.cmd("anm 7")
    assert peer.run(5, lambda: call.state == "ANSWERED")
    call.release(16)
    assert peer.run(5, lambda: peer.saw("REL 7 16"))
    peer.cmd("rlc 7")
    assert peer.run(5, lambda: call.state == "IDLE")


@pytest.mark.interop
def test_libss7_answers_ccr_with_lpa(peer):
    c = peer.node.isup.circuit(2, 8)
    c.continuity_recheck()
    assert peer.run(5, lambda: peer.saw("CCR 8") and c.state == "WAIT_RLC")
    assert peer.run(5, lambda: ("rx", "LPA", 8) in received(peer))
    assert peer.run(5, lambda: peer.saw("REL 8 16"))  # recheck passed: REL to idle
    peer.cmd("rlc 8")
    assert peer.run(5, lambda: c.state == "IDLE")
