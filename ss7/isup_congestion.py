"""ISUP traffic control toward one destination: signalling congestion control (Q.764 2.10)
and automatic congestion control (Q.764 2.11).

Q.764 2.10.2: the first congestion indication (MTP-STATUS, Q.704 11.2.3) reduces the traffic
into the destination by one step and starts T29 and T30; indications while T29 runs are
ignored; one after T29 but within T30 reduces one more step and restarts both; T30 expiring
restores one step and restarts T30 until full load is back.  Q.764 2.11: a REL carrying an
automatic congestion level says the exchange that sent it is overloaded; traffic toward it is
reduced (how much, and for how long, is a national matter: :data:`ACC_SHARE`, timer T_acc).

"Reduce" means concretely: each new outgoing call attempt (IAM) toward the destination is
admitted with the share of :data:`REDUCTION_STEPS` (signalling congestion) and :data:`ACC_SHARE`
(ACC), whichever is smaller, by a deterministic credit counter (call percentage control,
E.412 2.3.1); ``Isup.setup`` refuses an attempt not admitted with ``ss7.isup.Congested``,
cause 42 "switching equipment congestion" (Q.850), to the application.  Calls already set up
are not touched.
"""

from __future__ import annotations

from collections.abc import Callable

from core.clock import Scheduler
from core.fsm import FsmTable, Machine, Row
from core.timers import Timers, TimerTable

# share of new call attempts admitted at each reduction step (the number of steps and their
# amounts are an implementation matter, Q.764 2.10.2); step 0 is full load
REDUCTION_STEPS: tuple[float, ...] = (1.0, 0.75, 0.5, 0.25, 0.1)
# share admitted toward an exchange that sent REL with automatic congestion level 1 / 2
ACC_SHARE: dict[int, float] = {0: 1.0, 1: 0.5, 2: 0.25}
# MTP-STATUS causes that are congestion indications (TFC; local link congestion)
CONGESTION_CAUSES = frozenset(("signalling network congestion", "congested"))
CAUSE_CONGESTION = 42  # Q.850 switching equipment congestion

CONGESTION_FSM = FsmTable("isup.congestion", ["FULL", "IGNORING", "REDUCED"], [
    Row("FULL", "congestion", "reduce", "IGNORING"),
    Row("IGNORING", "congestion", None),  # T29 running: indications ignored
    Row("IGNORING", "T29", None, "REDUCED"),
    Row("REDUCED", "congestion", "reduce", "IGNORING"),
    Row("IGNORING", "T30", "restore"),  # only when T30 is set shorter than T29
    Row("REDUCED", "T30", "restore"),
])


class TrafficControl(Machine):
    """Traffic control toward one destination point code: the Q.764 2.10 step machine
    (:data:`CONGESTION_FSM`) and the ACC level last received from it (2.11).
    ``notify(dpc, step, acc_level)`` is called on every change."""

    fsm = CONGESTION_FSM

    def __init__(self, dpc: int, table: TimerTable, scheduler: Scheduler,
                 notify: Callable[[int, int, int], None]):
        self.state = "FULL"
        self.dpc = dpc
        self.step = 0
        self.acc_level = 0
        self.timers = Timers(table, scheduler)
        self._notify = notify
        self._credit = 0.0

    @property
    def share(self) -> float:
        """Share of new call attempts admitted now."""
        return min(REDUCTION_STEPS[self.step], ACC_SHARE[self.acc_level])

    def congestion(self) -> None:
        """A congestion indication for this destination (MTP-STATUS)."""
        self.dispatch("congestion")

    def admit(self) -> bool:
        """Whether one new call attempt may go (counted against the admitted share)."""
        share = self.share
        if share >= 1.0:
            return True
        self._credit += share
        if self._credit >= 1.0 - 1e-9:
            self._credit -= 1.0
            return True
        return False

    # Q.764 2.10.2 ---------------------------------------------------------------------------
    def reduce(self) -> None:
        """One step down (none past the last), T29 and T30 (re)started."""
        self.timers.start("T29", self.dispatch, "T29")
        self.timers.start("T30", self.dispatch, "T30")
        if self.step < len(REDUCTION_STEPS) - 1:
            self.step += 1
            self._changed()

    def restore(self) -> str | None:
        """T30 expired: one step up; T30 again unless full load is back."""
        self.step -= 1
        self._changed()
        if self.step == 0:
            self.timers.stop("T29")
            return "FULL"
        self.timers.start("T30", self.dispatch, "T30")
        return None

    # Q.764 2.11.2 ---------------------------------------------------------------------------
    def acc(self, level: int) -> None:
        """REL with automatic congestion level ``level`` (1 or 2) received from this
        destination: reduce to :data:`ACC_SHARE` until T_acc passes without another."""
        level = level if level in ACC_SHARE else 2  # an unknown level: the strongest known
        self.timers.start("T_acc", self._acc_over)
        if level != self.acc_level:
            self.acc_level = level
            self._changed()

    def _acc_over(self) -> None:
        self.acc_level = 0
        self._changed()

    def _changed(self) -> None:
        if self.share >= 1.0:
            self._credit = 0.0
        self._notify(self.dpc, self.step, self.acc_level)

    def status(self) -> dict[str, object]:
        return {"dpc": self.dpc, "state": self.state, "step": self.step,
                "acc_level": self.acc_level, "share": self.share}
