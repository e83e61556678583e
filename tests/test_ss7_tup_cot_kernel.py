"""TUP continuity check with the kernel's continuity equipment (cti/continuity.py, the same
the ISUP trunk uses): the outgoing exchange sends the 2000 Hz check tone on the circuit's
timeslot, the incoming one loops it back over the sim E1 line (Q.724 7)."""

from __future__ import annotations

from cti.continuity import ContinuityEquipment
from ss7.stack import MemoryWire, Ss7Node, connect
from ss7.tup import TupCircuit, TupListener
from tests.kernel_rig import back_to_back

PC_A, PC_B = 0x0A0001, 0x0A0002
CICS = range(1, 4)  # CIC = timeslot of the span


class Exchange(TupListener):
    def __init__(self, kernel, span, equipment: ContinuityEquipment):
        self.kernel, self.span, self.equipment = kernel, span, equipment
        self.events: list[tuple] = []

    def on_continuity(self, call: TupCircuit, equipment):
        slot = self.kernel.span_slot(self.span, call.cic)
        self.equipment.release(slot)
        if equipment == "loop":
            self.equipment.loop(slot)
        elif equipment == "transceiver":
            self.equipment.transceive(slot, call.continuity_result)

    def on_setup(self, call):
        self.events.append(("setup", call.cic))
        call.accept()
        call.answer()

    def on_repeat_attempt(self, call, new):
        self.events.append(("repeat", call.cic, new.cic))


def exchanges(broken_loop: bool = False):
    rig = back_to_back()
    k = rig.kernel
    nslots = k.nslots
    eq_a, eq_b = ContinuityEquipment(k, nslots), ContinuityEquipment(k, nslots)
    if broken_loop:
        eq_b.loop = lambda slot: None  # a far end whose loop does not close
    ea, eb = Exchange(k, rig.pstn, eq_a), Exchange(k, rig.cc, eq_b)
    a = Ss7Node(k.loop, PC_A, variant="china", tup_listener=ea)
    b = Ss7Node(k.loop, PC_B, variant="china", tup_listener=eb)
    a.tup.add_circuits(PC_B, CICS)
    b.tup.add_circuits(PC_A, CICS)
    connect(a, b, 0, MemoryWire(k.loop, 0.001))
    a.start()
    b.start()
    k.run_for(1.0)
    assert PC_B in a.tup.available and PC_A in b.tup.available
    return k, a, b, ea, eb, eq_a, eq_b


def test_check_tone_comes_back_through_the_loop():
    k, a, b, ea, eb, eq_a, eq_b = exchanges()
    call = a.tup.setup(PC_B, "4000", continuity_check=1, cic=1)
    k.run_for(0.04)
    assert k.span_slot(a.tup.listener.span, 1) in eq_a.checks
    assert b.tup.circuit(PC_A, 1).state == "IN_WAIT_COT" and eq_b.looped
    k.run_for(0.5)
    assert call.state == "ANSWERED" and ("setup", 1) in eb.events
    assert not eq_a.checks and not eq_b.looped  # equipment removed after COT
    k.close()


def test_without_the_loop_ccf_and_the_repeat_attempt_fails_too():
    k, a, b, ea, eb, eq_a, eq_b = exchanges(broken_loop=True)
    a.tup.setup(PC_B, "4000", continuity_check=1, cic=1)
    k.run_for(2.0)  # T_CCT 1.5 s on the first circuit
    states = {n: c.state for (_, n), c in a.tup.circuits.items()}
    assert states[1] == "CC_RETEST" and b.tup.circuit(PC_A, 1).state == "CC_WAIT_CCR"
    assert ea.events and ea.events[0][:2] == ("repeat", 1)
    assert not eb.events  # never offered
    k.close()
