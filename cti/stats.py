"""Call-centre and traffic statistics over finished-call records (docs/statistics.md).

The input is the call records of :mod:`cti.cdr` / the CRM store's ``calls`` table (times in
kernel seconds).  The figures are the usual contact-centre ones (service level, ASA,
abandons, AHT per queue; calls handled and talk time per agent), the trunk ratios of
ITU-T E.411/E.425 (ASR, NER) and carried traffic in erlangs (ITU-T E.600 2.x: the mean
number of simultaneous seizures, i.e. total holding time over the period).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

# E.425 NER: a seizure that was not answered still counts as effective when the network
# delivered it to the called user and the user (or terminal) refused it (Q.850 values).
NER_CAUSES: dict[int, str] = {
    17: "user busy",
    18: "no user responding (ring no answer)",
    19: "no answer from user, user alerted (ring no answer)",
    21: "call rejected (terminal rejection)",
}
CONNECT_S = 2.0  # Ofcom: an answered call with no agent on it this long after answer is abandoned
WALL_RANGE = (0.0, 253370764800.0)  # POSIX seconds of 1970-01-01 .. 9999-01-01 (UTC)
MAX_INTERVALS = 10_000  # a report longer than this many intervals asks for a longer interval


class RecordError(ValueError):
    """A call record with a missing or malformed field: names the record and the field."""

    def __init__(self, message: str, where: str, field: str):
        super().__init__(f"{where}: {field}: {message}")
        self.where, self.field = where, field


@dataclass(frozen=True)
class Record:
    """One finished call (the fields of :data:`cti.cdr.FIELDS`, typed)."""
    call_id: str | None
    trunk: str | None
    direction: str | None
    ani: str | None
    dnis: str | None
    queue: str | None
    agent: str | None
    outcome: str | None
    cause: int | None
    offered_at: float
    answered_at: float | None
    agent_at: float | None
    ended_at: float
    wait_s: float | None
    talk_s: float | None
    recorded_at: str | None = None  # UTC wall time the store wrote the row (store only)
    campaign: str | None = None  # the dialer campaign of an outbound attempt

    @property
    def holding_s(self) -> float:
        """The trunk seizure's holding time: offered to released."""
        return self.ended_at - self.offered_at

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any], where: str) -> Record:
        """A record from a CSV row or a store row (strings or numbers; "" and None: absent).
        ``offered_at`` and ``ended_at`` are required; ``id`` is taken for ``call_id``."""
        get = row.get
        kw: dict[str, Any] = {}
        for name in TEXT_FIELDS:
            v = get(name)
            kw[name] = None if v is None or v == "" else str(v)
        kw["call_id"] = kw["call_id"] or kw["id"]  # the CSV records name it id
        del kw["id"]
        for name in NUMBER_FIELDS:
            v = get(name)
            if v is None or v == "":
                kw[name] = None
                continue
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise RecordError(f"not a number: {v!r}", where, name) from None
            if not 0 <= x < math.inf:
                raise RecordError(f"not a finite time of at least 0: {v!r}", where, name)
            kw[name] = x
        cause = kw["cause"]
        if cause is not None:
            if cause != int(cause) or cause > 127:
                raise RecordError(f"not a Q.850 cause value (0..127): {get('cause')!r}",
                                  where, "cause")
            kw["cause"] = int(cause)
        for name in ("offered_at", "ended_at"):
            if kw[name] is None:
                raise RecordError("missing", where, name)
        if kw["ended_at"] < kw["offered_at"]:
            raise RecordError(f"ends ({kw['ended_at']}) before it was offered "
                              f"({kw['offered_at']})", where, "ended_at")
        return cls(**kw)


TEXT_FIELDS = ("call_id", "id", "trunk", "direction", "ani", "dnis", "queue", "agent",
               "outcome", "recorded_at", "campaign")
NUMBER_FIELDS = ("cause", "offered_at", "answered_at", "agent_at", "ended_at", "wait_s",
                 "talk_s")
TIME_FIELDS = ("offered_at", "answered_at", "agent_at", "ended_at")


def parse_utc(text: str) -> float:
    """POSIX seconds of an ISO 8601 date or date-time (no zone: UTC)."""
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


def utc_label(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def on_wall_clock(rec: Record, where: str) -> Record:
    """``rec`` with its times moved from kernel seconds to POSIX seconds: the store wrote
    the row (``recorded_at``, to the second) when the call ended, so each time is
    ``recorded_at - (ended_at - t)``; durations stay exact."""
    if rec.recorded_at is None:
        raise RecordError("missing (wall-clock times need the store's recorded_at)", where,
                          "recorded_at")
    try:
        shift = parse_utc(rec.recorded_at) - rec.ended_at
    except (ValueError, OverflowError):
        raise RecordError(f"not an ISO date-time: {rec.recorded_at!r}", where,
                          "recorded_at") from None
    if not (WALL_RANGE[0] <= rec.offered_at + shift and rec.ended_at + shift < WALL_RANGE[1]):
        raise RecordError(f"{rec.recorded_at!r} less the call's {rec.ended_at:g} s of kernel "
                          "time is not a date of 1970..9998", where, "recorded_at")
    return replace(rec, **{f: getattr(rec, f) + shift for f in TIME_FIELDS
                           if getattr(rec, f) is not None})


# --- shared formulas ----------------------------------------------------------------------------
def ratio(part: float, whole: float) -> float | None:
    """``part / whole`` rounded to 4 places; None when ``whole`` is 0 (nothing to divide)."""
    return round(part / whole, 4) if whole else None


def service_level(within: int, answered: int, abandoned: int) -> float | None:
    """Calls answered within the threshold over the calls answered or abandoned."""
    return ratio(within, answered + abandoned)


def mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length of the intersection of [a0, a1) and [b0, b1)."""
    return max(0.0, min(a1, b1) - max(a0, b0))


# --- figures --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Thresholds:
    """Service-level threshold (per queue, else ``sl_s``) and short-abandon limit."""
    sl_s: float = 20.0
    per_queue: Mapping[str, float] | None = None
    short_abandon_s: float = 0.0

    def sl_of(self, queue: str | None) -> float:
        return (self.per_queue or {}).get(queue or "", self.sl_s)


def queue_figures(rows: Iterable[Record], th: Thresholds) -> dict[str, Any]:
    """Offered, answered, abandoned, SL, ASA, abandon time, AHT and longest wait of queued
    calls (each row against its own queue's threshold)."""
    offered = answered = abandoned = short = within = unknown = 0
    waits_answered: list[float] = []
    waits_abandoned: list[float] = []
    talks: list[float] = []
    longest: float | None = None
    for r in rows:
        offered += 1
        if r.outcome not in ("answered", "abandoned"):
            continue
        if r.outcome == "answered" and r.talk_s is not None:
            talks.append(r.talk_s)
        if r.wait_s is None:  # a record from before the kernel wrote wait_s
            unknown += 1
            answered += r.outcome == "answered"
            continue
        longest = r.wait_s if longest is None else max(longest, r.wait_s)
        if r.outcome == "answered":
            answered += 1
            waits_answered.append(r.wait_s)
            within += r.wait_s <= th.sl_of(r.queue)
        elif r.wait_s < th.short_abandon_s:
            short += 1
        else:
            abandoned += 1
            waits_abandoned.append(r.wait_s)
    known_answered = len(waits_answered)
    return {
        "offered": offered, "answered": answered, "abandoned": abandoned,
        "short_abandoned": short, "answered_in_sl": within,
        "service_level": service_level(within, known_answered, abandoned),
        "abandon_rate": ratio(abandoned, known_answered + abandoned),
        "asa_s": mean(waits_answered), "avg_abandon_s": mean(waits_abandoned),
        "aht_s": mean(talks), "longest_wait_s": longest, "wait_unknown": unknown,
    }


def agent_figures(rows: Iterable[Record]) -> dict[str, Any]:
    """Calls handled (reached the agent), total talk time and AHT (talk per call)."""
    talks = [r.talk_s or 0.0 for r in rows if r.agent_at is not None]
    return {"handled": len(talks), "talk_s": round(sum(talks), 3), "aht_s": mean(talks)}


def campaign_figures(rows: Iterable[Record]) -> dict[str, Any]:
    """Attempts of a dialer campaign: connected (answered by the called party), answered
    (taken by an agent), abandoned as Ofcom counts them (connected, no agent CONNECT_S after
    answer), connect and abandon rates, talk time and AHT."""
    rows = list(rows)
    connected = [r for r in rows if r.answered_at is not None]
    late = sum(r.agent_at is None or r.agent_at - r.answered_at > CONNECT_S for r in connected)
    talks = [r.talk_s for r in rows if r.talk_s is not None]
    return {"attempts": len(rows), "connected": len(connected),
            "answered": sum(r.outcome == "answered" for r in rows), "abandoned": late,
            "connect_rate": ratio(len(connected), len(rows)),
            "abandon_rate": ratio(late, len(connected)),
            "talk_s": round(sum(talks), 3), "aht_s": mean(talks)}


def trunk_figures(rows: Iterable[Record], start: float, end: float) -> dict[str, Any]:
    """Seizures, answered, ASR (E.411), NER (E.425), holding time and carried erlangs
    over [start, end)."""
    seizures = answered = effective = 0
    held = 0.0
    for r in rows:
        seizures += 1
        if r.answered_at is not None:
            answered += 1
            effective += 1
        elif r.cause in NER_CAUSES:
            effective += 1
        held += overlap(r.offered_at, r.ended_at, start, end)
    return {"seizures": seizures, "answered": answered, "asr": ratio(answered, seizures),
            "ner": ratio(effective, seizures), "holding_s": round(held, 3),
            "erlangs": round(held / (end - start), 4) if end > start else None}


def _grouped(rows: list[Record], key: Callable[[Record], str | None],
             figures: Callable[[list[Record]], dict[str, Any]], name: str
             ) -> list[dict[str, Any]]:
    groups: dict[str, list[Record]] = {}
    for r in rows:
        k = key(r)
        if k is not None:
            groups.setdefault(k, []).append(r)
    out = [{name: k, **figures(v)} for k, v in sorted(groups.items())]
    if len(groups) > 1:
        out.append({name: "total", **figures([r for v in groups.values() for r in v])})
    return out


def by_queue(rows: list[Record], th: Thresholds) -> list[dict[str, Any]]:
    out = _grouped(rows, lambda r: r.queue, lambda g: queue_figures(g, th), "queue")
    for row in out:
        row["sl_s"] = th.sl_of(row["queue"]) if row["queue"] != "total" else None
    return out


def by_agent(rows: list[Record]) -> list[dict[str, Any]]:
    def figures(g: list[Record]) -> dict[str, Any]:
        return {**agent_figures(g), "queues": ",".join(sorted({r.queue for r in g
                                                               if r.queue}))}
    return _grouped([r for r in rows if r.agent_at is not None], lambda r: r.agent, figures,
                    "agent")


def by_trunk(rows: list[Record], start: float, end: float) -> list[dict[str, Any]]:
    return _grouped(rows, lambda r: r.trunk or "-", lambda g: trunk_figures(g, start, end),
                    "trunk")


def by_campaign(rows: list[Record]) -> list[dict[str, Any]]:
    """The dialer's attempts by campaign (records without one are not attempts)."""
    return _grouped(rows, lambda r: r.campaign, campaign_figures, "campaign")


def by_interval(rows: list[Record], th: Thresholds, start: float, end: float,
                interval_s: float, label: Callable[[float], str]) -> list[dict[str, Any]]:
    """Per interval [t, t + interval_s) of [start, end): calls by the interval they were
    offered in, and the traffic carried in it by every trunk (holding time inside it
    over its length)."""
    first = math.floor(start / interval_s)
    count = max(1, math.ceil(end / interval_s) - first)
    if count > MAX_INTERVALS:
        raise ValueError(f"more than {MAX_INTERVALS} intervals of {interval_s:g} s; "
                         "take a longer --interval or a shorter --from/--to")
    offered: list[list[Record]] = [[] for _ in range(count)]
    held: list[dict[str, float]] = [{} for _ in range(count)]  # by trunk
    for r in rows:
        i = math.floor(r.offered_at / interval_s) - first
        if 0 <= i < count:
            offered[i].append(r)
        j, trunk = max(i, 0), r.trunk or "-"
        while j < count and (first + j) * interval_s < r.ended_at:
            t0 = (first + j) * interval_s
            held[j][trunk] = held[j].get(trunk, 0.0) + overlap(r.offered_at, r.ended_at, t0,
                                                               t0 + interval_s)
            j += 1
    out = []
    for i in range(count):
        t0 = (first + i) * interval_s
        q = queue_figures([r for r in offered[i] if r.queue is not None], th)
        abandoned = sum(r.outcome == "abandoned" for r in offered[i])
        out.append({"interval": label(t0), "start": t0, "offered": len(offered[i]),
                    "answered": sum(r.outcome == "answered" for r in offered[i]),
                    "abandoned": abandoned - q["short_abandoned"],
                    "short_abandoned": q["short_abandoned"],
                    "failed": sum(r.outcome not in ("answered", "abandoned")
                                  for r in offered[i]),
                    "service_level": q["service_level"], "asa_s": q["asa_s"],
                    "erlangs": round(sum(held[i].values()) / interval_s, 4),
                    "erlangs_by_trunk": {t: round(v / interval_s, 4)
                                         for t, v in sorted(held[i].items())}})
    return out


SECTIONS = {"queue": "queues", "agent": "agents", "trunk": "trunks", "interval": "intervals",
            "campaign": "campaigns"}
DEFAULT_SECTIONS = ("queue", "agent", "trunk", "interval")  # campaign: asked for by name


def report(rows: list[Record], th: Thresholds, start: float, end: float, interval_s: float,
           label: Callable[[float], str], sections: Iterable[str] = DEFAULT_SECTIONS
           ) -> dict[str, Any]:
    """The report over ``rows`` (calls offered in [start, end)): one list per section,
    under the section's plural name (``queues``, ...)."""
    make = {"queue": lambda: by_queue(rows, th), "agent": lambda: by_agent(rows),
            "trunk": lambda: by_trunk(rows, start, end), "campaign": lambda: by_campaign(rows),
            "interval": lambda: by_interval(rows, th, start, end, interval_s, label)}
    return {SECTIONS[s]: make[s]() for s in sections}


__all__ = ["CONNECT_S", "DEFAULT_SECTIONS", "NER_CAUSES", "Record", "RecordError",
           "Thresholds", "by_agent", "by_campaign", "by_interval", "by_queue", "by_trunk",
           "campaign_figures", "on_wall_clock", "overlap", "parse_utc", "queue_figures",
           "SECTIONS", "ratio", "report", "service_level", "trunk_figures", "utc_label"]
