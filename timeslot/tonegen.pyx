# distutils: sources = csrc/tonegen.c csrc/g711.c
"""Tone generator bank over csrc/tonegen.c: call-progress plans, DTMF, MFC-R2, test tones.

Levels are dBm0 per frequency component (G.711 load capacity +3.14 dBm0 A-law,
+3.17 dBm0 mu-law).  Frequencies:

* DTMF, Q.23 Table 1: rows 697/770/852/941 Hz, columns 1209/1336/1477/1633 Hz;
  default levels -9 dBm0 (low group) and -7 dBm0 (high group, the Q.23 pre-emphasis
  of the high group), 100 ms tone / 100 ms pause (Q.24 asks >= 40 ms each).
* MFC-R2, Q.441 Table 5 (2 of 6 code): forward f0..f5 =
  1380..1980 Hz, backward f0..f5 = 1140..540 Hz; Q.454 sending level -8 dBm0 per
  frequency by default; a signal is sent until :meth:`ToneGenerator.stop` (compelled).
* Call-progress tones from :mod:`timeslot.toneplans`; test tone 1004 Hz -13 dBm0 (O.133).
"""

from libc.stdint cimport int32_t, uint8_t

import numpy as np

cimport numpy as cnp

from timeslot.detector cimport law_index

from timeslot.toneplans import Tone
from timeslot.toneplans import plan as get_plan

cnp.import_array()


cdef extern from "level.h":
    double CTI_DBM0_PEAK_ALAW
    double CTI_DBM0_PEAK_ULAW

cdef extern from "tonegen.h" nogil:
    ctypedef struct cti_tone_step_t:
        double freq[2]
        double amp[2]
        int32_t samples
    ctypedef struct cti_tonegen_t:
        int channels
        int law
    int cti_tonegen_init(cti_tonegen_t *g, int channels, int law)
    void cti_tonegen_free(cti_tonegen_t *g)
    int cti_tonegen_set(cti_tonegen_t *g, int ch, const cti_tone_step_t *steps, int n,
                        int loop_to)
    void cti_tonegen_stop(cti_tonegen_t *g, int ch)
    int cti_tonegen_busy(const cti_tonegen_t *g, int ch)
    void cti_tonegen_process(cti_tonegen_t *g, void *out, int frames)


RATE = 8000

DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
DTMF_LEVEL_LOW = -9.0
DTMF_LEVEL_HIGH = -7.0
R2_FORWARD = (1380.0, 1500.0, 1620.0, 1740.0, 1860.0, 1980.0)
R2_BACKWARD = (1140.0, 1020.0, 900.0, 780.0, 660.0, 540.0)
R2_LEVEL = -8.0
TEST_TONE = (1004.0, -13.0)
# Q.441 Table 5: signal n -> indices (f_i, f_j) of its two frequencies (2 of 6 code)
R2_PAIRS = {1: (0, 1), 2: (0, 2), 3: (1, 2), 4: (0, 3), 5: (1, 3), 6: (2, 3), 7: (0, 4),
            8: (1, 4), 9: (2, 4), 10: (3, 4), 11: (0, 5), 12: (1, 5), 13: (2, 5), 14: (3, 5),
            15: (4, 5)}


def amplitude(dbm0: float, law: str = "alaw") -> float:
    """Peak int16 amplitude of a sine at ``dbm0``."""
    peak = CTI_DBM0_PEAK_ULAW if law == "ulaw" else CTI_DBM0_PEAK_ALAW
    return peak * 10.0 ** (dbm0 / 20.0)


def dtmf_freqs(digit: str) -> tuple[float, float]:
    """(low, high) Hz of a DTMF key (Q.23 Table 1)."""
    for r, row in enumerate(DTMF_KEYS):
        c = row.find(digit.upper())
        if c >= 0 and digit:
            return DTMF_LOW[r], DTMF_HIGH[c]
    raise ValueError(f"not a DTMF key: {digit!r} (expected 0-9, *, #, A-D)")


def r2_freqs(signal: int, direction: str) -> tuple[float, float]:
    """The two frequencies of MFC-R2 signal 1..15 (Q.441 Table 5)."""
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")
    if signal not in R2_PAIRS:
        raise ValueError(f"MFC-R2 signal must be 1..15, not {signal!r}")
    group = R2_FORWARD if direction == "forward" else R2_BACKWARD
    i, j = R2_PAIRS[signal]
    return group[i], group[j]


def _ms(ms: float) -> int:
    if ms < 0:
        raise ValueError(f"duration must be >= 0 ms, not {ms}")
    return int(round(ms * RATE / 1000.0))


cdef class ToneGenerator:
    """A bank of ``channels`` generators writing channel-major ``(channels, frames)``.

    ``law`` is "alaw", "ulaw" (uint8 output) or "linear" (int16 output).
    """

    cdef cti_tonegen_t g
    cdef readonly int channels
    cdef readonly str law
    cdef object _plan

    def __cinit__(self, int channels, str law="alaw", plan="itu"):
        if channels <= 0:
            raise ValueError("channels must be positive")
        if cti_tonegen_init(&self.g, channels, law_index(law)) != 0:
            raise MemoryError()
        self.channels = channels
        self.law = law
        self._plan = get_plan(plan)

    def __dealloc__(self):
        cti_tonegen_free(&self.g)

    def _check(self, int channel):
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} out of range 0..{self.channels - 1}")

    def _program(self, int channel, list steps, int loop_to):
        """steps: [(freqs, levels_dbm0, samples)] with samples < 0 = until stopped."""
        self._check(channel)
        if not steps:
            raise ValueError("empty tone program")
        cdef cnp.ndarray buf = np.zeros(len(steps) * sizeof(cti_tone_step_t), np.uint8)
        cdef cti_tone_step_t *p = <cti_tone_step_t *> cnp.PyArray_DATA(buf)
        cdef int i, k
        for i, (freqs, levels, samples) in enumerate(steps):
            if len(freqs) > 2:
                raise ValueError("at most two frequencies per step")
            for k in range(2):
                p[i].freq[k] = 0.0
                p[i].amp[k] = 0.0
            for k, (f, lv) in enumerate(zip(freqs, levels)):
                if not 0.0 < f < RATE / 2:
                    raise ValueError(f"frequency {f} Hz outside 0..4000 Hz")
                p[i].freq[k] = f
                p[i].amp[k] = amplitude(lv, self.law)
            p[i].samples = samples
        if cti_tonegen_set(&self.g, channel, p, len(steps), loop_to) != 0:
            raise MemoryError()

    def play(self, int channel, tone, level: float | None = None):
        """Play a plan tone (name or :class:`Tone`) with its cadence, until stopped."""
        if isinstance(tone, str):
            try:
                tone = self._plan.tones[tone]
            except KeyError:
                raise ValueError(f"no tone {tone!r} in plan {self._plan.name!r} "
                                 f"(known: {', '.join(self._plan.tones)})") from None
        if not isinstance(tone, Tone):
            raise TypeError("tone must be a plan tone name or a Tone")
        lv = tone.level if level is None else level
        self._program(channel, [(s.freqs, (lv, lv), -1 if s.ms is None else _ms(s.ms))
                                for s in tone.segments], 0)

    def tone(self, int channel, freqs, level: float = TEST_TONE[1], ms: float | None = None):
        """Single or dual tone (e.g. the 1004 Hz test tone) for ``ms`` or until stopped."""
        freqs = tuple(freqs) if isinstance(freqs, (tuple, list)) else (freqs,)
        self._program(channel, [(freqs, (level, level), -1 if ms is None else _ms(ms))], -1)

    def dtmf(self, int channel, str digits, on_ms: float = 100, off_ms: float = 100,
             level_low: float = DTMF_LEVEL_LOW, level_high: float = DTMF_LEVEL_HIGH):
        """Send DTMF digits (Q.23): each ``on_ms`` of tone followed by ``off_ms`` of pause."""
        steps = []
        for d in digits:
            steps.append((dtmf_freqs(d), (level_low, level_high), _ms(on_ms)))
            steps.append(((), (), _ms(off_ms)))
        if not steps:
            raise ValueError("no digits")
        self._program(channel, steps, -1)

    def mf(self, int channel, int signal, str direction, level: float = R2_LEVEL,
           ms: float | None = None):
        """Send MFC-R2 ``signal`` (1..15) forward or backward until :meth:`stop` (or ``ms``)."""
        f = r2_freqs(signal, direction)
        self._program(channel, [(f, (level, level), -1 if ms is None else _ms(ms))], -1)

    def stop(self, int channel):
        self._check(channel)
        cti_tonegen_stop(&self.g, channel)

    def busy(self, int channel) -> bool:
        self._check(channel)
        return bool(cti_tonegen_busy(&self.g, channel))

    def generate(self, out=None, int frames=160):
        """Fill ``out`` (channels, frames) - uint8 codes, or int16 for linear - and return it."""
        dtype = np.int16 if self.law == "linear" else np.uint8
        if out is None:
            out = np.empty((self.channels, frames), dtype)
        if (not isinstance(out, np.ndarray) or out.dtype != dtype or out.ndim != 2
                or out.shape[0] != self.channels or not out.flags.c_contiguous):
            raise ValueError(f"out must be a C-contiguous {np.dtype(dtype).name} array of shape "
                             f"({self.channels}, frames)")
        cdef cnp.ndarray a = out
        cdef void *p = cnp.PyArray_DATA(a)
        cdef int n = a.shape[1]
        with nogil:
            cti_tonegen_process(&self.g, p, n)
        return out


def synth(what, seconds: float | None = None, law: str = "alaw", plan="itu", **kw):
    """One channel of signal as a numpy array, for files and tests.

    ``what``: a :class:`Tone` or plan tone name, ``"dtmf:123#"``, ``"r2f:1,2"``,
    ``"r2b:..."`` (each signal ``kw['on_ms']`` long, default 150 ms, 100 ms apart) or a
    frequency in Hz (``kw['level']`` dBm0).  ``seconds`` defaults to the natural length
    of digit strings and to 4 s otherwise."""
    g = ToneGenerator(1, law, plan)
    if isinstance(what, (int, float)):
        g.tone(0, float(what), kw.get("level", TEST_TONE[1]))
        natural = 4.0
    elif isinstance(what, str) and what.startswith("dtmf:"):
        g.dtmf(0, what[5:], **kw)
        natural = len(what[5:]) * (kw.get("on_ms", 100) + kw.get("off_ms", 100)) / 1000.0
    elif isinstance(what, str) and what[:4] in ("r2f:", "r2b:"):
        return _r2_sequence(what, seconds, law, **kw)
    else:
        g.play(0, what, kw.get("level"))
        natural = 4.0
    frames = int(round((natural if seconds is None else seconds) * RATE))
    return g.generate(frames=frames)[0]


def _r2_sequence(what: str, seconds, law: str, on_ms: float = 150, off_ms: float = 100,
                 level: float = R2_LEVEL):
    direction = "forward" if what.startswith("r2f") else "backward"
    try:
        signals = [int(s) for s in what[4:].split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"MFC-R2 signals must be numbers 1..15: {what[4:]!r}") from None
    g = ToneGenerator(1, law)
    parts = []
    for s in signals:
        g.mf(0, s, direction, level, ms=on_ms)
        parts.append(g.generate(frames=_ms(on_ms + off_ms))[0])
    if not parts:
        raise ValueError("no MFC-R2 signals")
    out = np.concatenate(parts)
    if seconds is not None:
        n = int(round(seconds * RATE))
        pad = np.full(max(0, n - out.size), out[out.size - 1], out.dtype)
        out = np.concatenate([out, pad])[:n]
    return out
