"""A kernel with two sim E1 spans cabled back to back (``pstn`` and ``cc``), for the
trunk and media tests; ``offered`` collects the calls the cc side is offered."""

from __future__ import annotations

from dataclasses import dataclass, field

from cti.calls import Call
from cti.kernel import Kernel
from cti.media import MediaEngine
from drivers.base import Signalling, SpanConfig
from drivers.sim import cabled_pair


@dataclass
class Rig:
    kernel: Kernel
    media: MediaEngine
    pstn: object
    cc: object
    offered: list[Call] = field(default_factory=list)


def back_to_back(cas: bool = False) -> Rig:
    kernel = Kernel(virtual=True)
    cfg = SpanConfig(signalling=Signalling.CAS if cas else Signalling.CCS)
    a, b = cabled_pair("pstn", "cc", config=cfg)
    kernel.add_ticker(a.system)
    kernel.add_span(a.spans[0])
    kernel.add_span(b.spans[0])
    return Rig(kernel, MediaEngine(kernel), a.spans[0], b.spans[0])
