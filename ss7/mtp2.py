"""MTP2 signalling link (Q.703): signal units, initial alignment, error monitoring, basic error
correction, processor outage and congestion.

Transport model: the HDLC layer below (``timeslot.hdlc.HdlcBank`` with ``filter_repeats`` or the
hdlc-socket adapter in :mod:`ss7.stack`) delivers only *changes* of the repeated FISU/LSSU stream
plus every MSU, and repeats the last unit we sent until we send another.  So this link sends a
status unit only when its content changes, and it remembers the status the peer is currently
sending (``rx_status``) so that state entries (e.g. ALIGNED READY) see a FISU that arrived earlier.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from core.clock import Scheduler
from core.errors import DecodeError
from core.fsm import FsmTable, Machine, Row
from core.timers import Timers
from ss7.bitfields import BitFields
from ss7.timers import MTP2_TIMERS


class Mtp2DecodeError(DecodeError):
    """A signal unit that violates Q.703 2.2/2.3 (length, LI)."""


# Q.703 2.2 figure 3: BSN (7) BIB, FSN (7) FIB, LI (6) + 2 spare, bit 1 first.
SU_HEADER = BitFields(3, ("bsn", 7), ("bib", 1), ("fsn", 7), ("fib", 1), ("li", 6),
                      ("spare", 2))

# Q.703 11.1.2: status field values (bits CBA)
LSSU_NAMES = {0: "SIO", 1: "SIN", 2: "SIE", 3: "SIOS", 4: "SIPO", 5: "SIB"}
LSSU_CODES = {v: k for k, v in LSSU_NAMES.items()}
LI_MAX = 63  # Q.703 2.3.3: LI = 63 for any SIF longer than 62 octets
SIF_MAX = 272
# The receive path reads the sequence octets through tables derived from SU_HEADER:
# octet 1 -> (BSN, BIB), octet 2 -> (FSN, FIB).
_BSN_BIB = tuple((h["bsn"], h["bib"]) for h in
                 (SU_HEADER.parse_bytes(bytes((i, 0, 0))) for i in range(256)))
_FSN_FIB = tuple((h["fsn"], h["fib"]) for h in
                 (SU_HEADER.parse_bytes(bytes((0, i, 0))) for i in range(256)))
# ... and builds them from per-octet tables of SU_HEADER: (BSN, BIB), (FSN, FIB) and LI octets
_OCTET_BSN = {(n, b): SU_HEADER.build_bytes({"bsn": n, "bib": b})[0]
              for n in range(128) for b in (0, 1)}
_OCTET_FSN = {(n, b): SU_HEADER.build_bytes({"fsn": n, "fib": b})[1]
              for n in range(128) for b in (0, 1)}
_OCTET_LI = tuple(SU_HEADER.build_bytes({"li": li})[2] for li in range(LI_MAX + 1))


def su_kind(frame: bytes) -> str:
    """Kind of a signal unit (FISU, MSU or the LSSU status name), its length checked against
    LI (Q.703 2.2, 2.3.3); raises :class:`Mtp2DecodeError`."""
    n = len(frame)
    if n < 3:
        raise Mtp2DecodeError("signal unit shorter than 3 octets", offset=n, field="header")
    li = frame[2] & 0x3F
    if li == 0:
        if n != 3:
            raise Mtp2DecodeError("FISU with octets after LI", offset=3, field="li")
        return "FISU"
    if li < 3:
        if n - 3 != li:
            raise Mtp2DecodeError(f"LSSU length {n - 3} != LI {li}", offset=3, field="li")
        kind = LSSU_NAMES.get(frame[3] & 0x07)
        if kind is None:
            raise Mtp2DecodeError(f"unknown LSSU status {frame[3] & 7}", offset=3,
                                  field="status")
        return kind
    if (li < LI_MAX and n - 3 != li) or (li == LI_MAX and n - 3 < LI_MAX):
        raise Mtp2DecodeError(f"MSU length {n - 3} disagrees with LI {li}", offset=2, field="li")
    if n - 3 > SIF_MAX + 1:
        raise Mtp2DecodeError("MSU longer than 273 octets", offset=3 + SIF_MAX + 1, field="sif")
    return "MSU"


def decode_su(frame: bytes) -> dict[str, Any]:
    """Split a signal unit (no flags, no FCS) into header fields and kind (Q.703 2.2, 2.3.3)."""
    kind = su_kind(frame)
    h = SU_HEADER.parse_bytes(frame[:3])
    return {"kind": kind, "bsn": h["bsn"], "bib": h["bib"], "fsn": h["fsn"], "fib": h["fib"],
            "li": h["li"], "body": bytes(frame[3:])}


def encode_su(bsn: int, bib: int, fsn: int, fib: int, body: bytes = b"") -> bytes:
    """Build a signal unit; LI follows from the body length (Q.703 2.3.3)."""
    li = len(body)
    try:
        head = bytes((_OCTET_BSN[bsn, bib], _OCTET_FSN[fsn, fib], _OCTET_LI[min(li, LI_MAX)]))
    except (KeyError, TypeError):  # out of range: let the declaration say which field
        head = SU_HEADER.build_bytes({"bsn": bsn, "bib": bib, "fsn": fsn, "fib": fib,
                                      "li": min(li, LI_MAX)})
    return head + bytes(body) if li else head


def lssu(status: str, bsn: int = 127, bib: int = 1, fsn: int = 127, fib: int = 1) -> bytes:
    return encode_su(bsn, bib, fsn, fib, bytes((LSSU_CODES[status],)))


# ---------------------------------------------------------------------------------------------
# Initial alignment control, Q.703 7 and figure 9 (IAC).
IAC_FSM = FsmTable("mtp2.iac", ["IDLE", "NOT_ALIGNED", "ALIGNED", "PROVING"], [
    Row("IDLE", "start", "iac_start", "NOT_ALIGNED"),
    Row("NOT_ALIGNED", "rx_SIO", "iac_aligned", "ALIGNED"),
    Row("NOT_ALIGNED", "rx_SIN", "iac_aligned", "ALIGNED"),
    Row("NOT_ALIGNED", "rx_SIE", "iac_aligned_emergency", "ALIGNED"),
    Row("NOT_ALIGNED", "emergency", "iac_set_emergency"),
    Row("NOT_ALIGNED", "T2", "iac_fail", "IDLE"),
    Row("ALIGNED", "rx_SIN", "iac_prove", "PROVING"),
    Row("ALIGNED", "rx_SIE", "iac_prove_emergency", "PROVING"),
    Row("ALIGNED", "emergency", "iac_aligned_emergency"),
    Row("ALIGNED", "rx_SIOS", "iac_fail", "IDLE"),
    Row("ALIGNED", "T3", "iac_fail", "IDLE"),
    Row("PROVING", "rx_SIO", "iac_back_to_aligned", "ALIGNED"),
    Row("PROVING", "rx_SIOS", "iac_fail", "IDLE"),
    Row("PROVING", "rx_SIE", "iac_to_emergency"),
    Row("PROVING", "emergency", "iac_to_emergency"),
    Row("PROVING", "T4", "iac_complete", "IDLE"),
    Row("PROVING", "aerm_exceeded", "iac_abort_proving"),
    Row("*", "stop", "iac_stop", "IDLE"),
])


class InitialAlignment(Machine):
    """IAC of one link (Q.703 7): T2, T3, T4 (Pn/Pe), AERM thresholds Tin=4/Tie=1, M=5 trials."""

    fsm = IAC_FSM
    M = 5  # Q.703 7.3: maximum number of proving periods

    def __init__(self, link: Mtp2Link):
        self.state = "IDLE"
        self.link = link
        self.emergency = False
        self.further_proving = False
        self.cp = 0

    def unexpected(self, event: str, *args: Any) -> None:
        """Signal units not named in the IAC SDL for the current state are ignored (Q.703 7)."""

    def iac_start(self) -> None:
        self.cp = 0
        self.link.send_status("SIO")
        self.link.timers.start("T2", self.dispatch, "T2")

    def iac_set_emergency(self) -> None:
        self.emergency = True

    def _aligned(self) -> None:
        self.link.timers.stop("T2")
        self.link.send_status("SIE" if self.emergency else "SIN")
        self.link.timers.start("T3", self.dispatch, "T3")

    def iac_aligned(self) -> None:
        self._aligned()

    def iac_aligned_emergency(self) -> None:
        self.emergency = True
        self._aligned()

    def _start_proving(self) -> None:
        self.link.timers.stop("T3")
        self.link.aerm_start(1 if self.emergency else 4)  # Q.703 10.3: Tie / Tin
        self.link.timers.start("T4e" if self.emergency else "T4n", self.dispatch, "T4")
        self.link.t4_name = "T4e" if self.emergency else "T4n"

    def iac_prove(self) -> None:
        self._start_proving()

    def iac_prove_emergency(self) -> None:
        self.emergency = True
        self._start_proving()

    def iac_to_emergency(self) -> None:
        if not self.emergency:
            self.emergency = True
            self.link.send_status("SIE")
            self._start_proving()

    def iac_back_to_aligned(self) -> None:
        self.link.timers.stop(self.link.t4_name)
        self.link.aerm_stop()
        self._aligned()

    def iac_abort_proving(self) -> str | None:
        self.cp += 1
        self.link.timers.stop(self.link.t4_name)
        if self.cp >= self.M:
            self.iac_fail()
            return "IDLE"
        self._start_proving()  # Q.703 7.3 d): further proving
        return None

    def iac_complete(self) -> None:
        self.link.aerm_stop()
        self.link.lsc("alignment_complete")

    def iac_fail(self) -> None:
        self.iac_stop()
        self.link.lsc("alignment_not_possible")

    def iac_stop(self) -> None:
        for t in ("T2", "T3", "T4n", "T4e"):
            self.link.timers.stop(t)
        self.link.aerm_stop()


# Link state control, Q.703 figures 7-8 (LSC).
LSC_FSM = FsmTable("mtp2.lsc", [
    "OUT_OF_SERVICE", "INITIAL_ALIGNMENT", "ALIGNED_READY", "ALIGNED_NOT_READY", "IN_SERVICE",
    "PROCESSOR_OUTAGE"], [
    Row("OUT_OF_SERVICE", "start", "lsc_start", "INITIAL_ALIGNMENT"),
    Row("OUT_OF_SERVICE", "emergency", "lsc_emergency"),
    *(Row("OUT_OF_SERVICE", e) for e in ("rx_SIO", "rx_SIN", "rx_SIE", "rx_SIOS", "T1",
                                         "link_failure", "stop")),
    Row("INITIAL_ALIGNMENT", "alignment_complete", "lsc_aligned_ready"),
    Row("INITIAL_ALIGNMENT", "alignment_not_possible", "lsc_out_of_service", "OUT_OF_SERVICE"),
    Row("INITIAL_ALIGNMENT", "emergency", "lsc_emergency"),
    Row("ALIGNED_READY", "rx_FISU", "lsc_in_service", "IN_SERVICE"),
    Row("ALIGNED_READY", "rx_MSU", "lsc_in_service", "IN_SERVICE"),
    Row("ALIGNED_READY", "rx_SIPO", "lsc_remote_po", "PROCESSOR_OUTAGE"),
    Row("ALIGNED_READY", "local_po", "lsc_local_po", "ALIGNED_NOT_READY"),
    Row("ALIGNED_NOT_READY", "rx_FISU", "lsc_in_service_po", "PROCESSOR_OUTAGE"),
    Row("ALIGNED_NOT_READY", "rx_MSU", "lsc_in_service_po", "PROCESSOR_OUTAGE"),
    Row("ALIGNED_NOT_READY", "local_po_recovered", "lsc_fisu", "ALIGNED_READY"),
    Row("IN_SERVICE", "rx_SIPO", "lsc_remote_po", "PROCESSOR_OUTAGE"),
    Row("IN_SERVICE", "local_po", "lsc_local_po", "PROCESSOR_OUTAGE"),
    Row("PROCESSOR_OUTAGE", "rx_FISU", "lsc_remote_po_recovered"),
    Row("PROCESSOR_OUTAGE", "rx_MSU", "lsc_remote_po_recovered"),
    Row("PROCESSOR_OUTAGE", "local_po_recovered", "lsc_local_po_recovered"),
    Row("PROCESSOR_OUTAGE", "local_po", "lsc_local_po"),
    Row("*", "rx_SIO", "lsc_link_failure", "OUT_OF_SERVICE"),
    Row("*", "rx_SIN", "lsc_link_failure", "OUT_OF_SERVICE"),
    Row("*", "rx_SIE", "lsc_link_failure", "OUT_OF_SERVICE"),
    Row("*", "rx_SIOS", "lsc_link_failure", "OUT_OF_SERVICE"),
    Row("*", "T1", "lsc_link_failure", "OUT_OF_SERVICE"),
    Row("*", "link_failure", "lsc_link_failure", "OUT_OF_SERVICE"),
    Row("*", "stop", "lsc_stop", "OUT_OF_SERVICE"),
])

# events the IAC, not the LSC, handles while aligning
_IAC_EVENTS = frozenset({"rx_SIO", "rx_SIN", "rx_SIE", "rx_SIOS"})
# states in which the link sends FISUs between MSUs (Q.703 figure 8)
_FISU_STATES = frozenset({"ALIGNED_READY", "IN_SERVICE", "PROCESSOR_OUTAGE"})


class Mtp2Link(Machine):
    """One signalling link terminal (Q.703).

    ``send(frame)`` hands a signal unit to the HDLC layer; ``receive(frame)`` takes one from it.
    Upward indications go to ``listener`` methods: ``mtp2_in_service(link)``,
    ``mtp2_out_of_service(link, reason)``, ``mtp2_msu(link, sio_sif)``,
    ``mtp2_remote_po(link, active)``, ``mtp2_congestion(link, active)``.
    """

    fsm = LSC_FSM
    WINDOW = 127  # Q.703 5.2.2: at most 127 unacknowledged MSUs
    T_SUERM, D_SUERM = 64, 256  # Q.703 10.2
    OCTETS_PER_ERROR = 16  # Q.703 10.2: octet counting mode, one error per N octets

    def __init__(self, scheduler: Scheduler, send: Callable[[bytes], Any], listener: Any = None,
                 *, name: str = "link0", timers: dict[str, float] | None = None,
                 emergency: bool = False):
        self.state = "OUT_OF_SERVICE"
        self.name = name
        self.send_frame = send
        self.listener = listener
        self.scheduler = scheduler
        # T7 restarts with every acknowledgement and rarely expires (Q.703 5.3.1)
        self.timers = Timers(MTP2_TIMERS.with_overrides(timers or {}), scheduler, lazy=("T7",))
        self._fisu_due = False
        self.iac = InitialAlignment(self)
        self.iac.emergency = emergency
        self.t4_name = "T4n"
        self.rx_status: str | None = None  # what the peer is currently repeating
        self._tx_last: bytes | None = None
        self.counters = {"su_in": 0, "su_out": 0, "msu_in": 0, "msu_out": 0, "su_errors": 0,
                         "retransmitted": 0, "nacks_sent": 0, "link_failures": 0}
        self._reset_sequence()
        self.aerm_threshold: int | None = None
        self.aerm_count = 0
        self.suerm_count = 0
        self.suerm_good = 0
        self.local_busy = False
        self.remote_busy = False
        self.local_po = False
        self.remote_po = False
        self.failure_reason: str | None = None

    def unexpected(self, event: str, *args: Any) -> None:
        """A request the LSC does not take in this state (e.g. start while in service) is
        ignored, as the Q.703 SDL does."""

    # ---- sequence state (Q.703 5) -------------------------------------------------------
    def _reset_sequence(self) -> None:
        self.fsnt = 127      # FSN of the last MSU sent
        self.fib = 1
        self.fsnx = 0        # FSN expected next
        self.bib = 1
        self.fsnf = 0        # oldest FSN in the retransmission buffer
        self.rtb: deque[tuple[int, bytes]] = deque()  # (fsn, sio+sif) unacknowledged
        self.tb: deque[bytes] = deque()                # waiting for the window
        self.rx_fib_expected = 1
        self.abnormal_bsn = 0
        self.abnormal_fib = 0

    # ---- MTP3 interface ------------------------------------------------------------------
    def start(self) -> None:
        self.dispatch("start")

    def stop(self) -> None:
        self.dispatch("stop")

    def set_emergency(self, on: bool = True) -> None:
        if on:
            self.dispatch("emergency")
            if self.iac.state != "IDLE":
                self.iac.dispatch("emergency")
        else:
            self.iac.emergency = False

    def set_local_processor_outage(self, on: bool) -> None:
        self.dispatch("local_po" if on else "local_po_recovered")

    def set_receive_congestion(self, on: bool) -> None:
        """Q.703 9.3: busy - send SIB every T5 while congested."""
        self.local_busy = on
        if on:
            self._send_sib()
        else:
            self.timers.stop("T5")
            self._send_fisu()

    @property
    def in_service(self) -> bool:
        return self.state == "IN_SERVICE"

    def send_msu(self, sio_sif: bytes) -> None:
        """Queue an MSU (SIO + SIF) for transmission (Q.703 5.2)."""
        if not 2 <= len(sio_sif) <= SIF_MAX + 1:
            raise ValueError(f"MSU body of {len(sio_sif)} octets (Q.703: 2..273)")
        self.tb.append(bytes(sio_sif))
        if self.state == "IN_SERVICE":
            self._transmit_queued()

    def bsnt(self) -> int:
        """BSN to tell the remote end at changeover: last accepted FSN (Q.704 5.3.1)."""
        return (self.fsnx - 1) & 0x7F

    def retrieve(self, fsnc: int) -> list[bytes]:
        """Q.704 5.4 retrieval: the MSUs the remote end has not accepted (those after FSNC, the
        BSNT it reported) followed by those never sent, in order; empties both buffers."""
        fsns = [f for f, _ in self.rtb]
        start = fsns.index(fsnc) + 1 if fsnc in fsns else 0
        out = [m for _, m in list(self.rtb)[start:]] + list(self.tb)
        self.rtb.clear()
        self.tb.clear()
        self.timers.stop("T7")
        return out

    # ---- transmission --------------------------------------------------------------------
    def _emit(self, frame: bytes) -> None:
        self.counters["su_out"] += 1
        self.send_frame(frame)

    def send_status(self, status: str) -> None:
        """Start repeating an LSSU (sent once: the HDLC layer repeats it)."""
        f = lssu(status, self.bsnt(), self.bib, self.fsnt, self.fib)
        if f != self._tx_last:
            self._tx_last = f
            self._emit(f)

    def _send_fisu(self) -> None:
        f = encode_su((self.fsnx - 1) & 0x7F, self.bib, self.fsnt, self.fib)
        if f != self._tx_last:
            self._tx_last = f
            self._emit(f)

    def _send_sib(self) -> None:
        self._tx_last = None
        self.send_status("SIB")
        self.timers.start("T5", self._send_sib)

    def _fisu_later(self) -> None:
        """The FISU that follows MSUs and acknowledges received ones (Q.703 5.2) goes out once
        the current burst has been handled: MSUs sent meanwhile carry the same BSN, so a burst
        costs one FISU, not one per unit."""
        if not self._fisu_due:
            self._fisu_due = True
            self.scheduler.call_later(0, self._flush_fisu)

    def _flush_fisu(self) -> None:
        self._fisu_due = False
        if not self.local_po and self.state in _FISU_STATES:
            self._send_fisu()

    def _transmit_queued(self) -> None:
        if self.remote_busy or self.local_po:
            return
        tb, rtb = self.tb, self.rtb
        if tb and len(rtb) < self.WINDOW:
            if not rtb:
                self._t7_start()
            bsn, bib, fib, send = (self.fsnx - 1) & 0x7F, self.bib, self.fib, self.send_frame
            sent = 0
            while tb and len(rtb) < self.WINDOW:
                body = tb.popleft()
                fsnt = self.fsnt = (self.fsnt + 1) & 0x7F
                rtb.append((fsnt, body))
                send(encode_su(bsn, bib, fsnt, fib, body))
                sent += 1
            counters = self.counters
            counters["msu_out"] += sent
            counters["su_out"] += sent
            self._tx_last = None
        self._fisu_later()

    def _retransmit(self) -> None:
        """Q.703 5.3.2: negative acknowledgement - invert FIB, resend the buffer in order."""
        self.fib ^= 1
        bsn = (self.fsnx - 1) & 0x7F
        for fsn, body in self.rtb:
            self.counters["retransmitted"] += 1
            self._emit(encode_su(bsn, self.bib, fsn, self.fib, body))
        self._tx_last = None
        self._transmit_queued()

    def _t7_start(self) -> None:
        """(Re)start T7, excessive delay of acknowledgement (Q.703 5.3.1)."""
        self.timers.start("T7", self._t7)

    def _t7(self) -> None:
        self.failure_reason = "T7 excessive delay of acknowledgement"
        self.dispatch("link_failure")

    # ---- reception -----------------------------------------------------------------------
    def receive(self, frame: bytes) -> None:
        """One signal unit from the HDLC layer (flags and FCS already removed)."""
        counters = self.counters
        counters["su_in"] += 1
        try:
            kind = su_kind(frame)
        except Mtp2DecodeError:
            self.rx_error()
            return
        good = self.suerm_good + 1  # Q.703 10.2: D = 256 good units take one off the count
        if good >= self.D_SUERM:
            good = 0
            if self.suerm_count:
                self.suerm_count -= 1
        self.suerm_good = good
        if self.remote_busy and kind != "SIB":
            self._remote_busy_ended()
        if kind == "FISU" or kind == "MSU":
            self.rx_status = "FISU"
            state = self.state
            if state != "IN_SERVICE":
                self._lsc_event("rx_" + kind)
                state = self.state
            if state == "IN_SERVICE" or state == "PROCESSOR_OUTAGE":
                if kind == "MSU":
                    counters["msu_in"] += 1
                    self._rx_sequence(frame, True)
                else:
                    self._rx_sequence(frame, False)
            return
        self.rx_status = kind
        if kind == "SIB":
            self._remote_busy()
            return
        self._lsc_event("rx_" + kind)

    def _remote_busy_ended(self) -> None:
        """Q.703 9.4: congestion abated, T7 supervises again."""
        self.remote_busy = False
        self.timers.stop("T6")
        if self.rtb:
            self._t7_start()
        if self.tb and self.state == "IN_SERVICE":
            self._transmit_queued()
        if self.listener is not None:
            self.listener.mtp2_congestion(self, False)

    def _lsc_event(self, event: str) -> None:
        if self.state == "INITIAL_ALIGNMENT" and event in _IAC_EVENTS:
            self.iac.dispatch(event)
        elif self.fsm.lookup(self.state, event) is not None:
            self.dispatch(event)

    def _rx_sequence(self, frame: bytes, msu: bool) -> None:
        """Q.703 5.2.2 / 5.3: acknowledgements, negative acknowledgements and acceptance."""
        bsn, bib = _BSN_BIB[frame[0]]
        if not self._ack(bsn):
            return
        if bib != self.fib:  # negative acknowledgement
            if self.rtb:
                self._retransmit()
            else:
                self.fib = bib
        if not msu:
            return
        fsn, fib = _FSN_FIB[frame[1]]
        if fib != self.bib:  # awaiting the retransmission we asked for: discard
            return
        if fsn == self.fsnx:
            self.fsnx = (fsn + 1) & 0x7F
            if self.state == "IN_SERVICE" and not self.local_po and self.listener is not None:
                self.listener.mtp2_msu(self, frame[3:])
            if self.tb and not self.remote_busy:
                self._transmit_queued()
            else:
                self._fisu_later()
        elif fsn != (self.fsnx - 1) & 0x7F:  # gap: request retransmission once
            self.bib ^= 1
            self.counters["nacks_sent"] += 1
            self._tx_last = None
            self._send_fisu()

    def _ack(self, bsn: int) -> bool:
        """Remove acknowledged MSUs; an impossible BSN twice running is a failure (5.3.1)."""
        rtb = self.rtb
        if not rtb and bsn == self.fsnt:  # nothing outstanding, nothing new: the usual FISU
            self.abnormal_bsn = 0
            return True
        first = rtb[0][0] if rtb else (self.fsnt + 1) & 0x7F
        acked = (bsn - first + 1) & 0x7F
        if acked > len(rtb):
            self.abnormal_bsn += 1
            if self.abnormal_bsn >= 2:
                self.failure_reason = "abnormal BSN received"
                self.dispatch("link_failure")
            return False
        self.abnormal_bsn = 0
        if acked:
            for _ in range(acked):
                rtb.popleft()
            if rtb:
                self._t7_start()
            else:
                self.timers.stop("T7")
            if self.tb:
                self._transmit_queued()
        return True

    def _remote_busy(self) -> None:
        """Q.703 9.4: remote congestion - stop T7, start T6 (not restarted by further SIBs)."""
        if not self.remote_busy:
            self.remote_busy = True
            self.timers.stop("T7")
            self.timers.start("T6", self._t6)
            if self.listener is not None:
                self.listener.mtp2_congestion(self, True)

    def _t6(self) -> None:
        self.failure_reason = "T6 remote congestion"
        self.dispatch("link_failure")

    # ---- error rate monitors (Q.703 10) ---------------------------------------------------
    def rx_error(self, count: int = 1) -> None:
        """An errored signal unit (bad FCS, bad length, abort) reported by DAEDR."""
        self.counters["su_errors"] += count
        if self.aerm_threshold is not None:
            self.aerm_count += count
            if self.aerm_count > self.aerm_threshold:
                self.aerm_count = 0
                self.iac.dispatch("aerm_exceeded")
            return
        if self.state in ("IN_SERVICE", "PROCESSOR_OUTAGE", "ALIGNED_READY", "ALIGNED_NOT_READY"):
            self.suerm_count += count
            if self.suerm_count >= self.T_SUERM:
                self.failure_reason = "SUERM threshold (64) exceeded"
                self.dispatch("link_failure")

    def octet_counting(self, octets: int) -> None:
        """Octet counting mode (Q.703 10.2.2): one error per 16 octets received."""
        if octets >= self.OCTETS_PER_ERROR:
            self.rx_error(octets // self.OCTETS_PER_ERROR)

    def aerm_start(self, threshold: int) -> None:
        self.aerm_threshold = threshold
        self.aerm_count = 0

    def aerm_stop(self) -> None:
        self.aerm_threshold = None

    # ---- LSC actions -----------------------------------------------------------------------
    def lsc(self, event: str) -> None:
        self.dispatch(event)

    def lsc_start(self) -> None:
        self._reset_sequence()
        self.suerm_count = self.suerm_good = 0
        self.failure_reason = None
        self.iac.dispatch("start")
        # the peer may already be repeating SIO/SIN/SIE (Q.703 7.2)
        if self.rx_status in ("SIO", "SIN", "SIE"):
            self.iac.dispatch("rx_" + self.rx_status)

    def lsc_emergency(self) -> None:
        self.iac.emergency = True

    def lsc_aligned_ready(self) -> str:
        self.timers.start("T1", self.dispatch, "T1")
        self._send_fisu()
        if self.rx_status == "FISU":
            self.lsc_in_service()
            return "IN_SERVICE"
        if self.rx_status == "SIPO":
            self.lsc_remote_po()
            return "PROCESSOR_OUTAGE"
        return "ALIGNED_READY"

    def lsc_in_service(self) -> None:
        self.timers.stop("T1")
        self.suerm_count = self.suerm_good = 0
        if self.listener is not None:
            self.listener.mtp2_in_service(self)
        self._transmit_queued()

    def lsc_in_service_po(self) -> None:
        self.timers.stop("T1")
        if self.listener is not None:
            self.listener.mtp2_in_service(self)

    def lsc_fisu(self) -> None:
        self.local_po = False
        self._send_fisu()

    def lsc_local_po(self) -> None:
        self.local_po = True
        self.timers.stop("T1")
        self.send_status("SIPO")

    def lsc_local_po_recovered(self) -> str:
        self.local_po = False
        self._tx_last = None
        self._send_fisu()
        return "PROCESSOR_OUTAGE" if self.remote_po else "IN_SERVICE"

    def lsc_remote_po(self) -> None:
        self.remote_po = True
        self.timers.stop("T1")
        if self.listener is not None:
            self.listener.mtp2_remote_po(self, True)

    def lsc_remote_po_recovered(self) -> str | None:
        if not self.remote_po:
            return None
        self.remote_po = False
        if self.listener is not None:
            self.listener.mtp2_remote_po(self, False)
        if self.local_po:
            return None
        self._transmit_queued()
        return "IN_SERVICE"

    def _go_out_of_service(self, reason: str) -> None:
        self.timers.stop_all()
        self.iac.state = "IDLE"
        self.aerm_stop()
        self.local_po = self.remote_po = self.remote_busy = False
        self.send_status("SIOS")
        if self.listener is not None:
            self.listener.mtp2_out_of_service(self, reason)

    def lsc_link_failure(self) -> None:
        self.counters["link_failures"] += 1
        self._go_out_of_service(self.failure_reason or f"received {self.rx_status} in {self.state}")

    def lsc_out_of_service(self) -> None:
        self._go_out_of_service("initial alignment not possible")

    def lsc_stop(self) -> None:
        self._go_out_of_service("stopped by MTP3")
