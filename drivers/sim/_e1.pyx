# distutils: sources = csrc/e1.c
"""Cython over csrc/e1.c: many software E1 spans and their cables, one C call per tick.

:class:`E1Sim` is the low-level engine; :mod:`drivers.sim.system` builds spans,
cables and boards on it.  Arrays are ``uint8`` ``[spans, 32, frames]`` channel-major.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

import numpy as np

cdef extern from "e1.h":
    enum:
        E1_ALARM_LOS
        E1_ALARM_LOF
        E1_ALARM_AIS
        E1_ALARM_RAI
        E1_ALARM_LOMF
        E1_ALARM_RMAI
        E1_CRC_SEARCH
        E1_CRC_ALIGNED
        E1_CRC_INTERWORKING

    ctypedef struct e1_counters_t:
        uint64_t crc4_errors, ebit_errors, fas_errors, slips, bpv, lof_events
        uint64_t crc_blocks, resyncs

    ctypedef struct e1_span_t:
        int crc4, cas, nfas_loss, loopback
        uint32_t mf_align_frames, interwork_frames
        uint8_t sa, si
        uint8_t tx_cas[32]
        uint8_t cas_rx[32]
        int framed, lof, crc_state, cas_aligned, rai
        uint8_t rx_sa
        e1_counters_t cnt

    ctypedef struct e1_link_t:
        int dst
        double ppm
        int los, ais, delay_bits
        uint64_t errors

    ctypedef struct e1_sim_t:
        int nspans, max_frames
        e1_span_t *spans
        e1_link_t *links

    int e1_sim_init(e1_sim_t *sim, int nspans, int max_frames)
    void e1_sim_free(e1_sim_t *sim)
    void e1_span_reset(e1_span_t *sp)
    int e1_sim_connect(e1_sim_t *sim, int src, int dst)
    void e1_link_set_ber(e1_link_t *l, double ber)
    void e1_link_set_burst(e1_link_t *l, uint32_t bits, uint64_t period_bits)
    int e1_sim_tick(e1_sim_t *sim, const uint8_t *tx, uint8_t *rx, int frames) nogil
    size_t e1_span_transmit(e1_span_t *sp, const uint8_t *pay, int frames, uint8_t *line) nogil
    void e1_span_receive(e1_span_t *sp, const uint8_t *line, size_t n, uint8_t *out,
                         int frames) nogil
    uint32_t e1_span_alarms(const e1_span_t *sp)
    uint8_t e1_crc4(uint8_t crc, const uint8_t *octets, size_t n)

ALARM_BITS = {"LOS": E1_ALARM_LOS, "LOF": E1_ALARM_LOF, "AIS": E1_ALARM_AIS,
              "RAI": E1_ALARM_RAI, "LOMF": E1_ALARM_LOMF, "RMAI": E1_ALARM_RMAI}
CRC_STATES = {E1_CRC_SEARCH: "search", E1_CRC_ALIGNED: "aligned",
              E1_CRC_INTERWORKING: "interworking"}
LOOPBACKS = {"none": 0, "local": 1, "line": 2, "payload": 3}


def crc4(data: bytes, int crc=0) -> int:
    """CRC-4 (G.704 2.3.3.5.2) of octets, MSB first, continuing from ``crc``."""
    cdef const uint8_t[::1] v = np.frombuffer(bytes(data), dtype=np.uint8)
    if v.shape[0] == 0:
        return crc & 15
    return e1_crc4(<uint8_t>(crc & 15), &v[0], v.shape[0])


cdef class E1Sim:
    """``nspans`` E1 framers; link ``s`` is the outgoing cable direction of span ``s``."""

    cdef e1_sim_t sim

    def __cinit__(self, int nspans, int max_frames=8000):
        if e1_sim_init(&self.sim, nspans, max_frames) != 0:
            raise MemoryError("e1 sim: cannot allocate spans")

    def __dealloc__(self):
        e1_sim_free(&self.sim)

    @property
    def nspans(self) -> int:
        return self.sim.nspans

    @property
    def max_frames(self) -> int:
        return self.sim.max_frames

    cdef e1_span_t *_span(self, int s) except NULL:
        if not 0 <= s < self.sim.nspans:
            raise IndexError(f"span index {s} out of range")
        return &self.sim.spans[s]

    def configure(self, int s, bint crc4, bint cas, bint nfas_loss=False) -> None:
        cdef e1_span_t *sp = self._span(s)
        sp.crc4, sp.cas, sp.nfas_loss = crc4, cas, nfas_loss
        e1_span_reset(sp)

    def set_timers(self, int s, double mf_search_s, double interworking_s) -> None:
        """CRC-4 multiframe search window and interworking decision time, seconds."""
        cdef e1_span_t *sp = self._span(s)
        if not 0 < mf_search_s <= interworking_s:
            raise ValueError("need 0 < multiframe search window <= interworking time")
        sp.mf_align_frames = max(16, <uint32_t>(mf_search_s * 8000 + 0.5))
        sp.interwork_frames = <uint32_t>(interworking_s * 8000 + 0.5)

    def clear_counters(self, int s) -> None:
        cdef e1_span_t *sp = self._span(s)
        sp.cnt = e1_counters_t(0, 0, 0, 0, 0, 0, 0, 0)

    def reset(self, int s) -> None:
        e1_span_reset(self._span(s))

    def connect(self, int src, int dst) -> None:
        if e1_sim_connect(&self.sim, src, dst) != 0:
            raise IndexError(f"cannot connect span {src} to {dst}")

    def impair(self, int src, *, double ber=0.0, int burst_bits=0, int burst_period_bits=0,
               double ppm=0.0, bint los=False, bint ais=False, int delay_bits=0) -> None:
        self._span(src)
        cdef e1_link_t *l = &self.sim.links[src]
        e1_link_set_ber(l, ber)
        e1_link_set_burst(l, burst_bits, burst_period_bits)
        l.ppm, l.los, l.ais, l.delay_bits = ppm, los, ais, delay_bits

    def link_errors(self, int src) -> int:
        self._span(src)
        return self.sim.links[src].errors

    def set_loopback(self, int s, str mode) -> None:
        self._span(s).loopback = LOOPBACKS[mode]

    def set_sa(self, int s, int sa, int si=1) -> None:
        cdef e1_span_t *sp = self._span(s)
        sp.sa, sp.si = sa & 0x1F, si & 1

    def cas_tx(self, int s, int ts, int abcd) -> None:
        self._span(s).tx_cas[ts & 31] = abcd & 15

    def cas_rx(self, int s):
        cdef e1_span_t *sp = self._span(s)
        return np.array([sp.cas_rx[i] for i in range(32)], dtype=np.uint8)

    def status(self, int s) -> dict:
        cdef e1_span_t *sp = self._span(s)
        bits = e1_span_alarms(sp)
        c = sp.cnt
        return {
            "alarms": [n for n, b in ALARM_BITS.items() if bits & b],
            "counters": {"crc4_errors": c.crc4_errors, "ebit_errors": c.ebit_errors,
                         "fas_errors": c.fas_errors, "slips": c.slips, "bpv": c.bpv},
            "lof_events": c.lof_events, "crc_blocks": c.crc_blocks, "resyncs": c.resyncs,
            "framed": bool(sp.framed), "crc4": CRC_STATES[sp.crc_state] if sp.crc4 else "off",
            "cas_aligned": bool(sp.cas_aligned), "rai": bool(sp.rai), "sa": sp.rx_sa,
        }

    def transmit(self, int s, payload) -> bytes:
        """Frame ``payload`` (uint8 (32, frames)) on span ``s`` alone: the line octets."""
        cdef e1_span_t *sp = self._span(s)
        cdef const uint8_t[:, ::1] pay = np.ascontiguousarray(payload, dtype=np.uint8)
        cdef int frames = pay.shape[1]
        if pay.shape[0] != 32 or not 1 <= frames <= self.sim.max_frames:
            raise ValueError(f"payload must be (32, 1..{self.sim.max_frames})")
        out = np.empty(frames * 32, np.uint8)
        cdef uint8_t[::1] o = out
        with nogil:
            e1_span_transmit(sp, &pay[0, 0], frames, &o[0])
        return out.tobytes()

    def receive(self, int s, line: bytes, int frames):
        """Deframe ``line`` octets on span ``s`` alone; deliver (32, frames) of payload."""
        cdef e1_span_t *sp = self._span(s)
        if not 1 <= frames <= self.sim.max_frames:
            raise ValueError(f"frames must be 1..{self.sim.max_frames}")
        data = np.frombuffer(bytes(line) + b"\0", np.uint8)
        cdef const uint8_t[::1] d = data
        out = np.empty((32, frames), np.uint8)
        cdef uint8_t[:, ::1] o = out
        cdef size_t n = len(line)
        with nogil:
            e1_span_receive(sp, &d[0], n, &o[0, 0], frames)
        return out

    def tick(self, const uint8_t[:, :, ::1] tx, uint8_t[:, :, ::1] rx) -> None:
        """Advance every span by ``frames = tx.shape[2]`` frames (GIL released)."""
        cdef int frames = tx.shape[2]
        if (tx.shape[0] != self.sim.nspans or tx.shape[1] != 32 or rx.shape[0] != tx.shape[0]
                or rx.shape[1] != 32 or rx.shape[2] != frames):
            raise ValueError("tx and rx must both be uint8 [spans, 32, frames]")
        if not 1 <= frames <= self.sim.max_frames:
            raise ValueError(f"frames must be 1..{self.sim.max_frames}")
        with nogil:
            e1_sim_tick(&self.sim, &tx[0, 0, 0], &rx[0, 0, 0], frames)
