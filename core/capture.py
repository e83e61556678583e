"""Any capture file, classic pcap or pcapng, as one sequence of packets with their link types.

``cti decode`` reads captures through :func:`read_capture`; each :class:`core.pcap.Packet`
carries the link type of its own interface, so one pcapng file may mix link types.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator

from core.errors import DecodeError
from core.pcap import Packet, parse_pcap
from core.pcapng import SHB_MAGIC, parse_pcapng


def parse_capture(data: bytes | mmap.mmap) -> Iterator[Packet]:
    """Packets of capture octets; the file header is checked at once (:class:`DecodeError`)."""
    if data[:4] == SHB_MAGIC:
        return parse_pcapng(data)
    try:
        return parse_pcap(data)
    except DecodeError as e:
        if e.field == "magic":
            raise DecodeError("neither pcap nor pcapng: bad magic", offset=0,
                              field="magic") from None
        raise


def read_capture(path: str) -> Iterator[Packet]:
    """Packets of the capture file at ``path``, mapped rather than read (field captures can
    be larger than memory)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return parse_capture(b"")
        return parse_capture(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
