"""Failures end to end over each trunk type, through the runtime of examples/lab-sim.toml on
the virtual clock: the PSTN side calls the call centre, which refuses an unknown number,
tandems to a busy or unanswered station, or loses the caller in the IVR; the caller gets
the Q.850 cause (and the R2 group B signal) and the call record says what happened."""

from __future__ import annotations

import asyncio
import csv
import os

import pytest

from cti.calls import Call, CallState
from cti.config import Config
from cti.runtime import Runtime

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "lab-sim.toml")
TRUNKS = {"isdn": "pstn-pri", "ss7": "pstn-isup", "r2": "pstn-r2"}


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(tmp_path_factory.mktemp("crm") / "crm.db")
    rt = Runtime(cfg, virtual=True)
    rt.centre.no_answer_s = 12.0
    for _ in range(60):
        rt.kernel.run_for(1.0)
        if all(t.link_up for t in rt.trunks.values()):
            break
    yield rt
    rt.close()


def call(rt, kind: str, dnis: str, drop_after: float | None = None) -> tuple[Call, dict]:
    """Place a call from the PSTN side; returns it once released, with the call centre's
    record of its incoming leg."""
    seen = len(rt.centre.active)

    async def scenario() -> Call:
        out = Call(trunk=rt.trunks[TRUNKS[kind]], direction="out", dnis=dnis,
                   ani="0212345678", clock=rt.kernel.now)
        out.dial()
        if drop_after is not None:
            assert await out.wait(CallState.CONNECTED, timeout=20) is CallState.CONNECTED
            await asyncio.sleep(drop_after)
            out.drop(16)
        await out.wait(CallState.RELEASED, timeout=60)
        for _ in range(100):  # the call centre's leg ends and is recorded
            if len(rt.centre.active) <= seen and rt.cdr.count > before:
                break
            await asyncio.sleep(0.1)
        return out

    before = rt.cdr.count
    out = rt.kernel.run(scenario())
    with open(rt.cdr.path) as f:
        rows = list(csv.DictReader(f))
    return out, rows[-1]


@pytest.mark.parametrize("kind", list(TRUNKS))
def test_unknown_number_is_refused_with_cause_1(rt, kind):
    out, rec = call(rt, kind, "9999")
    assert out.state is CallState.RELEASED and out.cause == 1
    assert rec["outcome"] == "failed" and rec["cause"] == "1" and rec["dnis"] == "9999"
    if kind == "r2":
        assert out.raw_cause == "B-5"  # China No.1: unallocated number


@pytest.mark.parametrize("kind", list(TRUNKS))
def test_busy_station_gives_the_caller_cause_17(rt, kind):
    handset = rt.stations.board.handsets[0]
    handset.lift()
    rt.kernel.run_for(0.5)
    try:
        out, rec = call(rt, kind, "80")
    finally:
        handset.hang_up()
        rt.kernel.run_for(1.0)
    assert out.cause == 17 and rec["outcome"] == "failed" and rec["cause"] == "17"
    if kind == "r2":
        assert out.raw_cause == "B-2"  # subscriber busy


@pytest.mark.parametrize("kind", list(TRUNKS))
def test_unanswered_station_rings_back_then_cause_19(rt, kind):
    handset = rt.stations.board.handsets[0]
    before, handset.answer_after = handset.answer_after, None
    try:
        out, rec = call(rt, kind, "80")
    finally:
        handset.answer_after = before
    assert "alerting" in [h for _, h in out.history]  # the station's ringing reached the caller
    assert rec["outcome"] == "failed"
    if kind == "r2":  # after the group B signal R2 can only clear back: no cause travels
        assert out.cause == 16
    else:
        assert out.cause == 19 and rec["cause"] == "19"


@pytest.mark.parametrize("kind", list(TRUNKS))
def test_caller_clearing_during_the_ivr_is_abandoned(rt, kind):
    out, rec = call(rt, kind, "4000", drop_after=1.0)
    assert out.state is CallState.RELEASED
    assert rec["outcome"] == "abandoned" and rec["dnis"] == "4000"
