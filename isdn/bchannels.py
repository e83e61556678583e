"""B-channel states of one PRI interface (Q.931 5.1.2, 5.2.3 channel selection; 5.5 restart).

Seizing is atomic and its answer explicit: ``"seized"``, or ``"glare"`` when our own
not-yet-confirmed outgoing call holds the channel, ``"busy"``, ``"maintenance"`` or
``"restart"``.  Dual seizure is resolved by the rule of Q.931 5.2.3.1 (the network's
choice stands; the user gets the network's channel, the network rejects the user's
exclusive request with cause 44 or moves a preferred one).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any


class BState(str, Enum):
    IDLE = "idle"
    BUSY = "busy"
    MAINTENANCE = "maintenance"
    GLARE = "glare"
    RESTART = "restart"


E1_CHANNELS = tuple(c for c in range(1, 32) if c != 16)  # timeslot numbers, TS16 = D
T1_CHANNELS = tuple(range(1, 24))  # 23B+D
BRI_CHANNELS = (1, 2)  # 2B+D: B1, B2


class BChannel:
    __slots__ = ("number", "state", "owner", "outgoing_pending")

    def __init__(self, number: int):
        self.number = number
        self.state = BState.IDLE
        self.owner: Any = None
        self.outgoing_pending = False  # held by our SETUP not yet answered by the peer


class BChannels:
    """The B-channels of one interface; ``ascending`` is the hunting order for our calls."""

    def __init__(self, numbers: Iterable[int] = E1_CHANNELS, ascending: bool = True):
        self.channels = {n: BChannel(n) for n in numbers}
        self.ascending = ascending
        self._out_of_service: set[int] = set()  # taken out of service (isdn.service)

    def __contains__(self, number: int) -> bool:
        return number in self.channels

    def state(self, number: int) -> BState:
        return self.channels[number].state

    def owner(self, number: int) -> Any:
        return self.channels[number].owner

    def seize(self, number: int, owner: Any, outgoing: bool) -> str:
        ch = self.channels.get(number)
        if ch is None:
            return "nonexistent"
        if ch.state is BState.IDLE:
            ch.state, ch.owner, ch.outgoing_pending = BState.BUSY, owner, outgoing
            return "seized"
        if ch.state is BState.BUSY and ch.owner is owner:
            return "seized"
        if ch.state is BState.BUSY and ch.outgoing_pending and not outgoing:
            return BState.GLARE.value  # dual seizure: resolved by the caller (5.2.3.1)
        return ch.state.value

    def take_over(self, number: int, owner: Any) -> Any:
        """Give a channel held by our pending outgoing call to the peer's call (glare lost);
        returns the previous owner."""
        ch = self.channels[number]
        previous = ch.owner
        ch.state, ch.owner, ch.outgoing_pending = BState.BUSY, owner, False
        return previous

    def confirm(self, number: int) -> None:
        """The peer accepted our channel: no longer subject to glare."""
        ch = self.channels.get(number)
        if ch is not None:
            ch.outgoing_pending = False

    def hunt(self, owner: Any, outgoing: bool) -> int | None:
        """Seize the first idle channel in hunting order; None when all are taken."""
        order = sorted(self.channels, reverse=not self.ascending)
        for n in order:
            if self.channels[n].state is BState.IDLE:
                self.seize(n, owner, outgoing)
                return n
        return None

    def release(self, number: int | None, owner: Any = None) -> None:
        ch = self.channels.get(number) if number is not None else None
        if ch is None or (owner is not None and ch.owner is not owner):
            return
        if ch.state in (BState.BUSY, BState.GLARE):
            ch.state, ch.owner, ch.outgoing_pending = self._free_state(number), None, False

    def set_state(self, number: int, state: BState) -> None:
        """A channel put in ``state``; idle is maintenance for a channel out of service."""
        ch = self.channels[number]
        ch.state = self._free_state(number) if state is BState.IDLE else state
        if state in (BState.IDLE, BState.MAINTENANCE, BState.RESTART):
            ch.owner, ch.outgoing_pending = None, False

    def _free_state(self, number: int) -> BState:
        return BState.MAINTENANCE if number in self._out_of_service else BState.IDLE

    def set_service(self, number: int, in_service: bool) -> None:
        """In or out of service: an idle channel goes to maintenance (or back) at once, a
        busy one when its call ends."""
        (self._out_of_service.discard if in_service else self._out_of_service.add)(number)
        ch = self.channels[number]
        if ch.state in (BState.IDLE, BState.MAINTENANCE):
            ch.state = self._free_state(number)

    def out_of_service(self, number: int) -> bool:
        return number in self._out_of_service

    def idle_count(self) -> int:
        return sum(1 for c in self.channels.values() if c.state is BState.IDLE)

    def snapshot(self) -> dict[int, str]:
        return {n: c.state.value for n, c in self.channels.items()}
