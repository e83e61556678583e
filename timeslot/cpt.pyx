# distutils: sources = csrc/cpt.c csrc/level.c csrc/g711.c csrc/ring.c
"""Call-progress tone detection over csrc/cpt.c (ITU-T E.180/Q.35 tones and SIT).

The detector is driven by the same :mod:`timeslot.toneplans` table the generator plays:
the plan's frequencies (tolerance ``freq_tolerance_hz``, E.180 clause 7 +-50 Hz for SIT),
levels (``min_level_dbm0``..``max_level_dbm0`` per component) and cadences (each
duration +-10 % +-40 ms, or the range the recommendation states).  Events are
``Event(channel, Kind.CPT, value=tone index, extra=0, start, end)`` where ``value``
indexes :attr:`CallProgressDetector.names`, ``start`` is the first sample of the
matched cadence and ``end`` the sample at which it locked.
"""

from libc.stdint cimport int64_t

cimport numpy as cnp

from timeslot.detector cimport check_block, drain, ensure_ring, law_index
from timeslot.ring cimport cti_ring_free, cti_ring_init, cti_ring_t

from timeslot.toneplans import plan as get_plan

cnp.import_array()

cdef extern from "cpt.h" nogil:
    enum:
        CTI_CPT_MAX_FREQS
        CTI_CPT_MAX_CLASSES
        CTI_CPT_MAX_TONES
        CTI_CPT_MAX_ELEMS
        CTI_CPT_HISTORY
    ctypedef struct cti_cpt_tone_t:
        int nelems
        int cls[8]
        int lo_ms[8]
        int hi_ms[8]
        int match
        int continuous
        int detect_ms
    ctypedef struct cti_cpt_plan_t:
        int nfreqs
        double freq[8]
        double tol_hz[8]
        int nclasses
        int class_freq[9][2]
        int ntones
        cti_cpt_tone_t tone[16]
        double min_dbm0
        double max_dbm0
        double min_ratio
    ctypedef struct cti_cpt_t:
        int channels
        int64_t samples
    int cti_cpt_init(cti_cpt_t *d, int channels, int law, const cti_cpt_plan_t *plan)
    void cti_cpt_free(cti_cpt_t *d)
    void cti_cpt_process(cti_cpt_t *d, const void *inp, int frames, cti_ring_t *ring)
    void cti_cpt_reset(cti_cpt_t *d, int ch)

# share of the block energy a frequency set must hold (a Hann(80) tone +-25 Hz off
# nominal keeps 0.92, +-50 Hz 0.72; 75 Hz off, where the phase test aliases, 0.47)
MIN_RATIO = 0.6
# the half-to-half phase test accepts this much beyond the plan's tolerance, so that a
# tone right at the tolerance is detected despite noise and quantisation
PHASE_MARGIN_HZ = 5.0
# the two frequencies of a dual tone must be resolved by the 10 ms Hann half-blocks
MIN_DUAL_SPACING_HZ = 120.0


cdef int build_plan(object plan, cti_cpt_plan_t *p) except -1:
    freqs = plan.frequencies()
    if len(freqs) > CTI_CPT_MAX_FREQS:
        raise ValueError(f"plan {plan.name!r}: more than {CTI_CPT_MAX_FREQS} frequencies")
    p.nfreqs = len(freqs)
    for i, f in enumerate(freqs):
        p.freq[i] = f
        p.tol_hz[i] = plan.tolerance(f) + PHASE_MARGIN_HZ
    classes = []
    for t in plan.tones.values():
        for s in t.segments:
            if s.freqs and s.freqs not in classes:
                if len(s.freqs) > 2:
                    raise ValueError(f"plan {plan.name!r}: tone {t.name!r} has more than "
                                     "two frequencies")
                if len(s.freqs) == 2 and abs(s.freqs[0] - s.freqs[1]) < MIN_DUAL_SPACING_HZ:
                    raise ValueError(f"plan {plan.name!r}: tone {t.name!r}: {s.freqs[0]:g} and "
                                     f"{s.freqs[1]:g} Hz are closer than {MIN_DUAL_SPACING_HZ:g}"
                                     " Hz, which 10 ms analysis blocks cannot resolve")
                classes.append(s.freqs)
    if len(classes) > CTI_CPT_MAX_CLASSES or len(plan.tones) > CTI_CPT_MAX_TONES:
        raise ValueError(f"plan {plan.name!r} is too large for the detector")
    p.nclasses = len(classes)
    for k, fs in enumerate(classes, 1):
        p.class_freq[k][0] = freqs.index(fs[0])
        p.class_freq[k][1] = freqs.index(fs[1]) if len(fs) > 1 else -1
    p.ntones = len(plan.tones)
    for i, t in enumerate(plan.tones.values()):
        if len(t.segments) > CTI_CPT_MAX_ELEMS:
            raise ValueError(f"tone {t.name!r}: more than {CTI_CPT_MAX_ELEMS} segments")
        if not 1 <= t.match <= CTI_CPT_HISTORY + 1:
            raise ValueError(f"tone {t.name!r}: match must be 1..{CTI_CPT_HISTORY + 1}")
        p.tone[i].nelems = len(t.segments)
        p.tone[i].match = t.match
        p.tone[i].continuous = t.continuous
        p.tone[i].detect_ms = t.detect_ms
        for e, s in enumerate(t.segments):
            p.tone[i].cls[e] = classes.index(s.freqs) + 1 if s.freqs else 0
            lo, hi = (t.detect_ms, 1 << 30) if s.ms is None else plan.bounds(s)
            p.tone[i].lo_ms[e] = lo
            p.tone[i].hi_ms[e] = hi
    p.min_dbm0 = plan.min_level_dbm0
    p.max_dbm0 = plan.max_level_dbm0
    p.min_ratio = MIN_RATIO
    return 0


cdef class CallProgressDetector:
    """Call-progress detector bank: ``process(block)`` with ``block`` (channels, frames)."""

    cdef cti_cpt_t d
    cdef cti_ring_t ring
    cdef readonly int channels
    cdef int law
    cdef readonly object plan

    def __cinit__(self, int channels, plan="itu", str law="alaw"):
        cdef cti_cpt_plan_t p
        if channels <= 0:
            raise ValueError("channels must be positive")
        self.law = law_index(law)
        self.plan = get_plan(plan)
        build_plan(self.plan, &p)
        if cti_cpt_init(&self.d, channels, self.law, &p) != 0:
            raise MemoryError()
        if cti_ring_init(&self.ring, max(1024, 4 * channels)) != 0:
            cti_cpt_free(&self.d)
            raise MemoryError()
        self.channels = channels

    def __dealloc__(self):
        cti_cpt_free(&self.d)
        cti_ring_free(&self.ring)

    @property
    def names(self) -> list[str]:
        """Tone names; an event's ``value`` indexes this list."""
        return self.plan.names

    def name(self, int value) -> str:
        return self.plan.names[value]

    def process(self, block) -> list:
        cdef cnp.ndarray a = check_block(block, self.channels, self.law)
        cdef const void *p = cnp.PyArray_DATA(a)
        cdef int frames = a.shape[1]
        ensure_ring(&self.ring, self.channels * (frames // 160 + 4))
        with nogil:
            cti_cpt_process(&self.d, p, frames, &self.ring)
        return drain(&self.ring)

    def reset(self, int channel) -> None:
        """Forget the channel's cadence history (a new call on the timeslot)."""
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} out of range 0..{self.channels - 1}")
        cti_cpt_reset(&self.d, channel)

    def finish(self) -> list:
        """Events still queued (cadences are reported as they lock, so usually none)."""
        return drain(&self.ring)
