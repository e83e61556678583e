"""Telephony audio files: WAV (PCM16, A-law, mu-law; 8 kHz mono) and raw .alaw/.ulaw.

Samples stay in their coding: A-law and mu-law as uint8 characters (G.711 clause 3),
PCM16 as int16 (law "linear").  Every problem is one :class:`AudioFileError` line naming
the file: missing, not audio, truncated, wrong rate or channel count, unsupported coding.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np

RATE = 8000
# WAVE format tags (RFC 2361): PCM 1, ITU G.711 A-law 6, mu-law 7, extensible 0xFFFE
_TAGS = {1: "linear", 6: "alaw", 7: "ulaw"}
_TAG_OF = {v: k for k, v in _TAGS.items()}
_RAW = {".alaw": "alaw", ".al": "alaw", ".ulaw": "ulaw", ".ul": "ulaw", ".mulaw": "ulaw",
        ".mu": "ulaw"}
LAWS = ("alaw", "ulaw", "linear")
T = TypeVar("T")


class AudioFileError(ValueError):
    """An audio file that cannot be used, with a one-line reason."""


def _fail(path: Path, why: str) -> AudioFileError:
    return AudioFileError(f"{path}: {why}")


def read_audio(path: str | Path, law: str | None = None) -> tuple[np.ndarray, str]:
    """(samples, law) of a WAV or raw G.711 file; ``law`` names the coding of a raw file
    whose extension does not."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise _fail(p, "no such file") from None
    except IsADirectoryError:
        raise _fail(p, "is a directory") from None
    except OSError as e:
        raise _fail(p, e.strerror or "cannot read") from None
    if data[:4] == b"RIFF":
        return _parse_wav(p, data)
    raw = _RAW.get(p.suffix.lower()) or law
    if raw not in ("alaw", "ulaw"):
        raise _fail(p, "not a WAV file (RIFF/WAVE) and not raw .alaw/.ulaw audio")
    if not data:
        raise _fail(p, "empty file")
    return np.frombuffer(data, np.uint8).copy(), raw


def wav_layout(f: BinaryIO, p: Path, accept: Callable[[int, int, int, int], T]
               ) -> tuple[T, int, int]:
    """Walk the chunks of the RIFF/WAVE file ``f`` from its start (seeking past the others):
    ``accept(format tag, channels, rate, bits per sample)`` judges the fmt chunk as soon as
    it is read (the tag is the SubFormat's for WAVE_FORMAT_EXTENSIBLE) and its result is
    returned with the offset and declared size of the data chunk."""
    f.seek(0)
    if f.read(12)[8:12] != b"WAVE":
        raise _fail(p, "RIFF file is not WAVE")
    fmt = None
    while True:
        at = f.tell()
        hdr = f.read(8)
        if len(hdr) < 8:
            raise _fail(p, "truncated: no data chunk" if fmt else "truncated: no fmt chunk")
        cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
        if cid == b"fmt ":
            body = f.read(size)
            if len(body) < 16:
                raise _fail(p, f"truncated fmt chunk at offset {at}")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == 0xFFFE and len(body) >= 26:
                tag = struct.unpack_from("<H", body, 24)[0]  # SubFormat GUID starts with it
            fmt = accept(tag, channels, rate, bits)
            f.seek(size & 1, 1)
        elif cid == b"data":
            if fmt is None:
                raise _fail(p, "data chunk before fmt chunk")
            return fmt, at + 8, size
        else:
            f.seek(size + (size & 1), 1)


def _parse_wav(p: Path, data: bytes) -> tuple[np.ndarray, str]:
    f = io.BytesIO(data)
    (law, width), at, size = wav_layout(f, p, partial(_parse_fmt, p))
    body = data[at:at + size]
    if len(body) < size:
        raise _fail(p, f"truncated: data chunk declares {size} octets, {len(body)} present")
    if size % width:
        raise _fail(p, f"data chunk of {size} octets is not whole {width}-octet samples")
    dtype = np.dtype("<i2") if law == "linear" else np.dtype(np.uint8)
    return np.frombuffer(body, dtype).astype(dtype.newbyteorder("=")), law


def _parse_fmt(p: Path, tag: int, channels: int, rate: int, bits: int) -> tuple[str, int]:
    law = _TAGS.get(tag)
    if law is None:
        raise _fail(p, f"unsupported WAV coding (format tag {tag:#06x}; "
                       "PCM16, A-law and mu-law are read)")
    if channels != 1:
        raise _fail(p, f"{channels} channels; telephony audio is mono")
    if rate != RATE:
        raise _fail(p, f"sample rate {rate} Hz; 8000 Hz expected")
    width = 2 if law == "linear" else 1
    if bits != 8 * width:
        raise _fail(p, f"{bits}-bit {law}; expected {8 * width}-bit")
    return law, width


def write_wav(path: str | Path, samples: np.ndarray, law: str) -> None:
    """Write mono 8 kHz WAV: ``law`` "alaw"/"ulaw" (uint8 characters, with a fact chunk)
    or "linear" (int16 PCM)."""
    if law not in LAWS:
        raise ValueError(f"unknown law {law!r}; expected one of {LAWS}")
    width = 2 if law == "linear" else 1
    body = np.ascontiguousarray(samples, "<i2" if width == 2 else np.uint8).tobytes()
    n = len(body) // width
    fmt = struct.pack("<HHIIHH", _TAG_OF[law], 1, RATE, RATE * width, width, 8 * width)
    if law != "linear":
        fmt += struct.pack("<H", 0)   # cbSize of a non-PCM WAVEFORMATEX
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if law != "linear":
        chunks += b"fact" + struct.pack("<II", 4, n)
    chunks += b"data" + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)
