"""Q.921 data link entity: the multiple-frame procedures of clause 5 as an FSM table.

States are those of the Q.921 SDL (annex B): 1 TEI-unassigned .. 8 timer-recovery.
One :class:`DataLink` serves one (SAPI, TEI); it sends frames through ``send(bytes)``
and gives the layer-3 primitives (DL-ESTABLISH, DL-RELEASE, DL-DATA, DL-UNITDATA,
MDL-ERROR) to its :class:`LinkUser`.  Indications are delivered after the received
frame has been processed completely, so layer 3 may answer from inside a callback
and its answer carries the acknowledgement (N(R)) instead of a separate RR; frames
received together (one read of the D-channel) are acknowledged once, at the end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from core.clock import Scheduler
from core.fsm import FsmTable, Machine, Row
from core.timers import Timers, TimerTable
from isdn import lapd_codec as codec
from isdn.lapd_codec import Frame, LapdDecodeError
from isdn.timers import lapd_table

TEI_UNASSIGNED = "1-tei-unassigned"
ASSIGN_AWAITING_TEI = "2-assign-awaiting-tei"
ESTABLISH_AWAITING_TEI = "3-establish-awaiting-tei"
TEI_ASSIGNED = "4-tei-assigned"
AWAITING_ESTABLISHMENT = "5-awaiting-establishment"
AWAITING_RELEASE = "6-awaiting-release"
MULTIPLE_FRAME_ESTABLISHED = "7-multiple-frame-established"
TIMER_RECOVERY = "8-timer-recovery"
STATES = (TEI_UNASSIGNED, ASSIGN_AWAITING_TEI, ESTABLISH_AWAITING_TEI, TEI_ASSIGNED,
          AWAITING_ESTABLISHMENT, AWAITING_RELEASE, MULTIPLE_FRAME_ESTABLISHED, TIMER_RECOVERY)


class LinkUser(Protocol):
    """Layer 3 as seen by a data link (Q.921 clause 4 primitives)."""

    def dl_establish_ind(self, link: DataLink) -> None: ...
    def dl_establish_conf(self, link: DataLink) -> None: ...
    def dl_release_ind(self, link: DataLink) -> None: ...
    def dl_release_conf(self, link: DataLink) -> None: ...
    def dl_data_ind(self, link: DataLink, info: bytes) -> None: ...
    def dl_unitdata_ind(self, link: DataLink, info: bytes) -> None: ...
    def mdl_error_ind(self, link: DataLink, code: str) -> None: ...


def _rows() -> list[Row]:
    rows = [
        # TEI unassigned / awaiting TEI (BRI automatic TEI, 5.3): the TEI manager answers
        Row(TEI_UNASSIGNED, "DL-ESTABLISH-REQ", "request_tei", ESTABLISH_AWAITING_TEI),
        Row(TEI_UNASSIGNED, "DL-UNITDATA-REQ", "request_tei_unitdata", ASSIGN_AWAITING_TEI),
        Row(TEI_UNASSIGNED, "DL-DATA-REQ", "request_tei_data", ESTABLISH_AWAITING_TEI),
        Row(TEI_UNASSIGNED, "MDL-ASSIGN-REQ", "assign", TEI_ASSIGNED),
        Row(ASSIGN_AWAITING_TEI, "MDL-ASSIGN-REQ", "assign_send_unitdata", TEI_ASSIGNED),
        Row(ASSIGN_AWAITING_TEI, "DL-ESTABLISH-REQ", None, ESTABLISH_AWAITING_TEI),
        Row(ASSIGN_AWAITING_TEI, "DL-UNITDATA-REQ", "queue_unitdata"),
        Row(ASSIGN_AWAITING_TEI, "MDL-ERROR-RSP", "tei_refused", TEI_UNASSIGNED),
        Row(ESTABLISH_AWAITING_TEI, "MDL-ASSIGN-REQ", "assign_establish", AWAITING_ESTABLISHMENT),
        Row(ESTABLISH_AWAITING_TEI, "DL-DATA-REQ", "queue_data"),
        Row(ESTABLISH_AWAITING_TEI, "DL-UNITDATA-REQ", "queue_unitdata"),
        Row(ESTABLISH_AWAITING_TEI, "MDL-ERROR-RSP", "tei_refused_release", TEI_UNASSIGNED),
        # 4 TEI assigned
        Row(TEI_ASSIGNED, "DL-ESTABLISH-REQ", "establish_l3", AWAITING_ESTABLISHMENT),
        Row(TEI_ASSIGNED, "DL-RELEASE-REQ", "release_confirm"),
        Row(TEI_ASSIGNED, "DL-DATA-REQ", "queue_establish", AWAITING_ESTABLISHMENT),
        Row(TEI_ASSIGNED, "SABME", "accept_sabme", MULTIPLE_FRAME_ESTABLISHED),
        Row(TEI_ASSIGNED, "DISC", "send_dm"),
        Row(TEI_ASSIGNED, "UA", "mdl_error_cd"),
        Row(TEI_ASSIGNED, "I", "dm_if_polled"),
        Row(TEI_ASSIGNED, "RR", "dm_if_polled"),
        Row(TEI_ASSIGNED, "RNR", "dm_if_polled"),
        Row(TEI_ASSIGNED, "REJ", "dm_if_polled"),
        # 5 awaiting establishment
        Row(AWAITING_ESTABLISHMENT, "SABME", "send_ua"),
        Row(AWAITING_ESTABLISHMENT, "UA", "ua_establish", MULTIPLE_FRAME_ESTABLISHED),
        Row(AWAITING_ESTABLISHMENT, "DM", "dm_establish", TEI_ASSIGNED),
        Row(AWAITING_ESTABLISHMENT, "DISC", "send_dm"),
        Row(AWAITING_ESTABLISHMENT, "T200", "t200_establish", AWAITING_ESTABLISHMENT),
        Row(AWAITING_ESTABLISHMENT, "DL-DATA-REQ", "queue_data"),
        Row(AWAITING_ESTABLISHMENT, "DL-ESTABLISH-REQ", "set_l3_initiated"),
        Row(AWAITING_ESTABLISHMENT, "DL-RELEASE-REQ", "release", AWAITING_RELEASE),
        # 6 awaiting release
        Row(AWAITING_RELEASE, "UA", "ua_release", TEI_ASSIGNED),
        Row(AWAITING_RELEASE, "DM", "ua_release", TEI_ASSIGNED),
        Row(AWAITING_RELEASE, "SABME", "send_dm"),
        Row(AWAITING_RELEASE, "DISC", "send_ua"),
        Row(AWAITING_RELEASE, "T200", "t200_release", AWAITING_RELEASE),
        Row(AWAITING_RELEASE, "DL-ESTABLISH-REQ", "establish_l3", AWAITING_ESTABLISHMENT),
        # 7 multiple frame established
        Row(MULTIPLE_FRAME_ESTABLISHED, "DL-DATA-REQ", "data_request"),
        Row(MULTIPLE_FRAME_ESTABLISHED, "T200", "t200_mfe", TIMER_RECOVERY),
        Row(MULTIPLE_FRAME_ESTABLISHED, "T203", "t203_mfe", TIMER_RECOVERY),
        Row(MULTIPLE_FRAME_ESTABLISHED, "I", "i_frame"),
        Row(MULTIPLE_FRAME_ESTABLISHED, "RR", "s_frame"),
        Row(MULTIPLE_FRAME_ESTABLISHED, "RNR", "s_frame"),
        Row(MULTIPLE_FRAME_ESTABLISHED, "REJ", "s_frame"),
        # 8 timer recovery
        Row(TIMER_RECOVERY, "DL-DATA-REQ", "queue_data"),
        Row(TIMER_RECOVERY, "T200", "t200_recovery"),
        Row(TIMER_RECOVERY, "I", "i_frame"),
        Row(TIMER_RECOVERY, "RR", "s_frame_recovery"),
        Row(TIMER_RECOVERY, "RNR", "s_frame_recovery"),
        Row(TIMER_RECOVERY, "REJ", "s_frame_recovery"),
    ]
    for st in (MULTIPLE_FRAME_ESTABLISHED, TIMER_RECOVERY):  # common to 7 and 8
        rows += [
            Row(st, "DL-ESTABLISH-REQ", "reestablish_l3", AWAITING_ESTABLISHMENT),
            Row(st, "DL-RELEASE-REQ", "release", AWAITING_RELEASE),
            Row(st, "SABME", "reset_sabme", MULTIPLE_FRAME_ESTABLISHED),
            Row(st, "DISC", "disc_release", TEI_ASSIGNED),
            Row(st, "UA", "mdl_error_cd"),
            Row(st, "DM", "dm_mfe"),
            Row(st, "FRMR", "frmr", AWAITING_ESTABLISHMENT),
            Row(st, "INVALID", "invalid_frame", AWAITING_ESTABLISHMENT),
        ]
    for st in STATES:
        if st not in (TEI_UNASSIGNED, ASSIGN_AWAITING_TEI, ESTABLISH_AWAITING_TEI):
            rows += [Row(st, "UI", "ui_frame"), Row(st, "DL-UNITDATA-REQ", "unitdata_request"),
                     Row(st, "MDL-REMOVE-REQ", "remove", TEI_UNASSIGNED)]
    return rows


FSM = FsmTable("Q.921", STATES, _rows())


class DataLink(Machine):
    """One Q.921 data link (SAPI, TEI) on one D-channel."""

    fsm = FSM

    def __init__(self, scheduler: Scheduler, send: Callable[[bytes], None], user: LinkUser, *,
                 network: bool, sapi: int = 0, tei: int | None = 0,
                 timers: TimerTable | None = None,
                 request_tei: Callable[[DataLink], None] | None = None):
        self.scheduler = scheduler
        self.send_octets = send
        self.user = user
        self.network = bool(network)
        self.sapi = sapi
        self.tei = tei
        self.table = timers or lapd_table()
        # T200 and T203 restart with nearly every frame (5.6.1, 5.9) and rarely expire
        self.timers = Timers(self.table, scheduler, lazy=("T200", "T203"))
        self.k = int(self.table.values["k"])
        self.n200 = int(self.table.values["N200"])
        self.n201 = int(self.table.values["N201"])
        self.request_tei_cb = request_tei
        self.state = TEI_ASSIGNED if tei is not None else TEI_UNASSIGNED
        self.vs = self.va = self.vr = 0
        self.rc = 0
        self.peer_busy = self.reject_exception = self.ack_pending = self.l3_initiated = False
        # set while a batch of frames received together is processed: one RR at its end
        # acknowledges them all unless layer 3 answered (Stack.receive_frames)
        self.defer_ack = False
        self.queue: deque[bytes] = deque()
        self.unitdata_queue: deque[bytes] = deque()
        self.unacked: deque[tuple[int, bytes]] = deque()
        self._indications: list[tuple] = []
        self.errors: dict[str, int] = {}
        self.frames_in = self.frames_out = 0

    # ---- primitives from layer 3 / management -------------------------------------------
    def dl_establish(self) -> None:
        self._run("DL-ESTABLISH-REQ")

    def dl_release(self) -> None:
        self._run("DL-RELEASE-REQ")

    def dl_data(self, info: bytes) -> None:
        """DL-DATA-REQUEST: acknowledged transfer of a layer-3 message."""
        self.dispatch("DL-DATA-REQ", bytes(info))
        if self._indications or self.ack_pending:
            self._flush()

    def dl_unitdata(self, info: bytes) -> None:
        self._run("DL-UNITDATA-REQ", bytes(info))

    def mdl_assign(self, tei: int) -> None:
        self._run("MDL-ASSIGN-REQ", tei)

    def mdl_remove(self) -> None:
        self._run("MDL-REMOVE-REQ")

    def mdl_error_response(self) -> None:
        """TEI assignment failed (N202 identity requests unanswered or denied)."""
        self._run("MDL-ERROR-RSP")

    @property
    def established(self) -> bool:
        return self.state in (MULTIPLE_FRAME_ESTABLISHED, TIMER_RECOVERY)

    def receive(self, frame: Frame) -> None:
        """A decoded frame for this SAPI/TEI."""
        self.frames_in += 1
        event = frame.kind
        if event == "XID":
            return  # XID is not used by Q.921 procedures; ignored
        if event in ("I", "UI") and len(frame.info) > self.n201:
            event = "INVALID"
        self.dispatch(event, frame)
        if self._indications or self.ack_pending:
            self._flush()

    def receive_invalid(self, error: LapdDecodeError) -> None:
        """A frame that failed to decode (5.8.5): in multiple-frame states, re-establish."""
        self._run("INVALID", error)

    # ---- machinery -----------------------------------------------------------------------
    def _run(self, event: str, *args) -> None:
        """Dispatch, then deliver the indications it queued (the hot primitives and
        ``receive`` do the same two steps in line)."""
        self.dispatch(event, *args)
        self._flush()

    def unexpected(self, event: str, *args) -> None:
        """Events with no row in this state are ignored (Q.921 SDL: no transition)."""

    def _flush(self) -> None:
        indications = self._indications
        while indications:
            name, args = indications.pop(0)
            getattr(self.user, name)(self, *args)
        if self.ack_pending and not self.defer_ack:
            self.send_ack()

    def send_ack(self) -> None:
        """Acknowledge received I frames with RR unless an I frame sent since carried
        N(R) already (5.6.2.1)."""
        if self.ack_pending and self.established:
            self.ack_pending = False
            self._s("RR", False, command=False)

    def _indicate(self, name: str, *args) -> None:
        self._indications.append((name, args))

    def _mdl_error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1
        self._indicate("mdl_error_ind", code)

    def _tx(self, octets: bytes) -> None:
        self.frames_out += 1
        self.send_octets(octets)

    def _cr(self, command: bool) -> bool:
        """C/R bit to send (Q.921 table 1: commands from the network side carry C/R=1)."""
        return self.network == command

    def _is_command(self, frame: Frame) -> bool:
        return frame.cr != self.network

    def _u(self, kind: str, pf: bool, command: bool) -> None:
        self._tx(codec.encode_fields(self.sapi, self.network == command, self.tei, kind, pf))

    def _s(self, kind: str, pf: bool, command: bool) -> None:
        self._tx(codec.encode_fields(self.sapi, self.network == command, self.tei, kind, pf,
                                     None, self.vr))

    def _start(self, name: str) -> None:
        self.timers.start(name, self._run, name)

    def _restart_t203(self) -> None:
        """(Re)start T203 (5.6.1)."""
        self._start("T203")

    def _clear_exceptions(self) -> None:
        self.peer_busy = self.reject_exception = self.ack_pending = False

    def _establish_data_link(self) -> None:
        """Q.921 SDL procedure 'establish data link': SABME P=1, T200 restarted."""
        self._clear_exceptions()
        self.rc = 0
        self._u("SABME", True, command=True)
        self.timers.stop("T203")
        self._start("T200")

    def _reset_variables(self) -> None:
        self.vs = self.va = self.vr = 0
        self.unacked.clear()

    def _discard_queue(self) -> None:
        self.queue.clear()
        self.unacked.clear()

    # ---- TEI assignment (5.3) ------------------------------------------------------------
    def request_tei(self) -> None:
        if self.request_tei_cb is not None:
            self.request_tei_cb(self)

    def request_tei_unitdata(self, info: bytes) -> None:
        self.unitdata_queue.append(info)
        self.request_tei()

    def request_tei_data(self, info: bytes) -> None:
        self.queue.append(info)
        self.request_tei()

    def assign(self, tei: int) -> None:
        self.tei = tei

    def assign_send_unitdata(self, tei: int) -> None:
        self.tei = tei
        while self.unitdata_queue:
            self.unitdata_request(self.unitdata_queue.popleft())

    def assign_establish(self, tei: int) -> None:
        self.assign_send_unitdata(tei)
        self.l3_initiated = True
        self._establish_data_link()

    def queue_unitdata(self, info: bytes) -> None:
        self.unitdata_queue.append(info)

    def tei_refused(self) -> None:
        self.unitdata_queue.clear()

    def tei_refused_release(self) -> None:
        self.unitdata_queue.clear()
        self.queue.clear()
        self._indicate("dl_release_ind")

    def remove(self) -> None:
        """MDL-REMOVE (5.3.5): the TEI is withdrawn; the link is released."""
        was_up = self.state != TEI_ASSIGNED
        self.timers.stop_all()
        self._discard_queue()
        self.tei = None
        if was_up:
            self._indicate("dl_release_ind")

    # ---- establishment and release (5.5) -------------------------------------------------
    def establish_l3(self) -> None:
        self.l3_initiated = True
        self._establish_data_link()

    def set_l3_initiated(self) -> None:
        self.l3_initiated = True

    def queue_establish(self, info: bytes) -> None:
        self.queue.append(info)
        self.establish_l3()

    def queue_data(self, info: bytes) -> None:
        self.queue.append(info)

    def release_confirm(self) -> None:
        self._indicate("dl_release_conf")

    def accept_sabme(self, frame: Frame) -> str | None:
        if not self._is_command(frame):
            return TEI_ASSIGNED
        self._u("UA", frame.pf, command=False)
        self._clear_exceptions()
        self._reset_variables()
        self._indicate("dl_establish_ind")
        self.timers.stop("T200")
        self._restart_t203()
        self.state = MULTIPLE_FRAME_ESTABLISHED
        self._send_pending()
        return None

    def send_ua(self, frame: Frame) -> None:
        if self._is_command(frame):
            self._u("UA", frame.pf, command=False)

    def send_dm(self, frame: Frame) -> None:
        if self._is_command(frame):
            self._u("DM", frame.pf, command=False)

    def dm_if_polled(self, frame: Frame) -> None:
        if self._is_command(frame) and frame.pf:
            self._u("DM", True, command=False)

    def mdl_error_cd(self, frame: Frame) -> None:
        self._mdl_error("C" if frame.pf else "D")

    def ua_establish(self, frame: Frame) -> str | None:
        if not frame.pf:
            self._mdl_error("D")
            return AWAITING_ESTABLISHMENT
        if self.l3_initiated:
            self.l3_initiated = False
            self._indicate("dl_establish_conf")
        else:
            self._indicate("dl_establish_ind")
        self._reset_variables()
        self.timers.stop("T200")
        self._restart_t203()
        self.state = MULTIPLE_FRAME_ESTABLISHED
        self._send_pending()
        return MULTIPLE_FRAME_ESTABLISHED

    def dm_establish(self, frame: Frame) -> str | None:
        if not frame.pf:
            return AWAITING_ESTABLISHMENT  # DM F=0 while establishing: ignored
        self._discard_queue()
        self.timers.stop("T200")
        self._indicate("dl_release_ind")
        return None

    def t200_establish(self) -> str | None:
        if self.rc >= self.n200:
            self._mdl_error("G")
            self._discard_queue()
            self._indicate("dl_release_ind")
            return TEI_ASSIGNED
        self.rc += 1
        self._u("SABME", True, command=True)
        self._start("T200")
        return None

    def release(self) -> None:
        self._discard_queue()
        self.rc = 0
        self._u("DISC", True, command=True)
        self.timers.stop("T203")
        self._start("T200")

    def ua_release(self, frame: Frame) -> str | None:
        if not frame.pf:
            self._mdl_error("D")
            return AWAITING_RELEASE
        self.timers.stop("T200")
        self._indicate("dl_release_conf")
        return None

    def t200_release(self) -> str | None:
        if self.rc >= self.n200:
            self._mdl_error("H")
            self._indicate("dl_release_conf")
            return TEI_ASSIGNED
        self.rc += 1
        self._u("DISC", True, command=True)
        self._start("T200")
        return None

    def reestablish_l3(self) -> None:
        self._discard_queue()
        self.establish_l3()

    def reset_sabme(self, frame: Frame) -> str | None:
        """SABME in 7/8 (5.5.3.1): link reset, unacknowledged frames are lost."""
        if not self._is_command(frame):
            return self.state
        self._u("UA", frame.pf, command=False)
        self._clear_exceptions()
        self._mdl_error("F")
        if self.vs != self.va:
            self.unacked.clear()
            self._indicate("dl_establish_ind")
        self.timers.stop("T200")
        self._restart_t203()
        self.vs = self.va = self.vr = 0
        self.state = MULTIPLE_FRAME_ESTABLISHED
        self._send_pending()
        return None

    def disc_release(self, frame: Frame) -> str | None:
        if not self._is_command(frame):
            return self.state
        self._discard_queue()
        self._u("UA", frame.pf, command=False)
        self.timers.stop_all()
        self._indicate("dl_release_ind")
        return None

    def dm_mfe(self, frame: Frame) -> str | None:
        if frame.pf:
            self._mdl_error("B")
            return self.state
        self._mdl_error("E")
        self._reestablish()
        return AWAITING_ESTABLISHMENT

    def frmr(self, frame: Frame) -> None:
        self._mdl_error("K")
        self._reestablish()

    def invalid_frame(self, *_: object) -> None:
        self._mdl_error("L")
        self._reestablish()

    def _reestablish(self) -> None:
        """Link-initiated re-establishment: unacknowledged frames are lost, the
        queue of frames not yet sent is kept, layer 3 learns with DL-ESTABLISH-IND."""
        self.unacked.clear()
        self.l3_initiated = False
        self._establish_data_link()

    # ---- information transfer (5.6) ------------------------------------------------------
    def data_request(self, info: bytes) -> None:
        self.queue.append(info)
        self._send_pending()

    def _send_pending(self) -> None:
        if not self.queue or self.state != MULTIPLE_FRAME_ESTABLISHED or self.peer_busy:
            return
        cr = self.network  # C/R of a command (Q.921 table 1)
        while self.queue and (self.vs - self.va) % 128 < self.k:
            info = self.queue.popleft()
            self._tx(codec.encode_fields(self.sapi, cr, self.tei, "I", False, self.vs, self.vr,
                                         info))
            self.unacked.append((self.vs, info))
            self.vs = (self.vs + 1) % 128
            self.ack_pending = False
            if not self.timers.running("T200"):
                self.timers.stop("T203")
                self._start("T200")

    def _nr_valid(self, nr: int) -> bool:
        return (nr - self.va) % 128 <= (self.vs - self.va) % 128

    def _ack(self, nr: int) -> None:
        while self.unacked and self.unacked[0][0] != nr:
            self.unacked.popleft()
        self.va = nr

    def _nr_error(self) -> str:
        self._mdl_error("J")
        self._reestablish()
        return AWAITING_ESTABLISHMENT

    def _retransmit(self) -> None:
        """Invoke retransmission (5.6.4): resend every unacknowledged frame from V(A)."""
        self.queue.extendleft(info for _, info in reversed(self.unacked))
        self.unacked.clear()
        self.vs = self.va

    def i_frame(self, frame: Frame) -> str | None:
        if frame.cr == self.network:  # a response: I frames are commands only
            return self.state
        if frame.ns == self.vr:
            self.vr = (self.vr + 1) % 128
            self.reject_exception = False
            self._indications.append(("dl_data_ind", (frame.info,)))
            if frame.pf:
                self._s("RR", True, command=False)
                self.ack_pending = False
            else:
                self.ack_pending = True
        elif self.reject_exception:
            if frame.pf:
                self._s("RR", True, command=False)
        else:
            self.reject_exception = True
            self._s("REJ", frame.pf, command=False)
        va = self.va
        if (frame.nr - va) % 128 > (self.vs - va) % 128:  # N(R) not valid (5.8.2)
            return self._nr_error()
        if self.state == TIMER_RECOVERY:
            self._ack(frame.nr)
            return None
        self._update_va(frame.nr)
        if self.queue:
            self._send_pending()
        return None

    def _update_va(self, nr: int) -> None:
        """N(R) processing in state 7 (5.6.3.2)."""
        if self.peer_busy:
            self._ack(nr)
        elif nr == self.vs:
            self._ack(nr)
            self.timers.stop("T200")
            self._restart_t203()
        elif nr != self.va:
            self._ack(nr)
            self._start("T200")

    def _s_common(self, frame: Frame) -> bool:
        """Poll answer and busy condition of a received S frame; True if it was a command."""
        command = self._is_command(frame)
        if command and frame.pf:
            self._s("RR", True, command=False)  # enquiry response
            self.ack_pending = False
        self.peer_busy = frame.kind == "RNR"
        return command

    def s_frame(self, frame: Frame) -> str | None:
        command = self._s_common(frame)
        if not command and frame.pf:
            self._mdl_error("A")
        if not self._nr_valid(frame.nr):
            return self._nr_error()
        if frame.kind == "REJ":
            self._ack(frame.nr)
            self.timers.stop("T200")
            self._restart_t203()
            self._retransmit()
        elif frame.kind == "RNR":
            self._ack(frame.nr)
            self._start("T200")
        else:
            self._update_va(frame.nr)
        if self.queue:
            self._send_pending()
        return None

    def _enquiry(self) -> None:
        """Transmit enquiry (5.6.7): RR command with P=1, T200 started."""
        self._s("RR", True, command=True)
        self.ack_pending = False
        self._start("T200")

    def t200_mfe(self) -> None:
        self.rc = 0
        self._enquiry()
        self.rc += 1

    def t203_mfe(self) -> None:
        self.rc = 0
        self._enquiry()

    def t200_recovery(self) -> str | None:
        if self.rc >= self.n200:
            self._mdl_error("I")
            self._reestablish()
            return AWAITING_ESTABLISHMENT
        self._enquiry()
        self.rc += 1
        return None

    def s_frame_recovery(self, frame: Frame) -> str | None:
        command = self._s_common(frame)
        if not self._nr_valid(frame.nr):
            return self._nr_error()
        self._ack(frame.nr)
        if not command and frame.pf:
            self.timers.stop("T200")
            if frame.kind == "RNR":
                self._start("T200")
            else:
                self._restart_t203()
            self._retransmit()
            self.state = MULTIPLE_FRAME_ESTABLISHED
            self._send_pending()
            return MULTIPLE_FRAME_ESTABLISHED
        return None

    # ---- unacknowledged transfer ---------------------------------------------------------
    def unitdata_request(self, info: bytes) -> None:
        self._tx(codec.encode_fields(self.sapi, self._cr(True),
                                     codec.TEI_GROUP if self.network else self.tei,
                                     "UI", False, None, None, info))

    def ui_frame(self, frame: Frame) -> None:
        self._indicate("dl_unitdata_ind", frame.info)

    def status(self) -> dict:
        return {"sapi": self.sapi, "tei": self.tei, "state": self.state, "vs": self.vs,
                "va": self.va, "vr": self.vr, "queued": len(self.queue),
                "unacked": len(self.unacked), "peer_busy": self.peer_busy,
                "timers": self.timers.remaining(), "mdl_errors": dict(self.errors)}
