"""``cti bench``: MSUs through a signalling transfer point (Q.704 2.3).

End points A and B on in-memory links to the transfer point S (virtual clock); A sends bursts
of 30 ISUP MSUs (every SLS) to B, which S receives, routes and sends on (MTP2 + MTP3 both
ways).  The figure is the process CPU per MSU of the whole path A -> S -> B; the same burst on a
direct link A -> B is measured in the same run, and the difference is what the transfer point
adds.  No peer: libss7 2.0 has no transfer function.
"""

from __future__ import annotations

import time

from core.bench import BenchResult
from core.clock import VirtualClock
from ss7.mtp3_codec import SI_ISUP
from ss7.stack import MemoryWire, Ss7Node, connect

ROUNDS = 3
ANM = bytes((0x01, 0x00, 0x09, 0x00))  # CIC 1, ANM, no optional part (Q.763)
A, B, S = 1, 2, 5


def path_nodes(through_stp: bool) -> tuple[VirtualClock, Ss7Node, Ss7Node]:
    clock = VirtualClock()
    a, b = Ss7Node(clock, A), Ss7Node(clock, B)
    nodes = [a, b]
    if through_stp:
        s = Ss7Node(clock, S, stp=True)
        a.mtp3.add_route(B, [S])
        b.mtp3.add_route(A, [S])
        connect(a, s, 0, MemoryWire(clock))
        connect(s, b, 0, MemoryWire(clock))
        nodes.append(s)
    else:
        connect(a, b, 0, MemoryWire(clock))
    for n in nodes:
        n.start()
    clock.advance(3)
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: None  # the user part is not measured
    return clock, a, b


def us_per_msu(msus: int, through_stp: bool) -> float:
    clock, a, b = path_nodes(through_stp)
    sent = 0
    t0 = time.process_time()
    while sent < msus:
        for sls in range(30):
            a.mtp3.transfer(SI_ISUP, B, sls & 0x0F, ANM)
        clock.advance(0.01)
        sent += 30
    return (time.process_time() - t0) * 1e6 / sent


def stp_transfer(quick: bool) -> BenchResult:
    """Best of ``ROUNDS`` runs each way, interleaved (other processes only add time)."""
    msus = 3000 if quick else 15000
    via, direct = [], []
    for _ in range(ROUNDS):
        via.append(us_per_msu(msus, True))
        direct.append(us_per_msu(msus, False))
    ours, base = min(via), min(direct)
    return BenchResult("stp_transfer", round(ours, 2), "us_per_msu", None, None, [
        f"A -> STP -> B, MTP2 + MTP3 of all three nodes, CPU per MSU, best of {ROUNDS} runs of "
        f"{msus} MSUs in bursts of 30",
        f"direct A -> B in the same run: {base:.2f} us per MSU, so the transfer point adds "
        f"{ours - base:.2f} us per MSU (one core: about {1e6 / max(ours - base, 1e-9):.0f} "
        f"MSUs/s through an STP)",
        "no peer: libss7 2.0 has no transfer function"])


BENCHES = [stp_transfer]
