"""The hdlc-socket transport of a running kernel (DESIGN.md): the kernel listens on a
SOCK_SEQPACKET Unix socket and an external peer (libpri, libss7, a DAHDI bridge) connects;
one HDLC frame + 2 FCS octets per packet.  Until a peer connects, frames sent are dropped
(the data link sees a dead line and keeps retrying, as on an unplugged span)."""

from __future__ import annotations

import os

from core.hdlcsock import HdlcSocket


class HdlcSocketServer:
    """A frame transport (``send``/``recv_all``) over the one peer connected to ``path``."""

    def __init__(self, loop, path: str):
        self.loop = loop
        self.path = path
        self.listener = HdlcSocket.listen(path)
        self.listener.setblocking(False)
        self.peer: HdlcSocket | None = None
        self.dropped = 0
        self.connects = 0
        # called when a peer connects: the link is "plugged in" (Q.921/Q.703 start now)
        self.on_connect = None
        loop.add_reader(self.listener.fileno(), self._accept)

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        if self.peer is not None:  # one peer at a time: a new one replaces the old
            self.peer.close()
        self.peer = HdlcSocket(conn)
        self.connects += 1
        if self.on_connect is not None:
            self.on_connect()

    def send(self, frame: bytes) -> None:
        if self.peer is None:
            self.dropped += 1
            return
        try:
            self.peer.send(frame)
        except (BrokenPipeError, ConnectionResetError, BlockingIOError):
            self.dropped += 1
            self._lost()

    def recv_all(self) -> list[bytes]:
        if self.peer is None:
            return []
        try:
            return self.peer.recv_all()
        except (ConnectionResetError, OSError):
            self._lost()
            return []

    def _lost(self) -> None:
        if self.peer is not None:
            self.peer.close()
            self.peer = None

    def close(self) -> None:
        self.loop.remove_reader(self.listener.fileno())
        self._lost()
        self.listener.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    @property
    def connected(self) -> bool:
        return self.peer is not None


__all__ = ["HdlcSocketServer"]
