"""``cti lab``: the embedded default system (see :mod:`cti.lab`); ``make run`` runs it."""

from __future__ import annotations

import json
import sys

from cti.cli import UsageError


def _progress(done: int, total: int) -> None:
    width = 40
    fill = int(width * done / total) if total else width
    print(f"\r  calls [{'#' * fill}{'.' * (width - fill)}] {done}/{total}", end="",
          file=sys.stderr, flush=True)
    if done == total:
        print(file=sys.stderr)


def _table(report: dict) -> str:
    out = []
    c = report["calls"]
    out.append(f"simulated time {report['simulated_s']:.0f} s, kernel CPU "
               f"{report['kernel']['cpu_fraction'] * 100:.1f}% of real time per tick")
    out.append("")
    out.append(f"{'trunk':<8}{'offered':>9}{'answered':>10}{'abandoned':>11}{'failed':>8}")
    for name, row in [*report["by_trunk"].items(), ("total", c)]:
        out.append(f"{name:<8}{row['offered']:>9}{row['answered']:>10}{row['abandoned']:>11}"
                   f"{row['failed']:>8}")
    out.append("")
    out.append(f"{'queue':<10}{'entered':>8}{'answered':>10}{'svc level':>11}{'abandon':>9}"
               f"{'avg wait':>10}")
    for name, q in report["queues"].items():
        sl = "-" if q["service_level"] is None else f"{q['service_level'] * 100:.0f}%"
        ab = "-" if q["abandon_rate"] is None else f"{q['abandon_rate'] * 100:.0f}%"
        out.append(f"{name:<10}{q['entered']:>8}{q['answered']:>10}{sl:>11}{ab:>9}"
                   f"{q['avg_wait_s']:>9.1f}s")
    out.append("")
    out.append(f"{'agent':<10}{'handled':>8}{'talk':>10}")
    for a in report["agents"]:
        out.append(f"{a['name']:<10}{a['handled']:>8}{a['talk_s']:>9.0f}s")
    out.append("")
    out.append("signalling: " + ", ".join(
        f"{n} {s['placed'] or s['offered']} calls/{s['answered']} answered"
        for n, s in report["signalling"].items()))
    for f in report["failures"]:
        out.append(f"failed: {f}")
    out.append(f"call records: {report['cdr']['records']} in {report['cdr']['path']} "
               f"and {report['cdr']['crm']}")
    out.append("errors: none" if not report["errors"] else "errors:")
    out.extend(f"  {e}" for e in report["errors"])
    return "\n".join(out)


def run(args) -> int:
    from cti.lab import DEFAULT_TRUNKS, LabOptions, run_lab

    trunks = tuple(args.trunks.split(",")) if args.trunks else DEFAULT_TRUNKS
    if args.calls < 1 or args.agents < 1:
        raise UsageError("--calls and --agents must be at least 1")
    try:
        from cti.runtime import state_path

        opts = LabOptions(calls=args.calls, agents=args.agents, seed=args.seed, trunks=trunks,
                          realtime=args.realtime, cdr_path=args.cdr,
                          state_file=getattr(args, "state", None) or state_path())
        if not args.json:
            print(f"cti lab: {opts.calls} calls over {', '.join(trunks)} to {opts.agents} "
                  f"agents ({'real time' if opts.realtime else 'virtual clock'})",
                  file=sys.stderr)
        report = run_lab(opts, None if args.json else _progress)
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(json.dumps(report) if args.json else _table(report))
    return 1 if report["errors"] else 0


def register(sub) -> None:
    p = sub.add_parser("lab", help="the embedded demo: PSTN simulator, ISDN/SS7/R2 trunks, IVR, "
                                   "agents, call records, on simulated E1 boards")
    p.add_argument("--calls", type=int, default=200, help="calls to place (default 200)")
    p.add_argument("--agents", type=int, default=10, help="simulated agents (default 10)")
    p.add_argument("--seed", type=int, default=1, help="random seed (arrivals, choices, timings)")
    p.add_argument("--trunks", help="comma-separated trunk types of isdn,ss7,tup,r2 "
                                        "(default isdn,ss7,r2)")
    p.add_argument("--cdr", help="call record CSV (default: a new file in the temp directory)")
    p.add_argument("--realtime", action="store_true",
                   help="run on the real-time clock with the control API open (cti top)")
    p.add_argument("--state", help="--realtime: where to write the control API url and token")
    p.add_argument("--json", action="store_true", help="the report as one JSON document")
    p.set_defaults(func=run)
