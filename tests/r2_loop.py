"""Two R2 channels cabled back to back on a virtual clock (test helper, not a test module)."""

from __future__ import annotations

from typing import Any

from core.clock import VirtualClock
from r2.call import R2Channel

MF_DELAY = 0.04   # detector recognition time of an MF signal (on and off)
CAS_DELAY = 0.002


class Side:
    def __init__(self, name: str):
        self.name = name
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.on_offered = None   # callable(channel, fields) deciding accept/reject
        self.chan: R2Channel

    def names(self) -> list[str]:
        return [e for e, _ in self.events]

    def last(self, name: str) -> dict[str, Any]:
        return [f for e, f in self.events if e == name][-1]


def pair(variant: str = "itu", clock: VirtualClock | None = None, circuit: int = 1,
         a_opts: dict | None = None, b_opts: dict | None = None):
    clock = clock or VirtualClock()
    a, b = Side("a"), Side("b")

    def wire(me: Side, other: Side):
        def cas(abcd: int) -> None:
            clock.call_later(CAS_DELAY, lambda: other.chan.on_cas(abcd))

        def mf(sig: int, _sender: str) -> None:
            clock.call_later(MF_DELAY, lambda: other.chan.on_mf(sig))

        def ev(name: str, fields: dict) -> None:
            me.events.append((name, fields))
            if name == "offered" and me.on_offered:
                me.on_offered(me.chan, fields)
        return cas, mf, ev

    ca, ma, ea = wire(a, b)
    cb, mb, eb = wire(b, a)
    a.chan = R2Channel(clock, variant, circuit, cas_tx=ca, mf_tx=ma, on_event=ea, master=True,
                       **(a_opts or {}))
    b.chan = R2Channel(clock, variant, circuit, cas_tx=cb, mf_tx=mb, on_event=eb, master=False,
                       **(b_opts or {}))
    return clock, a, b
