"""Supervisor monitor, whisper and barge on an agent's call, through a real WebSocket
client against a runtime on the virtual clock.  The audio paths are checked by DTMF
tones: the supervisor's phone dials, the caller's side sends (a PSTN-side media
operation), and what the agent's and supervisor's phones and the caller's side hear is
run through a DTMF detector."""

from __future__ import annotations

import asyncio

import pytest
from desk_rig import CALLER, error_code, event, only, run_with_client, runtime

from timeslot.dtmf import DtmfDetector

AGENT, SUPERVISOR = 0, 3  # alice's station; dave's station (dave is not ready)


@pytest.fixture
def rt(tmp_path):
    rt = runtime(tmp_path)
    yield rt
    rt.close()


def _digits(audio) -> str:
    det = DtmfDetector(1)
    return "".join(chr(e.value) for e in det.process(audio[None, :]) + det.finish())


class Ears:
    """Who hears a tone: the agent's and the supervisor's phones, and the caller."""

    def __init__(self, rt, pstn_slot: int):
        self.rt = rt
        self.slot = pstn_slot
        self.phones = rt.stations.board.handsets
        rt.media.enable_digits(pstn_slot)

    async def probe(self, source: str, digit: str) -> dict[str, bool]:
        for h in self.phones:
            h.clear_received()
        self.rt.media.flush_digits(self.slot)
        if source == "supervisor":
            self.phones[SUPERVISOR].dial(digit)
            await asyncio.sleep(0.6)
        else:
            await self.rt.media.send_dtmf(self.slot, digit)
            await asyncio.sleep(0.4)
        return {"agent": digit in _digits(self.phones[AGENT].received()),
                "supervisor": digit in _digits(self.phones[SUPERVISOR].received()),
                "caller": digit in self.rt.media.flush_digits(self.slot)}


async def _agent_call(c, rt) -> tuple[int, int]:
    """A PSTN call answered by alice from her desktop: (caller id, PSTN slot)."""
    await only(c, "alice")
    await c.call("agent.mode", name="alice", mode="desktop")
    pstn = await c.call("call.dial", trunk="pstn-pri", dnis="5000", ani=CALLER)
    offered = await event(c, "agents.offered", agent="alice")
    await c.call("call.answer", agent="alice", call=offered["call"])
    await event(c, "agents.state", name="alice", state="talking")
    await asyncio.sleep(0.2)
    return offered["call"], rt.centre.active[pstn].slot


def test_monitor_whisper_barge_stop_audio_paths(rt):
    sup_phone = rt.stations.board.handsets[SUPERVISOR]

    async def scenario(c):
        cid, pstn_slot = await _agent_call(c, rt)
        ears = Ears(rt, pstn_slot)
        heard = {}
        s = await c.call("supervisor.monitor", station=SUPERVISOR, call=cid)
        assert s["mode"] == "monitor" and s["agent"] == "alice" and sup_phone.off_hook
        heard["monitor", "supervisor"] = await ears.probe("supervisor", "1")
        heard["monitor", "caller"] = await ears.probe("caller", "2")
        s = await c.call("supervisor.whisper", station=SUPERVISOR, call=cid)
        assert s["mode"] == "whisper"
        assert len(await c.call("supervisions")) == 1  # the same session, switched
        heard["whisper", "supervisor"] = await ears.probe("supervisor", "3")
        heard["whisper", "caller"] = await ears.probe("caller", "4")
        await c.call("supervisor.barge", station=SUPERVISOR, call=cid)
        heard["barge", "supervisor"] = await ears.probe("supervisor", "5")
        heard["barge", "caller"] = await ears.probe("caller", "6")
        await c.call("supervisor.monitor", station=SUPERVISOR, call=cid)  # back to silent
        heard["monitor again", "supervisor"] = await ears.probe("supervisor", "7")
        assert await c.call("supervisor.stop", station=SUPERVISOR) == "stopped"
        await asyncio.sleep(0.8)
        heard["stopped", "caller"] = await ears.probe("caller", "8")
        assert await c.call("supervisions") == []
        return heard

    heard = run_with_client(rt, scenario)
    T, F = True, False
    # (nobody hears their own tone back: no sidetone or echo in the switch)
    assert heard["monitor", "supervisor"] == {"agent": F, "supervisor": F, "caller": F}
    assert heard["monitor", "caller"] == {"agent": T, "supervisor": T, "caller": F}
    assert heard["whisper", "supervisor"] == {"agent": T, "supervisor": F, "caller": F}
    assert heard["whisper", "caller"] == {"agent": T, "supervisor": T, "caller": F}
    assert heard["barge", "supervisor"] == {"agent": T, "supervisor": F, "caller": T}
    assert heard["barge", "caller"] == {"agent": T, "supervisor": T, "caller": F}
    assert heard["monitor again", "supervisor"] == {"agent": F, "supervisor": F, "caller": F}
    # after stop: caller and agent talk directly again; the supervisor is off the call
    assert heard["stopped", "caller"] == {"agent": T, "supervisor": F, "caller": F}
    assert not sup_phone.off_hook


def test_supervision_ends_with_the_call_and_errors(rt):
    async def scenario(c):
        cid, _ = await _agent_call(c, rt)
        codes = {
            "no call": await error_code(c, "supervisor.barge", station=SUPERVISOR, call=99999),
            "bad station": await error_code(c, "supervisor.barge", station=77, call=cid),
            "station not a number": await error_code(c, "supervisor.barge", station=True,
                                                     call=cid),
            "agent's station": await error_code(c, "supervisor.barge", station=AGENT, call=cid),
            "bad call": await error_code(c, "supervisor.barge", station=SUPERVISOR, call="x"),
            "nothing to stop": await error_code(c, "supervisor.stop", station=SUPERVISOR),
        }
        pstn = next(x["id"] for x in await c.call("calls")
                    if x["trunk"] == "isdn" and x["direction"] == "out")
        codes["not an agent's call"] = await error_code(c, "supervisor.monitor",
                                                        station=SUPERVISOR, call=pstn)
        await c.call("supervisor.barge", station=SUPERVISOR, call=cid)
        codes["second supervisor"] = await error_code(c, "supervisor.monitor", station=2,
                                                      call=cid)
        await c.call("call.drop", call=pstn)  # the caller hangs up
        await event(c, "agents.state", name="alice", state="wrapup")
        await asyncio.sleep(1.0)
        return codes, await c.call("supervisions")

    codes, sessions = run_with_client(rt, scenario)
    assert codes == {"no call": "not_found", "bad station": "bad_params",
                     "station not a number": "bad_params",
                     "agent's station": "busy", "bad call": "bad_params",
                     "nothing to stop": "not_found", "not an agent's call": "bad_state",
                     "second supervisor": "busy"}
    assert sessions == []
    assert not rt.stations.board.handsets[SUPERVISOR].off_hook


def test_force_ready_and_force_logout(rt):
    async def scenario(c):
        cid, _ = await _agent_call(c, rt)
        out = {"ready while talking": await error_code(c, "supervisor.force_ready",
                                                       name="alice"),
               "no agent": await error_code(c, "supervisor.force_logout", name="zed")}
        out["logout"] = await c.call("supervisor.force_logout", name="alice")
        await c.call("call.drop", call=cid, agent="alice")
        await event(c, "agents.state", name="alice", state="wrapup")
        out["after"] = (await event(c, "agents.state", name="alice"))["state"]
        out["ready logged out"] = await error_code(c, "supervisor.force_ready", name="alice")
        out["bob"] = await c.call("supervisor.force_ready", name="bob")
        out["bob state"] = (await event(c, "agents.state", name="bob"))["state"]
        out["bob out"] = await c.call("supervisor.force_logout", name="bob")
        return out

    out = run_with_client(rt, scenario)
    assert out == {"ready while talking": "busy", "no agent": "not_found",
                   "logout": "logout-pending", "after": "logged-out",
                   "ready logged out": "bad_state", "bob": "ready", "bob state": "ready",
                   "bob out": "logged-out"}


def test_hold_ends_the_supervision_and_retrieve_reconnects(rt):
    async def scenario(c):
        cid, pstn_slot = await _agent_call(c, rt)
        ears = Ears(rt, pstn_slot)
        await c.call("supervisor.barge", station=SUPERVISOR, call=cid)
        assert await c.call("call.hold", call=cid) == "held"
        sessions = await c.call("supervisions")
        await asyncio.sleep(0.5)
        assert await c.call("call.retrieve", call=cid) == "retrieved"
        await asyncio.sleep(0.3)
        return sessions, await ears.probe("caller", "1")

    sessions, heard = run_with_client(rt, scenario)
    assert sessions == []
    assert heard == {"agent": True, "supervisor": False, "caller": False}
