"""Level meter (dBm0), talk/silence detector and single-tone meter."""

from __future__ import annotations

import numpy as np
import pytest
from dsp_signals import alaw_encode, amplitude, power, tones
from hypothesis import given, settings
from hypothesis import strategies as st

from timeslot.events import Kind
from timeslot.g711 import decode, encode
from timeslot.level import LevelMeter, TalkDetector, ToneMeter, describe_tone
from timeslot.tonegen import synth

RATE = 8000


@pytest.mark.parametrize("law", ["alaw", "ulaw", "linear"])
@pytest.mark.parametrize("level", [0.0, -13.0, -30.0, -50.0])
def test_level_meter_reads_sine_level(law, level):
    m = LevelMeter(1, law, window_ms=100)
    assert m.process(synth(1004, 0.25, law, level=level)) == 2
    assert m.levels[0] == pytest.approx(level, abs=0.15 if level > -40 else 0.5)


def test_level_meter_noise_and_silence_many_channels():
    rng = np.random.default_rng(2)
    sigma = amplitude(-20.0) / np.sqrt(2)       # white noise of -20 dBm0 power
    x = np.stack([alaw_encode(rng.normal(0, sigma, 1600)), np.full(1600, 0xD5, np.uint8)])
    m = LevelMeter(2, "alaw", window_ms=200)
    m.process(x[:, :1000])
    m.process(x[:, 1000:])
    assert m.levels[0] == pytest.approx(-20.0, abs=0.2)
    assert m.levels[1] < -60


def test_talk_silence_events_with_hangover():
    rng = np.random.default_rng(1)
    speech = tones((300.0, 1200.0), (-20.0, -25.0), 8000, rng)
    x = np.concatenate([np.zeros(4000), speech, np.zeros(1600), speech, np.zeros(8000)])
    d = TalkDetector(1, "alaw", threshold_dbm0=-40, attack_ms=40, hangover_ms=500)
    evs = d.process(alaw_encode(x)) + d.finish()
    kinds = [(e.kind, e.start) for e in evs]
    # the 200 ms gap is shorter than the hangover: one talk spurt, then silence
    assert kinds == [(Kind.TALK, 4000), (Kind.SILENCE, 4000 + 8000 + 1600 + 8000)]
    assert evs[1].end == evs[1].start + 500 * 8


@pytest.mark.parametrize("threshold,expect", [(-30.0, 1), (-20.0, 0)])
def test_talk_threshold(threshold, expect):
    x = synth(1000, 1.0, "alaw", level=-25.0)
    evs = TalkDetector(1, "alaw", threshold_dbm0=threshold).process(x)
    assert len([e for e in evs if e.kind == Kind.TALK]) == expect


def test_test_tone_1004_hz_minus_13():
    evs = ToneMeter(1, "alaw").process(synth(1004, 3.0, "alaw"))
    assert [describe_tone(e.value, e.extra) for e in evs] == ["1004Hz -13.0dBm0"]
    assert evs[0].kind == Kind.TONE and evs[0].start == 0 and evs[0].end == 2 * RATE


@settings(max_examples=20)
@given(st.floats(300, 3400), st.floats(-35, 0), st.sampled_from(["alaw", "ulaw"]))
def test_tone_meter_accuracy(f, level, law):
    """The meter reads the level of the tone on the line within 0.1 dB; that differs from the
    nominal level by the codec's quantisation, up to about 0.25 dB for a tone commensurate
    with 8 kHz near mu-law full scale (its errors then repeat instead of averaging out)."""
    rng = np.random.default_rng(0)
    x = encode(np.round(tones((f,), (level,), 3 * RATE, rng)).astype(np.int16), law)
    (ev,) = ToneMeter(1, law, min_ms=1000).process(x)
    on_line = decode(x, law).astype(float)[:2 * RATE]
    line_dbm0 = 10 * np.log10(np.mean(on_line ** 2) / power(0.0))
    assert abs(ev.value - f) <= 1.0
    assert abs(ev.extra / 100 - line_dbm0) <= 0.1
    assert abs(ev.extra / 100 - level) <= 0.3


def test_tone_meter_ignores_dual_tones_noise_and_short_tones():
    rng = np.random.default_rng(5)
    dual = alaw_encode(tones((697.0, 1209.0), (-10.0, -10.0), 3 * RATE, rng))
    noise = alaw_encode(rng.normal(0, 2000, 3 * RATE))
    short = synth(1004, 1.5, "alaw")
    for x in (dual, noise, short):
        assert ToneMeter(1, "alaw").process(x) == []


def test_tone_meter_block_independent():
    x = np.concatenate([synth(1004, 2.5, "alaw"), synth(1234, 2.5, "alaw", level=-20)])
    whole = ToneMeter(1).process(x)
    m = ToneMeter(1)
    parts = [e for i in range(0, x.size, 77) for e in m.process(x[i:i + 77])]
    assert parts == whole
    assert [describe_tone(e.value, e.extra) for e in whole] == ["1004Hz -13.0dBm0",
                                                                "1234Hz -20.0dBm0"]


@settings(max_examples=30)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash(data):
    x = np.frombuffer(data, np.uint8)
    LevelMeter(1).process(x)
    TalkDetector(1).process(x)
    ToneMeter(1).process(x)


def test_bad_arguments():
    with pytest.raises(ValueError):
        LevelMeter(1, window_ms=0)
    with pytest.raises(ValueError):
        TalkDetector(1, attack_ms=-1)
    with pytest.raises(ValueError):
        ToneMeter(0)
    with pytest.raises(ValueError):
        LevelMeter(2).process(np.zeros(160, np.uint8))


def test_long_block_loses_no_events():
    """One process() call over 5 minutes of 0.25/0.25 s cadence: 1,200 events, none dropped."""
    evs = TalkDetector(1, hangover_ms=100).process(synth("congestion", 300.0, "alaw"))
    assert len(evs) == 1200
    assert [e.kind for e in evs[:4]] == [Kind.TALK, Kind.SILENCE] * 2
