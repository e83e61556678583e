# distutils: sources = csrc/level.c csrc/g711.c csrc/ring.c
"""Level meter (dBm0), talk/silence detector and single-tone meter over csrc/level.c.

dBm0 follows G.711's load capacities (A-law +3.14 dBm0, mu-law +3.17 dBm0); linear
int16 input is measured on the A-law scale.  Events:

* ``Kind.TALK`` / ``Kind.SILENCE``: energy above/below ``threshold_dbm0`` for
  ``attack_ms`` / ``hangover_ms`` (10 ms blocks); ``start`` is where the run began.
* ``Kind.TONE``: a steady single sine (O.133-style test tone measurement) for
  ``min_ms``: ``value`` its frequency in Hz, ``extra`` its level in centi-dBm0.
"""

import numpy as np

cimport numpy as cnp

from timeslot.detector cimport check_block, drain, ensure_ring, law_index
from timeslot.ring cimport cti_ring_free, cti_ring_init, cti_ring_t

cnp.import_array()

cdef extern from "level.h" nogil:
    ctypedef struct cti_level_t:
        int channels
        float *level
    int cti_level_init(cti_level_t *m, int channels, int law, int window)
    void cti_level_free(cti_level_t *m)
    int cti_level_process(cti_level_t *m, const void *inp, int frames)
    ctypedef struct cti_talk_t:
        int channels
    int cti_talk_init(cti_talk_t *t, int channels, int law, double threshold_dbm0,
                      int attack_ms, int hangover_ms)
    void cti_talk_free(cti_talk_t *t)
    void cti_talk_process(cti_talk_t *t, const void *inp, int frames, cti_ring_t *ring)
    ctypedef struct cti_tonemeter_t:
        int channels
    int cti_tonemeter_init(cti_tonemeter_t *t, int channels, int law, int min_ms,
                           double min_dbm0)
    void cti_tonemeter_free(cti_tonemeter_t *t)
    void cti_tonemeter_process(cti_tonemeter_t *t, const void *inp, int frames,
                               cti_ring_t *ring)


def describe_tone(int hz, int centi_dbm0) -> str:
    """The text of a TONE event, e.g. "1004Hz -13.0dBm0"."""
    return f"{hz}Hz {centi_dbm0 / 100.0:.1f}dBm0"


cdef class LevelMeter:
    """RMS level per channel over ``window_ms`` windows; :attr:`levels` in dBm0."""

    cdef cti_level_t m
    cdef readonly int channels
    cdef int law

    def __cinit__(self, int channels, str law="alaw", double window_ms=20.0):
        window = int(round(window_ms * 8))
        if channels <= 0 or window <= 0:
            raise ValueError("channels and window_ms must be positive")
        self.law = law_index(law)
        if cti_level_init(&self.m, channels, self.law, window) != 0:
            raise MemoryError()
        self.channels = channels

    def __dealloc__(self):
        cti_level_free(&self.m)

    def process(self, block) -> int:
        """Measure a block; returns how many windows completed."""
        cdef cnp.ndarray a = check_block(block, self.channels, self.law)
        cdef const void *p = cnp.PyArray_DATA(a)
        cdef int frames = a.shape[1], done
        with nogil:
            done = cti_level_process(&self.m, p, frames)
        return done

    @property
    def levels(self) -> np.ndarray:
        """dBm0 of each channel's last complete window (-99 when silent)."""
        return np.array(<float[:self.channels]> self.m.level, np.float32)


cdef class TalkDetector:
    """Talk/silence detector bank (voice activity for answer detection and recording)."""

    cdef cti_talk_t t
    cdef cti_ring_t ring
    cdef readonly int channels
    cdef int law

    def __cinit__(self, int channels, str law="alaw", double threshold_dbm0=-40.0,
                  int attack_ms=40, int hangover_ms=500):
        if channels <= 0:
            raise ValueError("channels must be positive")
        self.law = law_index(law)
        if cti_talk_init(&self.t, channels, self.law, threshold_dbm0, attack_ms,
                         hangover_ms) != 0:
            raise ValueError("attack_ms and hangover_ms must be >= 0")
        if cti_ring_init(&self.ring, max(1024, 4 * channels)) != 0:
            cti_talk_free(&self.t)
            raise MemoryError()
        self.channels = channels

    def __dealloc__(self):
        cti_talk_free(&self.t)
        cti_ring_free(&self.ring)

    def process(self, block) -> list:
        cdef cnp.ndarray a = check_block(block, self.channels, self.law)
        cdef const void *p = cnp.PyArray_DATA(a)
        cdef int frames = a.shape[1]
        ensure_ring(&self.ring, self.channels * (frames // 80 + 4))
        with nogil:
            cti_talk_process(&self.t, p, frames, &self.ring)
        return drain(&self.ring)

    def finish(self) -> list:
        return drain(&self.ring)


cdef class ToneMeter:
    """Steady single-tone detector and meter: frequency and level after ``min_ms``."""

    cdef cti_tonemeter_t t
    cdef cti_ring_t ring
    cdef readonly int channels
    cdef int law

    def __cinit__(self, int channels, str law="alaw", int min_ms=2000,
                  double min_dbm0=-40.0):
        if channels <= 0 or min_ms <= 0:
            raise ValueError("channels and min_ms must be positive")
        self.law = law_index(law)
        if cti_tonemeter_init(&self.t, channels, self.law, min_ms, min_dbm0) != 0:
            raise MemoryError()
        if cti_ring_init(&self.ring, max(1024, 4 * channels)) != 0:
            cti_tonemeter_free(&self.t)
            raise MemoryError()
        self.channels = channels

    def __dealloc__(self):
        cti_tonemeter_free(&self.t)
        cti_ring_free(&self.ring)

    def process(self, block) -> list:
        cdef cnp.ndarray a = check_block(block, self.channels, self.law)
        cdef const void *p = cnp.PyArray_DATA(a)
        cdef int frames = a.shape[1]
        ensure_ring(&self.ring, self.channels * (frames // 80 + 4))
        with nogil:
            cti_tonemeter_process(&self.t, p, frames, &self.ring)
        return drain(&self.ring)

    def finish(self) -> list:
        return drain(&self.ring)
