"""The whole lab under load (see cti/capacity_lab.py): calls per CPU second on the
virtual clock and simultaneous calls one core holds on the real-time clock, as
``cti bench --quick`` reports them."""

from __future__ import annotations

import pytest

from cti.capacity_lab import lab_calls_per_s, lab_max_simultaneous


@pytest.mark.parametrize("bench", [lab_calls_per_s, lab_max_simultaneous],
                         ids=["calls_per_s", "max_simultaneous"])
def test_lab_capacity(benchmark, bench):
    r = benchmark.pedantic(bench, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update(r.as_dict())
    assert r.value > 0
