"""LAPD frame codec (Q.921 clause 2, 3): address, control field (modulo 128), information.

Address (2.3, 3.2): SAPI(6) C/R EA=0 | TEI(7) EA=1.  Control (3.4, table 5): I frames
N(S)/N(R)/P in two octets, S frames (RR, RNR, REJ) N(R)/P-F in two octets, U frames
(SABME, DM, UI, DISC, UA, FRMR, XID) in one octet with P/F in bit 5.  Each octet is
declared once with construct (:class:`isdn.octet.Octet`) and used both ways: at import
the declarations are evaluated into per-octet tables, which every frame then indexes.
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


# Per-octet tables derived from the declarations above, so each frame costs a few
# indexings instead of bit-field parsing: one entry per octet value (receive) or per
# field combination (send).
def _address_1(v: int) -> tuple[int, bool] | None:
    a = parse_octet(ADDRESS_1, v)
    return (a["sapi"], a["cr"]) if a["ea0"] == 0 else None


def _control(v: int) -> tuple[str | None, bool | None, int | None]:
    """(kind, P/F of a U frame, N(S)); kind None: undefined; '' for an I frame's N(S)."""
    fmt = v & 3
    if fmt in (0, 2):
        return "I", None, parse_octet(I_CONTROL, v)["ns"]
    if fmt == 1:
        c = parse_octet(S_CONTROL, v)
        return (None if c["zero"] else S_KINDS.get(c["ss"])), None, None
    c = parse_octet(U_CONTROL, v)
    return U_KINDS.get((c["m3"], c["m2"])), c["pf"], None


_RX_ADDRESS_1 = tuple(_address_1(v) for v in range(256))
_RX_TEI = tuple(a["tei"] if a["ea1"] == 1 else None
                for a in (parse_octet(ADDRESS_2, v) for v in range(256)))
_RX_CONTROL = tuple(_control(v) for v in range(256))
_RX_NR = tuple((n["nr"], n["pf"]) for n in (parse_octet(NR_OCTET, v) for v in range(256)))
_NO_INFO = frozenset(("RR", "RNR", "REJ", "SABME", "DM", "DISC", "UA"))

_TX_ADDRESS_1 = {(sapi, cr): build_octet(ADDRESS_1, ("sapi", sapi), ("cr", cr), ("ea0", 0))
                 for sapi in range(64) for cr in (False, True)}
_TX_TEI = tuple(build_octet(ADDRESS_2, ("tei", tei), ("ea1", 1)) for tei in range(128))
_TX_I = {ns: build_octet(I_CONTROL, ("ns", ns), ("fmt", 0)) for ns in range(128)}
_TX_S = {k: build_octet(S_CONTROL, ("zero", 0), ("ss", c), ("fmt", 1)) for k, c in S_CODES.items()}
_TX_U = {(k, pf): build_octet(U_CONTROL, ("m3", m3), ("pf", pf), ("m2", m2), ("fmt", 3))
         for k, (m3, m2) in U_CODES.items() for pf in (False, True)}
_TX_NR = {(nr, pf): build_octet(NR_OCTET, ("nr", nr), ("pf", pf))
          for nr in range(128) for pf in (False, True)}


_frame = tuple.__new__  # a Frame from all its fields at once, without the generated __new__


def decode(data: bytes) -> Frame:
    """Decode one frame (FCS already removed); raises :class:`LapdDecodeError`."""
    data = bytes(data)
    n = len(data)
    if n < 3:
        raise LapdDecodeError("frame shorter than address and control", offset=n,
                              field="control")
    address = _RX_ADDRESS_1[data[0]]
    if address is None:
        raise LapdDecodeError("EA bit of address octet 2 must be 0", offset=0, field="address.ea0")
    tei = _RX_TEI[data[1]]
    if tei is None:
        raise LapdDecodeError("EA bit of address octet 3 must be 1", offset=1, field="address.ea1")
    kind, pf, ns = _RX_CONTROL[data[2]]
    if pf is None:  # I and S frames: a second control octet with N(R) and P/F
        if n < 4:
            raise LapdDecodeError("I/S frame control field truncated", offset=3, field="control")
        if kind is None:
            raise LapdDecodeError("undefined S frame control field", offset=2, field="control")
        nr, pf = _RX_NR[data[3]]
        if kind != "I" and n > 4:
            raise LapdDecodeError(f"{kind} frame with an information field", offset=4,
                                  field="info")
        return _frame(Frame, (address[0], address[1], tei, kind, pf, ns, nr, data[4:]))
    if kind is None:
        raise LapdDecodeError("undefined U frame control field", offset=2, field="control")
    if n > 3 and kind in _NO_INFO:
        raise LapdDecodeError(f"{kind} frame with an information field", offset=3, field="info")
    return _frame(Frame, (address[0], address[1], tei, kind, pf, None, None, data[3:]))


def encode(frame: Frame) -> bytes:
    """Octets of ``frame`` (without FCS)."""
    return encode_fields(*frame)


def encode_fields(sapi: int, cr: bool, tei: int, kind: str, pf: bool, ns: int | None = None,
                  nr: int | None = None, info: bytes = b"") -> bytes:
    """Octets of the frame with these fields (those of :class:`Frame`)."""
    if not (0 <= sapi < 64 and 0 <= tei < 128):
        raise ValueError("SAPI must be 0..63 and TEI 0..127")
    try:
        if kind == "I":
            head = (_TX_I[ns], _TX_NR[nr, bool(pf)])
        elif kind in _TX_S:
            head = (_TX_S[kind], _TX_NR[nr, bool(pf)])
        else:
            head = (_TX_U[kind, bool(pf)],)
    except (KeyError, TypeError):
        if kind not in HEADER_LEN and kind not in U_CODES:
            raise ValueError(f"unknown frame kind {kind!r}") from None
        raise ValueError("ns and nr must be 0..127 (modulo 128)") from None
    return bytes((_TX_ADDRESS_1[sapi, bool(cr)], _TX_TEI[tei], *head)) + info
