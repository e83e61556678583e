"""Time-slot interchange cost (``cti bench``): percent of one core to switch a full
4,096-slot fabric in real time (160-frame blocks every 20 ms), every slot routed
(pairs connected full duplex); and the same fabric as 64 conferences of 64 parties.
No peer library switches timeslots or mixes conferences in software."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.bench import BenchResult, cpu_seconds
from timeslot.fabric import Fabric

SLOTS = 4096
FRAMES = 160
BLOCK_S = FRAMES / 8000


def workload(slots: int = SLOTS) -> Any:
    f = Fabric(slots)
    for s in range(0, slots - 1, 2):
        f.connect(s, s + 1)
    rx = np.random.default_rng(1).integers(0, 256, (slots, FRAMES), dtype=np.uint8)
    tx = np.empty_like(rx)
    return lambda: f.process(rx, tx)


def bench_tsi(quick: bool) -> BenchResult:
    cpu, _ = cpu_seconds(workload(), 0.1 if quick else 0.5)
    return BenchResult("tsi_4096", 100.0 * cpu / BLOCK_S, "percent_of_core",
                       notes=[f"{SLOTS} slots x {FRAMES} frames per process() call, "
                              "all routed"])


def conference_workload(bridges: int = 64, parties: int = 64) -> Any:
    f = Fabric(bridges * parties)
    for b in range(bridges):
        conf = f.conference_create()
        for s in range(b * parties, (b + 1) * parties):
            f.conference_add(conf, s)
    rx = np.random.default_rng(2).integers(0, 256, (bridges * parties, FRAMES), dtype=np.uint8)
    tx = np.empty_like(rx)
    return lambda: f.process(rx, tx)


def bench_conference(quick: bool) -> BenchResult:
    cpu, _ = cpu_seconds(conference_workload(), 0.1 if quick else 0.5)
    return BenchResult("conf_64x64", 100.0 * cpu / BLOCK_S, "percent_of_core",
                       notes=["64 bridges x 64 parties (4,096 slots), 160 frames per call"])


BENCHES = [bench_tsi, bench_conference]
