"""ISDN PRI trunks through the kernel: network side on one sim span, user side on the
other, D-channel HDLC on TS16 across the simulated E1 line, calls in the unified model."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.media import Reason
from cti.trunks.isdn import IsdnTrunk
from tests.kernel_rig import back_to_back


@pytest.fixture
def pri():
    rig = back_to_back()
    kernel = rig.kernel
    net = IsdnTrunk(kernel, "pstn", rig.pstn, "network")
    user = IsdnTrunk(kernel, "cc", rig.cc, "user", on_offered=rig.offered.append)
    kernel.run_for(2.0)  # alignment and SABME/UA
    assert net.stack.link_up and user.stack.link_up
    yield kernel, rig.media, net, user, rig.offered
    kernel.close()


def test_call_answer_media_and_clearing_with_cause(pri):
    kernel, media, net, user, offered = pri

    async def scenario():
        out = Call(trunk=net, direction="out", dnis="4000", ani="0212345678", clock=kernel.now)
        out.dial()
        await asyncio.sleep(0.2)
        inc = offered[0]
        assert (inc.dnis, inc.ani) == ("4000", "0212345678")
        inc.alert()
        await out.wait(CallState.ALERTING, timeout=2)
        inc.answer()
        await out.wait(CallState.CONNECTED, timeout=2)
        await inc.wait(CallState.CONNECTED, timeout=2)
        assert out.slot is not None and inc.slot == out.slot + 32
        collect = asyncio.ensure_future(media.collect(inc.slot, max_digits=3, terminators=""))
        await media.send_dtmf(out.slot, "123")
        digits = await collect
        inc.drop(17)
        await out.wait(CallState.RELEASED, timeout=5)
        await inc.wait(CallState.RELEASED, timeout=5)
        return out, inc, digits

    out, inc, digits = kernel.run(scenario())
    assert digits.reason is Reason.MAXDIGITS and digits.digits == "123"
    assert out.cause == 17 and inc.cause == 17
    assert [h for _, h in out.history] == ["dialing", "alerting", "connected", "disconnected",
                                          "released"]


def test_rejected_call_carries_cause(pri):
    kernel, media, net, user, offered = pri

    async def scenario():
        out = Call(trunk=net, direction="out", dnis="9999", clock=kernel.now)
        out.dial()
        await asyncio.sleep(0.2)
        offered[0].reject(1)
        await out.wait(CallState.RELEASED, timeout=5)
        return out

    out = kernel.run(scenario())
    assert out.cause == 1 and out.times.get("connected") is None
