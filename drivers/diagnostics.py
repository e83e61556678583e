"""Span diagnostics behind ``cti diag``, usable from Python on any backend.

A :class:`Rig` is the span under test (``near``), optionally the span feeding it
(``far``), and how time moves for them: a :class:`drivers.sim.SimSystem` tick, or the wall
clock for a real board (DAHDI paces itself by blocking reads).  :meth:`Rig.sim` builds two
simulated spans cabled back to back with an impairment on the far -> near direction, so
the near span shows what that fault looks like on a line and the far span what the line
returns (RAI, E-bits).

Measurements:

* alarms/counters - G.775 alarm names (LOS, LOF, AIS, RAI, LOMF) and the span counters;
* BERT - O.150 PRBS (timeslot.prbs) on one timeslot, a group carried as N x 64 kbit/s
  (octets of each frame in timeslot order), or each timeslot separately; with error
  insertion; bits and errors are counted only in sync;
* loopback - local, line or payload loopback on the near span, proved by a BERT through
  the loop;
* tone - O.133-style 1004 Hz test tone at -13 dBm0 sent by the far end, frequency and
  level measured at the near end (timeslot.level.ToneMeter); level - RMS level in dBm0
  (timeslot.level.LevelMeter, G.711 load capacity reference); monitor - a timeslot, both
  directions, to a stereo 16-bit WAV.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from drivers.base import Board, ChannelMode, Loopback, Signalling, Span, SpanConfig
from drivers.pseudowire import PseudowireSpan
from drivers.sim import Cable, SimSpan, SimSystem
from timeslot import g711
from timeslot.events import Kind
from timeslot.level import LevelMeter, ToneMeter
from timeslot.prbs import PrbsChecker, PrbsGenerator
from timeslot.tonegen import ToneGenerator

FRAME_RATE = 8000
Progress = Callable[[float], None]


def _no_progress(_: float) -> None:
    pass


# ---------------------------------------------------------------------- impairments
def _ppm(v: str) -> dict:
    return {"ppm": float(v.removesuffix("ppm"))}


def _seconds(v: str) -> float:
    if v.endswith("ms"):
        return float(v[:-2]) / 1000.0
    return float(v.removesuffix("s"))


def _burst(v: str) -> dict:
    bits, _, period = v.partition("@")
    return {"burst": (int(bits), _seconds(period) if period else 1.0)}


#: ``--impair`` words: name -> (takes a value, keyword arguments for Cable.impair)
IMPAIRMENTS: dict[str, tuple[bool, Callable[[str], dict]]] = {
    "none": (False, lambda _: {}),
    "los": (False, lambda _: {"los": True}),
    "ais": (False, lambda _: {"ais": True}),
    "ber": (True, lambda v: {"ber": float(v)}),
    "burst": (True, _burst),  # burst=BITS[@PERIOD], e.g. burst=200@500ms
    "slip": (True, _ppm),  # slip=100ppm: the far clock 100 ppm off
}


def parse_impairment(text: str) -> dict:
    """``"ber=1e-4+slip=10ppm"`` -> keyword arguments for ``Cable.impair``."""
    out: dict = {}
    for part in filter(None, text.split("+")):
        name, eq, value = part.partition("=")
        spec = IMPAIRMENTS.get(name)
        if spec is None or spec[0] != bool(eq):
            raise ValueError(f"bad impairment {part!r}: use none, los, ais, ber=1e-4, "
                             "burst=BITS[@PERIOD], slip=PPMppm (joined with +)")
        try:
            kw = spec[1](value)
        except ValueError:
            raise ValueError(f"bad value in impairment {part!r}") from None
        out.update(kw)
    return out


def parse_timeslots(text: str, config: SpanConfig | None = None) -> list[int]:
    """``"1-15,17-31"``, ``"5"`` or ``"all"`` (every payload timeslot of the span)."""
    if text == "all":
        cas = config is not None and Signalling(config.signalling) is Signalling.CAS
        return [t for t in range(1, 32) if not (cas and t == 16)]
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            raise ValueError(f"bad timeslot list {text!r}") from None
        if not 1 <= a <= b <= 31:
            raise ValueError(f"timeslots must be within 1..31, not {part!r}")
        out.extend(t for t in range(a, b + 1) if t not in out)
    return out


# ---------------------------------------------------------------------- rigs
@dataclass
class Rig:
    """The span under test (``near``), the span feeding it if we have it (``far``), and
    ``step(frames)`` that moves time by one block.  ``cable`` (sim) takes new impairments
    mid-run: ``rig.cable.impair("a->b", ber=1e-5)``."""

    near: Span
    far: Span | None
    step: Callable[[int], None]
    frames: int = 160
    board: Board | None = None
    cable: Cable | None = None

    @classmethod
    def sim(cls, impair: str = "none", config: SpanConfig | None = None,
            frames: int = 160) -> Rig:
        """Two simulated spans back to back; the impairment acts on far -> near."""
        kw = parse_impairment(impair)
        system = SimSystem()
        far = SimSpan("far", config or SpanConfig(), system)
        near = SimSpan("near", config or SpanConfig(), system)
        cable = Cable(far, near, system)
        cable.impair("a->b", **kw)
        return cls(near=near, far=far, step=system.tick, frames=frames, cable=cable)

    @classmethod
    def real(cls, span: Span, board: Board | None = None, frames: int = 160) -> Rig:
        """A span of an opened board; time is the wall clock (blocking reads pace DAHDI)."""
        t0 = [time.monotonic()]

        def step(n: int) -> None:
            t0[0] += n / FRAME_RATE
            delay = t0[0] - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return cls(near=span, far=None, step=step, frames=frames, board=board)

    def run(self, seconds: float, progress: Progress = _no_progress,
            each: Callable[[], None] | None = None) -> int:
        """Advance ``seconds`` in blocks; ``each()`` runs before every step."""
        ticks = max(1, round(seconds * FRAME_RATE / self.frames))
        for i in range(ticks):
            if each is not None:
                each()
            self.step(self.frames)
            if i % max(1, ticks // 10) == 0:
                progress(i / ticks)
        progress(1.0)
        return ticks

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


# ---------------------------------------------------------------------- alarms
def status_report(rig: Rig, seconds: float = 1.0, progress: Progress = _no_progress,
                  what: tuple[str, ...] = ("alarms", "counters")) -> dict:
    """Run ``seconds`` of idle traffic, then the status of near (and far) spans (with the
    packet counters of a pseudowire span)."""
    spans = [s for s in (rig.near, rig.far) if s is not None]
    idle = np.full((32, rig.frames), 0xD5, dtype=np.uint8)
    started = [False]

    def idle_traffic() -> None:  # keep the spans' block I/O running, as the kernel would
        for span in spans:
            if started[0]:
                span.read_block(rig.frames)
            span.write_block(idle)
        started[0] = True

    rig.run(seconds, progress, idle_traffic)
    out = {}
    for side, span in (("near", rig.near), ("far", rig.far)):
        if span is not None:
            st = span.status().as_dict()
            out[side] = {k: st[k] for k in what}
            if isinstance(span, PseudowireSpan):  # packet counters of the PSN side too
                out[side]["pseudowire"] = span.counters.as_dict()
    return out


# ---------------------------------------------------------------------- BERT
def bert(rig: Rig, timeslots: list[int], pattern: str = "2^15-1", seconds: float = 10.0,
         separate: bool = False, inject_rate: float = 0.0, inject_errors: int = 0,
         tx: Span | None = None, rx: Span | None = None,
         progress: Progress = _no_progress) -> dict:
    """BERT from ``tx`` (default: far, or near on a real board) to ``rx`` (default near).

    ``separate``: one independent PRBS per timeslot (per-timeslot results as well);
    otherwise the timeslots form one N x 64 kbit/s channel."""
    tx = tx or rig.far or rig.near
    rx = rx or rig.near
    ts = np.array(timeslots, dtype=np.intp)
    if not len(ts):
        raise ValueError("no timeslots to test")
    for span in {id(tx): tx, id(rx): rx}.values():
        for t in timeslots:
            span.set_channel_mode(int(t), ChannelMode.CLEAR)
    chans = len(ts) if separate else 1
    gen, chk = PrbsGenerator(pattern, chans), PrbsChecker(pattern, chans)
    if inject_rate:
        gen.set_error_rate(inject_rate)
    frames = rig.frames
    idle = np.full((32, frames), 0xFF, dtype=np.uint8)

    def send() -> None:
        block = idle.copy()
        if separate:
            block[ts, :] = gen.generate(frames)
        else:
            block[ts, :] = gen.generate(frames * len(ts))[0].reshape(frames, len(ts)).T
        tx.write_block(block)

    started = [False]

    def receive() -> None:
        if not started[0]:  # the first step has not yet delivered a block
            started[0] = True
            return
        got = rx.read_block(frames)[ts, :]
        chk.process(np.ascontiguousarray(got if separate else got.T.reshape(1, -1)))

    ticks = [0]
    inject_at = max(1, round(seconds * FRAME_RATE / frames) // 2)  # well after sync

    def tick() -> None:
        receive()
        ticks[0] += 1
        if inject_errors and ticks[0] == inject_at:
            gen.inject(inject_errors)
        send()

    rig.run(seconds, progress, tick)
    receive()
    totals = {k: int(sum(chk.stats(c)[k] for c in range(chans)))
              for k in ("bits", "errors", "sync_losses")}
    result = {
        **totals,
        "ber": totals["errors"] / totals["bits"] if totals["bits"] else None,
        "in_sync": bool(all(chk.in_sync)),
        "pattern": chk.pattern.name,
        "timeslots": [int(t) for t in ts],
        "seconds": seconds,
        "inserted": int(sum(gen.inserted)),
    }
    if separate:
        result["per_timeslot"] = {int(t): chk.stats(i) for i, t in enumerate(ts)}
    return result


# ---------------------------------------------------------------------- loopback
def loopback(rig: Rig, mode: Loopback, timeslots: list[int], pattern: str = "2^15-1",
             seconds: float = 2.0, keep: bool = False,
             progress: Progress = _no_progress) -> dict:
    """Loop the near span (local, line or payload) and prove the loop with a BERT.

    Local: near's transmit returns to near's receive.  Line/payload: what the far end
    sends comes back to it; without a far span (a real board) the far end runs the BERT,
    so only the loopback is set."""
    mode = Loopback(mode)
    rig.near.set_loopback(mode)
    try:
        if mode is Loopback.LOCAL:
            result = bert(rig, timeslots, pattern, seconds, tx=rig.near, rx=rig.near,
                          progress=progress)
        elif mode is not Loopback.NONE and rig.far is not None:
            result = bert(rig, timeslots, pattern, seconds, tx=rig.far, rx=rig.far,
                          progress=progress)
        else:
            result = None
        status = rig.near.status().as_dict()
    finally:
        if not keep:
            rig.near.set_loopback(Loopback.NONE)
    return {"span": rig.near.name, "loopback": mode.value, "kept": keep, "bert": result,
            "near": status}


# ---------------------------------------------------------------------- tones and levels
def level_dbm0(octets: np.ndarray, law: str = "alaw") -> float:
    """RMS level of G.711 octets in dBm0 (timeslot.level, G.711 load capacity reference)."""
    if not len(octets):
        return -99.0
    meter = LevelMeter(1, law, window_ms=len(octets) / 8.0)
    meter.process(np.ascontiguousarray(octets, dtype=np.uint8)[None, :])
    return round(float(meter.levels[0]), 2)


def window_levels(octets: np.ndarray, law: str = "alaw", window: int = 160) -> np.ndarray:
    """dBm0 of each whole ``window`` of samples (one meter channel per window, one call)."""
    n = len(octets) // window
    if not n:
        return np.empty(0, dtype=np.float32)
    meter = LevelMeter(n, law, window_ms=window / 8.0)
    meter.process(np.ascontiguousarray(octets[: n * window], dtype=np.uint8).reshape(n, window))
    return meter.levels


def measure_tone(octets: np.ndarray, law: str = "alaw") -> tuple[int | None, float]:
    """(frequency in Hz, level in dBm0) of a steady tone (timeslot.level.ToneMeter); no
    tone: (None, RMS level)."""
    min_ms = max(20, int(len(octets) / 8 * 0.6))
    meter = ToneMeter(1, law, min_ms=min_ms)
    events = meter.process(np.ascontiguousarray(octets, dtype=np.uint8)[None, :])
    events += meter.finish()
    tones = [e for e in events if e.kind == Kind.TONE and e.value > 0]  # 0 Hz: a DC line
    if not tones:
        return None, level_dbm0(octets, law)
    return int(tones[-1].value), tones[-1].extra / 100.0


def _capture(rig: Rig, timeslot: int, seconds: float, progress: Progress,
             send_far: np.ndarray | None = None, law: str = "alaw") -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """(rx octets, tx octets) of ``timeslot`` at the near span; the far end optionally
    sends ``send_far`` (a ToneGenerator) on it."""
    frames = rig.frames
    idle = {"alaw": 0xD5, "ulaw": 0xFF}[law]
    mode = {"alaw": ChannelMode.VOICE_ALAW, "ulaw": ChannelMode.VOICE_ULAW}[law]
    for span in (rig.near, rig.far):
        if span is not None:
            span.set_channel_mode(timeslot, mode)
    rx_parts, tx_parts = [], []
    started = [False]

    def tick() -> None:
        if started[0]:
            rx_parts.append(rig.near.read_block(frames)[timeslot].copy())
        started[0] = True
        near_tx = np.full((32, frames), idle, dtype=np.uint8)
        rig.near.write_block(near_tx)
        tx_parts.append(near_tx[timeslot].copy())
        if rig.far is not None:
            far_tx = np.full((32, frames), idle, dtype=np.uint8)
            if send_far is not None:
                far_tx[timeslot] = send_far.generate(frames=frames)[0]
            rig.far.write_block(far_tx)

    rig.run(seconds, progress, tick)
    rx_parts.append(rig.near.read_block(frames)[timeslot].copy())
    return np.concatenate(rx_parts), np.concatenate(tx_parts)


def _generator(freq: float | None, level: float, law: str):
    if freq is None:
        return None
    g = ToneGenerator(1, law)
    g.tone(0, freq, level)
    return g


def tone(rig: Rig, timeslot: int, freq: float = 1004.0, level: float = -13.0,
         seconds: float = 1.0, law: str = "alaw", progress: Progress = _no_progress) -> dict:
    """Send the test tone from the far end (O.133: 1004 Hz, -13 dBm0) and measure it."""
    rx, _ = _capture(rig, timeslot, seconds, progress, _generator(freq, level, law), law)
    hz, dbm0 = measure_tone(rx[len(rx) // 4:], law)  # skip line start-up and alignment
    return {"timeslot": timeslot, "sent": {"hz": freq, "dbm0": level},
            "measured": {"hz": hz, "dbm0": dbm0}}


def level(rig: Rig, timeslot: int, seconds: float = 1.0, law: str = "alaw",
          far_tone: float | None = None, far_level: float = -13.0,
          progress: Progress = _no_progress) -> dict:
    """Received level of ``timeslot`` in dBm0: over the run and per 20 ms (min/max)."""
    rx, _ = _capture(rig, timeslot, seconds, progress,
                     _generator(far_tone, far_level, law), law)
    steady = rx[len(rx) // 4:]
    blocks = window_levels(steady, law)
    return {"timeslot": timeslot, "dbm0": level_dbm0(steady, law),
            "min_dbm0": round(float(blocks.min()), 2) if len(blocks) else None,
            "max_dbm0": round(float(blocks.max()), 2) if len(blocks) else None}


def monitor(rig: Rig, timeslot: int, path: str, seconds: float = 5.0, law: str = "alaw",
            far_tone: float | None = None, far_level: float = -13.0,
            progress: Progress = _no_progress) -> dict:
    """Record ``timeslot`` to a stereo 16-bit 8 kHz WAV: left received, right sent."""
    rx, tx = _capture(rig, timeslot, seconds, progress,
                      _generator(far_tone, far_level, law), law)
    n = min(len(rx), len(tx))
    stereo = np.empty((n, 2), dtype="<i2")
    stereo[:, 0] = g711.decode(np.ascontiguousarray(rx[:n]), law)
    stereo[:, 1] = g711.decode(np.ascontiguousarray(tx[:n]), law)
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(FRAME_RATE)
        w.writeframes(stereo.tobytes())
    return {"path": path, "timeslot": timeslot, "seconds": n / FRAME_RATE,
            "rx_dbm0": level_dbm0(rx[:n], law), "tx_dbm0": level_dbm0(tx[:n], law)}
