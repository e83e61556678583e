"""The network side of a point-to-multipoint basic access (BRI S/T bus, several terminals).

Q.921 5.3: the network assigns TEIs to the terminals that ask (:class:`isdn.tei.TeiNetwork`)
and keeps one data link per assigned TEI on SAPI 0, which the terminal establishes when it
needs it; the broadcast data link (group TEI 127) carries UI frames to every terminal.
Q.931 5.2.1 / 5.2.5: a call placed on this stack is offered with SETUP in a UI frame and
the first terminal to CONNECT gets it (:mod:`isdn.offer`); calls a terminal places run
on its own data link.

RESTART (Q.931 5.5, optional on a multipoint access): its acknowledgement needs a
point-to-point data link, and 5.5 note 1 has the layer 3 resources of every SAPI 0 data
link initialised, so the network sends RESTART on each terminal's established data link
(:class:`LinkRestarts`); the channels return to idle when every one of them has answered
RESTART ACKNOWLEDGE (a terminal whose TEI is removed no longer owes one); T316 sends it
again to those that have not, N316 times, and then the channels go to maintenance.  A
RESTART from a terminal clears that terminal's calls only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.clock import Scheduler
from core.timers import TimerTable
from isdn import lapd_codec, q931_codec
from isdn.lapd import DataLink
from isdn.q931 import Event
from isdn.q931_codec import Message
from isdn.stack import MemoryWire, Stack, Transport
from isdn.tei import TeiNetwork


class MultipointNetwork(Stack):
    """Network side of one point-to-multipoint D-channel; ``link`` is the broadcast data
    link, ``terminals`` the data link of each assigned TEI."""

    def __init__(self, scheduler: Scheduler, transport: Transport | None = None, *,
                 variant: str = "etsi_bri",
                 lapd_timers: dict[str, float] | TimerTable | None = None,
                 q931_timers: dict[str, float] | TimerTable | None = None,
                 on_event: Callable[[Event], None] | None = None, auto_release: bool = True):
        super().__init__(scheduler, "network", transport, variant=variant,
                         lapd_timers=lapd_timers, q931_timers=q931_timers, on_event=on_event,
                         tei=lapd_codec.TEI_GROUP, auto_release=auto_release, cr_len=1)
        self.cc.multipoint = True
        self.terminals: dict[int, DataLink] = {}
        self.tei_network = TeiNetwork(scheduler, self._send_frame, self._assigned,
                                      self._removed, self.link.table)
        self.cc.mdl_error_hook = self.tei_network.mdl_error
        self.cc.restart_links = LinkRestarts(self)

    def start(self) -> None:
        """Nothing to bring up: terminals ask for TEIs and establish their own links."""

    def _assigned(self, tei: int) -> None:
        self.terminals[tei] = DataLink(self.scheduler, self._send_frame, self.cc, network=True,
                                       sapi=lapd_codec.SAPI_CALL_CONTROL, tei=tei,
                                       timers=self.link.table)

    def _removed(self, tei: int) -> None:
        link = self.terminals.pop(tei, None)
        if link is not None:
            link.mdl_remove()
            self.cc.restart_links.link_gone(link)

    def data_links(self) -> list[DataLink]:
        return list(self.terminals.values())

    def _link_of_invalid(self, octets: bytes) -> DataLink | None:
        if len(octets) < 2 or octets[0] >> 2 != lapd_codec.SAPI_CALL_CONTROL:
            return None
        return self.terminals.get(octets[1] >> 1)

    def _management(self, frame: Any) -> None:
        self.tei_network.receive(frame)

    def _deliver(self, frame: Any) -> None:
        link = self.terminals.get(frame.tei)
        if frame.sapi == lapd_codec.SAPI_CALL_CONTROL and link is not None:
            link.receive(frame)  # frames for TEIs not assigned are ignored (5.3)

    @property
    def link_up(self) -> bool:
        return any(link.established for link in self.terminals.values())

    def status(self) -> dict[str, Any]:
        out = super().status()
        out["terminals"] = {tei: link.status() for tei, link in self.terminals.items()}
        return out


class LinkRestarts:
    """RESTART on each terminal's data link, and whose RESTART ACKNOWLEDGE is awaited."""

    def __init__(self, net: MultipointNetwork):
        self.net = net
        self.pending: dict[tuple[int, ...] | None, set[DataLink]] = {}

    def send(self, key: tuple[int, ...] | None, msg: Message) -> bool:
        """Send RESTART to the terminals that still owe an acknowledgement (at first, every
        terminal whose data link is established); False when there is none."""
        if key not in self.pending:
            self.pending[key] = {link for link in self.net.terminals.values()
                                 if link.established}
        octets = q931_codec.encode(msg)
        for link in self.pending[key]:
            link.dl_data(octets)
        return bool(self.pending[key])

    def acknowledged(self, key: tuple[int, ...] | None, link: Any) -> bool:
        """A terminal's RESTART ACKNOWLEDGE: True when it was the last one awaited."""
        waiting = self.pending.get(key)
        if waiting is None or link not in waiting:
            return False
        waiting.discard(link)
        if waiting:
            return False
        del self.pending[key]
        return True

    def forget(self, key: tuple[int, ...] | None) -> None:
        self.pending.pop(key, None)

    def link_gone(self, link: DataLink) -> None:
        """A removed TEI owes nothing; a restart only it still owed is complete."""
        cc = self.net.cc
        for key in [k for k, links in self.pending.items() if link in links]:
            self.pending[key].discard(link)
            if not self.pending[key]:
                del self.pending[key]
                cc.restart_done(key, None)
        cc.flush()


class _Bus:
    """The network's side of an in-memory S/T bus: each frame reaches every terminal."""

    def __init__(self, wires: list[MemoryWire]):
        self.wires = wires

    def send(self, frame: bytes) -> None:
        for wire in self.wires:
            wire.send(frame)


def memory_bus(scheduler: Scheduler, terminals: int = 2, delay: float = 0.001,
               start: bool = True, **kw: Any) -> tuple[MultipointNetwork, list[Stack]]:
    """A multipoint network side and ``terminals`` user-side stacks (automatic TEI) on
    one in-memory bus; ``on_event_network`` / ``on_event_user`` (called with the
    terminal's index and the event) receive the events.  ``start``: start every stack."""
    to_users = [MemoryWire(scheduler, delay) for _ in range(terminals)]
    on_net = kw.pop("on_event_network", None)
    on_user = kw.pop("on_event_user", None)
    net = MultipointNetwork(scheduler, _Bus(to_users), on_event=on_net, **kw)
    users = []
    for i, wire in enumerate(to_users):
        up = MemoryWire(scheduler, delay)
        user = Stack(scheduler, "user", up, tei=None, cr_len=1, variant=net.cc.variant.name,
                     on_event=(lambda ev, i=i: on_user(i, ev)) if on_user else None,
                     **{k: v for k, v in kw.items() if k not in ("variant",)})
        up.peer, wire.peer = net, user
        users.append(user)
    if start:
        net.start()
        for user in users:
            user.start()
    return net, users
