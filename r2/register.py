"""MFC-R2 register signalling: the compelled cycle of Q.441/Q.442, forward and backward.

Compelled cycle (Q.442 §4.2): the forward register sends a group I/II signal; the backward
register answers with a group A/B (C) signal; the forward register removes its signal on
recognising the backward one; the backward register removes its signal on recognising that;
the forward register then sends the signal the backward one asked for.  A backward signal sent
while the forward register is silent (after an end-of-digits time-out) is *pulsed*.

Inputs are tone events (``on(signal)`` with 0 for "tone removed"), outputs are
``send(signal)`` (0 stops the tone) and ``notify(event, **fields)``.  Signal meanings come
from the variant tables, never from the code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.fsm import FsmTable, Machine, Row, UnexpectedEvent
from core.timers import Timers
from r2.variants import Variant

DIGITS = "1234567890"  # I-1..I-10
_FAR_END = frozenset({"b_on", "b_off", "f_on", "f_off", "t_step", "t_pulse"})


class _Register(Machine):
    keep_transitions = 64
    step_timer = ""  # the timer supervising each compelled step (Q.476 4), lazily restarted

    def _restart_step(self) -> None:
        self.timers.start(self.step_timer, self.dispatch, "t_step")

    def _stop_step(self) -> None:
        self.timers.stop(self.step_timer)

    def unexpected(self, event: str, *args: Any) -> None:
        """Far-end tones and stale timers outside their states are ignored (the channel
        traces them); application requests in the wrong state are errors."""
        if event not in _FAR_END:
            raise UnexpectedEvent(f"{self.fsm.name}: {event} in state {self.state}")


def digit_signal(ch: str) -> int:
    """Group I signal for a decimal digit (Q.441 Table 5: I-10 is digit 0)."""
    i = DIGITS.find(ch)
    if i < 0 or len(ch) != 1:
        raise ValueError(f"not a decimal digit: {ch!r}")
    return i + 1


def signal_digit(sig: int) -> str | None:
    return DIGITS[sig - 1] if 1 <= sig <= 10 else None


# ---------------------------------------------------------------------------------------------
# Forward (outgoing) register
# ---------------------------------------------------------------------------------------------
FORWARD_FSM = FsmTable("r2-register-forward",
                       ("idle", "sending", "awaiting_off", "silent", "done"), [
    Row("idle", "start", "send_first", "sending"),
    Row("sending", "b_on", "backward_on", "awaiting_off"),
    Row("sending", "b_off", None, None),
    Row("silent", "b_on", "backward_on", "awaiting_off"),   # pulsed backward signal
    Row("silent", "b_off", None, None),
    Row("awaiting_off", "b_off", "act", None),
    Row("awaiting_off", "b_on", None, None),
    Row("sending", "t_step", "timeout", "done"),
    Row("awaiting_off", "t_step", "timeout", "done"),
    Row("silent", "t_step", "timeout", "done"),
    Row("*", "stop", "halt", "done"),
    Row("done", "b_on", None, None),
    Row("done", "b_off", None, None),
    Row("done", "t_step", None, None),
    Row("idle", "t_step", None, None),
])


class ForwardRegister(_Register):
    """Outgoing register: sends DNIS, category and ANI as the backward register asks.

    ``notify`` events: ``accepted`` (charge: bool), ``rejected`` (reason: a Q850 key),
    ``failed`` (reason ``timeout``/``protocol_error``).
    """

    step_timer = "fwd_step"
    fsm = FORWARD_FSM

    def __init__(self, variant: Variant, timers: Timers, send: Callable[[int], None],
                 notify: Callable[..., None], dnis: str, ani: str | None, category: str):
        for ch in dnis + (ani or ""):
            digit_signal(ch)
        self.v = variant
        self.timers = timers
        self._send = send
        self.notify = notify
        self.dnis = dnis
        self.ani = ani
        self.category = variant.category_signal(category)
        self.state = "idle"
        self.group = "A"            # group of the backward signals we expect: A, B or C
        self.next_dnis = 0
        self.next_ani = 0
        self.category_sent = False
        self.ani_done = False
        self.last_backward = 0
        self.tone = 0
        self.tx_group = "I"         # group of the signal we are sending (I or II)

    def on(self, signal: int) -> None:
        self.dispatch("b_on" if signal else "b_off", signal)

    def _tone(self, sig: int) -> None:
        self.tone = sig
        self._send(sig)
        self._restart_step()

    # ---- FSM actions -------------------------------------------------------------------------
    def send_first(self) -> str:
        return self._send_dnis()

    def backward_on(self, signal: int) -> None:
        self.last_backward = signal   # fwd_step, started with our signal, still supervises
        self._stop_tone()

    def meaning(self, sig: int) -> str | None:
        """What backward signal ``sig`` asks for, in the current group and phase."""
        if self.group == "B":
            return self.v.group_b.get(sig)
        if self.group == "C":
            return self.v.group_c.get(sig)
        if sig == self.v.params["ani_request"] and self.category_sent and not self.ani_done:
            return "next_ani"   # e.g. China A-1 after A-6, ITU A-5 after the category
        return self.v.group_a.get(sig)

    def act(self, _signal: int = 0) -> str:
        sig = self.last_backward
        handler = _FORWARD_ACTIONS.get(self.meaning(sig) or "")
        if handler is None:
            return self._fail("protocol_error", f"backward {self.group}-{sig} not expected")
        return handler(self)

    def timeout(self) -> None:
        self._stop_tone()
        self.notify("failed", reason="timeout")

    def halt(self) -> None:
        self._stop_tone()
        self._stop_step()

    # ---- what each backward meaning asks for ---------------------------------------------
    def _stop_tone(self) -> None:
        if self.tone:
            self.tone = 0
            self._send(0)

    def _send_dnis(self) -> str:
        self.tx_group = "I"
        if self.next_dnis < len(self.dnis):
            self._tone(digit_signal(self.dnis[self.next_dnis]))
            self.next_dnis += 1
            return "sending"
        end = self.v.params["dnis_end"]
        if end is not None:
            self._tone(end)
            return "sending"
        return self._silent()

    def _silent(self) -> str:
        # no signal for "no more digits": wait for the backward register's pulsed signal
        self._restart_step()
        return "silent"

    def _repeat(self, back: int) -> str:
        self.next_dnis = max(0, self.next_dnis - back - 1)
        return self._send_dnis()

    def _category(self) -> str:
        self.tx_group = "II"
        self.category_sent = True
        self._tone(self.category)
        return "sending"

    def _category_and_c(self) -> str:
        self.group = "C"
        return self._category()

    def _next_digit_and_a(self) -> str:
        self.group = "A"
        return self._send_dnis()

    def _ani(self) -> str:
        self.tx_group = "I"
        p = self.v.params
        if self.ani is None:
            self.ani_done = True
            sig = p["ani_restricted"]
        elif self.next_ani < len(self.ani):
            sig = digit_signal(self.ani[self.next_ani])
            self.next_ani += 1
        else:
            self.ani_done = True
            sig = p["ani_end"]
        if sig is None:
            return self._silent()
        self._tone(sig)
        return "sending"

    def _change_to_b(self) -> str:
        self.group = "B"
        return self._category()

    def _accept(self, charge: bool) -> str:
        self._stop_step()
        self.notify("accepted", charge=charge)
        return "done"

    def _reject(self, reason: str) -> str:
        self._stop_step()
        self.notify("rejected", reason=reason, signal=f"{self.group}-{self.last_backward}")
        return "done"

    def _fail(self, reason: str, detail: str) -> str:
        self._stop_step()
        self._stop_tone()
        self.notify("failed", reason=reason, detail=detail)
        return "done"


_FORWARD_ACTIONS: dict[str, Callable[[ForwardRegister], str]] = {
    "next_digit": ForwardRegister._send_dnis,
    "digit_minus_1": lambda r: r._repeat(1),
    "digit_minus_2": lambda r: r._repeat(2),
    "digit_minus_3": lambda r: r._repeat(3),
    "category": ForwardRegister._category,
    "category_and_c": ForwardRegister._category_and_c,
    "next_ani": ForwardRegister._ani,
    "next_digit_and_a": ForwardRegister._next_digit_and_a,
    "change_to_b": ForwardRegister._change_to_b,
    "accept_in_a": lambda r: r._accept(True),
    "accept_charge": lambda r: r._accept(True),
    "accept_no_charge": lambda r: r._accept(False),
    **{k: (lambda r, k=k: r._reject(k)) for k in (
        "congestion", "busy", "unallocated", "out_of_order", "special_info", "number_changed")},
}


# ---------------------------------------------------------------------------------------------
# Backward (incoming) register
# ---------------------------------------------------------------------------------------------
BACKWARD_FSM = FsmTable("r2-register-backward",
                        ("idle", "waiting", "responding", "pulsing", "offered", "done"), [
    Row("idle", "start", "begin", "waiting"),
    Row("waiting", "f_on", "forward_on", None),
    Row("waiting", "f_off", None, None),
    Row("waiting", "t_step", "silence", None),
    Row("responding", "f_off", "forward_off", None),
    Row("responding", "f_on", None, None),
    Row("responding", "t_step", "timeout", "done"),
    Row("pulsing", "t_pulse", "pulse_end", "waiting"),
    Row("pulsing", "f_on", "pulse_answered", None),
    Row("pulsing", "f_off", None, None),
    Row("offered", "accept", "send_accept", "responding"),
    Row("offered", "reject", "send_reject", "responding"),
    Row("offered", "t_step", "timeout", "done"),
    Row("offered", "f_off", "timeout", "done"),
    Row("offered", "f_on", None, None),
    Row("*", "stop", "halt", "done"),
    Row("pulsing", "t_step", None, None),
    Row("done", "f_on", None, None),
    Row("done", "f_off", None, None),
    Row("done", "t_step", None, None),
    Row("done", "t_pulse", None, None),
    Row("idle", "t_step", None, None),
    Row("waiting", "t_pulse", None, None),
    Row("responding", "t_pulse", None, None),
])


class BackwardRegister(_Register):
    """Incoming register: collects DNIS, category and ANI in the variant's order.

    ``ani_order``: ``after_first_digit`` (category and ANI asked after the first DNIS digit),
    ``after_dnis`` (after the last), or ``none`` (neither; the category still arrives as the
    group II signal).  ``dnis_complete(dnis) -> bool`` lets the application end DNIS early.
    ``notify`` events: ``offered`` (dnis, ani, category), ``complete`` (accepted: bool),
    ``failed`` (reason).
    """

    step_timer = "back_step"
    fsm = BACKWARD_FSM

    def __init__(self, variant: Variant, timers: Timers, send: Callable[[int], None],
                 notify: Callable[..., None], *, max_dnis: int | None = None,
                 max_ani: int | None = None, ani_order: str | None = None,
                 dnis_complete: Callable[[str], bool] | None = None):
        p = variant.params
        self.v = variant
        self.timers = timers
        self._send = send
        self.notify = notify
        self.max_dnis = p["max_dnis"] if max_dnis is None else max_dnis
        self.max_ani = p["max_ani"] if max_ani is None else max_ani
        self.ani_order = p["ani_order"] if ani_order is None else ani_order
        if self.ani_order not in ("after_first_digit", "after_dnis", "none"):
            raise ValueError(f"ani_order {self.ani_order!r}")
        self.dnis_complete = dnis_complete or (lambda d: False)
        # where "next calling digit" and "next digit" are one signal (China A-1) the forward
        # register cannot know we stopped at max_ani: ask until its end-of-ANI signal
        self.ani_needs_end = variant.send_a.get("next_ani", 0) == variant.send_a.get("next_digit")
        self.state = "idle"
        self.dnis = ""
        self.ani = ""
        self.ani_restricted = False
        self.category: str | None = None
        self.category_signal = 0
        self.expect = "dnis"          # dnis, category, ani, category_b
        self.group = "A"              # group of the signal we send next (A or C)
        self.dnis_done = False
        self.ani_done = self.ani_order == "none"
        self.final: str | None = None  # meaning of the group B signal sent
        self.tone = 0
        self.tx_group = "A"           # group of the signal we are sending (A, B or C)
        self.tx_meaning = ""
        self.ok = False

    def on(self, signal: int) -> None:
        self.dispatch("f_on" if signal else "f_off", signal)

    def accept(self, charge: bool = True) -> None:
        self.dispatch("accept", charge)

    def reject(self, reason: str) -> None:
        self.dispatch("reject", reason)

    # ---- FSM actions -------------------------------------------------------------------------
    def begin(self) -> None:
        self._restart_step()

    def forward_on(self, sig: int) -> str:
        return _EXPECT[self.expect](self, sig)

    def forward_off(self, _sig: int = 0) -> str:
        self._tone(0)
        if self.final is not None:
            self._stop_step()
            self.notify("complete", accepted=self.ok, outcome=self.final,
                        signal=f"B-{self.v.send_b[self.final]}")
            return "done"
        return "waiting"   # back_step, started with our signal, supervises the next one

    def silence(self) -> str:
        """Nothing from the forward register for ``back_step``: end of digits or failure."""
        if self.expect == "dnis" and self.dnis and self.v.params["dnis_end"] is None:
            self.dnis_done = True
            return self._pulse(self._after_dnis)
        if self.expect == "ani":
            self.ani_done = True   # no end-of-ANI signal came: time-out ends ANI
            return self._pulse(self._continue)
        return self.timeout()

    def _pulse(self, decide: Callable[[], str]) -> str:
        decide()  # chooses and starts the tone, sets expect
        self.timers.start("pulse", self.dispatch, "t_pulse")
        return "pulsing"

    def pulse_end(self) -> None:
        self._tone(0)
        self._restart_step()

    def pulse_answered(self, sig: int) -> str:
        self.timers.stop("pulse")
        self._tone(0)
        return self.forward_on(sig)

    def timeout(self, *_: Any) -> str:
        self._tone(0)
        self._stop_step()
        self.notify("failed", reason="timeout")
        return "done"

    def halt(self) -> None:
        self._tone(0)
        self._stop_step()
        self.timers.stop("pulse")

    def send_accept(self, charge: bool) -> None:
        meaning = "accept_charge" if charge or "accept_no_charge" not in self.v.send_b \
            else "accept_no_charge"
        self.ok = True
        self._final(meaning)

    def send_reject(self, reason: str) -> None:
        self._final(reason)

    # ---- decisions -------------------------------------------------------------------------
    def _tone(self, sig: int) -> None:
        if sig != self.tone:
            self.tone = sig
            self._send(sig)

    def _request(self, meaning: str, expect: str) -> str:
        table = self.v.send_c if self.group == "C" else self.v.send_a
        self.tx_group = self.group
        self.tx_meaning = meaning
        self.expect = expect
        self._tone(table[meaning])
        self._restart_step()
        return "responding"

    def _final(self, meaning: str) -> None:
        self.final = meaning
        self.tx_group = "B"
        self.tx_meaning = meaning
        self._tone(self.v.send_b[meaning])
        self._restart_step()

    def _protocol_error(self, detail: str) -> str:
        self._tone(0)
        self._stop_step()
        self.notify("failed", reason="protocol_error", detail=detail)
        return "done"

    def _got_dnis(self, sig: int) -> str:
        d = signal_digit(sig)
        if d is not None:
            self.dnis += d
            if len(self.dnis) >= self.max_dnis or self.dnis_complete(self.dnis):
                self.dnis_done = True
                return self._after_dnis()
            if len(self.dnis) == 1 and self.ani_order == "after_first_digit" and not self.ani_done:
                return self._ask_category()
            return self._request("next_digit", "dnis")
        if self.v.group_i.get(sig) == "end":
            self.dnis_done = True
            return self._after_dnis()
        return self._protocol_error(f"forward I-{sig} while receiving DNIS")

    def _after_dnis(self) -> str:
        if not self.ani_done and self.category is None:
            return self._ask_category()
        return self._change_to_b()

    def _ask_category(self) -> str:
        if "category_and_c" in self.v.send_a:
            r = self._request("category_and_c", "category")
            self.group = "C"
            return r
        return self._request("category", "category")

    def _change_to_b(self) -> str:
        return self._request("change_to_b", "category_b")

    def _continue(self) -> str:
        if self.dnis_done:
            return self._change_to_b()
        if self.group == "C":
            r = self._request("next_digit_and_a", "dnis")
            self.group = "A"
            return r
        return self._request("next_digit", "dnis")

    def _got_category(self, sig: int) -> str:
        self.category_signal = sig
        self.category = self.v.group_ii.get(sig, f"II-{sig}")
        if self.max_ani > 0 and not self.ani_done:
            return self._request("next_ani", "ani")
        self.ani_done = True
        return self._continue()

    def _got_ani(self, sig: int) -> str:
        d = signal_digit(sig)
        if d is not None:
            if len(self.ani) < self.max_ani:
                self.ani += d
            if len(self.ani) < self.max_ani or self.ani_needs_end:
                return self._request("next_ani", "ani")
        else:
            meaning = self.v.group_i.get(sig)
            if meaning not in ("end", "ani_restricted"):
                return self._protocol_error(f"forward I-{sig} while receiving ANI")
            self.ani_restricted = meaning == "ani_restricted"
        self.ani_done = True
        return self._continue()

    def _got_category_b(self, sig: int) -> str:
        if sig not in self.v.group_ii:
            return self._protocol_error(f"forward II-{sig} is not a category")
        if self.category is None:
            self.category_signal = sig
            self.category = self.v.group_ii[sig]
        self._restart_step()
        self.state = "offered"   # the application may accept/reject from inside the event
        self.notify("offered", dnis=self.dnis, ani=None if self.ani_restricted else self.ani,
                    category=self.category)
        return self.state


# what the next forward signal is, by what the backward register asked for
_EXPECT: dict[str, Callable[[BackwardRegister, int], str]] = {
    "dnis": BackwardRegister._got_dnis, "category": BackwardRegister._got_category,
    "ani": BackwardRegister._got_ani, "category_b": BackwardRegister._got_category_b}
