"""``cti bench``: ISUP call setup + clearing through MTP2 + MTP3 + ISUP, side by side with libss7.

Ours: two :class:`ss7.stack.Ss7Node` in one process on an in-memory link (virtual clock), each
call IAM / ACM / ANM / REL / RLC plus the MTP2 acknowledgements, both ends' CPU counted.
Peer: two libss7 2.0 instances in one C process (``tests/ss7_peer/libss7_pair.c``, compiled with
gcc -lss7) over a SOCK_SEQPACKET socketpair.  The headline peer figure is its *user* CPU per call,
the part comparable to our in-memory link; user + system (the socket I/O libss7 2.0 cannot do
without, having no I/O callbacks) is given in the notes.  The peer runs many more calls than we
do (a few microseconds per call need a long run for getrusage to resolve them).
"""

from __future__ import annotations

import ctypes.util
import hashlib
import shutil
import subprocess
import time
from pathlib import Path

from core.bench import BenchResult
from core.clock import VirtualClock
from ss7.isup import IsupListener
from ss7.stack import MemoryWire, Ss7Node, connect

PAIR_SRC = Path(__file__).resolve().parent.parent / "tests" / "ss7_peer" / "libss7_pair.c"
CACHE = Path.home() / ".cache" / "ctikernel-bench"
# Q.703 at 64 kbit/s: one call moves 5 MSUs each way-ish (IAM ~40 octets, ACM/ANM/REL/RLC ~15)
# plus FISUs; the planning figure is about 143 calls/s per fully loaded link.
CALLS_PER_LINK = 143.0
ROUNDS = 3


class _Answer(IsupListener):
    def on_setup(self, call) -> None:
        call.accept()
        call.answer()


def _our_us_per_call(calls: int) -> float:
    clock = VirtualClock()
    a = Ss7Node(clock, 1)
    b = Ss7Node(clock, 2, isup_listener=_Answer())
    a.isup.add_circuits(2, range(1, 31))
    b.isup.add_circuits(1, range(1, 31))
    connect(a, b, 0, MemoryWire(clock))
    a.start()
    b.start()
    clock.advance(2)
    done = 0
    t0 = time.process_time()
    while done < calls:
        batch = [a.isup.setup(2, f"{5550000 + done + i}", "7654321") for i in range(30)]
        clock.advance(0.01)
        for c in batch:
            c.release(16)
        clock.advance(0.01)
        done += len(batch)
    return (time.process_time() - t0) * 1e6 / done


def _libss7_us_per_call(calls: int) -> tuple[float | None, float | None, str]:
    if ctypes.util.find_library("ss7") is None or shutil.which("gcc") is None:
        return None, None, "libss7 or gcc not installed"
    if not PAIR_SRC.exists():
        return None, None, f"{PAIR_SRC} not found (source checkout needed)"
    src = PAIR_SRC.read_bytes()
    exe = CACHE / f"libss7_pair-{hashlib.sha1(src).hexdigest()[:12]}"
    if not exe.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["gcc", "-std=gnu99", "-O2", "-o", str(exe), str(PAIR_SRC), "-lss7"],
                           capture_output=True, text=True)
        if r.returncode:
            return None, None, f"libss7 pair did not build: {r.stderr.strip()[:200]}"
    r = subprocess.run([str(exe), str(calls)], capture_output=True, text=True, timeout=120)
    words = r.stdout.split()
    if r.returncode or len(words) < 6:
        return None, None, f"libss7 pair failed: {r.stderr.strip()[:200]}"
    return float(words[3]), float(words[5]), ""


def isup_call(quick: bool) -> BenchResult:
    """Best of ``ROUNDS`` runs on each side (other processes on a shared host only add time)."""
    calls = 600 if quick else 3000
    peer_calls = 10000 if quick else 50000
    ours = min(_our_us_per_call(calls) for _ in range(ROUNDS))
    runs = [_libss7_us_per_call(peer_calls) for _ in range(ROUNDS)]
    done = [(u, t) for t, u, _ in runs if t is not None and u is not None]
    notes = [f"IAM/ACM/ANM/REL/RLC, both ends in one process, CPU per call, best of {ROUNDS} "
             f"runs of {calls} calls (libss7: of {peer_calls})",
             f"one core drives {1e6 / ours / CALLS_PER_LINK:.1f} fully loaded 64 kbit/s links "
             f"({CALLS_PER_LINK:.0f} calls/s each)"]
    if not done:
        notes.append(runs[0][2])
        return BenchResult("isup_call", round(ours, 2), "us_per_call", "libss7 (user CPU)",
                           None, notes)
    peer_user = min(u for u, _ in done)
    peer_total = min(t for _, t in done)
    notes.append(f"libss7 pair: {peer_user:.1f} us user CPU per call (the peer figure and "
                 f"ratio); {peer_total:.1f} us user+system with the socket I/O libss7 2.0 needs, "
                 f"ratio {peer_total / ours:.2f}x against that")
    return BenchResult("isup_call", round(ours, 2), "us_per_call", "libss7 (user CPU)",
                       round(peer_user, 2), notes)


BENCHES = [isup_call]
