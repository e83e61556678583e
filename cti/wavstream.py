"""Prompt files read block by block: WAV (PCM 16-bit or 8-bit, A-law, mu-law; mono, 8 kHz
or one of the usual rates from 11.025 to 192 kHz) and raw .alaw/.ulaw (8 kHz), converted to the fabric's law as they
are read, so an hour-long file costs one read buffer, not the file.

The header is checked when the stream opens (RIFF/WAVE chunks walked with seeks), so a bad
prompt fails before playback starts with one :class:`AudioFileError` line naming the file
and the reason.  At 8 kHz, PCM is encoded by G.711 (clause 2) and A-law <-> mu-law goes
through the G.711 Tables 3/4 transcoders; other rates are decoded to linear, converted to
8 kHz by :class:`cti.resample.Resampler` (anti-alias filtered) and encoded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cti.resample import Resampler
from timeslot.audiofile import _RAW, AudioFileError, wav_layout

READ_SAMPLES = 4000  # samples per disk read: 0.5 s at 8 kHz
# sample rates read (all but 8 kHz converted): the usual ones, whose L/M ratio to 8 kHz
# keeps the polyphase filter small (L <= 320)
RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000,
         176400, 192000)
# WAVE format tags (RFC 2361) -> coding; 0xFFFE (extensible) carries one in its SubFormat
_TAGS = {1: "pcm", 6: "alaw", 7: "ulaw"}


class PromptStream:
    """One open prompt file; :meth:`read` returns up to ``n`` octets in ``law``."""

    def __init__(self, path: str | Path, law: str, read_samples: int = READ_SAMPLES):
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
            self.coding, self.rate, self.width, self.remaining = self._header()
        except BaseException:
            self._f.close()
            raise
        self.resampler = None if self.rate == 8000 else Resampler(self.rate)
        self._buf = np.empty(0, np.uint8)
        self._pos = 0

    def _fail(self, why: str) -> AudioFileError:
        return AudioFileError(f"{self.path}: {why}")

    def _header(self) -> tuple[str, int, int, int | None]:
        """(coding, rate, octets per sample, octets of audio data; None = to the end of a
        raw file)."""
        f = self._f
        head = f.read(12)
        if head[:4] != b"RIFF":
            raw = _RAW.get(self.path.suffix.lower())
            if raw is None:
                raise self._fail("not a WAV file (RIFF/WAVE) and not raw .alaw/.ulaw audio")
            if not head:
                raise self._fail("empty file")
            f.seek(0)
            return raw, 8000, 1, None
        (coding, rate, width), at, size = wav_layout(f, self.path, self._fmt)
        if size % width:
            raise self._fail(f"data chunk of {size} octets is not whole {width}-octet samples")
        f.seek(at)
        return coding, rate, width, size

    def _fmt(self, tag: int, channels: int, rate: int, bits: int) -> tuple[str, int, int]:
        coding = _TAGS.get(tag)
        if coding is None:
            raise self._fail(f"unsupported WAV coding (format tag {tag:#06x}; PCM, A-law "
                             "and mu-law are read)")
        if channels != 1:
            raise self._fail(f"{channels} channels; telephony prompts are mono")
        if rate not in RATES:
            raise self._fail(f"sample rate {rate} Hz; read: {', '.join(map(str, RATES))} Hz")
        if coding == "pcm" and bits in (8, 16):
            return ("pcm8" if bits == 8 else "linear"), rate, bits // 8
        if coding != "pcm" and bits == 8:
            return coding, rate, 1
        raise self._fail(f"{bits}-bit {coding}; PCM is read as 8 or 16 bits, G.711 as 8")

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
        """Convert the next disk read (at the end: the resampler's tail) into ``_buf``."""
        while not self._f.closed:
            want = self.read_samples * self.width
            if self.remaining is not None:
                want = min(want, self.remaining)
            data = self._f.read(want) if want else b""
            data = data[:len(data) - len(data) % self.width]
            if self.remaining is not None:
                self.remaining -= len(data)
            if data:
                out = self._convert(data)
            else:  # end of the data, or a file shorter than its header says
                self.close()
                out = (np.empty(0, np.uint8) if self.resampler is None
                       else self._encode(self.resampler.flush()))
            if len(out):
                self._buf, self._pos = out, 0
                return True
        return False

    def _convert(self, data: bytes) -> np.ndarray:
        from timeslot.g711 import alaw_to_ulaw, decode, ulaw_to_alaw

        if self.coding in ("alaw", "ulaw"):
            octets = np.frombuffer(data, np.uint8)
            if self.resampler is None:
                if self.coding == self.law:
                    return octets
                return (ulaw_to_alaw if self.law == "alaw" else alaw_to_ulaw)(octets)
            linear = decode(octets, self.coding)
        elif self.coding == "pcm8":  # unsigned, 128 = zero
            linear = (np.frombuffer(data, np.uint8).astype(np.int16) - 128) * 256
        else:
            linear = np.frombuffer(data, "<i2")
        if self.resampler is None:
            return self._encode(linear)
        return self._encode(self.resampler.process(linear))

    def _encode(self, x: np.ndarray) -> np.ndarray:
        from timeslot.g711 import encode

        return encode(np.clip(np.rint(x), -32768, 32767).astype(np.int16), self.law)

    def close(self) -> None:
        self._f.close()
