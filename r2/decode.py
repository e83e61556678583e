"""``cti decode`` for R2: per-call trace files (``.r2log``, written by :mod:`r2.trace`) and
single ABCD nibbles (``--proto r2cas HEX``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from core.errors import DecodeError
from r2.variants import VARIANTS


class R2DecodeError(DecodeError):
    """An R2 trace line or CAS octet that cannot be read."""


_HEADER = re.compile(r"# r2 circuit (\d+) variant (\w+)$")
_CAS = re.compile(r"(TX|RX) CAS ([01]{4})(?: (.*))?$")
_MF = re.compile(r"(TX|RX) MF (fwd|bwd) (?:off|(\d{1,2})(?: (.*))?)$")
_EV = re.compile(r"EV (\w+)((?: \w+=\S*)*)$")


def _records(lines: Iterable[str]) -> Iterator[dict | R2DecodeError]:
    """Each line's record, or the error that line gives (the offset is the line number)."""
    circuit = variant = None
    for no, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        m = _HEADER.match(line)
        if m:
            if m.group(2) not in VARIANTS:
                yield R2DecodeError(f"unknown variant {m.group(2)!r}", offset=no, field="variant")
                continue
            circuit, variant = int(m.group(1)), m.group(2)
            continue
        head, _, rest = line.partition(" ")
        try:
            t = float(head)
        except ValueError:
            yield R2DecodeError("line does not start with a time", offset=no, field="time")
            continue
        rec: dict = {"time": t, "layer": "r2", "circuit": circuit, "variant": variant}
        if m := _CAS.match(rest):
            rec.update(direction=m.group(1), message=f"CAS {m.group(2)}", abcd=int(m.group(2), 2),
                       signal=m.group(3) or None)
        elif m := _MF.match(rest):
            sig = int(m.group(3)) if m.group(3) else 0
            if sig > 15:
                yield R2DecodeError(f"MF signal {sig} out of range", offset=no, field="signal")
                continue
            rec.update(direction=m.group(1), message=f"MF {m.group(2)} {sig or 'off'}",
                       sender=m.group(2), mf=sig, meaning=m.group(4) or None)
        elif m := _EV.match(rest):
            rec["message"] = m.group(1)
            for kv in m.group(2).split():
                k, _, v = kv.partition("=")
                rec[k] = v
        else:
            yield R2DecodeError("not a CAS, MF or event line", offset=no, field="record")
            continue
        yield rec


def parse_lines(lines: Iterable[str]) -> Iterator[dict]:
    """Records from trace text; :class:`R2DecodeError` names the line (offset) and field."""
    for rec in _records(lines):
        if isinstance(rec, R2DecodeError):
            raise rec
        yield rec


def decode_file(path: str) -> Iterator[dict]:
    """``cti decode`` records; a line that cannot be read becomes an ``error`` record."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for rec in _records(f):
            if isinstance(rec, R2DecodeError):
                yield {"layer": "r2", "message": None, "error": str(rec)}
            else:
                yield rec


def decode_cas(data: bytes) -> list[dict]:
    """ABCD nibbles (one per octet, low nibble) read in every variant's line code table."""
    if not data:
        raise R2DecodeError("no octets", offset=0, field="abcd")
    out = []
    for i, b in enumerate(data):
        if b > 0x0F:
            raise R2DecodeError(f"octet {b:#04x} is not an ABCD nibble", offset=i, field="abcd")
        ab = b >> 2
        fwd = [k for k, v in VARIANTS["itu"].forward_codes.items() if v == ab]
        back = [k for k, v in VARIANTS["itu"].backward_codes.items() if v == ab]
        cd = [n for n, v in VARIANTS.items() if v.params["cd_bits"] == b & 3]
        out.append({"layer": "r2", "message": f"CAS {b:04b}", "forward": "/".join(fwd) or None,
                    "backward": "/".join(back) or None, "cd_matches": ",".join(cd) or None})
    return out


SUFFIXES = {".r2log": decode_file}
PROTOS = {"r2cas": decode_cas}
