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
from timeslot.g711 import alaw_decode, alaw_encode, ulaw_encode, ulaw_to_alaw


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
    ("slow.wav", wav_with(1, rate=1000), "sample rate 1000 Hz; read: 8000, 11025"),
    ("stereo.wav", wav_with(1, channels=2), "2 channels; telephony prompts are mono"),
    ("wide.wav", wav_with(1, bits=24), "24-bit pcm; PCM is read as 8 or 16 bits"),
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


def pcm_wav(path, x: np.ndarray, rate: int) -> None:
    body = np.asarray(x, "<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, 2 * rate, 2, 16)
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + 24 + 8 + len(body)) + b"WAVE" + b"fmt "
                     + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(body))
                     + body)


def read_all(path, read_samples: int = READ_SAMPLES) -> np.ndarray:
    s = PromptStream(path, "alaw", read_samples=read_samples)
    parts = []
    while len(chunk := s.read(160)):
        parts.append(chunk)
    assert s.closed
    return np.concatenate(parts)


@pytest.mark.parametrize("rate", [44100, 22050, 16000, 48000, 11025])
def test_other_rates_are_converted_to_8khz_in_band_and_without_aliases(tmp_path, rate):
    t = np.arange(rate) / rate  # one second
    pcm_wav(tmp_path / "tone.wav", np.sin(2 * np.pi * 1000 * t) * 10000, rate)
    out = read_all(tmp_path / "tone.wav")
    assert len(out) == 8000
    assert np.array_equal(out, read_all(tmp_path / "tone.wav", read_samples=97))  # any cut
    y = alaw_decode(out).astype(np.float64)[400:-400]
    ref = np.sin(2 * np.pi * 1000 * (np.arange(8000) / 8000))[400:-400] * 10000
    snr = 10 * np.log10(np.sum(ref ** 2) / np.sum((y - ref) ** 2))
    assert snr > 30  # in phase and level: what is left is G.711 quantisation
    if rate > 8000:  # 5 kHz would fold to 3 kHz: the filter takes it out (>= 60 dB)
        pcm_wav(tmp_path / "high.wav", np.sin(2 * np.pi * 5000 * t) * 10000, rate)
        high = alaw_decode(read_all(tmp_path / "high.wav")).astype(np.float64)[400:-400]
        assert 20 * np.log10(np.std(high) / 7071) < -55


def test_g711_and_8_bit_files_at_other_rates(tmp_path):
    t = np.arange(16000) / 16000
    write_wav(tmp_path / "a.wav", alaw_encode((np.sin(2 * np.pi * 700 * t) * 8000)
                                              .astype(np.int16)), "alaw")
    data = (tmp_path / "a.wav").read_bytes().replace(struct.pack("<II", 8000, 8000),
                                                     struct.pack("<II", 16000, 16000), 1)
    (tmp_path / "a16.wav").write_bytes(data)
    y = alaw_decode(read_all(tmp_path / "a16.wav")).astype(np.float64)
    assert len(y) == 8000
    spec = np.abs(np.fft.rfft(y[400:-400] * np.hanning(7200)))
    assert abs(np.argmax(spec) * 8000 / 7200 - 700) < 2
    u8 = (np.sin(2 * np.pi * 500 * np.arange(800) / 8000) * 100 + 128).astype(np.uint8)
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)
    (tmp_path / "u8.wav").write_bytes(b"RIFF" + struct.pack("<I", 36 + 800) + b"WAVEfmt "
                                      + struct.pack("<I", 16) + fmt + b"data"
                                      + struct.pack("<I", 800) + u8.tobytes())
    assert np.array_equal(read_all(tmp_path / "u8.wav"),
                          alaw_encode((u8.astype(np.int16) - 128) * 256))
