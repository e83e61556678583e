"""China TUP call and circuit control (Q.724 with the China national TUP, GF 001-9001).

One :class:`TupCircuit` per CIC, a :class:`core.fsm.Machine` over :data:`TUP_FSM`:
outgoing IAM/IAI (+ SAM/SAO), GRQ answered with GSM, ACM, answer ANC/ANN/ANU, unsuccessful
backward signals (SEC, CGC, NNC, ADI, CFL, SSB, UNN, LOS, SST, ACB, DPN, SLB, STB) cleared with
CLF; calling-party control of release (CLF -> RLG), called-party clear-back CBK and re-answer RAN;
reset RSC (answered by RLG); blocking BLO/BLA, UBL/UBA; group messages GRS/GRA and
MGB/MBA/MGU/MUA/HGB/HBA/HGU/HUA/SGB/SBA/SGU/SUA; dual seizure by the point-code rule (the higher
point code controls the even CICs, Q.724 8.3); the continuity check (Q.724 7): COT/CCF after
an IAM asking for it, on this or a previous circuit, repeat attempt on another circuit and
retest of the failed one with CCR.  Timers are rows of :data:`ss7.timers.TUP_TIMERS`.

The continuity equipment is the application's, through the interface the ISUP uses
(:meth:`TupListener.on_continuity`, :meth:`TupCircuit.continuity_result`), so the kernel's
``cti.continuity.ContinuityEquipment`` serves both.  No public text of the China
specification's continuity procedure was available: it follows Q.724.

The China national procedures (GF 001-9001; its text is not public, so they follow what
Q.724 and the message codes say - see docs/ss7.md): malicious call identification (GRQ asking
for the calling line identity with the malicious-call and hold indicators, answered by GSM;
MAL from the called side has the originating exchange record the call) with the hold of the
connection (the calling party's clear sends CCL and the circuit is held until the called party
clears back); the operator signal OPR (an operator re-rings the called party of an answered
call); metering pulse messages MPM (the pulses charged per unit charging time T_MPM from
answer, counted on the call for the application); and automatic congestion control ACC
(traffic toward the exchange that sent it is reduced by :class:`ss7.isup_congestion.
TrafficControl`, as for the ISUP; our own overload goes out in ACC).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.clock import Scheduler
from core.fsm import FsmTable, Machine, Row
from core.timers import Timers
from ss7 import tup_codec as T
from ss7.isup_congestion import CAUSE_CONGESTION, TrafficControl
from ss7.mtp3 import Mtp3
from ss7.mtp3_codec import SI_TUP
from ss7.timers import TUP_TIMERS

UNSUCCESSFUL = ("SEC", "CGC", "NNC", "ADI", "CFL", "SSB", "UNN", "LOS", "SST", "ACB", "DPN",
                "SLB", "STB")
ANSWERS = ("ANC", "ANN", "ANU")
GROUP_BLOCK = {  # request -> (acknowledgement, blocking?, kind)
    "MGB": ("MBA", True, "maintenance"), "MGU": ("MUA", False, "maintenance"),
    "HGB": ("HBA", True, "hardware"), "HGU": ("HUA", False, "hardware"),
    "SGB": ("SBA", True, "software"), "SGU": ("SUA", False, "software"),
}
OPERATOR_CATEGORIES = frozenset(range(1, 10))  # Q.723 3.2: operators (languages), national
ACC_LEVELS = (1, 2)  # GF 001-9001 ACC information: congestion level 1 or 2 (0, 3 spare)


class TupCongested(LookupError):
    """A new call refused because traffic toward ``dpc`` is reduced after its ACC
    (automatic congestion ``acc_level``); ``cause`` 42, switching equipment congestion."""

    def __init__(self, dpc: int, acc_level: int):
        self.dpc, self.acc_level, self.cause = dpc, acc_level, CAUSE_CONGESTION
        super().__init__(f"traffic toward {dpc} reduced (automatic congestion level "
                         f"{acc_level})")


class TupListener:
    """Application callbacks (no-ops here)."""

    def on_setup(self, call: TupCircuit) -> None: ...
    def on_digits(self, call: TupCircuit, digits: str) -> None: ...
    def on_alerting(self, call: TupCircuit) -> None: ...
    def on_answer(self, call: TupCircuit) -> None: ...
    def on_clear_back(self, call: TupCircuit) -> None: ...      # CBK: called party hung up
    def on_rejected(self, call: TupCircuit, signal: str) -> None: ...  # SSB, UNN, ...
    def on_release(self, call: TupCircuit) -> None: ...         # CLF received
    def on_idle(self, call: TupCircuit) -> None: ...
    def on_glare(self, call: TupCircuit) -> None: ...
    def on_reset(self, cics: list[int]) -> None: ...
    def on_blocking(self, cic: int, local: bool, remote: bool) -> None: ...
    def on_maintenance(self, cic: int, what: str) -> None: ...

    def on_continuity(self, call: TupCircuit, equipment: str | None) -> None:
        """Continuity check equipment for ``call``'s circuit (Q.724 7), as for the ISUP:
        ``"loop"`` - loop the circuit back (incoming); ``"transceiver"`` - send the 2000 Hz
        check tone and call ``call.continuity_result(ok)`` (outgoing); ``None`` -
        disconnect.  Without equipment the check fails when T_CCT expires."""

    def on_continuity_pending(self, call: TupCircuit) -> None:
        """An IAM asked for a continuity check (this or a previous circuit): the call is held
        until COT (then :meth:`on_setup`) or a failure (:meth:`on_release`).  A transit
        exchange may route onward already, with ``continuity_check=2`` (or
        ``awaiting_previous``), and relay the outcome with ``continuity_previous()``."""

    def on_repeat_attempt(self, call: TupCircuit, new: TupCircuit) -> None:
        """The outgoing call of ``call`` was repeated on circuit ``new`` (after backing off a
        dual seizure, or a failed continuity check)."""

    def on_malicious(self, call: TupCircuit) -> None:
        """Originating side: the called side identified ``call`` as malicious (MAL, or GRQ
        with the malicious-call indicator): record its calling and called numbers."""

    def on_calling_cleared(self, call: TupCircuit) -> None:
        """Terminating side: CCL - the calling party hung up but the connection is held
        (hold requested in GRQ) until the called party clears back."""

    def on_operator(self, call: TupCircuit) -> None:
        """Terminating side: OPR - the operator on the call asks to re-ring the called
        party (answer again with :meth:`TupCircuit.answer`: RAN after a clear-back)."""

    def on_metering(self, call: TupCircuit, pulses: int, total: int) -> None:
        """Originating side: ``pulses`` charged for one unit charging time of ``call``,
        ``total`` since answer (MPM)."""

    def on_traffic_control(self, dpc: int, step: int, acc_level: int) -> None:
        """Traffic toward ``dpc`` changed: the automatic congestion level of its last ACC
        (0 once T_acc has passed without one); ``step`` is the signalling congestion step
        (always 0 for the TUP)."""


_STATES = ["IDLE", "OUT_WAIT_ACM", "OUT_WAIT_ANSWER", "IN_SETUP", "IN_ALERTING", "ANSWERED",
           "CLEARED_BACK", "IN_CLEARED_BACK", "WAIT_CLF", "WAIT_RLG",
           "IN_WAIT_COT", "CC_RETEST", "CC_WAIT_CCR", "CC_LOOPED", "HELD"]
_NO_CALL = frozenset(("IDLE", "WAIT_RLG", "CC_RETEST", "CC_WAIT_CCR", "CC_LOOPED"))
TUP_FSM = FsmTable("tup.circuit", _STATES, [
    # outgoing (Q.724 2, 3)
    Row("IDLE", "app_setup", "send_iam", "OUT_WAIT_ACM"),
    Row("OUT_WAIT_ACM", "cc_result", "cc_checked"),
    Row("OUT_WAIT_ACM", "T_CCT", "cc_checked"),
    Row("OUT_WAIT_ACM", "app_previous", "cc_previous_outcome"),
    Row("OUT_WAIT_ACM", "app_digits", "send_sam"),
    Row("OUT_WAIT_ACM", "rx_GRQ", "send_gsm"),
    Row("OUT_WAIT_ACM", "rx_ACM", "got_acm", "OUT_WAIT_ANSWER"),
    Row("OUT_WAIT_ACM", "rx_IAM", "dual_seizure"),
    Row("OUT_WAIT_ACM", "rx_IAI", "dual_seizure"),
    Row("OUT_WAIT_ACM", "T_ACM", "timeout_clear"),
    *(Row(s, "rx_" + u, "got_unsuccessful", "WAIT_RLG")
      for s in ("OUT_WAIT_ACM", "OUT_WAIT_ANSWER") for u in UNSUCCESSFUL),
    *(Row(s, "rx_" + a, "got_answer", "ANSWERED")
      for s in ("OUT_WAIT_ACM", "OUT_WAIT_ANSWER") for a in ANSWERS),
    Row("OUT_WAIT_ANSWER", "T_ANS", "timeout_clear"),
    Row("ANSWERED", "rx_CBK", "got_cbk", "CLEARED_BACK"),
    Row("CLEARED_BACK", "rx_RAN", "got_ran", "ANSWERED"),
    Row("CLEARED_BACK", "T_CLB", "timeout_clear"),
    # incoming
    Row("IDLE", "rx_IAM", "got_iam"),
    Row("IDLE", "rx_IAI", "got_iam"),
    Row("IN_SETUP", "rx_SAM", "got_sam"),
    Row("IN_SETUP", "rx_SAO", "got_sao"),
    Row("IN_SETUP", "rx_GSM", "got_gsm"),
    Row("IN_SETUP", "app_request", "send_grq"),
    Row("IN_SETUP", "app_accept", "send_acm", "IN_ALERTING"),
    Row("IN_SETUP", "app_reject", "send_unsuccessful", "WAIT_CLF"),
    Row("IN_ALERTING", "app_reject", "send_unsuccessful", "WAIT_CLF"),
    Row("IN_SETUP", "app_answer", "send_answer", "ANSWERED"),
    Row("IN_ALERTING", "app_answer", "send_answer", "ANSWERED"),
    Row("ANSWERED", "app_clear_back", "send_cbk", "IN_CLEARED_BACK"),
    Row("IN_CLEARED_BACK", "app_answer", "send_ran", "ANSWERED"),
    # release: the calling party controls (Q.724 5; GF 001-9001)
    *(Row(s, "app_release", "send_clf", "WAIT_RLG")
      for s in ("OUT_WAIT_ACM", "OUT_WAIT_ANSWER", "CLEARED_BACK")),
    Row("ANSWERED", "app_release", "release_forward"),  # CCL and HELD when hold was given
    Row("*", "rx_CLF", "got_clf", "IDLE"),
    Row("WAIT_RLG", "rx_RLG", "got_rlg", "IDLE"),
    Row("WAIT_RLG", "rx_CLF", "clf_collision", "IDLE"),
    Row("WAIT_RLG", "T_RLG", "repeat_clf"),
    Row("WAIT_RLG", "T_RLG_LONG", "clf_alert"),
    Row("IDLE", "rx_RLG", None),
    # reset (Q.724 8.2): RSC is answered by RLG
    Row("*", "rx_RSC", "got_rsc", "IDLE"),
    Row("*", "app_reset", "send_rsc", "WAIT_RLG"),
    Row("*", "group_reset", "local_reset", "IDLE"),
    # continuity check (Q.724 7), incoming: loop until COT; after CCF wait for the retest
    Row("IN_WAIT_COT", "rx_COT", "got_cot"),
    Row("IN_WAIT_COT", "rx_CCF", "got_ccf"),
    Row("IN_WAIT_COT", "rx_SAM", "got_sam"),
    Row("IN_WAIT_COT", "rx_SAO", "got_sao"),
    Row("IN_WAIT_COT", "T_COT", "cot_timeout", "WAIT_CLF"),
    Row("IDLE", "rx_CCR", "got_ccr", "CC_LOOPED"),
    Row("CC_WAIT_CCR", "rx_CCR", "got_ccr", "CC_LOOPED"),
    Row("CC_WAIT_CCR", "T_CCR_WAIT", "cc_reset", "WAIT_RLG"),
    Row("CC_LOOPED", "rx_CCF", "got_ccf_retest", "CC_WAIT_CCR"),
    Row("CC_LOOPED", "T_COT", "cc_reset", "WAIT_RLG"),
    Row("CC_LOOPED", "rx_CLF", "cc_cleared", "IDLE"),
    Row("CC_WAIT_CCR", "rx_CLF", "cc_cleared", "IDLE"),
    # outgoing retest of a failed circuit: CCR, check tone, CLF when it passes
    Row("IDLE", "app_ccr", "send_ccr", "CC_RETEST"),
    Row("CC_RETEST", "T_CCR", "send_ccr"),
    Row("CC_RETEST", "T_CCR_REPEAT", "send_ccr"),
    Row("CC_RETEST", "cc_result", "cc_rechecked"),
    Row("CC_RETEST", "T_CCT", "cc_rechecked"),
    # malicious call identification and hold (Q.724 2.5 GRQ/GSM indicators; GF 001-9001 MAL)
    *(Row(s, "app_request", "send_grq") for s in ("IN_ALERTING", "ANSWERED")),
    *(Row(s, "rx_GSM", "got_gsm") for s in ("IN_ALERTING", "ANSWERED")),
    *(Row(s, "rx_GRQ", "send_gsm") for s in ("OUT_WAIT_ANSWER", "ANSWERED")),
    *(Row(s, "app_malicious", "send_mal") for s in ("IN_ALERTING", "ANSWERED", "IN_CLEARED_BACK")),
    *(Row(s, "rx_MAL", "got_mal") for s in ("OUT_WAIT_ANSWER", "ANSWERED", "CLEARED_BACK", "HELD")),
    Row("ANSWERED", "rx_CCL", "got_ccl"),
    Row("HELD", "rx_CBK", "send_clf", "WAIT_RLG"),
    # operator signal (GF 001-9001 OPR): re-ring the called party
    *(Row(s, "app_operator", "send_opr") for s in ("ANSWERED", "CLEARED_BACK")),
    *(Row(s, "rx_OPR", "got_opr") for s in ("ANSWERED", "IN_CLEARED_BACK")),
    # metering pulse message (GF 001-9001 MPM): pulses per unit charging time from answer
    *(Row(s, "app_charge", "send_mpm") for s in ("IN_ALERTING", "ANSWERED")),
    *(Row(s, "rx_MPM", "got_mpm") for s in ("OUT_WAIT_ANSWER", "ANSWERED", "CLEARED_BACK")),
    *(Row(s, "T_MPM", "charge_unit") for s in ("ANSWERED", "CLEARED_BACK")),
])


class TupCircuit(Machine):
    """One TUP circuit and the call on it (``called``, ``calling``, ``restricted``,
    ``category``, ``outgoing``)."""

    fsm = TUP_FSM

    def __init__(self, tup: Tup, cic: int, dpc: int):
        self.state = "IDLE"
        self.tup = tup
        self.cic = cic
        self.dpc = dpc
        self.timers = Timers(tup.timer_table, tup.scheduler)
        self.local_blocked = False
        self.remote_blocked = False
        self.pending_block: str | None = None
        self.cc_equipment: str | None = None  # continuity equipment connected (Q.724 7)
        self.cc_failures = 0  # consecutive failed checks of this circuit
        self._clear()

    def _clear(self) -> None:
        self.timers.stop("T_CCT")
        self._cc_equipment(None)
        self.cc_mode = 0  # continuity-check indicator of the call's IAM (Q.723 3.3)
        self.cc_own = False  # check of this circuit still running (outgoing)
        self.cc_previous = False  # outcome of a previous circuit's check still awaited
        self.outgoing = False
        self.called = ""
        self.calling: str | None = None
        self.restricted = False
        self.category: int | None = None
        self.setup: tuple[str, dict[str, Any]] | None = None
        self.signal: str | None = None
        self.hold = False  # the connection is held at the calling party's clear (GRQ/GSM)
        self.malicious = False  # identified as malicious (MAL, GRQ/GSM indicator)
        self.metering_rate = 0  # pulses per unit charging time (last MPM)
        self.metered = 0  # pulses charged since answer

    @property
    def controlling(self) -> bool:
        return (self.cic % 2 == 0) == (self.tup.mtp3.pc > self.dpc)

    def send(self, name: str, fields: dict[str, Any] | None = None) -> None:
        self.tup.send(self.dpc, self.cic, name, fields)

    def _cb(self, name: str, *args: Any) -> None:
        getattr(self.tup.listener, name)(*args)

    # application ------------------------------------------------------------------------------
    def accept(self) -> None:
        self.dispatch("app_accept")

    def answer(self) -> None:
        self.dispatch("app_answer")

    def reject(self, signal: str = "SSB") -> None:
        """Refuse an incoming call with an unsuccessful backward signal (Q.723 3.9)."""
        if signal not in UNSUCCESSFUL:
            raise ValueError(f"{signal} is not an unsuccessful backward set-up signal")
        self.dispatch("app_reject", signal)

    def request_calling(self, malicious: bool = False, hold: bool = False) -> None:
        """GRQ for the calling line identity and category (Q.724 2.5); ``malicious`` says
        the call is to be identified as malicious, ``hold`` asks the originating exchange to
        hold the connection when the calling party clears (CCL)."""
        self.dispatch("app_request", malicious, hold)

    def report_malicious(self) -> None:
        """Called side: MAL - the called party asks for this call to be identified as
        malicious by the originating exchange (GF 001-9001)."""
        self.dispatch("app_malicious")

    def operator_recall(self) -> None:
        """Originating operator: OPR - re-ring the called party of an answered call (or
        one that cleared back); only a call from an operator category (Q.723 3.2: 1-9)."""
        if self.category not in OPERATOR_CATEGORIES:
            raise ValueError(f"CIC {self.cic}: OPR needs an operator calling-party category, "
                             f"not {self.category}")
        self.dispatch("app_operator")

    def charge(self, pulses: int) -> None:
        """Charging side of an incoming call: MPM with ``pulses`` per unit charging time."""
        if not 0 <= pulses <= 0xFFFF:
            raise ValueError(f"MPM pulses {pulses}: 0..65535")
        self.dispatch("app_charge", pulses)

    def release(self) -> None:
        """Calling party clears (CLF); the called party uses :meth:`clear_back`."""
        self.dispatch("app_release")

    def clear_back(self) -> None:
        self.dispatch("app_clear_back")

    def send_digits(self, digits: str) -> None:
        self.dispatch("app_digits", digits)

    def reset(self) -> None:
        self.dispatch("app_reset")

    def continuity_result(self, ok: bool) -> None:
        """The check tone came back (``ok``) or was judged lost; a report when no check is
        running is ignored."""
        if self.fsm.lookup(self.state, "cc_result") is not None:
            self.dispatch("cc_result", ok, False)

    def continuity_previous(self, ok: bool) -> None:
        """Transit exchange: the check of the previous circuit passed (COT goes on once this
        circuit's own check, if any, has passed too) or failed (this call is cleared with
        CLF; the preceding exchange repeats the attempt) - Q.724 7."""
        self.dispatch("app_previous", ok)

    def continuity_recheck(self) -> None:
        """Maintenance: test an idle circuit with CCR and the check tone (Q.724 7)."""
        self.dispatch("app_ccr")

    # continuity check (Q.724 7) -------------------------------------------------------------
    def _cc_equipment(self, equipment: str | None) -> None:
        if equipment != self.cc_equipment:
            self.cc_equipment = equipment
            self._cb("on_continuity", self, equipment)

    def _cc_start_check(self) -> None:
        """Connect the transceiver and send the check tone; T_CCT waits for its return."""
        self._cc_equipment("transceiver")
        self.timers.start("T_CCT", self.dispatch, "T_CCT", False, True)

    def _cc_running(self, expired: bool) -> bool:
        """A check is running (a late report after T_CCT has decided is not)."""
        if not expired and not self.timers.running("T_CCT"):
            return False
        self.timers.stop("T_CCT")
        self._cc_equipment(None)
        return True

    def _cc_abandon(self) -> None:
        """A backward signal that may only follow COT ended the wait: the check is moot."""
        self.timers.stop("T_CCT")
        self._cc_equipment(None)
        self.cc_own = self.cc_previous = False

    def _cc_done(self) -> None:
        """COT once this circuit's check (if any) and the previous circuit's have passed."""
        if not self.cc_own and not self.cc_previous:
            self.send("COT")

    def cc_checked(self, ok: bool, expired: bool) -> str | None:
        """Outcome of the check made with the IAM: passed - COT (when nothing else is
        awaited); failed - CCF, the call is repeated at once on another circuit and this one
        is retested with CCR after T_CCR."""
        if not self._cc_running(expired):
            return None
        if ok:
            self.cc_own = False
            self.cc_failures = 0
            self._cc_done()
            return None
        self.send("CCF")
        self.timers.stop("T_ACM")
        setup, previous = self.setup, self.cc_previous
        self._cb("on_maintenance", self.cic, "continuity check failed: repeat attempt")
        self._clear()
        if setup is not None:
            self.tup.reattempt(self.dpc, setup, exclude=self.cic, old=self,
                               awaiting_previous=previous)
        self.cc_failures = 1
        self.timers.start("T_CCR", self.dispatch, "T_CCR")
        return "CC_RETEST"

    def cc_previous_outcome(self, ok: bool) -> None:
        if not self.cc_previous:
            raise ValueError(f"CIC {self.cic}: no previous circuit's check is awaited")
        if ok:
            self.cc_previous = False
            self._cc_done()
        else:
            self.dispatch("app_release")

    def send_ccr(self) -> None:
        self.send("CCR")
        self._cc_start_check()

    def cc_rechecked(self, ok: bool, expired: bool) -> str | None:
        """Retest outcome: passed - CLF returns both ends to idle; failed - CCF, maintenance
        alerted, and the retest repeated every T_CCR_REPEAT."""
        if not self._cc_running(expired):
            return None
        if ok:
            self.cc_failures = 0
            self._cb("on_maintenance", self.cic, "continuity retest passed")
            self.send_clf()
            return "WAIT_RLG"
        self.cc_failures += 1
        self.send("CCF")
        self._cb("on_maintenance", self.cic, f"continuity retest failed ({self.cc_failures})")
        self.timers.start("T_CCR_REPEAT", self.dispatch, "T_CCR_REPEAT")
        return None

    def got_cot(self, msg: dict) -> str:
        """COT while the call is held (T_COT): the loop is removed and the call offered."""
        self.timers.stop("T_COT")
        self._cc_equipment(None)
        self.state = "IN_SETUP"  # the application may act inside on_setup
        self._cb("on_setup", self)
        return self.state

    def got_ccf(self, msg: dict) -> str | None:
        """CCF while the call is held: this circuit failed - the loop is removed, the call is
        gone (the outgoing exchange repeats it elsewhere) and T_CCR_WAIT waits for the
        retest.  With "check on a previous circuit" the preceding exchange clears with CLF,
        so T_COT keeps running."""
        if self.cc_mode != 1:
            return None
        self.timers.stop("T_COT")
        self._cb("on_release", self)
        self._clear()
        self.timers.start("T_CCR_WAIT", self.dispatch, "T_CCR_WAIT")
        return "CC_WAIT_CCR"

    def cot_timeout(self) -> None:
        """T_COT: neither COT nor CCF - call-failure signal CFL, then CLF clears the circuit."""
        self._cc_equipment(None)
        self._cb("on_maintenance", self.cic, "no continuity signal: call failure")
        self.send("CFL")

    def got_ccr(self, msg: dict) -> None:
        """CCR: loop the circuit for the retest; T_COT supervises the CCF or CLF that ends it."""
        self.timers.stop("T_CCR_WAIT")
        self._cc_equipment("loop")
        self.timers.start("T_COT", self.dispatch, "T_COT")

    def got_ccf_retest(self, msg: dict) -> None:
        self.timers.stop("T_COT")
        self._cc_equipment(None)
        self.timers.start("T_CCR_WAIT", self.dispatch, "T_CCR_WAIT")

    def cc_cleared(self, msg: dict) -> None:
        """CLF ends a retest (or gives it up): RLG, the circuit is idle."""
        self.timers.stop_all()
        self.send("RLG")
        self._idle()

    def cc_reset(self) -> None:
        """T_CCR_WAIT (no retest after CCF) or T_COT after CCR: reset the circuit."""
        self._cb("on_maintenance", self.cic, f"{self.state}: continuity retest supervision "
                                             "expired: reset")
        self._clear()
        self.send_rsc()

    # outgoing -----------------------------------------------------------------------------------
    def send_iam(self, setup: tuple[str, dict[str, Any]], awaiting_previous: bool = False) -> None:
        self.outgoing = True
        self.setup = setup
        name, fields = setup
        self.called = fields["called"]
        self.calling = fields.get("cli")
        self.category = fields["category"]["category"]
        self.cc_mode = fields["ind"]["continuity"]
        self.cc_own = self.cc_mode == 1
        self.cc_previous = self.cc_mode == 2 or awaiting_previous
        self.send(name, fields)
        self.timers.start("T_ACM", self.dispatch, "T_ACM")
        if self.cc_own:
            self._cc_start_check()

    def send_sam(self, digits: str) -> None:
        self.called += digits
        if len(digits) == 1:
            self.send("SAO", {"sao": {"digit": int(digits, 16), "filler": 0}})
        else:
            self.send("SAM", {"head": {"spare": 0, "nas": len(digits)}, "digits": digits})

    def send_gsm(self, msg: dict) -> None:
        """Q.724 2.5: answer GRQ with what was asked and is known."""
        req = msg["fields"]["ind"]
        fields = self.setup[1] if self.setup else {}
        cli = fields.get("cli") if req["cli"] else None
        ind = {"category": req["category"], "cli": int(cli is not None), "transit_id": 0,
               "oca": 0, "echo": 0, "malicious": req["malicious"], "hold": req["hold"],
               "spare": 0}
        out: dict[str, Any] = {"ind": ind}
        if req["category"]:
            out["category"] = fields.get("category", {"category": 10, "spare": 0})
        if cli is not None:
            out["cli_head"] = fields["cli_head"]
            out["cli"] = cli
        self.send("GSM", out)
        self.hold = self.hold or bool(req["hold"])  # provided: ours is calling-party control
        if req["malicious"]:
            self.got_mal(msg)

    def got_acm(self, msg: dict) -> None:
        self._cc_abandon()
        self.timers.stop("T_ACM")
        self.timers.start("T_ANS", self.dispatch, "T_ANS")
        self._cb("on_alerting", self)

    def got_answer(self, msg: dict) -> None:
        self._cc_abandon()
        self.timers.stop("T_ACM")
        self.timers.stop("T_ANS")
        self._cb("on_answer", self)
        if self.metering_rate:  # an MPM before answer: charging starts now
            self.charge_unit()

    # China national procedures (GF 001-9001) -------------------------------------------------
    def release_forward(self) -> str:
        """The calling party clears an answered call: CLF, or CCL when the connection is
        held for malicious call identification - then the called party's clear-back ends
        it (CBK, CLF)."""
        if not self.hold:
            self.send_clf()
            return "WAIT_RLG"
        self.timers.stop("T_CLB")
        self.timers.stop("T_MPM")  # the calling party is gone: charging ends
        self.send("CCL")
        return "HELD"

    def send_mal(self) -> None:
        self.malicious = True
        self.send("MAL")

    def got_mal(self, msg: dict) -> None:
        """MAL (or GRQ with the malicious-call indicator): the application records the call
        (calling and called numbers, time); reported once per call."""
        if not self.malicious:
            self.malicious = True
            self._cb("on_malicious", self)

    def got_ccl(self, msg: dict) -> None:
        self._cb("on_calling_cleared", self)

    def send_opr(self) -> None:
        """OPR: after a clear-back, T_CLB is restarted for the re-ringing."""
        if self.state == "CLEARED_BACK":
            self.timers.start("T_CLB", self.dispatch, "T_CLB")
        self.send("OPR")

    def got_opr(self, msg: dict) -> None:
        self._cb("on_operator", self)

    def send_mpm(self, pulses: int) -> None:
        self.send("MPM", {"pulses": pulses})

    def got_mpm(self, msg: dict) -> None:
        """MPM: the call's charging rate, pulses per unit charging time; an answered call
        not yet metered starts its first unit now."""
        self.metering_rate = msg["fields"]["pulses"]
        if self.state != "OUT_WAIT_ANSWER" and not self.timers.running("T_MPM"):
            self.charge_unit()

    def charge_unit(self) -> None:
        """One unit charging time begins: its pulses are counted, T_MPM runs to the next."""
        self.metered += self.metering_rate
        self._cb("on_metering", self, self.metering_rate, self.metered)
        self.timers.start("T_MPM", self.dispatch, "T_MPM")

    def got_unsuccessful(self, msg: dict) -> None:
        """Q.724 3: an unsuccessful backward signal - report it and clear forward."""
        self.timers.stop("T_ACM")
        self.timers.stop("T_ANS")
        self.signal = msg["message"]
        self._cb("on_rejected", self, self.signal)
        self.send_clf()

    def got_cbk(self, msg: dict) -> None:
        self.timers.start("T_CLB", self.dispatch, "T_CLB")
        self._cb("on_clear_back", self)

    def got_ran(self, msg: dict) -> None:
        self.timers.stop("T_CLB")
        self._cb("on_answer", self)

    def dual_seizure(self, msg: dict) -> str | None:
        """Q.724 8.3: the controlling exchange ignores the IAM; the other backs off, serves
        the incoming call and repeats its own attempt on another circuit."""
        if self.controlling:
            return None
        self.timers.stop("T_ACM")
        setup = self.setup
        self._cb("on_glare", self)
        previous = self.cc_previous
        self._clear()
        if setup is not None:
            self.tup.reattempt(self.dpc, setup, exclude=self.cic, old=self,
                               awaiting_previous=previous)
        return self.got_iam(msg)

    def timeout_clear(self) -> None:
        self._cb("on_maintenance", self.cic, f"{self.state}: timer expired, clearing")
        self.dispatch("app_release")

    # incoming -----------------------------------------------------------------------------------
    def got_iam(self, msg: dict) -> str:
        """IAM/IAI: the call is offered, or held until COT when the continuity-check
        indicator asks for a check (Q.724 7: the loop on this circuit for indicator 1; the
        spare value 3 is read as "not required")."""
        f = msg["fields"]
        self.outgoing = False
        self.called = f["called"]
        self.category = f["category"]["category"]
        if "cli" in f:
            self.calling = f["cli"]
            self.restricted = bool(f["cli_head"]["restricted"])
        self.cc_mode = f["ind"]["continuity"]
        if self.cc_mode in (1, 2):
            if self.cc_mode == 1:
                self._cc_equipment("loop")
            self.timers.start("T_COT", self.dispatch, "T_COT")
            self.state = "IN_WAIT_COT"
            self._cb("on_continuity_pending", self)
            return self.state
        self.state = "IN_SETUP"  # the application may act inside on_setup
        self._cb("on_setup", self)
        return self.state

    def got_sam(self, msg: dict) -> None:
        self._digits(msg["fields"]["digits"])

    def got_sao(self, msg: dict) -> None:
        self._digits("0123456789ABCDEF"[msg["fields"]["sao"]["digit"]])

    def _digits(self, digits: str) -> None:
        """Subsequent address signals; a call held for its continuity check collects them
        for :meth:`TupListener.on_setup`."""
        self.called += digits
        if self.state != "IN_WAIT_COT":
            self._cb("on_digits", self, digits)

    def got_gsm(self, msg: dict) -> None:
        """GSM: the calling line identity and category asked for (reported with
        :meth:`TupListener.on_setup` again), and whether hold was given."""
        f = msg["fields"]
        self.hold = bool(f["ind"]["hold"])
        self.malicious = self.malicious or bool(f["ind"]["malicious"])
        if "cli" in f:
            self.calling = f["cli"]
            self.restricted = bool(f["cli_head"]["restricted"])
        if "category" in f:
            self.category = f["category"]["category"]
        self._cb("on_setup", self)

    def send_grq(self, malicious: bool = False, hold: bool = False) -> None:
        self.send("GRQ", {"ind": {"category": 1, "cli": 1, "oca": 0, "malicious": int(malicious),
                                  "hold": int(hold), "echo": 0, "spare": 0}})

    def send_acm(self) -> None:
        self.send("ACM", {"ind": {"type": 1, "free": 1, "echo": 0, "forwarded": 0, "path": 1,
                                  "spare": 0}})

    def send_answer(self) -> None:
        self.send("ANC")

    def send_ran(self) -> None:
        self.send("RAN")

    def send_cbk(self) -> None:
        self.send("CBK")

    def send_unsuccessful(self, signal: str) -> None:
        self.send(signal)
        if self.tup.overload:  # while we are overloaded the preceding exchange learns it
            self.tup.send_acc(self.dpc, self.cic)

    # release ---------------------------------------------------------------------------------------
    def send_clf(self, msg: dict | None = None) -> None:
        for t in ("T_ACM", "T_ANS", "T_CLB", "T_CCT", "T_MPM"):
            self.timers.stop(t)
        self._cc_equipment(None)
        self.send("CLF")
        self.timers.start("T_RLG", self.dispatch, "T_RLG")
        if not self.timers.running("T_RLG_LONG"):
            self.timers.start("T_RLG_LONG", self.dispatch, "T_RLG_LONG")

    def repeat_clf(self) -> None:
        self.send("RSC" if self.signal == "RSC" else "CLF")
        self.timers.start("T_RLG", self.dispatch, "T_RLG")

    def clf_alert(self) -> None:
        """Q.724 5.4: no RLG within a minute - alert maintenance and reset the circuit."""
        self._cb("on_maintenance", self.cic, "no RLG after CLF: reset")
        self.signal = "RSC"
        self.send("RSC")
        self.timers.start("T_RLG_LONG", self.dispatch, "T_RLG_LONG")

    def got_clf(self, msg: dict) -> None:
        self.timers.stop_all()
        if self.state not in _NO_CALL:
            self._cb("on_release", self)
        self.send("RLG")
        self._idle()

    def clf_collision(self, msg: dict) -> None:
        self.timers.stop_all()
        self.send("RLG")
        self._idle()

    def got_rlg(self, msg: dict) -> None:
        self.timers.stop_all()
        self._idle()

    def _idle(self) -> None:
        self._clear()
        self._cb("on_idle", self)

    def got_rsc(self, msg: dict) -> None:
        busy = self.state not in _NO_CALL
        self.timers.stop_all()
        if busy:
            self._cb("on_release", self)
        self.remote_blocked = False
        self.send("RLG")
        if self.local_blocked:
            self.send("BLO")
        self._cb("on_reset", [self.cic])
        self._idle()

    def send_rsc(self) -> None:
        self.timers.stop_all()
        self._cc_equipment(None)
        self.signal = "RSC"
        self.send("RSC")
        self.timers.start("T_RSC", self.dispatch, "T_RLG")
        self.timers.start("T_RLG_LONG", self.dispatch, "T_RLG_LONG")

    def local_reset(self) -> None:
        if self.state not in _NO_CALL:
            self._cb("on_release", self)
        self.timers.stop_all()
        self._clear()


class Tup:
    """The TUP user part of a signalling point (SI 4)."""

    def __init__(self, scheduler: Scheduler, mtp3: Mtp3, *, variant: str = "china",
                 listener: TupListener | None = None, timers: dict[str, float] | None = None):
        self.scheduler = scheduler
        self.mtp3 = mtp3
        self.variant = T.VARIANTS[variant]
        self.listener = listener or TupListener()
        self.timer_table = TUP_TIMERS.with_overrides(timers or {})
        self.circuits: dict[tuple[int, int], TupCircuit] = {}
        self.available: set[int] = set()
        self.status: dict[int, str] = {}
        self._grs: dict[tuple[int, int], tuple[int, Timers]] = {}
        self._group_pending: dict[tuple[int, int, str], Timers] = {}  # (dpc, first, ack)
        self.counters = {"rx": 0, "tx": 0, "rx_errors": 0}
        self.controls: dict[int, TrafficControl] = {}  # per destination, after its first ACC
        self.overload = 0  # our automatic congestion level, sent in ACC (0: none)
        mtp3.register_user(SI_TUP, self, whole_sif=True)

    def add_circuits(self, dpc: int, cics: Iterable[int]) -> None:
        for cic in cics:
            self.circuits[(dpc, cic)] = TupCircuit(self, cic, dpc)

    def circuit(self, dpc: int, cic: int) -> TupCircuit | None:
        return self.circuits.get((dpc, cic))

    def send(self, dpc: int, cic: int, name: str, fields: dict[str, Any] | None = None) -> None:
        sif = T.encode(self.variant, name, dpc, self.mtp3.pc, cic, fields)
        self.counters["tx"] += 1
        self.mtp3.transfer_sif(SI_TUP, dpc, cic & 0x0F, sif)

    # application ---------------------------------------------------------------------------------
    def setup(self, dpc: int, called: str, calling: str | None = None, *,
              restricted: bool = False, cic: int | None = None,
              category: int | None = None, continuity_check: int = 0,
              awaiting_previous: bool = False) -> TupCircuit:
        """Seize a circuit and send IAM, or IAI with the calling line identity.
        ``continuity_check`` is the IAM's continuity-check indicator (Q.723 3.3): 1 checks
        this circuit with the check tone, 2 says a previous circuit is being checked (a
        transit exchange; report its outcome with ``continuity_previous``).
        ``awaiting_previous`` with 1: a previous circuit's check is pending as well, and COT
        waits for both (Q.724 7)."""
        if awaiting_previous and continuity_check != 1:
            raise ValueError("awaiting_previous goes with continuity_check=1 "
                             "(2 already says a previous circuit is checked)")
        control = self.controls.get(dpc)
        if control is not None and not control.admit():
            raise TupCongested(dpc, control.acc_level)
        c = self._pick(dpc, cic)
        first, rest = called[:15], called[15:]  # 4-bit address signal count (Q.723 3.3)
        setup = T.iam_fields(first, category or self.variant.default_category, cli=calling,
                             restricted=restricted, continuity=continuity_check)
        c.dispatch("app_setup", setup, awaiting_previous)
        if rest:
            c.send_digits(rest)
        return c

    def _pick(self, dpc: int, cic: int | None, exclude: int | None = None) -> TupCircuit:
        if dpc not in self.available:
            raise LookupError(f"destination {dpc} not accessible")
        free = [c for (d, n), c in self.circuits.items()
                if d == dpc and (cic is None or n == cic) and n != exclude
                and c.state == "IDLE" and not c.local_blocked and not c.remote_blocked]
        if not free:
            raise LookupError("no idle unblocked circuit")
        return ([c for c in free if c.controlling] or free)[0]

    def reattempt(self, dpc: int, setup: tuple[str, dict[str, Any]], exclude: int,
                  old: TupCircuit, awaiting_previous: bool = False) -> None:
        """Automatic repeat attempt of ``old``'s call on another circuit, after backing off a
        dual seizure (Q.724 8.3) or a failed continuity check (Q.724 7)."""
        def again() -> None:
            try:
                circuit = self._pick(dpc, None, exclude)
            except LookupError:
                self.listener.on_maintenance(exclude, "repeat attempt: no circuit")
                return
            circuit.dispatch("app_setup", setup, awaiting_previous)
            self.listener.on_repeat_attempt(old, circuit)
        self.scheduler.call_later(0, again)

    def block(self, dpc: int, cic: int, unblock: bool = False) -> None:
        """BLO / UBL (Q.724 8.1), repeated every T_BLA until acknowledged."""
        c = self.circuits[(dpc, cic)]
        msg = "UBL" if unblock else "BLO"
        c.pending_block = msg
        c.send(msg)
        c.timers.start("T_BLA", self._repeat_block, c, msg)

    def _repeat_block(self, c: TupCircuit, msg: str) -> None:
        if c.pending_block == msg:
            c.send(msg)
            c.timers.start("T_BLA", self._repeat_block, c, msg)

    def group_reset(self, dpc: int, first: int, last: int) -> None:
        """GRS (Q.724 8.4), repeated every T_RSC until GRA."""
        for n in range(first, last + 1):
            c = self.circuits.get((dpc, n))
            if c is not None:
                c.dispatch("group_reset")
        t = Timers(self.timer_table, self.scheduler)
        self._grs[(dpc, first)] = (last, t)
        self._send_grs(dpc, first, last)

    def _send_grs(self, dpc: int, first: int, last: int) -> None:
        entry = self._grs.get((dpc, first))
        if entry is None:
            return
        self.send(dpc, first, "GRS", {"range": last - first})
        entry[1].start("T_RSC", self._send_grs, dpc, first, last)

    def group_block(self, dpc: int, first: int, status: list[int], kind: str = "MGB") -> None:
        """Group (un)blocking ``kind`` (MGB/MGU, HGB/HGU, SGB/SGU) of the circuits from
        ``first`` whose status bit is 1 (Q.723 3.15: range = len(status) - 1, at least 1),
        repeated every T_BLA until its acknowledgement arrives, as BLO/UBL are."""
        if kind not in GROUP_BLOCK:
            raise ValueError(f"{kind} is not a group blocking or unblocking message")
        if len(status) < 2 or any(b not in (0, 1) for b in status):
            raise ValueError("a group message covers 2 or more circuits, status bits 0/1")
        key = (dpc, first, GROUP_BLOCK[kind][0])
        old = self._group_pending.pop(key, None)
        if old is not None:
            old.stop_all()
        timers = self._group_pending[key] = Timers(self.timer_table, self.scheduler)
        self._send_group(dpc, first, kind, list(status), timers)

    def _send_group(self, dpc: int, first: int, kind: str, status: list[int],
                    timers: Timers) -> None:
        self.send(dpc, first, kind, {"range": len(status) - 1, "status": status})
        timers.start("T_BLA", self._send_group, dpc, first, kind, status, timers)

    # MTP primitives ---------------------------------------------------------------------------------
    def mtp_resume(self, dpc: int) -> None:
        self.available.add(dpc)

    def mtp_pause(self, dpc: int) -> None:
        self.available.discard(dpc)

    def mtp_status(self, dpc: int, cause: str) -> None:
        """MTP-STATUS: remembered per destination for the application."""
        self.status[dpc] = cause

    # automatic congestion control (GF 001-9001 ACC) ---------------------------------------------
    def control(self, dpc: int) -> TrafficControl:
        """Traffic control toward ``dpc`` (the ISUP's, Q.764 2.11), made at its first ACC."""
        ctl = self.controls.get(dpc)
        if ctl is None:
            ctl = self.controls[dpc] = TrafficControl(
                dpc, self.timer_table, self.scheduler, self.listener.on_traffic_control)
        return ctl

    def set_overload(self, level: int) -> None:
        """Our exchange's overload: at level 1 or 2 an ACC with it goes to every accessible
        destination when the level changes, and again with each unsuccessful backward
        signal we send while it lasts (as the ISUP's REL carries it, Q.764 2.11.2); 0 ends
        it (the others restore their traffic when their T_acc expires)."""
        if level not in (0, *ACC_LEVELS):
            raise ValueError(f"automatic congestion level {level!r}: 0 (none), 1 or 2")
        changed, self.overload = level != self.overload, level
        if changed and level:
            firsts: dict[int, int] = {}
            for dpc, cic in self.circuits:
                firsts[dpc] = min(cic, firsts.get(dpc, cic))
            for dpc, cic in sorted(firsts.items()):
                if dpc in self.available:
                    self.send_acc(dpc, cic)

    def send_acc(self, dpc: int, cic: int) -> None:
        self.send(dpc, cic, "ACC", {"acc": {"level": self.overload, "spare": 0}})

    def _got_acc(self, opc: int, level: int) -> None:
        """ACC from ``opc``: traffic toward it reduced for T_acc; spare levels are ignored."""
        if level in ACC_LEVELS:
            self.control(opc).acc(level)

    def mtp_transfer(self, opc: int, dpc: int, sls: int, sif: bytes) -> None:
        self.counters["rx"] += 1
        try:
            msg = T.decode(self.variant, sif)
        except T.TupDecodeError:
            self.counters["rx_errors"] += 1
            return
        name = msg["message"]
        if name == "ACC":
            self._got_acc(opc, msg["fields"]["acc"]["level"])
            return
        if name in ("GRS", "GRA") or name in GROUP_BLOCK or name in (
                "MBA", "MUA", "HBA", "HUA", "SBA", "SUA"):
            self._group(opc, msg)
            return
        c = self.circuits.get((opc, msg["cic"]))
        if c is None:
            return
        if name in ("BLO", "UBL", "BLA", "UBA"):
            self._blocking(c, name)
            return
        if c.fsm.lookup(c.state, "rx_" + name) is not None:
            c.dispatch("rx_" + name, msg)

    def _blocking(self, c: TupCircuit, name: str) -> None:
        if name in ("BLO", "UBL"):
            c.remote_blocked = name == "BLO"
            c.send("BLA" if name == "BLO" else "UBA")
        elif c.pending_block == {"BLA": "BLO", "UBA": "UBL"}[name]:
            c.timers.stop("T_BLA")
            c.pending_block = None
            c.local_blocked = name == "BLA"
        else:
            return
        self.listener.on_blocking(c.cic, c.local_blocked, c.remote_blocked)

    def _group(self, opc: int, msg: dict) -> None:
        name, first, f = msg["message"], msg["cic"], msg["fields"]
        circuits = [self.circuits.get((opc, first + i)) for i in range(f["range"] + 1)]
        if name == "GRS":
            for c in circuits:
                if c is not None:
                    c.dispatch("group_reset")
                    c.remote_blocked = False
            status = [int(c is not None and c.local_blocked) for c in circuits]
            self.send(opc, first, "GRA", {"range": f["range"], "status": status})
            self.listener.on_reset([c.cic for c in circuits if c is not None])
        elif name == "GRA":
            entry = self._grs.pop((opc, first), None)
            if entry is not None:
                entry[1].stop_all()
                for c, b in zip(circuits, f.get("status", []), strict=False):
                    if c is not None:
                        c.remote_blocked = bool(b)
        elif name in GROUP_BLOCK:
            ack, block, kind = GROUP_BLOCK[name]
            for c, b in zip(circuits, f["status"], strict=False):
                if c is not None and b:
                    c.remote_blocked = block
                    if block and kind == "hardware" and c.state != "IDLE":
                        c.dispatch("group_reset")  # hardware blocking clears calls
                    self.listener.on_blocking(c.cic, c.local_blocked, block)
            self.send(opc, first, ack, {"range": f["range"], "status": f["status"]})
        else:  # acknowledgements of our group blocking
            pending = self._group_pending.pop((opc, first, name), None)
            if pending is None:
                return  # not asked for (or already acknowledged): no change
            pending.stop_all()
            block = name in ("MBA", "HBA", "SBA")
            for c, b in zip(circuits, f["status"], strict=False):
                if c is not None and b:
                    c.local_blocked = block
                    self.listener.on_blocking(c.cic, block, c.remote_blocked)
