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
