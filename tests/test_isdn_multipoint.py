"""BRI point-to-multipoint, network side: TEI assignment by the network (Q.921 5.3), one data
link per terminal, SETUP broadcast in a UI frame (Q.931 5.2.1), several terminals answering
and the first CONNECT selected, the others cleared with cause 26 (5.2.5)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.clock import VirtualClock
from isdn import lapd_codec, q931_codec
from isdn.multipoint import memory_bus
from isdn.offer import NON_SELECTED_USER_CLEARING


class Bus:
    """Two terminals on one in-memory bus; ``answer[i]`` says what terminal i does with an
    offered call: a list of (delay, action) with action alert/answer/reject:<cause>/
    disconnect:<cause>."""

    def __init__(self, answer=None, terminals=2):
        self.clock = VirtualClock()
        self.log: list[tuple] = []
        self.answer = answer or {}
        self.net, self.users = memory_bus(self.clock, terminals, on_event_network=self._net,
                                          on_event_user=self._user)
        self.sent: list[lapd_codec.Frame] = []  # every frame the network sends
        send = self.net.transport.send

        def tap(octets):
            self.sent.append(lapd_codec.decode(octets))
            send(octets)
        self.net.transport.send = tap
        self.clock.advance(0.1)

    def _net(self, ev):
        self.log.append(("net", ev.kind, ev.cause))

    def _user(self, i, ev):
        self.log.append((i, ev.kind, ev.cause))
        if ev.kind != "offered":
            return
        for delay, action in self.answer.get(i, []):
            name, _, cause = action.partition(":")
            act = {"alert": ev.call.alert, "answer": ev.call.answer, "proceed": ev.call.proceed,
                   "reject": lambda c=int(cause or 0), call=ev.call: call.hangup(c),
                   "disconnect": lambda c=int(cause or 0), call=ev.call: call.hangup(c)}[name]
            if delay:
                self.clock.call_later(delay, act)
            else:
                act()

    def events(self, who):
        return [(k, c) for w, k, c in self.log if w == who and k not in ("link_up",)]

    def to_terminal(self, i):
        """(message, cause) of the I frames the network sent to terminal i."""
        tei = self.users[i].link.tei
        msgs = [q931_codec.decode(f.info) for f in self.sent if f.kind == "I" and f.tei == tei]
        return [(m.name, m.cause) for m in msgs]


def test_network_assigns_teis_and_terminals_establish_their_links():
    bus = Bus()
    assert sorted(bus.net.terminals) == [64, 65]  # automatic TEI values (5.3.2)
    assert sorted(u.link.tei for u in bus.users) == [64, 65]
    assert all(link.established for link in bus.net.terminals.values()) and bus.net.link_up
    assert all(u.link_up for u in bus.users)


def test_setup_is_broadcast_in_a_ui_frame_on_the_group_tei():
    bus = Bus()
    bus.net.place_call("2000", "3000")
    ui = [f for f in bus.sent if f.kind == "UI" and f.sapi == 0]
    assert len(ui) == 1 and ui[0].tei == lapd_codec.TEI_GROUP and ui[0].cr  # command
    msg = q931_codec.decode(ui[0].info)
    assert (msg.name, msg.cr_len, msg.flag, msg.called) == ("SETUP", 1, False, "2000")
    bus.clock.advance(0.01)
    assert [k for k, _ in bus.events(0)] == [k for k, _ in bus.events(1)] == ["offered"]


def test_first_connect_selected_others_cleared_with_cause_26():
    bus = Bus({0: [(0, "alert")], 1: [(0, "alert"), (0.3, "answer")]})
    call = bus.net.place_call("2000", "3000")
    bus.clock.advance(0.5)
    assert call.role == "ACTIVE" and call.link is bus.net.terminals[bus.users[1].link.tei]
    assert bus.events("net") == [("alerting", None), ("connected", None)]
    assert bus.events(1) == [("offered", None), ("connected", None)]
    assert bus.events(0) == [("offered", None), ("released", NON_SELECTED_USER_CLEARING)]
    assert bus.users[0].cc.calls == {}
    assert bus.users[1].calls[0].channel == call.channel
    call.hangup()
    bus.clock.advance(0.1)
    assert bus.events("net")[-1] == ("released", 16) and bus.events(1)[-1] == ("released", 16)
    assert bus.net.cc.calls == {} and bus.net.cc.channels.snapshot()[call.channel] == "idle"


def test_connect_crossing_the_selection_gets_cause_26():
    """Terminal 0's CONNECT is on its way when terminal 1 has been selected (5.2.5)."""
    bus = Bus({0: [(0.2005, "answer")], 1: [(0.2, "answer")]})
    call = bus.net.place_call("2000")
    bus.clock.advance(1.0)
    assert call.role == "ACTIVE" and call.link.tei == bus.users[1].link.tei
    assert bus.events(0) == [("offered", None), ("released", NON_SELECTED_USER_CLEARING)]
    tei0 = bus.users[0].link.tei
    to_0 = [q931_codec.decode(f.info) for f in bus.sent if f.kind == "I" and f.tei == tei0]
    assert [(m.name, m.cause) for m in to_0] == [("RELEASE", NON_SELECTED_USER_CLEARING)]
    assert bus.users[0].cc.calls == {} and bus.net.cc.calls != {}


def test_every_terminal_rejects_call_cleared_with_user_busy():
    """5.2.5.3: RELEASE COMPLETE from each terminal; at T303 expiry the call is cleared with
    cause 17 (user busy) before 21 (call rejected)."""
    bus = Bus({0: [(0, "reject:21")], 1: [(0, "reject:17")]})
    call = bus.net.place_call("2000")
    bus.clock.advance(3.9)
    assert call.role == "OUT_INIT"
    bus.clock.advance(0.2)  # T303 = 4 s
    assert bus.events("net") == [("released", 17)] and bus.net.cc.calls == {}


def test_no_terminal_answers_setup_repeated_then_no_user_responding():
    bus = Bus()
    bus.net.place_call("2000")
    bus.clock.advance(8.1)  # T303 twice (5.2.1)
    setups = [f for f in bus.sent if f.kind == "UI" and f.sapi == 0]
    assert len(setups) == 2
    assert bus.events("net") == [("released", 18)]


def test_call_abort_clears_late_responders_until_t312():
    """5.3.2 e: the caller gave up; a terminal answering before T312 gets RELEASE with the
    caller's cause, one answering after T312 gets RELEASE COMPLETE 81 (5.8.3.2)."""
    bus = Bus({0: [(0, "alert")], 1: [(0.2, "answer")], 2: [(7.0, "alert")]}, terminals=3)
    call = bus.net.place_call("2000")
    bus.clock.advance(0.1)
    call.hangup(16)
    bus.clock.advance(0.5)
    assert bus.events("net") == [("alerting", None), ("released", 16)]
    assert bus.to_terminal(0) == [("RELEASE", 16)] and bus.to_terminal(1) == [("RELEASE", 16)]
    assert bus.events(1)[-1] == ("released", 16)
    bus.clock.advance(7.0)  # T312 = 6 s has expired
    assert bus.to_terminal(2) == [("RELEASE COMPLETE", 81)]
    assert bus.net.cc.aborting == {} and all(u.cc.calls == {} for u in bus.users)


def test_t303_twice_then_late_answer_gets_102():
    """5.2.5.4: no answer to two SETUPs: 18 to the caller; a first response while T312
    (restarted with the second SETUP) runs is cleared with cause 102."""
    bus = Bus({0: [(8.5, "alert")]})
    bus.net.place_call("2000")
    bus.clock.advance(8.1)
    assert bus.events("net") == [("released", 18)]
    bus.clock.advance(1.0)
    assert bus.to_terminal(0) == [("RELEASE", 102)] and bus.events(0)[-1] == ("released", 102)


def test_t310_on_a_broadcast_call():
    bus = Bus({0: [(0, "proceed")]})
    bus.net.place_call("2000")
    bus.clock.advance(10.1)  # T310 = 10 s
    assert bus.events("net") == [("proceeding", None), ("released", 18)]
    assert bus.to_terminal(0) == [("RELEASE", 102)]


def test_network_clears_before_selection_releases_every_responder():
    bus = Bus({0: [(0, "alert")], 1: [(0, "alert")]})
    call = bus.net.place_call("2000")
    bus.clock.advance(0.1)
    assert call.role == "OUT_DELIVERED"
    call.hangup(16)
    bus.clock.advance(0.1)
    assert bus.events(0)[-1] == ("released", 16) and bus.events(1)[-1] == ("released", 16)
    assert bus.events("net")[-1] == ("released", 16) and bus.net.cc.calls == {}
    assert all(u.cc.calls == {} for u in bus.users)


def test_responder_disconnects_the_other_still_answers():
    bus = Bus({0: [(0, "alert"), (0.1, "disconnect:21")], 1: [(0, "alert"), (0.5, "answer")]})
    call = bus.net.place_call("2000")
    bus.clock.advance(1.0)
    assert call.role == "ACTIVE" and bus.events(0)[-1][0] == "released"
    assert bus.users[0].cc.calls == {} and bus.events(1)[-1] == ("connected", None)


def test_terminal_places_a_call_on_its_own_link():
    bus = Bus()
    seen = []
    bus.net.cc.on_event = lambda ev: (seen.append(ev.kind),
                                      ev.kind == "offered" and ev.call.answer())
    call = bus.users[1].place_call("5000", "6000")
    bus.clock.advance(0.1)
    assert "offered" in seen and call.role == "ACTIVE"
    net_call = next(iter(bus.net.cc.calls.values()))
    assert net_call.link is bus.net.terminals[bus.users[1].link.tei]


def test_restart_needs_a_point_to_point_link():
    bus = Bus()
    with pytest.raises(ValueError, match="point-to-multipoint"):
        bus.net.restart([1])


@settings(max_examples=150)
@given(st.lists(st.one_of(
    st.binary(max_size=12),
    st.builds(lambda tei, body: bytes((0x00, (tei << 1) | 1)) + body,
              st.sampled_from([64, 65, 66, 127]), st.binary(max_size=12)),
    st.builds(lambda body: bytes((0xFC, 0xFF, 0x03)) + body, st.binary(max_size=6))),
    max_size=6))
def test_arbitrary_frames_never_raise(frames):
    bus = Bus()
    bus.net.place_call("2000")
    bus.net.receive_frames(frames)
    bus.clock.advance(0.5)
    assert all(isinstance(t, int) for t in bus.net.terminals)


def test_terminal_link_failure_affects_only_its_calls():
    """Q.931 5.8.9 per terminal: an active call whose terminal's data link fails waits T309
    and is then cleared with cause 27; the other terminal's call is untouched."""
    bus = Bus({0: [(0, "answer")]})
    call0 = bus.net.place_call("2000")
    bus.clock.advance(0.1)
    assert call0.role == "ACTIVE" and call0.link.tei == bus.users[0].link.tei
    seen = []
    bus.net.cc.on_event = lambda ev: (seen.append((ev.kind, ev.cause)),
                                      ev.kind == "offered" and ev.call.answer())
    call1 = bus.users[1].place_call("5000")
    bus.clock.advance(0.1)
    assert call1.role == "ACTIVE"
    bus.users[0].transport.cut = True  # terminal 0 unplugged: nothing it sends arrives
    bus.net.transport.wires[0].cut = True
    bus.clock.advance(19.0)  # T203 poll, T200 x N200 twice (recovery, re-establishment)
    assert call0.role == "ACTIVE" and call0.timers.running("T309")
    bus.clock.advance(7.0)  # T309 = 6 s
    assert ("released", 27) in seen and call0.role == "NULL"
    net1 = next(iter(bus.net.cc.calls.values()))
    assert net1.role == "ACTIVE" and call1.role == "ACTIVE"


def test_two_terminals_on_one_tei_are_found_and_removed():
    """Two terminals drew the same Ri and took the same TEI (Q.921 5.3.2): each sees a UA
    it did not ask for (MDL-ERROR C) and sends identity verify; the network's check gets
    two responses and removes the TEI (5.3.4.2); the terminals then obtain their own."""
    import random

    from isdn import tei as tei_mgmt
    clock = VirtualClock()
    net, users = memory_bus(clock, start=False)
    for u in users:
        u.tei_manager.rng = random.Random(7)  # the same reference number Ri
    for u in users:
        u.start()
    sent = []
    send = net.transport.send
    net.transport.send = lambda f: (sent.append(lapd_codec.decode(f)), send(f))
    clock.advance(0.1)
    users[1].tei_manager.rng = random.Random(8)  # the next request draws another Ri
    clock.advance(0.02)
    assert [u.link.tei for u in users] == [64, 64]
    clock.advance(3.0)  # T201: the check is answered twice, then T200 re-establishment
    mgmt = [tei_mgmt.decode(f.info) for f in sent if f.sapi == lapd_codec.SAPI_MANAGEMENT]
    assert [m.ai for m in mgmt if m.type == tei_mgmt.ID_REMOVE] == [64, 64]
    clock.advance(5.0)
    teis = [u.link.tei for u in users]
    assert None not in teis and len(set(teis)) == 2
    assert all(u.link_up for u in users)
