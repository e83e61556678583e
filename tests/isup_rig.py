"""Two ISUP signalling points (1 and 2) on one in-memory link, aligned and restarted, with
the MSUs one of them sends recorded: the rig of the ISUP procedure tests."""

from __future__ import annotations

from ss7.stack import MemoryWire, Ss7Node, connect


def isup_pair(clock, ra, rb, circuits: int, tapped: str, variant: str = "itu"):
    """(a, b, sent): nodes with listeners ``ra``/``rb`` and CICs 1..``circuits`` toward
    each other; ``sent`` lists the SIFs node ``tapped`` ("a" or "b") sends after alignment."""
    a = Ss7Node(clock, 1, isup_listener=ra, variant=variant)
    b = Ss7Node(clock, 2, isup_listener=rb, variant=variant)
    a.isup.add_circuits(2, range(1, circuits + 1))
    b.isup.add_circuits(1, range(1, circuits + 1))
    sent: list[bytes] = []
    node = a if tapped == "a" else b
    orig = node.mtp3.transfer

    def tap(si, dpc, sls, data, priority=0):
        sent.append(data)
        return orig(si, dpc, sls, data, priority)
    node.mtp3.transfer = tap
    connect(a, b, 0, MemoryWire(clock, 0.001))
    a.start()
    b.start()
    clock.advance(2)
    sent.clear()
    return a, b, sent
