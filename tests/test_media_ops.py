"""Media operations across a simulated E1 line: prompts played from files, and
call-progress analysis of what the far end sends (busy, SIT, fax, voice, no answer)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from cti.media import Reason
from tests.kernel_rig import back_to_back
from timeslot.audiofile import write_wav
from timeslot.tonegen import synth


@pytest.fixture
def line():
    rig = back_to_back()
    rig.kernel.run_for(0.5)  # alignment
    # the PSTN end transmits on TS1; the call centre end receives it on its TS1
    yield rig.kernel, rig.media, 1, 33
    rig.kernel.close()


def speech_like(seconds: float, seed: int = 3) -> np.ndarray:
    """Syllables of noise at talking level (no steady tone a CPT detector could match)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 8000)
    env = np.zeros(n)
    t = 0
    while t < n:
        on = int(rng.uniform(0.12, 0.3) * 8000)
        env[t:t + on] = rng.uniform(0.3, 1.0)
        t += on + int(rng.uniform(0.03, 0.08) * 8000)
    x = rng.normal(0, 4000, n) * env
    return np.clip(x, -32000, 32000).astype(np.int16)


@pytest.mark.parametrize("sent, result", [
    ("busy", "busy"), ("congestion", "congestion"), ("sit", "sit")])
def test_cpa_recognises_plan_tones(line, sent, result):
    kernel, media, far, near = line

    async def scenario():
        tone = asyncio.ensure_future(media.tone(far, sent))
        term = await media.analyze(near, timeout=15)
        tone.cancel()
        return term

    term = kernel.run(scenario())
    assert term.reason is Reason.DONE and term.data["result"] == result


def test_cpa_voice_after_ringback_and_fax(line, tmp_path):
    kernel, media, far, near = line
    speech = tmp_path / "hello.wav"
    write_wav(speech, speech_like(4.0), "linear")
    cng = np.concatenate([synth(1100.0, 0.5, level=-10.0), np.full(24000, 0xD5, np.uint8)] * 3)

    async def scenario():
        ring = asyncio.ensure_future(media.tone(far, "ringback", seconds=6.0))
        await asyncio.sleep(0.1)
        cpa = asyncio.ensure_future(media.analyze(near, timeout=20))
        await ring
        played = await media.play(far, [str(speech)])
        voice = await cpa
        fax_cpa = asyncio.ensure_future(media.analyze(near, timeout=20))
        await media.play(far, [cng])
        return played, voice, await fax_cpa

    played, voice, fax = kernel.run(scenario())
    assert played.reason is Reason.EOD and abs(played.duration_s - 4.0) < 0.05
    assert voice.data["result"] == "voice" and "ringback" in voice.data["tones"]
    assert fax.data["result"] == "fax"


def test_cpa_no_answer(line):
    kernel, media, far, near = line

    async def scenario():
        ring = asyncio.ensure_future(media.tone(far, "ringback"))
        term = await media.analyze(near, timeout=12)
        ring.cancel()
        return term

    term = kernel.run(scenario())
    assert term.reason is Reason.MAXTIME and term.data["result"] == "no_answer"
    assert "ringback" in term.data["tones"]


def test_play_bad_file_is_a_typed_error(line, tmp_path):
    kernel, media, far, _ = line
    bad = tmp_path / "x.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    from timeslot.audiofile import AudioFileError

    with pytest.raises(AudioFileError):
        kernel.run(media.play(far, [str(bad)]))
