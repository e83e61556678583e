"""One DAHDI channel: /dev/dahdi/channel bound to a channel number with DAHDI_SPECIFY."""

from __future__ import annotations

import ctypes
import errno
import os

from drivers.base import BoardError
from drivers.dahdi.abi import CONSTANTS as C
from drivers.dahdi.abi import ELAST, IOCTLS, DahdiBufferInfo, DahdiParams
from drivers.dahdi.sysio import Posix

CHANNEL_DEV = "/dev/dahdi/channel"
MAX_EVENT_RETRIES = 64  # pending events drained before one read/write gives up
HDLC_MRU = 2048 + 2  # DAHDI_DEFAULT_MTU_MRU plus the 2 FCS octets DAHDI appends


class ChannelNotConfigured(BoardError):
    """DAHDI_SPECIFY failed with ENXIO: system.conf does not configure the channel."""


class DahdiChannel:
    """A DAHDI channel file descriptor and the per-channel ioctls.

    read()/write() fail with errno ELAST (500) while an event is pending: the event is
    fetched with DAHDI_GETEVENT, kept in :attr:`events`, and the call goes on.
    """

    def __init__(self, sys: Posix, channo: int):
        self.sys = sys
        self.channo = channo
        self.fd: int | None = None
        self.nonblocking = False
        self.events: list[int] = []

    def open(self, nonblocking: bool = False) -> None:
        self.close()
        flags = os.O_RDWR | (os.O_NONBLOCK if nonblocking else 0)
        try:
            self.fd = self.sys.open(CHANNEL_DEV, flags)
        except OSError as e:
            raise BoardError(f"{CHANNEL_DEV}: {e.strerror}") from None
        self.nonblocking = nonblocking
        try:
            self.sys.ioctl(self.fd, IOCTLS["DAHDI_SPECIFY"], ctypes.c_int(self.channo))
        except OSError as e:
            self.close()
            if e.errno == errno.ENXIO:  # what DAHDI answers for an unconfigured channel
                raise ChannelNotConfigured(f"DAHDI channel {self.channo} is not configured "
                                           "(see /etc/dahdi/system.conf)") from None
            raise BoardError(f"DAHDI channel {self.channo}: DAHDI_SPECIFY: "
                             f"{e.strerror or os.strerror(e.errno)}") from None

    def close(self) -> None:
        if self.fd is not None:
            self.sys.close(self.fd)
            self.fd = None

    def ioctl_int(self, name: str, value: int = 0) -> int:
        arg = ctypes.c_int(value)
        self._ioctl(name, arg)
        return arg.value

    def _ioctl(self, name: str, arg) -> None:
        if self.fd is None:
            raise BoardError(f"DAHDI channel {self.channo} is not open")
        try:
            self.sys.ioctl(self.fd, IOCTLS[name], arg)
        except OSError as e:
            raise BoardError(f"DAHDI channel {self.channo}: {name}: "
                             f"{e.strerror or os.strerror(e.errno)}") from None

    # -- configuration ----------------------------------------------------------
    def params(self) -> DahdiParams:
        p = DahdiParams()
        p.channo = self.channo
        self._ioctl("DAHDI_GET_PARAMS", p)
        return p

    def set_blocksize(self, frames: int, numbufs: int = 4) -> None:
        """Block size and buffer policy: start at once, ``numbufs`` buffers of a block each."""
        self.ioctl_int("DAHDI_SET_BLOCKSIZE", frames)
        bi = DahdiBufferInfo(txbufpolicy=C["DAHDI_POLICY_IMMEDIATE"],
                             rxbufpolicy=C["DAHDI_POLICY_IMMEDIATE"], numbufs=numbufs,
                             bufsize=frames)
        self._ioctl("DAHDI_SET_BUFINFO", bi)

    def flush(self) -> None:
        """Drop what sits in the read and write buffers (after a mode change)."""
        self.ioctl_int("DAHDI_FLUSH", C["DAHDI_FLUSH_BOTH"])

    def set_law(self, law: int) -> None:
        self.ioctl_int("DAHDI_SETLAW", law)

    def audio_mode(self, on: bool) -> None:
        self.ioctl_int("DAHDI_AUDIOMODE", int(on))

    def hdlc_fcs_mode(self, on: bool) -> None:
        self.ioctl_int("DAHDI_HDLCFCSMODE", int(on))

    def rx_bits(self) -> int:
        # some drivers (the loc driver) hand the bits masked with 0xff: keep the nibble
        return self.ioctl_int("DAHDI_GETRXBITS") & C["DAHDI_BITS_ABCD"]

    def tx_bits(self, abcd: int) -> None:
        self.ioctl_int("DAHDI_SETTXBITS", abcd & C["DAHDI_BITS_ABCD"])

    def get_event(self) -> int:
        return self.ioctl_int("DAHDI_GETEVENT")

    def iomux(self, flags: int) -> int:
        return self.ioctl_int("DAHDI_IOMUX", flags)

    # -- data ----------------------------------------------------------------------
    def _retry(self, op, *args):
        if self.fd is None:
            raise BoardError(f"DAHDI channel {self.channo} is not open")
        for _ in range(MAX_EVENT_RETRIES):
            try:
                return op(self.fd, *args)
            except OSError as e:
                if e.errno == ELAST:
                    self.events.append(self.get_event())
                    continue
                if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK) and self.nonblocking:
                    return None
                raise BoardError(f"DAHDI channel {self.channo}: {e.strerror}") from None
        raise BoardError(f"DAHDI channel {self.channo}: events keep arriving "
                         f"({MAX_EVENT_RETRIES} in a row)")

    def read(self, size: int) -> bytes | None:
        """Up to ``size`` octets; None when a non-blocking channel has nothing."""
        return self._retry(self.sys.read, size)

    def write(self, data: bytes) -> int | None:
        return self._retry(self.sys.write, data)

    def take_events(self) -> list[int]:
        ev, self.events = self.events, []
        return ev
