"""The R4 parameter structures as Python dataclasses: DX_IOTT (I/O transfer table),
DV_TPT (termination parameter table), DV_DIGIT, DX_XPB, DX_CST and SC_TSINFO, plus the
walk of IOTT/TPT chains (IO_CONT: next list element, IO_LINK: ``*_nextp``, IO_EOT: last)
and the compiled terminator set a voice operation evaluates every tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from drivers.dialogic import constants as C


class DialogicError(ValueError):
    """A parameter an R4 function rejects; ``code`` is the ATDV_LASTERR value."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class DX_IOTT:  # noqa: N801 - the R4 structure name
    io_type: int = C.IO_DEV | C.IO_EOT
    io_fhandle: int = -1
    io_bufp: bytearray | bytes | None = None
    io_offset: int = 0
    io_length: int = -1  # -1: to the end of the file/buffer
    io_nextp: DX_IOTT | None = None


@dataclass
class DV_TPT:  # noqa: N801
    tp_type: int = C.IO_EOT
    tp_termno: int = 0
    tp_length: int = 0
    tp_flags: int = 0
    tp_data: int = 0
    tp_nextp: DV_TPT | None = None


@dataclass
class DV_DIGIT:  # noqa: N801
    dg_value: str = ""
    dg_type: list[int] = field(default_factory=list)


@dataclass
class DX_XPB:  # noqa: N801
    wFileFormat: int = C.FILE_FORMAT_VOX  # noqa: N815
    wDataFormat: int = C.DATA_FORMAT_ALAW  # noqa: N815
    nSamplesPerSec: int = 8000  # noqa: N815
    wBitsPerSample: int = 8  # noqa: N815


@dataclass
class DX_CST:  # noqa: N801
    cst_event: int
    cst_data: int


@dataclass
class SC_TSINFO:  # noqa: N801
    sc_numts: int = 1
    sc_tsarrayp: list[int] = field(default_factory=lambda: [0])


MAX_CHAIN = 1024


def walk(table, next_attr: str, type_attr: str, code: int, what: str) -> list:
    """Entries of an IOTT/TPT given as one entry or a list ("contiguous array")."""
    items = list(table) if isinstance(table, Sequence) else [table]
    if not items:
        raise DialogicError(code, f"empty {what}")
    out, i = [], 0
    cur = items[0]
    while True:
        if len(out) >= MAX_CHAIN:
            raise DialogicError(code, f"{what} chain longer than {MAX_CHAIN} entries (a loop?)")
        out.append(cur)
        t = getattr(cur, type_attr) & (C.IO_CONT | C.IO_LINK | C.IO_EOT)
        if t == C.IO_EOT:
            return out
        if t == C.IO_CONT:
            i += 1
            if i >= len(items):
                raise DialogicError(code, f"{what} entry {len(out) - 1} is IO_CONT but is the last element")
            cur = items[i]
        elif t == C.IO_LINK:
            nxt = getattr(cur, next_attr)
            if nxt is None:
                raise DialogicError(code, f"{what} entry {len(out) - 1} is IO_LINK with no {next_attr}")
            cur = nxt
        else:
            raise DialogicError(code, f"{what} entry {len(out) - 1}: type must be one of IO_CONT, "
                                f"IO_LINK, IO_EOT")


# terminator number -> ATDX_TERMMSK bit
TERM_BIT = {C.DX_MAXDTMF: C.TM_MAXDTMF, C.DX_MAXSIL: C.TM_MAXSIL, C.DX_MAXNOSIL: C.TM_MAXNOSIL,
            C.DX_IDDTIME: C.TM_IDDTIME, C.DX_MAXTIME: C.TM_MAXTIME, C.DX_DIGMASK: C.TM_DIGIT,
            C.DX_DIGTYPE: C.TM_DIGIT}
_TIMED = (C.DX_MAXSIL, C.DX_MAXNOSIL, C.DX_IDDTIME, C.DX_MAXTIME)
_UNSUPPORTED = {
    C.DX_LCOFF: "loop current is an analog front-end condition; a voice resource on the "
                "bus has none (watch DTEV_SIG / station hook events instead)",
    C.DX_PMOFF: "pattern-match silence terminators are not supported",
    C.DX_PMON: "pattern-match silence terminators are not supported",
    C.DX_TONE: "global tone detection (DX_TONE) is not supported",
}


@dataclass
class Terminators:
    """A compiled DV_TPT: limits in frames (8000 per second) and digit conditions."""

    max_digits: int | None = None
    max_digits_level: bool = True
    digit_mask: int = 0
    digit_mask_level: bool = True
    digit_type: str = ""
    max_time: int | None = None
    idd: int | None = None
    idd_first: int | None = None  # initial (first-digit) delay with TF_SETINIT
    idd_after_first: bool = False  # TF_FIRST: the timer starts at the first digit
    max_sil: int | None = None
    max_sil_init: int | None = None
    max_nosil: int | None = None
    clear_digits_begin: bool = False


def _frames(entry: DV_TPT, value: int) -> int:
    unit = 80 if entry.tp_flags & C.TF_10MS else 800  # 10 ms or the default 100 ms
    return value * unit


def compile_tpt(tpt) -> Terminators:
    """Check a DV_TPT chain and compile it; ``None`` means no terminators."""
    t = Terminators()
    if tpt is None:
        return t
    for n, e in enumerate(walk(tpt, "tp_nextp", "tp_type", C.EDX_BADTPT, "DV_TPT")):
        if e.tp_termno in _UNSUPPORTED:
            raise DialogicError(C.EDX_BADTPT, f"DV_TPT entry {n}: {_UNSUPPORTED[e.tp_termno]}")
        if e.tp_termno not in TERM_BIT:
            raise DialogicError(C.EDX_BADTPT, f"DV_TPT entry {n}: unknown tp_termno {e.tp_termno}")
        if not 0 <= e.tp_length <= 0xFFFF:
            raise DialogicError(C.EDX_BADTPT, f"DV_TPT entry {n}: tp_length out of range")
        if e.tp_termno in _TIMED and e.tp_length == 0:
            raise DialogicError(C.EDX_BADTPT, f"DV_TPT entry {n}: a time terminator needs tp_length > 0")
        level = bool(e.tp_flags & C.TF_LEVEL)
        if e.tp_flags & C.TF_CLRBEG:
            t.clear_digits_begin = True
        if e.tp_termno == C.DX_MAXDTMF:
            if not 1 <= e.tp_length <= C.DG_MAXDIGS:
                raise DialogicError(C.EDX_BADTPT, f"DV_TPT entry {n}: DX_MAXDTMF must be 1..{C.DG_MAXDIGS}")
            t.max_digits, t.max_digits_level = e.tp_length, level
        elif e.tp_termno == C.DX_DIGMASK:
            if not e.tp_length:
                raise DialogicError(C.EDX_BADTPT, f"DV_TPT entry {n}: DX_DIGMASK with no digit")
            t.digit_mask, t.digit_mask_level = e.tp_length, level
        elif e.tp_termno == C.DX_DIGTYPE:
            digit, dtype = chr(e.tp_data & 0xFF).upper(), e.tp_data >> 8
            if dtype != C.DG_DTMF or digit not in C.DIGIT_MASK:
                raise DialogicError(C.EDX_BADTPT, f"DV_TPT entry {n}: DX_DIGTYPE needs a DTMF digit "
                                    "(tp_data = DG_DTMF << 8 | ascii)")
            t.digit_type += digit
        elif e.tp_termno == C.DX_MAXTIME:
            t.max_time = _frames(e, e.tp_length)
        elif e.tp_termno == C.DX_IDDTIME:
            t.idd = _frames(e, e.tp_length)
            t.idd_after_first = bool(e.tp_flags & C.TF_FIRST)
            if e.tp_flags & C.TF_SETINIT:
                t.idd_first = _frames(e, e.tp_data)
        elif e.tp_termno == C.DX_MAXSIL:
            t.max_sil = _frames(e, e.tp_length)
            if e.tp_flags & C.TF_SETINIT:
                t.max_sil_init = _frames(e, e.tp_data)
        elif e.tp_termno == C.DX_MAXNOSIL:
            t.max_nosil = _frames(e, e.tp_length)
    return t


def mask_digits(mask: int) -> str:
    """The DTMF digits a DM_* mask names."""
    return "".join(d for d, bit in C.DIGIT_MASK.items() if mask & bit)


def tsinfo_slot(ts: SC_TSINFO, code: int = C.EDX_BADPARM) -> int:
    if not isinstance(ts, SC_TSINFO):
        raise DialogicError(code, "expected an SC_TSINFO")
    if ts.sc_numts != 1 or len(ts.sc_tsarrayp) < 1:
        raise DialogicError(code, "SC_TSINFO must name exactly one timeslot (sc_numts = 1)")
    return int(ts.sc_tsarrayp[0])
