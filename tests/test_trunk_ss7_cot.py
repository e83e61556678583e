"""ISUP continuity check through the kernel (Q.764 2.1.8): the outgoing trunk sends the
2000 Hz check tone on the circuit, the incoming trunk loops it back over the sim E1 line, the
tone returns and the call goes on; without the loop the call is not offered and the circuit
is checked again with CCR."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.trunks.ss7 import Ss7Trunk
from tests.kernel_rig import back_to_back


def trunks(loop: bool = True):
    rig = back_to_back()
    k = rig.kernel
    out = Ss7Trunk(k, "pstn", rig.pstn, opc=1, dpc=2)
    inc = Ss7Trunk(k, "cc", rig.cc, opc=2, dpc=1, on_offered=rig.offered.append)
    if not loop:
        inc.continuity.loop = lambda slot: None  # a far end whose loop is broken
    rig.links_up(out, inc)
    return rig, out, inc


def dial(rig, out) -> Call:
    call = Call(trunk=out, direction="out", dnis="4000", ani="0212345678",
                clock=rig.kernel.now)
    call.data["continuity_check"] = 1
    call.dial()
    return call


def test_check_tone_returns_through_the_loop_and_the_call_proceeds():
    rig, out, inc = trunks()
    kernel = rig.kernel

    async def scenario():
        call = dial(rig, out)
        await asyncio.sleep(0.05)
        slot = call.slot
        assert slot in out.continuity.checks  # transceiver on the outgoing circuit
        assert slot + 32 in inc.continuity.looped  # the loop at the far end
        for _ in range(40):
            if rig.offered:
                break
            await asyncio.sleep(0.05)
        inc_call = rig.offered[0]
        inc_call.answer()
        await call.wait(CallState.CONNECTED, timeout=5)
        return call

    call = kernel.run(scenario())
    assert call.state is CallState.CONNECTED
    assert not out.continuity.checks and not inc.continuity.looped  # equipment removed
    kernel.close()


def test_without_the_loop_the_call_is_not_offered_and_the_circuit_is_rechecked():
    """No tone back within T24: COT failure, the call tries another circuit (which fails
    too here) and each failed circuit waits for its CCR retest (Q.764 2.1.8)."""
    rig, out, inc = trunks(loop=False)
    kernel = rig.kernel

    async def scenario():
        call = dial(rig, out)
        await asyncio.sleep(5.0)
        return call

    call = kernel.run(scenario())
    states = {c.cic: c.state for c in out.node.isup.circuits.values() if c.state != "IDLE"}
    assert not rig.offered  # the incoming side waits for a successful COT
    assert call.state is CallState.DIALING
    assert list(states.values()).count("CC_RETEST") >= 2  # the first circuits failed the check
    kernel.close()


@pytest.mark.parametrize("hz", [1000.0, 2100.0])
def test_a_tone_that_is_not_the_check_tone_does_not_pass(hz):
    """The transceiver accepts 2000 +-30 Hz only."""
    from timeslot.tonegen import ToneGenerator

    rig, out, inc = trunks()
    kernel = rig.kernel
    results: list[bool] = []
    slot = out.slot_of(5)
    out.continuity.transceive(slot, results.append)
    out.continuity.gen = ToneGenerator(out.continuity.gen.channels, law=kernel.law)
    out.continuity.gen.tone(slot, hz, level=-12.0)
    peer = inc.slot_of(5)
    kernel.fabric.listen(peer, peer)  # the far end loops what it hears: the wrong tone
    kernel.run_for(1.0)
    assert results == []
    out.continuity.release(slot)
    kernel.close()
