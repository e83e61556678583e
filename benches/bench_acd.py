"""The ACD's arbiter (see cti/capacity_acd.py): CPU time of one dispatch decision for a
large busy centre with skills, as ``cti bench --quick`` reports it."""

from __future__ import annotations

from cti.capacity_acd import acd_match_ms


def test_acd_match(benchmark):
    r = benchmark.pedantic(acd_match_ms, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update(r.as_dict())
    assert r.value > 0
