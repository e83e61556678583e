"""Q.931 circuit-mode call control, user and network side (clause 5, annex A SDL).

The two sides share one table written in terms of call *roles*; ``ROLE_STATES`` maps
each role to the recommendation's state for the user side (U0..U25) and the network
side (N0..N25), so ``U1 call initiated`` and ``N6 call present`` are both the role
``OUT_INIT`` (we sent SETUP).  :class:`CallControl` is the layer-3 entity of one
D-channel: it checks every received message against the error procedures of 5.8
before a call's machine sees it, runs RESTART (5.5) on the global call reference, and
reacts to data-link reset and failure (5.8.8, 5.8.9).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.clock import Scheduler
from core.fsm import FsmTable, Machine, Row
from core.timers import Timers, TimerTable
from isdn import causes
from isdn import ie as ies
from isdn import q931_codec as codec
from isdn.bchannels import BChannels, BState
from isdn.ie import IE
from isdn.q931_codec import Message, Q931DecodeError
from isdn.timers import q931_table
from isdn.variants import VARIANTS, Variant

# role -> (user state, network state), Q.931 clause 2.1 / 2.2
ROLE_STATES: dict[str, tuple[int, int]] = {
    "NULL": (0, 0),
    "OUT_INIT": (1, 6),          # we sent SETUP
    "OUT_OVERLAP": (2, 25),      # SETUP ACKNOWLEDGE received: we send INFORMATION
    "OUT_PROCEEDING": (3, 9),    # CALL PROCEEDING received
    "OUT_DELIVERED": (4, 7),     # ALERTING received
    "IN_PRESENT": (6, 1),        # SETUP received
    "IN_OVERLAP": (25, 2),       # SETUP ACKNOWLEDGE sent: we receive INFORMATION
    "IN_PROCEEDING": (9, 3),     # CALL PROCEEDING sent
    "IN_RECEIVED": (7, 4),       # ALERTING sent
    "CONNECT_REQUEST": (8, 8),   # CONNECT sent, awaiting CONNECT ACKNOWLEDGE (user side)
    "ACTIVE": (10, 10),
    "WE_SENT_DISC": (11, 12),    # DISCONNECT sent (U11 disconnect request / N12 indication)
    "WE_GOT_DISC": (12, 11),     # DISCONNECT received
    "SUSPEND_REQUEST": (15, 15),
    "RESUME_REQUEST": (17, 17),
    "RELEASE_REQUEST": (19, 19),
}

_CALL_ROLES = ("OUT_INIT", "OUT_OVERLAP", "OUT_PROCEEDING", "OUT_DELIVERED", "IN_PRESENT",
               "IN_OVERLAP", "IN_PROCEEDING", "IN_RECEIVED", "CONNECT_REQUEST", "ACTIVE",
               "SUSPEND_REQUEST", "RESUME_REQUEST")
_CLEARING = ("WE_SENT_DISC", "WE_GOT_DISC", "RELEASE_REQUEST")

# (role, event, action, next role); events are message names, app primitives (*_req,
# setup_rsp) and timer names.  An action may return a role to override (SDL decision).
ROLE_ROWS: list[tuple[str, str, str | None, str | None]] = [
    ("NULL", "setup_req", "out_setup", "OUT_INIT"),
    ("NULL", "SETUP", "in_setup", "IN_PRESENT"),
    ("NULL", "resume_req", "send_resume", "RESUME_REQUEST"),
    ("NULL", "RESUME", "got_resume", "ACTIVE"),
    # outgoing call (5.1 user side, 5.2 network side toward the user)
    ("OUT_INIT", "SETUP ACKNOWLEDGE", "got_setup_ack", "OUT_OVERLAP"),
    ("OUT_INIT", "CALL PROCEEDING", "got_proceeding", "OUT_PROCEEDING"),
    ("OUT_INIT", "ALERTING", "got_alerting", "OUT_DELIVERED"),
    ("OUT_INIT", "CONNECT", "got_connect", "ACTIVE"),
    ("OUT_INIT", "T303", "t303", None),
    ("OUT_OVERLAP", "CALL PROCEEDING", "got_proceeding", "OUT_PROCEEDING"),
    ("OUT_OVERLAP", "ALERTING", "got_alerting", "OUT_DELIVERED"),
    ("OUT_OVERLAP", "CONNECT", "got_connect", "ACTIVE"),
    ("OUT_OVERLAP", "PROGRESS", "got_progress", None),
    ("OUT_OVERLAP", "T304", "t304", "WE_SENT_DISC"),
    ("OUT_PROCEEDING", "ALERTING", "got_alerting", "OUT_DELIVERED"),
    ("OUT_PROCEEDING", "CONNECT", "got_connect", "ACTIVE"),
    ("OUT_PROCEEDING", "PROGRESS", "got_progress", None),
    ("OUT_PROCEEDING", "T310", "t310", "WE_SENT_DISC"),
    ("OUT_DELIVERED", "CONNECT", "got_connect", "ACTIVE"),
    ("OUT_DELIVERED", "PROGRESS", "got_progress", None),
    ("OUT_DELIVERED", "T301", "t301", "WE_SENT_DISC"),
    # incoming call (5.2 user side, 5.1 network side from the user)
    ("IN_PRESENT", "more_info_req", "send_setup_ack", "IN_OVERLAP"),
    ("IN_PRESENT", "proceeding_req", "send_proceeding", "IN_PROCEEDING"),
    ("IN_PRESENT", "alerting_req", "send_alerting", "IN_RECEIVED"),
    ("IN_PRESENT", "setup_rsp", "send_connect", "CONNECT_REQUEST"),
    ("IN_PRESENT", "reject_req", "send_reject", "NULL"),
    ("IN_PRESENT", "progress_req", "send_progress", None),
    ("IN_OVERLAP", "INFORMATION", "got_overlap_info", None),
    ("IN_OVERLAP", "proceeding_req", "send_proceeding", "IN_PROCEEDING"),
    ("IN_OVERLAP", "alerting_req", "send_alerting", "IN_RECEIVED"),
    ("IN_OVERLAP", "setup_rsp", "send_connect", "CONNECT_REQUEST"),
    ("IN_OVERLAP", "progress_req", "send_progress", None),
    ("IN_OVERLAP", "T302", "t302", "WE_SENT_DISC"),
    ("IN_PROCEEDING", "alerting_req", "send_alerting", "IN_RECEIVED"),
    ("IN_PROCEEDING", "setup_rsp", "send_connect", "CONNECT_REQUEST"),
    ("IN_PROCEEDING", "progress_req", "send_progress", None),
    ("IN_RECEIVED", "setup_rsp", "send_connect", "CONNECT_REQUEST"),
    ("IN_RECEIVED", "progress_req", "send_progress", None),
    ("CONNECT_REQUEST", "CONNECT ACKNOWLEDGE", "got_connect_ack", "ACTIVE"),
    ("CONNECT_REQUEST", "T313", "t313", "WE_SENT_DISC"),
    ("ACTIVE", "CONNECT ACKNOWLEDGE", None, None),
    ("ACTIVE", "suspend_req", "send_suspend", "SUSPEND_REQUEST"),
    ("ACTIVE", "SUSPEND", "got_suspend", "NULL"),
    ("SUSPEND_REQUEST", "SUSPEND ACKNOWLEDGE", "got_suspend_ack", "NULL"),
    ("SUSPEND_REQUEST", "SUSPEND REJECT", "got_suspend_reject", "ACTIVE"),
    ("SUSPEND_REQUEST", "T319", "t319", "ACTIVE"),
    ("RESUME_REQUEST", "RESUME ACKNOWLEDGE", "got_resume_ack", "ACTIVE"),
    ("RESUME_REQUEST", "RESUME REJECT", "got_resume_reject", "NULL"),
    ("RESUME_REQUEST", "T318", "t318", "RELEASE_REQUEST"),
    # clearing (5.3, 5.4)
    ("WE_SENT_DISC", "RELEASE", "got_release_after_disc", "NULL"),
    ("WE_SENT_DISC", "DISCONNECT", "disconnect_collision", "RELEASE_REQUEST"),
    ("WE_SENT_DISC", "T305", "t305", "RELEASE_REQUEST"),
    ("WE_GOT_DISC", "release_req", "send_release", "RELEASE_REQUEST"),
    ("RELEASE_REQUEST", "RELEASE", "release_collision", "NULL"),
    ("RELEASE_REQUEST", "T308", "t308", None),
]
for _role in _CALL_ROLES:
    ROLE_ROWS += [(_role, "disconnect_req", "send_disconnect", "WE_SENT_DISC"),
                  (_role, "DISCONNECT", "got_disconnect", "WE_GOT_DISC")]
for _role in _CALL_ROLES + _CLEARING:
    _have = {(r, e) for r, e, _, _ in ROLE_ROWS}
    for _event, _action, _next in (
            ("RELEASE", "got_release", "NULL"),
            ("RELEASE COMPLETE", "got_release_complete", "NULL"),
            ("STATUS ENQUIRY", "send_status_response", None),
            ("STATUS", "got_status", None),
            ("T322", "t322", None),
            ("T309", "t309", "NULL"),
            ("INFORMATION", "got_info", None),
            ("info_req", "send_info", None),
            ("NOTIFY", "got_notify", None),
            ("notify_req", "send_notify", None),
            ("FACILITY", "got_facility", None),
            ("release_req", "send_release", "RELEASE_REQUEST")):
        if (_role, _event) not in _have:
            ROLE_ROWS.append((_role, _event, _action, _next))


def _table(side: str) -> FsmTable:
    i, p = (0, "U") if side == "user" else (1, "N")
    name = {role: f"{p}{nums[i]}" for role, nums in ROLE_STATES.items()}
    rows = [Row(name[r], e, a, None if n is None else name[n]) for r, e, a, n in ROLE_ROWS]
    return FsmTable(f"Q.931 {side} side", tuple(dict.fromkeys(name.values())), rows)


TABLES = {"user": _table("user"), "network": _table("network")}


def _neighbours(table: FsmTable) -> dict[int, set[int]]:
    """State numbers reachable in one transition either way: a peer whose STATUS reports
    one of them is in step with us but for a message in flight (5.8.11)."""
    out: dict[int, set[int]] = {}
    for (st, _), row in table.rows.items():
        if row.next is None:
            continue
        a, b = int(st[1:]), int(row.next[1:])
        out.setdefault(a, {a}).add(b)
        out.setdefault(b, {b}).add(a)
    return out


NEIGHBOURS = {side: _neighbours(t) for side, t in TABLES.items()}
# messages known to the codec that this stack does not implement (5.8.4: cause 98)
NOT_IMPLEMENTED = frozenset({"USER INFORMATION", "SEGMENT", "CONGESTION CONTROL"})
# messages that may start a call reference (5.8.3.2)
CALL_START = frozenset({"SETUP", "RESUME"})


@dataclass
class Event:
    """What the application is told: ``kind`` is offered, more_info, proceeding, alerting,
    progress, connected, info, notify, facility, disconnected, released, suspended,
    resumed, restart, restart_ack, link_up, link_down, protocol_error."""

    kind: str
    call: Call | None = None
    cause: int | None = None
    message: Message | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class Call(Machine):
    """One call reference of one D-channel."""

    def __init__(self, cc: CallControl, cref: int, originated: bool):
        self.cc = cc
        self.fsm = TABLES[cc.side]
        self.state = self.fsm.states[0]
        self.cref = cref
        self.originated = originated
        self.timers = Timers(cc.timer_table, cc.scheduler)
        self.channel: int | None = None
        self.exclusive = True
        self.first_response_sent = False
        self.called: str = ""
        self.calling: str | None = None
        self.cause: int | None = None
        self.answer_cause: int | None = None  # cause our next clearing message must carry
        self.setup: Message | None = None
        self.retries = {"T303": 0, "T308": 0, "T322": 0}
        self.call_identity = b""
        self.user_data: Any = None
        self.lost_glare = False  # our SETUP's channel went to the network's call

    def __repr__(self) -> str:
        return f"<Call cref={self.cref} {'out' if self.originated else 'in'} {self.state} ch={self.channel}>"

    # ---- application API -----------------------------------------------------------------
    @property
    def role(self) -> str:
        return self.cc.roles[self.state]

    def _st(self, role: str) -> str:
        """The state of this side that plays ``role`` (what an SDL decision returns)."""
        return self.cc.states[role]

    @property
    def state_number(self) -> int:
        return int(self.state[1:])

    def proceed(self) -> None:
        self._do("proceeding_req")

    def more_info(self) -> None:
        """Overlap receiving: answer SETUP with SETUP ACKNOWLEDGE (5.1.3 / 5.2.4)."""
        self._do("more_info_req")

    def alert(self, inband: bool = False) -> None:
        self._do("alerting_req", inband)

    def progress(self, description: int = 8) -> None:
        self._do("progress_req", description)

    def answer(self) -> None:
        self._do("setup_rsp")

    def send_digits(self, digits: str, complete: bool = False) -> None:
        self._do("info_req", digits, complete)

    def notify(self, description: int) -> None:
        self._do("notify_req", description)

    def suspend(self, identity: bytes = b"") -> None:
        self._do("suspend_req", identity)

    def hangup(self, cause: int = causes.NORMAL_CLEARING) -> None:
        """Clear the call the way its state asks: reject an offered call with RELEASE
        COMPLETE, DISCONNECT an established one, RELEASE after a received DISCONNECT."""
        role = self.role
        if role == "IN_PRESENT":
            self._do("reject_req", cause)
        elif role in _CALL_ROLES:
            self._do("disconnect_req", cause)
        elif role == "WE_GOT_DISC":
            self._do("release_req", cause)

    def _do(self, event: str, *args: Any) -> None:
        if self.fsm.lookup(self.state, event) is None:
            raise InvalidCallState(f"{event} not allowed in state {self.state}")
        self.dispatch(event, *args)
        self.cc.flush()

    # ---- helpers -------------------------------------------------------------------------
    def send(self, name: str, ie_list: list[IE]) -> None:
        self.cc.send(Message(name, self.cref, not self.originated, ie_list, self.cc.cr_len))

    def _event(self, kind: str, msg: Message | None = None, cause: int | None = None,
               **detail: Any) -> None:
        self.cc.emit(Event(kind, self, cause, msg, detail))

    def _cause_ie(self, value: int) -> IE:
        return ies.cause(value, self.cc.cause_location)

    def _start(self, name: str) -> None:
        self.timers.start(name, self.cc.call_timer_expired, self, name)

    def _first_response_ies(self) -> list[IE]:
        if self.first_response_sent or self.channel is None:
            return []
        self.first_response_sent = True
        return [ies.channel(self.channel, True)]

    def _release_resources(self) -> None:
        self.timers.stop_all()
        self.cc.channels.release(self.channel, self)
        self.cc.forget(self)

    def _released(self, msg: Message | None, cause: int | None) -> None:
        self._release_resources()
        if cause is not None:
            self.cause = cause
        self._event("released", msg, self.cause, glare=self.lost_glare)

    def _take_channel(self, msg: Message) -> str | None:
        """Channel from the peer's first response (5.1.2 / 5.2.3.2); a role to clear to
        when it cannot be used."""
        ch = msg.channel
        if ch is None or ch == self.channel:
            if self.channel is not None:
                self.cc.channels.confirm(self.channel)
            return None
        if self.channel is not None:
            self.cc.channels.release(self.channel, self)
        self.channel = None
        if self.cc.channels.seize(ch, self, False) != "seized":
            return self._clear(causes.CHANNEL_NOT_AVAILABLE)
        self.channel = ch
        return None

    def _clear(self, cause: int) -> str:
        self.send_disconnect(cause)
        return self._st("WE_SENT_DISC")

    # ---- outgoing call -------------------------------------------------------------------
    def out_setup(self, called: str, calling: str | None, channel: int | None,
                  exclusive: bool, overlap: bool, extra: list[IE]) -> None:
        self.called, self.calling, self.channel, self.exclusive = called, calling, channel, exclusive
        ie_list = [ies.bearer(layer1=self.cc.variant.layer1)] + list(extra)
        if channel is not None:
            ie_list.append(ies.channel(channel, exclusive))
        if calling is not None:
            ie_list.append(ies.calling(calling))
        if called or not overlap:
            ie_list.append(ies.called(called))
        ie_list.sort(key=lambda e: e.ident)  # ascending identifiers (4.5.1)
        if not overlap:
            ie_list.insert(0, ies.sending_complete())  # first, as in table 3-16
        self.setup = Message("SETUP", self.cref, False, ie_list, self.cc.cr_len)
        self.cc.send(self.setup)
        self.retries["T303"] = 0
        self._start("T303")

    def t303(self) -> str | None:
        """5.1.1 / 5.2.1: SETUP is sent once more; after the second expiry the call is
        cleared (RELEASE COMPLETE cause 102 to the peer; cause 18 to the network's caller)."""
        if self.retries["T303"] == 0 and self.setup is not None:
            self.retries["T303"] = 1
            self.cc.send(self.setup)
            self._start("T303")
            return None
        self.send("RELEASE COMPLETE", [self._cause_ie(causes.RECOVERY_ON_TIMER_EXPIRY)])
        cause = causes.NO_USER_RESPONDING if self.cc.side == "network" else causes.RECOVERY_ON_TIMER_EXPIRY
        self._released(None, cause)
        return self._st("NULL")

    def got_setup_ack(self, msg: Message) -> str | None:
        self.timers.stop("T303")
        self._start("T304")
        self._event("more_info", msg)
        return self._take_channel(msg)

    def got_proceeding(self, msg: Message) -> str | None:
        self.timers.stop("T303")
        self.timers.stop("T304")
        self._start("T310")
        self._event("proceeding", msg)
        return self._take_channel(msg)

    def got_alerting(self, msg: Message) -> str | None:
        for t in ("T303", "T304", "T310"):
            self.timers.stop(t)
        self._start("T301")
        self._event("alerting", msg, inband=msg.get("progress") is not None)
        return self._take_channel(msg)

    def got_connect(self, msg: Message) -> str | None:
        self.timers.stop_all()
        role = self._take_channel(msg)
        if role is not None:
            return role
        self.send("CONNECT ACKNOWLEDGE", [])
        self._event("connected", msg)
        return None

    def got_progress(self, msg: Message) -> None:
        self.timers.stop("T310")
        self._event("progress", msg, description=(msg.get("progress") or {}).get("description"))

    def t304(self) -> None:
        self.send_disconnect(causes.RECOVERY_ON_TIMER_EXPIRY)

    def t310(self) -> None:
        self.send_disconnect(causes.RECOVERY_ON_TIMER_EXPIRY)

    def t301(self) -> None:
        self.send_disconnect(causes.NO_ANSWER)

    # ---- incoming call -------------------------------------------------------------------
    def in_setup(self, msg: Message) -> None:
        self.setup = msg
        self.called = msg.called or ""
        self.calling = msg.calling
        self._event("offered", msg, complete=msg.ie("sending_complete") is not None)

    def send_setup_ack(self) -> None:
        self.send("SETUP ACKNOWLEDGE", self._first_response_ies())
        self._start("T302")

    def send_proceeding(self) -> None:
        self.timers.stop("T302")
        self.send("CALL PROCEEDING", self._first_response_ies())

    def send_alerting(self, inband: bool = False) -> None:
        self.timers.stop("T302")
        extra = [ies.progress(8, self.cc.cause_location)] if inband else []
        self.send("ALERTING", self._first_response_ies() + extra)

    def send_progress(self, description: int) -> None:
        self.send("PROGRESS", [ies.progress(description, self.cc.cause_location)])

    def send_connect(self) -> str | None:
        self.timers.stop("T302")
        self.send("CONNECT", self._first_response_ies())
        if self.cc.side == "network":
            self._event("connected")
            return self._st("ACTIVE")
        self._start("T313")
        return None

    def send_reject(self, cause: int) -> None:
        self.send("RELEASE COMPLETE", [self._cause_ie(cause)])
        self.cause = cause
        self._release_resources()

    def got_overlap_info(self, msg: Message) -> None:
        self._start("T302")
        self.got_info(msg)

    def t302(self) -> None:
        """5.1.3 / 5.2.4: overlap receiving timed out: the number is incomplete."""
        self.send_disconnect(causes.INVALID_NUMBER_FORMAT)

    def got_connect_ack(self, msg: Message) -> None:
        self.timers.stop("T313")
        self._event("connected", msg)

    def t313(self) -> None:
        self.send_disconnect(causes.RECOVERY_ON_TIMER_EXPIRY)

    # ---- any state -----------------------------------------------------------------------
    def got_info(self, msg: Message) -> None:
        digits = msg.called or (msg.get("keypad") or {}).get("digits") or ""
        self.called += digits if msg.called else ""
        self._event("info", msg, digits=digits, complete=msg.ie("sending_complete") is not None)

    def send_info(self, digits: str, complete: bool = False) -> None:
        ie_list = [ies.called(digits)]
        if complete:
            ie_list.insert(0, ies.sending_complete())
        self.called += digits
        self.send("INFORMATION", ie_list)
        if self.role == "OUT_OVERLAP":
            self._start("T304")

    def got_notify(self, msg: Message) -> None:
        self._event("notify", msg)

    def send_notify(self, description: int) -> None:
        self.send("NOTIFY", [ies.make("notification", description=description)])

    def got_facility(self, msg: Message) -> None:
        self._event("facility", msg)

    # ---- suspend / resume (5.6) ----------------------------------------------------------
    def send_suspend(self, identity: bytes) -> None:
        self.call_identity = identity
        ie_list = [ies.make("call_identity", identity=identity)] if identity else []
        self.send("SUSPEND", ie_list)
        self._start("T319")

    def got_suspend_ack(self, msg: Message) -> None:
        self.timers.stop_all()
        self.cc.forget(self)
        self.cc.channels.release(self.channel, self)
        self._event("suspended", msg)

    def got_suspend_reject(self, msg: Message) -> None:
        self.timers.stop("T319")
        self._event("suspend_rejected", msg, msg.cause)

    def t319(self) -> None:
        self._event("suspend_rejected", None, causes.RECOVERY_ON_TIMER_EXPIRY)

    def got_suspend(self, msg: Message) -> str | None:
        """Network side 5.6.2: the call is parked under its identity for T307."""
        identity = (msg.get("call_identity") or {}).get("identity", b"")
        if identity in self.cc.parked:
            self.send("SUSPEND REJECT", [self._cause_ie(84)])  # call identity in use
            return self._st("ACTIVE")
        self.send("SUSPEND ACKNOWLEDGE", [])
        self.timers.stop_all()
        self.cc.forget(self)
        self.cc.park(identity, self)
        self._event("suspended", msg)
        return None

    def send_resume(self, identity: bytes) -> None:
        self.call_identity = identity
        ie_list = [ies.make("call_identity", identity=identity)] if identity else []
        self.send("RESUME", ie_list)
        self._start("T318")

    def got_resume(self, msg: Message) -> str | None:
        identity = (msg.get("call_identity") or {}).get("identity", b"")
        parked = self.cc.unpark(identity)
        if parked is None:
            self.send("RESUME REJECT", [self._cause_ie(85)])  # no call suspended
            self.cc.forget(self)
            return self._st("NULL")
        self.channel, self.called, self.calling = parked.channel, parked.called, parked.calling
        self.user_data = parked.user_data
        self.cc.channels.take_over(self.channel, self)
        self.send("RESUME ACKNOWLEDGE", [ies.channel(self.channel, True)])
        self._event("resumed", msg)
        return None

    def got_resume_ack(self, msg: Message) -> None:
        self.timers.stop("T318")
        ch = msg.channel
        if ch is not None:
            self.channel = ch
            self.cc.channels.take_over(ch, self)
        self._event("resumed", msg)

    def got_resume_reject(self, msg: Message) -> None:
        self._released(msg, msg.cause)

    def t318(self) -> None:
        self.send_release(causes.RECOVERY_ON_TIMER_EXPIRY)

    # ---- clearing (5.3) ------------------------------------------------------------------
    def send_disconnect(self, cause: int) -> None:
        self.timers.stop_all()
        self.cause = cause
        self.send("DISCONNECT", [self._cause_ie(cause)])
        self._start("T305")

    def got_disconnect(self, msg: Message) -> str | None:
        self.timers.stop_all()
        self.cause = msg.cause if msg.cause is not None else causes.NORMAL_UNSPECIFIED
        self._event("disconnected", msg, self.cause,
                    inband=(msg.get("progress") or {}).get("description") == 8)
        if self.cc.auto_release:
            self.send_release(self.answer_cause or self.cause)
            return self._st("RELEASE_REQUEST")
        return None

    def send_release(self, cause: int | None = None) -> None:
        self.timers.stop_all()
        cause = self.answer_cause or cause or self.cause or causes.NORMAL_CLEARING
        self.send("RELEASE", [self._cause_ie(cause)])
        self.retries["T308"] = 0
        self._start("T308")

    def got_release_after_disc(self, msg: Message) -> None:
        self.send("RELEASE COMPLETE", self._answer_cause_ies())
        self._released(msg, msg.cause if msg.cause is not None else self.cause)

    def _answer_cause_ies(self) -> list[IE]:
        return [self._cause_ie(self.answer_cause)] if self.answer_cause else []

    def got_release(self, msg: Message) -> None:
        self.send("RELEASE COMPLETE", self._answer_cause_ies())
        self._released(msg, msg.cause if msg.cause is not None else causes.NORMAL_UNSPECIFIED)

    def disconnect_collision(self, msg: Message) -> None:
        self.timers.stop("T305")
        self.send_release(self.cause)

    def t305(self) -> None:
        self.send_release(self.cause)

    def release_collision(self, msg: Message) -> None:
        self._released(msg, msg.cause if msg.cause is not None else self.cause)

    def got_release_complete(self, msg: Message) -> None:
        self._released(msg, msg.cause if msg.cause is not None else self.cause)

    def t308(self) -> str | None:
        """5.3.4: RELEASE once more; then the call reference is released and the
        B-channel goes to maintenance until a RESTART of it is acknowledged."""
        if self.retries["T308"] == 0:
            self.retries["T308"] = 1
            self.send("RELEASE", [self._cause_ie(self.cause or causes.NORMAL_CLEARING)])
            self._start("T308")
            return None
        channel = self.channel
        self._released(None, causes.RECOVERY_ON_TIMER_EXPIRY)
        if channel is not None:
            self.cc.channels.set_state(channel, BState.MAINTENANCE)
            self.cc.restart([channel])
        return self._st("NULL")

    # ---- status (5.8.10 - 5.8.11) --------------------------------------------------------
    def send_status_response(self, msg: Message | None = None) -> None:
        self.send_status(causes.RESPONSE_TO_STATUS_ENQUIRY)

    def send_status(self, cause: int, diagnostics: bytes = b"") -> None:
        self.send("STATUS", [ies.cause(cause, self.cc.cause_location, diagnostics),
                             ies.call_state(self.state_number)])

    def status_enquiry(self) -> None:
        self.send("STATUS ENQUIRY", [])
        self._start("T322")

    def got_status(self, msg: Message) -> str | None:
        peer = (msg.get("call_state") or {}).get("value")
        if peer == 0:
            self._released(msg, msg.cause)
            return self._st("NULL")
        self.timers.stop("T322")
        self.retries["T322"] = 0
        if peer is not None and not self.cc.compatible(self.state_number, peer):
            self.send_release(causes.MESSAGE_NOT_COMPATIBLE)
            self.answer_cause = None
            return self._st("RELEASE_REQUEST")
        return None

    def t322(self) -> str | None:
        if self.retries["T322"] + 1 < self.cc.n322:
            self.retries["T322"] += 1
            self.status_enquiry()
            return None
        self.send_release(causes.TEMPORARY_FAILURE)
        return self._st("RELEASE_REQUEST")

    def t309(self) -> None:
        """5.8.9: the data link stayed down for T309: the call is cleared internally."""
        self._released(None, causes.DESTINATION_OUT_OF_ORDER)

    def clear_internally(self, cause: int) -> None:
        """Release without signalling (restart, link failure outside the active state)."""
        self._released(None, cause)
        self.state = self.fsm.states[0]


class InvalidCallState(RuntimeError):
    """An application request that the call's current state does not allow."""


class _Parked:
    __slots__ = ("channel", "called", "calling", "user_data", "handle")

    def __init__(self, call: Call, handle: Any):
        self.channel, self.called, self.calling = call.channel, call.called, call.calling
        self.user_data = call.user_data
        self.handle = handle


class CallControl:
    """The Q.931 entity of one D-channel (a :class:`isdn.lapd.LinkUser`)."""

    def __init__(self, scheduler: Scheduler, side: str, *, variant: str | Variant = "etsi",
                 timers: TimerTable | None = None, on_event: Callable[[Event], None] | None = None,
                 cr_len: int = 2, auto_release: bool = True):
        if side not in TABLES:
            raise ValueError("side must be 'user' or 'network'")
        self.scheduler = scheduler
        self.side = side
        self.variant = VARIANTS[variant] if isinstance(variant, str) else variant
        self.timer_table = timers or q931_table(self.variant.timers)
        self.n322 = int(self.timer_table.values["N322"])
        self.n316 = int(self.timer_table.values["N316"])
        self.on_event = on_event or (lambda ev: None)
        self.cr_len = cr_len
        self.auto_release = auto_release
        self.cause_location = self.variant.cause_location[side]
        self.channels = BChannels(self.variant.channels, ascending=(side == "network"))
        i = 0 if side == "user" else 1
        p = "U" if side == "user" else "N"
        self.roles = {f"{p}{nums[i]}": role for role, nums in ROLE_STATES.items()}
        self.states = {role: state for state, role in self.roles.items()}
        self.calls: dict[tuple[int, bool], Call] = {}
        self.parked: dict[bytes, _Parked] = {}
        self._next_cref = 1
        self.link: Any = None  # set by the stack: dl_data(bytes), dl_establish()
        self.link_up = False
        self.restarting: dict[tuple[int, ...] | None, int] = {}
        self._restart_handles: dict[tuple[int, ...] | None, Any] = {}
        self._events: list[Event] = []
        self._flushing = False
        self.counters = {"ignored": 0, "status_sent": 0, "errors": 0}

    # ---- helpers used by calls -----------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Queue an event; events reach the application after the current message,
        timer or request has been processed, so a handler may act on the call at once."""
        self._events.append(event)

    def flush(self) -> None:
        if self._flushing:
            return
        self._flushing = True
        try:
            while self._events:
                self.on_event(self._events.pop(0))
        finally:
            self._flushing = False

    def send(self, msg: Message) -> None:
        self.link.dl_data(codec.encode(msg))

    def forget(self, call: Call) -> None:
        self.calls.pop((call.cref, call.originated), None)

    def call_timer_expired(self, call: Call, name: str) -> None:
        if self.calls.get((call.cref, call.originated)) is call:
            call.dispatch(name)
        self.flush()

    def compatible(self, ours: int, peer: int) -> bool:
        return peer in NEIGHBOURS[self.side].get(ours, {ours})

    def park(self, identity: bytes, call: Call) -> None:
        handle = self.scheduler.call_later(self.timer_table.values["T307"], self._park_expired,
                                           identity)
        self.parked[identity] = _Parked(call, handle)

    def unpark(self, identity: bytes) -> _Parked | None:
        p = self.parked.pop(identity, None)
        if p is not None:
            p.handle.cancel()
        return p

    def _park_expired(self, identity: bytes) -> None:
        p = self.parked.pop(identity, None)
        if p is not None:
            self.channels.release(p.channel)
            self.emit(Event("released", None, causes.RECOVERY_ON_TIMER_EXPIRY,
                            detail={"suspended_identity": identity}))
            self.flush()

    # ---- application API -----------------------------------------------------------------
    def place_call(self, called: str, calling: str | None = None, channel: int | None = None,
                   *, exclusive: bool = True, overlap: bool = False,
                   extra: list[IE] | None = None, user_data: Any = None) -> Call:
        """Send SETUP.  ``channel=None`` hunts a free B-channel; a channel that is taken
        raises :class:`ChannelBusy` ("glare, retry" when the peer just took it)."""
        call = Call(self, self._alloc_cref(), True)
        call.user_data = user_data
        if channel is None:
            channel = self.channels.hunt(call, outgoing=True)
            if channel is None:
                raise ChannelBusy("no B-channel available", causes.NO_CHANNEL_AVAILABLE)
        else:
            answer = self.channels.seize(channel, call, outgoing=True)
            if answer != "seized":
                raise ChannelBusy(f"B-channel {channel}: {answer}", causes.CHANNEL_NOT_AVAILABLE)
        self.calls[(call.cref, True)] = call
        call.dispatch("setup_req", called, calling, channel, exclusive, overlap, extra or [])
        self.flush()
        return call

    def resume(self, identity: bytes) -> Call:
        call = Call(self, self._alloc_cref(), True)
        self.calls[(call.cref, True)] = call
        call.dispatch("resume_req", identity)
        self.flush()
        return call

    def _alloc_cref(self) -> int:
        limit = (1 << (8 * self.cr_len - 1)) - 1
        for _ in range(limit):
            cref = self._next_cref
            self._next_cref = cref % limit + 1
            if (cref, True) not in self.calls:
                return cref
        raise ChannelBusy("no call reference free", causes.TEMPORARY_FAILURE)

    def restart(self, channels: list[int] | None = None) -> None:
        """RESTART (5.5.1) of the given B-channels (class 0) or of the interface (class 7)."""
        targets = list(channels) if channels is not None else list(self.channels.channels)
        for ch in targets:
            owner = self.channels.owner(ch)
            if isinstance(owner, Call):
                owner.clear_internally(causes.TEMPORARY_FAILURE)
            self.channels.set_state(ch, BState.RESTART)
        key = None if channels is None else tuple(targets)
        self.restarting[key] = 0
        self._send_restart(key)
        self.flush()

    def _restart_ies(self, key: tuple[int, ...] | None) -> list[IE]:
        if key is None:
            return [ies.restart_indicator(7)]
        return [ies.make("channel_id", interface_id_present=False, pri=True, exclusive=True,
                         dchan=False, selection=1, coding=0, map=False, element_type=3,
                         channels=list(key)), ies.restart_indicator(0)]

    def _send_restart(self, key: tuple[int, ...] | None) -> None:
        self.send(Message("RESTART", 0, False, self._restart_ies(key), self.cr_len))
        old = self._restart_handles.pop(key, None)
        if old is not None:
            old.cancel()
        self._restart_handles[key] = self.scheduler.call_later(
            self.timer_table.values["T316"], self._t316, key)

    def _t316(self, key: tuple[int, ...] | None) -> None:
        if key not in self.restarting:
            return
        self.restarting[key] += 1
        if self.restarting[key] < self.n316:
            self._send_restart(key)
            return
        del self.restarting[key]
        for ch in key or list(self.channels.channels):
            self.channels.set_state(ch, BState.MAINTENANCE)
        self.emit(Event("restart_failed", detail={"channels": list(key) if key else None}))
        self.flush()

    # ---- data link primitives (LinkUser) -------------------------------------------------
    def dl_establish_conf(self, link: Any) -> None:
        self._link_up(reset=False)

    def dl_establish_ind(self, link: Any) -> None:
        self._link_up(reset=True)

    def _link_up(self, reset: bool) -> None:
        was_up, self.link_up = self.link_up, True
        self.emit(Event("link_up", detail={"reset": reset and was_up}))
        for call in list(self.calls.values()):
            if call.timers.running("T309"):
                call.timers.stop("T309")
                call.status_enquiry()  # 5.8.9: report after re-establishment
            elif reset and was_up and call.role not in _CLEARING and call.role != "NULL":
                call.status_enquiry()  # 5.8.8: data link reset
        self.flush()

    def dl_release_ind(self, link: Any) -> None:
        """5.8.9: data link failure.  Active calls wait T309 for the link to come back;
        calls being set up are cleared; the link is asked to re-establish."""
        self.link_up = False
        self.emit(Event("link_down"))
        for call in list(self.calls.values()):
            if call.role == "ACTIVE":
                if not call.timers.running("T309"):
                    call._start("T309")
            else:
                call.clear_internally(causes.DESTINATION_OUT_OF_ORDER)
        if self.link is not None:
            self.scheduler.call_later(0, self.link.dl_establish)
        self.flush()

    def dl_release_conf(self, link: Any) -> None:
        self.link_up = False

    def dl_unitdata_ind(self, link: Any, info: bytes) -> None:
        self.dl_data_ind(link, info)  # broadcast SETUP on a point-to-multipoint BRI

    def mdl_error_ind(self, link: Any, code: str) -> None:
        self.counters["errors"] += 1

    # ---- received messages: the error procedures of 5.8 ----------------------------------
    def dl_data_ind(self, link: Any, info: bytes) -> None:
        try:
            msg = codec.decode(info)
        except Q931DecodeError as e:
            self.counters["ignored"] += 1  # 5.8.1 - 5.8.3.1: ignored
            self.emit(Event("protocol_error", detail={"error": str(e)}))
        else:
            self.receive(msg)
        self.flush()

    def receive(self, msg: Message) -> None:
        if msg.call_ref == 0 and msg.cr_len:
            self._global(msg)
            return
        key = (msg.call_ref, msg.flag)  # flag 1: sent to the side that originated the cref
        call = self.calls.get(key)
        if call is None:
            self._unknown_cref(msg)
            return
        if msg.name in CALL_START:
            self.counters["ignored"] += 1  # 5.8.3.2 e: call reference already in use
            return
        if msg.name is None:
            self._status(msg, causes.MESSAGE_TYPE_NONEXISTENT, call, bytes([msg.code]))
            return
        if msg.name in NOT_IMPLEMENTED:
            self._status(msg, causes.MESSAGE_NOT_COMPATIBLE_OR_NONEXISTENT, call,
                         bytes([msg.code]))
            return
        verdict = self._check_ies(msg)
        if verdict is not None and not self._mandatory_error(call, msg, *verdict):
            return
        if self.fsm_has(call, msg.name):
            call.dispatch(msg.name, msg)
        else:
            self._status(msg, causes.MESSAGE_NOT_COMPATIBLE, call, bytes([msg.code]))
            return
        self._optional_errors(call, msg)

    @staticmethod
    def fsm_has(call: Call, event: str) -> bool:
        return call.fsm.lookup(call.state, event) is not None

    def _check_ies(self, msg: Message) -> tuple[int, bytes] | None:
        """Mandatory element missing (96) or invalid (100), 5.8.6; an unrecognised element
        marked 'comprehension required' counts as missing (5.8.7.1)."""
        from_network = self.side == "user"
        for name in self.variant.mandatory_for(msg.name, from_network):
            e = msg.ie(name)
            if e is None:
                return causes.MANDATORY_IE_MISSING, bytes([ies.BY_NAME[name].ident])
            if e.error:
                return causes.INVALID_IE_CONTENTS, bytes([e.ident])
        for e in msg.ies:
            if e.comprehension_required:
                return causes.MANDATORY_IE_MISSING, bytes([e.ident])
        return None

    def _mandatory_error(self, call: Call, msg: Message, cause: int, diag: bytes) -> bool:
        """Act on a mandatory-element error; True when the message is still to be processed."""
        if msg.name == "DISCONNECT":
            call.answer_cause = cause  # acted on as cause 31; our RELEASE carries the error
            return True
        if msg.name in ("RELEASE", "RELEASE COMPLETE"):
            call.answer_cause = cause if msg.name == "RELEASE" else None
            return True
        self._status(msg, cause, call, diag)
        return False

    def _optional_errors(self, call: Call, msg: Message) -> None:
        """5.8.7: unrecognised (99) or invalid (100) optional elements, after acting."""
        if msg.name in ("DISCONNECT", "RELEASE", "RELEASE COMPLETE", "STATUS"):
            return
        if self.calls.get((call.cref, call.originated)) is not call:
            return
        bad = [e for e in msg.ies if e.error and e.error != "skipped"]
        if not bad:
            return
        unknown = [e for e in bad if e.error == "unrecognised"]
        cause = causes.IE_NONEXISTENT if unknown else causes.INVALID_IE_CONTENTS
        call.send_status(cause, bytes(e.ident for e in (unknown or bad)))
        self.counters["status_sent"] += 1

    def _status(self, msg: Message, cause: int, call: Call | None, diag: bytes = b"") -> None:
        self.counters["status_sent"] += 1
        if call is not None:
            call.send_status(cause, diag)
            return
        self.send(Message("STATUS", msg.call_ref, not msg.flag,
                          [ies.cause(cause, self.cause_location, diag), ies.call_state(0)],
                          msg.cr_len or self.cr_len))

    def _reply(self, msg: Message, name: str, ie_list: list[IE]) -> None:
        self.send(Message(name, msg.call_ref, not msg.flag, ie_list, msg.cr_len or self.cr_len))

    def _unknown_cref(self, msg: Message) -> None:
        """5.8.3.2: a call reference that is not in use."""
        name = msg.name
        if name in CALL_START and not msg.flag:
            self._new_call(msg)
        elif name in CALL_START or name == "RELEASE COMPLETE":
            self.counters["ignored"] += 1
        elif name == "STATUS ENQUIRY":
            self._status(msg, causes.RESPONSE_TO_STATUS_ENQUIRY, None)
        elif name == "STATUS":
            state = (msg.get("call_state") or {}).get("value")
            if state not in (None, 0):
                self._reply(msg, "RELEASE COMPLETE",
                            [ies.cause(causes.MESSAGE_NOT_COMPATIBLE, self.cause_location)])
        else:
            self._reply(msg, "RELEASE COMPLETE",
                        [ies.cause(causes.INVALID_CALL_REFERENCE, self.cause_location)])

    def _new_call(self, msg: Message) -> None:
        verdict = self._check_ies(msg)
        if verdict is not None:  # 5.8.6.1 / 5.8.6.2: SETUP is answered by RELEASE COMPLETE
            self._reply(msg, "RELEASE COMPLETE",
                        [ies.cause(verdict[0], self.cause_location, verdict[1])])
            return
        call = Call(self, msg.call_ref, False)
        if msg.name == "SETUP":
            cause = self._select_channel(call, msg)
            if cause is not None:
                self._reply(msg, "RELEASE COMPLETE", [ies.cause(cause, self.cause_location)])
                self.emit(Event("rejected", None, cause, msg))
                return
        self.calls[(call.cref, False)] = call
        call.dispatch(msg.name, msg)
        self._optional_errors(call, msg)

    def _select_channel(self, call: Call, msg: Message) -> int | None:
        """Channel negotiation for a received SETUP (5.1.2, 5.2.3) and dual seizure
        (5.2.3.1 glare: the network's choice stands).  Returns a cause to reject with."""
        cid = msg.get("channel_id")
        if cid is not None and msg.ie("channel_id").error is None and cid.get("channels"):
            ch, exclusive = cid["channels"][0], bool(cid["exclusive"])
            answer = self.channels.seize(ch, call, outgoing=False)
            if answer == "glare" and self.side == "user":
                loser = self.channels.take_over(ch, call)  # network wins; our SETUP moves
                loser.channel, loser.lost_glare = None, True
                answer = "seized"
            if answer == "seized":
                call.channel, call.exclusive = ch, exclusive
                return None
            if answer == "nonexistent":
                return causes.IDENTIFIED_CHANNEL_DOES_NOT_EXIST
            if exclusive:
                return causes.CHANNEL_NOT_AVAILABLE
        elif cid is not None and cid.get("selection") == 0:
            return None  # no channel (call-independent signalling): not offered here
        ch = self.channels.hunt(call, outgoing=False)
        if ch is None:
            return causes.NO_CHANNEL_AVAILABLE
        call.channel, call.exclusive = ch, True
        return None

    # ---- global call reference: RESTART (5.5) --------------------------------------------
    def _global(self, msg: Message) -> None:
        if msg.name == "RESTART":
            self._got_restart(msg)
        elif msg.name == "RESTART ACKNOWLEDGE":
            self._got_restart_ack(msg)
        elif msg.name == "STATUS":
            pass
        else:  # 5.8.3.2 h
            self._status(msg, causes.INVALID_CALL_REFERENCE, None)

    def _restart_channels(self, msg: Message) -> tuple[list[int] | None, int | None]:
        ri = msg.ie("restart_indicator")
        if ri is None:
            return None, causes.MANDATORY_IE_MISSING
        if ri.error or ri.value["restart_class"] not in (0, 6, 7):
            return None, causes.INVALID_IE_CONTENTS
        if ri.value["restart_class"] != 0:
            return list(self.channels.channels), None
        cid = msg.ie("channel_id")
        if cid is None:
            return None, causes.MANDATORY_IE_MISSING
        if cid.error or not cid.value.get("channels"):
            return None, causes.INVALID_IE_CONTENTS
        chans = cid.value["channels"]
        if any(c not in self.channels for c in chans):
            return None, causes.IDENTIFIED_CHANNEL_DOES_NOT_EXIST
        return chans, None

    def _got_restart(self, msg: Message) -> None:
        """5.5.2: clear every call on the channels, return them to idle, acknowledge."""
        chans, cause = self._restart_channels(msg)
        if cause is not None:
            self._status(msg, cause, None)
            return
        for ch in chans:
            owner = self.channels.owner(ch)
            if isinstance(owner, Call):
                owner.clear_internally(causes.TEMPORARY_FAILURE)
            self.channels.set_state(ch, BState.IDLE)
        keep = [e for e in msg.ies if e.name in ("channel_id", "restart_indicator")]
        self._reply(msg, "RESTART ACKNOWLEDGE", keep)
        self.emit(Event("restart", None, None, msg, {"channels": chans}))

    def _got_restart_ack(self, msg: Message) -> None:
        ri = msg.get("restart_indicator")
        chans = msg.get("channel_id")
        key = None if not ri or ri["restart_class"] != 0 or not chans else tuple(chans["channels"] or ())
        if key not in self.restarting:
            return
        del self.restarting[key]
        handle = self._restart_handles.pop(key, None)
        if handle is not None:
            handle.cancel()
        for ch in key or list(self.channels.channels):
            self.channels.set_state(ch, BState.IDLE)
        self.emit(Event("restart_ack", None, None, msg, {"channels": list(key) if key else None}))


class ChannelBusy(RuntimeError):
    """No B-channel (or the named one) can be seized: ``cause`` says which (34 or 44)."""

    def __init__(self, text: str, cause: int):
        super().__init__(text)
        self.cause = cause
