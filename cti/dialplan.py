"""The dial plan: incoming DNIS/ANI patterns -> an IVR flow, a queue, a station or an
outgoing trunk group; and trunk groups that hunt a free channel with overflow."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Route:
    dnis: str
    ani: str
    kind: str  # "ivr", "queue", "station", "trunk"
    target: str

    @classmethod
    def parse(cls, dnis: str, ani: str, to: str) -> Route:
        kind, _, target = to.partition(":")
        if kind not in ("ivr", "queue", "station", "trunk") or not target:
            raise ValueError(f"route target {to!r}: must be ivr:FLOW, queue:NAME, station:N or "
                             "trunk:NAME")
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


@dataclass
class TrunkGroup:
    """Channels (identifiers) of one trunk group, hunted by a policy, with overflow.

    ``first``: the lowest free channel; ``round-robin``: the next free after the last
    seized; ``least-used``: the free channel seized fewest times.
    """

    name: str
    channels: list
    hunt: str = "first"
    overflow: TrunkGroup | None = None
    busy: set = field(default_factory=set)
    uses: dict = field(default_factory=dict)
    _last: int = -1

    def __post_init__(self) -> None:
        if self.hunt not in ("first", "round-robin", "least-used"):
            raise ValueError(f"trunk group {self.name}: unknown hunt policy {self.hunt!r}")

    def free(self) -> list:
        return [c for c in self.channels if c not in self.busy]

    def seize(self) -> tuple[TrunkGroup, object] | None:
        """Atomically seize a channel here or in the overflow chain; None when all are busy."""
        group: TrunkGroup | None = self
        seen = set()
        while group is not None and group.name not in seen:
            seen.add(group.name)
            ch = group._pick()
            if ch is not None:
                group.busy.add(ch)
                group.uses[ch] = group.uses.get(ch, 0) + 1
                return group, ch
            group = group.overflow
        return None

    def _pick(self):
        free = self.free()
        if not free:
            return None
        if self.hunt == "first":
            return free[0]
        if self.hunt == "least-used":
            return min(free, key=lambda c: (self.uses.get(c, 0), self.channels.index(c)))
        n = len(self.channels)
        for step in range(1, n + 1):
            i = (self._last + step) % n
            if self.channels[i] not in self.busy:
                self._last = i
                return self.channels[i]
        return None

    def release(self, channel) -> None:
        self.busy.discard(channel)
