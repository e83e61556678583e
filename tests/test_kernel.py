"""The tight loop end to end on the virtual clock: sim E1 spans cabled back to back,
the fabric routing timeslots, media operations detecting what crossed the line."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from cti.kernel import Kernel
from cti.media import MediaEngine, Reason
from drivers.sim import cabled_pair


@pytest.fixture
def rig():
    kernel = Kernel(virtual=True)
    pstn, cc = cabled_pair("pstn", "cc")
    kernel.add_ticker(pstn.system)
    p = kernel.add_span(pstn.spans[0])
    c = kernel.add_span(cc.spans[0])
    media = MediaEngine(kernel)
    yield kernel, media, p, c, pstn, cc
    kernel.close()


def test_dtmf_crosses_the_line_and_a_fabric_loopback(rig):
    kernel, media, p, c, *_ = rig
    # at the call-centre end, what arrives on TS1 goes back out on TS5
    kernel.fabric.listen(c + 5, c + 1)

    async def scenario():
        await asyncio.sleep(0.5)  # frame alignment
        collect = asyncio.ensure_future(media.collect(p + 5, max_digits=4, terminators="", first_timeout=5))
        await media.send_dtmf(p + 1, "4#7*")
        return await collect

    term = kernel.run(scenario())
    assert term.reason is Reason.MAXDIGITS and term.digits == "4#7*"


def test_collect_terminator_and_timeouts_on_virtual_time(rig):
    kernel, media, p, c, *_ = rig
    kernel.fabric.connect(c + 1, c + 2)

    async def scenario():
        await asyncio.sleep(0.5)
        t0 = kernel.now()
        first = await media.collect(p + 2, max_digits=5, first_timeout=3.0)
        waited = kernel.now() - t0
        sender = asyncio.ensure_future(media.send_dtmf(p + 1, "12#"))
        term = await media.collect(p + 2, max_digits=5, terminators="#", first_timeout=5)
        await sender
        media.flush_digits(p + 2)
        sender = asyncio.ensure_future(media.send_dtmf(p + 1, "9"))
        inter = await media.collect(p + 2, max_digits=5, first_timeout=5, inter_timeout=2)
        await sender
        return first, waited, term, inter

    first, waited, term, inter = kernel.run(scenario())
    assert first.reason is Reason.FIRST_TIMEOUT and abs(waited - 3.0) < 0.03
    assert term.reason is Reason.DIGIT and term.digits == "12"
    assert inter.reason is Reason.INTER_TIMEOUT and inter.digits == "9"


def test_play_interrupted_by_digit_and_played_to_end(rig):
    kernel, media, p, c, *_ = rig
    kernel.fabric.connect(c + 1, c + 3)
    prompt = np.full(8000 * 2, 0x55, np.uint8)  # two seconds

    async def scenario():
        await asyncio.sleep(0.5)
        whole = await media.play(p + 3, [prompt[:4000], prompt[:4000]])
        player = asyncio.ensure_future(media.play(p + 3, [prompt], interrupt="#"))
        await asyncio.sleep(0.3)
        await media.send_dtmf(p + 1, "#")
        return whole, await player

    whole, cut = kernel.run(scenario())
    assert whole.reason is Reason.EOD and abs(whole.duration_s - 1.0) <= 0.021
    assert cut.reason is Reason.DIGIT and cut.digits == "#" and cut.duration_s < 1.0


def test_record_ends_on_silence_and_on_hangup(rig):
    kernel, media, p, c, *_ = rig
    kernel.fabric.connect(c + 1, c + 4)

    async def scenario():
        await asyncio.sleep(0.5)
        rec = asyncio.ensure_future(media.record(p + 4, max_time=30, silence=1.0, beep=False))
        await media.tone(p + 1, "dial", seconds=2.0)
        by_silence = await rec
        rec = asyncio.ensure_future(media.record(p + 4, max_time=30, silence=None, beep=False))
        await asyncio.sleep(1.0)
        media.hangup(p + 4)
        return by_silence, await rec

    by_silence, by_hangup = kernel.run(scenario())
    assert by_silence.reason is Reason.SILENCE
    assert 1.8 <= by_silence.duration_s <= 2.6  # the tone, line delay included
    assert by_hangup.reason is Reason.HANGUP


def test_an_hour_of_ticks_on_the_virtual_clock(rig):
    kernel, *_ = rig
    kernel.run_for(60.0)
    assert kernel.stats.ticks == 3000 and kernel.frame == 480_000
