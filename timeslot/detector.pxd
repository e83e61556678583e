# Shared Cython helpers of the tone detectors (cpt, faxtone, level): input checking and
# draining the C event ring into timeslot.events.Event tuples.
cimport numpy as cnp

from timeslot.ring cimport cti_event_t, cti_ring_free, cti_ring_init, cti_ring_pop, cti_ring_t



cdef inline int law_index(str law) except -1:
    if law == "alaw":
        return 0
    if law == "ulaw":
        return 1
    if law == "linear":
        return 2
    raise ValueError(f"unknown law {law!r}; expected alaw, ulaw or linear")


cdef inline cnp.ndarray check_block(object block, int channels, int law):
    """(channels, frames) C-contiguous uint8 (A-law/mu-law) or int16 (linear)."""
    import numpy as np
    dtype = np.int16 if law == 2 else np.uint8
    a = np.ascontiguousarray(block)
    if a.ndim == 1 and channels == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2 or a.shape[0] != channels or a.dtype != dtype:
        raise ValueError(f"block must be a {np.dtype(dtype).name} array of shape "
                         f"({channels}, frames), got {a.dtype} {a.shape}")
    return a


cdef inline list drain(cti_ring_t *ring):
    from timeslot.events import Event, Kind
    cdef cti_event_t buf[64]
    cdef unsigned int n, i
    out = []
    while True:
        n = cti_ring_pop(ring, buf, 64)
        for i in range(n):
            out.append(Event(buf[i].channel, Kind(buf[i].kind), buf[i].value, buf[i].extra,
                             buf[i].start, buf[i].end))
        if n < 64:
            return out


cdef inline int ensure_ring(cti_ring_t *ring, long need) except -1:
    """Grow the (drained) ring so one process() call cannot overflow it."""
    if need <= ring.cap:
        return 0
    cti_ring_free(ring)
    if cti_ring_init(ring, <unsigned int> min(need, 1 << 30)) != 0:
        raise MemoryError()
    return 0
