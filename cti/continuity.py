"""Continuity check equipment of ISUP and TUP circuits (Q.764 2.1.8, Q.724 7): the incoming
exchange loops the circuit back, the outgoing one sends the 2000 Hz check tone and reports
whether it comes back.  A kernel stage over the slots of one trunk.

The transceiver's limits (Q.724 7.4, which Q.764 2.1.8 refers to): the tone is sent at
2000 +-20 Hz, -12 +-1 dBm0; the receiver must recognise a returned tone of 2000 +-30 Hz whose
level shows a loop loss (or gain) of at most 6 dB (-18 to -6 dBm0) and must not recognise a
tone weaker than -27 dBm0 (15 dB loss or more) or off 2000 Hz by more than 200 Hz.  Between
the operate and non-operate limits the recommendation leaves the outcome open; this receiver
recognises the operate window only (:func:`check_tone_recognised`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CHECK_TONE_HZ = 2000.0  # Q.724 7.4: sent at 2000 +-20 Hz
SEND_DBM0 = -12.0  # Q.724 7.4: sending level -12 +-1 dBm0
OPERATE_HZ = 30.0  # returned tone within this of 2000 Hz: recognised
OPERATE_DBM0 = (-18.0, -6.0)  # returned level recognised (loop loss or gain <= 6 dB)
NON_OPERATE_HZ = 200.0  # further than this from 2000 Hz: never recognised
NON_OPERATE_DBM0 = -27.0  # this weak or weaker: never recognised (loop loss >= 15 dB)
RECOGNISE_MS = 60  # steady tone needed before the check counts as passed
METER_FLOOR_DBM0 = -40.0  # the meter measures tones down to here; the window judges them


def check_tone_recognised(hz: float, dbm0: float) -> bool:
    """Whether a steady returned tone of ``hz`` at ``dbm0`` passes the check (Q.724 7.4):
    inside the operate window; everything else, including the open band between the operate
    and non-operate limits, fails."""
    return abs(hz - CHECK_TONE_HZ) <= OPERATE_HZ and \
        OPERATE_DBM0[0] <= dbm0 <= OPERATE_DBM0[1]


class CheckToneReceiver:
    """The receiving half of one check-tone transceiver: a steady-tone meter on the circuit
    (:class:`timeslot.level.ToneMeter`) judged by :func:`check_tone_recognised`."""

    def __init__(self, law: str):
        from timeslot.level import ToneMeter

        self.meter = ToneMeter(1, law=law, min_ms=RECOGNISE_MS, min_dbm0=METER_FLOOR_DBM0)
        self.measured: list[tuple[int, float]] = []  # (Hz, dBm0) of each steady tone heard

    def feed(self, block: np.ndarray) -> bool:
        """One [1 x frames] block of the circuit's receive side; True when a steady tone in
        it (measured after :data:`RECOGNISE_MS`) is the check tone."""
        hit = False
        for ev in self.meter.process(block):
            dbm0 = ev.extra / 100.0
            self.measured.append((ev.value, dbm0))
            hit = hit or check_tone_recognised(ev.value, dbm0)
        return hit


class ContinuityEquipment:
    """Loops and check-tone transceivers on ``nslots`` fabric slots of a kernel."""

    def __init__(self, kernel, nslots: int):
        from timeslot.tonegen import ToneGenerator

        self.kernel = kernel
        self.gen = ToneGenerator(nslots, law=kernel.law)
        self._scratch = np.empty((nslots, kernel.block), np.uint8)
        self.looped: set[int] = set()
        self.checks: dict[int, tuple[CheckToneReceiver, Callable[[bool], None]]] = {}
        kernel.add_stage(self)

    def loop(self, slot: int) -> None:
        """Incoming side: what the circuit receives goes straight back."""
        self.kernel.fabric.listen(slot, slot)
        self.looped.add(slot)

    def transceive(self, slot: int, on_result: Callable[[bool], None]) -> None:
        """Outgoing side: send the check tone; ``on_result(True)`` once it comes back (the
        ISUP timer T24 or the TUP's T_CCT decides when it has not)."""
        self.gen.tone(slot, CHECK_TONE_HZ, level=SEND_DBM0)
        self.checks[slot] = (CheckToneReceiver(self.kernel.law), on_result)

    def release(self, slot: int) -> None:
        """Remove the loop or the transceiver from the circuit."""
        if slot in self.looped:
            self.looped.discard(slot)
            self.kernel.fabric.unlisten(slot)
        if self.checks.pop(slot, None) is not None:
            self.gen.stop(slot)

    # --- kernel stage ---------------------------------------------------------------------
    def rx(self, rx: np.ndarray, frame: int) -> None:
        for slot, (receiver, on_result) in tuple(self.checks.items()):
            if receiver.feed(rx[slot:slot + 1]) and slot in self.checks:
                on_result(True)

    def tx(self, tx: np.ndarray, frame: int) -> None:
        if self.checks:
            self.gen.generate(self._scratch)
            for slot in self.checks:
                tx[slot] = self._scratch[slot]
