"""Shared helpers of the ISDN tests: an event recorder, a frame tap, clearing a call."""

from __future__ import annotations

from isdn.q931 import Event


class Recorder:
    """Collects stack events; query them by kind and call."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, ev: Event) -> None:
        self.events.append(ev)

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
