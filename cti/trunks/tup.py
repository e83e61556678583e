"""China TUP trunk (Q.721..Q.725 and the China national specification): the calls of an
:class:`ss7.tup.Tup` user part on the circuits of a span, through the same signalling point,
link and continuity equipment as the ISUP trunk (:class:`SignallingPointTrunk`).

TUP has no cause parameter: an incoming call is refused with an unsuccessful backward
signal, and the signals are reported as Q.850 causes.  The table below is ours (no
recommendation pairs them); each signal's meaning is Q.723 3.9's and the cause is the Q.850
cause of the same meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cti.calls import Call, CallError, CallEvent
from cti.trunks.ss7 import SignallingPointTrunk
from ss7.tup import TupCircuit, TupListener

# unsuccessful backward signal (Q.723 3.9) -> Q.850 cause of the same meaning
SIGNAL_CAUSE = {
    "SEC": 42,  # switching-equipment-congestion
    "CGC": 34,  # circuit-group-congestion: no circuit available
    "NNC": 34,  # national-network-congestion
    "ADI": 28,  # address-incomplete
    "CFL": 41,  # call-failure: time-out or fault not covered by another signal
    "SSB": 17,  # subscriber-busy
    "SLB": 17,  # subscriber-local-busy (China)
    "STB": 17,  # subscriber-toll-busy (China)
    "UNN": 1,   # unallocated-number
    "LOS": 27,  # line-out-of-service
    "SST": 4,   # send-special-information-tone
    "ACB": 21,  # access-barred
    "DPN": 58,  # digital-path-not-provided: bearer capability not available
}
# Q.850 cause -> the signal refusing an incoming call (CFL for the others)
CAUSE_SIGNAL = {17: "SSB", 1: "UNN", 4: "SST", 21: "ACB", 27: "LOS", 28: "ADI", 34: "CGC",
                42: "SEC", 58: "DPN"}
NORMAL = 16


class TupTrunk(SignallingPointTrunk, TupListener):
    """TUP calls on the trunk's circuits; the calling party controls the release (Q.724 5):
    a called party hanging up sends CBK and waits for the caller's CLF."""

    kind = "tup"
    user_part = "tup"
    no_circuit = LookupError  # no idle unblocked circuit, destination inaccessible

    # --- TUP listener -> call model ------------------------------------------------------
    def on_setup(self, call: TupCircuit) -> None:
        c = self.calls.get(call)
        if c is not None:  # GSM answered our GRQ: the calling line identity arrived
            c.ani = call.calling or c.ani
            return
        self.offered(call, dnis=call.called, ani=call.calling or "", category=call.category,
                     presentation="restricted" if call.restricted else "allowed",
                     slot=self._slot(call))

    def on_digits(self, call: TupCircuit, digits: str) -> None:
        """SAM/SAO after the IAM (overlap): the offered call's number grows."""
        c = self.calls.get(call)
        if c is not None:
            c.dnis = call.called

    def on_alerting(self, call: TupCircuit) -> None:
        c = self.calls.get(call)
        if c is not None:
            c.notify(CallEvent.ALERTING)

    def on_answer(self, call: TupCircuit) -> None:
        c = self.calls.get(call)
        if c is not None and c.cause is None:
            self.counters["answered"] += 1
            c.notify(CallEvent.CONNECTED)

    def on_rejected(self, call: TupCircuit, signal: str) -> None:
        self._disconnected(call, SIGNAL_CAUSE.get(signal, 41))

    def on_clear_back(self, call: TupCircuit) -> None:
        """CBK: the called party hung up.  The call model has no re-answer (RAN) state, so
        the kernel clears forward at once (CLF) instead of holding the circuit for T_CLB,
        as the ISUP trunk's release is complete when REL arrives."""
        self._disconnected(call, NORMAL)
        call.release()

    def on_release(self, call: TupCircuit) -> None:
        self._disconnected(call, NORMAL)

    def _disconnected(self, call: TupCircuit, cause: int) -> None:
        c = self.calls.get(call)
        if c is not None:
            c.notify(CallEvent.DISCONNECTED, cause=cause)

    def on_idle(self, call: TupCircuit) -> None:
        c = self.calls.get(call)
        self.ended(call, None if c is None else c.cause)

    def on_repeat_attempt(self, call: TupCircuit, new: TupCircuit) -> None:
        """The call moved to another circuit (dual seizure backed off, continuity failed)."""
        c = self.calls.pop(call, None)
        if c is not None:
            self.calls[new] = c
            c.slot = self._slot(new)

    def on_metering(self, call: TupCircuit, pulses: int, total: int) -> None:
        """MPM charging (China TUP): each unit charging time the pulses charged so far go in
        the call's data and the call raises METERING."""
        self._signal(call, CallEvent.METERING, metering_pulses=total)

    def on_malicious(self, call: TupCircuit) -> None:
        """The called side identified the call as malicious (MAL, or GRQ with the
        malicious-call indicator): marked in its data (the record of its numbers and time
        is the call's own), MALICIOUS raised."""
        self._signal(call, CallEvent.MALICIOUS, malicious=True)

    def on_operator(self, call: TupCircuit) -> None:
        """OPR: the operator on the incoming call asks to re-ring the called party
        (OPERATOR; answering a call that cleared back sends RAN)."""
        self._signal(call, CallEvent.OPERATOR)

    def on_calling_cleared(self, call: TupCircuit) -> None:
        """CCL: the caller hung up but the originating exchange holds the connection (hold
        asked for with :meth:`identify_malicious`); the call stays connected, raising
        CALLING_CLEARED, until this side clears it (CBK, then the far end's CLF)."""
        self._signal(call, CallEvent.CALLING_CLEARED, calling_cleared=True)

    def _signal(self, circuit: TupCircuit, event: CallEvent, **data: Any) -> None:
        c = self.calls.get(circuit)
        if c is not None:
            c.data.update(data)
            c.notify(event)

    # --- call model -> TUP ---------------------------------------------------------------
    def _setup(self, call: Call, cic: int) -> TupCircuit:
        """IAM, or IAI with the calling number (Q.724 2); the call's calling-party category
        (Q.723 3.2) when it has one, else the variant's ordinary subscriber."""
        return self.user.setup(self.dpc, call.dnis, call.ani or None, cic=cic,
                               restricted=call.presentation == "restricted",
                               category=call.category,
                               continuity_check=call.data.get("continuity_check", 0))

    # China national procedures asked for by the application (GF 001-9001) ----------------
    def identify_malicious(self, call: Call, hold: bool = False) -> None:
        """Incoming call: have the originating exchange identify it as malicious - MAL; with
        ``hold``, GRQ with the malicious-call and hold indicators (Q.724 2.5), so that the
        caller's clear holds the connection (CCL) until this side clears."""
        if hold:
            self._request(call, False, "app_request", lambda c: c.request_calling(True, True))
        else:
            self._request(call, False, "app_malicious", TupCircuit.report_malicious)
        call.data["malicious"] = True

    def operator_recall(self, call: Call) -> None:
        """Outgoing call from an operator (calling-party category 1-9, Q.723 3.2): OPR asks
        the far end to re-ring the called party of the answered (or cleared-back) call."""
        self._request(call, True, "app_operator", TupCircuit.operator_recall)

    def charge(self, call: Call, pulses: int) -> None:
        """Incoming call, this side charging: MPM with ``pulses`` per unit charging time
        (0..65535); the originating exchange counts them every T_MPM from answer."""
        self._request(call, False, "app_charge", lambda c: c.charge(pulses))

    def _request(self, call: Call, outgoing: bool, event: str,
                 action: Callable[[TupCircuit], None]) -> None:
        """Run ``action`` on the call's circuit when its direction and TUP state take
        ``event``; else :class:`CallError` naming why."""
        try:
            circuit = self._circuit(call)
        except KeyError as e:
            raise CallError(str(e)) from None
        if circuit.outgoing != outgoing:
            raise CallError(f"call {call.id}: for {'outgoing' if outgoing else 'incoming'} "
                            f"calls only")
        if circuit.fsm.lookup(circuit.state, event) is None:
            raise CallError(f"call {call.id}: not possible with the circuit {circuit.state}")
        try:
            action(circuit)
        except ValueError as e:
            raise CallError(f"call {call.id}: {e}") from None

    def reject(self, call: Call, cause: int) -> None:
        self._circuit(call).reject(CAUSE_SIGNAL.get(cause, "CFL"))
        call.notify(CallEvent.DISCONNECTED, cause=cause)

    def drop(self, call: Call, cause: int) -> None:
        """The caller's side clears forward (CLF); the called side refuses an unanswered call
        with its backward signal, or clears back (CBK) an answered one."""
        circuit = self._circuit(call)
        if circuit.outgoing:
            if circuit.state not in ("WAIT_RLG", "IDLE"):
                circuit.release()
        elif circuit.state in ("IN_SETUP", "IN_ALERTING"):
            circuit.reject(CAUSE_SIGNAL.get(cause, "CFL"))
        elif circuit.state == "ANSWERED":
            circuit.clear_back()
        call.notify(CallEvent.DISCONNECTED, cause=cause)

    def release(self, call: Call) -> None:
        self.drop(call, NORMAL)
