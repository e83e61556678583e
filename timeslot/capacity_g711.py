"""G.711 codec capacity (``cti bench``): MB/s of G.711 octets encoded or decoded per core.

The load is one second-sized buffer (64,000 samples, int16 uniform over the full range for
encode, uniform octets for decode).  The peer is spandsp's ``linear_to_alaw`` /
``alaw_to_linear``: they are ``static inline`` in spandsp's header, so the bench compiles
a small shim (a loop over the same buffer, gcc -O3, linked against libspandsp) and calls
it through cffi ABI mode.  No gcc or no spandsp gives ``peer_value=None``.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import tempfile
from functools import cache
from typing import Any

import numpy as np

from core.bench import BenchResult, cpu_seconds
from timeslot import g711

SAMPLES = 64_000
PEER = "spandsp g711"

SHIM = r"""
#include <stdint.h>
#include <stddef.h>
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
#include <spandsp/async.h>
#include <spandsp/hdlc.h>
void sp_alaw_encode(const int16_t *in, uint8_t *out, int n)
{ for (int i = 0; i < n; i++) out[i] = linear_to_alaw(in[i]); }
void sp_alaw_decode(const uint8_t *in, int16_t *out, int n)
{ for (int i = 0; i < n; i++) out[i] = alaw_to_linear(in[i]); }
static void count_frame(void *user_data, const uint8_t *pkt, int len, int ok)
{ (void) pkt; if (len >= 0 && ok) ++*(long *) user_data; }
void *sp_hdlc_rx_new(int crc32, long *frames)
{ return hdlc_rx_init(NULL, crc32, 0, 1, count_frame, frames); }
"""

SHIM_CDEF = """
void sp_alaw_encode(const int16_t *in, uint8_t *out, int n);
void sp_alaw_decode(const uint8_t *in, int16_t *out, int n);
void *sp_hdlc_rx_new(int crc32, long *frames);
void hdlc_rx_put(void *s, const uint8_t buf[], int len);
int hdlc_rx_free(void *s);
"""


@cache
def spandsp_shim() -> tuple[Any, Any] | None:
    """(ffi, lib) of the compiled spandsp shim (G.711 loops, HDLC receiver with a C frame
    counter), or None when cffi, gcc or libspandsp is missing."""
    try:
        import cffi
    except ImportError:
        return None
    gcc = shutil.which("gcc")
    if gcc is None or ctypes.util.find_library("spandsp") is None:
        return None
    d = tempfile.mkdtemp(prefix="cti-spandsp-shim-")
    src, so = os.path.join(d, "shim.c"), os.path.join(d, "shim.so")
    with open(src, "w") as f:
        f.write(SHIM)
    r = subprocess.run([gcc, "-std=gnu99", "-O3", "-shared", "-fPIC", "-o", so, src,
                        "-lspandsp"], capture_output=True)
    if r.returncode:
        return None
    ffi = cffi.FFI()
    ffi.cdef(SHIM_CDEF)
    return ffi, ffi.dlopen(so)


def _mb_per_s(fn, quick: bool) -> float:
    cpu, _ = cpu_seconds(fn, 0.1 if quick else 0.5)
    return SAMPLES / cpu / 1e6


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    lin = rng.integers(-32768, 32768, SAMPLES).astype(np.int16)
    return lin, rng.integers(0, 256, SAMPLES, dtype=np.uint8)


def workloads() -> dict[str, tuple[Any, Any]]:
    """name -> (ours, peer or None): zero-argument callables over the same buffers."""
    lin, codes = _data()
    out8, out16 = np.empty(SAMPLES, np.uint8), np.empty(SAMPLES, np.int16)
    shim = spandsp_shim()
    peer_enc = peer_dec = None
    if shim is not None:
        ffi, lib = shim
        p_lin, p_codes = ffi.from_buffer("int16_t[]", lin), ffi.from_buffer(codes)
        p_out8, p_out16 = ffi.from_buffer(out8), ffi.from_buffer("int16_t[]", out16)

        def peer_enc():
            lib.sp_alaw_encode(p_lin, p_out8, SAMPLES)

        def peer_dec():
            lib.sp_alaw_decode(p_codes, p_out16, SAMPLES)

    return {"g711_encode": (lambda: g711.alaw_encode(lin), peer_enc),
            "g711_decode": (lambda: g711.alaw_decode(codes), peer_dec)}


def bench_g711(quick: bool) -> list[BenchResult]:
    results = []
    for name, (ours, peer) in workloads().items():
        notes = [f"A-law, {SAMPLES} samples per call; MB/s of G.711 octets"]
        peer_value = None if peer is None else _mb_per_s(peer, quick)
        if peer is None:
            notes.append("spandsp (or gcc to build its inline-function shim) not installed")
        results.append(BenchResult(name, _mb_per_s(ours, quick), "MB/s", PEER, peer_value,
                                   notes))
    return results


BENCHES = [bench_g711]
