"""Capacity benchmark results, shared by ``cti bench`` and ``benches/``.

Each package that has capacity figures has modules named ``capacity*.py`` (e.g.
``timeslot/capacity_dtmf.py``) exposing ``BENCHES``: a list of
functions ``f(quick: bool) -> BenchResult``.  A peer library that is missing gives
``peer_value=None`` and a note saying so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class BenchResult:
    name: str
    value: float
    unit: str
    peer: str | None = None
    peer_value: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.peer_value in (None, 0) or self.value is None:
            return None
        # for costs (percent_of_core, us_per_call) lower is better: ratio = peer / ours
        if self.unit in ("percent_of_core", "us_per_call", "ms"):
            return self.peer_value / self.value if self.value else None
        return self.value / self.peer_value

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        return d


def cpu_seconds(fn: Callable[[], Any], min_time: float = 0.2) -> tuple[float, int]:
    """Run ``fn`` repeatedly for at least ``min_time`` of process CPU; (cpu per run, runs)."""
    runs = 0
    t0 = time.process_time()
    while True:
        fn()
        runs += 1
        dt = time.process_time() - t0
        if dt >= min_time:
            return dt / runs, runs
