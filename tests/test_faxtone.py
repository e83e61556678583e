"""Fax/modem tones: T.30 CNG and CED, V.25 ANS with phase reversals (counted), frequency
and duration bounds, arbitrary input."""

from __future__ import annotations

import numpy as np
import pytest
from dsp_signals import alaw_encode, amplitude
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import need_spandsp
from timeslot.events import Kind
from timeslot.faxtone import NAMES, FaxToneDetector

RATE = 8000


def tone(f, seconds, level=-12.0, total=None, reversal_s=None, gate=None, seed=0, law="alaw"):
    rng = np.random.default_rng(seed)
    n = int((total or seconds + 0.5) * RATE)
    t = np.arange(n) / RATE
    phase = np.pi * np.floor(t / reversal_s) if reversal_s else 0.0
    x = amplitude(level) * np.sin(2 * np.pi * f * t + phase + rng.uniform(0, 6))
    x *= (t < seconds) if gate is None else gate(t)
    x += rng.normal(0, 20, n)
    return alaw_encode(x)


def detect(codes, block=160) -> list[tuple[str, int]]:
    d = FaxToneDetector(1)
    evs = [e for i in range(0, codes.size, block) for e in d.process(codes[i:i + block])]
    evs += d.finish()
    assert all(e.kind == Kind.FAX for e in evs)
    return [(NAMES[e.value], e.extra) for e in evs]


def test_cng_bursts():
    x = tone(1100.0, 0, total=8.0, gate=lambda t: (t % 3.5) < 0.5)
    assert detect(x) == [("CNG", 0)] * 3


@pytest.mark.parametrize("on,found", [(0.45, True), (0.55, True), (0.3, False), (1.0, False)])
def test_cng_duration_rule(on, found):
    assert detect(tone(1100.0, on)) == ([("CNG", 0)] if found else [])


@pytest.mark.parametrize("f,found", [(1065.0, True), (1135.0, True), (1000.0, False),
                                     (1200.0, False)])
def test_cng_frequency_bounds(f, found):
    """T.30: 1100 +-38 Hz."""
    assert detect(tone(f, 0.5)) == ([("CNG", 0)] if found else [])


def test_ced_without_reversals():
    assert detect(tone(2100.0, 3.3)) == [("CED", 0)]


@pytest.mark.parametrize("seconds,reversals", [(3.3, 7), (4.0, 8), (2.8, 6)])
def test_ans_reversals_counted(seconds, reversals):
    """V.25: phase reversals every 450 ms; one per 450 ms of tone after the first."""
    assert detect(tone(2100.0, seconds, reversal_s=0.45)) == [("ANS", reversals)]


@pytest.mark.parametrize("f,found", [(2085.0, True), (2115.0, True), (2060.0, False),
                                     (2140.0, False)])
def test_answer_tone_frequency_bounds(f, found):
    """V.25: 2100 +-15 Hz."""
    got = detect(tone(f, 3.3, reversal_s=0.45, seed=4))
    assert got == ([("ANS", 7)] if found else [])


def test_short_2100_not_reported_and_unfinished_tone_reported_at_finish():
    assert detect(tone(2100.0, 1.0)) == []
    assert detect(tone(2100.0, 10.0, total=5.0)) == [("CED", 0)]


@pytest.mark.parametrize("level,found", [(-40.0, True), (-48.0, False)])
def test_level_bound(level, found):
    assert detect(tone(2100.0, 3.0, level=level)) == ([("CED", 0)] if found else [])


def test_many_channels_one_call():
    rows = [tone(2100.0, 3.3, reversal_s=0.45), tone(1100.0, 0.5, total=3.8),
            np.full(int(3.8 * RATE), 0xD5, np.uint8)]
    d = FaxToneDetector(3)
    evs = d.process(np.stack(rows)) + d.finish()
    assert sorted((e.channel, NAMES[e.value]) for e in evs) == [(0, "ANS"), (1, "CNG")]


@settings(max_examples=30)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_crash(data):
    d = FaxToneDetector(1)
    evs = d.process(np.frombuffer(data, np.uint8)) + d.finish()
    assert all(e.value in NAMES for e in evs)


def test_reset_drops_the_tone_in_progress():
    x = tone(2100.0, 3.3, reversal_s=0.45)
    d = FaxToneDetector(1)
    d.process(x[:int(1.5 * RATE)])
    d.reset(0)
    assert d.process(x[int(1.5 * RATE):]) + d.finish() == []
    with pytest.raises(IndexError):
        d.reset(1)




@pytest.mark.interop
@pytest.mark.parametrize("tone_type,expect", [(1, "CNG"), (2, "CED"), (3, "ANS"), (4, "CED"),
                                              (5, "ANS")])
def test_spandsp_generated_tones(tone_type, expect):
    """spandsp's modem_connect_tones_tx: 1 CNG, 2 ANS, 3 ANS with phase reversals, 4 and 5
    the same amplitude-modulated (V.8 ANSam, 15 Hz AM)."""
    ffi, lib = need_spandsp()
    s = lib.modem_connect_tones_tx_init(ffi.NULL, tone_type)
    buf = np.zeros(6 * RATE, np.int16)
    n = lib.modem_connect_tones_tx(s, ffi.cast("int16_t *", ffi.from_buffer(buf)), buf.size)
    lib.modem_connect_tones_tx_free(s)
    x = alaw_encode(buf[:n].astype(float))
    got = detect(np.concatenate([x, np.full(RATE, 0xD5, np.uint8)]))
    assert {name for name, _ in got} == {expect}
    if expect == "ANS":
        assert got[0][1] >= 5       # a reversal every 450 ms of a >= 2.6 s tone
