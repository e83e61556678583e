"""``cti crm report``: queue, agent, trunk and interval statistics from the call records
(the CRM store's ``calls`` table, or the CSV call records) as a table, CSV, JSON or a PNG
chart.  The formulas are in docs/statistics.md (:mod:`cti.stats`)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sys
from typing import Any

from cti.cli import UsageError
from cti.stats import DEFAULT_SECTIONS, SECTIONS

DEFAULT_DB = "crm.db"  # [crm] path's default (cti/config.py)
INTERVAL = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)$")
UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


class RunFailed(Exception):
    """The report could not be made (nothing to report, no matplotlib, unwritable output):
    one line on stderr, exit status 1."""


# --- arguments ------------------------------------------------------------------------------
def interval_seconds(text: str) -> float:
    m = INTERVAL.match(text.strip())
    seconds = float(m.group(1)) * UNIT_S[m.group(2)] if m else 0.0
    if not seconds >= 1.0:
        raise UsageError(f"--interval {text!r}: give a length of at least 1 s such as 15m, "
                         "30m, 1h or 900s")
    return seconds


def time_bound(text: str | None, option: str) -> tuple[float | None, str | None]:
    """(seconds, clock) of a --from/--to value: a number is kernel seconds, an ISO 8601
    date or date-time (no zone: UTC) is wall-clock time (years 1970..9998)."""
    from cti.stats import WALL_RANGE, parse_utc

    if text is None:
        return None, None
    try:
        value = float(text)
        if math.isfinite(value) and value >= 0:
            return value, "kernel"
    except ValueError:
        pass
    try:
        value = parse_utc(text)
        if WALL_RANGE[0] <= value < WALL_RANGE[1]:
            return value, "wall"
    except (ValueError, OverflowError):
        pass
    raise UsageError(f"{option} {text!r}: give kernel seconds (0 or more, e.g. 3600) or an "
                     "ISO date or date-time in UTC (e.g. 2026-11-22 or 2026-11-22T08:00)")


def sections(args) -> tuple[str, ...]:
    chosen = tuple(s.strip() for s in (args.by or "").split(",") if s.strip())
    if args.format == "png":
        if chosen not in ((), ("interval",)):
            raise UsageError("--format png charts the intervals: leave out --by")
        return ("interval",)
    if not chosen:
        return ("queue",) if args.format == "csv" else DEFAULT_SECTIONS
    bad = [s for s in chosen if s not in SECTIONS]
    if bad:
        raise UsageError(f"--by {','.join(bad)}: choose from {', '.join(SECTIONS)}")
    if args.format == "csv" and len(chosen) > 1:
        raise UsageError("--format csv writes one table: give one --by")
    return chosen


def _config(args) -> tuple[str | None, dict[str, float]]:
    """The store path and the queues' service-level thresholds of ``--config``."""
    if not args.config:
        return None, {}
    from core.errors import ConfigError
    from cti.config import Config

    try:
        cfg = Config.load(args.config)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    return cfg["crm"]["path"], {q["name"]: q["service_level_s"] for q in cfg["queue"]}


# --- input ----------------------------------------------------------------------------------
def _csv_rows(path: str, clock: str) -> list:
    from cti.stats import Record, RecordError

    if clock == "wall":
        raise UsageError(f"{path}: CSV call records carry kernel seconds only; wall-clock "
                         "times (ISO --from/--to, --clock wall) need the CRM store (--db)")
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if not {"offered_at", "ended_at"} <= set(reader.fieldnames or ()):
                raise UsageError(f"{path}: not call records (no offered_at/ended_at columns)")
            return [Record.from_mapping(row, f"{path} line {reader.line_num}")
                    for row in reader]
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror or e}") from None
    except (RecordError, UnicodeDecodeError, csv.Error) as e:
        raise UsageError(str(e)) from None


def _store_rows(path: str, clock: str, start: float | None, end: float | None) -> list:
    from cti.crm import CrmError, call_rows, open_readonly
    from cti.stats import Record, RecordError, on_wall_clock, utc_label

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such CRM store (give --db FILE, --records FILE or "
                         "--config FILE)")
    try:
        db = open_readonly(path)
    except CrmError as e:
        raise UsageError(str(e)) from None
    try:
        if clock == "kernel":
            raw = call_rows(db, offered_from=start, offered_to=end)
        else:  # a call offered from `start` on was recorded (at its end) from then on too
            raw = call_rows(db, recorded_from=None if start is None else utc_label(start))
        rows = []
        for i, row in enumerate(raw):
            where = f"{path} call {row.get('call_id')} (row {i + 1})"
            rec = Record.from_mapping(row, where)
            rows.append(rec if clock == "kernel" else on_wall_clock(rec, where))
        return rows
    except RecordError as e:
        raise UsageError(str(e)) from None
    finally:
        db.close()


# --- output ---------------------------------------------------------------------------------
def _pct(v: Any) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def _sec(v: Any) -> str:
    return "-" if v is None else f"{v:.1f}"


def _erl(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}"


COLUMNS: dict[str, tuple[tuple[str, str, Any], ...]] = {
    "queue": (("queue", "queue", str), ("offered", "offered", str),
              ("answered", "answered", str), ("abandoned", "abandoned", str),
              ("short_abandoned", "short ab.", str), ("service_level", "SL", _pct),
              ("sl_s", "SL s", lambda v: "-" if v is None else f"{v:g}"),
              ("abandon_rate", "aband.", _pct), ("asa_s", "ASA s", _sec),
              ("avg_abandon_s", "avg ab. s", _sec), ("aht_s", "AHT s", _sec),
              ("longest_wait_s", "max wait s", _sec)),
    "agent": (("agent", "agent", str), ("handled", "handled", str),
              ("talk_s", "talk s", _sec), ("aht_s", "AHT s", _sec), ("queues", "queues", str)),
    "trunk": (("trunk", "trunk", str), ("seizures", "seizures", str),
              ("answered", "answered", str), ("asr", "ASR", _pct), ("ner", "NER", _pct),
              ("holding_s", "holding s", _sec), ("erlangs", "erlangs", _erl)),
    "campaign": (("campaign", "campaign", str), ("attempts", "attempts", str),
                 ("connected", "connected", str), ("answered", "answered", str),
                 ("abandoned", "abandoned", str), ("connect_rate", "connect", _pct),
                 ("abandon_rate", "aband.", _pct), ("talk_s", "talk s", _sec),
                 ("aht_s", "AHT s", _sec)),
    "interval": (("interval", "interval", str), ("offered", "offered", str),
                 ("answered", "answered", str), ("abandoned", "abandoned", str),
                 ("short_abandoned", "short ab.", str), ("failed", "failed", str),
                 ("service_level", "SL", _pct), ("asa_s", "ASA s", _sec),
                 ("erlangs", "erlangs", _erl)),
}


def table(doc: dict[str, Any], chosen: tuple[str, ...]) -> str:
    p = doc["period"]
    out = [f"{doc['calls']} calls offered {p['from_label']} .. {p['to_label']} "
           f"({doc['clock']} clock) from {doc['source']}"]
    for s in chosen:
        cols, rows = COLUMNS[s], doc[SECTIONS[s]]
        cells = [[h for _, h, _ in cols]] + [[fmt(row[k]) for k, _, fmt in cols]
                                             for row in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(cols))]
        out += ["", f"[{SECTIONS[s]}]"]
        out += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                          for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
                for r in cells]
        if not rows:
            out.append("(none)")
    out += ["", *(f"note: {n}" for n in doc["notes"])]
    return "\n".join(out)


def csv_text(doc: dict[str, Any], section: str) -> str:
    buf = io.StringIO()
    keys = [k for k, _, _ in COLUMNS[section]]
    if section == "interval":
        keys.insert(1, "start")
    w = csv.DictWriter(buf, keys, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in doc[SECTIONS[section]]:
        w.writerow({k: "" if row.get(k) is None else row[k] for k in keys})
    return buf.getvalue()


def png(doc: dict[str, Any], path: str) -> None:
    """Calls per interval, answered and abandoned (short abandons and failed calls too,
    when there are some) stacked, with the service level as a line on the right-hand
    axis."""
    try:
        import matplotlib
    except ImportError:
        raise RunFailed("--format png needs matplotlib (pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = doc["intervals"]
    x = list(range(len(rows)))
    fig, ax = plt.subplots(figsize=(min(24.0, max(7.0, 0.4 * len(rows))), 4.5))
    bottom = [0] * len(rows)
    for key, colour, name in (("answered", "tab:green", "answered"),
                              ("abandoned", "tab:red", "abandoned"),
                              ("short_abandoned", "tab:orange", "short abandoned"),
                              ("failed", "tab:gray", "failed")):
        heights = [r[key] for r in rows]
        if any(heights) or key in ("answered", "abandoned"):
            ax.bar(x, heights, bottom=bottom, color=colour, label=name)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel("calls offered")
    ax.yaxis.get_major_locator().set_params(integer=True)
    step = max(1, len(rows) // 24)
    ax.set_xticks(x[::step], [r["interval"] for r in rows][::step], rotation=45, ha="right",
                  fontsize=8)
    sl = ax.twinx()
    sl.plot(x, [math.nan if r["service_level"] is None else r["service_level"] * 100
                for r in rows], color="tab:blue", marker="o", label="service level")
    sl.set_ylim(0, 105)
    sl.set_ylabel(f"service level % (answered within {doc['sl_s']:g} s)")
    handles = ax.get_legend_handles_labels()[0] + sl.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    ax.set_title(f"calls per {doc['interval_s']:g} s interval, {doc['source']}", fontsize=9)
    fig.tight_layout()
    try:
        fig.savefig(path, format="png", dpi=100)
    except OSError as e:
        raise RunFailed(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)


# --- the command ----------------------------------------------------------------------------
def build(args) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The report document and the sections to show."""
    from cti.stats import Thresholds, report, utc_label

    chosen = sections(args)
    interval_s = interval_seconds(args.interval)
    start, c1 = time_bound(args.start, "--from")
    end, c2 = time_bound(args.end, "--to")
    clocks = {c for c in (c1, c2, args.clock) if c}
    if len(clocks) > 1:
        raise UsageError("--from/--to and --clock disagree: kernel seconds are numbers, "
                         "wall-clock times ISO dates")
    clock = clocks.pop() if clocks else "kernel"
    if start is not None and end is not None and end <= start:
        raise UsageError("--to must be later than --from")
    if args.sl is not None and not args.sl > 0:
        raise UsageError("--sl must be more than 0 seconds")
    if not args.short_abandon >= 0:
        raise UsageError("--short-abandon must be 0 seconds or more")
    store, per_queue = _config(args)
    if args.records:
        source = args.records
        rows = _csv_rows(source, clock)
    else:
        source = args.db or store or DEFAULT_DB
        rows = _store_rows(source, clock, start, end)
    rows = [r for r in rows if (start is None or r.offered_at >= start)
            and (end is None or r.offered_at < end)]
    if not rows:
        raise RunFailed(f"{source}: no calls to report" +
                        ("" if start is None and end is None else " in that period"))
    th = Thresholds(sl_s=20.0 if args.sl is None else args.sl,
                    per_queue=None if args.sl is not None else per_queue,
                    short_abandon_s=args.short_abandon)
    t0 = min(r.offered_at for r in rows) if start is None else start
    t1 = max(r.ended_at for r in rows) if end is None else end
    label = utc_label if clock == "wall" else kernel_label
    try:
        doc = report(rows, th, t0, t1, interval_s, label, chosen)
    except ValueError as e:  # too many intervals
        raise UsageError(str(e)) from None
    notes = ["AHT is talk time (agent answer to caller release): wrap-up is not recorded",
             "occupancy is not shown: the records carry no logged-in time",
             "NER counts unanswered seizures cleared with Q.850 17, 18, 19 or 21 as effective"]
    if args.short_abandon:
        notes.append(f"abandons within {args.short_abandon:g} s are short abandons: left out "
                     "of SL and abandon rate")
    unknown = sum(r.outcome in ("answered", "abandoned") and r.queue is not None
                  and r.wait_s is None for r in rows)
    if unknown:
        notes.append(f"{unknown} queued calls have no wait_s (older records): left out of SL, "
                     "ASA and abandon figures")
    doc.update(source=source, clock=clock, calls=len(rows), interval_s=interval_s,
               sl_s=th.sl_s, sl_per_queue=dict(th.per_queue or {}),
               short_abandon_s=args.short_abandon, notes=notes,
               period={"from": t0, "to": t1, "seconds": round(t1 - t0, 3),
                       "from_label": label(t0), "to_label": label(t1)})
    return doc, chosen


def kernel_label(seconds: float) -> str:
    """Kernel seconds as H:MM:SS (hours unbounded)."""
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _emit(text: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        with open(out, "w", newline="") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:
        raise RunFailed(f"cannot write {out}: {e.strerror or e}") from None


def run_report(args) -> int:
    if args.crm_command != "report":
        raise UsageError("give a subcommand: cti crm report [--db FILE] ... (see --help)")
    if args.format == "png" and not args.out:
        raise UsageError("--format png needs --out FILE.png")
    try:
        doc, chosen = build(args)
        if args.format == "png":
            png(doc, args.out)
        elif args.format == "json":
            _emit(json.dumps(doc), args.out)
        elif args.format == "csv":
            _emit(csv_text(doc, chosen[0]), args.out)
        else:
            _emit(table(doc, chosen), args.out)
    except RunFailed as e:
        print(f"cti crm: {e}", file=sys.stderr)
        return 1
    return 0


def register(sub) -> None:
    p = sub.add_parser("crm", help="the CRM store: agent, queue and traffic statistics "
                                   "(cti crm report)")
    p.set_defaults(func=run_report, crm_command=None)
    csub = p.add_subparsers(dest="crm_command", metavar="COMMAND")
    r = csub.add_parser(
        "report", help="queue, agent, trunk and interval statistics from the call records "
                       "(docs/statistics.md)")
    src = r.add_mutually_exclusive_group()
    src.add_argument("--db", metavar="FILE", help=f"the CRM store (default: --config's [crm] path, else "
                                  f"{DEFAULT_DB})")
    src.add_argument("--records", metavar="FILE", help="CSV call records instead of the store (kernel "
                                       "seconds only)")
    r.add_argument("--config", metavar="FILE", help="a `cti run` config: its CRM store and its queues' "
                                    "service-level thresholds")
    r.add_argument("--from", dest="start", metavar="T",
                   help="calls offered from T: kernel seconds, or an ISO date/date-time "
                        "(UTC) for wall-clock time")
    r.add_argument("--to", dest="end", metavar="T", help="... and before T")
    r.add_argument("--clock", choices=("kernel", "wall"),
                   help="time axis (default: as --from/--to are written, else kernel)")
    r.add_argument("--interval", default="15m", metavar="LENGTH",
                   help="interval length: 15m (default), 30m, 1h, or seconds")
    r.add_argument("--by", metavar="SECTIONS", help="sections, comma-separated, of queue,agent,"
                                "trunk,interval,campaign (default: all but campaign; csv: queue)")
    r.add_argument("--sl", type=float, metavar="SECONDS",
                   help="service-level threshold (default: each queue's service_level_s "
                        "from --config, else 20)")
    r.add_argument("--short-abandon", type=float, default=0.0, metavar="SECONDS",
                   help="abandons within this wait are short abandons, left out of SL and "
                        "abandon rate (default 0: none)")
    r.add_argument("--format", choices=("table", "csv", "json", "png"), default="table")
    r.add_argument("--out", metavar="FILE", help="write here (default standard output; "
                                                 "png: required)")
    r.set_defaults(func=run_report)


__all__ = ["register"]
