"""``cti status|spans|links|calls|agents|queues|groups|campaigns|top``: the state of a running kernel, read
through its control API (url and token from the file ``cti run`` writes, or --url/--token).
``cti diag alarms|counters --api`` reads spans the same way (:func:`endpoint`)."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from cti.cli import UsageError

VIEWS = {
    "spans": "span alarms and counters",
    "links": "signalling links and trunks, with counters and timers",
    "calls": "active calls",
    "agents": "agents and their states",
    "queues": "queues: waiting calls, service level, abandon rate",
    "groups": "trunk groups: hunting policy, trunks in service, free channels, counters",
    "campaigns": "outbound campaigns: state, contacts pending and done, outcome counts",
}


def endpoint(args) -> tuple[str, str]:
    if args.url and args.token:
        return args.url, args.token
    from cti.runtime import state_path

    path = args.state or state_path()
    try:
        with open(path) as f:
            st = json.load(f)
        return args.url or st["url"], args.token or st["token"]
    except (OSError, ValueError, KeyError):
        raise UsageError(f"no running kernel found ({path}); start one with `cti run CONFIG` "
                         "or give --url and --token") from None


async def fetch(url: str, token: str, ops: list[str]) -> dict:
    from cti.client import ApiRequestError, Client

    try:
        async with Client(url, token) as c:
            return {op: await c.call(op) for op in ops}
    except (OSError, ApiRequestError) as e:
        raise UsageError(f"cannot reach the kernel at {url}: {e}") from None


def _human(view: str, data) -> str:
    if view == "spans":
        return "\n".join(f"{n:<12} alarms: {','.join(s['alarms']) or 'none':<16} " +
                         " ".join(f"{k}={v}" for k, v in s["counters"].items())
                         for n, s in data.items())
    if view == "links":
        return "\n".join(f"{n:<12} {t['type']:<8} span={t['span']} calls={t['calls']} " +
                         " ".join(f"{k}={v}" for k, v in t["counters"].items())
                         for n, t in data.items())
    if view == "calls":
        return "\n".join(f"{c['id']:>5} {c['trunk']:<8} {c['direction']:<4} {c['ani']:>14} -> "
                         f"{c['dnis']:<10} {c['state']}" for c in data) or "no active calls"
    if view == "agents":
        return "\n".join(f"{a['name']:<12} {a['state']:<10} {a.get('reason') or '':<10} "
                         f"{a.get('mode', ''):<8} handled={a['handled']} talk={a['talk_s']}s"
                         + _skills(a.get("skills")) for a in data)
    if view == "groups":
        return "\n".join(f"{n:<12} hunt={g['hunt']:<11} free={g['free']:<4} "
                         f"in service: {','.join(g['in_service']) or 'none'} "
                         f"overflow={g['overflow']} " +
                         " ".join(f"{k}={v}" for k, v in g["counters"].items())
                         for n, g in data.items()) or "no trunk groups"
    if view == "campaigns":
        return "\n".join(f"{n:<12} {c['state']:<8} {c['mode']:<11} queue={c['queue']} "
                         f"trunk={c['trunk']} contacts={c['contacts']} pending={c['pending']} "
                         f"dialling={c['dialling']} done={c['done']} dialled={c['dialled']} " +
                         " ".join(f"{k}={v}" for k, v in c["outcomes"].items() if v) +
                         ("" if c["in_window"] else " (outside its dialing windows)")
                         for n, c in data.items()) or "no campaigns"
    return "\n".join(f"{n:<10} waiting={q['waiting']} entered={q['entered']} "
                     f"answered={q['answered']} sl={q['service_level']} "
                     f"abandon={q['abandon_rate']}" + _skills(q.get("skills")) +
                     f" agents={','.join(q.get('agents', {})) or 'none'}"
                     for n, q in data.items())


def _skills(skills: dict[str, int] | None) -> str:
    """`` skills=sales:8,english:5`` (an agent's levels, a queue's minimum levels), or ''."""
    return " skills=" + ",".join(f"{k}:{v}" for k, v in skills.items()) if skills else ""


def show(args) -> int:
    url, token = endpoint(args)
    data = asyncio.run(fetch(url, token, [args.view]))[args.view]
    print(json.dumps(data) if args.json else _human(args.view, data))
    return 0


def _summary(data: dict) -> str:
    st = data["stats"]
    alarmed = {n: s["alarms"] for n, s in data["spans"].items() if s["alarms"]}
    states: dict[str, int] = {}
    for a in data["agents"]:
        states[a["state"]] = states.get(a["state"], 0) + 1
    lines = [f"kernel   ticks={st['ticks']} cpu={st['cpu_fraction'] * 100:.1f}% "
             f"overruns={st['overruns']} jitter p99={st['jitter_ms_p99']} ms",
             f"spans    {len(data['spans'])}, in alarm: " +
             (", ".join(f"{n} ({','.join(a)})" for n, a in alarmed.items()) or "none"),
             f"links    {len(data['links'])}: " + ", ".join(
                 f"{n} calls={t['calls']}" for n, t in data["links"].items()),
             f"calls    {len(data['calls'])} active",
             "agents   " + (", ".join(f"{n} {k}" for k, n in sorted(states.items())) or "none"),
             "queues   " + (", ".join(f"{n} waiting={q['waiting']} sl={q['service_level']}"
                                     for n, q in data["queues"].items()) or "none"),
             "campaigns " + (", ".join(f"{n} {c['state']} pending={c['pending']} "
                                       f"dialled={c['dialled']} answered={c['answered']}"
                                       for n, c in data["campaigns"].items()) or "none")]
    return "\n".join(lines)


def status(args) -> int:
    """One summary of a running kernel (``--json``: every view in one document)."""
    url, token = endpoint(args)
    data = asyncio.run(fetch(url, token, ["stats", "spans", "links", "calls", "agents",
                                          "queues", "campaigns"]))
    print(json.dumps(data) if args.json else _summary(data))
    return 0


def top(args) -> int:
    url, token = endpoint(args)
    views = ["spans", "links", "queues", "agents", "calls"]
    n = 0
    try:
        while args.count is None or n < args.count:
            data = asyncio.run(fetch(url, token, [*views, "stats"]))
            if args.json:
                print(json.dumps(data), flush=True)
            else:
                if sys.stdout.isatty():
                    print("\x1b[2J\x1b[H", end="")
                st = data["stats"]
                print(f"cti top  {time.strftime('%H:%M:%S')}  ticks={st['ticks']} "
                      f"cpu={st['cpu_fraction'] * 100:.1f}% overruns={st['overruns']} "
                      f"jitter p99={st['jitter_ms_p99']} ms")
                for v in views:
                    print(f"\n[{v}]\n{_human(v, data[v])}")
            n += 1
            if args.count is None or n < args.count:
                time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    return 0


def _common(p) -> None:
    p.add_argument("--json", action="store_true", help="JSON (top: one document per refresh)")
    p.add_argument("--url", help="control API url (ws://127.0.0.1:PORT/)")
    p.add_argument("--token", help="control API token")
    p.add_argument("--state", help="state file written by `cti run`")


def register(sub) -> None:
    for view, doc in VIEWS.items():
        p = sub.add_parser(view, help=f"{doc} of a running kernel")
        _common(p)
        p.set_defaults(func=show, view=view)
    p = sub.add_parser("status", help="summary of a running kernel: tick load, spans in "
                                      "alarm, links, calls, agents, queues, campaigns")
    _common(p)
    p.set_defaults(func=status)
    p = sub.add_parser("top", help="live view of a running kernel")
    _common(p)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--count", type=int, help="refreshes before exiting (default: until ^C)")
    p.set_defaults(func=top)


__all__ = ["register"]
