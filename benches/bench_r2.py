"""MFC-R2 capacity: the compelled cycle for 480 channels at once (see r2/capacity_r2.py)."""

from __future__ import annotations

from r2.capacity_r2 import r2_compelled_480


def test_r2_compelled_480(benchmark):
    results = benchmark.pedantic(r2_compelled_480, args=(True,), rounds=1, iterations=1)
    by_name = {r.name: r for r in results}
    benchmark.extra_info.update({r.name: round(r.value, 2) for r in results})
    benchmark.extra_info["notes"] = [n for r in results for n in r.notes]
    assert by_name["r2_compelled_480"].unit == "percent_of_core"
    assert by_name["r2_cycle_ms"].value > 0
