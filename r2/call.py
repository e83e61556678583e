"""An R2 circuit: line signalling + register signalling + trace, with a call-level API.

Inputs: ``on_cas(abcd)`` (received TS16 nibble), ``on_mf(signal)`` (detector: 1..15 on,
0 off).  Outputs: ``cas_tx(abcd)`` and ``mf_tx(signal, sender)`` (sender ``forward`` or
``backward``; 0 stops the tone).  Application API: :meth:`make_call`, :meth:`accept`,
:meth:`reject`, :meth:`answer`, :meth:`hangup`, :meth:`block`, :meth:`unblock`; events through
``on_event(name, fields)``: ``offered`` (dnis, ani, category), ``alerting`` (charge),
``answered``, ``meter``, ``glare``, ``blocked``, ``unblocked``, ``protocol_error`` and
``released`` (cause: Q.850).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from core.clock import Scheduler
from core.fsm import UnexpectedEvent
from core.timers import Timers
from r2 import timers as r2timers
from r2.line import Line
from r2.register import BackwardRegister, ForwardRegister, signal_digit
from r2.trace import CallTrace, SharedSink
from r2.variants import Q850, Variant, get

TRACE_HISTORY = 8  # traces of ended calls kept per circuit (a live log keeps them all)


class R2StateError(RuntimeError):
    """An application request that the circuit's current state does not allow."""


class CircuitBusy(R2StateError):
    """The circuit is not idle (in a call, blocked, or seized by the far end: glare)."""


def _request(machine: Any, event: str, *args: Any) -> Any:
    try:
        return machine.dispatch(event, *args)
    except UnexpectedEvent as e:
        raise R2StateError(str(e)) from None


class R2Channel:
    """One both-way R2 circuit (a timeslot with its TS16 ABCD bits)."""

    def __init__(self, scheduler: Scheduler, variant: str | Variant = "itu", circuit: int = 1, *,
                 cas_tx: Callable[[int], None], mf_tx: Callable[[int, str], None],
                 on_event: Callable[[str, dict[str, Any]], None] | None = None,
                 master: bool = True, timers: dict[str, float] | None = None,
                 max_dnis: int | None = None, max_ani: int | None = None,
                 ani_order: str | None = None,
                 dnis_complete: Callable[[str], bool] | None = None):
        self.scheduler = scheduler
        self.variant = get(variant) if isinstance(variant, str) else variant
        self.circuit = circuit
        self._cas_tx = cas_tx
        self._mf_tx = mf_tx
        self.on_event = on_event or (lambda name, fields: None)
        # the step supervision restarts at every compelled step of every circuit
        self.timers = Timers(r2timers.table({**self.variant.timers, **(timers or {})}),
                             scheduler, lazy=("fwd_step", "back_step"))
        # circuit control for dual seizure: the master end controls even circuits
        controls = (circuit % 2 == 0) == master
        self.line = Line(self.variant, self.timers, self._line_tx, self._line_event, controls,
                         self._line_rx)
        self.register_opts = {"max_dnis": max_dnis, "max_ani": max_ani, "ani_order": ani_order,
                              "dnis_complete": dnis_complete}
        self.register: ForwardRegister | BackwardRegister | None = None
        self.trace_sink: SharedSink | None = None  # a live log of every call (trunk trace)
        self.trace = self._new_trace()
        self.traces: deque[CallTrace] = deque(maxlen=TRACE_HISTORY)
        self.direction: str | None = None
        self.cause: int | None = None
        self.r2_signal: str | None = None   # the R2 signal behind the cause (e.g. "B-3")
        self.accepted = False
        self._answer_pending = False
        self.call: dict[str, Any] = {}
        self._cas_tx(self.variant.abcd(self.variant.forward_codes["idle"]))

    # ---- wiring ------------------------------------------------------------------------------
    def _new_trace(self) -> CallTrace:
        trace = CallTrace(self.scheduler.time, self.circuit, self.variant.name)
        if self.trace_sink is not None:
            trace.sink = self.trace_sink.circuit(trace.header)
        return trace

    def log_to(self, sink: SharedSink | None) -> None:
        """Write this circuit's signals to ``sink`` as they happen (None: stop)."""
        self.trace_sink = sink
        self.trace.sink = None if sink is None else sink.circuit(self.trace.header)

    def _line_tx(self, abcd: int, name: str) -> None:
        self.trace.cas("TX", abcd, name)
        self._cas_tx(abcd)

    def _emit(self, name: str, **fields: Any) -> None:
        self.trace.event(name, **fields)
        self.on_event(name, fields)

    def on_cas(self, abcd: int) -> None:
        if not 0 <= abcd <= 15:
            raise ValueError(f"ABCD nibble out of range: {abcd}")
        self.line.on_abcd(abcd)

    def _line_rx(self, abcd: int, name: str) -> None:
        self.trace.cas("RX", abcd, name)

    def on_mf(self, signal: int) -> None:
        if not 0 <= signal <= 15:
            raise ValueError(f"MF signal out of range: {signal}")
        reg = self.register
        sender = "fwd" if isinstance(reg, BackwardRegister) else "bwd"
        self.trace.mf("RX", sender, signal, self._meaning(signal, received=True))
        if reg is not None:
            reg.on(signal)

    def _mf_send(self, sender: str) -> Callable[[int], None]:
        def send(signal: int) -> None:
            self.trace.mf("TX", "fwd" if sender == "forward" else "bwd", signal,
                          self._meaning(signal, received=False))
            self._mf_tx(signal, sender)
        return send

    def _meaning(self, sig: int, received: bool) -> str:
        """A human reading of a register signal for the trace (group from register state)."""
        reg, v = self.register, self.variant
        if not sig or reg is None:
            return ""
        backward_reg = isinstance(reg, BackwardRegister)
        if backward_reg == received:  # a forward signal (group I or II)
            if backward_reg:
                group = "II" if reg.expect in ("category", "category_b") else "I"
            else:
                group = reg.tx_group
            if group == "II":
                return f"II {v.group_ii.get(sig, '?')}"
            d = signal_digit(sig)
            return f"I digit {d}" if d else f"I {v.group_i.get(sig, '?')}"
        if backward_reg:
            return f"{reg.tx_group} {reg.tx_meaning}"
        return f"{reg.group} {reg.meaning(sig) or '?'}"

    # ---- application API ---------------------------------------------------------------------
    def make_call(self, dnis: str, ani: str | None = None,
                  category: str = "national_subscriber") -> str:
        """Seize the circuit and send DNIS/ANI; "seized" or :class:`CircuitBusy`."""
        if self.line.state != "idle" or self.line._pending is not None:
            raise CircuitBusy(f"circuit {self.circuit} is {self.line.state}")
        if not dnis:
            raise ValueError("DNIS must have at least one digit")
        register = ForwardRegister(self.variant, self.timers, self._mf_send("forward"),
                                   self._forward_event, dnis, ani, category)
        self._start_call("outgoing", dnis=dnis, ani=ani, category=category)
        self.register = register
        self.line.request("seize")
        return "seized"

    def accept(self, charge: bool = True) -> None:
        """Accept an offered call (group B 'subscriber free', with or without charge)."""
        _request(self._backward(), "accept", charge)

    def reject(self, reason: str = "busy") -> None:
        """Refuse an offered call: ``busy``, ``unallocated``, ``congestion``, ``out_of_order``
        (a reason the variant has no group B signal for is sent as congestion)."""
        if reason not in Q850:
            raise ValueError(f"unknown reject reason {reason!r}")
        sent = reason if reason in self.variant.send_b else "congestion"
        _request(self._backward(), "reject", sent)
        self.cause = Q850[sent]

    def answer(self) -> None:
        if self.direction != "incoming":
            raise R2StateError("answer() needs an incoming call")
        if not self.accepted:
            if self.register is None or self.register.state not in ("offered", "responding",
                                                                     "done"):
                raise R2StateError("answer() before the call was offered")
            if self.register.state == "offered":
                self.accept()
            self._answer_pending = True
            return
        _request(self.line, "answer")

    def hangup(self) -> None:
        self._answer_pending = False
        self.timers.stop("accept_delay")
        if self.register is not None:
            self.register.dispatch("stop")
        if self.line.state != "idle":
            _request(self.line, "clear")

    def block(self) -> None:
        _request(self.line, "block")

    def unblock(self) -> None:
        _request(self.line, "unblock")

    @property
    def state(self) -> str:
        return self.line.state

    def _backward(self) -> BackwardRegister:
        if not isinstance(self.register, BackwardRegister):
            raise R2StateError("no incoming call in register phase")
        return self.register

    def _start_call(self, direction: str, **fields: Any) -> None:
        self.direction = direction
        self.cause = None
        self.r2_signal = None
        self.accepted = False
        self._answer_pending = False
        self.call = dict(fields, direction=direction)

    # ---- events from the machines ------------------------------------------------------------
    def _line_event(self, name: str, **fields: Any) -> None:
        if name == "seize_ack" and isinstance(self.register, ForwardRegister):
            self.register.dispatch("start")
        elif name == "incoming":
            self._start_call("incoming")
            self.register = BackwardRegister(self.variant, self.timers,
                                             self._mf_send("backward"), self._backward_event,
                                             **self.register_opts)
            self.register.dispatch("start")
        elif name == "glare":
            self._emit("glare", **self.call)
        elif name == "answered":
            if self.register is not None:
                self.register.dispatch("stop")
            self._emit("answered")
        elif name == "released":
            if self.register is not None:
                self.register.dispatch("stop")
                self.register = None
            cause = self.cause if self.cause is not None else fields["cause"]
            self.call["cause"] = cause
            self._emit("released", cause=cause, r2=self.r2_signal)
            self.traces.append(self.trace)
            self.trace = self._new_trace()
            self.direction = None
        else:
            self._emit(name, **fields)

    def _forward_event(self, name: str, **fields: Any) -> None:
        if name == "accepted":
            self.accepted = True
            self.line.start_answer_timer()
            self._emit("alerting", charge=fields["charge"])
            return
        self.cause = Q850[fields["reason"]]
        self.r2_signal = fields.get("signal")
        self._emit("call_failed", **fields)
        self.line.request("clear")

    def _backward_event(self, name: str, **fields: Any) -> None:
        if name == "offered":
            self.call.update(fields)
            self._emit("offered", **fields)
        elif name == "complete":
            if fields["accepted"]:
                self.timers.start("accept_delay", self._accept_done)
            else:
                self.r2_signal = fields["signal"]
            # rejected: the forward end clears; the line reports the release
        else:
            self.cause = Q850[fields["reason"]]
            self._emit("call_failed", **fields)
            self.line.request("clear")

    def _accept_done(self) -> None:
        self.accepted = True
        if self._answer_pending and self.line.state == "in_setup":
            self._answer_pending = False
            self.line.request("answer")
