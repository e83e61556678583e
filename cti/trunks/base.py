"""What every trunk adapter shares: the kernel, the span, slot mapping, call bookkeeping."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from cti.calls import Call, CallEvent
from drivers.base import Span

# E1 bearer timeslots: TS0 carries framing, TS16 the D-channel, the SS7 link or CAS (G.704 5)
VOICE_TIMESLOTS = tuple(t for t in range(1, 32) if t != 16)


def parse_timeslots(spec: str) -> tuple[int, ...]:
    """``"1-15,17-31"`` -> the bearer timeslots it names, ascending; ValueError on a
    malformed list, a timeslot outside 1..31 other than TS16, or none at all."""
    slots: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if m is None:
            raise ValueError(f"{part!r} is not a timeslot or a range a-b")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if lo > hi:
            raise ValueError(f"range {part} runs backwards")
        slots.update(range(lo, hi + 1))
    bad = sorted(slots - set(VOICE_TIMESLOTS))
    if bad:
        raise ValueError(f"timeslot {bad[0]} is not a bearer timeslot (1-15, 17-31)")
    if not slots:
        raise ValueError("no timeslot given")
    return tuple(sorted(slots))


class SpanHdlc:
    """A span timeslot in HDLC mode as a frame transport (``send(frame)``).

    When the board's transmit queue is full, frames wait here in order and go out as
    the queue drains (``recv_all`` is called every tick), so a burst is never lost."""

    def __init__(self, span: Span, timeslot: int):
        self.span = span
        self.timeslot = timeslot
        self.backlog: deque[bytes] = deque()
        self.max_backlog = 0

    def send(self, frame: bytes) -> None:
        if self.backlog:
            self.backlog.append(bytes(frame))
        else:
            try:
                self.span.hdlc_send(self.timeslot, frame)
            except BufferError:
                self.backlog.append(bytes(frame))
        self.max_backlog = max(self.max_backlog, len(self.backlog))

    def _drain(self) -> None:
        while self.backlog:
            try:
                self.span.hdlc_send(self.timeslot, self.backlog[0])
            except BufferError:
                return
            self.backlog.popleft()

    def recv_all(self) -> list[bytes]:
        self._drain()
        return self.span.hdlc_recv(self.timeslot)


class TrunkBase:
    """Base of the adapters; subclasses set ``kind`` and implement the operations."""

    kind = "trunk"
    trace_path: str | None = None  # the pcap file the signalling goes to (trace())

    def __init__(self, kernel, name: str, span: Span | None,
                 on_offered: Callable[[Call], None] | None = None):
        self.kernel = kernel
        self.name = name
        self.span = span
        self.on_offered = on_offered or (lambda call: call.reject(21))
        self.calls: dict[Any, Call] = {}  # stack call object (or circuit) -> Call
        self.counters = {"offered": 0, "placed": 0, "answered": 0, "failed": 0}

    def slot_of(self, timeslot: int | None) -> int | None:
        if timeslot is None or self.span is None:
            return None
        return self.kernel.span_slot(self.span, timeslot)

    def new_call(self, key: Any, direction: str, **kw: Any) -> Call:
        call = Call(trunk=self, direction=direction, clock=self.kernel.now, **kw)
        self.calls[key] = call
        return call

    def offered(self, key: Any, **kw: Any) -> Call:
        call = self.new_call(key, "in", **kw)
        self.counters["offered"] += 1
        call.notify(CallEvent.OFFERED)
        self.on_offered(call)
        return call

    def ended(self, key: Any, cause: int | None, raw: Any = None) -> None:
        call = self.calls.pop(key, None)
        if call is not None:
            call.notify(CallEvent.RELEASED, cause=cause, raw_cause=raw)

    @property
    def link_up(self) -> bool:
        """Whether the trunk's signalling can carry calls (CAS and stations: always)."""
        return True

    @property
    def in_service(self) -> bool:
        """Whether a trunk group may hunt here: signalling up and the span free of alarms."""
        return self.link_up and (self.span is None or not self.span.status().alarms)

    def trace(self, path: str | None) -> str | None:
        """Write the trunk's signalling to the file ``path`` from now on (None: stop and
        close the file); returns the file being written.  A trace already running is
        closed first."""
        if self.trace_path is not None:
            self._stop_trace()
            self.trace_path = None
        if path is not None:
            self._start_trace(path)
            self.trace_path = path
        return path

    def _start_trace(self, path: str) -> None:
        """Open ``path`` and record the signalling into it (trunks with signalling)."""
        raise ValueError(f"trunk {self.name} ({self.kind}) has no signalling link to trace")

    def _stop_trace(self) -> None:
        """Stop recording and close the file."""

    def trace_epoch(self) -> float:
        """What turns the kernel clock into pcap timestamps (seconds since 1970)."""
        return time.time() - self.kernel.now()

    def free_channels(self) -> list[int]:
        """Bearer timeslots idle now by the stack's own channel states, ascending (the
        trunk-group hunter's candidates); a call's ``data["channel"]`` then names the
        preferred one to :meth:`make_call`."""
        return []

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.kind,
                "span": None if self.span is None else self.span.name,
                "calls": len(self.calls), "counters": dict(self.counters),
                "trace": self.trace_path}
