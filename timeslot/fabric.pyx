# distutils: sources = csrc/tsi.c csrc/conf.c csrc/g711.c
"""The switching fabric: time-slot interchange plus conference bridges.

Like an SCbus / H.100 bus (ECTF H.100 r1.0 clause 1.4: any slot may be
listened to by any number of slots), every fabric slot has a receive stream (what a
board delivers) and a transmit stream (what the fabric sends it).  A slot's transmit
side is routed from one slot's receive stream, written by a conference, or idle (the
slot's idle octet, 0xD5 A-law / 0xFF mu-law silence by default).

* ``listen(dst, src)``: half duplex, one transmitter and any number of listeners;
  re-listening moves the listener.  ``unlisten(dst)`` returns ``dst`` to idle.
* ``connect(a, b)``: full duplex (two listens), replacing earlier routes of a and b.
* ``disconnect(slot)``: both directions: ``slot`` goes idle and so does every slot
  listening to it.
* Conferences: a party's transmit side carries the mix of the other parties (G.711
  decoded, summed linearly, saturated to 16 bits, re-encoded in the slot's law);
  its routes are replaced while it is a party.

Slots of different laws (``set_law``) are transcoded on a route by G.711 Tables 3/4.
``process(rx, tx)`` switches one block ``[nslots x frames]`` (1..160 frames) in one C
call with the GIL released.
"""

import math
from dataclasses import dataclass

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int32_t, uint8_t
from libc.stdlib cimport free, malloc, realloc

cnp.import_array()

cdef extern from "tsi.h" nogil:
    enum:
        CTI_TSI_MAX_SLOTS
        CTI_TSI_IDLE
        CTI_TSI_OWNED
        CTI_TSI_OK
        CTI_TSI_EBADSLOT
        CTI_TSI_EOWNED
        CTI_TSI_EINVAL
        CTI_TSI_ENOMEM
    ctypedef struct cti_tsi_t:
        int32_t nslots
        int32_t *src
        uint8_t *idle
        uint8_t *law
    int cti_tsi_init(cti_tsi_t *t, int32_t nslots, int law, uint8_t idle)
    void cti_tsi_free(cti_tsi_t *t)
    int cti_tsi_listen(cti_tsi_t *t, int32_t dst, int32_t src)
    int cti_tsi_unlisten(cti_tsi_t *t, int32_t dst)
    int cti_tsi_connect(cti_tsi_t *t, int32_t a, int32_t b)
    int cti_tsi_disconnect(cti_tsi_t *t, int32_t slot)
    int cti_tsi_set_owned(cti_tsi_t *t, int32_t slot, int owned)
    int cti_tsi_set_law(cti_tsi_t *t, int32_t slot, int law)
    void cti_tsi_process(const cti_tsi_t *t, const uint8_t *rx, Py_ssize_t rx_stride,
                         uint8_t *tx, Py_ssize_t tx_stride, int frames)

cdef extern from "conf.h" nogil:
    enum:
        CTI_CONF_MAX_PARTIES
        CTI_CONF_UNITY
        CTI_CONF_NORMAL
        CTI_CONF_LISTEN
        CTI_CONF_TALK
        CTI_CONF_COACH
    ctypedef struct cti_conf_party_t:
        int32_t slot
        int32_t mode
        int32_t coach_of
        int32_t gain_in
        int32_t gain_out
    ctypedef struct cti_conf_t:
        int32_t nparties
        cti_conf_party_t party[64]
    void cti_conf_init(cti_conf_t *c)
    int cti_conf_set(cti_conf_t *c, const cti_conf_party_t *p)
    int cti_conf_remove(cti_conf_t *c, int32_t slot)
    int cti_conf_find(const cti_conf_t *c, int32_t slot)
    void cti_conf_mix(const cti_conf_t *c, const uint8_t *rx, Py_ssize_t rx_stride,
                      uint8_t *tx, Py_ssize_t tx_stride, int frames,
                      const uint8_t *law, const uint8_t *idle)

LAWS = ("alaw", "ulaw")
SILENCE = {"alaw": 0xD5, "ulaw": 0xFF}
MODES = {"normal": CTI_CONF_NORMAL, "listen": CTI_CONF_LISTEN, "talk": CTI_CONF_TALK,
         "coach": CTI_CONF_COACH}
MODE_ALIASES = {"listen-only": "listen", "listen_only": "listen", "talk-only": "talk",
                "talk_only": "talk", "whisper": "coach"}
MAX_SLOTS = CTI_TSI_MAX_SLOTS
MAX_PARTIES = CTI_CONF_MAX_PARTIES
MAX_FRAMES = 160
GAIN_DB_RANGE = (-48.0, 24.0)


class FabricError(ValueError):
    """A fabric operation that the current routing does not allow."""


class SlotError(FabricError):
    """A slot number outside the fabric."""


@dataclass(frozen=True)
class Route:
    """Where a slot's transmit stream comes from, and who listens to its receive stream."""
    slot: int
    listens_to: int | None
    listeners: tuple[int, ...]
    conference: int | None
    idle: int
    law: str


@dataclass(frozen=True)
class Party:
    slot: int
    mode: str
    coach_of: int | None
    gain_db: float
    listen_gain_db: float


def gain_q12(db: float) -> int:
    """dB -> the Q12 factor the C mixer applies: y = (x * q + 2048) >> 12."""
    lo, hi = GAIN_DB_RANGE
    if not lo <= db <= hi:
        raise FabricError(f"gain {db} dB outside {lo}..{hi} dB")
    return int(round(10.0 ** (db / 20.0) * CTI_CONF_UNITY))


def _law_index(law):
    if law not in LAWS:
        raise FabricError(f"unknown law {law!r}; expected one of {LAWS}")
    return LAWS.index(law)


def _check_octet(v):
    if not 0 <= v <= 255:
        raise FabricError(f"idle pattern {v} is not an octet")
    return v


cdef class Fabric:
    """Time-slot interchange of ``nslots`` slots with conference bridges."""

    cdef cti_tsi_t tsi
    cdef cti_conf_t **confs
    cdef int nconfs
    cdef readonly str law
    cdef object conf_index   # conference id -> index in confs
    cdef object slot_conf    # slot -> conference id
    cdef object idle_override
    cdef int default_idle
    cdef bint explicit_idle
    cdef int next_conf

    def __cinit__(self, int nslots, law="alaw", idle=None):
        self.confs = NULL
        self.nconfs = 0
        if not 1 <= nslots <= CTI_TSI_MAX_SLOTS:
            raise FabricError(f"nslots must be 1..{CTI_TSI_MAX_SLOTS}, got {nslots}")
        self.explicit_idle = idle is not None
        self.default_idle = _check_octet(SILENCE[LAWS[_law_index(law)]] if idle is None else idle)
        if cti_tsi_init(&self.tsi, nslots, _law_index(law), <uint8_t> self.default_idle):
            raise MemoryError()
        self.law = law
        self.conf_index = {}
        self.slot_conf = {}
        self.idle_override = set()
        self.next_conf = 1

    def __dealloc__(self):
        cdef int i
        for i in range(self.nconfs):
            free(self.confs[i])
        free(self.confs)
        cti_tsi_free(&self.tsi)

    @property
    def nslots(self) -> int:
        return self.tsi.nslots

    cdef int _slot(self, slot) except -1:
        if not 0 <= slot < self.tsi.nslots:
            raise SlotError(f"slot {slot} outside 0..{self.tsi.nslots - 1}")
        return slot

    cdef int _check(self, int rc, slot) except -1:
        if rc == CTI_TSI_OK:
            return 0
        if rc == CTI_TSI_EOWNED:
            raise FabricError(f"slot {slot} transmits conference {self.slot_conf.get(slot)}; "
                              "remove it from the conference first")
        if rc == CTI_TSI_EBADSLOT:
            raise SlotError(f"slot {slot} outside 0..{self.tsi.nslots - 1}")
        raise FabricError(f"invalid route for slot {slot}")

    # --- switching ------------------------------------------------------------
    def listen(self, int dst, int src) -> None:
        """``dst`` transmits what ``src`` receives (half duplex; moves an earlier listen)."""
        self._slot(src)
        self._check(cti_tsi_listen(&self.tsi, self._slot(dst), src), dst)

    def unlisten(self, int dst) -> None:
        """``dst`` transmits its idle pattern."""
        self._check(cti_tsi_unlisten(&self.tsi, self._slot(dst)), dst)

    def connect(self, int a, int b) -> None:
        """Full duplex between ``a`` and ``b``, replacing their earlier routes."""
        self._slot(a)
        self._slot(b)
        if a == b:
            raise FabricError(f"cannot connect slot {a} to itself (use listen for a loopback)")
        for s in (a, b):
            if s in self.slot_conf:
                self._check(CTI_TSI_EOWNED, s)
        self._check(cti_tsi_connect(&self.tsi, a, b), a)

    def disconnect(self, int slot) -> None:
        """Both directions: ``slot`` and every listener of ``slot`` go idle.

        A conference party keeps transmitting its conference; only listeners drop.
        """
        self._check(cti_tsi_disconnect(&self.tsi, self._slot(slot)), slot)

    def set_idle(self, int pattern, slot=None) -> None:
        """Idle octet of one slot, or (``slot=None``) of every slot without its own."""
        _check_octet(pattern)
        if slot is None:
            self.default_idle = pattern
            self.explicit_idle = True
            for s in range(self.tsi.nslots):
                if s not in self.idle_override:
                    self.tsi.idle[s] = pattern
        else:
            self.tsi.idle[self._slot(slot)] = pattern
            self.idle_override.add(slot)

    def set_law(self, int slot, law: str) -> None:
        """Companding law of one slot (routes between laws are transcoded).

        A slot without an idle pattern of its own (and no fabric-wide one set) idles
        with the silence of its law.
        """
        self._check(cti_tsi_set_law(&self.tsi, self._slot(slot), _law_index(law)), slot)
        if not self.explicit_idle and slot not in self.idle_override:
            self.tsi.idle[slot] = SILENCE[law]

    def route(self, int slot) -> Route:
        """The routing of ``slot``: its source, its listeners, its conference."""
        self._slot(slot)
        src = self.tsi.src[slot]
        cdef int i
        listeners = tuple(i for i in range(self.tsi.nslots) if self.tsi.src[i] == slot)
        return Route(slot=slot, listens_to=src if src >= 0 else None, listeners=listeners,
                     conference=self.slot_conf.get(slot), idle=self.tsi.idle[slot],
                     law=LAWS[self.tsi.law[slot]])

    # --- conferences ------------------------------------------------------------
    def conference_create(self) -> int:
        """A new empty bridge; returns its id."""
        cdef cti_conf_t *c = <cti_conf_t *> malloc(sizeof(cti_conf_t))
        cdef cti_conf_t **grown = <cti_conf_t **> realloc(
            self.confs, (self.nconfs + 1) * sizeof(cti_conf_t *))
        if c == NULL or grown == NULL:
            free(c)
            if grown != NULL:
                self.confs = grown
            raise MemoryError()
        self.confs = grown
        cti_conf_init(c)
        self.confs[self.nconfs] = c
        cid = self.next_conf
        self.next_conf += 1
        self.conf_index[cid] = self.nconfs
        self.nconfs += 1
        return cid

    cdef cti_conf_t *_conf(self, conf) except NULL:
        try:
            return self.confs[self.conf_index[conf]]
        except KeyError:
            raise FabricError(f"no conference {conf}") from None

    def conference_add(self, conf, int slot, mode: str = "normal", coach_of=None,
                       gain_db: float = 0.0, listen_gain_db: float = 0.0) -> None:
        """Add ``slot`` to a bridge, or change an existing party.

        ``gain_db`` scales what the party contributes, ``listen_gain_db`` what it hears.
        A ``coach`` is heard only by the party in slot ``coach_of`` (whisper).  Modes:
        normal, listen (listen-only), talk (talk-only), coach (whisper).
        """
        cdef cti_conf_t *c = self._conf(conf)
        cdef cti_conf_party_t p
        self._slot(slot)
        mode = MODE_ALIASES.get(mode, mode)
        if mode not in MODES:
            raise FabricError(f"unknown mode {mode!r}; expected one of "
                              f"{tuple(MODES) + tuple(MODE_ALIASES)}")
        other = self.slot_conf.get(slot)
        if other is not None and other != conf:
            raise FabricError(f"slot {slot} is already in conference {other}")
        if mode == "coach":
            if coach_of is None or coach_of == slot or cti_conf_find(c, coach_of) < 0:
                raise FabricError("a coach needs coach_of = another party of the same conference")
        elif coach_of is not None:
            raise FabricError("coach_of is only meaningful with mode='coach'")
        p.slot = slot
        p.mode = MODES[mode]
        p.coach_of = -1 if coach_of is None else coach_of
        p.gain_in = gain_q12(gain_db)
        p.gain_out = gain_q12(listen_gain_db)
        if cti_conf_set(c, &p) < 0:
            raise FabricError(f"conference {conf} already has {CTI_CONF_MAX_PARTIES} parties")
        cti_tsi_set_owned(&self.tsi, slot, 1)
        self.slot_conf[slot] = conf

    def conference_remove(self, conf, int slot) -> None:
        """Remove a party; its transmit side returns to idle."""
        cdef cti_conf_t *c = self._conf(conf)
        if cti_conf_remove(c, slot) < 0:
            raise FabricError(f"slot {slot} is not in conference {conf}")
        cti_tsi_set_owned(&self.tsi, slot, 0)
        del self.slot_conf[slot]

    def conference_destroy(self, conf) -> None:
        """Remove every party and the bridge."""
        cdef cti_conf_t *c = self._conf(conf)
        cdef int i
        for i in range(c.nparties):
            cti_tsi_set_owned(&self.tsi, c.party[i].slot, 0)
            del self.slot_conf[c.party[i].slot]
        idx = self.conf_index.pop(conf)
        free(c)
        self.nconfs -= 1
        if idx != self.nconfs:
            self.confs[idx] = self.confs[self.nconfs]
            for k, v in self.conf_index.items():
                if v == self.nconfs:
                    self.conf_index[k] = idx
                    break

    def conference_parties(self, conf) -> list[Party]:
        cdef cti_conf_t *c = self._conf(conf)
        names = {v: k for k, v in MODES.items()}
        out = []
        cdef int i
        for i in range(c.nparties):
            p = c.party[i]
            out.append(Party(slot=p.slot, mode=names[p.mode],
                             coach_of=p.coach_of if p.coach_of >= 0 else None,
                             gain_db=_q12_db(p.gain_in), listen_gain_db=_q12_db(p.gain_out)))
        return out

    def conferences(self) -> list[int]:
        return list(self.conf_index)

    # --- the block ---------------------------------------------------------------
    def process(self, rx, tx) -> None:
        """Switch one block: ``tx[d] <- rx[route(d)]``, conference mixes, idle elsewhere.

        ``rx`` and ``tx`` are uint8 ``[nslots x frames]`` (rows may be strided, frames
        contiguous), 1..160 frames.
        """
        cdef Py_ssize_t rs, ts
        cdef int frames, i
        _check_block(rx, self.tsi.nslots, "rx")
        _check_block(tx, self.tsi.nslots, "tx")
        if rx.shape != tx.shape:
            raise FabricError(f"rx shape {rx.shape} != tx shape {tx.shape}")
        if not tx.flags.writeable:
            raise FabricError("tx is read-only")
        if np.may_share_memory(rx, tx):
            raise FabricError("rx and tx must be distinct buffers")
        frames = rx.shape[1]
        rs = rx.strides[0]
        ts = tx.strides[0]
        cdef const uint8_t *prx = <const uint8_t *> cnp.PyArray_DATA(rx)
        cdef uint8_t *ptx = <uint8_t *> cnp.PyArray_DATA(tx)
        with nogil:
            cti_tsi_process(&self.tsi, prx, rs, ptx, ts, frames)
            for i in range(self.nconfs):
                cti_conf_mix(self.confs[i], prx, rs, ptx, ts, frames, self.tsi.law,
                             self.tsi.idle)


def _q12_db(q):
    return round(20.0 * math.log10(q / CTI_CONF_UNITY), 2) if q > 0 else float("-inf")


def _check_block(a, nslots, name):
    if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.ndim != 2:
        raise FabricError(f"{name} must be a 2-D uint8 array [slots x frames]")
    if a.shape[0] != nslots or not 1 <= a.shape[1] <= MAX_FRAMES:
        raise FabricError(f"{name} shape {a.shape}: need ({nslots}, 1..{MAX_FRAMES})")
    if a.strides[1] != 1:
        raise FabricError(f"{name} frames must be contiguous")
