"""China national TUP procedures (GF 001-9001 codes; procedures after Q.724 where the China
text is not public): malicious call identification with hold (GRQ/GSM indicators of Q.723
3.6/3.7, MAL, CCL), the operator signal OPR, metering pulse messages MPM and automatic
congestion control ACC - two exchanges back to back, every message's bytes derived by hand.

China label (GF 001-9001): DPC 24 bits, OPC 24 bits, CIC 12 bits + 4 spare, each least
significant octet first; then the heading octet, H0 in bits 1-4 and H1 in bits 5-8."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fsm import UnexpectedEvent
from ss7 import tup_codec as T
from ss7.stack import MemoryWire, Ss7Node, connect
from ss7.tup import TupCongested, TupListener

A, B = 0x0A0001, 0x0A0002
LABEL_B_TO_A = "01000a" "02000a"  # DPC A, OPC B
LABEL_A_TO_B = "02000a" "01000a"


def label(dpc_opc: str, cic: int) -> str:
    return dpc_opc + f"{cic & 0xFF:02x}{cic >> 8:02x}"


class Rec(TupListener):
    def __init__(self):
        self.events: list[tuple] = []

    def on_setup(self, call):
        self.events.append(("setup", call.cic, call.calling))
        if call.state == "IN_SETUP":
            call.accept()

    def on_malicious(self, call):
        self.events.append(("malicious", call.cic, call.calling, call.called))

    def on_calling_cleared(self, call):
        self.events.append(("ccl", call.cic))

    def on_operator(self, call):
        self.events.append(("opr", call.cic))

    def on_metering(self, call, pulses, total):
        self.events.append(("metering", pulses, total))

    def on_traffic_control(self, dpc, step, acc_level):
        self.events.append(("traffic", dpc, step, acc_level))

    def on_release(self, call):
        self.events.append(("release", call.cic))

    def on_clear_back(self, call):
        self.events.append(("cbk", call.cic))


def pair(clock, timers=None):
    ra, rb = Rec(), Rec()
    a = Ss7Node(clock, A, variant="china", tup_listener=ra, tup_timers=timers)
    b = Ss7Node(clock, B, variant="china", tup_listener=rb)
    a.tup.add_circuits(B, range(1, 31))
    b.tup.add_circuits(A, range(1, 31))
    connect(a, b, 0, MemoryWire(clock, 0.001))
    a.start()
    b.start()
    clock.advance(1)
    sent: list[tuple[str, str]] = []  # (sender, SIF hex) as the user parts hand them to MTP3
    for who, node in (("a", a), ("b", b)):
        transfer = node.mtp3.transfer_sif

        def spy(si, dpc, sls, sif, _t=transfer, _w=who):
            sent.append((_w, bytes(sif).hex()))
            return _t(si, dpc, sls, sif)
        node.mtp3.transfer_sif = spy
    return a, b, ra, rb, sent


def answered(clock, a, b, category=None, calling="13900001111"):
    call = a.tup.setup(B, "01012345678", calling, category=category)
    clock.advance(0.1)
    far = b.tup.circuit(A, call.cic)
    far.answer()
    clock.advance(0.1)
    assert call.state == far.state == "ANSWERED"
    return call, far


def test_national_message_codes_gf_001_9001():
    cn = T.VARIANTS["china"]
    # ACC: H0 = 10 (CNM) H1 = 1 -> 0x1a; ACC information bits BA = congestion level
    assert T.encode(cn, "ACC", A, B, 1, {"acc": {"level": 2, "spare": 0}}).hex() == \
        label(LABEL_B_TO_A, 1) + "1a" "02"
    # MPM: H0 = 12 (NSB) H1 = 2 -> 0x2c; 16-bit charging information, first octet least
    assert T.encode(cn, "MPM", A, B, 5, {"pulses": 0x0103}).hex() == \
        label(LABEL_B_TO_A, 5) + "2c" "0301"
    # OPR: H0 = 13 (NCB) H1 = 1; MAL: H0 = 15 (NAM) H1 = 1; CCL: H0 = 6 (CSM) H1 = 7
    assert T.encode(cn, "OPR", B, A, 0x123, {}).hex() == label(LABEL_A_TO_B, 0x123) + "1d"
    assert T.encode(cn, "MAL", A, B, 7, {}).hex() == label(LABEL_B_TO_A, 7) + "1f"
    assert T.encode(cn, "CCL", B, A, 7, {}).hex() == label(LABEL_A_TO_B, 7) + "76"


def test_malicious_call_identification_with_hold(clock):
    """The called side asks for the calling line identity with the malicious-call and hold
    indicators; the originating exchange records the call, answers GSM with them, and at
    the calling party's clear sends CCL and holds the circuit until the called party clears
    back (CBK, then CLF - RLG)."""
    a, b, ra, rb, sent = pair(clock)
    call, far = answered(clock, a, b, calling="13900001111")
    sent.clear()
    far.request_calling(malicious=True, hold=True)
    clock.advance(0.1)
    c = call.cic
    # GRQ (H0 = 3 H1 = 1 -> 0x13): A category, B CLI, D malicious call, E hold -> 0x1b
    assert sent[0] == ("b", label(LABEL_B_TO_A, c) + "13" "1b")
    # GSM (H0 = 2 H1 = 1 -> 0x12): A category, B CLI, F malicious, G hold -> 0x63; category
    # 10 -> 0x0a; CLI head NOA 2, not restricted, NAS 11 -> 0xb2; digits 31 09 00 10 11 01
    assert sent[1] == ("a", label(LABEL_A_TO_B, c) + "12" "63" "0a" "b2" "310900101101")
    assert ("malicious", c, "13900001111", "01012345678") in ra.events
    assert far.calling == "13900001111" and far.hold and call.hold
    sent.clear()
    call.release()  # calling party hangs up: held
    clock.advance(0.1)
    assert sent == [("a", label(LABEL_A_TO_B, c) + "76")]  # CCL, not CLF
    assert call.state == "HELD" and far.state == "ANSWERED" and ("ccl", c) in rb.events
    far.report_malicious()  # MAL while held: already recorded, not reported twice
    clock.advance(0.1)
    assert sent[-1] == ("b", label(LABEL_B_TO_A, c) + "1f")
    assert [e for e in ra.events if e[0] == "malicious"] == [
        ("malicious", c, "13900001111", "01012345678")]
    clock.advance(30)
    assert call.state == "HELD"  # no timer gives the connection up
    far.clear_back()
    clock.advance(0.1)
    assert [s[1][-2:] for s in sent[-3:]] == ["36", "46", "17"]  # CBK, CLF, RLG
    assert call.state == far.state == "IDLE" and ("release", c) in rb.events


def test_mal_alone_is_recorded_and_release_without_hold_is_clf(clock):
    a, b, ra, rb, sent = pair(clock)
    call, far = answered(clock, a, b)
    far.report_malicious()
    clock.advance(0.1)
    assert ("malicious", call.cic, "13900001111", "01012345678") in ra.events
    sent.clear()
    call.release()
    clock.advance(0.1)
    assert sent[0] == ("a", label(LABEL_A_TO_B, call.cic) + "46")  # CLF
    assert call.state == far.state == "IDLE"
    with pytest.raises(UnexpectedEvent):
        far.report_malicious()  # no call on the circuit


def test_operator_re_rings_the_called_party(clock):
    """An operator's call (category 9, national operator): after the called party clears
    back, OPR asks the terminating exchange to ring again; the re-answer is RAN."""
    a, b, ra, rb, sent = pair(clock)
    call, far = answered(clock, a, b, category=9)
    far.clear_back()
    clock.advance(0.1)
    assert call.state == "CLEARED_BACK"
    sent.clear()
    call.operator_recall()
    clock.advance(0.1)
    assert sent == [("a", label(LABEL_A_TO_B, call.cic) + "1d")]
    assert ("opr", call.cic) in rb.events and far.state == "IN_CLEARED_BACK"
    far.answer()  # the called party answers the re-ringing: RAN (H0 = 6 H1 = 5)
    clock.advance(0.1)
    assert sent[-1] == ("b", label(LABEL_B_TO_A, call.cic) + "56")
    assert call.state == "ANSWERED"


def test_opr_needs_an_operator_category(clock):
    a, b, ra, rb, sent = pair(clock)
    call, far = answered(clock, a, b)  # category 10, ordinary subscriber
    with pytest.raises(ValueError, match="operator"):
        call.operator_recall()


def test_metering_pulses_counted_per_unit_charging_time(clock):
    """MPM before answer sets the rate; from answer each unit charging time (T_MPM) counts
    its pulses for the application; a new MPM changes the rate of the next units; the
    calling party's clear ends the charging."""
    a, b, ra, rb, sent = pair(clock, {"T_MPM": 10.0})
    call = a.tup.setup(B, "01012345678", "13900001111")
    clock.advance(0.1)
    far = b.tup.circuit(A, call.cic)
    sent.clear()
    far.charge(3)
    clock.advance(0.1)
    assert sent == [("b", label(LABEL_B_TO_A, call.cic) + "2c" "0300")]
    assert call.metering_rate == 3 and not [e for e in ra.events if e[0] == "metering"]
    far.answer()
    clock.advance(0.1)
    clock.advance(10)
    far.charge(5)
    clock.advance(10)
    call.release()
    clock.advance(30)
    assert [e for e in ra.events if e[0] == "metering"] == [
        ("metering", 3, 3), ("metering", 3, 6), ("metering", 5, 11)]
    with pytest.raises(ValueError):
        far.charge(0x10000)


def test_acc_reduces_traffic_toward_the_congested_exchange(clock):
    """B overloaded at level 1: ACC to A (and again with each call B refuses); A admits half
    its new calls toward B (the ISUP's ACC share), refusing the others with cause 42, until
    T_acc passes without another ACC."""
    a, b, ra, rb, sent = pair(clock)
    b.tup.set_overload(1)
    clock.advance(0.1)
    assert sent == [("b", label(LABEL_B_TO_A, 1) + "1a" "01")]
    assert ra.events[-1] == ("traffic", B, 0, 1)
    outcomes = []
    for n in range(6):
        try:
            a.tup.setup(B, f"0101234567{n}")
            outcomes.append(True)
        except TupCongested as e:
            assert e.cause == 42 and e.acc_level == 1
            outcomes.append(False)
    assert outcomes.count(True) == 3
    clock.advance(0.1)
    # a call B refuses while overloaded: the unsuccessful signal, then ACC on its circuit
    call = next(c for c in a.tup.circuits.values() if c.state == "OUT_WAIT_ANSWER")
    sent.clear()
    b.tup.circuit(A, call.cic).reject("SEC")
    clock.advance(0.1)
    assert sent[:2] == [("b", label(LABEL_B_TO_A, call.cic) + "15"),
                        ("b", label(LABEL_B_TO_A, call.cic) + "1a" "01")]
    b.tup.set_overload(0)
    clock.advance(a.tup.timer_table.values["T_acc"] + 0.1)
    assert ra.events[-1] == ("traffic", B, 0, 0)
    assert a.tup.controls[B].share == 1.0
    with pytest.raises(ValueError):
        b.tup.set_overload(3)


@pytest.mark.parametrize("level", [0, 3])
def test_acc_with_a_spare_level_changes_nothing(clock, level):
    a, b, ra, rb, sent = pair(clock)
    b.tup.send(A, 1, "ACC", {"acc": {"level": level, "spare": 0}})
    clock.advance(0.1)
    assert B not in a.tup.controls and not [e for e in ra.events if e[0] == "traffic"]


_NATIONAL = {"ACC": st.builds(lambda lv: {"acc": {"level": lv, "spare": 0}}, st.integers(0, 3)),
             "MPM": st.builds(lambda p: {"pulses": p}, st.integers(0, 0xFFFF)),
             "OPR": st.just({}), "MAL": st.just({}), "CCL": st.just({}), "CBK": st.just({}),
             "RAN": st.just({}), "CLF": st.just({})}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(sorted(_NATIONAL)), st.data()),
                max_size=8), st.booleans())
def test_national_messages_in_any_order_leave_valid_states(script, hold):
    """Any sequence of national (and clearing) messages from either side, in whatever state
    the call has reached, is handled or ignored by the tables - never an exception - and a
    reset still returns both circuits to idle."""
    from core.clock import VirtualClock

    clock = VirtualClock()
    a, b, ra, rb, sent = pair(clock)
    call, far = answered(clock, a, b, category=9)
    if hold:
        far.request_calling(malicious=True, hold=True)
        clock.advance(0.1)
    for from_b, name, data in script:
        src, dst = (b, A) if from_b else (a, B)
        src.tup.send(dst, call.cic, name, data.draw(_NATIONAL[name]))
        clock.advance(0.1)
        assert call.state in call.fsm.state_set and far.state in far.fsm.state_set
    call.reset()
    clock.advance(1)
    assert call.state == far.state == "IDLE"


def test_tup_trunk_puts_metering_and_malicious_in_the_call_data():
    """Through the kernel: the charging side's MPM and MAL reach the caller's call data."""
    import asyncio

    from cti.calls import Call, CallState
    from cti.trunks.tup import TupTrunk
    from tests.kernel_rig import back_to_back

    rig = back_to_back()
    pstn = TupTrunk(rig.kernel, "pstn", rig.pstn, opc=A, dpc=B, variant="china")
    cc = TupTrunk(rig.kernel, "cc", rig.cc, opc=B, dpc=A, variant="china",
                  on_offered=rig.offered.append)
    rig.links_up(pstn, cc)

    async def scenario():
        out = Call(trunk=pstn, direction="out", dnis="4000", ani="0212345678",
                   clock=rig.kernel.now)
        out.dial()
        await asyncio.sleep(0.5)
        inc = rig.offered[0]
        far = next(c for c, call in cc.calls.items() if call is inc)
        inc.alert()  # ACM first: MPM is a successful backward set-up message
        await out.wait(CallState.ALERTING, timeout=5)
        far.charge(2)
        inc.answer()
        await out.wait(CallState.CONNECTED, timeout=5)
        far.report_malicious()
        await asyncio.sleep(0.5)
        return out

    out = rig.kernel.run(scenario())
    assert out.data["metering_pulses"] == 2 and out.data["malicious"] is True
    rig.kernel.close()
