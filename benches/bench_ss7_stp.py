"""pytest-benchmark: bursts of 30 MSUs through a signalling transfer point and, for the
difference, on a direct link (ss7/capacity_stp.py gives the same figures to ``cti bench``)."""

from __future__ import annotations

from ss7.capacity_stp import ANM, B, path_nodes, stp_transfer
from ss7.mtp3_codec import SI_ISUP


def _burst(through_stp: bool):
    clock, a, _ = path_nodes(through_stp)

    def burst() -> None:
        for sls in range(30):
            a.mtp3.transfer(SI_ISUP, B, sls & 0x0F, ANM)
        clock.advance(0.01)
    return burst


def test_bench_burst_through_stp(benchmark):
    benchmark(_burst(True))


def test_bench_burst_direct(benchmark):
    benchmark(_burst(False))


def test_bench_stp_capacity_entry(benchmark):
    """The ``cti bench`` entry (through the STP and direct, in the same run), once."""
    r = benchmark.pedantic(stp_transfer, args=(True,), rounds=1, iterations=1)
    assert r.unit == "us_per_msu" and r.value > 0 and r.peer_value is None
    benchmark.extra_info.update(r.as_dict())
