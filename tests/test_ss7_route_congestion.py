"""Signalling route set congestion (Q.704 13.7, 13.9, one congestion level) on the virtual
clock: A - S - B on MemoryWire links, B congests S's link toward it (MTP2 busy, SIB, Q.703
9.3), so S sends A TFC for the first MSU and every 8th; A marks the route set congested,
tells its users, tests it with RCT after T15 and ends the congestion when T16 passes without
a TFC."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ss7.mtp3 import TFC_EVERY
from ss7.mtp3_codec import SI_SNM, VARIANTS, decode_msu, decode_snm, encode_msu, encode_snm
from ss7.stack import connect
from tests.conftest import need_library, need_program
from tests.ss7_peer.ss7_harness import Libss7Pair
from tests.test_ss7_stp import TapWire, node

ITU = VARIANTS["itu"]
A, B, S = 1, 2, 5
SI_TEST = 9  # a user part of our own on A and B (no other user takes SI 9)


class Recorder:
    """An MTP user recording what it is given, with the time."""

    def __init__(self, clock):
        self.clock = clock
        self.got: list[bytes] = []
        self.status: list[tuple[float, int, str]] = []

    def mtp_transfer(self, opc, dpc, sls, data):
        self.got.append(bytes(data))

    def mtp_pause(self, dpc):
        pass

    def mtp_resume(self, dpc):
        pass

    def mtp_status(self, dpc, cause):
        self.status.append((self.clock.time(), dpc, cause))


@pytest.fixture
def net(clock):
    """A - S - B; MTP2 T6 at S long enough for seconds of congestion (Q.703 allows 3-6 s)."""
    a, b = node(clock, A), node(clock, B)
    s = node(clock, S, stp=True, mtp2_timers={"T6": 30.0})
    a.mtp3.add_route(B, [S])
    b.mtp3.add_route(A, [S])
    a.mtp3.rct = True  # the national option under test (Q.704 13.1, 13.9)
    wa, wb = TapWire(clock), TapWire(clock)
    connect(a, s, 0, wa)  # side 0 is A
    connect(s, b, 0, wb)  # side 0 is S
    users = Recorder(clock), Recorder(clock)
    a.mtp3.register_user(SI_TEST, users[0])
    b.mtp3.register_user(SI_TEST, users[1])
    for n in (a, s, b):
        n.start()
    clock.advance(3)
    assert B in a.mtp3.accessible
    return a, s, b, wa, wb, users


def snm(wire, side, since):
    """(time, (message, destination)) of the TFC and RCT side ``side`` sent since ``since``."""
    out = []
    for t, body in wire.msus[side]:
        m = decode_msu(ITU, body)
        if t >= since and m["si"] == SI_SNM:
            s = decode_snm(ITU, m["payload"])
            if s["message"] in ("TFC", "RCT"):
                out.append((t, (s["message"], s.get("dest"))))
    return out


def congest(b, on: bool) -> None:
    b.mtp3.find_link(S, 0).mtp2.set_receive_congestion(on)


def test_tfc_every_eighth_msu_then_rct_t15_t16(net, clock):
    a, s, b, wa, wb, (ua, ub) = net
    t15, t16 = (a.mtp3.timers.table.values[t] for t in ("T15", "T16"))
    congest(b, True)
    clock.advance(0.1)
    assert s.mtp3.find_link(B, 0).mtp2.remote_busy
    t0 = clock.time()
    for i in range(10):
        assert a.mtp3.transfer(SI_TEST, B, i, bytes((i,)))
    clock.advance(0.1)
    # Q.704 13.7.2: TFC about B for the 1st and the 9th MSU, to the originating point A
    tfc = [body for t, body in wa.msus[1] if t >= t0 and body[0] & 0x0F == SI_SNM]
    assert len(tfc) == 2 == (10 + TFC_EVERY - 1) // TFC_EVERY
    assert tfc[0] == encode_msu(ITU, SI_SNM, 2, A, S, 0, encode_snm(ITU, "TFC", dest=B))
    assert tfc[0][5:] == bytes((0x23, B, 0))  # H0 = 3, H1 = 2; destination B (Q.704 15.8)
    assert [c for _, d, c in ua.status if d == B] == ["signalling network congestion"] * 2
    assert a.mtp3.congestion[B].state == "CONGESTED" and a.mtp3.status()["congested"] == [B]
    assert ub.got == []  # held in S's MTP2 while B is busy, not discarded

    # T15 after the last TFC: RCT toward B; S, still congested, answers TFC and discards it
    t_last_tfc = wa.msus[1][-1][0]
    clock.advance(t_last_tfc + t15 + 0.05 - clock.time())
    rct = [(t, m) for t, m in snm(wa, 0, t0) if m[0] == "RCT"]
    assert len(rct) == 1 and t_last_tfc + t15 <= rct[0][0] < t_last_tfc + t15 + 0.01
    assert rct[0][1] == ("RCT", None)
    assert [m for _, m in snm(wa, 1, rct[0][0])] == [("TFC", B)]
    assert a.mtp3.congestion[B].state == "CONGESTED"  # back to T15, T16 stopped
    assert s.mtp3.counters["tx_tfc"] == 3 and b.mtp3.counters["rx_rct"] == 0

    # congestion ends at B: the held MSUs arrive in order; the next RCT goes through
    congest(b, False)
    clock.advance(0.1)
    assert ub.got == [bytes((i,)) for i in range(10)]
    t1 = clock.time()
    clock.advance(t15 + t16 + 0.2)
    rct2 = [t for t, m in snm(wa, 0, t1) if m[0] == "RCT"]
    assert len(rct2) == 1 and snm(wa, 1, t1) == []  # no TFC this time
    assert b.mtp3.counters["rx_rct"] == 1  # reached B, discarded there (Q.704 13.9)
    assert [m for _, m in snm(wb, 0, t1)] == [("RCT", None)]
    # T16 expired without TFC: the route set is no longer congested and users hear so
    end = [t for t, d, c in ua.status if d == B and c == "ok"]
    assert len(end) == 1 and rct2[0] + t16 <= end[0] < rct2[0] + t16 + 0.01
    assert a.mtp3.congestion[B].state == "UNCONGESTED" and a.mtp3.status()["congested"] == []


def test_t15_runs_from_the_update_not_from_each_tfc(net, clock):
    """Q.704 13.7.3, 13.7.5: a TFC finding the route set already congested updates nothing,
    so T15 keeps running from the TFC that did: with traffic drawing a TFC every half
    second the test still starts T15 after the first one (restarting T15 on each TFC would
    never test while traffic flows)."""
    a, s, b, wa, wb, (ua, ub) = net
    t15 = a.mtp3.timers.table.values["T15"]
    congest(b, True)
    clock.advance(0.1)
    t0 = clock.time()
    for _ in range(int(2 * t15) + 2):  # a TFC every 0.5 s, past T15
        for j in range(TFC_EVERY):
            a.mtp3.transfer(SI_TEST, B, j, b"t")
        clock.advance(0.5)
    tfc = [t for t, m in snm(wa, 1, t0) if m == ("TFC", B)]
    rct = [t for t, m in snm(wa, 0, t0) if m[0] == "RCT"]
    assert len(tfc) > 2 * t15 and tfc[-1] > tfc[0] + t15
    assert rct and tfc[0] + t15 <= rct[0] < tfc[0] + t15 + 0.01


def test_origin_tells_its_users_of_its_own_congested_link_set(net, clock):
    """Q.704 11.2.3.1 i): A's link toward the STP is congested (S busy): A's messages to B
    are still sent, A's users hear MTP-STATUS about B - not only about the adjacent S -
    for the first and every 8th, as a TFC would tell them; none once it abates."""
    a, s, b, wa, wb, (ua, ub) = net
    s.mtp3.find_link(A, 0).mtp2.set_receive_congestion(True)
    clock.advance(0.1)
    assert a.mtp3.linksets[S].congested
    for i in range(10):
        assert a.mtp3.transfer(SI_TEST, B, i, bytes((i,)))
    clock.advance(0.1)
    assert [c for _, d, c in ua.status if d == B] == ["signalling network congestion"] * 2
    assert s.mtp3.counters["tx_tfc"] == 0 and ub.got == []
    s.mtp3.find_link(A, 0).mtp2.set_receive_congestion(False)
    clock.advance(0.5)
    a.mtp3.transfer(SI_TEST, B, 10, b"\x0a")
    clock.advance(0.1)
    assert [c for _, d, c in ua.status if d == B] == ["signalling network congestion"] * 2
    assert ub.got == [bytes((i,)) for i in range(11)]


def test_inaccessible_destination_ends_the_test_and_ignores_tfc(net, clock):
    """Q.704 13.9.4: no test toward an unavailable route set - B becoming inaccessible
    (TFP from S) ends it without RCT or an 'ok' to users; 13.7.6: a TFC about a
    destination already inaccessible is ignored."""
    a, s, b, wa, wb, (ua, ub) = net
    congest(b, True)
    clock.advance(0.1)
    a.mtp3.transfer(SI_TEST, B, 0, b"x")
    clock.advance(0.1)
    assert a.mtp3.congestion[B].state == "CONGESTED"
    b.mtp3.find_link(S, 0).dispatch("deactivate")  # S's only link toward B fails
    clock.advance(2)
    assert B not in a.mtp3.accessible and a.mtp3.status()["congested"] == []
    t0, seen = clock.time(), len(ua.status)
    ls = s.mtp3.linksets[A]
    ls.send_mgmt(ls.links[0], SI_SNM, encode_snm(ITU, "TFC", dest=B))
    clock.advance(a.mtp3.timers.table.values["T15"] + a.mtp3.timers.table.values["T16"] + 1)
    assert snm(wa, 0, t0) == [] and ua.status[seen:] == []
    assert a.mtp3.counters["rx_tfc"] == 2 and B not in a.mtp3.congestion


def test_point_codes_out_of_range_are_refused(clock):
    """Q.704 2.2: a routing label carries 14-bit point codes (24-bit in China); others are
    a ValueError when configured, not a failure when the first message is built."""
    a = node(clock, A)
    for bad in (-1, 1 << 14, "7", True):
        with pytest.raises(ValueError, match="14-bit itu point code"):
            a.mtp3.add_route(bad, [S])
        with pytest.raises(ValueError, match="point code"):
            a.mtp3.add_route(B, [bad])
        with pytest.raises(ValueError, match="adjacent point"):
            a.mtp3.add_linkset("x", bad)
    with pytest.raises(ValueError, match="own point code"):
        node(clock, 1 << 14)
    assert node(clock, (1 << 14) - 1).mtp3.pc == 0x3FFF


def test_changeover_off_a_congested_link_ends_the_tfc(clock):
    """Q.704 5, 11.2.3: S has two links toward B and B congests one; MSUs toward B draw TFC
    while it is in service.  It fails: its traffic changes over to the other, uncongested
    link, nothing is lost, and the MSUs after it draw no TFC (the link set is no longer
    congested, 3.8)."""
    a, b = node(clock, A), node(clock, B)
    s = node(clock, S, stp=True, mtp2_timers={"T6": 30.0})
    a.mtp3.add_route(B, [S])
    b.mtp3.add_route(A, [S])
    wa, wb0, wb1 = TapWire(clock), TapWire(clock), TapWire(clock)
    connect(a, s, 0, wa)
    connect(s, b, 0, wb0)
    connect(s, b, 1, wb1)
    ub = Recorder(clock)
    a.mtp3.register_user(SI_TEST, Recorder(clock))
    b.mtp3.register_user(SI_TEST, ub)
    for n in (a, s, b):
        n.start()
    clock.advance(3)
    b.mtp3.find_link(S, 0).mtp2.set_receive_congestion(True)
    clock.advance(0.1)
    t0 = clock.time()
    for i in range(16):
        a.mtp3.transfer(SI_TEST, B, i, bytes((i,)))
    clock.advance(0.1)
    assert [m for _, m in snm(wa, 1, t0)] == [("TFC", B)] * 2
    b.mtp3.find_link(S, 0).dispatch("deactivate")  # the congested link fails
    clock.advance(2)
    assert not s.mtp3.linksets[B].congested and not s.mtp3._congested_links
    t1 = clock.time()
    for i in range(16, 32):
        a.mtp3.transfer(SI_TEST, B, i, bytes((i,)))
    clock.advance(0.5)
    assert snm(wa, 1, t1) == []
    assert sorted(ub.got) == [bytes((i,)) for i in range(32)]


def test_international_origin_only_tells_its_users(net, clock):
    """Q.704 13.1: the international network communicates route set congestion by TFC alone;
    without the national option the origin tells its users of each TFC and sends no RCT."""
    a, s, b, wa, wb, (ua, ub) = net
    a.mtp3.rct = False
    congest(b, True)
    clock.advance(0.1)
    t0 = clock.time()
    for i in range(10):
        assert a.mtp3.transfer(SI_TEST, B, i, bytes((i,)))
    clock.advance(30)
    assert [c for _, d, c in ua.status if d == B] == ["signalling network congestion"] * 2
    assert [m for _, m in snm(wa, 0, t0)] == [] and a.mtp3.status()["congested"] == []


def test_tfc_count_starts_again_after_congestion_abates(net, clock):
    """Each congestion episode gets its TFC at the first MSU again."""
    a, s, b, wa, wb, _ = net
    for _ in range(2):
        congest(b, True)
        clock.advance(0.1)
        t0 = clock.time()
        for i in range(3):
            a.mtp3.transfer(SI_TEST, B, i, b"x")
        clock.advance(0.1)
        assert [m for _, m in snm(wa, 1, t0)] == [("TFC", B)]
        congest(b, False)
        clock.advance(0.1)


def test_congested_link_failing_forgets_its_congestion(net, clock):
    """MTP2 out of service clears its busy state: the STP's TFC count starts afresh."""
    a, s, b, wa, wb, _ = net
    congest(b, True)
    clock.advance(0.1)
    a.mtp3.transfer(SI_TEST, B, 0, b"x")
    clock.advance(0.1)
    assert s.mtp3._tfc_count and s.mtp3._congested_links
    s.mtp3.find_link(B, 0).mtp2.stop()
    clock.advance(0.1)
    assert not s.mtp3._tfc_count and not s.mtp3._congested_links


def test_uncongested_transfer_point_sends_no_tfc(net, clock):
    a, s, b, wa, wb, (ua, ub) = net
    for i in range(20):
        a.mtp3.transfer(SI_TEST, B, i, b"y")
    clock.advance(0.1)
    assert s.mtp3.counters["tx_tfc"] == 0 and len(ub.got) == 20
    assert B not in a.mtp3.congestion


def test_only_the_transfer_point_sends_tfc(clock, net):
    """Congestion toward A: S tells B, the origin; the end points send no TFC (13.7.2)."""
    a, s, b, wa, wb, _ = net
    a.mtp3.find_link(S, 0).mtp2.set_receive_congestion(True)  # A congests S's link to A
    clock.advance(0.1)
    t0 = clock.time()
    b.mtp3.transfer(SI_TEST, A, 0, b"z")
    clock.advance(0.1)
    assert [m for _, m in snm(wb, 0, t0)] == [("TFC", A)]  # S -> B about A
    assert a.mtp3.counters["tx_tfc"] == b.mtp3.counters["tx_tfc"] == 0


@pytest.fixture(scope="module")
def congested_stp():
    """A - S - B with S's link toward B congested (MTP2 T6 long enough for the session)."""
    from core.clock import VirtualClock

    clock = VirtualClock()
    a, b = node(clock, A), node(clock, B)
    s = node(clock, S, stp=True, mtp2_timers={"T6": 3600.0})
    a.mtp3.add_route(B, [S])
    b.mtp3.add_route(A, [S])
    connect(a, s, 0, TapWire(clock))
    connect(s, b, 0, TapWire(clock))
    for n in (a, s, b):
        n.start()
    clock.advance(3)
    congest(b, True)
    clock.advance(0.1)
    return clock, s


@settings(max_examples=150, deadline=None)
@given(body=st.binary(min_size=0, max_size=40), raw=st.binary(min_size=0, max_size=48),
       opc=st.integers(0, 0x3FFF))
def test_arbitrary_msus_toward_congestion_never_raise(congested_stp, body, raw, opc):
    """Anything A sends toward B (DPC B in the label, SNM or not, any OPC: unknown, S's own)
    at a congested S is either transferred (with TFC as the count says) or dropped as
    undecodable; so is any unit at all (labels naming any point, short ones)."""
    clock, s = congested_stp
    link = s.mtp3.linksets[A].links[0]
    for sio in (0x80, 0x85):
        s.mtp3.receive(link, bytes((sio,)) + ITU.build_label(B, opc, 0) + body)
    s.mtp3.receive(link, raw)
    clock.advance(0.01)


@given(st.sampled_from(["itu", "china"]), st.integers(0, 0x3FFF))
def test_tfc_rct_round_trip(variant, pc):
    v = VARIANTS[variant]
    assert decode_snm(v, encode_snm(v, "TFC", dest=pc)) == {"message": "TFC", "dest": pc}
    assert decode_snm(v, encode_snm(v, "RCT")) == {"message": "RCT"}
    assert encode_snm(v, "RCT") == b"\x13"  # Q.704 15.9: heading code alone


def test_rct_label_octets():
    """RCT from A to B: SIO (SNM, national), label DPC B / OPC A, heading H0 = 3 H1 = 1."""
    body = encode_msu(ITU, SI_SNM, 2, B, A, 0, encode_snm(ITU, "RCT"))
    m = decode_msu(ITU, body)
    assert (m["dpc"], m["opc"], m["si"]) == (B, A, SI_SNM)
    assert body.hex() == "80" + "02400000" + "13"


@pytest.mark.interop
def test_libss7_reads_tfc_and_rct_and_keeps_working(tmp_path):
    """libss7 2.0 (an end point, no transfer function) given TFC and RCT by its adjacent
    point: it takes both without a link failure or an error in its log, and a call after
    them is answered."""
    need_library("ss7")
    need_program("gcc")
    p = Libss7Pair(tmp_path)
    try:
        assert p.run(15, lambda: B in p.node.mtp3.accessible and p.saw("UP"))
        ls = p.node.mtp3.linksets[B]
        for payload in (encode_snm(ITU, "TFC", dest=9), encode_snm(ITU, "RCT")):
            ls.send_mgmt(ls.links[0], SI_SNM, payload)
        p.run(1)
        assert ls.links[0].state == "AVAILABLE"
        p.cmd("auto on")
        call = p.node.isup.setup(B, "4000", "5000", cic=1)
        assert p.run(5, lambda: call.state == "ANSWERED")
        log = (tmp_path / "libss7.log").read_text().lower()
        assert "error" not in log and "unknown" not in log, log[-2000:]
    finally:
        p.close()
