"""DTMF and MFC-R2 detection capacity (see timeslot/capacity_dtmf.py, capacity_r2.py): ours
against spandsp's dtmf_rx / r2_mf_rx on the same traffic in the same run; and one 20 ms
tick of 1,200 channels for each receiver bank."""

from __future__ import annotations

import numpy as np
import pytest

from timeslot.capacity_dtmf import dtmf_detect, traffic
from timeslot.capacity_r2 import PAIRS, r2_detect
from timeslot.dtmf import DtmfDetector
from timeslot.r2mf import R2MfDetector


@pytest.mark.parametrize("bench", [dtmf_detect, r2_detect], ids=["dtmf", "r2"])
def test_capacity_vs_spandsp(benchmark, bench):
    r = benchmark.pedantic(bench, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update(r.as_dict())
    assert r.unit == "channels/core" and r.value > 0


@pytest.mark.parametrize("kind", ["dtmf", "r2"])
def test_tick_1200_channels(benchmark, kind):
    if kind == "dtmf":
        x, det = traffic(1200, 1.0), DtmfDetector(1200)
    else:
        x, det = traffic(1200, 1.0, PAIRS, on=800), R2MfDetector(1200, "backward")
    blocks = [np.ascontiguousarray(x[:, i:i + 160]) for i in range(0, x.shape[1], 160)]
    it = iter(range(10**9))
    benchmark.group = "tick_1200"

    def tick():
        det.process(blocks[next(it) % len(blocks)])

    benchmark(tick)
