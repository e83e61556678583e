"""Software E1 capacity (``cti bench``): share of one core the simulated spans take.

The load is the loop a lab or test run drives: 16 spans cabled in pairs (CRC-4
multiframe, CAS in TS16, one pair with a 1e-5 bit error ratio), every span written and
read each tick, framing and deframing both directions in one C call per tick.  Blocks
are 20 ms (160 frames), and 1 ms (8 frames) for the low-latency loop; real time needs a
tick to take less CPU than the line time it covers.  No
peer library frames E1 in software (DAHDI and spandsp leave it to the hardware), so
the figure stands alone.
"""

from __future__ import annotations

import numpy as np

from core.bench import BenchResult, cpu_seconds
from drivers.base import Signalling, SpanConfig
from drivers.sim import Cable, SimSpan, SimSystem

SPANS = 16
BLOCK = 160


def _lab(spans: int):
    sim = SimSystem()
    ss = [SimSpan(f"s{i}", SpanConfig(signalling=Signalling.CAS), sim) for i in range(spans)]
    cables = [Cable(ss[i], ss[i + 1]) for i in range(0, spans, 2)]
    cables[0].impair("both", ber=1e-5)
    rng = np.random.default_rng(1)
    blocks = [rng.integers(0, 256, (32, BLOCK), dtype=np.uint8) for _ in ss]
    sim.run(0.5, BLOCK)  # aligned before timing
    return sim, ss, blocks


def _percent(frames: int, quick: bool) -> tuple[float, int, int]:
    sim, spans, blocks = _lab(SPANS)
    blocks = [b[:, :frames].copy() for b in blocks]

    def tick() -> None:
        for s, b in zip(spans, blocks, strict=True):
            s.write_block(b)
        sim.tick(frames)
        for s in spans:
            s.read_block(frames)

    per_tick, runs = cpu_seconds(tick, 0.3 if quick else 2.0)
    aligned = sum(not s.status().alarms for s in spans)
    return 100.0 * per_tick / (frames / 8000.0), runs, aligned


def e1_sim_16spans(quick: bool) -> list[BenchResult]:
    out = []
    for name, frames in (("e1_sim_16spans", BLOCK), ("e1_sim_16spans_1ms", 8)):
        pct, runs, aligned = _percent(frames, quick)
        out.append(BenchResult(name, pct, "percent_of_core", notes=[
            f"{SPANS} spans, {frames}-frame ticks, {runs} ticks timed, {aligned}/{SPANS} spans "
            "alarm-free; no software E1 framer peer"]))
    return out


BENCHES = [e1_sim_16spans]
