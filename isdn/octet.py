"""A construct for one octet of bit fields: a BitStruct of exactly 8 bits, but fast.

Q.921 and Q.931 lay out most of their fields as bits within single octets (address,
control field, the octet groups of information elements); construct's generic BitStruct
costs tens of microseconds per octet, this costs about one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from construct import (
    Const,
    ConstError,
    Construct,
    Container,
    Flag,
    Renamed,
    stream_read,
    stream_write,
)


class Octet(Construct):
    """One octet split into bit fields, most significant first: a fast BitStruct of
    exactly 8 bits.  Fields are ``"name" / BitsInteger(n)``, ``"name" / Flag``,
    ``"name" / Const(v, BitsInteger(n))`` or ``Padding(n)`` (spare bits, sent as 0)."""

    def __init__(self, *fields: Any):
        super().__init__()
        layout, pos = [], 8
        for f in fields:
            name, sub = (f.name, f.subcon) if isinstance(f, Renamed) else (None, f)
            const = sub.value if isinstance(sub, Const) else None
            sub = sub.subcon if isinstance(sub, Const) else sub
            width = 1 if sub is Flag else sub.length
            pos -= width
            layout.append((name, pos, (1 << width) - 1, sub is Flag, const))
        if pos != 0:
            raise ValueError("an octet has 8 bits")
        self.layout = tuple(layout)
        # the fields of each of the 256 values (or why the value is invalid), so parsing
        # an octet is one lookup
        self._values = tuple(self._fields(b) for b in range(256))

    def _fields(self, b: int) -> dict | str:
        out = {}
        for name, shift, mask, flag, const in self.layout:
            if name is None:
                continue
            v = (b >> shift) & mask
            if const is not None and v != const:
                return f"{name} must be {const}, found {v}"
            out[name] = bool(v) if flag else v
        return out

    def _parse(self, stream, context, path):
        fields = self._values[stream_read(stream, 1, path)[0]]
        if isinstance(fields, str):
            raise ConstError(fields, path=path)
        return Container(fields)

    def _build(self, obj, stream, context, path):
        b = 0
        for name, shift, mask, _flag, const in self.layout:
            if name is not None:
                v = const if const is not None else obj[name]
                b |= (int(v) & mask) << shift
        stream_write(stream, bytes((b,)), 1, path)
        return obj

    def _sizeof(self, context, path):
        return 1


@cache
def parse_octet(octet: Octet, value: int) -> dict:
    """Fields of one octet value (cached: an octet has only 256 values)."""
    return dict(octet.parse(bytes((value,))))


@cache
def build_octet(octet: Octet, *items: tuple[str, Any]) -> int:
    return octet.build(dict(items))[0]
