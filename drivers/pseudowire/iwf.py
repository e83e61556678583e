"""An interworking function: an E1 span (the attachment circuit) carried over a pseudowire.

What a CESoPSN/SAToP gateway does between its TDM port and the PSN (RFC 4553 clause 6,
RFC 5086 clause 6): each tick the block received on the attachment circuit goes out as
packets and the block played out from the pseudowire is sent on the attachment circuit;
CAS crosses both ways (CESoPSN with CAS).  The attachment circuit's alarms drive the
indications: LOS, LOF or AIS set L (the far gateway plays filler), RAI sets M = 10
(CESoPSN; SAToP carries RAI inside the E1 stream).
"""

from __future__ import annotations

from drivers.base import Span
from drivers.pseudowire.span import PseudowireSpan

AC_FAULTS = frozenset({"LOS", "LOF", "AIS"})


class Iwf:
    """Bridges ``ac`` and ``pw``; call :meth:`tick` once per block, after the line moved."""

    def __init__(self, ac: Span, pw: PseudowireSpan):
        self.ac = ac
        self.pw = pw
        self.cas = pw.format.mode.cas
        self._started = False

    def tick(self, frames: int) -> None:
        alarms = set(self.ac.status().alarms)
        self.pw.set_ac_fault(bool(alarms & AC_FAULTS))
        if self.pw.format.mode.structured:
            self.pw.set_rdi("RAI" in alarms)
        if self._started:  # the line delivers its first block after one tick
            self.pw.write_block(self.ac.read_block(frames))
        self._started = True
        self.pw.tick(frames)
        self.ac.write_block(self.pw.read_block(frames))
        if self.cas:
            rx_ac = self.ac.cas_rx()
            # towards the line only bits the far end really sent: until then (and while
            # packets are lost) the line keeps its own idle signalling
            forward = self.pw.cas_received and not self.pw.jitter.loss_state
            rx_pw = self.pw.cas_rx()
            for ts in self.pw.format.timeslots:
                self.pw.cas_tx(ts, int(rx_ac[ts]))
                if forward:
                    self.ac.cas_tx(ts, int(rx_pw[ts]))
