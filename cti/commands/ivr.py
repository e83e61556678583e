"""``cti ivr check FILE`` and ``cti ivr sim FILE FLOW``: validate IVR flows, and run one
offline with a scripted caller, printing a transcript (see :mod:`cti.ivr`, :mod:`cti.ivrsim`).

FILE is a flow file (only ``[[ivr]]`` tables) or a kernel config (its ``[[ivr]]`` and
``kernel.ivr_path`` flows); the built-in flows are always there.  ``check`` exits 1 when
a flow is wrong, with the error naming file, line and key."""

from __future__ import annotations

import json
import os

from core.errors import ConfigError
from cti.cli import UsageError


def _flows(path: str, strict_targets: bool):
    """The flows FILE defines (with the built-in ones), route targets checked: flows always,
    queues/trunks/groups/stations when FILE is a config and ``strict_targets``."""
    from cti import ivr
    from cti.config import Config

    cfg = Config.load(path)
    extra = {}
    if cfg["kernel"]["ivr_path"]:
        extra = ivr.load_flow_file(os.path.join(os.path.dirname(os.path.abspath(path)),
                                                cfg["kernel"]["ivr_path"]))
    flows = ivr.merge_flows(ivr.builtin_flows(), ivr.flows_from(cfg), extra)
    flow_file = all(k == "ivr" or k.startswith("ivr[") for k in cfg._lines)
    if strict_targets and not flow_file:
        ivr.check_route_targets(
            flows, {q["name"] for q in cfg["queue"]} | {"sales", "support"},
            {t["name"] for t in cfg["trunk"]} | {g["name"] for g in cfg["trunk_group"]},
            sum(b["stations"] for b in cfg["board"]))
    else:
        ivr.check_route_targets(flows, None, None, None)
    return flows


def check(args) -> int:
    try:
        flows = _flows(args.file, strict_targets=True)
    except ConfigError as e:
        print(json.dumps({"ok": False, "error": str(e)}) if args.json else str(e))
        return 1
    summary = {n: {"file": f.cfg.path, "start": f.start, "nodes": len(f.nodes),
                   "routes": [f"{k}:{t}" for _, k, t in f.routes()]} for n, f in flows.items()}
    if args.json:
        print(json.dumps({"ok": True, "flows": summary}))
    else:
        for n, s in summary.items():
            print(f"{n:<12} {s['nodes']:>3} nodes from {s['start']!r}  -> "
                  f"{', '.join(s['routes']) or 'no routes'}  ({s['file']})")
    return 0


def _timed(items: list[str], what: str) -> list[tuple[float, str]]:
    out = []
    for item in items:
        at, sep, value = item.partition(":")
        try:
            out.append((float(at), value))
        except ValueError:
            raise UsageError(f"{what} {item!r}: write SECONDS:VALUE") from None
        if not sep or not value:
            raise UsageError(f"{what} {item!r}: write SECONDS:VALUE")
    return out


def sim(args) -> int:
    from cti.ivrsim import Script, simulate

    try:
        flows = _flows(args.file, strict_targets=False)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    presses = _timed(args.press, "--press")
    if any(set(d) - set("0123456789*#ABCD") for _, d in presses):
        raise UsageError("--press digits are 0-9, *, #, A-D")
    try:
        talk = [(at, float(s)) for at, s in _timed(args.talk, "--talk")]
    except ValueError:
        raise UsageError("--talk SECONDS:DURATION (both numbers)") from None
    script = Script(presses, talk, args.hangup)
    try:
        t = simulate(flows, args.flow, script, ani=args.ani, dnis=args.dnis)
    except KeyError as e:
        raise UsageError(e.args[0]) from None
    if args.json:
        print(json.dumps(t))
    else:
        for s in t["steps"]:
            print(f"{s['t']:8.2f}  {s['flow']}.{s['node']:<14} {s['kind']}")
        print(f"menu events: {', '.join(x for x in t['trail'] if ' ' in x) or 'none'}")
        print(f"variables: {json.dumps(t['vars'])}")
        for r in t["recordings"]:
            print(f"recorded: {r}")
        end = f"routed to {t['routed']}" if t["routed"] else f"cleared by the {t['cleared_by']}"
        print(f"end: {end} after {t['duration_s']} s, cause {t['cause']} ({t['cause_text']})")
        for e in t["errors"]:
            print(f"error: {e}")
    return 1 if t["errors"] else 0


def register(sub) -> None:
    p = sub.add_parser("ivr", help="check IVR flows; run one offline with scripted key presses")
    ops = p.add_subparsers(dest="op", metavar="OP", required=True)
    c = ops.add_parser("check", help="validate the flows of a flow file or config")
    c.add_argument("file")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=check)
    s = ops.add_parser("sim", help="run a flow on simulated E1 boards with a scripted caller")
    s.add_argument("file")
    s.add_argument("flow")
    s.add_argument("--press", action="append", default=[], metavar="SECONDS:DIGITS",
                   help="send DTMF digits this long after the answer (repeatable)")
    s.add_argument("--talk", action="append", default=[], metavar="SECONDS:DURATION",
                   help="talk (speech-level noise) for DURATION seconds (repeatable)")
    s.add_argument("--hangup", type=float, default=None, metavar="SECONDS",
                   help="the caller hangs up this long after the answer")
    s.add_argument("--ani", default="0212345678")
    s.add_argument("--dnis", default="4000")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=sim)
