"""SS7 trunks: an :class:`ss7.stack.Ss7Node` whose signalling links run MTP2 over the TS16
HDLC channel of one or more spans (or an hdlc-socket), with circuits on every span of the
trunk: CIC = ``cic_base`` + 32 x (the span's place in the trunk) + timeslot, the usual E1
numbering (Q.763 1.2: the CIC is assigned by bilateral agreement)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.q850 import NO_CHANNEL_AVAILABLE
from cti.calls import Call, CallEvent, DialError
from cti.continuity import ContinuityEquipment
from cti.trunks.base import VOICE_TIMESLOTS, SpanHdlc, TrunkBase
from drivers.base import ChannelMode, Span
from ss7.isup import Circuit, IsupListener, NoCircuit
from ss7.mtp3 import SignallingLink
from ss7.stack import RepeatFilter, Ss7Node, line_after
from ss7.trace import LinkTracer

LINK_TIMESLOT = 16


class Mtp2SpanLink(SpanHdlc):
    """The signalling timeslot of a span carrying an MTP2 link.  Between signal units the
    line repeats the last status unit (Q.703 5.2, 7.2: FISUs and LSSUs are sent
    continuously), here once a tick, so a unit lost while the far end was still out of frame
    reaches it again, as on a real link (the receiver's repeat filter drops the copies)."""

    def __init__(self, span: Span, timeslot: int):
        super().__init__(span, timeslot)
        self.repeating: bytes | None = None

    def send(self, frame: bytes) -> None:
        self.repeating = line_after(bytes(frame))
        super().send(frame)

    def recv_all(self) -> list[bytes]:
        if self.repeating is not None and not self.backlog:
            super().send(self.repeating)
        return super().recv_all()


TIMER_LAYERS = ("mtp2", "mtp3", "isup", "tup")


def layer_timers(timers: dict[str, float] | None) -> dict[str, dict[str, float]]:
    """A trunk's ``timers`` table split by layer: SS7 timer names repeat from layer to layer
    (MTP2, MTP3 and ISUP each have a T1..T7), so each is written ``<layer>.<name>``
    (``mtp2.T2``, ``mtp3.T4``, ``isup.T7``, ``tup.T_COT``)."""
    out: dict[str, dict[str, float]] = {layer: {} for layer in TIMER_LAYERS}
    for key, value in (timers or {}).items():
        layer, _, name = key.partition(".")
        if layer not in out or not name:
            raise ValueError(f"SS7 timer {key!r}: write it <layer>.<name>, the layer one of "
                             f"{', '.join(TIMER_LAYERS)} (e.g. isup.T7)")
        out[layer][name] = value
    return out


def span_links(spans: Sequence[Span]) -> list[Mtp2SpanLink]:
    """A signalling link in TS16 of each span (the timeslot switched to HDLC)."""
    for s in spans:
        s.set_channel_mode(LINK_TIMESLOT, ChannelMode.HDLC)
    return [Mtp2SpanLink(s, LINK_TIMESLOT) for s in spans]


class SignallingNode(TrunkBase):
    """A kernel object running a signalling point (``self.node``, an
    :class:`ss7.stack.Ss7Node`): its links on transports (spans' TS16, hdlc-sockets) are
    polled after every tick through a repeat filter, and traced to pcap on request."""

    node: Ss7Node

    def __init__(self, kernel, name: str, span: Span | None, on_offered=None):
        super().__init__(kernel, name, span, on_offered)
        self._receivers: list[tuple[Any, RepeatFilter]] = []
        kernel.after_tick.append(self._poll)

    def _attach(self, adjacent: int, transports: Sequence[Any]) -> list[SignallingLink]:
        """One link toward ``adjacent`` on each transport, SLC 0, 1, ... in order."""
        links = [self.node.add_link(adjacent, slc, t.send) for slc, t in enumerate(transports)]
        # MTP2's receive is looked up per unit: tracing the node replaces it
        self._receivers += [(t, RepeatFilter(lambda su, mtp2=link.mtp2: mtp2.receive(su)))
                            for t, link in zip(transports, links, strict=True)]
        return links

    def _start_trace(self, path: str) -> None:
        """The links to pcap (LINKTYPE_MTP2_WITH_PHDR 139, link number = order of creation;
        received units after the repeat filter: changes of link status and MSUs)."""
        self.node.trace(LinkTracer(path, self.kernel.loop, self.trace_epoch()))

    def _stop_trace(self) -> None:
        self.node.tracer.close()
        self.node.trace(None)

    def _poll(self) -> None:
        for transport, receive in self._receivers:
            for su in transport.recv_all():
                receive(su)


class SignallingPointTrunk(SignallingNode):
    """What the ISUP and TUP trunks share: a signalling point (:class:`ss7.stack.Ss7Node`)
    toward ``dpc`` with circuits on ``span`` and the further ``spans`` (channel = 32 x the
    span's place + timeslot, CIC = ``cic_base`` + channel), signalling links in TS16 of the
    first ``links`` of them - one link set, load shared by SLS, with changeover between its
    links (Q.704 4, 5) - or on an hdlc-socket ``transport``, and continuity-check equipment on
    the circuits' voice slots (Q.764 2.1.8, Q.724 7).  ``user`` is the user part carrying the
    calls (``node.isup`` or ``node.tup``); subclasses name it and translate its events to the
    call model.

    Quasi-associated signalling (Q.705 2.1): with ``stp`` the links go to that adjacent
    signalling transfer point, which carries the messages to ``dpc`` (the route set of
    ``dpc`` is the STP); ``link_spans`` then puts them in TS16 of spans of their own, one
    link each, the circuit spans keeping TS16 unused.  ``rct``: the national option of the
    signalling-route-set-congestion-test at this originating point (Q.704 13.9).

    ``continuity_ratio`` N > 0: statistical continuity checking of the group - every Nth
    outgoing call asks for the check of its circuit (continuity-check indicator 1, Q.764
    2.1.8 / Q.724 7.1), as exchanges do over transmission systems without fault indication;
    0 checks none (a call's own ``data["continuity_check"]`` still wins)."""

    user_part = "isup"
    no_circuit: type[Exception] = LookupError

    def __init__(self, kernel, name: str, span: Span | None, *, opc: int, dpc: int,
                 variant: str = "itu", cic_base: int = 0, timers: dict[str, float] | None = None,
                 transport: Any = None, on_offered=None,
                 timeslots: Sequence[int] = VOICE_TIMESLOTS, spans: Sequence[Span] = (),
                 links: int = 1, continuity_ratio: int = 0, stp: int | None = None,
                 link_spans: Sequence[Span] = (), rct: bool = False):
        super().__init__(kernel, name, span, on_offered)
        self.timeslots = tuple(timeslots)
        if continuity_ratio < 0:
            raise ValueError(f"continuity_ratio {continuity_ratio}: 0 (never) or N (every Nth)")
        if continuity_ratio and span is None:
            raise ValueError("continuity_ratio needs the circuits' voice path (a span)")
        self.continuity_ratio = continuity_ratio
        self._calls_since_check = 0
        self.spans = [] if span is None else [span, *spans]
        if spans and span is None:
            raise ValueError("further spans need a first span")
        if not 1 <= links <= max(1, len(self.spans)) or \
                ((transport is not None or link_spans) and links != 1):
            raise ValueError(f"links must be 1..{max(1, len(self.spans))} (1 with a "
                             f"transport or link spans): one per span from the first, in its TS16")
        if transport is not None and link_spans:
            raise ValueError("links on a transport or on link spans, not both")
        layers = layer_timers(timers)
        for other in {"isup", "tup"} - {self.user_part}:
            if layers.pop(other):
                raise ValueError(f"{other}.* timers on a {self.user_part.upper()} trunk")
        transports = [transport] if transport is not None else \
            span_links(list(link_spans) or self.spans[:links])
        self.dpc = dpc
        self.cic_base = cic_base
        listener = {f"{self.user_part}_listener": self}
        self.node = Ss7Node(kernel.loop, opc, variant=variant, **listener,
                            **{f"{layer}_timers": t or None for layer, t in layers.items()})
        self.user = getattr(self.node, self.user_part)
        self.node.mtp3.rct = rct
        self.stp = stp
        self.links = self._attach(dpc if stp is None else stp, transports)
        self.link = self.links[0]
        if stp is not None:
            self.node.mtp3.add_route(dpc, [stp])
        self.channels = [32 * k + t for k in range(max(1, len(self.spans))) for t in self.timeslots]
        self.user.add_circuits(dpc, [cic_base + ch for ch in self.channels])
        self.continuity = (None if span is None else
                           ContinuityEquipment(kernel, max(map(self.slot_of, self.channels)) + 1))
        self.node.start()

    def slot_of(self, channel: int | None) -> int | None:
        """The kernel slot of ``channel`` (32 x the span's place + timeslot)."""
        if channel is None or not self.spans:
            return None
        return self.kernel.span_slot(self.spans[channel // 32], channel % 32)

    def _slot(self, circuit: Any) -> int | None:
        return self.slot_of(circuit.cic - self.cic_base)

    def on_continuity(self, call: Any, equipment: str | None) -> None:
        """Loop the circuit (incoming) or put the check-tone transceiver on it (outgoing);
        a trunk without a span (an hdlc-socket link alone) has no voice path to check."""
        slot = self._slot(call)
        if self.continuity is None or slot is None:
            return
        self.continuity.release(slot)
        if equipment == "loop":
            self.continuity.loop(slot)
        elif equipment == "transceiver":
            self.continuity.transceive(slot, call.continuity_result)

    def on_glare(self, call: Any) -> None:
        self.ended(call, 44, "dual seizure")

    def on_reset(self, cics: list[int]) -> None:
        for circuit in list(self.calls):
            if circuit.cic in cics:
                self.ended(circuit, 41, "reset")

    def _circuit(self, call: Call) -> Any:
        for circuit, c in self.calls.items():
            if c is call:
                return circuit
        raise KeyError(f"call {call.id} is not on trunk {self.name}")

    def make_call(self, call: Call) -> None:
        """Seize the trunk group's ``data["channel"]`` (CIC = cic_base + channel) when that
        circuit is still idle, else a free circuit on a span without alarm, those this
        exchange controls first (no loss on dual seizure: Q.764 2.9.1.4, Q.724 8.3);
        ``data["continuity_check"]`` = 1 checks the circuit with the check tone first (set
        here on every ``continuity_ratio``-th call that does not say).
        A refusal carrying its own cause (congestion: 42) ends the attempt at once."""
        if "continuity_check" not in call.data and self._statistical_check():
            call.data["continuity_check"] = 1
        ch = call.data.get("channel")
        free = self.free_channels()
        circuits = {c: self.user.circuit(self.dpc, self.cic_base + c) for c in free}
        order = sorted(free, key=lambda c: not circuits[c].controlling)
        for channel in ([] if ch is None else [ch]) + [c for c in order if c != ch]:
            try:
                circuit = self._setup(call, self.cic_base + channel)
                break
            except self.no_circuit as e:
                cause = getattr(e, "cause", None)
                if cause is not None:
                    raise DialError(f"trunk {self.name}: {e}", cause) from None
        else:
            raise DialError(f"trunk {self.name}: no idle circuit toward {self.dpc}",
                            NO_CHANNEL_AVAILABLE)
        self.calls[circuit] = call
        call.slot = self._slot(circuit)
        self.counters["placed"] += 1

    def _setup(self, call: Call, cic: int) -> Any:
        """The user part's call setup on ``cic``; raises ``no_circuit``."""
        raise NotImplementedError

    def _statistical_check(self) -> bool:
        """One more outgoing call of the group: whether it is the ``continuity_ratio``-th."""
        if not self.continuity_ratio:
            return False
        self._calls_since_check = (self._calls_since_check + 1) % self.continuity_ratio
        return self._calls_since_check == 0

    def alert(self, call: Call) -> None:
        self._circuit(call).accept()

    def answer(self, call: Call) -> None:
        circuit = self._circuit(call)
        circuit.answer()
        if circuit.state == "ANSWERED":  # ANM/CON (ISUP), ANC (TUP) sent: the call is through
            self.counters["answered"] += 1
            call.notify(CallEvent.CONNECTED)

    @property
    def link_up(self) -> bool:
        return self.dpc in self.user.available

    def free_channels(self) -> list[int]:
        """Idle unblocked circuits, leaving out the spans in alarm (their circuits carry no
        speech even while a link on another span keeps the signalling up)."""
        user = self.user
        down = {k for k, s in enumerate(self.spans) if s.status().alarms}
        return [ch for ch in self.channels
                if ch // 32 not in down
                and (cc := user.circuit(self.dpc, self.cic_base + ch)) is not None
                and cc.state == "IDLE" and not (cc.remote_blocked or cc.local_blocked)]

    @property
    def in_service(self) -> bool:
        """Signalling up and at least one span free of alarms."""
        return self.link_up and (not self.spans or any(not s.status().alarms
                                                       for s in self.spans))

    def status(self) -> dict[str, Any]:
        d = super().status()
        d["opc"], d["dpc"], d["stp"] = self.node.mtp3.pc, self.dpc, self.stp
        d["user_part"] = self.user_part
        d["spans"] = [s.name for s in self.spans]
        d["link"] = self.link.mtp2.state if hasattr(self.link.mtp2, "state") else None
        d["available"] = self.link_up
        d["mtp"] = self.node.status()  # linksets, links, inhibit and restart states (Q.704 9, 10)
        return d


class Ss7Trunk(SignallingPointTrunk, IsupListener):
    """ISUP (Q.764) calls on the trunk's circuits."""

    kind = "ss7"
    user_part = "isup"
    no_circuit = NoCircuit  # Congested (Q.764 2.10/2.11) is one, with cause 42

    # --- ISUP listener -> call model ----------------------------------------------------
    def on_setup(self, call: Circuit) -> None:
        self.offered(call, dnis=call.called, ani=call.calling or "", category=call.category,
                     presentation="restricted" if call.presentation == 1 else "allowed",
                     slot=self._slot(call))

    def on_alerting(self, call: Circuit) -> None:
        c = self.calls.get(call)
        if c is not None:
            c.notify(CallEvent.ALERTING)

    def on_answer(self, call: Circuit) -> None:
        c = self.calls.get(call)
        if c is not None:
            self.counters["answered"] += 1
            c.notify(CallEvent.CONNECTED)

    def on_release(self, call: Circuit, cause: int) -> None:
        c = self.calls.get(call)
        if c is not None:
            c.notify(CallEvent.DISCONNECTED, cause=cause, raw_cause=cause)

    def on_idle(self, call: Circuit) -> None:
        c = self.calls.get(call)
        self.ended(call, None if c is None else c.cause)

    # --- call model -> ISUP ------------------------------------------------------------
    def _setup(self, call: Call, cic: int) -> Circuit:
        return self.user.setup(self.dpc, call.dnis, call.ani or None, cic=cic,
                               presentation=1 if call.presentation == "restricted" else 0,
                               continuity_check=call.data.get("continuity_check", 0))

    def reject(self, call: Call, cause: int) -> None:
        self._circuit(call).release(cause)
        call.notify(CallEvent.DISCONNECTED, cause=cause)

    def drop(self, call: Call, cause: int) -> None:
        circuit = self._circuit(call)
        if circuit.state not in ("WAIT_RLC", "IDLE"):
            circuit.release(cause)
        call.notify(CallEvent.DISCONNECTED, cause=cause)

    def release(self, call: Call) -> None:
        self.drop(call, 16)
