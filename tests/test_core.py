"""Core services: virtual clock ordering, protocol timer tables, FSM tables, pcap, hdlc-socket."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import VirtualClock
from core.errors import ConfigError, DecodeError
from core.fsm import FsmTable, Machine, Row, UnexpectedEvent
from core.hdlcsock import HdlcSocket, fcs16
from core.pcap import LINKTYPE_MTP2, PcapWriter, read_pcap
from core.timers import Timers, TimerSpec, TimerTable


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), max_size=50))
def test_virtual_clock_fires_each_timer_at_its_deadline_in_order(delays):
    clock = VirtualClock()
    fired = []
    for i, d in enumerate(delays):
        clock.call_later(d, lambda i=i, d=d: fired.append((clock.time(), d, i)))
    clock.advance(100)
    assert [f[0] for f in fired] == [f[1] for f in fired]
    assert fired == sorted(fired, key=lambda f: (f[1], f[2]))
    assert clock.time() == 100


def test_cancelled_timer_never_fires():
    clock = VirtualClock()
    hits = []
    h = clock.call_later(1, hits.append, 1)
    h.cancel()
    clock.advance(2)
    assert hits == [] and clock.next_deadline() is None


TABLE = [TimerSpec("T303", 4, "s", "Q.931 9.1", "SETUP sent"),
         TimerSpec("T200", 1000, "ms", "Q.921 5.9.1", "retransmission")]


def test_timer_table_units_and_overrides():
    t = TimerTable(TABLE, {"T303": 6})
    assert t.values == {"T303": 6.0, "T200": 1.0}
    with pytest.raises(ConfigError, match="T999"):
        t.set("T999", 1)
    with pytest.raises(ConfigError):
        t.set("T200", -1)
    assert {r["name"] for r in t.rows()} == {"T303", "T200"}


def test_timers_restart_and_expiry_on_virtual_clock():
    clock = VirtualClock()
    timers = Timers(TimerTable(TABLE), clock)
    fired = []
    timers.start("T200", lambda: fired.append(clock.time()))
    clock.advance(0.5)
    timers.start("T200", lambda: fired.append(clock.time()))  # restart
    assert timers.remaining() == {"T200": 1.0}
    clock.advance(2)
    assert fired == [1.5] and not timers.running("T200")


@pytest.mark.parametrize("lazy", [(), ("T200",)])
def test_lazy_timers_behave_like_eager_ones(lazy):
    """A lazy timer restarts without touching the clock's heap, yet expires at exactly its
    last deadline, can be stopped, and shows in running()/remaining() as an eager one."""
    clock = VirtualClock()
    timers = Timers(TimerTable(TABLE), clock, lazy=lazy)
    fired: list[float] = []
    for _ in range(100):  # restarted every 10 ms
        timers.start("T200", lambda: fired.append(clock.time()))
        clock.advance(0.01)
    assert timers.running("T200") and timers.remaining() == {"T200": pytest.approx(0.99)}
    assert len(clock._heap) <= (1 if lazy else 100)
    clock.advance(0.99)
    assert fired == [pytest.approx(1.99)] and not timers.running("T200")
    timers.start("T200", lambda: fired.append(clock.time()), seconds=0.2)
    timers.stop("T200")
    timers.start("T200", lambda: fired.append(-clock.time()), seconds=0.1)  # earlier: re-armed
    clock.advance(0.05)
    timers.stop_all()
    clock.advance(1)
    assert fired == [pytest.approx(1.99)] and timers.remaining() == {}


class Door(Machine):
    fsm = FsmTable("door", ["closed", "open", "locked"], [
        Row("closed", "open", "on_open", "open"),
        Row("open", "close", None, "closed"),
        Row("closed", "lock", "on_lock"),
        Row("*", "kick", None, "closed"),
    ])
    keep_transitions = 10

    def __init__(self):
        self.state = "closed"
        self.log = []

    def on_open(self):
        self.log.append("opened")

    def on_lock(self, key):
        return "locked" if key == "good" else None


def test_fsm_table_rows_decisions_and_wildcard():
    d = Door()
    d.dispatch("open")
    d.dispatch("close")
    d.dispatch("lock", "bad")
    assert d.state == "closed"
    d.dispatch("lock", "good")
    assert d.state == "locked"
    d.dispatch("kick")
    assert d.state == "closed"
    with pytest.raises(UnexpectedEvent):
        d.dispatch("close")
    assert d.transitions[0] == ("closed", "open", "open")


def test_fsm_table_rejects_unknown_states():
    with pytest.raises(ValueError):
        FsmTable("bad", ["a"], [Row("a", "x", None, "b")])


def test_pcap_round_trip(tmp_path):
    p = str(tmp_path / "t.pcap")
    with PcapWriter(p, LINKTYPE_MTP2) as w:
        w.write(1.25, b"\x01\x02")
        w.write(2.5, b"")
    lt, recs = read_pcap(p)
    assert lt == LINKTYPE_MTP2 and list(recs) == [(1.25, b"\x01\x02"), (2.5, b"")]


@given(st.binary(max_size=64))
def test_read_pcap_bad_input_is_a_decode_error(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("p") / "x.pcap"
    p.write_bytes(data)
    try:
        _, recs = read_pcap(str(p))
        list(recs)
    except DecodeError:
        pass


def test_fcs16_check_value():
    # ISO/IEC 13239: the FCS of "123456789" is 0x906E
    assert fcs16(b"123456789") == 0x906E


def test_hdlc_socket_carries_frame_plus_two_octets():
    ours, peer = HdlcSocket.pair()
    ours.send(b"\x02\x01\x7f")
    pkt = peer.recv(100)
    assert pkt[:3] == b"\x02\x01\x7f" and len(pkt) == 5
    peer.send(b"\x00\x01\x03\xaa\xbb")  # libpri style: frame + 2 junk octets
    assert ours.recv_all() == [b"\x00\x01\x03"]
    ours.close()
    peer.close()


def test_cancelled_timers_are_compacted_and_never_fire():
    clock = VirtualClock()
    fired = []
    handles = [clock.call_later(300 + i, fired.append, i) for i in range(1000)]
    for h in handles[:900]:
        h.cancel()
        h.cancel()  # idempotent: counted once
    clock.call_later(1, fired.append, "x")
    assert len(clock._heap) <= 102 and clock.pending() == 101
    clock.advance(2000)
    assert fired == ["x", *range(900, 1000)]
