"""The outbound campaign dialer (cti/dialer.py) on a runtime of two sim E1 spans (ISDN PRI)
and a station board, on the virtual clock: the PSTN side answers, is busy, rings out or
refuses by the called number's first digit."""

from __future__ import annotations

import ast
import asyncio
import csv
import inspect
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from cti import dialer
from cti.api import ApiError, ApiServer
from cti.calls import CallEvent
from cti.cli import main
from cti.config import SCHEMA, Config
from cti.dialer import CAUSE_OUTCOMES, OUTCOMES, outcome_of_cause, parse_contact
from cti.runtime import Runtime
from tests.kernel_rig import api_kernel

HEAD = """
[kernel]
virtual = true
[api]
enabled = false
[[board]]
name = "pstn"
type = "sim"
spans = 1
[[board]]
name = "cc"
type = "sim"
spans = 1
stations = 3
[[cable]]
a = "pstn:1"
b = "cc:1"
[[trunk]]
name = "pstn-pri"
type = "isdn"
span = "pstn:1"
side = "network"
[[trunk]]
name = "cc-pri"
type = "isdn"
span = "cc:1"
side = "user"
[[queue]]
name = "outbound"
ring_timeout_s = 10
wrapup_s = 1
[[agent]]
name = "a1"
station = 0
[[agent]]
name = "a2"
station = 1
[[agent]]
name = "a3"
station = 2
[crm]
path = "{tmp}/crm.db"
[[campaign]]
name = "c"
trunk = "cc-pri"
queue = "outbound"
ani = "0210000000"
start = false
"""
MONDAY_10 = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
UTC_NOW = dialer.utc_now


class Rig:
    """The runtime, the numbers the PSTN side was offered (with kernel times) and the
    campaign ``c``."""

    def __init__(self, tmp_path, campaign: str, wallclock: datetime = MONDAY_10,
                 channels: str = "1-15,17-31"):
        path = tmp_path / "k.toml"
        head = HEAD.replace('side = "user"\n', f'side = "user"\nchannels = "{channels}"\n')
        path.write_text(head.format(tmp=tmp_path) + campaign)
        self.tmp = tmp_path
        # the wall clock runs from ``wallclock`` with kernel time, from the start
        self.rt = None
        dialer.utc_now = lambda: wallclock + timedelta(
            seconds=0.0 if self.rt is None else self.rt.kernel.now())
        self.rt = rt = Runtime(Config.load(str(path)))
        self.kernel = rt.kernel
        self.offered: list[tuple[float, str]] = []
        for h in rt.stations.board.handsets:
            h.answer_after = 1
        rt.trunks["pstn-pri"].on_offered = self.far_end
        rt.queues["outbound"].on_answered = self.agent_answered
        self.c = rt.dialer.campaigns["c"]
        self.kernel.run_for(2.0)  # the D-channel comes up

    def calls_in_progress(self) -> list[int]:
        """The campaign's calls in progress, sampled every 0.1 s of kernel time from now."""
        seen: list[int] = []

        def sample() -> None:
            seen.append(len(self.c.calls))
            self.kernel.loop.call_later(0.1, sample)

        sample()
        return seen

    def agent_answered(self, caller, leg, agent) -> None:
        """The simulated agent hangs up once the call is over."""
        handset = self.rt.stations.board.handsets[agent.station]
        leg.listeners.append(lambda c, ev: handset.hang_up(after=0.5)
                             if ev is CallEvent.RELEASED and handset.off_hook else None)

    def far_end(self, call) -> None:
        """1: answers after 2 s, clears 8 s later; 2: busy (17); 3: rings; 4: unallocated
        (1); 5: rings, then busy tone in band; 6: no circuit (34); 7: rings, then the special
        information tone in band; 8: answers after 2 s, clears 60 s later."""
        loop = self.kernel.loop
        self.offered.append((self.kernel.now(), call.dnis))
        kind = call.dnis[0]
        if kind in "246":
            call.reject({"2": 17, "4": 1, "6": 34}[kind])
            return
        call.alert()
        if kind in "18":
            loop.call_later(2.0, call.answer)
            loop.call_later(10.0 if kind == "1" else 60.0, call.drop, 16)
        elif kind in "57":
            tone = "busy" if kind == "5" else "sit"
            loop.call_later(1.0, lambda: asyncio.ensure_future(
                self.rt.media.tone(call.slot, tone, seconds=8.0)))

    def records(self) -> list[dict]:
        with open(self.tmp / "crm-calls.csv") as f:
            return list(csv.DictReader(f))

    def dialled(self, number: str) -> list[float]:
        return [t for t, n in self.offered if n == number]

    def close(self) -> None:
        self.rt.close()
        dialer.utc_now = UTC_NOW


@pytest.fixture
def rig(tmp_path, request):
    r = Rig(tmp_path, *request.param)
    yield r
    r.close()


def campaign(**keys) -> tuple[str]:
    lines = []
    for k, v in keys.items():
        if isinstance(v, str):
            v = f'"{v}"'
        elif isinstance(v, list):
            v = "[" + ", ".join(f'"{x}"' for x in v) + "]"
        elif isinstance(v, dict):
            v = "{" + ", ".join(f"{a} = {b}" for a, b in v.items()) + "}"
        lines.append(f"{k} = {v}")
    return ("\n".join(lines) + "\n",)


@pytest.mark.parametrize("rig", [campaign(contacts=[f"1{i:03d}" for i in range(6)])],
                         indirect=True)
def test_progressive_never_exceeds_ready_agents_and_every_answer_reaches_one(rig):
    rig.rt.ops.agent_pause("a3")  # two agents ready
    most = rig.calls_in_progress()
    rig.c.start()
    rig.kernel.run_for(80.0)
    assert max(most) == 2
    st_ = rig.c.status()
    assert st_["answered"] == 6 and st_["done"] == 6 and st_["dialled"] == 6
    assert st_["abandon_rate"] == 0.0  # each reserved agent picked up on the first ring
    rows = rig.records()
    assert len(rows) == 6
    assert {r["outcome"] for r in rows} == {"answered"}
    assert {r["agent"] for r in rows} == {"a1", "a2"}
    assert all(r["direction"] == "out" and r["queue"] == "outbound" and r["ani"] == "0210000000"
               and r["campaign"] == "c" for r in rows)
    assert all(float(r["agent_at"]) >= float(r["answered_at"]) for r in rows)
    history = rig.rt.crm.db.execute("SELECT count(*) FROM calls WHERE outcome = 'answered' "
                                    "AND direction = 'out' AND campaign = 'c'").fetchone()[0]
    assert history == 6
    assert rig.rt.agents[2].state == "not-ready"  # the paused agent was never reserved


@pytest.mark.parametrize("rig", [campaign(contacts=["8000"])], indirect=True)
def test_a_reserved_agent_who_lets_it_ring_out_passes_the_call_to_the_queue(rig):
    rig.rt.ops.agent_pause("a2")
    rig.rt.ops.agent_pause("a3")
    rig.rt.stations.board.handsets[0].answer_after = None  # a1 is away from the desk
    rig.c.start()
    rig.kernel.run_for(1.0)
    assert rig.c.reserved.keys() == {"a1"}
    rig.rt.ops.agent_ready("a2")
    rig.kernel.run_for(20.0)  # answered at 3 s; a1 rings 10 s (the queue's ring timeout)
    a1 = rig.rt.agents[0]
    assert (a1.state, a1.reason) == ("not-ready", "rona")
    assert rig.rt.agents[1].state == "talking"
    rig.kernel.run_for(60.0)
    rows = rig.records()
    assert [(r["outcome"], r["agent"]) for r in rows] == [("answered", "a2")]
    assert 10.0 <= float(rows[0]["wait_s"]) <= 15.0  # the ring timeout, then a2


@pytest.mark.parametrize("rig", [campaign(contacts=["8000"])], indirect=True)
def test_a_reserved_agent_who_rejects_the_call_passes_it_to_the_queue(rig):
    rig.rt.ops.agent_pause("a3")
    a1 = rig.rt.agents[0]
    a1.mode = "desktop"  # answers or rejects from the desktop, not by lifting the handset
    rig.rt.stations.board.handsets[0].answer_after = None
    rig.rt.ops.agent_pause("a2")
    rig.c.start()
    rig.kernel.run_for(1.0)
    assert rig.c.reserved.keys() == {"a1"}
    rig.rt.ops.agent_ready("a2")
    rig.kernel.run_for(3.0)  # answered; a1's station rings
    assert a1.state == "ringing"
    call_id = a1.offer.caller.id
    assert rig.rt.ops.desktop.reject("a1", call_id) == "rejected"
    rig.kernel.run_for(5.0)
    assert rig.rt.agents[1].state == "talking" and a1.state == "ready"
    rig.kernel.run_for(60.0)
    assert [(r["outcome"], r["agent"]) for r in rig.records()] == [("answered", "a2")]


@pytest.mark.parametrize("rig", [campaign(contacts=["8000"])], indirect=True)
def test_a_reserved_agent_whose_station_cannot_ring_passes_the_call_to_the_queue(rig):
    rig.rt.ops.agent_pause("a2")
    rig.rt.ops.agent_pause("a3")
    rig.c.start()
    rig.kernel.run_for(1.0)
    assert rig.c.reserved.keys() == {"a1"}
    a1 = rig.rt.agents[0]
    states = []
    a1.listeners.append(lambda a: states.append((a.state, a.reason)))
    rig.rt.stations.board.handsets[0].lift()  # a1's phone is off-hook when the call comes
    rig.rt.ops.agent_ready("a2")
    rig.kernel.run_for(5.0)
    assert ("not-ready", "station-busy") in states and ("ringing", None) not in states
    assert rig.rt.agents[1].state == "talking"
    rig.kernel.run_for(60.0)
    assert [(r["outcome"], r["agent"]) for r in rig.records()] == [("answered", "a2")]


def test_the_dialer_uses_only_public_operations_of_the_centre_and_the_acd():
    """No attribute of another object whose name starts with an underscore, and not the
    queue's waiting list or an agent's offer: CallCentre.record/track and
    HuntQueue.enqueue(call, agent=...)/callers()/withdraw() are the dialer's interface."""
    tree = ast.parse(inspect.getsource(dialer))
    private = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Attribute)
               and ((n.attr.startswith("_") and not n.attr.startswith("__")
                     and not (isinstance(n.value, ast.Name) and n.value.id == "self"))
                    or n.attr in ("waiting", "offer"))]
    assert private == []


@pytest.mark.parametrize("rig", [campaign(mode="predictive", ring_timeout_s=20,
                                          abandon_message="tone:sit", contacts=[f"2{i:03d}" for i in range(12)]
                                          + [f"3{i:03d}" for i in range(8)])], indirect=True)
def test_predictive_pacing_places_calls_by_the_measured_answer_rate(rig):
    """Twelve busy numbers teach the dialer that few calls are answered: it then keeps
    max_ratio (3) calls in progress for each of the two ready agents."""
    rig.rt.ops.agent_pause("a3")
    most = rig.calls_in_progress()
    rig.c.start()
    rig.kernel.run_for(25.0)
    assert max(most) == 6
    st_ = rig.c.status()
    assert st_["answer_rate"] < 0.1 and st_["busy"] == 12 and st_["no_answer"] == 6
    assert all(a.state == "ready" for a in rig.rt.agents[:2])  # nobody reserved


@pytest.mark.parametrize("rig", [campaign(mode="predictive", contacts=["1000"],
                                          abandon_message="tone:sit")],
                         indirect=True)
def test_predictive_pacing_formula_and_its_abandon_rate_brake(rig):
    c = rig.c
    assert c.to_place(2, 0, 0) == 2  # nothing known yet: one call per free agent
    c._recent.extend([True, False] * 10)  # half answered
    assert c.to_place(2, 1, 0) == 3  # (2 - 0) / 0.5 - 1
    assert c.to_place(2, 0, 1) == 2  # one answered call waits for an agent: (2 - 1) / 0.5
    assert c.to_place(1, 0, 1) == 0
    c._recent.clear()
    c._recent.extend([False] * 20)
    assert c.to_place(2, 0, 0) == 6  # never more than max_ratio per agent
    c.connects, c.late = 100, 4  # 4 % of answered calls found no agent within 2 s
    assert c.to_place(2, 0, 0) == 2  # above the 3 % target: back to one call per agent


@pytest.mark.parametrize("rig", [campaign(contacts=["1000"])], indirect=True)
def test_answered_calls_without_an_agent_within_2_s_are_measured_as_abandoned(rig):
    for h in rig.rt.stations.board.handsets:
        h.answer_after = 2  # the agents pick up on the second ring: too late
    rig.c.start()
    rig.kernel.run_for(30.0)
    st_ = rig.c.status()
    assert st_["answered"] == 1 and st_["abandon_rate"] == 1.0


def wav(path, seconds: float) -> str:
    """A 16-bit 8 kHz WAV file of a 400 Hz tone, as the information message."""
    import wave

    import numpy as np

    t = np.arange(int(8000 * seconds)) / 8000.0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((8000 * np.sin(2 * np.pi * 400 * t)).astype("<i2").tobytes())
    return str(path)


@pytest.mark.parametrize("message", ["message.wav", "tone:sit"])
def test_an_abandoned_predictive_call_hears_the_message_is_cleared_and_waits_72_h(
        tmp_path, message):
    """Ofcom / FTC TSR: answered, no agent 2 s later: the information message within those
    2 s, then the call is cleared; outcome abandoned, no new call for 72 h."""
    if message.endswith(".wav"):
        wav(tmp_path / message, 1.5)
    rig = Rig(tmp_path, campaign(mode="predictive", contacts=["8000"],
                                 abandon_message=message)[0])
    try:
        rig.rt.ops.agent_pause("a2")
        rig.rt.ops.agent_pause("a3")
        a1 = rig.rt.agents[0]
        rig.rt.stations.board.handsets[0].answer_after = None  # a1 lets it ring
        states = []
        a1.listeners.append(lambda a: states.append(a.state))
        rig.c.start()
        rig.kernel.run_for(15.0)
        [row] = rig.records()
        assert (row["outcome"], row["agent"], row["cause"], row["campaign"]) == (
            "abandoned", "", "16", "c")
        seconds = 1.5 if message.endswith(".wav") else dialer.MESSAGE_TONE_S
        held = float(row["ended_at"]) - float(row["answered_at"])
        assert dialer.CONNECT_S + seconds <= held <= dialer.CONNECT_S + seconds + 0.5
        assert "ringing" in states and a1.state == "ready"  # its ringing was stopped
        contact = rig.c.contacts["8000"]
        assert (contact.state, contact.outcome, contact.attempts) == ("pending", "abandoned", 1)
        assert contact.next_at - float(row["ended_at"]) == pytest.approx(72 * 3600, abs=1.0)
        st_ = rig.c.status()
        assert st_["abandon_rate"] == 1.0 and st_["outcomes"]["abandoned"] == 1
        assert rig.dialled("8000") == [rig.offered[0][0]]
    finally:
        rig.close()


def test_the_called_party_clearing_ends_the_message(tmp_path):
    wav(tmp_path / "long.wav", 20.0)
    rig = Rig(tmp_path, campaign(mode="predictive", contacts=["1000"],
                                 abandon_message="long.wav")[0])
    try:
        rig.rt.ops.agent_pause("a2")
        rig.rt.ops.agent_pause("a3")
        rig.rt.stations.board.handsets[0].answer_after = None
        rig.c.start()
        rig.kernel.run_for(15.0)  # 1000 clears 8 s after answer, 6 s into the message
        [row] = rig.records()
        assert row["outcome"] == "abandoned"
        assert float(row["ended_at"]) - float(row["answered_at"]) <= 8.5
        assert rig.c.calls == {} and rig.c.contacts["1000"].outcome == "abandoned"
        assert not rig.rt.media.players  # the message stopped with the call
    finally:
        rig.close()


@pytest.mark.parametrize("rig", [campaign(contacts=["1000"], abandon_message="tone:sit",
                                          retry_s={"abandoned": 600})], indirect=True)
def test_a_progressive_campaign_with_a_message_clears_a_call_its_agent_is_slow_to_take(rig):
    for h in rig.rt.stations.board.handsets:
        h.answer_after = 3  # the reserved agent would pick up on the third ring: too late
    rig.c.start()
    rig.kernel.run_for(20.0)
    assert [(r["outcome"], r["agent"]) for r in rig.records()] == [("abandoned", "")]
    contact = rig.c.contacts["1000"]
    assert contact.next_at - rig.kernel.now() <= 600


@pytest.mark.parametrize("rig", [campaign(contacts=["2000"], retry_s={"busy": 30},
                                          max_attempts=3)], indirect=True)
def test_busy_is_retried_after_the_busy_delay_up_to_max_attempts(rig):
    rig.c.start()
    rig.kernel.run_for(100.0)
    times = rig.dialled("2000")
    assert len(times) == 3
    for a, b in zip(times, times[1:], strict=False):
        assert 30.0 <= b - a <= 32.0
    contact = rig.c.contacts["2000"]
    assert (contact.state, contact.result, contact.attempts) == ("done", "busy", 3)
    assert [r["cause"] for r in rig.records()] == ["17"] * 3
    assert rig.c.status()["busy"] == 3


@pytest.mark.parametrize("rig", [campaign(contacts=["3000"], ring_timeout_s=20,
                                          retry_s={"no_answer": 40}, max_attempts=2)],
                         indirect=True)
def test_no_answer_after_the_ring_timeout(rig):
    rig.c.start()
    rig.kernel.run_for(30.0)
    rows = rig.records()
    assert len(rows) == 1 and rows[0]["outcome"] == "no_answer"
    assert 20.0 <= float(rows[0]["ended_at"]) - float(rows[0]["offered_at"]) <= 20.5
    assert rig.rt.agents[0].state == "ready"  # the reservation ended with the attempt
    rig.kernel.run_for(60.0)
    times = rig.dialled("3000")
    assert len(times) == 2 and 60.0 <= times[1] - times[0] <= 62.0
    assert rig.c.contacts["3000"].result == "no_answer"


@pytest.mark.parametrize("rig", [campaign(contacts=["4000", "5000", "6000", "7000"])],
                         indirect=True)
def test_unallocated_in_band_busy_sit_and_congestion(rig):
    rig.c.start()
    rig.kernel.run_for(15.0)
    out = {r["dnis"]: r["outcome"] for r in rig.records()}
    assert out["4000"] == "invalid" and rig.c.contacts["4000"].state == "done"
    assert out["5000"] == "busy"  # heard in band while it rang: no cause of the network
    assert out["7000"] == "invalid" and rig.c.contacts["7000"].result == "invalid"
    assert out["6000"] == "congestion" and rig.c.contacts["6000"].state == "pending"


@pytest.mark.parametrize("rig", [(*campaign(contacts=["3000", "3001"], ring_timeout_s=20,
                                             retry_s={"congestion": 5}, max_attempts=10),
                                   MONDAY_10, "1")], indirect=True)
def test_no_free_channel_is_congestion_and_retried(rig):
    """The trunk has one B-channel: the second agent's call finds none (Q.850 34)."""
    rig.rt.ops.agent_pause("a3")
    rig.c.start()
    rig.kernel.run_for(3.0)
    rows = rig.records()
    assert [(r["dnis"], r["outcome"], r["cause"]) for r in rows] == [
        ("3001", "congestion", "34")]
    assert [n for _, n in rig.offered] == ["3000"]
    assert rig.rt.agents[1].state == "ready" and rig.c.contacts["3001"].state == "pending"
    rig.kernel.run_for(30.0)  # the channel is free again once 3000 rang out
    assert rig.c.contacts["3001"].attempts >= 2 and "3001" in [n for _, n in rig.offered]


@pytest.mark.parametrize("rig", [campaign(contacts=["3000"])], indirect=True)
def test_a_fault_in_an_attempt_is_reported_and_ends_it_as_failed(rig):
    async def broken(call):
        raise RuntimeError("boom")

    rig.c.progress = broken
    rig.c.start()
    rig.kernel.run_for(3.0)
    assert rig.rt.errors and "boom" in rig.rt.errors[0]
    contact = rig.c.contacts["3000"]
    assert (contact.state, contact.outcome) == ("pending", "failed")
    assert rig.rt.agents[0].state == "ready" and rig.c.calls == {}


@pytest.mark.parametrize("rig", [campaign(contacts=["1000", "1001", "1002"], dnc=["1001"])],
                         indirect=True)
def test_do_not_call_numbers_are_never_dialled(rig):
    api = ApiServer()
    rig.rt.dialer.register(api)
    call = {op: fn for op, (fn, _) in api.ops.items()}
    assert call["campaign.dnc"]("c", "1002") == "listed"
    assert call["campaign.add"]("c", "1001", "again")["result"] == "dnc"
    rig.c.start()
    rig.kernel.run_for(30.0)
    assert [n for _, n in rig.offered] == ["1000"]
    assert {n: c.result for n, c in rig.c.contacts.items()} == {
        "1000": "answered", "1001": "dnc", "1002": "dnc"}
    with pytest.raises(ApiError) as e:
        call["campaign.add"]("c", "12ab!", "")
    assert e.value.code == "bad_params"
    with pytest.raises(ApiError) as e:
        call["campaign.status"]("nope")
    assert e.value.code == "not_found"


@pytest.mark.parametrize("rig", [campaign(contacts=["1000"], windows=["10:00-18:00"],
                                          days=["mon"], timezone="Europe/Paris")],
                         indirect=True)
def test_dialing_window_in_the_campaigns_time_zone(rig):
    """Monday 10:00 UTC is 11:00 in Paris; the rig's wall clock starts 09:59:30 Paris
    time (08:59:30 UTC)."""
    dialer.utc_now = lambda: (datetime(2026, 1, 5, 8, 59, 30, tzinfo=timezone.utc)
                              + timedelta(seconds=rig.kernel.now()))
    rig.c.start()
    rig.kernel.run_for(20.0)
    assert rig.offered == [] and not rig.c.status()["in_window"]
    rig.kernel.run_for(20.0)
    assert len(rig.offered) == 1 and 30.0 <= rig.offered[0][0] <= 32.0


@pytest.mark.parametrize("rig", [campaign(contacts=["1000"], days=["sat", "sun"])],
                         indirect=True)
def test_no_dialing_on_other_days(rig):
    rig.c.start()
    rig.kernel.run_for(10.0)
    assert rig.offered == [] and rig.c.contacts["1000"].state == "pending"


@pytest.mark.parametrize("rig", [campaign(mode="preview", contacts=["1000 Ann", "1001 Bob"])],
                         indirect=True)
def test_preview_skip_then_accept_and_the_agent_hears_progress(rig):
    for name in ("a2", "a3"):
        rig.rt.ops.agent_pause(name)
    events = []
    rig.rt.dialer.listeners.append(lambda ev, data: events.append((ev, data)))
    api = ApiServer()
    rig.rt.dialer.register(api)
    accept, skip = api.ops["campaign.accept"][0], api.ops["campaign.skip"][0]
    with pytest.raises(ApiError):
        accept("a1")  # nothing offered yet
    rig.c.start()
    rig.kernel.run_for(1.0)
    assert [(e, d["agent"], d["contact"]["number"]) for e, d in events] == [
        ("preview", "a1", "1000")]
    assert rig.rt.agents[0].state == "not-ready" and rig.offered == []
    assert skip("a1") == "done"
    rig.kernel.run_for(1.5)
    assert events[-1][1]["contact"]["number"] == "1001" and rig.offered == []
    call_id = accept("a1")
    call = rig.rt.centre.active[call_id]
    states = []
    rig.rt.agents[0].listeners.append(lambda a: states.append((a.state, call.state.value)))
    rig.kernel.run_for(30.0)
    # the agent is on the call before the far end answers: it hears the call's progress
    assert any(a == "talking" and c in ("dialing", "proceeding", "alerting") for a, c in states)
    assert [n for _, n in rig.offered] == ["1001"]
    assert rig.c.contacts["1000"].result == "skipped"
    assert rig.c.contacts["1000"].attempts == 0
    assert rig.c.contacts["1001"].result == "answered"
    rows = rig.records()
    assert [(r["dnis"], r["outcome"], r["agent"]) for r in rows] == [("1001", "answered", "a1")]


@pytest.mark.parametrize("rig", [campaign(mode="preview", contacts=[number], ring_timeout_s=40)
                                 for number in ("8000", "3000")], indirect=True)
def test_a_preview_agent_who_lets_the_call_ring_out_passes_it_to_the_queue(rig):
    """8000 answers at once (the call waits, answered, for the agent), 3000 rings on."""
    rig.rt.ops.agent_pause("a2")
    rig.rt.ops.agent_pause("a3")
    rig.rt.stations.board.handsets[0].answer_after = None
    rig.c.start()
    rig.kernel.run_for(1.0)
    call_id = rig.c.accept(rig.rt.agents[0])
    rig.rt.ops.agent_ready("a2")
    rig.kernel.run_for(20.0)  # a1 rings out after 10 s; the call goes to a2
    a1 = rig.rt.agents[0]
    assert (a1.state, a1.reason) == ("not-ready", "rona")
    assert rig.rt.agents[1].state == "talking"  # hearing ringback from 3000
    rig.kernel.run_for(60.0)
    outcome = "answered" if rig.offered[0][1] == "8000" else "no_answer"
    assert [(r["id"], r["outcome"], r["agent"]) for r in rig.records()] == [
        (str(call_id), outcome, "a2")]


@pytest.mark.parametrize("rig", [campaign(mode="preview", contacts=["1000"],
                                          preview_timeout_s=5)], indirect=True)
def test_a_lapsed_preview_returns_the_contact_and_pauses_the_agent(rig):
    for name in ("a2", "a3"):
        rig.rt.ops.agent_pause(name)
    rig.c.start()
    rig.kernel.run_for(6.0)
    a1 = rig.rt.agents[0]
    assert (a1.state, a1.reason) == ("not-ready", "preview-timeout")
    assert rig.c.contacts["1000"].state == "pending" and rig.c.previews == {}
    assert rig.c.stop() == "stopped"


@pytest.mark.parametrize("rig", [campaign(contacts=["3000", "3001"], ring_timeout_s=30)],
                         indirect=True)
def test_pause_stops_new_calls_and_status_counts(rig):
    rig.rt.ops.agent_pause("a2")
    rig.rt.ops.agent_pause("a3")
    rig.c.start()
    rig.kernel.run_for(2.0)
    assert rig.c.pause() == "paused"
    rig.kernel.run_for(40.0)
    st_ = rig.c.status()
    assert [n for _, n in rig.offered] == ["3000"]
    assert (st_["state"], st_["dialled"], st_["no_answer"], st_["pending"]) == \
        ("paused", 1, 1, 2)
    assert st_["agents"] == {"a1": "ready", "a2": "not-ready", "a3": "not-ready"}
    from cti.commands.status import _human

    line = _human("campaigns", {"c": st_})
    assert line.startswith("c ") and "paused" in line and "no_answer=1" in line


def test_contacts_and_dnc_from_files_and_the_crm_and_the_results_file(tmp_path):
    (tmp_path / "list.csv").write_text("number,name\n1000,Ann Lee\n1001,Bob\n")
    (tmp_path / "dnc.txt").write_text("# opted out\n1001\n")
    from cti.crm import CrmStore

    store = CrmStore(str(tmp_path / "crm.db"))
    store.update("1002", {"name": "Cy"})
    store.close()
    r = Rig(tmp_path, 'contacts_file = "list.csv"\ndnc_file = "dnc.txt"\ncrm_contacts = true\n'
                      'results = "results.csv"\n')
    try:
        assert {n: (c.name, c.state) for n, c in r.c.contacts.items()} == {
            "1000": ("Ann Lee", "pending"), "1001": ("Bob", "done"), "1002": ("Cy", "pending")}
        r.c.start()
        r.kernel.run_for(20.0)
        with open(tmp_path / "results.csv") as f:
            rows = list(csv.DictReader(f))
        assert sorted((x["campaign"], x["number"], x["outcome"], x["result"]) for x in rows) == [
            ("c", "1000", "answered", "answered"), ("c", "1002", "answered", "answered")]
        assert {x["call_id"] for x in rows} == {x["id"] for x in r.records()}
    finally:
        r.close()


def test_a_restarted_campaign_carries_on_from_its_results_file(tmp_path):
    keys = 'contacts = ["1000", "2000"]\nresults = "results.csv"\nretry_s = { busy = 600 }\n'
    r = Rig(tmp_path, keys)
    try:
        r.c.start()
        r.kernel.run_for(5.0)
        assert r.c.contacts["1000"].state == "dialling" and r.c.contacts["2000"].attempts == 1
    finally:
        r.close()  # 1000 still in its call: the run ends before its attempt does
    later = MONDAY_10 + timedelta(minutes=8)  # two minutes of 2000's busy delay left
    r = Rig(tmp_path, keys, wallclock=later)
    try:
        c1000, c2000 = r.c.contacts["1000"], r.c.contacts["2000"]
        assert (c1000.state, c1000.attempts) == ("pending", 0)
        assert (c2000.state, c2000.attempts, c2000.outcome) == ("pending", 1, "busy")
        assert r.c.status()["busy"] == 1 and r.c.dialled == 1
        r.c.start()
        r.kernel.run_for(100.0)
        assert r.dialled("2000") == [] and r.dialled("1000") != []
        r.kernel.run_for(30.0)
        assert len(r.dialled("2000")) == 1 and 118.0 <= r.dialled("2000")[0] <= 124.0
        assert c1000.result == "answered" and c2000.attempts == 2
    finally:
        r.close()
    r = Rig(tmp_path, keys, wallclock=later)
    try:
        assert r.c.contacts["1000"].result == "answered"  # done for good: never dialled again
    finally:
        r.close()
    (tmp_path / "results.csv").write_text("at,campaign,number\nyesterday,c,1000\n")
    try:
        with pytest.raises(ConfigError) as e:
            Rig(tmp_path, keys)
    finally:
        dialer.utc_now = UTC_NOW
    assert e.value.key == "campaign[0].results" and "results.csv:2" in str(e.value)


def test_campaign_operations_answer_bad_parameters_with_api_errors(tmp_path):
    r = Rig(tmp_path, *campaign(contacts=["1000"]))
    api = ApiServer()
    r.rt.dialer.register(api)
    ops = [op for op in api.ops if op.startswith("campaign")]
    values = st.one_of(st.none(), st.integers(), st.text(max_size=12), st.just("c"),
                       st.just("a1"), st.lists(st.integers(), max_size=2),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))

    @given(op=st.sampled_from(ops), args=st.lists(values, max_size=3))
    @settings(max_examples=150, deadline=None)
    def call(op, args):
        fn = api.ops[op][0]
        try:
            inspect.signature(fn).bind(*args)
        except TypeError:
            return
        try:
            fn(*args)
        except ApiError:
            pass

    try:
        call()
    finally:
        r.close()


def test_outcomes_of_q850_causes():
    assert {c: outcome_of_cause(c) for c in (1, 17, 18, 19, 21, 28, 34, 42, 99, None)} == {
        1: "invalid", 17: "busy", 18: "no_answer", 19: "no_answer", 21: "rejected",
        28: "invalid", 34: "congestion", 42: "congestion", 99: "failed", None: "failed"}
    assert set(CAUSE_OUTCOMES.values()) <= set(OUTCOMES)


@given(st.one_of(st.text(max_size=40), st.integers(), st.none(),
                 st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)))
@settings(max_examples=200)
def test_contacts_parse_or_raise_value_error(entry):
    try:
        number, name = parse_contact(entry)
    except ValueError:
        return
    assert number and isinstance(name, str)


@pytest.mark.parametrize("extra, key", [
    ('trunk = "nope"', "campaign[0].trunk"),
    ('windows = ["9-17"]', "campaign[0].windows[0]"),
    ('retry_s = { answered = 5 }', "campaign[0].retry_s.answered"),
    ('contacts = ["x1"]', "campaign[0].contacts[0]"),
    ('timezone = "Mars/Olympus"', "campaign[0].timezone"),
    ('days = ["someday"]', "campaign[0].days[0]"),
    ('max_attempts = 0', "campaign[0].max_attempts"),
    ('ani = "not a number"', "campaign[0].ani"),
    ('abandon_target = 1.5', "campaign[0].abandon_target"),
    ('max_ratio = 0.5', "campaign[0].max_ratio"),
    ('mode = "blended"', "campaign[0].mode"),
    ('mode = "predictive"', "campaign[0].abandon_message"),
])
def test_config_errors_name_the_key(tmp_path, extra, key):
    with pytest.raises(ConfigError) as e:
        Config.load(config_with(tmp_path, extra))
    assert e.value.key == key


def test_predictive_mode_must_send_the_calling_number(tmp_path):
    path = config_with(tmp_path, 'mode = "predictive"')
    with open(path, "a") as f:
        f.write('abandon_message = "tone:sit"\n')
    with pytest.raises(ConfigError) as e:
        Config.load(path)
    assert e.value.key == "campaign[0].ani"


def test_the_modes_are_declared_once():
    assert SCHEMA["campaign"]["mode"].choices is dialer.MODES


def config_with(tmp_path, extra: str) -> str:
    """The rig's configuration with a campaign of ``extra`` (``key = value``)."""
    keys = {"name": '"c"', "trunk": '"cc-pri"', "queue": '"outbound"'}
    k, _, v = extra.partition(" = ")
    keys[k] = v
    path = tmp_path / "k.toml"
    path.write_text(HEAD.format(tmp=tmp_path).split("[[campaign]]")[0] + "[[campaign]]\n" +
                    "".join(f"{k} = {v}\n" for k, v in keys.items()))
    return str(path)


@pytest.mark.parametrize("extra, key", [
    ('queue = "nope"', "campaign[0].queue"),
    ('contacts_file = "missing.csv"', "campaign[0].contacts_file"),
    ('abandon_message = "tone:fanfare"', "campaign[0].abandon_message"),
    ('abandon_message = "missing.wav"', "campaign[0].abandon_message"),
])
def test_runtime_errors_name_the_key(tmp_path, extra, key):
    """What only the built kernel knows: its queues (the demo's too), the files."""
    with pytest.raises(ConfigError) as e:
        Runtime(Config.load(config_with(tmp_path, extra)))
    assert e.value.key == key


def test_cti_campaign_commands_against_a_running_kernel(tmp_path, capsys):
    """`cti campaign ...` and `cti campaigns` through the control API of a kernel running
    in real time in a thread (the campaign stays stopped: nothing is dialled)."""
    path = tmp_path / "k.toml"
    path.write_text(HEAD.format(tmp=tmp_path).replace("enabled = false", "port = 0")
                    + 'contacts = ["1000 Ann"]\n')
    rt = Runtime(Config.load(str(path)), virtual=False)
    state = str(tmp_path / "state.json")

    def cti(*argv) -> tuple[int, str, str]:
        status = main([*argv, "--state", state])
        out = capsys.readouterr()
        return status, out.out, out.err

    with api_kernel(rt, state):
        assert cti("campaign", "pause", "c")[:2] == (0, "paused\n")
        assert cti("campaign", "add", "c", "1001", "Bob", "Lee")[1] == "1001 Bob Lee: pending\n"
        assert cti("campaign", "dnc", "c", "1001")[1] == "listed\n"
        status, out, _ = cti("campaign", "contacts", "c", "--json")
        assert [(c["number"], c["name"], c["result"]) for c in json.loads(out)] == [
            ("1000", "Ann", None), ("1001", "Bob Lee", "dnc")]
        status, out, _ = cti("campaigns")
        assert out.startswith("c ") and "paused" in out and "contacts=2" in out
        status, out, err = cti("campaign", "status", "nope")
        assert status == 1 and "not_found" in err
        assert cti("campaign", "add", "c")[0] == 2
        assert cti("campaign", "start", "c", "1000")[0] == 2
    rt.close()
