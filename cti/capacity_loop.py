"""The tight loop at full load (``cti bench``): 16 E1 spans, 480 voice channels.

The system is what a 16-span board carries at full use: two 8-span sim boards cabled
span to span (G.704 framing with CRC-4 both ways, one C call per tick), an ISDN PRI
(Q.921/Q.931 stack) on TS16 of every span, network side on one board and user side on
the other, so 16 HDLC links run LAPD with their T203 RR keepalives (Q.921 5.9.8); DTMF
detection enabled on all 480 voice channels (:meth:`cti.media.MediaEngine.enable_digits`);
and the full switch: every voice slot of board A is connected full duplex to the same
timeslot of the next span of board B, so every voice slot is routed.  One voice channel
per span of board A sends DTMF digits without pause (the tone generator bank is running
too) and the digits are detected where the switched path delivers them.

Figures: the share of one core the loop takes (tick CPU over the line time it covers) at
160-frame (20 ms) and 8-frame (1 ms) blocks on the virtual clock; tick jitter (start
minus deadline) p50/p99 with the kernel on the real-time clock at both block sizes; and the virtual-clock
speed-up, simulated seconds per process CPU second (wall-clock speed-up in the notes, it
depends on what else the machine runs).  No peer runs this loop, so the figures stand
alone.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from core.bench import BenchResult
from cti.kernel import FRAME_RATE, Kernel, TickStats
from cti.media import MediaEngine
from cti.trunks.isdn import DCHANNEL, IsdnTrunk
from drivers.sim import cabled_pair
from timeslot.events import Kind

SPANS_PER_BOARD = 8
VOICE_TIMESLOTS = tuple(t for t in range(1, 32) if t != DCHANNEL)
DIGITS = "1234567890*#"
WARMUP_S = 2.0  # LAPD multiple-frame establishment (SABME/UA) and E1 alignment


@dataclass
class LoopSystem:
    kernel: Kernel
    media: MediaEngine
    trunks: list[IsdnTrunk]
    senders: list[int]  # slots sending DTMF
    routes: int  # full-duplex connections in the switch
    digits: int = 0  # DTMF digits detected

    @property
    def links_up(self) -> int:
        return sum(t.stack.link_up for t in self.trunks)

    @property
    def voice_channels(self) -> int:
        return len(self.media.digits)


def build(block: int = 160, virtual: bool = True) -> LoopSystem:
    """The 16-span system on a fresh kernel (not started)."""
    k = Kernel(virtual=virtual, block=block)
    a, b = cabled_pair("a", "b", spans=SPANS_PER_BOARD)
    k.add_ticker(a.system)
    for span in a.spans + b.spans:
        k.add_span(span)
    trunks = [IsdnTrunk(k, f"net{i}", s, "network") for i, s in enumerate(a.spans)]
    trunks += [IsdnTrunk(k, f"usr{i}", s, "user") for i, s in enumerate(b.spans)]
    media = MediaEngine(k)
    routes = 0
    for i, span in enumerate(a.spans):
        far = b.spans[(i + 1) % SPANS_PER_BOARD]
        for ts in VOICE_TIMESLOTS:
            k.fabric.connect(k.span_slot(span, ts), k.span_slot(far, ts))
            routes += 1
    for span in a.spans + b.spans:
        for ts in VOICE_TIMESLOTS:
            media.enable_digits(k.span_slot(span, ts))
    senders = [k.span_slot(span, VOICE_TIMESLOTS[i]) for i, span in enumerate(a.spans)]
    system = LoopSystem(k, media, trunks, senders, routes)

    def count(slot: int, ev) -> None:
        if ev.kind == Kind.DTMF:
            system.digits += 1
            media.flush_digits(slot)

    media.listeners.append(count)
    return system


async def _send_forever(media: MediaEngine, slot: int) -> None:
    while True:
        await media.send_dtmf(slot, DIGITS)


def run(system: LoopSystem, seconds: float) -> dict:
    """Warm up, then run ``seconds`` of kernel time with fresh tick statistics; returns
    the kernel statistics plus wall and process CPU of the measured stretch."""
    k = system.kernel
    tasks = [k.loop.create_task(_send_forever(system.media, s)) for s in system.senders]
    k.run_for(WARMUP_S)
    k.stats = TickStats()
    system.digits = 0
    w0, c0 = time.perf_counter(), time.process_time()
    k.run_for(seconds)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    for t in tasks:
        t.cancel()
    k.run(asyncio.sleep(0))
    stats = k.stats.as_dict(k.block_s)
    stats.update(wall_s=wall, cpu_s=cpu, seconds=seconds)
    return stats


def _describe(system: LoopSystem, stats: dict) -> str:
    return (f"{system.voice_channels} DTMF channels, {system.routes} duplex routes, "
            f"{system.links_up}/{len(system.trunks)} LAPD links up, "
            f"{system.digits} digits detected, {stats['ticks']} ticks")


def loop_16spans(quick: bool) -> list[BenchResult]:
    """Share of one core at 20 ms and 1 ms blocks, and the virtual-clock speed-up."""
    out = []
    seconds = 3.0 if quick else 20.0
    for name, block in (("loop_16spans_20ms", 160), ("loop_16spans_1ms", 8)):
        system = build(block)
        stats = run(system, seconds / 4 if block == 8 and quick else seconds)
        out.append(BenchResult(name, 100.0 * stats["cpu_fraction"], "percent_of_core", notes=[
            f"{block}-frame ticks on the virtual clock: " + _describe(system, stats),
            "tick CPU (process time inside Kernel.tick) over the line time ticked"]))
        if block == 160:
            speed = stats["seconds"] / stats["cpu_s"]
            out.append(BenchResult("loop_virtual_speedup", speed, "x", notes=[
                f"{stats['seconds']:.0f} simulated s in {stats['cpu_s']:.2f} process CPU s "
                "(whole asyncio loop, not only ticks); wall-clock speed-up "
                f"{stats['seconds'] / stats['wall_s']:.1f}x on this machine's load"]))
        system.kernel.close()
    return out


def loop_jitter(quick: bool) -> list[BenchResult]:
    """Tick lateness p50/p99 on the real-time clock at 20 ms and 1 ms blocks."""
    out = []
    for suffix, block in (("", 160), ("_1ms", 8)):
        system = build(block, virtual=False)
        stats = run(system, 2.0 if quick else 10.0)
        system.kernel.close()
        block_ms = 1e3 * block / FRAME_RATE
        note = (f"real-time clock, {block}-frame ticks every {block_ms:g} ms: "
                + _describe(system, stats) + f" of {round(stats['seconds'] / (block_ms / 1e3))} "
                f"blocks (the rest skipped as missed), {stats['overruns']} overruns, "
                f"CPU {100 * stats['cpu_fraction']:.1f}% of a core")
        out += [BenchResult(f"loop_jitter{suffix}_{p}", stats[f"jitter_ms_{p}"], "ms",
                            notes=[note]) for p in ("p50", "p99")]
    return out


BENCHES = [loop_16spans, loop_jitter]
