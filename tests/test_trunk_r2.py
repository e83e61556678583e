"""MFC-R2 trunks through the kernel: CAS on TS16 and MF tones in the voice timeslots of
two sim E1 spans, China No.1 variant, calls in the unified model."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.kernel import Kernel
from cti.media import MediaEngine
from cti.trunks.r2 import R2Trunk
from drivers.base import Signalling, SpanConfig
from drivers.sim import Cable, SimBoard


@pytest.fixture
def r2():
    kernel = Kernel(virtual=True)
    cfg = SpanConfig(signalling=Signalling.CAS)
    a = SimBoard("pstn", spans=1, config=cfg)
    b = SimBoard("cc", spans=1, config=cfg, system=a.system)
    Cable(a.spans[0], b.spans[0])
    a.open()
    b.open()
    kernel.add_ticker(a.system)
    kernel.add_span(a.spans[0])
    kernel.add_span(b.spans[0])
    media = MediaEngine(kernel)
    offered: list[Call] = []
    fwd = R2Trunk(kernel, "pstn", a.spans[0], variant="cn", master=True)
    bwd = R2Trunk(kernel, "cc", b.spans[0], variant="cn", master=False, on_offered=offered.append)
    kernel.run_for(1.0)
    yield kernel, media, fwd, bwd, offered
    kernel.close()


def test_r2_call_with_dnis_ani_answer_and_clear(r2):
    kernel, media, fwd, bwd, offered = r2

    async def scenario():
        out = Call(trunk=fwd, direction="out", dnis="4000", ani="075512345", clock=kernel.now)
        out.dial()
        for _ in range(100):
            if offered:
                break
            await asyncio.sleep(0.1)
        inc = offered[0]
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
        for _ in range(100):
            if offered:
                break
            await asyncio.sleep(0.1)
        offered[0].reject(17)
        await out.wait(CallState.RELEASED, timeout=15)
        return out

    out = kernel.run(scenario())
    assert out.cause == 17 and out.raw_cause == "B-2"  # China No.1: KB=2 subscriber busy
