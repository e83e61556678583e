"""Streamed prompt playback capacity (``cti bench --only play_stream``).

480 voice timeslots (two 8-span sim E1 boards in one kernel), every one playing a
one-hour A-law WAV file through :meth:`cti.media.MediaEngine.play`, each from its own
open file (:class:`cti.wavstream.PromptStream`, 0.5 s reads).  The figure is the number
of such channels one core keeps fed in real time: channels x block time / CPU of one
``MediaEngine.tx`` call (the player stage alone, 160-frame blocks).  The notes give the
same figure for prompts held in memory (the pre-streaming way), to show what reading
from disk costs.  No peer library plays files this way, so the figure stands alone.
"""

from __future__ import annotations

import asyncio
import os
import struct
import tempfile

import numpy as np

from core.bench import BenchResult, cpu_seconds
from cti.kernel import Kernel
from cti.media import MediaEngine
from drivers.sim import SimBoard

VOICE = tuple(t for t in range(1, 32) if t != 16)


def _hour_file(path: str) -> None:
    n = 3600 * 8000
    fmt = struct.pack("<HHIIHHH", 6, 1, 8000, 8000, 1, 8, 0)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + n) + b"WAVE" + b"fmt "
                + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", n))
        f.truncate(f.tell() + n)


def _channels_per_core(kernel: Kernel, media: MediaEngine, slots: list[int], prompt,
                       quick: bool) -> float:
    async def start() -> list[asyncio.Future]:
        return [asyncio.ensure_future(media.play(s, [prompt])) for s in slots]

    tasks = kernel.loop.run_until_complete(start())
    kernel.loop.run_until_complete(asyncio.sleep(0))  # the players are set up
    tx = np.zeros((kernel.nslots, kernel.block), np.uint8)
    per_tick, _ = cpu_seconds(lambda: media.tx(tx, 0), 0.3 if quick else 1.0)
    for t in tasks:
        t.cancel()
    kernel.loop.run_until_complete(asyncio.sleep(0))
    return len(slots) * (kernel.block / 8000.0) / per_tick


def play_stream(quick: bool) -> BenchResult:
    kernel = Kernel(virtual=True)
    boards = [SimBoard("a", spans=8), None]
    boards[1] = SimBoard("b", spans=8, system=boards[0].system)
    for board in boards:
        board.open()
        for span in board.spans:
            kernel.add_span(span)
    media = MediaEngine(kernel)
    slots = [kernel.span_slot(span, t) for b in boards for span in b.spans for t in VOICE]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "hour.wav")
            _hour_file(path)
            streamed = _channels_per_core(kernel, media, slots, path, quick)
            memory = _channels_per_core(kernel, media, slots,
                                        np.full(3600 * 8000 // 60, 0xD5, np.uint8), quick)
    finally:
        kernel.close()
        for board in boards:
            board.close()
    return BenchResult("play_stream", round(streamed), "channels/core", notes=[
        f"{len(slots)} timeslots each streaming a 1-hour A-law WAV from its own open file; "
        "channels one core keeps fed in real time (player stage, 20 ms blocks)",
        f"prompts held in memory instead: {memory:,.0f} channels per core",
        "no peer library plays files this way: no ratio"])


BENCHES = [play_stream]
