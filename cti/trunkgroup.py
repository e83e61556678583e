"""Trunk groups: outgoing calls hunt a free bearer channel across several trunks by a
policy, skip trunks out of service and overflow to another group when all are busy.

A group only *prefers* a channel (``call.data["channel"]``): each stack still seizes it by
its recommendation's rules (Q.931 5.1.2 preferred B-channel, Q.764 2.9.1.4 circuit
selection, R2 circuit seizure) and answers "seized" or refuses it, in which case the
group goes on to the next candidate.  Picking and seizing run in one synchronous step on
the kernel's loop, so no two calls can be given one channel.

Hunting policies (a table, :data:`POLICIES`):

``first``        the lowest free channel of the first trunk (trunks in group order);
``last``         the highest free channel of the last trunk first - the usual choice
                 against a far end hunting ``first``, to keep the two ends apart and make
                 dual seizure (glare) rare;
``round_robin``  the next free channel after the one last seized, wrapping around;
``least_used``   the free channel seized fewest times so far (ties: lowest first).

When nothing is free in a group the call overflows to its ``overflow`` group (a chain,
each group tried once); when no group is left the call fails with Q.850 cause 34 (no
circuit/channel available).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.q850 import NO_CHANNEL_AVAILABLE
from cti.calls import Call, DialError
from cti.trunks.base import TrunkBase

Candidate = tuple[int, int]  # (index of the trunk in the group, bearer timeslot)


class NoChannel(DialError):
    """No free channel in a group or anywhere along its overflow chain (Q.850 cause 34)."""

    def __init__(self, message: str):
        super().__init__(message, NO_CHANNEL_AVAILABLE)


def _first(group: TrunkGroup, free: list[Candidate]) -> list[Candidate]:
    return free


def _last(group: TrunkGroup, free: list[Candidate]) -> list[Candidate]:
    return free[::-1]


def _round_robin(group: TrunkGroup, free: list[Candidate]) -> list[Candidate]:
    after = [c for c in free if group.last is not None and c > group.last]
    return after + [c for c in free if c not in after]


def _least_used(group: TrunkGroup, free: list[Candidate]) -> list[Candidate]:
    return sorted(free, key=lambda c: group.uses.get(c, 0))  # stable: ties stay ascending


POLICIES: dict[str, Callable[[TrunkGroup, list[Candidate]], list[Candidate]]] = {
    "first": _first, "last": _last, "round_robin": _round_robin, "least_used": _least_used}


@dataclass
class TrunkGroup:
    name: str
    trunks: Sequence[TrunkBase]
    hunt: str = "first"
    overflow: TrunkGroup | None = None
    uses: dict[Candidate, int] = field(default_factory=dict)
    last: Candidate | None = None
    counters: dict[str, int] = field(default_factory=lambda: {
        "attempts": 0, "seized": 0, "overflowed": 0, "failed": 0})

    def __post_init__(self) -> None:
        if self.hunt not in POLICIES:
            raise ValueError(f"trunk group {self.name}: unknown hunt policy {self.hunt!r} "
                             f"(known: {', '.join(POLICIES)})")
        if not self.trunks:
            raise ValueError(f"trunk group {self.name}: no trunks")

    def candidates(self) -> list[Candidate]:
        """Free channels of the in-service trunks, in this group's hunting order."""
        free = [(i, ch) for i, t in enumerate(self.trunks) if t.in_service
                for ch in t.free_channels()]
        return POLICIES[self.hunt](self, free)

    def _seize_here(self, call: Call) -> bool:
        for i, ch in self.candidates():
            trunk = self.trunks[i]
            call.trunk = trunk
            call.data["channel"] = ch
            try:
                call.dial()
            except DialError:  # busy/glare: the stack refused the channel, try the next
                continue
            self.uses[(i, ch)] = self.uses.get((i, ch), 0) + 1
            self.last = (i, ch)
            self.counters["seized"] += 1
            call.data["group"] = self.name
            return True
        return False

    def dial(self, call: Call) -> TrunkGroup:
        """Place ``call`` (outgoing, state null) on a channel of this group or of its
        overflow chain; returns the group that carried it, or raises :class:`NoChannel`."""
        self.counters["attempts"] += 1
        group: TrunkGroup | None = self
        seen: set[str] = set()
        while group is not None:
            seen.add(group.name)
            if group is not self:
                group.counters["attempts"] += 1
            if group._seize_here(call):
                return group
            nxt = group.overflow
            if nxt is not None and nxt.name in seen:
                nxt = None  # a loop in the chain ends it
            group.counters["overflowed" if nxt is not None else "failed"] += 1
            group = nxt
        call.data.pop("channel", None)
        raise NoChannel(f"trunk group {self.name}: no channel available "
                        f"(tried {', '.join(sorted(seen))})")

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "hunt": self.hunt, "trunks": [t.name for t in self.trunks],
                "overflow": None if self.overflow is None else self.overflow.name,
                "in_service": [t.name for t in self.trunks if t.in_service],
                "free": sum(len(t.free_channels()) for t in self.trunks if t.in_service),
                "counters": dict(self.counters)}


def build_groups(trunks: dict[str, TrunkBase], groups: Sequence[dict[str, Any]],
                 trunk_overflow: dict[str, str | None]) -> dict[str, TrunkGroup]:
    """Groups by name: one per trunk (``trunk:NAME`` in the dial plan, overflowing as the
    trunk's ``overflow`` says) and the configured ``[[trunk_group]]`` ones.  Names must be
    resolved beforehand (config cross-checks); an overflow name is a group's or a trunk's."""
    out = {name: TrunkGroup(name, [t]) for name, t in trunks.items()}
    for g in groups:
        out[g["name"]] = TrunkGroup(g["name"], [trunks[n] for n in g["trunks"]], g["hunt"])
    for g in groups:
        if g["overflow"]:
            out[g["name"]].overflow = out[g["overflow"]]
    for name, over in trunk_overflow.items():
        if over:
            out[name].overflow = out[over]
    return out
