"""ISDN call capacity (pytest-benchmark): call setup + clearing through LAPD + Q.931,
both ends in one process on the virtual clock; the libpri pair figures (in-process
queues, and a socketpair) side by side."""

from __future__ import annotations

import pytest

from isdn.capacity_isdn import _Traffic, libpri_us_per_call
from isdn.lapd_codec import decode as lapd_decode
from isdn.q931_codec import decode as q931_decode

SETUP = bytes.fromhex("00010000" "08020001" "05" "a1" "04038090a3" "1803a98381"
                      "6c0c0180" + b"0212345678".hex() + "700581" + b"4000".hex())


def test_bench_call_setup_clearing(benchmark):
    traffic = _Traffic()
    benchmark.pedantic(traffic.run, args=(20,), rounds=10, iterations=1)
    per_call_us = benchmark.stats.stats.mean / 20 * 1e6
    peer, note = libpri_us_per_call(2000)
    sock, sock_note = libpri_us_per_call(2000, "sock")
    benchmark.extra_info.update({"us_per_call": round(per_call_us, 1), "libpri_us_per_call": peer,
                                 "libpri_note": note, "libpri_socket_us_per_call": sock,
                                 "libpri_socket_note": sock_note})
    if peer is None:
        pytest.skip(note)


def test_bench_decode_setup(benchmark):
    def decode():
        return q931_decode(lapd_decode(SETUP).info)
    assert benchmark(decode).called == "4000"
