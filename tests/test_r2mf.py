"""MFC-R2 receiver: Q.441 signals both directions, Q.442 bounds, onset/end events."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import dsp_signals as s
from tests.conftest import need_spandsp
from timeslot.events import Event, Kind
from timeslot.r2mf import R2MfDetector

DIRECTIONS = ("forward", "backward")


def detect(signal: np.ndarray, rng: np.random.Generator, direction: str = "forward"
           ) -> list[Event]:
    det = R2MfDetector(1, direction)
    codes = s.alaw_encode(signal)
    events, at = [], 0
    while at < len(codes):
        n = int(rng.integers(1, 400))
        events += det.process(codes[None, at:at + n])
        at += n
    return events + det.finish()


def signals(events: list[Event]) -> list[int]:
    """Completed signals (the end events)."""
    return [e.value for e in events if e.end != -1]


def sweep(make, direction: str = "forward", seed: int = 1) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [signals(detect(s.aligned(make(k, rng), rng)[0], rng, direction))
            for k in range(1, 16)]


ALL = [[k] for k in range(1, 16)]
NONE = [[] for _ in range(15)]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_all_signals_onset_then_end(direction):
    rng = np.random.default_rng(2)
    kind = Kind.R2F if direction == "forward" else Kind.R2B
    for k in range(1, 16):
        sig, lead = s.aligned(s.r2(k, 100, rng, direction), rng)
        onset, end = detect(sig, rng, direction)
        assert onset.kind == end.kind == kind and onset.value == end.value == k
        assert onset.end == -1 and onset.start == end.start
        assert abs(end.start - lead) <= 40 and abs(end.end - (lead + 800)) <= 40


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dev", [(10, 10), (-10, -10), (10, -10), (-10, 10)])
def test_frequency_deviation_10hz_accepted(direction, dev):
    assert sweep(lambda k, rng: s.r2(k, 80, rng, direction, dev=dev), direction) == ALL


@pytest.mark.parametrize("dev", [(60, 0), (0, -60), (45, 0)])
def test_far_off_frequency_rejected(dev):
    assert sweep(lambda k, rng: s.r2(k, 80, rng, dev=dev)) == NONE


@pytest.mark.parametrize("level", [-5.0, -35.0])
def test_level_range_accepted(level):
    assert sweep(lambda k, rng: s.r2(k, 80, rng, level=level)) == ALL


@pytest.mark.parametrize("level", [-38.5, -42.0])
def test_too_weak_rejected(level):
    assert sweep(lambda k, rng: s.r2(k, 80, rng, level=level)) == NONE


def test_level_difference():
    """Q.442: 5 dB between adjacent, 7 dB between other frequencies accepted, 20 dB rejected."""
    rng = np.random.default_rng(3)
    for k in range(1, 16):
        a, b = s.R2_PAIRS[k - 1]
        allowed = 5.0 if b - a == 1 else 7.0
        for twist in (allowed, -allowed):
            sig = s.aligned(s.r2(k, 80, rng, level=-25 + max(0.0, -twist), twist=twist), rng)[0]
            assert signals(detect(sig, rng)) == [k]
        for twist in (20.0, -20.0):
            sig = s.aligned(s.r2(k, 80, rng, level=-25 + max(0.0, -twist), twist=twist), rng)[0]
            assert signals(detect(sig, rng)) == []


def test_short_bursts_ignored_and_operate_fast():
    """Q.442: no response to 7 ms bursts; onset reported within 30 ms of the tone."""
    assert sweep(lambda k, rng: s.r2(k, 7, rng, level=-5)) == NONE
    rng = np.random.default_rng(4)
    for k in range(1, 16):
        sig, lead = s.aligned(s.r2(k, 100, rng), rng)
        det, codes = R2MfDetector(1), s.alaw_encode(sig)
        at = next(i for i in range(0, len(codes), 8)
                  if det.process(codes[None, i:i + 8]))
        assert at + 8 - lead <= 30 * 8


def test_interruption_of_7ms_does_not_release():
    got = sweep(lambda k, rng: s.concat(s.r2(k, 60, rng), s.silence(7), s.r2(k, 60, rng)))
    assert got == ALL
    got = sweep(lambda k, rng: s.concat(s.r2(k, 60, rng), s.silence(40), s.r2(k, 60, rng)))
    assert got == [[k, k] for k in range(1, 16)]


def test_single_and_three_tones_rejected():
    rng = np.random.default_rng(5)
    for table in (s.R2_FORWARD, s.R2_BACKWARD):
        direction = "forward" if table is s.R2_FORWARD else "backward"
        for i, f in enumerate(table):
            assert detect(s.tones((f,), (-10.0,), 800, rng), rng, direction) == []
            three = (f, table[(i + 1) % 6], table[(i + 3) % 6])
            assert detect(s.tones(three, (-12.0,) * 3, 800, rng), rng, direction) == []


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_other_direction_and_dtmf_rejected(direction):
    other = "backward" if direction == "forward" else "forward"
    assert sweep(lambda k, rng: s.r2(k, 80, rng, other), direction) == NONE
    rng = np.random.default_rng(6)
    for d in s.DIGITS:
        sig = s.aligned(s.dtmf(d, 80, rng), rng)[0]
        assert detect(sig, rng, direction) == []


def test_noise_18db():
    rng = np.random.default_rng(7)
    for k in range(1, 16):
        sig = s.aligned(s.r2(k, 80, rng, level=-15), rng)[0]
        sig = s.add_noise(sig, 18, 2 * s.power(-15), rng)
        assert signals(detect(sig, rng)) == [k]


def test_compelled_sequence_many_channels():
    rng = np.random.default_rng(8)
    channels, n = 30, 8000
    lin = np.zeros((channels, n))
    want = {}
    for ch in range(channels):
        seq = [int(v) for v in rng.integers(1, 16, 4)]
        at = int(rng.integers(0, 400))
        for k in seq:
            burst = s.r2(k, 120, rng, "backward", level=float(rng.uniform(-30, -8)))
            lin[ch, at:at + len(burst)] = burst
            at += len(burst) + 600
        want[ch] = seq
    det = R2MfDetector(channels, "backward")
    codes = s.alaw_encode(lin)
    events = []
    for at in range(0, n, 160):
        events += det.process(codes[:, at:at + 160])
    events += det.finish()
    for ch in range(channels):
        mine = [e for e in events if e.channel == ch]
        assert [e.value for e in mine if e.end == -1] == want[ch]
        assert [e.value for e in mine if e.end != -1] == want[ch]


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError):
        R2MfDetector(1, "sideways")
    with pytest.raises(ValueError):
        R2MfDetector(1, "forward", "g729")
    det = R2MfDetector(2, "forward", "linear")
    with pytest.raises(TypeError):
        det.process(np.zeros((2, 160), np.uint8))
    with pytest.raises(IndexError):
        det.set_enabled(-1, True)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 500), st.sampled_from(DIRECTIONS))
def test_any_bytes_any_split_same_events(data, size, direction):
    codes = np.frombuffer(data, np.uint8)
    whole = R2MfDetector(1, direction)
    ref = whole.process(codes[None]) + whole.finish()
    det, got = R2MfDetector(1, direction), []
    for at in range(0, len(codes), size):
        got += det.process(codes[None, at:at + size])
    assert got + det.finish() == ref
    assert all(1 <= e.value <= 15 for e in ref)


@pytest.mark.interop
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_spandsp_generated_signals(direction):
    """An independent generator: spandsp's r2_mf_tx, signals 1..15 ("1234567890BCDEF")."""
    ffi, lib = need_spandsp()
    tx = lib.r2_mf_tx_init(ffi.NULL, direction == "forward")
    parts = []
    for ch in b"1234567890BCDEF":
        for digit in (bytes([ch]), b"\0"):
            lib.r2_mf_tx_put(tx, digit)
            buf = np.zeros(800, np.int16)
            lib.r2_mf_tx(tx, ffi.from_buffer("int16_t[]", buf), len(buf))
            parts.append(buf)
    lib.r2_mf_tx_free(tx)
    det = R2MfDetector(1, direction, "linear")
    pcm = np.concatenate(parts)
    events = det.process(pcm[None]) + det.finish()
    assert signals(events) == list(range(1, 16))
