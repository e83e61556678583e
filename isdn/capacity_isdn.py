"""``cti bench`` capacity figure for ISDN: CPU per call setup + clearing.

Ours: a network and a user stack back to back on an in-memory D-channel on the virtual
clock (LAPD + Q.931 both ends, en-bloc SETUP / CALL PROCEEDING / ALERTING / CONNECT /
CONNECT ACK, DISCONNECT / RELEASE / RELEASE COMPLETE, every I frame acknowledged),
10 calls in progress at a time.  The clock jumps straight to the next deadline (a frame
delivery or a timer), so the figure is the stacks' work plus the clock's heap and the
few harness lines that place calls and count clearings.

Peer: two libpri instances doing the same calls in one process
(``tests/isdn_peer/pri_pair.c``, compiled here when gcc and libpri are present), over
in-process frame queues through ``pri_new_cb()`` callbacks (no system call per frame);
the same pair over a SOCK_SEQPACKET socketpair is reported in a note.  Every figure is
CPU time of both ends per call.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from core.bench import BenchResult, cpu_seconds
from core.clock import VirtualClock
from isdn.q931 import Event
from isdn.stack import memory_pair

D_CHANNEL_CALLS_PER_S = 73.0  # a 64 kbit/s D-channel carrying these calls is full at ~73/s
PAIR_SOURCE = Path(__file__).resolve().parents[1] / "tests" / "isdn_peer" / "pri_pair.c"


class _Traffic:
    """Drives calls through a stack pair: the network answers, the user clears."""

    def __init__(self, concurrent: int = 10):
        self.clock = VirtualClock()
        self.concurrent = concurrent
        self.net, self.user = memory_pair(self.clock, on_event_network=self._net_event,
                                          on_event_user=self._user_event)
        self.clock.advance(0.05)
        self.done = self.active = self.placed = 0

    def _net_event(self, ev: Event) -> None:
        if ev.kind == "offered":
            ev.call.proceed()
            ev.call.alert()
            ev.call.answer()

    def _user_event(self, ev: Event) -> None:
        if ev.kind == "connected":
            ev.call.hangup()
        elif ev.kind == "released":
            self.done += 1
            self.active -= 1

    def run(self, calls: int) -> None:
        target = self.done + calls
        placed = 0
        while self.done < target:
            while self.active < self.concurrent and placed < calls:
                # numbers differ per call, as in real traffic (no element cache hits)
                self.placed += 1
                self.user.place_call(f"4{self.placed % 100000:05d}",
                                     f"02{self.placed % 10000000:08d}")
                self.active += 1
                placed += 1
            self.clock.run_until(self.clock.next_deadline())


def ours_us_per_call(calls: int) -> tuple[float, float]:
    """(CPU us per call of both stacks, frames per call on the wire both ways)."""
    traffic = _Traffic()
    traffic.run(calls)  # warm the caches of elements and octets
    wires = (traffic.net.transport, traffic.user.transport)
    frames0, done0 = sum(w.frames for w in wires), traffic.done
    per_run, _ = cpu_seconds(lambda: traffic.run(calls), min_time=0.3)
    frames = (sum(w.frames for w in wires) - frames0) / (traffic.done - done0)
    return per_run / calls * 1e6, frames


def libpri_us_per_call(calls: int, transport: str = "mem") -> tuple[float | None, str]:
    """CPU per call of the libpri pair; ``transport`` is ``mem`` (in-process queues) or
    ``sock`` (a socketpair, one send/recv/poll per frame)."""
    if shutil.which("gcc") is None or not Path("/usr/include/libpri.h").exists():
        return None, "libpri not installed (libpri-dev): peer figure missing"
    if not PAIR_SOURCE.exists():
        return None, f"{PAIR_SOURCE} not found (source checkout needed for the libpri pair)"
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "pri_pair"
        build = subprocess.run(["gcc", "-std=c99", "-D_DEFAULT_SOURCE", "-O2", "-o", str(exe),
                                str(PAIR_SOURCE), "-lpri"], capture_output=True, text=True)
        if build.returncode:
            return None, f"pri_pair did not build: {build.stderr.strip()[:200]}"
        out = subprocess.run([str(exe), str(calls), "10", transport], capture_output=True,
                             text=True, timeout=120).stdout
    m = re.search(r"frames (\d+) cpu_us_per_call ([0-9.]+)", out)
    if not m:
        return None, f"pri_pair gave no figure: {out[:200]}"
    where = "in-process queues" if transport == "mem" else "a socketpair (syscalls included)"
    return float(m.group(2)), (f"libpri pair over {where}: {float(m.group(2)):.1f} us/call, "
                               f"{int(m.group(1)) / calls:.1f} frames/call")


def bench_isdn_call(quick: bool) -> BenchResult:
    calls = 200 if quick else 2000
    ours, frames = ours_us_per_call(calls // 4)
    peer, note = libpri_us_per_call(calls * 10)  # libpri is fast: more calls, less noise
    _, sock_note = libpri_us_per_call(calls * 10, "sock")
    both_ends = 1e6 / ours / D_CHANNEL_CALLS_PER_S
    one_end = 2 * both_ends  # a deployment runs one side of each D-channel
    return BenchResult(
        "isdn_call", round(ours, 1), "us_per_call", peer="libpri", peer_value=peer,
        notes=[note, sock_note,
               f"ours: network + user stack (LAPD + Q.931) in one process, virtual clock, "
               f"{frames:.1f} frames/call",
               f"one core drives about {one_end:.0f} fully loaded D-channels "
               f"({D_CHANNEL_CALLS_PER_S:.0f} call setups+clearings/s each, one side of each; "
               f"{both_ends:.0f} with both sides in-process)"])


BENCHES = [bench_isdn_call]
