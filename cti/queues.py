"""Queues served by a hunt group of agents on stations (the ACD stand-in of the lab).

A caller waits in FIFO order hearing ringback; the longest-idle ready agent's station
rings; on ring trip the caller and the agent are switched together in the fabric.
If the agent does not answer within ``ring_timeout`` the caller goes back to the head
of the queue and the agent is made not-ready for ``rona_pause`` (ring-no-answer).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from cti.calls import Call, CallEvent, CallState
from cti.features import switch_together


@dataclass
class Agent:
    name: str
    station: int
    state: str = "ready"  # ready, ringing, talking, wrapup, not-ready, logged-out
    idle_since: float = 0.0
    handled: int = 0
    talk_s: float = 0.0


@dataclass
class QueueStats:
    entered: int = 0
    answered: int = 0
    abandoned: int = 0
    within_sl: int = 0
    waits: list[float] = field(default_factory=list)

    def as_dict(self, sl_s: float) -> dict[str, Any]:
        done = self.answered + self.abandoned
        return {
            "entered": self.entered, "answered": self.answered, "abandoned": self.abandoned,
            "service_level": round(self.within_sl / done, 4) if done else None,
            "service_level_s": sl_s,
            "abandon_rate": round(self.abandoned / done, 4) if done else None,
            "avg_wait_s": round(sum(self.waits) / len(self.waits), 3) if self.waits else 0.0,
        }


@dataclass
class _Waiting:
    call: Call
    since: float
    done: asyncio.Future


class HuntQueue:
    def __init__(self, name: str, kernel, media, stations, agents: list[Agent], *,
                 service_level_s: float = 20.0, ring_timeout: float = 15.0,
                 rona_pause: float = 30.0, wrapup_s: float = 3.0, hold_tone: str = "ringback"):
        self.name = name
        self.kernel = kernel
        self.media = media
        self.stations = stations
        self.agents = agents
        self.sl = service_level_s
        self.ring_timeout = ring_timeout
        self.rona_pause = rona_pause
        self.wrapup_s = wrapup_s
        self.hold_tone = hold_tone
        self.waiting: deque[_Waiting] = deque()
        self.stats = QueueStats()
        # called as on_answered(caller, agent_leg, agent) when an agent picks up
        self.on_answered = None

    def _now(self) -> float:
        return self.kernel.now()

    async def enqueue(self, call: Call) -> str:
        """Queue ``call`` until an agent answers ("answered") or it ends ("abandoned")."""
        loop = asyncio.get_running_loop()
        w = _Waiting(call, self._now(), loop.create_future())
        self.stats.entered += 1
        self.waiting.append(w)
        hold = asyncio.ensure_future(self.media.tone(call.slot, self.hold_tone))

        def on_end(c: Call, ev: CallEvent) -> None:
            if ev in (CallEvent.DISCONNECTED, CallEvent.RELEASED) and not w.done.done():
                if w in self.waiting:
                    self.waiting.remove(w)
                self.stats.abandoned += 1
                w.done.set_result("abandoned")

        call.listeners.append(on_end)
        self._dispatch()
        try:
            return await w.done
        finally:
            call.listeners.remove(on_end)
            hold.cancel()
            self.media.stop(call.slot)

    def set_ready(self, agent: Agent) -> None:
        agent.state = "ready"
        agent.idle_since = self._now()
        self._dispatch()

    def _dispatch(self) -> None:
        while self.waiting:
            ready = [a for a in self.agents if a.state == "ready"]
            if not ready:
                return
            agent = min(ready, key=lambda a: a.idle_since)
            w = self.waiting.popleft()
            self._offer(agent, w)

    def _offer(self, agent: Agent, w: _Waiting) -> None:
        agent.state = "ringing"
        leg = Call(trunk=self.stations, direction="out", dnis=str(agent.station),
                   ani=w.call.ani, clock=self._now)
        leg.data["agent"] = agent.name
        timer = self.kernel.loop.call_later(self.ring_timeout, self._rona, agent, w, leg)

        def on_leg(c: Call, ev: CallEvent) -> None:
            if ev is CallEvent.CONNECTED:
                timer.cancel()
                self._connected(agent, w, leg)
            elif ev in (CallEvent.DISCONNECTED, CallEvent.RELEASED):
                timer.cancel()
                self._leg_ended(agent, w, leg)

        leg.listeners.append(on_leg)
        try:
            leg.dial()
        except (RuntimeError, ValueError):
            timer.cancel()
            agent.state = "not-ready"
            self.waiting.appendleft(w)
            self.kernel.loop.call_later(self.rona_pause, self.set_ready, agent)

    def _rona(self, agent: Agent, w: _Waiting, leg: Call) -> None:
        if leg.state is CallState.CONNECTED:
            return
        leg.data["rona"] = True
        leg.drop(16)
        agent.state = "not-ready"
        if not w.done.done() and w.call.state is CallState.CONNECTED:
            self.waiting.appendleft(w)
        self.kernel.loop.call_later(self.rona_pause, self.set_ready, agent)
        self._dispatch()

    def _connected(self, agent: Agent, w: _Waiting, leg: Call) -> None:
        if w.done.done() or w.call.ended:  # the caller left while the phone rang
            leg.drop(16)
            return
        agent.state = "talking"
        wait = self._now() - w.since
        self.stats.answered += 1
        self.stats.waits.append(wait)
        if wait <= self.sl:
            self.stats.within_sl += 1
        w.call.data["agent"] = agent.name
        w.call.data["answered_at"] = self._now()
        leg.data["start"] = self._now()
        self.media.stop(w.call.slot)
        switch_together(self.kernel.fabric, w.call, leg)
        w.done.set_result("answered")
        if self.on_answered is not None:
            self.on_answered(w.call, leg, agent)

        def on_caller(c: Call, ev: CallEvent) -> None:
            if ev in (CallEvent.DISCONNECTED, CallEvent.RELEASED):
                leg.drop(16)

        w.call.listeners.append(on_caller)
        leg.data["caller_listener"] = (w.call, on_caller)

    def _leg_ended(self, agent: Agent, w: _Waiting, leg: Call) -> None:
        if leg.data.get("ended"):
            return
        leg.data["ended"] = True
        if "start" in leg.data:
            agent.handled += 1
            agent.talk_s += self._now() - leg.data["start"]
            caller, fn = leg.data.pop("caller_listener")
            if fn in caller.listeners:
                caller.listeners.remove(fn)
            self.kernel.fabric.disconnect(leg.slot)
            if caller.data.get("bridged", leg) is leg and caller.state is not CallState.HELD:
                # the caller was still with this agent (not transferred, held or parked)
                caller.data.pop("bridged", None)
                if caller.slot is not None:
                    self.kernel.fabric.disconnect(caller.slot)
                caller.drop(16)
            agent.state = "wrapup"
            self.kernel.loop.call_later(self.wrapup_s, self.set_ready, agent)
        elif not leg.data.get("rona"):
            # the agent's phone stopped ringing before answer (caller gone)
            if agent.state == "ringing":
                self.set_ready(agent)

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "waiting": len(self.waiting),
                "agents": {a.name: a.state for a in self.agents}, **self.stats.as_dict(self.sl)}
