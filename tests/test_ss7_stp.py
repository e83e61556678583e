"""MTP3 signalling transfer point (Q.704 2.3, 9, 13) on the virtual clock: A - STP - B (and C)
on MemoryWire links; transfer of ISUP calls, TFP/TFA broadcast, the response method with T8,
route set test answers, TFR (national option) with the "not on the route" rule, the restart of
a transfer point, and the unexpected TRA with T19."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ss7.isup import IsupListener
from ss7.mtp3_codec import SI_ISUP, SI_SNM, VARIANTS, decode_msu, decode_snm, encode_msu
from ss7.stack import MemoryWire, Ss7Node, connect
from ss7.trace import LinkTracer
from tests.conftest import need_library, need_program
from tests.ss7_peer.ss7_harness import Libss7Pair

ITU = VARIANTS["itu"]
A, B, C, S = 1, 2, 3, 5  # point codes; S is the transfer point


class TapWire(MemoryWire):
    """A MemoryWire that records each side's MSU bodies with the time, and can drop some."""

    def __init__(self, clock):
        super().__init__(clock, 0.001)
        self.clock = clock
        self.msus: list[list[tuple[float, bytes]]] = [[], []]
        self.drop = None  # predicate on an MSU body: drop it (a lost message)

    def end(self, side):
        send = super().end(side)

        def tap(su: bytes) -> None:
            if su[2] & 0x3F >= 3:
                body = su[3:]
                if self.drop is not None and self.drop(body):
                    return
                self.msus[side].append((self.clock.time(), body))
            send(su)
        return tap

    def snm(self, side: int, since: float = 0.0) -> list[tuple[str, int | None]]:
        """(message, destination) of the SNM messages side ``side`` sent since ``since``."""
        out = []
        for t, body in self.msus[side]:
            m = decode_msu(ITU, body)
            if t >= since and m["si"] == SI_SNM:
                s = decode_snm(ITU, m["payload"])
                out.append((s["message"], s.get("dest")))
        return out

    def route_status(self, side: int, since: float = 0.0) -> list[tuple[str, int | None]]:
        return [x for x in self.snm(side, since) if x[0] in ("TFP", "TFR", "TFA", "TRA")]


class Answer(IsupListener):
    def on_setup(self, call):
        call.accept()
        call.answer()


def is_tfa(body: bytes) -> bool:
    return body[0] & 0x0F == SI_SNM and body[5] == 0x54  # H0 = 4, H1 = 5 (Q.704 15.2)


def node(clock, pc, **kw):
    return Ss7Node(clock, pc, isup_listener=Answer(), **kw)


def triangle(clock, *, tfr=False, with_c=False, tracer=None, variant="itu"):
    """A - S - B: end points A and B reach each other through S; ``with_c`` adds an end
    point C adjacent to S (returned last, with its wire)."""
    a, s, b = node(clock, A, variant=variant), \
        node(clock, S, stp=True, tracer=tracer, variant=variant), node(clock, B, variant=variant)
    s.mtp3.tfr = tfr
    a.isup.add_circuits(B, range(1, 9))
    b.isup.add_circuits(A, range(1, 9))
    a.mtp3.add_route(B, [S])
    b.mtp3.add_route(A, [S])
    was, wsb = TapWire(clock), TapWire(clock)
    connect(a, s, 0, was)  # side 0 is A, side 1 is S
    connect(s, b, 0, wsb)  # side 0 is S, side 1 is B
    nodes = [a, s, b]
    if with_c:
        c, wsc = node(clock, C), TapWire(clock)
        connect(s, c, 0, wsc)  # side 0 is S
        nodes.append(c)
    for n in nodes:
        n.start()
    clock.advance(3)
    return (a, s, b, was, wsb, c, wsc) if with_c else (a, s, b, was, wsb)


def fail(wire, x, y):
    """Cut the link between nodes x and y; both MTP2s see it."""
    wire.cut()
    x.mtp3.find_link(y.mtp3.pc, 0).mtp2.stop()
    y.mtp3.find_link(x.mtp3.pc, 0).mtp2.stop()


def call_through(clock, a):
    call = a.isup.setup(B, "1234", "5678")
    clock.advance(0.2)
    assert call.state == "ANSWERED"
    call.release(16)
    clock.advance(0.2)
    assert call.state == "IDLE"


def test_calls_pass_through_the_transfer_point(clock):
    a, s, b, was, wsb = triangle(clock)
    assert a.mtp3.accessible == {S, B} and b.mtp3.accessible == {S, A}
    assert B in a.isup.available and A in b.isup.available
    before = s.mtp3.counters["transferred"]
    t0 = clock.time()
    call_through(clock, a)
    # IAM, ACM, ANM, REL, RLC: each carried unchanged, label DPC B / OPC A
    def isup(wire, side):
        return [body for t, body in wire.msus[side] if t >= t0 and body[0] & 0x0F == SI_ISUP]

    sent, back = isup(was, 0), isup(wsb, 1)
    assert [p[7] for p in sent] == [0x01, 0x0C]  # IAM, REL (Q.763 message types)
    assert [p[7] for p in back] == [0x06, 0x09, 0x10]  # ACM, ANM, RLC
    assert isup(wsb, 0) == sent and isup(was, 1) == back
    assert all(decode_msu(ITU, p)["dpc"] == B and decode_msu(ITU, p)["opc"] == A for p in sent)
    assert s.mtp3.counters["transferred"] - before == 5
    assert s.mtp3.counters["rx_not_for_us"] == 0


def test_linkset_failure_broadcasts_tfp_then_tfa(clock):
    """Q.704 13.2.2 ii / 13.3.2 ii: S loses B and tells A (TFP, octets per Q.704 15); A
    pauses its users for B and tests the route every T10 (S, still without B, does not
    answer); B comes back, S broadcasts TFA and A resumes; a call passes again."""
    a, s, b, was, wsb = triangle(clock)
    paused: list[int] = []
    resumed: list[int] = []
    pause, resume = a.isup.mtp_pause, a.isup.mtp_resume
    a.isup.mtp_pause = lambda dpc: (paused.append(dpc), pause(dpc))
    a.isup.mtp_resume = lambda dpc: (resumed.append(dpc), resume(dpc))
    t0 = clock.time()
    fail(wsb, s, b)
    clock.advance(0.1)
    tfp = [body for t, body in was.msus[1] if t >= t0]
    # SIO national SNM, label DPC 1 OPC 5 SLS 0, H0 = 4 H1 = 1 (TFP), destination 2 (14 bits)
    assert tfp == [bytes((0x80, 0x01, 0x40, 0x01, 0x00, 0x14, 0x02, 0x00))]
    assert (S, B) in a.mtp3.prohibited and B not in a.mtp3.accessible
    assert paused == [B] and B not in a.isup.available
    assert s.status()["mtp3"]["linksets"][f"ls{A}"]["told"] == {B: "TFP"}
    assert not a.mtp3.transfer(SI_ISUP, B, 0, b"\x01\x00\x10")
    clock.advance(30.0)  # T10: RST from A; B is still inaccessible at S: no answer (13.5.3)
    assert was.snm(0, t0) == [("RST", B)]
    assert was.route_status(1, t0) == [("TFP", B)]
    t1 = clock.time()
    wsb.splice()
    clock.advance(5)  # T17, emergency proving, SLT, TRA both ways
    assert was.route_status(1, t1) == [("TFA", B)]
    tfa = [body for t, body in was.msus[1] if t >= t1][0]
    assert tfa == bytes((0x80, 0x01, 0x40, 0x01, 0x00, 0x54, 0x02, 0x00))  # H1 = 5 (TFA)
    assert resumed == [B] and (S, B) not in a.mtp3.prohibited and B in a.isup.available
    clock.advance(60)
    assert was.snm(0, t1) == []  # the route set test stopped with TFA
    call_through(clock, a)


def test_two_transfer_points_in_a_chain(clock):
    """A - S - T - B: T loses B and tells S (TFP B); S, whose only route to B went through T,
    tells A; S tests its route through T with RST every T10; B returns, T's TFA reaches S and
    S's TFA reaches A; a call crosses both transfer points.  Each STP tells the other TFP about
    the destination it routes through it, which the other (routing it directly) ignores."""
    T = 6
    a, s, t, b = node(clock, A), node(clock, S, stp=True), node(clock, T, stp=True), \
        node(clock, B)
    a.isup.add_circuits(B, range(1, 9))
    b.isup.add_circuits(A, range(1, 9))
    a.mtp3.add_route(B, [S])
    s.mtp3.add_route(B, [T])
    t.mtp3.add_route(A, [S])
    b.mtp3.add_route(A, [T])
    was, wst, wtb = TapWire(clock), TapWire(clock), TapWire(clock)
    connect(a, s, 0, was)
    connect(s, t, 0, wst)  # side 0 is S, side 1 is T
    connect(t, b, 0, wtb)
    for n in (a, s, t, b):
        n.start()
    clock.advance(25)  # S and T restart together: each ends its restart when T18 expires
    assert a.mtp3.accessible == {S, B} and b.mtp3.accessible == {T, A}
    assert ("TFP", B) in wst.route_status(0) and ("TFP", A) in wst.route_status(1)
    assert not s.mtp3._route_tests and not t.mtp3._route_tests
    call_through(clock, a)
    t0 = clock.time()
    fail(wtb, t, b)
    clock.advance(0.5)
    assert wst.route_status(1, t0) == [("TFP", B)] and was.route_status(1, t0) == [("TFP", B)]
    assert B not in a.mtp3.accessible and B not in s.mtp3.accessible
    clock.advance(30)  # T10: S tests its route to B through T, T cannot answer yet
    assert wst.snm(0, t0) == [("RST", B)]
    t1 = clock.time()
    wtb.splice()
    clock.advance(5)
    assert wst.route_status(1, t1) == [("TFA", B)] and was.route_status(1, t1) == [("TFA", B)]
    assert B in a.mtp3.accessible
    call_through(clock, a)


def test_china_transfer_point_24_bit_labels(clock):
    """The same with China 24-bit point codes: the call crosses S, and the TFP carries the
    24-bit destination (GF 001-9001 label: DPC, OPC, SLS + 4 spare bits)."""
    a, s, b, was, wsb = triangle(clock, variant="china")
    assert B in a.isup.available
    call_through(clock, a)
    assert s.mtp3.counters["transferred"] >= 5
    t0 = clock.time()
    fail(wsb, s, b)
    clock.advance(0.1)
    tfp = [body for t, body in was.msus[1] if t >= t0]
    assert tfp == [bytes((0x80, 0x01, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x14,
                          0x02, 0x00, 0x00))]
    assert B not in a.isup.available


def test_forced_and_controlled_rerouting(clock):
    """A routes 7 through S, else through C.  TFP 7 from S moves A's traffic to C at once
    (forced rerouting, Q.704 7); TFA 7 moves it back, holding what A sends for T6 (0.8 s) so
    that it cannot overtake what C still carries (controlled rerouting, 8.2); order is kept."""
    from ss7.mtp3_codec import encode_snm
    a, s, c = node(clock, A), node(clock, S), node(clock, C)
    was, wac = TapWire(clock), TapWire(clock)
    connect(a, s, 0, was)
    connect(a, c, 0, wac)
    for n in (a, s, c):
        n.start()
    a.mtp3.add_route(7, [S, C])
    clock.advance(3)
    ls = s.mtp3.linksets[A]

    def status(msg: str) -> None:
        ls.send_mgmt(ls.links[0], SI_SNM, encode_snm(ITU, msg, dest=7))
        clock.advance(0.01)

    def send(n: int) -> None:
        for i in range(n):
            assert a.mtp3.transfer(SI_ISUP, 7, i, bytes((len(sent), 0, 0x09, 0)))
            sent.append(len(sent))

    def got(wire) -> list[int]:
        return [b[5] for _, b in wire.msus[0] if b[0] & 0x0F == SI_ISUP]

    sent: list[int] = []
    send(3)
    clock.advance(0.1)
    assert got(was) == [0, 1, 2]
    status("TFP")
    send(3)
    clock.advance(0.01)
    assert got(wac) == [3, 4, 5]  # forced: on the alternative at once
    status("TFA")
    send(3)
    clock.advance(0.7)
    assert got(was) == [0, 1, 2] and got(wac) == [3, 4, 5]  # held during T6
    clock.advance(0.2)
    assert got(was) == [0, 1, 2, 6, 7, 8]


def test_message_for_an_inaccessible_destination_gets_tfp_with_t8(clock):
    """Q.704 13.2.2 iii: S discards an MSU for a destination it cannot reach and answers the
    adjacent point it came from with TFP, at most once per T8."""
    a, s, b, was, wsb = triangle(clock)
    a.mtp3.add_route(9, [S])
    clock.advance(0.1)
    assert 9 in a.mtp3.accessible
    ls = a.mtp3.linksets[S]

    def raw(dpc: int) -> None:  # straight onto the link, as a node ignoring TFP would
        ls.send(ls.links[0], encode_msu(ITU, SI_ISUP, 2, dpc, A, 1, b"\x01\x00\x10"))

    t0 = clock.time()
    raw(9)
    clock.advance(0.1)
    assert was.route_status(1, t0) == [("TFP", 9)]
    assert 9 not in a.mtp3.accessible and not a.mtp3.transfer(SI_ISUP, 9, 0, b"\x01\x00\x10")
    raw(9)
    raw(9)
    clock.advance(0.5)  # T8 (1 s) still running: discarded without another TFP
    assert was.route_status(1, t0) == [("TFP", 9)]
    assert s.mtp3.counters["tx_no_route"] == 3
    clock.advance(0.5)
    raw(9)
    clock.advance(0.1)
    assert was.route_status(1, t0) == [("TFP", 9), ("TFP", 9)]
    assert all(decode_msu(ITU, m)["dpc"] != 9 for _, m in wsb.msus[0])  # nothing passed on


def test_route_set_test_answered_with_tfa_when_the_tfa_was_lost(clock):
    """Q.704 13.5.3: the STP answers RST with TFA when the destination is accessible for the
    tester; A, whose copy of the broadcast TFA was lost, resumes on that answer."""
    a, s, b, was, wsb = triangle(clock)
    fail(wsb, s, b)
    clock.advance(1)
    assert B not in a.mtp3.accessible
    was.drop = is_tfa  # the broadcast TFA is lost on the way to A
    wsb.splice()
    clock.advance(5)
    assert B in s.mtp3.accessible and B not in a.mtp3.accessible
    was.drop = None
    t0 = clock.time()
    clock.advance(30)  # A's next RST (T10 from the TFP) gets TFA
    assert was.snm(0, t0) == [("RST", B)] and was.route_status(1, t0) == [("TFA", B)]
    assert B in a.mtp3.accessible and B in a.isup.available
    call_through(clock, a)


def test_rsr_is_answered_by_the_actual_status(clock):
    """Q.704 13.5.3: RSR while the destination is allowed gets TFA, RST for a destination S
    cannot reach gets nothing, RSR for it gets TFP."""
    a, s, b, was, wsb = triangle(clock)
    ls, t0 = a.mtp3.linksets[S], clock.time()
    from ss7.mtp3_codec import encode_snm
    for msg, dest in (("RSR", B), ("RST", 9), ("RSR", 9)):
        ls.send_mgmt(ls.links[0], SI_SNM, encode_snm(ITU, msg, dest=dest))
        clock.advance(0.1)
    assert was.route_status(1, t0) == [("TFA", B), ("TFP", 9)]


def test_tfr_option_and_the_not_on_the_route_rule(clock):
    """S routes destination 7 through B, else through C (less efficient).  B is told TFP 7
    (13.2.2 i); when B fails, C becomes the route: C gets TFP 7, A gets TFR 7 (national option,
    13.4.2); B back: A and C get TFA 7, B gets TFP 7 again once its TRA makes it the route."""
    a, s, b, was, wsb, c, wsc = triangle(clock, tfr=True, with_c=True)
    a.mtp3.add_route(7, [S])
    t0 = clock.time()
    s.mtp3.add_route(7, [B, C])
    clock.advance(0.1)
    assert wsb.route_status(0, t0) == [("TFP", 7)]
    assert was.route_status(1, t0) == wsc.route_status(0, t0) == []
    t1 = clock.time()
    fail(wsb, s, b)
    clock.advance(1)
    assert was.route_status(1, t1) == [("TFP", B)]  # TFR 7 waits for T11 (Q.704 16.8)
    assert wsc.route_status(0, t1) == [("TFP", B), ("TFP", 7)]
    clock.advance(s.mtp3.timers.table.values["T11"] - 1.001)
    assert was.route_status(1, t1) == [("TFP", B)]
    clock.advance(0.1)
    assert was.route_status(1, t1) == [("TFP", B), ("TFR", 7)]
    assert 7 in a.mtp3.accessible and (S, 7) in a.mtp3.restricted
    t2 = clock.time()
    wsb.splice()
    clock.advance(5)
    # to B, restarting: the status before its TRA (7 still through C: TFR), then TFP 7
    assert wsb.route_status(0, t2) == [("TFR", 7), ("TRA", None), ("TFP", 7)]
    assert was.route_status(1, t2) == [("TFA", B), ("TFA", 7)]
    assert wsc.route_status(0, t2) == [("TFA", B), ("TFA", 7)]
    assert (S, 7) not in a.mtp3.restricted and B in a.mtp3.accessible


def b_fails_seven_goes_via_c(clock, tfr: bool = True):
    """The triangle with C, a destination 7 behind B (normal) or C (less efficient) from S:
    B's link fails at t0 (returned last), so 7 is restricted at S."""
    a, s, b, was, wsb, c, wsc = triangle(clock, tfr=tfr, with_c=True)
    a.mtp3.add_route(7, [S])
    s.mtp3.add_route(7, [B, C])
    clock.advance(0.1)
    t0 = clock.time()
    fail(wsb, s, b)
    return a, s, b, was, wsb, c, wsc, t0


def test_restriction_shorter_than_t11_is_never_announced(clock):
    """Q.704 13.4.2, 16.8: B is back before T11 expires - A hears neither TFR 7 nor TFA 7."""
    a, s, b, was, wsb, c, wsc, t0 = b_fails_seven_goes_via_c(clock)
    clock.advance(10)
    wsb.splice()
    clock.advance(80)
    assert was.route_status(1, t0) == [("TFP", B), ("TFA", B)]
    assert s.mtp3._t11 == {} and not s.mtp3._tfr_due


def test_congestion_on_the_alternative_link_set_sends_tfr_before_t11(clock):
    """Q.704 13.4.2: TFR is broadcast when the normal link set's failure is a long-term one
    (T11) or when the alternative link set now carrying the traffic is congested: C, the
    less efficient route to 7 while B is down, congests S's link toward it during T11 -
    A hears TFR 7 at once and T11 is stopped."""
    a, s, b, was, wsb, c, wsc, t0 = b_fails_seven_goes_via_c(clock)
    clock.advance(1)
    assert was.route_status(1, t0) == [("TFP", B)] and 7 in s.mtp3._t11
    c.mtp3.find_link(S, 0).mtp2.set_receive_congestion(True)
    clock.advance(0.2)
    assert was.route_status(1, t0) == [("TFP", B), ("TFR", 7)]
    assert s.mtp3._t11 == {} and (S, 7) in a.mtp3.restricted
    c.mtp3.find_link(S, 0).mtp2.set_receive_congestion(False)
    clock.advance(s.mtp3.timers.table.values["T11"])
    assert was.route_status(1, t0) == [("TFP", B), ("TFR", 7)]  # told once


def test_without_tfr_a_less_efficient_route_is_not_announced(clock):
    a, s, b, was, wsb, c, wsc, t0 = b_fails_seven_goes_via_c(clock, tfr=False)
    clock.advance(1)
    assert was.route_status(1, t0) == [("TFP", B)]  # 7 is still allowed for A
    assert wsc.route_status(0, t0) == [("TFP", B), ("TFP", 7)]


def test_restarting_transfer_point_sends_routing_status_before_tra(clock):
    """Q.704 9.2: S restarts while B is unreachable; when T18 ends the restart, A hears TFP B
    and then TRA, and resumes only S."""
    a, s, b, was, wsb = triangle(clock)
    wsb.cut()
    s.mtp3.stop()
    clock.advance(2)
    t0 = clock.time()
    s.start()
    clock.advance(10)
    assert s.mtp3.restarting and was.route_status(1, t0) == []  # no TRA during the restart
    clock.advance(11)  # T18 = 20 s
    assert not s.mtp3.restarting
    assert was.route_status(1, t0) == [("TFP", B), ("TRA", None)]
    assert a.mtp3.accessible == {S} and not a.mtp3.restarting


def test_isolated_transfer_point_restarts_when_a_link_returns(clock):
    """T18 expiring with no linkset up does not end the restart: the first adjacent point to
    come back sends TRA and gets the routing status and TRA."""
    a, s, b, was, wsb = triangle(clock)
    was.cut()
    wsb.cut()
    s.mtp3.stop()
    clock.advance(2)
    s.start()
    clock.advance(25)  # T18 expired, nothing up
    assert s.mtp3.restarting
    t0 = clock.time()
    was.splice()
    for lk in (a.mtp3.find_link(S, 0), s.mtp3.find_link(A, 0)):
        lk.mtp2.stop()  # both ends realign from scratch
    clock.advance(5)
    assert not s.mtp3.restarting
    assert was.route_status(1, t0) == [("TFP", B), ("TRA", None)]
    assert was.route_status(0, t0) == [("TRA", None)]
    assert a.mtp3.accessible == {S}


def test_unexpected_tra_answered_then_t19_discards(clock):
    """Q.704 9.4: a TRA after the exchange is answered with the routing status and TRA, and
    T19 starts; TRA during T19 is discarded; after T19 one is answered again."""
    a, s, b, was, wsb = triangle(clock)
    fail(wsb, s, b)
    clock.advance(1)
    ls = a.mtp3.linksets[S]
    from ss7.mtp3_codec import encode_snm

    def tra() -> None:
        ls.send_mgmt(ls.links[0], SI_SNM, encode_snm(ITU, "TRA"))
        clock.advance(0.1)

    t0 = clock.time()
    tra()
    assert was.route_status(1, t0) == [("TFP", B), ("TRA", None)]
    tra()
    clock.advance(60)
    assert was.route_status(1, t0) == [("TFP", B), ("TRA", None)]
    clock.advance(8)  # T19 = 68 s
    t1 = clock.time()
    tra()
    assert was.route_status(1, t1) == [("TFP", B), ("TRA", None)]
    assert B not in a.mtp3.accessible and S in a.mtp3.accessible  # the answers change nothing


def test_end_point_discards_messages_for_others(clock):
    a, s, b, was, wsb = triangle(clock)
    ls = s.mtp3.linksets[A]
    t0 = clock.time()
    ls.send(ls.links[0], encode_msu(ITU, SI_ISUP, 2, 9, S, 0, b"\x01\x00\x10"))
    clock.advance(0.1)
    assert a.mtp3.counters["rx_not_for_us"] == 1 and was.snm(0, t0) == []


def test_tshark_decodes_the_route_management_messages(clock, tmp_path):
    """Wireshark reads the STP's TFP, TFR, TFA and A's RST with the affected point code."""
    tshark = need_program("tshark")
    path = tmp_path / "stp.pcap"
    tracer = LinkTracer(str(path), clock)
    a, s, b, was, wsb, c, wsc = triangle(clock, tfr=True, with_c=True, tracer=tracer)
    a.mtp3.add_route(7, [S])
    s.mtp3.add_route(7, [B, C])
    fail(wsb, s, b)
    clock.advance(95)  # TFP 2, TFR 7 after T11; RST 2 and RSR 7 after T10
    wsb.splice()
    clock.advance(5)  # TFA 2, TFA 7
    tracer.close()
    out = subprocess.run([tshark, "-r", str(path), "-Y", "mtp3mg", "-T", "fields",
                          "-e", "_ws.col.Info", "-e", "mtp3mg.apc", "-e", "_ws.malformed"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split("\t") for line in out]
    got = {(r[0].split()[0], r[1]) for r in rows if r[1]}
    assert {("TFP", "2"), ("TFR", "7"), ("TFA", "2"), ("TFA", "7"), ("RST", "2"),
            ("RSR", "7")} <= got
    assert not any(r[2] for r in rows)  # nothing malformed


@pytest.fixture(scope="module")
def stp_net():
    from core.clock import VirtualClock
    clock = VirtualClock()
    return clock, *triangle(clock)


@settings(max_examples=150, deadline=None)
@given(body=st.binary(min_size=0, max_size=40))
def test_arbitrary_msus_at_the_transfer_point_never_raise(stp_net, body):
    clock, a, s, b, was, wsb = stp_net
    s.mtp3.receive(s.mtp3.linksets[A].links[0], b"\x80" + body)
    s.mtp3.receive(s.mtp3.linksets[B].links[0], bytes([0x85]) + body)
    clock.advance(0.01)


@pytest.mark.interop
def test_libss7_behind_the_transfer_point(tmp_path):
    """libss7 2.0 (point code 2) is adjacent to our transfer point (5); our end point A (1)
    calls it through the STP and libss7 answers to OPC 1 through it.  A's link fails: the STP
    tells libss7 TFP 1 and libss7 then refuses to send towards 1 (its REL is not sent); A's
    link returns: TFA 1, and A's circuit group reset after its restart gets libss7's GRA back
    through the STP."""
    need_library("ss7")
    need_program("gcc")
    p = Libss7Pair(tmp_path, our_pc=S, peer_pc=B)
    try:
        stp = p.node
        stp.mtp3.stp = True  # before any link is in service
        a = Ss7Node(p.clock, A)
        a.isup.add_circuits(B, range(40, 48))
        a.mtp3.add_route(B, [S])
        wire = MemoryWire(p.clock)
        connect(a, stp, 0, wire)
        stp.mtp3.find_link(A, 0).dispatch("activate")
        a.start()
        assert p.run(15, lambda: B in a.mtp3.accessible and p.saw("GRS 40 47")
                     and not a.isup._grs_pending)
        p.cmd("auto on")
        call = a.isup.setup(B, "4000", "5000", cic=40)
        assert p.run(5, lambda: call.state == "ANSWERED")
        assert p.saw("IAM 40 4000")  # libss7 read the IAM from point code 1
        wire.cut()
        a.mtp3.find_link(S, 0).mtp2.stop()
        stp.mtp3.find_link(A, 0).mtp2.stop()
        assert p.run(3, lambda: A not in stp.mtp3.accessible)
        p.run(0.5)
        moved = stp.mtp3.counters["transferred"]
        log = tmp_path / "libss7.log"
        seen = len(log.read_text())
        p.cmd("rel 40 16")  # libss7 holds TFP 1: no link towards point code 1
        p.run(1)
        assert stp.mtp3.counters["transferred"] == moved
        assert "No siganlling link available" in log.read_text()[seen:]  # (libss7's spelling)
        wire.splice()
        assert p.run(15, lambda: B in a.mtp3.accessible and not a.isup._grs_pending and
                     [x for x in p.lines if x.startswith("GRS 40 47")][1:])
        assert stp.mtp3.counters["transferred"] > moved
    finally:
        p.close()
