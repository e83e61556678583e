"""Receiving simple segmentation (Q.764 2.1.12): a message whose simple segmentation indicator
says an SGM follows (IAM, ACM, CPG, ANM, CON; :func:`ss7.isup_codec.announces_segment`) is held
and T34 started; the SGM's parameters are added to it and it is processed; when T34 expires it
is processed alone.  An SGM that no held message waits for is discarded; any other message for
the circuit while one is held lets the held one be processed first, then itself.  Sending is
:func:`ss7.isup_codec.segment`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from core.clock import Scheduler
from core.timers import Timers, TimerTable
from ss7 import isup_codec as C

Deliver = Callable[[Any, dict[str, Any]], None]


class Reassembly:
    """Held first segments per circuit, each with its own T34 (the circuit's timers may all
    be stopped by a release or reset meanwhile); ``deliver(circuit, msg)`` processes one."""

    def __init__(self, deliver: Deliver, counters: dict[str, int], table: TimerTable,
                 scheduler: Scheduler):
        self.deliver = deliver
        self.counters = counters
        self.table = table
        self.scheduler = scheduler
        self.held: dict[Hashable, tuple[dict[str, Any], Timers]] = {}

    def waiting(self, circuit: Hashable) -> bool:
        """A message on ``circuit`` waits for its SGM (T34 running)."""
        return circuit in self.held

    def receive(self, circuit: Hashable, msg: dict[str, Any]) -> None:
        entry = self.held.pop(circuit, None)
        held = None
        if entry is not None:
            held, timers = entry
            timers.stop("T34")
        if msg["message"] == "SGM":
            if held is None:
                self.counters["sgm_discarded"] += 1
                return
            held["params"].update(msg["params"])
            held["unknown_params"].extend(msg["unknown_params"])
            self.deliver(circuit, held)
            return
        if held is not None:
            self.deliver(circuit, held)
        if C.announces_segment(msg):
            timers = Timers(self.table, self.scheduler)
            self.held[circuit] = (msg, timers)
            timers.start("T34", self._t34, circuit)
            return
        self.deliver(circuit, msg)

    def _t34(self, circuit: Hashable) -> None:
        entry = self.held.pop(circuit, None)
        if entry is not None:
            self.counters["t34_expired"] += 1
            self.deliver(circuit, entry[0])
