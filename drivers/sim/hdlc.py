"""HDLC on the simulated spans: every HDLC timeslot of every span in one bank.

The bank is :class:`timeslot.hdlc.HdlcBank` (one link per (span, timeslot)); one
``tx`` call fills the HDLC rows of the transmit array before the framers run and one
``rx`` call takes the received rows after.  Changing channel modes rebuilds the bank
(frames queued but not yet sent are dropped, as when a real link is re-provisioned)."""

from __future__ import annotations

import numpy as np

from drivers.base import BoardError


class HdlcPlug:
    def __init__(self, links: list[tuple[int, int]]) -> None:
        try:
            from timeslot.hdlc import HdlcBank
        except ImportError as e:  # the HDLC block is built from csrc/hdlc.c
            raise BoardError(f"HDLC timeslots need timeslot.hdlc ({e})") from None
        self.links = list(links)
        self.bank = HdlcBank(len(self.links))
        self._index = {link: i for i, link in enumerate(self.links)}
        self._spans = np.array([s for s, _ in self.links], np.intp)
        self._ts = np.array([t for _, t in self.links], np.intp)

    def send(self, span: int, timeslot: int, frame: bytes) -> None:
        self.bank.send(self._index[(span, timeslot)], frame)

    def transmit(self, tx: np.ndarray) -> None:
        out = np.empty((len(self.links), tx.shape[2]), np.uint8)
        self.bank.tx(out)
        tx[self._spans, self._ts, :] = out

    def receive(self, rx: np.ndarray, spans: list) -> None:
        rows = np.ascontiguousarray(rx[self._spans, self._ts, :])
        for link, frame in self.bank.rx(rows):
            s, ts = self.links[link]
            spans[s]._hdlc_rx[ts].append(bytes(frame))
