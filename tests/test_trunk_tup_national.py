"""The China TUP national procedures through the kernel (GF 001-9001, following Q.724 and the
message codes): the call-model events METERING (MPM), MALICIOUS (MAL; GRQ), OPERATOR (OPR)
and CALLING_CLEARED (CCL, the connection held) raised on the far end's call, and the TUP
trunk's requests for them - identify_malicious (with or without hold), operator_recall,
charge - with their typed refusals, over two sim E1 spans on the virtual clock."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallError, CallEvent, CallState
from tests import test_trunk_tup

tup = test_trunk_tup.tup  # the fixture: two China TUP trunks back to back on sim E1 spans


def events(call: Call) -> list[tuple[float, str]]:
    """(time, event) of every event the call raises from now on."""
    seen: list[tuple[float, str]] = []
    call.listeners.append(lambda c, ev: seen.append((c.clock(), ev.value)))
    return seen


async def connected(kernel, pstn, offered, category: int | None = None) -> tuple[Call, Call]:
    out = Call(trunk=pstn, direction="out", dnis="4000", ani="0212345678",
               category=category, clock=kernel.now)
    out.dial()
    await asyncio.sleep(0.5)
    inc = offered[-1]
    inc.answer()
    await out.wait(CallState.CONNECTED, timeout=5)
    return out, inc


def test_metering_pulses_every_unit_charging_time(tup):
    """The terminating side charges 3 pulses per unit: the caller's call raises METERING at
    once and again each T_MPM, its data holding the pulses so far; it ends with the call."""
    kernel, _, pstn, cc, offered = tup
    unit = pstn.node.tup.timer_table.values["T_MPM"]

    async def scenario():
        out, inc = await connected(kernel, pstn, offered)
        seen = events(out)
        t0 = kernel.now()
        cc.charge(inc, 3)
        await asyncio.sleep(0.5)
        assert out.data["metering_pulses"] == 3 and out.state is CallState.CONNECTED
        await asyncio.sleep(2 * unit)
        assert out.data["metering_pulses"] == 9
        out.drop(16)
        await out.wait(CallState.RELEASED, timeout=10)
        await asyncio.sleep(2 * unit)
        return seen, t0

    seen, t0 = kernel.run(scenario())
    ticks = [t - t0 for t, e in seen if e == "metering"]
    assert len(ticks) == 3
    assert ticks[1] - ticks[0] == pytest.approx(unit, abs=0.05)
    assert ticks[2] - ticks[1] == pytest.approx(unit, abs=0.05)


def test_malicious_call_identification(tup):
    """MAL from the called side: the caller's exchange raises MALICIOUS once on its call;
    the call carries on."""
    kernel, _, pstn, cc, offered = tup

    async def scenario():
        out, inc = await connected(kernel, pstn, offered)
        seen = events(out)
        cc.identify_malicious(inc)
        await asyncio.sleep(0.5)
        cc.identify_malicious(inc)  # a second MAL is not reported again
        await asyncio.sleep(0.5)
        assert out.state is CallState.CONNECTED
        out.drop(16)
        await inc.wait(CallState.RELEASED, timeout=10)
        return out, inc, seen

    out, inc, seen = kernel.run(scenario())
    assert [e for _, e in seen].count("malicious") == 1
    assert out.data["malicious"] and inc.data["malicious"]
    assert inc.state is CallState.RELEASED


def test_malicious_with_hold_then_calling_party_clear_ccl(tup):
    """GRQ with the malicious and hold indicators: when the caller hangs up the originating
    exchange sends CCL and holds the connection - the called side's call stays connected and
    raises CALLING_CLEARED; it ends when the called side clears (CBK, then CLF/RLG)."""
    kernel, _, pstn, cc, offered = tup

    async def scenario():
        out, inc = await connected(kernel, pstn, offered)
        seen_out, seen_in = events(out), events(inc)
        cc.identify_malicious(inc, hold=True)
        await asyncio.sleep(0.5)
        out.drop(16)
        await asyncio.sleep(5)
        held = (inc.state, inc.data.get("calling_cleared"), out.state)
        circuits = [c.state for c in pstn.calls] + [c.state for c in cc.calls]
        inc.drop(16)
        await out.wait(CallState.RELEASED, timeout=10)
        await inc.wait(CallState.RELEASED, timeout=10)
        return held, circuits, seen_out, seen_in

    held, circuits, seen_out, seen_in = kernel.run(scenario())
    assert held == (CallState.CONNECTED, True, CallState.DISCONNECTED)
    assert circuits == ["HELD", "ANSWERED"]
    assert "malicious" in [e for _, e in seen_out]
    assert [e for _, e in seen_in] == ["calling_cleared", "disconnected", "released"]
    assert pstn.free_channels() == list(pstn.timeslots) == cc.free_channels()


def test_operator_recall_from_an_operator_call(tup):
    kernel, _, pstn, cc, offered = tup

    async def scenario():
        out, inc = await connected(kernel, pstn, offered, category=1)  # Q.723 3.2 operator
        seen = events(inc)
        pstn.operator_recall(out)
        await asyncio.sleep(0.5)
        assert inc.state is CallState.CONNECTED
        out.drop(16)
        await inc.wait(CallState.RELEASED, timeout=10)
        return inc, seen

    inc, seen = kernel.run(scenario())
    assert inc.category == 1 and [e for _, e in seen][0] == "operator"


def test_requests_refused_with_call_errors(tup):
    """Each request names why it cannot be sent: the wrong direction, the wrong circuit
    state, an ordinary subscriber's OPR, pulses out of range, a call of another trunk."""
    kernel, _, pstn, cc, offered = tup

    async def scenario():
        out = Call(trunk=pstn, direction="out", dnis="4000", clock=kernel.now)
        out.dial()
        await asyncio.sleep(0.5)
        inc = offered[-1]
        errors = []
        for fn in (lambda: pstn.charge(out, 1), lambda: pstn.identify_malicious(out),
                   lambda: cc.operator_recall(inc), lambda: pstn.operator_recall(out),
                   lambda: cc.identify_malicious(inc), lambda: cc.charge(out, 1)):
            with pytest.raises(CallError) as e:
                fn()
            errors.append(str(e.value))
        inc.answer()
        await out.wait(CallState.CONNECTED, timeout=5)
        with pytest.raises(CallError, match="operator calling-party category"):
            pstn.operator_recall(out)
        with pytest.raises(CallError, match="0..65535"):
            cc.charge(inc, 70000)
        out.drop(16)
        await inc.wait(CallState.RELEASED, timeout=10)
        return errors

    errors = kernel.run(scenario())
    assert "incoming calls only" in errors[0] and "incoming calls only" in errors[1]
    assert "outgoing calls only" in errors[2]
    assert "OUT_WAIT_ANSWER" in errors[3] or "OUT_WAIT_ACM" in errors[3]  # not answered yet
    assert "IN_SETUP" in errors[4]  # MAL needs the call to ring or be answered
    assert "not on trunk" in errors[5]


def test_events_leave_the_call_state_alone():
    call = Call(trunk=None, direction="in")
    call.notify(CallEvent.OFFERED)
    for ev in (CallEvent.METERING, CallEvent.MALICIOUS, CallEvent.OPERATOR,
               CallEvent.CALLING_CLEARED):
        call.notify(ev)
        assert call.state is CallState.OFFERED
    assert [h for _, h in call.history] == ["offered", "metering", "malicious", "operator",
                                            "calling_cleared"]


def test_control_api_operations(tmp_path):
    """call.charge / call.malicious / call.operator through the runtime's operations on the
    multispan example's TUP trunks; bad_state for an ISUP call and for a refused request."""
    import os

    from cti.api import ApiError
    from cti.config import Config
    from cti.runtime import Runtime

    cfg = Config.load(os.path.join(os.path.dirname(__file__), "..", "examples",
                                   "ss7-multispan-sim.toml"))
    cfg.data["crm"]["path"] = str(tmp_path / "calls.db")
    rt = Runtime(cfg, virtual=True)
    try:
        rt.kernel.run_for(5)
        out_id = rt.ops.call_dial(dnis="4000", trunk="pstn-tup")
        rt.kernel.run_for(3)
        out = rt.centre.active[out_id]
        inc = next(c for c in rt.centre.active.values()
                   if c.direction == "in" and c.trunk.kind == "tup")
        assert out.state is CallState.CONNECTED
        seen = events(out)
        assert rt.ops.charge(inc.id, 2) == "sent" and rt.ops.malicious(inc.id) == "sent"
        rt.kernel.run_for(1)
        assert out.data["metering_pulses"] == 2 and out.data["malicious"]
        assert [e for _, e in seen] == ["metering", "malicious"]
        for fn, message in ((lambda: rt.ops.operator(out.id), "operator calling-party"),
                            (lambda: rt.ops.charge(out.id, 1), "incoming calls only"),
                            (lambda: rt.ops.charge(inc.id, True), "integer"),
                            (lambda: rt.ops.malicious(inc.id, "false"), "true or false"),
                            (lambda: rt.ops.malicious(10 ** 6), "no active call")):
            with pytest.raises(ApiError, match=message):
                fn()
        isup = rt.ops.call_dial(dnis="4001", trunk="pstn-isup")
        with pytest.raises(ApiError, match="ss7 trunk has no identify_malicious"):
            rt.ops.malicious(isup)
    finally:
        rt.close()
