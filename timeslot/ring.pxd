# Cython declarations of csrc/ring.h: the event ring shared by all media stages.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

cdef extern from "ring.h":
    enum:
        CTI_EV_NONE
        CTI_EV_DTMF
        CTI_EV_R2F
        CTI_EV_R2B
        CTI_EV_CPT
        CTI_EV_FAX
        CTI_EV_TONE
        CTI_EV_TALK
        CTI_EV_SILENCE
        CTI_EV_HDLC
        CTI_EV_USER

    ctypedef struct cti_event_t:
        int32_t channel
        int32_t kind
        int32_t value
        int32_t extra
        int64_t start
        int64_t end

    ctypedef struct cti_ring_t:
        cti_event_t *buf
        uint32_t cap
        uint32_t head
        uint32_t tail
        uint64_t dropped

    int cti_ring_init(cti_ring_t *r, uint32_t capacity) nogil
    void cti_ring_free(cti_ring_t *r) nogil
    int cti_ring_push(cti_ring_t *r, const cti_event_t *ev) nogil
    uint32_t cti_ring_pop(cti_ring_t *r, cti_event_t *out, uint32_t max) nogil
    uint32_t cti_ring_count(const cti_ring_t *r) nogil
