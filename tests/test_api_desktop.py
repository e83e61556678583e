"""Agent desktop call control through a real WebSocket client against a runtime on the
virtual clock: offered, answer (the kernel takes the station off-hook), hang up, wrap-up,
reject to the next agent, ring-no-answer, not-ready reason codes, and error replies for
calls that are not the agent's or in the wrong state."""

from __future__ import annotations

import asyncio

import pytest
from desk_rig import CALLER, error_code, event, only, run_with_client, runtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from cti.api import ApiServer
from cti.client import ApiRequestError, Client


@pytest.fixture
def rt(tmp_path):
    rt = runtime(tmp_path)
    yield rt
    rt.close()


def test_desktop_answer_talk_hangup_wrapup(rt):
    handset = rt.stations.board.handsets[0]

    async def scenario(c):
        await only(c, "alice")
        assert await c.call("agent.mode", name="alice", mode="desktop") == "desktop"
        pstn = await c.call("call.dial", trunk="pstn-pri", dnis="5000", ani=CALLER)
        offered = await event(c, "agents.offered", agent="alice")
        cid = offered["call"]
        assert offered["queue"] == "sales" and offered["ani"] == CALLER
        assert offered["dnis"] == "5000" and offered["wait_s"] >= 0 and offered["mode"] == "desktop"
        assert (await c.call("agent", name="alice"))["state"] == "ringing"
        codes = {
            "other agent": await error_code(c, "call.answer", agent="bob", call=cid),
            "no such call": await error_code(c, "call.answer", agent="alice", call=99999),
            "not a call id": await error_code(c, "call.answer", agent="alice", call="x"),
            "no agent": await error_code(c, "call.answer", agent="zed", call=cid),
            "missing": await error_code(c, "call.answer", agent="alice"),
            "hang up while ringing": await error_code(c, "call.drop", call=cid, agent="alice"),
            "not ready while ringing": await error_code(c, "agent.not_ready", name="alice",
                                                        reason="break"),
            "ready while ringing": await error_code(c, "agent.ready", name="alice"),
        }
        assert codes == {"other agent": "not_yours", "no such call": "not_found",
                         "not a call id": "bad_params", "no agent": "not_found",
                         "missing": "bad_params", "hang up while ringing": "bad_state",
                         "not ready while ringing": "busy", "ready while ringing": "busy"}
        assert handset.ringing and not handset.off_hook  # the phone does not answer itself
        assert await c.call("call.answer", agent="alice", call=cid) == "answering"
        talking = await event(c, "agents.state", name="alice", state="talking")
        assert talking["call"] == cid
        assert handset.off_hook  # the kernel took the station off-hook
        calls = {x["id"]: x for x in await c.call("calls")}
        assert calls[cid]["state"] == "connected" and calls[pstn]["state"] == "connected"
        assert await error_code(c, "call.answer", agent="alice", call=cid) == "bad_state"
        assert await error_code(c, "call.reject", agent="alice", call=cid) == "bad_state"
        assert await error_code(c, "call.drop", call=cid, agent="bob") == "not_yours"
        assert await c.call("call.drop", call=cid, agent="alice") == "dropping"
        wrap = await event(c, "agents.state", name="alice", state="wrapup")
        ready = await event(c, "agents.state", name="alice", state="ready")
        assert ready["at"] - wrap["at"] == pytest.approx(2.0, abs=0.05)  # the queue's wrap-up
        assert ready["handled"] == 1 and ready["call"] is None
        return pstn

    pstn = run_with_client(rt, scenario)
    rt.kernel.run_for(1.0)
    assert not handset.off_hook  # and back on-hook
    assert pstn not in rt.centre.active  # the caller was cleared with the agent


def test_reject_goes_to_the_next_agent_then_ring_no_answer(rt):
    async def scenario(c):
        await only(c, "alice", "bob")
        for name in ("alice", "bob"):
            await c.call("agent.mode", name=name, mode="desktop")
        await c.call("call.dial", trunk="pstn-pri", dnis="5001", ani=CALLER)
        first = await event(c, "agents.offered")
        other = "bob" if first["agent"] == "alice" else "alice"
        assert await c.call("call.reject", agent=first["agent"], call=first["call"]) == "rejected"
        back = await event(c, "agents.state", name=first["agent"])
        assert back["state"] == "ready"  # a rejection is not a pause
        second = await event(c, "agents.offered")
        assert second["agent"] == other and second["call"] == first["call"]
        # nobody answers: ring-no-answer after the queue's ring timeout (15 s)
        rona = await event(c, "agents.state", name=other, state="not-ready")
        assert rona["reason"] == "rona"
        # the caller waits: the only ready agent already rejected it
        q = (await c.call("queues"))["sales"]
        assert q["waiting"] == 1
        return first, second

    run_with_client(rt, scenario)


def test_not_ready_reasons_pending_during_a_call(rt):
    async def scenario(c):
        await only(c, "alice")
        assert await error_code(c, "agent.not_ready", name="alice", reason="") == "bad_params"
        assert await error_code(c, "agent.mode", name="alice", mode="psychic") == "bad_params"
        await c.call("agent.mode", name="alice", mode="desktop")
        await c.call("call.dial", trunk="pstn-pri", dnis="5002", ani=CALLER)
        offered = await event(c, "agents.offered", agent="alice")
        await c.call("call.answer", agent="alice", call=offered["call"])
        await event(c, "agents.state", name="alice", state="talking")
        st = await c.call("agent.not_ready", name="alice", reason="lunch")
        assert st["state"] == "talking" and st["pending"] == {"state": "not-ready",
                                                              "reason": "lunch"}
        await c.call("call.drop", call=offered["call"], agent="alice")
        await event(c, "agents.state", name="alice", state="wrapup")
        after = await event(c, "agents.state", name="alice")
        assert (after["state"], after["reason"]) == ("not-ready", "lunch")
        assert await c.call("agent.ready", name="alice") == "ready"
        return after

    run_with_client(rt, scenario)


def test_bad_token_gets_nothing_from_the_runtime(rt):
    async def main():
        api = await rt.start_api()
        try:
            async with connect(api.url) as ws:
                await ws.send('{"op": "auth", "token": "wrong"}')
                with pytest.raises(ConnectionClosed):
                    await ws.recv()
        finally:
            await api.stop()

    rt.kernel.run(main())


def test_a_desktop_subscribes_to_its_own_agent():
    async def main():
        srv = ApiServer(token="t")
        await srv.start()
        try:
            async with Client(srv.url, "t") as desk, Client(srv.url, "t") as wall:
                assert await desk.call("subscribe", topics=["agents", "calls"],
                                       agents=["alice"]) == ["agents", "calls"]
                await wall.call("subscribe", topics=["agents", "calls"])
                for code, params in (("bad_params", {"agents": "alice"}),
                                     ("bad_params", {"agents": [1]})):
                    with pytest.raises(ApiRequestError) as e:
                        await desk.call("subscribe", topics=["agents"], **params)
                    assert e.value.code == code
                srv.publish("agents", "state", {"name": "bob", "state": "ready"})
                srv.publish("calls", "screen_pop", {"agent": "bob", "call": 1})
                srv.publish("agents", "state", {"name": "alice", "state": "ready"})
                srv.publish("calls", "offered", {"id": 2})
                srv.publish("calls", "screen_pop", {"agent": "alice", "call": 2})
                await asyncio.sleep(0.05)
                got = [desk.events.get_nowait() for _ in range(desk.events.qsize())]
                assert [(e["event"], e["data"].get("call")) for e in got] == [
                    ("agents.state", None), ("calls.offered", None), ("calls.screen_pop", 2)]
                assert wall.events.qsize() == 5
        finally:
            await srv.stop()

    asyncio.run(main())


NAMES = st.sampled_from(["alice", "bob", "desktop", "auto", "cc:1", "lunch", "0212345678"])
JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 200) | st.text(max_size=8)
                    | NAMES,
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
OPS = ("agent", "agent.mode", "agent.not_ready", "call.answer", "call.reject", "call.drop",
       "supervisor.monitor", "supervisor.whisper", "supervisor.barge", "supervisor.stop",
       "supervisor.force_ready", "supervisor.force_logout", "crm.lookup", "crm.update", "span",
       "agent.skills")
PARAMS = ("name", "agent", "call", "station", "mode", "reason", "cause", "number", "fields",
          "skills")


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(st.tuples(st.sampled_from(OPS),
                                   st.dictionaries(st.sampled_from(PARAMS), JSON, max_size=4)),
                         min_size=1, max_size=25))
def test_arbitrary_desktop_requests_get_replies_never_failures(rt, requests):
    """Whatever the parameters, each request gets an ok or a typed error reply, never
    the catch-all ``failed`` (an operation that raised), and the server keeps answering."""
    async def scenario(c):
        codes = []
        for op, params in requests:
            try:
                await c.call(op, **params)
                codes.append("ok")
            except ApiRequestError as e:
                codes.append(e.code)
        assert await c.call("ping") == "pong"
        return codes

    codes = run_with_client(rt, scenario)
    assert "failed" not in codes and "timeout" not in codes


def test_caller_gone_while_ringing_is_no_ring_no_answer(tmp_path):
    """Desktop mode and the agent's own wrap-up time from the config; a caller who hangs
    up while the agent's station rings leaves the agent ready (no RONA pause)."""
    rt = runtime(tmp_path, mode="desktop", wrapup_s=0.5)
    try:
        async def scenario(c):
            await only(c, "alice")
            assert (await c.call("agent", name="alice"))["mode"] == "desktop"
            pstn = await c.call("call.dial", trunk="pstn-pri", dnis="5000", ani=CALLER)
            offered = await event(c, "agents.offered", agent="alice")
            await c.call("call.drop", call=pstn)
            back = await event(c, "agents.state", name="alice")
            assert not rt.stations.board.handsets[0].ringing
            pstn = await c.call("call.dial", trunk="pstn-pri", dnis="5000", ani=CALLER)
            second = await event(c, "agents.offered", agent="alice")
            await c.call("call.answer", agent="alice", call=second["call"])
            await event(c, "agents.state", name="alice", state="talking")
            await c.call("call.drop", call=second["call"], agent="alice")
            wrap = await event(c, "agents.state", name="alice", state="wrapup")
            ready = await event(c, "agents.state", name="alice", state="ready")
            return offered, back, ready["at"] - wrap["at"]

        offered, back, wrapup = run_with_client(rt, scenario)
    finally:
        rt.close()
    assert (back["state"], back["reason"], back["call"]) == ("ready", None, None)
    assert wrapup == pytest.approx(0.5, abs=0.05)  # the agent's wrap-up, not the queue's 2 s


def test_station_still_settling_is_retried_soon(tmp_path):
    """No wrap-up: the next call finds the station's hook still settling after the
    kernel's hang-up (a break shorter than flash_max could be a flash), so the agent is
    not-ready ``station-busy`` for about a second, not a RONA pause."""
    rt = runtime(tmp_path, mode="desktop", wrapup_s=0.0)
    try:
        async def scenario(c):
            await only(c, "alice")
            for _ in range(2):
                await c.call("call.dial", trunk="pstn-pri", dnis="5000", ani=CALLER)
            first = await event(c, "agents.offered", agent="alice")
            await c.call("call.answer", agent="alice", call=first["call"])
            await event(c, "agents.state", name="alice", state="talking")
            await c.call("call.drop", call=first["call"], agent="alice")
            busy = await event(c, "agents.state", name="alice", state="not-ready")
            ringing = await event(c, "agents.state", name="alice", state="ringing")
            second = await event(c, "agents.offered", agent="alice")
            return busy, second, ringing["at"] - busy["at"]

        busy, second, pause = run_with_client(rt, scenario)
    finally:
        rt.close()
    assert busy["reason"] == "station-busy" and second["call"] != busy["call"]
    assert 0.9 < pause < 2.5
