"""Wiring MTP2 + MTP3 + ISUP/TUP over frame transports on a :class:`core.clock.Scheduler`.

Transports deliver whole signal units.  :class:`MemoryWire` connects two links in one process;
:class:`HdlcSocketPort` adapts :class:`core.hdlcsock.HdlcSocket` (the DAHDI-style hdlc-socket that
libss7 speaks): the peer writes each FISU/LSSU once per change in that mode, and this adapter also
drops consecutive identical FISUs/LSSUs (and a FISU that only repeats the sequence octets of
the MSU before it), so the MTP2 Python sees only status changes and MSUs, as it does behind
``timeslot.hdlc.HdlcBank(filter_repeats=True)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from core.clock import Scheduler
from core.hdlcsock import HdlcSocket
from ss7.isup import Isup, IsupListener
from ss7.mtp3 import Linkset, Mtp3, SignallingLink
from ss7.timers import VARIANT_TIMERS
from ss7.trace import LinkTracer
from ss7.tup import Tup, TupListener

Receiver = Callable[[bytes], Any]


def line_after(su: bytes) -> bytes:
    """What the line carries after ``su`` until the next unit: a FISU or LSSU is repeated
    itself; after an MSU come FISUs with its sequence octets (Q.703 5.2.1, 7.2)."""
    return su if (su[2] & 0x3F) < 3 else su[:2] + b"\x00"


class RepeatFilter:
    """Passes only units that say something new: a FISU/LSSU identical to what the line has
    been repeating (the previous status unit, or after an MSU the FISU with its sequence
    octets) is dropped and counted."""

    def __init__(self, deliver: Receiver):
        self.deliver = deliver
        self.last: bytes | None = None  # what the line is repeating now
        self.dropped = 0

    def __call__(self, su: bytes) -> None:
        if su == self.last:
            self.dropped += 1
            return
        self.last = line_after(su) if len(su) >= 3 else None
        self.deliver(su)


class MemoryWire:
    """Two ends of an in-memory link.  Units sent are delivered ``delay`` seconds later by one
    scheduled drain per burst (so stacks never recurse into each other and a burst costs one
    timer); ``cut()`` / ``splice()`` simulate a failed and repaired link."""

    def __init__(self, scheduler: Scheduler, delay: float = 0.0):
        self.scheduler = scheduler
        self.delay = delay
        self.receivers: list[Receiver | None] = [None, None]
        self.up = True
        self.last_sent: list[bytes | None] = [None, None]  # its line_after() is repeated
        self._queue: deque[tuple[int, bytes]] = deque()
        self._scheduled = False

    def end(self, side: int) -> Callable[[bytes], None]:
        def send(su: bytes) -> None:
            self.last_sent[side] = su
            if self.up:
                self._queue.append((1 - side, su))
                if not self._scheduled:
                    self._scheduled = True
                    self.scheduler.call_later(self.delay, self._drain)
        return send

    def attach(self, side: int, receiver: Receiver) -> None:
        self.receivers[side] = receiver

    def _drain(self) -> None:
        """Deliver what was queued when this drain was scheduled; later units wait their turn."""
        self._scheduled = False
        batch, self._queue = self._queue, deque()
        for side, su in batch:
            r = self.receivers[side]
            if r is not None and self.up:
                r(su)

    def cut(self) -> None:
        self.up = False
        self._queue.clear()

    def splice(self) -> None:
        """Repair: each side's repeated status unit reaches the other again."""
        self.up = True
        for side, su in enumerate(self.last_sent):
            if su is not None:
                self._queue.append((1 - side, line_after(su)))
        if self._queue and not self._scheduled:
            self._scheduled = True
            self.scheduler.call_later(self.delay, self._drain)


class HdlcSocketPort:
    """An MTP2 link over an hdlc-socket; call :meth:`poll` when the socket is readable."""

    def __init__(self, sock: HdlcSocket):
        self.sock = sock
        self.receiver: Receiver | None = None

    def send(self, su: bytes) -> None:
        self.sock.send(su)

    def attach(self, receiver: Receiver) -> None:
        self.receiver = RepeatFilter(receiver)

    def poll(self) -> int:
        frames = self.sock.recv_all()
        if self.receiver is not None:
            for f in frames:
                self.receiver(f)
        return len(frames)


class HdlcBankPort:
    """An MTP2 link on one link of a :class:`timeslot.hdlc.HdlcBank` (a timeslot of a span).

    The bank filters repeated frames in C (``filter_repeats``), so the MTP2 sees changes and
    MSUs.  Call :meth:`deliver` with the bank's received frames for this link, and :meth:`tick`
    once per block (after ``rx``, before ``tx``): it turns the bank's error counters into DAEDR
    indications (errored frames -> SUERM/AERM, octets received while hunting -> octet counting,
    Q.703 10.2) and keeps the line repeating (:func:`line_after` the last unit sent, Q.703 5.2,
    7.2) by topping the transmit queue up with about one block's worth of copies.
    """

    ERRORS = ("rx_bad_fcs", "rx_aborts", "rx_too_short", "rx_too_long", "rx_misaligned")

    def __init__(self, bank: Any, link: int):
        self.bank = bank
        self.link = link
        bank.configure(link, filter_repeats=True)
        self.mtp2: Any = None
        self.repeating: bytes | None = None
        c = bank.counters(link)
        self._errors = sum(c[k] for k in self.ERRORS)
        self._hunt = c["rx_hunt_octets"]

    def send(self, su: bytes) -> None:
        self.repeating = line_after(su)
        self.bank.send(self.link, su)

    def attach(self, mtp2: Any) -> None:
        self.mtp2 = mtp2

    def deliver(self, frame: bytes) -> None:
        self.mtp2.receive(frame)

    def tick(self, frames: int) -> None:
        """Once per block of ``frames`` octets of this timeslot."""
        c = self.bank.counters(self.link)
        errors = sum(c[k] for k in self.ERRORS)
        if errors > self._errors:
            self.mtp2.rx_error(errors - self._errors)
        self._errors = errors
        if c["rx_hunt_octets"] > self._hunt:
            self.mtp2.octet_counting(c["rx_hunt_octets"] - self._hunt)
        self._hunt = c["rx_hunt_octets"]
        if self.repeating is not None:
            want = min(8, frames // (len(self.repeating) + 3) + 1)
            while self.bank.queued(self.link) < want:
                self.bank.send(self.link, self.repeating)


class Ss7Node:
    """A signalling point with MTP3 and ISUP users, and TUP when asked (``tup=True`` or a
    ``tup_listener``); ``variant`` "china" selects 24-bit point codes for all of them;
    ``stp=True`` makes it a signalling transfer point (Q.704 2.3)."""

    def __init__(self, scheduler: Scheduler, pc: int, *, variant: str = "itu", ni: int = 2,
                 isup_listener: IsupListener | None = None, tracer: LinkTracer | None = None,
                 mtp3_timers: dict[str, float] | None = None,
                 isup_timers: dict[str, float] | None = None,
                 mtp2_timers: dict[str, float] | None = None,
                 tup_listener: TupListener | None = None, tup: bool = False,
                 tup_timers: dict[str, float] | None = None, stp: bool = False):
        self.scheduler = scheduler
        self.mtp3 = Mtp3(scheduler, pc, variant="china" if variant == "china" else "itu", ni=ni,
                         timers=mtp3_timers, stp=stp)
        self.isup = Isup(scheduler, self.mtp3, variant=variant, listener=isup_listener,
                         timers=isup_timers)
        self.tup = Tup(scheduler, self.mtp3, variant=variant, listener=tup_listener,
                       timers=tup_timers) if tup or tup_listener is not None else None
        self.tracer = tracer
        self.mtp2_timers = {**VARIANT_TIMERS[variant].get("mtp2", {}), **(mtp2_timers or {})}
        # each link with its MTP2's own send and receive (tracing wraps them, see trace())
        self._links: list[tuple[SignallingLink, Callable[[bytes], Any],
                                Callable[[bytes], Any]]] = []

    def linkset(self, adjacent: int, name: str | None = None) -> Linkset:
        ls = self.mtp3.linksets.get(adjacent)
        return ls or self.mtp3.add_linkset(name or f"ls{adjacent}", adjacent)

    def add_link(self, adjacent: int, slc: int, send: Callable[[bytes], Any]) -> SignallingLink:
        """A link toward ``adjacent``; returns it (feed received units to ``link.mtp2.receive``,
        looked up at each unit: tracing replaces it)."""
        link = self.linkset(adjacent).add_link(slc, send, self.mtp2_timers)
        self._links.append((link, link.mtp2.send_frame, link.mtp2.receive))
        self._trace_link(len(self._links) - 1)
        return link

    def trace(self, tracer: LinkTracer | None) -> None:
        """Record every link's signal units to ``tracer`` from now on, link number = order
        of :meth:`add_link` (None: stop; untraced links pay nothing per unit)."""
        self.tracer = tracer
        for number in range(len(self._links)):
            self._trace_link(number)

    def _trace_link(self, number: int) -> None:
        link, send, receive = self._links[number]
        tracer = self.tracer
        if tracer is None:
            link.mtp2.send_frame, link.mtp2.receive = send, receive
            return

        def traced_send(su: bytes) -> None:
            tracer.record(number, True, su)
            send(su)

        def traced_receive(su: bytes) -> None:
            tracer.record(number, False, su)
            receive(su)

        link.mtp2.send_frame, link.mtp2.receive = traced_send, traced_receive

    def start(self) -> None:
        self.mtp3.start()

    def _link(self, link: SignallingLink | tuple[int, int]) -> SignallingLink:
        return self.mtp3.find_link(*link) if isinstance(link, tuple) else link

    def inhibit(self, link: SignallingLink | tuple[int, int]) -> bool:
        """Management inhibiting (Q.704 10.2) of a link, or of (adjacent, SLC)."""
        return self.mtp3.inhibit(self._link(link))

    def uninhibit(self, link: SignallingLink | tuple[int, int]) -> bool:
        return self.mtp3.uninhibit(self._link(link))

    def status(self) -> dict[str, Any]:
        return {"mtp3": self.mtp3.status(), "isup_available": sorted(self.isup.available),
                "isup_overload": self.isup.overload,  # our automatic congestion level
                "isup_traffic": [c.status() for c in self.isup.controls.values()]}


def connect(a: Ss7Node, b: Ss7Node, slc: int, wire: MemoryWire) -> tuple[SignallingLink,
                                                                         SignallingLink]:
    """Join two nodes by one in-memory link with the same SLC at both ends."""
    la = a.add_link(b.mtp3.pc, slc, wire.end(0))
    lb = b.add_link(a.mtp3.pc, slc, wire.end(1))
    wire.attach(0, RepeatFilter(la.mtp2.receive))
    wire.attach(1, RepeatFilter(lb.mtp2.receive))
    return la, lb
