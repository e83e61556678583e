"""DTMF detection capacity (``cti bench``): channels detected in real time per core.

The load is 20 ms blocks (160 frames) of A-law for 1,200 timeslots: a third carry DTMF
digit strings (60 ms on, 60 ms off, -5 to -25 dBm0 per tone, over -50 dBm0 noise), a
third idle code, a third white noise at -60 to -20 dBm0.  Ours: one call per block for
all channels.  The peer is spandsp's ``dtmf_rx`` through cffi (ABI mode) on the same
signal decoded to linear outside the timing, one state per channel, fed the same 160-frame
blocks; its rate with one-second calls (no per-call cost) is given in the notes.
The helpers here serve timeslot/capacity_r2.py too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from core.bench import BenchResult, cpu_seconds
from timeslot.dtmf import DtmfDetector
from timeslot.g711 import alaw_decode, alaw_encode
from timeslot.spandsp_abi import spandsp

RATE = 8000
BLOCK = 160
DBM0_PEAK = 22827.0
KEYS = "123A456B789C*0#D"
LOW = (697.0, 770.0, 852.0, 941.0)
HIGH = (1209.0, 1336.0, 1477.0, 1633.0)


def _tone(freqs: tuple[float, ...], dbm0: float, n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE
    amp = DBM0_PEAK * 10 ** (dbm0 / 20)
    return sum(amp * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in freqs)


def traffic(channels: int, seconds: float, pairs: list[tuple[float, float]] | None = None,
            on: int = 480, seed: int = 1) -> np.ndarray:
    """A-law [channels x frames] in equal thirds: tone pairs drawn from ``pairs`` (DTMF
    by default), ``on`` frames on and as many off, -5 to -25 dBm0 per tone over -50 dBm0
    noise; idle code; white noise at -60 to -20 dBm0."""
    pairs = pairs or [(lo, hi) for lo in LOW for hi in HIGH]
    rng = np.random.default_rng(seed)
    frames = int(seconds * RATE)
    lin = np.zeros((channels, frames))
    for ch in range(channels):
        kind = ch % 3
        if kind == 0:
            pos = int(rng.integers(0, on))
            while pos + on <= frames:
                pair = pairs[int(rng.integers(0, len(pairs)))]
                lin[ch, pos:pos + on] = _tone(pair, float(rng.uniform(-25, -5)), on, rng)
                pos += 2 * on
            lin[ch] += rng.normal(0, DBM0_PEAK * 10 ** (-50 / 20) / np.sqrt(2), frames)
        elif kind == 2:
            sigma = DBM0_PEAK * 10 ** (float(rng.uniform(-60, -20)) / 20) / np.sqrt(2)
            lin[ch] = rng.normal(0, sigma, frames)
    return alaw_encode(np.clip(lin, -32768, 32767).astype(np.int16))


def ours_channels_per_core(make: Callable[[int], Any], codes: np.ndarray) -> float:
    """Channels per core of a receiver bank ``make(channels)`` fed 160-frame blocks."""
    channels, frames = codes.shape
    blocks = [np.ascontiguousarray(codes[:, i:i + BLOCK]) for i in range(0, frames, BLOCK)]

    def run() -> None:
        det = make(channels)
        for b in blocks:
            det.process(b)

    cpu, _ = cpu_seconds(run)
    return channels * (frames / RATE) / cpu


def peer_channels_per_core(init: Callable[[Any, Any], Any], rx: str, free: str,
                           codes: np.ndarray, call: int) -> float | None:
    """Channels per core of a spandsp receiver: ``init(ffi, lib)`` makes one state, ``rx``
    and ``free`` name its functions; each call hands it ``call`` frames."""
    peer = spandsp()
    if peer is None:
        return None
    ffi, lib = peer
    rx_fn, free_fn = getattr(lib, rx), getattr(lib, free)
    channels, frames = codes.shape
    lin = np.ascontiguousarray(alaw_decode(codes))
    bufs = [[ffi.from_buffer("int16_t[]", lin[ch, i:i + call]) for i in range(0, frames, call)]
            for ch in range(channels)]

    def run() -> None:
        states = [init(ffi, lib) for _ in range(channels)]
        for i in range(len(bufs[0])):
            for ch in range(channels):
                rx_fn(states[ch], bufs[ch][i], call)
        for st in states:
            free_fn(st)

    cpu, _ = cpu_seconds(run)
    return channels * (frames / RATE) / cpu


def with_peer(name: str, ours: float, peer: str, rates: dict[int, float | None],
              channels: int) -> BenchResult:
    """The result against the peer driven in 160-frame blocks like ours (one call per
    channel and block: its cffi call cost is part of the figure); the peer's rate with
    one-second calls, which removes that cost, goes in the notes with its ratio."""
    notes = [f"{channels} channels, 160-frame A-law blocks: 1/3 tones, 1/3 idle, 1/3 noise"]
    block, second = rates[BLOCK], rates[RATE]
    if block is None:
        notes.append("spandsp (libspandsp + cffi) not installed")
    else:
        notes.append(f"{peer} fed 1 s per call (no per-call cost): {second:,.0f} channels/core,"
                     f" ratio {ours / second:.2f}x")
    return BenchResult(name, ours, "channels/core", peer, block, notes)


def dtmf_detect(quick: bool) -> BenchResult:
    channels = 1200
    codes = traffic(channels, 1.0 if quick else 4.0)
    ours = ours_channels_per_core(DtmfDetector, codes)
    rates = {call: peer_channels_per_core(
        lambda ffi, lib: lib.dtmf_rx_init(ffi.NULL, ffi.NULL, ffi.NULL),
        "dtmf_rx", "dtmf_rx_free", codes, call) for call in (BLOCK, RATE)}
    return with_peer("dtmf_detect", ours, "spandsp dtmf_rx", rates, channels)


BENCHES = [dtmf_detect]
