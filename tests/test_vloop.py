"""The virtual-time asyncio loop: timers fire at their simulated moments, fast."""

from __future__ import annotations

import asyncio
import socket

from cti.vloop import VirtualTimeLoop


def test_an_hour_of_sleeps_passes_in_a_moment():
    loop = VirtualTimeLoop()
    seen = []

    async def worker(name, period, count):
        for _ in range(count):
            await asyncio.sleep(period)
            seen.append((round(loop.time(), 6), name))

    async def main():
        await asyncio.gather(worker("a", 1.0, 3600), worker("b", 0.02, 1000))

    loop.run_until_complete(main())
    loop.close()
    a_times = [t for t, n in seen if n == "a"]
    assert a_times[0] == 1.0 and a_times[-1] == 3600.0
    b_times = [t for t, n in seen if n == "b"]
    assert b_times[-1] == 20.0


def test_call_later_order_and_exact_time():
    loop = VirtualTimeLoop()
    fired = []
    loop.call_later(5, lambda: fired.append(("T303", loop.time())))
    loop.call_later(1, lambda: fired.append(("T200", loop.time())))
    h = loop.call_later(3, lambda: fired.append(("cancelled", loop.time())))
    h.cancel()
    loop.call_later(6, loop.stop)
    loop.run_forever()
    loop.close()
    assert fired == [("T200", 1.0), ("T303", 5.0)]


def test_real_sockets_still_delivered():
    loop = VirtualTimeLoop()
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    got = []

    def readable():
        got.append((b.recv(10), loop.time()))
        loop.stop()

    loop.add_reader(b.fileno(), readable)
    loop.call_later(2, a.send, b"x")
    loop.run_forever()
    loop.remove_reader(b.fileno())
    loop.close()
    a.close()
    b.close()
    assert got == [(b"x", 2.0)]
