"""The unified call model: one Call object and one event vocabulary for every trunk.

In the spirit of Dialogic GlobalCall: a *trunk adapter* (ISDN, ISUP, TUP, R2, station)
turns its stack's indications into :class:`CallEvent` notifications on a :class:`Call`,
and carries out the call operations (make_call, accept/alert, answer, reject, drop,
release) in its own signalling.  Every disconnect carries a Q.850 cause and keeps the
original signalling cause (``raw_cause``) beside it.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.q850 import NORMAL_CLEARING, cause_name


class CallEvent(str, enum.Enum):
    OFFERED = "offered"
    PROCEEDING = "proceeding"
    ALERTING = "alerting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RELEASED = "released"
    # in-call signals that leave the call's state as it is (the China TUP national procedures)
    METERING = "metering"  # charging pulses counted: data["metering_pulses"] (MPM)
    MALICIOUS = "malicious"  # the far end identified the call as malicious (MAL; GRQ)
    OPERATOR = "operator"  # the operator on the call asks to re-ring the called party (OPR)
    CALLING_CLEARED = "calling_cleared"  # the caller hung up, the connection held (CCL)


class CallState(str, enum.Enum):
    NULL = "null"
    OFFERED = "offered"  # incoming, not yet accepted
    DIALING = "dialing"  # outgoing, setup sent
    PROCEEDING = "proceeding"
    ALERTING = "alerting"
    CONNECTED = "connected"
    HELD = "held"
    DISCONNECTED = "disconnected"  # far end or we cleared; channel not yet released
    RELEASED = "released"


_NEXT_STATE = {
    CallEvent.OFFERED: CallState.OFFERED,
    CallEvent.PROCEEDING: CallState.PROCEEDING,
    CallEvent.ALERTING: CallState.ALERTING,
    CallEvent.CONNECTED: CallState.CONNECTED,
    CallEvent.DISCONNECTED: CallState.DISCONNECTED,
    CallEvent.RELEASED: CallState.RELEASED,
}


class CallError(RuntimeError):
    """An operation not allowed in the call's state, or refused by the trunk."""


class DialError(RuntimeError):
    """An outgoing call its trunk cannot place: ``cause`` is the Q.850 cause the caller gets
    (17 a busy station, 34 no free channel or circuit, 44 the requested channel taken)."""

    def __init__(self, message: str, cause: int):
        super().__init__(message)
        self.cause = cause


class TrunkAdapter(Protocol):
    """What a signalling stack provides to the call model (one per trunk group)."""

    kind: str  # "isdn", "ss7", "tup", "r2", "station"

    def make_call(self, call: Call) -> None: ...

    def alert(self, call: Call) -> None: ...

    def answer(self, call: Call) -> None: ...

    def reject(self, call: Call, cause: int) -> None: ...

    def drop(self, call: Call, cause: int) -> None: ...

    def release(self, call: Call) -> None: ...


_ids = itertools.count(1)


@dataclass
class Call:
    trunk: TrunkAdapter
    direction: str  # "in" or "out"
    dnis: str = ""
    ani: str = ""
    category: int | None = None
    presentation: str = "allowed"
    slot: int | None = None  # fabric slot of the bearer channel, once known
    id: int = field(default_factory=lambda: next(_ids))
    state: CallState = CallState.NULL
    cause: int | None = None  # Q.850
    raw_cause: Any = None  # the stack's own cause as signalled
    times: dict[str, float] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # per-application values (queue, IVR)
    history: list[tuple[float, str]] = field(default_factory=list)
    listeners: list[Callable[[Call, CallEvent], None]] = field(default_factory=list)
    _waiters: list[tuple[frozenset, asyncio.Future]] = field(default_factory=list, repr=False)
    clock: Callable[[], float] = field(default=lambda: 0.0, repr=False)

    # --- notifications from the trunk adapter --------------------------------
    def notify(self, event: CallEvent, *, cause: int | None = None, raw_cause: Any = None) -> None:
        if self.state is CallState.RELEASED:
            return
        now = self.clock()
        if event in (CallEvent.DISCONNECTED, CallEvent.RELEASED) and self.cause is None:
            self.cause = NORMAL_CLEARING if cause is None else cause
            self.raw_cause = raw_cause
        if event is CallEvent.DISCONNECTED and self.state is CallState.DISCONNECTED:
            return
        self.state = _NEXT_STATE.get(event, self.state)
        self.times.setdefault(event.value, now)
        self.history.append((now, event.value))
        for fn in tuple(self.listeners):
            fn(self, event)
        for states, fut in tuple(self._waiters):
            if self.state in states and not fut.done():
                fut.set_result(self.state)

    # --- operations ------------------------------------------------------------
    def _require(self, *states: CallState) -> None:
        if self.state not in states:
            raise CallError(f"call {self.id}: not allowed in state {self.state.value}")

    def dial(self) -> None:
        """Place this outgoing call on its trunk."""
        self._require(CallState.NULL)
        self.state = CallState.DIALING
        self.times["dialing"] = self.clock()
        self.history.append((self.times["dialing"], "dialing"))
        try:
            self.trunk.make_call(self)
        except Exception:
            self.state = CallState.NULL
            raise

    def alert(self) -> None:
        self._require(CallState.OFFERED, CallState.PROCEEDING)
        self.trunk.alert(self)

    def answer(self) -> None:
        self._require(CallState.OFFERED, CallState.PROCEEDING, CallState.ALERTING)
        self.trunk.answer(self)

    def reject(self, cause: int) -> None:
        self._require(CallState.OFFERED, CallState.PROCEEDING, CallState.ALERTING)
        self.trunk.reject(self, cause)

    def drop(self, cause: int = NORMAL_CLEARING) -> None:
        if self.state in (CallState.DISCONNECTED, CallState.RELEASED):
            return
        self.trunk.drop(self, cause)

    def release(self) -> None:
        if self.state is not CallState.RELEASED:
            self.trunk.release(self)

    async def wait(self, *states: CallState, timeout: float | None = None) -> CallState:
        """Wait until the call is in one of ``states`` (or released), or ``timeout``
        seconds pass; returns the state the call is in then."""
        want = frozenset(states) | {CallState.RELEASED}
        if self.state in want:
            return self.state
        fut = asyncio.get_running_loop().create_future()
        entry = (want, fut)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            return self.state
        finally:
            self._waiters.remove(entry)

    @property
    def ended(self) -> bool:
        return self.state in (CallState.DISCONNECTED, CallState.RELEASED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "trunk": self.trunk.kind, "direction": self.direction,
            "dnis": self.dnis, "ani": self.ani, "category": self.category,
            "state": self.state.value, "slot": self.slot, "cause": self.cause,
            "cause_text": cause_name(self.cause) if self.cause is not None else None,
            "raw_cause": None if self.raw_cause is None else str(self.raw_cause),
            "times": dict(self.times),
        }
