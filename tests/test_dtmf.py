"""DTMF receiver: Q.23/Q.24 bounds over all 16 digits, noise, talk-off, API contracts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import dsp_signals as s
from tests.conftest import need_program, need_spandsp
from timeslot.dtmf import DtmfDetector
from timeslot.events import Event, Kind
from timeslot.g711 import ulaw_encode


def detect(signal: np.ndarray, rng: np.random.Generator, law: str = "alaw") -> list[Event]:
    """Run one channel through the receiver in blocks of random size."""
    det = DtmfDetector(1, law)
    pcm = np.clip(np.round(signal), -32768, 32767).astype(np.int16)
    codes = {"alaw": lambda: s.alaw_encode(signal), "ulaw": lambda: ulaw_encode(pcm),
             "linear": lambda: pcm}[law]()
    events, at = [], 0
    while at < len(codes):
        n = int(rng.integers(1, 400))
        events += det.process(codes[None, at:at + n])
        at += n
    return events + det.finish()


def digits(events: list[Event]) -> str:
    return "".join(chr(e.value) for e in events)


ROWS = s.dtmf_rows(np.random.default_rng(2024))


@pytest.mark.parametrize("name,cases", ROWS, ids=[r[0] for r in ROWS])
def test_q24_bounds_all_digits(name, cases):
    rng = np.random.default_rng(7)
    got = [digits(detect(c.signal, rng)) for c in cases]
    assert got == [c.expect for c in cases]


@pytest.mark.parametrize("dev", [0.035, -0.035, 0.05])
def test_both_tones_off_frequency_rejected(dev):
    rng = np.random.default_rng(3)
    for d in s.DIGITS:
        sig = s.aligned(s.dtmf(d, 60, rng, low_dev=dev, high_dev=dev), rng)[0]
        assert detect(sig, rng) == []


@pytest.mark.parametrize("single", ["low", "high"])
def test_single_tone_rejected(single):
    rng = np.random.default_rng(4)
    for d in s.DIGITS:
        assert detect(s.aligned(s.dtmf(d, 80, rng, single=single), rng)[0], rng) == []


def test_three_tones_rejected():
    rng = np.random.default_rng(5)
    sig = s.tones((770.0, 1336.0, 1477.0), (-10.0, -10.0, -10.0), 800, rng)
    assert detect(sig, rng) == []


@pytest.mark.parametrize("law", ["ulaw", "linear"])
def test_other_laws(law):
    rng = np.random.default_rng(6)
    sig = s.concat(*[s.concat(s.dtmf(d, 50, rng, level=-20), s.silence(50)) for d in s.DIGITS])
    assert digits(detect(sig, rng, law)) == s.DIGITS


def test_start_and_end_are_where_the_tone_is():
    rng = np.random.default_rng(8)
    for d in s.DIGITS:
        sig, lead = s.aligned(s.dtmf(d, 70, rng), rng)
        (ev,) = detect(sig, rng)
        assert ev.kind == Kind.DTMF and ev.channel == 0 and ev.value == ord(d)
        assert abs(ev.start - lead) <= 40 and abs(ev.end - (lead + 560)) <= 40


def test_noise_curve_never_a_wrong_digit():
    """Q.24 noise: every digit at 15 dB SNR (in the rows); down to 0 dB fewer digits, never
    a wrong one."""
    rng = np.random.default_rng(9)
    found = {}
    for snr in (12, 9, 6, 3, 0):
        hits = 0
        for d in s.DIGITS:
            sig = s.add_noise(s.aligned(s.dtmf(d, 60, rng), rng)[0], snr, 2 * s.power(-10), rng)
            got = digits(detect(sig, rng))
            assert set(got) <= {d}
            hits += got == d
        found[snr] = hits
    assert found[12] == 16
    assert found[0] <= found[6] <= found[12]


def test_many_channels_one_call_and_disabled_channels():
    rng = np.random.default_rng(10)
    channels = 40
    n = 6400
    lin = np.zeros((channels, n))
    want = {}
    for ch in range(channels):
        d = s.DIGITS[ch % 16]
        lead = int(rng.integers(0, 2000))
        burst = s.dtmf(d, 60, rng, level=float(rng.uniform(-30, -5)))
        lin[ch, lead:lead + len(burst)] = burst
        want[ch] = d
    codes = s.alaw_encode(lin)
    det = DtmfDetector(channels)
    det.set_enabled(3, False)
    events = []
    for at in range(0, n, 160):
        events += det.process(codes[:, at:at + 160])
    events += det.finish()
    got = {e.channel: chr(e.value) for e in events}
    assert len(events) == channels - 1 and 3 not in got
    assert got == {ch: d for ch, d in want.items() if ch != 3}
    assert det.samples == n and det.dropped == 0


def test_reset_forgets_a_digit_in_progress():
    rng = np.random.default_rng(11)
    codes = s.alaw_encode(s.dtmf("5", 200, rng))
    det = DtmfDetector(1)
    det.process(codes[None, :800])
    det.reset(0)
    ev = det.process(codes[None, 800:]) + det.process(s.alaw_encode(s.silence(100))[None]) \
        + det.finish()
    assert [chr(e.value) for e in ev] == ["5"]
    assert ev[0].start >= 800


def test_bad_input_is_a_clear_error():
    det = DtmfDetector(2)
    with pytest.raises(TypeError):
        det.process(np.zeros((2, 160), np.int16))
    with pytest.raises(ValueError):
        det.process(np.zeros((3, 160), np.uint8))
    with pytest.raises(ValueError):
        det.process(np.zeros(160, np.uint8))
    with pytest.raises(IndexError):
        det.reset(2)
    with pytest.raises(ValueError):
        DtmfDetector(1, "slinear")
    with pytest.raises(ValueError):
        DtmfDetector(0)
    assert det.process(np.zeros((2, 0), np.uint8)) == []


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=0, max_size=3000), st.lists(st.integers(1, 500), min_size=1, max_size=8))
def test_any_bytes_any_split_same_events(data, sizes):
    """Arbitrary codes never crash; events do not depend on how the stream is cut."""
    codes = np.frombuffer(data, np.uint8)
    whole = DtmfDetector(1)
    ref = whole.process(codes[None]) + whole.finish()
    det, got, at, i = DtmfDetector(1), [], 0, 0
    while at < len(codes):
        n = sizes[i % len(sizes)]
        got += det.process(codes[None, at:at + n])
        at, i = at + n, i + 1
    got += det.finish()
    assert got == ref
    assert all(e.kind == Kind.DTMF and chr(e.value) in s.DIGITS and e.end > e.start for e in ref)


# ---- talk-off: speech in several languages, generated once per session ----


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    need_program("espeak-ng")
    need_program("sox")
    return s.speech()


@pytest.mark.parametrize("level", [10.0, 0.0, -10.0, -20.0, -30.0])
def test_talk_off(speech, level):
    assert len(speech) > 120 * s.RATE
    sig = speech * 10 ** (level / 20)
    assert detect(sig, np.random.default_rng(12)) == []


def test_digits_in_speech_are_found(speech):
    rng = np.random.default_rng(13)
    sig = speech[: 60 * s.RATE] * 10 ** (-5 / 20)     # speech at -25 dBm0 RMS
    want = "".join(rng.choice(list(s.DIGITS), 40))
    for i, d in enumerate(want):
        at = int((i + 0.5) * 1.5 * s.RATE)
        burst = s.dtmf(d, 60, rng, level=-10)
        sig[at:at + len(burst)] += burst
    assert digits(detect(sig, rng)) == want


@pytest.mark.interop
def test_spandsp_generated_digits():
    """An independent generator: spandsp's dtmf_tx (its default level and 50/55 ms timing)."""
    ffi, lib = need_spandsp()
    tx = lib.dtmf_tx_init(ffi.NULL)
    lib.dtmf_tx_put(tx, s.DIGITS.encode(), len(s.DIGITS))
    buf = np.zeros(16 * 1000, np.int16)
    n = lib.dtmf_tx(tx, ffi.from_buffer("int16_t[]", buf), len(buf))
    lib.dtmf_tx_free(tx)
    assert digits(detect(buf[:n].astype(float), np.random.default_rng(14), "linear")) == s.DIGITS
