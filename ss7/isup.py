"""ISUP call and circuit control (Q.764) over MTP3.

One :class:`Circuit` per CIC is a :class:`core.fsm.Machine` whose table :data:`CIRCUIT_FSM`
reads against the Q.764 procedures: basic call (2.1-2.3: IAM, SAM, ACM, CPG, ANM, CON, REL, RLC,
SUS/RES), continuity check (2.1.8: COT, CCR, LPA with T8, T24-T27, T36), dual seizure (2.9.1.4),
reset (2.10.3.1 RSC), blocking (2.8.2 BLO/UBL) and forward transfer (FOT, Q.763 2.23).  Group
procedures (GRS/GRA, CGB/CGBA, CGU/CGUA, 2.8.2.3 and 2.10.3.2), circuit group query (CQM/CQR,
2.8.3), the compatibility procedure for unrecognised messages and parameters (2.10.5), simple
segmentation (2.1.12, :mod:`ss7.isup_segmentation`), signalling congestion control (2.10) and
automatic congestion control (2.11, both :mod:`ss7.isup_congestion`) live in :class:`Isup`.
Timers are rows of :data:`ss7.timers.ISUP_TIMERS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.clock import Scheduler
from core.errors import EncodeError
from core.fsm import NO_ROW, FsmTable, Machine, Row
from core.timers import Timers
from ss7 import isup_codec as C
from ss7.isup_congestion import CAUSE_CONGESTION, CONGESTION_CAUSES, TrafficControl
from ss7.isup_segmentation import Reassembly
from ss7.mtp2 import SIF_MAX
from ss7.mtp3 import Mtp3
from ss7.mtp3_codec import SI_ISUP
from ss7.mtp3_codec import VARIANTS as MTP3_VARIANTS
from ss7.timers import ISUP_TIMERS

# Q.850 causes used by the procedures
CAUSE_NORMAL = 16
CAUSE_NO_ANSWER = 19
CAUSE_INVALID_NUMBER = 28
CAUSE_TEMPORARY_FAILURE = 41
CAUSE_MSG_NOT_IMPLEMENTED = 97
CAUSE_PARAM_NOT_IMPLEMENTED = 99
CAUSE_RECOVERY_ON_TIMER = 102
CAUSE_INVALID_MESSAGE = 95


class NoCircuit(Exception):
    """No idle, unblocked circuit toward the destination."""


class Congested(NoCircuit):
    """A new call refused because traffic toward ``dpc`` is reduced (Q.764 2.10 signalling
    congestion ``step``, 2.11 automatic congestion level ``acc_level``); ``cause`` is the
    Q.850 cause for the application: 42, switching equipment congestion."""

    def __init__(self, dpc: int, step: int, acc_level: int):
        self.dpc, self.step, self.acc_level = dpc, step, acc_level
        self.cause = CAUSE_CONGESTION
        super().__init__(f"traffic toward {dpc} reduced (signalling congestion step {step}, "
                         f"ACC level {acc_level}): call refused, cause {self.cause}")


class IsupListener:
    """Application callbacks; override what you need (all are no-ops here)."""

    def on_setup(self, call: Circuit) -> None: ...          # incoming IAM (call.called ...)
    def on_digits(self, call: Circuit, digits: str) -> None: ...  # SAM
    def on_alerting(self, call: Circuit) -> None: ...       # ACM / CPG alerting
    def on_answer(self, call: Circuit) -> None: ...         # ANM / CON
    def on_release(self, call: Circuit, cause: int) -> None: ...  # REL received or timeout
    def on_idle(self, call: Circuit) -> None: ...           # circuit back to idle (RLC)
    def on_glare(self, call: Circuit) -> None: ...          # our seizure backed off
    def on_reset(self, cics: list[int]) -> None: ...        # RSC/GRS received
    def on_blocking(self, cic: int, local: bool, remote: bool) -> None: ...
    def on_confusion(self, cic: int, cause: int) -> None: ...  # CFN received
    def on_maintenance(self, cic: int, what: str) -> None: ...  # T5/T13/T17... alerts

    def on_continuity(self, call: Circuit, equipment: str | None) -> None:
        """Continuity check equipment for ``call``'s circuit (Q.764 2.1.8, Q.724 7):
        ``"loop"`` - loop the circuit back (incoming side); ``"transceiver"`` - send the
        2000 Hz check tone and call ``call.continuity_result(ok)`` when it returns (or not);
        ``None`` - disconnect.  Without equipment the check fails on T24 / COT."""

    def on_national(self, call: Circuit, message: str, params: dict[str, Any]) -> None:
        """A national message of the variant in the answered state (China: CCL, MPM, OPR)."""

    def on_forward_transfer(self, call: Circuit, params: dict[str, Any]) -> None:
        """FOT received on an incoming call after ACM or answer (Q.763 2.23): bring in or
        recall an assistance operator."""

    def on_query(self, dpc: int, first: int, states: list[dict[str, Any]]) -> None:
        """CQR for our CQM (Q.764 2.8.3): per circuit ``{"cic", "remote", "local",
        "agrees"}``, each state ``{"call", "maintenance", "hardware"}`` by Q.763 3.14 names;
        ``agrees`` says whether the far end's view mirrors ours (None: one is transient)."""

    def on_traffic_control(self, dpc: int, step: int, acc_level: int) -> None:
        """Traffic toward ``dpc`` changed: signalling congestion step (Q.764 2.10, 0 = full
        load) and the automatic congestion level it last sent (2.11, 0 = none)."""


CIRCUIT_FSM = FsmTable("isup.circuit", [
    "IDLE", "OUT_WAIT_ACM", "OUT_WAIT_ANM", "IN_WAIT_ACM", "IN_WAIT_ANM",
    "ANSWERED", "WAIT_RLC", "RESETTING", "IN_WAIT_COT", "CC_RETEST", "CC_WAIT_CCR",
    "CC_LOOPED"], [
    # outgoing call (Q.764 2.1, 2.2)
    Row("IDLE", "app_setup", "send_iam", "OUT_WAIT_ACM"),
    Row("OUT_WAIT_ACM", "app_digits", "send_sam"),
    Row("OUT_WAIT_ACM", "rx_ACM", "got_acm", "OUT_WAIT_ANM"),
    Row("OUT_WAIT_ACM", "rx_CON", "got_answer", "ANSWERED"),
    Row("OUT_WAIT_ACM", "rx_IAM", "dual_seizure"),
    Row("OUT_WAIT_ACM", "rx_INR", "send_inf"),
    Row("OUT_WAIT_ANM", "rx_INR", "send_inf"),
    Row("OUT_WAIT_ACM", "T7", "timeout_release"),
    Row("OUT_WAIT_ANM", "rx_CPG", "got_cpg"),
    Row("OUT_WAIT_ANM", "rx_ANM", "got_answer", "ANSWERED"),
    Row("OUT_WAIT_ANM", "T9", "timeout_release"),
    # incoming call
    Row("IDLE", "rx_IAM", "got_iam"),
    Row("IN_WAIT_ACM", "T35", "timeout_release"),
    Row("IN_WAIT_ACM", "app_accept", "send_acm", "IN_WAIT_ANM"),
    Row("IN_WAIT_ACM", "app_answer", "send_con", "ANSWERED"),
    Row("IN_WAIT_ACM", "rx_SAM", "got_sam"),
    Row("IN_WAIT_ANM", "app_progress", "send_cpg"),
    Row("IN_WAIT_ANM", "app_answer", "send_anm", "ANSWERED"),
    # answered call, suspend/resume (2.5)
    Row("ANSWERED", "rx_SUS", "got_sus"),
    Row("ANSWERED", "rx_RES", "got_res"),
    Row("ANSWERED", "rx_CPG", "got_cpg"),
    Row("ANSWERED", "app_suspend", "send_sus"),
    Row("ANSWERED", "app_resume", "send_res"),
    Row("ANSWERED", "T6", "timeout_release"),
    # national messages of the answered state (China YDN 038: CCL, MPM, OPR)
    Row("ANSWERED", "app_national", "send_national"),
    Row("ANSWERED", "rx_CCL", "got_national"),
    Row("ANSWERED", "rx_MPM", "got_national"),
    Row("ANSWERED", "rx_OPR", "got_national"),
    # forward transfer (Q.763 2.23): forward, after ACM or answer
    Row("OUT_WAIT_ANM", "app_fot", "send_fot"),
    Row("ANSWERED", "app_fot", "send_fot"),
    Row("IN_WAIT_ANM", "rx_FOT", "got_fot"),
    Row("ANSWERED", "rx_FOT", "got_fot"),
    # release (2.3)
    Row("*", "app_release", "send_rel", "WAIT_RLC"),
    Row("*", "rx_REL", "got_rel", "IDLE"),
    Row("IDLE", "rx_REL", "answer_rlc"),
    Row("IDLE", "app_release", None),
    Row("WAIT_RLC", "app_release", None),
    Row("WAIT_RLC", "rx_REL", "rel_collision", "IDLE"),
    Row("WAIT_RLC", "rx_RLC", "got_rlc", "IDLE"),
    Row("WAIT_RLC", "T1", "resend_rel"),
    Row("WAIT_RLC", "T5", "t5_reset", "RESETTING"),
    Row("IDLE", "rx_RLC", None),
    # reset (2.10.3.1)
    Row("*", "app_reset", "send_rsc", "RESETTING"),
    Row("*", "rx_RSC", "got_rsc", "IDLE"),
    Row("RESETTING", "rx_RLC", "got_rlc", "IDLE"),
    Row("RESETTING", "rx_REL", "answer_rlc"),
    Row("RESETTING", "T16", "resend_rsc"),
    Row("RESETTING", "T17", "resend_rsc_alert"),
    Row("*", "group_reset", "local_reset", "IDLE"),
    # continuity check (2.1.8): outgoing check with the IAM, then recheck with CCR
    Row("OUT_WAIT_ACM", "cc_result", "cc_checked"),
    Row("OUT_WAIT_ACM", "T24", "cc_checked"),
    Row("IDLE", "app_ccr", "send_ccr", "CC_RETEST"),
    Row("CC_RETEST", "T25", "send_ccr"),
    Row("CC_RETEST", "T26", "send_ccr"),
    Row("CC_RETEST", "cc_result", "cc_rechecked"),
    Row("CC_RETEST", "T24", "cc_rechecked"),
    Row("CC_RETEST", "rx_LPA", None),
    # incoming side: loop until COT, recheck on CCR
    Row("IN_WAIT_COT", "rx_COT", "got_cot"),
    Row("IN_WAIT_COT", "rx_SAM", "got_sam_before_cot"),
    Row("IN_WAIT_COT", "T8", "t8_expired", "WAIT_RLC"),
    Row("CC_WAIT_CCR", "rx_CCR", "got_ccr", "CC_LOOPED"),
    Row("IDLE", "rx_CCR", "got_ccr", "CC_LOOPED"),
    Row("CC_WAIT_CCR", "T27", "cc_reset", "RESETTING"),
    Row("CC_LOOPED", "rx_COT", "got_cot_recheck"),
    Row("CC_LOOPED", "T36", "cc_reset", "RESETTING"),
])


# Direction of each national message (China YDN 038-1997, as tabulated in the Dialogic ISUP
# manual's China appendix): forward = from the calling side's exchange
NATIONAL_DIRECTION = {"CCL": "forward", "MPM": "backward", "OPR": "both"}

_CALL_TIMERS = ("T7", "T9", "T6", "T35", "T8", "T24", "T25", "T26", "T27", "T36")


class Circuit(Machine):
    """One circuit and the call on it.  Attributes of the current call: ``called``, ``calling``,
    ``presentation``, ``category``, ``cause`` (last release cause), ``outgoing``."""

    fsm = CIRCUIT_FSM

    def __init__(self, isup: Isup, cic: int, dpc: int):
        self.state = "IDLE"
        self.isup = isup
        self.cic = cic
        self.dpc = dpc
        self.timers = Timers(isup.timer_table, isup.scheduler)
        self.local_blocked = False   # maintenance blocking we applied (BLA received)
        self.remote_blocked = False  # BLO/CGB received
        self.local_hw = False   # our blocking is hardware oriented (CGB type 1 acknowledged)
        self.remote_hw = False  # the remote blocking is hardware oriented (CGB type 1)
        self.pending_group: str | None = None  # "CGB"/"CGU" of ours awaiting acknowledgement
        self.pending_block: str | None = None  # "BLO"/"UBL" awaiting acknowledgement
        self.cc_equipment: str | None = None  # continuity equipment connected (2.1.8)
        self.cc_mode = 0  # nature of connection: 1 check on this circuit, 2 on a previous one
        self.cc_failures = 0
        self._clear_call()

    def _clear_call(self) -> None:
        self._cc_equipment(None)
        self.cc_mode = 0
        self.outgoing = False
        self.called = ""
        self.calling: str | None = None
        self.presentation = 0
        self.screening = 0
        self.category: int | None = None
        self.cause: int | None = None
        self.setup_params: dict[str, Any] = {}
        self.complete = True
        self.suspended_by: str | None = None

    @property
    def controlling(self) -> bool:
        """Q.764 2.9.1.4: the higher point code controls the even CICs, the other the odd."""
        return (self.cic % 2 == 0) == (self.isup.mtp3.pc > self.dpc)

    def __repr__(self) -> str:
        return f"<Circuit cic={self.cic} {self.state}>"

    # helpers --------------------------------------------------------------------------------
    def send(self, message: str, params: dict[str, Any] | None = None) -> None:
        self.isup.send(self.dpc, self.cic, message, params)

    def _listener(self, name: str, *args: Any) -> None:
        getattr(self.isup.listener, name)(*args)

    # application requests ----------------------------------------------------------------------
    def accept(self, optional: dict[str, Any] | None = None) -> None:
        """ACM; ``optional`` adds optional parameters by name (as for ``Isup.setup``, the
        backward messages are segmented when too long, Q.764 2.1.12)."""
        self.dispatch("app_accept", optional or {})

    def answer(self, optional: dict[str, Any] | None = None) -> None:
        """ANM, or CON when no ACM was sent; ``optional`` as for :meth:`accept`."""
        self.dispatch("app_answer", optional or {})

    def progress(self, event: int = 1, optional: dict[str, Any] | None = None) -> None:
        """CPG with event information ``event`` (Q.763 3.21); ``optional`` as for
        :meth:`accept`."""
        self.dispatch("app_progress", event, optional or {})

    def send_digits(self, digits: str) -> None:
        self.dispatch("app_digits", digits)

    def release(self, cause: int = CAUSE_NORMAL) -> None:
        self.dispatch("app_release", cause)

    def reset(self) -> None:
        self.dispatch("app_reset")

    def suspend(self, network: bool = True) -> None:
        """SUS (Q.764 2.5): e.g. the called party went on hook and the network waits for it."""
        self.dispatch("app_suspend", network)

    def resume(self, network: bool = True) -> None:
        self.dispatch("app_resume", network)

    def national(self, message: str, params: dict[str, Any] | None = None) -> None:
        """Send a national message of the variant on the answered call (China: ``CCL``
        forward, ``MPM`` with ``charge_information`` backward, ``OPR`` either way)."""
        self.dispatch("app_national", message, params or {})

    def forward_transfer(self, params: dict[str, Any] | None = None) -> None:
        """FOT (Q.763 2.23) on our outgoing call after ACM or answer: ask the incoming
        exchange for an assistance operator; other states raise ``UnexpectedEvent``."""
        self.dispatch("app_fot", params or {})

    def continuity_result(self, ok: bool) -> None:
        """The check tone sent by the transceiver came back (``ok``) or was judged lost; a
        report when no check is running is ignored."""
        if self.fsm.lookup(self.state, "cc_result") is not None:
            self.dispatch("cc_result", ok, False)

    def continuity_recheck(self) -> None:
        """Maintenance: test an idle circuit with CCR (Q.764 2.1.8)."""
        self.dispatch("app_ccr")

    # continuity check (Q.764 2.1.8) --------------------------------------------------------------
    def _cc_equipment(self, equipment: str | None) -> None:
        if equipment != self.cc_equipment:
            self.cc_equipment = equipment
            self._listener("on_continuity", self, equipment)

    def _cc_start_check(self) -> None:
        """Connect the transceiver, send the check tone; T24 waits for its return."""
        self._cc_equipment("transceiver")
        self.timers.start("T24", self.dispatch, "T24", False, True)

    def cc_checked(self, ok: bool, expired: bool) -> str | None:
        """Outcome of the check made with the IAM: COT continuity and the call goes on, or
        COT failure, a repeat attempt of the call on another circuit and, after T25, the
        first recheck of this one."""
        if not expired and not self.timers.running("T24"):
            return None  # no check running: a late report after T24 has decided
        self.timers.stop("T24")
        self._cc_equipment(None)
        self.send("COT", {"continuity": int(ok)})
        if ok:
            return None
        self.timers.stop("T7")
        params = self.setup_params
        self._listener("on_maintenance", self.cic, "continuity check failed: repeat attempt")
        self._clear_call()
        self.isup.reattempt(self.dpc, params, exclude=self.cic, delay=0.0)
        self.cc_failures = 1
        self.timers.start("T25", self.dispatch, "T25")
        return "CC_RETEST"

    def send_ccr(self) -> None:
        self.send("CCR")
        self._cc_start_check()

    def cc_rechecked(self, ok: bool, expired: bool) -> str | None:
        """Recheck outcome: REL returns both ends to idle; a failure sends COT failure,
        alerts maintenance and repeats the recheck every T26."""
        if not expired and not self.timers.running("T24"):
            return None
        self.timers.stop("T24")
        self._cc_equipment(None)
        if ok:
            self.cc_failures = 0
            self.send_rel(CAUSE_NORMAL)
            return "WAIT_RLC"
        self.cc_failures += 1
        self.send("COT", {"continuity": 0})
        self._listener("on_maintenance", self.cic, f"continuity recheck failed ({self.cc_failures})")
        self.timers.start("T26", self.dispatch, "T26")
        return None

    def got_cot(self, msg: dict) -> str | None:
        """COT while the call waits (T8): continuity - the call is offered; failure on this
        circuit - the loop is removed and T27 waits for the recheck; failure on a previous
        circuit - the preceding exchange will release the call (T8 still runs)."""
        if msg["params"]["continuity"] & 1:
            self.timers.stop("T8")
            self._cc_equipment(None)
            self.cc_mode = 0
            self.state = "IN_WAIT_ACM"
            if not self.complete:
                self.timers.start("T35", self.dispatch, "T35")
            self._listener("on_setup", self)
            return self.state
        if self.cc_mode == 2:
            return None
        self.timers.stop("T8")
        self._clear_call()
        self.timers.start("T27", self.dispatch, "T27")
        return "CC_WAIT_CCR"

    def got_sam_before_cot(self, msg: dict) -> None:
        digits = msg["params"]["subsequent"]["digits"]
        self.complete = digits.endswith("F")
        self.called += digits.rstrip("F")

    def t8_expired(self) -> None:
        """T8: no COT - release the call (cause 41)."""
        self._cc_equipment(None)
        self.send_rel(CAUSE_TEMPORARY_FAILURE)

    def got_ccr(self, msg: dict) -> None:
        """CCR: connect the loop, LPA, T36 until COT failure or REL."""
        self.timers.stop("T27")
        self._cc_equipment("loop")
        self.send("LPA")
        self.timers.start("T36", self.dispatch, "T36")

    def got_cot_recheck(self, msg: dict) -> str | None:
        if msg["params"]["continuity"] & 1:
            return None
        self.timers.stop("T36")
        self._cc_equipment(None)
        self.timers.start("T27", self.dispatch, "T27")
        return "CC_WAIT_CCR"

    def cc_reset(self) -> None:
        """T27 (no CCR after a failed check) or T36 (no COT/REL after CCR): reset the circuit."""
        self._cc_equipment(None)
        self.send_rsc()

    # outgoing -------------------------------------------------------------------------------------
    def send_iam(self, params: dict[str, Any]) -> None:
        self.outgoing = True
        self.setup_params = params
        self.called = params["called"]["digits"].rstrip("F")
        cg = params.get("calling")
        if cg is not None:
            self.calling = cg["digits"]
            self.presentation = cg["ind"]["pres"]
        self.send("IAM", params)
        self.timers.start("T7", self.dispatch, "T7")
        if params["nature_of_connection"]["continuity_check"] == 1:
            self._cc_start_check()

    def send_sam(self, digits: str) -> None:
        self.called += digits
        self.send("SAM", {"subsequent": {"head": {"nai": 0, "odd": 0}, "digits": digits}})

    def send_inf(self, msg: dict) -> None:
        """Q.764 2.1.6: answer INR; bit A asks for the calling party address, bit D for the
        calling party's category (Q.763 3.29); INF bits BA / F say what is included (3.28)."""
        req = msg["params"]["information_request"]
        info = 0
        params: dict[str, Any] = {}
        if req & 0x01:
            cg = self.setup_params.get("calling")
            info |= 0x03 if cg is not None else 0x01  # 11 included / 01 not available
            if cg is not None:
                params["calling"] = cg
        if req & 0x08:
            info |= 0x20
            params["calling_category"] = self.setup_params.get("calling_category", 10)
        params["information"] = info
        self.send("INF", params)

    def got_acm(self, msg: dict) -> None:
        self.timers.stop("T7")
        self.timers.start("T9", self.dispatch, "T9")
        self._listener("on_alerting", self)

    def got_cpg(self, msg: dict) -> None:
        ev = msg["params"].get("event", {}).get("event")
        if ev in (1, 2):  # alerting, progress
            self._listener("on_alerting", self)

    def got_answer(self, msg: dict) -> None:
        self.timers.stop("T7")
        self.timers.stop("T9")
        self._listener("on_answer", self)

    def dual_seizure(self, msg: dict) -> str | None:
        """Q.764 2.9.1.4: the controlling exchange ignores the IAM; the other backs off, takes
        the incoming call and reattempts its own call on another circuit."""
        if self.controlling:
            return None
        self.timers.stop("T7")
        params = self.setup_params
        self._listener("on_glare", self)
        self._clear_call()
        self.isup.reattempt(self.dpc, params, exclude=self.cic)
        return self.got_iam(msg)

    def timeout_release(self) -> None:
        """T7/T35 (Q.764 2.1.4, 2.1.2): cause 102 / 28; T9 (2.1.8): cause 19; T6: cause 102."""
        cause = {"OUT_WAIT_ANM": CAUSE_NO_ANSWER, "IN_WAIT_ACM": CAUSE_INVALID_NUMBER}.get(
            self.state, CAUSE_RECOVERY_ON_TIMER)
        self._listener("on_release", self, cause)
        self.dispatch("app_release", cause)

    # incoming -------------------------------------------------------------------------------------
    def got_iam(self, msg: dict) -> str:
        p = msg["params"]
        self.outgoing = False
        self.called = p["called"]["digits"]
        self.complete = self.called.endswith("F")
        self.called = self.called.rstrip("F")
        cg = p.get("calling")
        if cg is not None:
            self.calling = cg["digits"]
            self.presentation = cg["ind"]["pres"]
            self.screening = cg["ind"]["screen"]
        self.category = p.get("calling_category")
        self.setup_params = p
        self.cc_mode = p["nature_of_connection"]["continuity_check"]
        if self.cc_mode in (1, 2):  # 2.1.8: hold the call until COT
            if self.cc_mode == 1:
                self._cc_equipment("loop")
            self.timers.start("T8", self.dispatch, "T8")
            return "IN_WAIT_COT"
        self.state = "IN_WAIT_ACM"  # the application may act inside on_setup
        if not self.complete:  # overlap signalling: more digits may follow in SAM (2.1.2)
            self.timers.start("T35", self.dispatch, "T35")
        self._listener("on_setup", self)
        return self.state

    def got_sam(self, msg: dict) -> None:
        digits = msg["params"]["subsequent"]["digits"]
        self.complete = digits.endswith("F")
        digits = digits.rstrip("F")
        self.called += digits
        if self.complete:
            self.timers.stop("T35")
        else:
            self.timers.start("T35", self.dispatch, "T35")
        self._listener("on_digits", self, digits)

    def send_acm(self, optional: dict[str, Any]) -> None:
        self.timers.stop("T35")
        self.send("ACM", {"backward_call": C.backward_call(), **optional})

    def send_cpg(self, event: int, optional: dict[str, Any]) -> None:
        self.send("CPG", {"event": {"event": event, "restricted": 0}, **optional})

    def send_anm(self, optional: dict[str, Any]) -> None:
        self.send("ANM", dict(optional))

    def send_con(self, optional: dict[str, Any]) -> None:
        self.timers.stop("T35")
        self.send("CON", {"backward_call": C.backward_call(), **optional})

    def send_national(self, message: str, params: dict[str, Any]) -> None:
        direction = NATIONAL_DIRECTION.get(message)
        if message not in C.NATIONAL_MESSAGES[self.isup.variant.name] or direction is None:
            raise EncodeError(f"{message} is not a message of the {self.isup.variant.name} variant")
        if direction != "both" and (direction == "forward") != self.outgoing:
            raise EncodeError(f"{message} is only sent in the {direction} direction")
        self.send(message, params)

    def got_national(self, msg: dict) -> None:
        self._listener("on_national", self, msg["message"], msg["params"])

    def send_fot(self, params: dict[str, Any]) -> None:
        if not self.outgoing:
            raise EncodeError("FOT is only sent in the forward direction")
        self.send("FOT", params)

    def got_fot(self, msg: dict) -> None:
        if not self.outgoing:  # a forward message arriving on our outgoing call is discarded
            self._listener("on_forward_transfer", self, msg["params"])

    def send_sus(self, network: bool) -> None:
        self.send("SUS", {"suspend_resume": {"network_initiated": int(network), "spare": 0}})

    def send_res(self, network: bool) -> None:
        self.send("RES", {"suspend_resume": {"network_initiated": int(network), "spare": 0}})

    def got_sus(self, msg: dict) -> None:
        """Q.764 2.5.1: T6 (network-initiated) or T2 (user-initiated) until RES."""
        self.suspended_by = "T6" if msg["params"]["suspend_resume"]["network_initiated"] \
            else "T2"
        self.timers.start(self.suspended_by, self.dispatch, "T6")

    def got_res(self, msg: dict) -> None:
        self.timers.stop("T6")
        self.timers.stop("T2")

    # release ------------------------------------------------------------------------------------
    def send_rel(self, cause: int) -> None:
        for t in _CALL_TIMERS:
            self.timers.stop(t)
        self._cc_equipment(None)
        self.cause = cause
        self.send("REL", self.isup.rel_params(cause))
        self.timers.start("T1", self.dispatch, "T1")
        if not self.timers.running("T5"):
            self.timers.start("T5", self.dispatch, "T5")

    def resend_rel(self) -> None:
        self.send("REL", self.isup.rel_params(self.cause or CAUSE_NORMAL))
        self.timers.start("T1", self.dispatch, "T1")

    def t5_reset(self) -> None:
        """Q.764 2.3.1 e): no RLC within T5 - alert maintenance, reset the circuit."""
        self.timers.stop("T1")
        self._listener("on_maintenance", self.cic, "T5 expired: no RLC")
        self.send_rsc()

    def got_rel(self, msg: dict) -> None:
        self.timers.stop_all()
        c = msg["params"]["cause"]["o2"]["cause"]
        self.cause = c
        self._listener("on_release", self, c)
        self.send("RLC", {})
        self._idle()

    def rel_collision(self, msg: dict) -> None:
        """Q.764 2.3.1 f): REL received while awaiting RLC - answer RLC and go idle."""
        self.timers.stop_all()
        self.send("RLC", {})
        self._idle()

    def answer_rlc(self, msg: dict) -> None:
        self.send("RLC", {})

    def got_rlc(self, msg: dict) -> None:
        self.timers.stop_all()
        self._idle()

    def _idle(self) -> None:
        self._clear_call()
        self._listener("on_idle", self)
        if self.pending_block == "BLO" and not self.timers.running("T12"):
            self.isup.block(self.cic)

    # reset ----------------------------------------------------------------------------------------
    def send_rsc(self) -> None:
        for t in ("T1", "T5", *_CALL_TIMERS):
            self.timers.stop(t)
        self._cc_equipment(None)
        self.send("RSC")
        self.timers.start("T16", self.dispatch, "T16")
        if not self.timers.running("T17"):
            self.timers.start("T17", self.dispatch, "T17")

    def resend_rsc(self) -> None:
        self.send("RSC")
        self.timers.start("T16", self.dispatch, "T16")

    def resend_rsc_alert(self) -> None:
        self._listener("on_maintenance", self.cic, "T17 expired: no RLC to RSC")
        self.send("RSC")
        self.timers.start("T17", self.dispatch, "T17")

    def got_rsc(self, msg: dict) -> None:
        """Q.764 2.10.3.1: clear the call, remove remote blocking, answer RLC (and re-block)."""
        was_busy = self.state not in ("IDLE", "RESETTING")
        self.timers.stop_all()
        if was_busy:
            self._listener("on_release", self, CAUSE_TEMPORARY_FAILURE)
        if self.remote_blocked:
            self.remote_blocked = False
            self._listener("on_blocking", self.cic, self.local_blocked, False)
        self.send("RLC", {})
        if self.local_blocked:
            self.send("BLO")
        self._listener("on_reset", [self.cic])
        self._idle()

    def local_reset(self) -> None:
        was_busy = self.state not in ("IDLE", "RESETTING")
        self.timers.stop_all()
        if was_busy:
            self._listener("on_release", self, CAUSE_TEMPORARY_FAILURE)
        self._clear_call()


class Isup:
    """The ISUP user part of one signalling point toward one or more destinations."""

    def __init__(self, scheduler: Scheduler, mtp3: Mtp3, *, variant: str = "itu",
                 listener: IsupListener | None = None, timers: dict[str, float] | None = None,
                 reset_on_resume: bool = True):
        self.scheduler = scheduler
        self.mtp3 = mtp3
        self.variant = C.VARIANTS[variant]
        self._by_code = self.variant.message_by_code()
        self.listener = listener or IsupListener()
        self.timer_table = ISUP_TIMERS.with_overrides(timers or {})
        self.circuits: dict[tuple[int, int], Circuit] = {}
        self._by_dpc: dict[int, list[Circuit]] = {}
        self.available: set[int] = set()
        self.status: dict[int, str] = {}  # last MTP-STATUS per destination
        self.reset_on_resume = reset_on_resume
        self._restarted: set[int] = set()
        self._grs_pending: dict[tuple[int, int], tuple[int, Timers]] = {}
        self._cg_pending: dict[tuple[str, int, int], Timers] = {}
        self._cq_pending: dict[tuple[int, int], tuple[int, Timers]] = {}
        self._sls = 0
        self.counters = {"rx": 0, "tx": 0, "rx_errors": 0, "cfn_sent": 0, "unknown_params": 0,
                         "segmented": 0, "sgm_discarded": 0, "t34_expired": 0}
        # Q.703 2.3: an MSU carries at most SIF_MAX octets, the routing label included
        self.max_length = SIF_MAX - MTP3_VARIANTS[self.variant.mtp3].label_len
        self.controls: dict[int, TrafficControl] = {}  # per destination, once it congests
        self.overload = 0  # our automatic congestion level (Q.764 2.11), 0 = not overloaded
        self._reassembly = Reassembly(self._deliver, self.counters, self.timer_table, scheduler)
        mtp3.register_user(SI_ISUP, self)

    def add_circuits(self, dpc: int, cics: Iterable[int]) -> None:
        for cic in cics:
            c = self.circuits[(dpc, cic)] = Circuit(self, cic, dpc)
            self._by_dpc.setdefault(dpc, []).append(c)

    def circuit(self, dpc: int, cic: int) -> Circuit | None:
        return self.circuits.get((dpc, cic))

    # sending ----------------------------------------------------------------------------------
    def send(self, dpc: int, cic: int, message: str, params: dict[str, Any] | None = None,
             unknown_params: list | None = None) -> None:
        """Encode and send; a message longer than the SIF allows goes as message + SGM
        (Q.764 2.1.12) or raises ``EncodeError``."""
        data = C.encode(message, cic, params, unknown_params)
        if len(data) > self.max_length:
            parts = C.segment(message, cic, params or {}, self.max_length, unknown_params)
            self.counters["segmented"] += 1
        else:
            parts = (data,)
        for part in parts:
            self.counters["tx"] += 1
            self.mtp3.transfer(SI_ISUP, dpc, cic & 0x0F, part)  # SLS = 4 LSBs of the CIC

    def rel_params(self, cause: int) -> dict[str, Any]:
        """REL parameters: the cause, and our automatic congestion level while we are
        overloaded (Q.764 2.11.2)."""
        params: dict[str, Any] = {"cause": C.cause(cause)}
        if self.overload:
            params["automatic_congestion_level"] = self.overload
        return params

    # application API ----------------------------------------------------------------------------
    def setup(self, dpc: int, called: str, calling: str | None = None, *, cic: int | None = None,
              presentation: int = 0, screening: int = 3, category: int | None = None,
              complete: bool = True, continuity_check: int = 0,
              optional: dict[str, Any] | None = None) -> Circuit:
        """Seize a circuit and send IAM (Q.764 2.1.1); raises :class:`NoCircuit`, or its
        subclass :class:`Congested` (cause 42) when traffic toward ``dpc`` is reduced (2.10,
        2.11) and this attempt is not admitted.
        ``continuity_check`` is the nature-of-connection indicator (Q.763 3.35): 1 checks
        this circuit with the IAM (2.1.8), 2 says a previous circuit is being checked.
        ``optional`` adds optional IAM parameters by name (e.g. ``user_to_user``,
        ``access_transport``); an IAM too long for one MSU goes as IAM + SGM (2.1.12)."""
        circuit = self._pick(dpc, cic)
        control = self.controls.get(dpc)
        if control is not None and not control.admit():
            raise Congested(dpc, control.step, control.acc_level)
        v = self.variant
        params: dict[str, Any] = {
            "nature_of_connection": C.nature_of_connection(continuity_check=continuity_check),
            "forward_call": C.forward_call(),
            "calling_category": v.calling_category if category is None else category,
            "transmission_medium_requirement": 0,
            "called": C.called_party(called + ("F" if complete and len(called) else ""),
                                     nai=v.called_nai),
        }
        if calling is not None:
            params["calling"] = C.calling_party(calling, nai=v.calling_nai, pres=presentation,
                                                screen=screening)
        if optional:
            params.update(optional)
        circuit.dispatch("app_setup", params)
        return circuit

    def _pick(self, dpc: int, cic: int | None, exclude: int | None = None) -> Circuit:
        if dpc not in self.available:
            raise NoCircuit(f"destination {dpc} not accessible")
        if cic is not None:
            c = self.circuits.get((dpc, cic))
            if c is None or c.state != "IDLE" or c.remote_blocked or c.local_blocked:
                raise NoCircuit(f"CIC {cic} is not idle and unblocked")
            return c
        fallback = None
        for c in self._by_dpc.get(dpc, ()):
            if c.state != "IDLE" or c.remote_blocked or c.local_blocked or c.cic == exclude:
                continue
            if c.controlling:  # prefer circuits we control: no glare loss (2.9.1.4)
                return c
            fallback = fallback or c
        if fallback is None:
            raise NoCircuit(f"no idle circuit toward {dpc}")
        return fallback

    def reattempt(self, dpc: int, params: dict[str, Any], exclude: int,
                  delay: float | None = None) -> None:
        """Automatic repeat attempt on another circuit: after backing off a dual seizure
        (Q.764 2.9.1.4, after T_glare) or a failed continuity check (2.1.8, at once)."""
        def again() -> None:
            try:
                c = self._pick(dpc, None, exclude)
            except NoCircuit:
                self.listener.on_maintenance(exclude, "repeat attempt: no circuit")
                return
            c.dispatch("app_setup", params)
        self.scheduler.call_later(self.timer_table.values["T_glare"] if delay is None else delay,
                                  again)

    def block(self, cic: int, dpc: int | None = None) -> None:
        """Maintenance blocking (Q.764 2.8.2.1): BLO, T12/T13 until BLA."""
        c = self._circuit_for(cic, dpc)
        c.pending_block = "BLO"
        c.send("BLO")
        c.timers.stop("T14")
        c.timers.stop("T15")
        c.timers.start("T12", self._repeat_block, c, "BLO", "T12")
        if not c.timers.running("T13"):
            c.timers.start("T13", self._repeat_block, c, "BLO", "T13")

    def unblock(self, cic: int, dpc: int | None = None) -> None:
        c = self._circuit_for(cic, dpc)
        c.pending_block = "UBL"
        c.timers.stop("T12")
        c.timers.stop("T13")
        c.send("UBL")
        c.timers.start("T14", self._repeat_block, c, "UBL", "T14")
        if not c.timers.running("T15"):
            c.timers.start("T15", self._repeat_block, c, "UBL", "T15")

    def _repeat_block(self, c: Circuit, msg: str, timer: str) -> None:
        if timer in ("T13", "T15"):
            self.listener.on_maintenance(c.cic, f"{timer} expired: no {'BLA' if msg == 'BLO' else 'UBA'}")
        c.send(msg)
        c.timers.start(timer, self._repeat_block, c, msg, timer)

    def _circuit_for(self, cic: int, dpc: int | None) -> Circuit:
        for (d, n), c in self.circuits.items():
            if n == cic and (dpc is None or d == dpc):
                return c
        raise NoCircuit(f"CIC {cic} not configured")

    def group_reset(self, dpc: int, first: int, last: int) -> None:
        """GRS (Q.764 2.10.3.2): reset first..last (at most 32), T22/T23 until GRA."""
        if not 0 <= last - first <= 31:
            raise EncodeError("a circuit group message covers 1..32 circuits")
        for n in range(first, last + 1):
            c = self.circuits.get((dpc, n))
            if c is not None:
                c.dispatch("group_reset")
        t = Timers(self.timer_table, self.scheduler)
        self._grs_pending[(dpc, first)] = (last, t)
        self._send_grs(dpc, first, last)
        t.start("T23", self._grs_alert, dpc, first, last)

    def _send_grs(self, dpc: int, first: int, last: int) -> None:
        self.send(dpc, first, "GRS", {"range_status": C.range_status(last - first)})
        entry = self._grs_pending.get((dpc, first))
        if entry is not None:
            entry[1].start("T22", self._send_grs, dpc, first, last)

    def _grs_alert(self, dpc: int, first: int, last: int) -> None:
        """Q.764 2.10.3.2: no GRA within T23 - alert maintenance, keep repeating every T23."""
        self.listener.on_maintenance(first, "T23 expired: no GRA")
        self._send_grs(dpc, first, last)
        entry = self._grs_pending.get((dpc, first))
        if entry is not None:
            entry[1].start("T23", self._grs_alert, dpc, first, last)

    def group_block(self, dpc: int, first: int, cics: list[int], hardware: bool = False,
                    unblock: bool = False) -> None:
        """CGB/CGU (Q.764 2.8.2.3) for the circuits ``cics`` within first..first+31."""
        rng = max(cics) - first
        if not 1 <= rng <= 31 or min(cics) < first:
            raise EncodeError("a circuit group message covers 2..32 circuits from its CIC")
        bits = [1 if first + i in cics else 0 for i in range(rng + 1)]
        msg = "CGU" if unblock else "CGB"
        params = {"cgs_type": {"type": 1 if hardware else 0},
                  "range_status": C.range_status(rng, bits)}
        t = Timers(self.timer_table, self.scheduler)
        self._cg_pending[(msg, dpc, first)] = t
        for n in cics:
            c = self.circuits.get((dpc, n))
            if c is not None:
                c.pending_group = msg
        short, long_ = ("T20", "T21") if unblock else ("T18", "T19")
        self.send(dpc, first, msg, params)
        t.start(short, self._repeat_group, t, short, dpc, first, msg, params)
        t.start(long_, self._repeat_group, t, long_, dpc, first, msg, params)

    def _repeat_group(self, t: Timers, timer: str, dpc: int, first: int, msg: str,
                      params: dict) -> None:
        """Q.764 2.8.2.3: repeat CGB/CGU on T18/T20; on T19/T21 alert maintenance too."""
        if timer in ("T19", "T21"):
            self.listener.on_maintenance(first, f"{timer} expired: no {msg}A")
        self.send(dpc, first, msg, params)
        t.start(timer, self._repeat_group, t, timer, dpc, first, msg, params)

    # MTP primitives ---------------------------------------------------------------------------------
    def mtp_resume(self, dpc: int) -> None:
        self.available.add(dpc)
        if self.reset_on_resume and dpc not in self._restarted:
            self._restarted.add(dpc)
            cics = sorted(n for d, n in self.circuits if d == dpc)
            while cics:  # Q.764 2.10.3.2: circuit group reset on restart, 32 at a time
                first = cics[0]
                group = [n for n in cics if n - first < 32]
                cics = cics[len(group):]
                self.group_reset(dpc, first, group[-1])

    def mtp_restart(self) -> None:
        """MTP-RESTART (Q.701 8.5): the local MTP restarts, so the first MTP-RESUME of each
        destination afterwards resets its circuits with GRS (Q.764 2.10.3.2)."""
        self._restarted.clear()

    def mtp_pause(self, dpc: int) -> None:
        self.available.discard(dpc)

    def mtp_status(self, dpc: int, cause: str) -> None:
        """MTP-STATUS (Q.704 11.2.3): remembered per destination for the application; a
        congestion indication drives the traffic reduction of Q.764 2.10."""
        self.status[dpc] = cause
        if cause in CONGESTION_CAUSES:
            self.control(dpc).congestion()

    def control(self, dpc: int) -> TrafficControl:
        """The traffic control toward ``dpc`` (Q.764 2.10 / 2.11), made when first needed."""
        ctl = self.controls.get(dpc)
        if ctl is None:
            ctl = self.controls[dpc] = TrafficControl(dpc, self.timer_table, self.scheduler,
                                                      self._traffic_changed)
        return ctl

    def _traffic_changed(self, dpc: int, step: int, acc_level: int) -> None:
        self.listener.on_traffic_control(dpc, step, acc_level)

    def set_overload(self, level: int) -> None:
        """Our exchange's overload state (Q.764 2.11.2): at level 1 or 2 every REL we send
        carries that automatic congestion level (Q.763 3.4); 0 ends it."""
        if level not in (0, 1, 2):
            raise ValueError(f"automatic congestion level {level!r}: 0 (none), 1 or 2")
        self.overload = level

    def mtp_transfer(self, opc: int, dpc: int, sls: int, data: bytes) -> None:
        self.counters["rx"] += 1
        try:
            msg = C.decode(data, self._by_code)
        except C.UnknownMessage as e:
            self._unknown_message(opc, e)
            return
        except C.IsupDecodeError:
            self.counters["rx_errors"] += 1
            return
        name = msg["message"]
        handler = _GROUP_HANDLERS.get(name)
        if handler is not None:  # (group messages have no optional part)
            getattr(self, handler)(opc, msg)
            return
        c = self.circuits.get((opc, msg["cic"]))
        if c is None:  # Q.764 2.12: unequipped circuit
            if name != "UCIC":
                self.send(opc, msg["cic"], "UCIC")
            return
        if name in _SEGMENTATION or self._reassembly.held:
            self._reassembly.receive(c, msg)  # Q.764 2.1.12: may hold it for its SGM (T34)
        else:
            self._deliver(c, msg)

    def _deliver(self, c: Circuit, msg: dict) -> None:
        """A whole (reassembled) message: the compatibility procedure, then its procedure."""
        if msg["unknown_params"] and not self._unknown_params(c.dpc, msg):
            return
        self._circuit_message(c, msg["message"], msg)

    def _circuit_message(self, c: Circuit, name: str, msg: dict) -> None:
        if name == "REL" and "automatic_congestion_level" in msg["params"]:
            self.control(c.dpc).acc(msg["params"]["automatic_congestion_level"])  # 2.11.2
        if name in ("BLO", "UBL", "BLA", "UBA"):
            getattr(self, "_rx_" + name.lower())(c)
            return
        if name == "CFN":
            self.listener.on_confusion(c.cic, msg["params"]["cause"]["o2"]["cause"])
            return
        if name == "UCIC":
            c.timers.stop_all()
            self.listener.on_maintenance(c.cic, "UCIC: circuit unequipped at the remote end")
            return
        if c.dispatch("rx_" + name, msg, if_row=True) is not NO_ROW:
            return
        if c.state == "IDLE" and name in ("ACM", "ANM", "CON", "CPG", "SUS", "RES", "SAM",
                                         "INR", "INF"):
            c.dispatch("app_reset")  # Q.764 2.10.3.1 (unreasonable message on idle circuit)

    # blocking messages (2.8.2)
    def _rx_blo(self, c: Circuit) -> None:
        c.remote_blocked = True
        c.remote_hw = False  # maintenance blocking (one flag per side: the latest kind)
        c.send("BLA")
        self.listener.on_blocking(c.cic, c.local_blocked, True)

    def _rx_ubl(self, c: Circuit) -> None:
        c.remote_blocked = False
        c.send("UBA")
        self.listener.on_blocking(c.cic, c.local_blocked, False)

    def _rx_bla(self, c: Circuit) -> None:
        if c.pending_block == "BLO":
            c.timers.stop("T12")
            c.timers.stop("T13")
            c.pending_block = None
            c.local_blocked = True
            c.local_hw = False
            self.listener.on_blocking(c.cic, True, c.remote_blocked)

    def _rx_uba(self, c: Circuit) -> None:
        if c.pending_block == "UBL":
            c.timers.stop("T14")
            c.timers.stop("T15")
            c.pending_block = None
            c.local_blocked = False
            self.listener.on_blocking(c.cic, False, c.remote_blocked)

    # group messages
    def _group(self, opc: int, msg: dict) -> list[Circuit | None]:
        rs = msg["params"]["range_status"]
        first = msg["cic"]
        return [self.circuits.get((opc, first + i)) for i in range(rs["range"] + 1)]

    def _rx_grs(self, opc: int, msg: dict) -> None:
        circuits = self._group(opc, msg)
        bits = []
        for c in circuits:
            if c is not None:
                c.dispatch("group_reset")
                if c.remote_blocked:
                    c.remote_blocked = False
            bits.append(1 if c is not None and c.local_blocked else 0)
        rs = msg["params"]["range_status"]
        self.send(opc, msg["cic"], "GRA", {"range_status": C.range_status(rs["range"], bits)})
        self.listener.on_reset([c.cic for c in circuits if c is not None])

    def _rx_gra(self, opc: int, msg: dict) -> None:
        entry = self._grs_pending.pop((opc, msg["cic"]), None)
        if entry is None:
            return
        entry[1].stop_all()
        bits = C.status_bits(msg["params"]["range_status"])
        for c, b in zip(self._group(opc, msg), bits, strict=False):
            if c is not None:
                c.remote_blocked = bool(b)

    def _rx_cgb(self, opc: int, msg: dict, block: bool = True) -> None:
        rs = msg["params"]["range_status"]
        bits = C.status_bits(rs)
        hardware = msg["params"]["cgs_type"]["type"] == 1
        for c, b in zip(self._group(opc, msg), bits, strict=False):
            if c is None or not b:
                continue
            c.remote_blocked = block
            c.remote_hw = block and hardware
            if block and hardware and c.state not in ("IDLE", "RESETTING"):
                c.dispatch("group_reset")  # Q.764 2.8.2.3: hardware blocking clears calls
            self.listener.on_blocking(c.cic, c.local_blocked, block)
        self.send(opc, msg["cic"], "CGBA" if block else "CGUA",
                  {"cgs_type": msg["params"]["cgs_type"], "range_status": rs})

    def _rx_cgu(self, opc: int, msg: dict) -> None:
        self._rx_cgb(opc, msg, block=False)

    def _rx_cgba(self, opc: int, msg: dict, block: bool = True) -> None:
        t = self._cg_pending.pop(("CGB" if block else "CGU", opc, msg["cic"]), None)
        if t is None:  # Q.764 2.8.2.3: an acknowledgement we did not ask for is discarded
            return
        t.stop_all()
        bits = C.status_bits(msg["params"]["range_status"])
        hardware = msg["params"]["cgs_type"]["type"] == 1
        for c, b in zip(self._group(opc, msg), bits, strict=False):
            if c is not None and c.pending_group == ("CGB" if block else "CGU"):
                c.pending_group = None
            if c is not None and b:
                c.local_blocked = block
                c.local_hw = block and hardware
                self.listener.on_blocking(c.cic, block, c.remote_blocked)

    def _rx_cgua(self, opc: int, msg: dict) -> None:
        self._rx_cgba(opc, msg, block=False)

    # circuit group query (2.8.3) --------------------------------------------------------------------
    def query(self, dpc: int, first: int, last: int) -> None:
        """CQM for first..last (1 to 32 circuits), T28 until the CQR, whose states come to
        ``IsupListener.on_query``; no CQR: maintenance is alerted (Q.764 A.1)."""
        if not 0 <= last - first <= 31:
            raise EncodeError("a circuit group query covers 1..32 circuits")
        old = self._cq_pending.pop((dpc, first), None)
        if old is not None:
            old[1].stop_all()
        t = Timers(self.timer_table, self.scheduler)
        self._cq_pending[(dpc, first)] = (last, t)
        self.send(dpc, first, "CQM", {"range_status": C.range_status(last - first)})
        t.start("T28", self._cq_expired, dpc, first)

    def _cq_expired(self, dpc: int, first: int) -> None:
        self._cq_pending.pop((dpc, first), None)
        self.listener.on_maintenance(first, "T28 expired: no CQR")

    def circuit_state(self, dpc: int, cic: int) -> dict[str, str]:
        """Our state of one circuit in Q.763 3.14 terms (``call``, ``maintenance``,
        ``hardware``).  A circuit carries one blocking flag per side, so one blocked by CGB
        of type hardware failure reports hardware blocking only; on a busy circuit (which
        Q.763 3.14 codes without hardware state) it is reported as maintenance blocking."""
        c = self.circuits.get((dpc, cic))
        if c is None:
            return {"call": "unequipped", "maintenance": "none", "hardware": "none"}
        call = _QUERY_STATES.get(c.state)
        if call == "transient" or c.pending_block or c.pending_group:
            return {"call": "transient", "maintenance": "none", "hardware": "none"}
        if call is None:
            call = "outgoing busy" if c.outgoing else "incoming busy"
        local_hw = c.local_blocked and c.local_hw and call == "idle"
        remote_hw = c.remote_blocked and c.remote_hw and call == "idle"
        return {"call": call,
                "maintenance": C.BLOCKING[(c.local_blocked and not local_hw)
                                          + 2 * (c.remote_blocked and not remote_hw)],
                "hardware": C.BLOCKING[local_hw + 2 * remote_hw]}

    def _rx_cqm(self, opc: int, msg: dict) -> None:
        """Q.764 2.8.3: answer with the state of each circuit; a range over 31 is discarded."""
        rng = msg["params"]["range_status"]["range"]
        if rng > 31:
            self.counters["rx_errors"] += 1
            return
        states = [C.circuit_state_octet(**self.circuit_state(opc, msg["cic"] + i))
                  for i in range(rng + 1)]
        self.send(opc, msg["cic"], "CQR", {"range_status": C.range_status(rng),
                                           "circuit_state": states})

    def _rx_cqr(self, opc: int, msg: dict) -> None:
        entry = self._cq_pending.pop((opc, msg["cic"]), None)
        if entry is None:  # a response to no query of ours: discarded
            return
        entry[1].stop_all()
        first, octets = msg["cic"], msg["params"]["circuit_state"]
        if len(octets) != msg["params"]["range_status"]["range"] + 1:
            self.counters["rx_errors"] += 1
            self.listener.on_maintenance(first, "CQR: circuit states do not match its range")
            return
        report = []
        for i, o in enumerate(octets):
            remote, local = C.circuit_state(o), self.circuit_state(opc, first + i)
            report.append({"cic": first + i, "remote": remote, "local": local,
                           "agrees": _agree(local, remote)})
        self.listener.on_query(opc, first, report)

    # compatibility (2.10.5) -------------------------------------------------------------------------
    def _unknown_message(self, opc: int, e: C.UnknownMessage) -> None:
        """Q.764 2.10.5.1: act on the message compatibility information, else CFN (97)."""
        self.counters["rx_errors"] += 1
        mci = e.compat or {"release_call": 0, "send_notification": 1, "discard_message": 1}
        c = self.circuits.get((opc, e.cic))
        if mci.get("release_call") and c is not None and c.state != "IDLE":
            c.release(CAUSE_MSG_NOT_IMPLEMENTED)
        elif mci.get("send_notification"):
            self._send_cfn(opc, e.cic, CAUSE_MSG_NOT_IMPLEMENTED, bytes((e.code,)))

    def _unknown_params(self, opc: int, msg: dict) -> bool:
        """Q.764 2.10.5.2: per-parameter instructions from the parameter compatibility
        information; without one the parameter is discarded.  Returns False when the whole
        message is to be discarded."""
        self.counters["unknown_params"] += len(msg["unknown_params"])
        pci = {p["code"]: p["instr"] for p in msg["params"].get("parameter_compatibility", [])}
        notify: list[int] = []
        for u in msg["unknown_params"]:
            instr = pci.get(u["code"])
            if instr is None:
                continue
            if instr["release_call"]:
                c = self.circuits.get((opc, msg["cic"]))
                if c is not None:
                    if c.state == "IDLE":  # refusing the IAM itself: REL, await RLC
                        c.send_rel(CAUSE_PARAM_NOT_IMPLEMENTED)
                        c.state = "WAIT_RLC"
                    else:
                        c.release(CAUSE_PARAM_NOT_IMPLEMENTED)
                return False
            if instr["send_notification"]:
                notify.append(u["code"])
            if instr["discard_message"]:
                if notify:
                    self._send_cfn(opc, msg["cic"], CAUSE_PARAM_NOT_IMPLEMENTED, bytes(notify))
                return False
        if notify:
            self._send_cfn(opc, msg["cic"], CAUSE_PARAM_NOT_IMPLEMENTED, bytes(notify))
        return True

    def _send_cfn(self, opc: int, cic: int, cause: int, diagnostic: bytes) -> None:
        self.counters["cfn_sent"] += 1
        self.send(opc, cic, "CFN", {"cause": C.cause(cause, diagnostic=diagnostic)})


_MIRROR = {"local": "remote", "remote": "local", "incoming busy": "outgoing busy",
           "outgoing busy": "incoming busy"}


def _agree(local: dict[str, str], remote: dict[str, str]) -> bool | None:
    """Whether the far end's view of a circuit is the mirror of ours (its local blocking our
    remote, its incoming busy our outgoing); None when either side is transient."""
    if "transient" in (local["call"], remote["call"]):
        return None
    return all(_MIRROR.get(v, v) == local[k] for k, v in remote.items())


_GROUP_HANDLERS = {"GRS": "_rx_grs", "GRA": "_rx_gra", "CGB": "_rx_cgb", "CGU": "_rx_cgu",
                   "CGBA": "_rx_cgba", "CGUA": "_rx_cgua", "CQM": "_rx_cqm", "CQR": "_rx_cqr"}
# messages the reassembly of Q.764 2.1.12 must see (those that may announce an SGM, and SGM)
_SEGMENTATION = frozenset((*C.SEGMENTING_INDICATOR, "SGM"))
# circuit query (Q.764 2.8.3): the call processing state each circuit state reports; None is
# "incoming busy" or "outgoing busy" by the call's direction.  Transient: an IAM sent and no
# backward message yet, a REL or RSC sent and no RLC yet (awaited acknowledgements of our
# blocking are transient too, see Isup.circuit_state)
_QUERY_STATES: dict[str, str | None] = {
    "IDLE": "idle", "CC_WAIT_CCR": "idle", "OUT_WAIT_ACM": "transient", "WAIT_RLC": "transient",
    "RESETTING": "transient", "CC_RETEST": "outgoing busy", "CC_LOOPED": "incoming busy",
    "IN_WAIT_COT": "incoming busy"}
