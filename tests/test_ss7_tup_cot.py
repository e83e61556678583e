"""China TUP continuity check (Q.724 7; Q.723 for COT/CCF/CCR and the IAM indicator): byte
vectors derived by hand, and TUP exchanges back to back over a MemoryWire with a modelled
voice line (loops, check tone that comes back or not): pass, failure with the repeat attempt on
another circuit and the CCR retest, T_CCT/T_COT/T_CCR_WAIT expiries, a check on a previous
circuit through a transit exchange."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import EncodeError
from ss7 import tup_codec as T
from ss7.stack import MemoryWire, Ss7Node, connect
from ss7.tup import TupCircuit, TupListener

CN, ITU = T.VARIANTS["china"], T.VARIANTS["itu"]
PC_A, PC_B, PC_C = 0x0A0001, 0x0A0002, 0x0A0003
TONE_MS = 0.08  # time the check tone needs to come back and be recognised


# ---- bytes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("indicator,octet", [(0, "02"), (1, "12"), (2, "22")])
def test_iam_continuity_check_indicator_bits_e_f(indicator, octet):
    # Q.723 3.3: first indicator octet, bits A-B nature of address (2 = national -> 0b10),
    # C-D nature of circuit 0, E-F continuity-check indicator (01 required on this circuit,
    # 10 performed on a previous circuit) -> 0x02 | indicator << 4; second octet K = 1, NAS 5
    name, f = T.iam_fields("12345", continuity=indicator)
    sif = T.encode(ITU, name, 2, 1, 1, f)
    assert sif.hex() == "0240001000" "11" "0a" + octet + "54" "214305"
    assert T.decode(ITU, sif)["fields"]["ind"]["continuity"] == indicator


def test_iam_continuity_indicator_spare_value_refused():
    with pytest.raises(EncodeError):
        T.iam_fields("123", continuity=3)  # 11 is spare (Q.723 3.3)


@pytest.mark.parametrize("name,heading", [("COT", "32"), ("CCF", "42"), ("CCR", "67")])
def test_cot_ccf_ccr_headings(name, heading):
    # Q.723 table: COT H0=0010 (FSM) H1=0011, CCF H0=0010 H1=0100, CCR H0=0111 (CCM) H1=0110;
    # H0 in bits 1-4, H1 in bits 5-8, no further fields.  China label 24+24+12+4 bits.
    sif = T.encode(CN, name, 0x010203, 0x040506, 0x123)
    assert sif.hex() == "030201" "060504" "2301" + heading
    assert T.decode(CN, sif)["message"] == name


# ---- back to back ---------------------------------------------------------------------------
class Line:
    """The voice circuits between exchanges: a loop connected at one end returns the check
    tone sent at the other, unless the circuit is ``broken``."""

    def __init__(self, clock):
        self.clock = clock
        self.looped: set[tuple[int, int, int]] = set()  # (looping pc, far pc, cic)
        self.broken: set[tuple[int, int, int]] = set()  # (pc, pc, cic) either way round
        self.equipment: dict[tuple[int, int], str | None] = {}

    def connect(self, pc: int, call: TupCircuit, equipment: str | None) -> None:
        self.equipment[(pc, call.cic)] = equipment
        self.looped.discard((pc, call.dpc, call.cic))
        if equipment == "loop":
            self.looped.add((pc, call.dpc, call.cic))
        elif equipment == "transceiver":
            self.clock.call_later(TONE_MS, self._tone_back, pc, call)

    def _tone_back(self, pc: int, call: TupCircuit) -> None:
        key = (call.dpc, pc, call.cic)
        if key in self.looped and key not in self.broken and (pc, call.dpc, call.cic) \
                not in self.broken and self.equipment.get((pc, call.cic)) == "transceiver":
            call.continuity_result(True)

    def break_circuit(self, a: int, b: int, cic: int) -> None:
        self.broken.add((a, b, cic))

    def repair(self) -> None:
        self.broken.clear()


class Exchange(TupListener):
    def __init__(self, pc: int, line: Line, log: list):
        self.pc, self.line, self.log = pc, line, log
        self.events: list[tuple] = []
        self.mode = "answer"
        self.transit: Ss7Node | None = None  # onward node for a transit exchange
        self.onward: dict[int, TupCircuit] = {}
        self.onward_check = 2

    def on_continuity(self, call, equipment):
        self.line.connect(self.pc, call, equipment)

    def on_continuity_pending(self, call):
        self.events.append(("pending", call.cic, call.called))
        if self.transit is not None:  # route onward at once, the check still running behind
            kw = ({"continuity_check": 2} if self.onward_check == 2 else
                  {"continuity_check": 1, "awaiting_previous": True})
            self.onward[call.cic] = self.transit.tup.setup(PC_C, call.called, **kw)

    def on_setup(self, call):
        self.events.append(("setup", call.cic, call.called))
        if call.cic in self.onward:
            self.onward[call.cic].continuity_previous(True)
        elif self.mode == "answer":
            call.accept()
            call.answer()

    def on_release(self, call):
        self.events.append(("release", call.cic))
        out = self.onward.pop(call.cic, None)
        if out is not None and out.state == "OUT_WAIT_ACM":
            out.continuity_previous(False)

    def on_answer(self, call):
        self.events.append(("answer", call.cic))

    def on_rejected(self, call, signal):
        self.events.append(("rejected", call.cic, signal))

    def on_repeat_attempt(self, call, new):
        self.events.append(("repeat", call.cic, new.cic))

    def on_maintenance(self, cic, what):
        self.events.append(("maintenance", cic, what))

    def on_reset(self, cics):
        self.events.append(("reset", tuple(cics)))


def _node(clock, pc, line, log, timers=None):
    ex = Exchange(pc, line, log)
    node = Ss7Node(clock, pc, variant="china", tup_listener=ex)
    if timers:
        node.tup.timer_table = node.tup.timer_table.with_overrides(timers)
    send = node.tup.send

    def logged(dpc, cic, name, fields=None):
        log.append((pc, dpc, cic, name))
        send(dpc, cic, name, fields)

    node.tup.send = logged
    return node, ex


def _join(clock, x, y, cics=range(1, 5)):
    x.tup.add_circuits(y.mtp3.pc, cics)
    y.tup.add_circuits(x.mtp3.pc, cics)
    connect(x, y, 0, MemoryWire(clock, 0.001))


def exchanges(clock, n=2, timers=None):
    line, log = Line(clock), []
    pcs = (PC_A, PC_B, PC_C)[:n]
    nodes = [_node(clock, pc, line, log, timers) for pc in pcs]
    for (x, _), (y, _) in zip(nodes, nodes[1:], strict=False):
        _join(clock, x, y)
    for node, _ in nodes:
        node.start()
    clock.advance(1)
    return line, log, nodes


def on(log, cic, a=PC_A, b=PC_B):
    """Message names on circuit ``cic`` between ``a`` and ``b``, either way."""
    return [m for s, d, c, m in log if c == cic and {s, d} == {a, b}]


def test_check_passes_cot_then_the_call_is_offered(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    call = a.tup.setup(PC_B, "01012345678", continuity_check=1)
    clock.advance(0.01)
    far = b.tup.circuit(PC_A, call.cic)
    assert far.state == "IN_WAIT_COT" and ("pending", call.cic, "01012345678") in eb.events
    assert line.equipment[(PC_A, call.cic)] == "transceiver"
    assert line.equipment[(PC_B, call.cic)] == "loop"
    assert not any(e[0] == "setup" for e in eb.events)  # held until COT
    clock.advance(0.2)
    assert on(log, call.cic) == ["IAM", "COT", "ACM", "ANC"]
    assert call.state == "ANSWERED" and ("setup", call.cic, "01012345678") in eb.events
    assert line.equipment == {(PC_A, call.cic): None, (PC_B, call.cic): None}
    call.release()
    clock.advance(0.1)
    assert call.state == far.state == "IDLE"


def test_digits_beyond_the_iam_wait_with_the_held_call(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    call = a.tup.setup(PC_B, "0086101234567890123", continuity_check=1)
    clock.advance(0.3)
    assert on(log, call.cic)[:3] == ["IAM", "SAM", "COT"]
    assert ("setup", call.cic, "0086101234567890123") in eb.events


def test_failure_ccf_repeat_attempt_on_another_circuit_then_retest_passes(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    line.break_circuit(PC_A, PC_B, 2)
    call = a.tup.setup(PC_B, "123", continuity_check=1, cic=2)
    clock.advance(1.6)  # T_CCT: the tone did not come back
    assert on(log, 2) == ["IAM", "CCF"]
    repeat = [e for e in ea.events if e[0] == "repeat"]
    assert repeat and repeat[0][1] == 2 and repeat[0][2] != 2
    new = repeat[0][2]
    assert on(log, new) == ["IAM", "COT", "ACM", "ANC"]  # the repeat asks for a check too
    assert ("setup", new, "123") in eb.events and ("setup", 2, "123") not in eb.events
    assert ("release", 2) in eb.events  # the held call on the failed circuit is gone
    assert call.state == "CC_RETEST" and b.tup.circuit(PC_A, 2).state == "CC_WAIT_CCR"
    assert line.equipment[(PC_B, 2)] is None  # loop removed on CCF
    line.repair()
    clock.advance(5.0)  # T_CCR: the retest
    assert on(log, 2) == ["IAM", "CCF", "CCR", "CLF", "RLG"]
    assert call.state == b.tup.circuit(PC_A, 2).state == "IDLE"
    assert ("maintenance", 2, "continuity retest passed") in ea.events
    assert line.equipment[(PC_A, 2)] is None and line.equipment[(PC_B, 2)] is None


def test_retest_fails_ccf_and_repeats_every_t_ccr_repeat(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    line.break_circuit(PC_A, PC_B, 2)
    a.tup.setup(PC_B, "123", continuity_check=1, cic=2)
    clock.advance(1.6 + 5.0 + 1.6)  # first check, T_CCR, retest tone lost (T_CCT)
    assert on(log, 2) == ["IAM", "CCF", "CCR", "CCF"]
    assert ("maintenance", 2, "continuity retest failed (2)") in ea.events
    assert b.tup.circuit(PC_A, 2).state == "CC_WAIT_CCR"
    clock.advance(115.0)  # still inside T_CCR_REPEAT (120 s)
    assert on(log, 2).count("CCR") == 1
    clock.advance(5.0 + 1.6)
    assert on(log, 2) == ["IAM", "CCF", "CCR", "CCF", "CCR", "CCF"]
    assert a.tup.circuit(PC_B, 2).cc_failures == 3
    line.repair()
    clock.advance(120.5)
    assert on(log, 2)[-3:] == ["CCR", "CLF", "RLG"]
    assert a.tup.circuit(PC_B, 2).state == b.tup.circuit(PC_A, 2).state == "IDLE"


def test_no_continuity_signal_t_cot_call_failure(clock):
    """Indicator "previous circuit" with no outcome ever reported: T_COT at the incoming
    exchange sends CFL, the outgoing one clears forward."""
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    call = a.tup.setup(PC_B, "123", continuity_check=2)
    clock.advance(0.1)
    assert b.tup.circuit(PC_A, call.cic).state == "IN_WAIT_COT"
    assert line.equipment.get((PC_B, call.cic)) is None  # no loop for a previous circuit
    clock.advance(11.5)
    assert b.tup.circuit(PC_A, call.cic).state == "IN_WAIT_COT"
    clock.advance(1.0)  # T_COT 12 s
    assert on(log, call.cic) == ["IAM", "CFL", "CLF", "RLG"]
    assert ("rejected", call.cic, "CFL") in ea.events and ("release", call.cic) in eb.events
    assert call.state == b.tup.circuit(PC_A, call.cic).state == "IDLE"


def test_no_retest_after_ccf_t_ccr_wait_resets_the_circuit(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock, timers={"T_CCR": 1000.0})
    line.break_circuit(PC_A, PC_B, 2)
    a.tup.setup(PC_B, "123", continuity_check=1, cic=2)
    clock.advance(1.6)
    assert b.tup.circuit(PC_A, 2).state == "CC_WAIT_CCR"
    clock.advance(239.0)
    assert on(log, 2) == ["IAM", "CCF"]
    clock.advance(1.0)  # T_CCR_WAIT 240 s
    assert on(log, 2) == ["IAM", "CCF", "RSC", "RLG"]
    assert a.tup.circuit(PC_B, 2).state == b.tup.circuit(PC_A, 2).state == "IDLE"


def test_ccr_without_ccf_or_clf_t_cot_resets(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    a.tup.send(PC_B, 3, "CCR")  # a retest request whose sender then goes quiet
    clock.advance(0.1)
    assert b.tup.circuit(PC_A, 3).state == "CC_LOOPED" and line.equipment[(PC_B, 3)] == "loop"
    clock.advance(12.0)
    assert on(log, 3) == ["CCR", "RSC", "RLG"]
    assert b.tup.circuit(PC_A, 3).state == "IDLE" and line.equipment[(PC_B, 3)] is None


def test_maintenance_retest_of_an_idle_circuit(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    a.tup.circuit(PC_B, 4).continuity_recheck()
    clock.advance(0.3)
    assert on(log, 4) == ["CCR", "CLF", "RLG"]
    assert not any(e[0] == "release" for e in eb.events)  # no call was involved


def test_release_during_the_check_removes_the_equipment(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    call = a.tup.setup(PC_B, "123", continuity_check=1)
    clock.advance(0.01)
    call.release()
    clock.advance(0.1)
    assert on(log, call.cic) == ["IAM", "CLF", "RLG"]
    assert line.equipment == {(PC_A, call.cic): None, (PC_B, call.cic): None}
    assert call.state == "IDLE" and ("release", call.cic) in eb.events


@pytest.mark.parametrize("onward_check", [2, 1])
def test_transit_check_on_a_previous_circuit(clock, onward_check):
    """A -> B -> C: B routes onward before A's check is done, with "check performed on a
    previous circuit" (or a check of its own circuit as well); C is offered the call only
    after B relays COT, which waits for A's COT."""
    line, log, [(a, ea), (b, eb), (c, ec)] = exchanges(clock, 3)
    eb.transit, eb.onward_check = b, onward_check
    call = a.tup.setup(PC_B, "5551234", continuity_check=1)
    clock.advance(0.3)
    out = [(s, d, n, m) for s, d, n, m in log if s == PC_B and d == PC_C]
    assert [m for *_, m in out][:2] == ["IAM", "COT"]
    # B's COT toward C comes after A's COT toward B
    assert log.index((PC_A, PC_B, call.cic, "COT")) < log.index(out[1])
    assert ("setup", out[0][2], "5551234") in ec.events
    assert c.tup.circuit(PC_B, out[0][2]).cc_mode == onward_check  # indicator B sent


def test_transit_previous_circuit_fails_onward_call_cleared(clock):
    """A's check toward B fails: B clears its onward call toward C with CLF (C is never
    offered it), A repeats on another circuit and that one goes through."""
    line, log, [(a, ea), (b, eb), (c, ec)] = exchanges(clock, 3)
    eb.transit = b
    line.break_circuit(PC_A, PC_B, 2)
    a.tup.setup(PC_B, "5551234", continuity_check=1, cic=2)
    clock.advance(2.0)
    bc = [(n, m) for s, d, n, m in log if {s, d} == {PC_B, PC_C}]
    first = bc[0][0]
    assert [m for n, m in bc if n == first] == ["IAM", "CLF", "RLG"]
    assert ("release", first) in ec.events
    assert sum(1 for e in ec.events if e[0] == "setup") == 1  # the repeat attempt only
    assert any(m == "COT" for n, m in bc if n != first)


def test_awaiting_previous_needs_a_check_of_this_circuit(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    with pytest.raises(ValueError):
        a.tup.setup(PC_B, "1", continuity_check=0, awaiting_previous=True)
    call = a.tup.setup(PC_B, "1")
    with pytest.raises(ValueError):
        call.continuity_previous(True)  # nothing awaited


def test_dual_seizure_during_a_check_backs_off_and_drops_the_transceiver(clock):
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    ea.mode = eb.mode = "wait"
    # CIC 2 is even and B has the higher point code: B controls it, A backs off
    ca = a.tup.setup(PC_B, "111", cic=2, continuity_check=1)
    b.tup.setup(PC_A, "222", cic=2)
    clock.advance(2.0)  # past T_CCT: the abandoned check must not fire
    assert ca.state == "IN_SETUP" and line.equipment[(PC_A, 2)] is None
    repeat = [e for e in ea.events if e[0] == "repeat"]
    assert repeat and repeat[0][1] == 2
    assert ("setup", repeat[0][2], "111") in eb.events  # repeated, checked, offered


@settings(max_examples=25)
@given(st.sets(st.integers(1, 4)), st.integers(1, 3))
def test_any_broken_circuits_each_call_offered_once_on_a_good_one_then_all_idle(broken, calls):
    from core.clock import VirtualClock

    clock = VirtualClock()
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    for cic in broken:
        line.break_circuit(PC_A, PC_B, cic)
    refused = 0
    for n in range(calls):
        try:
            a.tup.setup(PC_B, f"55{n}", continuity_check=1)
        except LookupError:
            refused += 1
    clock.advance(6.3)  # up to four failed checks in a row (T_CCT each)
    offered = [e for e in eb.events if e[0] == "setup"]
    lost = [e for e in ea.events if e[0] == "maintenance" and "no circuit" in e[2]]
    assert len(offered) + len(lost) + refused == calls
    assert sorted({e[2] for e in offered}) == sorted(e[2] for e in offered)  # once each
    assert all(e[1] not in broken for e in offered)
    for c in list(a.tup.circuits.values()):
        if c.state == "ANSWERED":
            c.release()
    line.repair()
    clock.advance(130.0)  # T_CCR or T_CCR_REPEAT: every failed circuit passes its retest
    for node in (a, b):
        assert {c.state for c in node.tup.circuits.values()} == {"IDLE"}
    assert set(line.equipment.values()) <= {None}


_RX = {
    "IAM": lambda d: T.iam_fields("123", continuity=d.draw(st.integers(0, 2)))[1],
    "SAO": lambda d: {"sao": {"digit": 5, "filler": 0}},
    "ACM": lambda d: {"ind": {"type": 1, "free": 1, "echo": 0, "forwarded": 0, "path": 1,
                              "spare": 0}},
    **{name: (lambda d: {}) for name in ("COT", "CCF", "CCR", "CLF", "RLG", "ANC", "CBK", "RAN",
                                         "SSB", "CFL", "RSC", "BLO", "UBL", "BLA", "UBA")},
}


@settings(max_examples=40)
@given(st.data())
def test_any_signal_sequence_in_any_state_is_handled(data):
    """Signals from the far end in any order, with timers expiring between them, while our
    side runs its own check on the same circuits: never an exception, and a reset at the end
    returns every circuit to idle with no equipment left connected."""
    from core.clock import VirtualClock

    clock = VirtualClock()
    line, log, [(a, ea), (b, eb)] = exchanges(clock)
    ea.mode = "wait"
    if data.draw(st.booleans()):
        line.break_circuit(PC_A, PC_B, 1)
    for _ in range(data.draw(st.integers(1, 25))):
        action = data.draw(st.sampled_from([*sorted(_RX), "advance", "setup", "recheck"]))
        cic = data.draw(st.integers(1, 2))
        if action == "advance":
            clock.advance(data.draw(st.sampled_from([0.01, 0.1, 1.6, 5.0, 12.5, 130.0])))
        elif action == "setup":
            try:
                a.tup.setup(PC_B, "77", continuity_check=data.draw(st.integers(0, 2)), cic=cic)
            except LookupError:
                pass
        elif action == "recheck":
            c = a.tup.circuit(PC_B, cic)
            if c.state == "IDLE":
                c.continuity_recheck()
        else:
            sif = T.encode(CN, action, PC_A, PC_B, cic, _RX[action](data))
            a.tup.mtp_transfer(PC_B, PC_A, cic & 15, sif)
    for cic in (1, 2):
        a.tup.circuit(PC_B, cic).reset()
    line.repair()
    clock.advance(1.0)
    assert {c.state for c in a.tup.circuits.values()} == {"IDLE"}
    assert {c.state for c in b.tup.circuits.values()} == {"IDLE"}
    assert set(line.equipment.values()) <= {None}
