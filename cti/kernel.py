"""The tight loop (DESIGN.md, "The tight loop").

Every tick of ``block`` frames (160 = 20 ms by default, 8 = 1 ms for low latency)::

    tickers       sim cables / pseudowires move the line signal (one C call per system)
    boards read   every span's (32, frames) block into rows of one rx array
    media.rx      stages: detectors, HDLC receivers, recorders (one C call per bank)
    fabric        time-slot interchange and conferences: rx -> tx (one C call)
    media.tx      stages: tone generators, players, HDLC transmitters overwrite their rows
    boards write  tx rows to every span
    events        drained from the stages into Python handlers
    timers        the asyncio loop's own timer heap, on real or virtual time

The kernel runs inside an asyncio loop (:mod:`cti.vloop`): on virtual time ticks follow
each other as fast as the CPU allows; on real time they are scheduled at absolute
deadlines (drift-corrected) and lateness and overruns are measured.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from cti.vloop import new_loop
from drivers.base import TIMESLOTS_E1, Span
from timeslot.events import Event

FRAME_RATE = 8000  # frames (samples per channel) per second
log = logging.getLogger("cti.kernel")
IDLE_ALAW = 0xD5


class Stage(Protocol):
    """A media stage over some fabric slots. Any of the three methods may be absent."""

    def rx(self, rx: np.ndarray, frame: int) -> None: ...

    def tx(self, tx: np.ndarray, frame: int) -> None: ...

    def drain(self) -> list[tuple[int, Event]]: ...


class Ticker(Protocol):
    def tick(self, frames: int) -> None: ...


@dataclass
class TickStats:
    ticks: int = 0
    cpu_s: float = 0.0  # process CPU spent inside ticks
    overruns: int = 0  # real time: a tick that took longer than its block
    skipped: int = 0  # real time: blocks given up after falling too far behind
    lateness: list[float] = field(default_factory=list)  # real time: start - deadline (s)

    def as_dict(self, block_s: float) -> dict[str, Any]:
        late = sorted(self.lateness)

        def pct(p: float) -> float | None:
            return None if not late else round(late[min(len(late) - 1, int(p * len(late)))] * 1e3, 3)

        return {
            "ticks": self.ticks,
            "cpu_fraction": (self.cpu_s / (self.ticks * block_s)) if self.ticks else 0.0,
            "overruns": self.overruns,
            "skipped_blocks": self.skipped,
            "jitter_ms_p50": pct(0.50),
            "jitter_ms_p99": pct(0.99),
        }


class Kernel:
    """Owns the clock, the slot map, the fabric and the media stages."""

    MAX_CATCHUP = 40  # late blocks run back to back before the loop gives up and skips

    def __init__(self, *, virtual: bool = True, block: int = 160, law: str = "alaw",
                 loop: asyncio.AbstractEventLoop | None = None):
        if not 1 <= block <= 160:
            raise ValueError("block must be 1..160 frames")
        self.virtual = virtual
        self.block = block
        self.block_s = block / FRAME_RATE
        self.law = law
        self.loop = loop or new_loop(virtual)
        self.spans: list[tuple[Span, int]] = []
        self.devices: list[tuple[Any, int, int]] = []  # (block device, first slot, rows)
        self.tickers: list[Ticker] = []
        self.stages: list[Stage] = []
        # the stages' bound rx/tx/drain methods, in stage order, resolved once (hot path)
        self._rx_calls: list[Callable] = []
        self._tx_calls: list[Callable] = []
        self._drain_calls: list[Callable] = []
        self.handlers: dict[int, list[Callable[[Event], None]]] = defaultdict(list)
        self.after_tick: list[Callable[[], None]] = []
        self.nslots = 0
        self.slot_names: dict[int, str] = {}
        self.frame = 0
        self.stats = TickStats()
        self.errors: list[str] = []  # handler failures: reported, never fatal to the loop
        self._fabric = None
        self.rx: np.ndarray | None = None
        self.tx: np.ndarray | None = None
        self._t0: float | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._running = False

    # --- layout -------------------------------------------------------------
    @property
    def fabric(self):
        """The time-slot switch; first use fixes the slot layout."""
        if self._fabric is None:
            self._build()
        return self._fabric

    def allocate(self, count: int, name: str) -> int:
        """Reserve ``count`` consecutive fabric slots; returns the first."""
        if self._fabric is not None:
            raise RuntimeError("slots are fixed once the kernel has started")
        base = self.nslots
        self.nslots += count
        for i in range(count):
            self.slot_names[base + i] = f"{name}:{i}"
        return base

    def add_span(self, span: Span) -> int:
        base = self.add_device(span, TIMESLOTS_E1, span.name)
        self.spans.append((span, base))
        return base

    def add_device(self, device: Any, rows: int, name: str) -> int:
        """Any block device with ``read_block(frames)`` -> (rows, frames) and
        ``write_block(block)`` (a span, a station board); returns its first slot."""
        base = self.allocate(rows, name)
        self.devices.append((device, base, rows))
        return base

    def span_slot(self, span: Span, timeslot: int) -> int:
        for s, base in self.spans:
            if s is span:
                return base + timeslot
        raise KeyError(span.name)

    def add_ticker(self, ticker: Ticker) -> None:
        self.tickers.append(ticker)

    def add_stage(self, stage: Stage, first: bool = False) -> None:
        """Add a media stage, after the others (or before them with ``first``)."""
        if first:
            self.stages.insert(0, stage)
        else:
            self.stages.append(stage)
        for name, calls in (("rx", self._rx_calls), ("tx", self._tx_calls),
                            ("drain", self._drain_calls)):
            calls[:] = [f for f in (getattr(st, name, None) for st in self.stages) if f]

    def subscribe(self, slot: int, handler: Callable[[Event], None]) -> None:
        self.handlers[slot].append(handler)

    def unsubscribe(self, slot: int, handler: Callable[[Event], None]) -> None:
        if handler in self.handlers.get(slot, ()):
            self.handlers[slot].remove(handler)

    def _build(self) -> None:
        from timeslot.fabric import Fabric

        n = max(self.nslots, 1)
        self._fabric = Fabric(n, law=self.law)
        self.rx = np.full((n, self.block), IDLE_ALAW, np.uint8)
        self.tx = np.full((n, self.block), IDLE_ALAW, np.uint8)

    # --- the loop -------------------------------------------------------------
    def tick(self) -> None:
        """One pass of the tight loop over ``block`` frames."""
        fabric = self.fabric
        c0 = time.process_time()
        frames, rx, tx = self.block, self.rx, self.tx
        for t in self.tickers:
            t.tick(frames)
        for dev, base, rows in self.devices:
            rx[base:base + rows] = dev.read_block(frames)
        for f in self._rx_calls:
            f(rx, self.frame)
        fabric.process(rx, tx)
        for f in self._tx_calls:
            f(tx, self.frame)
        for dev, base, rows in self.devices:
            dev.write_block(tx[base:base + rows])
        self.frame += frames
        for f in self._drain_calls:
            for slot, ev in f():
                for h in tuple(self.handlers.get(slot, ())):
                    self._call(h, ev)
        for cb in tuple(self.after_tick):
            self._call(cb)
        self.stats.ticks += 1
        self.stats.cpu_s += time.process_time() - c0

    def _call(self, fn: Callable, *args: Any) -> None:
        """Run a handler; a failure is logged and kept in ``errors``, the loop goes on."""
        try:
            fn(*args)
        except Exception as e:
            msg = f"{getattr(fn, '__qualname__', fn)}: {type(e).__name__}: {e}"
            log.exception("kernel handler failed: %s", msg)
            if len(self.errors) < 1000:
                self.errors.append(msg)

    def _timed_tick(self) -> None:
        w0 = time.perf_counter()
        self.tick()
        if not self.virtual and time.perf_counter() - w0 > self.block_s:
            self.stats.overruns += 1

    def _scheduled_tick(self, n: int) -> None:
        if not self._running:
            return
        if self.virtual:
            self._timed_tick()
            n += 1
        else:
            lateness = self.stats.lateness
            lateness.append(self.loop.time() - (self._t0 + n * self.block_s))
            if len(lateness) > 100_000:
                del lateness[:50_000]
            self._timed_tick()
            n += 1
            # deadlines are absolute (drift-corrected): blocks whose deadline has passed run
            # now, back to back, so no audio is lost to a late wake-up (the timer heap cannot
            # wait less than about a millisecond); beyond MAX_CATCHUP they are skipped, counted
            caught = 0
            while (self.loop.time() >= self._t0 + n * self.block_s
                   and caught < self.MAX_CATCHUP):
                self._timed_tick()
                n += 1
                caught += 1
            behind = int((self.loop.time() - self._t0) / self.block_s)
            if behind > n:
                self.stats.skipped += behind - n
                n = behind
        self._handle = self.loop.call_at(self._t0 + n * self.block_s, self._scheduled_tick, n)

    def start(self) -> None:
        """Start ticking on the kernel's loop (call from inside or before running it)."""
        self._running = True
        self._t0 = self.loop.time()
        self._handle = self.loop.call_at(self._t0 + self.block_s, self._scheduled_tick, 1)

    def stop(self) -> None:
        self._running = False
        if self._handle is not None:
            self._handle.cancel()

    def now(self) -> float:
        return self.loop.time()

    def run_for(self, seconds: float) -> None:
        """Run the loop (ticking) for ``seconds`` of kernel time."""
        if not self._running:
            self.start()
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def run(self, coro) -> Any:
        """Run a coroutine to completion with the kernel ticking."""
        if not self._running:
            self.start()
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        """Stop ticking, cancel what still runs on the loop (call flows, media waits), close."""
        self.stop()
        if not self.loop.is_closed() and not self.loop.is_running():
            tasks = asyncio.all_tasks(self.loop)
            for t in tasks:
                t.cancel()
            if tasks:
                self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self.loop.close()
