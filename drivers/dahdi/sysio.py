"""The system calls the DAHDI backend makes, behind one small object tests can replace."""

from __future__ import annotations

import fcntl
import os
import select


class Posix:
    """Real file descriptors: os, fcntl.ioctl and poll."""

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def read_text(self, path: str) -> str | None:
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return None

    def open(self, path: str, flags: int) -> int:
        return os.open(path, flags)

    def close(self, fd: int) -> None:
        os.close(fd)

    def read(self, fd: int, size: int) -> bytes:
        return os.read(fd, size)

    def write(self, fd: int, data: bytes) -> int:
        return os.write(fd, data)

    def ioctl(self, fd: int, request: int, arg) -> None:
        """``arg`` is a ctypes object, filled in place for read ioctls."""
        fcntl.ioctl(fd, request, arg, True)

    def poll(self, fd: int, events: int, timeout_ms: int) -> int:
        p = select.poll()
        p.register(fd, events)
        ready = p.poll(timeout_ms)
        return ready[0][1] if ready else 0
