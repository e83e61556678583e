"""SS7 ISUP trunks through the kernel: MTP2 on TS16 HDLC across two sim E1 spans,
CIC = timeslot, calls in the unified model with causes end to end."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.trunks.ss7 import Ss7Trunk
from tests.kernel_rig import answered_call, back_to_back


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

    out, inc, digits = kernel.run(answered_call(kernel, media, offered, pstn, "called"))
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
