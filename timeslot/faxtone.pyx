# distutils: sources = csrc/faxtone.c csrc/cpt.c csrc/level.c csrc/g711.c csrc/ring.c
"""Fax/modem tone detection over csrc/faxtone.c: CNG, CED and ANS with phase reversals.

T.30 clause 5.2 (CNG 1100 Hz 0.5 s on / 3 s off; CED 2100 Hz 2.6-4.0 s) and V.25
clause 5.2.2 (answer tone 2100 Hz +-15 Hz with phase reversals every 450 +-25 ms).
Events: ``Event(channel, Kind.FAX, value, extra, start, end)`` with ``value`` 1 CNG,
2 CED, 3 ANS with reversals and ``extra`` the number of reversals; a CNG burst is
reported when it ends, a 2100 Hz tone when it ends or at :meth:`finish`.
"""

cimport numpy as cnp

from timeslot.detector cimport check_block, drain, ensure_ring, law_index
from timeslot.ring cimport cti_ring_free, cti_ring_init, cti_ring_t

cnp.import_array()

cdef extern from "faxtone.h" nogil:
    ctypedef struct cti_fax_t:
        int channels
    int cti_fax_init(cti_fax_t *d, int channels, int law, double min_dbm0)
    void cti_fax_free(cti_fax_t *d)
    void cti_fax_process(cti_fax_t *d, const void *inp, int frames, cti_ring_t *ring)
    void cti_fax_finish(cti_fax_t *d, cti_ring_t *ring)
    void cti_fax_reset(cti_fax_t *d, int ch)

NAMES = {1: "CNG", 2: "CED", 3: "ANS"}


cdef class FaxToneDetector:
    """CNG/CED/ANS detector bank; ``min_dbm0`` is the weakest tone accepted."""

    cdef cti_fax_t d
    cdef cti_ring_t ring
    cdef readonly int channels
    cdef int law

    def __cinit__(self, int channels, str law="alaw", double min_dbm0=-43.0):
        if channels <= 0:
            raise ValueError("channels must be positive")
        self.law = law_index(law)
        if cti_fax_init(&self.d, channels, self.law, min_dbm0) != 0:
            raise MemoryError()
        if cti_ring_init(&self.ring, max(1024, 4 * channels)) != 0:
            cti_fax_free(&self.d)
            raise MemoryError()
        self.channels = channels

    def __dealloc__(self):
        cti_fax_free(&self.d)
        cti_ring_free(&self.ring)

    def process(self, block) -> list:
        cdef cnp.ndarray a = check_block(block, self.channels, self.law)
        cdef const void *p = cnp.PyArray_DATA(a)
        cdef int frames = a.shape[1]
        ensure_ring(&self.ring, self.channels * (frames // 160 + 4))
        with nogil:
            cti_fax_process(&self.d, p, frames, &self.ring)
        return drain(&self.ring)

    def reset(self, int channel) -> None:
        """Forget the channel's tone in progress (a new call on the timeslot)."""
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} out of range 0..{self.channels - 1}")
        cti_fax_reset(&self.d, channel)

    def finish(self) -> list:
        """End of input: report answer tones still running."""
        with nogil:
            cti_fax_finish(&self.d, &self.ring)
        return drain(&self.ring)
