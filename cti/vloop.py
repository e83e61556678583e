"""An asyncio event loop on virtual time.

The kernel's two clocks are two asyncio loops with one interface (``time()``,
``call_later()``, ``call_at()``, tasks and futures): the ordinary loop on monotonic
time, and :class:`VirtualTimeLoop`, whose time jumps straight to the next scheduled
callback whenever nothing is ready.  Protocol stacks take either as their scheduler,
IVR scripts ``await`` on either, and a test runs an hour of traffic in seconds with
every timer firing at its simulated moment.

Real file descriptors still work (they are polled without waiting), so a virtual-time
kernel can talk to in-process sockets; an external peer needs the real-time loop.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable


class _VirtualSelector(selectors.BaseSelector):
    """Polls real descriptors without blocking; a wait is a jump of virtual time."""

    def __init__(self) -> None:
        self._real = selectors.DefaultSelector()
        self.advance: Callable[[float], None] = lambda dt: None

    def register(self, fileobj, events, data=None):
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj):
        return self._real.unregister(fileobj)

    def modify(self, fileobj, events, data=None):
        return self._real.modify(fileobj, events, data)

    def get_map(self):
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout=None):
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # nothing scheduled: only real I/O can wake us
            return self._real.select(None)
        self.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """asyncio loop whose clock advances only by jumping to the next timer."""

    def __init__(self, start: float = 0.0) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        self._vnow = float(start)
        selector.advance = self._advance

    def _advance(self, dt: float) -> None:
        self._vnow += dt

    def time(self) -> float:
        return self._vnow


def new_loop(virtual: bool) -> asyncio.AbstractEventLoop:
    """The kernel's clock: a virtual-time loop or a real-time one."""
    return VirtualTimeLoop() if virtual else asyncio.new_event_loop()
