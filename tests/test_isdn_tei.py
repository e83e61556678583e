"""TEI management (Q.921 5.3): assignment, denial, T202/N202, check, removal; and a BRI
terminal stack that obtains its TEI before establishing its data link."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import VirtualClock
from isdn import lapd, lapd_codec, tei
from isdn.lapd import DataLink
from isdn.stack import Stack
from isdn.tei import TeiMessage, TeiNetwork, TeiUser


def test_message_octets():
    """Table 8/Q.921: MEI 0x0F, Ri, type, Ai with extension bit 1."""
    assert tei.encode(TeiMessage(tei.ID_REQUEST, 0x1234, 127)) == bytes((0x0F, 0x12, 0x34, 1, 0xFF))
    assert tei.decode(bytes((0x0F, 0, 7, 2, 0x81))) == TeiMessage(tei.ID_ASSIGNED, 7, 64)


@given(st.binary(max_size=8))
def test_decode_arbitrary(data):
    try:
        tei.decode(data)
    except tei.TeiDecodeError as e:
        assert e.field


class Net:
    """A network-side TEI manager wired to a terminal through frames."""

    def __init__(self, clock, deaf=False):
        self.assigned, self.removed = [], []
        self.sent: list = []
        self.deaf = deaf
        self.mgr = TeiNetwork(clock, self._send, self.assigned.append, self.removed.append)
        self.peer = None
        self.clock = clock

    def _send(self, octets):
        self.sent.append(lapd_codec.decode(octets))
        if self.peer is not None:
            self.clock.call_later(0.001, self.peer, lapd_codec.decode(octets))


def _terminal(clock, net):
    frames = []

    def send(octets):
        f = lapd_codec.decode(octets)
        frames.append(f)
        if f.sapi == 63 and not net.deaf:
            clock.call_later(0.001, net.mgr.receive, f)
    user_mgr = TeiUser(clock, send, rng=random.Random(1))

    class L3:
        def __getattr__(self, name):
            return lambda *a: None
    link = DataLink(clock, send, L3(), network=False, tei=None, request_tei=user_mgr.request)
    net.peer = user_mgr.receive
    return link, user_mgr, frames


def test_assignment_then_establishment():
    clock = VirtualClock()
    net = Net(clock)
    link, user, frames = _terminal(clock, net)
    link.dl_establish()
    assert link.state == lapd.ESTABLISH_AWAITING_TEI
    req = frames[0]
    assert (req.sapi, req.tei, req.kind) == (63, 127, "UI")
    clock.advance(0.01)
    assert link.tei == 64 and net.assigned == [64]
    assert link.state == lapd.AWAITING_ESTABLISHMENT and frames[-1].kind == "SABME"
    assert frames[-1].tei == 64


def test_t202_n202_then_failure():
    clock = VirtualClock()
    net = Net(clock, deaf=True)
    link, user, frames = _terminal(clock, net)
    link.dl_establish()
    clock.advance(6.5)  # T202 = 2 s, N202 = 3 requests
    assert sum(1 for f in frames if f.sapi == 63) == 3
    assert link.state == lapd.TEI_UNASSIGNED


def test_denied_when_pool_exhausted():
    clock = VirtualClock()
    net = Net(clock)
    net.mgr.assigned.update(tei.AUTOMATIC)
    link, user, frames = _terminal(clock, net)
    link.dl_establish()
    clock.advance(0.01)
    assert user.denied == 1 and link.state == lapd.TEI_UNASSIGNED


def test_check_and_remove():
    clock = VirtualClock()
    net = Net(clock)
    link, user, frames = _terminal(clock, net)
    link.dl_establish()
    clock.advance(0.01)
    net.mgr.check(64)
    clock.advance(0.01)
    assert any(f.sapi == 63 and tei.decode(f.info).type == tei.ID_CHECK_RESPONSE for f in frames)
    clock.advance(2.5)
    assert net.removed == []  # answered: kept
    net.mgr.remove(64)
    clock.advance(0.01)
    assert link.tei is None and link.state == lapd.TEI_UNASSIGNED and net.removed == [64]


def test_unanswered_check_frees_tei():
    clock = VirtualClock()
    net = Net(clock)
    net.mgr.assigned.add(70)
    net.mgr.check(70)
    clock.advance(2.5)  # two checks T201 apart, no response
    assert net.removed == [70] and 70 not in net.mgr.assigned


def test_bri_terminal_stack_gets_tei():
    clock = VirtualClock()
    net = Net(clock)
    sent = []

    class Wire:
        def send(self, octets):
            f = lapd_codec.decode(octets)
            sent.append(f)
            if f.sapi == 63:
                clock.call_later(0.001, net.mgr.receive, f)
    stack = Stack(clock, "user", Wire(), tei=None)
    net.peer = lambda f: stack.receive_frame(lapd_codec.encode(f))
    stack.start()
    clock.advance(0.01)
    assert stack.link.tei == 64 and sent[-1].kind == "SABME"
    with pytest.raises(ValueError):
        Stack(clock, "network", Wire(), tei=None)


def test_broadcast_setup_reaches_bri_terminal():
    """Point-to-multipoint: the network's SETUP in a UI frame on the group TEI (Q.931 5.2.1)."""
    from isdn_peer.helpers import Recorder

    from isdn import ie, q931_codec

    clock = VirtualClock()
    sent = []

    class Wire:
        def send(self, octets):
            sent.append(lapd_codec.decode(octets))
    rec = Recorder()
    stack = Stack(clock, "user", Wire(), tei=64, on_event=rec, cr_len=1, variant="etsi_bri")
    setup = q931_codec.encode(q931_codec.Message(
        "SETUP", 5, False, [ie.bearer(), ie.make("channel_id", interface_id_present=False,
                                                 pri=False, exclusive=False, dchan=False,
                                                 selection=1), ie.called("12")], cr_len=1))
    stack.receive_frame(lapd_codec.encode(
        lapd_codec.Frame(0, True, 127, "UI", False, None, None, setup)))
    call = rec.first("offered").call
    assert (call.cref, call.called, call.channel) == (5, "12", 1)
    call.alert()
    assert sent[-1].kind == "SABME" and sent[-1].tei == 64  # answered on our own data link


def test_bri_call_and_restart_use_basic_access_coding():
    from isdn_peer.helpers import Recorder, q931_sent, tap

    from isdn.stack import memory_pair

    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, variant="etsi_bri", cr_len=1, on_event_network=rn,
                            on_event_user=ru)
    clock.advance(0.05)
    sent = tap(net)
    net.place_call("12", "34", channel=2)
    clock.advance(0.01)
    setup = q931_sent(sent)[-1]
    assert setup.get("channel_id")["pri"] is False and setup.channel == 2 and setup.cr_len == 1
    assert ru.first("offered").call.channel == 2
    net.restart([1])
    clock.advance(0.02)
    assert ru.first("restart").detail["channels"] == [1] and rn.has("restart_ack")


def test_check_answered_twice_removes_multiply_assigned_tei():
    """Q.921 5.3.4.2: more than one identity check response: the TEI is removed."""
    clock = VirtualClock()
    net = Net(clock)
    net.mgr.assigned.add(66)
    net.mgr.check(66)
    for ri in (11, 22):
        net.mgr.receive(lapd_codec.Frame(63, False, 127, "UI", False, None, None,
                                         tei.encode(tei.TeiMessage(tei.ID_CHECK_RESPONSE, ri, 66))))
    clock.advance(1.01)  # T201
    removes = [tei.decode(f.info) for f in net.sent if tei.decode(f.info).type == tei.ID_REMOVE]
    assert net.removed == [66] and [m.ai for m in removes] == [66, 66]
