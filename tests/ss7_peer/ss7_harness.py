"""Our SS7 node wired to a libss7 peer process over hdlc-sockets (used by test_ss7_libss7.py).

The peer (tests/ss7_peer/ss7_peer.c) is compiled once into a cache directory with gcc -lss7.
"""

from __future__ import annotations

import hashlib
import os
import select
import subprocess
import time
from pathlib import Path

from core.clock import RealClock
from core.hdlcsock import HdlcSocket
from ss7.isup import IsupListener
from ss7.stack import HdlcSocketPort, Ss7Node
from ss7.trace import LinkTracer

PEER_SRC = Path(__file__).parent / "ss7_peer.c"
CACHE = Path(os.environ.get("CTI_TEST_CACHE", Path.home() / ".cache" / "ctikernel-tests"))


def build_peer() -> Path:
    src = PEER_SRC.read_bytes()
    exe = CACHE / f"ss7_peer-{hashlib.sha1(src).hexdigest()[:12]}"
    if not exe.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = exe.with_suffix(".tmp")
        subprocess.run(["gcc", "-std=gnu99", "-O1", "-o", str(tmp), str(PEER_SRC), "-lss7"],
                       check=True, capture_output=True)
        tmp.rename(exe)
    return exe


class Recorder(IsupListener):
    """Records our ISUP events; answers automatically when ``auto`` is set."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.auto = False

    def on_setup(self, call) -> None:
        self.events.append(("setup", call.cic, call.called, call.calling, call.presentation))
        if self.auto:
            call.accept()
            call.answer()

    def on_alerting(self, call) -> None:
        self.events.append(("alerting", call.cic))

    def on_answer(self, call) -> None:
        self.events.append(("answer", call.cic))

    def on_release(self, call, cause: int) -> None:
        self.events.append(("release", call.cic, cause))

    def on_idle(self, call) -> None:
        self.events.append(("idle", call.cic))

    def on_reset(self, cics) -> None:
        self.events.append(("reset", tuple(cics)))

    def on_blocking(self, cic: int, local: bool, remote: bool) -> None:
        self.events.append(("blocking", cic, local, remote))

    def on_glare(self, call) -> None:
        self.events.append(("glare", call.cic))

    def on_confusion(self, cic: int, cause: int) -> None:
        self.events.append(("cfn", cic, cause))


class Libss7Pair:
    """Our node (point code ``our_pc``) and a libss7 peer (``peer_pc``) on ``nlinks`` links."""

    def __init__(self, tmp: Path, nlinks: int = 1, our_pc: int = 1, peer_pc: int = 2,
                 cics: range = range(1, 31)):
        self.clock = RealClock()
        self.rec = Recorder()
        self.pcap = tmp / "libss7.pcap"
        self.tracer = LinkTracer(str(self.pcap), self.clock)
        self.node = Ss7Node(self.clock, our_pc, isup_listener=self.rec, tracer=self.tracer,
                            mtp3_timers={"SLT_T1": 4.0})
        self.node.isup.add_circuits(peer_pc, cics)
        self.peer_pc = peer_pc
        self.ports: list[HdlcSocketPort] = []
        theirs = []
        for slc in range(nlinks):
            ours, other = HdlcSocket.pair()
            port = HdlcSocketPort(ours)
            link = self.node.add_link(peer_pc, slc, port.send)
            port.attach(link.mtp2.receive)
            self.ports.append(port)
            theirs.append(other)
        fds = [s.fileno() for s in theirs]
        self.log = open(tmp / "libss7.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen([str(build_peer()), str(peer_pc), str(our_pc),
                                      *map(str, fds)], pass_fds=fds, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log)
        for s in theirs:
            s.close()
        self.lines: list[str] = []
        self._buf = b""
        self.node.start()

    def cmd(self, line: str) -> None:
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def run(self, seconds: float, until=None) -> bool:
        """Drive both sides for up to ``seconds``; stop early when ``until()`` is true."""
        end = time.monotonic() + seconds
        out = self.proc.stdout.fileno()
        while time.monotonic() < end:
            if until is not None and until():
                return True
            d = self.clock.next_deadline()
            wait = 0.02 if d is None else max(0.0, min(0.02, d - self.clock.time()))
            r, _, _ = select.select([p.sock.fileno() for p in self.ports] + [out], [], [], wait)
            for p in self.ports:
                if p.sock.fileno() in r:
                    p.poll()
            if out in r:
                chunk = os.read(out, 65536)
                if not chunk:
                    break
                self._buf += chunk
                *done, self._buf = self._buf.split(b"\n")
                self.lines.extend(x.decode() for x in done)
            self.clock.run_due(self.clock.time())
        return until() if until is not None else True

    def saw(self, prefix: str) -> bool:
        return any(line.startswith(prefix) for line in self.lines)

    def close(self) -> None:
        try:
            self.cmd("quit")
        except BrokenPipeError:
            pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for p in self.ports:
            p.sock.close()
        self.tracer.close()
        self.log.close()
