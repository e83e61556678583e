# distutils: sources = csrc/prbs.c
"""PRBS generator and checker for bit error ratio tests (ITU-T O.150 family).

Patterns are a data table (:data:`PATTERNS`).  Bits are sent MSB first within each
octet.  Both classes hold many independent channels and process channel-major
``uint8`` blocks ``[channels x octets]`` in one C call with the GIL released.  For a
BERT over N x 64 kbit/s, gather the timeslots of each frame in order into one channel
(see :func:`drivers.diagnostics`).

The checker hunts by loading the received bits into its reference register
(self-synchronising), declares sync after ``sync_bits`` consecutive error-free bits, then
runs free so that each line error counts once; ``loss_errors`` errors within a
``window`` of bits (default 20 % of 1000, the error ratio at which O.151 test sets drop
sync) is a loss of sync and starts a new hunt.
"""

from dataclasses import dataclass

import numpy as np

cimport numpy as cnp
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cnp.import_array()


cdef extern from "prbs.h":
    ctypedef struct prbs_poly_t:
        int degree
        int tap
        int invert

    ctypedef struct prbs_gen_chan_t:
        uint32_t reg
        uint64_t rate
        uint64_t acc
        int single
        uint64_t bits
        uint64_t inserted

    ctypedef struct prbs_gen_t:
        prbs_poly_t poly
        int channels
        prbs_gen_chan_t *chan

    ctypedef struct prbs_chk_chan_t:
        uint32_t reg
        int state
        int loaded
        int good
        uint32_t win_bits
        uint32_t win_errors
        uint64_t bits
        uint64_t errors
        uint64_t sync_losses
        uint64_t hunt_bits

    ctypedef struct prbs_chk_t:
        prbs_poly_t poly
        int channels
        int sync_bits
        uint32_t window
        uint32_t loss_errors
        prbs_chk_chan_t *chan

    int PRBS_SYNC
    int prbs_gen_init(prbs_gen_t *g, prbs_poly_t poly, int channels)
    void prbs_gen_free(prbs_gen_t *g)
    void prbs_gen_seed(prbs_gen_t *g, int channel, uint32_t seed)
    void prbs_gen_inject(prbs_gen_t *g, int channel, int errors, double rate)
    void prbs_gen_process(prbs_gen_t *g, uint8_t *out, int octets) nogil
    int prbs_chk_init(prbs_chk_t *c, prbs_poly_t poly, int channels, int sync_bits,
                      uint32_t window, uint32_t loss_errors)
    void prbs_chk_free(prbs_chk_t *c)
    void prbs_chk_reset(prbs_chk_t *c, int channel)
    void prbs_chk_process(prbs_chk_t *c, const uint8_t *inp, int octets) nogil


@dataclass(frozen=True)
class Pattern:
    """A PRBS: stages ``degree`` and ``tap`` added modulo 2 into stage 1."""

    name: str
    degree: int
    tap: int
    invert: bool
    clause: str

    @property
    def length(self) -> int:
        return (1 << self.degree) - 1


PATTERNS = {p.name: p for p in (
    Pattern("2^9-1", 9, 5, False, "O.153 2.1"),
    Pattern("2^11-1", 11, 9, False, "O.152 2.1"),
    Pattern("2^15-1", 15, 14, True, "O.151 2.1"),
    Pattern("2^20-1", 20, 17, False, "O.151 2.3"),
    Pattern("2^23-1", 23, 18, True, "O.151 2.2"),
)}


def pattern(name) -> Pattern:
    """The pattern called ``name`` ("2^15-1", also "15" or "prbs15")."""
    if isinstance(name, Pattern):
        return name
    key = str(name).lower().removeprefix("prbs")
    for p in PATTERNS.values():
        if key in (p.name, str(p.degree)):
            return p
    raise ValueError(f"unknown PRBS pattern {name!r} (known: {', '.join(PATTERNS)})")


cdef prbs_poly_t _poly(object p):
    cdef prbs_poly_t poly
    poly.degree = p.degree
    poly.tap = p.tap
    poly.invert = 1 if p.invert else 0
    return poly


cdef class PrbsGenerator:
    """PRBS sources for ``channels`` channels, each with its own phase and error insertion."""

    cdef prbs_gen_t g
    cdef readonly object pattern
    cdef readonly int channels

    def __cinit__(self, name="2^15-1", int channels=1):
        self.pattern = pattern(name)
        if channels < 1:
            raise ValueError("channels must be at least 1")
        if prbs_gen_init(&self.g, _poly(self.pattern), channels) != 0:
            raise MemoryError("PRBS generator")
        self.channels = channels

    def __dealloc__(self):
        prbs_gen_free(&self.g)

    def _check(self, int channel):
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} out of range 0..{self.channels - 1}")

    def seed(self, int channel, unsigned int value):
        """Set the register of ``channel`` (its phase in the sequence); 0 means all ones."""
        self._check(channel)
        prbs_gen_seed(&self.g, channel, value)

    def inject(self, int errors=1, channel=None):
        """Invert the next ``errors`` bits sent on ``channel`` (all channels if None)."""
        if errors < 0:
            raise ValueError("errors must not be negative")
        for c in self._channels(channel):
            prbs_gen_inject(&self.g, c, errors, self.g.chan[c].rate / 1e12)

    def set_error_rate(self, double rate, channel=None):
        """Invert bits at ``rate`` (errored bits per bit, evenly spaced); 0 stops insertion."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("error rate must be within 0..1")
        for c in self._channels(channel):
            prbs_gen_inject(&self.g, c, 0, rate)

    def _channels(self, channel):
        if channel is None:
            return range(self.channels)
        self._check(channel)
        return (channel,)

    def generate(self, int octets) -> np.ndarray:
        """The next ``octets`` octets of every channel, shape ``(channels, octets)``."""
        out = np.empty((self.channels, octets), dtype=np.uint8)
        self.fill(out)
        return out

    def fill(self, cnp.uint8_t[:, ::1] out):
        """Write the next octets into ``out`` (``channels`` rows, C-contiguous)."""
        if out.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} rows, got {out.shape[0]}")
        cdef int octets = out.shape[1]
        if octets == 0:
            return
        with nogil:
            prbs_gen_process(&self.g, &out[0, 0], octets)

    @property
    def inserted(self) -> np.ndarray:
        """Errors inserted so far per channel."""
        return np.array([self.g.chan[c].inserted for c in range(self.channels)], dtype=np.uint64)

    @property
    def bits(self) -> np.ndarray:
        return np.array([self.g.chan[c].bits for c in range(self.channels)], dtype=np.uint64)


cdef class PrbsChecker:
    """PRBS receivers for ``channels`` channels: sync, bit and error counts, sync losses."""

    cdef prbs_chk_t c
    cdef readonly object pattern
    cdef readonly int channels

    def __cinit__(self, name="2^15-1", int channels=1, int sync_bits=0,
                  unsigned int window=1000, unsigned int loss_errors=200):
        self.pattern = pattern(name)
        if channels < 1:
            raise ValueError("channels must be at least 1")
        if sync_bits <= 0:
            sync_bits = 2 * self.pattern.degree
        if window < 1 or not 1 <= loss_errors <= window:
            raise ValueError("need 1 <= loss_errors <= window")
        if prbs_chk_init(&self.c, _poly(self.pattern), channels, sync_bits, window,
                         loss_errors) != 0:
            raise MemoryError("PRBS checker")
        self.channels = channels

    def __dealloc__(self):
        prbs_chk_free(&self.c)

    def process(self, const cnp.uint8_t[:, ::1] block):
        """Check received octets, shape ``(channels, octets)``, C-contiguous."""
        if block.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} rows, got {block.shape[0]}")
        cdef int octets = block.shape[1]
        if octets == 0:
            return
        with nogil:
            prbs_chk_process(&self.c, &block[0, 0], octets)

    def reset(self, channel=None):
        """Clear counters and hunt again (all channels if None)."""
        chans = range(self.channels) if channel is None else (channel,)
        for k in chans:
            if not 0 <= k < self.channels:
                raise IndexError(f"channel {k} out of range 0..{self.channels - 1}")
            prbs_chk_reset(&self.c, k)

    def stats(self, int channel=0) -> dict:
        """``bits``/``errors`` counted in sync, ``ber``, ``sync_losses``, ``in_sync``."""
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} out of range 0..{self.channels - 1}")
        cdef prbs_chk_chan_t *ch = &self.c.chan[channel]
        return {"bits": int(ch.bits), "errors": int(ch.errors),
                "ber": (<double> ch.errors / <double> ch.bits) if ch.bits else None,
                "sync_losses": int(ch.sync_losses), "in_sync": ch.state == PRBS_SYNC,
                "unsynced_bits": int(ch.hunt_bits)}

    def _column(self, name):
        return np.array([self.stats(k)[name] for k in range(self.channels)], dtype=np.uint64)

    @property
    def bits(self) -> np.ndarray:
        return self._column("bits")

    @property
    def errors(self) -> np.ndarray:
        return self._column("errors")

    @property
    def sync_losses(self) -> np.ndarray:
        return self._column("sync_losses")

    @property
    def in_sync(self) -> np.ndarray:
        return np.array([self.c.chan[k].state == PRBS_SYNC for k in range(self.channels)])
