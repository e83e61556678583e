"""HDLC receive capacity (``cti bench``): 64 kbit/s links deframed in real time per core.

The load is a saturated MTP2-like link: frames of 3 to 60 random octets back to back
with shared flags (FCS-16), one second of line per link, each link at a different offset.
Ours deframes 160-frame blocks of all links per call (the tight loop's shape).  The peer
is spandsp's ``hdlc_rx_put`` through cffi ABI mode, one call per link per second of line
(its cheapest use), with a C frame handler from the shim in ``capacity_g711``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.bench import BenchResult, cpu_seconds
from timeslot.capacity_g711 import spandsp_shim
from timeslot.hdlc import TX_QUEUE, HdlcBank

RATE = 8000     # octets per second on a 64 kbit/s timeslot
BLOCK = 160
LINKS = 64


def line(seconds: float = 1.0, seed: int = 1) -> np.ndarray:
    """One link's line octets: back-to-back random frames (3..60 octets)."""
    rng = np.random.default_rng(seed)
    tx = HdlcBank(1, min_frame=3, max_frame=60)
    n = int(seconds * RATE)
    out = np.empty((1, n), np.uint8)
    for start in range(0, n, BLOCK):
        while tx.queued(0) < TX_QUEUE:
            tx.send(0, rng.bytes(int(rng.integers(3, 61))))
        tx.tx(out[:, start:start + BLOCK])
    return out[0]


def workloads(links: int = LINKS) -> tuple[Any, Any, int]:
    """(ours, peer or None, frames per second of line) for ``links`` links."""
    one = line()
    block = np.stack([np.roll(one, 997 * k) for k in range(links)])
    bank = HdlcBank(links, min_frame=3, max_frame=60)
    frames_per_s = len(HdlcBank(1, min_frame=3, max_frame=60).rx(one[None, :]))

    def ours():
        for s in range(0, RATE, BLOCK):
            bank.rx(block[:, s:s + BLOCK])

    peer = None
    shim = spandsp_shim()
    if shim is not None:
        ffi, lib = shim
        count = ffi.new("long *")
        states = [ffi.gc(lib.sp_hdlc_rx_new(0, count), lib.hdlc_rx_free) for _ in range(links)]
        rows = [ffi.from_buffer(block[k]) for k in range(links)]

        def peer(count=count):  # spandsp's frame handler writes *count: keep it alive
            for s, r in zip(states, rows, strict=True):
                lib.hdlc_rx_put(s, r, RATE)

    return ours, peer, frames_per_s


def bench_hdlc(quick: bool) -> BenchResult:
    ours, peer, fps = workloads()
    t = 0.2 if quick else 1.0
    cpu, _ = cpu_seconds(ours, t)
    notes = [f"{LINKS} links x 1 s of saturated line ({fps} frames/s/link), FCS-16"]
    peer_value = None
    if peer is None:
        notes.append("spandsp (or gcc to build its frame-handler shim) not installed")
    else:
        peer_value = LINKS / cpu_seconds(peer, t)[0]
    return BenchResult("hdlc_rx", LINKS / cpu, "links/core", "spandsp hdlc_rx", peer_value,
                       notes)


BENCHES = [bench_hdlc]
