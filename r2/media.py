"""A span of R2 circuits on the media core: TS16 nibbles in and out, MF-R2 tones generated and
detected for all channels in one call per tick (C, GIL released), events to each channel.

Per tick (``rx`` then ``tx``): received ABCD nibbles that changed go to ``R2Channel.on_cas``;
the received audio block (channels x frames, A-law/mu-law) runs through the forward- and
backward-signal detectors of :mod:`timeslot.r2mf`; each onset/end goes to the channel whose
register expects that direction; ``tx`` fills the outgoing audio from the tone generator of
:mod:`timeslot.tonegen` and returns the nibbles to send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from core.clock import Scheduler
from r2.call import R2Channel
from r2.register import BackwardRegister
from r2.variants import Variant, get


class R2Span:
    """``n`` R2 circuits (circuit numbers ``first .. first+n-1``) sharing one media block."""

    def __init__(self, scheduler: Scheduler, n: int, variant: str | Variant = "itu", *,
                 law: str = "alaw", first: int = 1,
                 on_event: Callable[[int, str, dict[str, Any]], None] | None = None,
                 **chan_opts: Any):
        from timeslot.r2mf import R2MfDetector
        from timeslot.tonegen import ToneGenerator

        self.n = n
        self.variant = get(variant) if isinstance(variant, str) else variant
        self.gen = ToneGenerator(n, law)
        self.detectors = {"forward": R2MfDetector(n, direction="forward", law=law),
                          "backward": R2MfDetector(n, direction="backward", law=law)}
        # a channel's receiver runs only while its register listens to that direction
        self._listening: list[str | None] = [None] * n
        self._ticks = 0
        for det in self.detectors.values():
            for i in range(n):
                det.set_enabled(i, False)
        self.tx_cas = np.full(n, self.variant.abcd(self.variant.forward_codes["idle"]), np.uint8)
        self.rx_cas = self.tx_cas.copy()
        report = on_event or (lambda i, name, fields: None)
        self.channels = [
            R2Channel(scheduler, self.variant, first + i,
                      cas_tx=self._cas_setter(i), mf_tx=self._mf_setter(i),
                      on_event=lambda name, fields, i=i: report(i, name, fields), **chan_opts)
            for i in range(n)]

    def _cas_setter(self, i: int) -> Callable[[int], None]:
        def set_cas(abcd: int) -> None:
            self.tx_cas[i] = abcd
        return set_cas

    def _mf_setter(self, i: int) -> Callable[[int, str], None]:
        def set_mf(signal: int, sender: str) -> None:
            if signal:
                self.gen.mf(i, signal, sender)
            else:
                self.gen.stop(i)
        return set_mf

    def rx(self, audio: np.ndarray, cas: np.ndarray) -> None:
        """One received tick: ``audio`` (n, frames) codes, ``cas`` (n,) ABCD nibbles."""
        cas = np.asarray(cas, np.uint8)
        if cas.shape != (self.n,):
            raise ValueError(f"cas must have shape ({self.n},)")
        changed = np.flatnonzero(cas != self.rx_cas).tolist()
        for i in changed:
            self.rx_cas[i] = cas[i]
            self.channels[i].on_cas(int(cas[i]))
        # registers start on line signals; stale receivers are swept once a second
        self._ticks += 1
        self._enable_receivers(range(self.n) if self._ticks % 50 == 0 else changed)
        for direction, det in self.detectors.items():
            for ev in det.process(audio):
                if self._listening[ev.channel] == direction:
                    self.channels[ev.channel].on_mf(ev.value if ev.end < 0 else 0)

    def _enable_receivers(self, which: Iterable[int]) -> None:
        """Switch a channel's MF receiver to the direction its register listens to."""
        for i in which:
            reg = self.channels[i].register
            want = None if reg is None or reg.state == "done" else (
                "forward" if isinstance(reg, BackwardRegister) else "backward")
            have = self._listening[i]
            if want != have:
                if have is not None:
                    self.detectors[have].set_enabled(i, False)
                if want is not None:
                    self.detectors[want].set_enabled(i, True)
                self._listening[i] = want

    def tx(self, out: np.ndarray | None = None, frames: int = 160) -> tuple[np.ndarray, np.ndarray]:
        """The outgoing tick: (audio (n, frames) codes with the MF tones, ABCD nibbles)."""
        return self.gen.generate(out, frames), self.tx_cas
