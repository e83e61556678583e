"""The control API's operations on a runtime built from examples/lab-sim.toml (virtual
clock, operations called directly): agents signing in and out, a call through the demo
IVR to an agent, then a consultative transfer to another station."""

from __future__ import annotations

import asyncio
import os

import pytest

from cti.api import ApiError
from cti.calls import CallState
from cti.config import Config
from cti.runtime import Runtime

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "lab-sim.toml")


@pytest.fixture
def rt(tmp_path):
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(tmp_path / "calls.csv")
    rt = Runtime(cfg, virtual=True)
    for h in rt.stations.board.handsets:
        h.answer_after = 1  # the simulated phones pick up on the first ring
    rt.kernel.run_for(2.0)
    yield rt
    rt.close()


def test_agent_login_logout(rt):
    with pytest.raises(ApiError) as e:
        rt.ops.agent_login("erin", 0)
    assert e.value.code == "busy"
    assert rt.ops.agent_logout("alice") == "logged-out"
    with pytest.raises(ApiError):
        rt.ops.agent_ready("alice")
    assert rt.ops.agent_login("erin", 0) == "not-ready"
    assert rt.ops.agent_ready("erin") == "ready"
    assert rt.agents[-1].name == "erin" and rt.agents[-1].state == "ready"


@pytest.mark.parametrize("name,station", [("erin", "0"), ("erin", True), ("erin", 1.5),
                                           ("", 0), (None, 0)])
def test_agent_login_parameters_are_checked(rt, name, station):
    """A station that is not an integer, or a missing name, is bad_params (it was a
    generic failure from a TypeError)."""
    with pytest.raises(ApiError) as e:
        rt.ops.agent_login(name, station)
    assert e.value.code == "bad_params"


async def call_to_alice(rt):
    """A PSTN call through the demo IVR to agent alice (the others paused): its caller leg."""
    for name in ("bob", "carol", "dave"):
        rt.ops.agent_pause(name)  # only alice (station 0) takes calls
    rt.ops.call_dial("4000", trunk="pstn-pri", ani="0212345678")
    for _ in range(400):
        caller = next((c for c in rt.centre.active.values()
                       if c.direction == "in" and c.data.get("agent")), None)
        if caller is not None:
            return caller
        await asyncio.sleep(0.1)
    raise AssertionError("the call did not reach an agent")


def test_call_to_an_agent_then_consultative_transfer(rt):

    async def scenario():
        caller = await call_to_alice(rt)
        assert caller is not None and caller.data["agent"] == "alice"
        consult_id = await rt.ops.consult(caller.id, "stations", "3")
        assert caller.state is CallState.HELD
        assert rt.ops.complete(caller.id, consult_id) == "transferred"
        await asyncio.sleep(1.0)
        return caller, rt.centre.active[consult_id]

    caller, expert = rt.kernel.run(scenario())
    assert caller.state is CallState.CONNECTED and expert.state is CallState.CONNECTED
    assert caller.data["bridged"] is expert
    with pytest.raises(ApiError):
        rt.ops.complete(caller.id, 99999)


def test_dial_through_a_trunk_group_and_bad_dial_requests(rt):
    """call.dial with ``group`` hunts the group's channels by its policy ("last": the
    highest channel of the last trunk first); refusals are typed API errors."""
    cid = rt.ops.call_dial("4000", group="cc-out", ani="0212345678")
    call = rt.centre.active[cid]
    assert call.trunk.name == "cc-r2" and call.data["channel"] == 31
    assert rt.groups["cc-out"].counters["seized"] == 1
    for kw, code in (({"group": "nope"}, "not_found"), ({"trunk": "nope"}, "not_found"),
                     ({"trunk": "pstn-pri", "group": "cc-out"}, "bad_params"), ({}, "bad_params"),
                     ({"trunk": ["pstn-pri"]}, "not_found")):
        with pytest.raises(ApiError) as e:
            rt.ops.call_dial("4000", **kw)
        assert e.value.code == code


def test_consult_to_a_busy_station_is_refused_and_the_caller_stays(rt):
    rt.stations.board.handsets[3].lift()  # the expert's phone is off-hook

    async def scenario():
        caller = await call_to_alice(rt)
        agent_leg = caller.data["bridged"]
        with pytest.raises(ApiError) as e:
            await rt.ops.consult(caller.id, "stations", "3")
        await asyncio.sleep(0.5)
        return caller, agent_leg, e.value

    caller, agent_leg, err = rt.kernel.run(scenario())
    assert err.code == "refused" and "cause 17" in str(err)
    assert caller.state is CallState.CONNECTED and caller.data["bridged"] is agent_leg


def test_consult_whose_agent_hangs_up_before_the_answer_is_bad_state(rt):
    """The agent clears during the consultation: when the target answers there is nobody to
    connect it to, and call.consult answers ``bad_state`` (not an internal failure)."""
    rt.stations.board.handsets[3].answer_after = 3

    async def scenario():
        caller = await call_to_alice(rt)
        agent_leg = caller.data["bridged"]
        consult = asyncio.ensure_future(rt.ops.consult(caller.id, "stations", "3"))
        await asyncio.sleep(0.5)
        agent_leg.drop(16)
        with pytest.raises(ApiError) as e:
            await consult
        return e.value

    err = rt.kernel.run(scenario())
    assert err.code == "bad_state" and "not an answered call" in str(err)
