"""Voice resources (the dxxx channels of an R4 voice board) as one kernel stage.

Each channel owns one fabric slot.  What the channel *sends* (play, dial) is written
into that slot's receive row before the fabric runs, so anything listening to the
channel's transmit slot hears it; what the channel *hears* is what the fabric routed
into the slot's transmit row (dx_listen), which feeds one DTMF detector bank (one C call
for all channels, Q.24 digits), the recorders and the energy meter.

Per tick the stage evaluates every running operation against its compiled DV_TPT
(:class:`drivers.dialogic.tables.Terminators`) and ends it with the ATDX_TERMMSK bits of
every condition met in that tick.
"""

from __future__ import annotations

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
    sync: bool
    data: np.ndarray | None = None  # play: law-coded octets
    pos: int = 0
    sinks: list[Sink] = field(default_factory=list)
    finish: Callable[[Operation], None] | None = None  # record: write a WAV header etc.
    digit_out: object = None  # DV_DIGIT for dx_getdig
    parts: list[str] = field(default_factory=list)  # dial: DTMF runs and ',' pauses
    wait: int = 0  # dial: frames of pause left
    got: str = ""  # digits collected (getdig) or received (play/record)
    frames: int = 0
    since_digit: int = 0
    sil_run: int = 0
    nosil_run: int = 0
    heard_voice: bool = False
    termmsk: int = 0
    transferred: int = 0
    convert: Callable[[np.ndarray], np.ndarray] | None = None  # record: to the file's coding


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
        self.gen = ToneGenerator(channels, law=self.law)
        self._scratch = np.empty((channels, kernel.block), np.uint8)
        self._lin = decode(np.arange(256, dtype=np.uint8), self.law).astype(np.float64)
        self._sil_limit = (_FULL_SCALE_RMS * 10 ** (SILENCE_DBM0 / 20)) ** 2
        self.on_done = on_done
        self.on_cst = on_cst
        self.chans: list[VoiceChannel] = []
        self._active: dict[int, VoiceChannel] = {}
        self._dialing: set[int] = set()
        self._levels: np.ndarray | None = None
        self._events: list = []
        kernel.add_stage(self)

    # --- kernel stage ------------------------------------------------------------------
    def rx(self, rx: np.ndarray, frame: int) -> None:
        rows = rx[self.base:self.base + self.n]
        rows[:] = self.silence
        if self._dialing:
            self.gen.generate(self._scratch)
        for i, ch in self._active.items():
            op = ch.op
            if op.kind == C.TDX_PLAY:
                chunk = op.data[op.pos:op.pos + rows.shape[1]]
                rows[i, :len(chunk)] = chunk
                op.pos += len(chunk)
                op.transferred += len(chunk)
            elif op.kind == C.TDX_DIAL:
                rows[i] = self._scratch[i]

    def tx(self, tx: np.ndarray, frame: int) -> None:
        heard = tx[self.base:self.base + self.n]
        self._events = self.dtmf.process(heard)
        need_level = any(c.evtmask & (C.DM_SILON | C.DM_SILOF) for c in self.chans) or any(
            c.op.kind == C.TDX_RECORD or c.op.term.max_sil or c.op.term.max_nosil
            for c in self._active.values())
        if need_level:
            lin = self._lin[heard]
            self._levels = np.mean(lin * lin, axis=1)
        else:
            self._levels = None
        for i, ch in self._active.items():
            if ch.op.kind == C.TDX_RECORD:
                row = heard[i] if ch.op.convert is None else ch.op.convert(heard[i])
                self._write(ch.op, row.tobytes())

    def drain(self) -> list:
        block = self.kernel.block
        for ev in self._events:
            if ev.kind == Kind.DTMF:
                self._digit(self.chans[ev.channel], chr(ev.value))
        self._events = []
        if self._levels is not None:
            self._silence_events(block)
        for ch in list(self._active.values()):
            self._evaluate(ch, block)
        return []

    # --- digits and CST ------------------------------------------------------------------
    def _digit(self, ch: VoiceChannel, d: str) -> None:
        if len(ch.digits) >= C.DG_MAXDIGS:
            ch.digits.pop(0)  # DX_DIGCYCLIC: the oldest digit makes room
        ch.digits.append(d)
        if ch.evtmask & C.DM_DIGITS:
            self.on_cst(ch, C.DE_DIGITS, ord(d))
        op = ch.op
        if op is not None:
            op.since_digit = 0
            if op.kind != C.TDX_GETDIG:  # dx_getdig takes its digits from the buffer
                op.got += d

    def _silence_events(self, block: int) -> None:
        debounce = int(self.timers.values["silence_debounce"] * 8000)
        quiet = self._levels < self._sil_limit
        for ch in self.chans:
            if quiet[ch.index] == ch.silent:
                ch.sil_count = 0
                continue
            ch.sil_count += block
            if ch.sil_count >= debounce:
                ch.silent, ch.sil_count = bool(quiet[ch.index]), 0
                ev = C.DE_SILON if ch.silent else C.DE_SILOF
                if ch.evtmask & (C.DM_SILON if ch.silent else C.DM_SILOF):
                    self.on_cst(ch, ev, 0)

    # --- operations --------------------------------------------------------------------------
    def start(self, ch: VoiceChannel, op: Operation) -> None:
        """Begin ``op``; level-sensitive terminators already true end it at once."""
        t = op.term
        if t.clear_digits_begin:
            ch.digits.clear()
        ch.op = op
        ch.last_termmsk = 0
        if op.kind == C.TDX_GETDIG:
            op.got = ""
            while ch.digits and not op.termmsk:
                op.got += ch.digits.pop(0)
                op.termmsk = self._digit_terms(ch, op)
        elif ch.digits:
            buffered = "".join(ch.digits)
            if t.digit_mask_level and t.digit_mask and set(buffered) & set(mask_digits(t.digit_mask)):
                op.termmsk |= C.TM_DIGIT
            if t.digit_type and set(buffered) & set(t.digit_type):
                op.termmsk |= C.TM_DIGIT
            if t.max_digits_level and t.max_digits and len(buffered) >= t.max_digits:
                op.termmsk |= C.TM_MAXDTMF
        if op.kind == C.TDX_DIAL:
            self._dialing.add(ch.index)
            self._dial_step(ch, op, 0)
        self._active[ch.index] = ch
        if op.termmsk:
            self.finish(ch, op.termmsk)

    def _digit_terms(self, ch: VoiceChannel, op: Operation) -> int:
        """TM_* bits the digits collected so far meet (dx_getdig)."""
        t, m = op.term, 0
        if op.got:
            last = op.got[-1]
            if t.digit_mask and last in mask_digits(t.digit_mask):
                m |= C.TM_DIGIT
            if last in t.digit_type:
                m |= C.TM_DIGIT
        if t.max_digits and len(op.got) >= t.max_digits:
            m |= C.TM_MAXDTMF
        if len(op.got) >= C.DG_MAXDIGS:
            m |= C.TM_MAXDTMF
        return m

    def _evaluate(self, ch: VoiceChannel, block: int) -> None:
        op, t = ch.op, ch.op.term
        op.frames += block
        op.since_digit += block
        m = 0
        if op.kind == C.TDX_GETDIG:
            while ch.digits and not m:
                op.got += ch.digits.pop(0)
                m = self._digit_terms(ch, op)
            got = op.got
        else:
            got = op.got
            if got:
                if t.digit_mask and set(got) & set(mask_digits(t.digit_mask)):
                    m |= C.TM_DIGIT
                if t.digit_type and set(got) & set(t.digit_type):
                    m |= C.TM_DIGIT
                if t.max_digits and len(ch.digits if t.max_digits_level else got) >= t.max_digits:
                    m |= C.TM_MAXDTMF
        if t.max_time is not None and op.frames >= t.max_time:
            m |= C.TM_MAXTIME
        if t.idd is not None and (got or not t.idd_after_first):
            limit = t.idd if got or t.idd_first is None else t.idd_first
            if op.since_digit >= limit:
                m |= C.TM_IDDTIME
        if self._levels is not None and (t.max_sil or t.max_nosil):
            if self._levels[ch.index] < self._sil_limit:
                op.sil_run += block
                op.nosil_run = 0
            else:
                op.nosil_run += block
                op.sil_run = 0
                op.heard_voice = True
            sil_limit = t.max_sil if op.heard_voice or t.max_sil_init is None else t.max_sil_init
            if t.max_sil and op.sil_run >= sil_limit:
                m |= C.TM_MAXSIL
            if t.max_nosil and op.nosil_run >= t.max_nosil:
                m |= C.TM_MAXNOSIL
        if op.kind == C.TDX_PLAY and op.pos >= len(op.data):
            m |= C.TM_EOD
        elif op.kind == C.TDX_DIAL and not self._dial_step(ch, op, block):
            self.finish(ch, m)  # the whole string sent: TM_NORMTERM
            return
        elif op.kind == C.TDX_RECORD and op.sinks and all(
                s.capacity is not None and s.written >= s.capacity for s in op.sinks):
            m |= C.TM_EOD
        if m:
            self.finish(ch, m)

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

    def _write(self, op: Operation, data: bytes) -> None:
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
                return

    def finish(self, ch: VoiceChannel, termmsk: int) -> None:
        """End the channel's operation with ``termmsk`` and report it."""
        op = ch.op
        if op is None:
            return
        ch.op = None
        self._active.pop(ch.index, None)
        if op.kind == C.TDX_DIAL:
            self.gen.stop(ch.index)
            self._dialing.discard(ch.index)
        op.termmsk = termmsk
        ch.last_termmsk, ch.last_transferred = termmsk, op.transferred
        if op.finish is not None:
            op.finish(op)
        self.on_done(ch, op)
