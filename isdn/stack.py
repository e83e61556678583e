"""A D-channel stack: Q.921 data link + Q.931 call control over a frame transport.

The transport is anything with ``send(frame)`` (``core.hdlcsock.HdlcSocket``, a sim
span's HDLC channel, or :func:`memory_pair`); received frames are handed to
:meth:`Stack.receive_frame`.  Everything runs on a ``core.clock`` scheduler.  The stack
keeps its data link up (a PRI D-channel is always established: Q.931 5.8.9 asks for
re-establishment after a failure) and reports to the application through ``on_event``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from core.clock import Scheduler
from core.timers import TimerTable
from isdn import lapd_codec
from isdn.lapd import DataLink
from isdn.lapd_codec import LapdDecodeError
from isdn.q931 import Call, CallControl, Event
from isdn.tei import TeiUser
from isdn.timers import lapd_table, q931_table
from isdn.trace import LapdTracer
from isdn.variants import VARIANTS, Variant


class Transport(Protocol):
    def send(self, frame: bytes) -> None: ...


class Stack:
    """One D-channel, user or network side (PRI: SAPI 0, TEI 0; a BRI terminal with
    ``tei=None`` obtains its TEI by the management procedure of Q.921 5.3)."""

    def __init__(self, scheduler: Scheduler, side: str, transport: Transport | None = None, *,
                 variant: str = "etsi", lapd_timers: dict[str, float] | TimerTable | None = None,
                 q931_timers: dict[str, float] | TimerTable | None = None,
                 on_event: Callable[[Event], None] | None = None, tei: int | None = 0,
                 auto_release: bool = True, cr_len: int | None = None,
                 channels: Iterable[int] | None = None):
        self.scheduler = scheduler
        self.side = side
        self.transport = transport
        self.tracer: LapdTracer | None = None
        self.bad_frames = 0
        # the variant's own timer values, under the caller's overrides
        variant_timers = (variant if isinstance(variant, Variant) else VARIANTS[variant]).timers
        q_table = (q931_timers if isinstance(q931_timers, TimerTable)
                   else q931_table({**variant_timers, **(q931_timers or {})}))
        l_table = lapd_timers if isinstance(lapd_timers, TimerTable) else lapd_table(lapd_timers)
        # call reference length (Q.931 4.3): 2 octets on a PRI, 1 on a BRI
        self.cc = CallControl(scheduler, side, variant=variant, timers=q_table,
                              on_event=on_event, auto_release=auto_release,
                              cr_len=cr_len or (1 if tei is None else 2), channels=channels)
        self.tei_manager: TeiUser | None = None
        if tei is None:  # BRI terminal: automatic TEI assignment (Q.921 5.3)
            if side != "user":
                raise ValueError("automatic TEI assignment is a user-side procedure")
            self.tei_manager = TeiUser(scheduler, self._send_frame, l_table)
            self.cc.mdl_error_hook = self.tei_manager.mdl_error
        self.link = DataLink(scheduler, self._send_frame, self.cc, network=(side == "network"),
                             sapi=lapd_codec.SAPI_CALL_CONTROL, tei=tei, timers=l_table,
                             request_tei=self.tei_manager.request if self.tei_manager else None)
        self.cc.link = self.link

    # ---- wiring --------------------------------------------------------------------------
    def start(self) -> None:
        """Bring the data link up (DL-ESTABLISH-REQUEST)."""
        self.link.dl_establish()

    def trace_to(self, path_or_file: Any, epoch: float = 0.0) -> LapdTracer:
        self.tracer = LapdTracer(path_or_file, self.scheduler, self.side == "network", epoch)
        return self.tracer

    def _send_frame(self, octets: bytes) -> None:
        if self.tracer is not None:
            self.tracer.frame(octets, sent=True)
        if self.transport is not None:
            self.transport.send(octets)

    def receive_frame(self, octets: bytes) -> None:
        """One received frame (FCS removed): TEI management frames to the TEI procedures,
        the others to their data link; an invalid frame to the link it names."""
        if self.tracer is not None:
            self.tracer.frame(octets, sent=False)
        try:
            frame = lapd_codec.decode(octets)
        except LapdDecodeError as e:
            self.bad_frames += 1
            link = self._link_of_invalid(octets)
            if link is not None:
                link.receive_invalid(e)
            return
        if frame.sapi == lapd_codec.SAPI_MANAGEMENT and frame.kind == "UI":
            self._management(frame)
        else:
            self._deliver(frame)

    def _link_of_invalid(self, octets: bytes) -> DataLink | None:
        return self.link if len(octets) >= 2 and octets[0] >> 2 == self.link.sapi else None

    def _management(self, frame: Any) -> None:
        if self.tei_manager is not None:
            self.tei_manager.receive(frame)

    def _deliver(self, frame: Any) -> None:
        if frame.sapi != self.link.sapi or frame.tei not in (self.link.tei, lapd_codec.TEI_GROUP):
            return
        if frame.tei == lapd_codec.TEI_GROUP and frame.kind != "UI":
            return
        self.link.receive(frame)

    def receive_frames(self, frames: list[bytes]) -> None:
        """Frames received together (one read of the D-channel): the I frames among them
        are acknowledged by one RR after the last, or by the N(R) of an I frame that
        layer 3 sent meanwhile (Q.921 5.6.2.1)."""
        links = self.data_links()
        for link in links:
            link.defer_ack = True
        try:
            for f in frames:
                self.receive_frame(f)
        finally:
            for link in links:
                link.defer_ack = False
        for link in links:
            link.send_ack()

    def data_links(self) -> list[DataLink]:
        """The SAPI 0 data links of this D-channel."""
        return [self.link]

    def poll(self, sock: Any) -> int:
        """Read every waiting frame from an ``HdlcSocket`` or :class:`SpanDChannel`;
        returns how many."""
        frames = sock.recv_all()
        self.receive_frames(frames)
        return len(frames)

    # ---- application API -----------------------------------------------------------------
    def place_call(self, called: str, calling: str | None = None, channel: int | None = None,
                   **kw: Any) -> Call:
        return self.cc.place_call(called, calling, channel, **kw)

    def restart(self, channels: list[int] | None = None) -> None:
        self.cc.restart(channels)

    def service(self, channels: list[int] | None, in_service: bool) -> None:
        """Take B-channels (None: the interface) in or out of service with SERVICE, on a
        variant with B-channel maintenance messages (NI-2: :mod:`isdn.service`)."""
        if self.cc.maintenance is None:
            raise ValueError(f"{self.cc.variant.name} has no SERVICE messages")
        self.cc.maintenance.request(channels, in_service)
        self.cc.flush()

    @property
    def calls(self) -> list[Call]:
        return list(self.cc.calls.values())

    @property
    def link_up(self) -> bool:
        return self.link.established

    def status(self) -> dict[str, Any]:
        return {"side": self.side, "variant": self.cc.variant.name, "link": self.link.status(),
                "calls": [{"cref": c.cref, "state": c.state, "channel": c.channel}
                          for c in self.calls],
                "channels": self.cc.channels.snapshot(), "counters": dict(self.cc.counters),
                "bad_frames": self.bad_frames,
                "maintenance": None if self.cc.maintenance is None else self.cc.maintenance.status(),
                "timers": self.cc.timer_table.rows() + self.link.table.rows()}


class SpanDChannel:
    """A D-channel timeslot of a board span (``drivers.base.Span``) as a transport:
    TS16 of an E1 in HDLC mode, frames checked by the span's HDLC receiver."""

    def __init__(self, span: Any, timeslot: int = 16):
        self.span = span
        self.timeslot = timeslot

    def send(self, frame: bytes) -> None:
        self.span.hdlc_send(self.timeslot, bytes(frame))

    def recv_all(self) -> list[bytes]:
        return self.span.hdlc_recv(self.timeslot)


class MemoryWire:
    """One direction of an in-memory D-channel: frames arrive ``delay`` seconds later,
    those sent at the same moment together (as one read of a D-channel finds them).
    ``cut = True`` loses every frame (a broken link)."""

    def __init__(self, scheduler: Scheduler, delay: float = 0.001):
        self.scheduler = scheduler
        self.delay = delay
        self.peer: Stack | None = None
        self.cut = False
        self.frames = 0
        self._batch: list[bytes] = []
        self._batch_due = -1.0

    def send(self, frame: bytes) -> None:
        self.frames += 1
        if self.cut or self.peer is None:
            return
        due = self.scheduler.time() + self.delay
        if due != self._batch_due:
            self._batch, self._batch_due = [], due
            self.scheduler.call_at(due, self.peer.receive_frames, self._batch)
        self._batch.append(bytes(frame))


def memory_pair(scheduler: Scheduler, delay: float = 0.001, **kw: Any) -> tuple[Stack, Stack]:
    """A network-side and a user-side stack joined back to back; both started."""
    net_wire, user_wire = MemoryWire(scheduler, delay), MemoryWire(scheduler, delay)
    net_kw = {k: v for k, v in kw.items() if k not in ("on_event_user", "on_event_network")}
    net = Stack(scheduler, "network", net_wire, on_event=kw.get("on_event_network"), **{
        k: v for k, v in net_kw.items() if k != "on_event"})
    user = Stack(scheduler, "user", user_wire, on_event=kw.get("on_event_user"), **{
        k: v for k, v in net_kw.items() if k != "on_event"})
    net_wire.peer, user_wire.peer = user, net
    net.start()
    user.start()
    return net, user
