"""MTP3 signalling link management (Q.704 10: inhibiting) and MTP restart (Q.704 9) on the
virtual clock: message octets, state sequences and timer expiries."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ss7.isup import IsupListener
from ss7.mtp3_codec import SI_ISUP, SI_SLTM, SI_SNM, SNM_NAMES, VARIANTS, decode_msu
from ss7.stack import MemoryWire, Ss7Node, connect
from ss7.trace import LinkTracer
from tests.conftest import need_library, need_program
from tests.ss7_peer.ss7_harness import Libss7Pair


class TapWire(MemoryWire):
    """A MemoryWire that records the MSU bodies each side sends, with the time."""

    def __init__(self, clock, delay=0.001):
        super().__init__(clock, delay)
        self.clock = clock
        self.msus: list[list[tuple[float, bytes]]] = [[], []]

    def end(self, side):
        send = super().end(side)

        def tap(su: bytes) -> None:
            if su[2] & 0x3F >= 3:
                self.msus[side].append((self.clock.time(), su[3:]))
            send(su)
        return tap

    def snm(self, side: int, since: float = 0.0) -> list[tuple[str, int]]:
        """(message, SLS) of the SNM messages side ``side`` sent since ``since``."""
        out = []
        for t, body in self.msus[side]:
            m = decode_msu(VARIANTS["itu"], body)
            if t >= since and m["si"] == SI_SNM:
                h = m["payload"][0]
                out.append((SNM_NAMES[(h & 0x0F, h >> 4)], m["sls"]))
        return out

    def count_si(self, side: int, si: int, since: float = 0.0) -> int:
        return sum(1 for t, b in self.msus[side] if t >= since and b[0] & 0x0F == si)


class Rec(IsupListener):
    def __init__(self):
        self.resets: list[list[int]] = []

    def on_setup(self, call):
        call.accept()
        call.answer()

    def on_reset(self, cics):
        self.resets.append(cics)


def nodes(clock, links=2):
    ra, rb = Rec(), Rec()
    a = Ss7Node(clock, 1, isup_listener=ra)
    b = Ss7Node(clock, 2, isup_listener=rb)
    a.isup.add_circuits(2, range(1, 32))
    b.isup.add_circuits(1, range(1, 32))
    wires = [TapWire(clock) for _ in range(links)]
    pairs = [connect(a, b, slc, w) for slc, w in enumerate(wires)]
    log_a: list[tuple[float, str]] = []
    log_b: list[tuple[float, str]] = []
    a.mtp3._log = lambda ev, **kw: log_a.append((clock.time(), ev))
    b.mtp3._log = lambda ev, **kw: log_b.append((clock.time(), ev))
    a.start()
    b.start()
    clock.advance(2)
    return a, b, wires, pairs, log_a, log_b, ra, rb


def fail(wire, pair):
    """Cut the line and let both MTP2s see it (an idle cut line is only noticed by traffic)."""
    wire.cut()
    for link in pair:
        link.mtp2.stop()


def events(log, name):
    return [t for t, ev in log if ev == name]


def test_lin_octets_lia_diverts_user_traffic_and_keeps_slt(clock):
    a, b, wires, pairs, log_a, log_b, *_ = nodes(clock)
    la, lb = pairs[0]
    t0 = clock.time()
    assert a.inhibit(la)
    clock.advance(0.1)
    # Q.704 15 (MIM group H0=6): SIO (national, SI 0), label DPC 2 OPC 1 SLS = SLC 0, heading H0=6 H1=1
    lin = [b for t, b in wires[0].msus[0] if t >= t0][0]
    assert lin == bytes((0x80, 0x02, 0x40, 0x00, 0x00, 0x16))
    assert wires[0].snm(1, t0) == [("LIA", 0)]
    assert la.inhibit.state == "INHIBITED" and la.inhibit.local and not la.inhibit.remote
    assert lb.inhibit.remote and not lb.inhibit.local and lb.inhibit.state == "UNINHIBITED"
    assert not la.available and la.state == "AVAILABLE"  # in service, no user traffic
    assert a.status()["mtp3"]["linksets"]["ls2"]["links"][0]["local_inhibited"]
    clock.advance(1)  # diversion after T1
    t1 = clock.time()
    for cic in range(1, 17):  # every SLS: all user traffic goes on link 1
        a.isup.setup(2, "1234", cic=cic)
    for cic in range(17, 32):
        b.isup.setup(1, "4321", cic=cic)
    clock.advance(1)
    assert wires[0].count_si(0, SI_ISUP, t1) == wires[0].count_si(1, SI_ISUP, t1) == 0
    assert wires[1].count_si(0, SI_ISUP, t1) >= 16 and wires[1].count_si(1, SI_ISUP, t1) >= 15
    clock.advance(61)  # SLT T2: the inhibited link is still tested (Q.704 10.1)
    assert wires[0].count_si(0, SI_SLTM, t1) >= 1 and wires[0].count_si(1, SI_SLTM, t1) >= 1
    assert events(log_a, "inhibited") and events(log_b, "remotely_inhibited")


def test_inhibit_refused_when_a_destination_would_become_inaccessible(clock):
    a, b, wires, pairs, log_a, *_ = nodes(clock, links=1)
    t0 = clock.time()
    assert not a.inhibit(pairs[0][0])  # the only link toward 2 (Q.704 10.2.1)
    clock.advance(1)
    assert wires[0].snm(0, t0) == [] and events(log_a, "inhibit_refused")
    assert 2 in a.mtp3.accessible


def test_remote_denies_with_lid(clock):
    a, b, wires, pairs, log_a, log_b, *_ = nodes(clock)
    la, lb = pairs[0]
    fail(wires[1], pairs[1])  # link 1 fails: link 0 is now the only one at both ends
    clock.advance(3)
    t0 = clock.time()
    la.inhibit.dispatch("op_inhibit")  # a management whose view differs from B's
    clock.advance(0.1)
    assert wires[0].snm(0, t0) == [("LIN", 0)] and wires[0].snm(1, t0) == [("LID", 0)]
    assert la.inhibit.state == "UNINHIBITED" and not lb.inhibit.remote
    assert events(log_a, "inhibit_denied") and la.available


def test_t14_repeats_lin_once_then_fails(clock):
    a, b, wires, pairs, log_a, *_ = nodes(clock)
    la, lb = pairs[0]
    lb.inhibit.dispatch = lambda *args: None  # B's MTP ignores link management
    t0 = clock.time()
    assert a.inhibit(la)
    clock.advance(2.4)
    assert wires[0].snm(0, t0) == [("LIN", 0)]
    clock.advance(0.2)  # T14 = 2.5 s
    assert wires[0].snm(0, t0) == [("LIN", 0), ("LIN", 0)]
    clock.advance(2.5)
    assert la.inhibit.state == "UNINHIBITED" and events(log_a, "inhibit_failed")
    assert wires[0].snm(0, t0) == [("LIN", 0), ("LIN", 0)]


def test_uninhibit_lun_lua_and_changeback(clock):
    a, b, wires, pairs, log_a, log_b, *_ = nodes(clock)
    la, lb = pairs[0]
    a.inhibit(la)
    clock.advance(2)
    t0 = clock.time()
    assert a.uninhibit(la)
    clock.advance(2)
    assert ("LUN", 0) in wires[0].snm(0, t0) and ("LUA", 0) in wires[0].snm(1, t0)
    assert ("CBD", 0) in wires[1].snm(0, t0) and ("CBA", 0) in wires[1].snm(1, t0)
    assert la.inhibit.state == "UNINHIBITED" and not lb.inhibit.remote and la.available
    t1 = clock.time()
    for cic in range(1, 17):
        a.isup.setup(2, "1234", cic=cic)
    clock.advance(1)
    assert wires[0].count_si(0, SI_ISUP, t1) > 0 and wires[1].count_si(0, SI_ISUP, t1) > 0


def test_t12_repeats_lun_once(clock):
    a, b, wires, pairs, log_a, *_ = nodes(clock)
    la, lb = pairs[0]
    a.inhibit(la)
    clock.advance(2)
    lb.inhibit.dispatch = lambda *args: None
    t0 = clock.time()
    a.uninhibit(la)
    clock.advance(1.3)  # T12 = 1.2 s
    assert wires[0].snm(0, t0) == [("LUN", 0), ("LUN", 0)]
    clock.advance(1.3)
    assert la.inhibit.state == "INHIBITED" and events(log_a, "uninhibit_failed")


def test_needed_link_is_uninhibited_when_the_other_fails(clock):
    a, b, wires, pairs, log_a, log_b, *_ = nodes(clock)
    la, lb = pairs[0]
    a.inhibit(la)
    clock.advance(2)
    t0 = clock.time()
    fail(wires[1], pairs[1])  # the last uninhibited link fails: 2 and 1 become inaccessible
    clock.advance(3)
    # Q.704 10.3.2: A uninhibits its side (LUN); B asks with LFU (forced uninhibit)
    assert ("LUN", 0) in wires[0].snm(0, t0) and ("LFU", 0) in wires[0].snm(1, t0)
    assert la.available and lb.available
    assert 2 in a.mtp3.accessible and 1 in b.mtp3.accessible
    call = a.isup.setup(2, "555")
    clock.advance(1)
    assert call.state == "ANSWERED"


def test_inhibit_tests_llt_lrt_and_a_lost_remote_marking(clock):
    a, b, wires, pairs, log_a, log_b, *_ = nodes(clock)
    la, lb = pairs[0]
    a.inhibit(la)
    clock.advance(2)
    t0 = clock.time()
    clock.advance(240)  # T22 / T23 (3-6 min)
    assert ("LLT", 0) in wires[0].snm(0, t0) and ("LRT", 0) in wires[0].snm(1, t0)
    assert la.inhibit.local and lb.inhibit.remote  # consistent: nothing else happens
    lb.inhibit.remote = False  # B loses its marking (e.g. a processor restart)
    lb.inhibited_changed(False)
    t1 = clock.time()
    clock.advance(240)
    # LLT finds no remote marking: B sends LFU, A uninhibits with LUN/LUA (Q.704 10.6)
    assert ("LFU", 0) in wires[0].snm(1, t1) and ("LUN", 0) in wires[0].snm(0, t1)
    assert la.inhibit.state == "UNINHIBITED" and la.available


def test_failed_inhibited_link_stays_inhibited_when_restored(clock):
    a, b, wires, pairs, *_ = nodes(clock)
    la, lb = pairs[0]
    a.inhibit(la)
    clock.advance(2)
    fail(wires[0], pairs[0])
    clock.advance(3)
    assert la.state == "FAILED"
    wires[0].splice()
    clock.advance(20)
    assert la.state == "AVAILABLE" and la.inhibited and not la.available  # Q.704 10.5
    t0 = clock.time()
    for cic in range(1, 17):
        a.isup.setup(2, "1234", cic=cic)
    clock.advance(1)
    assert wires[0].count_si(0, SI_ISUP, t0) == 0


# MTP restart (Q.704 9) -----------------------------------------------------------------------
def test_restart_resumes_users_only_after_tra_and_then_resets_circuits(clock):
    resumed = []
    a = Ss7Node(clock, 1)
    b = Ss7Node(clock, 2)
    a.isup.add_circuits(2, range(1, 5))
    b.isup.add_circuits(1, range(1, 5))
    wire = TapWire(clock)
    connect(a, b, 0, wire)
    log: list[tuple[float, str]] = []
    a.mtp3._log = lambda ev, **kw: log.append((clock.time(), ev))
    orig = a.isup.mtp_resume
    a.isup.mtp_resume = lambda dpc: (resumed.append(clock.time()), orig(dpc))
    a.start()
    b.start()
    clock.advance(3)
    names = [ev for _, ev in log if ev in ("restart_begins", "restart_ends", "resume")]
    assert names == ["restart_begins", "restart_ends", "resume"]
    tra_a = [t for t, body in wire.msus[0] if body[5:6] == b"\x17"]
    tra_b = [t for t, body in wire.msus[1] if body[5:6] == b"\x17"]
    assert len(tra_a) == len(tra_b) == 1 and resumed[0] >= tra_b[0]
    grs = [body for t, body in wire.msus[0] if body[0] & 0x0F == SI_ISUP and body[7] == 0x17]
    assert len(grs) == 1 and grs[0][5:7] == b"\x01\x00"  # GRS from CIC 1 after MTP-RESUME


def test_restarting_point_waits_t18_for_a_dead_linkset(clock):
    a = Ss7Node(clock, 1)
    b = Ss7Node(clock, 2)
    connect(a, b, 0, MemoryWire(clock, 0.001))
    a.add_link(3, 0, lambda su: None)  # a linkset toward 3 that never comes up
    a.start()
    b.start()
    clock.advance(19)
    assert a.mtp3.restarting and 2 not in a.mtp3.accessible
    assert not a.mtp3.transfer(SI_ISUP, 2, 0, b"\x01\x00\x10")
    clock.advance(1.5)  # T18 = 20 s: stop waiting for linkset 3; B's TRA is in
    assert not a.mtp3.restarting and a.mtp3.accessible == {2}


def test_t20_ends_restart_without_tra(clock):
    a = Ss7Node(clock, 1)
    b = Ss7Node(clock, 2)
    la, lb = connect(a, b, 0, MemoryWire(clock, 0.001))
    b.mtp3.linksets[1].tra_sent = True  # B never sends TRA
    a.start()
    b.start()
    clock.advance(59)
    assert a.mtp3.restarting and not a.mtp3.accessible
    clock.advance(1.5)  # T20 = 60 s
    assert not a.mtp3.restarting and a.mtp3.accessible == {2}


def test_adjacent_point_restart_t21_and_isolation_restart(clock):
    """A keeps a linkset to C while its linkset to B fails: B (isolated) restarts; A runs the
    adjacent-point procedure; with B's TRA suppressed, A's T21 restarts the traffic."""
    a = Ss7Node(clock, 1)
    b = Ss7Node(clock, 2)
    c = Ss7Node(clock, 3)
    wab = MemoryWire(clock, 0.001)
    connect(a, b, 0, wab)
    connect(a, c, 0, MemoryWire(clock, 0.001))
    b.add_link(3, 0, lambda su: None)
    log_b: list[str] = []
    b.mtp3._log = lambda ev, **kw: log_b.append(ev)
    for n in (a, b, c):
        n.start()
    clock.advance(25)
    assert a.mtp3.accessible == {2, 3}
    fail(wab, (a.mtp3.find_link(2, 0), b.mtp3.find_link(1, 0)))
    clock.advance(3)
    assert a.mtp3.accessible == {3} and b.mtp3.restarting
    assert log_b.count("restart_begins") == 2  # start, then recovery from isolation
    b_ls = b.mtp3.linksets[1]
    b_ls.send_mgmt = (lambda send: lambda link, si, payload, **kw:
                      None if payload == b"\x17" else send(link, si, payload, **kw))(b_ls.send_mgmt)
    b.mtp3._end_restart = lambda: None  # and B stays restarting
    wab.splice()
    clock.advance(10)
    assert a.mtp3.linksets[2].tra_sent and 2 not in a.mtp3.accessible
    clock.advance(64)  # T21
    assert 2 in a.mtp3.accessible


def test_isup_group_reset_after_each_restart(clock):
    a, b, wires, pairs, log_a, log_b, ra, rb = nodes(clock, links=1)
    assert len(rb.resets) == 1  # GRS 1..31 after the first restart
    a.mtp3.stop()
    clock.advance(2)
    a.start()
    clock.advance(3)
    assert len(rb.resets) == 2 and rb.resets[-1] == list(range(1, 32))


def test_operator_api_on_the_node(clock):
    a, b, wires, pairs, *_ = nodes(clock)
    assert a.inhibit((2, 1))
    clock.advance(2)
    st = a.status()["mtp3"]
    assert st["linksets"]["ls2"]["links"][1]["inhibit"] == "INHIBITED"
    assert st["accessible"] == [2] and not st["restarting"]
    assert a.uninhibit((2, 1))
    clock.advance(2)
    assert a.status()["mtp3"]["linksets"]["ls2"]["links"][1]["available"]



def test_tshark_decodes_the_link_management_messages(clock, tmp_path):
    tshark = need_program("tshark")
    path = tmp_path / "inhibit.pcap"
    tracer = LinkTracer(str(path), clock)
    a = Ss7Node(clock, 1, tracer=tracer)
    b = Ss7Node(clock, 2)
    wires = [MemoryWire(clock, 0.001) for _ in range(2)]
    pairs = [connect(a, b, slc, w) for slc, w in enumerate(wires)]
    a.start()
    b.start()
    clock.advance(2)
    la, lb = pairs[0]
    a.inhibit(la)
    clock.advance(241)  # LLT and LRT
    lb.inhibit.remote = False  # B forgets: its answer to the next LLT is LFU
    lb.inhibited_changed(False)
    clock.advance(241)
    fail(wires[1], pairs[1])
    clock.advance(3)
    la.inhibit.dispatch("op_inhibit")  # link 0 is B's last link now: LID
    clock.advance(1)
    tracer.close()
    out = subprocess.run([tshark, "-r", str(path), "-Y", "mtp3mg", "-T", "fields",
                          "-e", "_ws.col.Info", "-e", "mtp3.sls", "-e", "_ws.malformed"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    got = {line.split("\t")[0].split()[0] for line in out}
    assert {"LIN", "LIA", "LID", "LLT", "LRT", "LFU", "LUN", "LUA", "CBD", "CBA", "TRA"} <= got
    assert not any(line.split("\t")[2] for line in out)  # nothing malformed
    assert all(line.split("\t")[1] == "0" for line in out if line.startswith(("LIN", "LIA")))


_OPS = ["LIN", "LUN", "LIA", "LUA", "LID", "LFU", "LLT", "LRT", "inhibit", "uninhibit"]


@settings(max_examples=25)
@given(st.lists(st.tuples(st.sampled_from(_OPS), st.integers(0, 1)), max_size=10))
def test_any_link_management_sequence_settles_consistently(ops):
    """Operator requests at A and arbitrary (even unexpected) management messages from B never
    crash; after the inhibit tests (T22/T23) both ends agree on every link and 2 stays
    reachable."""
    from core.clock import VirtualClock

    clock = VirtualClock()
    a, b, wires, pairs, *_ = nodes(clock)
    for op, slc in ops:
        la, lb = pairs[slc]
        if op == "inhibit":
            a.inhibit(la)
        elif op == "uninhibit":
            a.uninhibit(la)
        else:
            b.mtp3.linksets[1].send_link_mgmt(lb, op)
        clock.advance(0.3)
    clock.advance(2 * 240 + 10)
    for la, lb in pairs:
        assert la.inhibit.local == lb.inhibit.remote and lb.inhibit.local == la.inhibit.remote
    assert 2 in a.mtp3.accessible and 1 in b.mtp3.accessible


@pytest.mark.interop
def test_restart_against_libss7(tmp_path):
    """Our MTP restarts (stop, start) while libss7 stays up: libss7's TRA after the link comes
    back ends our restart at once, and our ISUP resets the circuits again (GRS)."""
    need_library("ss7")
    need_program("gcc")
    p = Libss7Pair(tmp_path)
    try:
        assert p.run(15, lambda: 2 in p.node.mtp3.accessible and p.saw("UP"))
        p.node.mtp3.stop()
        assert p.run(5, lambda: p.saw("DOWN"))
        assert 2 not in p.node.isup.available
        p.node.start()
        assert p.node.mtp3.restarting
        assert p.run(10, lambda: 2 in p.node.mtp3.accessible)
        assert not p.node.mtp3.restarting and p.node.mtp3.linksets[2].tra_received
        assert p.run(5, lambda: [x for x in p.lines if x.startswith("GRS 1 30")][1:])
    finally:
        p.close()


@pytest.mark.interop
def test_inhibit_and_uninhibit_against_libss7(tmp_path):
    """libss7 answers our LIN with LIA and our LUN with LUA; calls go on over the other link
    while link 0 is inhibited."""
    need_library("ss7")
    need_program("gcc")
    p = Libss7Pair(tmp_path, nlinks=2)
    answered: set[int] = set()  # links on which we answered libss7's SLTM
    record = p.tracer.record

    def tap(number: int, sent: bool, su: bytes) -> None:
        if sent and len(su) > 8 and su[2] & 0x3F >= 3 and su[3] & 0x0F == SI_SLTM and \
                su[8] == 0x21:  # SLTA (Q.707 2.2: H0 = 1, H1 = 2)
            answered.add(number)
        record(number, sent, su)

    p.tracer.record = tap
    try:
        links = p.node.mtp3.linksets[2].links
        # libss7 counts a link usable (and so allows inhibiting the other, Q.704 10.2) only
        # once our SLTA to its SLTM on it has arrived
        assert p.run(15, lambda: 2 in p.node.mtp3.accessible and answered == {0, 1}
                     and all(lk.available for lk in links))
        p.run(0.2)
        assert p.node.inhibit(links[0])
        assert p.run(5, lambda: links[0].inhibit.state == "INHIBITED")
        p.cmd("auto on")
        calls = [p.node.isup.setup(2, "123", cic=c) for c in (1, 2, 3, 4)]
        assert p.run(5, lambda: all(c.state == "ANSWERED" for c in calls))
        assert p.node.uninhibit(links[0])
        assert p.run(5, lambda: links[0].inhibit.state == "UNINHIBITED" and links[0].available)
        for c in calls:
            c.release(16)
        assert p.run(5, lambda: all(c.state == "IDLE" for c in calls))
    finally:
        p.close()
