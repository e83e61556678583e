"""R2 digital line signalling on the TS16 ABCD bits of one circuit (Q.421, Q.422).

Both directions of a both-way circuit are one machine: the ``out_*`` states are the outgoing
(forward) end, the ``in_*`` states the incoming (backward) end.  Events are the received a/b
code after debounce (``rx_00`` .. ``rx_11``), local requests and timer expiries; the rows
read like Q.421 Table 1 (af bf forward, ab bb backward):

    forward   idle 10   seize 00   clear-forward 10
    backward  idle 10   seize-ack 11   answer 01   clear-back 11   blocked 11   (forced release 00)

Dual seizure (both ends send seize) is resolved by circuit control (Q.421 §3.3 both-way
operation): the end that does not control the circuit backs off, reports glare and serves the
incoming call; the controlling end keeps its seizure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.fsm import FsmTable, Machine, Row, UnexpectedEvent
from core.timers import Timers
from r2.variants import Q850, Variant

STATES = ("idle", "out_seized", "out_setup", "out_answered", "out_clear_back", "out_clearing",
          "in_setup", "in_answered", "in_clear_back", "blocked", "remote_blocked", "fault")

LINE_FSM = FsmTable("r2-line", STATES, [
    # idle circuit
    Row("idle", "seize", "tx_seize", "out_seized"),
    Row("idle", "rx_00", "incoming", "in_setup"),
    Row("idle", "rx_11", "far_blocked", "remote_blocked"),
    Row("idle", "rx_10", None, None),
    Row("idle", "rx_01", "protocol_error", None),
    Row("idle", "block", "tx_blocked", "blocked"),
    # outgoing: seize sent, waiting for seize-acknowledge
    Row("out_seized", "rx_11", "seize_acked", "out_setup"),
    Row("out_seized", "rx_00", "dual_seizure", None),
    Row("out_seized", "rx_10", None, None),
    Row("out_seized", "rx_01", "protocol_error", None),
    Row("out_seized", "t_seize_ack", "seize_ack_timeout", "idle"),
    Row("out_seized", "clear", "abandon", "idle"),
    # outgoing: register phase
    Row("out_setup", "rx_01", "answered", "out_answered"),
    Row("out_setup", "rx_00", "forced_release", "out_clearing"),
    Row("out_setup", "rx_10", "far_released", "out_clearing"),
    Row("out_setup", "rx_11", None, None),
    Row("out_setup", "clear", "clear_forward", "out_clearing"),
    Row("out_setup", "t_answer", "no_answer", "out_clearing"),
    # outgoing: answered
    Row("out_answered", "rx_11", "clear_back", None),
    Row("out_answered", "rx_00", "forced_release", "out_clearing"),
    Row("out_answered", "rx_10", "far_released", "out_clearing"),
    Row("out_answered", "rx_01", None, None),
    Row("out_answered", "clear", "clear_forward", "out_clearing"),
    Row("out_clear_back", "rx_01", "metering_pulse", "out_answered"),
    Row("out_clear_back", "t_metering", "clear_back_confirmed", "out_clearing"),
    Row("out_clear_back", "clear", "clear_forward", "out_clearing"),
    Row("out_clear_back", "rx_00", "forced_release", "out_clearing"),
    Row("out_clear_back", "rx_10", "far_released", "out_clearing"),
    Row("out_clear_back", "rx_11", None, None),
    # outgoing: clear-forward sent, waiting for release guard (idle)
    Row("out_clearing", "rx_10", "released", "idle"),
    Row("out_clearing", "rx_11", None, None),
    Row("out_clearing", "rx_01", None, None),
    Row("out_clearing", "rx_00", None, None),
    Row("out_clearing", "t_release_guard", "release_guard_timeout", "fault"),
    Row("out_clearing", "clear", None, None),
    Row("fault", "rx_10", "fault_cleared", "idle"),
    Row("fault", "clear", None, None),
    # incoming: seize-acknowledge sent (register phase)
    Row("in_setup", "rx_10", "cleared_forward", "idle"),
    Row("in_setup", "answer", "tx_answer", "in_answered"),
    Row("in_setup", "clear", "tx_forced_release", "in_clear_back"),
    Row("in_setup", "rx_00", None, None),
    # incoming: answered
    Row("in_answered", "rx_10", "cleared_forward", "idle"),
    Row("in_answered", "clear", "tx_clear_back", "in_clear_back"),
    Row("in_answered", "answer", None, None),
    Row("in_answered", "rx_00", None, None),
    Row("in_clear_back", "rx_10", "cleared_forward", "idle"),
    Row("in_clear_back", "answer", "tx_answer", "in_answered"),
    Row("in_clear_back", "clear", None, None),
    Row("in_clear_back", "rx_00", None, None),
    # blocking (Q.421: blocking signal = backward 11 on an idle circuit)
    Row("blocked", "unblock", "tx_idle", "idle"),
    Row("blocked", "rx_00", "seized_while_blocked", None),
    Row("blocked", "rx_10", None, None),
    Row("blocked", "rx_11", None, None),
    Row("blocked", "block", None, None),
    Row("remote_blocked", "rx_10", "far_unblocked", "idle"),
    Row("remote_blocked", "rx_11", None, None),
    Row("remote_blocked", "block", "tx_blocked", None),
    Row("remote_blocked", "unblock", "tx_idle", None),
])


# what a received a/b code means in a state (for the trace)
_RX_NAMES = {"idle": {0b00: "seize", 0b10: "idle", 0b11: "blocked"},
             "out_seized": {0b11: "seize-ack", 0b00: "seize (dual seizure)", 0b10: "idle"},
             "out_setup": {0b01: "answer", 0b00: "forced-release", 0b10: "idle"},
             "out_answered": {0b11: "clear-back", 0b00: "forced-release", 0b10: "idle"},
             "out_clear_back": {0b01: "answer (metering pulse end)"},
             "out_clearing": {0b10: "release-guard", 0b11: "clear-back"},
             "fault": {0b10: "idle"}, "remote_blocked": {0b10: "unblocked"}}
_RX_INCOMING = {0b10: "clear-forward", 0b00: "seize"}


class Line(Machine):
    """The line signalling of one circuit.

    ``tx(abcd, name)`` puts a code on TS16; ``notify(event, **fields)`` reports
    ``incoming``, ``seize_ack``, ``answered``, ``meter``, ``glare``, ``blocked``,
    ``unblocked``, ``fault`` and ``released`` (with a Q.850 ``cause``).
    """

    fsm = LINE_FSM
    keep_transitions = 64

    def __init__(self, variant: Variant, timers: Timers, tx: Callable[[int, str], None],
                 notify: Callable[..., None], controls_circuit: bool,
                 rx_trace: Callable[[int, str], None] | None = None):
        self.variant = variant
        self.timers = timers
        self._tx = tx
        self.notify = notify
        self.controls_circuit = controls_circuit
        self.rx_trace = rx_trace or (lambda abcd, name: None)
        self.state = "idle"
        self.rx_ab = variant.forward_codes["idle"]   # stable received a/b code
        self._pending: int | None = None
        self.rx_abcd = variant.abcd(self.rx_ab)
        self.cause = Q850["normal"]

    # ---- input -------------------------------------------------------------------------------
    def on_abcd(self, abcd: int) -> None:
        """A received ABCD nibble (only a and b carry R2 line signals; c/d are ignored)."""
        self.rx_abcd = abcd
        ab = (abcd >> 2) & 0b11
        if ab == self._pending:
            return
        if ab == self.rx_ab:
            self._pending = None
            self.timers.stop("debounce")
            return
        self._pending = ab
        self.timers.start("debounce", self._debounced)

    def _debounced(self) -> None:
        ab, self._pending = self._pending, None
        if ab is None:
            return
        self.rx_ab = ab
        names = _RX_INCOMING if self.state.startswith("in_") else _RX_NAMES.get(self.state, {})
        self.rx_trace(self.rx_abcd, names.get(ab, f"code {ab:02b}"))
        self.dispatch(f"rx_{ab:02b}")

    def request(self, event: str) -> Any:
        return self.dispatch(event)

    def unexpected(self, event: str, *args: Any) -> None:
        if event in ("seize", "answer", "clear", "block", "unblock"):
            raise UnexpectedEvent(f"{self.fsm.name}: {event} in state {self.state}")
        self.notify("protocol_error", detail=f"{event} in line state {self.state}")

    # ---- output helpers ----------------------------------------------------------------------
    def _send(self, code: int, name: str) -> None:
        self._tx(self.variant.abcd(code), name)

    def _fwd(self, name: str) -> None:
        self._send(self.variant.forward_codes[name], name.replace("_", "-"))

    def _back(self, name: str) -> None:
        self._send(self.variant.backward_codes[name], name.replace("_", "-"))

    def _release(self, cause: int) -> None:
        self.timers.stop_all()
        self.notify("released", cause=cause)

    # ---- actions: idle / blocking ------------------------------------------------------------
    def tx_idle(self) -> None:
        self._back("idle")

    def tx_blocked(self) -> None:
        self._back("blocked")

    def far_blocked(self) -> None:
        self.notify("blocked")

    def far_unblocked(self) -> None:
        self.notify("unblocked")

    def seized_while_blocked(self) -> None:
        self.notify("protocol_error", detail="seize received on a blocked circuit")

    def protocol_error(self) -> None:
        self.notify("protocol_error", detail=f"code {self.rx_ab:02b} in line state {self.state}")

    # ---- actions: outgoing -------------------------------------------------------------------
    def tx_seize(self) -> None:
        self._fwd("seize")
        self.timers.start("seize_ack", self.dispatch, "t_seize_ack")

    def seize_acked(self) -> None:
        self.timers.stop("seize_ack")
        self.notify("seize_ack")

    def dual_seizure(self) -> str | None:
        if self.controls_circuit:
            return None  # keep our seizure; the other end backs off (Q.421 §3.3)
        self.timers.stop("seize_ack")
        self.notify("glare")
        self.incoming()
        return "in_setup"

    def seize_ack_timeout(self) -> None:
        self._fwd("clear_forward")
        self._release(Q850["timeout"])

    def abandon(self) -> None:
        self._fwd("clear_forward")
        self._release(Q850["normal"])

    def answered(self) -> None:
        self.timers.stop("answer")
        self.notify("answered")

    def start_answer_timer(self) -> None:
        self.timers.start("answer", self.dispatch, "t_answer")

    def clear_back(self) -> str:
        if self.variant.params["metering_pulse"]:
            self.timers.start("metering", self.dispatch, "t_metering")
            return "out_clear_back"
        self.clear_back_confirmed()
        return "out_clearing"

    def metering_pulse(self) -> None:
        self.timers.stop("metering")
        self.notify("meter")

    def clear_back_confirmed(self) -> None:
        self.notify("clear_back")
        self._clear(Q850["normal"])

    def forced_release(self) -> None:
        self.notify("clear_back")
        self._clear(Q850["forced_release"])

    def far_released(self) -> None:
        self._clear(Q850["protocol_error"])

    def no_answer(self) -> None:
        self._clear(Q850["no_answer"])

    def clear_forward(self) -> None:
        self._clear(Q850["normal"])

    def _clear(self, cause: int) -> None:
        self.cause = cause
        self.timers.stop("answer")
        self.timers.stop("metering")
        self._fwd("clear_forward")
        self.timers.start("release_guard", self.dispatch, "t_release_guard")
        if self.rx_ab == self.variant.backward_codes["idle"] and self._pending is None:
            # the far end is already idle: the release guard is there
            self.timers.scheduler.call_later(0, self._recheck_idle)

    def _recheck_idle(self) -> None:
        if self.state == "out_clearing" and self.rx_ab == self.variant.backward_codes["idle"]:
            self.dispatch("rx_10")

    def released(self) -> None:
        self._release(self.cause)

    def release_guard_timeout(self) -> None:
        self.notify("fault", detail="no release guard after clear-forward")
        self._release(self.cause)

    def fault_cleared(self) -> None:
        self.notify("unblocked")

    # ---- actions: incoming -------------------------------------------------------------------
    def incoming(self) -> None:
        self._back("seize_ack")
        self.notify("incoming")

    def tx_answer(self) -> None:
        self._back("answer")

    def tx_clear_back(self) -> None:
        self._back("clear_back")

    def tx_forced_release(self) -> None:
        self._back("forced_release")

    def cleared_forward(self) -> None:
        self._back("idle")   # release guard (digital version: idle code)
        self._release(Q850["normal"])
