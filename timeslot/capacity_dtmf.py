"""DTMF detection capacity (``cti bench``): channels detected in real time per core.

The load is 20 ms blocks (160 frames) of A-law for ``channels`` timeslots: a third carry
DTMF digit strings (60 ms on, 60 ms off, -5 to -25 dBm0 per tone, over -50 dBm0 noise),
a third idle code, a third white noise at -60 to -20 dBm0.  The peer is spandsp's
``dtmf_rx`` through cffi (ABI mode) on the same signal, decoded to linear outside the
timing and fed one second per call (the fastest way to drive it: no per-block call cost).
"""

from __future__ import annotations

import ctypes.util
from functools import cache
from typing import Any

import numpy as np

from core.bench import BenchResult, cpu_seconds
from timeslot.dtmf import DtmfDetector
from timeslot.g711 import alaw_decode, alaw_encode

RATE = 8000
BLOCK = 160
DBM0_PEAK = 22821.0
KEYS = "123A456B789C*0#D"
LOW = (697.0, 770.0, 852.0, 941.0)
HIGH = (1209.0, 1336.0, 1477.0, 1633.0)

SPANDSP_CDEF = """
typedef struct dtmf_rx_state_s dtmf_rx_state_t;
typedef void (*digits_rx_callback_t)(void *user_data, const char *digits, int len);
dtmf_rx_state_t *dtmf_rx_init(dtmf_rx_state_t *s, digits_rx_callback_t callback, void *user_data);
int dtmf_rx(dtmf_rx_state_t *s, const int16_t amp[], int samples);
size_t dtmf_rx_get(dtmf_rx_state_t *s, char *digits, int max);
int dtmf_rx_free(dtmf_rx_state_t *s);
typedef struct r2_mf_rx_state_s r2_mf_rx_state_t;
typedef void (*tone_report_func_t)(void *user_data, int code, int level, int delay);
r2_mf_rx_state_t *r2_mf_rx_init(r2_mf_rx_state_t *s, int fwd, tone_report_func_t callback,
                                void *user_data);
int r2_mf_rx(r2_mf_rx_state_t *s, const int16_t amp[], int samples);
int r2_mf_rx_get(r2_mf_rx_state_t *s);
int r2_mf_rx_free(r2_mf_rx_state_t *s);
"""


@cache
def spandsp() -> tuple[Any, Any] | None:
    """(ffi, lib) for libspandsp through cffi ABI mode, or None when cffi or the library is
    missing."""
    try:
        import cffi
    except ImportError:
        return None
    path = ctypes.util.find_library("spandsp")
    if path is None:
        return None
    ffi = cffi.FFI()
    ffi.cdef(SPANDSP_CDEF)
    return ffi, ffi.dlopen(path)


def _tone(freqs: tuple[float, ...], dbm0: float, n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE
    amp = DBM0_PEAK * 10 ** (dbm0 / 20)
    return sum(amp * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in freqs)


def traffic(channels: int, seconds: float, seed: int = 1) -> np.ndarray:
    """A-law [channels x frames]: digits, idle and noise channels in equal parts."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * RATE)
    lin = np.zeros((channels, frames))
    for ch in range(channels):
        kind = ch % 3
        if kind == 0:
            pos = int(rng.integers(0, 480))
            while pos + 480 <= frames:
                k = KEYS.index(KEYS[int(rng.integers(0, 16))])
                lin[ch, pos:pos + 480] = _tone((LOW[k // 4], HIGH[k % 4]),
                                                float(rng.uniform(-25, -5)), 480, rng)
                lin[ch, pos + 480:pos + 960] = 0.0
                pos += 960
            lin[ch] += rng.normal(0, DBM0_PEAK * 10 ** (-50 / 20) / np.sqrt(2), frames)
        elif kind == 2:
            sigma = DBM0_PEAK * 10 ** (float(rng.uniform(-60, -20)) / 20) / np.sqrt(2)
            lin[ch] = rng.normal(0, sigma, frames)
    return alaw_encode(np.clip(lin, -32768, 32767).astype(np.int16))


def ours_channels_per_core(codes: np.ndarray) -> float:
    channels, frames = codes.shape
    blocks = [np.ascontiguousarray(codes[:, i:i + BLOCK]) for i in range(0, frames, BLOCK)]

    def run() -> None:
        det = DtmfDetector(channels, "alaw")
        for b in blocks:
            det.process(b)

    cpu, _ = cpu_seconds(run)
    return channels * (frames / RATE) / cpu


def spandsp_channels_per_core(codes: np.ndarray) -> float | None:
    peer = spandsp()
    if peer is None:
        return None
    ffi, lib = peer
    channels, frames = codes.shape
    lin = np.ascontiguousarray(alaw_decode(codes))
    bufs = [ffi.from_buffer("int16_t[]", lin[ch]) for ch in range(channels)]

    def run() -> None:
        states = [lib.dtmf_rx_init(ffi.NULL, ffi.NULL, ffi.NULL) for _ in range(channels)]
        for s, buf in zip(states, bufs, strict=True):
            lib.dtmf_rx(s, buf, frames)
        for s in states:
            lib.dtmf_rx_free(s)

    cpu, _ = cpu_seconds(run)
    return channels * (frames / RATE) / cpu


def dtmf_detect(quick: bool) -> BenchResult:
    channels = 1200
    codes = traffic(channels, 1.0 if quick else 4.0)
    ours = ours_channels_per_core(codes)
    peer = spandsp_channels_per_core(codes)
    notes = [f"{channels} channels, 160-frame A-law blocks: 1/3 digits, 1/3 idle, 1/3 noise"]
    if peer is None:
        notes.append("spandsp (libspandsp + cffi) not installed")
    return BenchResult("dtmf_detect", ours, "channels/core", "spandsp dtmf_rx", peer, notes)


BENCHES = [dtmf_detect]
