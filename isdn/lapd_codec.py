"""LAPD frame codec (Q.921 clause 2, 3): address, control field (modulo 128), information.

Address (2.3, 3.2): SAPI(6) C/R EA=0 | TEI(7) EA=1.  Control (3.4, table 5): I frames
N(S)/N(R)/P in two octets, S frames (RR, RNR, REJ) N(R)/P-F in two octets, U frames
(SABME, DM, UI, DISC, UA, FRMR, XID) in one octet with P/F in bit 5.  Each octet is
declared once with construct (:class:`isdn.octet.Octet`) and used both ways.
"""

from __future__ import annotations

from typing import NamedTuple

from construct import BitsInteger, Flag

from core.errors import DecodeError
from isdn.octet import Octet, build_octet, parse_octet


class LapdDecodeError(DecodeError):
    """A frame that is not a valid LAPD frame (Q.921 5.8.5 invalid frame conditions)."""


# address field (Q.921 3.3, figure 5): two octets
ADDRESS_1 = Octet("sapi" / BitsInteger(6), "cr" / Flag, "ea0" / BitsInteger(1))
ADDRESS_2 = Octet("tei" / BitsInteger(7), "ea1" / BitsInteger(1))
# control field (3.4, table 4): first octet by format, second octet N(R) and P/F
I_CONTROL = Octet("ns" / BitsInteger(7), "fmt" / BitsInteger(1))
S_CONTROL = Octet("zero" / BitsInteger(4), "ss" / BitsInteger(2), "fmt" / BitsInteger(2))
U_CONTROL = Octet("m3" / BitsInteger(3), "pf" / Flag, "m2" / BitsInteger(2), "fmt" / BitsInteger(2))
NR_OCTET = Octet("nr" / BitsInteger(7), "pf" / Flag)

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


def _header(head: bytes) -> tuple:
    if len(head) < 3:
        raise LapdDecodeError("frame shorter than address and control", offset=len(head),
                              field="control")
    a1, a2 = parse_octet(ADDRESS_1, head[0]), parse_octet(ADDRESS_2, head[1])
    if a1["ea0"] != 0:
        raise LapdDecodeError("EA bit of address octet 2 must be 0", offset=0, field="address.ea0")
    if a2["ea1"] != 1:
        raise LapdDecodeError("EA bit of address octet 3 must be 1", offset=1, field="address.ea1")
    sapi, cr, tei = a1["sapi"], a1["cr"], a2["tei"]
    fmt = head[2] & 3
    if fmt != 3 and len(head) < 4:
        raise LapdDecodeError("I/S frame control field truncated", offset=3, field="control")
    if fmt in (0, 2):
        c, n = parse_octet(I_CONTROL, head[2]), parse_octet(NR_OCTET, head[3])
        return (sapi, cr, tei, "I", n["pf"], c["ns"], n["nr"]), 4
    if fmt == 1:
        c, n = parse_octet(S_CONTROL, head[2]), parse_octet(NR_OCTET, head[3])
        kind = S_KINDS.get(c["ss"])
        if kind is None or c["zero"]:
            raise LapdDecodeError("undefined S frame control field", offset=2, field="control")
        return (sapi, cr, tei, kind, n["pf"], None, n["nr"]), 4
    c = parse_octet(U_CONTROL, head[2])
    kind = U_KINDS.get((c["m3"], c["m2"]))
    if kind is None:
        raise LapdDecodeError("undefined U frame control field", offset=2, field="control")
    return (sapi, cr, tei, kind, c["pf"], None, None), 3


def decode(data: bytes) -> Frame:
    """Decode one frame (FCS already removed); raises :class:`LapdDecodeError`."""
    data = bytes(data)
    fields, hlen = _header(data[:4])
    info = data[hlen:]
    kind = fields[3]
    if info and kind in ("RR", "RNR", "REJ", "SABME", "DM", "DISC", "UA"):
        raise LapdDecodeError(f"{kind} frame with an information field", offset=hlen, field="info")
    return Frame(*fields, info)


def _build_header(sapi: int, cr: bool, tei: int, kind: str, pf: bool, ns: int | None,
                  nr: int | None) -> bytes:
    head = [build_octet(ADDRESS_1, ("sapi", sapi), ("cr", cr), ("ea0", 0)),
            build_octet(ADDRESS_2, ("tei", tei), ("ea1", 1))]
    if kind == "I":
        head.append(build_octet(I_CONTROL, ("ns", ns), ("fmt", 0)))
    elif kind in S_CODES:
        head.append(build_octet(S_CONTROL, ("zero", 0), ("ss", S_CODES[kind]), ("fmt", 1)))
    else:
        m3, m2 = U_CODES[kind]
        return bytes(head + [build_octet(U_CONTROL, ("m3", m3), ("pf", pf), ("m2", m2),
                                         ("fmt", 3))])
    head.append(build_octet(NR_OCTET, ("nr", nr), ("pf", pf)))
    return bytes(head)


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
