"""CE-bound jitter buffer: reorder by sequence number, drop late and duplicate packets,
substitute lost ones, and track the packet loss state (RFC 4553 clause 6.3, RFC 5086
clause 6.2.2).

Playout advances one sequence number per packet period whether or not the packet came,
so a burst of loss keeps the buffer aligned with the sender.  A packet missing at its
playout moment is *lost* (the caller plays filler); if it turns up afterwards it is
*late* and dropped.  An empty buffer at a playout moment is an *underrun*; a packet too
far ahead of playout (beyond the buffer depth) is an *overrun* and dropped.  After
``depth`` consecutive overruns or late packets the far end has restarted: the buffer
empties and fills again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

SEQ_MOD = 1 << 16


def seq_diff(a: int, b: int) -> int:
    """a - b in sequence-number space, as a signed number (RFC 3550 A.1 style)."""
    d = (a - b) % SEQ_MOD
    return d - SEQ_MOD if d >= SEQ_MOD // 2 else d


@dataclass
class PwCounters:
    """Pseudowire counters (the RFC 5604 TDM PW performance objects, in spirit)."""

    tx_packets: int = 0
    rx_packets: int = 0
    played: int = 0
    lost: int = 0
    reordered: int = 0
    duplicates: int = 0
    late: int = 0
    underruns: int = 0
    overruns: int = 0
    malformed: int = 0
    loss_state_entries: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class JitterBuffer:
    """Packets keyed by sequence number, played out in order after ``prefill`` arrived.

    ``loss_enter`` consecutive lost packets enter the packet loss state (the R bit goes
    out and the far end is told); ``loss_exit`` consecutive played packets leave it.  A
    new buffer starts in that state: nothing received yet.
    """

    def __init__(self, depth: int = 8, prefill: int | None = None, loss_enter: int = 8,
                 loss_exit: int = 8, counters: PwCounters | None = None):
        if depth < 1:
            raise ValueError("jitter buffer depth must be at least one packet")
        self.depth = depth
        self.prefill = max(1, depth // 2) if prefill is None else prefill
        if not 1 <= self.prefill <= depth:
            raise ValueError("prefill must be within 1..depth packets")
        if loss_enter < 1 or loss_exit < 1:
            raise ValueError("loss state thresholds must be at least one packet")
        self.loss_enter, self.loss_exit = loss_enter, loss_exit
        self.counters = counters if counters is not None else PwCounters()
        self.loss_state = True  # nothing received yet: no packets is a loss of packets
        self._reset()

    def _reset(self) -> None:
        self._buf: dict[int, Any] = {}
        self._next: int | None = None  # sequence number due at the next playout
        self._highest: int | None = None
        self._played: deque[int] = deque(maxlen=2 * self.depth)
        self._strikes = 0  # consecutive overruns or late packets
        self._missing = 0  # consecutive lost playouts
        self._good = 0  # consecutive played packets

    def push(self, seq: int, item: Any) -> None:
        c = self.counters
        c.rx_packets += 1
        if seq in self._buf or seq in self._played:
            c.duplicates += 1
            return
        if self._next is not None:
            ahead = seq_diff(seq, self._next)
            if ahead < 0 or ahead >= self.depth:
                if ahead < 0:
                    c.late += 1
                else:
                    c.overruns += 1
                self._strikes += 1
                if self._strikes >= self.depth:
                    self._reset()  # the far end restarted its sequence: fill again
                    self._store(seq, item)
                return
        self._strikes = 0
        self._store(seq, item)

    def _store(self, seq: int, item: Any) -> None:
        if self._highest is not None and seq_diff(seq, self._highest) < 0:
            self.counters.reordered += 1
        else:
            self._highest = seq
        if len(self._buf) >= self.depth:  # only before playout starts: drop the oldest
            oldest = min(self._buf, key=lambda s: seq_diff(s, seq))
            del self._buf[oldest]
            self.counters.overruns += 1
        self._buf[seq] = item

    def pop(self) -> tuple[bool, Any]:
        """The item due now: (True, item), or (False, None) when it is missing."""
        if self._next is None:
            if len(self._buf) < self.prefill:
                return False, None  # still filling: not a loss
            self._next = min(self._buf, key=lambda s: seq_diff(s, self._highest))
        seq = self._next
        self._next = (seq + 1) % SEQ_MOD
        item = self._buf.pop(seq, None)
        c = self.counters
        if item is None:
            c.lost += 1
            if not self._buf:
                c.underruns += 1
            self._good = 0
            self._missing += 1
            if not self.loss_state and self._missing >= self.loss_enter:
                self.loss_state = True
                c.loss_state_entries += 1
            return False, None
        c.played += 1
        self._played.append(seq)
        self._missing = 0
        self._good += 1
        if self.loss_state and self._good >= self.loss_exit:
            self.loss_state = False
        return True, item
