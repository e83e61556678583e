"""Call-progress detector: every plan tone, E.180 frequency/level/cadence bounds, no false
detection on speech-like signals, block-size independence, arbitrary input."""

from __future__ import annotations

import numpy as np
import pytest
from dsp_signals import alaw_encode, tones
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from timeslot.cpt import CallProgressDetector
from timeslot.events import Kind
from timeslot.g711 import encode
from timeslot.tonegen import synth
from timeslot.toneplans import PLANS

RATE = 8000


def cadenced(freqs, on_off, seconds, level=-10.0, seed=0, noise=3.0) -> np.ndarray:
    """Independent numpy synthesis: ``freqs`` keyed on and off by the (on, off, ...) seconds."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    x = np.zeros(n)
    pos, k = 0, 0
    while pos < n:
        length = int(on_off[k % len(on_off)] * RATE)
        f = freqs[k % len(freqs)] if isinstance(freqs[0], tuple) else freqs
        if k % 2 == 0 or len(on_off) == 1:
            seg = min(length, n - pos)
            x[pos:pos + seg] = tones(f, (level,) * len(f), seg, rng)
        pos += length
        k += 1
    return alaw_encode(x + rng.normal(0, noise, n))


def names(codes, plan="itu", law="alaw", block=None) -> list[str]:
    d = CallProgressDetector(1, plan, law)
    x = codes.reshape(1, -1)
    if block is None:
        evs = d.process(x)
    else:
        evs = [e for i in range(0, x.shape[1], block) for e in d.process(x[:, i:i + block])]
    assert all(e.kind == Kind.CPT and e.channel == 0 for e in evs)
    return [d.name(e.value) for e in evs + d.finish()]


@pytest.mark.parametrize("plan", sorted(PLANS))
@pytest.mark.parametrize("tone", ["dial", "ringback", "busy", "congestion", "callwaiting", "sit"])
@pytest.mark.parametrize("law", ["alaw", "ulaw", "linear"])
def test_generated_plan_tones_are_detected(plan, tone, law):
    x = synth(tone, 12.0, law, plan)
    assert names(x, plan, law) == [tone]


@pytest.mark.parametrize("plan,tone,f,cadence", [
    ("itu", "busy", 425.0, (0.5, 0.5)),
    ("itu", "congestion", 425.0, (0.25, 0.25)),
    ("itu", "ringback", 425.0, (1.0, 4.0)),
    ("cn", "busy", 450.0, (0.35, 0.35)),
    ("cn", "congestion", 450.0, (0.7, 0.7)),
    ("cn", "ringback", 450.0, (1.0, 4.0)),
])
def test_independent_signals(plan, tone, f, cadence):
    assert names(cadenced((f,), cadence, 11.0, seed=7), plan) == [tone]


def test_sit_independent():
    segs = [(950.0,), (1400.0,), (1800.0,)]
    rng = np.random.default_rng(3)
    one = np.concatenate([tones(s, (-24.0,), int(0.33 * RATE), rng) for s in segs]
                         + [np.zeros(RATE)])
    assert names(alaw_encode(np.tile(one, 3))) == ["sit"]


@pytest.mark.parametrize("f,found", [(400, True), (425, True), (450, True), (385, False),
                                     (465, False), (500, False), (550, False)])
def test_frequency_bounds(f, found):
    """E.180 cl. 2: the 425 Hz tones lie in 400-450 Hz."""
    for seed in range(3):
        assert names(cadenced((float(f),), (0.5, 0.5), 4.0, seed=seed)) == (["busy"] if found
                                                                            else [])


@pytest.mark.parametrize("level,found", [(-3.0, True), (-20.0, True), (-33.0, True),
                                         (-39.0, False), (-45.0, False)])
def test_level_bounds(level, found):
    assert names(cadenced((425.0,), (0.5, 0.5), 4.0, level=level)) == (["busy"] if found else [])


@pytest.mark.parametrize("on,found", [(0.40, None), (0.43, "busy"), (0.5, "busy"),
                                      (0.57, "busy"), (0.61, None), (0.25, "congestion"),
                                      (0.35, None)])
def test_cadence_bounds(on, found):
    """+-10 % (+-40 ms for 20 ms blocks) around the nominal 0.5/0.5 and 0.25/0.25."""
    assert names(cadenced((425.0,), (on, on), 5.0)) == ([found] if found else [])


def test_speech_like_noise_gives_no_cpt():
    rng = np.random.default_rng(11)
    n = 20 * RATE
    t = np.arange(n) / RATE
    # syllabic 4 Hz envelope on noise coloured around the 425 Hz region, plus voiced
    # harmonics of a gliding 110-220 Hz pitch
    noise = np.convolve(rng.normal(0, 1, n), np.hanning(9), "same")
    pitch = 110 + 110 * (0.5 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    env = np.clip(np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6)), 0, None)
    x = (3000 * noise + 4000 * voiced) * env
    assert names(alaw_encode(x)) == []


def test_speech_from_espeak_gives_no_cpt(tmp_path):
    from conftest import need_program
    espeak = need_program("espeak-ng")
    import subprocess
    wav = tmp_path / "s.wav"
    text = "Hello, this is a test of the call progress detector. Please hold the line."
    subprocess.run([espeak, "-w", str(wav), text], check=True, capture_output=True)
    from scipy.io import wavfile
    from scipy.signal import resample_poly
    rate, pcm = wavfile.read(wav)
    x = resample_poly(pcm.astype(float), RATE, rate)
    assert names(encode(np.clip(x, -32768, 32767).astype(np.int16), "alaw")) == []


def test_many_channels_and_block_sizes():
    plan = PLANS["itu"]
    rows = [synth(name, 8.0, "alaw") for name in plan.names]
    x = np.stack(rows)
    d = CallProgressDetector(len(rows), "itu")
    whole = sorted(d.process(x))
    for block in (7, 160, 333):
        d2 = CallProgressDetector(len(rows), "itu")
        evs = [e for i in range(0, x.shape[1], block) for e in d2.process(x[:, i:i + block])]
        assert sorted(evs) == whole
    got = {e.channel: plan.names[e.value] for e in whole}
    # call waiting (0.4 s on / 10 s off) needs more than 8 s
    assert got == {i: n for i, n in enumerate(plan.names) if n != "callwaiting"}


def test_tone_stop_and_restart_is_reported_again():
    busy = synth("busy", 4.0, "alaw")
    silent = np.full(3 * RATE, 0xD5, np.uint8)
    assert names(np.concatenate([busy, silent, busy])) == ["busy", "busy"]


def test_event_times():
    x = np.concatenate([np.full(RATE, 0xD5, np.uint8), synth("dial", 3.0, "alaw")])
    d = CallProgressDetector(1, "itu")
    (ev,) = d.process(x.reshape(1, -1))
    assert abs(ev.start - RATE) <= 160
    assert abs(ev.end - (RATE + 1.5 * RATE)) <= 320


@settings(max_examples=30)
@given(st.binary(min_size=0, max_size=4000))
def test_arbitrary_bytes_never_crash(data):
    d = CallProgressDetector(1, "itu")
    evs = d.process(np.frombuffer(data, np.uint8).reshape(1, -1))
    assert all(0 <= e.value < len(d.names) for e in evs)


def test_bad_input():
    d = CallProgressDetector(2, "itu")
    with pytest.raises(ValueError):
        d.process(np.zeros((3, 160), np.uint8))
    with pytest.raises(ValueError):
        d.process(np.zeros((2, 160), np.int16))
    with pytest.raises(ValueError):
        CallProgressDetector(1, "itu", "pcm8")
    with pytest.raises(ConfigError):
        CallProgressDetector(1, "mars")
    with pytest.raises(ValueError):
        CallProgressDetector(0)


@pytest.mark.parametrize("plan", sorted(PLANS))
def test_plan_tables_are_unambiguous(plan):
    """A continuous tone is only reported after every cadenced on-segment of the same
    frequencies would have ended, and no two cadenced tones accept the same on/off pair."""
    p = PLANS[plan]
    cadenced = [t for t in p.tones.values() if not t.continuous]
    for t in p.tones.values():
        if t.continuous:
            longest = max(p.bounds(s)[1] for c in cadenced for s in c.segments
                          if s.freqs == t.segments[0].freqs)
            assert t.detect_ms > longest
    pairs = {}
    for t in cadenced:
        if len(t.segments) == 2:
            pairs[t.name] = [p.bounds(s) for s in t.segments]
    names_ = sorted(pairs)
    for i, a in enumerate(names_):
        for b in names_[i + 1:]:
            overlap = all(x[0] <= y[1] and y[0] <= x[1] for x, y in zip(pairs[a], pairs[b], strict=True))
            assert not overlap, (a, b)


def test_reset_forgets_the_cadence():
    x = synth("busy", 4.0, "alaw").reshape(1, -1)
    d = CallProgressDetector(1, "itu")
    first = d.process(x[:, :2 * RATE])
    d.reset(0)
    second = d.process(x[:, 2 * RATE:])
    assert [e.value for e in first + second] == [2, 2]          # busy, then busy again
    assert second[0].start >= 2 * RATE
    with pytest.raises(IndexError):
        d.reset(1)


def test_dual_frequency_plan_from_data():
    """Plans are data: a dual-tone plan needs no code change (pairs >= 120 Hz apart)."""
    from timeslot.toneplans import Segment, Tone, TonePlan
    us = TonePlan("dual-test", "dual-tone test plan", {
        "dial": Tone("dial", (Segment((350.0, 620.0), None),)),
        "busy": Tone("busy", (Segment((480.0, 620.0), 500), Segment((), 500)), match=3),
        "ringback": Tone("ringback", (Segment((440.0, 1000.0), 2000), Segment((), 4000))),
    }, freq_tolerance_hz=15.0)
    for name in us.names:
        assert names(synth(us.tones[name], 10.0, "alaw", us), us) == [name]
    # one component missing, or 10 dB of twist: not the dual tone
    assert names(cadenced((480.0,), (0.5, 0.5), 4.0), us) == []
    rng = np.random.default_rng(4)
    t = np.arange(4 * RATE) / RATE
    gate = (t % 1.0) < 0.5
    for levels, found in (((-10.0, -14.0), ["busy"]), ((-10.0, -20.0), [])):
        x = tones((480.0, 620.0), levels, t.size, rng) * gate
        assert names(alaw_encode(x), us) == found


def test_unresolvable_dual_tone_is_refused():
    from timeslot.toneplans import Segment, Tone, TonePlan
    close = TonePlan("close", "440+480 ringback", {
        "ringback": Tone("ringback", (Segment((440.0, 480.0), 2000), Segment((), 4000)))})
    with pytest.raises(ValueError, match="closer than"):
        CallProgressDetector(1, close)


@settings(max_examples=25)
@given(st.sampled_from(sorted(PLANS)), st.sampled_from(["dial", "busy", "congestion", "sit"]),
       st.floats(-30, -3), st.sampled_from(["alaw", "ulaw"]), st.integers(0, 4000),
       st.integers(1, 400))
def test_round_trip_any_level_offset_and_block(plan, tone, level, law, lead, block):
    """gen -> detect at any level in range, any start offset, any block size, with noise."""
    rng = np.random.default_rng(lead)
    quiet = encode(np.round(rng.normal(0, 8, lead)).astype(np.int16), law)
    x = np.concatenate([quiet, synth(tone, 6.0, law, plan, level=level)])
    assert names(x, plan, law, block=block) == [tone]
