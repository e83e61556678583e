# distutils: sources = csrc/dtmf.c csrc/g711.c csrc/ring.c
"""DTMF receiver bank (ITU-T Q.23 frequencies, Q.24 detection bounds) over numpy blocks.

One C call per block for all channels, GIL released.  A digit is reported once, when it
ends, as ``Event(channel, Kind.DTMF, ord(digit), 0, start, end)``; ``start``/``end`` are
sample indices (8,000 per second) counted from the bank's creation, ``end`` being where
the tone stopped (to the 5 ms sub-block).

Bounds (docs/media.md): either tone within +-1.5 % accepted, +-3.5 % rejected; twist
+4 dB (high group stronger) to -8 dB; 40 ms accepted, 23 ms and shorter rejected (50 %
at ~28 ms); a break of 10 ms or less is bridged, a pause of ~25 ms or more separates
digits; each tone from 0 to -36 dBm0 (G.711: 0 dBm0 is a sine of peak 22827 for A-law and int16 linear input,
22656 for mu-law; thresholds are in dBm0 whatever the law).
"""

from libc.stdint cimport int64_t, uint8_t

from timeslot.ring cimport cti_event_t, cti_ring_pop, cti_ring_t

import numpy as np

from timeslot.events import Event, Kind

LAWS = {"alaw": CTI_LAW_ALAW, "ulaw": CTI_LAW_ULAW, "linear": CTI_LAW_LINEAR}
CHUNK = 800  # frames per C call: at most ~4 events per channel each, the ring holds 8

cdef cti_event_t _evbuf[256]


cdef list drain(cti_ring_t *ring):
    """Pop every queued event as timeslot.events.Event tuples."""
    cdef list out = []
    cdef unsigned int n, i
    while True:
        n = cti_ring_pop(ring, _evbuf, 256)
        for i in range(n):
            out.append(Event(_evbuf[i].channel, Kind(_evbuf[i].kind), _evbuf[i].value,
                             _evbuf[i].extra, _evbuf[i].start, _evbuf[i].end))
        if n < 256:
            return out


def law_code(str law) -> int:
    if law not in LAWS:
        raise ValueError(f"law must be one of {sorted(LAWS)}, got {law!r}")
    return LAWS[law]


cdef class ToneReceiver:
    """A bank of tone receivers over [channels x frames] blocks (base of the DTMF and
    MFC-R2 receivers): input checking, GIL-free C calls in chunks, event draining."""

    cdef void feed(self, const void *inp, int64_t stride, int frames) noexcept nogil:
        pass

    cdef void close_all(self) noexcept nogil:
        pass

    cdef void reset_channel(self, int ch) noexcept:
        pass

    cdef void enable_channel(self, int ch, bint on) noexcept:
        pass

    @property
    def samples(self) -> int:
        """Frames processed since creation (the time base of event start/end)."""
        return self.now[0]

    @property
    def dropped(self) -> int:
        """Events lost to a full ring (stays 0 unless events are not drained)."""
        return self.ring.dropped

    def process(self, block) -> list:
        """Feed one block [channels x frames] (uint8 codes, or int16 for "linear");
        returns the events it completed."""
        want = np.int16 if self.law == "linear" else np.uint8
        arr = np.asarray(block)
        if arr.dtype != want:
            raise TypeError(f"{self.law} input must be {np.dtype(want).name}, got {arr.dtype}")
        if arr.ndim != 2 or arr.shape[0] != self.channels:
            raise ValueError(f"block must have shape ({self.channels}, frames), got {arr.shape}")
        arr = np.ascontiguousarray(arr)
        cdef const uint8_t[:, ::1] v8
        cdef const short[:, ::1] v16
        cdef const char *base
        cdef int64_t stride = arr.shape[1]
        cdef int frames = arr.shape[1], at = 0, n
        cdef int width = arr.itemsize
        if frames == 0:
            return []
        if width == 2:
            v16 = arr
            base = <const char *> &v16[0, 0]
        else:
            v8 = arr
            base = <const char *> &v8[0, 0]
        out = []
        while at < frames:
            n = min(CHUNK, frames - at)
            with nogil:
                self.feed(base + at * width, stride, n)
            at += n
            out.extend(drain(self.ring))
        return out

    def finish(self) -> list:
        """End of input: report what is still in progress."""
        with nogil:
            self.close_all()
        return drain(self.ring)

    def reset(self, int channel) -> None:
        """Forget the channel's history (e.g. at call start); the time base is kept."""
        self.reset_channel(self._check(channel))

    def set_enabled(self, int channel, bint on) -> None:
        """Disabled channels are not analysed (no cost); enabling starts them afresh."""
        self.enable_channel(self._check(channel), on)

    cdef int _check(self, int channel) except -1:
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} out of range 0..{self.channels - 1}")
        return channel


cdef class DtmfDetector(ToneReceiver):
    """DTMF receivers for ``channels`` timeslots; ``law``: "alaw", "ulaw" or "linear"."""

    def __cinit__(self, int channels, str law="alaw"):
        if channels <= 0:
            raise ValueError("channels must be positive")
        if cti_dtmf_init(&self.d, channels, law_code(law)) != 0:
            raise MemoryError("DTMF bank allocation failed")
        self.channels = channels
        self.law = law
        self.ring = &self.d.ring
        self.now = &self.d.now

    def __dealloc__(self):
        cti_dtmf_free(&self.d)

    cdef void feed(self, const void *inp, int64_t stride, int frames) noexcept nogil:
        cti_dtmf_process(&self.d, inp, stride, frames)

    cdef void close_all(self) noexcept nogil:
        cti_dtmf_finish(&self.d)

    cdef void reset_channel(self, int ch) noexcept:
        cti_dtmf_reset(&self.d, ch)

    cdef void enable_channel(self, int ch, bint on) noexcept:
        cti_dtmf_set_enabled(&self.d, ch, on)
