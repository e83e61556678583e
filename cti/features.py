"""Call features the kernel performs in its own switch, whatever the trunks: hold and
retrieve (music on hold), blind and consultative transfer,
three-party conference (a fabric bridge; the third party may coach/whisper), and park.

They work on answered calls whose bearer channels are fabric slots; the far ends see no
signalling change (what a board-level PBX feature does; ISDN HOLD/ECT supplementary
services are not used).  Each operation answers at once or raises :class:`FeatureError`.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from cti.calls import Call, CallEvent, CallState, DialError
from cti.media import Reason
from timeslot.tonegen import synth


class FeatureError(RuntimeError):
    pass


def switch_together(fabric, a: Call, b: Call) -> None:
    """Connect two calls' bearer slots full duplex and record the pairing (``bridged``),
    which hold, transfer and the queues rely on."""
    fabric.connect(a.slot, b.slot)
    a.data["bridged"], b.data["bridged"] = b, a


class Features:
    def __init__(self, kernel, media, music: np.ndarray | None = None):
        self.kernel = kernel
        self.media = media
        # music on hold: a short melody from the tone generator, looped
        self.music = music if music is not None else np.concatenate(
            [synth(f, 0.25, law=kernel.law, level=-15.0) for f in (392.0, 440.0, 494.0, 440.0)])
        self.parked: dict[int, Call] = {}
        self._park_ids = itertools.count(1)
        self.conferences: dict[int, list[Call]] = {}

    def _slot(self, call: Call) -> int:
        if call.slot is None or call.state not in (CallState.CONNECTED, CallState.HELD):
            raise FeatureError(f"call {call.id} is not an answered call with a bearer channel")
        return call.slot

    # --- two-party ----------------------------------------------------------------------------
    def bridge(self, a: Call, b: Call) -> None:
        """Connect two answered calls full duplex."""
        for c in (a, b):
            self._slot(c)  # both must be answered calls with bearer channels
        for c in (a, b):
            if c.state is CallState.HELD:
                self._unhold(c)
        switch_together(self.kernel.fabric, a, b)

    def hold(self, call: Call) -> None:
        """The call hears music on hold; whoever it was bridged to hears idle."""
        slot = self._slot(call)
        if call.state is CallState.HELD:
            return
        peer = call.data.pop("bridged", None)
        if peer is not None:
            peer.data.pop("bridged", None)
            call.data["held_from"] = peer
        self.kernel.fabric.disconnect(slot)
        call.state = CallState.HELD
        self.kernel.loop.create_task(self._music(call, slot))
        call.history.append((self.kernel.now(), "held"))

    async def _music(self, call: Call, slot: int) -> None:
        while call.state is CallState.HELD:
            end = await self.media.play(slot, [self.music])
            if end.reason is not Reason.EOD:
                return

    def _unhold(self, call: Call) -> None:
        self.media.stop(call.slot)
        call.state = CallState.CONNECTED
        call.history.append((self.kernel.now(), "retrieved"))

    def retrieve(self, call: Call) -> None:
        """Back to the party it was bridged with when held (if still there)."""
        if call.state is not CallState.HELD:
            raise FeatureError(f"call {call.id} is not held")
        self._unhold(call)
        peer = call.data.pop("held_from", None)
        if peer is not None and not peer.ended:
            self.bridge(call, peer)

    # --- transfer ----------------------------------------------------------------------------
    async def blind_transfer(self, call: Call, agent: Call, target: Call,
                             timeout: float = 30.0) -> bool:
        """Drop ``agent`` and give ``call`` to ``target`` (a new outgoing call, not yet dialled);
        the caller hears ringback meanwhile.  True when ``target`` answered.  A target its
        trunk refuses (:class:`DialError`: a busy station, no channel) leaves the caller and
        the agent talking, and the error goes to the caller of this method."""
        self.hold(call)
        self._dial_or_retrieve(call, target)
        agent.drop(16)
        return await self._bridge_on_answer(call, target, timeout)

    async def consult(self, call: Call, agent: Call, target: Call, timeout: float = 30.0) -> bool:
        """Hold ``call`` and connect ``agent`` to ``target`` (dialled here) when it answers;
        a refused target (:class:`DialError`) gives the call back to the agent."""
        self.hold(call)
        self._dial_or_retrieve(call, target)
        return await self._bridge_on_answer(agent, target, timeout)

    def complete_transfer(self, call: Call, agent: Call, target: Call) -> None:
        """After :meth:`consult`: the caller and the consulted party talk; the agent leaves."""
        agent.data.pop("bridged", None)
        agent.drop(16)
        self.bridge(call, target)

    def _dial_or_retrieve(self, held: Call, target: Call) -> None:
        try:
            target.dial()
        except DialError:
            self.retrieve(held)
            raise

    async def _bridge_on_answer(self, party: Call, target: Call, timeout: float) -> bool:
        if await target.wait(CallState.CONNECTED, timeout=timeout) is not CallState.CONNECTED:
            return False
        self.bridge(party, target)
        return True

    # --- conference --------------------------------------------------------------------------
    def conference(self, calls: list[Call], coach: Call | None = None,
                   coach_of: Call | None = None) -> int:
        """A bridge of ``calls`` (each hears the others); ``coach`` is heard only by
        ``coach_of`` (whisper) and hears everyone.  Returns the conference id."""
        fabric = self.kernel.fabric
        conf = fabric.conference_create()
        for c in calls:
            slot = self._slot(c)
            if c.state is CallState.HELD:
                self._unhold(c)
            fabric.disconnect(slot)
            c.data.pop("bridged", None)
            fabric.conference_add(conf, slot)
        if coach is not None:
            fabric.disconnect(self._slot(coach))
            fabric.conference_add(conf, coach.slot, mode="coach", coach_of=self._slot(coach_of))
        members = [*calls, *([coach] if coach is not None else [])]
        self.conferences[conf] = members
        for c in members:
            c.listeners.append(lambda call, ev, conf=conf: self._left(conf, call, ev))
        return conf

    def _left(self, conf: int, call: Call, ev: CallEvent) -> None:
        members = self.conferences.get(conf)
        if members is None or ev is not CallEvent.DISCONNECTED or call not in members:
            return
        members.remove(call)
        self.kernel.fabric.conference_remove(conf, call.slot)
        if len(members) < 2:
            self.kernel.fabric.conference_destroy(conf)
            del self.conferences[conf]
            if members:
                members[0].drop(16)

    # --- park ---------------------------------------------------------------------------------
    def park(self, call: Call) -> int:
        """Hold the call in a numbered parking place; returns the number."""
        self.hold(call)
        n = next(self._park_ids)
        self.parked[n] = call
        call.listeners.append(lambda c, ev: self.parked.pop(n, None)
                              if ev is CallEvent.DISCONNECTED else None)
        return n

    def unpark(self, number: int, to: Call) -> Call:
        """Connect the parked call to ``to`` (an answered call)."""
        call = self.parked.pop(number, None)
        if call is None:
            raise FeatureError(f"nothing parked at {number}")
        call.data.pop("held_from", None)
        self.bridge(call, to)
        return call

    def status(self) -> dict[str, Any]:
        return {"parked": {n: c.id for n, c in self.parked.items()},
                "conferences": {k: [c.id for c in v] for k, v in self.conferences.items()}}
