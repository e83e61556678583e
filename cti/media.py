"""Media operations on any fabric slot: play, record, collect digits, send DTMF/MF and
tones, call-progress analysis.  All are awaitable and cancellable, and every one ends
with an explicit :class:`Termination` reason.

The :class:`MediaEngine` is one kernel stage: one DTMF detector bank and one tone
generator bank over all slots (one C call each per tick; disabled channels cost
nothing), plus per-slot players and recorders.
"""

from __future__ import annotations

import asyncio
import enum
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from cti.wavstream import PromptStream
from timeslot.events import Event, Kind


class Reason(str, enum.Enum):
    EOD = "end_of_data"  # play: everything played
    DIGIT = "digit"  # a terminating / interrupting digit
    MAXDIGITS = "max_digits"
    FIRST_TIMEOUT = "first_digit_timeout"
    INTER_TIMEOUT = "inter_digit_timeout"
    MAXTIME = "max_time"
    SILENCE = "silence"
    DONE = "done"
    CANCELLED = "cancelled"
    HANGUP = "hangup"


@dataclass
class Termination:
    reason: Reason
    digits: str = ""
    duration_s: float = 0.0
    data: dict = field(default_factory=dict)


class Cancelled(Exception):
    """Raised inside an operation when the slot's media is stopped (hangup, cancel)."""


class _Octets:
    """Law-coded octets in memory as a prompt source (the interface of PromptStream)."""

    def __init__(self, buf: np.ndarray):
        self.buf, self.pos = buf, 0

    def read(self, n: int) -> np.ndarray:
        out = self.buf[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    def close(self) -> None:
        self.pos = len(self.buf)


@dataclass
class _Player:
    """Prompts played back to back: each block is filled from the sources in order."""

    sources: deque
    done: asyncio.Future
    interrupt: str

    def fill(self, out: np.ndarray) -> bool:
        """Write the next block into ``out``; False once every source has ended."""
        k, n = 0, len(out)
        while k < n and self.sources:
            chunk = self.sources[0].read(n - k)
            out[k:k + len(chunk)] = chunk
            k += len(chunk)
            if k < n:
                self.sources.popleft().close()
        return bool(self.sources)

    def close(self) -> None:
        while self.sources:
            self.sources.popleft().close()


@dataclass
class _Analysis:
    """Call-progress analysis of one slot: CPT, fax and talk detectors over its audio."""

    cpt: object
    fax: object
    level: object  # timeslot.level.LevelMeter over 20 ms blocks
    done: asyncio.Future
    voice_frames: int
    seen: list = field(default_factory=list)
    voiced: int = 0  # frames of energetic, non-tonal audio in the current talk spurt
    quiet: int = 0  # frames of silence since the last energetic block


@dataclass
class _Recorder:
    chunks: list
    done: asyncio.Future
    max_frames: int
    talk: object | None  # timeslot.level.TalkDetector whose hangover is the silence time
    terminators: str
    frames: int = 0
    heard: bool = False
    silent_from: int | None = None  # sample where the terminating silence began


class MediaEngine:
    """Per-slot media over the kernel fabric; add it with ``kernel.add_stage``."""

    SILENCE_DBM0 = -45.0  # below this the recorder counts silence
    CPA_TALK_DBM0 = -40.0  # a block at or above this level is talk for call-progress analysis

    def __init__(self, kernel, law: str = "alaw", plan: str = "itu"):
        from timeslot.dtmf import DtmfDetector
        from timeslot.g711 import alaw_decode, ulaw_decode
        from timeslot.tonegen import ToneGenerator

        self.kernel = kernel
        self.law = law
        n = max(kernel.nslots, 1)
        self.dtmf = DtmfDetector(n, law=law)
        for ch in range(n):
            self.dtmf.set_enabled(ch, False)
        self.gen = ToneGenerator(n, law=law, plan=plan)
        self._decode = alaw_decode if law == "alaw" else ulaw_decode
        self._scratch = np.empty((n, kernel.block), np.uint8)
        self.digits: dict[int, list[str]] = {}
        self.digit_waiters: dict[int, asyncio.Future] = {}
        self.players: dict[int, _Player] = {}
        self.analyses: dict[int, _Analysis] = {}
        self.plan = plan
        self.recorders: dict[int, _Recorder] = {}
        self.tones: dict[int, asyncio.Future | None] = {}
        self.listeners: list[Callable[[int, Event], None]] = []
        self._events: list[tuple[int, Event]] = []
        kernel.add_stage(self)

    # --- kernel stage -----------------------------------------------------------
    def rx(self, rx: np.ndarray, frame: int) -> None:
        if self.digits:
            for ev in self.dtmf.process(rx):
                self._events.append((ev.channel, ev))
        for slot, rec in tuple(self.recorders.items()):
            self._record_block(slot, rec, rx[slot])
        for slot, an in tuple(self.analyses.items()):
            self._analyse_block(slot, an, rx[slot:slot + 1])

    def tx(self, tx: np.ndarray, frame: int) -> None:
        if self.tones:
            self.gen.generate(self._scratch)
            for slot, fut in tuple(self.tones.items()):
                tx[slot] = self._scratch[slot]
                if not self.gen.busy(slot):
                    del self.tones[slot]
                    if fut is not None and not fut.done():
                        fut.set_result(None)
        for slot, p in tuple(self.players.items()):
            if not p.fill(tx[slot]):
                del self.players[slot]
                if not p.done.done():
                    p.done.set_result(Termination(Reason.EOD))

    def drain(self) -> list[tuple[int, Event]]:
        out, self._events = self._events, []
        for slot, ev in out:
            if ev.kind == Kind.DTMF:
                self._on_digit(slot, chr(ev.value))
            for fn in self.listeners:
                fn(slot, ev)
        return out

    # --- digits -------------------------------------------------------------------
    def enable_digits(self, slot: int, on: bool = True) -> None:
        """Start (or stop) DTMF detection and buffering of early digits on ``slot``."""
        if on and slot not in self.digits:
            self.dtmf.reset(slot)
            self.dtmf.set_enabled(slot, True)
            self.digits[slot] = []
        elif not on and slot in self.digits:
            self.dtmf.set_enabled(slot, False)
            del self.digits[slot]

    def _on_digit(self, slot: int, d: str) -> None:
        buf = self.digits.get(slot)
        if buf is None:
            return
        buf.append(d)
        p = self.players.get(slot)
        if p is not None and d in p.interrupt:
            del self.players[slot]
            p.close()
            if not p.done.done():
                p.done.set_result(Termination(Reason.DIGIT, digits=d))
        rec = self.recorders.get(slot)
        if rec is not None and d in rec.terminators:
            buf.pop()
            self._finish_record(slot, rec, Reason.DIGIT, d)
        w = self.digit_waiters.pop(slot, None)
        if w is not None and not w.done():
            w.set_result(None)

    def flush_digits(self, slot: int) -> str:
        buf = self.digits.get(slot, [])
        s = "".join(buf)
        buf.clear()
        return s

    async def collect(self, slot: int, max_digits: int = 1, terminators: str = "#",
                      first_timeout: float = 5.0, inter_timeout: float = 3.0,
                      max_time: float | None = None, flush: bool = False) -> Termination:
        """Collect digits, buffered early digits included (unless ``flush``)."""
        self.enable_digits(slot)
        if flush:
            self.flush_digits(slot)
        loop = asyncio.get_running_loop()
        start = loop.time()
        got = ""
        buf = self.digits[slot]
        while True:
            while buf:
                d = buf.pop(0)
                if d in terminators:
                    return Termination(Reason.DIGIT, digits=got, data={"terminator": d})
                got += d
                if len(got) >= max_digits:
                    return Termination(Reason.MAXDIGITS, digits=got)
            timeout = first_timeout if not got else inter_timeout
            reason = Reason.FIRST_TIMEOUT if not got else Reason.INTER_TIMEOUT
            if max_time is not None:
                left = start + max_time - loop.time()
                if left <= timeout:
                    timeout, reason = max(left, 0.0), Reason.MAXTIME
            fut = loop.create_future()
            self.digit_waiters[slot] = fut
            try:
                await asyncio.wait_for(fut, timeout)
            except asyncio.TimeoutError:
                return Termination(reason, digits=got)
            finally:
                if self.digit_waiters.get(slot) is fut:
                    del self.digit_waiters[slot]
            if slot not in self.digits:
                return Termination(Reason.HANGUP, digits=got)
            buf = self.digits[slot]

    # --- call-progress analysis ------------------------------------------------------
    CPA_OUTCOMES = {"busy": "busy", "congestion": "congestion", "sit": "sit"}
    CPA_SPURT_GAP = 4000  # 0.5 s of silence ends a talk spurt

    async def analyze(self, slot: int, timeout: float = 40.0, voice_s: float = 1.0) -> Termination:
        """Call-progress analysis of an outgoing call's audio (Dialogic's PerfectCall
        role): ``data["result"]`` is busy, congestion or sit (tone-plan cadences matched),
        fax (CNG, CED or ANS), voice (talk for ``voice_s`` without a supervisory tone: answer
        by a person), or no_answer (``timeout`` passed; ``data["tones"]`` tells whether
        ringback was heard).  Reason DONE, or MAXTIME for no_answer.

        Voice is told from tones block by block: a 20 ms block above -40 dBm0 whose two
        strongest spectral peaks hold less than 60% of its energy is speech-like; a
        supervisory tone (one or two steady frequencies) never counts as voice."""
        from timeslot.cpt import CallProgressDetector
        from timeslot.faxtone import FaxToneDetector
        from timeslot.level import LevelMeter

        loop = asyncio.get_running_loop()
        an = _Analysis(CallProgressDetector(1, plan=self.plan, law=self.law),
                       FaxToneDetector(1, law=self.law), LevelMeter(1, self.law, window_ms=20.0),
                       loop.create_future(), int(voice_s * 8000))
        self.analyses[slot] = an
        t0 = loop.time()
        try:
            term = await asyncio.wait_for(asyncio.shield(an.done), timeout)
        except asyncio.TimeoutError:
            term = Termination(Reason.MAXTIME, data={"result": "no_answer"})
        finally:
            self.analyses.pop(slot, None)
        term.data["tones"] = list(an.seen)
        term.duration_s = loop.time() - t0
        return term

    def _analyse_block(self, slot: int, an: _Analysis, block: np.ndarray) -> None:
        result = None
        for ev in an.cpt.process(block):
            name = an.cpt.name(ev.value)
            an.seen.append(name)
            result = result or self.CPA_OUTCOMES.get(name)
        for _ev in an.fax.process(block):
            result = "fax"
        n = block.shape[1]
        an.level.process(block)
        if an.level.levels[0] >= self.CPA_TALK_DBM0:
            x = self._decode(block[0]).astype(np.float64)
            spec = np.abs(np.fft.rfft(x * np.hanning(n))) ** 2
            k1 = int(np.argmax(spec))
            peak = spec[max(0, k1 - 1):k1 + 2].sum()
            rest = spec.copy()
            rest[max(0, k1 - 2):k1 + 3] = 0.0
            k2 = int(np.argmax(rest))
            peak += spec[max(0, k2 - 1):k2 + 2].sum()
            if peak < 0.6 * spec.sum():
                an.voiced += n
            an.quiet = 0
        else:
            an.quiet += n
            if an.quiet >= self.CPA_SPURT_GAP:
                an.voiced = 0
        if result is None and an.voiced >= an.voice_frames:
            result = "voice"
        if result is not None and not an.done.done():
            an.done.set_result(Termination(Reason.DONE, data={"result": result}))

    # --- play ----------------------------------------------------------------------
    async def play(self, slot: int, prompts: Sequence[np.ndarray | bytes | str | os.PathLike],
                   interrupt: str = "") -> Termination:
        """Play prompts back to back with no gap - law-coded octets, or files (WAV PCM/
        A-law/mu-law, other rates converted to 8 kHz, or raw .alaw/.ulaw) streamed from
        disk block by block in the kernel's law; a digit in ``interrupt`` (also one already buffered) stops it.
        Every file is opened first, so a bad one raises AudioFileError naming it before
        anything plays; ending or cancelling closes the files."""
        if interrupt:
            self.enable_digits(slot)
            for d in self.digits[slot]:
                if d in interrupt:
                    return Termination(Reason.DIGIT, digits=d)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        sources: deque = deque()
        try:
            for p in prompts:
                if isinstance(p, (str, os.PathLike)):
                    sources.append(PromptStream(p, self.law))
                elif isinstance(p, (bytes, bytearray)):
                    sources.append(_Octets(np.frombuffer(p, np.uint8)))
                else:
                    sources.append(_Octets(np.asarray(p, np.uint8)))
        except BaseException:
            for src in sources:
                src.close()
            raise
        if not sources:
            return Termination(Reason.EOD)
        self.stop(slot)
        fut = loop.create_future()
        player = self.players[slot] = _Player(sources, fut, interrupt)
        try:
            term = await fut
        except asyncio.CancelledError:
            if self.players.get(slot) is player:
                del self.players[slot]
            player.close()
            raise
        term.duration_s = loop.time() - t0
        return term

    # --- tones ---------------------------------------------------------------------
    async def send_dtmf(self, slot: int, digits: str, on_ms: int = 80, off_ms: int = 80) -> Termination:
        self.gen.dtmf(slot, digits, on_ms=on_ms, off_ms=off_ms)
        return await self._tone_wait(slot)

    async def send_mf(self, slot: int, signal: int, direction: str, seconds: float) -> Termination:
        self.gen.mf(slot, signal, direction)
        return await self._tone_wait(slot, seconds)

    async def tone(self, slot: int, tone, seconds: float | None = None) -> Termination:
        """Play a tone-plan tone (with its cadence) for ``seconds`` or until it ends."""
        self.gen.play(slot, tone)
        return await self._tone_wait(slot, seconds)

    async def _tone_wait(self, slot: int, seconds: float | None = None) -> Termination:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        old = self.tones.get(slot)
        if old is not None and not old.done():
            old.set_result(None)
        self.tones[slot] = fut
        try:
            if seconds is None:
                await fut
            else:
                try:
                    await asyncio.wait_for(asyncio.shield(fut), seconds)
                except asyncio.TimeoutError:
                    self.gen.stop(slot)
                    self.tones.pop(slot, None)
                    return Termination(Reason.MAXTIME)
        except asyncio.CancelledError:
            self.gen.stop(slot)
            self.tones.pop(slot, None)
            raise
        return Termination(Reason.DONE)

    # --- record --------------------------------------------------------------------
    async def record(self, slot: int, max_time: float = 60.0, silence: float | None = 5.0,
                     terminators: str = "#", beep: bool = True) -> Termination:
        """Record the slot's received audio; ``data["audio"]`` holds the law-coded octets."""
        if beep:
            self.gen.tone(slot, (1000.0,), level=-10.0, ms=200)
            await self._tone_wait(slot)
        if terminators:
            self.enable_digits(slot)
        from timeslot.level import TalkDetector

        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        talk = None if not silence else TalkDetector(
            1, self.law, threshold_dbm0=self.SILENCE_DBM0, hangover_ms=int(silence * 1000))
        self.recorders[slot] = _Recorder([], fut, int(max_time * 8000), talk, terminators)
        try:
            return await fut
        except asyncio.CancelledError:
            self.recorders.pop(slot, None)
            raise

    def _record_block(self, slot: int, rec: _Recorder, block: np.ndarray) -> None:
        rec.chunks.append(block.copy())
        rec.frames += len(block)
        if rec.talk is not None:
            for ev in rec.talk.process(block[None, :]):
                if ev.kind == Kind.TALK:
                    rec.heard = True
                elif rec.heard:  # silence for the hangover, i.e. the silence time, after talk
                    rec.silent_from = ev.start
                    self._finish_record(slot, rec, Reason.SILENCE)
                    return
        if rec.frames >= rec.max_frames:
            self._finish_record(slot, rec, Reason.MAXTIME)

    def _finish_record(self, slot: int, rec: _Recorder, reason: Reason, digit: str = "") -> None:
        self.recorders.pop(slot, None)
        audio = np.concatenate(rec.chunks) if rec.chunks else np.empty(0, np.uint8)
        if rec.silent_from is not None:
            audio = audio[:rec.silent_from]
        if not rec.done.done():
            rec.done.set_result(Termination(reason, digits=digit, duration_s=len(audio) / 8000,
                                            data={"audio": audio}))

    # --- stop everything on a slot -----------------------------------------------------
    def stop(self, slot: int, reason: Reason = Reason.CANCELLED) -> None:
        p = self.players.pop(slot, None)
        if p is not None:
            p.close()
            if not p.done.done():
                p.done.set_result(Termination(reason))
        rec = self.recorders.get(slot)
        if rec is not None:
            self._finish_record(slot, rec, reason)
        fut = self.tones.pop(slot, None)
        if fut is not None:
            self.gen.stop(slot)
            if not fut.done():
                fut.set_result(None)

    def hangup(self, slot: int) -> None:
        """The call on ``slot`` ended: every operation ends with reason hangup."""
        self.stop(slot, Reason.HANGUP)
        self.digits.pop(slot, None)
        self.dtmf.set_enabled(slot, False)
        w = self.digit_waiters.pop(slot, None)
        if w is not None and not w.done():
            w.set_result(None)
