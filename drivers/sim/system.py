"""The simulated E1 world: spans, cables and loop plugs advanced together.

:class:`SimSystem` owns one :class:`drivers.sim._e1.E1Sim` engine holding every span it
knows; :meth:`SimSystem.tick` advances all transmit framers, cable directions (with their
impairments) and receive framers by one block in a single C call, and runs the HDLC
links of all spans in one bank call each way.

Clocks: each span has a clock source (``SpanConfig.clock``): ``"master"`` (the reference,
0 ppm), ``"free-run"`` or ``"free-run:<ppm>"`` (its own oscillator, offset in ppm) or
``"slave:<span name>"`` (the clock recovered from what that span receives).  A cable
direction's ``ppm`` impairment retimes that direction's signal at an offset clock.  A
receiver whose clock differs from the arriving signal by ``d`` ppm makes a controlled slip
every ``1 / (d * 1e-6 * 8000)`` seconds (G.822's 8000 frames/s, one frame per slip).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from drivers.base import BoardError, ChannelMode
from drivers.sim._e1 import E1Sim

FRAME_RATE = 8000  # frames per second (G.704 2.3.1: 125 us frames)
LINE_RATE = 2_048_000  # bit/s
MAX_PPM = 500.0


def parse_clock(clock: str) -> tuple[str, float | str]:
    """("master", 0.0), ("free-run", ppm) or ("slave", span name) from a clock string."""
    if clock == "master":
        return "master", 0.0
    if clock == "free-run" or clock.startswith("free-run:"):
        try:
            ppm = float(clock[9:]) if ":" in clock else 0.0
        except ValueError:
            raise ValueError(f"free-run offset must be a number of ppm, not {clock[9:]!r}") from None
        if not -MAX_PPM <= ppm <= MAX_PPM:
            raise ValueError(f"clock offset must be within +-{MAX_PPM} ppm")
        return "free-run", ppm
    if clock.startswith("slave:") and clock[6:]:
        return "slave", clock[6:]
    raise ValueError(f"clock must be master, free-run[:ppm] or slave:<span>, not {clock!r}")


@dataclass
class Impairment:
    """What a cable does to one direction (all zero: a clean cable)."""

    ber: float = 0.0  # independent bit errors (geometric gaps)
    burst: tuple[int, float] | None = None  # (bits, period_s): bursts of random errors
    ppm: float = 0.0  # retimes the direction at this clock offset
    los: bool = False  # no signal
    ais: bool = False  # all ones (G.775 AIS)
    delay_bits: int = 0  # 0..7: bit offset of the received stream

    def __post_init__(self) -> None:
        if not 0.0 <= self.ber < 0.5:
            raise ValueError("ber must be in 0 .. 0.5")
        if not -MAX_PPM <= self.ppm <= MAX_PPM:
            raise ValueError(f"ppm must be within +-{MAX_PPM}")
        if not 0 <= self.delay_bits <= 7:
            raise ValueError("delay_bits must be 0..7")
        if self.burst is not None:
            bits, period = self.burst
            if bits < 1 or period <= 0 or bits > period * LINE_RATE:
                raise ValueError("burst must be (bits >= 1, period_s > 0) with bits < period")


class SimSystem:
    """All simulated spans and cables of a process, advanced by :meth:`tick`."""

    def __init__(self, max_frames: int = 1600) -> None:
        self.max_frames = max_frames
        self.spans: list = []  # SimSpan, in engine order
        self.stations: list = []  # StationBoard
        self.links: dict[int, tuple[int, Impairment]] = {}  # src index -> (dst index, imp)
        self.frames_run = 0
        self._engine: E1Sim | None = None
        self._tx: np.ndarray | None = None
        self._rx: np.ndarray | None = None
        self._hdlc = None
        self._hdlc_links: list[tuple[int, int]] | None = None  # None: modes changed

    # ------------------------------------------------------------------ membership
    def add_span(self, span) -> None:
        """Take ``span`` into this system (from another system with its cables, if any)."""
        if span.system is self:
            return
        if span.system is not None:
            self.adopt(span.system)
            return
        if any(s.name == span.name for s in self.spans):
            raise BoardError(f"a span named {span.name!r} already exists")
        span.system = self
        span.index = len(self.spans)
        self.spans.append(span)
        self._engine = None
        self._hdlc_links = None

    def adopt(self, other: SimSystem) -> None:
        """Move every span, cable and station of ``other`` into this system."""
        base = len(self.spans)
        for s in other.spans:
            if any(t.name == s.name for t in self.spans):
                raise BoardError(f"a span named {s.name!r} already exists")
        for s in other.spans:
            s.system = self
            s.index += base
            self.spans.append(s)
        for src, (dst, imp) in other.links.items():
            self.links[src + base] = (dst + base, imp)
        for st in other.stations:
            self.add_station(st)
        other.spans, other.links, other.stations = [], {}, []
        other._engine = None
        self._engine = None
        self._hdlc_links = None

    def add_station(self, station) -> None:
        if station not in self.stations:
            self.stations.append(station)

    def span(self, name: str):
        for s in self.spans:
            if s.name == name:
                return s
        raise KeyError(f"no span named {name!r}")

    # ------------------------------------------------------------------ wiring
    def connect(self, src, dst) -> None:
        """Direction ``src -> dst`` (both SimSpan); a span feeds one receiver only."""
        for s in (src, dst):
            self.add_span(s)
        for other, (d, _) in list(self.links.items()):
            if d == dst.index and other != src.index:
                raise BoardError(f"span {dst.name!r} already receives from "
                                 f"{self.spans[other].name!r}; unplug it first")
        self.links[src.index] = (dst.index, Impairment())
        self._apply_links()

    def disconnect(self, src) -> None:
        self.links.pop(src.index, None)
        if self._engine is not None:
            self._engine.connect(src.index, -1)
        self._apply_links()

    def set_impairment(self, src, imp: Impairment) -> None:
        if src.index not in self.links:
            raise BoardError(f"span {src.name!r} transmits into no cable")
        self.links[src.index] = (self.links[src.index][0], imp)
        self._apply_links()

    # ------------------------------------------------------------------ clocks
    def _local_ppm(self, span, seen: frozenset = frozenset()) -> float:
        """Clock of ``span`` relative to nominal (a timing loop counts as 0 ppm)."""
        if span.name in seen:
            return 0.0
        kind, arg = parse_clock(span.config.clock)
        if kind == "master":
            return 0.0
        if kind == "free-run":
            return arg
        try:
            ref = self.span(arg)
        except KeyError:
            raise BoardError(f"span {span.name!r}: clock slave to unknown span {arg!r}") from None
        feeder = next((src for src, (d, _) in self.links.items() if d == ref.index), None)
        if feeder is None:
            return 0.0  # nothing received: holdover at nominal
        return self._local_ppm(self.spans[feeder], seen | {span.name}) + self.links[feeder][1].ppm

    def _apply_links(self) -> None:
        eng = self._engine
        if eng is None:
            return
        for src in self.spans:
            link = self.links.get(src.index)
            if link is None:
                eng.connect(src.index, -1)
                eng.impair(src.index, los=not src.enabled)
                continue
            dst_i, imp = link
            dst = self.spans[dst_i]
            eng.connect(src.index, dst_i)
            rel = self._local_ppm(src) + imp.ppm - self._local_ppm(dst)
            burst_bits, period = (0, 0) if imp.burst is None else (
                imp.burst[0], int(round(imp.burst[1] * LINE_RATE)))
            eng.impair(src.index, ber=imp.ber, burst_bits=burst_bits, burst_period_bits=period,
                       ppm=rel, los=imp.los or not src.enabled, ais=imp.ais,
                       delay_bits=imp.delay_bits)

    # ------------------------------------------------------------------ engine
    def engine(self) -> E1Sim:
        """The C engine, (re)built when spans were added (counters restart then)."""
        if self._engine is None:
            if not self.spans:
                raise BoardError("no spans in the system")
            eng = E1Sim(len(self.spans), self.max_frames)
            self._engine = eng
            for s in self.spans:
                s._apply(eng)
            self._apply_links()
            self._hdlc = None
            self._tx = self._rx = None
        return self._engine

    def _buffers(self, frames: int) -> tuple[np.ndarray, np.ndarray]:
        if self._tx is None or self._tx.shape[2] != frames:
            self._tx = np.empty((len(self.spans), 32, frames), np.uint8)
            self._rx = np.full((len(self.spans), 32, frames), 0xFF, np.uint8)
        return self._tx, self._rx

    def hdlc_links(self) -> list[tuple[int, int]]:
        """(span index, timeslot) of every HDLC timeslot, in bank link order."""
        if self._hdlc_links is None:
            self._hdlc_links = [(s.index, ts) for s in self.spans
                                for ts, m in sorted(s.modes.items()) if m is ChannelMode.HDLC]
        return self._hdlc_links

    def modes_changed(self) -> None:
        self._hdlc_links = None

    def _hdlc_bank(self):
        links = self.hdlc_links()
        if not links:
            return None
        if self._hdlc is None or self._hdlc.links != links:
            from drivers.sim.hdlc import HdlcPlug
            self._hdlc = HdlcPlug(links)
        return self._hdlc

    def tick(self, frames: int = 160) -> None:
        """Advance every span, cable and station by ``frames`` frames (125 us each)."""
        if not 1 <= frames <= self.max_frames:
            raise ValueError(f"frames must be 1..{self.max_frames}")
        if self.spans:
            self._tick_spans(frames)
        for st in self.stations:
            st.tick(frames)
        self.frames_run += frames

    def _tick_spans(self, frames: int) -> None:
        eng = self.engine()
        tx, rx = self._buffers(frames)
        for s in self.spans:
            s._fill_tx(tx[s.index])
        hdlc = self._hdlc_bank()
        if hdlc is not None:
            hdlc.transmit(tx)
        eng.tick(tx, rx)
        if hdlc is not None:
            hdlc.receive(rx, self.spans)
        for s in self.spans:
            s._rx_block = rx[s.index]

    def run(self, seconds: float, frames: int = 160) -> None:
        """Tick for ``seconds`` of line time in blocks of ``frames``."""
        for _ in range(int(round(seconds * FRAME_RATE / frames))):
            self.tick(frames)

    @property
    def time(self) -> float:
        """Line time simulated so far, seconds."""
        return self.frames_run / FRAME_RATE


_DIRECTIONS = ("a->b", "b->a", "both")


class Cable:
    """Two spans back to back; each direction impairable separately at run time."""

    def __init__(self, a, b, system: SimSystem | None = None) -> None:
        if a is b:
            raise BoardError("a cable joins two spans; use LoopPlug for one")
        self.a, self.b = a, b
        sys_ = system or a.system or SimSystem()
        sys_.add_span(a)
        sys_.add_span(b)
        self.system.connect(a, b)
        self.system.connect(b, a)

    @property
    def system(self) -> SimSystem:
        """The system both ends are in now (systems merge when cables join them)."""
        return self.a.system

    def _ends(self, direction: str):
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be one of {_DIRECTIONS}")
        return {"a->b": [self.a], "b->a": [self.b], "both": [self.a, self.b]}[direction]

    def impair(self, direction: str, **kw) -> Impairment:
        """Set the impairments of a direction (those not named are cleared).

        ``ber=1e-4``, ``burst=(bits, period_s)``, ``ppm=100``, ``los=True``, ``ais=True``,
        ``delay_bits=3``; no keywords: a clean direction."""
        names = {f.name for f in fields(Impairment)}
        unknown = set(kw) - names
        if unknown:
            raise TypeError(f"unknown impairment {sorted(unknown)}; known: {sorted(names)}")
        imp = Impairment(**kw)
        for src in self._ends(direction):
            self.system.set_impairment(src, imp)
        return imp

    def impairment(self, direction: str) -> Impairment:
        return self.system.links[self._ends(direction)[0].index][1]

    def unplug(self) -> None:
        self.system.disconnect(self.a)
        self.system.disconnect(self.b)


class LoopPlug:
    """A span's transmit wired to its own receive (a hardware loop plug)."""

    def __init__(self, span, system: SimSystem | None = None) -> None:
        self.span = span
        (system or span.system or SimSystem()).add_span(span)
        self.system.connect(span, span)

    @property
    def system(self) -> SimSystem:
        return self.span.system

    def impair(self, **kw) -> Impairment:
        imp = Impairment(**kw)
        self.system.set_impairment(self.span, imp)
        return imp

    def unplug(self) -> None:
        self.system.disconnect(self.span)
