"""`cti diag alarms|counters` and `cti status` against a running kernel, through its
control API (no board opened by the CLI): a runtime from examples/lab-sim.toml runs in real
time in a thread, with loss of signal on one cable and bit errors on another."""

from __future__ import annotations

import asyncio
import json

import pytest
from desk_rig import EXAMPLE

from cti.cli import main
from cti.config import Config
from cti.runtime import Runtime
from tests.kernel_rig import api_kernel


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("diag")
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(tmp / "crm.db")
    cfg.data["cable"][1]["impair"] = "los"  # pstn:2 - cc:2
    cfg.data["cable"][2]["impair"] = "ber=1e-3"  # pstn:3 - cc:3
    rt = Runtime(cfg, virtual=False)
    state = str(tmp / "state.json")

    async def aligned():
        for _ in range(300):  # frame alignment of the clean spans (real time, maybe loaded)
            if not any(rt.spans[n].status().alarms for n in ("cc:1", "pstn:1")):
                break
            await asyncio.sleep(0.1)

    with api_kernel(rt, state, aligned) as st:
        yield st["url"], st["token"], state
    rt.close()


def cli(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_alarms_of_every_span_through_the_api(kernel, capsys):
    url, token, _ = kernel
    status, out, _ = cli(capsys, "diag", "alarms", "--api", url, "--token", token, "--json")
    doc = json.loads(out)
    assert status == 0
    assert set(doc) == {"pstn:1", "pstn:2", "pstn:3", "cc:1", "cc:2", "cc:3"}
    assert "LOS" in doc["cc:2"]["alarms"] and "LOS" in doc["pstn:2"]["alarms"]
    assert doc["cc:1"]["alarms"] == [] and doc["pstn:1"]["alarms"] == []
    assert set(doc["cc:1"]["counters"]) == {"crc4_errors", "ebit_errors", "fas_errors",
                                            "slips", "bpv"}
    status, out, _ = cli(capsys, "diag", "alarms", "--api", url, "--token", token)
    assert "LOS" in next(line for line in out.splitlines() if line.startswith("cc:2"))


def test_counters_grow_over_seconds_from_the_state_file(kernel, capsys):
    _, _, state = kernel
    status, out, _ = cli(capsys, "diag", "counters", "--state", state, "--span", "cc:3",
                         "--seconds", "1.5", "--json")
    doc = json.loads(out)
    assert status == 0 and list(doc) == ["cc:3"] and "alarms" not in doc["cc:3"]
    assert doc["cc:3"]["delta"]["crc4_errors"] > 0  # bit errors at 1e-3 break CRC-4 blocks
    assert doc["cc:3"]["counters"]["crc4_errors"] >= doc["cc:3"]["delta"]["crc4_errors"]


def test_span_view_status_and_errors(kernel, capsys):
    url, token, state = kernel
    status, out, _ = cli(capsys, "status", "--state", state, "--json")
    doc = json.loads(out)
    assert status == 0 and {"stats", "spans", "links", "calls", "agents", "queues"} <= set(doc)
    status, out, _ = cli(capsys, "status", "--state", state)
    assert "in alarm: " in out and "cc:2 (" in out
    with pytest.raises(SystemExit) as e:  # usage error: not a kernel view
        main(["diag", "bert", "--api", url, "--token", token])
    assert e.value.code == 2
    capsys.readouterr()
    assert cli(capsys, "diag", "alarms", "--api", url, "--token", token,
               "--span", "nope:9")[0] == 2
    assert cli(capsys, "diag", "alarms", "--api", url, "--token", "wrong")[0] == 1
    assert cli(capsys, "diag", "alarms", "--api", url, "--token", token, "--sim")[0] == 2
