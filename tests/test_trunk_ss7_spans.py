"""An SS7 trunk over two E1 spans: circuits on both (CIC = 32 x the span's place +
timeslot), one link set with a signalling link in TS16 of each span, load shared; a span
lost (LOS) changes its traffic over to the other link (Q.704 5) and the calls on the other
span carry on; new calls avoid the span in alarm.  Also built from a configuration."""

from __future__ import annotations

import asyncio

import pytest

from cti.calls import Call, CallState
from cti.kernel import Kernel
from cti.media import MediaEngine
from cti.trunks.ss7 import Ss7Trunk
from drivers.sim import Cable, SimBoard
from tests.kernel_rig import sim_config


@pytest.fixture
def rig():
    kernel = Kernel(virtual=True)
    a = SimBoard("pstn", spans=2)
    b = SimBoard("cc", spans=2, system=a.system)
    cables = [Cable(x, y) for x, y in zip(a.spans, b.spans, strict=True)]
    a.open()
    b.open()
    kernel.add_ticker(a.system)
    for span in a.spans + b.spans:
        kernel.add_span(span)
    offered: list[Call] = []
    out = Ss7Trunk(kernel, "pstn", a.spans[0], spans=a.spans[1:], links=2, opc=1, dpc=2)
    inc = Ss7Trunk(kernel, "cc", b.spans[0], spans=b.spans[1:], links=2, opc=2, dpc=1,
                   on_offered=offered.append)
    for _ in range(60):
        kernel.run_for(1.0)
        if out.link_up and inc.link_up and all(
                lk.mtp2.state == "IN_SERVICE" for lk in out.links + inc.links):
            break
    yield kernel, MediaEngine(kernel), out, inc, offered, cables
    kernel.close()


def test_circuits_on_both_spans_and_a_link_on_each(rig):
    kernel, media, out, inc, offered, _ = rig
    assert [lk.mtp2.state for lk in out.links] == ["IN_SERVICE", "IN_SERVICE"]
    assert len(out.free_channels()) == 60 and out.free_channels()[-1] == 63
    assert out.status()["spans"] == ["pstn/1", "pstn/2"]

    async def scenario():
        call = Call(trunk=out, direction="out", dnis="4000", clock=kernel.now,
                    data={"channel": 40})  # span 2, timeslot 8
        call.dial()
        await asyncio.sleep(0.5)
        answered = offered[0]
        answered.answer()
        await call.wait(CallState.CONNECTED, timeout=5)
        collect = asyncio.ensure_future(media.collect(answered.slot, max_digits=2,
                                                      terminators=""))
        await media.send_dtmf(call.slot, "47")
        return call, answered, (await collect).digits

    call, answered, digits = kernel.run(scenario())
    assert digits == "47"
    assert out._circuit(call).cic == 40 and inc._circuit(answered).cic == 40
    assert call.slot == kernel.span_slot(out.spans[1], 8)


def test_a_span_lost_changes_over_and_its_calls_elsewhere_carry_on(rig):
    kernel, media, out, inc, offered, cables = rig

    async def scenario():
        calls = []
        for channel in (3, 35):  # one call on each span
            call = Call(trunk=out, direction="out", dnis="4000", clock=kernel.now,
                        data={"channel": channel})
            call.dial()
            calls.append(call)
        await asyncio.sleep(0.5)
        for c in offered:
            c.answer()
        for c in calls:
            await c.wait(CallState.CONNECTED, timeout=5)
        cables[0].impair("both", los=True)  # span 1 and its link are gone
        await asyncio.sleep(3.0)
        later = Call(trunk=out, direction="out", dnis="4001", clock=kernel.now)
        later.dial()
        await asyncio.sleep(0.5)
        offered[-1].answer()
        await later.wait(CallState.CONNECTED, timeout=5)
        collect = asyncio.ensure_future(media.collect(offered[1].slot, max_digits=1,
                                                      terminators=""))
        await media.send_dtmf(calls[1].slot, "9")
        return calls, later, (await collect).digits

    calls, later, digit = kernel.run(scenario())
    assert out.links[0].mtp2.state != "IN_SERVICE" and out.links[1].mtp2.state == "IN_SERVICE"
    assert out.link_up and inc.link_up  # the route is kept by the link on span 2
    assert calls[1].state is CallState.CONNECTED and digit == "9"
    assert out._circuit(later).cic >= 32  # a new call goes on the span without alarm
    assert all(ch >= 32 for ch in out.free_channels())


def test_two_span_trunk_from_configuration(tmp_path):
    from core.errors import ConfigError
    from cti.runtime import Runtime

    def config(extra: str):
        return sim_config(tmp_path, 2, f"""name = "isup"
type = "ss7"
span = "a:1"
opc = 1
dpc = 2
{extra}""")

    rt = Runtime(config('spans = ["a:2"]\nlinks = 2'))
    try:
        t = rt.trunks["isup"]
        assert len(t.links) == 2 and len(t.channels) == 60
    finally:
        rt.close()
    with pytest.raises(ConfigError, match="links"):
        Runtime(config('links = 2'))
    with pytest.raises(ConfigError, match="no board"):
        Runtime(config('spans = ["b:1"]'))
