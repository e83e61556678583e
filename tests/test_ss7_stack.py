"""Back-to-back SS7 stacks on the virtual clock: MTP2 alignment and monitors, MTP3 changeover,
ISUP procedures and compatibility handling (Q.703, Q.704, Q.764)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ss7 import isup_codec as C
from ss7.isup import IsupListener
from ss7.mtp3_codec import SI_ISUP
from ss7.stack import MemoryWire, Ss7Node, connect


class Rec(IsupListener):
    def __init__(self, answer: bool = True):
        self.events: list[tuple] = []
        self.answer = answer

    def on_setup(self, call):
        self.events.append(("setup", call.cic, call.called, call.calling))
        if self.answer:
            call.accept()
            call.answer()

    def on_release(self, call, cause):
        self.events.append(("release", call.cic, cause))

    def on_confusion(self, cic, cause):
        self.events.append(("cfn", cic, cause))

    def on_glare(self, call):
        self.events.append(("glare", call.cic))


def pair(clock, links=1, answer=True, emergency=True):
    ra, rb = Rec(answer), Rec(answer)
    a = Ss7Node(clock, 1, isup_listener=ra)
    b = Ss7Node(clock, 2, isup_listener=rb)
    a.isup.add_circuits(2, range(1, 32))
    b.isup.add_circuits(1, range(1, 32))
    wires = [MemoryWire(clock, 0.001) for _ in range(links)]
    pairs = [connect(a, b, slc, w) for slc, w in enumerate(wires)]
    for la, lb in pairs:
        if not emergency:
            la.mtp2.iac.emergency = lb.mtp2.iac.emergency = False
    a.start()
    b.start()
    return a, b, ra, rb, wires, pairs


def test_emergency_alignment_takes_pe_and_normal_takes_pn(clock):
    a, b, *_ , pairs = pair(clock)
    clock.advance(0.6)
    assert pairs[0][0].mtp2.state == "IN_SERVICE"  # T4 emergency 0.5 s (Q.703 12.3)
    clock2 = type(clock)()
    a, b, *_, pairs = pair(clock2, emergency=False)
    clock2.advance(8.0)
    assert pairs[0][0].mtp2.state == "INITIAL_ALIGNMENT"
    clock2.advance(0.3)
    assert pairs[0][0].mtp2.state == "IN_SERVICE"  # Pn = 8.2 s
    assert 2 in a.mtp3.accessible and 1 in b.mtp3.accessible


def test_alignment_fails_after_t2_without_peer(clock):
    a = Ss7Node(clock, 1)
    sent = []
    link = a.add_link(2, 0, sent.append)
    a.start()
    clock.advance(49)
    assert link.mtp2.state == "INITIAL_ALIGNMENT"
    clock.advance(2)  # T2 = 50 s: alignment not possible, SIOS, T17 then retry
    assert sent[0][3] == 0 and any(f[3:] == b"\x03" for f in sent)


def test_call_and_release_through_all_layers(clock):
    a, b, ra, rb, *_ = pair(clock)
    clock.advance(1)
    call = a.isup.setup(2, "1234567", "7654321", presentation=1)
    clock.advance(0.1)
    assert call.state == "ANSWERED"
    assert rb.events[0] == ("setup", call.cic, "1234567", "7654321")
    call.release(16)
    clock.advance(0.1)
    assert call.state == "IDLE" and ("release", call.cic, 16) in rb.events


def test_t7_expiry_releases_with_cause_102(clock):
    a, b, ra, rb, *_ = pair(clock, answer=False)
    clock.advance(1)
    b.isup.mtp_transfer = lambda *args: None  # the far end never answers the IAM
    call = a.isup.setup(2, "1", None)
    clock.advance(25.1)  # T7 = 25 s (Q.764 A.1)
    assert ("release", call.cic, 102) in ra.events and call.state == "WAIT_RLC"


def test_changeover_loses_nothing_and_keeps_order(clock):
    a, b, ra, rb, wires, pairs = pair(clock, links=2)
    clock.advance(1)
    got = []
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: got.append(data)
    sent = [C.encode("INF", 2, {"information": i}) for i in range(40)]
    for data in sent:
        a.mtp3.transfer(SI_ISUP, 2, 2, data)  # SLS 2 -> link 0
    wires[0].cut()  # the link fails with MSUs unacknowledged in MTP2
    clock.advance(3)
    assert pairs[0][0].state == "FAILED" and pairs[1][0].state == "AVAILABLE"
    assert got == sent  # COO/COA retrieval: no loss, no duplicate, order kept
    wires[0].splice()
    clock.advance(20)
    assert pairs[0][0].state == "AVAILABLE"  # realigned, SLT passed, changeback done
    more = [C.encode("INF", 2, {"information": 100 + i}) for i in range(5)]
    for data in more:
        a.mtp3.transfer(SI_ISUP, 2, 2, data)
    clock.advance(1)
    assert got == sent + more


def test_suerm_takes_link_out_and_it_realigns(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    la = pairs[0][0]
    for _ in range(64):  # Q.703 10.2: T = 64 errored SUs
        la.mtp2.rx_error()
    assert la.mtp2.state == "OUT_OF_SERVICE"
    assert "SUERM" in la.mtp2.failure_reason
    clock.advance(5)
    assert la.mtp2.state == "IN_SERVICE" and la.state == "AVAILABLE"


def test_unknown_message_gets_cfn_and_link_stays_up(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    a.mtp3.transfer(SI_ISUP, 2, 1, bytes((1, 0, 0xEE, 0)))  # type 0xEE, no compatibility info
    clock.advance(0.1)
    assert ("cfn", 1, 97) in ra.events and b.isup.counters["cfn_sent"] == 1
    assert pairs[0][0].mtp2.state == "IN_SERVICE"


@pytest.mark.parametrize("instr,expect", [
    ({"discard_parameter": 1, "send_notification": 1}, ("cfn", 1, 99)),
    ({"release_call": 1}, ("release", 1, 99)),
])
def test_unknown_parameter_follows_parameter_compatibility(clock, instr, expect):
    a, b, ra, rb, *_ = pair(clock, answer=False)
    clock.advance(1)
    full = {"transit": 0, "release_call": 0, "send_notification": 0, "discard_message": 0,
            "discard_parameter": 0, "pass_on_not_possible": 0, "ext": 1} | instr
    params = {"nature_of_connection": C.nature_of_connection(), "forward_call": C.forward_call(),
              "calling_category": 10, "transmission_medium_requirement": 0,
              "called": C.called_party("123F"),
              "parameter_compatibility": [{"code": 0xFA, "instr": full}]}
    a.isup.circuit(2, 1).state = "OUT_WAIT_ACM"
    a.isup.send(2, 1, "IAM", params, unknown_params=[{"code": 0xFA, "raw": b"\x01"}])
    clock.advance(0.1)
    assert expect in ra.events or expect in rb.events


def test_dual_seizure_point_code_rule(clock):
    a, b, ra, rb, *_ = pair(clock, answer=False)
    clock.advance(1)
    # CIC 2 is even: B (PC 2, the higher) controls it; A backs off and reattempts
    ca = a.isup.setup(2, "111", None, cic=2)
    cb = b.isup.setup(1, "222", None, cic=2)
    clock.advance(0.5)
    assert ("glare", 2) in ra.events and ("glare", 2) not in rb.events
    assert cb.state == "OUT_WAIT_ACM" and ca.state == "IN_WAIT_ACM"
    assert any(e[0] == "setup" and e[2] == "111" and e[1] != 2 for e in rb.events)


def test_group_reset_on_restart_and_blocking(clock):
    a, b, ra, rb, *_ = pair(clock)
    clock.advance(1)
    assert not a.isup._grs_pending and not b.isup._grs_pending  # GRS answered by GRA
    a.isup.block(5)
    clock.advance(0.1)
    assert a.isup.circuit(2, 5).local_blocked and b.isup.circuit(1, 5).remote_blocked
    a.isup.group_block(2, 1, [1, 3], hardware=False)
    clock.advance(0.1)
    assert b.isup.circuit(1, 3).remote_blocked and a.isup.circuit(2, 3).local_blocked


def test_negative_ack_retransmits_lost_msu(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    got = []
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: got.append(data)
    msgs = [C.encode("INF", 2, {"information": i}) for i in range(3)]
    wire = wires[0]
    real = wire.receivers[1]
    dropped = []

    def lossy(su):  # lose the first MSU once: the next one shows a gap, BIB is inverted
        if (su[2] & 0x3F) >= 3 and not dropped:
            dropped.append(su)
            return
        real(su)
    wire.attach(1, lossy)
    for m in msgs:
        a.mtp3.transfer(SI_ISUP, 2, 0, m)
    clock.advance(0.5)
    assert got == msgs  # Q.703 5.3: retransmitted in order, nothing duplicated
    assert pairs[0][1].mtp2.counters["nacks_sent"] == 1
    assert pairs[0][0].mtp2.counters["retransmitted"] >= 3


def test_t7_excessive_delay_of_acknowledgement_fails_the_link(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    wires[0].attach(1, lambda su: None)  # B hears nothing more: no acknowledgement
    a.mtp3.transfer(SI_ISUP, 2, 0, C.encode("RLC", 1, {}))
    clock.advance(0.9)
    assert pairs[0][0].mtp2.state == "IN_SERVICE"
    clock.advance(0.2)  # T7 = 1 s
    assert pairs[0][0].mtp2.failure_reason.startswith("T7")


def test_aerm_aborts_proving_and_fails_after_five_attempts(clock):
    a, b, ra, rb, wires, pairs = pair(clock, emergency=False)
    la = pairs[0][0].mtp2
    clock.advance(0.01)
    for _attempt in range(5):
        assert la.iac.state == "PROVING"
        for _ in range(5):  # Tin = 4: the fifth error in a proving period aborts it
            la.rx_error()
    assert la.state == "OUT_OF_SERVICE" and la.iac.state == "IDLE"


def test_octet_counting_feeds_suerm(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    la = pairs[0][0].mtp2
    la.octet_counting(16 * 63)
    assert la.state == "IN_SERVICE"
    la.octet_counting(16)  # the 64th error (one per 16 octets, Q.703 10.2.2)
    assert la.state == "OUT_OF_SERVICE"


def test_processor_outage_and_recovery(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    la, lb = pairs[0][0], pairs[0][1]
    la.mtp2.set_local_processor_outage(True)
    clock.advance(0.1)
    assert la.mtp2.state == "PROCESSOR_OUTAGE" and lb.mtp2.remote_po
    assert lb.state != "AVAILABLE"  # MTP3 takes the link out of traffic (Q.704 4.1)
    la.mtp2.set_local_processor_outage(False)
    clock.advance(0.5)
    assert not lb.mtp2.remote_po and lb.mtp2.state == "IN_SERVICE"
    assert lb.state == "AVAILABLE"  # tested again with SLTM/SLTA, traffic back on it


def test_remote_congestion_sib_then_t6(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    la, lb = pairs[0][0].mtp2, pairs[0][1].mtp2
    lb.set_receive_congestion(True)
    clock.advance(0.05)
    assert la.remote_busy
    a.mtp3.transfer(SI_ISUP, 2, 0, C.encode("RLC", 1, {}))
    clock.advance(2)  # T7 is stopped while the remote end is busy
    assert la.state == "IN_SERVICE"
    clock.advance(3.1)  # T6 = 5 s of continuous busy: link failure (Q.703 9.4)
    assert la.failure_reason.startswith("T6")


def test_tfp_pauses_and_tfa_resumes_users(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    a.mtp3.add_route(7, [2])
    clock.advance(1)
    assert 7 in a.mtp3.accessible
    from ss7.mtp3_codec import SI_SNM, encode_snm
    ls = b.mtp3.linksets[1]
    ls.send_mgmt(ls.links[0], SI_SNM, encode_snm(b.mtp3.variant, "TFP", dest=7))
    clock.advance(0.1)
    assert 7 not in a.mtp3.accessible and not a.mtp3.transfer(SI_ISUP, 7, 0, b"\x01\x00\x10")
    ls.send_mgmt(ls.links[0], SI_SNM, encode_snm(b.mtp3.variant, "TFA", dest=7))
    clock.advance(0.1)
    assert 7 in a.mtp3.accessible


def test_route_set_test_every_t10_until_tfa(clock):
    """Q.704 13.5: a route prohibited by TFP is tested with RST every T10 (30 s), one
    restricted by TFR with RSR, and the test stops when TFA allows the route again; a
    restricted route still carries traffic when it is the only one (13.4)."""
    from ss7.mtp3_codec import SI_SNM, encode_snm

    a, b, ra, rb, wires, pairs = pair(clock)
    a.mtp3.add_route(7, [2])
    clock.advance(1)
    ls = b.mtp3.linksets[1]
    tests: list[tuple[str, int]] = []
    b.mtp3._log = lambda event, **kw: tests.append((kw["message"], kw["dest"])) \
        if event == "route_set_test" else None

    def status(msg: str) -> None:
        ls.send_mgmt(ls.links[0], SI_SNM, encode_snm(b.mtp3.variant, msg, dest=7))
        clock.advance(0.1)

    status("TFP")
    assert 7 not in a.mtp3.accessible
    clock.advance(29.8)
    assert b.mtp3.counters["rx_route_set_test"] == 0
    clock.advance(0.2)
    assert b.mtp3.counters["rx_route_set_test"] == 1  # RST after T10
    clock.advance(30)
    assert b.mtp3.counters["rx_route_set_test"] == 2  # and again every T10
    status("TFR")
    assert 7 in a.mtp3.accessible and a.mtp3.transfer(SI_ISUP, 7, 0, b"\x01\x00\x10")
    clock.advance(30)
    assert b.mtp3.counters["rx_route_set_test"] == 3  # now RSR
    status("TFA")
    clock.advance(90)
    assert b.mtp3.counters["rx_route_set_test"] == 3 and a.mtp3.counters["tx_route_set_test"] == 3
    assert tests == [("RST", 7), ("RST", 7), ("RSR", 7)]
    assert 7 in a.mtp3.accessible


def test_tfc_gives_users_mtp_status_congestion(clock):
    from ss7.mtp3_codec import SI_SNM, encode_snm

    a, b, ra, rb, wires, pairs = pair(clock)
    a.mtp3.add_route(7, [2])
    clock.advance(1)
    ls = b.mtp3.linksets[1]
    ls.send_mgmt(ls.links[0], SI_SNM, encode_snm(b.mtp3.variant, "TFC", dest=7))
    clock.advance(0.1)
    assert a.isup.status[7] == "signalling network congestion"
    assert 7 in a.mtp3.accessible  # congestion is not a prohibited route


def test_unknown_user_part_gets_upu(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    a.mtp3.transfer(3, 2, 0, b"\x00\x01")  # SCCP: not equipped at B
    clock.advance(0.1)
    assert a.isup.status[2] == "user part 3 unavailable"


def test_release_repeated_after_t1_then_reset_after_t5(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    call = a.isup.setup(2, "1", None)
    clock.advance(0.1)
    b.isup.mtp_transfer = lambda *args: None  # B stops answering
    sent = []
    real = a.isup.send
    a.isup.send = lambda dpc, cic, m, p=None, u=None: (sent.append(m), real(dpc, cic, m, p, u))
    call.release(16)
    clock.advance(15.1)  # T1 = 15 s: REL again
    assert sent.count("REL") == 2
    clock.advance(300)  # T5 = 5 min: maintenance alert, RSC
    assert "RSC" in sent and call.state == "RESETTING"


def test_overlap_address_with_sam(clock):
    a, b, ra, rb, wires, pairs = pair(clock, answer=False)
    clock.advance(1)
    call = a.isup.setup(2, "123", None, complete=False)
    clock.advance(0.1)
    far = b.isup.circuit(1, call.cic)
    assert far.called == "123" and not far.complete
    call.send_digits("45F")
    clock.advance(0.1)
    assert far.called == "12345" and far.complete


def test_china_isup_with_24_bit_point_codes(clock):
    ra, rb = Rec(), Rec()
    a = Ss7Node(clock, 0x0A0B01, variant="china", isup_listener=ra)
    b = Ss7Node(clock, 0x0A0B02, variant="china", isup_listener=rb)
    a.isup.add_circuits(0x0A0B02, range(1, 5))
    b.isup.add_circuits(0x0A0B01, range(1, 5))
    connect(a, b, 0, MemoryWire(clock, 0.001))
    a.start()
    b.start()
    clock.advance(1)
    call = a.isup.setup(0x0A0B02, "01088886666", "02166667777")
    clock.advance(0.1)
    assert call.state == "ANSWERED" and rb.events[0][2] == "01088886666"


def test_china_variant_timer_row(clock):
    node = Ss7Node(clock, 0x0A0B01, variant="china")
    link = node.add_link(0x0A0B02, 0, lambda su: None)
    assert link.mtp2.timers.table.values["T1"] == 40.0
    assert Ss7Node(clock, 1).add_link(2, 0, lambda su: None).mtp2.timers.table.values["T1"] == 45


def test_inr_answered_with_inf_and_cgb_repeated_until_cgba(clock):
    a, b, ra, rb, wires, pairs = pair(clock, answer=False)
    clock.advance(1)
    call = a.isup.setup(2, "123", "4567")
    clock.advance(0.1)
    got = []
    real = b.isup.mtp_transfer
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: (got.append(C.decode(data)),
                                                        real(opc, dpc, sls, data))
    b.isup.send(1, call.cic, "INR", {"information_request": 0x09})
    clock.advance(0.1)
    inf = next(m for m in got if m["message"] == "INF")["params"]
    assert inf["calling"]["digits"] == "4567" and inf["information"] == 0x23
    # CGB with no CGBA is repeated every T18 (Q.764 2.8.2.3)
    b.isup.mtp_transfer = lambda *args: None
    sent = []
    real_send = a.isup.send
    a.isup.send = lambda dpc, cic, m, p=None, u=None: (sent.append(m), real_send(dpc, cic, m, p, u))
    a.isup.group_block(2, 10, [10, 11])
    clock.advance(15.5)
    assert sent.count("CGB") == 2
    b.isup.mtp_transfer = real
    clock.advance(15.5)
    assert not a.isup._cg_pending and a.isup.circuit(2, 11).local_blocked


def test_suspend_then_t6_releases(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    call = a.isup.setup(2, "1", None)
    clock.advance(0.1)
    b.isup.circuit(1, call.cic).suspend()  # network-initiated SUS: T6 at the other end
    clock.advance(59)
    assert call.state == "ANSWERED"
    clock.advance(1.5)  # T6 = 60 s (Q.118): release with cause 102
    assert ("release", call.cic, 102) in ra.events and call.state == "IDLE"
    assert ("release", call.cic, 102) in rb.events


def test_time_controlled_changeover_when_no_coa(clock):
    a, b, ra, rb, wires, pairs = pair(clock, links=2)
    clock.advance(1)
    got = []
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: got.append(data)
    b.mtp3._snm = lambda link, m, s: None  # B never answers COO
    sent = [C.encode("INF", 2, {"information": i}) for i in range(5)]
    for data in sent:
        a.mtp3.transfer(SI_ISUP, 2, 2, data)
    wires[0].cut()
    clock.advance(1.0 + 1.3)  # T7 fails the link; COO; T2 (1.4 s) still running
    la = pairs[0][0]
    assert la.state == "CHANGEOVER" and la.timers.running("T2")
    clock.advance(0.2 + 0.8)  # T2 expired, then T1 (0.8 s): traffic diverted (Q.704 5.6.2)
    assert la.state == "FAILED" and got == sent


def test_over_the_c_hdlc_bank_with_line_errors(clock):
    """Two nodes joined through timeslot.hdlc.HdlcBank line octets (20 ms blocks): alignment,
    a call, then a burst of bit errors: SUERM fails the link (Q.703 10.2) and it realigns."""
    import numpy as np

    from ss7.stack import HdlcBankPort
    from timeslot.hdlc import HdlcBank

    ra, rb = Rec(), Rec()
    a, b = Ss7Node(clock, 1, isup_listener=ra), Ss7Node(clock, 2, isup_listener=rb)
    a.isup.add_circuits(2, range(1, 31))
    b.isup.add_circuits(1, range(1, 31))
    ba, bb = HdlcBank(1), HdlcBank(1)
    pa, pb = HdlcBankPort(ba, 0), HdlcBankPort(bb, 0)
    la, lb = a.add_link(2, 0, pa.send), b.add_link(1, 0, pb.send)
    pa.attach(la.mtp2)
    pb.attach(lb.mtp2)
    a.start()
    b.start()
    frames = 160
    ab, ba_ = np.zeros((1, frames), np.uint8), np.zeros((1, frames), np.uint8)
    rng = np.random.default_rng(1)
    noisy = [False]

    def tick(n):
        for _ in range(n):
            pa.tick(frames)
            pb.tick(frames)
            ba.tx(ab)
            bb.tx(ba_)
            if noisy[0]:
                flips = ((rng.random(ab.shape) < 0.02) << int(rng.integers(0, 8))).astype(np.uint8)
                np.bitwise_xor(ab, flips, out=ab)
            for _, f in bb.rx(ab):
                pb.deliver(f)
            for _, f in ba.rx(ba_):
                pa.deliver(f)
            clock.advance(frames / 8000)

    tick(100)
    assert la.state == "AVAILABLE" and lb.state == "AVAILABLE"
    call = a.isup.setup(2, "123", "456")
    tick(10)
    assert call.state == "ANSWERED"
    noisy[0] = True
    tick(50)
    assert lb.mtp2.counters["link_failures"] >= 1 and lb.mtp2.counters["su_errors"] >= 64
    noisy[0] = False
    tick(150)
    assert la.state == "AVAILABLE" and lb.state == "AVAILABLE"


def test_msus_held_during_remote_congestion_flow_after_it(clock):
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    got = []
    b.isup.mtp_transfer = lambda *args: got.append(args)
    pairs[0][1].mtp2.set_receive_congestion(True)  # B sends SIB (Q.703 9.3)
    clock.advance(0.05)
    a.mtp3.transfer(SI_ISUP, 2, 0, C.encode("RLC", 1, {}))
    clock.advance(1)
    assert got == []  # held at A while B is busy
    pairs[0][1].mtp2.set_receive_congestion(False)
    clock.advance(0.1)
    assert len(got) == 1 and pairs[0][0].mtp2.state == "IN_SERVICE"


@settings(max_examples=150)
@given(st.binary(min_size=0, max_size=60), st.sampled_from([0, 1, 2, 4, 5, 9]))
def test_arbitrary_msus_never_crash_the_stack(body, si):
    """Bad input never crashes (DESIGN.md): any SIF under any SI, through MTP3 to its user."""
    from core.clock import VirtualClock
    clock = VirtualClock()
    a, b, ra, rb, wires, pairs = pair(clock)
    clock.advance(1)
    label = bytes.fromhex("02400000")  # DPC 2, OPC 1, SLS 0 (ITU)
    b.mtp3.receive(pairs[0][1], bytes((0x80 | si,)) + label + body)
    clock.advance(1)
    if si == 0 and body[:1] in (b"\x11", b"\x12", b"\x21", b"\x22", b"\x51", b"\x61"):
        return  # a well-formed network management order (COO/COA/ECO/...) may take it out
    assert pairs[0][0].mtp2.state == "IN_SERVICE" and pairs[0][1].state == "AVAILABLE"


def test_valid_messages_in_any_state_never_crash(clock):
    """Every ISUP message, well formed, on circuits in every state: handled or ignored."""
    import random
    a, b, ra, rb, wires, pairs = pair(clock, answer=False)
    clock.advance(1)
    rnd = random.Random(7)
    samples = {
        "IAM": {"nature_of_connection": C.nature_of_connection(),
                "forward_call": C.forward_call(), "calling_category": 10,
                "transmission_medium_requirement": 0, "called": C.called_party("12")},
        "SAM": {"subsequent": {"head": {"nai": 0, "odd": 0}, "digits": "3F"}},
        "ACM": {"backward_call": C.backward_call()}, "CON": {"backward_call": C.backward_call()},
        "CPG": {"event": {"event": 1, "restricted": 0}}, "REL": {"cause": C.cause(16)},
        "CFN": {"cause": C.cause(97)}, "SUS": {"suspend_resume": {"network_initiated": 1}},
        "RES": {"suspend_resume": {"network_initiated": 1}},
        "INR": {"information_request": 1}, "INF": {"information": 3},
        "GRS": {"range_status": C.range_status(3)},
        "GRA": {"range_status": C.range_status(3, [1, 0, 0, 1])},
        "CQM": {"range_status": C.range_status(3)},
        "CQR": {"range_status": C.range_status(3),
                "circuit_state": [C.circuit_state_octet("idle")] * 4},
        "COT": {"continuity": 1},
        **{m: {"cgs_type": {"type": 1}, "range_status": C.range_status(3, [1, 1, 0, 1])}
           for m in ("CGB", "CGU", "CGBA", "CGUA")},
    }
    for _ in range(600):
        name = rnd.choice(sorted(C.MESSAGES))
        cic = rnd.choice([1, 2, 3, 4, 31, 99])
        b.isup.mtp_transfer(1, 2, cic & 15, C.encode(name, cic, samples.get(name, {})))
        if rnd.random() < 0.2:
            c = a.isup.circuit(2, rnd.choice([1, 2, 3, 4]))
            if c.state == "IDLE" and not (c.local_blocked or c.remote_blocked):
                a.isup.setup(2, "55", None, cic=c.cic)
        clock.advance(rnd.choice([0, 0.01, 1, 30]))
    assert pairs[0][0].mtp2.state == "IN_SERVICE"


def test_load_sharing_spreads_one_parity_of_cics_over_two_links(clock):
    a, b, ra, rb, wires, pairs = pair(clock, links=2)
    clock.advance(1)
    ls = a.mtp3.linksets[2]
    odd = {ls.link_for_sls(cic & 0x0F).slc for cic in range(1, 32, 2)}
    even = {ls.link_for_sls(cic & 0x0F).slc for cic in range(2, 32, 2)}
    assert odd == {0, 1} and even == {0, 1}
