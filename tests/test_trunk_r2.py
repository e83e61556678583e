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


async def next_offered(offered: list) -> Call:
    for _ in range(100):
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
