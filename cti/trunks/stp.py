"""A signalling transfer point in the kernel (Q.704 2.3, 13): an :class:`ss7.stack.Ss7Node`
with ``stp=True`` whose link sets run MTP2 in TS16 of spans (one link per span, load shared
by SLS, with changeover) or on one hdlc-socket each, and whose route sets say through which
adjacent points each destination is reached, in priority order.  It carries no circuits:
it transfers the messages of the points around it, broadcasts their route status (TFP, TFA,
TFR with the ``tfr`` national option after T11), answers route set tests, and tells the
originating points of congestion (TFC, RCT).  ``cti links`` shows it, ``cti trace`` traces
it as it does a trunk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.q850 import NO_CHANNEL_AVAILABLE
from cti.calls import Call
from cti.trunkgroup import NoChannel
from cti.trunks.ss7 import SignallingNode, layer_timers, span_links
from drivers.base import Span
from ss7.stack import Ss7Node


@dataclass
class LinksetSpec:
    """The links toward one adjacent point: in TS16 of each of ``spans``, or on
    ``transport`` (one link)."""

    adjacent: int
    spans: Sequence[Span] = field(default_factory=tuple)
    transport: Any = None


class TransferPoint(SignallingNode):
    """Signalling transfer point ``pc`` with ``linksets`` and ``routes`` (destination point
    code -> adjacent points in priority order; each adjacent point is a route to itself)."""

    kind = "stp"

    def __init__(self, kernel, name: str, pc: int, linksets: Sequence[LinksetSpec], *,
                 routes: Mapping[int, Sequence[int]] | None = None, variant: str = "itu",
                 tfr: bool = False, rct: bool = False, timers: dict[str, float] | None = None):
        super().__init__(kernel, name, None)
        layers = layer_timers(timers)
        for user in ("isup", "tup"):
            if layers.pop(user):
                raise ValueError(f"{user}.* timers on a transfer point (it has mtp2, mtp3)")
        self.node = Ss7Node(kernel.loop, pc, variant=variant, stp=True,
                            mtp2_timers=layers["mtp2"] or None, mtp3_timers=layers["mtp3"] or None)
        self.node.mtp3.tfr, self.node.mtp3.rct = tfr, rct
        adjacent = [ls.adjacent for ls in linksets]
        if not linksets or len(set(adjacent)) != len(adjacent) or pc in adjacent:
            raise ValueError("one link set per adjacent point, none toward the STP itself")
        for ls in linksets:
            if (ls.transport is None) == (not ls.spans):
                raise ValueError(f"link set toward {ls.adjacent}: spans or a transport")
            self._attach(ls.adjacent, [ls.transport] if ls.transport is not None
                         else span_links(ls.spans))
        for dpc, via in (routes or {}).items():
            unknown = [v for v in via if v not in adjacent]
            if not via or unknown or dpc == pc:
                raise ValueError(f"route to {dpc}: through adjacent points of the link sets "
                                 f"({', '.join(map(str, adjacent))}), not {unknown or 'none'}")
            self.node.mtp3.add_route(dpc, list(via))
        self.node.start()

    @property
    def link_up(self) -> bool:
        """Some adjacent point is accessible (the STP carries traffic)."""
        return bool(self.node.mtp3.accessible)

    @property
    def in_service(self) -> bool:
        return False  # no circuits: never hunted for a call

    def make_call(self, call: Call) -> None:
        raise NoChannel(f"{self.name} is a signalling transfer point: it has no circuits",
                        NO_CHANNEL_AVAILABLE)

    def status(self) -> dict[str, Any]:
        d = super().status()
        mtp3 = self.node.mtp3
        d["pc"] = mtp3.pc
        d["routes"] = {dpc: list(via) for dpc, via in sorted(mtp3.routes.items())}
        d["counters"] = dict(mtp3.counters)
        d["mtp"] = self.node.status()
        return d
