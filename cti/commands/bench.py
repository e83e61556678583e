"""``cti bench``: capacity benchmarks, with peer libraries side by side when installed."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
import sys
from typing import Any

from core.bench import BenchResult

# packages whose ``capacity*`` modules expose ``BENCHES``, in report order
PACKAGES = ("timeslot", "drivers", "cti", "isdn", "ss7", "r2")


def collect() -> list:
    benches = []
    for pkg in PACKAGES:
        package = importlib.import_module(pkg)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.name.startswith("capacity"):
                benches.extend(importlib.import_module(f"{pkg}.{info.name}").BENCHES)
    return benches


def machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()}


def run(args) -> int:
    results: list[BenchResult] = []
    benches = collect()
    selected = [b for b in benches if not args.only or any(o in b.__name__ for o in args.only)]
    for i, fn in enumerate(selected, 1):
        if not args.json:
            print(f"[{i}/{len(selected)}] {fn.__name__} ...", file=sys.stderr, flush=True)
        r = fn(args.quick)
        for res in (r if isinstance(r, list) else [r]):
            results.append(res)
            if not args.json:
                peer = "" if res.peer is None else (
                    f"   {res.peer}: " + ("not installed" if res.peer_value is None
                                          else f"{res.peer_value:,.1f}  ratio {res.ratio:.2f}x"))
                print(f"  {res.name:<24} {res.value:>14,.2f} {res.unit}{peer}")
                for n in res.notes:
                    print(f"      {n}")
    if args.json:
        print(json.dumps({"machine": machine(), "results": [r.as_dict() for r in results]}))
    return 0


def register(sub) -> None:
    p = sub.add_parser("bench", help="capacity benchmarks (peers side by side when installed)")
    p.add_argument("--quick", action="store_true", help="shorter runs, less precise")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.add_argument("--only", nargs="*", default=[], help="run benches whose name contains these")
    p.set_defaults(func=run)
