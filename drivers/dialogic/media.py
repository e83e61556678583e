"""Audio sources and sinks of dx_play/dx_rec: IOTT entries resolved to octets in the
kernel's law (VOX A-law/mu-law/linear PCM16 and WAV files), record sinks and the WAV
header written when a WAVE recording ends (RIFF/WAVE, format tags of RFC 2361)."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from drivers.dialogic import constants as C
from drivers.dialogic.tables import DX_IOTT, DX_XPB, DialogicError, walk
from drivers.dialogic.voice import Operation, Sink
from timeslot import g711
from timeslot.audiofile import AudioFileError, _parse_wav

WAV_TAG = {"alaw": 6, "ulaw": 7, "linear": 1}
_XPB_LAW = {C.DATA_FORMAT_ALAW: "alaw", C.DATA_FORMAT_MULAW: "ulaw", C.DATA_FORMAT_PCM: "linear"}


def xpb_from_mode(mode: int) -> DX_XPB:
    """dx_play/dx_rec mode bits -> the equivalent DX_XPB (VOX file)."""
    if not mode & C.MD_PCM:
        raise DialogicError(C.EDX_NOSUPPORT, "OKI ADPCM (MD_ADPCM) is not supported: use MD_PCM "
                            "with PM_ALAW or mu-law, or dx_playiottdata with a DX_XPB")
    if not mode & C.PM_SR8:
        raise DialogicError(C.EDX_NOSUPPORT, "MD_PCM defaults to 6 kHz (PM_SR6); only 8 kHz "
                            "(PM_SR8) is supported")
    if mode & C.PM_TONE:
        raise DialogicError(C.EDX_NOSUPPORT, "tone-initiated play/record (PM_TONE/RM_TONE) is not supported")
    return DX_XPB(C.FILE_FORMAT_VOX, C.DATA_FORMAT_ALAW if mode & C.PM_ALAW else C.DATA_FORMAT_MULAW)


def _check_xpb(xpb: DX_XPB) -> str:
    if not isinstance(xpb, DX_XPB) or xpb.wFileFormat not in (C.FILE_FORMAT_VOX, C.FILE_FORMAT_WAVE):
        raise DialogicError(C.EDX_XPBPARM, "DX_XPB wFileFormat must be FILE_FORMAT_VOX or FILE_FORMAT_WAVE")
    if xpb.wFileFormat == C.FILE_FORMAT_WAVE:
        return ""
    law = _XPB_LAW.get(xpb.wDataFormat)
    if law is None:
        raise DialogicError(C.EDX_NOSUPPORT, f"wDataFormat {xpb.wDataFormat:#x} not supported "
                            "(DATA_FORMAT_ALAW, DATA_FORMAT_MULAW, DATA_FORMAT_PCM)")
    if xpb.nSamplesPerSec != 8000 or xpb.wBitsPerSample != (16 if law == "linear" else 8):
        raise DialogicError(C.EDX_XPBPARM, "only 8000 samples/s, 8 bits (G.711) or 16 bits (PCM) are supported")
    return law


def _entries(iott) -> list[DX_IOTT]:
    out = walk(iott, "io_nextp", "io_type", C.EDX_BADIOTT, "DX_IOTT")
    for n, e in enumerate(out):
        kind = e.io_type & ~(C.IO_CONT | C.IO_LINK | C.IO_EOT)
        if kind not in (C.IO_DEV, C.IO_MEM):
            raise DialogicError(C.EDX_BADIOTT, f"DX_IOTT entry {n}: io_type must be IO_DEV or IO_MEM")
        if e.io_offset < 0 or e.io_length < -1:
            raise DialogicError(C.EDX_BADIOTT, f"DX_IOTT entry {n}: negative offset or length")
        if kind == C.IO_MEM and e.io_bufp is None:
            raise DialogicError(C.EDX_BADIOTT, f"DX_IOTT entry {n}: IO_MEM without io_bufp")
    return out


def _read(e: DX_IOTT, n: int) -> bytes:
    if e.io_type & C.IO_MEM:
        end = None if e.io_length < 0 else e.io_offset + e.io_length
        return bytes(e.io_bufp[e.io_offset:end])
    try:
        size = os.fstat(e.io_fhandle).st_size
        length = size - e.io_offset if e.io_length < 0 else e.io_length
        return os.pread(e.io_fhandle, max(length, 0), e.io_offset)
    except OSError as err:
        raise DialogicError(C.EDX_SYSTEM, f"DX_IOTT entry {n}: fd {e.io_fhandle}: {err.strerror}") from None


def _to_law(data: np.ndarray, law: str, target: str) -> np.ndarray:
    if law == target:
        return data
    if law == "linear":
        return g711.encode(data, target)
    return g711.alaw_to_ulaw(data) if target == "ulaw" else g711.ulaw_to_alaw(data)


def play_data(iott, xpb: DX_XPB, target: str) -> np.ndarray:
    """Everything an IOTT chain plays, as octets in ``target`` law."""
    law = _check_xpb(xpb)
    parts = []
    for n, e in enumerate(_entries(iott)):
        raw = _read(e, n)
        if xpb.wFileFormat == C.FILE_FORMAT_WAVE:
            try:
                samples, wlaw = _parse_wav(Path(f"<DX_IOTT entry {n}>"), raw)
            except AudioFileError as err:
                raise DialogicError(C.EDX_BADWAVEFILE, str(err)) from None
            parts.append(_to_law(samples, wlaw, target))
        elif law == "linear":
            parts.append(_to_law(np.frombuffer(raw[:len(raw) & ~1], "<i2"), law, target))
        else:
            parts.append(_to_law(np.frombuffer(raw, np.uint8), law, target))
    return np.concatenate(parts) if parts else np.empty(0, np.uint8)


def record_sinks(op: Operation, iott, xpb: DX_XPB, source: str) -> None:
    """Fill ``op`` with the sinks of an IOTT chain and the conversion of the recording."""
    law = _check_xpb(xpb)
    entries = _entries(iott)
    wave = xpb.wFileFormat == C.FILE_FORMAT_WAVE
    if wave:
        if len(entries) != 1 or entries[0].io_type & C.IO_MEM:
            raise DialogicError(C.EDX_BADIOTT, "a WAVE recording needs exactly one IO_DEV entry")
        law = _XPB_LAW.get(xpb.wDataFormat)
        if law is None or xpb.nSamplesPerSec != 8000:
            raise DialogicError(C.EDX_NOSUPPORT, "WAVE recording: 8 kHz A-law, mu-law or PCM16 only")
    for n, e in enumerate(entries):
        if e.io_type & C.IO_MEM:
            if not isinstance(e.io_bufp, bytearray):
                raise DialogicError(C.EDX_BADIOTT, f"DX_IOTT entry {n}: record into a bytearray")
            room = len(e.io_bufp) - e.io_offset
            cap = room if e.io_length < 0 else min(room, e.io_length)
            op.sinks.append(Sink(None, e.io_bufp, e.io_offset, max(cap, 0)))
        else:
            cap = None if e.io_length < 0 else e.io_length
            op.sinks.append(Sink(e.io_fhandle, None, e.io_offset + (44 if wave else 0), cap))
    if law != source:
        op.convert = ((lambda x: g711.decode(x, source).astype("<i2").view(np.uint8)) if law == "linear"
                      else (lambda x: _to_law(x, source, law)))
    if wave:
        sink = op.sinks[0]
        op.finish = lambda o: os.pwrite(sink.fd, wav_header(law, sink.written), sink.offset - 44)


def wav_header(law: str, nbytes: int) -> bytes:
    """A 44-octet RIFF/WAVE header for ``nbytes`` of 8 kHz mono audio."""
    width = 2 if law == "linear" else 1
    fmt = struct.pack("<HHIIHH", WAV_TAG[law], 1, 8000, 8000 * width, width, 8 * width)
    return (b"RIFF" + struct.pack("<I", 36 + nbytes) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
            + fmt + b"data" + struct.pack("<I", nbytes))
