"""QSIG trunks through the kernel carry party names (isdn.facility) into ``Call.data``:
the calling name of an outgoing call's ``data["calling_name"]`` reaches the far trunk's
offered call; the answering call's ``data["own_name"]`` comes back as the called name with
ALERTING and the connected name with CONNECT, or as the busy name when the call is
refused as user busy (cause 17)."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.trunks.isdn import IsdnTrunk
from tests.kernel_rig import back_to_back


def _qsig_trunks(rig):
    a = IsdnTrunk(rig.kernel, "a", rig.pstn, "network", variant="qsig")
    b = IsdnTrunk(rig.kernel, "b", rig.cc, "user", variant="qsig", on_offered=rig.offered.append)
    rig.kernel.run_for(2.0)
    assert a.stack.link_up and b.stack.link_up
    return a, b


def test_qsig_names_in_call_data():
    rig = back_to_back()
    kernel = rig.kernel
    try:
        a, _ = _qsig_trunks(rig)

        async def scenario():
            out = Call(trunk=a, direction="out", dnis="4000", ani="1234", clock=kernel.now,
                       data={"calling_name": "Alice"})
            out.dial()
            await asyncio.sleep(0.2)
            inc = rig.offered[0]
            inc.data["own_name"] = "Bob"
            inc.alert()
            await out.wait(CallState.ALERTING, timeout=2)
            inc.answer()
            await out.wait(CallState.CONNECTED, timeout=2)
            inc.drop(16)
            await out.wait(CallState.RELEASED, timeout=5)
            return out, inc

        out, inc = kernel.run(scenario())
        assert inc.data["calling_name"] == "Alice"
        assert out.data["called_name"] == "Bob" and out.data["connected_name"] == "Bob"
    finally:
        kernel.close()


@pytest.mark.parametrize("alerted", [False, True])
def test_qsig_busy_name_in_call_data(alerted):
    """Refused as user busy while offered (RELEASE COMPLETE) or alerting (DISCONNECT)."""
    rig = back_to_back()
    kernel = rig.kernel
    try:
        a, _ = _qsig_trunks(rig)

        async def scenario():
            out = Call(trunk=a, direction="out", dnis="4000", ani="1234", clock=kernel.now)
            out.dial()
            await asyncio.sleep(0.2)
            inc = rig.offered[0]
            inc.data["own_name"] = "Bob"
            if alerted:
                inc.alert()
                await out.wait(CallState.ALERTING, timeout=2)
            inc.reject(17)
            await out.wait(CallState.RELEASED, timeout=5)
            return out

        out = kernel.run(scenario())
        assert out.data["busy_name"] == "Bob" and out.cause == 17
    finally:
        kernel.close()
