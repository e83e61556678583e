"""The dial plan: incoming DNIS/ANI patterns -> an IVR flow, a queue, a station, or an
outgoing trunk group (``group:NAME``) or trunk (``trunk:NAME``, a one-trunk group) that
hunts a channel and overflows as :mod:`cti.trunkgroup` describes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = ("ivr", "queue", "station", "group", "trunk")


@dataclass(frozen=True)
class Route:
    dnis: str
    ani: str
    kind: str  # one of KINDS
    target: str

    @classmethod
    def parse(cls, dnis: str, ani: str, to: str) -> Route:
        kind, _, target = to.partition(":")
        if kind not in KINDS or not target:
            raise ValueError(f"route target {to!r}: must be ivr:FLOW, queue:NAME, station:N, "
                             "group:NAME or trunk:NAME")
        re.compile(dnis)
        re.compile(ani)
        return cls(dnis, ani, kind, target)


class DialPlan:
    """First matching route wins (routes are tried in config order)."""

    def __init__(self, routes: Iterable[Route] = ()):
        self.routes = [(re.compile(r.dnis), re.compile(r.ani), r) for r in routes]

    def match(self, dnis: str, ani: str) -> Route | None:
        for d, a, r in self.routes:
            if d.search(dnis or "") and a.search(ani or ""):
                return r
        return None
