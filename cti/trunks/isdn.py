"""ISDN PRI trunk: a :class:`isdn.stack.Stack` on a span's TS16 (or an hdlc-socket)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.q850 import USER_BUSY
from cti.calls import Call, CallEvent, DialError
from cti.trunks.base import VOICE_TIMESLOTS, SpanHdlc, TrunkBase
from drivers.base import ChannelMode, Span
from isdn.bchannels import BState
from isdn.q931 import ChannelBusy, Event
from isdn.stack import Stack

DCHANNEL = 16

_PROGRESS = {"proceeding": CallEvent.PROCEEDING, "alerting": CallEvent.ALERTING,
             "connected": CallEvent.CONNECTED}


class IsdnTrunk(TrunkBase):
    kind = "isdn"

    def __init__(self, kernel, name: str, span: Span | None, side: str, *,
                 variant: str = "etsi", timers: dict[str, float] | None = None,
                 transport: Any = None, on_offered=None,
                 timeslots: Sequence[int] = VOICE_TIMESLOTS):
        super().__init__(kernel, name, span, on_offered)
        if transport is None:
            span.set_channel_mode(DCHANNEL, ChannelMode.HDLC)
            transport = SpanHdlc(span, DCHANNEL)
        self.transport = transport
        q931 = {k: v for k, v in (timers or {}).items() if not k.startswith(("T2", "N2", "k"))}
        lapd = {k: v for k, v in (timers or {}).items() if k not in q931}
        self.stack = Stack(kernel.loop, side, transport, variant=variant, on_event=self._event,
                           q931_timers=q931 or None, lapd_timers=lapd or None,
                           channels=timeslots)
        kernel.after_tick.append(self._poll)
        if hasattr(transport, "on_connect"):
            # an hdlc-socket: the line is "activated" when a peer connects; establishing
            # into an empty socket would leave a stale SABME retry to reset the peer's link
            transport.on_connect = self.stack.start
        else:
            self.stack.start()

    def _poll(self) -> None:
        frames = self.transport.recv_all()
        if frames:  # one RR for the I frames of a tick, or N(R) on our answer (Q.921 5.6.2.1)
            self.stack.receive_frames(frames)

    # --- stack -> call model ----------------------------------------------------------
    def _event(self, ev: Event) -> None:
        c = ev.call
        if ev.kind == "offered":
            self.offered(c, dnis=c.called or "", ani=c.calling or "", slot=self.slot_of(c.channel),
                         data=_names(c))
            return
        call = self.calls.get(c) if c is not None else None
        if call is None:
            return
        call.data.update(_names(c))  # names that came later (FACILITY, ALERTING, CONNECT)
        if c.channel is not None:  # a preferred channel the peer moved (Q.931 5.1.2, 5.2.3)
            call.slot = self.slot_of(c.channel)
        if ev.kind in _PROGRESS:
            if ev.kind == "connected":
                self.counters["answered"] += 1
            call.notify(_PROGRESS[ev.kind])
        elif ev.kind in ("disconnected", "rejected"):
            call.notify(CallEvent.DISCONNECTED, cause=ev.cause, raw_cause=ev.cause)
        elif ev.kind == "released":
            self.ended(c, ev.cause, ev.cause)

    # --- call model -> stack ------------------------------------------------------------
    def make_call(self, call: Call) -> None:
        """SETUP; a trunk group's ``data["channel"]`` goes as *preferred* (Q.931 5.1.2 b),
        so the peer may assign another; when it is no longer idle here the stack hunts."""
        ch = call.data.get("channel")
        try:
            try:
                c = self.stack.place_call(call.dnis, call.ani or None, ch, exclusive=ch is None,
                                          calling_name=call.data.get("calling_name"))
            except ChannelBusy:
                if ch is None:
                    raise
                c = self.stack.place_call(call.dnis, call.ani or None,
                                          calling_name=call.data.get("calling_name"))
        except ChannelBusy as e:
            raise DialError(f"trunk {self.name}: {e}", e.cause) from None
        call.slot = self.slot_of(c.channel)
        self.calls[c] = call
        self.counters["placed"] += 1

    def _stack_call(self, call: Call):
        for c, cc in self.calls.items():
            if cc is call:
                return c
        raise KeyError(f"call {call.id} is not on trunk {self.name}")

    def alert(self, call: Call) -> None:
        """ALERTING; ``data["own_name"]`` goes in it as the called party's name."""
        self._stack_call(call).alert(name=call.data.get("own_name"))

    def answer(self, call: Call) -> None:
        """CONNECT; ``data["own_name"]`` goes in it as the connected party's name."""
        self._stack_call(call).answer(name=call.data.get("own_name"))

    def reject(self, call: Call, cause: int) -> None:
        self.drop(call, cause)

    def drop(self, call: Call, cause: int) -> None:
        """Clear; an incoming call refused as user busy (17) gives ``data["own_name"]`` as
        the busy name (:meth:`isdn.call.Call.hangup`)."""
        c = self._stack_call(call)
        busy = cause == USER_BUSY and not c.originated
        c.hangup(cause, busy_name=call.data.get("own_name") if busy else None)

    def release(self, call: Call) -> None:
        self.drop(call, 16)

    def _start_trace(self, path: str) -> None:
        """The D-channel to pcap (LINKTYPE_LINUX_LAPD 177)."""
        self.stack.trace_to(path, self.trace_epoch())

    def _stop_trace(self) -> None:
        self.stack.tracer.close()
        self.stack.tracer = None

    @property
    def link_up(self) -> bool:
        return self.stack.link_up

    def free_channels(self) -> list[int]:
        chans = self.stack.cc.channels
        return [n for n in sorted(chans.channels) if chans.state(n) is BState.IDLE]

    def status(self) -> dict[str, Any]:
        d = super().status()
        d["stack"] = self.stack.status()
        return d


def _names(c: Any) -> dict[str, str]:
    """The party names the stack has for its call (QSIG / NI-2 name identification,
    :mod:`isdn.facility`), as ``Call.data`` keys calling_name, called_name,
    connected_name, busy_name; ``data["calling_name"]`` of an outgoing call goes in its
    SETUP, and ``data["own_name"]`` of an incoming one in its ALERTING and CONNECT, and
    in its clearing when it is refused as user busy."""
    return {k: v for k in ("calling_name", "called_name", "connected_name", "busy_name")
            if (v := getattr(c, k))}
