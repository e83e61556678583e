"""Receiving simple segmentation (Q.764 2.1.12): a message whose simple segmentation indicator
says an SGM follows (IAM, ACM, CPG, ANM, CON; :func:`ss7.isup_codec.announces_segment`) is held
and T34 started; the SGM's parameters are added to it and it is processed; when T34 expires it
is processed alone.  An SGM that no held message waits for is discarded; any other message for
the circuit while one is held lets the held one be processed first, then itself.  Sending is
:func:`ss7.isup_codec.segment`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from core.timers import Timers
from ss7 import isup_codec as C


class _Circuit(Protocol):
    timers: Timers


Deliver = Callable[[Any, dict[str, Any]], None]


class Reassembly:
    """Held first segments per circuit; ``deliver(circuit, msg)`` processes a message."""

    def __init__(self, deliver: Deliver, counters: dict[str, int]):
        self.deliver = deliver
        self.counters = counters
        self.held: dict[_Circuit, dict[str, Any]] = {}

    def receive(self, circuit: _Circuit, msg: dict[str, Any]) -> None:
        held = self.held.pop(circuit, None)
        if held is not None:
            circuit.timers.stop("T34")
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
            self.held[circuit] = msg
            circuit.timers.start("T34", self._t34, circuit)
            return
        self.deliver(circuit, msg)

    def _t34(self, circuit: _Circuit) -> None:
        held = self.held.pop(circuit, None)
        if held is not None:
            self.counters["t34_expired"] += 1
            self.deliver(circuit, held)
