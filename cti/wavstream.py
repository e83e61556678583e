"""Prompt files read block by block: WAV (PCM16, A-law, mu-law; 8 kHz mono) and raw
.alaw/.ulaw, converted to the fabric's law as they are read, so an hour-long file costs
one read buffer, not the file.

The header is checked when the stream opens (RIFF/WAVE chunks walked with seeks, the
fmt chunk checked by :mod:`timeslot.audiofile`'s rules), so a bad prompt fails before
playback starts with one :class:`AudioFileError` line naming the file and the reason.
PCM16 is encoded by G.711 (clause 2); A-law <-> mu-law by the G.711 Tables 3/4
transcoders.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from timeslot.audiofile import _RAW, AudioFileError, _parse_fmt

READ_SAMPLES = 4000  # samples per disk read: 0.5 s


class PromptStream:
    """One open prompt file; :meth:`read` returns up to ``n`` octets in ``law``."""

    def __init__(self, path: str | Path, law: str, read_samples: int = READ_SAMPLES):
        from timeslot.g711 import alaw_to_ulaw, encode, ulaw_to_alaw

        self.path = p = Path(path)
        self.law = law
        self.read_samples = read_samples
        try:
            self._f = open(p, "rb")  # noqa: SIM115 - closed by close()/end of data
        except FileNotFoundError:
            raise AudioFileError(f"{p}: no such file") from None
        except IsADirectoryError:
            raise AudioFileError(f"{p}: is a directory") from None
        except OSError as e:
            raise AudioFileError(f"{p}: {e.strerror or 'cannot read'}") from None
        try:
            coding, self.remaining = self._header()
        except BaseException:
            self._f.close()
            raise
        self.width = 2 if coding == "linear" else 1
        self._convert = (
            (lambda b: encode(np.frombuffer(b, "<i2").astype(np.int16), law))
            if coding == "linear" else
            (lambda b: np.frombuffer(b, np.uint8)) if coding == law else
            (lambda b: (ulaw_to_alaw if law == "alaw" else alaw_to_ulaw)(
                np.frombuffer(b, np.uint8))))
        self._buf = np.empty(0, np.uint8)
        self._pos = 0

    def _fail(self, why: str) -> AudioFileError:
        return AudioFileError(f"{self.path}: {why}")

    def _header(self) -> tuple[str, int | None]:
        """(coding, octets of audio data; None = to the end of a raw file)."""
        f = self._f
        head = f.read(12)
        if head[:4] != b"RIFF":
            raw = _RAW.get(self.path.suffix.lower())
            if raw is None:
                raise self._fail("not a WAV file (RIFF/WAVE) and not raw .alaw/.ulaw audio")
            if not head:
                raise self._fail("empty file")
            f.seek(0)
            return raw, None
        if head[8:12] != b"WAVE":
            raise self._fail("RIFF file is not WAVE")
        fmt = None
        while True:
            at = f.tell()
            hdr = f.read(8)
            if len(hdr) < 8:
                raise self._fail("truncated: no data chunk" if fmt else "truncated: no fmt chunk")
            cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if cid == b"fmt ":
                body = f.read(size)
                if len(body) < 16:
                    raise self._fail(f"truncated fmt chunk at offset {at}")
                fmt = _parse_fmt(self.path, body)
                if size & 1:
                    f.seek(1, 1)
            elif cid == b"data":
                if fmt is None:
                    raise self._fail("data chunk before fmt chunk")
                law, width = fmt
                if size % width:
                    raise self._fail(f"data chunk of {size} octets is not whole "
                                     f"{width}-octet samples")
                return law, size
            else:
                f.seek(size + (size & 1), 1)

    @property
    def buffered(self) -> int:
        """Octets converted and not yet played (bounded by one disk read)."""
        return len(self._buf) - self._pos

    @property
    def closed(self) -> bool:
        return self._f.closed

    def read(self, n: int) -> np.ndarray:
        """Up to ``n`` octets; fewer only at the end of the data (then the file is closed)."""
        parts = []
        while n:
            if self._pos >= len(self._buf) and not self._refill():
                break
            out = self._buf[self._pos:self._pos + n]
            self._pos += len(out)
            n -= len(out)
            parts.append(out)
        return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else self._buf[:0]

    def _refill(self) -> bool:
        if self._f.closed:
            return False
        want = self.read_samples * self.width
        if self.remaining is not None:
            want = min(want, self.remaining)
        data = self._f.read(want) if want else b""
        data = data[:len(data) - len(data) % self.width]
        if self.remaining is not None:
            self.remaining -= len(data)
        if not data:
            self.close()  # end of the data, or a file shorter than its header says
            return False
        self._buf, self._pos = self._convert(data), 0
        return True

    def close(self) -> None:
        self._f.close()
