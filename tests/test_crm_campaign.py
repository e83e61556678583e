"""The ``campaign`` field of the call records (cti/cdr.py, cti/crm.py): filled for dialer
attempts, empty for other calls; stores and CSV files made before it existed stay usable."""

from __future__ import annotations

import csv
import json
import sqlite3
from types import SimpleNamespace

import pytest

from cti.callcentre import CallCentre
from cti.cdr import FIELDS, CdrError, CdrWriter
from cti.cli import main
from cti.crm import CALL_FIELDS, CrmStore, call_rows, open_readonly

OLD_FIELDS = CALL_FIELDS[:CALL_FIELDS.index("campaign")]


def old_store(path) -> None:
    """A store as the version before ``campaign`` made it, with one call."""
    db = sqlite3.connect(path)
    db.executescript(f"CREATE TABLE contacts (number TEXT PRIMARY KEY, name TEXT, account TEXT,"
                     f" notes TEXT, updated_at TEXT); CREATE TABLE calls "
                     f"({', '.join(OLD_FIELDS)});")
    db.execute(f"INSERT INTO calls ({', '.join(OLD_FIELDS)}) VALUES "
               f"({', '.join('?' * len(OLD_FIELDS))})",
               (7, "isdn", "in", "0211", "100", "sales", "a1", "answered", 16, 16, 1.0, 2.0,
                3.0, 9.0, 1.0, 6.0, "2026-01-05T10:00:00Z"))
    db.commit()
    db.close()


def record(call_id: int, campaign: str | None) -> dict:
    return {"id": call_id, "trunk": "isdn", "direction": "out", "ani": "0210", "dnis": "1000",
            "outcome": "answered", "offered_at": 10.0, "ended_at": 20.0, "campaign": campaign}


def test_an_old_store_gets_the_column_when_opened_and_reads_back_null(tmp_path):
    path = str(tmp_path / "crm.db")
    old_store(path)
    ro = open_readonly(path)  # a report on the old store, before any kernel opened it
    assert [r["campaign"] for r in call_rows(ro)] == [None]
    ro.close()
    store = CrmStore(path)
    store.record(record(8, "renewals"))
    store.record(record(9, None))
    columns = [row[1] for row in store.db.execute("PRAGMA table_info(calls)")]
    assert columns == list(CALL_FIELDS)
    assert [(r["call_id"], r["campaign"]) for r in call_rows(store.db)] == [
        (7, None), (8, "renewals"), (9, None)]
    store.close()
    CrmStore(path).close()  # opening a migrated store again changes nothing


def test_an_old_csv_is_appended_to_with_its_own_header_and_a_new_one_has_the_column(tmp_path):
    old = tmp_path / "old.csv"
    old.write_text(",".join(FIELDS[:-1]) + "\n" + ",".join("1" for _ in FIELDS[:-1]) + "\n")
    w = CdrWriter(str(old))
    w.write(record(2, "renewals"))
    w.close()
    with open(old, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(FIELDS[:-1]) and all(len(r) == len(FIELDS) - 1 for r in rows)
    assert rows[2][0] == "2"
    new = tmp_path / "new.csv"
    w = CdrWriter(str(new))
    w.write(record(3, "renewals"))
    w.write(record(4, None))
    w.close()
    with open(new, newline="") as f:
        assert [r["campaign"] for r in csv.DictReader(f)] == ["renewals", ""]


def test_a_file_that_is_not_call_records_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(CdrError, match="not a call-record file"):
        CdrWriter(str(path))


def test_the_centre_records_the_campaign_of_a_call_and_none_for_others(tmp_path):
    w = CdrWriter(str(tmp_path / "calls.csv"))
    centre = SimpleNamespace(kernel=SimpleNamespace(now=lambda: 5.0), cdr=w)
    for data in ({"campaign": "renewals"}, {}):
        call = SimpleNamespace(id=1, trunk=SimpleNamespace(kind="isdn"), direction="out",
                               ani="0210", dnis="1000", cause=16, raw_cause=16, data=data,
                               times={"offered": 1.0, "released": 4.0})
        CallCentre.record(centre, call, None, "no_answer")
    w.close()
    with open(tmp_path / "calls.csv", newline="") as f:
        assert [r["campaign"] for r in csv.DictReader(f)] == ["renewals", ""]


def test_reports_read_csv_files_with_and_without_the_column(tmp_path, capsys):
    old = tmp_path / "old.csv"
    old.write_text(",".join(FIELDS[:-1]) + "\n" + "1,isdn,out,0210,1000,,,answered,16,16,"
                   "1.0,2.0,,9.0,,\n")
    new = tmp_path / "new.csv"
    w = CdrWriter(str(new))
    w.write(record(2, "renewals"))
    w.close()
    for path in (old, new):
        assert main(["crm", "report", "--records", str(path), "--by", "trunk"]) == 0
        assert "isdn" in capsys.readouterr().out


def test_report_by_campaign_by_hand(tmp_path, capsys):
    """Two attempts of "renewals" (one taken by an agent 1 s after answer, one answered
    and left 3 s without an agent), one unanswered attempt of "winback", one inbound call:
    connect and Ofcom abandon rates per campaign."""
    store = CrmStore(str(tmp_path / "crm.db"))
    for rec in (
        {**record(1, "renewals"), "answered_at": 12.0, "agent_at": 13.0, "talk_s": 7.0},
        {**record(2, "renewals"), "answered_at": 12.0, "agent_at": 15.0, "talk_s": 5.0},
        {**record(3, "winback"), "outcome": "no_answer"},
        {**record(4, None), "direction": "in", "queue": "sales"},
    ):
        store.record(rec)
    store.close()
    assert main(["crm", "report", "--db", str(tmp_path / "crm.db"), "--by", "campaign",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["campaign"]: r for r in doc["campaigns"]}
    assert set(rows) == {"renewals", "winback", "total"}
    r = rows["renewals"]
    assert (r["attempts"], r["connected"], r["answered"], r["abandoned"]) == (2, 2, 2, 1)
    assert (r["connect_rate"], r["abandon_rate"], r["talk_s"], r["aht_s"]) == (1.0, 0.5, 12.0,
                                                                                6.0)
    w = rows["winback"]
    assert (w["attempts"], w["connected"], w["connect_rate"], w["abandon_rate"]) == (1, 0, 0.0,
                                                                                     None)
    assert rows["total"]["attempts"] == 3
    assert main(["crm", "report", "--db", str(tmp_path / "crm.db")]) == 0
    assert "[campaigns]" not in capsys.readouterr().out  # only when asked for
    assert main(["crm", "report", "--db", str(tmp_path / "crm.db"), "--by", "campaign"]) == 0
    assert "[campaigns]" in capsys.readouterr().out
