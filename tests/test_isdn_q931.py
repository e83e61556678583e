"""Q.931 call control between our network and user sides on the virtual clock: call
flows, timers at their simulated moments, clearing, restart, glare, data link failure,
and the error procedures of clause 5.8 answered to a peer sending bad messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from isdn_peer.helpers import Recorder, q931_sent, tap

from core.clock import VirtualClock
from isdn import ie, lapd, q931_codec
from isdn.bchannels import BState
from isdn.q931 import ChannelBusy, InvalidCallState
from isdn.q931_codec import Message
from isdn.stack import memory_pair


@pytest.fixture
def span():
    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, on_event_network=rn, on_event_user=ru,
                            q931_timers={"T301": 60.0})
    clock.advance(0.05)
    assert net.link_up and user.link_up
    return clock, net, user, rn, ru


def _answer(clock, call):
    call.proceed()
    clock.advance(0.01)
    call.alert()
    clock.advance(0.01)
    call.answer()
    clock.advance(0.05)


@pytest.mark.parametrize("caller", ["user", "network"])
@pytest.mark.parametrize("cause", [16, 17, 19, 21, 34])
def test_call_both_ways_cause_end_to_end(span, caller, cause):
    clock, net, user, rn, ru = span
    a, b = (user, net) if caller == "user" else (net, user)
    ra, rb = (ru, rn) if caller == "user" else (rn, ru)
    a.cc.calls  # noqa: B018
    out = a.place_call("4000", "0212345678", channel=None if caller == "user" else 5)
    clock.advance(0.01)
    inc = rb.first("offered").call
    assert (inc.called, inc.calling) == ("4000", "0212345678")
    assert inc.channel == out.channel
    _answer(clock, inc)
    assert ra.kinds(out) == ["proceeding", "alerting", "connected"]
    assert out.state_number == inc.state_number == 10
    inc.hangup(cause)
    clock.advance(0.05)
    assert ra.first("disconnected", out).cause == cause
    assert ra.first("released", out).cause == cause and rb.first("released", inc).cause == cause
    assert a.calls == [] and b.calls == []
    assert net.cc.channels.state(out.channel) is BState.IDLE


def test_state_sequences(span):
    clock, net, user, rn, ru = span
    out = user.place_call("4000", "1")
    out.keep_transitions = 20
    clock.advance(0.01)
    inc = rn.first("offered").call
    inc.keep_transitions = 20
    _answer(clock, inc)
    out.hangup()
    clock.advance(0.05)
    assert [t[2] for t in out.transitions] == ["U3", "U4", "U10", "U11", "U0"]
    # DISCONNECT received: N11, RELEASE sent at once: N19 (one transition)
    # (CONNECT ACKNOWLEDGE arrives in N10: no change)
    assert [t[2] for t in inc.transitions] == ["N3", "N4", "N10", "N10", "N19", "N0"]


def _deaf(stack, *names):
    """The Q.931 entity of ``stack`` ignores these messages (the data link still works)."""
    receive = stack.cc.receive
    stack.cc.receive = lambda msg: None if msg.name in names else receive(msg)


def test_t303_retransmits_setup_once(span):
    clock, net, user, rn, ru = span
    net_sent = tap(net)
    _deaf(user, "SETUP")
    call = net.place_call("4000", "1", channel=3)
    clock.advance(3.99)
    assert len([m for m in q931_sent(net_sent) if m.name == "SETUP"]) == 1
    clock.advance(0.02)  # T303 = 4 s
    assert len([m for m in q931_sent(net_sent) if m.name == "SETUP"]) == 2
    clock.advance(4.0)
    assert rn.first("released", call).cause == 18  # no user responding (5.2.1)
    assert q931_sent(net_sent)[-1].name == "RELEASE COMPLETE"


def test_t310_clears_after_call_proceeding(span):
    clock, net, user, rn, ru = span
    out = user.place_call("4000", "1")
    clock.advance(0.01)
    rn.first("offered").call.proceed()
    clock.advance(9.9)
    assert out.role == "OUT_PROCEEDING"
    clock.advance(0.2)  # T310 = 10 s: DISCONNECT with cause 102
    assert ru.first("released", out).cause == 102 and rn.all("disconnected")[-1].cause == 102


def test_t305_and_t308(span):
    clock, net, user, rn, ru = span
    out = user.place_call("4000", "1")
    clock.advance(0.01)
    _answer(clock, rn.first("offered").call)
    user_sent = tap(user)
    _deaf(net, "DISCONNECT", "RELEASE")  # the network stops answering
    out.hangup(16)
    clock.advance(30.01)  # T305: RELEASE
    names = [m.name for m in q931_sent(user_sent)]
    assert names[-1] == "RELEASE" and out.role == "RELEASE_REQUEST"
    clock.advance(4.0)  # T308: RELEASE again
    assert [m.name for m in q931_sent(user_sent)].count("RELEASE") == 2
    channel = out.channel
    clock.advance(4.0)  # second T308: released, channel to maintenance and restarted
    assert ru.first("released", out).cause == 102
    restart = [m for m in q931_sent(user_sent) if m.name == "RESTART"][-1]
    assert restart.channel == channel and restart.get("restart_indicator")["restart_class"] == 0
    clock.advance(0.05)
    assert ru.has("restart_ack") and user.cc.channels.state(channel) is BState.IDLE


def test_overlap_both_ways_and_t302(span):
    clock, net, user, rn, ru = span
    out = user.place_call("40", "1", overlap=True)
    clock.advance(0.01)
    inc = rn.first("offered").call
    assert rn.first("offered").detail["complete"] is False
    inc.more_info()
    clock.advance(0.01)
    assert out.role == "OUT_OVERLAP"
    out.send_digits("0")
    out.send_digits("0", complete=True)
    clock.advance(0.01)
    assert inc.called == "4000" and rn.all("info")[-1].detail["complete"]
    _answer(clock, inc)
    assert out.role == "ACTIVE"
    # overlap receiving that never completes: T302 (15 s) -> DISCONNECT cause 28
    out2 = user.place_call("5", "1", overlap=True)
    clock.advance(0.01)
    inc2 = rn.all("offered")[-1].call
    inc2.more_info()
    clock.advance(15.1)
    assert ru.first("disconnected", out2).cause == 28


def test_restart_channel_and_interface(span):
    clock, net, user, rn, ru = span
    out = user.place_call("4000", "1", channel=7)
    clock.advance(0.01)
    _answer(clock, rn.first("offered").call)
    net.restart([7])
    clock.advance(0.02)
    assert ru.first("released", out).cause == 41 and ru.first("restart").detail["channels"] == [7]
    assert rn.first("restart_ack").detail["channels"] == [7]
    assert net.cc.channels.state(7) is BState.IDLE and user.cc.channels.state(7) is BState.IDLE
    user.restart()
    clock.advance(0.02)
    assert ru.all("restart_ack")[-1].detail["channels"] is None
    assert rn.all("restart")[-1].detail["channels"] == list(net.cc.channels.channels)


def test_glare_network_choice_wins(span):
    clock, net, user, rn, ru = span
    uo = user.place_call("4000", "1", channel=9)
    no = net.place_call("5000", "2", channel=9)  # both SETUPs cross on the wire
    clock.advance(0.05)
    assert rn.first("rejected").cause == 44  # network refuses the user's exclusive choice
    assert ru.first("released", uo).cause == 44
    assert ru.first("offered").call.channel == 9 and no.role == "OUT_INIT"
    with pytest.raises(ChannelBusy):
        user.place_call("4000", "1", channel=9)


def test_glare_preferred_channel_moves(span):
    clock, net, user, rn, ru = span
    uo = user.place_call("4000", "1", channel=9, exclusive=False)
    net.place_call("5000", "2", channel=9)
    clock.advance(0.05)
    assert not rn.has("rejected")
    assert rn.first("offered").call.channel != 9
    rn.first("offered").call.proceed()
    clock.advance(0.01)
    assert uo.channel == rn.first("offered").call.channel


def test_link_failure_keeps_active_calls_clears_others():
    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, on_event_network=rn, on_event_user=ru,
                            lapd_timers={"T200": 0.2, "T203": 1.0})
    clock.advance(0.05)
    active = user.place_call("4000", "1")
    clock.advance(0.01)
    _answer(clock, rn.first("offered").call)
    pending = user.place_call("4001", "1")
    clock.advance(0.01)
    net.transport.cut = user.transport.cut = True
    clock.advance(3.0)  # T203, T200 x N200 (timer recovery), SABME x (N200 + 1): released
    assert ru.has("link_down") and active.timers.running("T309")
    assert ru.first("released", pending).cause == 27
    net.transport.cut = user.transport.cut = False
    clock.advance(2.0)
    assert user.link_up and not active.timers.running("T309") and active.role == "ACTIVE"
    assert rn.first("offered").call.role == "ACTIVE"


def test_t309_expiry_clears(span):
    clock, net, user, rn, ru = span
    active = user.place_call("4000", "1")
    clock.advance(0.01)
    _answer(clock, rn.first("offered").call)
    net.transport.cut = user.transport.cut = True
    clock.advance(30)
    assert ru.first("released", active).cause == 27


def test_suspend_resume(span):
    clock, net, user, rn, ru = span
    out = user.place_call("4000", "1", channel=4)
    clock.advance(0.01)
    _answer(clock, rn.first("offered").call)
    out.suspend(b"ab")
    clock.advance(0.01)
    assert ru.has("suspended") and user.calls == [] and net.calls == []
    back = user.cc.resume(b"ab")
    clock.advance(0.01)
    assert back.role == "ACTIVE" and back.channel == 4 and ru.has("resumed", back)
    bad = user.cc.resume(b"zz")
    clock.advance(0.01)
    assert ru.first("released", bad).cause == 85


def test_request_not_allowed_in_state(span):
    clock, net, user, rn, ru = span
    out = user.place_call("4000", "1")
    with pytest.raises(InvalidCallState):
        out.answer()


# ---- error procedures (5.8) --------------------------------------------------------------


def _inject(clock, sender, octets):
    sender.link.dl_data(octets)
    clock.advance(0.01)


def _call(span):
    clock, net, user, rn, ru = span
    out = user.place_call("4000", "1", channel=2)
    clock.advance(0.01)
    return out, rn.first("offered").call


def test_unknown_message_type_status_97(span):
    clock, net, user, rn, ru = span
    out, inc = _call(span)
    sent = tap(net)
    _inject(clock, user, bytes.fromhex("08020001") + b"\x77")
    st_ = q931_sent(sent)[-1]
    assert (st_.name, st_.cause, st_.get("call_state")["value"]) == ("STATUS", 97, 1)
    assert net.link_up


def test_not_implemented_message_98_and_unexpected_101(span):
    clock, net, user, rn, ru = span
    out, inc = _call(span)
    sent = tap(net)
    _inject(clock, user, bytes.fromhex("08020001") + b"\x20")  # USER INFORMATION
    assert q931_sent(sent)[-1].cause == 98
    _inject(clock, user, bytes.fromhex("08020001") + b"\x0f")  # CONNECT ACK in N1
    assert q931_sent(sent)[-1].cause == 101 and inc.role == "IN_PRESENT"


def test_setup_missing_or_bad_mandatory(span):
    clock, net, user, rn, ru = span
    sent = tap(net)
    _inject(clock, user, bytes.fromhex("08020033" "05" "1803a98381"))  # no bearer capability
    rc = q931_sent(sent)[-1]
    assert (rc.name, rc.cause, rc.call_ref, rc.flag) == ("RELEASE COMPLETE", 96, 0x33, True)
    assert rc.get("cause")["diagnostics"] == b"\x04"
    _inject(clock, user, bytes.fromhex("08020034" "05" "040188" "1803a98381"))  # bearer too short
    assert q931_sent(sent)[-1].cause == 100
    assert net.calls == [] and not rn.has("offered")


def test_disconnect_without_cause_released_with_96(span):
    clock, net, user, rn, ru = span
    out, inc = _call(span)
    _answer(clock, inc)
    sent = tap(net)
    _inject(clock, user, bytes.fromhex("08020001" "45"))
    rel = q931_sent(sent)[-1]
    assert (rel.name, rel.cause) == ("RELEASE", 96)
    assert rn.first("disconnected", inc).cause == 31


def test_unknown_call_reference(span):
    clock, net, user, rn, ru = span
    sent = tap(net)
    _inject(clock, user, bytes.fromhex("08020055" "01"))  # ALERTING, no such call
    assert (q931_sent(sent)[-1].name, q931_sent(sent)[-1].cause) == ("RELEASE COMPLETE", 81)
    _inject(clock, user, bytes.fromhex("08020055" "75"))  # STATUS ENQUIRY
    m = q931_sent(sent)[-1]
    assert (m.name, m.cause, m.get("call_state")["value"]) == ("STATUS", 30, 0)
    n = len(sent)
    _inject(clock, user, bytes.fromhex("08020055" "5a"))  # RELEASE COMPLETE: no answer
    _inject(clock, user, bytes.fromhex("08028055" "05" "04038090a3"))  # SETUP, flag 1: ignored
    assert [f for f in sent[n:] if f.kind == "I"] == []
    _inject(clock, user, bytes.fromhex("08020056" "7d" "08028090" "140107"))  # STATUS state 7
    assert q931_sent(sent)[-1].cause == 101


def test_global_call_reference(span):
    clock, net, user, rn, ru = span
    sent = tap(net)
    _inject(clock, user, bytes.fromhex("08020000" "7b"))  # INFORMATION on global cref
    assert q931_sent(sent)[-1].cause == 81
    _inject(clock, user, bytes.fromhex("08020000" "46" "790183"))  # RESTART class 3
    assert q931_sent(sent)[-1].cause == 100
    _inject(clock, user, bytes.fromhex("08020000" "46" "790180"))  # class 0 without channel
    assert q931_sent(sent)[-1].cause == 96
    _inject(clock, user, bytes.fromhex("08020000" "46" "1803a98390" "790180"))  # channel 16
    assert q931_sent(sent)[-1].cause == 82


def test_optional_elements_unrecognised_99_and_comprehension_required_96(span):
    clock, net, user, rn, ru = span
    out, inc = _call(span)
    inc.proceed()
    clock.advance(0.01)
    sent = tap(user)
    _inject(clock, net, bytes.fromhex("08028001" "01" "3f0101"))  # ALERTING + unknown IE
    m = q931_sent(sent)[-1]
    assert (m.name, m.cause, m.get("cause")["diagnostics"]) == ("STATUS", 99, b"\x3f")
    assert out.role == "OUT_DELIVERED"  # acted on
    _inject(clock, net, bytes.fromhex("08028001" "03" "1e028088" "0b0100"))  # comprehension req.
    assert q931_sent(sent)[-1].cause == 96


def test_status_state_mismatch_and_null(span):
    clock, net, user, rn, ru = span
    out, inc = _call(span)
    _answer(clock, inc)
    sent = tap(net)
    _inject(clock, user, bytes.fromhex("08020001" "7d" "08028090" "140104"))  # peer says U4
    assert q931_sent(sent)[-1].name == "RELEASE" and q931_sent(sent)[-1].cause == 101
    clock.advance(0.05)
    out2, inc2 = _call(span)
    _inject(clock, user, bytes.fromhex("08020002" "7d" "08028090" "140100"))  # peer in U0
    assert rn.first("released", inc2) and net.cc.channels.state(2) is BState.IDLE


def test_status_enquiry_answered(span):
    clock, net, user, rn, ru = span
    out, inc = _call(span)
    sent = tap(net)
    _inject(clock, user, bytes.fromhex("08020001" "75"))
    m = q931_sent(sent)[-1]
    assert (m.name, m.cause, m.get("call_state")["value"]) == ("STATUS", 30, 1)


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=24))
def test_garbage_keeps_link_up(payload):
    clock = VirtualClock()
    net, user = memory_pair(clock)
    clock.advance(0.05)
    user.link.dl_data(payload)
    user.link.dl_data(bytes.fromhex("08020001") + payload)
    clock.advance(0.05)
    assert net.link.state == lapd.MULTIPLE_FRAME_ESTABLISHED
    user.place_call("4000", "1")
    clock.advance(0.02)
    assert net.link.state == user.link.state == lapd.MULTIPLE_FRAME_ESTABLISHED


def test_message_objects_encode_through_stack(span):
    clock, net, user, rn, ru = span
    m = Message("NOTIFY", 1, False, [ie.make("notification", description=1)])
    assert q931_codec.decode(q931_codec.encode(m)).get("notification")["description"] == 1


def test_duplicate_setup_ignored(span):
    clock, net, user, rn, ru = span
    out, inc = _call(span)
    sent = tap(net)
    _inject(clock, user, bytes.fromhex("08020001" "05" "04038090a3" "1803a98382"))
    assert q931_sent(sent) == [] and inc.role == "IN_PRESENT"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.binary(max_size=20), max_size=6))
def test_arbitrary_frames_into_stack(frames):
    """Arbitrary octets as received frames: typed handling only, the stack keeps working."""
    clock = VirtualClock()
    net, user = memory_pair(clock)
    clock.advance(0.05)
    for f in frames:
        net.receive_frame(f)
    clock.advance(2.0)
    assert net.link.state in (lapd.MULTIPLE_FRAME_ESTABLISHED, lapd.TIMER_RECOVERY,
                              lapd.AWAITING_ESTABLISHMENT)
    clock.advance(5.0)
    assert net.link_up and user.link_up


def test_span_d_channel_transport():
    from isdn.stack import SpanDChannel, Stack

    class Span:  # the two methods of drivers.base.Span a D-channel uses
        def __init__(self):
            self.out, self.inq = [], []

        def hdlc_send(self, ts, frame):
            self.out.append((ts, frame))

        def hdlc_recv(self, ts):
            got, self.inq = self.inq, []
            return got

    clock = VirtualClock()
    span = Span()
    stack = Stack(clock, "user", SpanDChannel(span))
    stack.start()
    assert span.out[0] == (16, bytes.fromhex("00017f"))  # SABME, user side C/R = 0
    span.inq.append(bytes.fromhex("020173"))  # UA F=1 from the network
    assert stack.poll(SpanDChannel(span)) == 1 and stack.link_up


@pytest.mark.parametrize("variant,layer1,last", [("etsi", 3, 31), ("ni2", 2, 23), ("qsig", 3, 31)])
def test_variants_are_data(variant, layer1, last):
    clock = VirtualClock()
    rn = Recorder()
    net, user = memory_pair(clock, variant=variant, on_event_network=rn)
    clock.advance(0.05)
    sent = tap(user)
    out = user.place_call("4000", "1")
    clock.advance(0.01)
    setup = q931_sent(sent)[-1]
    assert setup.get("bearer_capability")["layer1"] == layer1
    assert out.channel == last  # the user hunts from the top of the variant's channel plan
    assert rn.first("offered").call.channel == last


def test_one_octet_call_reference():
    clock = VirtualClock()
    net, user = memory_pair(clock, cr_len=1)
    clock.advance(0.05)
    sent = tap(user)
    user.place_call("4000", "1")
    clock.advance(0.01)
    assert q931_sent(sent)[-1].cr_len == 1 and net.calls[0].cref == 1


def test_t322_status_enquiry_unanswered_clears(span):
    clock, net, user, rn, ru = span
    out, inc = _call(span)
    _answer(clock, inc)
    _deaf(net, "STATUS ENQUIRY")
    sent = tap(user)
    out.status_enquiry()
    clock.advance(4.0 * 3 + 0.05)  # T322 = 4 s, N322 = 3 enquiries, then RELEASE cause 41
    names = [m.name for m in q931_sent(sent)]
    assert names.count("STATUS ENQUIRY") == 3 and names[-1] == "RELEASE"
    assert q931_sent(sent)[-1].cause == 41


def test_t313_connect_not_acknowledged(span):
    clock, net, user, rn, ru = span
    out = net.place_call("4000", "1", channel=6)
    clock.advance(0.01)
    inc = ru.first("offered").call
    _deaf(net, "CONNECT")
    inc.answer()
    clock.advance(4.05)  # T313 = 4 s: the user clears with cause 102
    assert rn.first("disconnected", out).cause == 102


def test_refused_link_retried_every_t200():
    """A peer answering SABME with DM F=1: the stack asks again after T200, not at once."""
    from isdn.lapd_codec import Frame, encode
    from isdn.stack import Stack

    clock = VirtualClock()
    sabmes = []

    class Refuser:
        def send(self, octets):
            sabmes.append(octets)
            clock.call_later(0.001, stack.receive_frame, encode(Frame(0, True, 0, "DM", True)))
    rec = Recorder()
    stack = Stack(clock, "user", Refuser(), on_event=rec)
    stack.start()
    clock.advance(10.0)
    assert 8 <= len(sabmes) <= 12 and not stack.link_up
    assert len(rec.all("link_down")) == len(sabmes)  # each attempt refused


def test_variant_timer_values_apply_under_the_callers_overrides():
    """A variant's timer values (``Variant.timers``) are the stack's defaults; the caller's
    ``q931_timers`` still win."""
    from dataclasses import replace

    from isdn.stack import Stack
    from isdn.variants import VARIANTS

    v = replace(VARIANTS["etsi"], name="slow_t303", timers={"T303": 9.0})
    assert Stack(VirtualClock(), "user", variant=v).cc.timer_table.values["T303"] == 9.0
    assert Stack(VirtualClock(), "user", variant=v,
                 q931_timers={"T303": 2.0}).cc.timer_table.values["T303"] == 2.0
