"""The example configs: every one loads and builds; the two hdlc-socket examples answer
calls from the real peer libraries (libpri as a CPE, libss7 as the adjacent point) that
connect to a running `cti run` process."""

from __future__ import annotations

import glob
import os
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from cti.config import Config
from cti.runtime import Runtime

EXAMPLES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "examples", "*.toml")))


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_example_builds(path, tmp_path):
    cfg = Config.load(path)
    cfg.data["crm"]["path"] = str(tmp_path / "calls.csv")
    for t in cfg.data["trunk"]:
        if t["socket"]:
            t["socket"] = str(tmp_path / os.path.basename(t["socket"]))
    rt = Runtime(cfg, virtual=True)
    rt.kernel.run_for(0.5)
    assert rt.errors == [] and rt.kernel.errors == []
    rt.close()


class Kernel:
    """`cti run` on a copy of an example whose socket and records live in ``tmp``."""

    def __init__(self, example: str, tmp, sock_name: str):
        text = open(os.path.join(os.path.dirname(EXAMPLES[0]), example)).read()
        self.sock = str(tmp / sock_name)
        text = text.replace(f"/tmp/{sock_name}", self.sock)
        cfg = tmp / example
        cfg.write_text(text)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cti", "run", str(cfg), "--seconds", "120",
             "--state", str(tmp / "state.json")], cwd=tmp, stderr=subprocess.PIPE, text=True)
        for _ in range(300):
            if os.path.exists(self.sock):
                break
            time.sleep(0.05)

    def connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(self.sock)
        return s

    def close(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Peer:
    def __init__(self, argv: list[str], fds: list[int]):
        self.proc = subprocess.Popen(argv, pass_fds=fds, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, prefix: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in self.lines:
                if line.startswith(prefix):
                    self.lines.remove(line)
                    return line
            r, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if r:
                line = self.proc.stdout.readline()
                if not line:
                    break
                self.lines.append(line.strip())
        raise TimeoutError(f"no {prefix!r}; seen {self.lines[-10:]}")

    def close(self) -> None:
        try:
            self.send("quit")
            self.proc.wait(timeout=5)
        except (BrokenPipeError, subprocess.TimeoutExpired, ValueError):
            self.proc.kill()


def test_isdn_example_answers_a_libpri_call(tmp_path):
    from tests.isdn_peer.peer import build

    exe = build()
    if exe is None:
        pytest.skip("libpri or gcc missing (make test installs them)")
    k = Kernel("isdn-hdlc-socket.toml", tmp_path, "cti-pri.sock")
    s = k.connect()
    peer = Peer([exe, str(s.fileno()), "cpe"], [s.fileno()])
    s.close()
    try:
        peer.wait_for("UP")
        peer.send("call c1 1 4000 0212345678")
        peer.wait_for("ANSWER")
        hangup = peer.wait_for("HANGUP", timeout=15)
        assert hangup.split()[-1] == "16"  # the answer flow clears with normal clearing
    finally:
        peer.close()
        k.close()


def test_ss7_example_answers_a_libss7_call(tmp_path):
    from tests.ss7_peer.ss7_harness import build_peer

    if not os.path.exists("/usr/include/libss7.h"):
        pytest.skip("libss7 missing (make test installs it)")
    exe = str(build_peer())
    k = Kernel("ss7-hdlc-socket.toml", tmp_path, "cti-ss7.sock")
    s = k.connect()
    peer = Peer([exe, "1", "2", str(s.fileno())], [s.fileno()])
    s.close()
    try:
        peer.wait_for("UP", timeout=40)
        peer.send("call 5 4000 0212345678")
        peer.wait_for("CON 5")  # answered at once: CON, not ACM + ANM (Q.764 2.1.7)
        rel = peer.wait_for("REL 5", timeout=15)
        assert rel.split()[-1] == "16"
        peer.send("rlc 5")
    finally:
        peer.close()
        k.close()
