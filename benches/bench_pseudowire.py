"""Pseudowire and BERT capacity (see drivers/capacity_pseudowire.py, timeslot/capacity_prbs.py)."""

from __future__ import annotations

from drivers.capacity_pseudowire import pseudowire_spans
from timeslot.capacity_prbs import bert_channels


def test_pseudowire_spans(benchmark):
    results = benchmark.pedantic(pseudowire_spans, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update({r.name: round(r.value, 1) for r in results})
    assert all(r.unit == "spans/core" and r.value > 0 for r in results)


def test_bert_channels(benchmark):
    r = benchmark.pedantic(bert_channels, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update({r.name: round(r.value, 1), "peer": r.peer_value})
    assert r.value > 0
