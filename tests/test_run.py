"""`cti run CONFIG` as a real process: the control API answers `cti spans|links|agents|calls`
and places a call that the kernel's dial plan routes to the demo IVR (real-time clock)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from cti.client import Client

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(os.path.dirname(HERE), "examples", "lab-sim.toml")


@pytest.fixture
def kernel_process(tmp_path):
    state = tmp_path / "state.json"
    proc = subprocess.Popen([sys.executable, "-m", "cti", "run", EXAMPLE, "--seconds", "90",
                             "--state", str(state)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        if state.exists() and state.stat().st_size:
            break
        if proc.poll() is not None:
            pytest.fail(proc.stderr.read())
        time.sleep(0.1)
    yield proc, str(state), tmp_path
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def cti(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cti", *args], capture_output=True, text=True,
                          timeout=60)


def test_status_commands_and_a_call_through_the_api(kernel_process):
    proc, state, tmp = kernel_process
    time.sleep(3)  # frame alignment and links up
    spans = json.loads(cti("spans", "--json", "--state", state).stdout)
    assert set(spans) == {"pstn:1", "pstn:2", "pstn:3", "cc:1", "cc:2", "cc:3"}
    assert all(s["alarms"] == [] for s in spans.values())
    links = json.loads(cti("links", "--json", "--state", state).stdout)
    assert {t["type"] for t in links.values()} == {"isdn", "ss7", "r2"}
    agents = json.loads(cti("agents", "--json", "--state", state).stdout)
    assert [a["name"] for a in agents] == ["alice", "bob", "carol", "dave"]
    assert cti("calls", "--state", state).stdout.strip() == "no active calls"
    groups = json.loads(cti("groups", "--json", "--state", state).stdout)
    assert groups["cc-out"]["hunt"] == "last" and groups["cc-out"]["counters"]["attempts"] == 0
    assert "hunt=last" in cti("groups", "--state", state).stdout

    with open(state) as f:
        st = json.load(f)

    async def call():
        async with Client(st["url"], st["token"]) as c:
            await c.call("subscribe", topics=["calls"])
            cid = await c.call("call.dial", trunk="pstn-pri", dnis="4000", ani="0755123")
            events = []
            while len(events) < 2:
                ev = await asyncio.wait_for(c.events.get(), 20)
                if ev["data"]["dnis"] == "4000" and ev["data"]["direction"] == "in":
                    events.append(ev["event"])
            calls = await c.call("calls")
            await c.call("call.drop", call=cid, cause=16)
            bad = None
            try:
                await c.call("call.drop", call=99999)
            except Exception as e:
                bad = e
            return cid, events, calls, bad

    cid, events, calls, bad = asyncio.run(call())
    assert events[0] == "calls.offered"
    assert any(c["id"] == cid for c in calls)
    assert bad is not None and "no active call" in str(bad)


def test_no_kernel_is_a_usage_error(tmp_path):
    r = cti("spans", "--state", str(tmp_path / "none.json"))
    assert r.returncode == 2 and "no running kernel" in r.stderr


def test_config_error_names_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[board]]\nname = "x"\ntype = "sim"\nframing = "crc5"\n')
    r = cti("run", str(bad))
    assert r.returncode == 2
    assert f"{bad}:4: key 'board[0].framing'" in r.stderr
