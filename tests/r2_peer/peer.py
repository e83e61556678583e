"""Build the openr2 peer and drive it against an :class:`r2.call.R2Channel` in lockstep.

Each 20 ms tick: our channel's ABCD nibble, register signal and 160 A-law octets go to the
peer; the peer's come back (plus openr2 events).  Our side runs on a VirtualClock advanced
by the same 20 ms, so both ends see the same time and every run is deterministic.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from typing import Any

from core.clock import VirtualClock
from r2.call import R2Channel

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "r2_peer.c")
TICK = 0.020
BLOCK = 160
SILENCE = b"\xd5" * BLOCK


def dahdi_include() -> str | None:
    for d in sorted(glob.glob("/usr/src/dahdi*/include")) + ["/usr/include"]:
        if os.path.exists(os.path.join(d, "dahdi", "user.h")):
            return d
    return None


def build(outdir: str | None = None) -> str:
    """Compile r2_peer.c against libopenr2 (cached by source mtime); path of the binary."""
    inc = dahdi_include()
    if inc is None:
        raise FileNotFoundError("dahdi/user.h not found (dahdi-source or dahdi-dkms)")
    outdir = outdir or os.path.join(tempfile.gettempdir(), f"ctikernel-r2peer-{os.getuid()}")
    os.makedirs(outdir, exist_ok=True)
    exe = os.path.join(outdir, "r2_peer")
    if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(SOURCE):
        return exe
    gcc = shutil.which("gcc") or "cc"
    tmp = exe + f".{os.getpid()}"
    subprocess.run([gcc, "-std=c99", "-O1", "-Wall", "-Wextra", f"-I{inc}", SOURCE, "-o", tmp,
                    "-lopenr2"], check=True, capture_output=True)
    os.replace(tmp, exe)
    return exe


class Peer:
    """One running r2_peer process."""

    def __init__(self, exe: str, *args: str):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen([exe, str(theirs.fileno()), *args],
                                     pass_fds=(theirs.fileno(),), stderr=subprocess.PIPE)
        theirs.close()
        self.sock.settimeout(10)
        self.events: list[tuple[int, str]] = []
        self.abcd = 0x9
        self.mf = 0
        self.audio = SILENCE
        self.ticks = 0

    def tick(self, abcd: int, mf: int, audio: bytes) -> list[str]:
        self.sock.send(b"T" + bytes((abcd, mf)) + audio)
        self.ticks += 1
        new = []
        while True:
            pkt = self.sock.recv(1024)
            if not pkt:
                raise EOFError(self.stderr())
            if pkt[:1] == b"E":
                text = pkt[1:].decode(errors="replace")
                self.events.append((self.ticks, text))
                new.append(text)
            elif pkt[:1] == b"R":
                self.abcd, self.mf, self.audio = pkt[1], pkt[2], pkt[3:]
                return new

    def names(self) -> list[str]:
        return [t.split()[0] for _, t in self.events if not t.startswith("log")]

    def find(self, name: str) -> str | None:
        for _, t in self.events:
            if t.split()[0] == name:
                return t
        return None

    def stderr(self) -> str:
        try:
            self.sock.send(b"Q")
        except OSError:
            pass
        try:
            _, err = self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return (err or b"").decode(errors="replace")

    def close(self) -> None:
        self.stderr()
        self.sock.close()


class Harness:
    """Our R2Channel and the openr2 peer on one E1 circuit, ticking together.

    ``media`` is None for symbolic MF (register signals exchanged as numbers) or an object with
    ``tx(signal, sender) -> None``, ``audio() -> bytes`` (our next 160 octets) and
    ``rx(audio) -> list[int]`` (detected signal changes, 0 = off) for real MF-R2 tones.
    """

    def __init__(self, exe: str, variant: str, peer_args: list[str],
                 on_event: Callable[[R2Channel, str, dict], None] | None = None,
                 media: Any = None, **chan_opts: Any):
        self.clock = VirtualClock()
        self.events: list[tuple[str, dict]] = []
        self.tx_abcd = 0x9
        self.tx_mf = 0
        self.media = media
        self._peer_mf = 0
        self._peer_abcd: int | None = None
        self._on_event = on_event

        def cas_tx(abcd: int) -> None:
            self.tx_abcd = abcd

        def mf_tx(sig: int, sender: str) -> None:
            self.tx_mf = sig
            if media is not None:
                media.tx(sig, sender)

        def ev(name: str, fields: dict) -> None:
            self.events.append((name, fields))
            if self._on_event:
                self._on_event(self.chan, name, fields)

        self.chan = R2Channel(self.clock, variant, 1, cas_tx=cas_tx, mf_tx=mf_tx, on_event=ev,
                              **chan_opts)
        args = ["--variant", variant.upper()] + peer_args
        if media is None:
            args.append("--symbolic-mf")
        self.peer = Peer(exe, *args)

    def step(self) -> None:
        audio = self.media.audio() if self.media is not None else SILENCE
        self.peer.tick(self.tx_abcd, 0 if self.media is not None else self.tx_mf, audio)
        self.clock.advance(TICK)
        if self.peer.abcd != self._peer_abcd:
            self._peer_abcd = self.peer.abcd
            self.chan.on_cas(self.peer.abcd)
        if self.media is None:
            if self.peer.mf != self._peer_mf:
                self._peer_mf = self.peer.mf
                self.chan.on_mf(self.peer.mf)
        else:
            for sig in self.media.rx(self.peer.audio):
                self.chan.on_mf(sig)

    def run(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        for _ in range(int(round(seconds / TICK))):
            self.step()
            if until is not None and until():
                return

    def names(self) -> list[str]:
        return [n for n, _ in self.events]

    def last(self, name: str) -> dict:
        return [f for n, f in self.events if n == name][-1]

    def close(self) -> None:
        self.peer.close()


class ToneMedia:
    """Real MF-R2 tones for one channel: our tone generator out, our detector in."""

    def __init__(self, detect: str, law: str = "alaw"):
        import numpy as np

        from timeslot.r2mf import R2MfDetector
        from timeslot.tonegen import ToneGenerator

        self._np = np
        self.gen = ToneGenerator(1, law)
        self.det = R2MfDetector(1, direction=detect, law=law)

    def tx(self, signal: int, sender: str) -> None:
        if signal:
            self.gen.mf(0, signal, sender)
        else:
            self.gen.stop(0)

    def audio(self) -> bytes:
        return self.gen.generate(frames=BLOCK)[0].tobytes()

    def rx(self, audio: bytes) -> list[int]:
        block = self._np.frombuffer(audio, self._np.uint8).reshape(1, BLOCK).copy()
        return [ev.value if ev.end < 0 else 0 for ev in self.det.process(block)]
