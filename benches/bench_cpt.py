"""Call-progress detection capacity (see timeslot/capacity_cpt.py): ours against spandsp's
super_tone_rx on the same ITU-plan traffic; and one 20 ms tick of 960 channels."""

from __future__ import annotations

import numpy as np

from timeslot.capacity_cpt import cpt_detect, traffic
from timeslot.cpt import CallProgressDetector


def test_cpt_capacity_vs_spandsp(benchmark):
    r = benchmark.pedantic(cpt_detect, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update(r.as_dict())
    assert r.unit == "channels/core" and r.value > 0


def test_cpt_tick_960_channels(benchmark):
    x = traffic(960, 1.0)
    blocks = [np.ascontiguousarray(x[:, i:i + 160]) for i in range(0, x.shape[1], 160)]
    d = CallProgressDetector(960, "itu")
    it = iter(range(10**9))

    def tick():
        d.process(blocks[next(it) % len(blocks)])

    benchmark(tick)
