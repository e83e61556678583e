"""Streaming sample-rate conversion to the 8 kHz of the line, for prompt files recorded at
other rates (16, 22.05, 44.1, 48 kHz ...).

A rational L/M polyphase FIR resampler: the input is (in effect) upsampled by L, low-pass
filtered and decimated by M, computing only the kept outputs.  The filter is a Kaiser-window
FIR designed at the upsampled rate for 60 dB stop-band attenuation from the output's
Nyquist frequency (4 kHz at 8 kHz out) and a pass band to 85 % of it (3.4 kHz: the
telephone band of G.712), so nothing above 4 kHz folds into the band.  State (the last
input samples and the output phase) carries over between blocks: the output does not
depend on how the input was cut into blocks.  The filter's delay is compensated, so output
sample k is the input at time k/8000 s, and :meth:`Resampler.flush` gives the tail.
"""

from __future__ import annotations

from math import ceil, gcd

import numpy as np

STOP_DB = 60.0
PASS_FRACTION = 0.85  # pass band edge / output Nyquist


class Resampler:
    def __init__(self, rate_in: int, rate_out: int = 8000):
        from scipy.signal import firwin, kaiserord

        if rate_in <= 0 or rate_out <= 0:
            raise ValueError("sample rates must be positive")
        g = gcd(rate_in, rate_out)
        self.up, self.down = rate_out // g, rate_in // g
        fs_up = rate_in * self.up
        stop = min(rate_in, rate_out) / 2.0
        passband = PASS_FRACTION * stop
        numtaps, beta = kaiserord(STOP_DB, (stop - passband) / (fs_up / 2.0))
        numtaps = ceil(numtaps / self.up) * self.up + 1  # odd: a whole-sample delay
        h = firwin(numtaps, (stop + passband) / 2.0, window=("kaiser", beta), fs=fs_up)
        h *= self.up
        pad = ceil(numtaps / self.up) * self.up - numtaps
        # polyphase: phase[p, m] = h[p + m * up]
        self.phase = np.concatenate([h, np.zeros(pad)]).reshape(-1, self.up).T.copy()
        self.taps = self.phase.shape[1]
        self.delay = (numtaps - 1) // 2  # in upsampled samples
        self._x = np.zeros(self.taps - 1)  # the input history
        self._first = -(self.taps - 1)  # input index of _x[0]
        self._k = 0  # next output index
        self._n = 0  # input samples taken so far

    def process(self, x: np.ndarray) -> np.ndarray:
        """Outputs (float64) that ``x`` completes; the rest waits for more input."""
        self._n += len(x)
        return self._run(np.asarray(x, np.float64))

    def flush(self) -> np.ndarray:
        """The remaining outputs up to the end of the input (its length x L / M)."""
        total = ceil(self._n * self.up / self.down)
        out = []
        while self._k < total:
            out.append(self._run(np.zeros(self.taps)))
        y = np.concatenate(out) if out else np.zeros(0)
        return y[:max(0, len(y) - (self._k - total))]

    def _run(self, x: np.ndarray) -> np.ndarray:
        buf = np.concatenate([self._x, x])
        last = self._first + len(buf) - 1  # input index of the newest sample
        # output k needs inputs up to floor((k*M + delay) / L)
        kmax = ((last + 1) * self.up - self.delay - 1) // self.down
        ks = np.arange(self._k, kmax + 1, dtype=np.int64)
        pos = ks * self.down + self.delay
        newest = pos // self.up - self._first  # index in buf of each output's newest input
        win = buf[newest[:, None] - np.arange(self.taps)[None, :]]
        y = np.einsum("km,km->k", self.phase[pos % self.up], win)
        self._k = int(kmax) + 1 if len(ks) else self._k
        keep = self.taps - 1
        self._x = buf[len(buf) - keep:]
        self._first = last - keep + 1
        return y
