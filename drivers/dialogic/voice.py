"""Voice resources (the dxxx channels of an R4 voice board) as one kernel stage.

Each channel owns one fabric slot.  What the channel *sends* (play, dial) is written
into that slot's receive row before the fabric runs, so anything listening to the
channel's transmit slot hears it; what the channel *hears* is what the fabric routed
into the slot's transmit row (dx_listen), which feeds one DTMF detector bank (one C call
for all channels, Q.24 digits), the recorders and the energy meter.

Terminators (:class:`drivers.dialogic.tables.Terminators`) are checked where their
condition can change, not by visiting every operation every tick: digit conditions on
each digit, time limits from a deadline heap, silence/non-silence run lengths as numpy
arrays over all channels, end of data where the player or recorder runs out.  An
operation ends with the ATDX_TERMMSK bits of every condition met in that tick.
"""

from __future__ import annotations

import heapq
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.timers import TimerSpec, TimerTable
from drivers.dialogic import constants as C
from drivers.dialogic.tables import Terminators, mask_digits
from timeslot.events import Kind

# dialling and detection parameters (Dialogic board/channel parameter equivalents)
VOICE_TIMERS = TimerTable([
    TimerSpec("dtmf_on", 100, "ms", "DXCH_TTDATA", "length of each DTMF digit dx_dial sends"),
    TimerSpec("dtmf_idd", 100, "ms", "DXBD_T_IDD", "pause after each DTMF digit dx_dial sends"),
    TimerSpec("dial_pause", 2000, "ms", "DXBD_PAUSETM", "pause for ',' in a dial string"),
    TimerSpec("silence_debounce", 100, "ms", "DXBD_S_BNC",
              "silence/non-silence must last this long before DE_SILON/DE_SILOF"),
])
SILENCE_DBM0 = -40.0  # input below this level counts as silence (TM_MAXSIL, DE_SILON)
_FULL_SCALE_RMS = 22_000.0  # ~0 dBm0 sine rms in linear PCM16 (G.711 3.14 dBm0 full scale)


@dataclass
class Sink:
    """One record destination (an IOTT entry): fd or buffer, offset, capacity."""

    fd: int | None
    buf: bytearray | None
    offset: int
    capacity: int | None  # None: unlimited
    written: int = 0


@dataclass
class Operation:
    kind: int  # TDX_PLAY, TDX_RECORD, TDX_GETDIG, TDX_DIAL
    term: Terminators
    data: np.ndarray | None = None  # play: law-coded octets
    pos: int = 0
    sinks: list[Sink] = field(default_factory=list)
    finish: Callable[[Operation], None] | None = None  # record: write a WAV header etc.
    digit_out: object = None  # DV_DIGIT for dx_getdig
    parts: list[str] = field(default_factory=list)  # dial: DTMF runs and ',' pauses
    wait: int = 0  # dial: frames of pause left
    got: str = ""  # digits collected (getdig) or received (play/record)
    start: int = 0  # bank frame count when it began
    last_digit: int | None = None  # frame count of the last digit
    termmsk: int = 0
    transferred: int = 0
    convert: Callable[[np.ndarray], np.ndarray] | None = None  # record: to the file's coding
    error: str = ""  # why it ended with TM_ERROR


@dataclass
class VoiceChannel:
    board: int
    number: int
    index: int  # row in the bank
    slot: int  # fabric slot (its transmit slot on the bus)
    digits: list[str] = field(default_factory=list)
    op: Operation | None = None
    last_termmsk: int = 0
    last_transferred: int = 0
    evtmask: int = 0
    silent: bool = True
    sil_count: int = 0
    bank: VoiceBank | None = None


class VoiceBank:
    """``channels`` voice resources on consecutive fabric slots from ``base``."""

    def __init__(self, kernel, base: int, channels: int, on_done: Callable, on_cst: Callable,
                 timers: TimerTable = VOICE_TIMERS) -> None:
        from timeslot.dtmf import DtmfDetector
        from timeslot.g711 import decode, silence
        from timeslot.tonegen import ToneGenerator

        self.kernel = kernel
        self.base = base
        self.n = channels
        self.law = kernel.law
        self.timers = timers
        self.silence = silence(self.law)
        self.dtmf = DtmfDetector(channels, law=self.law)
        for i in range(channels):
            self.dtmf.set_enabled(i, False)  # detection runs while the device is open
        self.gen = ToneGenerator(channels, law=self.law)
        self._scratch = np.empty((channels, kernel.block), np.uint8)
        lin = decode(np.arange(256, dtype=np.uint8), self.law).astype(np.float32)
        self._sq = lin * lin  # energy of each G.711 code
        self._quiet_below = np.float32((_FULL_SCALE_RMS * 10 ** (SILENCE_DBM0 / 20)) ** 2)
        self.on_done = on_done
        self.on_cst = on_cst
        self.chans: list[VoiceChannel] = []
        self.now = 0  # frames processed
        self._active: dict[int, VoiceChannel] = {}
        self._players: dict[int, VoiceChannel] = {}
        self._recorders: dict[int, VoiceChannel] = {}
        self._dialing: dict[int, VoiceChannel] = {}
        self._sil_watch: set[int] = set()  # channels with DM_SILON/DM_SILOF
        self._hits: dict[int, int] = {}  # channel -> TM_* bits met this tick
        self._deadlines: list[tuple[int, int, int, Operation]] = []
        self._seq = itertools.count()
        self._events: list = []
        never = np.iinfo(np.int64).max
        self._never = never
        self._sil_run = np.zeros(channels, np.int64)
        self._nosil_run = np.zeros(channels, np.int64)
        self._heard = np.zeros(channels, bool)
        self._sil_lim = np.full(channels, never, np.int64)
        self._sil_init = np.full(channels, never, np.int64)
        self._nosil_lim = np.full(channels, never, np.int64)
        self._measured = 0  # channels whose operation has a silence terminator
        kernel.add_stage(self)

    # --- kernel stage ------------------------------------------------------------------
    def rx(self, rx: np.ndarray, frame: int) -> None:
        rows = rx[self.base:self.base + self.n]
        rows[:] = self.silence
        if self._dialing:
            self.gen.generate(self._scratch)
            for i in self._dialing:
                rows[i] = self._scratch[i]
        width = rows.shape[1]
        for i, ch in self._players.items():
            op = ch.op
            chunk = op.data[op.pos:op.pos + width]
            rows[i, :len(chunk)] = chunk
            op.pos += len(chunk)
            op.transferred += len(chunk)
            if op.pos >= len(op.data):
                self._hit(i, C.TM_EOD)

    def tx(self, tx: np.ndarray, frame: int) -> None:
        heard = tx[self.base:self.base + self.n]
        self._events = self.dtmf.process(heard)
        block = heard.shape[1]
        if self._measured or self._sil_watch:
            quiet = np.take(self._sq, heard).mean(axis=1) < self._quiet_below
            if self._measured:
                self._silence_terms(quiet, block)
            if self._sil_watch:
                self._silence_events(quiet, block)
        for i, ch in self._recorders.items():
            row = heard[i] if ch.op.convert is None else ch.op.convert(heard[i])
            try:
                if self._write(ch.op, row.tobytes()):
                    self._hit(i, C.TM_EOD)
            except OSError as err:  # the file went away under the recording
                ch.op.error = f"record: {err.strerror or err}"
                self._hit(i, C.TM_ERROR)

    def drain(self) -> list:
        self.now += self.kernel.block
        for ev in self._events:
            if ev.kind == Kind.DTMF:
                self._digit(self.chans[ev.channel], chr(ev.value))
        self._events = []
        for i, ch in list(self._dialing.items()):
            if not self._dial_step(ch, ch.op, self.kernel.block):
                self._hit(i, C.TM_NORMTERM)
        while self._deadlines and self._deadlines[0][0] <= self.now:
            _, _, i, op = heapq.heappop(self._deadlines)
            if self.chans[i].op is op:
                self._timers(i, op)
        hits, self._hits = self._hits, {}
        for i, bits in hits.items():
            self.finish(self.chans[i], bits)
        return []

    def _hit(self, i: int, bits: int) -> None:
        self._hits[i] = self._hits.get(i, 0) | bits

    # --- digits, silence, timers ---------------------------------------------------------
    def _digit(self, ch: VoiceChannel, d: str) -> None:
        if len(ch.digits) >= C.DG_MAXDIGS:
            ch.digits.pop(0)  # DX_DIGCYCLIC: the oldest digit makes room
        ch.digits.append(d)
        if ch.evtmask & C.DM_DIGITS:
            self.on_cst(ch, C.DE_DIGITS, ord(d))
        op = ch.op
        if op is None:
            return
        op.last_digit = self.now
        if op.kind == C.TDX_GETDIG:  # dx_getdig takes its digits from the buffer
            bits = self._take_digits(ch, op)
        else:
            op.got += d
            bits = self._edge_digit_terms(ch, op, d)
        if bits:
            self._hit(ch.index, bits)
        elif op.term.idd is not None:
            self._schedule(ch.index, op)

    def _take_digits(self, ch: VoiceChannel, op: Operation) -> int:
        """dx_getdig: move buffered digits into the result until a terminator is met."""
        bits = 0
        while ch.digits and not bits:
            op.got += ch.digits.pop(0)
            bits = self._digit_terms(op)
        return bits

    def _edge_digit_terms(self, ch: VoiceChannel, op: Operation, d: str) -> int:
        """Digit terminators of play/record/dial for a new digit ``d``."""
        t, bits = op.term, 0
        if t.digit_mask and d in mask_digits(t.digit_mask) or d in t.digit_type:
            bits |= C.TM_DIGIT
        if t.max_digits and len(ch.digits if t.max_digits_level else op.got) >= t.max_digits:
            bits |= C.TM_MAXDTMF
        return bits

    @staticmethod
    def _digit_terms(op: Operation) -> int:
        """TM_* bits the digits collected so far meet (dx_getdig)."""
        t, m = op.term, 0
        last = op.got[-1]
        if t.digit_mask and last in mask_digits(t.digit_mask) or last in t.digit_type:
            m |= C.TM_DIGIT
        if t.max_digits and len(op.got) >= t.max_digits or len(op.got) >= C.DG_MAXDIGS:
            m |= C.TM_MAXDTMF
        return m

    def _due(self, op: Operation) -> tuple[int, int]:
        """(TM_* bits due now, next frame count at which a time limit falls due)."""
        t, bits, nxt = op.term, 0, self._never
        if t.max_time is not None:
            end = op.start + t.max_time
            bits |= C.TM_MAXTIME if self.now >= end else 0
            nxt = min(nxt, end)
        if t.idd is not None and (op.last_digit is not None or not t.idd_after_first):
            if op.last_digit is not None:
                end = op.last_digit + t.idd
            else:
                end = op.start + (t.idd if t.idd_first is None else t.idd_first)
            bits |= C.TM_IDDTIME if self.now >= end else 0
            nxt = min(nxt, end)
        return bits, nxt

    def _schedule(self, i: int, op: Operation) -> None:
        _, nxt = self._due(op)
        if nxt != self._never:
            heapq.heappush(self._deadlines, (nxt, next(self._seq), i, op))

    def _timers(self, i: int, op: Operation) -> None:
        bits, nxt = self._due(op)
        if bits:
            self._hit(i, bits)
        elif nxt != self._never:
            heapq.heappush(self._deadlines, (nxt, next(self._seq), i, op))

    def _silence_terms(self, quiet: np.ndarray, block: int) -> None:
        """DX_MAXSIL / DX_MAXNOSIL as run lengths over all channels (numpy)."""
        self._sil_run = np.where(quiet, self._sil_run + block, 0)
        self._nosil_run = np.where(quiet, 0, self._nosil_run + block)
        self._heard |= ~quiet
        sil_lim = np.where(self._heard, self._sil_lim, self._sil_init)
        for i in np.flatnonzero(self._sil_run >= sil_lim):
            self._hit(int(i), C.TM_MAXSIL)
        for i in np.flatnonzero(self._nosil_run >= self._nosil_lim):
            self._hit(int(i), C.TM_MAXNOSIL)

    def _silence_events(self, quiet: np.ndarray, block: int) -> None:
        debounce = int(self.timers.values["silence_debounce"] * 8000)
        for i in self._sil_watch:
            ch = self.chans[i]
            if quiet[i] == ch.silent:
                ch.sil_count = 0
                continue
            ch.sil_count += block
            if ch.sil_count >= debounce:
                ch.silent, ch.sil_count = bool(quiet[i]), 0
                if ch.evtmask & (C.DM_SILON if ch.silent else C.DM_SILOF):
                    self.on_cst(ch, C.DE_SILON if ch.silent else C.DE_SILOF, 0)

    def set_open(self, ch: VoiceChannel, on: bool) -> None:
        """dx_open starts digit detection and buffering on the channel; dx_close stops it."""
        self.dtmf.reset(ch.index)
        self.dtmf.set_enabled(ch.index, on)
        ch.digits.clear()
        if not on:
            self.set_evtmask(ch, 0)

    def set_evtmask(self, ch: VoiceChannel, mask: int) -> None:
        ch.evtmask = mask
        if mask & (C.DM_SILON | C.DM_SILOF):
            self._sil_watch.add(ch.index)
        else:
            self._sil_watch.discard(ch.index)

    # --- operations --------------------------------------------------------------------------
    def start(self, ch: VoiceChannel, op: Operation) -> None:
        """Begin ``op``; level-sensitive terminators already true end it at once."""
        t, i = op.term, ch.index
        if t.clear_digits_begin:
            ch.digits.clear()
        ch.op, op.start = op, self.now
        ch.last_termmsk = 0
        if op.kind == C.TDX_GETDIG:
            op.termmsk = self._take_digits(ch, op)
        elif ch.digits:
            buffered = "".join(ch.digits)
            if t.digit_mask_level and t.digit_mask and set(buffered) & set(mask_digits(t.digit_mask)):
                op.termmsk |= C.TM_DIGIT
            if t.digit_type and set(buffered) & set(t.digit_type):
                op.termmsk |= C.TM_DIGIT
            if t.max_digits_level and t.max_digits and len(buffered) >= t.max_digits:
                op.termmsk |= C.TM_MAXDTMF
        self._active[i] = ch
        {C.TDX_PLAY: self._players, C.TDX_RECORD: self._recorders,
         C.TDX_DIAL: self._dialing}.get(op.kind, {})[i] = ch
        if op.kind == C.TDX_DIAL:
            self._dial_step(ch, op, 0)
        if t.max_sil or t.max_nosil:
            self._measured += 1
            self._sil_run[i] = self._nosil_run[i] = 0
            self._heard[i] = False
            self._sil_lim[i] = t.max_sil or self._never
            self._sil_init[i] = t.max_sil_init or self._sil_lim[i]
            self._nosil_lim[i] = t.max_nosil or self._never
        self._schedule(i, op)
        if op.termmsk:
            self.finish(ch, op.termmsk)

    def _dial_step(self, ch: VoiceChannel, op: Operation, block: int) -> bool:
        """Advance a dial string (DTMF runs and ',' pauses); False once all is sent."""
        if self.gen.busy(ch.index):
            return True
        if op.wait > 0:
            op.wait -= block
            return True
        if not op.parts:
            return False
        part = op.parts.pop(0)
        if part == ",":
            op.wait = int(self.timers.values["dial_pause"] * 8000) - block
        else:
            v = self.timers.values
            self.gen.dtmf(ch.index, part, on_ms=v["dtmf_on"] * 1000, off_ms=v["dtmf_idd"] * 1000)
        return True

    def _write(self, op: Operation, data: bytes) -> bool:
        """Append recorded octets to the sinks in order; True once every sink is full."""
        for s in op.sinks:
            if s.capacity is not None and s.written >= s.capacity:
                continue
            room = len(data) if s.capacity is None else min(len(data), s.capacity - s.written)
            part, data = data[:room], data[room:]
            if s.fd is not None:
                os.pwrite(s.fd, part, s.offset + s.written)
            else:
                at = s.offset + s.written
                s.buf[at:at + len(part)] = part
            s.written += len(part)
            op.transferred += len(part)
            if not data:
                break
        return bool(op.sinks) and all(s.capacity is not None and s.written >= s.capacity
                                      for s in op.sinks)

    def finish(self, ch: VoiceChannel, termmsk: int) -> None:
        """End the channel's operation with ``termmsk`` and report it."""
        op = ch.op
        if op is None:
            return
        ch.op = None
        i = ch.index
        for group in (self._active, self._players, self._recorders, self._dialing):
            group.pop(i, None)
        self._hits.pop(i, None)
        if op.kind == C.TDX_DIAL:
            self.gen.stop(i)
        if op.term.max_sil or op.term.max_nosil:
            self._measured -= 1
            self._sil_lim[i] = self._sil_init[i] = self._nosil_lim[i] = self._never
        op.termmsk = termmsk
        ch.last_termmsk, ch.last_transferred = termmsk, op.transferred
        if op.finish is not None and not termmsk & C.TM_ERROR:
            try:
                op.finish(op)
            except OSError as err:
                op.error = f"record: {err.strerror or err}"
                op.termmsk = ch.last_termmsk = termmsk | C.TM_ERROR
        self.on_done(ch, op)
