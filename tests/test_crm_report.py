"""`cti crm report`: statistics from the call records against hand-computed figures
(docs/statistics.md), consistency with the lab's own queue report, output formats and
errors."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.cdr import CdrWriter
from cti.cli import main
from cti.crm import CrmStore
from cti.stats import Record, RecordError, Thresholds, on_wall_clock, queue_figures

# (id, trunk, queue, agent, outcome, cause, offered, answered, agent_at, ended, wait, talk)
ROWS = [
    (1, "isdn", "sales", "alice", "answered", 16, 0, 1, 16, 136, 10, 120),
    (2, "isdn", "sales", "bob", "answered", 16, 60, 61, 96, 156, 30, 60),
    (3, "ss7", "sales", None, "abandoned", 16, 100, 101, None, 146, 40, None),
    (4, "ss7", "sales", None, "abandoned", 16, 200, 201, None, 204, 3, None),
    (5, "isdn", "support", "alice", "answered", 16, 280, 281, 286, 376, 5, 90),
    (6, "ss7", None, None, "failed", 17, 400, None, None, 402, None, None),  # user busy
    (7, "isdn", None, None, "failed", 34, 500, None, None, 501, None, None),  # no circuit
]
KEYS = ("id", "trunk", "queue", "agent", "outcome", "cause", "offered_at", "answered_at",
        "agent_at", "ended_at", "wait_s", "talk_s")


@pytest.fixture
def records(tmp_path):
    """The rows above written as the kernel writes them: CSV records and the CRM store."""
    store = CrmStore(str(tmp_path / "crm.db"))
    cdr = CdrWriter(str(tmp_path / "calls.csv"), store=store)
    for row in ROWS:
        cdr.write({"direction": "in", "ani": "021234", "dnis": "4000",
                   **dict(zip(KEYS, row, strict=True))})
    cdr.close()
    store.close()
    return tmp_path / "crm.db", tmp_path / "calls.csv"


def report(capsys, *args: str) -> dict:
    assert main(["crm", "report", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def named(rows: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows}


def test_queue_figures_by_hand(records, capsys):
    doc = report(capsys, "--db", str(records[0]))
    q = named(doc["queues"], "queue")
    sales = q["sales"]
    assert (sales["offered"], sales["answered"], sales["abandoned"]) == (4, 2, 2)
    assert sales["service_level"] == 0.25  # 1 answered within 20 s of 2 answered + 2 abandoned
    assert sales["abandon_rate"] == 0.5
    assert sales["asa_s"] == 20.0 and sales["avg_abandon_s"] == 21.5
    assert sales["aht_s"] == 90.0 and sales["longest_wait_s"] == 40.0
    assert q["support"]["service_level"] == 1.0 and q["support"]["asa_s"] == 5.0
    total = q["total"]
    assert total["offered"] == 5 and total["service_level"] == 0.4
    assert total["asa_s"] == 15.0 and total["aht_s"] == 90.0
    # short abandons (under 5 s) leave SL's denominator and the abandon rate
    sales = named(report(capsys, "--db", str(records[0]), "--short-abandon", "5")["queues"],
                  "queue")["sales"]
    assert (sales["abandoned"], sales["short_abandoned"]) == (1, 1)
    assert sales["service_level"] == 0.3333 and sales["abandon_rate"] == 0.3333
    assert sales["avg_abandon_s"] == 40.0
    # a tighter threshold
    sales = named(report(capsys, "--db", str(records[0]), "--sl", "30")["queues"],
                  "queue")["sales"]
    assert sales["service_level"] == 0.5 and sales["sl_s"] == 30.0


def test_agent_trunk_and_interval_figures_by_hand(records, capsys):
    doc = report(capsys, "--db", str(records[0]), "--from", "0", "--to", "600",
                 "--interval", "5m")
    agents = named(doc["agents"], "agent")
    assert agents["alice"] == {"agent": "alice", "handled": 2, "talk_s": 210.0,
                               "aht_s": 105.0, "queues": "sales,support"}
    assert agents["bob"]["handled"] == 1 and agents["bob"]["aht_s"] == 60.0
    trunks = named(doc["trunks"], "trunk")
    isdn, ss7 = trunks["isdn"], trunks["ss7"]
    assert (isdn["seizures"], isdn["answered"], isdn["asr"], isdn["ner"]) == (4, 3, 0.75, 0.75)
    # cause 17 (user busy) is effective for NER (E.425), not answered for ASR (E.411)
    assert (ss7["seizures"], ss7["answered"], ss7["asr"], ss7["ner"]) == (3, 2, 0.6667, 1.0)
    assert isdn["holding_s"] == 329.0 and isdn["erlangs"] == round(329 / 600, 4)
    assert ss7["holding_s"] == 52.0 and trunks["total"]["erlangs"] == round(381 / 600, 4)
    first, second = doc["intervals"]
    assert (first["start"], second["start"]) == (0, 300)
    assert (first["offered"], first["answered"], first["abandoned"], first["failed"]) == \
        (5, 3, 2, 0)
    assert first["service_level"] == 0.4
    # call 5 holds 280..376: 20 s in the first interval, 76 s in the second
    assert first["erlangs"] == round((136 + 96 + 46 + 4 + 20) / 300, 4)
    assert (second["offered"], second["failed"], second["service_level"]) == (2, 2, None)
    assert second["erlangs"] == round((76 + 2 + 1) / 300, 4)
    assert second["erlangs_by_trunk"] == {"isdn": round(77 / 300, 4),
                                          "ss7": round(2 / 300, 4)}
    assert doc["period"] == {"from": 0.0, "to": 600.0, "seconds": 600.0,
                             "from_label": "0:00:00", "to_label": "0:10:00"}


def test_csv_records_give_the_store_figures(records, capsys):
    db, calls = records
    a = report(capsys, "--db", str(db), "--interval", "1m")
    b = report(capsys, "--records", str(calls), "--interval", "1m")
    for key in ("queues", "agents", "trunks", "intervals", "period"):
        assert a[key] == b[key]


def test_time_range_selects_calls_by_offer(records, capsys):
    doc = report(capsys, "--db", str(records[0]), "--from", "60", "--to", "280",
                 "--by", "queue")
    assert set(doc) >= {"queues"} and "agents" not in doc
    assert named(doc["queues"], "queue")["sales"]["offered"] == 3  # calls 2, 3 and 4


def test_wall_clock_from_recorded_at(records, capsys):
    db = sqlite3.connect(records[0])
    db.execute("UPDATE calls SET recorded_at = '2026-11-22T08:00:00Z'")
    db.execute("UPDATE calls SET recorded_at = '2026-11-23T09:00:00Z' WHERE call_id = 7")
    db.commit()
    db.close()
    doc = report(capsys, "--db", str(records[0]), "--from", "2026-11-23", "--by", "trunk")
    assert doc["clock"] == "wall" and doc["calls"] == 1
    assert doc["period"]["from_label"] == "2026-11-23T00:00:00Z"
    # call 1 (offered 0, ended 136) recorded at 08:00:00 was offered 136 s before
    rec = Record.from_mapping({"offered_at": 0, "ended_at": 136,
                               "recorded_at": "2026-11-22T08:00:00Z"}, "row")
    assert on_wall_clock(rec, "row").offered_at == \
        on_wall_clock(rec, "row").ended_at - 136
    doc = report(capsys, "--db", str(records[0]), "--clock", "wall", "--by", "interval",
                 "--interval", "1h")
    assert doc["intervals"][0]["interval"] == "2026-11-22T07:00:00Z"


def test_table_csv_and_png(records, capsys, tmp_path):
    db = str(records[0])
    assert main(["crm", "report", "--db", db]) == 0
    out = capsys.readouterr().out
    for heading in ("[queues]", "[agents]", "[trunks]", "[intervals]", "ASA s", "ASR",
                    "erlangs", "note: AHT is talk time"):
        assert heading in out
    assert "25.0%" in out  # sales' service level
    assert main(["crm", "report", "--db", db, "--format", "csv", "--by", "trunk"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["trunk"] for r in rows] == ["isdn", "ss7", "total"]
    assert rows[0]["asr"] == "0.75"
    out_file = tmp_path / "q.csv"
    assert main(["crm", "report", "--db", db, "--format", "csv", "--out", str(out_file)]) == 0
    assert out_file.read_text().startswith("queue,offered,answered,abandoned")
    pytest.importorskip("matplotlib")
    chart = tmp_path / "chart.png"
    assert main(["crm", "report", "--db", db, "--format", "png", "--out", str(chart),
                 "--interval", "1m"]) == 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_matplotlib_fails_cleanly(records, capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["crm", "report", "--db", str(records[0]), "--format", "png",
                 "--out", str(tmp_path / "c.png")]) == 1
    assert "needs matplotlib" in capsys.readouterr().err


@pytest.mark.parametrize("args, status, message", [
    (["--db", "{tmp}/missing.db"], 2, "no such CRM store"),
    (["--db", "{tmp}/calls.csv"], 2, "not a CRM store"),
    (["--records", "{tmp}/missing.csv"], 2, "No such file"),
    (["--records", "{tmp}/calls.csv", "--clock", "wall"], 2, "need the CRM store"),
    (["--db", "{tmp}/crm.db", "--interval", "15x"], 2, "--interval"),
    (["--db", "{tmp}/crm.db", "--interval", "0"], 2, "--interval"),
    (["--db", "{tmp}/crm.db", "--interval", "1s", "--to", "100000"], 2, "intervals"),
    (["--db", "{tmp}/crm.db", "--from", "600", "--to", "60"], 2, "later than"),
    (["--db", "{tmp}/crm.db", "--from", "60", "--to", "2026-01-01"], 2, "disagree"),
    (["--db", "{tmp}/crm.db", "--from", "yesterday"], 2, "ISO date"),
    (["--db", "{tmp}/crm.db", "--from", "-60"], 2, "0 or more"),
    (["--db", "{tmp}/crm.db", "--by", "skill"], 2, "--by"),
    (["--db", "{tmp}/crm.db", "--format", "csv", "--by", "queue,agent"], 2, "one --by"),
    (["--db", "{tmp}/crm.db", "--format", "png"], 2, "--out"),
    (["--db", "{tmp}/crm.db", "--format", "png", "--out", "c.png", "--by", "agent"], 2,
     "leave out --by"),
    (["--db", "{tmp}/crm.db", "--sl", "0"], 2, "--sl"),
    (["--db", "{tmp}/crm.db", "--from", "1000"], 1, "no calls"),
    (["--db", "{tmp}/crm.db", "--out", "{tmp}/no/such/dir/r.txt"], 1, "cannot write"),
    (["--config", "{tmp}/missing.toml"], 2, "missing.toml"),
])
def test_errors(records, capsys, tmp_path, args, status, message):
    argv = ["crm", "report", *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    assert main(argv) == status
    assert message in capsys.readouterr().err


def test_empty_store_and_bare_command(tmp_path, capsys):
    CrmStore(str(tmp_path / "empty.db")).close()
    assert main(["crm", "report", "--db", str(tmp_path / "empty.db")]) == 1
    assert "no calls to report" in capsys.readouterr().err
    assert main(["crm"]) == 2


def test_bad_records_name_line_and_field(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("id,offered_at,ended_at,cause\n1,10,20,16\n2,30,25,16\n")
    assert main(["crm", "report", "--records", str(path)]) == 2
    assert "line 3: ended_at" in capsys.readouterr().err
    path.write_text("id,offered_at,ended_at,cause\n1,10,20,sixteen\n")
    assert main(["crm", "report", "--records", str(path)]) == 2
    assert "line 2: cause" in capsys.readouterr().err


def test_config_gives_store_and_queue_thresholds(records, tmp_path, capsys):
    cfg = tmp_path / "cc.toml"
    cfg.write_text(f'[crm]\npath = "{records[0]}"\n\n[[queue]]\nname = "sales"\n'
                   'service_level_s = 30.0\n\n[[queue]]\nname = "support"\n')
    q = named(report(capsys, "--config", str(cfg), "--by", "queue")["queues"], "queue")
    assert q["sales"]["sl_s"] == 30.0 and q["sales"]["service_level"] == 0.5
    assert q["support"]["sl_s"] == 20.0


values = st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 10**6),
                   st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", *KEYS[1:], "recorded_at"]), values))
def test_arbitrary_rows_are_records_or_typed_errors(row):
    try:
        rec = Record.from_mapping(row, "row")
    except RecordError as e:
        assert e.where == "row" and e.field
        return
    assert rec.ended_at >= rec.offered_at >= 0
    queue_figures([rec], Thresholds())
    try:
        on_wall_clock(rec, "row")
    except RecordError as e:
        assert e.field == "recorded_at"


def test_lab_store_agrees_with_the_lab_report(tmp_path, capsys):
    """A small `cti lab` run: the report over its store has the queues' own figures."""
    from cti.lab import LabOptions, run_lab

    lab = run_lab(LabOptions(calls=16, agents=2, seed=3, interarrival_s=3.0,
                             patience_s=(10.0, 60.0), talk_s=(20.0, 60.0),
                             cdr_path=str(tmp_path / "calls.csv")))
    assert lab["errors"] == []
    doc = report(capsys, "--db", lab["cdr"]["crm"])
    queues = named(doc["queues"], "queue")
    for name, live in lab["queues"].items():
        q = queues[name]
        assert (q["offered"], q["answered"], q["abandoned"]) == \
            (live["entered"], live["answered"], live["abandoned"])
        assert q["service_level"] == live["service_level"]
        assert q["abandon_rate"] == live["abandon_rate"]
        if live["answered"]:
            assert q["asa_s"] == pytest.approx(live["avg_wait_s"], abs=0.01)
    assert sum(q["service_level"] is not None for q in queues.values()) >= 2
    agents = named(doc["agents"], "agent")
    for a in lab["agents"]:
        if a["handled"]:
            assert agents[a["name"]]["handled"] == a["handled"]
            assert agents[a["name"]]["talk_s"] == pytest.approx(a["talk_s"], abs=a["handled"])
    trunks = named(doc["trunks"], "trunk")
    for kind, row in lab["by_trunk"].items():
        assert trunks[kind]["seizures"] == row["offered"]


cells = st.one_of(st.just(""), st.integers(-3, 10**9).map(str),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  st.sampled_from(["answered", "abandoned", "failed", "sales", "x"]),
                  st.text(max_size=6))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[cells] * 6), max_size=6),
       st.sampled_from(["1s", "15m", "1h", "7"]), st.sampled_from(["table", "csv", "json"]))
def test_arbitrary_csv_records_never_crash(tmp_path_factory, rows, interval, fmt):
    path = tmp_path_factory.mktemp("fuzz") / "calls.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["queue", "outcome", "offered_at", "ended_at", "wait_s", "cause"])
        w.writerows(rows)
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stdout", out)
        mp.setattr(sys, "stderr", io.StringIO())
        assert main(["crm", "report", "--records", str(path), "--interval", interval,
                     "--format", fmt]) in (0, 1, 2)
