"""Fractional E1 trunks: a trunk's ``channels`` (config ``trunk.channels``) limits the bearer
timeslots each stack uses - ISDN B-channels, ISUP circuits, R2 circuits - on sim spans."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.trunks.base import parse_timeslots
from cti.trunks.isdn import IsdnTrunk
from cti.trunks.r2 import R2Trunk
from cti.trunks.ss7 import Ss7Trunk
from tests.kernel_rig import back_to_back

PART = (1, 2, 3)


def test_parse_timeslots():
    assert parse_timeslots("1-15,17-31") == tuple(t for t in range(1, 32) if t != 16)
    assert parse_timeslots(" 3, 1-2 ,20") == (1, 2, 3, 20)
    for bad in ("0-3", "16", "17-32", "5-3", "x", "", "1,,2"):
        with pytest.raises(ValueError):
            parse_timeslots(bad)


def _pair(kind: str):
    rig = back_to_back(cas=kind == "r2")
    k = rig.kernel

    def answer(call: Call) -> None:  # every call offered is answered at once
        call.answer()
    if kind == "isdn":
        out = IsdnTrunk(k, "pstn", rig.pstn, "network", timeslots=PART)
        inc = IsdnTrunk(k, "cc", rig.cc, "user", on_offered=answer, timeslots=PART)
    elif kind == "ss7":
        out = Ss7Trunk(k, "pstn", rig.pstn, opc=1, dpc=2, timeslots=PART)
        inc = Ss7Trunk(k, "cc", rig.cc, opc=2, dpc=1, on_offered=answer,
                       timeslots=PART)
    else:
        out = R2Trunk(k, "pstn", rig.pstn, variant="cn", master=True, timeslots=PART)
        inc = R2Trunk(k, "cc", rig.cc, variant="cn", master=False, max_dnis=4,
                      on_offered=answer, timeslots=PART)
    rig.links_up(out, inc)  # SS7: alignment with proving, then MTP restart
    return rig, out, inc


@pytest.mark.parametrize("kind", ["isdn", "ss7", "r2"])
def test_calls_use_only_the_trunks_timeslots(kind):
    rig, out, inc = _pair(kind)
    kernel = rig.kernel
    assert out.free_channels() == list(PART) and inc.free_channels() == list(PART)

    async def scenario():
        calls = []
        for n in range(len(PART) + 1):
            c = Call(trunk=out, direction="out", dnis="4000", ani=f"55{n}", clock=kernel.now)
            try:
                c.dial()
            except Exception as e:  # noqa: BLE001 - the stack's own "no channel" error
                calls.append(e)
                continue
            calls.append(c)
        await asyncio.sleep(8.0)
        return calls

    calls = kernel.run(scenario())
    kernel.close()
    placed = [c for c in calls if isinstance(c, Call)]
    up = [c for c in placed if c.state is CallState.CONNECTED]
    assert len(up) == len(PART)
    base = kernel.span_slot(rig.pstn, 0)
    assert sorted(c.slot - base for c in up) == list(PART)
    # the fourth call finds no bearer: refused at once or cleared with cause 34
    assert len(calls) == len(PART) + 1
    extra = calls[-1]
    assert not isinstance(extra, Call) or (extra.state is CallState.RELEASED and extra.cause == 34)
