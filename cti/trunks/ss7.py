"""SS7 ISUP trunk: an :class:`ss7.stack.Ss7Node` whose signalling link runs MTP2 over the
TS16 HDLC channel of a span (or an hdlc-socket), circuits CIC = timeslot of that span."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.q850 import NO_CHANNEL_AVAILABLE
from cti.calls import Call, CallEvent, DialError
from cti.continuity import ContinuityEquipment
from cti.trunks.base import VOICE_TIMESLOTS, SpanHdlc, TrunkBase
from drivers.base import ChannelMode, Span
from ss7.isup import Circuit, IsupListener, NoCircuit
from ss7.stack import RepeatFilter, Ss7Node, line_after

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


class SignallingPointTrunk(TrunkBase):
    """What the ISUP and TUP trunks share: a signalling point (:class:`ss7.stack.Ss7Node`)
    whose one link runs over TS16 (or an hdlc-socket), the circuits CIC = ``cic_base`` +
    timeslot toward ``dpc``, and continuity-check equipment on their voice slots (Q.764
    2.1.8, Q.724 7).  ``user`` is the user part carrying the calls (``node.isup`` or
    ``node.tup``); subclasses name it and translate its events to the call model."""

    user_part = "isup"
    no_circuit: type[Exception] = LookupError

    def __init__(self, kernel, name: str, span: Span | None, *, opc: int, dpc: int,
                 variant: str = "itu", cic_base: int = 0, timers: dict[str, float] | None = None,
                 transport: Any = None, on_offered=None,
                 timeslots: Sequence[int] = VOICE_TIMESLOTS):
        super().__init__(kernel, name, span, on_offered)
        self.timeslots = tuple(timeslots)
        layers = layer_timers(timers)
        for other in {"isup", "tup"} - {self.user_part}:
            if layers.pop(other):
                raise ValueError(f"{other}.* timers on a {self.user_part.upper()} trunk")
        if transport is None:
            span.set_channel_mode(LINK_TIMESLOT, ChannelMode.HDLC)
            transport = Mtp2SpanLink(span, LINK_TIMESLOT)
        self.transport = transport
        self.dpc = dpc
        self.cic_base = cic_base
        listener = {f"{self.user_part}_listener": self}
        self.node = Ss7Node(kernel.loop, opc, variant=variant, **listener,
                            **{f"{layer}_timers": t or None for layer, t in layers.items()})
        self.user = getattr(self.node, self.user_part)
        self.link = self.node.add_link(dpc, 0, transport.send)
        self._rx = RepeatFilter(self.link.mtp2.receive)
        self.user.add_circuits(dpc, [cic_base + t for t in self.timeslots])
        self.continuity = (None if span is None else
                           ContinuityEquipment(kernel, max(map(self.slot_of, self.timeslots)) + 1))
        kernel.after_tick.append(self._poll)
        self.node.start()

    def _poll(self) -> None:
        for su in self.transport.recv_all():
            self._rx(su)

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
        """Seize the trunk group's ``data["channel"]`` (CIC = cic_base + timeslot) when that
        circuit is still idle, else the circuit the user part picks (Q.764 2.9.1.4, Q.724
        8.3); ``data["continuity_check"]`` = 1 checks the circuit with the check tone first.
        A refusal carrying its own cause (congestion: 42) ends the attempt at once."""
        ch = call.data.get("channel")
        circuit = None
        for cic in ([] if ch is None else [self.cic_base + ch]) + [None]:
            try:
                circuit = self._setup(call, cic)
                break
            except self.no_circuit as e:
                cause = getattr(e, "cause", None)
                if cic is None or cause is not None:
                    raise DialError(f"trunk {self.name}: {e}",
                                    cause or NO_CHANNEL_AVAILABLE) from None
        self.calls[circuit] = call
        call.slot = self._slot(circuit)
        self.counters["placed"] += 1

    def _setup(self, call: Call, cic: int | None) -> Any:
        """The user part's call setup on ``cic`` (None: its choice); raises ``no_circuit``."""
        raise NotImplementedError

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
        user = self.user
        return sorted(t for t in self.timeslots
                      if (cc := user.circuit(self.dpc, self.cic_base + t)) is not None
                      and cc.state == "IDLE" and not (cc.remote_blocked or cc.local_blocked))

    def status(self) -> dict[str, Any]:
        d = super().status()
        d["opc"], d["dpc"] = self.node.mtp3.pc, self.dpc
        d["user_part"] = self.user_part
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
    def _setup(self, call: Call, cic: int | None) -> Circuit:
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
