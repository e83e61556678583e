"""A call offered to every terminal of a point-to-multipoint basic access (network side).

Q.931 5.2.1: the network sends SETUP in a UI frame on the broadcast data link and starts
T303 and T312.  5.2.5: any number of terminals may answer on their own data links; the
network keeps the call reference for each responding terminal, the first CONNECT selects
its terminal (CONNECT ACKNOWLEDGE to it), and every other terminal that responded, or
responds later while T312 runs, is cleared with RELEASE cause 26 "non-selected user
clearing".  Terminals that reject (RELEASE COMPLETE, or DISCONNECT answered by RELEASE)
are dropped; when no terminal is left and neither T303 nor T312 runs, the call is
cleared toward the caller with the cause of the rejections (17 user busy before 21 call
rejected before any other, 5.2.5.3), or 18 no user responding when none answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import q850 as causes
from core.timers import Timers
from isdn.q931_codec import Message

if TYPE_CHECKING:
    from isdn.call import Call

NON_SELECTED_USER_CLEARING = 26
RESPONSES = frozenset({"SETUP ACKNOWLEDGE", "CALL PROCEEDING", "ALERTING", "CONNECT"})
# the cause toward the caller when every terminal rejected: the first of these received,
# else the first cause received (5.2.5.3)
CAUSE_PRIORITY = (causes.USER_BUSY, causes.CALL_REJECTED)


class BroadcastOffer:
    """The terminal side of one broadcast call: who responded, who was selected."""

    def __init__(self, call: Call):
        self.call = call
        self.responders: dict[Any, str] = {}  # terminal data link -> its latest response
        self.releasing: set[Any] = set()  # sent RELEASE, awaiting RELEASE COMPLETE
        self.rejections: list[int] = []
        self.selected: Any = None
        self.timers = Timers(call.cc.timer_table, call.cc.scheduler)

    def send_setup(self) -> None:
        """SETUP in a UI frame (5.2.1); T312 keeps the call reference for late answers."""
        self.call.cc.broadcast(self.call.setup)
        self.timers.start("T312", self._t312)

    def cause(self) -> int:
        for c in CAUSE_PRIORITY:
            if c in self.rejections:
                return c
        return self.rejections[0] if self.rejections else causes.NO_USER_RESPONDING

    # ---- messages from terminals -------------------------------------------------------
    def from_terminal(self, link: Any, msg: Message) -> Any:
        """A message of this call reference from a terminal's data link: returns the link
        the call should process it with, or None when it is settled here."""
        name = msg.name
        if self.selected is not None and link is self.selected:
            return link
        if link in self.releasing:
            if name == "RELEASE":
                self._send(link, "RELEASE COMPLETE", [])
            if name in ("RELEASE", "RELEASE COMPLETE"):
                self.releasing.discard(link)
            return None
        if self.selected is not None:  # a late or non-selected terminal
            if name != "RELEASE COMPLETE":
                self._clear_terminal(link, NON_SELECTED_USER_CLEARING)
            return None
        if name in RESPONSES:
            self.responders[link] = name
            if name == "CONNECT":
                self._select(link)
                return link
            # the first response of a kind moves the call on; the others only register
            call = self.call
            return link if call.fsm.lookup(call.state, name) is not None else None
        if name in ("RELEASE COMPLETE", "RELEASE", "DISCONNECT"):
            if name == "RELEASE":
                self._send(link, "RELEASE COMPLETE", [])
            elif name == "DISCONNECT":
                self._send(link, "RELEASE", [self.call._cause_ie(msg.cause or causes.NORMAL_CLEARING)])
                self.releasing.add(link)
            self.responders.pop(link, None)
            self.rejections.append(msg.cause if msg.cause is not None else causes.CALL_REJECTED)
            self._settle()
            return None
        return link  # STATUS ENQUIRY, INFORMATION ...: answered on that terminal's link

    def _select(self, link: Any) -> None:
        self.selected = link
        self.call.link = link
        self.timers.stop("T312")
        for other in list(self.responders):
            if other is not link:
                self._clear_terminal(other, NON_SELECTED_USER_CLEARING)

    def _clear_terminal(self, link: Any, cause: int) -> None:
        self.responders.pop(link, None)
        self.releasing.add(link)
        self._send(link, "RELEASE", [self.call._cause_ie(cause)])

    def _send(self, link: Any, name: str, ie_list: list) -> None:
        call = self.call
        call.cc.send(Message(name, call.cref, not call.originated, ie_list, call.cc.cr_len), link)

    # ---- timers and clearing -------------------------------------------------------------
    def t303(self) -> bool:
        """T303 expired with no terminal responding: SETUP once more (True), or the call
        is cleared (False)."""
        if not self.rejections and not self.call.retries["T303"]:
            self.call.retries["T303"] = 1
            self.send_setup()
            self.call._start("T303")
            return True
        self.timers.stop("T312")
        return False

    def _t312(self) -> None:
        self._settle()
        self.call.cc.flush()

    def _settle(self) -> None:
        """Clear the call when no terminal is left to answer (5.2.5.3)."""
        call = self.call
        if self.selected is None and not self.responders and call.role == "OUT_INIT":
            if not self.timers.running("T312") and not call.timers.running("T303"):
                call.clear_internally(self.cause())
        elif self.selected is None and not self.responders:
            call.clear_internally(self.cause())  # everyone who answered has gone

    def to_responders(self, name: str, ie_list: list) -> None:
        """A message the call sends before a terminal is selected goes to each terminal
        that responded; a clearing withdraws the offer: RELEASE to each of them and the
        call reference is released at once (late answers then meet 5.8.3.2)."""
        if name in ("DISCONNECT", "RELEASE", "RELEASE COMPLETE"):
            cause = self.call.cause or causes.NORMAL_CLEARING
            for link in list(self.responders):
                self._clear_terminal(link, cause)
            self.call.clear_internally(cause)
            return
        for link in self.responders:
            self._send(link, name, ie_list)

    def stop(self) -> None:
        self.timers.stop_all()
