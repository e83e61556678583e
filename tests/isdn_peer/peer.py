"""Build and drive ``pri_peer`` (a libpri D-channel) against one of our stacks.

The program is compiled once per source version into a cache directory; a
:class:`PriPeer` owns one process connected to an :class:`HdlcSocket` pair, and
:meth:`PriPeer.wait_for` pumps our stack (real-time clock) while waiting for an event
line from libpri.
"""

from __future__ import annotations

import hashlib
import os
import queue
import select
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from core.clock import RealClock
from core.hdlcsock import HdlcSocket

HERE = Path(__file__).resolve().parent


def build(name: str = "pri_peer") -> str | None:
    """Path of the compiled program, or None when gcc or libpri is missing."""
    src = HERE / f"{name}.c"
    if shutil.which("gcc") is None or not Path("/usr/include/libpri.h").exists():
        return None
    digest = hashlib.sha1(src.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("CTI_PEER_CACHE", Path(tempfile.gettempdir()) / "cti-peers"))
    cache.mkdir(parents=True, exist_ok=True)
    exe = cache / f"{name}-{digest}"
    if not exe.exists():
        tmp = exe.with_suffix(f".{os.getpid()}")
        subprocess.run(["gcc", "-std=c99", "-D_DEFAULT_SOURCE", "-O2", "-o", str(tmp), str(src),
                        "-lpri"], check=True, capture_output=True)
        os.replace(tmp, exe)
    return str(exe)


def require() -> str:
    """The compiled peer, or skip the test when libpri or gcc is missing."""
    import pytest
    from conftest import need_library
    need_library("pri")
    exe = build()
    if exe is None:
        pytest.skip("gcc or libpri headers missing")
    return exe


class PriPeer:
    """A libpri D-channel (``node`` "network" or "cpe") facing ``stack``; ``switch`` is
    libpri's switch type ("euroisdn" E1, "qsig", "ni2") and ``law`` the bearer capability
    layer 1 of the calls it places ("alaw", or "ulaw" on a T1); ``facility`` lets libpri
    send Facility IEs (supplementary service operations, e.g. a QSIG calling name);
    ``service`` turns on libpri's SERVICE message handling (B-channel maintenance)."""

    def __init__(self, exe: str, node: str, stack_factory, timers: dict[str, int] | None = None,
                 clock: RealClock | None = None, switch: str = "euroisdn", law: str = "alaw",
                 facility: bool = False, service: bool = False):
        self.clock = clock or RealClock()
        self.sock, raw = HdlcSocket.pair()
        args = [exe, str(raw.fileno()), node, f"switch={switch}", f"law={law}",
                f"facility={int(facility)}", f"service={int(service)}"] + [
            f"{k}={v}" for k, v in (timers or {}).items()]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     pass_fds=(raw.fileno(),), text=True, bufsize=1)
        raw.close()
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self._cursor = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.stack = stack_factory(self.clock, self.sock) if stack_factory else None
        self.drop_ours = False  # lose every frame we would receive (broken link)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            self._pump_once(min(0.005, max(0.0, end - time.monotonic())))
            if time.monotonic() >= end:
                return

    def _pump_once(self, timeout: float) -> None:
        r, _, _ = select.select([self.sock], [], [], timeout)
        if r:
            frames = self.sock.recv_all()
            if not self.drop_ours:
                self.stack.receive_frames(frames)
        self.clock.run_due(self.clock.time())

    def wait_for(self, prefix: str, timeout: float = 10.0) -> str:
        """Pump until libpri has printed a line starting with ``prefix`` after the last
        line returned; returns it."""
        return self._wait(prefix, timeout, lambda: self._pump_once(0.005))

    def _drain(self) -> None:
        try:
            while True:
                self.log.append(self.lines.get_nowait())
        except queue.Empty:
            pass

    def wait_line(self, prefix: str, timeout: float = 10.0) -> str:
        """Like :meth:`wait_for` but *without* pumping our stack (frames stay queued)."""
        return self._wait(prefix, timeout, lambda: time.sleep(0.002))

    def _wait(self, prefix: str, timeout: float, idle) -> str:
        end = time.monotonic() + timeout
        while True:
            self._drain()
            for i in range(self._cursor, len(self.log)):
                if self.log[i].startswith(prefix):
                    self._cursor = i + 1
                    return self.log[i]
            if time.monotonic() > end:
                raise TimeoutError(f"no {prefix!r} from libpri; seen {self.log[-15:]}")
            idle()

    def link_up(self) -> None:
        """Wait until libpri reports its data link up and our stack has it up too."""
        self.wait_for("UP")
        self.until(lambda: self.stack.link_up)

    def until(self, predicate, timeout: float = 10.0) -> None:
        """Pump until ``predicate()`` is true."""
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                self._drain()
                raise TimeoutError(f"condition not met; libpri said {self.log[-15:]}")
            self._pump_once(0.005)

    def close(self) -> None:
        try:
            self.send("quit")
        except (BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.sock.close()


class PriBus:
    """Several libpri basic access terminals (point-to-multipoint, automatic TEI) on one
    in-process S/T bus facing our network side: every frame we send reaches each terminal,
    each terminal's frames reach only us.  ``peers[i]`` is terminal i (its ``wait_for``
    pumps the whole bus)."""

    def __init__(self, exe: str, terminals: int, stack_factory):
        self.clock = RealClock()
        self.peers = [PriPeer(exe, "cpe-ptmp", None, clock=self.clock) for _ in range(terminals)]
        self.stack = stack_factory(self.clock, self)
        for peer in self.peers:
            peer.stack = self.stack
            peer._pump_once = self._pump_once

    def send(self, frame: bytes) -> None:
        for peer in self.peers:
            peer.sock.send(frame)

    def _pump_once(self, timeout: float) -> None:
        r, _, _ = select.select([p.sock for p in self.peers], [], [], timeout)
        for peer in self.peers:
            if peer.sock in r:
                self.stack.receive_frames(peer.sock.recv_all())
        self.clock.run_due(self.clock.time())

    def pump(self, seconds: float) -> None:
        self.peers[0].pump(seconds)

    def until(self, predicate, timeout: float = 10.0) -> None:
        self.peers[0].until(predicate, timeout)

    def close(self) -> None:
        for peer in self.peers:
            peer.close()


@contextmanager
def bri_bus(exe: str, terminals: int = 2):
    """``terminals`` libpri basic access terminals (automatic TEI) on one bus facing our
    MultipointNetwork, every data link established: yields (bus, recorder)."""
    from isdn.multipoint import MultipointNetwork
    from isdn_peer.helpers import Recorder
    rec = Recorder()
    bus = PriBus(exe, terminals, lambda clock, t: MultipointNetwork(clock, t, on_event=rec))
    try:
        for peer in bus.peers:
            peer.wait_for("UP")
        bus.until(lambda: sum(link.established for link in bus.stack.terminals.values())
                  == terminals)
        yield bus, rec
    finally:
        bus.close()


PEER_NODE = {"network": "cpe", "user": "network"}  # libpri's node facing our side
SIDES = list(PEER_NODE)  # our side in an interop test
# our variant -> libpri's switch type and the law of the calls it places (T1: mu-law)
SWITCHES = {"etsi": ("euroisdn", "alaw"), "qsig": ("qsig", "alaw"), "ni2": ("ni2", "ulaw")}


class StackPeers:
    """libpri peers, each facing one of our stacks (traced to ``VARIANT-SIDE.pcap`` in
    ``trace_dir``); closed together."""

    def __init__(self, exe: str, trace_dir: Path):
        self.exe, self.trace_dir = exe, trace_dir
        self.peers: list[PriPeer] = []

    def open(self, ours: str, variant: str = "etsi", *, switch: str = "euroisdn",
             law: str = "alaw", facility: bool = False, q931: dict | None = None,
             lapd: dict | None = None, peer_timers: dict | None = None):
        """A libpri peer of ``switch`` facing a new stack of ours (side ``ours``, our
        timer overrides ``q931`` / ``lapd``, libpri's ``peer_timers`` in ms), before its
        link is up (:meth:`PriPeer.link_up`); returns (peer, the stack's event recorder)."""
        from isdn.stack import Stack
        from isdn_peer.helpers import Recorder
        rec = Recorder()

        def factory(clock, sock):
            s = Stack(clock, ours, sock, variant=variant, on_event=rec, q931_timers=q931,
                      lapd_timers=lapd)
            s.trace_to(str(self.trace_dir / f"{variant}-{ours}.pcap"))
            s.start()
            return s
        peer = PriPeer(self.exe, PEER_NODE[ours], factory, peer_timers, switch=switch,
                       law=law, facility=facility)
        self.peers.append(peer)
        return peer, rec

    def close(self) -> None:
        for p in self.peers:
            p.close()
            if p.stack.tracer:
                p.stack.tracer.close()


def fixtures():
    """The interop tests' fixtures: ``pri_exe`` (the compiled peer, per module) and
    ``connect``: connect(variant, ours, facility=, q931=, lapd=, peer_timers=) -> (peer,
    stack, recorder, received) with the link established; ``received`` lists the names
    of the Q.931 messages our stack receives."""
    import pytest

    from isdn_peer.helpers import received_names

    @pytest.fixture(scope="module")
    def pri_exe():
        return require()

    @pytest.fixture
    def connect(pri_exe, tmp_path):
        peers = StackPeers(pri_exe, tmp_path)

        def make(variant: str, ours: str, **options):
            switch, law = SWITCHES[variant]
            peer, rec = peers.open(ours, variant, switch=switch, law=law, **options)
            received = received_names(peer.stack)
            peer.link_up()
            return peer, peer.stack, rec, received

        yield make
        peers.close()

    return pri_exe, connect
