"""MFC-R2 trunks through the kernel: CAS on TS16 and MF tones in the voice timeslots of
two sim E1 spans, China No.1 variant, calls in the unified model."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.trunks.r2 import R2Trunk
from tests.kernel_rig import back_to_back


@pytest.fixture
def r2():
    rig = back_to_back(cas=True)
    kernel, media, offered = rig.kernel, rig.media, rig.offered
    fwd = R2Trunk(kernel, "pstn", rig.pstn, variant="cn", master=True)
    bwd = R2Trunk(kernel, "cc", rig.cc, variant="cn", master=False, on_offered=offered.append)
    kernel.run_for(1.0)
    yield kernel, media, fwd, bwd, offered
    kernel.close()


async def next_offered(offered: list, seconds: float = 10.0) -> Call:
    for _ in range(int(seconds * 10)):
        if offered:
            return offered.pop(0)
        await asyncio.sleep(0.1)
    raise TimeoutError("no call offered")


def test_r2_call_with_dnis_ani_answer_and_clear(r2):
    kernel, media, fwd, bwd, offered = r2

    async def scenario():
        out = Call(trunk=fwd, direction="out", dnis="4000", ani="075512345", clock=kernel.now)
        out.dial()
        inc = await next_offered(offered)
        inc.answer()
        await out.wait(CallState.CONNECTED, timeout=10)
        collect = asyncio.ensure_future(media.collect(inc.slot, max_digits=2, terminators=""))
        await media.send_dtmf(out.slot, "59")
        digits = await collect
        out.drop()
        await inc.wait(CallState.RELEASED, timeout=10)
        await out.wait(CallState.RELEASED, timeout=10)
        return out, inc, digits

    out, inc, digits = kernel.run(scenario())
    assert inc.dnis == "4000" and inc.ani == "075512345"
    assert digits.digits == "59"
    assert out.state is CallState.RELEASED and inc.state is CallState.RELEASED


def test_r2_busy_refusal_maps_to_cause_17(r2):
    kernel, media, fwd, bwd, offered = r2

    async def scenario():
        out = Call(trunk=fwd, direction="out", dnis="4001", ani="1", clock=kernel.now)
        out.dial()
        (await next_offered(offered)).reject(17)
        await out.wait(CallState.RELEASED, timeout=15)
        return out

    out = kernel.run(scenario())
    assert out.cause == 17 and out.raw_cause == "B-2"  # China No.1: KB=2 subscriber busy


class _AudioDelay:
    """A kernel stage that delays the received audio of the given slots by ``n`` blocks:
    a long transit path (satellite hop, pseudowire jitter buffer)."""

    def __init__(self, slots, n: int):
        self.slots, self.n, self.queue = slots, n, []

    def rx(self, rx, frame: int) -> None:
        self.queue.append(rx[self.slots].copy())
        rx[self.slots] = self.queue.pop(0) if len(self.queue) > self.n else 0xD5


class _AudioJitter:
    """A kernel stage whose audio delay wanders between 0 and ``n`` blocks: a block is repeated
    when the delay grows and skipped when it shrinks, as behind an elastic buffer fed by a loop
    that runs late (a loaded host, a VM)."""

    def __init__(self, slots, n: int, seed: int):
        import random

        self.slots, self.n, self.rng = slots, n, random.Random(seed)
        self.history: list = []
        self.delay = 0

    def rx(self, rx, frame: int) -> None:
        self.history = [*self.history[-self.n:], rx[self.slots].copy()]
        self.delay = max(0, min(self.n, self.delay + self.rng.choice((-1, 0, 1))))
        rx[self.slots] = self.history[-1 - min(self.delay, len(self.history) - 1)]


@pytest.mark.parametrize("stage", ["delay 3", "delay 6", "jitter 4"])
def test_r2_compelled_cycle_survives_transit_delay(stage):
    """60 and 120 ms of audio delay each way, and a delay wandering over 0..80 ms: the compelled
    cycle waits, digits stay whole."""
    import numpy as np

    kind, blocks = stage.split()
    rig = back_to_back(cas=True)
    kernel = rig.kernel
    slots = np.arange(64)
    kernel.add_stage(_AudioDelay(slots, int(blocks)) if kind == "delay"
                     else _AudioJitter(slots, int(blocks), seed=1), first=True)
    fwd = R2Trunk(kernel, "pstn", rig.pstn, variant="cn", master=True)
    R2Trunk(kernel, "cc", rig.cc, variant="cn", master=False, on_offered=rig.offered.append)
    kernel.run_for(1.0)

    async def scenario():
        out = Call(trunk=fwd, direction="out", dnis="4000", ani="075512345", clock=kernel.now)
        out.dial()
        inc = await next_offered(rig.offered, 40.0)  # every compelled step waits the delay
        inc.answer()
        return out, inc, await out.wait(CallState.CONNECTED, timeout=10)

    out, inc, state = kernel.run(scenario())
    kernel.close()
    assert (inc.dnis, inc.ani) == ("4000", "075512345") and state is CallState.CONNECTED


def test_max_dnis_ends_address_collection_without_the_back_step_timeout():
    """China No.1 has no end-of-digits signal: without a known length the incoming register
    waits back_step (5 s) for another digit; with max_dnis it asks for the category at once."""
    def offered_after(**opts) -> float:
        rig = back_to_back(cas=True)
        kernel = rig.kernel
        fwd = R2Trunk(kernel, "pstn", rig.pstn, variant="cn", master=True)
        R2Trunk(kernel, "cc", rig.cc, variant="cn", master=False,
                on_offered=rig.offered.append, **opts)
        kernel.run_for(1.0)

        async def scenario():
            t0 = kernel.now()
            Call(trunk=fwd, direction="out", dnis="4000", ani="075512345",
                 clock=kernel.now).dial()
            inc = await next_offered(rig.offered, 20.0)
            return kernel.now() - t0, inc.dnis

        took, dnis = kernel.run(scenario())
        kernel.close()
        assert dnis == "4000"
        return took

    waited, at_once = offered_after(), offered_after(max_dnis=4)
    assert waited - at_once >= 4.5  # the 5 s back_step time-out, less the steps it replaced
