"""Pseudowire packet headers, declared once with ``construct`` and used both ways.

* Control word, RFC 4553 clause 5.2 (SAToP) and RFC 5086 clause 5.2 (CESoPSN)::

    0 0 0 0 | L | R | M (RSV in SAToP) 2 | FRG 2 | LEN 6 | Sequence number 16

* RTP header (optional), RFC 3550 clause 5.1, fixed part without CSRCs.  Over UDP/IP the
  RTP header precedes the control word (RFC 4553 clause 4.1, RFC 5086 clause 5.1).

LEN is the size of the header (RTP + CW) plus payload when that is under 64 octets (the
packet was padded to the PSN minimum), else 0; sequence numbers run modulo 2^16
(RFC 4553 clause 5.2, RFC 5086 clause 5.2; unlike RFC 4385 they do not skip 0).
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from construct import BitsInteger, BitStruct, Flag, Int16ub, Int32ub, Struct

from core.errors import DecodeError

CW_SIZE = 4
RTP_SIZE = 12
MIN_PACKET = 64  # below this LEN carries the real size (RFC 4553 clause 5.2)


class M(enum.IntEnum):
    """CESoPSN M field (RFC 5086 clause 5.2); SAToP sends 0 (reserved)."""

    NORMAL = 0b00
    RDI = 0b10  # the attachment circuit is in remote defect (RAI) state
    SIGNALLING = 0b11  # CESoPSN signalling packet (not sent by this implementation)


class Frg(enum.IntEnum):
    """Multiframe fragmentation (RFC 5086 clause 5.2, the RFC 4623 convention)."""

    WHOLE = 0b00
    FIRST = 0b01
    LAST = 0b10
    MIDDLE = 0b11


CW_FLAGS = BitStruct(  # octets 0-1 of the control word
    "zero" / BitsInteger(4),
    "l" / Flag,
    "r" / Flag,
    "m" / BitsInteger(2),
    "frg" / BitsInteger(2),
    "length" / BitsInteger(6),
)
SEQ = Int16ub.compile()
CONTROL_WORD = Struct("flags" / CW_FLAGS, "seq" / Int16ub)

RTP_FIRST = BitStruct(  # octets 0-1 of the RTP header
    "version" / BitsInteger(2),
    "padding" / Flag,
    "extension" / Flag,
    "csrc_count" / BitsInteger(4),
    "marker" / Flag,
    "payload_type" / BitsInteger(7),
)
RTP_REST = Struct("seq" / Int16ub, "timestamp" / Int32ub, "ssrc" / Int32ub).compile()
RTP_HEADER = Struct("bits" / RTP_FIRST, "seq" / Int16ub, "timestamp" / Int32ub,
                    "ssrc" / Int32ub)


class _BitFields:
    """Parse/build of a 2-octet bit-field struct, memoised: bit-level construct is slow and
    a pseudowire sends the same few flag combinations thousands of times a second."""

    def __init__(self, struct: BitStruct):
        self.struct = struct
        self._parsed: dict[bytes, dict] = {}
        self._built: dict[tuple, bytes] = {}

    def parse(self, data: bytes) -> dict:
        got = self._parsed.get(data)
        if got is None:
            c = self.struct.parse(data)
            got = self._parsed[data] = {k: v for k, v in c.items() if not k.startswith("_")}
        return got

    def build(self, **fields) -> bytes:
        key = tuple(fields.values())
        got = self._built.get(key)
        if got is None:
            got = self._built[key] = self.struct.build(fields)
        return got


_CW = _BitFields(CW_FLAGS)
_RTP = _BitFields(RTP_FIRST)


class PseudowireDecodeError(DecodeError):
    """A received datagram is not a valid SAToP/CESoPSN packet."""


class Header(NamedTuple):
    """What the control word (and RTP header, if used) of one packet says."""

    seq: int
    l: bool = False  # noqa: E741 - the RFC's name for the local failure bit
    r: bool = False
    m: int = M.NORMAL
    frg: int = Frg.WHOLE
    timestamp: int | None = None  # RTP timestamp in 125 us units, None without RTP
    payload_type: int = 96
    ssrc: int = 0


def encode(header: Header, payload: bytes) -> bytes:
    """One packet: [RTP] + CW + payload, LEN set as the RFCs require."""
    rtp = b""
    if header.timestamp is not None:
        rtp = _RTP.build(version=2, padding=False, extension=False, csrc_count=0,
                         marker=False, payload_type=header.payload_type) + RTP_REST.build(
            {"seq": header.seq, "timestamp": header.timestamp & 0xFFFFFFFF,
             "ssrc": header.ssrc})
    size = len(rtp) + CW_SIZE + len(payload)
    flags = _CW.build(zero=0, l=header.l, r=header.r, m=int(header.m), frg=int(header.frg),
                      length=size if size < MIN_PACKET else 0)
    return b"".join((rtp, flags, SEQ.build(header.seq), payload))


def decode(packet: bytes, rtp: bool) -> tuple[Header, bytes]:
    """Split a datagram into its header and payload; PseudowireDecodeError if malformed."""
    offset = 0
    timestamp, pt, ssrc = None, 96, 0
    if rtp:
        if len(packet) < RTP_SIZE:
            raise PseudowireDecodeError("packet shorter than an RTP header", offset=0,
                                        field="rtp")
        first = _RTP.parse(bytes(packet[:2]))
        if first["version"] != 2:
            raise PseudowireDecodeError(f"RTP version {first['version']}", offset=0,
                                        field="rtp.version")
        if first["csrc_count"] or first["extension"]:
            raise PseudowireDecodeError("RTP CSRC list or extension not allowed", offset=0,
                                        field="rtp.cc")
        rest = RTP_REST.parse(packet[2:RTP_SIZE])
        timestamp, pt, ssrc = rest.timestamp, first["payload_type"], rest.ssrc
        offset = RTP_SIZE
    if len(packet) < offset + CW_SIZE:
        raise PseudowireDecodeError("packet shorter than the control word", offset=offset,
                                    field="control_word")
    cw = _CW.parse(bytes(packet[offset:offset + 2]))
    if cw["zero"]:
        raise PseudowireDecodeError("first nibble of the control word must be 0", offset=offset,
                                    field="control_word.zero")
    end = len(packet)
    length = cw["length"]
    if length:
        if length > len(packet) or length < offset + CW_SIZE:
            raise PseudowireDecodeError(f"LEN {length} does not fit a {len(packet)}-octet "
                                        "packet", offset=offset + 1, field="control_word.length")
        end = length  # the rest is PSN padding
    elif len(packet) < MIN_PACKET:
        raise PseudowireDecodeError("LEN 0 in a packet under 64 octets", offset=offset + 1,
                                    field="control_word.length")
    header = Header(seq=SEQ.parse(packet[offset + 2:offset + 4]), l=cw["l"], r=cw["r"],
                    m=cw["m"], frg=cw["frg"], timestamp=timestamp, payload_type=pt, ssrc=ssrc)
    return header, bytes(packet[offset + CW_SIZE:end])
