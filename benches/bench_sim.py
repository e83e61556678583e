"""Software E1 spans: one tick of 16 spans (see drivers/capacity_sim.py)."""

from __future__ import annotations

from drivers.capacity_sim import BLOCK, SPANS, _lab, e1_sim_16spans


def test_e1_sim_tick_16_spans(benchmark):
    sim, spans, blocks = _lab(SPANS)

    def tick() -> None:
        for s, b in zip(spans, blocks, strict=True):
            s.write_block(b)
        sim.tick(BLOCK)

    benchmark(tick)
    assert all(not s.status().alarms for s in spans)


def test_e1_sim_capacity(benchmark):
    results = benchmark.pedantic(e1_sim_16spans, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update({r.name: round(r.value, 2) for r in results})
    assert all(r.unit == "percent_of_core" and r.value > 0 for r in results)
