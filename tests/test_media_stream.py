"""Streaming playback: prompt files read block by block (an hour-long file is never in
memory), several prompts back to back with no gap and converted to the line's law,
interrupted by DTMF, cancelled with the file closed, and bad files refused by name."""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.media import Reason
from cti.wavstream import READ_SAMPLES, PromptStream
from tests.kernel_rig import back_to_back
from timeslot.audiofile import AudioFileError, write_wav
from timeslot.g711 import alaw_encode, ulaw_encode, ulaw_to_alaw


@pytest.fixture
def line():
    rig = back_to_back()
    rig.kernel.run_for(0.5)  # alignment
    yield rig.kernel, rig.media, 1, 33  # the PSTN end's TS1 arrives on the cc end's TS1
    rig.kernel.close()


def hour_long_alaw(path) -> int:
    """An A-law WAV of one hour (sparse on disk: the data are 0x00 octets)."""
    n = 3600 * 8000
    fmt = struct.pack("<HHIIHHH", 6, 1, 8000, 8000, 1, 8, 0)
    head = (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + n) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", n))
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(len(head) + n)
    return n


def test_an_hour_long_file_streams_with_bounded_buffer_and_cancel_closes_it(line, tmp_path):
    kernel, media, far, _ = line
    path = tmp_path / "hour.wav"
    hour_long_alaw(path)

    async def scenario():
        task = asyncio.ensure_future(media.play(far, [str(path)]))
        seen = []
        for _ in range(40):  # 4 s, ten samples of the reader's state
            await asyncio.sleep(0.1)
            src = media.players[far].sources[0]
            seen.append((src.buffered, src._f.tell()))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return src, seen

    src, seen = kernel.run(scenario())
    assert max(b for b, _ in seen) <= READ_SAMPLES
    # the file position advances with the playback, one read ahead at most
    assert seen[-1][1] - seen[0][1] == pytest.approx(3.9 * 8000, abs=READ_SAMPLES + 160)
    assert seen[-1][1] < 60 + 5 * 8000
    assert src.closed and far not in media.players


def test_prompts_back_to_back_without_gap_in_the_lines_law(line, tmp_path):
    kernel, media, far, near = line
    rng = np.random.default_rng(7)
    pcm = rng.integers(-20000, 20000, 1234).astype(np.int16)
    mu = rng.integers(0, 256, 777).astype(np.uint8)
    raw = rng.integers(0, 256, 555).astype(np.uint8)
    octets = rng.integers(0, 256, 321).astype(np.uint8)
    write_wav(tmp_path / "a.wav", pcm, "linear")
    write_wav(tmp_path / "b.wav", mu, "ulaw")
    (tmp_path / "c.alaw").write_bytes(raw.tobytes())
    expected = np.concatenate([alaw_encode(pcm), ulaw_to_alaw(mu), raw, octets])

    async def scenario():
        rec = asyncio.ensure_future(media.record(near, max_time=2.0, silence=None,
                                                 terminators="", beep=False))
        await asyncio.sleep(0.1)
        played = await media.play(far, [str(tmp_path / "a.wav"), str(tmp_path / "b.wav"),
                                        str(tmp_path / "c.alaw"), octets])
        return played, await rec

    played, rec = kernel.run(scenario())
    assert played.reason is Reason.EOD
    assert played.duration_s == pytest.approx(len(expected) / 8000, abs=0.021)
    audio = rec.data["audio"]
    starts = np.flatnonzero(audio[:len(audio) - len(expected) + 1] == expected[0])
    assert any(np.array_equal(audio[s:s + len(expected)], expected) for s in starts)


def test_pcm16_file_read_in_small_pieces_for_a_mu_law_kernel(tmp_path):
    pcm = (np.sin(np.arange(900) * 0.3) * 9000).astype(np.int16)
    write_wav(tmp_path / "p.wav", pcm, "linear")
    got = PromptStream(tmp_path / "p.wav", "ulaw", read_samples=100)
    parts = [got.read(160) for _ in range(7)]
    assert [len(p) for p in parts] == [160] * 5 + [100, 0] and got.closed
    assert np.array_equal(np.concatenate(parts), ulaw_encode(pcm))


def test_dtmf_interrupts_a_long_prompt_and_closes_the_file(line, tmp_path):
    kernel, media, far, near = line
    path = tmp_path / "hour.wav"
    hour_long_alaw(path)

    async def scenario():
        task = asyncio.ensure_future(media.play(near, [str(path), str(path)], interrupt="5#"))
        await asyncio.sleep(1.0)
        src = media.players[near].sources[0]
        await media.send_dtmf(far, "5")
        return await task, src

    term, src = kernel.run(scenario())
    assert term.reason is Reason.DIGIT and term.digits == "5"
    assert 1.0 < term.duration_s < 1.3 and src.closed


def test_hangup_ends_playback_with_reason_hangup(line, tmp_path):
    kernel, media, far, _ = line
    path = tmp_path / "hour.wav"
    hour_long_alaw(path)

    async def scenario():
        task = asyncio.ensure_future(media.play(far, [str(path)]))
        await asyncio.sleep(0.5)
        src = media.players[far].sources[0]
        media.hangup(far)
        return await task, src

    term, src = kernel.run(scenario())
    assert term.reason is Reason.HANGUP and src.closed


def wav_with(tag: int, channels: int = 1, rate: int = 8000, bits: int = 16) -> bytes:
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * bits // 8,
                      channels * bits // 8, bits)
    body = b"\0\0" * 8
    return (b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + len(body)) + b"WAVE" + b"fmt "
            + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(body)) + body)


@pytest.mark.parametrize("name, content, reason", [
    ("float.wav", wav_with(3, bits=32), "unsupported WAV coding (format tag 0x0003"),
    ("wide.wav", wav_with(1, rate=16000), "sample rate 16000 Hz; 8000 Hz expected"),
    ("stereo.wav", wav_with(1, channels=2), "2 channels; telephony audio is mono"),
    ("adpcm.wav", wav_with(0x11, bits=4), "unsupported WAV coding (format tag 0x0011"),
    ("notes.txt", b"hello", "not a WAV file"),
    ("cut.wav", wav_with(1)[:30], "truncated"),
    ("missing.wav", None, "no such file"),
])
def test_bad_files_are_refused_by_name_before_playing(line, tmp_path, name, content, reason):
    kernel, media, far, _ = line
    good = tmp_path / "good.wav"
    write_wav(good, np.zeros(800, np.int16), "linear")
    bad = tmp_path / name
    if content is not None:
        bad.write_bytes(content)

    async def scenario():
        return await media.play(far, [str(good), str(bad)])

    with pytest.raises(AudioFileError) as e:
        kernel.run(scenario())
    assert str(bad) in str(e.value) and reason in str(e.value)
    assert far not in media.players


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=120), st.sampled_from([".wav", ".alaw", ".raw"]))
def test_arbitrary_bytes_stream_or_fail_typed(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"x{suffix}"
    path.write_bytes(data)
    try:
        stream = PromptStream(path, "alaw", read_samples=16)
    except AudioFileError as e:
        assert str(path) in str(e)
        return
    total = 0
    while len(chunk := stream.read(10)):
        total += len(chunk)
    assert stream.closed and total <= len(data)
