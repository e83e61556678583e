"""pcap tracing of a D-channel: LINKTYPE_LINUX_LAPD (177).

Each record starts with the 16-octet Linux "cooked" LAPD pseudo-header, big-endian:
packet type (2: 0 = to us, 4 = sent by us), ARPHRD type (2), address length (2),
address (8; its first octet is 1 when we are the network side - Wireshark derives the
user->network / network->user direction from it and the packet type), protocol (2:
ETH_P_LAPD 0x0030).  The LAPD frame follows without its FCS.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from core.clock import Scheduler
from core.errors import DecodeError
from core.pcap import LINKTYPE_LINUX_LAPD, PcapWriter

ETH_P_LAPD = 0x0030
ARPHRD_LAPD = 8445
PACKET_HOST = 0
PACKET_OUTGOING = 4
_HEADER = struct.Struct(">HHH8sH")


def pseudo_header(sent: bool, we_network: bool) -> bytes:
    addr = bytes((1 if we_network else 0,)) + bytes(7)
    return _HEADER.pack(PACKET_OUTGOING if sent else PACKET_HOST, ARPHRD_LAPD, 1, addr,
                        ETH_P_LAPD)


def parse_pseudo_header(record: bytes) -> tuple[bool, bool, bytes]:
    """(sent by the capturing side, capturing side is network, LAPD frame)."""
    if len(record) < _HEADER.size:
        raise DecodeError("record shorter than the LINUX_LAPD pseudo-header",
                          offset=len(record), field="pseudo_header")
    pkttype, _hatype, _halen, addr, proto = _HEADER.unpack_from(record)
    if proto != ETH_P_LAPD:
        raise DecodeError(f"protocol 0x{proto:04x} is not ETH_P_LAPD", offset=14, field="protocol")
    return pkttype == PACKET_OUTGOING, addr[0] == 1, record[_HEADER.size:]


class LapdTracer:
    """Writes every frame a D-channel stack sends and receives to a pcap file."""

    def __init__(self, path_or_file: str | BinaryIO, scheduler: Scheduler, network: bool,
                 epoch: float = 0.0):
        self.writer = PcapWriter(path_or_file, LINKTYPE_LINUX_LAPD)
        self.scheduler = scheduler
        self.network = network
        self.epoch = epoch
        self._sent = pseudo_header(True, network)
        self._received = pseudo_header(False, network)

    def frame(self, octets: bytes, sent: bool) -> None:
        self.writer.write(self.epoch + self.scheduler.time(),
                          (self._sent if sent else self._received) + bytes(octets))

    def close(self) -> None:
        self.writer.close()
