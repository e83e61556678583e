"""Shared helpers of the ISDN tests: an event recorder, a frame tap, clearing a call."""

from __future__ import annotations

import time

from isdn.q931 import Event


class Recorder:
    """Collects stack events; query them by kind and call."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.times: list[float] = []  # time.monotonic() of each event

    def __call__(self, ev: Event) -> None:
        self.events.append(ev)
        self.times.append(time.monotonic())

    def time_of(self, kind: str, call=None) -> float:
        """When the first event of ``kind`` (for ``call``) came, on the monotonic clock."""
        return next(t for t, e in zip(self.times, self.events, strict=True)
                    if e.kind == kind and (call is None or e.call is call))

    def all(self, kind: str, call=None) -> list[Event]:
        return [e for e in self.events if e.kind == kind and (call is None or e.call is call)]

    def has(self, kind: str, call=None) -> bool:
        return bool(self.all(kind, call))

    def first(self, kind: str, call=None) -> Event:
        return self.all(kind, call)[0]

    def kinds(self, call) -> list[str]:
        return [e.kind for e in self.events if e.call is call]


def tap(stack) -> list:
    """Record every LAPD frame ``stack`` sends (decoded); returns the live list."""
    from isdn import lapd_codec
    sent: list = []
    wire = stack.transport
    orig = wire.send

    def send(frame: bytes) -> None:
        sent.append(lapd_codec.decode(frame))
        orig(frame)
    wire.send = send
    return sent


def q931_sent(frames: list) -> list:
    """The Q.931 messages among tapped frames."""
    from isdn import q931_codec
    return [q931_codec.decode(f.info) for f in frames if f.kind == "I"]


def received_names(stack) -> list[str]:
    """Names of the Q.931 messages ``stack`` receives from now on (a live list)."""
    from isdn import lapd_codec
    names: list[str] = []
    frame_in = stack.receive_frame

    def receive(octets: bytes) -> None:
        names.extend(m.name for m in q931_sent([lapd_codec.decode(octets)]))
        frame_in(octets)
    stack.receive_frame = receive
    return names


def peer_answers(peer, call, rec: Recorder, pid: int) -> None:
    """A libpri ``peer`` takes our outgoing ``call`` (its call ``pid``) through CALL
    PROCEEDING, ALERTING and CONNECT; each reaches our stack before the next goes."""
    peer.send(f"proceed {pid}")
    peer.until(lambda: rec.has("proceeding"))
    peer.send(f"alert {pid}")
    peer.until(lambda: rec.has("alerting"))
    peer.send(f"answer {pid}")
    peer.until(lambda: call.role == "ACTIVE")
    assert rec.kinds(call) == ["proceeding", "alerting", "connected"]


def clear_call(peer, call, rec: Recorder, pid: int, clearer: str, cause: int) -> None:
    """Clear an active call with a libpri ``peer`` (its call ``pid``) from our side
    (``clearer`` "we") or theirs; ``cause`` must arrive at the other end and the call end
    in state 0 with its B-channel idle."""
    from isdn.bchannels import BState
    if clearer == "we":
        call.hangup(cause)
        assert peer.wait_for("HANGUP_REQ").split()[2] == str(cause)
        peer.send(f"hangup {pid} {cause}")
    else:
        peer.send(f"hangup {pid} {cause}")
        peer.until(lambda: rec.has("disconnected", call))
        assert rec.first("disconnected", call).cause == cause
        peer.wait_for("HANGUP")
    peer.until(lambda: rec.has("released", call))
    assert rec.first("released", call).cause == cause
    assert call.state.endswith("0") and call.cc.channels.state(call.channel) is BState.IDLE


# ---- call scenarios with a libpri peer (tests/isdn_peer/peer.py), shared by the EuroISDN,
# QSIG / NI-2 and timer interop tests ---------------------------------------------------------
CALLING = "0212345678"


def we_call(peer, stack, channel: int, called: str = "4000", overlap: bool = False):
    """Our SETUP to libpri on ``channel``: libpri's RING has the channel, number, our
    calling number and (en bloc) sending complete.  Returns (call, libpri's call id, the
    RING line's fields)."""
    call = stack.place_call(called, CALLING, channel=channel, overlap=overlap)
    ring = peer.wait_for("RING").split()
    assert ring[2:6] == [str(channel), called, CALLING, "0" if overlap else "1"]
    return call, int(ring[1]), ring


def they_call(peer, rec: Recorder, channel: int, called: str = "4000", overlap: bool = False,
              ref: int = 7):
    """libpri's SETUP on ``channel`` is offered to us with its numbers and channel (and,
    in overlap, without sending complete).  Returns (call, libpri's call id)."""
    peer.send(f"call {ref} {channel} {called} {CALLING}" + (" overlap" if overlap else ""))
    pid = int(peer.wait_for("CALLID").split()[2])
    peer.until(lambda: rec.has("offered"))
    offered = rec.first("offered")
    call = offered.call
    assert (call.called, call.calling, call.channel) == (called, CALLING, channel)
    if overlap:
        assert offered.detail["complete"] is False
    return call, pid


def we_answer(peer, call) -> None:
    """We take libpri's call through CALL PROCEEDING, ALERTING and CONNECT; libpri reports
    each before the next goes."""
    call.proceed()
    peer.wait_for("PROCEEDING")
    call.alert()
    peer.wait_for("RINGING")
    call.answer()
    peer.wait_for("ANSWER")


def answered(peer, stack, channel: int, called: str = "4000"):
    """Our call, answered by libpri at once (SETUP -> CONNECT); (call, libpri's id)."""
    call = stack.place_call(called, CALLING, channel=channel)
    pid = int(peer.wait_for("RING").split()[1])
    peer.send(f"answer {pid}")
    peer.until(lambda: call.role == "ACTIVE")
    return call, pid


def overlap_receiving(peer, rec: Recorder, channel: int):
    """libpri dials "40" then "00" (Q.931 5.1.3 / 5.2.4): we answer SETUP with SETUP
    ACKNOWLEDGE and collect the digits of its INFORMATION.  Returns (call, libpri's id)."""
    call, pid = they_call(peer, rec, channel, "40", overlap=True, ref=1)
    call.more_info()
    peer.wait_for("SETUP_ACK")
    peer.send(f"info {pid} 00")
    peer.until(lambda: call.called == "4000")
    return call, pid


def overlap_sending(peer, stack, rec: Recorder, channel: int, prefix: str):
    """We dial ``prefix`` then "00" with sending complete; libpri asks for more (SETUP
    ACKNOWLEDGE), takes the digits and answers.  Returns (call, libpri's id)."""
    call, pid, _ = we_call(peer, stack, channel, prefix, overlap=True)
    peer.send(f"needmore {pid}")
    peer.until(lambda: rec.has("more_info", call))
    assert call.role == "OUT_OVERLAP"
    call.send_digits("00", complete=True)
    assert peer.wait_for("INFO").split()[2] in ("00", prefix + "00")
    peer.send(f"answer {pid}")
    peer.until(lambda: call.role == "ACTIVE")
    return call, pid


def cut(peer) -> None:
    """Break the D-channel: libpri drops what we send, we drop what it sends."""
    peer.send("cut 1")
    peer.wait_for("OK cut")
    peer.drop_ours = True


def mend(peer) -> None:
    peer.drop_ours = False
    peer.send("cut 0")


def traced_call(peer, stack, rec: Recorder, channel: int):
    """Our call that libpri alerts with in-band information, answers and clears with
    cause 17: the message flow the tshark checks read.  Returns the call, released."""
    call, pid, _ = we_call(peer, stack, channel)
    peer.send(f"alert {pid} inband")
    peer.send(f"answer {pid}")
    peer.until(lambda: call.role == "ACTIVE")
    peer.send(f"hangup {pid} 17")
    peer.until(lambda: rec.has("released", call))
    return call
