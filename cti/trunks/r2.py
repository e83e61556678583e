"""MFC-R2 trunk (China No.1 and other variants): an :class:`r2.media.R2Span` on the 30
voice timeslots of a CAS span, ABCD bits on TS16, MF tones in the voice timeslots."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.q850 import NO_CHANNEL_AVAILABLE
from cti.calls import Call, CallEvent, CallState, DialError
from cti.trunks.base import VOICE_TIMESLOTS, TrunkBase
from drivers.base import Span
from r2.call import CircuitBusy
from r2.media import R2Span
from r2.trace import SharedSink
from r2.variants import Q850

# Q.850 cause -> the R2 refusal the backward register signals (group B)
REFUSAL = {17: "busy", 1: "unallocated", 22: "unallocated", 27: "out_of_order"}


class R2Trunk(TrunkBase):
    kind = "r2"

    def __init__(self, kernel, name: str, span: Span, *, variant: str = "cn", master: bool = True,
                 timers: dict[str, float] | None = None, on_offered=None,
                 timeslots: Sequence[int] = VOICE_TIMESLOTS, **opts: Any):
        super().__init__(kernel, name, span, on_offered)
        self.timeslots = tuple(timeslots)
        self.slots = np.array([self.slot_of(t) for t in self.timeslots], np.intp)
        self.r2 = R2Span(kernel.loop, len(self.timeslots), variant, law=kernel.law,
                         on_event=self._event, master=master, timers=timers, **opts)
        self._audio = np.empty((len(self.timeslots), kernel.block), np.uint8)
        self._sent = self.r2.tx_cas.copy()
        for i, t in enumerate(self.timeslots):
            span.cas_tx(t, int(self._sent[i]))
        self._next = 0
        self._sink: SharedSink | None = None  # the live .r2log of trace()
        kernel.add_stage(self)

    # --- kernel stage ---------------------------------------------------------------------
    def rx(self, rx: np.ndarray, frame: int) -> None:
        cas = self.span.cas_rx()[list(self.timeslots)]
        self.r2.rx(rx[self.slots], cas)

    def tx(self, tx: np.ndarray, frame: int) -> None:
        audio, cas = self.r2.tx(self._audio)
        gen = self.r2.gen
        for i in range(len(self.timeslots)):
            if gen.busy(i):
                tx[self.slots[i]] = audio[i]
        for i, call in self.calls.items():  # our answer goes out once the register is done
            if (call.direction == "in" and call.state is not CallState.CONNECTED
                    and self.r2.channels[i].state == "in_answered"):
                self.counters["answered"] += 1
                call.notify(CallEvent.CONNECTED)
        changed = np.flatnonzero(cas != self._sent)
        for i in changed.tolist():
            self._sent[i] = cas[i]
            self.span.cas_tx(self.timeslots[i], int(cas[i]))

    # --- stack -> call model ------------------------------------------------------------
    def _event(self, i: int, name: str, fields: dict[str, Any]) -> None:
        if name == "offered":
            cat = fields.get("category")
            self.offered(i, dnis=fields.get("dnis", ""), ani=fields.get("ani") or "",
                         category=cat if isinstance(cat, int) else None,
                         slot=int(self.slots[i]))
            return
        call = self.calls.get(i)
        if call is None:
            return
        if name == "alerting":
            call.notify(CallEvent.ALERTING)
        elif name == "answered":
            self.counters["answered"] += 1
            call.notify(CallEvent.CONNECTED)
        elif name == "call_failed":
            call.notify(CallEvent.DISCONNECTED, cause=Q850.get(fields.get("reason"), 31),
                        raw_cause=fields.get("signal") or fields.get("reason"))
        elif name == "glare":
            self.ended(i, Q850["glare"], "glare")
        elif name == "released":
            self.ended(i, fields.get("cause"), fields.get("r2"))

    # --- call model -> stack ------------------------------------------------------------
    def make_call(self, call: Call) -> None:
        """Seize the trunk group's ``data["channel"]`` when idle, else the next idle
        circuit round robin."""
        n = len(self.timeslots)
        ch = call.data.get("channel")
        first = [self.timeslots.index(ch)] if ch in self.timeslots else []
        for i in first + [(self._next + k) % n for k in range(n)]:
            if i in self.calls:
                continue
            try:
                self.r2.channels[i].make_call(call.dnis, call.ani or None)
            except CircuitBusy:
                continue
            self._next = i + 1
            self.calls[i] = call
            call.slot = int(self.slots[i])
            self.counters["placed"] += 1
            return
        raise DialError(f"trunk {self.name}: no idle circuit", NO_CHANNEL_AVAILABLE)

    def free_channels(self) -> list[int]:
        return [t for i, t in enumerate(self.timeslots)
                if i not in self.calls and self.r2.channels[i].state == "idle"]

    def _circuit(self, call: Call):
        for i, c in self.calls.items():
            if c is call:
                return self.r2.channels[i]
        raise KeyError(f"call {call.id} is not on trunk {self.name}")

    def alert(self, call: Call) -> None:
        self._circuit(call).accept(charge=True)

    def answer(self, call: Call) -> None:
        self._circuit(call).answer()

    def reject(self, call: Call, cause: int) -> None:
        """A group B refusal signal; once the call was accepted (group B "charge" sent, the
        register signalling over) only a clear-back is left (Q.441: no cause travels)."""
        circuit = self._circuit(call)
        if circuit.accepted:
            circuit.hangup()
        else:
            circuit.reject(REFUSAL.get(cause, "congestion"))

    def drop(self, call: Call, cause: int) -> None:
        self._circuit(call).hangup()

    def release(self, call: Call) -> None:
        self._circuit(call).hangup()

    def _start_trace(self, path: str) -> None:
        """Every circuit's line and register signals, live, to the text log ``path``
        (``.r2log``: read back by ``cti decode``)."""
        self._sink = SharedSink(open(path, "w", buffering=1))  # noqa: SIM115 - kept open
        for c in self.r2.channels:
            c.log_to(self._sink)

    def _stop_trace(self) -> None:
        for c in self.r2.channels:
            c.log_to(None)
        self._sink.close()
        self._sink = None

    def status(self) -> dict[str, Any]:
        d = super().status()
        d["variant"] = self.r2.variant.name
        d["circuits"] = {s: sum(1 for c in self.r2.channels if c.state == s)
                         for s in {c.state for c in self.r2.channels}}
        return d
