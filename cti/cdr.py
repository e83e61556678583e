"""Call detail records, written when a call ends.

One CSV row per call, appended, flushed and fsync'ed, so a killed process loses no
record of a call that had ended; with a CRM store (:class:`cti.crm.CrmStore`) the same
record also goes to its ``calls`` table, where a caller's history is queried.

``campaign`` (the dialer campaign of an outbound attempt, empty for other calls) came
last, after the other columns.  A file is appended to with the columns of its own header:
a file begun before ``campaign`` existed keeps its header and gets no campaign column
(the CRM store and the campaign's results file still carry it); new files have them all."""

from __future__ import annotations

import csv
import os
from typing import Any

FIELDS = ("id", "trunk", "direction", "ani", "dnis", "queue", "agent", "outcome", "cause",
          "raw_cause", "offered_at", "answered_at", "agent_at", "ended_at", "wait_s", "talk_s",
          "campaign")


class CdrError(ValueError):
    """An existing call-record file whose header is not one this module writes."""


def existing_header(path: str) -> tuple[str, ...] | None:
    """The columns of the records file at ``path``; None when there is none yet (no
    file, or an empty one).  CdrError when the header is not FIELDS or one of its
    leading parts (a file of an earlier version)."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path, newline="") as f:
        header = tuple(next(csv.reader(f), ()))
    if not header or header != FIELDS[:len(header)]:
        raise CdrError(f"{path}: not a call-record file (header {','.join(header)!r})")
    return header


class CdrWriter:
    def __init__(self, path: str, store=None):
        self.path = path
        self.store = store
        header = existing_header(path)
        self.fields = FIELDS if header is None else header
        self._f = open(path, "a", newline="")  # noqa: SIM115
        self._w = csv.DictWriter(self._f, self.fields, extrasaction="ignore")
        if header is None:
            self._w.writeheader()
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self._w.writerow({k: ("" if record.get(k) is None else record.get(k))
                          for k in self.fields})
        self._f.flush()
        os.fsync(self._f.fileno())
        if self.store is not None:
            self.store.record(record)
        self.count += 1

    def close(self) -> None:
        self._f.close()
