"""Tracing a running kernel's trunks to pcap: the ISDN D-channel (LINKTYPE_LINUX_LAPD) and SS7
links (LINKTYPE_MTP2_WITH_PHDR) of a runtime, from the configuration (`trunk.trace`) and at
run time through the control API's ``trunk.trace``; the files read back with `cti decode`
and tshark, with wall-clock timestamps."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time

import pytest

from cti.api import ApiError
from cti.calls import Call, CallState
from cti.cli import main
from cti.config import Config
from cti.runtime import Runtime

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "lab-sim.toml")


@pytest.fixture
def rt(tmp_path):
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(tmp_path / "crm.db")
    cfg.data["trunk"][0]["trace"] = str(tmp_path / "pstn-pri.pcap")  # from the start
    rt = Runtime(cfg, virtual=True)
    yield rt
    rt.close()


def _call_through(rt, trunk: str) -> Call:
    async def scenario():
        out = Call(trunk=rt.trunks[trunk], direction="out", dnis="4000", ani="0212345678",
                   clock=rt.kernel.now)
        out.dial()
        await out.wait(CallState.CONNECTED, timeout=10)
        out.drop(16)
        await out.wait(CallState.RELEASED, timeout=10)
        return out
    return rt.kernel.run(scenario())


def _decoded(capsys, path) -> list[dict]:
    assert main(["decode", str(path), "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_trace_from_the_configuration_and_at_run_time(rt, tmp_path, capsys):
    rt.kernel.run_for(3.0)  # links up (the ISDN trace starts with SABME/UA)
    isup_pcap = tmp_path / "isup.pcap"
    assert rt.ops.trunk_trace("pstn-isup", str(isup_pcap)) == {"trunk": "pstn-isup",
                                                                "tracing": str(isup_pcap)}
    assert rt.trunks["pstn-isup"].status()["trace"] == str(isup_pcap)
    start = time.time()
    _call_through(rt, "pstn-pri")
    _call_through(rt, "pstn-isup")
    assert rt.ops.trunk_trace("pstn-isup") == {"trunk": "pstn-isup", "tracing": None}
    rt.ops.trunk_trace("pstn-pri")
    q931 = [r for r in _decoded(capsys, tmp_path / "pstn-pri.pcap") if r["layer"] == "q931"]
    names = [r["message"] for r in q931]
    assert names[0] == "SETUP" and {"CONNECT", "RELEASE COMPLETE"} <= set(names)
    assert q931[0]["direction"] == "net->user" and q931[0]["fields"]["called"] == "4000"
    isup = [r["message"] for r in _decoded(capsys, isup_pcap) if r["layer"] == "isup"]
    assert isup[0] == "IAM" and {"CON", "REL", "RLC"} <= set(isup)  # answered at once: CON
    for r in q931:  # kernel clock + epoch: wall-clock seconds
        assert abs(r["time"] - start) < 120
    if shutil.which("tshark"):
        for path in (tmp_path / "pstn-pri.pcap", isup_pcap):
            out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e",
                                  "_ws.malformed"], capture_output=True, text=True,
                                 timeout=60).stdout
            assert out.strip("\n").split("\n") and not out.strip(), out


def test_trace_refusals(rt, tmp_path):
    for kw, code in (({"trunk": "nope"}, "not_found"),
                     ({"trunk": "pstn-isup", "path": 7}, "bad_params"),
                     ({"trunk": "pstn-isup", "path": str(tmp_path / "no" / "x.pcap")},
                      "failed")):
        with pytest.raises(ApiError) as e:
            rt.ops.trunk_trace(**kw)
        assert e.value.code == code
    assert rt.trunks["pstn-isup"].trace_path is None


def test_r2_trunk_traces_every_circuit_to_one_live_log(rt, tmp_path, capsys):
    """An R2 trunk's trace is the text log of :mod:`r2.trace` for all its circuits (each
    circuit's lines under its header), read back by `cti decode`; a station board has no
    signalling to trace."""
    rt.kernel.run_for(1.0)
    log = tmp_path / "pstn-r2.r2log"
    rt.ops.trunk_trace("pstn-r2", str(log))
    calls = [_call_through(rt, "pstn-r2") for _ in range(2)]
    rt.ops.trunk_trace("pstn-r2")
    records = _decoded(capsys, log)
    assert {r["circuit"] for r in records} >= {1} and all(r["layer"] == "r2" for r in records)
    assert sum(r["message"] == "offered" for r in records) == 0  # the PSTN side places them
    assert sum(r["message"] == "released" for r in records) == len(calls)
    assert any(r["message"].startswith("MF fwd") for r in records)
    with pytest.raises(ValueError, match="no signalling link"):
        rt.stations.trace(str(tmp_path / "x"))


def test_cti_trace_command_through_the_api(tmp_path, capsys):
    """`cti trace TRUNK FILE --seconds N` against a kernel serving its API (real time)."""
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(tmp_path / "crm.db")
    cfg.data["api"]["port"] = 0
    rt = Runtime(cfg, virtual=False)
    try:
        async def scenario():
            rt.kernel.start()
            api = await rt.start_api()
            pcap = tmp_path / "cli.pcap"
            status = await asyncio.to_thread(
                main, ["trace", "pstn-pri", str(pcap), "--seconds", "1", "--url", api.url,
                       "--token", api.token, "--json"])
            await api.stop()
            return status, pcap
        status, pcap = rt.kernel.run(scenario())
    finally:
        rt.close()
    assert status == 0
    assert json.loads(capsys.readouterr().out) == {"trunk": "pstn-pri", "tracing": None,
                                                   "written": str(pcap)}
    assert pcap.stat().st_size >= 24  # the pcap header at least
    assert main(["trace", "pstn-pri"]) == 2  # neither a file nor --stop
