"""MTP2 acknowledgement economy (Q.703 5.2, 5.3): a burst of MSUs is followed by one FISU, the
receiver acknowledges a burst with one FISU, the repeat filter passes only units that say
something new, and T7 (re-armed lazily) still fails a link exactly T7 after the oldest
unacknowledged MSU was sent."""

from __future__ import annotations

from ss7 import isup_codec as C
from ss7.mtp2 import decode_su, encode_su, lssu
from ss7.mtp3_codec import SI_ISUP
from ss7.stack import MemoryWire, RepeatFilter, Ss7Node, connect


def linked(clock, delay=0.001):
    a, b = Ss7Node(clock, 1), Ss7Node(clock, 2)
    wire = MemoryWire(clock, delay)
    la, lb = connect(a, b, 0, wire)
    a.start()
    b.start()
    clock.advance(2)
    assert la.available and lb.available
    return a, b, wire, la, lb


def tap(wire, side, log):
    """Record every unit delivered toward ``side`` (before its repeat filter)."""
    inner = wire.receivers[side]

    def rx(su):
        log.append(decode_su(su))
        inner(su)
    wire.attach(side, rx)


def test_burst_is_followed_by_one_fisu_and_acknowledged_by_one(clock):
    a, b, wire, la, lb = linked(clock)
    to_b, to_a = [], []
    tap(wire, 1, to_b)
    tap(wire, 0, to_a)
    got = []
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: got.append(data)
    msgs = [C.encode("INF", 2, {"information": i}) for i in range(10)]
    for m in msgs:
        a.mtp3.transfer(SI_ISUP, 2, 0, m)
    clock.advance(0.1)
    assert got == msgs
    kinds = [u["kind"] for u in to_b]
    assert kinds == ["MSU"] * 10 + ["FISU"]
    last_fsn = to_b[9]["fsn"]
    assert to_b[10]["fsn"] == last_fsn  # the FISU repeats the last FSN sent (Q.703 5.2.1)
    assert [u["kind"] for u in to_a] == ["FISU"] and to_a[0]["bsn"] == last_fsn
    assert not la.mtp2.rtb  # everything acknowledged by that single FISU


def test_response_msu_carries_the_acknowledgement(clock):
    """An MSU sent while handling received ones acknowledges them by its BSN; the burst's one
    FISU follows the response."""
    a, b, wire, la, lb = linked(clock)
    to_a = []
    tap(wire, 0, to_a)
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: b.mtp3.transfer(SI_ISUP, 1, 0, data)
    a.isup.mtp_transfer = lambda opc, dpc, sls, data: None
    a.mtp3.transfer(SI_ISUP, 2, 0, C.encode("RLC", 1, {}))
    sent_fsn = la.mtp2.fsnt
    clock.advance(0.1)
    assert [u["kind"] for u in to_a] == ["MSU", "FISU"]
    assert to_a[0]["bsn"] == sent_fsn and not la.mtp2.rtb


def test_repeat_filter_passes_only_news():
    seen = []
    f = RepeatFilter(seen.append)
    msu = encode_su(5, 1, 6, 1, b"\x85" + bytes(10))
    units = [
        encode_su(4, 1, 5, 1),     # FISU: new
        encode_su(4, 1, 5, 1),     # repeated FISU: dropped
        msu,                       # MSU: always passed
        encode_su(5, 1, 6, 1),     # FISU with the MSU's sequence octets: nothing new, dropped
        encode_su(6, 1, 6, 1),     # FISU acknowledging more: passed
        lssu("SIOS", 6, 1, 6, 1),  # status change: passed
        lssu("SIOS", 6, 1, 6, 1),  # repeated LSSU: dropped
        encode_su(6, 1, 6, 1),     # FISU again after the LSSU: a change, passed
    ]
    for u in units:
        f(u)
    assert seen == [units[0], units[2], units[4], units[5], units[7]]
    assert f.dropped == 3


def test_t7_measured_from_the_oldest_unacknowledged_msu(clock):
    """Q.703 5.3.1: T7 restarts on each positive acknowledgement and stops when nothing is
    outstanding; the timer armed for an earlier MSU must not fail a later one early."""
    a, b, wire, la, lb = linked(clock, delay=0.0)
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: None
    a.mtp3.transfer(SI_ISUP, 2, 0, C.encode("RLC", 1, {}))
    clock.advance(0.6)  # acknowledged at once; the T7 armed at 0 is still pending
    assert not la.mtp2.rtb
    wire.attach(0, lambda su: None)  # from now on A hears no acknowledgement
    a.mtp3.transfer(SI_ISUP, 2, 0, C.encode("RLC", 2, {}))
    clock.advance(0.9)  # 1.5 s after the first MSU, 0.9 s after the unacknowledged one
    assert la.mtp2.state == "IN_SERVICE"
    clock.advance(0.2)  # T7 = 1 s after the second MSU
    assert la.mtp2.state == "OUT_OF_SERVICE"
    assert la.mtp2.failure_reason.startswith("T7")


def test_steady_acknowledgements_keep_the_link_up(clock):
    a, b, wire, la, lb = linked(clock, delay=0.2)
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: None
    for i in range(40):  # an MSU every 0.25 s for 10 s; each acknowledged 0.4 s later
        a.mtp3.transfer(SI_ISUP, 2, 0, C.encode("RLC", 1 + i % 30, {}))
        clock.advance(0.25)
    assert la.mtp2.state == "IN_SERVICE" and la.mtp2.counters["link_failures"] == 0
