"""Protocol timer tables.

Each stack declares its timers once, as rows of :class:`TimerSpec` (name, default,
unit, clause, description).  A :class:`Timers` binds such a table to a scheduler for
one protocol instance (a data link, a call, a circuit): values may be overridden from
config, and running timers are visible for ``cti links --json``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.clock import Handle, Scheduler
from core.errors import ConfigError


@dataclass(frozen=True)
class TimerSpec:
    name: str
    default: float
    unit: str  # "s" or "ms" - the unit the recommendation states; values are stored in seconds
    clause: str
    description: str

    @property
    def seconds(self) -> float:
        return self.default / 1000.0 if self.unit == "ms" else self.default


class TimerTable:
    """An immutable table of timer specs plus per-deployment overrides (in seconds)."""

    def __init__(self, specs: Iterable[TimerSpec], overrides: Mapping[str, float] | None = None):
        self.specs: dict[str, TimerSpec] = {s.name: s for s in specs}
        self.values: dict[str, float] = {n: s.seconds for n, s in self.specs.items()}
        for name, value in (overrides or {}).items():
            self.set(name, value)

    def set(self, name: str, seconds: float) -> None:
        if name not in self.specs:
            raise ConfigError(f"unknown timer (known: {', '.join(self.specs)})", key=name)
        if not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ConfigError("timer value must be a positive number of seconds", key=name)
        self.values[name] = float(seconds)

    def with_overrides(self, overrides: Mapping[str, float]) -> TimerTable:
        t = TimerTable(self.specs.values())
        t.values.update(self.values)
        for k, v in overrides.items():
            t.set(k, v)
        return t

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"name": s.name, "value_s": self.values[s.name], "default": s.default, "unit": s.unit,
             "clause": s.clause, "description": s.description}
            for s in self.specs.values()
        ]


class Timers:
    """Named timers of one protocol instance; starting a running timer restarts it.

    Names in ``lazy`` are timers restarted far more often than they expire (Q.921 T200 and
    T203 with every frame, Q.703 T7 with every acknowledgement, the MFC-R2 compelled-step
    supervision): for them ``start`` and ``stop`` only record the deadline, and the one
    scheduler entry kept armed moves itself on to the deadline when it fires early, so a
    restart costs no heap operation.  Either kind expires at exactly its deadline."""

    def __init__(self, table: TimerTable, scheduler: Scheduler, lazy: Iterable[str] = ()):
        self.table = table
        self.scheduler = scheduler
        self.lazy = frozenset(lazy)
        self._running: dict[str, tuple[Handle, float]] = {}
        self._due: dict[str, tuple[float, Callable[..., Any], tuple]] = {}  # lazy deadlines
        self._armed: dict[str, tuple[Handle, float]] = {}  # lazy: the scheduler entry kept

    def start(self, name: str, callback: Callable[..., Any], *args: Any,
              seconds: float | None = None) -> None:
        value = self.table.values[name] if seconds is None else seconds
        if name in self.lazy:
            due = self.scheduler.time() + value
            self._due[name] = (due, callback, args)
            armed = self._armed.get(name)
            if armed is not None:
                if armed[1] <= due:
                    return
                armed[0].cancel()
            self._armed[name] = (self.scheduler.call_at(due, self._fire_lazy, name), due)
            return
        entry = self._running.get(name)
        if entry is not None:
            entry[0].cancel()
        due = self.scheduler.time() + max(value, 0.0)
        self._running[name] = (self.scheduler.call_at(due, self._fire, name, callback, args), due)

    def _fire(self, name: str, callback: Callable[..., Any], args: tuple) -> None:
        self._running.pop(name, None)
        callback(*args)

    def _fire_lazy(self, name: str) -> None:
        del self._armed[name]
        entry = self._due.get(name)
        if entry is None:
            return  # stopped since it was armed
        due, callback, args = entry
        if due > self.scheduler.time():  # restarted since it was armed
            self._armed[name] = (self.scheduler.call_at(due, self._fire_lazy, name), due)
            return
        del self._due[name]
        callback(*args)

    def stop(self, name: str) -> None:
        entry = self._running.pop(name, None)
        if entry is not None:
            entry[0].cancel()
        elif self._due:
            self._due.pop(name, None)

    def stop_all(self) -> None:
        for table in (self._running, self._armed):
            if table:
                for handle, _ in table.values():
                    handle.cancel()
                table.clear()
        self._due.clear()

    def running(self, name: str) -> bool:
        return name in self._running or name in self._due

    def remaining(self) -> dict[str, float]:
        now = self.scheduler.time()
        left = {n: max(0.0, when - now) for n, (_, when) in self._running.items()}
        left.update((n, max(0.0, due - now)) for n, (due, _, _) in self._due.items())
        return left
