"""``cti dsp``: gen -> detect round trips for every kind, JSON lines, bad files -> exit 2."""

from __future__ import annotations

import importlib.util
import json
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.cli import main
from timeslot.audiofile import AudioFileError, read_audio, write_wav
from timeslot.tonegen import amplitude

RATE = 8000


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def detect(capsys, path, *extra) -> list[dict]:
    rc, out, err = run(capsys, "dsp", "detect", str(path), "--json", *extra)
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows == sorted(rows, key=lambda r: r["start"])
    return rows


def gen_detect(capsys, tmp_path, *gen_args, plan=None) -> list[tuple[str, str]]:
    wav = tmp_path / "out.wav"
    rc, out, err = run(capsys, "dsp", "gen", str(wav), *gen_args)
    assert rc == 0, err
    extra = ("--plan", plan) if plan else ()
    return [(r["kind"], r["value"]) for r in detect(capsys, wav, *extra)]


@pytest.mark.parametrize("law", ["alaw", "ulaw", "pcm16"])
def test_dtmf_round_trip(capsys, tmp_path, law):
    if importlib.util.find_spec("timeslot.dtmf") is None:
        pytest.skip("DTMF detector not built")
    got = gen_detect(capsys, tmp_path, "--dtmf", "159#*0D", "--law", law)
    assert got == [("dtmf", d) for d in "159#*0D"]


@pytest.mark.parametrize("flag,kind", [("--r2f", "r2f"), ("--r2b", "r2b")])
def test_r2_round_trip(capsys, tmp_path, flag, kind):
    if importlib.util.find_spec("timeslot.r2mf") is None:
        pytest.skip("MFC-R2 detector (timeslot.r2mf) not built yet")
    got = gen_detect(capsys, tmp_path, flag, "1,5,10,15")
    assert [v for k, v in got if k == kind] == ["1", "5", "10", "15"]


@pytest.mark.parametrize("plan", ["itu", "cn"])
@pytest.mark.parametrize("tone", ["dial", "ringback", "busy", "congestion", "sit"])
def test_cpt_round_trip(capsys, tmp_path, plan, tone):
    got = gen_detect(capsys, tmp_path, "--cpt", tone, "--plan", plan, plan=plan)
    assert [v for k, v in got if k == "cpt"] == [tone]


def test_test_tone_round_trip(capsys, tmp_path):
    got = gen_detect(capsys, tmp_path, "--tone", "1004", "--level", "-13", "--seconds", "3")
    assert got == [("tone", "1004Hz -13.0dBm0")]


def test_fax_answer_tone_from_file(capsys, tmp_path):
    t = np.arange(4 * RATE) / RATE
    x = amplitude(-12) * np.sin(2 * np.pi * 2100 * t + np.pi * np.floor(t / 0.45))
    x[int(3.3 * RATE):] = 0
    wav = tmp_path / "ans.wav"
    write_wav(wav, np.round(x).astype(np.int16), "linear")
    rows = detect(capsys, wav)
    assert [(r["kind"], r["value"]) for r in rows] == [("fax", "ANS")]
    assert rows[0]["start"] == 0.0 and rows[0]["end"] == pytest.approx(3.3, abs=0.03)


def test_raw_files_and_table_output(capsys, tmp_path):
    wav = tmp_path / "b.wav"
    assert main(["dsp", "gen", str(wav), "--cpt", "busy", "--law", "ulaw"]) == 0
    samples, law = read_audio(wav)
    assert law == "ulaw" and samples.size == 10 * RATE
    raw = tmp_path / "b.ulaw"
    raw.write_bytes(samples.tobytes())
    capsys.readouterr()
    rc, out, _ = run(capsys, "dsp", "detect", str(raw))
    assert rc == 0 and "cpt" in out and "busy" in out and "1 event(s)" in out
    odd = tmp_path / "b.bin"
    odd.write_bytes(samples.tobytes())
    assert [r["value"] for r in detect(capsys, odd, "--law", "ulaw")] == ["busy"]


def _wav_header(tag=1, channels=1, rate=8000, bits=16, data=b"\0\0" * 100, declared=None):
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * bits // 8, bits // 8, bits)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
            + struct.pack("<I", len(data) if declared is None else declared) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("name,content,why", [
    ("missing.wav", None, "no such file"),
    ("text.wav", b"hello, not audio\n", "not a WAV file"),
    ("rate.wav", _wav_header(rate=16000), "sample rate 16000"),
    ("stereo.wav", _wav_header(channels=2), "2 channels"),
    ("pcm8.wav", _wav_header(bits=8, data=b"\x80" * 100), "8-bit linear"),
    ("gsm.wav", _wav_header(tag=0x31), "unsupported WAV coding"),
    ("trunc.wav", _wav_header(declared=4000), "truncated"),
    ("nodata.wav", _wav_header()[:36], "truncated"),
    ("riff.wav", b"RIFF\0\0\0\0AVI ", "not WAVE"),
    ("empty.alaw", b"", "empty file"),
])
def test_bad_files_exit_2(capsys, tmp_path, name, content, why):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    rc, out, err = run(capsys, "dsp", "detect", str(path))
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and why in err


def test_bad_gen_arguments_exit_2(capsys, tmp_path):
    out = str(tmp_path / "x.wav")
    assert run(capsys, "dsp", "gen", out, "--dtmf", "12X")[0] == 2
    assert run(capsys, "dsp", "gen", out, "--r2f", "1,16")[0] == 2
    assert run(capsys, "dsp", "gen", out, "--cpt", "howler")[0] == 2
    assert run(capsys, "dsp", "gen", out, "--tone", "5000")[0] == 2
    assert run(capsys, "dsp", "gen", out, "--tone", "1000", "--seconds", "0")[0] == 2
    assert run(capsys, "dsp", "gen", str(tmp_path / "no" / "x.wav"), "--tone", "1000")[0] == 2
    with pytest.raises(SystemExit) as e:
        main(["dsp", "gen", out])           # no signal chosen: argparse usage error
    assert e.value.code == 2


@settings(max_examples=40)
@given(st.sampled_from(["alaw", "ulaw", "linear"]), st.binary(max_size=2000))
def test_wav_round_trip(law, data):
    path = Path(tempfile.mkdtemp()) / "r.wav"
    dtype = np.int16 if law == "linear" else np.uint8
    x = np.frombuffer(data[:len(data) // 2 * 2], dtype)
    write_wav(path, x, law)
    y, got = read_audio(path)
    assert got == law and y.dtype == dtype and np.array_equal(x, y)


@settings(max_examples=80)
@given(st.binary(max_size=200))
def test_arbitrary_files_give_typed_errors(data):
    path = Path(tempfile.mkdtemp()) / "f.wav"
    path.write_bytes(b"RIFF" + data)
    try:
        read_audio(path)
    except AudioFileError as e:
        assert "\n" not in str(e)


@pytest.mark.interop
@pytest.mark.parametrize("name,encoding", [("s.wav", ["-e", "a-law"]), ("s.ul", ["-e", "mu-law"]),
                                           ("s16.wav", ["-e", "signed", "-b", "16"])])
def test_files_written_by_sox(capsys, tmp_path, name, encoding):
    """sox writes its own WAV/raw headers and codes: a full-scale sine 16 dB down is
    +3.14 - 16 = -12.86 dBm0."""
    import subprocess

    from conftest import need_program
    sox = need_program("sox")
    path = tmp_path / name
    subprocess.run([sox, "-n", "-r", "8000", "-c", "1", *encoding, str(path), "synth", "3",
                    "sine", "1004", "gain", "-16"], check=True, capture_output=True)
    (row,) = detect(capsys, path)
    hz, level = row["value"].split()
    assert row["kind"] == "tone" and hz == "1004Hz"
    assert float(level.removesuffix("dBm0")) == pytest.approx(-12.86, abs=0.15)
