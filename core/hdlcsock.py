"""The hdlc-socket transport: one HDLC frame per SOCK_SEQPACKET packet plus 2 FCS octets.

This is what a DAHDI D-channel in HDLC mode reads and writes; libpri and libss7 write
frame+2 and drop the last 2 octets of every read without computing the FCS.  We write a
correct FCS-16 (ISO/IEC 13239) and, on receive, drop the 2 trailing octets unchecked.
"""

from __future__ import annotations

import os
import socket

_FCS_TABLE = []
for _b in range(256):
    _v = _b
    for _ in range(8):
        _v = (_v >> 1) ^ 0x8408 if _v & 1 else _v >> 1
    _FCS_TABLE.append(_v)


def fcs16(data: bytes) -> int:
    """FCS-16 of ``data`` as transmitted (ones' complement, low octet first on the wire)."""
    fcs = 0xFFFF
    for b in data:
        fcs = (fcs >> 8) ^ _FCS_TABLE[(fcs ^ b) & 0xFF]
    return fcs ^ 0xFFFF


class HdlcSocket:
    """A frame-oriented endpoint over a SOCK_SEQPACKET socket (non-blocking)."""

    MAX_FRAME = 1024

    def __init__(self, sock: socket.socket):
        self.sock = sock
        sock.setblocking(False)
        self.frames_in = 0
        self.frames_out = 0
        self.short_in = 0

    @classmethod
    def pair(cls) -> tuple[HdlcSocket, socket.socket]:
        """Our endpoint and the raw peer socket to hand to a peer library (libpri, libss7)."""
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        return cls(a), b

    @classmethod
    def connect(cls, path: str) -> HdlcSocket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        return cls(s)

    @classmethod
    def listen(cls, path: str) -> socket.socket:
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.bind(path)
        s.listen(1)
        return s

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, frame: bytes) -> None:
        fcs = fcs16(frame)
        self.sock.send(bytes(frame) + bytes((fcs & 0xFF, fcs >> 8)))
        self.frames_out += 1

    def recv_all(self) -> list[bytes]:
        """Every frame waiting on the socket (FCS octets removed); never blocks."""
        out = []
        while True:
            try:
                pkt = self.sock.recv(self.MAX_FRAME + 2)
            except (BlockingIOError, InterruptedError):
                break
            if not pkt:
                break
            if len(pkt) < 3:
                self.short_in += 1
                continue
            self.frames_in += 1
            out.append(pkt[:-2])
        return out

    def close(self) -> None:
        self.sock.close()
