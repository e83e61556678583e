# Cython declarations of csrc/dtmf.h and the receiver base class shared with timeslot.r2mf.
from libc.stdint cimport int64_t, uint64_t

from timeslot.ring cimport cti_ring_t

cdef extern from "dtmf.h":
    enum:
        CTI_LAW_ALAW
        CTI_LAW_ULAW
        CTI_LAW_LINEAR

    ctypedef struct cti_dtmf_t:
        int channels
        int64_t now
        cti_ring_t ring

    int cti_dtmf_init(cti_dtmf_t *d, int channels, int law)
    void cti_dtmf_free(cti_dtmf_t *d)
    void cti_dtmf_process(cti_dtmf_t *d, const void *inp, int64_t stride, int frames) nogil
    void cti_dtmf_finish(cti_dtmf_t *d) nogil
    void cti_dtmf_reset(cti_dtmf_t *d, int ch)
    void cti_dtmf_set_enabled(cti_dtmf_t *d, int ch, int on)


cdef class ToneReceiver:
    cdef readonly int channels
    cdef readonly str law
    cdef cti_ring_t *ring
    cdef int64_t *now
    cdef void feed(self, const void *inp, int64_t stride, int frames) noexcept nogil
    cdef void close_all(self) noexcept nogil
    cdef void reset_channel(self, int ch) noexcept
    cdef void enable_channel(self, int ch, bint on) noexcept
    cdef int _check(self, int channel) except -1


cdef class DtmfDetector(ToneReceiver):
    cdef cti_dtmf_t d
