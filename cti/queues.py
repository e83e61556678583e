"""Queues served by agents on stations, with skills-based routing (the ACD of the kernel).

A caller waits hearing ringback.  One arbiter (:class:`Acd`) serves every queue: an agent
serves a queue when it has the queue's required skills at their minimum levels
(:mod:`cti.skills`; a queue without skills is served by every agent).  Whenever an agent
is ready or a caller arrives, the waiting callers of all queues are taken in order -
higher queue ``priority`` first, then the longest wait - and each is offered to the best
eligible ready agent it has not been refused by: by the queue's ``strategy``, the longest
idle (``longest_idle``) or the highest levels in the queue's skills, then the longest idle
(``best_skill``).  So an agent who becomes ready gets the oldest caller among all the queues
it can serve, whichever queue that is.  The offered agent's station
rings (the agent state is ``ringing``: the call is *offered*).  An agent in ``auto`` mode
answers on the phone (ring trip); an agent in ``desktop`` mode answers from the agent
desktop (:meth:`HuntQueue.answer`: the kernel takes the station off-hook) or rejects
(:meth:`HuntQueue.reject`: the caller goes to the next agent).  On answer the caller and
the agent are switched together in the fabric.  If the agent does not answer within
``ring_timeout`` the caller goes back to the head of the queue and the agent is made
not-ready (reason ``rona``) for ``rona_pause`` (ring-no-answer); a station that cannot
be rung (off-hook, or its hook still settling after a hang-up) makes the agent not-ready
(reason ``station-busy``) for ``busy_retry_s`` only.  After a call the agent
is in ``wrapup`` for the agent's (else the queue's) wrap-up time, then ready again, or
not-ready with the reason asked for during the call.

Every agent state change notifies the agent's ``listeners`` (the control API publishes
them as ``agents.*`` events).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cti.calls import Call, CallEvent, CallState
from cti.features import switch_together
from cti.skills import STRATEGIES, serves
from cti.stats import mean, ratio, service_level

AGENT_STATES = ("ready", "ringing", "talking", "wrapup", "not-ready", "logged-out")
AGENT_MODES = ("auto", "desktop")


@dataclass
class _Waiting:
    call: Call
    since: float
    done: asyncio.Future
    seq: int  # arrival order: breaks ties between callers who came at the same moment
    refused: set[str] = field(default_factory=set)  # agents who rejected this caller


@dataclass
class Offer:
    """The call an agent is offered or talking on: the caller and the agent's station leg."""
    queue: HuntQueue
    waiting: _Waiting
    leg: Call
    offered_at: float

    @property
    def caller(self) -> Call:
        return self.waiting.call


class Agent:
    """An agent signed in at a station.  ``reason`` is the not-ready reason code;
    ``pending`` the (state, reason) to take instead of ready once the current call and its
    wrap-up are over (not-ready asked for during a call, or a forced logout); ``skills``
    skill name -> level 1..10 (:mod:`cti.skills`), read at every dispatch."""

    def __init__(self, name: str, station: int, state: str = "ready", *, mode: str = "auto",
                 wrapup_s: float | None = None, skills: Mapping[str, int] | None = None):
        if mode not in AGENT_MODES:
            raise ValueError(f"agent mode must be one of {', '.join(AGENT_MODES)}")
        self.name = name
        self.station = station
        self.mode = mode
        self.wrapup_s = wrapup_s  # None: the queue's wrap-up time
        self.skills: dict[str, int] = dict(skills or {})
        self._state = self._check(state)
        self.reason: str | None = None
        self.pending: tuple[str, str | None] | None = None
        self.offer: Offer | None = None
        self.idle_since = 0.0
        self.handled = 0
        self.talk_s = 0.0
        self.listeners: list[Callable[[Agent], None]] = []
        self._timer: asyncio.TimerHandle | None = None  # wrap-up or RONA pause

    @staticmethod
    def _check(state: str) -> str:
        if state not in AGENT_STATES:
            raise ValueError(f"agent state must be one of {', '.join(AGENT_STATES)}")
        return state

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        self.set_state(value)

    def set_state(self, state: str, reason: str | None = None,
                  timer: asyncio.TimerHandle | None = None) -> None:
        """Change state (``reason`` only for not-ready); cancels a pending wrap-up or
        RONA timer, remembers ``timer`` as the new one, and notifies the listeners."""
        self._check(state)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = timer
        reason = reason if state == "not-ready" else None
        if (state, reason) == (self._state, self.reason):
            return
        self._state, self.reason = state, reason
        if state in ("ready", "not-ready", "logged-out"):
            self.pending = None
        for fn in tuple(self.listeners):
            fn(self)

    def as_dict(self) -> dict[str, Any]:
        o = self.offer
        return {"name": self.name, "station": self.station, "state": self.state,
                "reason": self.reason, "mode": self.mode, "skills": dict(self.skills),
                "pending": None if self.pending is None else
                {"state": self.pending[0], "reason": self.pending[1]},
                "call": None if o is None else o.caller.id,
                "queue": None if o is None else o.queue.name,
                "handled": self.handled, "talk_s": round(self.talk_s, 1)}


@dataclass
class QueueStats:
    entered: int = 0
    answered: int = 0
    abandoned: int = 0
    within_sl: int = 0
    waits: list[float] = field(default_factory=list)

    def as_dict(self, sl_s: float) -> dict[str, Any]:
        """The live figures, by the formulas of docs/statistics.md (``cti.stats``)."""
        return {
            "entered": self.entered, "answered": self.answered, "abandoned": self.abandoned,
            "service_level": service_level(self.within_sl, self.answered, self.abandoned),
            "service_level_s": sl_s,
            "abandon_rate": ratio(self.abandoned, self.answered + self.abandoned),
            "avg_wait_s": mean(self.waits) or 0.0,
        }


class Acd:
    """The arbiter of the queues that share a list of agents: it offers the waiting callers
    of all its queues to the ready agents (see the module's docstring).  It watches every
    agent of ``agents``, those appended later too (agents logging in at run time)."""

    def __init__(self, kernel, agents: list[Agent]):
        self.kernel = kernel
        self.agents = agents
        self.queues: list[HuntQueue] = []
        self._arrivals = itertools.count()
        self._watched: set[int] = set()
        self._soon: asyncio.Handle | None = None

    def arrival(self) -> int:
        """The next caller's place in arrival order (ties of equal waits)."""
        return next(self._arrivals)

    def set_ready(self, agent: Agent) -> None:
        agent.idle_since = self.kernel.now()
        agent.set_state("ready")
        self.dispatch()

    def _agent_changed(self, agent: Agent) -> None:
        """An agent made ready elsewhere (supervisor, API): dispatch once the change is over."""
        if (agent.state == "ready" and self._soon is None
                and any(q.waiting for q in self.queues)):
            self._soon = self.kernel.loop.call_soon(self.dispatch)

    def dispatch(self) -> None:
        """Offer the callers :meth:`match` gives to their agents."""
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        for a in self.agents:
            if id(a) not in self._watched:
                self._watched.add(id(a))
                a.listeners.append(self._agent_changed)
        for q, w, agent in self.match():
            if agent.state == "ready" and w in q.waiting:  # (an offer's listeners may act)
                q.waiting.remove(w)
                q._offer(agent, w)

    def match(self) -> list[tuple[HuntQueue, _Waiting, Agent]]:
        """Who is to be offered to whom now, as (queue, caller, agent) in offering order:
        the waiting callers of every queue, higher queue priority first, then the longest
        waiting, each to the first ready agent in its queue's strategy order who serves
        the queue, has not rejected the caller and is not given to an earlier caller."""
        ready = [a for a in self.agents if a.state == "ready"]
        if not ready:
            return []
        best: dict[HuntQueue, deque[Agent]] = {}  # a queue's eligible ready agents, best first
        callers: list[tuple[HuntQueue, _Waiting]] = []
        for q in self.queues:
            if q.waiting:
                agents = sorted((a for a in ready if q.serves(a)), key=q.rank)
                if agents:
                    best[q] = deque(agents)
                    callers += [(q, w) for w in q.waiting]
        callers.sort(key=lambda qw: (-qw[0].priority, qw[1].since, qw[1].seq))
        taken: set[int] = set()
        out: list[tuple[HuntQueue, _Waiting, Agent]] = []
        for q, w in callers:
            agents = best[q]
            while agents and id(agents[0]) in taken:
                agents.popleft()
            agent = next((a for a in agents if id(a) not in taken and a.name not in w.refused),
                         None)
            if agent is not None:
                taken.add(id(agent))
                out.append((q, w, agent))
                if len(taken) == len(ready):
                    break
        return out


class HuntQueue:
    """A queue: its callers, its requirements (``skills``: name -> minimum level;
    ``priority``; ``strategy``, a key of :data:`cti.skills.STRATEGIES`) and statistics.
    Queues given the same ``acd`` share its agents and are served by it as one; without
    one, the queue is served alone by ``agents``."""

    def __init__(self, name: str, kernel, media, stations, agents: list[Agent], *,
                 acd: Acd | None = None, skills: Mapping[str, int] | None = None,
                 priority: int = 0, strategy: str = "longest_idle",
                 service_level_s: float = 20.0, ring_timeout: float = 15.0,
                 rona_pause: float = 30.0, wrapup_s: float = 3.0, hold_tone: str = "ringback",
                 busy_retry_s: float = 1.0):
        if strategy not in STRATEGIES:
            raise ValueError(f"queue strategy must be one of {', '.join(STRATEGIES)}")
        if acd is None:
            acd = Acd(kernel, agents)
        elif acd.agents is not agents:
            raise ValueError("a queue's agents are its arbiter's")
        self.name = name
        self.kernel = kernel
        self.media = media
        self.stations = stations
        self.acd = acd
        self.skills: dict[str, int] = dict(skills or {})
        self.priority = priority
        self.strategy = strategy
        self._key = STRATEGIES[strategy]
        self.sl = service_level_s
        self.ring_timeout = ring_timeout
        self.rona_pause = rona_pause
        self.busy_retry_s = busy_retry_s  # a station off-hook (or settling on-hook) is retried
        self.wrapup_s = wrapup_s
        self.hold_tone = hold_tone
        self.waiting: deque[_Waiting] = deque()
        self.stats = QueueStats()
        # called as on_answered(caller, agent_leg, agent) when an agent picks up
        self.on_answered = None
        acd.queues.append(self)

    def _now(self) -> float:
        return self.kernel.now()

    async def enqueue(self, call: Call, agent: Agent | None = None) -> str:
        """Queue ``call`` until an agent answers ("answered"), it ends ("abandoned") or
        it is taken out (:meth:`withdraw`: "withdrawn").  With ``agent`` (a reserved delivery) the
        call is offered to that agent first, at once and before any other caller, when
        it is signed in (ready, or not-ready: held for this call by whoever reserved it)
        and on no call; if it lets the call ring out, rejects it or cannot be rung - or
        is gone - the call goes on to the queue's normal matching."""
        loop = asyncio.get_running_loop()
        w = _Waiting(call, self._now(), loop.create_future(), self.acd.arrival())
        call.data["queue"] = self.name
        call.times["queued"] = w.since  # the call record's wait_s starts here
        self.stats.entered += 1
        hold = asyncio.ensure_future(self.media.tone(call.slot, self.hold_tone))
        if (agent is not None and agent in self.acd.agents and agent.offer is None
                and agent.state in ("ready", "not-ready")):
            self._offer(agent, w)  # a station that cannot ring puts w back in the queue
        else:
            self.waiting.append(w)

        def on_end(c: Call, ev: CallEvent) -> None:
            if ev in (CallEvent.DISCONNECTED, CallEvent.RELEASED) and not w.done.done():
                if w in self.waiting:
                    self.waiting.remove(w)
                self.stats.abandoned += 1
                w.done.set_result("abandoned")

        call.listeners.append(on_end)
        self.acd.dispatch()
        try:
            return await w.done
        finally:
            call.listeners.remove(on_end)
            hold.cancel()
            self.media.stop(call.slot)

    def callers(self) -> list[Call]:
        """The calls waiting for an agent, oldest first (not those being offered)."""
        return [w.call for w in self.waiting]

    def withdraw(self, call: Call) -> bool:
        """Take ``call`` out of the queue: waiting, or being offered to an agent whose
        station rings (the ringing stops and the agent is ready again); its
        :meth:`enqueue` returns "withdrawn".  False when the call is not in the queue or
        an agent already took it."""
        offer = None
        w = next((w for w in self.waiting if w.call is call), None)
        if w is not None:
            self.waiting.remove(w)
        else:
            offer = next((a.offer for a in self.acd.agents if a.offer is not None
                          and a.offer.queue is self and a.offer.caller is call), None)
            if offer is None or offer.waiting.done.done():
                return False
            w = offer.waiting
        w.done.set_result("withdrawn")
        if offer is not None:
            offer.leg.drop(16)
        return True

    def serves(self, agent: Agent) -> bool:
        """The agent has every skill the queue requires, at its minimum level."""
        return serves(agent.skills, self.skills)

    def rank(self, agent: Agent) -> tuple:
        """The agent's place for this queue's callers (lowest first), by its strategy."""
        return self._key(agent.skills, agent.idle_since, self.skills)

    def eligible(self) -> list[Agent]:
        """The agents who can serve this queue, whatever their state."""
        return [a for a in self.acd.agents if self.serves(a)]

    def set_ready(self, agent: Agent) -> None:
        self.acd.set_ready(agent)

    def _after_call(self, agent: Agent) -> None:
        """End of wrap-up (or of a RONA pause): ready, or the not-ready asked for meanwhile."""
        if agent.pending is not None:
            agent.set_state(*agent.pending)
        else:
            self.set_ready(agent)

    def _pause(self, agent: Agent, state: str, seconds: float, reason: str | None = None) -> None:
        agent.set_state(state, reason,
                        timer=self.kernel.loop.call_later(seconds, self._after_call, agent))

    def _offer(self, agent: Agent, w: _Waiting) -> None:
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

        def on_caller(c: Call, ev: CallEvent) -> None:  # the caller gives up while it rings
            if ev is CallEvent.DISCONNECTED and leg.state is CallState.ALERTING:
                leg.drop(16)

        leg.listeners.append(on_leg)
        w.call.listeners.append(on_caller)
        leg.data["ring_listener"] = (w.call, on_caller)
        agent.offer = Offer(self, w, leg, self._now())
        try:
            leg.dial()
        except (RuntimeError, ValueError):
            timer.cancel()
            agent.offer = None
            self.waiting.appendleft(w)
            self._pause(agent, "not-ready", self.busy_retry_s, "station-busy")
            return
        agent.set_state("ringing")

    # --- the desktop's answer and reject ------------------------------------------------------
    def answer(self, agent: Agent) -> None:
        """Answer the offered call from the desktop: the station trunk answers the leg."""
        agent.offer.leg.answer()

    def reject(self, agent: Agent) -> None:
        """Refuse the offered call: the caller goes back to the head of the queue, for the
        next agent; this agent is ready for other calls."""
        offer = agent.offer
        w = offer.waiting
        w.refused.add(agent.name)
        offer.leg.data["rejected"] = True
        if not w.done.done() and not w.call.ended:
            self.waiting.appendleft(w)
        offer.leg.drop(21)  # Q.850 21: call rejected

    def _rona(self, agent: Agent, w: _Waiting, leg: Call) -> None:
        if leg.state is CallState.CONNECTED:
            return
        leg.data["rona"] = True
        leg.drop(16)
        agent.offer = None
        if not w.done.done() and not w.call.ended:
            self.waiting.appendleft(w)
        self._pause(agent, "not-ready", self.rona_pause, "rona")
        self.acd.dispatch()

    def _connected(self, agent: Agent, w: _Waiting, leg: Call) -> None:
        self._unlisten(leg, "ring_listener")
        if w.done.done() or w.call.ended:  # the caller left while the phone rang
            leg.drop(16)
            return
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
        agent.set_state("talking")
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
        self._unlisten(leg, "ring_listener")
        if agent.offer is not None and agent.offer.leg is leg:
            agent.offer = None
        if "start" in leg.data:
            agent.handled += 1
            agent.talk_s += self._now() - leg.data["start"]
            caller = self._unlisten(leg, "caller_listener")
            self.kernel.fabric.disconnect(leg.slot)
            if caller.data.get("bridged", leg) is leg and caller.state is not CallState.HELD:
                # the caller was still with this agent (not transferred, held or parked)
                caller.data.pop("bridged", None)
                if caller.slot is not None:
                    self.kernel.fabric.disconnect(caller.slot)
                caller.drop(16)
            wrapup = self.wrapup_s if agent.wrapup_s is None else agent.wrapup_s
            self._pause(agent, "wrapup", wrapup)
        elif not leg.data.get("rona") and agent.state == "ringing":
            # the phone stopped ringing before answer: caller gone, or rejected
            self.set_ready(agent)

    @staticmethod
    def _unlisten(leg: Call, key: str) -> Call | None:
        """Remove the listener ``leg.data[key]`` put on the caller; returns the caller."""
        caller, fn = leg.data.pop(key, (None, None))
        if caller is not None and fn in caller.listeners:
            caller.listeners.remove(fn)
        return caller

    def status(self) -> dict[str, Any]:
        """Waiting callers, requirements, the eligible agents and their states, statistics."""
        return {"name": self.name, "waiting": len(self.waiting), "skills": dict(self.skills),
                "priority": self.priority, "strategy": self.strategy,
                "agents": {a.name: a.state for a in self.eligible()},
                **self.stats.as_dict(self.sl)}
