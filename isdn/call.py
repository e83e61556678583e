"""One Q.931 call: the actions of the state table (clause 5) on one call reference.

:class:`Call` is driven by :class:`isdn.q931.CallControl`, which owns the data link,
the B-channels and the error procedures; the application uses the request methods
(``proceed``, ``alert``, ``answer``, ``hangup`` ...) and receives :class:`Event`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import q850 as causes
from core.fsm import NO_ROW, Machine
from core.timers import Timers
from isdn import facility
from isdn import ie as ies
from isdn.bchannels import BState
from isdn.ie import IE
from isdn.offer import BroadcastOffer
from isdn.q931_codec import Message
from isdn.q931_states import CALL_ROLES, TABLES

if TYPE_CHECKING:
    from isdn.q931 import CallControl

NAME_OPERATIONS = frozenset(facility.OPERATIONS)  # the invokes a name service implements
# name operation -> the call's field holding the party's name (presentation allowed)
NAME_FIELDS = {"callingName": "calling_name", "calledName": "called_name",
               "connectedName": "connected_name", "busyName": "busy_name"}

@dataclass
class Event:
    """What the application is told: ``kind`` is offered, more_info, proceeding, alerting,
    progress, connected, info, notify, facility, disconnected, released, suspended,
    resumed, restart, restart_ack, service, service_ack (B-channel maintenance,
    :mod:`isdn.service`), link_up, link_down, protocol_error, facility_rejected (Reject
    components received: ``detail["rejected"]``, :class:`isdn.facility.Screening`)."""

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
        # names of the parties (QSIG / NI-2 name identification, isdn.facility): the
        # calling party's, the called party's (ALERTING), the connected party's and the
        # busy called party's (clearing with cause 17); presentation allowed only
        self.calling_name: str | None = None
        self.called_name: str | None = None
        self.connected_name: str | None = None
        self.busy_name: str | None = None
        self.own_names: dict[str, facility.Name] = {}  # ours, by operation, to be sent
        self.invoked: dict[int, str] = {}  # invoke ids we sent -> operation (class 5)
        self.pending_facility: list[IE] = []  # Rejects for the next message we send
        self.cause: int | None = None
        self.answer_cause: int | None = None  # cause our next clearing message must carry
        self.setup: Message | None = None
        self.retries = {"T303": 0, "T308": 0, "T322": 0}
        self.call_identity = b""
        self.user_data: Any = None
        self.lost_glare = False  # our SETUP's channel went to the network's call
        self.link: Any = cc.link  # the data link of this call's terminal
        self.offer: Any = None  # a broadcast SETUP's terminal responses (isdn.multipoint)

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

    def own_name(self, operation: str, name: str | facility.Name) -> None:
        """Our party's name for ``operation`` (a text: presentation allowed), sent with
        the message that carries it where the variant carries names; EncodeError now,
        before anything is sent."""
        if isinstance(name, str):
            name = facility.Name(name)
        facility.encode_name(name)
        self.own_names[operation] = name
        setattr(self, NAME_FIELDS[operation],
                name.text if name.presentation == "allowed" else None)

    def alert(self, inband: bool = False, name: str | facility.Name | None = None) -> None:
        """ALERTING; ``name`` (the alerted party's) goes in it as calledName."""
        if name is not None:
            self.own_name("calledName", name)
        self._do("alerting_req", inband)

    def progress(self, description: int = 8) -> None:
        self._do("progress_req", description)

    def answer(self, name: str | facility.Name | None = None) -> None:
        """CONNECT; ``name`` (our party's) goes in it as connectedName."""
        if name is not None:
            self.own_name("connectedName", name)
        self._do("setup_rsp")

    def send_digits(self, digits: str, complete: bool = False) -> None:
        self._do("info_req", digits, complete)

    def notify(self, description: int) -> None:
        self._do("notify_req", description)

    def suspend(self, identity: bytes = b"") -> None:
        self._do("suspend_req", identity)

    def hangup(self, cause: int = causes.NORMAL_CLEARING,
               busy_name: str | facility.Name | None = None) -> None:
        """Clear the call the way its state asks: reject an offered call with RELEASE
        COMPLETE, DISCONNECT an established one, RELEASE after a received DISCONNECT.
        ``busy_name``: the called party refusing the call as user busy (cause 17) gives
        its name, sent as busyName in that first clearing message (ECMA-164 / ISO 13868
        busy name, from the Terminating PINX)."""
        if busy_name is not None:
            if cause != causes.USER_BUSY or self.originated:
                raise ValueError("a busy name is the called party's, with cause 17")
            self.own_name("busyName", busy_name)
        role = self.role
        if role == "IN_PRESENT":
            self._do("reject_req", cause)
        elif role in CALL_ROLES:
            self._do("disconnect_req", cause)
        elif role == "WE_GOT_DISC":
            self._do("release_req", cause)

    def _do(self, event: str, *args: Any) -> None:
        if self.dispatch(event, *args, if_row=True) is NO_ROW:
            raise InvalidCallState(f"{event} not allowed in state {self.state}")
        self.cc.flush()

    # ---- helpers -------------------------------------------------------------------------
    def send(self, name: str, ie_list: list[IE]) -> None:
        if self.offer is not None and self.link is self.cc.link:
            self.offer.to_responders(name, ie_list)  # broadcast call, no terminal selected
            return
        self.cc.send(Message(name, self.cref, not self.originated, ie_list, self.cc.cr_len),
                     self.link)

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
        return [self.cc.channel_ie(self.channel)]

    def _release_resources(self) -> None:
        self.timers.stop_all()
        if self.offer is not None:
            self.offer.released()
        self.cc.channels.release(self.channel, self)
        self.cc.forget(self)

    def _released(self, msg: Message | None, cause: int | None) -> None:
        self._release_resources()
        if cause is not None:
            self.cause = cause
        self._event("released", msg, self.cause, glare=self.lost_glare,
                    names=self._names(msg) if msg is not None and self.cc.variant.names else {})

    def _name_ies(self, operation: str) -> list[IE]:
        """A Facility invoking the name ``operation`` with our party's name, where the
        variant carries names and we have one."""
        service = self.cc.variant.names
        name = self.own_names.get(operation)
        if service is None or name is None:
            return []
        invoke_id = self.cc.invoke_id()
        self.invoked[invoke_id] = operation
        data = facility.name_facility(service, operation, name, invoke_id)
        return [ies.make("facility", data=data)]

    def _clearing_ies(self) -> list[IE]:
        """The Facility elements a clearing message of ours carries: the busy name in our
        first clearing message (once), and the Rejects waiting for a message."""
        out = self._name_ies("busyName") + self.pending_facility
        self.own_names.pop("busyName", None)
        self.pending_facility = []
        return out

    def _names(self, msg: Message) -> dict[str, facility.Name]:
        """Names the message's Facility elements invoke, where the variant carries names;
        the call's fields take those whose presentation is allowed."""
        if self.cc.variant.names is None:
            return {}
        found = facility.names([v["data"] for v in msg.all("facility")])
        for operation, name in found.items():
            setattr(self, NAME_FIELDS[operation],
                    name.text if name.presentation == "allowed" else None)
        return found

    def screen_facility(self, msg: Message) -> facility.Screening:
        """Before a received message is acted on, judge its Facility elements
        (:func:`isdn.facility.screen`, X.880 / Q.932 8.2.2 / ECMA-165 8.2.2); the Rejects
        wait for the next message we send on the call: the clearing message answering a
        DISCONNECT or RELEASE, else FACILITY (:meth:`facility_screened`)."""
        known = NAME_OPERATIONS if self.cc.variant.names else frozenset()
        screening = facility.screen([v["data"] for v in msg.all("facility")], known,
                                    self.invoked)
        self.pending_facility += [ies.make("facility", data=d) for d in screening.replies]
        return screening

    def facility_screened(self, screening: facility.Screening, msg: Message) -> None:
        """After the message was acted on: Reject components received for our invokes are
        reported (facility_rejected); clearCallIfAnyInvokePduNotRecognised clears the
        call; the Rejects no clearing message has carried go in FACILITY (while clearing,
        our next clearing message carries them)."""
        if screening.rejected:
            self._event("facility_rejected", msg, rejected=screening.rejected)
        if self.cc.calls.get((self.cref, self.originated)) is not self:
            self.pending_facility = []
            return
        if self.role not in CALL_ROLES:
            return
        if screening.clear:
            self.pending_facility = []
            self.hangup(facility.CLEAR_CAUSE)
            return
        for e in self.pending_facility:
            self.send("FACILITY", [e])
        self.pending_facility = []

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
        ie_list += self._name_ies("callingName")
        if channel is not None:
            ie_list.append(self.cc.channel_ie(channel, exclusive))
        if calling is not None:
            ie_list.append(ies.calling(calling))
        if called or not overlap:
            ie_list.append(ies.called(called))
        ie_list.sort(key=lambda e: e.ident)  # ascending identifiers (4.5.1)
        if not overlap:
            ie_list.insert(0, ies.sending_complete())  # first, as in table 3-16
        self.setup = Message("SETUP", self.cref, False, ie_list, self.cc.cr_len)
        self.retries["T303"] = 0
        if self.cc.multipoint:
            self.offer = BroadcastOffer(self)
            self.offer.send_setup()
        else:
            self.cc.send(self.setup, self.link)
        self._start("T303")

    def t303(self) -> str | None:
        """5.1.1 / 5.2.1: SETUP is sent once more; after the second expiry the call is
        cleared (RELEASE COMPLETE cause 102 to the peer; cause 18 to the network's caller).
        A broadcast SETUP no terminal answered is cleared with the terminals' causes."""
        if self.offer is not None:
            return None if self.offer.t303() else self._st("NULL")
        if self.retries["T303"] == 0 and self.setup is not None:
            self.retries["T303"] = 1
            self.cc.send(self.setup, self.link)
            self._start("T303")
            return None
        self.send("RELEASE COMPLETE", [self._cause_ie(causes.RECOVERY_ON_TIMER_EXPIRY)])
        cause = causes.NO_USER_RESPONDING if self.cc.side == "network" else causes.RECOVERY_ON_TIMER_EXPIRY
        self._released(None, cause)
        return self._st("NULL")

    def got_setup_ack(self, msg: Message) -> str | None:
        self.timers.stop("T303")
        if self.offer is None:  # a broadcast call times each terminal (isdn.offer)
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
        self._event("alerting", msg, inband=msg.get("progress") is not None,
                    names=self._names(msg))
        return self._take_channel(msg)

    def got_connect(self, msg: Message) -> str | None:
        self.timers.stop_all()
        role = self._take_channel(msg)
        if role is not None:
            return role
        self.send("CONNECT ACKNOWLEDGE", [])
        self._event("connected", msg, names=self._names(msg))
        return None

    def got_progress(self, msg: Message) -> None:
        self.timers.stop("T310")
        self._event("progress", msg, description=(msg.get("progress") or {}).get("description"))

    def t304(self) -> None:
        self.send_disconnect(causes.RECOVERY_ON_TIMER_EXPIRY)

    def t310(self) -> None:
        if self.offer is not None and self.offer.selected is None:
            self.offer.t310()  # a broadcast call: Call Abort (5.2.5.4)
            return
        self.send_disconnect(causes.RECOVERY_ON_TIMER_EXPIRY)

    def t301(self) -> None:
        self.send_disconnect(causes.NO_ANSWER)

    # ---- incoming call -------------------------------------------------------------------
    def in_setup(self, msg: Message) -> None:
        self.setup = msg
        self.called = msg.called or ""
        self.calling = msg.calling
        self._event("offered", msg, complete=msg.ie("sending_complete") is not None,
                    names=self._names(msg))

    def send_setup_ack(self) -> None:
        self.send("SETUP ACKNOWLEDGE", self._first_response_ies())
        self._start("T302")

    def send_proceeding(self) -> None:
        self.timers.stop("T302")
        self.send("CALL PROCEEDING", self._first_response_ies())

    def send_alerting(self, inband: bool = False) -> None:
        self.timers.stop("T302")
        extra = [ies.progress(8, self.cc.cause_location)] if inband else []
        extra += self._name_ies("calledName")
        self.send("ALERTING", self._first_response_ies() + extra)

    def send_progress(self, description: int) -> None:
        self.send("PROGRESS", [ies.progress(description, self.cc.cause_location)])

    def send_connect(self) -> str | None:
        self.timers.stop("T302")
        self.send("CONNECT", self._first_response_ies()
                  + self._name_ies("connectedName"))
        if self.cc.side == "network":
            self._event("connected")
            return self._st("ACTIVE")
        self._start("T313")
        return None

    def send_reject(self, cause: int) -> None:
        """Our rejection ends the call like any other clearing: "released" with our cause."""
        self.send("RELEASE COMPLETE", [self._cause_ie(cause)] + self._clearing_ies())
        self._released(None, cause)

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
        if self.role == "OUT_OVERLAP" and self.offer is None:
            self._start("T304")

    def got_notify(self, msg: Message) -> None:
        self._event("notify", msg)

    def send_notify(self, description: int) -> None:
        self.send("NOTIFY", [ies.make("notification", description=description)])

    def got_facility(self, msg: Message) -> None:
        self._event("facility", msg, names=self._names(msg))

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
        self.send("RESUME ACKNOWLEDGE", [self.cc.channel_ie(self.channel)])
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
        self.send("DISCONNECT", [self._cause_ie(cause)] + self._clearing_ies())
        self._start("T305")

    def got_disconnect(self, msg: Message) -> str | None:
        self.timers.stop_all()
        self.cause = msg.cause if msg.cause is not None else causes.NORMAL_UNSPECIFIED
        self._event("disconnected", msg, self.cause,
                    inband=(msg.get("progress") or {}).get("description") == 8,
                    names=self._names(msg) if self.cc.variant.names else {})
        if self.cc.auto_release:
            self.send_release(self.answer_cause or self.cause)
            return self._st("RELEASE_REQUEST")
        return None

    def send_release(self, cause: int | None = None) -> None:
        self.timers.stop_all()
        cause = self.answer_cause or cause or self.cause or causes.NORMAL_CLEARING
        self.send("RELEASE", [self._cause_ie(cause)] + self._clearing_ies())
        self.retries["T308"] = 0
        self._start("T308")

    def got_release_after_disc(self, msg: Message) -> None:
        self.send("RELEASE COMPLETE", self._answer_cause_ies())
        self._released(msg, msg.cause if msg.cause is not None else self.cause)

    def _answer_cause_ies(self) -> list[IE]:
        """RELEASE COMPLETE's elements: the cause of our error, and Rejects waiting."""
        out = [self._cause_ie(self.answer_cause)] if self.answer_cause else []
        return out + self._clearing_ies() if self.pending_facility else out

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
