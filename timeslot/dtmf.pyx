# distutils: sources = csrc/dtmf.c csrc/g711.c csrc/ring.c
"""DTMF receiver bank (ITU-T Q.23 frequencies, Q.24 detection bounds) over numpy blocks.

One C call per block for all channels, GIL released.  A digit is reported once, when it
ends, as ``Event(channel, Kind.DTMF, ord(digit), 0, start, end)``; ``start``/``end`` are
sample indices (8,000 per second) counted from the bank's creation, ``end`` being where
the tone stopped (to the 5 ms sub-block).

Bounds (see docs/media.md): either tone within +-1.5 % accepted, +-3.5 % rejected; twist
+4 dB (high group stronger) to -8 dB; 40 ms accepted, 25 ms and shorter rejected; a
break of 10 ms or less is bridged, a 25 ms pause separates digits; each tone from 0 to
-36 dBm0 (0 dBm0: sine of peak 22821 on the int16 scale, A-law G.711 reference, used
for mu-law and linear input too).
"""

from libc.stdint cimport int64_t, uint8_t

from timeslot.ring cimport cti_event_t, cti_ring_pop, cti_ring_t

import numpy as np

from timeslot.events import Event, Kind

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

LAWS = {"alaw": CTI_LAW_ALAW, "ulaw": CTI_LAW_ULAW, "linear": CTI_LAW_LINEAR}
CHUNK = 1600  # frames per C call: bounds the events a call can queue per channel

cdef cti_event_t _evbuf[256]


cdef list drain(cti_ring_t *ring, object kind_of):
    """Pop every queued event as timeslot.events.Event tuples."""
    cdef list out = []
    cdef unsigned int n, i
    while True:
        n = cti_ring_pop(ring, _evbuf, 256)
        for i in range(n):
            out.append(Event(_evbuf[i].channel, kind_of(_evbuf[i].kind), _evbuf[i].value,
                             _evbuf[i].extra, _evbuf[i].start, _evbuf[i].end))
        if n < 256:
            return out


def check_block(block, int channels, str law):
    """The block as a C-contiguous [channels x frames] array of the law's dtype."""
    want = np.int16 if law == "linear" else np.uint8
    arr = np.asarray(block)
    if arr.dtype != want:
        raise TypeError(f"{law} input must be {np.dtype(want).name}, got {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] != channels:
        raise ValueError(f"block must have shape ({channels}, frames), got {arr.shape}")
    return np.ascontiguousarray(arr)


def check_law(str law):
    if law not in LAWS:
        raise ValueError(f"law must be one of {sorted(LAWS)}, got {law!r}")
    return LAWS[law]


cdef class DtmfDetector:
    """DTMF receivers for ``channels`` timeslots; ``law``: "alaw", "ulaw" or "linear"."""

    cdef cti_dtmf_t d
    cdef readonly int channels
    cdef readonly str law

    def __cinit__(self, int channels, str law="alaw"):
        if channels <= 0:
            raise ValueError("channels must be positive")
        if cti_dtmf_init(&self.d, channels, check_law(law)) != 0:
            raise MemoryError("DTMF bank allocation failed")
        self.channels = channels
        self.law = law

    def __dealloc__(self):
        cti_dtmf_free(&self.d)

    @property
    def samples(self) -> int:
        """Frames processed since creation (the time base of event start/end)."""
        return self.d.now

    @property
    def dropped(self) -> int:
        """Events lost to a full ring (should stay 0)."""
        return self.d.ring.dropped

    def process(self, block) -> list:
        """Feed one block [channels x frames]; digits that ended in it."""
        arr = check_block(block, self.channels, self.law)
        cdef const uint8_t[:, ::1] v8
        cdef const short[:, ::1] v16
        cdef const void *base
        cdef int64_t stride = arr.shape[1]
        cdef int frames = arr.shape[1], at = 0, n
        cdef int width = 2 if self.law == "linear" else 1
        if frames == 0:
            return []
        if width == 2:
            v16 = arr
            base = &v16[0, 0]
        else:
            v8 = arr
            base = &v8[0, 0]
        out = []
        while at < frames:
            n = min(CHUNK, frames - at)
            with nogil:
                cti_dtmf_process(&self.d, <const char *> base + at * width, stride, n)
            at += n
            out.extend(drain(&self.d.ring, Kind))
        return out

    def finish(self) -> list:
        """End of input: report digits still in progress."""
        with nogil:
            cti_dtmf_finish(&self.d)
        return drain(&self.d.ring, Kind)

    def reset(self, int channel) -> None:
        """Forget the channel's history (e.g. at call start); time base is kept."""
        cti_dtmf_reset(&self.d, self._check(channel))

    def set_enabled(self, int channel, bint on) -> None:
        """Disabled channels are not analysed; enabling starts them afresh."""
        cti_dtmf_set_enabled(&self.d, self._check(channel), on)

    cdef int _check(self, int channel) except -1:
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} out of range 0..{self.channels - 1}")
        return channel
