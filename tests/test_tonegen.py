"""Tone generator: levels by RMS, frequencies by FFT, cadences, DTMF (Q.23) and MFC-R2
(Q.441) tables, compelled start/stop, channel-major output, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import need_spandsp
from timeslot.g711 import decode
from timeslot.tonegen import (
    R2_BACKWARD,
    R2_FORWARD,
    ToneGenerator,
    dtmf_freqs,
    r2_freqs,
    synth,
)
from timeslot.toneplans import PLANS

RATE = 8000
PEAK = {"alaw": 22828.9, "ulaw": 22656.0, "linear": 22828.9}


def linear(x: np.ndarray, law: str) -> np.ndarray:
    return x.astype(float) if law == "linear" else decode(x, law).astype(float)


def dbm0(x: np.ndarray, law: str) -> float:
    y = linear(x, law)
    return 10 * np.log10(np.mean(y ** 2) / (PEAK[law] ** 2 / 2))


def peaks(y: np.ndarray, k: int) -> list[float]:
    """The k strongest spectral lines (Hz), 1 Hz resolution for a 1 s signal."""
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    found: list[float] = []
    for i in np.argsort(spec)[::-1]:
        f = i * RATE / y.size
        if all(abs(f - g) > 20 for g in found):
            found.append(f)
        if len(found) == k:
            return sorted(found)
    return sorted(found)


@settings(max_examples=25)
@given(st.floats(200, 3400), st.floats(-40, 0), st.sampled_from(["alaw", "ulaw", "linear"]))
def test_single_tone_level_and_frequency(f, level, law):
    x = synth(f, 1.0, law, level=level)
    assert abs(dbm0(x, law) - level) < 0.2
    (g,) = peaks(linear(x, law), 1)
    assert abs(g - f) <= 1.0


@pytest.mark.parametrize("digit", "0123456789*#ABCD")
def test_dtmf_frequencies_and_levels(digit):
    g = ToneGenerator(1, "linear")
    g.dtmf(0, digit, on_ms=1000, off_ms=0)
    y = g.generate(frames=RATE)[0].astype(float)
    lo, hi = dtmf_freqs(digit)
    assert peaks(y, 2) == pytest.approx([lo, hi], abs=1.0)
    spec = np.abs(np.fft.rfft(y)) * 2 / y.size
    level = [20 * np.log10(spec[int(f)] / PEAK["linear"]) for f in (lo, hi)]
    assert level == pytest.approx([-9.0, -7.0], abs=0.3)   # Q.23 defaults, per tone


def test_dtmf_timing():
    x = synth("dtmf:15", law="linear", on_ms=60, off_ms=40)
    assert x.size == 2 * 100 * 8
    on = np.abs(x) > 0
    assert on[:480].mean() > 0.95 and not on[480:800].any() and on[800:1280].mean() > 0.95


def test_r2_table_q441():
    # Q.441 Table 5: signal 1 = f0+f1, 5 = f1+f3, 10 = f3+f4, 15 = f4+f5
    assert r2_freqs(1, "forward") == (1380.0, 1500.0)
    assert r2_freqs(5, "forward") == (1500.0, 1740.0)
    assert r2_freqs(10, "backward") == (780.0, 660.0)
    assert r2_freqs(15, "backward") == (660.0, 540.0)
    assert len({r2_freqs(s, "forward") for s in range(1, 16)}) == 15


@pytest.mark.parametrize("direction,group", [("forward", R2_FORWARD), ("backward", R2_BACKWARD)])
def test_r2_signals_continuous_until_stopped(direction, group):
    g = ToneGenerator(2, "linear")
    for s in range(1, 16):
        g.mf(1, s, direction)
        assert g.busy(1) and not g.busy(0)
        out = g.generate(frames=RATE)
        assert not out[0].any()
        assert peaks(out[1].astype(float), 2) == pytest.approx(sorted(r2_freqs(s, direction)),
                                                               abs=1.0)
        assert set(r2_freqs(s, direction)) <= set(group)
        assert abs(dbm0(out[1], "linear") - (-8.0 + 3.01)) < 0.2   # two tones at -8 dBm0
        out = g.generate(frames=RATE)                             # compelled: still sending
        assert g.busy(1) and abs(dbm0(out[1], "linear") - (-8.0 + 3.01)) < 0.2
        g.stop(1)
        assert not g.busy(1) and not g.generate(frames=160)[1].any()


@pytest.mark.parametrize("plan", sorted(PLANS))
def test_cadence_follows_plan(plan):
    for tone in PLANS[plan].tones.values():
        x = synth(tone, 12.0, "linear", plan)
        on = (np.abs(x.reshape(-1, 40)) > 0).any(axis=1)      # 5 ms cells
        runs, pos = [], 0
        while pos < on.size:
            end = pos
            while end < on.size and on[end] == on[pos]:
                end += 1
            runs.append((bool(on[pos]), (end - pos) * 5))
            pos = end
        if tone.continuous:
            assert runs == [(True, 12000)]
            continue
        # merge adjacent tone segments of different frequencies (SIT)
        expect = []
        for s in tone.segments:
            if expect and expect[-1][0] == s.tone:
                expect[-1] = (s.tone, expect[-1][1] + s.ms)
            else:
                expect.append((s.tone, s.ms))
        full = runs[:-1]
        assert full[:len(expect)] == expect


def test_idle_channels_get_silence_codes():
    for law, code in (("alaw", 0xD5), ("ulaw", 0xFF)):
        g = ToneGenerator(3, law)
        g.play(1, "busy")
        out = g.generate(frames=160)
        assert (out[0] == code).all() and (out[2] == code).all() and (out[1] != code).any()


def test_generate_into_buffer_and_bad_arguments():
    g = ToneGenerator(2, "alaw")
    buf = np.empty((2, 80), np.uint8)
    assert g.generate(buf) is buf
    with pytest.raises(ValueError):
        g.generate(np.empty((3, 80), np.uint8))
    with pytest.raises(ValueError):
        g.generate(np.empty((2, 80), np.int16))
    with pytest.raises(IndexError):
        g.play(2, "busy")
    with pytest.raises(ValueError):
        g.play(0, "howler")
    with pytest.raises(ValueError):
        g.dtmf(0, "12E")
    with pytest.raises(ValueError):
        g.mf(0, 16, "forward")
    with pytest.raises(ValueError):
        g.mf(0, 1, "sideways")
    with pytest.raises(ValueError):
        g.tone(0, 4100.0)
    with pytest.raises(ValueError):
        ToneGenerator(1, "gsm")
    with pytest.raises(ValueError):
        ToneGenerator(0)





@pytest.mark.interop
def test_spandsp_decodes_our_dtmf():
    ffi, lib = need_spandsp()
    digits = "0123456789*#ABCD"
    x = decode(synth(f"dtmf:{digits}", law="alaw", on_ms=50, off_ms=50), "alaw")
    s = lib.dtmf_rx_init(ffi.NULL, ffi.NULL, ffi.NULL)
    lib.dtmf_rx(s, ffi.cast("const int16_t *", ffi.from_buffer(x)), x.size)
    out = ffi.new("char[64]")
    n = lib.dtmf_rx_get(s, out, 64)
    lib.dtmf_rx_free(s)
    assert ffi.string(out, n).decode() == digits


@pytest.mark.interop
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_spandsp_decodes_our_r2_signals(direction):
    ffi, lib = need_spandsp()
    codes = "1234567890BCDEF"      # spandsp's names for signals 1..15
    s = lib.r2_mf_rx_init(ffi.NULL, direction == "forward", ffi.NULL, ffi.NULL)
    g = ToneGenerator(1, "alaw")
    for signal in range(1, 16):
        g.mf(0, signal, direction)
        x = decode(g.generate(frames=800)[0], "alaw")
        lib.r2_mf_rx(s, ffi.cast("const int16_t *", ffi.from_buffer(x)), x.size)
        assert chr(lib.r2_mf_rx_get(s)) == codes[signal - 1]
        g.stop(0)
        x = decode(g.generate(frames=400)[0], "alaw")
        lib.r2_mf_rx(s, ffi.cast("const int16_t *", ffi.from_buffer(x)), x.size)
    lib.r2_mf_rx_free(s)
