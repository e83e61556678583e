"""IVR flows from data: a menu with retries, invalid input and its default; collect ending
on each timeout, the terminator and max digits; recording to a WAV file; routing to a
queue; the caller clearing during any node (abandoned); errors at load time naming the
file, line and key.  Calls come in over ISDN PRI between two sim E1 boards (virtual clock)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from cti.callcentre import CallCentre
from cti.calls import Call, CallEvent, CallState
from cti.cdr import CdrWriter
from cti.config import Config
from cti.dialplan import DialPlan, Route
from cti.ivr import _targets, check_route_targets, flows_from, load_flow_file, merge_flows
from cti.kernel import Kernel
from cti.media import MediaEngine
from cti.queues import Agent, HuntQueue
from cti.trunks.isdn import IsdnTrunk
from cti.trunks.station import StationTrunk
from drivers.sim import cabled_pair
from drivers.sim.station import StationBoard
from timeslot.audiofile import read_audio, write_wav
from timeslot.g711 import alaw_encode
from timeslot.tonegen import synth

FLOW = """
[[ivr]]
name = "main"
start = "menu"

[ivr.nodes.menu]
kind = "menu"
prompts = ["hello.wav"]
choices = { "1" = "acct", "3" = "sales" }
timeout = 3.0
retries = 2
invalid = ["tone:congestion"]
no_input = ["tone:dial:0.5"]
default = "bye"

[ivr.nodes.acct]
kind = "collect"
prompts = ["tone:1000:0.2"]
store = "account"
max_digits = 4
first_timeout = 4.0
inter_timeout = 2.0
on_timeout = "bye"
next = "check"

[ivr.nodes.check]
kind = "branch"
var = "account"
cases = { "1234" = "vm" }
default = "bye"

[ivr.nodes.vm]
kind = "record"
file = "RECDIR/{flow}-{ani}.wav"
max_time = 10.0
silence = 1.0
store = "message"
next = "bye"

[ivr.nodes.sales]
kind = "route"
to = "queue:sales"

[ivr.nodes.bye]
kind = "hangup"
cause = 16
"""


@dataclass
class Rig:
    kernel: Kernel
    media: MediaEngine
    net: IsdnTrunk
    centre: CallCentre
    cdr: CdrWriter
    offered: list[Call] = field(default_factory=list)


@pytest.fixture
def rig(tmp_path):
    kernel = Kernel(virtual=True)
    pstn, cc = cabled_pair("pstn", "cc")
    phones = StationBoard("agents", stations=1, system=pstn.system)
    phones.open()
    phones.handsets[0].answer_after = 1
    kernel.add_ticker(pstn.system)
    kernel.add_span(pstn.spans[0])
    kernel.add_span(cc.spans[0])
    stations = StationTrunk(kernel, "agents", phones)
    media = MediaEngine(kernel, plan="cn")
    write_wav(tmp_path / "hello.wav", synth(600.0, 0.5, level=-15.0), "alaw")
    (tmp_path / "flow.toml").write_text(FLOW.replace("RECDIR", str(tmp_path / "vm")))
    flows = load_flow_file(str(tmp_path / "flow.toml"))
    queues = {"sales": HuntQueue("sales", kernel, media, stations, [Agent("a1", 0)])}
    cdr = CdrWriter(str(tmp_path / "cdr.csv"))
    centre = CallCentre(kernel, media, DialPlan([Route.parse("^5", ".*", "ivr:main")]), queues,
                        cdr, plan="cn", stations=stations, flows=flows)
    check_route_targets(flows, queues, {}, 1)
    net = IsdnTrunk(kernel, "pstn", pstn.spans[0], "network")
    IsdnTrunk(kernel, "cc", cc.spans[0], "user", on_offered=centre.incoming)
    r = Rig(kernel, media, net, centre, cdr)
    centre.listeners.append(lambda c, ev: r.offered.append(c) if ev is CallEvent.OFFERED
                            else None)
    kernel.run_for(2.0)
    yield r
    kernel.close()


def records(rig: Rig) -> list[dict]:
    rig.cdr.close()
    with open(rig.cdr.path) as f:
        return list(csv.DictReader(f))


async def dial(rig: Rig) -> Call:
    out = Call(trunk=rig.net, direction="out", dnis="5000", ani="0212345", clock=rig.kernel.now)
    out.dial()
    assert await out.wait(CallState.CONNECTED, timeout=5) is CallState.CONNECTED
    return out


async def press(rig: Rig, out: Call, at: float, digits: str) -> None:
    """Send ``digits`` ``at`` seconds after the call was answered."""
    await asyncio.sleep(max(0.0, out.times["connected"] + at - rig.kernel.now()))
    await rig.media.send_dtmf(out.slot, digits)


def test_menu_no_input_retries_then_default(rig):
    async def scenario():
        out = await dial(rig)
        await out.wait(CallState.RELEASED, timeout=60)
        return out

    out = rig.kernel.run(scenario())
    inc = rig.offered[0]
    assert inc.data["ivr_trail"] == ["main.menu", "no input", "no input", "no input", "main.bye"]
    assert out.cause == 16
    # 0.5 s greeting + 3 s wait, twice (0.5 s no-input tone + greeting + 3 s), the last
    # no-input tone, then the default clears the call
    assert out.times["disconnected"] - out.times["connected"] == pytest.approx(12.0, abs=0.3)
    assert records(rig)[0]["outcome"] == "answered"


def test_menu_invalid_digit_then_choice_routes_to_the_queue(rig):
    async def scenario():
        out = await dial(rig)
        await press(rig, out, 1.0, "5")
        await press(rig, out, 2.5, "3")  # during the re-prompt: any digit cuts it short
        await asyncio.sleep(8.0)
        state = out.state
        out.drop(16)
        await out.wait(CallState.RELEASED, timeout=10)
        await asyncio.sleep(1.0)
        return state

    state = rig.kernel.run(scenario())
    inc = rig.offered[0]
    assert inc.data["ivr_trail"] == ["main.menu", "invalid 5", "main.sales"]
    assert inc.data["ivr"]["menu"] == "3"
    assert state is CallState.CONNECTED
    rec = records(rig)[0]
    assert (rec["outcome"], rec["queue"], rec["agent"]) == ("answered", "sales", "a1")


@pytest.mark.parametrize("digits, stored, trail", [
    ("", "", ["main.menu", "main.acct", "main.bye"]),  # first-digit timeout -> on_timeout
    ("12", "12", ["main.menu", "main.acct", "main.check", "main.bye"]),  # inter-digit
    ("12#", "12", ["main.menu", "main.acct", "main.check", "main.bye"]),  # terminator
    ("98765", "9876", ["main.menu", "main.acct", "main.check", "main.bye"]),  # max digits
])
def test_collect_ends_on_each_condition(rig, digits, stored, trail):
    async def scenario():
        out = await dial(rig)
        await press(rig, out, 0.8, "1")
        if digits:
            await press(rig, out, 1.5, digits)
        await out.wait(CallState.RELEASED, timeout=30)
        return out

    out = rig.kernel.run(scenario())
    inc = rig.offered[0]
    assert inc.data["ivr"]["account"] == stored
    assert inc.data["ivr_trail"] == trail
    assert out.cause == 16


def test_record_ends_on_silence_and_writes_the_file(rig, tmp_path):
    rng = np.random.default_rng(5)
    talk = alaw_encode(np.clip(rng.normal(0, 3000, 12000), -32000, 32000).astype(np.int16))

    async def scenario():
        out = await dial(rig)
        await press(rig, out, 0.8, "1")
        await press(rig, out, 1.5, "1234")
        await asyncio.sleep(1.0)  # the beep
        await rig.media.play(out.slot, [talk])
        await out.wait(CallState.RELEASED, timeout=30)
        return out

    out = rig.kernel.run(scenario())
    inc = rig.offered[0]
    path = inc.data["ivr"]["message"]
    assert path == str(tmp_path / "vm" / "main-0212345.wav")
    audio, law = read_audio(path)
    # from the beep: ~0.8 s before the caller talks, 1.5 s of talk; the silence that
    # ended the recording is cut off
    assert law == "alaw" and 2.0 < len(audio) / 8000 < 2.6
    assert np.count_nonzero(audio[-400:] != 0xD5) > 300
    assert inc.data["ivr_trail"][-2:] == ["main.vm", "main.bye"] and out.cause == 16


@pytest.mark.parametrize("script, node", [
    ((), "main.menu"),  # during the greeting
    (((0.8, "1"),), "main.acct"),  # waiting for digits
    (((0.8, "1"), (1.5, "1234")), "main.vm"),  # recording
])
def test_caller_clearing_in_any_node_is_abandoned(rig, script, node):
    async def scenario():
        out = await dial(rig)
        for at, digits in script:
            await press(rig, out, at, digits)
        await asyncio.sleep(0.3 if not script else 1.5)
        out.drop(16)
        await out.wait(CallState.RELEASED, timeout=10)
        await asyncio.sleep(1.0)

    rig.kernel.run(scenario())
    inc = rig.offered[0]
    assert inc.data["ivr_trail"][-1] == node
    rec = records(rig)
    assert len(rec) == 1 and rec[0]["outcome"] == "abandoned"


# --- load-time errors -------------------------------------------------------------------

NODE = """
[[ivr]]
name = "f"
start = "a"

[ivr.nodes.a]
"""


@pytest.mark.parametrize("body, key, message", [
    ('kind = "goto"\nnext = "nowhere"\n', "ivr[0].nodes.a.next", "no node named 'nowhere'"),
    ('kind = "play"\nprompts = ["missing.wav"]\n', "ivr[0].nodes.a.prompts",
     "missing.wav: no such file"),
    ('kind = "play"\nprompts = ["tone:warble"]\n', "ivr[0].nodes.a.prompts", "no tone 'warble'"),
    ('kind = "dance"\n', "ivr[0].nodes.a.kind", "must be one of play, menu"),
    ('kind = "menu"\nprompts = []\nchoices = { "12" = "a" }\n', "ivr[0].nodes.a.choices",
     "is not one DTMF digit"),
    ('kind = "collect"\nstore = "x"\nnext = "a"\nmax_digits = "4"\n',
     "ivr[0].nodes.a.max_digits", "must be int"),
    ('kind = "route"\nto = "fax:1"\n', "ivr[0].nodes.a.to", "must be queue:NAME"),
    ('kind = "hangup"\ncolour = 1\n', "ivr[0].nodes.a.colour", "unknown key"),
    ('kind = "branch"\nvar = "x"\ndefault = "a"\n', "ivr[0].nodes.a", "loops back"),
    ('kind = "record"\nfile = "vm/{caller}.wav"\n', "ivr[0].nodes.a.file", "bad file pattern"),
])
def test_flow_errors_at_load_name_file_line_and_key(tmp_path, body, key, message):
    path = tmp_path / "bad.toml"
    path.write_text(NODE + body)
    with pytest.raises(ConfigError) as e:
        load_flow_file(str(path))
    err = e.value
    assert err.file == str(path) and err.key == key and message in str(err)
    leaf = key.rsplit(".", 1)[1]
    lines = (NODE + body).splitlines()
    want = next((n for n, x in enumerate(lines, 1) if x.startswith(f"{leaf} =")), 6)
    assert err.line == want


def test_start_node_route_targets_and_file_contents_are_checked(tmp_path):
    path = tmp_path / "f.toml"
    path.write_text('[[ivr]]\nname = "f"\nstart = "x"\nnodes = {}\n')
    with pytest.raises(ConfigError, match="start node 'x' does not exist") as e:
        load_flow_file(str(path))
    assert e.value.line == 3
    path.write_text('[kernel]\nblock = 8\n')
    with pytest.raises(ConfigError, match="only \\[\\[ivr\\]\\] tables"):
        load_flow_file(str(path))
    path.write_text(NODE + 'kind = "route"\nto = "queue:nobody"\n')
    flows = load_flow_file(str(path))
    with pytest.raises(ConfigError, match="no queue named 'nobody'") as e:
        check_route_targets(flows, {}, {}, 0)
    assert (e.value.key, e.value.line) == ("ivr[0].nodes.a.to", 8)
    with pytest.raises(ConfigError, match="already defined"):
        merge_flows(flows, load_flow_file(str(path)))


def test_config_flows_and_ivr_path_reach_the_runtime(tmp_path):
    from cti.runtime import Runtime

    (tmp_path / "more.toml").write_text(NODE.replace('"f"', '"extra"')
                                        + 'kind = "hangup"\ncause = 17\n')
    (tmp_path / "k.toml").write_text(
        '[kernel]\nvirtual = true\nivr_path = "more.toml"\n[api]\nenabled = false\n'
        '[crm]\npath = "' + str(tmp_path / "crm.db") + '"\n'
        '[[route]]\nto = "ivr:inline"\n[[route]]\nto = "ivr:extra"\n'
        '[[ivr]]\nname = "inline"\nstart = "go"\n'
        '[ivr.nodes.go]\nkind = "route"\nto = "ivr:demo"\n')
    rt = Runtime(Config.load(str(tmp_path / "k.toml")))
    try:
        assert {"demo", "answer", "inline", "extra"} <= set(rt.centre.ivr.flows)
    finally:
        rt.close()
    (tmp_path / "k.toml").write_text('[kernel]\nvirtual = true\n[[route]]\nto = "ivr:nope"\n')
    with pytest.raises(ConfigError, match="unknown flow") as e:
        Runtime(Config.load(str(tmp_path / "k.toml")))
    assert e.value.key == "route[0].to"


def test_lab_sim_example_voicemail_flow_with_spoken_prompts(tmp_path, monkeypatch):
    """examples/lab-sim.toml's reception flow (espeak-ng prompts streamed from disk): key 3
    leaves a message, which ends on silence, then goodbye and a normal clearing."""
    from cti.runtime import Runtime

    monkeypatch.chdir(tmp_path)  # the flow records to cti-voicemail/ in the working directory
    example = os.path.join(os.path.dirname(__file__), "..", "examples", "lab-sim.toml")
    cfg = Config.load(example)
    cfg.data["crm"]["path"] = str(tmp_path / "crm.db")
    cfg.data["api"]["enabled"] = False
    rt = Runtime(cfg, virtual=True)
    rng = np.random.default_rng(9)
    talk = alaw_encode(np.clip(rng.normal(0, 3000, 16000), -32000, 32000).astype(np.int16))

    async def scenario():
        await asyncio.sleep(3.0)  # links up
        out = Call(trunk=rt.trunks["pstn-pri"], direction="out", dnis="5001", ani="0755",
                   clock=rt.kernel.now)
        out.dial()
        assert await out.wait(CallState.CONNECTED, timeout=10) is CallState.CONNECTED
        await asyncio.sleep(2.0)  # into the welcome prompt
        await rt.media.send_dtmf(out.slot, "3")
        await asyncio.sleep(6.0)  # "please leave your message..." and the beep
        await rt.media.play(out.slot, [talk])
        await out.wait(CallState.RELEASED, timeout=30)
        return out

    try:
        out = rt.kernel.run(scenario())
    finally:
        rt.close()
    assert out.cause == 16 and rt.errors == []
    files = list((tmp_path / "cti-voicemail").glob("*-0755.wav"))
    assert len(files) == 1
    audio, _ = read_audio(files[0])
    assert 2.0 <= len(audio) / 8000 < 4.5


_values = st.one_of(st.text(max_size=8), st.integers(-3, 200), st.floats(-1, 100),
                    st.booleans(), st.lists(st.text(max_size=6), max_size=3),
                    st.dictionaries(st.text(max_size=3), st.text(max_size=4), max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=4), st.dictionaries(
    st.sampled_from(["kind", "next", "prompts", "choices", "timeout", "retries", "store",
                     "to", "cause", "var", "cases", "default", "max_digits", "file", "x"]),
    st.one_of(st.sampled_from(["play", "menu", "collect", "record", "route", "hangup",
                               "goto", "branch", "queue:q", "tone:dial", "a"]), _values),
    max_size=6), min_size=1, max_size=4), st.text(min_size=1, max_size=4))
def test_arbitrary_node_tables_load_or_fail_with_config_error(nodes, start):
    cfg = Config({"ivr": [{"name": "f", "start": start, "nodes": nodes}]}, "fuzz.toml")
    try:
        flows = flows_from(cfg)
    except ConfigError as e:
        assert e.file == "fuzz.toml" and e.key.startswith("ivr[0]")
        return
    flow = flows["f"]
    assert flow.start in flow.nodes
    for node in flow.nodes.values():
        for _, target in _targets(node):
            assert target in flow.nodes


def test_cti_ivr_check_and_sim(tmp_path, capsys, monkeypatch):
    from cti.cli import main

    example = os.path.join(os.path.dirname(__file__), "..", "examples", "lab-sim.toml")
    assert main(["ivr", "check", example, "--json"]) == 0
    flows = json.loads(capsys.readouterr().out)["flows"]
    assert {"demo", "answer", "reception", "account"} <= set(flows)
    bad = tmp_path / "bad.toml"
    bad.write_text(NODE + 'kind = "goto"\nnext = "b"\n')
    assert main(["ivr", "check", str(bad)]) == 1
    assert f"{bad}:8: key 'ivr[0].nodes.a.next'" in capsys.readouterr().out

    monkeypatch.chdir(tmp_path)
    flow_file = os.path.join(os.path.dirname(example), "flows", "reception.toml")
    assert main(["ivr", "sim", flow_file, "account", "--press", "1:12#", "--json"]) == 0
    t = json.loads(capsys.readouterr().out)
    assert [s["node"] for s in t["steps"]] == ["ask", "which", "sales"]
    assert t["vars"] == {"account": "12"} and t["routed"] == "queue:sales"
    assert main(["ivr", "sim", flow_file, "reception", "--hangup", "2", "--json"]) == 0
    t = json.loads(capsys.readouterr().out)
    assert t["cleared_by"] == "caller" and t["routed"] is None
    assert main(["ivr", "sim", flow_file, "nope"]) == 2
    assert main(["ivr", "sim", flow_file, "account", "--press", "x"]) == 2
