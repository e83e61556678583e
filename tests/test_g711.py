"""G.711 codec (timeslot.g711) against the recommendation and against spandsp."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.conftest import need_library
from timeslot import g711

ALL_LINEAR = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
ALL_CODES = np.arange(256, dtype=np.uint8)

SHIM = r"""
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
uint8_t shim_l2a(int x) { return linear_to_alaw(x); }
uint8_t shim_l2u(int x) { return linear_to_ulaw(x); }
int16_t shim_a2l(uint8_t c) { return alaw_to_linear(c); }
int16_t shim_u2l(uint8_t c) { return ulaw_to_linear(c); }
"""


@pytest.fixture(scope="module")
def spandsp(tmp_path_factory):
    """spandsp's G.711 (static inline in its header) through a small compiled shim."""
    lib = need_library("spandsp")
    cffi = pytest.importorskip("cffi")
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not installed")
    d = tmp_path_factory.mktemp("g711shim")
    (d / "shim.c").write_text(SHIM)
    so = d / "shim.so"
    r = subprocess.run([gcc, "-shared", "-fPIC", "-O2", "-o", str(so), str(d / "shim.c"),
                        "-lspandsp"], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot build the spandsp shim: {r.stderr[:200]}")
    ffi = cffi.FFI()
    ffi.cdef("uint8_t shim_l2a(int); uint8_t shim_l2u(int); int16_t shim_a2l(uint8_t);"
             "int16_t shim_u2l(uint8_t); uint8_t alaw_to_ulaw(uint8_t);"
             "uint8_t ulaw_to_alaw(uint8_t);")
    shim, sp = ffi.dlopen(str(so)), ffi.dlopen(lib)
    return {
        "alaw_encode": np.array([shim.shim_l2a(int(x)) for x in ALL_LINEAR], np.uint8),
        "ulaw_encode": np.array([shim.shim_l2u(int(x)) for x in ALL_LINEAR], np.uint8),
        "alaw_decode": np.array([shim.shim_a2l(c) for c in range(256)], np.int16),
        "ulaw_decode": np.array([shim.shim_u2l(c) for c in range(256)], np.int16),
        "alaw_to_ulaw": np.array([sp.alaw_to_ulaw(c) for c in range(256)], np.uint8),
        "ulaw_to_alaw": np.array([sp.ulaw_to_alaw(c) for c in range(256)], np.uint8),
    }


@pytest.mark.interop
@pytest.mark.parametrize("name", ["alaw_encode", "ulaw_encode"])
def test_encode_all_inputs_equal_spandsp(spandsp, name):
    ours = getattr(g711, name)(ALL_LINEAR)
    bad = np.flatnonzero(ours != spandsp[name])
    assert bad.size == 0, f"{name} differs at {ALL_LINEAR[bad[:5]]}"


@pytest.mark.interop
@pytest.mark.parametrize("name", ["alaw_decode", "ulaw_decode", "alaw_to_ulaw", "ulaw_to_alaw"])
def test_all_codes_equal_spandsp(spandsp, name):
    np.testing.assert_array_equal(getattr(g711, name)(ALL_CODES), spandsp[name])


def test_recommendation_values():
    # G.711 Table 1: A-law character 0xD5 (+0 region) decodes to +1 unit (x 8 = 8);
    # the largest decoder output is 4032 units (x 8 = 32256).
    a = g711.alaw_decode(np.array([0xD5, 0x55, 0xAA, 0x2A], np.uint8))
    assert a.tolist() == [8, -8, 32256, -32256]
    # G.711 Table 2: mu-law 0xFF is +0, 0x80 the largest positive output 8031 (x 4).
    u = g711.ulaw_decode(np.array([0xFF, 0x7F, 0x80, 0x00], np.uint8))
    assert u.tolist() == [0, 0, 32124, -32124]
    z = np.zeros(1, np.int16)
    assert g711.alaw_encode(z)[0] == g711.ALAW_SILENCE == g711.silence("alaw")
    assert g711.ulaw_encode(z)[0] == g711.ULAW_SILENCE == g711.silence("ulaw")
    # clipping at both ends
    ext = np.array([32767, -32768], np.int16)
    assert g711.alaw_encode(ext).tolist() == [0xAA, 0x2A]
    assert g711.ulaw_encode(ext).tolist() == [0x80, 0x00]


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_decode_encode_is_identity_on_codes(law):
    # Every decoder output lies inside its own decision interval; mu-law's two zeros
    # (0x7F is "-0") both encode back to +0's neighbourhood as G.711 allows.
    back = g711.encode(g711.decode(ALL_CODES, law), law)
    same = back == ALL_CODES
    if law == "ulaw":
        assert set(np.flatnonzero(~same).tolist()) == {0x7F}
    else:
        assert same.all()


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_encode_is_monotonic(law):
    lin = g711.decode(g711.encode(ALL_LINEAR, law), law)
    assert (np.diff(lin.astype(np.int32)) >= 0).all()
    err = np.abs(lin.astype(np.int32) - ALL_LINEAR)
    # quantisation error bounded by half the largest step (A: 1024, mu: 1024 at this scale)
    assert err.max() <= 1024 + 132


@pytest.mark.parametrize(("src", "dst", "fn"), [("alaw", "ulaw", g711.alaw_to_ulaw),
                                                ("ulaw", "alaw", g711.ulaw_to_alaw)])
def test_transcoding_tables(src, dst, fn):
    # G.711 Tables 3/4: sign carried over, magnitude order kept, error within one step.
    out = fn(ALL_CODES)
    assert ((out ^ ALL_CODES) & 0x80 == 0).all()
    lin_in = g711.decode(ALL_CODES, src).astype(np.int32)
    lin_out = g711.decode(out, dst).astype(np.int32)
    order = np.argsort(lin_in, kind="stable")
    assert (np.diff(lin_out[order]) >= 0).all()
    assert np.abs(lin_out - lin_in).max() <= 256


@given(hnp.arrays(np.int16, hnp.array_shapes(min_dims=0, max_dims=3, max_side=9)))
def test_any_shape_matches_scalar_path(x):
    for law in ("alaw", "ulaw"):
        enc = g711.encode(x, law)
        assert enc.shape == x.shape and enc.dtype == np.uint8
        np.testing.assert_array_equal(enc.ravel(), g711.encode(x.ravel().copy(), law))
        dec = g711.decode(enc, law)
        assert dec.shape == x.shape and dec.dtype == np.int16
        # decoder outputs are fixed points of encode-then-decode (mu-law's -0 becomes +0)
        np.testing.assert_array_equal(g711.decode(g711.encode(dec, law), law), dec)


def test_non_contiguous_and_bytes_input():
    x = np.arange(-3000, 3000, 7, dtype=np.int16).reshape(2, -1)[:, ::2]
    np.testing.assert_array_equal(g711.alaw_encode(x), g711.alaw_encode(x.copy()))
    assert g711.alaw_decode(b"\xd5\x55").tolist() == [8, -8]


@pytest.mark.parametrize("fn", [g711.alaw_encode, g711.ulaw_encode])
def test_encode_rejects_wrong_dtype(fn):
    with pytest.raises(TypeError):
        fn(np.zeros(4, np.int32))


@pytest.mark.parametrize("fn", [g711.alaw_decode, g711.ulaw_decode, g711.alaw_to_ulaw,
                                g711.ulaw_to_alaw])
def test_decode_rejects_wrong_dtype(fn):
    with pytest.raises(TypeError):
        fn(np.zeros(4, np.int16))


def test_unknown_law():
    with pytest.raises(ValueError):
        g711.encode(np.zeros(1, np.int16), "slinear")


@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode(b):
    for law in ("alaw", "ulaw"):
        assert g711.decode(b, law).size == len(b)
