"""MTP3 signalling point (Q.704) with signalling link test (Q.707).

* message discrimination and distribution by SI (Q.704 2.3-2.4): SNM (0), SLT (1, 2), TUP (4),
  ISUP (5); unknown user parts get UPU (Q.704 2.4.3);
* message routing with load sharing by SLS over the links of a linkset (Q.704 2.3.5, 4.2) and
  over route sets (linksets in priority order);
* signalling link management: link activation through MTP2, SLTM/SLTA on activation and every
  SLT T2, a failed test or link failure restarts the link after T17 (Q.704 12, Q.707 5);
* changeover (COO/COA, ECO/ECA, Q.704 5) with retrieval of unacknowledged MSUs from MTP2 by the
  BSN the remote reports, time-controlled changeover when T2 expires, changeback (CBD/CBA, Q.704 6)
  with buffering so nothing is lost or reordered;
* MTP restart of a signalling end point (Q.704 9): T18/T20 at the restarting point, TRA toward
  each adjacent point once its linkset is available, T21 at the adjacent point, users resumed
  only when the restart ends; transfer-prohibited/restricted/allowed (TFP/TFR/TFA, Q.704 13)
  with the signalling route set test (RST/RSR every T10) and MTP-PAUSE /
  MTP-RESUME / MTP-STATUS / MTP-RESTART to users (Q.704 2.4, 11.2; Q.701 8);
* management inhibiting (Q.704 10): LIN/LIA/LID, LUN/LUA, LFU, LLT/LRT with T12-T14, T22, T23;
* an unexpected TRA (Q.704 9.4) is answered with the routing status and TRA, and T19 then
  discards further TRA from that point;
* the signalling transfer point (``stp=True``, Q.704 2.3, 13): MSUs for other points are routed
  like local traffic; one for an inaccessible destination is discarded and answered with TFP
  (response method, T8); route set changes are broadcast as TFP/TFA (TFR as the national
  option ``tfr``, after T11) to the adjacent points, TFP to the one the route goes through;
  RST/RSR are answered (13.5.3); a restarting transfer point sends its routing status before
  its TRA;
* signalling route set congestion (Q.704 11.2.3, 13.1, 13.7, 13.9, one congestion level): a
  transfer point whose link set toward a destination is congested still sends the MSUs it
  carries there and sends TFC to their originating points (the first and one per 8) and
  answers RCT with TFC; an originating point tells its users (MTP-STATUS) of every TFC
  about an accessible destination, and of its own messages toward a congested link set at
  the same rate, which is all the international network does (13.1).  The national option
  ``rct`` adds the signalling-route-set-congestion-test: the route set is marked congested
  and tested with RCT after T15, T16 waiting for a TFC before the congestion ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from core.clock import Scheduler
from core.fsm import FsmTable, Machine, Row
from core.timers import Timers
from ss7.mtp2 import Mtp2Link
from ss7.mtp3_codec import (
    NI_NATIONAL,
    SI_SLTM,
    SI_SLTM_SPECIAL,
    SI_SNM,
    SIO,
    VARIANTS,
    Mtp3DecodeError,
    decode_msu,
    decode_slt,
    decode_snm,
    encode_msu,
    encode_slt,
    encode_snm,
)
from ss7.timers import MTP3_TIMERS

_SLS_SPREAD = [int(f"{i:04b}"[::-1], 2) for i in range(16)]  # 4-bit reversal
SLT_PATTERN = b"ctikernel-slt"  # Q.707 2.2: 0..15 octets of test pattern


class MtpUser(Protocol):
    """An MTP user part (ISUP, TUP): the Q.704 2.4 primitives."""

    def mtp_transfer(self, opc: int, dpc: int, sls: int, data: bytes) -> None: ...

    def mtp_pause(self, dpc: int) -> None: ...

    def mtp_resume(self, dpc: int) -> None: ...

    def mtp_status(self, dpc: int, cause: str) -> None: ...


# A user part may also define ``mtp_restart()`` (MTP-RESTART, Q.701 8.5): the local MTP is
# restarting; the first MTP-RESUME of each destination afterwards follows that restart.


# Signalling link states seen by MTP3 (Q.704 3.2, 5, 6, 12).
LINK_FSM = FsmTable("mtp3.link", [
    "INACTIVE", "ALIGNING", "TESTING", "AVAILABLE", "CHANGEOVER", "FAILED", "CHANGEBACK"], [
    Row("INACTIVE", "activate", "act_start", "ALIGNING"),
    Row("ALIGNING", "in_service", "act_test", "TESTING"),
    Row("FAILED", "in_service", "act_test"),
    Row("TESTING", "slta_ok", "act_available", "AVAILABLE"),
    Row("FAILED", "slta_ok", "act_changeback", "CHANGEBACK"),
    Row("CHANGEBACK", "changeback_done", None, "AVAILABLE"),
    Row("AVAILABLE", "out_of_service", "act_changeover", "CHANGEOVER"),
    Row("AVAILABLE", "processor_outage", "act_changeover_po", "CHANGEOVER"),
    Row("FAILED", "po_recovered", "act_test"),
    Row("CHANGEBACK", "out_of_service", "act_failed", "FAILED"),
    Row("CHANGEOVER", "changeover_done", None, "FAILED"),
    Row("CHANGEOVER", "out_of_service", None),
    Row("ALIGNING", "out_of_service", "act_restart"),
    Row("TESTING", "out_of_service", "act_restart", "ALIGNING"),
    Row("FAILED", "out_of_service", "act_restart"),
    Row("TESTING", "slt_failed", "act_restart_mtp2", "ALIGNING"),
    Row("FAILED", "slt_failed", "act_restart_mtp2"),
    Row("AVAILABLE", "slt_failed", "act_stop_for_changeover"),
    Row("*", "deactivate", "act_deactivate", "INACTIVE"),
])


class SignallingLink(Machine):
    """One link of a linkset: MTP2 terminal plus its MTP3 state and SLT (Q.707)."""

    fsm = LINK_FSM

    def __init__(self, linkset: Linkset, slc: int, send: Callable[[bytes], Any],
                 mtp2_timers: dict[str, float] | None = None):
        self.state = "INACTIVE"
        self.linkset = linkset
        self.slc = slc
        mtp3 = linkset.mtp3
        self.mtp2 = Mtp2Link(mtp3.scheduler, send, self, name=f"{linkset.name}/{slc}",
                             timers=mtp2_timers, emergency=True)
        self.timers = Timers(mtp3.timers.table, mtp3.scheduler)
        self.slt_failures = 0
        self.co_buffer: list[bytes] = []  # held during changeover/changeback (Q.704 5.5, 6.3)
        self.holding = False
        self.alternate: SignallingLink | None = None
        self.inhibited = False  # management inhibited at either end (Q.704 10)
        self.inhibit = InhibitControl(self)

    @property
    def available(self) -> bool:
        """Carries user traffic: in service and not management inhibited (Q.704 10.1)."""
        return self.state == "AVAILABLE" and not self.inhibited

    def inhibited_changed(self, inhibited: bool) -> None:
        if inhibited == self.inhibited:
            return
        self.inhibited = inhibited
        if inhibited:
            self.linkset.divert(self)
        else:
            self.linkset.undivert(self)
        self.linkset.mtp3.check_accessibility(self.linkset)

    def status(self) -> dict[str, Any]:
        return {"slc": self.slc, "state": self.state, "mtp2": self.mtp2.state,
                "inhibit": self.inhibit.state, "local_inhibited": self.inhibit.local,
                "remote_inhibited": self.inhibit.remote, "available": self.available}

    # MTP2 listener --------------------------------------------------------------------------
    def mtp2_in_service(self, _link: Mtp2Link) -> None:
        self.dispatch("in_service")

    def mtp2_out_of_service(self, _link: Mtp2Link, reason: str) -> None:
        mtp3 = self.linkset.mtp3
        mtp3.log("link_down", link=self.mtp2.name, reason=reason)
        if self in mtp3._congested_links:  # MTP2 forgot its congestion with the link
            mtp3.link_congestion(self, False)
        self.dispatch("out_of_service")

    def mtp2_msu(self, _link: Mtp2Link, body: bytes) -> None:
        self.linkset.mtp3.receive(self, body)

    def mtp2_remote_po(self, _link: Mtp2Link, active: bool) -> None:
        """Remote processor outage (Q.704 5.1): change over, keep MTP2 aligned; on recovery
        test the link again and change back."""
        self.dispatch("processor_outage" if active else "po_recovered")

    def unexpected(self, event: str, *args: Any) -> None:
        """Events the table does not name for a state (e.g. a processor outage while the link
        is still aligning) change nothing."""

    def mtp2_congestion(self, _link: Mtp2Link, active: bool) -> None:
        mtp3 = self.linkset.mtp3
        mtp3.link_congestion(self, active)
        mtp3.status_to_users(self.linkset.adjacent, "congested" if active else "ok")

    # actions ----------------------------------------------------------------------------------
    def act_start(self) -> None:
        self.mtp2.start()

    def act_test(self) -> None:
        self.slt_failures = 0
        self.send_sltm()

    def send_sltm(self) -> None:
        self.linkset.send_mgmt(self, SI_SLTM, encode_slt("SLTM", SLT_PATTERN))
        self.timers.start("SLT_T1", self._slt_t1)

    def _slt_t1(self) -> None:
        """Q.707 2.2: T1 expiry - repeat once, then the test has failed."""
        self.slt_failures += 1
        if self.slt_failures >= 2:
            self.dispatch("slt_failed")
        else:
            self.send_sltm()

    def slta(self, pattern: bytes) -> None:
        if pattern != SLT_PATTERN or not self.timers.running("SLT_T1"):
            return
        self.timers.stop("SLT_T1")
        self.slt_failures = 0
        self.timers.start("SLT_T2", self.send_sltm)
        if self.state in ("TESTING", "FAILED"):
            self.dispatch("slta_ok")

    def act_available(self) -> None:
        self.linkset.link_available(self)

    def act_restart(self) -> None:
        self.timers.stop("SLT_T1")
        self.timers.stop("SLT_T2")
        self.timers.start("T17", self.mtp2.start)

    def act_restart_mtp2(self) -> None:
        self.mtp2.stop()

    def act_stop_for_changeover(self) -> None:
        self.mtp2.stop()

    def act_changeover(self) -> str | None:
        """Changeover first; MTP2 is restarted (after T17) only once its buffers have been
        retrieved (Q.704 5.4), or at once when there is nothing to retrieve them for."""
        self.timers.stop("SLT_T1")
        self.timers.stop("SLT_T2")
        if self.linkset.start_changeover(self):
            return None
        self.timers.start("T17", self.mtp2.start)
        return "FAILED"

    def act_changeover_po(self) -> str | None:
        self.timers.stop("SLT_T1")
        self.timers.stop("SLT_T2")
        return None if self.linkset.start_changeover(self) else "FAILED"

    def act_failed(self) -> None:
        self.timers.start("T17", self.mtp2.start)
        self.linkset.abort_changeback(self)

    def act_changeback(self) -> str | None:
        """Back in service: change traffic back (Q.704 6) unless the link is inhibited
        (Q.704 10.5: it stays inhibited and carries no user traffic)."""
        if not self.inhibited and self.linkset.start_changeback(self):
            return None
        self.linkset.link_available(self)
        return "AVAILABLE"

    def act_deactivate(self) -> None:
        self.state = "INACTIVE"  # MTP2's out-of-service indication finds the link inactive
        self.timers.stop_all()
        self.mtp2.stop()
        self.holding = False
        self.co_buffer.clear()
        self.alternate = None


# Management inhibiting of one link (Q.704 10), the local side's procedure; the remote side's
# inhibition is a flag set by LIN and cleared by LUN.
INHIBIT_FSM = FsmTable("mtp3.inhibit", ["UNINHIBITED", "LIN_SENT", "INHIBITED", "LUN_SENT"], [
    Row("UNINHIBITED", "op_inhibit", "send_lin", "LIN_SENT"),
    Row("LIN_SENT", "rx_LIA", "local_inhibited", "INHIBITED"),
    Row("LIN_SENT", "rx_LID", "denied", "UNINHIBITED"),
    Row("LIN_SENT", "T14", "t14_expired"),
    Row("INHIBITED", "op_uninhibit", "send_lun", "LUN_SENT"),
    Row("INHIBITED", "rx_LFU", "send_lun", "LUN_SENT"),
    Row("INHIBITED", "needed", "send_lun", "LUN_SENT"),
    Row("INHIBITED", "T22", "send_llt"),
    Row("LUN_SENT", "T22", "send_llt"),
    Row("LUN_SENT", "rx_LUA", "local_uninhibited", "UNINHIBITED"),
    Row("LUN_SENT", "T12", "t12_expired"),
    Row("UNINHIBITED", "rx_LFU", "lun_unsolicited"),
    Row("LIN_SENT", "rx_LFU", "lun_unsolicited"),
    Row("*", "rx_LIN", "got_lin"),
    Row("*", "rx_LUN", "got_lun"),
    Row("*", "rx_LLT", "got_llt"),
    Row("*", "rx_LRT", "got_lrt"),
    Row("*", "T23", "send_lrt"),
    Row("*", "T13", "t13_expired"),
    Row("*", "remote_needed", "send_lfu"),
])


class InhibitControl(Machine):
    """Management inhibiting of one signalling link (Q.704 10): LIN/LIA/LID (T14), LUN/LUA
    (T12), forced uninhibiting LFU (T13), inhibit tests LLT (T22) and LRT (T23).  An inhibited
    link carries no user traffic but stays in service for management and SLT (10.1)."""

    fsm = INHIBIT_FSM

    def __init__(self, link: SignallingLink):
        self.state = "UNINHIBITED"
        self.link = link
        self.remote = False
        self.timers = Timers(link.linkset.mtp3.timers.table, link.linkset.mtp3.scheduler)
        self._repeated: set[str] = set()

    @property
    def local(self) -> bool:
        return self.state in ("INHIBITED", "LUN_SENT")

    def unexpected(self, event: str, *args: Any) -> None:
        """Q.704 10.4: an LIA, LID or LUA nobody waits for is discarded."""

    def _send(self, msg: str) -> bool:
        return self.link.linkset.send_link_mgmt(self.link, msg)

    def _changed(self) -> None:
        self.link.inhibited_changed(self.local or self.remote)

    def _report(self, event: str) -> None:
        self.link.linkset.mtp3.log(event, link=self.link.mtp2.name, slc=self.link.slc)

    def _start(self, timer: str, msg: str) -> None:
        """Send ``msg`` and supervise it with ``timer`` (first attempt)."""
        self._repeated.discard(timer)
        self._send(msg)
        self.timers.start(timer, self.dispatch, timer)

    def _again(self, timer: str, msg: str, failure: str) -> bool:
        """``timer`` expired: repeat ``msg`` once; on the second expiry report ``failure`` and
        return True (the procedure is abandoned)."""
        if timer in self._repeated:
            self._report(failure)
            return True
        self._repeated.add(timer)
        self._send(msg)
        self.timers.start(timer, self.dispatch, timer)
        return False

    # local side ---------------------------------------------------------------------------
    def send_lin(self) -> None:
        """10.2: LIN, T14 (the caller checked that no destination becomes inaccessible)."""
        self._start("T14", "LIN")

    def t14_expired(self) -> str | None:
        """10.2: no LIA/LID within T14 - LIN is repeated once, then the request fails."""
        return "UNINHIBITED" if self._again("T14", "LIN", "inhibit_failed") else None

    def local_inhibited(self) -> None:
        """10.2: LIA - the link is locally inhibited: traffic diverted, T22 test started."""
        self.timers.stop("T14")
        self.timers.start("T22", self.dispatch, "T22")
        self._report("inhibited")
        self.state = "INHIBITED"
        self._changed()

    def denied(self) -> None:
        """10.2: LID - the remote end would lose a destination; the link stays in use."""
        self.timers.stop("T14")
        self._report("inhibit_denied")

    def send_lun(self) -> None:
        """10.3 (operator, LFU received, or a destination needs the link): LUN, T12."""
        self._start("T12", "LUN")

    def t12_expired(self) -> str | None:
        """10.3: no LUA within T12 - LUN is repeated once, then management is told."""
        return "INHIBITED" if self._again("T12", "LUN", "uninhibit_failed") else None

    def local_uninhibited(self) -> None:
        self.timers.stop("T12")
        self.timers.stop("T22")
        self._report("uninhibited")
        self.state = "UNINHIBITED"
        self._changed()

    def lun_unsolicited(self) -> None:
        """10.4: LFU for a link we have not inhibited - LUN clears the remote's marking."""
        self._send("LUN")

    def send_llt(self) -> None:
        """10.6: local inhibit test every T22 while locally inhibited."""
        self._send("LLT")
        self.timers.start("T22", self.dispatch, "T22")

    # remote side --------------------------------------------------------------------------
    def got_lin(self) -> None:
        """10.2: LIA and mark remotely inhibited, or LID when a destination would become
        inaccessible here."""
        mtp3 = self.link.linkset.mtp3
        if not self.remote and mtp3.inhibit_isolates(self.link):
            self._send("LID")
            return
        self._send("LIA")
        if not self.remote:
            self.remote = True
            self.timers.start("T23", self.dispatch, "T23")
            self._report("remotely_inhibited")
            self._changed()

    def got_lun(self) -> None:
        """10.3: LUA; the remote inhibition (and any forced-uninhibit wait) ends."""
        self._send("LUA")
        self.timers.stop("T13")
        if self.remote:
            self.remote = False
            self.timers.stop("T23")
            self._report("remotely_uninhibited")
            self._changed()

    def send_lrt(self) -> None:
        """10.6: remote inhibit test every T23 while remotely inhibited."""
        if self.remote:
            self._send("LRT")
            self.timers.start("T23", self.dispatch, "T23")

    def got_llt(self) -> None:
        """10.6: the remote says it inhibited the link; if we have no such marking, LFU."""
        if not self.remote:
            self._send("LFU")

    def got_lrt(self) -> None:
        """10.6: the remote marks the link remotely inhibited; if we have not inhibited it
        locally, LUN clears its marking."""
        if not self.local:
            self._send("LUN")

    def send_lfu(self) -> None:
        """10.3: a destination needs the remotely inhibited link - LFU, T13."""
        if self.remote and not self.timers.running("T13"):
            self._start("T13", "LFU")

    def t13_expired(self) -> None:
        """10.3: no LUN within T13 - LFU repeated once, then management is told."""
        if self.remote:
            self._again("T13", "LFU", "force_uninhibit_failed")




# Signalling route set congestion at an originating point of a national network using the
# signalling-route-set-congestion-test (Q.704 13.1, 13.9; national option ``rct``), with one
# congestion level: a TFC marks the route set congested (users get MTP-STATUS for each one,
# 11.2.3); T15 after that update starts the test (13.7.5) - a TFC while the status is already
# congested updates nothing (13.7.3) and leaves T15 running - RCT toward the destination,
# priority one below the congestion status (0), and T16 waits for the TFC a transfer point
# still congested answers it with (13.9.3: the status is updated again, T15 restarts); T16
# expiring ends the congestion (the status falls by its one level to zero: no further test,
# 13.9.4) and users are told.  A destination becoming inaccessible ends the test (13.9.4:
# none toward an unavailable route set); a TFC about one is ignored (13.7.6).
ROUTE_SET_CONGESTION_FSM = FsmTable("mtp3.route_set_congestion",
                                    ["UNCONGESTED", "CONGESTED", "TESTING"], [
    Row("UNCONGESTED", "TFC", "congested", "CONGESTED"),
    Row("CONGESTED", "TFC", None),
    Row("CONGESTED", "T15", "send_rct", "TESTING"),
    Row("TESTING", "TFC", "wait_t15", "CONGESTED"),
    Row("TESTING", "T16", "abated", "UNCONGESTED"),
    Row("*", "unavailable", "stop_test", "UNCONGESTED"),
])
CONGESTION_ENDED = "ok"  # MTP-STATUS cause when a route set or link is no longer congested


class RouteSetCongestion(Machine):
    """The congestion status of the route set toward ``dest`` and its test (Q.704 13.9)."""

    fsm = ROUTE_SET_CONGESTION_FSM

    def __init__(self, mtp3: Mtp3, dest: int):
        self.state = "UNCONGESTED"
        self.mtp3 = mtp3
        self.dest = dest
        self.timers = Timers(mtp3.timers.table, mtp3.scheduler)

    def congested(self) -> None:
        self.mtp3.log("route_set_congested", dest=self.dest)
        self.wait_t15()

    def wait_t15(self) -> None:
        """13.7.5, 13.9.3: the status was updated by a TFC; the test starts T15 after it."""
        self.timers.stop("T16")
        self.timers.start("T15", self.dispatch, "T15")

    def send_rct(self) -> None:
        """13.9.2: RCT toward the destination at priority 0; T16 waits for a TFC."""
        mtp3 = self.mtp3
        mtp3.transfer(SI_SNM, self.dest, 0, encode_snm(mtp3.variant, "RCT"))
        mtp3.counters["tx_rct"] += 1
        self.timers.start("T16", self.dispatch, "T16")

    def abated(self) -> None:
        """13.9.3: no TFC within T16 - the route set is no longer congested."""
        self.mtp3.log("route_set_congestion_ended", dest=self.dest)
        self.mtp3.status_to_users(self.dest, CONGESTION_ENDED)

    def stop_test(self) -> None:
        """13.9.4: the route set became unavailable - no test toward it (users had
        MTP-PAUSE; MTP-RESUME later starts them afresh)."""
        self.timers.stop_all()


class Linkset:
    """The links to one adjacent signalling point, with load sharing by SLS (Q.704 4.2.1)."""

    def __init__(self, mtp3: Mtp3, name: str, adjacent: int):
        self.mtp3 = mtp3
        self.name = name
        self.adjacent = adjacent
        self.links: list[SignallingLink] = []
        self.tra_sent = False
        self.tra_received = False
        self.timers = Timers(mtp3.timers.table, mtp3.scheduler)
        self.cb_code = 0
        self.pending_cb: dict[int, SignallingLink] = {}
        self.told: dict[int, str] = {}  # dest -> TFP/TFR we sent this point (absent: allowed)

    @property
    def accessible(self) -> bool:
        if not (self.tra_sent and self.tra_received):
            return False
        for lk in self.links:  # asked for every MSU: a plain loop, no property frames
            if lk.state == "AVAILABLE" and not lk.inhibited:  # SignallingLink.available
                return True
        return False

    @property
    def congested(self) -> bool:
        """Signalling link set congestion (Q.704 3.8): a link carrying traffic is congested."""
        return any(lk.available and lk.mtp2.remote_busy for lk in self.links)

    @property
    def up(self) -> bool:
        """Some link is in service (inhibited or not): the adjacent point is reachable."""
        return any(lk.state in ("AVAILABLE", "CHANGEBACK") for lk in self.links)

    def add_link(self, slc: int, send: Callable[[bytes], Any],
                 mtp2_timers: dict[str, float] | None = None) -> SignallingLink:
        link = SignallingLink(self, slc, send, mtp2_timers)
        self.links.append(link)
        return link

    def link_for_sls(self, sls: int) -> SignallingLink | None:
        """The link carrying ``sls`` (Q.704 4.2.1): chosen by the bit-reversed SLS modulo the
        links configured - ISUP's SLS is the CIC's low bits and an exchange mostly seizes the
        CICs of one parity (dual-seizure control), so the plain SLS would load one link of
        two; else the alternate decided at changeover; ``None`` when nothing is available."""
        if not self.links:
            return None
        link = self.links[_SLS_SPREAD[sls & 0x0F] % len(self.links)]
        if link.available or link.holding:
            return link
        if link.alternate is not None and link.alternate.available:
            return link.alternate
        avail = [lk for lk in self.links if lk.available]
        return avail[sls % len(avail)] if avail else None

    def send(self, link: SignallingLink, body: bytes) -> None:
        if link.holding:
            link.co_buffer.append(body)
        else:
            link.mtp2.send_msu(body)

    def send_mgmt(self, link: SignallingLink, si: int, payload: bytes, sls: int | None = None,
                  via: SignallingLink | None = None) -> None:
        m = self.mtp3
        body = encode_msu(m.variant, si, m.ni, self.adjacent, m.pc,
                          link.slc if sls is None else sls, payload)
        (via or link).mtp2.send_msu(body)

    def send_link_mgmt(self, link: SignallingLink, msg: str) -> bool:
        """A link management message about ``link`` (its SLC in the label's SLS, Q.704 15),
        on the link itself when in service, else on another link in service."""
        via = link if link.state == "AVAILABLE" else \
            next((lk for lk in self.links if lk.state == "AVAILABLE"), None)
        if via is None:
            return False
        self.send_mgmt(link, SI_SNM, encode_snm(self.mtp3.variant, msg), sls=link.slc, via=via)
        return True

    # restart (Q.704 9) -------------------------------------------------------------------------
    def link_available(self, link: SignallingLink) -> None:
        """A link entered service.  The first one of the linkset carries our TRA: a signalling
        end point has no route status to send first (Q.704 9), a transfer point sends its
        TFP/TFR first, and while restarting it waits for the end of its restart; when we are
        not restarting the adjacent point is (from here, it was inaccessible): T21 supervises
        its TRA (Q.704 9.3)."""
        mtp3 = self.mtp3
        if not self.tra_sent and not (mtp3.stp and mtp3.restarting):
            self.tra_sent = True
            self.send_tra(link)
            if not self.tra_received and not mtp3.restarting:
                self.timers.start("T21", self._t21)
        self._later_check()

    def send_tra(self, link: SignallingLink) -> None:
        """TRA, preceded at a transfer point by the routing status (Q.704 9.2, 9.3)."""
        if self.mtp3.stp:
            self.told.clear()  # the adjacent point starts from "all allowed"
            self.mtp3.announce(self, link, now=True)
        self.send_mgmt(link, SI_SNM, encode_snm(self.mtp3.variant, "TRA"))

    def tra(self) -> None:
        """TRA from the adjacent point.  One received after the exchange is complete is
        unexpected (Q.704 9.4): it is answered with the routing status and TRA, and T19 is
        started; TRA received while T19 runs is discarded (no TFP/TFR/TRA ping-pong)."""
        if self.timers.running("T19"):
            self.mtp3.log("tra_discarded", adjacent=self.adjacent)
            return
        if self.tra_received:
            link = next((lk for lk in self.links if lk.state == "AVAILABLE"), None)
            if link is not None and not self.mtp3.restarting:
                self.mtp3.log("unexpected_tra", adjacent=self.adjacent)
                self.send_tra(link)
                self.timers.start("T19", self._t19)
            return
        self.tra_received = True
        self.timers.stop("T21")
        self.mtp3.check_accessibility(self)

    def _t19(self) -> None:
        """Q.704 9.4: T19 expired - TRA from this point is handled normally again."""
        self.mtp3.log("t19_expired", adjacent=self.adjacent)

    def _t21(self) -> None:
        """Q.704 9: no TRA from the adjacent point within T21 - traffic restarts anyway."""
        self.mtp3.log("t21_expired", adjacent=self.adjacent)
        self.tra()

    def went_down(self) -> None:
        """No link in service: the next one to come up runs the TRA exchange again (Q.704 9)."""
        self.tra_sent = self.tra_received = False
        self.told.clear()
        self.timers.stop("T21")
        self.timers.stop("T19")

    # management inhibiting (Q.704 10.2, 10.3 with 5.1 and 6.1) -----------------------------
    def divert(self, link: SignallingLink) -> None:
        """Traffic of a link that became inhibited moves to another link of the linkset.  The
        link stays in service and delivers what its MTP2 already sent; new traffic is held for
        T1 (delay against mis-sequencing, 5.6.2), then sent on the alternative together with
        the user messages MTP2 had not yet transmitted."""
        if link.state != "AVAILABLE":  # out of service: its traffic was already changed over
            return
        link.alternate = next((lk for lk in self.links if lk.available and lk is not link), None)
        if link.alternate is not None:
            link.holding = True
            link.timers.start("T1", self._diverted, link)

    def _diverted(self, link: SignallingLink) -> None:
        mgmt = (SI_SNM, SI_SLTM, SI_SLTM_SPECIAL)
        queued = list(link.mtp2.tb)
        link.mtp2.tb.clear()
        link.mtp2.tb.extend(b for b in queued if b[0] & 0x0F in mgmt)
        held = [b for b in queued if b[0] & 0x0F not in mgmt] + link.co_buffer
        link.co_buffer = []
        link.holding = False
        for body in held:
            alt = self.link_for_sls(self.mtp3.variant.parse_label(body, 1)[2])
            if alt is not None:
                self.send(alt, body)

    def undivert(self, link: SignallingLink) -> None:
        """Uninhibited: a diversion still waiting for T1 is undone; otherwise traffic is
        changed back (CBD/CBA, Q.704 6) when the link is in service."""
        if link.timers.running("T1") and link.state == "AVAILABLE":
            link.timers.stop("T1")
            link.holding = False
            link.alternate = None
            held, link.co_buffer = link.co_buffer, []
            for body in held:
                link.mtp2.send_msu(body)
        elif link.state == "AVAILABLE" and link.alternate is not None:
            self.start_changeback(link)

    # changeover (Q.704 5) -------------------------------------------------------------------
    def start_changeover(self, failed: SignallingLink) -> bool:
        """COO on an alternative link (Q.704 5.2); False when there is none (nothing to do
        but drop the buffers and pause the users)."""
        alt = next((lk for lk in self.links if lk.available and lk is not failed), None)
        failed.alternate = alt
        if alt is None:
            failed.co_buffer.clear()
            failed.mtp2.retrieve(failed.mtp2.fsnt)
            self._later_check()
            return False
        failed.holding = True
        snm = encode_snm(self.mtp3.variant, "COO", fsn=failed.mtp2.bsnt())
        self.send_mgmt(failed, SI_SNM, snm, sls=failed.slc, via=alt)
        failed.timers.start("T2", self._t2_changeover, failed)
        return True

    def _later_check(self) -> None:
        """Re-evaluate accessibility once the link's state change has been recorded."""
        self.mtp3.scheduler.call_later(0, self.mtp3.check_accessibility, self)

    def _t2_changeover(self, failed: SignallingLink) -> None:
        """Q.704 5.6.2: no COA within T2 - time-controlled changeover: traffic is diverted
        after T1 (so the far end has flushed what it had), unacknowledged MSUs resent."""
        first = failed.mtp2.rtb[0][0] if failed.mtp2.rtb else failed.mtp2.fsnt
        failed.timers.start("T1", self._complete_changeover, failed, (first - 1) & 0x7F)

    def _complete_changeover(self, failed: SignallingLink, fsnc: int) -> None:
        failed.timers.stop("T2")
        failed.timers.stop("T1")
        if failed.state != "CHANGEOVER":
            return
        pending = failed.mtp2.retrieve(fsnc) + failed.co_buffer
        failed.co_buffer = []
        failed.holding = False
        alt = failed.alternate if failed.alternate and failed.alternate.available else None
        if alt is None:
            alt = next((lk for lk in self.links if lk.available), None)
        for body in pending:
            if alt is not None:
                self.send(alt, body)
        self.mtp3.log("changeover", link=failed.mtp2.name, retrieved=len(pending))
        failed.dispatch("changeover_done")
        if failed.mtp2.state == "OUT_OF_SERVICE":  # not a processor outage: realign
            failed.timers.start("T17", failed.mtp2.start)
        self.mtp3.check_accessibility(self)

    def coo(self, rx_link: SignallingLink, slc: int, fsn: int, emergency: bool) -> None:
        """Remote end started changeover for link ``slc``: acknowledge with our BSNT."""
        failed = next((lk for lk in self.links if lk.slc == slc), None)
        if failed is None:
            return
        if failed.state == "AVAILABLE":  # we had not noticed yet: the remote has
            failed.mtp2.stop()
        if failed.state == "CHANGEOVER":
            ack = encode_snm(self.mtp3.variant, "COA", fsn=failed.mtp2.bsnt()) if not emergency \
                else encode_snm(self.mtp3.variant, "ECA")
            self.send_mgmt(failed, SI_SNM, ack, sls=slc, via=rx_link)
            self._complete_changeover(failed, fsn)
        else:
            self.send_mgmt(failed, SI_SNM, encode_snm(self.mtp3.variant, "ECA"), sls=slc,
                           via=rx_link)

    def coa(self, slc: int, fsn: int | None) -> None:
        failed = next((lk for lk in self.links if lk.slc == slc), None)
        if failed is None or not failed.timers.running("T2"):
            return
        if fsn is None:  # ECA: no retrieval possible - resend what is unacknowledged
            first = failed.mtp2.rtb[0][0] if failed.mtp2.rtb else failed.mtp2.fsnt
            fsn = (first - 1) & 0x7F
        self._complete_changeover(failed, fsn)

    # changeback (Q.704 6) -------------------------------------------------------------------
    def start_changeback(self, link: SignallingLink) -> bool:
        """CBD on the alternative link (Q.704 6.2); False when no traffic was diverted."""
        alt = link.alternate
        link.alternate = None
        if alt is None or not alt.available:
            self._later_check()
            return False
        link.holding = True
        self.cb_code = (self.cb_code + 1) & 0xFF
        self.pending_cb[self.cb_code] = link
        snm = encode_snm(self.mtp3.variant, "CBD", code=self.cb_code)
        self.send_mgmt(link, SI_SNM, snm, sls=link.slc, via=alt)
        link.timers.start("T4", self._cb_timeout, link, self.cb_code, "T5")
        return True

    def _cb_timeout(self, link: SignallingLink, code: int, nxt: str | None) -> None:
        if nxt is not None:  # Q.704 6.5: repeat CBD once, then changeback anyway
            alt = next((lk for lk in self.links if lk.available and lk is not link), link)
            self.send_mgmt(link, SI_SNM, encode_snm(self.mtp3.variant, "CBD", code=code),
                           sls=link.slc, via=alt)
            link.timers.start(nxt, self._cb_timeout, link, code, None)
        else:
            self.cba(code)

    def cba(self, code: int) -> None:
        link = self.pending_cb.pop(code, None)
        if link is None:
            return
        link.timers.stop("T4")
        link.timers.stop("T5")
        link.holding = False
        held, link.co_buffer = link.co_buffer, []
        link.dispatch("changeback_done")
        for body in held:
            link.mtp2.send_msu(body)
        self.mtp3.check_accessibility(self)

    def abort_changeback(self, link: SignallingLink) -> None:
        for code, lk in list(self.pending_cb.items()):
            if lk is link:
                del self.pending_cb[code]
        link.holding = False


class Mtp3:
    """A signalling point: own point code, linksets, routes and user parts; with ``stp`` a
    signalling transfer point (Q.704 2.3.1), with ``tfr`` also the national option of
    transfer-restricted (Q.704 13.4)."""

    def __init__(self, scheduler: Scheduler, pc: int, *, variant: str = "itu",
                 ni: int = NI_NATIONAL, timers: dict[str, float] | None = None,
                 log: Callable[..., None] | None = None, stp: bool = False, tfr: bool = False):
        self.scheduler = scheduler
        self.stp = stp
        self.tfr = tfr
        self.rct = False  # national option: route set congestion test (13.9); not international
        self._t8: dict[int, Any] = {}  # T8 of each destination we sent TFP about
        self._via: dict[int, int | None] = {}  # dest -> adjacent point its traffic uses
        self._held: dict[int, list[bytes]] = {}  # dest -> MSUs held by T6 (Q.704 8.2)
        self._t11: dict[int, Any] = {}  # T11 of each destination whose route became restricted
        self._tfr_due: set[int] = set()  # restricted past T11: TFR is broadcast (13.4.2)
        self._congested_links: set[SignallingLink] = set()  # MTP2 congestion onset (3.8)
        self._tfc_count: dict[tuple[int, int, int], int] = {}  # (adjacent, opc, dest) -> MSUs
        self.congestion: dict[int, RouteSetCongestion] = {}  # dest -> route set status (13.9)
        self.variant = VARIANTS[variant]
        self.pc = self.point_code(pc, "own point code")
        self.ni = ni
        self.timers = Timers(MTP3_TIMERS.with_overrides(timers or {}), scheduler)
        self.linksets: dict[int, Linkset] = {}
        self.routes: dict[int, list[int]] = {}   # dpc -> adjacent points in priority order
        self.prohibited: set[tuple[int, int]] = set()  # (adjacent, dpc) from TFP
        self.restricted: set[tuple[int, int]] = set()  # (adjacent, dpc) from TFR
        self._route_tests: dict[tuple[int, int], Any] = {}  # T10 of each route under test
        self.users: dict[int, MtpUser] = {}
        self.whole_sif: set[int] = set()
        self.accessible: set[int] = set()
        self.started = False
        self.restarting = False  # Q.704 9: no user traffic until the restart ends
        self._activation_done = False
        self._log = log
        self.counters = {"rx_not_for_us": 0, "rx_bad": 0, "rx_wrong_ni": 0, "tx_no_route": 0,
                         "rx_route_set_test": 0, "tx_route_set_test": 0, "transferred": 0,
                         "tx_route_status": 0, "tx_tfc": 0, "rx_tfc": 0, "tx_rct": 0,
                         "rx_rct": 0}

    def log(self, event: str, **kw: Any) -> None:
        if self._log is not None:
            self._log(event, **kw)

    def point_code(self, pc: int, what: str) -> int:
        """``pc`` when the routing label can carry it (Q.704 2.2: 14 bits; 24 in the China
        national network), else ValueError naming ``what``."""
        bits = self.variant.pc_bits
        if isinstance(pc, bool) or not isinstance(pc, int) or not 0 <= pc < 1 << bits:
            raise ValueError(f"{what} {pc!r}: not a {bits}-bit {self.variant.name} point code")
        return pc

    def add_linkset(self, name: str, adjacent: int) -> Linkset:
        ls = Linkset(self, name, self.point_code(adjacent, "adjacent point"))
        self.linksets[adjacent] = ls
        self.routes.setdefault(adjacent, [adjacent])
        return ls

    def add_route(self, dpc: int, via: list[int]) -> None:
        """The route set of ``dpc``: adjacent points in priority order (the first is the normal
        route, Q.704 4.2); once started, users and (at a transfer point) adjacent points hear
        of the change."""
        self.routes[self.point_code(dpc, "destination")] = \
            [self.point_code(v, f"route to {dpc} through") for v in via]
        if self.started:
            self.check_accessibility()

    def register_user(self, si: int, user: MtpUser, *, whole_sif: bool = False) -> None:
        """Distribute SI ``si`` to ``user``; TUP takes the whole SIF (its label carries the
        CIC, Q.723 2.2), other users the SIF after the routing label."""
        self.users[si] = user
        if whole_sif:
            self.whole_sif.add(si)

    def start(self) -> None:
        """Activate every link; the MTP restarts (Q.704 9)."""
        self.started = True
        self._begin_restart()
        for ls in self.linksets.values():
            for link in ls.links:
                link.dispatch("activate")

    def stop(self) -> None:
        self.started = False
        self.restarting = False
        self.timers.stop_all()
        for handle in (*self._t8.values(), *self._t11.values()):
            handle.cancel()
        self._t8.clear()
        self._t11.clear()
        self._tfr_due.clear()
        for rsc in self.congestion.values():
            rsc.timers.stop_all()
        self.congestion.clear()
        self._congested_links.clear()
        self._tfc_count.clear()
        self._held.clear()
        self._via.clear()
        for ls in self.linksets.values():
            for link in ls.links:
                link.dispatch("deactivate")
            ls.went_down()
        for dpc in list(self.accessible):
            self.accessible.discard(dpc)
            for u in set(self.users.values()):
                u.mtp_pause(dpc)

    # MTP restart of a signalling end point (Q.704 9) ----------------------------------------
    def _begin_restart(self) -> None:
        """Q.704 9: on start or on recovery from isolation.  T18 supervises link and linkset
        activation, T20 the receipt of TRA from the adjacent points; users hear MTP-RESTART
        (Q.701 8.5) and no MTP-RESUME until the restart ends."""
        self.restarting = True
        self._activation_done = False
        self.log("restart_begins")
        self.timers.start("T18", self._t18)
        self.timers.start("T20", self._end_restart)
        for u in set(self.users.values()):
            restart = getattr(u, "mtp_restart", None)
            if restart is not None:
                restart()

    def _t18(self) -> None:
        """Q.704 9: linksets still unavailable when T18 expires are no longer waited for; at a
        transfer point T18 also ends the wait for routing information (9.2, 16.8), so its
        restart ends once some linkset is up."""
        self._activation_done = True
        if self.stp and any(ls.up for ls in self.linksets.values()):
            self._end_restart()
        else:
            self.restart_progress()

    def restart_progress(self) -> None:
        """Q.704 9: activation is done when every linkset has a link in service (or T18 expired);
        the restart ends when, in addition, every available adjacent point has sent TRA."""
        if not self.restarting:
            return
        up = [ls for ls in self.linksets.values() if ls.up]
        if not self._activation_done and len(up) == len(self.linksets):
            self._activation_done = True
            if not self.stp:  # at a transfer point T18 also waits for routing information
                self.timers.stop("T18")
        if self._activation_done and up and all(ls.tra_received for ls in up):
            self._end_restart()

    def _end_restart(self) -> None:
        """Q.704 9 (all TRA received, or T20 expired): TRA toward every available adjacent point
        that has not had it, traffic toward points whose TRA is missing restarts anyway, and
        users get MTP-RESUME for every accessible destination."""
        self.restarting = False
        self.timers.stop("T18")
        self.timers.stop("T20")
        self.log("restart_ends")
        starting = []
        for ls in self.linksets.values():
            link = next((lk for lk in ls.links if lk.state == "AVAILABLE"), None)
            if link is None:
                continue
            if not ls.tra_sent:
                ls.tra_sent = True
                starting.append((ls, link))
            ls.tra_received = True
        for ls, link in starting:  # routing status judged with every linkset's TRA settled
            ls.send_tra(link)
        for ls in self.linksets.values():
            self.check_accessibility(ls)

    # management inhibiting (Q.704 10) -----------------------------------------------------------
    def find_link(self, adjacent: int, slc: int) -> SignallingLink:
        ls = self.linksets.get(adjacent)
        link = next((lk for lk in ls.links if lk.slc == slc), None) if ls is not None else None
        if link is None:
            raise KeyError(f"no link SLC {slc} toward {adjacent}")
        return link

    def inhibit_isolates(self, link: SignallingLink) -> bool:
        """Q.704 10.2: would inhibiting ``link`` make an accessible destination inaccessible?"""
        was, link.inhibited = link.inhibited, True
        try:
            return any(self._route(dpc) is None for dpc in self.accessible)
        finally:
            link.inhibited = was

    def inhibit(self, link: SignallingLink) -> bool:
        """Operator request to inhibit ``link`` (Q.704 10.2).  False when it is refused here
        (already inhibited or being inhibited, a destination would become inaccessible, or no
        link in service to carry LIN); the outcome (LIA / LID / T14) is logged as
        ``inhibited`` / ``inhibit_denied`` / ``inhibit_failed``."""
        if link.inhibit.state != "UNINHIBITED" or self.inhibit_isolates(link) or \
                not link.linkset.up:
            self.log("inhibit_refused", link=link.mtp2.name, slc=link.slc)
            return False
        link.inhibit.dispatch("op_inhibit")
        return True

    def uninhibit(self, link: SignallingLink) -> bool:
        """Operator request to uninhibit a locally inhibited link (Q.704 10.3); the
        outcome is logged as ``uninhibited`` / ``uninhibit_failed``."""
        if link.inhibit.state != "INHIBITED":
            return False
        link.inhibit.dispatch("op_uninhibit")
        return True

    def _uninhibit_for(self, dpc: int) -> None:
        """Q.704 10.3: a destination became inaccessible while an inhibited link in service
        could reach it: uninhibit our side (LUN), ask the remote to uninhibit its side (LFU)."""
        for adj in self.routes.get(dpc, ()):
            ls = self.linksets.get(adj)
            for lk in ls.links if ls is not None else ():
                if lk.state == "AVAILABLE" and lk.inhibited:
                    if lk.inhibit.state == "INHIBITED":
                        lk.inhibit.dispatch("needed")
                    if lk.inhibit.remote:
                        lk.inhibit.dispatch("remote_needed")

    def status(self) -> dict[str, Any]:
        return {"pc": self.pc, "pc_str": self.variant.pc_str(self.pc),
                "variant": self.variant.name, "restarting": self.restarting, "stp": self.stp,
                "accessible": sorted(self.accessible),
                "congested": sorted(d for d, c in self.congestion.items()
                                    if c.state != "UNCONGESTED"),
                "linksets": {ls.name: {"adjacent": ls.adjacent, "tra_sent": ls.tra_sent,
                                       "tra_received": ls.tra_received,
                                       "accessible": ls.accessible,
                                       "told": dict(sorted(ls.told.items())),
                                       "links": [lk.status() for lk in ls.links]}
                             for ls in self.linksets.values()}}

    # routing ------------------------------------------------------------------------------
    def _route(self, dpc: int) -> Linkset | None:
        """The first route of ``dpc`` in priority order that is neither prohibited nor
        restricted; else the first restricted one (Q.704 13.4: restricted routes carry traffic
        only while nothing better is available)."""
        if self.restarting:
            return None
        fallback = None
        for adj in self.routes.get(dpc, ()):
            ls = self.linksets.get(adj)
            if ls is None or not ls.accessible or (adj, dpc) in self.prohibited:
                continue
            if (adj, dpc) not in self.restricted:
                return ls
            fallback = fallback or ls
        return fallback

    # signalling route set test (Q.704 13.5) --------------------------------------------------
    def _transfer_status(self, ls: Linkset, msg: str, dest: int) -> None:
        """TFP / TFR / TFA from an adjacent signalling transfer point about ``dest``: the
        route through it becomes prohibited, restricted or allowed; a prohibited or restricted
        route is tested with RST / RSR every T10 until TFA (or a new status) arrives.  A status
        about a destination we do not route through that point changes nothing (13.2.3)."""
        if ls.adjacent not in self.routes.get(dest, ()):
            return
        key = (ls.adjacent, dest)
        self.prohibited.discard(key)
        self.restricted.discard(key)
        if msg == "TFP":
            self.prohibited.add(key)
        elif msg == "TFR":
            self.restricted.add(key)
        old = self._route_tests.pop(key, None)
        if old is not None:
            old.cancel()
        if msg != "TFA":
            self._route_tests[key] = self.scheduler.call_later(
                self.timers.table.values["T10"], self._route_set_test, key)
        self.check_accessibility(ls)

    def _route_set_test(self, key: tuple[int, int]) -> None:
        adjacent, dest = key
        msg = "RST" if key in self.prohibited else "RSR" if key in self.restricted else None
        ls = self.linksets.get(adjacent)
        if msg is None or ls is None:
            self._route_tests.pop(key, None)
            return
        link = next((lk for lk in ls.links if lk.state == "AVAILABLE"), None)
        if link is not None:  # no link to the STP: its TRA after recovery says more
            ls.send_mgmt(link, SI_SNM, encode_snm(self.variant, msg, dest=dest))
            self.counters["tx_route_set_test"] += 1
        self._route_tests[key] = self.scheduler.call_later(
            self.timers.table.values["T10"], self._route_set_test, key)

    # signalling transfer point (Q.704 2.3, 13.2-13.5) --------------------------------------
    def status_for(self, dest: int, adjacent: int) -> str:
        """What this transfer point tells ``adjacent`` about ``dest``: TFP when ``dest`` is
        inaccessible (13.2.2 ii) or routed through ``adjacent`` itself, which must not route it
        back through us (13.2.2 i); TFR when only a less efficient route is left (national
        option, 13.4.2); else TFA."""
        ls = self._route(dest)
        if ls is None or ls.adjacent == adjacent:
            return "TFP"
        return "TFR" if self.tfr and self._restricted(dest, ls) else "TFA"

    def _restricted(self, dest: int, ls: Linkset | None) -> bool:
        """Traffic to ``dest`` goes on a less efficient route than its normal one (13.4.1)."""
        return ls is not None and (ls.adjacent != self.routes[dest][0] or
                                   (ls.adjacent, dest) in self.restricted)

    def announce(self, ls: Linkset, link: SignallingLink | None = None, *,
                 now: bool = False) -> None:
        """Tell the adjacent point of ``ls`` every route status that changed since it was last
        told: the broadcast of TFP / TFA / TFR (13.2.2 ii, 13.3.2 ii, 13.4.2), sent on
        ``link`` or a link in service.  A destination that goes from allowed to restricted is
        announced only when its route has stayed restricted for T11 (16.8: the broadcast
        then stands for the response method), unless ``now`` (the routing status before
        TRA, 9.2, and a route set test answer, 13.5.3, give the status as it is)."""
        link = link or next((lk for lk in ls.links if lk.state == "AVAILABLE"), None)
        if link is None:
            return
        for dest in self.routes:
            if dest != ls.adjacent and dest != self.pc:
                status = self.status_for(dest, ls.adjacent)
                told = ls.told.get(dest, "TFA")
                if status == "TFR" and told == "TFA" and not now and dest not in self._tfr_due:
                    if dest not in self._t11:
                        self._t11[dest] = self.scheduler.call_later(
                            self.timers.table.values["T11"], self._tfr_now, dest)
                elif status != told:
                    self._send_route_status(ls, link, status, dest)

    def _tfr_now(self, dest: int) -> None:
        """Q.704 13.4.2, 16.8: the route to ``dest`` stayed restricted for T11 (the failure of
        its normal link set is a long-term one), or the alternative link set it now uses
        became congested - TFR is broadcast (T11 stopped)."""
        self._stop_t11(dest)
        if self._restricted(dest, self._route(dest)):
            self._tfr_due.add(dest)
            self.log("tfr_broadcast", dest=dest)
            for ls in self.linksets.values():
                if ls.tra_sent:
                    self.announce(ls)

    def _settle_t11(self) -> None:
        """A destination no longer restricted needs no TFR: its T11 stops (13.4)."""
        for dest in [*self._t11, *self._tfr_due]:
            if not self._restricted(dest, self._route(dest)):
                self._stop_t11(dest)
                self._tfr_due.discard(dest)

    def _stop_t11(self, dest: int) -> None:
        handle = self._t11.pop(dest, None)
        if handle is not None:
            handle.cancel()

    def _send_route_status(self, ls: Linkset, link: SignallingLink, msg: str, dest: int) -> None:
        """TFP / TFR / TFA about ``dest`` to the adjacent point of ``ls`` (Q.704 15, heading
        H0 = 4; SLS the SLC of the carrying link); TFP starts T8 for ``dest`` (13.2.2)."""
        if msg == "TFA":
            ls.told.pop(dest, None)
        elif dest in self.routes:
            ls.told[dest] = msg
        if msg == "TFP":
            old = self._t8.pop(dest, None)
            if old is not None:
                old.cancel()
            self._t8[dest] = self.scheduler.call_later(self.timers.table.values["T8"],
                                                       self._t8.pop, dest, None)
        ls.send_mgmt(link, SI_SNM, encode_snm(self.variant, msg, dest=dest))
        self.counters["tx_route_status"] += 1
        self.log("route_status", message=msg, dest=dest, adjacent=ls.adjacent)

    def _transfer_through(self, link: SignallingLink, m: dict, body: bytes) -> None:
        """Q.704 2.3: an MSU for another point goes out on the route to its DPC, load shared by
        SLS as local traffic; one for an inaccessible destination is discarded and, unless
        T8 runs for it, answered with TFP to the adjacent point it came from (13.2.2 iii).
        Toward a congested link set the MSU is still sent and its originating point hears
        TFC (13.7); an RCT there is answered with TFC and discarded (13.9)."""
        dpc = m["dpc"]
        if self._congested_links:
            ls = self._route(dpc)
            if ls is not None and ls.congested and self._transfer_controlled(ls, m):
                return
        if self._send_routed(dpc, m["sls"], body):
            self.counters["transferred"] += 1
            return
        via = link if link.state == "AVAILABLE" else \
            next((lk for lk in link.linkset.links if lk.state == "AVAILABLE"), None)
        if not self.restarting and dpc not in self._t8 and via is not None:
            self._send_route_status(link.linkset, via, "TFP", dpc)

    def _transfer_controlled(self, ls: Linkset, m: dict) -> bool:
        """Q.704 13.7.2 (international network, no congestion priorities): an MSU received for
        a destination whose link set ``ls`` is congested gets TFC about that destination
        sent to its originating point - for the first MSU of that origin and destination
        and then for every :data:`TFC_EVERY`-th, so a busy origin is reminded while
        congestion lasts without a TFC per MSU.  An RCT (13.9.3: its priority, 0, is below
        the congestion status) always gets TFC and is discarded: returns True for it."""
        dpc, opc = m["dpc"], m["opc"]
        rct = m["si"] == SI_SNM and m["payload"][:1] == _RCT
        if self._congestion_due(ls, opc, dpc) or rct:
            if self.transfer(SI_SNM, opc, m["sls"], encode_snm(self.variant, "TFC", dest=dpc)):
                self.counters["tx_tfc"] += 1
                self.log("transfer_controlled", dest=dpc, to=opc)
        return rct

    def _congestion_due(self, ls: Linkset, opc: int, dpc: int) -> bool:
        """Q.704 11.2.3.1: count an MSU from ``opc`` toward ``dpc`` on the congested link set
        ``ls``; True for the first and then every :data:`TFC_EVERY`-th, the ones whose
        originator hears of the congestion (TFC, or MTP-STATUS when it is this point)."""
        key = (ls.adjacent, opc, dpc)
        n = self._tfc_count.get(key, 0)
        self._tfc_count[key] = n + 1
        return n % TFC_EVERY == 0

    def _local_congestion(self, dpc: int) -> None:
        """Q.704 11.2.3.1 i): a message of a local user part toward a congested link set is
        still sent; the users hear MTP-STATUS about ``dpc`` as a TFC would tell them, for
        the first message and every :data:`TFC_EVERY`-th (their traffic reduction, e.g.
        ISUP's T29/T30 of Q.764 2.10, needs the indications repeated while it lasts)."""
        ls = self._route(dpc)
        if ls is not None and ls.congested and self._congestion_due(ls, self.pc, dpc):
            self.status_to_users(dpc, "signalling network congestion")

    def link_congestion(self, link: SignallingLink, active: bool) -> None:
        """MTP2 congestion onset / abatement of an outgoing link (Q.703 9.4, Q.704 3.8).  Onset
        on the link set a restricted destination uses while T11 runs broadcasts its TFR at
        once (13.4.2); when the link set is no longer congested the TFC counts toward it
        start again."""
        if active:
            self._congested_links.add(link)
            for dest in [d for d in self._t11 if self._route(d) is link.linkset]:
                self._tfr_now(dest)  # 13.4.2: congestion on the alternative link set
            return
        self._congested_links.discard(link)
        ls = link.linkset
        if not ls.congested:
            for key in [k for k in self._tfc_count if k[0] == ls.adjacent]:
                del self._tfc_count[key]

    def _answer_route_set_test(self, link: SignallingLink, msg: str, dest: int) -> None:
        """Q.704 13.5.3: RST (RSR) asks whether ``dest`` is still prohibited (restricted) for
        the sender; the same status gets no answer, another one gets TFA, TFR or TFP."""
        ls = link.linkset
        status = self.status_for(dest, ls.adjacent)
        if status != ("TFP" if msg == "RST" else "TFR"):
            self._send_route_status(ls, link, status, dest)
        elif ls.told.get(dest) != status:  # the answer tells it: no later broadcast needed
            ls.told[dest] = status

    # controlled rerouting (Q.704 8) -----------------------------------------------------------
    def _rerouted(self, dpc: int, route: Linkset | None) -> None:
        """Note the route ``dpc``'s traffic uses.  Moving it off a route that is still usable
        (TFA or TFR made another one preferable) is controlled rerouting: its traffic is held
        for T6 so that nothing overtakes what the old route still carries (8.2).  Moving off
        a route that failed (forced rerouting, 7.2) or onto/off no route at all is at once."""
        new = route.adjacent if route is not None else None
        old = self._via.get(dpc)
        self._via[dpc] = new
        if old is None or new is None or old == new or dpc in self._held:
            return
        was = self.linksets.get(old)
        if was is not None and was.accessible and (old, dpc) not in self.prohibited:
            self._held[dpc] = []
            self.scheduler.call_later(self.timers.table.values["T6"], self._t6, dpc)
            self.log("controlled_rerouting", dpc=dpc, old=old, new=new)

    def _t6(self, dpc: int) -> None:
        """Q.704 8.2: T6 expired - the held traffic goes on the route now in use."""
        for body in self._held.pop(dpc, ()):
            self._send_routed(dpc, self.variant.parse_label(body, 1)[2], body)

    def _send_routed(self, dpc: int, sls: int, body: bytes) -> bool:
        """An MSU (ours or transferred) onto the route to ``dpc``, by SLS; held during
        controlled rerouting; False when there is no route."""
        held = self._held.get(dpc) if self._held else None
        if held is not None:
            held.append(body)
            return True
        ls = self._route(dpc)
        link = ls.link_for_sls(sls) if ls is not None else None
        if link is None:
            self.counters["tx_no_route"] += 1
            return False
        ls.send(link, body)
        return True

    def transfer(self, si: int, dpc: int, sls: int, data: bytes, priority: int = 0) -> bool:
        """MTP-TRANSFER request (Q.704 2.3): False when the destination is inaccessible."""
        if self._congested_links and si != SI_SNM:
            self._local_congestion(dpc)
        return self._send_routed(dpc, sls, encode_msu(self.variant, si, self.ni, dpc, self.pc,
                                                      sls & 0x0F, data, priority))

    def transfer_sif(self, si: int, dpc: int, sls: int, sif: bytes, priority: int = 0) -> bool:
        """MTP-TRANSFER of a SIF that already holds its label (TUP)."""
        if self._congested_links:
            self._local_congestion(dpc)
        return self._send_routed(
            dpc, sls, SIO.build_bytes({"si": si, "priority": priority, "ni": self.ni}) + sif)

    def check_accessibility(self, ls: Linkset | None = None) -> None:
        """Give MTP-RESUME / MTP-PAUSE for every destination whose accessibility changed; a
        linkset (``ls``, whose state changed) with no link in service forgets its TRA
        exchange, and a point left with no link at all restarts when one returns (Q.704 9)."""
        if ls is not None and (ls.tra_sent or ls.tra_received) and not ls.up:
            ls.went_down()
            if self.started and not self.restarting and \
                    not any(x.up for x in self.linksets.values()):
                self._begin_restart()
        self.restart_progress()
        for dpc in self.routes:
            route = self._route(dpc)
            self._rerouted(dpc, route)
            now = route is not None
            if now and dpc not in self.accessible:
                self.accessible.add(dpc)
                self.log("resume", dpc=dpc)
                for u in set(self.users.values()):
                    u.mtp_resume(dpc)
            elif not now and dpc in self.accessible:
                self.accessible.discard(dpc)
                self.log("pause", dpc=dpc)
                rsc = self.congestion.pop(dpc, None)
                if rsc is not None:
                    rsc.dispatch("unavailable")
                for u in set(self.users.values()):
                    u.mtp_pause(dpc)
                self._uninhibit_for(dpc)
        if self.stp and not self.restarting:
            self._settle_t11()
            for other in self.linksets.values():
                if other.tra_sent:
                    self.announce(other)

    def status_to_users(self, dpc: int, cause: str) -> None:
        for u in set(self.users.values()):
            u.mtp_status(dpc, cause)

    # discrimination and distribution (Q.704 2.4) ---------------------------------------------
    def receive(self, link: SignallingLink, body: bytes) -> None:
        try:
            m = decode_msu(self.variant, body)
        except Mtp3DecodeError:
            self.counters["rx_bad"] += 1
            return
        if m["ni"] != self.ni:
            self.counters["rx_wrong_ni"] += 1
            return
        if m["dpc"] != self.pc:
            if self.stp:
                self._transfer_through(link, m, body)
            else:
                self.counters["rx_not_for_us"] += 1
            return
        si, payload = m["si"], m["payload"]
        ls = link.linkset
        user = self.users.get(si)  # user traffic first: one lookup (users never take SI 0-2)
        try:
            if user is not None:
                if ls.accessible and not self.restarting:
                    user.mtp_transfer(m["opc"], m["dpc"], m["sls"],
                                      body[1:] if si in self.whole_sif else payload)
            elif si in (SI_SLTM, SI_SLTM_SPECIAL):
                self._slt(link, m, decode_slt(payload))
            elif si == SI_SNM:
                self._snm(link, m, decode_snm(self.variant, payload))
            else:  # Q.704 2.4.3: user part unavailable
                upu = encode_snm(self.variant, "UPU", dest=self.pc, up=si, cause=1)
                self.transfer(SI_SNM, m["opc"], m["sls"], upu)
        except Mtp3DecodeError:
            self.counters["rx_bad"] += 1

    def _slt(self, link: SignallingLink, m: dict, t: dict) -> None:
        if t["message"] == "SLTM":
            link.linkset.send_mgmt(link, m["si"], encode_slt("SLTA", t["pattern"]), sls=m["sls"])
        else:
            link.slta(t["pattern"])

    def _snm(self, link: SignallingLink, m: dict, s: dict) -> None:
        ls = link.linkset
        msg = s["message"]
        if msg == "TRA":
            ls.tra()
        elif msg in ("COO", "ECO"):
            ls.coo(link, m["sls"], s.get("fsn", 0), msg == "ECO")
        elif msg in ("COA", "ECA"):
            ls.coa(m["sls"], s.get("fsn"))
        elif msg == "CBD":
            ls.send_mgmt(link, SI_SNM, encode_snm(self.variant, "CBA", code=s["code"]),
                         sls=m["sls"])
        elif msg == "CBA":
            ls.cba(s["code"])
        elif msg in ("TFP", "TFR", "TFA"):
            self._transfer_status(ls, msg, s["dest"])
        elif msg in ("RST", "RSR"):
            self.counters["rx_route_set_test"] += 1
            self.log("route_set_test", message=msg, dest=s["dest"], adjacent=ls.adjacent)
            if self.stp and not self.restarting:  # an end point has no route to report on
                self._answer_route_set_test(link, msg, s["dest"])
        elif msg == "UPU":
            self.status_to_users(s["dest"], f"user part {s['up']} unavailable")
        elif msg == "TFC":  # Q.704 13.7: the route set to dest is congested; users slow down
            self.counters["rx_tfc"] += 1
            dest = s["dest"]
            if dest not in self.accessible:  # 13.7.6: inaccessible already - ignored
                return
            self.status_to_users(dest, "signalling network congestion")
            if self.rct:
                rsc = self.congestion.get(dest)
                if rsc is None:
                    rsc = self.congestion[dest] = RouteSetCongestion(self, dest)
                rsc.dispatch("TFC")
        elif msg == "RCT":  # Q.704 13.9: it reached its destination through every congestion
            self.counters["rx_rct"] += 1
        elif msg in _INHIBIT_MESSAGES:
            link = next((lk for lk in ls.links if lk.slc == m["sls"]), None)
            if link is not None:
                link.inhibit.dispatch("rx_" + msg)


TFC_EVERY = 8  # Q.704 13.7.2: a transfer point sends TFC for every 8th MSU toward congestion
_RCT = encode_snm(VARIANTS["itu"], "RCT")  # its heading code alone (Q.704 15.9), any variant
_INHIBIT_MESSAGES = frozenset(("LIN", "LUN", "LIA", "LUA", "LID", "LFU", "LLT", "LRT"))

