"""Fixed-size headers declared with ``construct`` and read with one ``struct.unpack_from``.

A capture reader meets the same few headers (pcapng block, Ethernet, IPv4, SCTP chunk,
SIGTRAN common header...) once per packet; parsing them through construct costs a stream,
a context and a container each time.  :class:`Fixed` takes the construct declaration (a
``Struct`` of fixed-width integers and fixed-length byte strings, one byte order), derives the
equivalent ``struct`` format once, and reads it in place, with no copy; building still goes
through the declaration.
"""

from __future__ import annotations

import struct
from collections import namedtuple
from typing import Any

from construct import Bytes, FormatField, Struct

from core.errors import DecodeError


class Fixed:
    """A construct ``Struct`` of fixed-size fields, read as a named tuple of its fields."""

    def __init__(self, name: str, layout: Struct):
        order, codes, names = "", [], []
        for sub in layout.subcons:
            field = sub.subcon
            if isinstance(field, FormatField):
                order = order or field.fmtstr[0]
                if field.fmtstr[0] != order:
                    raise TypeError(f"{name}: fields of both byte orders")
                codes.append(field.fmtstr[1:])
            elif isinstance(field, Bytes) and isinstance(field.length, int):
                codes.append(f"{field.length}s")
            else:
                raise TypeError(f"{name}: field {sub.name} is not of a fixed size")
            names.append(sub.name)
        self.layout = layout
        self.struct = struct.Struct((order or ">") + "".join(codes))
        self.size = self.struct.size
        self.record = namedtuple(name, names)

    def read(self, data: Any, offset: int = 0) -> Any:
        """The fields at ``data[offset:]``; the caller has checked ``size`` octets are there."""
        return self.record._make(self.struct.unpack_from(data, offset))

    def read_within(self, data: Any, offset: int, field: str, end: int | None = None) -> Any:
        """:meth:`read`, or :class:`DecodeError` naming ``field`` when the ``size`` octets at
        ``offset`` pass ``end`` (default: the end of ``data``)."""
        if offset + self.size > (len(data) if end is None else end):
            raise DecodeError(f"{field} truncated", offset=offset, field=field)
        return self.record._make(self.struct.unpack_from(data, offset))

    def build(self, fields: Any) -> bytes:
        return self.layout.build(fields)
