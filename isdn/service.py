"""B-channel maintenance with SERVICE / SERVICE ACKNOWLEDGE (North American PRI: National
ISDN-2 on the national maintenance protocol discriminator 0x43, the AT&T variants on 0x03).

Either side takes a B-channel (change status preference 1, the channel in the channel
identification) or the whole interface (preference 0) in or out of service with SERVICE on
the global call reference; the receiver applies the change and answers SERVICE ACKNOWLEDGE
carrying the status it applied.  A channel out of service carries no new calls either way; a
call already on it is not cleared and the channel goes to maintenance when the call ends.
A SERVICE unacknowledged after T3M1 is sent again, then maintenance is told (``service_ack``
with ``acknowledged`` False).  Change status values: 0 in service, 2 out of service (1
loopback, 3 continuity check and 4 shutdown are answered with the channel's actual status).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from isdn import ie as ies
from isdn.bchannels import BState
from isdn.call import Event
from isdn.q931_codec import Message

if TYPE_CHECKING:
    from isdn.q931 import CallControl

IN_SERVICE, OUT_OF_SERVICE = 0, 2
STATUS_NAMES = {0: "in_service", 1: "loopback", 2: "out_of_service", 3: "continuity_check",
                4: "shutdown"}
SERVICE_TRIES = 2  # SERVICE sent, and once again on T3M1 expiry


class Maintenance:
    """The SERVICE procedure of one interface, on the call control's B-channels."""

    def __init__(self, cc: CallControl, pd: int):
        self.cc = cc
        self.pd = pd
        self.pending: dict[tuple[int, ...], tuple[int, int, Any]] = {}  # -> status, tries, timer

    # --- requests -------------------------------------------------------------------------
    def request(self, channels: list[int] | None, in_service: bool) -> None:
        """Take ``channels`` (None: the whole interface) in or out of service: applied here
        at once, told to the peer with SERVICE."""
        key = tuple(channels) if channels is not None else ()
        bad = [c for c in key if c not in self.cc.channels]
        if bad:
            raise ValueError(f"no B-channel {bad[0]} on this interface")
        status = IN_SERVICE if in_service else OUT_OF_SERVICE
        self._apply(key, status)
        old = self.pending.pop(key, None)
        if old is not None:
            old[2].cancel()
        self._send(key, status, 1)

    def _send(self, key: tuple[int, ...], status: int, tries: int) -> None:
        self.cc.send(Message("SERVICE", 0, False, self._ies(key, status), self.cc.cr_len,
                             pd=self.pd))
        timer = self.cc.scheduler.call_later(self.cc.timer_table.values["T3M1"], self._t3m1, key)
        self.pending[key] = (status, tries, timer)

    def _t3m1(self, key: tuple[int, ...]) -> None:
        entry = self.pending.pop(key, None)
        if entry is None:
            return
        status, tries, _ = entry
        if tries < SERVICE_TRIES:
            self._send(key, status, tries + 1)
        else:
            self._event("service_ack", key, status, acknowledged=False)
        self.cc.flush()

    # --- received -------------------------------------------------------------------------
    def receive(self, msg: Message) -> None:
        cs = msg.get("change_status")
        key = None if cs is None else self._channels(msg, cs)
        if key is None:
            self.cc.counters["ignored"] += 1  # nothing to act on: no mandatory contents
            return
        if msg.name == "SERVICE":
            applied = self._apply(key, cs["status"])
            self.cc.send(Message("SERVICE ACKNOWLEDGE", 0, not msg.flag, self._ies(key, applied),
                                 msg.cr_len or self.cc.cr_len, pd=self.pd))
            self._event("service", key, applied, requested=STATUS_NAMES.get(cs["status"]))
        elif msg.name == "SERVICE ACKNOWLEDGE":
            entry = self.pending.pop(key, None)
            if entry is not None:
                entry[2].cancel()
                self._apply(key, cs["status"])
            self._event("service_ack", key, cs["status"], acknowledged=entry is not None)

    def _channels(self, msg: Message, cs: dict) -> tuple[int, ...] | None:
        if not cs["preference"]:
            return ()  # the interface
        v = msg.get("channel_id")
        chans = tuple(v.get("channels") or ()) if v else ()
        return chans if chans and all(c in self.cc.channels for c in chans) else None

    def _apply(self, key: tuple[int, ...], status: int) -> int:
        """Apply a change; returns the status the channels now have (a status we do not
        support leaves them as they are)."""
        chans = self.cc.channels
        targets = key or tuple(chans.channels)
        if status in (IN_SERVICE, OUT_OF_SERVICE):
            for n in targets:
                chans.set_service(n, status == IN_SERVICE)
            return status
        return OUT_OF_SERVICE if any(chans.out_of_service(n) for n in targets) else IN_SERVICE

    def _ies(self, key: tuple[int, ...], status: int) -> list:
        change = ies.make("change_status", preference=1 if key else 0, status=status)
        if not key:
            return [change]
        return [change, ies.channel_list(key)]

    def _event(self, kind: str, key: tuple[int, ...], status: int, **detail: Any) -> None:
        self.cc.emit(Event(kind, detail={"channels": list(key) or None,
                                         "status": STATUS_NAMES.get(status, status), **detail}))

    def status(self) -> dict[str, Any]:
        chans = self.cc.channels
        return {"out_of_service": [n for n in chans.channels if chans.out_of_service(n)],
                "awaiting_ack": [list(k) or "interface" for k in self.pending],
                "maintenance": [n for n in chans.channels
                                if chans.state(n) is BState.MAINTENANCE]}
