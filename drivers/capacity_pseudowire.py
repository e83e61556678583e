"""Pseudowire capacity (``cti bench``): E1 spans carried over UDP per core, real time.

Pairs of :class:`drivers.pseudowire.PseudowireSpan` on 127.0.0.1 exchange 160-frame
blocks both ways (CESoPSN with CAS on 30 timeslots, or SAToP; 1 ms packets, i.e. 1000
packets/s per direction per span).  The figure is span ends, each sending and receiving
(packetise, send, receive, jitter buffer, playout), sustained per core.  No peer library
does this in-process, so there is no ratio.
"""

from __future__ import annotations

import numpy as np

from core.bench import BenchResult, cpu_seconds
from drivers.pseudowire import PseudowireConfig, PseudowireSpan

RATE = 8000
BLOCK = 160


def spans_per_core(mode: str, pairs: int, seconds: float) -> float:
    spans = []
    for _ in range(pairs):
        a = PseudowireSpan("a", PseudowireConfig(mode=mode))
        b = PseudowireSpan("b", PseudowireConfig(mode=mode))
        a.open()
        b.open()
        a.connect(b.local_address)
        b.connect(a.local_address)
        spans += [a, b]
    block = np.random.default_rng(1).integers(0, 256, (32, BLOCK), dtype=np.uint8)
    ticks = int(seconds * RATE / BLOCK)

    def run() -> None:
        for _ in range(ticks):
            for s in spans:
                s.write_block(block)
            for s in spans:
                s.read_block(BLOCK)

    try:
        cpu, _ = cpu_seconds(run)
    finally:
        for s in spans:
            s.close()
    return len(spans) * seconds / cpu


def pseudowire_spans(quick: bool) -> list[BenchResult]:
    seconds = 0.5 if quick else 2.0
    return [BenchResult(f"pw_{mode.replace('-', '_')}_spans", spans_per_core(mode, 4, seconds),
                        "spans/core", notes=[f"{mode}, 1 ms packets, 8 spans (4 pairs) on "
                                             "127.0.0.1, send + jitter buffer + playout"])
            for mode in ("cesopsn-cas", "satop")]


BENCHES = [pseudowire_spans]
