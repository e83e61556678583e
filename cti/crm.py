"""The CRM store: contacts and the call history, in one SQLite file (``[crm] path``).

Schema (docs/control-api.md, "CRM store")::

    contacts(number TEXT PRIMARY KEY, name TEXT, account TEXT, notes TEXT, updated_at TEXT)
    calls(rowid, call_id, trunk, direction, ani, dnis, queue, agent, outcome, cause,
          raw_cause, offered_at, answered_at, agent_at, ended_at, wait_s, talk_s, recorded_at,
          campaign)

``calls`` holds one row per finished call (the same fields as the CSV call records of
:mod:`cti.cdr`, times in kernel seconds, plus ``recorded_at``, the UTC wall time the row
was written); a caller's history is the rows whose ``ani`` is the number.  The database
is in WAL mode with synchronous=FULL: a committed record survives a killed process.
A store made before a column existed (``campaign``) gets it when it is opened for
writing (its old rows: NULL); a report reading an old store read-only sees NULL.
"""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any
from urllib.parse import quote

CONTACT_FIELDS = ("name", "account", "notes")
CALL_FIELDS = ("call_id", "trunk", "direction", "ani", "dnis", "queue", "agent", "outcome",
               "cause", "raw_cause", "offered_at", "answered_at", "agent_at", "ended_at",
               "wait_s", "talk_s", "recorded_at", "campaign")
NUMBER = re.compile(r"^\+?[0-9A-Fa-f*#]{1,32}$")  # E.164 digits, or signalling digits

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS contacts (
    number TEXT PRIMARY KEY, name TEXT, account TEXT, notes TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS calls ({", ".join(CALL_FIELDS)});
CREATE INDEX IF NOT EXISTS calls_by_ani ON calls (ani);
"""


class CrmError(ValueError):
    """A bad number or contact field given to the store."""


def _utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def check_number(number: Any) -> str:
    if not isinstance(number, str) or not NUMBER.match(number):
        raise CrmError(f"number must be a string of 1..32 digits, not {number!r}")
    return number


def open_readonly(path: str) -> sqlite3.Connection:
    """An existing CRM store opened for reading (reports): CrmError if ``path`` is not one."""
    try:
        db = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
        db.execute("SELECT count(*) FROM calls").fetchone()
    except sqlite3.Error as e:
        raise CrmError(f"{path}: not a CRM store ({e})") from None
    return db


def _columns(db: sqlite3.Connection) -> set[str]:
    return {row[1] for row in db.execute("PRAGMA table_info(calls)")}


def call_rows(db: sqlite3.Connection, offered_from: float | None = None,
              offered_to: float | None = None, recorded_from: str | None = None
              ) -> list[dict[str, Any]]:
    """The ``calls`` rows, oldest first, as dicts of CALL_FIELDS: those offered in
    [offered_from, offered_to) kernel seconds and recorded at or after ``recorded_from``
    (UTC, ISO 8601 as ``recorded_at`` is written); a None bound is no bound."""
    where, args = [], []
    for cond, value in (("offered_at >= ?", offered_from), ("offered_at < ?", offered_to),
                        ("recorded_at >= ?", recorded_from)):
        if value is not None:
            where.append(cond)
            args.append(value)
    have = _columns(db)  # a store of an earlier version lacks the newer columns
    sql = f"SELECT {', '.join(k if k in have else 'NULL' for k in CALL_FIELDS)} FROM calls"
    if where:
        sql += " WHERE " + " AND ".join(where)
    cur = db.execute(sql + " ORDER BY rowid", args)
    return [dict(zip(CALL_FIELDS, row, strict=True)) for row in cur]


class CrmStore:
    def __init__(self, path: str):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        have = _columns(self.db)
        for k in CALL_FIELDS:  # migration: the columns added since the store was made
            if k not in have:
                self.db.execute(f"ALTER TABLE calls ADD COLUMN {k}")

    def close(self) -> None:
        self.db.close()

    # --- call history ---------------------------------------------------------------------
    def record(self, rec: dict[str, Any]) -> None:
        """Store one finished call (a :mod:`cti.cdr` record: its ``id`` is ``call_id``)."""
        row = {**rec, "call_id": rec.get("id"), "recorded_at": _utc()}
        values = [None if row.get(k) in (None, "") else
                  (row[k] if isinstance(row[k], int | float) else str(row[k]))
                  for k in CALL_FIELDS]
        self.db.execute(f"INSERT INTO calls ({', '.join(CALL_FIELDS)}) "
                        f"VALUES ({', '.join('?' * len(CALL_FIELDS))})", values)

    def history(self, number: str) -> dict[str, Any]:
        """``calls`` (count), ``last_call_at`` (UTC), ``last_agent`` (the latest call that
        reached an agent), ``last_outcome``."""
        check_number(number)
        count, = self.db.execute("SELECT count(*) FROM calls WHERE ani = ?", (number,)).fetchone()
        last = self.db.execute("SELECT recorded_at, outcome FROM calls WHERE ani = ? "
                               "ORDER BY rowid DESC LIMIT 1", (number,)).fetchone()
        agent = self.db.execute("SELECT agent FROM calls WHERE ani = ? AND agent IS NOT NULL "
                                "ORDER BY rowid DESC LIMIT 1", (number,)).fetchone()
        return {"calls": count, "last_call_at": last[0] if last else None,
                "last_agent": agent[0] if agent else None,
                "last_outcome": last[1] if last else None}

    # --- contacts ---------------------------------------------------------------------------
    def contact(self, number: str) -> dict[str, Any] | None:
        check_number(number)
        row = self.db.execute("SELECT name, account, notes, updated_at FROM contacts "
                              "WHERE number = ?", (number,)).fetchone()
        return None if row is None else dict(zip((*CONTACT_FIELDS, "updated_at"), row,
                                                  strict=True))

    def lookup(self, number: str) -> dict[str, Any]:
        """The CRM record of a caller: its contact (or None) and its call history."""
        return {"number": number, "contact": self.contact(number),
                "history": self.history(number)}

    def update(self, number: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Create or change a contact: ``fields`` maps name/account/notes to strings
        (None clears one).  Returns the record as :meth:`lookup` does."""
        check_number(number)
        if not isinstance(fields, dict) or not fields:
            raise CrmError(f"fields must be an object with some of {', '.join(CONTACT_FIELDS)}")
        bad = sorted(set(fields) - set(CONTACT_FIELDS))
        if bad:
            raise CrmError(f"unknown contact field(s) {', '.join(bad)}; "
                           f"known: {', '.join(CONTACT_FIELDS)}")
        for k, v in fields.items():
            if v is not None and not (isinstance(v, str) and len(v) <= 4096):
                raise CrmError(f"{k} must be a string of at most 4096 characters or null")
        keys = list(fields)
        self.db.execute(
            f"INSERT INTO contacts (number, {', '.join(keys)}, updated_at) "
            f"VALUES (?, {', '.join('?' * len(keys))}, ?) ON CONFLICT(number) DO UPDATE SET "
            + ", ".join(f"{k} = excluded.{k}" for k in (*keys, "updated_at")),
            (number, *(fields[k] for k in keys), _utc()))
        return self.lookup(number)
