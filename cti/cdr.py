"""Call detail records, written when a call ends.

One CSV row per call, appended, flushed and fsync'ed, so a killed process loses no
record of a call that had ended; with a CRM store (:class:`cti.crm.CrmStore`) the same
record also goes to its ``calls`` table, where a caller's history is queried."""

from __future__ import annotations

import csv
import os
from typing import Any

FIELDS = ("id", "trunk", "direction", "ani", "dnis", "queue", "agent", "outcome", "cause",
          "raw_cause", "offered_at", "answered_at", "agent_at", "ended_at", "wait_s", "talk_s")


class CdrWriter:
    def __init__(self, path: str, store=None):
        self.path = path
        self.store = store
        new = not os.path.exists(path) or os.path.getsize(path) == 0
        self._f = open(path, "a", newline="")  # noqa: SIM115
        self._w = csv.DictWriter(self._f, FIELDS, extrasaction="ignore")
        if new:
            self._w.writeheader()
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self._w.writerow({k: ("" if record.get(k) is None else record.get(k)) for k in FIELDS})
        self._f.flush()
        os.fsync(self._f.fileno())
        if self.store is not None:
            self.store.record(record)
        self.count += 1

    def close(self) -> None:
        self._f.close()
