"""Table-driven finite state machines.

A machine is declared as rows ``(state, event) -> (action, next state)`` that read
like the SDL diagrams of the recommendation.  The action is the name of a method on
the owning object; it may return a state name to override the row's next state (an
SDL decision box).  ``"*"`` as the state matches any state not listed for that event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    state: str
    event: str
    action: str | None = None
    next: str | None = None  # None: stay in the current state


class UnexpectedEvent(Exception):
    """Raised by :meth:`Machine.dispatch` when no row and no ``unexpected`` handler apply."""


NO_ROW = object()  # what ``dispatch(..., if_row=True)`` returns when no row applies


class FsmTable:
    """The transition table of one kind of machine (validated once, shared by instances)."""

    def __init__(self, name: str, states: Iterable[str], rows: Iterable[Row]):
        self.name = name
        self.states = tuple(states)
        known = set(self.states) | {"*"}
        self.rows: dict[tuple[str, str], Row] = {}
        for r in rows:
            if r.state not in known or (r.next is not None and r.next not in known):
                raise ValueError(f"{name}: row {r} names an unknown state")
            key = (r.state, r.event)
            if key in self.rows:
                raise ValueError(f"{name}: duplicate row for {key}")
            self.rows[key] = r
        self.events = tuple(sorted({e for _, e in self.rows}))
        self.state_set = frozenset(self.states)
        # every (state, event) resolved once, "*" rows included: one dict lookup per event
        self._resolved = {(s, e): r for s in self.states for e in self.events
                          if (r := self.rows.get((s, e)) or self.rows.get(("*", e)))}
        # what dispatch needs of each: (action, next state)
        self._steps = {k: (r.action, r.next) for k, r in self._resolved.items()}

    def lookup(self, state: str, event: str) -> Row | None:
        row = self._resolved.get((state, event))
        if row is None and state not in self.state_set:
            row = self.rows.get(("*", event))
        return row


class Machine:
    """Mixin: an object whose behaviour is an :class:`FsmTable`.

    Subclasses set ``fsm`` (the table) and ``state``; ``dispatch(event, *args)`` runs
    the row's action and moves to its next state.  If no row matches, the method
    ``unexpected(event, *args)`` is called when it exists (the recommendation's
    "unexpected message" procedure), else :class:`UnexpectedEvent` is raised; with
    ``if_row=True`` nothing is done and :data:`NO_ROW` returned instead (one table lookup
    for callers that act otherwise on an event the table does not take).
    ``transitions`` records (state, event, next) for traces and tests.
    """

    fsm: FsmTable
    state: str
    keep_transitions = 0  # how many transitions to keep; 0 keeps none

    def dispatch(self, event: str, *args: Any, if_row: bool = False) -> Any:
        fsm = self.fsm
        before = self.state
        step = fsm._steps.get((before, event))
        if step is None:
            row = fsm.lookup(before, event)  # a state outside the table: only "*" rows
            if row is None:
                if if_row:
                    return NO_ROW
                handler = getattr(self, "unexpected", None)
                if handler is None:
                    raise UnexpectedEvent(f"{fsm.name}: {event} in state {before}")
                return handler(event, *args)
            step = row.action, row.next
        action, after = step
        result = getattr(self, action)(*args) if action else None
        if result is not None and isinstance(result, str) and result in fsm.state_set:
            self.state = result
        elif after is not None and self.state == before:
            self.state = after
        if self.keep_transitions:
            log = self.__dict__.setdefault("transitions", [])
            log.append((before, event, self.state))
            if len(log) > self.keep_transitions:
                del log[0]
        return result
