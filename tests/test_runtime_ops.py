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
        rt._agent_login("erin", 0)
    assert e.value.code == "busy"
    assert rt._agent_logout("alice") == "logged-out"
    with pytest.raises(ApiError):
        rt._agent_ready("alice")
    assert rt._agent_login("erin", 0) == "not-ready"
    assert rt._agent_ready("erin") == "ready"
    assert rt.agents[-1].name == "erin" and rt.agents[-1].state == "ready"


def test_call_to_an_agent_then_consultative_transfer(rt):
    for name in ("bob", "carol", "dave"):
        rt._agent_pause(name)  # only alice (station 0) takes calls

    async def scenario():
        rt._call_dial("pstn-pri", "4000", "0212345678")
        for _ in range(400):
            caller = next((c for c in rt.centre.active.values()
                           if c.direction == "in" and c.data.get("agent")), None)
            if caller is not None:
                break
            await asyncio.sleep(0.1)
        assert caller is not None and caller.data["agent"] == "alice"
        consult_id = await rt._consult(caller.id, "stations", "3")
        assert caller.state is CallState.HELD
        assert rt._complete(caller.id, consult_id) == "transferred"
        await asyncio.sleep(1.0)
        return caller, rt.centre.active[consult_id]

    caller, expert = rt.kernel.run(scenario())
    assert caller.state is CallState.CONNECTED and expert.state is CallState.CONNECTED
    assert caller.data["bridged"] is expert
    with pytest.raises(ApiError):
        rt._complete(caller.id, 99999)
