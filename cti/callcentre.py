"""Call routing for incoming calls: the dial plan sends each call to an IVR flow
(:mod:`cti.ivr`; the built-in ``demo`` and ``answer`` flows are data in
``cti/flows.toml``), a queue of agents, a station or an outgoing trunk group; every call
that ends leaves a record."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from core.q850 import NO_ANSWER, NO_USER_RESPONDING, NORMAL_CLEARING, UNALLOCATED_NUMBER
from cti.calls import Call, CallEvent, CallState, DialError
from cti.cdr import CdrWriter
from cti.dialplan import DialPlan
from cti.features import switch_together
from cti.ivr import Flow, IvrRunner, builtin_flows
from cti.media import MediaEngine
from cti.queues import HuntQueue
from cti.trunkgroup import TrunkGroup

NO_ANSWER_S = 60.0  # a tandem leg that rings this long unanswered clears the caller (cause 19)


class CallCentre:
    no_answer_s = NO_ANSWER_S
    def __init__(self, kernel, media: MediaEngine, dialplan: DialPlan,
                 queues: dict[str, HuntQueue], cdr: CdrWriter, *, plan: str = "cn",
                 trunks: dict[str, Any] | None = None,
                 groups: dict[str, TrunkGroup] | None = None, stations=None,
                 on_error: Callable[[str], None] | None = None,
                 flows: dict[str, Flow] | None = None):
        self.kernel = kernel
        self.media = media
        self.dialplan = dialplan
        self.queues = queues
        self.cdr = cdr
        self.trunks = trunks if trunks is not None else {}
        # trunk:NAME and group:NAME targets; without configured groups, one per trunk
        self.groups = groups if groups is not None else {}
        self.stations = stations
        self.on_error = on_error or (lambda msg: None)
        self.ivr = IvrRunner(self, builtin_flows() if flows is None else flows, plan=plan,
                             law=media.law)
        self.active: dict[int, Call] = {}
        self.offered = 0
        self.listeners: list[Callable[[Call, CallEvent], None]] = []

    # --- entry ------------------------------------------------------------------------------
    def incoming(self, call: Call) -> None:
        self.offered += 1
        self.track(call)
        for fn in self.listeners:
            fn(call, CallEvent.OFFERED)
        route = self.dialplan.match(call.dnis, call.ani)
        if route is None:
            coro = self._unrouted(call)
        elif route.kind == "ivr":
            coro = self.ivr.run(call, route.target)
        elif route.kind == "queue":
            coro = self._queue_only(call, route.target)
        elif route.kind == "station":
            coro = self._to_station(call, int(route.target))
        else:  # group:NAME, or trunk:NAME = that trunk's one-trunk group
            coro = self._to_group(call, route.target)
        asyncio.ensure_future(self._guard(call, coro))

    def track(self, call: Call) -> None:
        """``call`` is one of the active calls (``calls`` in the API) until it is
        released; its events go to the centre's listeners."""
        self.active[call.id] = call
        call.listeners.append(self._on_event)

    def _on_event(self, call: Call, ev: CallEvent) -> None:
        if ev is CallEvent.RELEASED:
            self.active.pop(call.id, None)
        for fn in self.listeners:
            fn(call, ev)

    async def _guard(self, call: Call, coro: Awaitable[None]) -> None:
        try:
            await coro
        except Exception as e:  # a bug must show in the report, not vanish in a task
            self.on_error(f"call {call.id} ({call.trunk.kind} {call.ani}): {type(e).__name__}: {e}")
            call.drop(41)

    async def _answered(self, call: Call) -> bool:
        call.answer()
        if await call.wait(CallState.CONNECTED, timeout=10) is not CallState.CONNECTED:
            self.record(call, None, "failed")
            return False
        if call.slot is not None:
            slot = call.slot
            call.listeners.append(lambda c, ev: self.media.hangup(slot)
                                  if ev in (CallEvent.DISCONNECTED, CallEvent.RELEASED) else None)
        return True

    # --- destinations -------------------------------------------------------------------------
    async def _unrouted(self, call: Call) -> None:
        """No route for the called number: refused with Q.850 cause 1 (unallocated number),
        recorded once released (the record carries the cause)."""
        self._refuse(call, UNALLOCATED_NUMBER)
        await call.wait(CallState.RELEASED, timeout=30)
        self.record(call, None, "failed")

    async def _queue_only(self, call: Call, name: str) -> None:
        if await self._answered(call):
            await self._queue(call, name)

    async def _queue(self, call: Call, name: str) -> None:
        queue = self.queues[name]
        result = await queue.enqueue(call)
        await call.wait(CallState.RELEASED, timeout=None if result == "answered" else 30)
        self.record(call, queue.name, result)

    async def _bridge(self, call: Call, leg: Call, place: Callable[[], str]) -> None:
        """Tandem ``call`` to ``leg``: ``place()`` dials the leg and names where it went.
        The caller follows the leg's progress (its ALERTING becomes ours: ringback,
        ALERTING, ACM or the R2 group B signal go back) and the two are switched together
        on answer.  A leg that cannot be placed or fails gives the caller its cause (17 a
        busy station, 34 no channel); one that rings ``no_answer_s`` unanswered gives
        Q.850 cause 19 (no answer from user, user alerted), one that never rang 18."""
        try:
            what = place()
        except DialError as e:
            self._refuse(call, e.cause)
            await call.wait(CallState.RELEASED, timeout=30)
            return self.record(call, None, "failed")
        alerted = False

        def progress(c: Call, ev: CallEvent) -> None:
            nonlocal alerted
            if ev is CallEvent.ALERTING and not alerted:
                alerted = True
                if call.state in (CallState.OFFERED, CallState.PROCEEDING):
                    call.alert()

        leg.listeners.append(progress)
        if leg.state is CallState.ALERTING:  # a station rings as it is dialled
            progress(leg, CallEvent.ALERTING)
        state = await leg.wait(CallState.CONNECTED, timeout=self.no_answer_s)
        if state is not CallState.CONNECTED or call.ended:
            if leg.ended and leg.cause:
                cause = leg.cause
            else:
                cause = NO_ANSWER if alerted else NO_USER_RESPONDING
            self._refuse(call, cause)
            leg.drop(NORMAL_CLEARING)
            await call.wait(CallState.RELEASED, timeout=30)
            return self.record(call, None, "failed")
        if call.state is not CallState.CONNECTED:
            call.answer()
            await call.wait(CallState.CONNECTED, timeout=10)
        if call.slot is not None and leg.slot is not None:
            switch_together(self.kernel.fabric, call, leg)
        call.listeners.append(lambda c, ev: leg.drop(NORMAL_CLEARING)
                              if ev is CallEvent.DISCONNECTED else None)
        leg.listeners.append(lambda c, ev: call.drop(c.cause or NORMAL_CLEARING)
                             if ev is CallEvent.DISCONNECTED else None)
        await call.wait(CallState.RELEASED, timeout=None)
        if call.slot is not None:
            self.kernel.fabric.disconnect(call.slot)
        call.data["to"] = what
        self.record(call, None, "answered")

    async def _to_station(self, call: Call, station: int) -> None:
        leg = Call(trunk=self.stations, direction="out", dnis=str(station), ani=call.ani,
                   clock=self.kernel.now)

        def place() -> str:
            leg.dial()
            return f"station:{station}"

        await self._bridge(call, leg, place)

    def group(self, name: str) -> TrunkGroup:
        """A trunk group by name; a trunk without a configured group is a one-trunk group."""
        g = self.groups.get(name)
        if g is None:
            g = self.groups[name] = TrunkGroup(name, [self.trunks[name]])
        return g

    async def _to_group(self, call: Call, name: str) -> None:
        """Tandem: hunt a channel in the group (or its overflow chain) and bridge;
        no channel anywhere clears the caller with Q.850 cause 34."""
        group = self.group(name)
        leg = Call(trunk=group.trunks[0], direction="out", dnis=call.dnis, ani=call.ani,
                   clock=self.kernel.now)
        await self._bridge(call, leg, lambda: f"group:{group.dial(leg).name}")

    @staticmethod
    def _refuse(call: Call, cause: int) -> None:
        """Reject a call still being offered, clear one already answered (an IVR's)."""
        if call.state is CallState.CONNECTED:
            call.drop(cause)
        elif not call.ended:
            call.reject(cause)

    # --- records ------------------------------------------------------------------------------
    def record(self, call: Call, queue: str | None, outcome: str) -> None:
        """Write the call's record (:mod:`cti.cdr`): ``queue`` the queue it waited in,
        ``outcome`` how it ended; times from ``call.times`` and the queue's stamps."""
        t = call.times
        agent_at = call.data.get("answered_at")
        end = t.get("released") or t.get("disconnected") or self.kernel.now()
        queued = t.get("queued")  # wait in the queue: until an agent answers, or the caller left
        left = agent_at if agent_at is not None else t.get("disconnected") or end
        waited = None if queued is None else left - queued
        self.cdr.write({
            "id": call.id, "trunk": call.trunk.kind, "direction": call.direction,
            "ani": call.ani, "dnis": call.dnis, "queue": queue, "agent": call.data.get("agent"),
            "outcome": outcome, "cause": call.cause, "raw_cause": call.raw_cause,
            "offered_at": round(t.get("offered", 0.0), 3),
            "answered_at": None if "connected" not in t else round(t["connected"], 3),
            "agent_at": None if agent_at is None else round(agent_at, 3),
            "ended_at": round(end, 3),
            "wait_s": None if waited is None else round(waited, 3),
            "talk_s": None if agent_at is None else round(end - agent_at, 3),
            "campaign": call.data.get("campaign"),
        })
