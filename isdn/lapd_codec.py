"""LAPD frame codec (Q.921 clause 2, 3): address, control field (modulo 128), information.

Address (2.3, 3.2): SAPI(6) C/R EA=0 | TEI(7) EA=1.  Control (3.4, table 5): I frames
N(S)/N(R)/P in two octets, S frames (RR, RNR, REJ) N(R)/P-F in two octets, U frames
(SABME, DM, UI, DISC, UA, FRMR, XID) in one octet with P/F in bit 5.  The layout is
declared once with construct and used both ways; headers are cached by their octets,
since the few distinct headers of a link repeat for every frame.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from construct import (
    BitsInteger,
    BitStruct,
    ConstructError,
    Flag,
    GreedyBytes,
    Int8ub,
    Peek,
    Struct,
    Switch,
    this,
)

from core.errors import DecodeError


class LapdDecodeError(DecodeError):
    """A frame that is not a valid LAPD frame (Q.921 5.8.5 invalid frame conditions)."""


ADDRESS = BitStruct(
    "sapi" / BitsInteger(6), "cr" / Flag, "ea0" / BitsInteger(1),
    "tei" / BitsInteger(7), "ea1" / BitsInteger(1))
I_CONTROL = BitStruct("ns" / BitsInteger(7), "fmt" / BitsInteger(1),
                      "nr" / BitsInteger(7), "pf" / Flag)
S_CONTROL = BitStruct("zero" / BitsInteger(4), "ss" / BitsInteger(2), "fmt" / BitsInteger(2),
                      "nr" / BitsInteger(7), "pf" / Flag)
U_CONTROL = BitStruct("m3" / BitsInteger(3), "pf" / Flag, "m2" / BitsInteger(2),
                      "fmt" / BitsInteger(2))
FRAME = Struct(
    "address" / ADDRESS,
    "c0" / Peek(Int8ub),
    "control" / Switch(this.c0 & 3, {0: I_CONTROL, 2: I_CONTROL, 1: S_CONTROL, 3: U_CONTROL}),
    "info" / GreedyBytes,
).compile()

S_KINDS = {0: "RR", 1: "RNR", 2: "REJ"}
S_CODES = {v: k for k, v in S_KINDS.items()}
# U frame modifier bits (M3 M2) of Q.921 table 5 and whether they are commands
U_KINDS = {(3, 3): "SABME", (0, 3): "DM", (0, 0): "UI", (2, 0): "DISC", (3, 0): "UA",
           (4, 1): "FRMR", (5, 3): "XID"}
U_CODES = {v: k for k, v in U_KINDS.items()}
HEADER_LEN = {"I": 4, "RR": 4, "RNR": 4, "REJ": 4}

# SAPI values (Q.921 table 2)
SAPI_CALL_CONTROL = 0
SAPI_PACKET = 16
SAPI_MANAGEMENT = 63
TEI_GROUP = 127


class Frame(NamedTuple):
    """One LAPD frame; ``ns``/``nr`` are None where the format has none."""

    sapi: int
    cr: bool
    tei: int
    kind: str
    pf: bool
    ns: int | None = None
    nr: int | None = None
    info: bytes = b""

    def is_command(self, network_side_sent: bool) -> bool:
        """C/R interpretation of Q.921 table 1: the network sends commands with C/R=1."""
        return self.cr == network_side_sent


@lru_cache(maxsize=4096)
def _header(head: bytes) -> tuple:
    if len(head) < 3:
        raise LapdDecodeError("frame shorter than address and control", offset=len(head),
                              field="control")
    if head[2] & 3 != 3 and len(head) < 4:
        raise LapdDecodeError("I/S frame control field truncated", offset=3, field="control")
    try:
        p = FRAME.parse(head)
    except ConstructError as e:
        raise LapdDecodeError(f"undecodable frame: {e}", offset=0, field="frame") from None
    a, c = p.address, p.control
    if a.ea0 != 0:
        raise LapdDecodeError("EA bit of address octet 2 must be 0", offset=0, field="address.ea0")
    if a.ea1 != 1:
        raise LapdDecodeError("EA bit of address octet 3 must be 1", offset=1, field="address.ea1")
    fmt = p.c0 & 3
    if fmt in (0, 2):
        return (a.sapi, a.cr, a.tei, "I", c.pf, c.ns, c.nr), 4
    if fmt == 1:
        kind = S_KINDS.get(c.ss)
        if kind is None or c.zero:
            raise LapdDecodeError("undefined S frame control field", offset=2, field="control")
        return (a.sapi, a.cr, a.tei, kind, c.pf, None, c.nr), 4
    kind = U_KINDS.get((c.m3, c.m2))
    if kind is None:
        raise LapdDecodeError("undefined U frame control field", offset=2, field="control")
    return (a.sapi, a.cr, a.tei, kind, c.pf, None, None), 3


def decode(data: bytes) -> Frame:
    """Decode one frame (FCS already removed); raises :class:`LapdDecodeError`."""
    data = bytes(data)
    fields, hlen = _header(data[:4])
    info = data[hlen:]
    kind = fields[3]
    if info and kind in ("RR", "RNR", "REJ", "SABME", "DM", "DISC", "UA"):
        raise LapdDecodeError(f"{kind} frame with an information field", offset=hlen, field="info")
    return Frame(*fields, info)


@lru_cache(maxsize=4096)
def _build_header(sapi: int, cr: bool, tei: int, kind: str, pf: bool, ns: int | None,
                  nr: int | None) -> bytes:
    address = {"sapi": sapi, "cr": cr, "ea0": 0, "tei": tei, "ea1": 1}
    if kind == "I":
        c0, control = ns << 1, {"ns": ns, "fmt": 0, "nr": nr, "pf": pf}
    elif kind in S_CODES:
        ss = S_CODES[kind]
        c0, control = (ss << 2) | 1, {"zero": 0, "ss": ss, "fmt": 1, "nr": nr, "pf": pf}
    else:
        m3, m2 = U_CODES[kind]
        c0, control = 3, {"m3": m3, "pf": pf, "m2": m2, "fmt": 3}
    return FRAME.build({"address": address, "c0": c0, "control": control, "info": b""})


def encode(frame: Frame) -> bytes:
    """Octets of ``frame`` (without FCS)."""
    if not (0 <= frame.sapi < 64 and 0 <= frame.tei < 128):
        raise ValueError("SAPI must be 0..63 and TEI 0..127")
    if frame.kind not in HEADER_LEN and frame.kind not in U_CODES:
        raise ValueError(f"unknown frame kind {frame.kind!r}")
    for name in ("ns", "nr"):
        v = getattr(frame, name)
        if v is not None and not 0 <= v < 128:
            raise ValueError(f"{name} must be 0..127 (modulo 128)")
    return _build_header(frame.sapi, frame.cr, frame.tei, frame.kind, frame.pf, frame.ns,
                         frame.nr) + frame.info
