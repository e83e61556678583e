"""The tight loop at full load (see cti/capacity_loop.py): one 20 ms and one 1 ms tick of
16 E1 spans with 480 DTMF channels, 16 LAPD links and every voice slot switched; and the
capacity figures as ``cti bench --quick`` reports them."""

from __future__ import annotations

import pytest

from cti.capacity_loop import build, loop_16spans, loop_jitter, run


@pytest.mark.parametrize("block", [160, 8], ids=["20ms", "1ms"])
def test_loop_tick_16_spans(benchmark, block):
    system = build(block)
    run(system, 0.5)  # links up, senders running
    benchmark.group = "loop_tick"
    benchmark(system.kernel.tick)
    assert system.links_up == len(system.trunks)
    system.kernel.close()


@pytest.mark.parametrize("bench", [loop_16spans, loop_jitter], ids=["cpu", "jitter"])
def test_loop_capacity(benchmark, bench):
    results = benchmark.pedantic(bench, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update({r.name: round(r.value, 3) for r in results})
    assert all(r.value is not None and r.value >= 0 for r in results)
