"""A call offered to every terminal of a point-to-multipoint basic access (network side).

Q.931 5.2.1: the network sends SETUP in a UI frame on the broadcast data link and starts
T303 and T312.  Any number of terminals may answer on their own data links; the first
CONNECT selects its terminal (CONNECT ACKNOWLEDGE to it) and every other terminal that
responded, or responds later, is cleared with RELEASE cause 26 "non-selected user
clearing" (5.2.9, 5.3.2 b).  Terminals that reject (RELEASE COMPLETE, or DISCONNECT
answered by RELEASE) are dropped.

Overlap receiving by the terminals (5.2.4, 5.2.5.2): a SETUP without a sending complete
indication may be answered by SETUP ACKNOWLEDGE from any number of terminals; the network
runs T304 for each of them (started by its SETUP ACKNOWLEDGE, restarted by each
INFORMATION sent to it, stopped by its CALL PROCEEDING, ALERTING or CONNECT) and sends the
call information that follows to every terminal in overlap receiving; a terminal that
acknowledges late is sent the INFORMATION messages it missed.  T304 expiring for a terminal
clears it with RELEASE cause 102 (as 5.2.5.4 clears a broadcast called user, 5.3.2 e) and
counts as its rejection with cause 28 "invalid number format": when no responding terminal
remains the caller gets 28 unless another terminal was busy (17) or rejected (21).  T302 is
each terminal's own (its overlap receiving supervision, 5.2.4).

Call Abort (5.3.2 e, 5.2.5.4): when the call is given up before a terminal is selected
(the caller clears, T303 expires twice, T310 expires, or every terminal has rejected) the
caller is told at once; until T312 expires every terminal that responded or still
responds is cleared with RELEASE, after T312 a late first response meets 5.8.3.2
(RELEASE COMPLETE cause 81).
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
# the caller's cause when every terminal rejected: the first of these received, else the
# first cause received
CAUSE_PRIORITY = (causes.USER_BUSY, causes.CALL_REJECTED)


class BroadcastOffer:
    """The terminal side of one broadcast call: who responded, who was selected."""

    def __init__(self, call: Call):
        self.call = call
        self.key = (call.cref, True)  # responses carry the flag of the far side (4.3)
        self.responders: dict[Any, str] = {}  # terminal data link -> its latest response
        self.releasing: set[Any] = set()  # sent RELEASE, awaiting RELEASE COMPLETE
        self.rejections: list[int] = []
        self.selected: Any = None
        self.abort_cause: int | None = None  # the cause terminals get in Call Abort
        self.timers = Timers(call.cc.timer_table, call.cc.scheduler)
        self.t304: dict[Any, Timers] = {}  # T304 of each terminal in overlap receiving
        self.information: list[list] = []  # INFORMATION sent so far (for late acknowledgers)

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
        if link is self.selected:
            return link
        if link in self.releasing:
            if name == "RELEASE":
                self._send(link, "RELEASE COMPLETE", [])
            if name in ("RELEASE", "RELEASE COMPLETE"):
                self.releasing.discard(link)
            return None
        if name in ("RELEASE COMPLETE", "RELEASE", "DISCONNECT"):
            self._terminal_clears(link, msg)
            return None
        if link not in self.responders and not self.timers.running("T312"):
            if name in RESPONSES:  # a first response after T312: 5.8.3.2
                self._send(link, "RELEASE COMPLETE",
                           [self.call._cause_ie(causes.INVALID_CALL_REFERENCE)])
            return None
        if self.abort_cause is not None or self.selected is not None:
            if name in RESPONSES:
                self._clear_terminal(link, self.abort_cause or NON_SELECTED_USER_CLEARING)
            return None
        if name in RESPONSES:
            self._overlap(link, name)
            self.responders[link] = name
            if name == "CONNECT":
                self._select(link)
                return link
            # the first response of a kind moves the call on; the others only register
            call = self.call
            return link if call.fsm.lookup(call.state, name) is not None else None
        return link  # STATUS ENQUIRY, INFORMATION ...: answered on that terminal's link

    def _overlap(self, link: Any, name: str) -> None:
        """Per-terminal T304 (5.2.4, 5.2.5.2); a late SETUP ACKNOWLEDGE gets the call
        information already sent to the others."""
        if name != "SETUP ACKNOWLEDGE":
            self._stop_t304(link)
            return
        if self.responders.get(link) == name:
            return  # a repeated SETUP ACKNOWLEDGE
        self._start_t304(link)
        for ie_list in self.information:
            self._send(link, "INFORMATION", ie_list)

    def _start_t304(self, link: Any) -> None:
        timers = self.t304.setdefault(link, Timers(self.call.cc.timer_table,
                                                   self.call.cc.scheduler))
        timers.start("T304", self._t304, link)

    def _stop_t304(self, link: Any) -> None:
        timers = self.t304.pop(link, None)
        if timers is not None:
            timers.stop_all()

    def _t304(self, link: Any) -> None:
        """T304 expired for one terminal: it is cleared with 102; the caller with 28 when
        no responding terminal is left (5.2.4, 5.2.5.4)."""
        self.t304.pop(link, None)
        if link not in self.responders or self.selected is not None:
            return
        self._clear_terminal(link, causes.RECOVERY_ON_TIMER_EXPIRY)
        self.rejections.append(causes.INVALID_NUMBER_FORMAT)  # weighed like a rejection
        call = self.call
        if not self.responders and not call.timers.running("T303"):
            self.abort(self.cause(), causes.RECOVERY_ON_TIMER_EXPIRY)
        call.cc.flush()

    def _terminal_clears(self, link: Any, msg: Message) -> None:
        """A terminal rejects or clears before it was selected."""
        if msg.name == "RELEASE":
            self._send(link, "RELEASE COMPLETE", [])
        elif msg.name == "DISCONNECT":
            self._send(link, "RELEASE", [self.call._cause_ie(msg.cause or causes.NORMAL_CLEARING)])
            self.releasing.add(link)
        if self.abort_cause is not None or self.selected is not None:
            return
        answered = link in self.responders
        self.responders.pop(link, None)
        self._stop_t304(link)
        self.rejections.append(msg.cause if msg.cause is not None else causes.CALL_REJECTED)
        if answered and not self.responders:  # everyone who answered has gone
            self.abort(self.cause(), causes.RECOVERY_ON_TIMER_EXPIRY)
        # rejections alone: the call waits for T303 (5.2.5.4)

    def _select(self, link: Any) -> None:
        self.selected = link
        self.call.link = link
        for other in list(self.responders):
            if other is not link:
                self._clear_terminal(other, NON_SELECTED_USER_CLEARING)

    def _clear_terminal(self, link: Any, cause: int) -> None:
        self.responders.pop(link, None)
        self._stop_t304(link)
        self.releasing.add(link)
        self._send(link, "RELEASE", [self.call._cause_ie(cause)])

    def _send(self, link: Any, name: str, ie_list: list) -> None:
        call = self.call
        call.cc.send(Message(name, call.cref, not call.originated, ie_list, call.cc.cr_len), link)

    # ---- timers, clearing and Call Abort ------------------------------------------------
    def t303(self) -> bool:
        """T303 expired with no terminal responding: SETUP once more (True), or Call
        Abort with 18 (or the terminals' rejection cause) to the caller (False)."""
        if not self.rejections and not self.call.retries["T303"]:
            self.call.retries["T303"] = 1
            self.send_setup()
            self.call._start("T303")
            return True
        self.abort(self.cause(), causes.RECOVERY_ON_TIMER_EXPIRY)
        return False

    def t310(self) -> None:
        """T310 expired (5.2.5.4): 18 to the caller, 102 to the terminals."""
        self.abort(causes.NO_USER_RESPONDING, causes.RECOVERY_ON_TIMER_EXPIRY)

    def abort(self, caller_cause: int, user_cause: int) -> None:
        """Enter Call Abort: the caller is cleared; terminals that responded, and those
        that respond before T312 expires, are cleared with ``user_cause``."""
        self.abort_cause = user_cause
        for link in list(self.responders):
            self._clear_terminal(link, user_cause)
        cc = self.call.cc
        if self.timers.running("T312"):
            cc.aborting[self.key] = self
        self.call.clear_internally(caller_cause)

    def _t312(self) -> None:
        self.call.cc.aborting.pop(self.key, None)

    def to_responders(self, name: str, ie_list: list) -> None:
        """A message the call sends before a terminal is selected goes to each terminal
        that responded; a clearing is the caller's: Call Abort (5.3.2 e)."""
        if name in ("DISCONNECT", "RELEASE", "RELEASE COMPLETE"):
            cause = self.call.cause or causes.NORMAL_CLEARING
            self.abort(cause, cause)
            return
        if name == "INFORMATION":  # to the terminals in overlap receiving (5.2.4)
            self.information.append(ie_list)
            for link, response in self.responders.items():
                if response == "SETUP ACKNOWLEDGE":
                    self._send(link, name, ie_list)
                    self._start_t304(link)
            return
        for link in self.responders:
            self._send(link, name, ie_list)

    def released(self) -> None:
        """The call is released; in Call Abort T312 still guards the call reference."""
        for link in list(self.t304):
            self._stop_t304(link)
        if self.abort_cause is None:
            self.timers.stop_all()
