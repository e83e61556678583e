"""Classic libpcap files (microsecond timestamps), written and read.

Link types used by the project (tcpdump.org link-layer header types):
LINKTYPE_LINUX_LAPD (177) for Q.921 with its 16-octet pseudo-header,
LINKTYPE_MTP2_WITH_PHDR (139) and LINKTYPE_MTP2 (140) for SS7; read only: LINKTYPE_LAPD (203,
a bare Q.921 frame) and LINKTYPE_MTP3 (141, an MSU from the SIO).
Reading any capture (this format or pcapng) is :func:`core.capture.read_capture`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from core.errors import DecodeError

LINKTYPE_LINUX_LAPD = 177
LINKTYPE_MTP2_WITH_PHDR = 139
LINKTYPE_MTP2 = 140
LINKTYPE_MTP3 = 141
LINKTYPE_LAPD = 203

_MAGIC = 0xA1B2C3D4


class Packet(NamedTuple):
    """One captured packet: seconds since the epoch (None: the format has no timestamp, a
    pcapng Simple Packet Block), its link type and its captured octets."""

    time: float | None
    linktype: int
    data: bytes


class PcapWriter:
    """Append packets to a pcap file; use as a context manager or call ``close()``."""

    def __init__(self, path_or_file: str | BinaryIO, linktype: int, snaplen: int = 65535):
        self._own = isinstance(path_or_file, str)
        self._f: BinaryIO = open(path_or_file, "wb") if self._own else path_or_file  # noqa: SIM115
        self.linktype = linktype
        self._f.write(struct.pack("<IHHiIII", _MAGIC, 2, 4, 0, 0, snaplen, linktype))

    def write(self, timestamp: float, data: bytes) -> None:
        sec = int(timestamp)
        usec = int(round((timestamp - sec) * 1e6))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        self._f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
        self._f.write(data)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if self._own:
            self._f.close()
        else:
            self._f.flush()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_pcap(path: str) -> tuple[int, Iterator[tuple[float, bytes]]]:
    """Return (linktype, iterator of (timestamp, packet)) of a classic pcap file; raises
    :class:`DecodeError`."""
    with open(path, "rb") as f:
        data = f.read()
    packets = parse_pcap(data)
    return _linktype(data, _endian(data)), ((p.time, p.data) for p in packets)


def _endian(data: bytes) -> str:
    if len(data) < 24:
        raise DecodeError("not a pcap file: too short", offset=0, field="header")
    magic = struct.unpack_from("<I", data)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        return "<"
    if magic in (0xD4C3B2A1, 0x4D3CB2A1):
        return ">"
    raise DecodeError("not a pcap file: bad magic", offset=0, field="magic")


def _linktype(data: bytes, endian: str) -> int:
    return struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF  # upper bits: FCS length


def parse_pcap(data: bytes) -> Iterator[Packet]:
    """The packets of classic pcap octets (either byte order, micro- or nanosecond magic);
    the header is checked at once, each record as it is reached (:class:`DecodeError`)."""
    endian = _endian(data)
    nano = struct.unpack_from(endian + "I", data)[0] == 0xA1B23C4D
    linktype = _linktype(data, endian)

    def records() -> Iterator[Packet]:
        off = 24
        while off < len(data):
            if off + 16 > len(data):
                raise DecodeError("truncated record header", offset=off, field="record")
            sec, frac, incl, _orig = struct.unpack_from(endian + "IIII", data, off)
            off += 16
            if off + incl > len(data):
                raise DecodeError("truncated record", offset=off, field="record")
            yield Packet(sec + frac / (1e9 if nano else 1e6), linktype, data[off:off + incl])
            off += incl

    return records()
