"""Continuity check equipment of ISUP circuits (Q.764 2.1.8, the check tone of Q.724 7):
the incoming exchange loops the circuit back, the outgoing one sends the 2000 Hz check tone
and reports whether it comes back.  A kernel stage over the slots of one trunk."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CHECK_TONE_HZ = 2000.0  # Q.724 7: 2000 +-20 Hz
SEND_DBM0 = -12.0  # sending level of the check tone
ACCEPT_HZ = 30.0  # a returned tone within this of 2000 Hz is the check tone
MIN_DBM0 = -30.0  # weakest returned tone accepted (the loop adds the circuit's loss twice)
RECOGNISE_MS = 60  # steady tone needed before the check counts as passed


class ContinuityEquipment:
    """Loops and check-tone transceivers on ``nslots`` fabric slots of a kernel."""

    def __init__(self, kernel, nslots: int):
        from timeslot.tonegen import ToneGenerator

        self.kernel = kernel
        self.gen = ToneGenerator(nslots, law=kernel.law)
        self._scratch = np.empty((nslots, kernel.block), np.uint8)
        self.looped: set[int] = set()
        self.checks: dict[int, tuple[object, Callable[[bool], None]]] = {}
        kernel.add_stage(self)

    def loop(self, slot: int) -> None:
        """Incoming side: what the circuit receives goes straight back."""
        self.kernel.fabric.listen(slot, slot)
        self.looped.add(slot)

    def transceive(self, slot: int, on_result: Callable[[bool], None]) -> None:
        """Outgoing side: send the check tone; ``on_result(True)`` once it comes back (the
        ISUP timer T24 decides when it has not)."""
        from timeslot.level import ToneMeter

        self.gen.tone(slot, CHECK_TONE_HZ, level=SEND_DBM0)
        self.checks[slot] = (ToneMeter(1, law=self.kernel.law, min_ms=RECOGNISE_MS,
                                       min_dbm0=MIN_DBM0), on_result)

    def release(self, slot: int) -> None:
        """Remove the loop or the transceiver from the circuit."""
        if slot in self.looped:
            self.looped.discard(slot)
            self.kernel.fabric.unlisten(slot)
        if self.checks.pop(slot, None) is not None:
            self.gen.stop(slot)

    # --- kernel stage ---------------------------------------------------------------------
    def rx(self, rx: np.ndarray, frame: int) -> None:
        for slot, (meter, on_result) in tuple(self.checks.items()):
            for ev in meter.process(rx[slot:slot + 1]):
                if abs(ev.value - CHECK_TONE_HZ) <= ACCEPT_HZ and slot in self.checks:
                    on_result(True)

    def tx(self, tx: np.ndarray, frame: int) -> None:
        if self.checks:
            self.gen.generate(self._scratch)
            for slot in self.checks:
                tx[slot] = self._scratch[slot]
