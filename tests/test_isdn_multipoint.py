"""BRI point-to-multipoint, network side: TEI assignment by the network (Q.921 5.3), one data
link per terminal, SETUP broadcast in a UI frame (Q.931 5.2.1), several terminals answering
and the first CONNECT selected, the others cleared with cause 26 (5.2.5)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.clock import VirtualClock
from isdn import lapd_codec, q931_codec
from isdn.call import InvalidCallState
from isdn.multipoint import memory_bus
from isdn.offer import NON_SELECTED_USER_CLEARING


class Bus:
    """Two terminals on one in-memory bus; ``answer[i]`` says what terminal i does with an
    offered call: a list of (delay, action[, event]) with action more/proceed/alert/answer/
    reject:<cause>/disconnect:<cause>, done on ``event`` (default "offered")."""

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
        for delay, action, *on in self.answer.get(i, []):
            if ev.kind != (on[0] if on else "offered"):
                continue
            name, _, cause = action.partition(":")
            act = {"alert": ev.call.alert, "answer": ev.call.answer, "proceed": ev.call.proceed,
                   "more": ev.call.more_info,
                   "reject": lambda c=int(cause or 0), call=ev.call: call.hangup(c),
                   "disconnect": lambda c=int(cause or 0), call=ev.call: call.hangup(c)}[name]
            if delay:
                self.clock.call_later(delay, _refused_or_done, act)
            else:
                _refused_or_done(act)

    def events(self, who):
        return [(k, c) for w, k, c in self.log if w == who and k not in ("link_up",)]

    def to_terminal(self, i):
        """(message, cause) of the I frames the network sent to terminal i."""
        tei = self.users[i].link.tei
        msgs = [q931_codec.decode(f.info) for f in self.sent if f.kind == "I" and f.tei == tei]
        return [(m.name, m.cause) for m in msgs]


def _refused_or_done(act) -> None:
    """A terminal's request; one its call's state no longer allows is refused."""
    try:
        act()
    except InvalidCallState:
        pass


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


# ---- overlap receiving by the terminals on a broadcast SETUP (Q.931 5.2.4, 5.2.5.2) -----


def overlap_call(bus, digits="00", complete=True, called="20"):
    """A broadcast SETUP without sending complete; ``digits`` follow in INFORMATION as
    soon as a terminal acknowledges."""
    call = bus.net.place_call(called, "3000", overlap=True)
    bus.net.cc.on_event = lambda ev: (bus._net(ev), ev.kind == "more_info"
                                      and ev.call.send_digits(digits, complete))
    return call


def informations(bus, i):
    tei = bus.users[i].link.tei
    msgs = [q931_codec.decode(f.info) for f in bus.sent if f.kind == "I" and f.tei == tei]
    return [(m.called, m.ie("sending_complete") is not None)
            for m in msgs if m.name == "INFORMATION"]


def test_overlap_setup_broadcast_without_sending_complete():
    bus = Bus({0: [(0, "more")], 1: [(0, "more"), (0, "answer", "info")]})
    call = overlap_call(bus)
    ui = [q931_codec.decode(f.info) for f in bus.sent if f.kind == "UI" and f.sapi == 0]
    assert ui[0].called == "20" and ui[0].ie("sending_complete") is None
    bus.clock.advance(1.0)
    # INFORMATION goes to every terminal in overlap receiving, on its own data link
    assert informations(bus, 0) == informations(bus, 1) == [("00", True)]
    assert call.role == "ACTIVE" and call.link.tei == bus.users[1].link.tei
    assert bus.users[1].calls[0].called == "2000"
    assert bus.events(0)[-1] == ("released", NON_SELECTED_USER_CLEARING)
    assert bus.events("net") == [("more_info", None), ("connected", None)]


def test_late_setup_ack_is_sent_the_information_it_missed():
    bus = Bus({0: [(0, "more"), (0, "alert", "info")],
               1: [(0.5, "more"), (0, "answer", "info")]})
    call = overlap_call(bus, "0")
    bus.clock.advance(0.2)
    assert informations(bus, 0) == [("0", True)] and informations(bus, 1) == []
    bus.clock.advance(1.0)
    assert informations(bus, 1) == [("0", True)]
    assert call.role == "ACTIVE" and call.link.tei == bus.users[1].link.tei


def test_t304_runs_per_terminal():
    """Terminal 1 acknowledges but never completes: its T304 clears it with 102; the
    call goes on with terminal 0, which alerted."""
    bus = Bus({0: [(0, "more"), (0, "alert", "info")], 1: [(0, "more")]})
    for u in bus.users:
        u.cc.timer_table.set("T302", 100.0)  # the terminals wait longer than T304
    call = overlap_call(bus, "0", complete=False)
    bus.clock.advance(29.0)
    assert bus.to_terminal(1) == [("INFORMATION", None)]
    bus.clock.advance(2.0)  # T304 = 30 s
    assert bus.to_terminal(1)[-1] == ("RELEASE", 102)
    assert bus.events(1)[-1] == ("released", 102)
    assert call.role == "OUT_DELIVERED" and bus.users[0].calls[0].role == "IN_RECEIVED"
    assert ("RELEASE", 102) not in bus.to_terminal(0)


def test_t304_with_no_terminal_left_clears_the_caller_with_28():
    bus = Bus({0: [(0, "more")]})
    bus.users[0].cc.timer_table.set("T302", 100.0)
    bus.net.place_call("20", overlap=True)
    bus.clock.advance(31.0)
    assert bus.to_terminal(0) == [("RELEASE", 102)]
    assert bus.events("net") == [("more_info", None), ("released", 28)]
    assert bus.net.cc.calls == {}


def test_terminal_t302_expiry_reaches_the_caller_as_28():
    """5.2.4: the terminal's T302 expires with the number incomplete: it clears with 28,
    which the caller gets when no other terminal is left (5.2.5.3)."""
    bus = Bus({0: [(0, "more")]})
    call = bus.net.place_call("20", overlap=True)
    bus.clock.advance(16.0)  # T302 = 15 s
    assert bus.events(0)[-1] == ("released", 28)
    assert bus.events("net")[-1] == ("released", 28) and call.role == "NULL"


# ---- RESTART on the multipoint interface (Q.931 5.5) ------------------------------------


def restarts(bus, i):
    tei = bus.users[i].link.tei
    msgs = [q931_codec.decode(f.info) for f in bus.sent if f.kind == "I" and f.tei == tei]
    return [(m.get("restart_indicator")["restart_class"], m.channel)
            for m in msgs if m.name == "RESTART"]


def test_restart_of_a_channel_goes_to_every_terminal_and_waits_for_each_ack():
    bus = Bus({0: [(0, "answer")]})
    call = bus.net.place_call("2000", channel=1)
    bus.clock.advance(0.1)
    assert call.role == "ACTIVE"
    bus.net.restart([1])
    assert call.role == "NULL" and bus.events("net")[-1] == ("released", 41)
    assert bus.net.cc.channels.snapshot()[1] == "restart"
    bus.clock.advance(0.1)
    assert restarts(bus, 0) == restarts(bus, 1) == [(0, 1)]
    assert bus.users[0].cc.calls == {} and ("released", 41) in bus.events(0)
    assert [k for k in bus.events("net") if k[0].startswith("restart")] == [("restart_ack", None)]
    assert bus.net.cc.channels.snapshot()[1] == "idle" and bus.net.cc.restarting == {}


def test_restart_unanswered_by_one_terminal_is_repeated_to_it_then_maintenance():
    bus = Bus()
    bus.users[1].cc._got_restart = lambda msg: None  # terminal 1 never acknowledges
    bus.net.restart()
    bus.clock.advance(1.0)
    assert restarts(bus, 0) == restarts(bus, 1) == [(7, None)]
    assert not any(k == "restart_ack" for k, _ in bus.events("net"))
    bus.clock.advance(120.0)  # T316: again, only to the terminal that owes it
    assert restarts(bus, 0) == [(7, None)] and restarts(bus, 1) == [(7, None)] * 2
    bus.clock.advance(120.0)  # N316 = 2 transmissions
    assert bus.events("net")[-1] == ("restart_failed", None)
    assert set(bus.net.cc.channels.snapshot().values()) == {"maintenance"}


def test_restart_completes_when_the_silent_terminal_tei_is_removed():
    bus = Bus()
    bus.users[1].cc._got_restart = lambda msg: None
    bus.net.restart([2])
    bus.clock.advance(1.0)
    bus.net._removed(bus.users[1].link.tei)
    assert bus.events("net")[-1] == ("restart_ack", None)
    assert bus.net.cc.channels.snapshot()[2] == "idle"


def test_restart_with_no_terminal_link_is_complete_at_once():
    clock = VirtualClock()
    net, _ = memory_bus(clock, start=False)
    seen = []
    net.cc.on_event = lambda ev: seen.append(ev.kind)
    net.restart([1])
    assert seen == ["restart_ack"] and net.cc.channels.snapshot()[1] == "idle"


def test_terminal_restart_clears_only_its_own_calls():
    bus = Bus({0: [(0, "answer")]})
    call0 = bus.net.place_call("2000", channel=1)
    bus.net.cc.on_event = lambda ev: (bus._net(ev),
                                      ev.kind == "offered" and ev.call.answer())
    call1 = bus.users[1].place_call("5000", channel=2)
    bus.clock.advance(0.1)
    assert call0.role == call1.role == "ACTIVE"
    bus.users[1].restart()  # the whole interface, from terminal 1
    bus.clock.advance(0.1)
    assert call0.role == "ACTIVE" and bus.users[0].calls[0].role == "ACTIVE"
    assert [c for c in bus.net.cc.calls.values()] == [call0]
    assert bus.net.cc.channels.snapshot() == {1: "busy", 2: "idle"}
    assert any(k == "restart_ack" for _, k, _ in [x for x in bus.log if x[0] == 1])


def test_second_t308_expiry_restarts_the_channel_on_a_multipoint_interface():
    bus = Bus({0: [(0, "answer")]})
    call = bus.net.place_call("2000", channel=2)
    bus.clock.advance(0.1)
    bus.users[0].cc.receive = lambda msg: None  # terminal 0 stops answering
    call.hangup()
    bus.clock.advance(40.0)  # T305 30 s, T308 twice (4 s)
    assert restarts(bus, 1) == [(0, 2)]


def test_terminal_overlap_sending_runs_on_its_own_link():
    """Overlap sending by a terminal (5.1.3): the network acknowledges on that terminal's
    link and supervises the digits with its T302."""
    bus = Bus()
    seen = []
    bus.net.cc.on_event = lambda ev: (seen.append((ev.kind, ev.detail.get("digits"))),
                                      ev.kind == "offered" and ev.call.more_info())
    call = bus.users[0].place_call("5", overlap=True)
    bus.clock.advance(0.1)
    assert call.role == "OUT_OVERLAP"
    call.send_digits("00", complete=True)
    bus.clock.advance(0.1)
    net_call = next(iter(bus.net.cc.calls.values()))
    assert net_call.link.tei == bus.users[0].link.tei and net_call.called == "500"
    assert bus.to_terminal(0) == [("SETUP ACKNOWLEDGE", None)] and bus.to_terminal(1) == []
    assert ("info", "00") in seen
    bus.clock.advance(16.0)  # no CALL PROCEEDING: T302 = 15 s at the network
    assert ("DISCONNECT", 28) in bus.to_terminal(0)


_ACTIONS = st.lists(st.tuples(st.sampled_from([0.0, 0.05, 0.5, 3.0, 9.0]),
                              st.sampled_from(["more", "proceed", "alert", "answer",
                                               "reject:17", "reject:21", "disconnect:16"])),
                    max_size=2)


@settings(max_examples=100, deadline=None)
@given(st.lists(_ACTIONS, min_size=3, max_size=3), st.booleans(), st.booleans())
def test_any_terminal_behaviour_ends_consistently(actions, overlap, complete):
    """Whatever three terminals do with a broadcast SETUP (en bloc or overlap), the call
    ends with at most one terminal selected and the call of every other terminal that
    responded cleared (one that never responded is unknown to the network: its call stays
    present)."""
    bus = Bus({i: a for i, a in enumerate(actions)}, terminals=3)
    net_events = []

    def on_net(ev):
        net_events.append(ev.kind)
        if ev.kind == "more_info":
            _refused_or_done(lambda: ev.call.send_digits("0", complete))
    call = bus.net.place_call("20" if overlap else "2000", overlap=overlap)
    bus.net.cc.on_event = on_net
    bus.clock.advance(200.0)  # beyond T301 (180 s) of a terminal that only alerts
    live = [u for u in bus.users if u.cc.calls and u.calls[0].role != "IN_PRESENT"]
    if call.role == "ACTIVE":
        assert len(live) == 1 and live[0].calls[0].role == "ACTIVE"
        assert call.link.tei == live[0].link.tei
    else:
        assert call.role == "NULL" and net_events[-1] == "released" and live == []
        assert bus.net.cc.calls == {}


def test_tshark_reads_overlap_and_restart_on_the_bus(tmp_path):
    import subprocess

    from conftest import need_program
    tshark = need_program("tshark")
    pcap = str(tmp_path / "bus.pcap")
    bus = Bus({0: [(0, "more"), (0, "answer", "info")], 1: [(0, "more")]})
    bus.net.trace_to(pcap)
    overlap_call(bus)
    bus.clock.advance(1.0)
    bus.net.restart()
    bus.clock.advance(1.0)
    bus.net.tracer.close()
    out = subprocess.run([tshark, "-r", pcap, "-V"], capture_output=True, text=True,
                         check=True).stdout
    assert "Malformed" not in out and "Expert Info" not in out
    types = subprocess.run([tshark, "-r", pcap, "-T", "fields", "-e", "q931.message_type"],
                           capture_output=True, text=True, check=True).stdout.split()
    for code in ("0x05", "0x0d", "0x7b", "0x07", "0x4d", "0x46", "0x4e"):  # SETUP, SETUP
        assert code in types  # ACK, INFORMATION, CONNECT, RELEASE, RESTART, RESTART ACK


def test_t304_expiry_weighs_below_a_busy_terminal():
    """Terminal 0 alerts then clears busy; terminal 1 acknowledges and never completes:
    the caller gets 17, not 28."""
    bus = Bus({0: [(0, "alert"), (0.5, "disconnect:17")], 1: [(0, "more")]})
    bus.users[1].cc.timer_table.set("T302", 100.0)
    bus.net.place_call("20", overlap=True)
    bus.clock.advance(31.0)
    assert bus.to_terminal(1)[-1] == ("RELEASE", 102)
    assert bus.events("net")[-1] == ("released", 17)
