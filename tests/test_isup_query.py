"""ISUP circuit group query (Q.764 2.8.3: CQM/CQR, T28; Q.763 3.14 circuit state indicator)
and forward transfer (FOT, Q.763 2.23), and tshark decoding what we send of the procedures
of this work (IAM + SGM, FOT, CQM/CQR, REL with an automatic congestion level)."""

from __future__ import annotations

import subprocess

import pytest

from core.errors import EncodeError
from core.fsm import UnexpectedEvent
from ss7 import isup_codec as C
from ss7.isup import IsupListener
from ss7.stack import MemoryWire, Ss7Node, connect
from ss7.timers import ISUP_TIMERS
from ss7.trace import LinkTracer
from tests.conftest import need_library, need_program
from tests.ss7_peer.ss7_harness import Libss7Pair


class Rec(IsupListener):
    def __init__(self, answer=False):
        self.answer = answer
        self.queries: list[tuple[int, int, list]] = []
        self.transfers: list[tuple[int, dict]] = []
        self.alerts: list[str] = []
        self.calls = []

    def on_setup(self, call):
        self.calls.append(call)
        call.accept()
        if self.answer:
            call.answer()

    def on_query(self, dpc, first, states):
        self.queries.append((dpc, first, states))

    def on_forward_transfer(self, call, params):
        self.transfers.append((call.cic, params))

    def on_maintenance(self, cic, what):
        self.alerts.append(what)


def nodes(clock, tracer=None):
    ra, rb = Rec(), Rec()
    a = Ss7Node(clock, 1, isup_listener=ra, tracer=tracer)
    b = Ss7Node(clock, 2, isup_listener=rb)
    a.isup.add_circuits(2, range(1, 11))
    b.isup.add_circuits(1, range(1, 9))  # B has no CIC 9, 10: unequipped there
    connect(a, b, 0, MemoryWire(clock, 0.001))
    a.start()
    b.start()
    clock.advance(2)
    return a, b, ra, rb


# circuit group query -------------------------------------------------------------------------
def test_cqm_is_answered_with_each_circuits_state(clock):
    a, b, ra, rb = nodes(clock)
    out = a.isup.setup(2, "1", cic=1)          # A -> B on 1: B answers ACM, both busy
    clock.advance(0.05)
    b.isup.setup(1, "2", cic=2)                 # B -> A on 2
    clock.advance(0.05)
    b.isup.block(3)                             # B blocks 3 (BLA from A: locally blocked at B)
    clock.advance(0.05)
    a.isup.block(4)                             # A blocks 4: remotely blocked at B
    clock.advance(0.05)
    b.isup.circuit(1, 6).reset()                # B waits for RLC on 6 when the CQM arrives
    a.isup.query(2, 1, 10)
    clock.advance(0.05)
    (dpc, first, states), = ra.queries
    assert (dpc, first, len(states)) == (2, 1, 10)
    remote = [s["remote"] for s in states]
    assert remote[0] == {"call": "incoming busy", "maintenance": "none", "hardware": "none"}
    assert remote[1] == {"call": "outgoing busy", "maintenance": "none", "hardware": "none"}
    assert remote[2]["maintenance"] == "local" and remote[2]["call"] == "idle"
    assert remote[3]["maintenance"] == "remote"
    assert remote[4] == {"call": "idle", "maintenance": "none", "hardware": "none"}
    assert remote[5]["call"] == "transient"
    assert [r["call"] for r in remote[8:]] == ["unequipped", "unequipped"]
    local = [s["local"] for s in states]
    assert local[0]["call"] == "outgoing busy" and local[1]["call"] == "incoming busy"
    assert local[2]["maintenance"] == "remote" and local[3]["maintenance"] == "local"
    agrees = [s["agrees"] for s in states]
    # 1-5 mirror each other; 6 is transient at B; 7, 8 idle both; 9, 10 unequipped at B only
    assert agrees == [True, True, True, True, True, None, True, True, False, False]
    assert out.state == "OUT_WAIT_ANM"


def test_cqr_octets_follow_q763_3_14(clock):
    a, b, ra, rb = nodes(clock)
    sent = []
    orig = b.isup.send
    b.isup.send = lambda dpc, cic, m, p=None, u=None: (sent.append(C.encode(m, cic, p)),
                                                      orig(dpc, cic, m, p, u))
    b.isup.mtp_transfer(1, 2, 7, C.encode("CQM", 7, {"range_status": C.range_status(3)}))
    cqr, = sent
    # CQR 0x2B; pointers 2, 3; range 3 (no status); 4 states: idle 7, idle 8, unequipped 9, 10
    assert cqr == bytes((7, 0, 0x2B, 2, 3, 1, 3, 4, 0x0C, 0x0C, 0x03, 0x03))


def test_cqm_over_31_circuits_is_discarded_and_our_range_is_checked(clock):
    a, b, ra, rb = nodes(clock)
    before = b.isup.counters["tx"]
    b.isup.mtp_transfer(1, 2, 1, C.encode("CQM", 1, {"range_status": C.range_status(40)}))
    assert b.isup.counters["tx"] == before
    with pytest.raises(EncodeError):
        a.isup.query(2, 1, 33)


def test_no_cqr_alerts_maintenance_after_t28(clock):
    a, b, ra, rb = nodes(clock)
    b.isup.listener = IsupListener()
    b.isup._rx_cqm = lambda opc, msg: None  # B never answers
    t0 = clock.time()
    a.isup.query(2, 1, 2)
    clock.run_until(t0 + ISUP_TIMERS.values["T28"] - 0.01)
    assert ra.alerts == []
    clock.advance(0.02)
    assert ra.alerts == ["T28 expired: no CQR"] and ra.queries == []


def test_unsolicited_or_malformed_cqr_is_not_reported(clock):
    a, b, ra, rb = nodes(clock)
    idle = C.circuit_state_octet("idle")
    a.isup.mtp_transfer(2, 1, 1, C.encode("CQR", 1, {"range_status": C.range_status(1),
                                                     "circuit_state": [idle, idle]}))
    a.isup.query(2, 1, 2)
    a.isup.mtp_transfer(2, 1, 1, C.encode("CQR", 1, {"range_status": C.range_status(1),
                                                     "circuit_state": [idle]}))
    assert ra.queries == [] and ra.alerts == ["CQR: circuit states do not match its range"]


def test_circuit_state_codes_round_trip():
    for call in ("transient", "unequipped", "idle", "incoming busy", "outgoing busy"):
        for m in ("none", "local", "remote", "both"):
            for h in ("none", "local", "remote", "both"):
                try:
                    o = C.circuit_state_octet(call, m, h)
                except EncodeError:
                    assert h != "none" and call != "idle"
                    continue
                back = C.circuit_state(o)
                assert back["call"] == call
                if call not in ("transient", "unequipped"):
                    assert (back["maintenance"], back["hardware"]) == (m, h)


# forward transfer --------------------------------------------------------------------------------
def test_fot_after_acm_and_after_answer_reaches_the_incoming_side(clock):
    a, b, ra, rb = nodes(clock)
    call = a.isup.setup(2, "1234", cic=3)
    clock.advance(0.05)
    assert call.state == "OUT_WAIT_ANM"
    call.forward_transfer()
    clock.advance(0.05)
    rb.calls[0].answer()
    clock.advance(0.05)
    call.forward_transfer({"call_reference": b"\x00\x00\x01\x00\x01\x00\x00"})
    clock.advance(0.05)
    assert rb.transfers == [(3, {}), (3, {"call_reference": b"\x00\x00\x01\x00\x01\x00\x00"})]


def test_fot_is_forward_only_and_needs_a_call(clock):
    a, b, ra, rb = nodes(clock)
    with pytest.raises(UnexpectedEvent):
        a.isup.circuit(2, 4).forward_transfer()  # idle circuit
    call = a.isup.setup(2, "1234", cic=4)
    clock.advance(0.05)
    with pytest.raises(UnexpectedEvent):
        rb.calls[0].forward_transfer()  # the incoming side may not send it ...
    rb.calls[0].answer()
    clock.advance(0.05)
    with pytest.raises(EncodeError, match="forward"):
        rb.calls[0].forward_transfer()  # ... not even once answered
    b.isup.send(1, 4, "FOT", {})  # sent backward anyway: A discards it
    clock.advance(0.05)
    assert ra.transfers == [] and call.state == "ANSWERED"


# tshark ------------------------------------------------------------------------------------------
def test_tshark_decodes_sgm_fot_cqm_cqr_and_acl(clock, tmp_path):
    tshark = need_program("tshark")
    path = tmp_path / "isup.pcap"
    tracer = LinkTracer(str(path), clock)
    a, b, ra, rb = nodes(clock, tracer)
    uui = b"\x04" + b"U" * 128
    access = (b"\x28\x50" + b"D" * 0x50) * 2
    call = a.isup.setup(2, "1234", "5678", cic=1,
                        optional={"user_to_user": uui, "access_transport": access})
    clock.advance(0.05)
    call.forward_transfer()
    a.isup.query(2, 1, 10)
    clock.advance(0.05)
    a.isup.set_overload(2)
    call.release(42)
    clock.advance(0.05)
    tracer.close()
    out = subprocess.run([tshark, "-r", str(path), "-Y", "isup", "-T", "fields",
                          "-E", "occurrence=f",
                          "-e", "isup.message_type", "-e", "isup.cic",
                          "-e", "isup.simple_segmentation_ind",
                          "-e", "isup.automatic_congestion_level",
                          "-e", "isup.call_processing_state", "-e", "_ws.malformed",
                          "-e", "_ws.expert"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    rows = [r.split("\t") for r in out]
    assert not any(r[5] for r in rows), out
    kinds = [int(r[0]) for r in rows if r[1] == "1" and r[0] not in ("23", "41")]  # GRS/GRA
    assert kinds[:5] == [0x01, 0x38, 0x06, 0x08, 0x2A]  # IAM, SGM, ACM, FOT, CQM
    assert 0x2B in kinds and 0x0C in kinds  # CQR from B, our REL
    iam = next(r for r in rows if int(r[0]) == 0x01)
    assert iam[2] in ("1", "True")  # additional information will be sent in an SGM
    rel = next(r for r in rows if int(r[0]) == 0x0C)
    assert rel[3] == "2"  # congestion level 2 exceeded
    cqr = next(r for r in rows if int(r[0]) == 0x2B)
    assert cqr[4] == "1"  # first circuit: incoming busy at B


# against libss7 2.0: it answers CQM (isup_cqr) and reads our REL carrying an ACL --------------
@pytest.mark.interop
def test_libss7_answers_our_cqm_and_reads_rel_with_acl(tmp_path):
    need_library("ss7")
    need_program("gcc")
    p = Libss7Pair(tmp_path, cics=range(1, 9))
    try:
        queries = []
        p.rec.on_query = lambda dpc, first, states: queries.append((dpc, first, states))
        assert p.run(15, lambda: 2 in p.node.mtp3.accessible and p.saw("UP"))
        call = p.node.isup.setup(2, "5550100", cic=3)
        assert p.run(5, lambda: p.saw("IAM 3 "))
        p.cmd("call 5 5550199 - 0")
        assert p.run(5, lambda: p.node.isup.circuit(2, 5).state == "IN_WAIT_ACM")
        p.node.isup.query(2, 1, 8)
        assert p.run(5, lambda: queries)
        (dpc, first, states), = queries
        assert p.saw("CQM 1 8") and (dpc, first) == (2, 1)
        remote = [s["remote"]["call"] for s in states]
        assert remote == ["idle", "idle", "incoming busy", "idle", "outgoing busy", "idle",
                          "idle", "idle"]
        assert [s["local"]["call"] for s in states][2:5] == ["transient", "idle",
                                                             "incoming busy"]
        p.node.isup.set_overload(1)
        call.release(42)
        assert p.run(5, lambda: p.saw("REL 3 42"))
    finally:
        p.close()


def test_hardware_group_blocking_is_reported_in_bits_fe(clock):
    a, b, ra, rb = nodes(clock)
    a.isup.group_block(2, 7, [7, 8], hardware=True)
    assert a.isup.circuit_state(2, 7)["call"] == "transient"  # awaiting CGBA (Q.764 2.8.3)
    clock.advance(0.05)
    assert a.isup.circuit_state(2, 8) == {"call": "idle", "maintenance": "none",
                                          "hardware": "local"}
    sent = []
    orig = b.isup.send
    b.isup.send = lambda dpc, cic, m, p=None, u=None: (sent.append(C.encode(m, cic, p)),
                                                      orig(dpc, cic, m, p, u))
    a.isup.query(2, 7, 8)
    clock.advance(0.05)
    assert sent[-1][-2:] == bytes((0x2C, 0x2C))  # FE = 10 remotely blocked, DC = 11 idle
    (_, _, states), = ra.queries
    assert [s["remote"]["hardware"] for s in states] == ["remote", "remote"]
    assert [s["agrees"] for s in states] == [True, True]
    a.isup.group_block(2, 7, [7, 8], hardware=True, unblock=True)
    clock.advance(0.05)
    assert b.isup.circuit_state(1, 7) == {"call": "idle", "maintenance": "none",
                                          "hardware": "none"}
