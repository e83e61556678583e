"""pcap tracing of signalling links: LINKTYPE_MTP2_WITH_PHDR (139).

Each record starts with the 4-octet pseudo-header Wireshark reads for link type 139: ``sent``
(1 = sent by us), ``annex_a_used`` (0: basic 7-bit sequence numbers, Q.703 not Annex A) and the
link number (big-endian 16 bits), followed by the signal unit without flags and FCS.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from core.clock import Scheduler
from core.pcap import LINKTYPE_MTP2_WITH_PHDR, PcapWriter

PHDR = struct.Struct(">BBH")


class LinkTracer:
    """One pcap file shared by any number of links; ``record(link_number, sent, su)``."""

    def __init__(self, path_or_file: str | BinaryIO, scheduler: Scheduler, epoch: float = 0.0):
        self.writer = PcapWriter(path_or_file, LINKTYPE_MTP2_WITH_PHDR)
        self.scheduler = scheduler
        self.epoch = epoch  # added to the scheduler's time (wall-clock timestamps)

    def record(self, link_number: int, sent: bool, su: bytes) -> None:
        self.writer.write(self.epoch + self.scheduler.time(),
                          PHDR.pack(int(sent), 0, link_number) + su)

    def close(self) -> None:
        self.writer.close()


def split_phdr(packet: bytes) -> tuple[dict[str, int], bytes]:
    """(pseudo-header fields, signal unit) of one link type 139 record."""
    from ss7.mtp2 import Mtp2DecodeError

    if len(packet) < PHDR.size:
        raise Mtp2DecodeError("record shorter than the MTP2 pseudo-header", offset=0,
                              field="pseudo-header")
    sent, annex_a, link = PHDR.unpack_from(packet)
    return {"sent": sent, "annex_a_used": annex_a, "link_number": link}, packet[PHDR.size:]
