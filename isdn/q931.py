"""Q.931 call control of one D-channel, user or network side (clause 5).

:class:`CallControl` is the layer-3 entity: it checks every received message against
the error procedures of 5.8 before a call's state machine (:mod:`isdn.call`, table in
:mod:`isdn.q931_states`) sees it, negotiates B-channels and resolves dual seizure,
runs RESTART (5.5) on the global call reference, and reacts to data-link reset and
failure (5.8.8, 5.8.9).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core import q850 as causes
from core.clock import Scheduler
from core.fsm import NO_ROW
from core.timers import TimerTable
from isdn import facility
from isdn import ie as ies
from isdn import q931_codec as codec
from isdn.bchannels import BChannels, BState
from isdn.call import Call, Event, InvalidCallState
from isdn.ie import IE
from isdn.q931_codec import Message, Q931DecodeError
from isdn.q931_states import CLEARING, NEIGHBOURS, ROLE_STATES, TABLES
from isdn.service import Maintenance
from isdn.timers import q931_table
from isdn.variants import VARIANTS, Variant

__all__ = ["Call", "CallControl", "ChannelBusy", "Event", "InvalidCallState"]

# messages known to the codec that this stack does not implement (5.8.4: cause 98)
NOT_IMPLEMENTED = frozenset({"USER INFORMATION", "SEGMENT", "CONGESTION CONTROL"})
# messages that may start a call reference (5.8.3.2)
CALL_START = frozenset({"SETUP", "RESUME"})


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
                 cr_len: int = 2, auto_release: bool = True,
                 channels: Iterable[int] | None = None):
        """``channels``: the B-channels provisioned on this interface (a fractional E1),
        a subset of the variant's; a SETUP naming another gets "channel does not exist"."""
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
        provisioned = self.variant.channels if channels is None else tuple(channels)
        if not provisioned or not set(provisioned) <= set(self.variant.channels):
            raise ValueError(f"channels must be some of {self.variant.name}'s B-channels "
                             f"{list(self.variant.channels)}")
        self.channels = BChannels(provisioned, ascending=(side == "network"))
        i = 0 if side == "user" else 1
        p = "U" if side == "user" else "N"
        self.roles = {f"{p}{nums[i]}": role for role, nums in ROLE_STATES.items()}
        self.states = {role: state for state, role in self.roles.items()}
        self.calls: dict[tuple[int, bool], Call] = {}
        self.parked: dict[bytes, _Parked] = {}
        self._next_cref = 1
        self._next_invoke = 0
        self.link: Any = None  # set by the stack: dl_data(bytes), dl_establish()
        # BRI point-to-multipoint network side (isdn.multipoint): ``link`` is the broadcast
        # data link, each terminal has its own; a message is answered on the link it came on
        self.multipoint = False
        self.rx_link: Any = None
        self.aborting: dict[tuple[int, bool], Any] = {}  # broadcast calls in Call Abort
        # layer management's view of data-link errors (TEI check/verify on a BRI)
        self.mdl_error_hook: Callable[[Any, str], None] | None = None
        self.link_up = False
        self._reestablishing = False
        self.restarting: dict[tuple[int, ...] | None, int] = {}
        # a multipoint interface sends RESTART on each terminal's data link and waits for
        # every acknowledgement (isdn.multipoint.LinkRestarts); None: the one data link
        self.restart_links: Any = None
        self._restart_handles: dict[tuple[int, ...] | None, Any] = {}
        self._events: list[Event] = []
        self._flushing = False
        self.counters = {"ignored": 0, "status_sent": 0, "errors": 0}
        pd = self.variant.maintenance_pd
        self.maintenance = None if pd is None else Maintenance(self, pd)

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

    def send(self, msg: Message, link: Any = None) -> None:
        """Send on ``link`` (a call's own data link), else on the link the message being
        processed came on, else on the D-channel's link."""
        (link or self.rx_link or self.link).dl_data(codec.encode(msg))

    def broadcast(self, msg: Message) -> None:
        """Offer to every terminal: a UI frame on the broadcast data link (5.2.1)."""
        self.link.dl_unitdata(codec.encode(msg))

    def channel_ie(self, number: int | None, exclusive: bool = True) -> IE:
        return ies.channel(number, exclusive, self.variant.pri)

    def invoke_id(self) -> int:
        """The ROSE invoke id of an APDU we send (1 to 127 in turn, X.880 clause 11)."""
        self._next_invoke = self._next_invoke % 127 + 1
        return self._next_invoke

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
                   extra: list[IE] | None = None, user_data: Any = None,
                   calling_name: str | facility.Name | None = None) -> Call:
        """Send SETUP.  ``channel=None`` hunts a free B-channel; a channel that is taken
        raises :class:`ChannelBusy` ("glare, retry" when the peer just took it).
        ``calling_name`` goes in SETUP as callingName where the variant carries names."""
        call = Call(self, self._alloc_cref(), True)
        if calling_name is not None:
            call.own_name("callingName", calling_name)  # EncodeError: nothing seized
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
            if (cref, True) not in self.calls and (cref, True) not in self.aborting:
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
        if not self.variant.pri:
            return [self.channel_ie(key[0]), ies.restart_indicator(0)]
        return [ies.channel_list(key), ies.restart_indicator(0)]

    def _send_restart(self, key: tuple[int, ...] | None) -> None:
        msg = Message("RESTART", 0, False, self._restart_ies(key), self.cr_len)
        if self.restart_links is None:
            self.send(msg)
        elif not self.restart_links.send(key, msg):
            self.restart_done(key, None)  # no terminal to tell
            return
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
        if self.restart_links is not None:
            self.restart_links.forget(key)
        for ch in key or list(self.channels.channels):
            self.channels.set_state(ch, BState.MAINTENANCE)
        self.emit(Event("restart_failed", detail={"channels": list(key) if key else None}))
        self.flush()

    # ---- data link primitives (LinkUser) -------------------------------------------------
    def dl_establish_conf(self, link: Any) -> None:
        self._link_up(link, reset=False)

    def dl_establish_ind(self, link: Any) -> None:
        self._link_up(link, reset=True)

    def _link_up(self, link: Any, reset: bool) -> None:
        was_up, self.link_up = self.link_up, True
        self.emit(Event("link_up", detail={"reset": reset and was_up}))
        for call in self._calls_on(link):
            if call.timers.running("T309"):
                call.timers.stop("T309")
                call.status_enquiry()  # 5.8.9: report after re-establishment
            elif reset and was_up and call.role not in CLEARING and call.role != "NULL":
                call.status_enquiry()  # 5.8.8: data link reset
        self.flush()

    def dl_release_ind(self, link: Any) -> None:
        """5.8.9: data link failure.  Active calls wait T309 for the link to come back;
        calls being set up are cleared; the link is asked to re-establish."""
        calls = self._calls_on(link)
        if not self.multipoint:
            self.link_up = False
            self.emit(Event("link_down"))
        for call in calls:
            if call.role == "ACTIVE":
                if not call.timers.running("T309"):
                    call._start("T309")
            else:
                call.clear_internally(causes.DESTINATION_OUT_OF_ORDER)
        wanted = not self.multipoint or any(c.role == "ACTIVE" for c in calls)
        if link is not None and wanted and not self._reestablishing:
            # ask again after T200, so a peer answering DM does not make us spin
            self._reestablishing = True
            self.scheduler.call_later(link.table.values["T200"], self._reestablish, link)
        self.flush()

    def _calls_on(self, link: Any) -> list[Call]:
        """The calls a data link event concerns: every call, or on a multipoint interface
        those of that terminal's link."""
        calls = list(self.calls.values())
        return [c for c in calls if c.link is link] if self.multipoint else calls

    def _reestablish(self, link: Any) -> None:
        self._reestablishing = False
        if not link.established:
            link.dl_establish()

    def dl_release_conf(self, link: Any) -> None:
        self.link_up = False

    def dl_unitdata_ind(self, link: Any, info: bytes) -> None:
        self.dl_data_ind(link, info)  # broadcast SETUP on a point-to-multipoint BRI

    def mdl_error_ind(self, link: Any, code: str) -> None:
        self.counters["errors"] += 1
        if self.mdl_error_hook is not None:
            self.mdl_error_hook(link, code)

    # ---- received messages: the error procedures of 5.8 ----------------------------------
    def dl_data_ind(self, link: Any, info: bytes) -> None:
        try:
            msg = self.variant.read(codec.decode(info))
        except Q931DecodeError as e:
            self.counters["ignored"] += 1  # 5.8.1 - 5.8.3.1: ignored
            self.emit(Event("protocol_error", detail={"error": str(e)}))
        else:
            self.rx_link = link if self.multipoint else None
            try:
                self.receive(msg)
            finally:
                self.rx_link = None
        self.flush()

    def receive(self, msg: Message) -> None:
        if msg.pd != codec.PD_Q931:  # maintenance messages, where the variant has them
            if self.maintenance is not None and msg.pd == self.maintenance.pd:
                self.maintenance.receive(msg)
            else:
                self.counters["ignored"] += 1  # 5.8.1: another protocol
            return
        if not msg.cr_len:
            self._dummy(msg)
            return
        if msg.call_ref == 0:
            self._global(msg)
            return
        key = (msg.call_ref, msg.flag)  # flag 1: sent to the side that originated the cref
        call = self.calls.get(key)
        if call is None:
            offer = self.aborting.get(key)
            if offer is not None:
                offer.from_terminal(self.rx_link, msg)
            else:
                self._unknown_cref(msg)
            return
        if call.offer is not None:  # a broadcast call: which terminal is this (5.2.5)?
            link = call.offer.from_terminal(self.rx_link, msg)
            if link is None:
                return
            if call.offer.selected is None:  # answer that terminal; the offer stays broadcast
                call.link = link
                try:
                    self._process(call, msg)
                finally:
                    call.link = self.link
                return
        self._process(call, msg)

    def _process(self, call: Call, msg: Message) -> None:
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
        screening = None  # the Facility elements of a message that will be acted on
        if msg.ie("facility") is not None and call.fsm.lookup(call.state, msg.name):
            screening = call.screen_facility(msg)
        if call.dispatch(msg.name, msg, if_row=True) is NO_ROW:
            self._status(msg, causes.MESSAGE_NOT_COMPATIBLE, call, bytes([msg.code]))
            return
        self._optional_errors(call, msg, screening)
        if screening is not None:
            call.facility_screened(screening, msg)

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

    def _optional_errors(self, call: Call, msg: Message,
                         screening: facility.Screening | None = None) -> None:
        """5.8.7: unrecognised (99) or invalid (100) optional elements, after acting; a
        Facility element of a protocol profile not supported is invalid (Q.850 cause 100)."""
        if msg.name in ("DISCONNECT", "RELEASE", "RELEASE COMPLETE", "STATUS"):
            return
        if self.calls.get((call.cref, call.originated)) is not call:
            return
        facility_bad = screening is not None and screening.content_error
        bad = [e for e in msg.ies if (e.error and e.error != "skipped")
               or (facility_bad and e.name == "facility")]
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
        if self.rx_link is not None:
            call.link = self.rx_link  # a terminal's call on a multipoint interface
        if msg.name == "SETUP":
            cause = self._select_channel(call, msg)
            if cause is not None:
                self._reply(msg, "RELEASE COMPLETE", [ies.cause(cause, self.cause_location)])
                self.emit(Event("rejected", None, cause, msg))
                return
        self.calls[(call.cref, False)] = call
        screening = call.screen_facility(msg) if msg.ie("facility") is not None else None
        call.dispatch(msg.name, msg)
        self._optional_errors(call, msg, screening)
        if screening is not None:
            call.facility_screened(screening, msg)

    def _select_channel(self, call: Call, msg: Message) -> int | None:
        """Channel negotiation for a received SETUP (5.1.2, 5.2.3) and dual seizure
        (5.2.3.1 glare: the network's choice stands).  Returns a cause to reject with."""
        cid = msg.get("channel_id")
        if cid is not None and msg.channel is not None:  # PRI channel number or BRI B1/B2
            ch, exclusive = msg.channel, bool(cid["exclusive"])
            answer = self.channels.seize(ch, call, outgoing=False)
            if answer == BState.GLARE.value and self.side == "user":
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

    # ---- dummy call reference: connectionless supplementary services ---------------------
    def _dummy(self, msg: Message) -> None:
        """The dummy call reference (Q.931 4.3) carries only FACILITY, for the
        bearer-independent connectionless transport of supplementary service APDUs
        (Q.932 clause 8, ECMA-165 connectionless APDU transport).  No connectionless
        operation is implemented here: the components are judged as in a call's FACILITY
        (X.880 clause 11) and the Rejects go back in FACILITY on the dummy call
        reference; Rejects received are reported.  Any other message, or contents no
        Reject can answer, is ignored (there is no call state for a STATUS)."""
        if msg.name != "FACILITY" or msg.ie("facility") is None:
            self.counters["ignored"] += 1
            return
        screening = facility.screen([v["data"] for v in msg.all("facility")],
                                    frozenset(), {})
        for data in screening.replies:
            self.send(Message("FACILITY", 0, False, [ies.make("facility", data=data)], 0))
        if screening.rejected:
            self.emit(Event("facility_rejected", None, None, msg,
                            {"rejected": screening.rejected}))

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
        chans = _channel_list(msg)
        if cid.error or not chans:
            return None, causes.INVALID_IE_CONTENTS
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
                if self.multipoint and owner.link is not self.rx_link:
                    continue  # a terminal restarts its own calls, not another's
                owner.clear_internally(causes.TEMPORARY_FAILURE)
            self.channels.set_state(ch, BState.IDLE)
        keep = [e for e in msg.ies if e.name in ("channel_id", "restart_indicator")]
        self._reply(msg, "RESTART ACKNOWLEDGE", keep)
        self.emit(Event("restart", None, None, msg, {"channels": chans}))

    def _got_restart_ack(self, msg: Message) -> None:
        ri = msg.get("restart_indicator")
        chans = _channel_list(msg)
        key = None if not ri or ri["restart_class"] != 0 or not chans else tuple(chans)
        if key not in self.restarting:
            return
        if self.restart_links is not None and not self.restart_links.acknowledged(
                key, self.rx_link):
            return  # other terminals still owe theirs
        self.restart_done(key, msg)

    def restart_done(self, key: tuple[int, ...] | None, msg: Message | None) -> None:
        del self.restarting[key]
        handle = self._restart_handles.pop(key, None)
        if handle is not None:
            handle.cancel()
        for ch in key or list(self.channels.channels):
            self.channels.set_state(ch, BState.IDLE)
        self.emit(Event("restart_ack", None, None, msg, {"channels": list(key) if key else None}))


def _channel_list(msg: Message) -> list[int]:
    """Channels named by a channel identification: the PRI list, or BRI B1/B2."""
    cid = msg.get("channel_id") or {}
    return list(cid.get("channels") or ([msg.channel] if msg.channel else []))


class ChannelBusy(RuntimeError):
    """No B-channel (or the named one) can be seized: ``cause`` says which (34 or 44)."""

    def __init__(self, text: str, cause: int):
        super().__init__(text)
        self.cause = cause
