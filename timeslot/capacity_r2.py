"""MFC-R2 detection capacity (``cti bench``): channels detected in real time per core.

Same load shape as capacity_dtmf (1,200 timeslots of 160-frame A-law blocks, a third
tones, a third idle, a third noise); the tones are the 15 backward signals of Q.441,
100 ms on and 100 ms off as in a compelled cycle.  Peer: spandsp ``r2_mf_rx``
(backward) through cffi, driven as in capacity_dtmf.
"""

from __future__ import annotations

from core.bench import BenchResult
from timeslot.capacity_dtmf import (
    BLOCK,
    RATE,
    ours_channels_per_core,
    peer_channels_per_core,
    traffic,
    with_peer,
)
from timeslot.r2mf import R2MfDetector

BACKWARD = (1140.0, 1020.0, 900.0, 780.0, 660.0, 540.0)
PAIRS = [(BACKWARD[a], BACKWARD[b]) for b in range(6) for a in range(b)]


def r2_detect(quick: bool) -> BenchResult:
    channels = 1200
    codes = traffic(channels, 1.0 if quick else 4.0, PAIRS, on=800)
    ours = ours_channels_per_core(lambda n: R2MfDetector(n, "backward"), codes)
    rates = {call: peer_channels_per_core(
        lambda ffi, lib: lib.r2_mf_rx_init(ffi.NULL, 0, ffi.NULL, ffi.NULL),
        "r2_mf_rx", "r2_mf_rx_free", codes, call) for call in (BLOCK, RATE)}
    return with_peer("r2_detect", ours, "spandsp r2_mf_rx", rates, channels)


BENCHES = [r2_detect]
