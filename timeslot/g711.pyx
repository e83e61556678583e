# distutils: sources = csrc/g711.c
"""G.711 A-law and mu-law on numpy arrays (ITU-T G.711 clauses 3.2, 3.3; Tables 1-4).

Linear samples are ``int16`` scaled like spandsp (A-law decodes to the Table 1 value
x 8, mu-law to the Table 2 value x 4); codes are the transmitted characters (A-law
with the even-bit inversion, mu-law with the magnitude inversion).  Transcoding uses
G.711 Tables 3 and 4, so A -> mu -> A gives back every A-law character.  Every
function takes an array of any shape, returns a new array of the same shape and runs
one C call with the GIL released.
"""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int16_t, uint8_t

cnp.import_array()

cdef extern from "g711.h" nogil:
    const int16_t cti_alaw_to_linear_table[256]
    const int16_t cti_ulaw_to_linear_table[256]
    void cti_alaw_encode(const int16_t *inp, uint8_t *out, size_t n)
    void cti_alaw_decode(const uint8_t *inp, int16_t *out, size_t n)
    void cti_ulaw_encode(const int16_t *inp, uint8_t *out, size_t n)
    void cti_ulaw_decode(const uint8_t *inp, int16_t *out, size_t n)
    void cti_alaw_to_ulaw(const uint8_t *inp, uint8_t *out, size_t n)
    void cti_ulaw_to_alaw(const uint8_t *inp, uint8_t *out, size_t n)

ALAW_SILENCE = 0xD5
ULAW_SILENCE = 0xFF
LAWS = ("alaw", "ulaw")


def _input(x, dtype):
    """Contiguous array of exactly ``dtype``; bytes-like input is taken as octets."""
    if isinstance(x, (bytes, bytearray, memoryview)) and dtype is np.uint8:
        x = np.frombuffer(x, np.uint8)
    a = np.asarray(x)
    if not a.flags.c_contiguous:
        a = a.copy(order="C")
    if a.dtype != dtype:
        raise TypeError(f"expected a {np.dtype(dtype).name} array, got {a.dtype.name}")
    return a


def _encode(x, int ulaw):
    cdef cnp.ndarray a = _input(x, np.int16)
    cdef cnp.ndarray out = np.empty_like(a, dtype=np.uint8)
    cdef const int16_t *p = <const int16_t *> cnp.PyArray_DATA(a)
    cdef uint8_t *q = <uint8_t *> cnp.PyArray_DATA(out)
    cdef size_t n = a.size
    with nogil:
        if ulaw:
            cti_ulaw_encode(p, q, n)
        else:
            cti_alaw_encode(p, q, n)
    return out


def _decode(x, int ulaw):
    cdef cnp.ndarray a = _input(x, np.uint8)
    cdef cnp.ndarray out = np.empty_like(a, dtype=np.int16)
    cdef const uint8_t *p = <const uint8_t *> cnp.PyArray_DATA(a)
    cdef int16_t *q = <int16_t *> cnp.PyArray_DATA(out)
    cdef size_t n = a.size
    with nogil:
        if ulaw:
            cti_ulaw_decode(p, q, n)
        else:
            cti_alaw_decode(p, q, n)
    return out


def _transcode(x, int to_ulaw):
    cdef cnp.ndarray a = _input(x, np.uint8)
    cdef cnp.ndarray out = np.empty_like(a, dtype=np.uint8)
    cdef const uint8_t *p = <const uint8_t *> cnp.PyArray_DATA(a)
    cdef uint8_t *q = <uint8_t *> cnp.PyArray_DATA(out)
    cdef size_t n = a.size
    with nogil:
        if to_ulaw:
            cti_alaw_to_ulaw(p, q, n)
        else:
            cti_ulaw_to_alaw(p, q, n)
    return out


def alaw_encode(x):
    """int16 linear -> A-law characters (G.711 clause 3.2)."""
    return _encode(x, 0)


def ulaw_encode(x):
    """int16 linear -> mu-law characters (G.711 clause 3.3)."""
    return _encode(x, 1)


def alaw_decode(x):
    """A-law characters -> int16 linear (G.711 Table 1 decoder outputs x 8)."""
    return _decode(x, 0)


def ulaw_decode(x):
    """mu-law characters -> int16 linear (G.711 Table 2 decoder outputs x 4)."""
    return _decode(x, 1)


def alaw_to_ulaw(x):
    """A-law -> mu-law characters by G.711 Table 4."""
    return _transcode(x, 1)


def ulaw_to_alaw(x):
    """mu-law -> A-law characters by G.711 Table 3."""
    return _transcode(x, 0)


def encode(x, law: str = "alaw"):
    """Encode in the named law ("alaw" or "ulaw")."""
    return _encode(x, _law_index(law))


def decode(x, law: str = "alaw"):
    """Decode from the named law ("alaw" or "ulaw")."""
    return _decode(x, _law_index(law))


def _law_index(law: str) -> int:
    try:
        return LAWS.index(law)
    except ValueError:
        raise ValueError(f"unknown law {law!r}; expected one of {LAWS}") from None


def silence(law: str = "alaw") -> int:
    """The idle (+0) character of a law."""
    return (ALAW_SILENCE, ULAW_SILENCE)[_law_index(law)]


ALAW_TABLE = np.array(<int16_t[:256]> cti_alaw_to_linear_table, np.int16)
ULAW_TABLE = np.array(<int16_t[:256]> cti_ulaw_to_linear_table, np.int16)
