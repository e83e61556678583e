# distutils: sources = csrc/r2mf.c csrc/dtmf.c csrc/g711.c csrc/ring.c
"""MFC-R2 register-signal receiver bank (ITU-T Q.441 signals, Q.442 receiver) over numpy blocks.

Each signal gives two events, both ``Event(channel, Kind.R2F or Kind.R2B, signal 1..15,
0, start, end)``:

* at onset, as soon as the signal is stably present (two valid 20 ms spans, about 25 ms
  after the tone starts), with ``end == -1``: the compelled cycle acts on this one;
* when it stops, with the same ``start`` and ``end`` = the sample where it ended; an
  interruption of 7 ms or less does not end it (Q.442).

Q.442 bounds met: each tone -5 to -35 dBm0 (not at -38.5 and below), +-10 Hz, level difference up
to 5 dB between adjacent and 7 dB between other frequencies (rejected at 20 dB), bursts
of 7 ms ignored, single tones, three tones, the other direction's signals and DTMF
rejected.  Time base and levels as in timeslot.dtmf.
"""

from libc.stdint cimport int64_t

from timeslot.dtmf cimport ToneReceiver
from timeslot.ring cimport cti_ring_t

from timeslot.dtmf import law_code

cdef extern from "r2mf.h":
    ctypedef struct cti_r2mf_t:
        int channels
        int64_t now
        cti_ring_t ring

    int cti_r2mf_init(cti_r2mf_t *r, int channels, int forward, int law)
    void cti_r2mf_free(cti_r2mf_t *r)
    void cti_r2mf_process(cti_r2mf_t *r, const void *inp, int64_t stride, int frames) nogil
    void cti_r2mf_finish(cti_r2mf_t *r) nogil
    void cti_r2mf_reset(cti_r2mf_t *r, int ch)
    void cti_r2mf_set_enabled(cti_r2mf_t *r, int ch, int on)

DIRECTIONS = ("forward", "backward")


cdef class R2MfDetector(ToneReceiver):
    """MFC-R2 receivers for ``channels`` timeslots, ``direction`` "forward" (signals sent
    by the outgoing register, 1380-1980 Hz) or "backward" (540-1140 Hz)."""

    cdef cti_r2mf_t r
    cdef readonly str direction

    def __cinit__(self, int channels, str direction="forward", str law="alaw"):
        if channels <= 0:
            raise ValueError("channels must be positive")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        if cti_r2mf_init(&self.r, channels, direction == "forward", law_code(law)) != 0:
            raise MemoryError("R2 bank allocation failed")
        self.channels = channels
        self.law = law
        self.direction = direction
        self.ring = &self.r.ring
        self.now = &self.r.now

    def __dealloc__(self):
        cti_r2mf_free(&self.r)

    cdef void feed(self, const void *inp, int64_t stride, int frames) noexcept nogil:
        cti_r2mf_process(&self.r, inp, stride, frames)

    cdef void close_all(self) noexcept nogil:
        cti_r2mf_finish(&self.r)

    cdef void reset_channel(self, int ch) noexcept:
        cti_r2mf_reset(&self.r, ch)

    cdef void enable_channel(self, int ch, bint on) noexcept:
        cti_r2mf_set_enabled(&self.r, ch, on)
