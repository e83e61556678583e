"""Supervisor operations: silent monitor, whisper (coach) and barge on an agent's call,
and forcing agents ready or logged out.

A supervision puts the caller, the agent's station leg and the supervisor's station leg
in one conference of the fabric (:mod:`timeslot.fabric`); the supervisor's mode is the
conference party mode:

=========  ============  ===============================================
mode       party mode    who hears the supervisor
=========  ============  ===============================================
monitor    listen        nobody (the supervisor hears both)
whisper    coach         the agent only (the supervisor hears both)
barge      normal        the agent and the caller (three-way)
=========  ============  ===============================================

The supervisor's station is called by the kernel and taken off-hook at once (the
supervisor's desktop headset).  Asking another mode on the same call switches the party
in place; ``stop``, the supervisor hanging up, or the end of the call end the
supervision, and the caller and agent go back to a direct connection if still together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cti.api import ApiError, ApiServer
from cti.calls import Call, CallEvent, CallState
from cti.desktop import agent_named
from cti.features import switch_together
from cti.queues import Agent

MODES = {"monitor": "listen", "whisper": "coach", "barge": "normal"}
ANSWER_TIMEOUT_S = 5.0  # the supervisor's station going off-hook (hook debounce is 30 ms)


@dataclass
class Supervision:
    station: int
    leg: Call  # the supervisor's station leg
    caller: Call
    agent_leg: Call
    mode: str
    conf: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"station": self.station, "call": self.caller.id, "agent_leg": self.agent_leg.id,
                "agent": self.agent_leg.data.get("agent"), "mode": self.mode,
                "conference": self.conf}


class Supervisor:
    def __init__(self, kernel, stations, agents: list[Agent], calls: dict[int, Call]):
        self.kernel = kernel
        self.stations = stations
        self.agents = agents
        self.calls = calls  # the active calls, by id (CallCentre.active)
        self.sessions: dict[int, Supervision] = {}  # by supervisor station

    def register(self, api: ApiServer) -> None:
        ops = {
            "supervisor.monitor": (self.monitor, "listen to an agent's call, unheard "
                                                 "(station, call)"),
            "supervisor.whisper": (self.whisper, "coach: only the agent hears the supervisor "
                                                 "(station, call)"),
            "supervisor.barge": (self.barge, "join the call three-way (station, call)"),
            "supervisor.stop": (self.stop, "end the supervision of a station (station)"),
            "supervisor.force_ready": (self.force_ready, "make an agent ready (name)"),
            "supervisor.force_logout": (self.force_logout, "log an agent out; on a call: "
                                                           "when it ends (name)"),
            "supervisions": (lambda: [s.as_dict() for s in self.sessions.values()],
                             "supervisors on calls and their modes"),
        }
        for op, (fn, doc) in ops.items():
            api.register(op, fn, doc)

    # --- supervision ------------------------------------------------------------------------
    async def monitor(self, station: int, call: int) -> dict[str, Any]:
        return await self.supervise(station, call, "monitor")

    async def whisper(self, station: int, call: int) -> dict[str, Any]:
        return await self.supervise(station, call, "whisper")

    async def barge(self, station: int, call: int) -> dict[str, Any]:
        return await self.supervise(station, call, "barge")

    async def supervise(self, station: int, call: int, mode: str) -> dict[str, Any]:
        if self.stations is None:
            raise ApiError("unavailable", "no station board")
        if (not isinstance(station, int) or isinstance(station, bool)
                or not 0 <= station < len(self.stations.board.handsets)):
            raise ApiError("bad_params", f"no station {station!r}")
        caller, agent_leg = self._target(call)
        if any(a.station == station and a.state in ("ringing", "talking") for a in self.agents):
            raise ApiError("busy", f"station {station} is an agent's, on a call")
        s = self.sessions.get(station)
        if s is not None and s.caller is not caller:
            self.stop(station)
            s = None
        for other in self.sessions.values():
            if other.caller is caller and other.station != station:
                raise ApiError("busy", f"call {call} is supervised from station {other.station}")
        if s is None:
            s = await self._connect(station, caller, agent_leg, mode)
        s.mode = mode
        self.kernel.fabric.conference_add(
            s.conf, s.leg.slot, mode=MODES[mode],
            coach_of=agent_leg.slot if mode == "whisper" else None)
        return s.as_dict()

    def _target(self, call: Any) -> tuple[Call, Call]:
        """The caller and the agent's leg of an answered call with an agent."""
        if not isinstance(call, int) or isinstance(call, bool):
            raise ApiError("bad_params", "call must be a call id (integer)")
        caller = self.calls.get(call)
        if caller is None:
            raise ApiError("not_found", f"no active call {call}")
        leg = caller.data.get("bridged")
        if (caller.state is not CallState.CONNECTED or leg is None or "agent" not in leg.data
                or leg.state is not CallState.CONNECTED):
            raise ApiError("bad_state", f"call {call} is not talking to an agent")
        return caller, leg

    async def _connect(self, station: int, caller: Call, agent_leg: Call,
                       mode: str) -> Supervision:
        leg = Call(trunk=self.stations, direction="out", dnis=str(station), ani="supervisor",
                   clock=self.kernel.now)
        try:
            leg.dial()
        except RuntimeError as e:
            raise ApiError("busy", str(e)) from None
        leg.answer()  # the kernel takes the supervisor's headset off-hook
        if await leg.wait(CallState.CONNECTED, timeout=ANSWER_TIMEOUT_S) is not CallState.CONNECTED:
            leg.drop(16)
            raise ApiError("failed", f"station {station} did not go off-hook")
        if caller.ended or agent_leg.ended or caller.data.get("bridged") is not agent_leg:
            leg.drop(16)
            raise ApiError("bad_state", f"call {caller.id} ended or moved meanwhile")
        fabric = self.kernel.fabric
        s = Supervision(station, leg, caller, agent_leg, mode, fabric.conference_create())
        fabric.disconnect(caller.slot)  # caller <-> agent becomes a conference
        fabric.conference_add(s.conf, caller.slot)
        fabric.conference_add(s.conf, agent_leg.slot)
        self.sessions[station] = s
        for c in (caller, agent_leg, leg):
            c.listeners.append(self._ended)
        return s

    def _ended(self, call: Call, ev: CallEvent) -> None:
        if ev in (CallEvent.DISCONNECTED, CallEvent.RELEASED):
            for s in tuple(self.sessions.values()):
                if call in (s.caller, s.agent_leg, s.leg):
                    self.stop(s.station)

    def release(self, call: Call) -> None:
        """End any supervision of ``call`` (before hold, transfer or conference move it)."""
        for s in tuple(self.sessions.values()):
            if call in (s.caller, s.agent_leg):
                self.stop(s.station)

    def stop(self, station: int) -> str:
        s = self.sessions.pop(station, None)
        if s is None:
            raise ApiError("not_found", f"station {station!r} supervises no call")
        for c in (s.caller, s.agent_leg, s.leg):
            if self._ended in c.listeners:
                c.listeners.remove(self._ended)
        fabric = self.kernel.fabric
        fabric.conference_destroy(s.conf)
        fabric.disconnect(s.leg.slot)
        if (not s.caller.ended and not s.agent_leg.ended
                and s.caller.data.get("bridged") is s.agent_leg):
            switch_together(fabric, s.caller, s.agent_leg)
        s.leg.drop(16)
        return "stopped"

    # --- agents -----------------------------------------------------------------------------
    def _agent(self, name: Any) -> Agent:
        return agent_named(self.agents, name)

    def force_ready(self, name: str) -> str:
        a = self._agent(name)
        if a.state == "logged-out":
            raise ApiError("bad_state", f"agent {name} is logged out")
        if a.state in ("ringing", "talking"):
            raise ApiError("busy", f"agent {name} is {a.state}")
        a.idle_since = self.kernel.now()
        a.set_state("ready")
        return a.state

    def force_logout(self, name: str) -> str:
        """Logged out now; while talking, once the call (and its wrap-up) is over; an
        offered call goes to the next agent."""
        a = self._agent(name)
        if a.state == "ringing":
            a.offer.queue.reject(a)
        if a.state == "talking":
            a.pending = ("logged-out", None)
            return "logout-pending"
        a.set_state("logged-out")
        return a.state
