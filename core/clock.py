"""The two kernel clocks behind one scheduler interface.

Every protocol stack receives a :class:`Scheduler` and uses only ``time()``,
``call_later()`` and ``call_at()`` (the same shape as an asyncio event loop), so the
same stack runs on the real-time clock in production and on the virtual clock in tests,
where an hour of traffic passes in seconds and every timer fires at its simulated moment.
"""

from __future__ import annotations

import heapq
import itertools
import time as _time
from collections.abc import Callable
from typing import Any, Protocol


class Handle(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """What a protocol stack needs from a clock."""

    def time(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Handle: ...

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> Handle: ...


class TimerHandle:
    """A scheduled callback; ``cancel()`` is idempotent."""

    __slots__ = ("when", "seq", "callback", "args", "cancelled", "queue")

    def __init__(self, when: float, seq: int, callback: Callable[..., Any], args: tuple,
                 queue: _TimerQueue | None = None):
        self.when = when
        self.seq = seq
        self.callback = callback
        self.args = args
        self.cancelled = False
        self.queue = queue

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            if self.queue is not None:
                self.queue._cancelled += 1


class _TimerQueue:
    """A heap of timers; callbacks with equal deadlines run in the order scheduled.

    Protocol timers are mostly cancelled before they expire (T200, T203, ISUP T5 of
    minutes); when cancelled entries are over half of a large heap it is rebuilt, as
    asyncio does, so they do not slow every push and pop.  Entries are ``(when, seq,
    handle)`` tuples, so the heap compares them in C (``seq`` is unique)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._cancelled = 0

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        heap = self._heap
        if self._cancelled > 64 and self._cancelled * 2 > len(heap):
            live = [e for e in heap if not e[2].cancelled]
            for e in heap:
                if e[2].cancelled:
                    e[2].queue = None
            heapq.heapify(live)
            heap[:] = live  # in place: run_due() may be iterating this very list
            self._cancelled = 0
        when = float(when)
        seq = next(self._seq)
        h = TimerHandle(when, seq, callback, args, self)
        heapq.heappush(heap, (when, seq, h))
        return h

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        if delay < 0:
            delay = 0.0
        return self.call_at(self.time() + delay, callback, *args)

    def time(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def next_deadline(self) -> float | None:
        """Deadline of the earliest live timer, or ``None`` when none is pending."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)[2].queue = None
            self._cancelled -= 1
        return heap[0][0] if heap else None

    def pending(self) -> int:
        return sum(1 for e in self._heap if not e[2].cancelled)

    def run_due(self, now: float) -> int:
        """Run every timer due at or before ``now``; returns how many ran."""
        n = 0
        heap = self._heap
        while heap and heap[0][0] <= now:
            h = heapq.heappop(heap)[2]
            h.queue = None
            if h.cancelled:
                self._cancelled -= 1
                continue
            n += 1
            h.callback(*h.args)
        return n


class VirtualClock(_TimerQueue):
    """Simulated time that advances only when told to.

    ``advance(dt)`` moves time forward, firing each timer at its own deadline (time
    reads as that deadline inside the callback), so timer order and values are exact.
    """

    def __init__(self, start: float = 0.0):
        super().__init__()
        self._now = float(start)

    def time(self) -> float:
        return self._now

    def advance(self, dt: float) -> None:
        self.run_until(self._now + dt)

    def run_until(self, t: float) -> None:
        heap = self._heap
        while heap:
            when, _, h = heap[0]
            if when > t and not h.cancelled:
                break
            heapq.heappop(heap)
            h.queue = None
            if h.cancelled:
                self._cancelled -= 1
                continue
            if when > self._now:
                self._now = when
            h.callback(*h.args)
        if t > self._now:
            self._now = t

    def run_until_idle(self, limit: float = 3600.0) -> None:
        """Fire timers until none is pending or ``limit`` simulated seconds have passed."""
        end = self._now + limit
        while True:
            d = self.next_deadline()
            if d is None or d > end:
                break
            self._now = max(self._now, d)
            self.run_due(self._now)


class RealClock(_TimerQueue):
    """Monotonic wall time; the kernel loop calls :meth:`run_due` every tick."""

    def __init__(self) -> None:
        super().__init__()
        self._t0 = _time.monotonic()

    def time(self) -> float:
        return _time.monotonic() - self._t0
