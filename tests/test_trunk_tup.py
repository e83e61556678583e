"""China TUP trunks through the kernel: MTP2 on TS16 across two sim E1 spans with 24-bit
point codes, CIC = timeslot; calls in the unified model, refusals as unsuccessful backward
signals (Q.723 3.9) reported as Q.850 causes, release controlled by the calling party
(Q.724 5), and the trunk built from a `type = "tup"` configuration."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.trunks.ss7 import layer_timers
from cti.trunks.tup import CAUSE_SIGNAL, SIGNAL_CAUSE, TupTrunk
from ss7.tup import UNSUCCESSFUL
from tests.kernel_rig import answered_call, back_to_back, sim_config

OPC, DPC = 0x0A0B0C, 0x0A0B0D  # China national 24-bit signalling point codes


@pytest.fixture
def tup():
    rig = back_to_back()
    kernel = rig.kernel
    pstn = TupTrunk(kernel, "pstn", rig.pstn, opc=OPC, dpc=DPC, variant="china")
    cc = TupTrunk(kernel, "cc", rig.cc, opc=DPC, dpc=OPC, variant="china",
                  on_offered=rig.offered.append)
    rig.links_up(pstn, cc)
    yield kernel, rig.media, pstn, cc, rig.offered
    kernel.close()


def _placed(kernel, pstn, dnis: str, ani: str = "") -> Call:
    out = Call(trunk=pstn, direction="out", dnis=dnis, ani=ani, clock=kernel.now)
    out.dial()
    return out


def test_tup_call_answer_media_and_caller_clears(tup):
    kernel, media, pstn, cc, offered = tup

    out, inc, digits = kernel.run(answered_call(kernel, media, offered, pstn, "caller"))
    assert (inc.dnis, inc.ani) == ("4000", "0212345678")
    assert inc.slot == out.slot + 32 and digits.digits == "38"
    assert out.cause == 16 and inc.cause == 16
    assert pstn.counters["answered"] == cc.counters["answered"] == 1
    assert pstn.free_channels() == list(pstn.timeslots)


def test_tup_called_party_clears_back_then_the_caller_releases(tup):
    kernel, media, pstn, cc, offered = tup

    async def scenario():
        out = _placed(kernel, pstn, "4000")
        await asyncio.sleep(0.5)
        inc = offered[0]
        inc.answer()
        await out.wait(CallState.CONNECTED, timeout=5)
        inc.drop(16)  # CBK: the caller's side is told, and it clears forward
        await out.wait(CallState.RELEASED, timeout=10)
        await inc.wait(CallState.RELEASED, timeout=10)
        return out, inc

    out, inc = kernel.run(scenario())
    assert out.cause == 16 and inc.cause == 16
    assert pstn.free_channels() == list(pstn.timeslots) == cc.free_channels()


@pytest.mark.parametrize("cause", [17, 1, 34, 99])
def test_tup_refusal_travels_as_its_backward_signal(tup, cause):
    kernel, media, pstn, cc, offered = tup

    async def scenario():
        out = _placed(kernel, pstn, "4999")
        await asyncio.sleep(0.5)
        offered[0].reject(cause)
        await out.wait(CallState.RELEASED, timeout=10)
        return out

    signal = CAUSE_SIGNAL.get(cause, "CFL")
    assert kernel.run(scenario()).cause == SIGNAL_CAUSE[signal]


def test_signal_cause_table_covers_every_unsuccessful_signal():
    assert set(SIGNAL_CAUSE) == set(UNSUCCESSFUL)
    assert all(SIGNAL_CAUSE[s] == c for c, s in CAUSE_SIGNAL.items())


def test_tup_trunk_from_configuration(tmp_path):
    """`type = "tup"` builds a TUP trunk (China variant by default) whose layer timers come
    from the configuration; an ISUP timer on it is refused naming the trunk."""
    from core.errors import ConfigError
    from cti.runtime import Runtime

    def config(timers: str):
        return sim_config(tmp_path, 1, f"""name = "tup1"
type = "tup"
span = "a:1"
opc = {OPC}
dpc = {DPC}
timers = {{ {timers} }}""")

    rt = Runtime(config('"tup.T_COT" = 14.0, "mtp2.T2" = 20.0'))
    try:
        trunk = rt.trunks["tup1"]
        assert isinstance(trunk, TupTrunk) and trunk.status()["user_part"] == "tup"
        assert trunk.node.tup.timer_table.values["T_COT"] == 14.0
        assert trunk.node.tup.variant.name == "china"
    finally:
        rt.close()
    with pytest.raises(ConfigError, match=r"trunk\[0\].*isup"):
        Runtime(config('"isup.T7" = 20.0'))


def test_layer_timer_names():
    assert layer_timers({"isup.T7": 20, "mtp3.T4": 1}) == {
        "mtp2": {}, "mtp3": {"T4": 1}, "isup": {"T7": 20}, "tup": {}}
    for bad in ("T7", "sccp.T1", "isup."):
        with pytest.raises(ValueError, match="<layer>.<name>"):
            layer_timers({bad: 1})
