"""Simulated analog station board: extensions for agents and test phones.

Each station is a voice channel (one row of the board's ``(stations, frames)`` blocks)
with a simulated handset on it.  The handset goes off-hook and on-hook, flashes, dials
DTMF (through :class:`timeslot.tonegen.ToneGenerator`, Q.23 frequencies) and talks
(plays a buffer of G.711 codes); what the board writes to it is kept and can be
inspected.  The board rings a station with a cadence from :data:`RING_CADENCES` and
stops on ring trip (answer).

Hook changes are debounced and a short break is a flash (register recall) according
to :data:`STATION_TIMERS`; the line-state machine is :data:`HOOK_FSM`.  Events (off-hook,
on-hook, flash) queue on the board with their line time.
"""

from __future__ import annotations

import collections
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.fsm import FsmTable, Machine, Row
from core.timers import TimerSpec, TimerTable
from drivers.base import Board
from timeslot.g711 import encode, silence
from timeslot.tonegen import ToneGenerator

FRAME_RATE = 8000

STATION_TIMERS = TimerTable([
    TimerSpec("hook_debounce", 30, "ms", "station board",
              "off-hook must be steady this long before it is reported"),
    TimerSpec("flash_min", 80, "ms", "station board",
              "shorter on-hook breaks are contact bounce, ignored"),
    TimerSpec("flash_max", 600, "ms", "station board",
              "a break up to this long is a flash (recall); longer is on-hook"),
])

# ringing cadences, alternating on/off in ms, repeated (E.180 cl. 3 range 0.67-1.5 s on,
# 3-5 s off; national plans)
RING_CADENCES: dict[str, tuple[int, ...]] = {
    "itu": (1000, 4000),
    "china": (1000, 4000),
    "us": (2000, 4000),
    "uk": (400, 200, 400, 2000),
}

HOOK_FSM = FsmTable("station-hook", ("on-hook", "seizing", "off-hook", "break"), [
    Row("on-hook", "lift", "start_debounce", "seizing"),
    Row("seizing", "hang", "cancel", "on-hook"),  # bounce: nothing reported
    Row("seizing", "steady", "report_off_hook", "off-hook"),
    Row("off-hook", "hang", "start_break", "break"),
    Row("break", "lift", "end_break", "off-hook"),
    Row("break", "steady", "report_on_hook", "on-hook"),
    Row("on-hook", "hang"),
    Row("off-hook", "lift"),
    Row("seizing", "lift"),
    Row("break", "hang"),
])


@dataclass(frozen=True)
class StationEvent:
    kind: str  # "off-hook", "on-hook" or "flash"
    station: int
    time: float  # board line time, seconds


class _HookLine(Machine):
    """Hook detector of one station (debounce, flash window)."""

    fsm = HOOK_FSM

    def __init__(self, board: StationBoard, index: int) -> None:
        self.board = board
        self.index = index
        self.state = "on-hook"
        self.deadline: float | None = None
        self.break_at = 0.0
        self.now = 0.0

    def start_debounce(self) -> None:
        self.deadline = self.now + self.board.timers.values["hook_debounce"]

    def cancel(self) -> None:
        self.deadline = None

    def report_off_hook(self) -> None:
        self.deadline = None
        self.board._event("off-hook", self.index, self.now)

    def start_break(self) -> None:
        self.break_at = self.now
        self.deadline = self.now + self.board.timers.values["flash_max"]

    def end_break(self) -> None:
        self.deadline = None
        if self.now - self.break_at >= self.board.timers.values["flash_min"]:
            self.board._event("flash", self.index, self.now)

    def report_on_hook(self) -> None:
        self.deadline = None
        self.board._event("on-hook", self.index, self.break_at)

    def at(self, t: float, event: str) -> None:
        self.now = t
        self.dispatch(event)


class Handset:
    """The simulated phone on a station: what a person does with it."""

    def __init__(self, board: StationBoard, index: int) -> None:
        self.board = board
        self.index = index
        self.off_hook = False
        self.answer_after: int | None = None  # rings before lifting by itself
        self.rings_heard = 0
        self._talk: collections.deque[np.ndarray] = collections.deque()
        self._heard: list[np.ndarray] = []

    def lift(self, after: float = 0.0) -> None:
        self.board._at(after, self._set_hook, True)

    def hang_up(self, after: float = 0.0) -> None:
        self.board._at(after, self._set_hook, False)

    def flash(self, ms: float = 250.0, after: float = 0.0) -> None:
        """A timed break: on-hook for ``ms``, then off-hook again."""
        self.hang_up(after)
        self.lift(after + ms / 1000.0)

    def dial(self, digits: str, on_ms: float = 100.0, off_ms: float = 100.0) -> None:
        """DTMF digits (Q.23), sent while off-hook."""
        self.board.tonegen.dtmf(self.index, digits, on_ms, off_ms)

    def talk(self, audio: np.ndarray) -> None:
        """Queue speech, spoken into the line once off-hook: G.711 codes of the board's
        law (uint8) or linear samples (int16, encoded here)."""
        audio = np.asarray(audio)
        if audio.ndim != 1 or audio.dtype not in (np.uint8, np.int16):
            raise ValueError("talk takes a 1-D array: uint8 G.711 codes or int16 samples")
        self._talk.append(encode(audio, self.board.law) if audio.dtype == np.int16
                          else audio.copy())

    @property
    def talking(self) -> bool:
        return bool(self._talk) or self.board.tonegen.busy(self.index)

    @property
    def ringing(self) -> bool:
        return self.board.ringing(self.index)

    def received(self) -> np.ndarray:
        """Everything the board sent to this phone while it was off-hook."""
        return np.concatenate(self._heard) if self._heard else np.zeros(0, np.uint8)

    def clear_received(self) -> None:
        self._heard.clear()

    def _set_hook(self, t: float, off: bool) -> None:
        self.off_hook = off
        self.board._line[self.index].at(t, "lift" if off else "hang")
        if off:
            self.board._ring_trip(self.index)
        else:
            self.board.tonegen.stop(self.index)
            self._talk.clear()

    def _speak(self, out: np.ndarray) -> None:
        """Fill ``out`` (one block of this channel) from the talk queue."""
        pos = 0
        while pos < out.shape[0] and self._talk:
            buf = self._talk[0]
            n = min(out.shape[0] - pos, buf.shape[0])
            out[pos:pos + n] = buf[:n]
            pos += n
            if n == buf.shape[0]:
                self._talk.popleft()
            else:
                self._talk[0] = buf[n:]


class StationBoard(Board):
    """``stations`` analog extensions; blocks are ``(stations, frames)`` G.711 codes."""

    def __init__(self, name: str, stations: int = 8, law: str = "alaw",
                 cadence: str = "itu", timers: TimerTable | None = None, system=None) -> None:
        if stations < 1:
            raise ValueError("a station board has at least one station")
        if cadence not in RING_CADENCES:
            raise ValueError(f"unknown ring cadence {cadence!r} (known: {', '.join(RING_CADENCES)})")
        self.name = name
        self.spans = []
        self.law = law
        self.cadence = cadence
        self.timers = timers or STATION_TIMERS
        self.tonegen = ToneGenerator(stations, law)
        self.silence = silence(law)
        self.handsets = [Handset(self, i) for i in range(stations)]
        self._line = [_HookLine(self, i) for i in range(stations)]
        self._ring: dict[int, tuple[float, tuple[int, ...]]] = {}
        self._events: collections.deque[StationEvent] = collections.deque()
        self._actions: list = []
        self._seq = itertools.count()
        self._tx: np.ndarray | None = None
        self._rx: np.ndarray | None = None
        self.frames = 0
        self.opened = False
        if system is not None:
            system.add_station(self)

    # -------------------------------------------------------------- Board
    def open(self) -> None:
        self.opened = True

    def close(self) -> None:
        self.opened = False
        for i in list(self._ring):
            self.stop_ring(i)

    @property
    def time(self) -> float:
        return self.frames / FRAME_RATE

    # -------------------------------------------------------------- control
    def ring(self, station: int, cadence: str | None = None) -> None:
        """Start ringing (the cadence restarts with a ring)."""
        cad = RING_CADENCES[cadence or self.cadence]
        self._check(station)
        if not self.handsets[station].off_hook:
            self._ring[station] = (self.time, cad)

    def stop_ring(self, station: int) -> None:
        self._ring.pop(station, None)

    def ringing(self, station: int, t: float | None = None) -> bool:
        """Ring voltage on at ``t`` (default now)."""
        entry = self._ring.get(station)
        if entry is None:
            return False
        start, cad = entry
        phase = ((self.time if t is None else t) - start) * 1000.0 % sum(cad)
        for k, ms in enumerate(cad):
            if phase < ms:
                return k % 2 == 0
            phase -= ms
        return False

    def hook(self, station: int) -> str:
        """Reported line state: on-hook, seizing, off-hook or break."""
        return self._line[station].state

    def events(self) -> list[StationEvent]:
        out = list(self._events)
        self._events.clear()
        return out

    def _check(self, station: int) -> None:
        if not 0 <= station < len(self.handsets):
            raise IndexError(f"station {station} out of range")

    def _event(self, kind: str, station: int, t: float) -> None:
        self._events.append(StationEvent(kind, station, t))

    def _ring_trip(self, station: int) -> None:
        self._ring.pop(station, None)

    def _at(self, after: float, fn: Callable, *args) -> None:
        heapq.heappush(self._actions, (self.time + max(0.0, after), next(self._seq), fn, args))

    # -------------------------------------------------------------- audio
    def write_block(self, block: np.ndarray) -> None:
        block = np.asarray(block)
        if block.dtype != np.uint8 or block.shape[:1] != (len(self.handsets),) or block.ndim != 2:
            raise ValueError(f"block must be uint8 of shape ({len(self.handsets)}, frames)")
        self._tx = block

    def read_block(self, frames: int) -> np.ndarray:
        if self._rx is None or self._rx.shape[1] != frames:
            raise ValueError(f"no block of {frames} frames: tick with that block size first")
        return self._rx.copy()

    # -------------------------------------------------------------- time
    def tick(self, frames: int) -> None:
        """Advance ``frames`` frames: handset actions, hook timing, ringing, audio."""
        t0, t1 = self.time, (self.frames + frames) / FRAME_RATE
        self._run_until(t1)
        self._count_rings(t0, t1)
        out = self.tonegen.generate(frames=frames)
        for h in self.handsets:
            row = out[h.index]
            if not h.off_hook:
                row[:] = self.silence
            elif not self.tonegen.busy(h.index) and h._talk:
                h._speak(row)
        self._rx = out
        if self._tx is not None and self._tx.shape[1] == frames:
            for h in self.handsets:
                if h.off_hook:
                    h._heard.append(self._tx[h.index].copy())
        self._tx = None
        self.frames += frames

    def _run_until(self, t1: float) -> None:
        while True:
            due = [(ln.deadline, ln) for ln in self._line if ln.deadline is not None]
            nxt_line = min(due, key=lambda d: d[0]) if due else None
            nxt_act = self._actions[0][0] if self._actions else None
            if nxt_act is not None and nxt_act <= t1 and (nxt_line is None or nxt_act <= nxt_line[0]):
                t, _, fn, args = heapq.heappop(self._actions)
                fn(t, *args)
            elif nxt_line is not None and nxt_line[0] <= t1:
                nxt_line[1].at(nxt_line[0], "steady")
            else:
                return

    def _count_rings(self, t0: float, t1: float) -> None:
        for station, (start, cad) in list(self._ring.items()):
            h = self.handsets[station]
            period = sum(cad) / 1000.0
            starts = [start + (sum(cad[:k]) / 1000.0) for k in range(0, len(cad), 2)]
            n = 0
            for s in starts:
                # ring bursts beginning in [t0, t1)
                first = max(0, int(np.ceil((t0 - s) / period - 1e-12)))
                last = int(np.ceil((t1 - s) / period - 1e-12))
                n += max(0, last - first)
            h.rings_heard += n
            if h.answer_after is not None and h.rings_heard >= h.answer_after and not h.off_hook:
                h.lift()
