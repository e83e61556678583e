"""Q.921 data link procedures on the virtual clock: establishment, window, T200/N200,
timer recovery, REJ, T203, release, link reset and invalid frames."""

from __future__ import annotations

from core.clock import VirtualClock
from isdn import lapd
from isdn.lapd import DataLink
from isdn.lapd_codec import Frame, decode, encode


class User:
    """Layer 3 stub recording primitives."""

    def __init__(self) -> None:
        self.log: list = []

    def __getattr__(self, name):
        if name.startswith(("dl_", "mdl_")):
            return lambda link, *a: self.log.append((name, *a))
        raise AttributeError(name)


def pair(clock, *, drop=None, k=None):
    """Two data links back to back (network, user); ``drop(frame, sender)`` loses frames."""
    users = User(), User()
    links: list[DataLink] = []
    timers = None
    if k is not None:
        from isdn.timers import lapd_table
        timers = lapd_table({"k": k})

    def sender(i):
        def send(octets):
            f = decode(octets)
            links[i].sent.append(f)
            if drop is None or not drop(f, i):
                clock.call_later(0.001, links[1 - i].receive, f)
        return send
    for i in range(2):
        link = DataLink(clock, sender(i), users[i], network=(i == 0), timers=timers)
        link.sent = []
        links.append(link)
    return links[0], links[1], users[0], users[1]


def test_establishment_sabme_ua():
    clock = VirtualClock()
    net, user, un, uu = pair(clock)
    net.dl_establish()
    clock.advance(0.01)
    assert net.state == user.state == lapd.MULTIPLE_FRAME_ESTABLISHED
    assert [f.kind for f in net.sent] == ["SABME"] and net.sent[0].pf and net.sent[0].cr
    assert [f.kind for f in user.sent] == ["UA"] and user.sent[0].pf and user.sent[0].cr
    assert ("dl_establish_conf",) in un.log and ("dl_establish_ind",) in uu.log


def test_i_frames_in_sequence_and_acknowledged():
    clock = VirtualClock()
    net, user, un, uu = pair(clock)
    net.dl_establish()
    clock.advance(0.01)
    for i in range(3):
        net.dl_data(bytes([i]))
    clock.advance(0.01)
    assert [a for n, *a in uu.log if n == "dl_data_ind"] == [[b"\x00"], [b"\x01"], [b"\x02"]]
    assert [(f.ns, f.nr) for f in net.sent if f.kind == "I"] == [(0, 0), (1, 0), (2, 0)]
    assert net.va == net.vs == 3 and user.vr == 3
    assert not net.timers.running("T200") and net.timers.running("T203")


def test_window_k_limits_outstanding_frames():
    clock = VirtualClock()
    net, user, *_ = pair(clock, drop=lambda f, i: i == 1 and f.kind == "RR", k=7)
    net.dl_establish()
    clock.advance(0.01)
    for i in range(10):
        net.dl_data(bytes([i]))
    clock.advance(0.01)
    assert sum(1 for f in net.sent if f.kind == "I") == 7  # k = 7 on a PRI (5.9.5)
    assert len(net.queue) == 3


def test_t200_timer_recovery_then_reestablish_after_n200():
    clock = VirtualClock()
    lost = {"on": False}
    net, user, un, uu = pair(clock, drop=lambda f, i: lost["on"])
    net.dl_establish()
    clock.advance(0.01)
    lost["on"] = True
    net.dl_data(b"x")
    clock.advance(1.0005)  # T200 = 1 s: enquiry, timer recovery
    assert net.state == lapd.TIMER_RECOVERY
    enq = net.sent[-1]
    assert (enq.kind, enq.pf, enq.cr) == ("RR", True, True)
    clock.advance(3.0)  # N200 = 3 retransmissions, then re-establishment (MDL-ERROR I)
    assert net.state == lapd.AWAITING_ESTABLISHMENT
    assert net.errors.get("I") == 1 and net.sent[-1].kind == "SABME"
    lost["on"] = False
    clock.advance(1.01)
    assert net.state == lapd.MULTIPLE_FRAME_ESTABLISHED
    assert ("dl_establish_ind",) in un.log  # layer 3 learns of the reset (Q.931 5.8.8)


def test_timer_recovery_answered_resumes():
    clock = VirtualClock()
    drop_first = {"n": 1}

    def drop(f, i):
        if i == 0 and f.kind == "I" and drop_first["n"]:
            drop_first["n"] -= 1
            return True
        return False
    net, user, un, uu = pair(clock, drop=drop)
    net.dl_establish()
    clock.advance(0.01)
    net.dl_data(b"lost")
    net.dl_data(b"next")
    clock.advance(0.01)
    assert any(f.kind == "REJ" for f in user.sent)  # N(S) sequence error (5.7.1)
    clock.advance(0.1)
    assert [a for n, *a in uu.log if n == "dl_data_ind"] == [[b"lost"], [b"next"]]
    assert net.state == lapd.MULTIPLE_FRAME_ESTABLISHED and net.va == net.vs == 2


def test_t203_idle_enquiry():
    clock = VirtualClock()
    net, user, *_ = pair(clock)
    net.dl_establish()
    clock.advance(10.01)  # T203 = 10 s without frames: RR command P=1 (5.6.7)
    polls = [f for f in net.sent + user.sent if f.kind == "RR" and f.pf]
    assert polls and net.state == user.state == lapd.MULTIPLE_FRAME_ESTABLISHED


def test_release_disc_ua():
    clock = VirtualClock()
    net, user, un, uu = pair(clock)
    net.dl_establish()
    clock.advance(0.01)
    net.dl_release()
    clock.advance(0.01)
    assert net.state == user.state == lapd.TEI_ASSIGNED
    assert ("dl_release_conf",) in un.log and ("dl_release_ind",) in uu.log


def test_sabme_in_established_resets_and_dm_answers_disc():
    clock = VirtualClock()
    net, user, un, uu = pair(clock)
    net.dl_establish()
    clock.advance(0.01)
    user.receive(Frame(0, True, 0, "SABME", True))  # peer restarted its link
    assert user.sent[-1].kind == "UA" and user.errors.get("F") == 1
    assert user.state == lapd.MULTIPLE_FRAME_ESTABLISHED and user.vs == user.vr == 0
    idle = DataLink(clock, lambda o: sent.append(decode(o)), User(), network=False)
    sent: list = []
    idle.receive(Frame(0, True, 0, "DISC", True))
    assert sent[-1].kind == "DM" and sent[-1].pf


def test_nr_error_and_frmr_reestablish():
    clock = VirtualClock()
    net, user, *_ = pair(clock)
    net.dl_establish()
    clock.advance(0.01)
    user.receive(Frame(0, True, 0, "RR", False, None, 5))  # N(R) outside V(A)..V(S)
    assert user.errors.get("J") == 1 and user.state == lapd.AWAITING_ESTABLISHMENT
    clock.advance(0.01)
    assert user.state == lapd.MULTIPLE_FRAME_ESTABLISHED
    net.receive(Frame(0, True, 0, "FRMR", False, None, None, b"\x00\x00\x00\x00\x00"))
    assert net.errors.get("K") == 1 and net.sent[-1].kind == "SABME"


def test_oversized_i_frame_is_invalid():
    clock = VirtualClock()
    net, user, *_ = pair(clock)
    net.dl_establish()
    clock.advance(0.01)
    user.receive(Frame(0, True, 0, "I", False, 0, 0, bytes(261)))  # > N201 = 260
    assert user.errors.get("L") == 1 and user.sent[-1].kind == "SABME"


def test_frames_in_tei_assigned_state():
    sent: list = []
    link = DataLink(VirtualClock(), lambda o: sent.append(decode(o)), User(), network=True)
    link.receive(Frame(0, False, 0, "RR", True, None, 0))  # polled while not established
    assert sent[-1].kind == "DM" and sent[-1].pf
    assert encode(sent[-1])[2] == 0x1F


def test_t200_restarted_by_each_i_frame_expires_after_the_last():
    """T200 runs from the last transmission that (re)started it (5.6.1, 5.9.1): restarts
    move the deadline, a stop cancels it, an expiry happens exactly at the deadline."""
    clock = VirtualClock()
    lost = {"on": False}
    net, user, *_ = pair(clock, drop=lambda f, i: lost["on"])
    net.dl_establish()
    clock.advance(0.01)
    lost["on"] = True
    net.dl_data(b"a")
    clock.advance(0.6)
    net.timers.start("T200", net._run, "T200")  # as a retransmission would restart it
    clock.advance(0.9999)
    assert net.state == lapd.MULTIPLE_FRAME_ESTABLISHED
    assert abs(net.timers.remaining()["T200"] - 0.0001) < 1e-6
    clock.advance(0.0002)
    assert net.state == lapd.TIMER_RECOVERY
    net.timers.stop("T200")
    clock.advance(5.0)
    assert net.state == lapd.TIMER_RECOVERY and not net.timers.running("T200")


def test_frames_received_together_are_acknowledged_once():
    """Q.921 5.6.2.1: the I frames of one read are acknowledged by one RR at the end, or
    by the N(R) of an I frame sent meanwhile."""
    from isdn.stack import Stack

    class Wire:
        def __init__(self):
            self.frames = []

        def send(self, f):
            self.frames.append(decode(f))

    clock = VirtualClock()
    wire = Wire()
    stack = Stack(clock, "user", wire,
                  on_event=lambda ev: ev.call.proceed() if ev.kind == "offered" else None)
    stack.receive_frame(encode(Frame(0, True, 0, "SABME", True)))
    info = bytes.fromhex("080200007d")  # STATUS on the global call reference: no answer
    stack.receive_frames([encode(Frame(0, True, 0, "I", False, n, 0, info)) for n in range(3)])
    acks = [f for f in wire.frames if f.kind in ("RR", "I")]
    assert [(f.kind, f.nr) for f in acks] == [("RR", 3)]
    setup = bytes.fromhex("08020001" "05" "0403809090" "1803a98381" "7003814000")
    stack.receive_frames([encode(Frame(0, True, 0, "I", False, 3, 0, setup))])
    answer = [f for f in wire.frames if f.kind in ("RR", "I")][1:]
    assert [(f.kind, f.nr) for f in answer] == [("I", 4)]  # CALL PROCEEDING carries N(R)
