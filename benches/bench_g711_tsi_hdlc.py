"""G.711, time-slot interchange and HDLC: the capacity workloads of timeslot/capacity_g711,
capacity_tsi and capacity_hdlc under pytest-benchmark, ours and the spandsp peer on the
same buffers in the same run (group by ``benchmark.group``)."""

from __future__ import annotations

import pytest

from timeslot import capacity_g711, capacity_hdlc, capacity_tsi

G711 = capacity_g711.workloads()
HDLC_OURS, HDLC_PEER, _ = capacity_hdlc.workloads()


@pytest.mark.parametrize("name", sorted(G711))
@pytest.mark.parametrize("side", ["ours", "spandsp"])
def test_g711(benchmark, name, side):
    ours, peer = G711[name]
    fn = ours if side == "ours" else peer
    if fn is None:
        pytest.skip("spandsp shim not available (needs gcc and libspandsp)")
    benchmark.group = name
    benchmark.extra_info["samples"] = capacity_g711.SAMPLES
    benchmark(fn)


def test_tsi_4096(benchmark):
    benchmark.group = "tsi_4096"
    benchmark.extra_info["slots"] = capacity_tsi.SLOTS
    benchmark.extra_info["frames"] = capacity_tsi.FRAMES
    benchmark(capacity_tsi.workload())


@pytest.mark.parametrize("side", ["ours", "spandsp"])
def test_hdlc_rx(benchmark, side):
    fn = HDLC_OURS if side == "ours" else HDLC_PEER
    if fn is None:
        pytest.skip("spandsp shim not available (needs gcc and libspandsp)")
    benchmark.group = "hdlc_rx"
    benchmark.extra_info["links"] = capacity_hdlc.LINKS
    benchmark.extra_info["line_seconds"] = 1.0
    benchmark(fn)


def test_conference_64x64(benchmark):
    benchmark.group = "conf_64x64"
    benchmark(capacity_tsi.conference_workload())
