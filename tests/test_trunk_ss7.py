"""SS7 ISUP trunks through the kernel: MTP2 on TS16 HDLC across two sim E1 spans,
CIC = timeslot, calls in the unified model with causes end to end."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.trunks.ss7 import Ss7Trunk
from tests.kernel_rig import back_to_back


@pytest.fixture
def isup():
    rig = back_to_back()
    kernel, media, offered = rig.kernel, rig.media, rig.offered
    pstn = Ss7Trunk(kernel, "pstn", rig.pstn, opc=1, dpc=2)
    cc = Ss7Trunk(kernel, "cc", rig.cc, opc=2, dpc=1, on_offered=offered.append)
    rig.links_up(pstn, cc)
    yield kernel, media, pstn, cc, offered
    kernel.close()


def test_isup_call_answer_media_and_release_cause(isup):
    kernel, media, pstn, cc, offered = isup

    async def scenario():
        out = Call(trunk=pstn, direction="out", dnis="4000", ani="0212345678", clock=kernel.now)
        out.dial()
        await asyncio.sleep(0.5)
        inc = offered[0]
        inc.alert()
        await out.wait(CallState.ALERTING, timeout=5)
        inc.answer()
        await out.wait(CallState.CONNECTED, timeout=5)
        collect = asyncio.ensure_future(media.collect(inc.slot, max_digits=2, terminators=""))
        await media.send_dtmf(out.slot, "38")
        digits = await collect
        inc.drop(16)
        await out.wait(CallState.RELEASED, timeout=10)
        await inc.wait(CallState.RELEASED, timeout=10)
        return out, inc, digits

    out, inc, digits = kernel.run(scenario())
    assert (inc.dnis, inc.ani) == ("4000", "0212345678")
    assert inc.slot == out.slot + 32 and digits.digits == "38"
    assert out.cause == 16


def test_isup_rejection_carries_cause(isup):
    kernel, media, pstn, cc, offered = isup

    async def scenario():
        out = Call(trunk=pstn, direction="out", dnis="4999", clock=kernel.now)
        out.dial()
        await asyncio.sleep(0.5)
        offered[0].reject(17)
        await out.wait(CallState.RELEASED, timeout=10)
        return out

    assert kernel.run(scenario()).cause == 17
