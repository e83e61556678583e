# distutils: sources = csrc/hdlc.c
"""HDLC framing for many links per call (ISO/IEC 13239 clause 4; Q.921 clause 2, Q.703 clause 2).

A :class:`HdlcBank` holds ``links`` independent HDLC links, each one bit stream carried
in the octets of a timeslot.  Blocks are channel-major ``uint8 [links x frames]``.

Bit order: G.704 sends bit 1 (the MSB) of each timeslot octet first, so the HDLC bit
stream fills each timeslot octet MSB first (the first bit on the line is bit 7 of the
first octet); within a frame each octet goes least significant bit first
(ISO/IEC 13239 clause 4.3), with zero-bit insertion after five ones (4.3.1).

The receiver delivers good frames without their FCS and counts everything else: bad FCS,
aborts (seven or more ones inside a frame, 4.3.3), frames too short or too long, frames
that are not a whole number of octets, and (option ``filter_repeats``) frames identical
to the previous good frame, which MTP2 repeats continuously (Q.703 clause 5).
The transmitter sends queued frames with FCS and flags, optionally sharing one flag
between frames, and fills the time between frames with flags or all ones (4.4).
"""

import numpy as np

cimport numpy as cnp
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, uint8_t, uint32_t, uint64_t

cnp.import_array()

cdef extern from "hdlc.h" nogil:
    enum:
        CTI_HDLC_TXQ
        CTI_HDLC_NCOUNTERS
        CTI_HDLC_OK
        CTI_HDLC_EINVAL
        CTI_HDLC_ENOMEM
        CTI_HDLC_EFULL
    ctypedef struct cti_hdlc_link_t:
        uint8_t filter_repeats
        uint8_t share_flags
        uint8_t idle_ones
        uint32_t qcount
        uint8_t in_frame
        uint64_t count[12]
    ctypedef struct cti_hdlc_bank_t:
        int32_t nlinks
        uint32_t fcs_len
        uint32_t min_frame
        uint32_t max_frame
        cti_hdlc_link_t *link
    ctypedef struct cti_hdlc_out_t:
        uint8_t *buf
        size_t cap
        size_t used
        int32_t *rec_link
        uint32_t *rec_off
        uint32_t *rec_len
        size_t rec_cap
        size_t nrec
    int cti_hdlc_init(cti_hdlc_bank_t *b, int32_t nlinks, int fcs_bits, uint32_t min_frame,
                      uint32_t max_frame)
    void cti_hdlc_free(cti_hdlc_bank_t *b)
    uint32_t cti_hdlc_fcs(const cti_hdlc_bank_t *b, const uint8_t *data, size_t n)
    size_t cti_hdlc_rx(cti_hdlc_bank_t *b, const uint8_t *inp, Py_ssize_t stride, int frames,
                       cti_hdlc_out_t *out)
    int cti_hdlc_send(cti_hdlc_bank_t *b, int32_t link, const uint8_t *frame, size_t len)
    void cti_hdlc_tx(cti_hdlc_bank_t *b, uint8_t *out, Py_ssize_t stride, int frames)
    int cti_hdlc_abort(cti_hdlc_bank_t *b, int32_t link, int flush)
    void cti_hdlc_rx_reset(cti_hdlc_bank_t *b, int32_t link)

COUNTERS = ("rx_frames", "rx_octets", "rx_bad_fcs", "rx_aborts", "rx_too_short",
            "rx_too_long", "rx_misaligned", "rx_repeats", "rx_hunt_octets", "tx_frames",
            "tx_octets",
            "tx_aborts")
IDLE = ("flags", "ones")
TX_QUEUE = CTI_HDLC_TXQ
assert len(COUNTERS) == CTI_HDLC_NCOUNTERS


class HdlcError(ValueError):
    """An HDLC bank operation with invalid arguments."""


cdef class HdlcBank:
    """``links`` HDLC links: receive and transmit whole blocks in one C call each.

    ``fcs`` is 16 or 32 (bits); ``min_frame`` and ``max_frame`` bound the frame length
    in octets without the FCS (ISO/IEC 13239: at least address and control, 2).
    """

    cdef cti_hdlc_bank_t bank
    cdef object out_buf, out_link, out_off, out_len   # rx output arrays, reused

    def __cinit__(self, int links, int fcs=16, int min_frame=2, int max_frame=512,
                  bint share_flags=True, str idle="flags", bint filter_repeats=False):
        if links < 1:
            raise HdlcError(f"links must be >= 1, got {links}")
        if fcs not in (16, 32):
            raise HdlcError(f"fcs must be 16 or 32, got {fcs}")
        if not 0 <= min_frame <= max_frame <= 65535 or max_frame < 1:
            raise HdlcError(f"need 0 <= min_frame <= max_frame <= 65535, got "
                            f"{min_frame}, {max_frame}")
        rc = cti_hdlc_init(&self.bank, links, fcs, min_frame, max_frame)
        if rc == CTI_HDLC_ENOMEM:
            raise MemoryError()
        if rc != CTI_HDLC_OK:
            raise HdlcError("invalid HDLC bank parameters")
        for link in range(links):
            self.configure(link, filter_repeats=filter_repeats, share_flags=share_flags,
                           idle=idle)

    def __dealloc__(self):
        cti_hdlc_free(&self.bank)

    @property
    def links(self) -> int:
        return self.bank.nlinks

    @property
    def fcs_bits(self) -> int:
        return self.bank.fcs_len * 8

    @property
    def max_frame(self) -> int:
        return self.bank.max_frame

    @property
    def min_frame(self) -> int:
        return self.bank.min_frame

    cdef int _link(self, link) except -1:
        if not 0 <= link < self.bank.nlinks:
            raise HdlcError(f"link {link} outside 0..{self.bank.nlinks - 1}")
        return link

    def configure(self, int link, filter_repeats=None, share_flags=None, idle=None) -> None:
        """Per-link options; ``None`` leaves an option as it is."""
        cdef cti_hdlc_link_t *L = &self.bank.link[self._link(link)]
        if idle is not None and idle not in IDLE:
            raise HdlcError(f"idle must be one of {IDLE}, got {idle!r}")
        if filter_repeats is not None:
            L.filter_repeats = bool(filter_repeats)
        if share_flags is not None:
            L.share_flags = bool(share_flags)
        if idle is not None:
            L.idle_ones = idle == "ones"

    def rx(self, block) -> list:
        """Deframe one block ``uint8 [links x frames]``; the good frames as (link, bytes)."""
        _check_block(block, self.bank.nlinks, "block", False)
        cdef int frames = block.shape[1]
        cdef Py_ssize_t stride = block.strides[0]
        cdef size_t nl = self.bank.nlinks
        cdef size_t need = nl * (frames + self.bank.max_frame + self.bank.fcs_len + 2)
        if self.out_buf is None or self.out_buf.size < need:
            self.out_buf = np.empty(need, np.uint8)
            self.out_link = np.empty(nl * (frames + 1), np.int32)
            self.out_off = np.empty(nl * (frames + 1), np.uint32)
            self.out_len = np.empty(nl * (frames + 1), np.uint32)
        cdef cti_hdlc_out_t out
        out.buf = <uint8_t *> cnp.PyArray_DATA(self.out_buf)
        out.cap = self.out_buf.size
        out.rec_link = <int32_t *> cnp.PyArray_DATA(self.out_link)
        out.rec_off = <uint32_t *> cnp.PyArray_DATA(self.out_off)
        out.rec_len = <uint32_t *> cnp.PyArray_DATA(self.out_len)
        out.rec_cap = self.out_link.size
        cdef const uint8_t *p = <const uint8_t *> cnp.PyArray_DATA(block)
        cdef size_t n, i
        with nogil:
            n = cti_hdlc_rx(&self.bank, p, stride, frames, &out)
        return [(out.rec_link[i],
                 PyBytes_FromStringAndSize(<char *> out.buf + out.rec_off[i], out.rec_len[i]))
                for i in range(n)]

    def tx(self, out) -> None:
        """Fill one block ``uint8 [links x frames]`` with each link's line octets."""
        _check_block(out, self.bank.nlinks, "out", True)
        cdef int frames = out.shape[1]
        cdef Py_ssize_t stride = out.strides[0]
        cdef uint8_t *p = <uint8_t *> cnp.PyArray_DATA(out)
        with nogil:
            cti_hdlc_tx(&self.bank, p, stride, frames)

    def send(self, int link, frame) -> None:
        """Queue ``frame`` (without FCS) on ``link``; BufferError when the queue is full."""
        self._link(link)
        cdef const uint8_t[:] view = memoryview(bytes(frame)).cast("B") if len(frame) else None
        cdef size_t n = len(frame)
        cdef uint8_t dummy = 0
        rc = cti_hdlc_send(&self.bank, link, &view[0] if n else &dummy, n)
        if rc == CTI_HDLC_EFULL:
            raise BufferError(f"link {link}: {CTI_HDLC_TXQ} frames already queued")
        if rc != CTI_HDLC_OK:
            raise HdlcError(f"frame of {n} octets outside {self.bank.min_frame}.."
                            f"{self.bank.max_frame}")

    def queued(self, int link) -> int:
        """Frames waiting or being sent on ``link``."""
        return self.bank.link[self._link(link)].qcount

    def abort(self, int link, bint flush=False) -> bool:
        """Abort the frame being sent (eight ones on the line); ``flush`` drops the queue."""
        return bool(cti_hdlc_abort(&self.bank, self._link(link), flush))

    def reset(self, int link) -> None:
        """Restart the receiver of ``link``: hunt for a flag, forget the last frame."""
        cti_hdlc_rx_reset(&self.bank, self._link(link))

    def counters(self, int link) -> dict:
        cdef cti_hdlc_link_t *L = &self.bank.link[self._link(link)]
        return {name: int(L.count[i]) for i, name in enumerate(COUNTERS)}

    def fcs(self, data) -> int:
        """The FCS this bank appends to ``data`` (ISO/IEC 13239 4.2.5), as an integer."""
        b = bytes(data)
        cdef const uint8_t[:] view = memoryview(b).cast("B") if b else None
        cdef uint8_t dummy = 0
        return cti_hdlc_fcs(&self.bank, &view[0] if b else &dummy, len(b))


def _check_block(a, nlinks, name, writeable):
    if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.ndim != 2:
        raise HdlcError(f"{name} must be a 2-D uint8 array [links x frames]")
    if a.shape[0] != nlinks or a.shape[1] < 1:
        raise HdlcError(f"{name} shape {a.shape}: need ({nlinks}, frames >= 1)")
    if a.strides[1] != 1:
        raise HdlcError(f"{name} frames must be contiguous")
    if writeable and not a.flags.writeable:
        raise HdlcError(f"{name} is read-only")
