"""`cti lab` end to end on the virtual clock: the report adds up and every call ends."""

from __future__ import annotations

import csv
import json

from cti.cli import main


def test_lab_report_adds_up_over_every_trunk_type(capsys, tmp_path):
    cdr = tmp_path / "calls.csv"
    status = main(["lab", "--calls", "12", "--agents", "3", "--seed", "7", "--json",
                   "--cdr", str(cdr)])
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and report["errors"] == []
    calls = report["calls"]
    assert calls["offered"] == 12
    assert calls["answered"] + calls["abandoned"] + calls["failed"] == calls["offered"]
    assert calls["answered"] > 0
    for kind in ("isdn", "ss7", "r2"):
        row = report["by_trunk"][kind]
        assert row["offered"] == 4
        assert row["answered"] + row["abandoned"] + row["failed"] == row["offered"]
    assert sum(row["offered"] for row in report["by_trunk"].values()) == 12
    assert sum(a["handled"] for a in report["agents"]) == calls["answered"]
    for q in report["queues"].values():
        assert set(q) >= {"service_level", "abandon_rate", "avg_wait_s"}
    with open(cdr) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == report["cdr"]["records"] == 12
    assert {r["trunk"] for r in rows} == {"isdn", "ss7", "r2"}


def test_lab_usage_errors(capsys):
    assert main(["lab", "--calls", "0"]) == 2
    assert main(["lab", "--trunks", "sip"]) == 2
    assert "unknown trunk type" in capsys.readouterr().err


def test_lab_api_offers_the_runtimes_operations(tmp_path):
    """`cti lab --realtime` opens the same operations as `cti run` (cti/operations.py)."""
    from cti.lab import Lab, LabOptions

    lab = Lab(LabOptions(calls=0, agents=2, cdr_path=str(tmp_path / "calls.csv")))
    try:
        api = lab.kernel.run(lab.open_api())
        assert {"call.dial", "call.drop", "call.hold", "call.transfer", "call.consult",
                "call.answer", "agent.login", "supervisor.barge", "crm.lookup",
                "calls", "spans"} <= set(api.ops)
        lab.kernel.run(api.stop())
    finally:
        lab.close()


def test_lab_over_china_tup(capsys):
    """`cti lab --trunks tup`: the calls come in over China TUP trunks (24-bit point codes)."""
    assert main(["lab", "--calls", "6", "--agents", "6", "--trunks", "tup", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["by_trunk"]["tup"]["answered"] == 6
    assert report["signalling"]["cc-tup"]["offered"] == 6
