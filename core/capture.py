"""Any capture file, classic pcap or pcapng, as one sequence of packets with their link types.

``cti decode`` reads captures through :func:`read_capture`; each :class:`core.pcap.Packet`
carries the link type of its own interface, so one pcapng file may mix link types.
"""

from __future__ import annotations

from collections.abc import Iterator

from core.errors import DecodeError
from core.pcap import Packet, parse_pcap
from core.pcapng import SHB_MAGIC, parse_pcapng


def parse_capture(data: bytes) -> Iterator[Packet]:
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
    with open(path, "rb") as f:
        return parse_capture(f.read())
