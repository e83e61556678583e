"""Call-progress detection capacity (``cti bench``): channels analysed in real time per core.

The load is A-law for ``channels`` timeslots in 20 ms blocks (160 frames): each channel
carries one of the ITU plan's tones (dial, ringback, busy, congestion, SIT) at -10 dBm0
over -55 dBm0 noise, or speech-band noise at -20 dBm0, in equal parts.  Both detectors
watch the whole ITU plan (dial, ringback, busy, congestion, call waiting, SIT) with the
same cadence bounds.  The peer is spandsp's ``super_tone_rx`` through cffi (ABI mode):
the same signal decoded to linear outside the timing and fed one second per call, its
cheapest way to be driven; ours takes A-law 20 ms blocks through the Python API.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.bench import BenchResult, cpu_seconds
from timeslot.cpt import CallProgressDetector
from timeslot.g711 import alaw_decode, alaw_encode
from timeslot.spandsp_abi import spandsp
from timeslot.tonegen import synth
from timeslot.toneplans import plan as get_plan

RATE = 8000
BLOCK = 160
LOAD = ("dial", "ringback", "busy", "congestion", "sit", None)


def traffic(channels: int, seconds: float, seed: int = 1) -> np.ndarray:
    """A-law (channels, frames): plan tones and noise channels in equal parts."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * RATE)
    out = np.empty((channels, frames), np.uint8)
    for ch in range(channels):
        name = LOAD[ch % len(LOAD)]
        lin = rng.normal(0.0, 22829 / np.sqrt(2) * 10 ** (-55 / 20), frames)
        if name is None:
            lin *= 10 ** (35 / 20)
        else:
            tone = alaw_decode(synth(name, seconds + 1.0, "alaw"))
            shift = int(rng.integers(0, RATE))
            lin += tone[shift:shift + frames]
        out[ch] = alaw_encode(np.clip(lin, -32768, 32767).astype(np.int16))
    return out


def super_tone_rx_bank(channels: int, plan_name: str = "itu") -> tuple[Any, list, Any]:
    """spandsp detectors for every tone of the plan; (lib, states, callback)."""
    ffi, lib = spandsp()
    plan = get_plan(plan_name)
    desc = lib.super_tone_rx_make_descriptor(ffi.NULL)
    for tone in plan.tones.values():
        tid = lib.super_tone_rx_add_tone(desc)
        for seg in tone.segments:
            f1 = int(seg.freqs[0]) if seg.freqs else 0  # 0: no frequency
            f2 = int(seg.freqs[1]) if len(seg.freqs) > 1 else 0
            lo, hi = (tone.detect_ms, 0) if seg.ms is None else plan.bounds(seg)
            lib.super_tone_rx_add_element(desc, tid, f1, f2, lo, hi)

    @ffi.callback("void(void *, int, int, int)")
    def report(user_data, code, level, delay):  # noqa: ARG001 - spandsp's signature
        return None

    states = [lib.super_tone_rx_init(ffi.NULL, desc, report, ffi.NULL) for _ in range(channels)]
    return lib, states, (report, desc)


def cpt_detect(quick: bool) -> BenchResult:
    channels = 240 if quick else 960
    seconds = 2.0
    x = traffic(channels, seconds)
    blocks = [np.ascontiguousarray(x[:, i:i + BLOCK]) for i in range(0, x.shape[1], BLOCK)]
    min_time = 0.3 if quick else 1.0

    def ours() -> None:
        d = CallProgressDetector(channels, "itu")
        for b in blocks:
            d.process(b)

    cpu, _ = cpu_seconds(ours, min_time)
    value = channels * seconds / cpu
    notes = [f"{channels} channels x {seconds:.0f} s A-law, 20 ms blocks; ITU plan (6 tones)"]
    peer_value = None
    if spandsp() is None:
        notes.append("spandsp (libspandsp + cffi) not installed")
    else:
        lin = [np.ascontiguousarray(alaw_decode(row)) for row in x]
        lib, states, keep = super_tone_rx_bank(channels)
        ffi = spandsp()[0]
        ptrs = [ffi.cast("const int16_t *", ffi.from_buffer(row)) for row in lin]
        frames = x.shape[1]

        def peer() -> None:
            for s, p in zip(states, ptrs, strict=True):
                for off in range(0, frames, RATE):
                    lib.super_tone_rx(s, p + off, min(RATE, frames - off))

        pcpu, _ = cpu_seconds(peer, min_time)
        peer_value = channels * seconds / pcpu
        for s in states:
            lib.super_tone_rx_free(s)
        del keep
    return BenchResult("cpt_detect", value, "channels/core", "spandsp super_tone_rx",
                       peer_value, notes)


BENCHES = [cpt_detect]
