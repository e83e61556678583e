"""``cti campaign ACTION NAME ...``: control an outbound campaign of a running kernel through
its control API (docs/dialer.md): start, pause, stop, status, contacts, add a contact, put a
number on the do-not-call list.  ``cti campaigns`` lists them all (:mod:`cti.commands.status`)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from cti.cli import UsageError
from cti.commands.status import _common, _human, endpoint

ACTIONS = {
    "start": "start or resume dialing",
    "pause": "no new calls; calls and previews in progress go on",
    "stop": "no new calls; previews withdrawn",
    "status": "the campaign's state, contacts and outcome counts",
    "contacts": "every contact with its attempts, last outcome and result",
    "add": "add a contact: NUMBER [NAME...]",
    "dnc": "never call NUMBER",
}


async def _call(url: str, token: str, op: str, params: dict[str, Any]) -> Any:
    from cti.client import Client

    async with Client(url, token) as c:
        return await c.call(op, **params)


def _text(action: str, name: str, result: Any) -> str:
    if action == "status":
        return _human("campaigns", {name: result})
    if action == "contacts":
        return "\n".join(f"{c['number']:<16} {c['name'][:20]:<20} {c['state']:<9} "
                         f"attempts={c['attempts']} last={c['outcome'] or '-'} "
                         f"result={c['result'] or '-'}" for c in result) or "no contacts"
    if action == "add":
        return (f"{result['number']} {result['name']}".strip() + f": {result['state']}" +
                (f" ({result['result']})" if result["result"] else ""))
    return str(result)


def run(args) -> int:
    params: dict[str, Any] = {"campaign": args.name}
    if args.action in ("add", "dnc"):
        if args.number is None:
            raise UsageError(f"cti campaign {args.action} needs a NUMBER")
        params["number"] = args.number
        if args.contact:
            if args.action == "dnc":
                raise UsageError("cti campaign dnc takes a NUMBER only")
            params["name"] = " ".join(args.contact)
    elif args.number is not None:
        raise UsageError(f"cti campaign {args.action} takes the campaign's name only")
    url, token = endpoint(args)
    from cti.client import ApiRequestError

    try:
        result = asyncio.run(_call(url, token, f"campaign.{args.action}", params))
    except ApiRequestError as e:
        print(f"cti campaign: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        raise UsageError(f"cannot reach the kernel at {url}: {e}") from None
    print(json.dumps(result) if args.json else _text(args.action, args.name, result))
    return 0


def register(sub) -> None:
    p = sub.add_parser("campaign", help="control an outbound campaign of a running kernel: "
                       + ", ".join(ACTIONS),
                       description="; ".join(f"{a}: {d}" for a, d in ACTIONS.items()))
    p.add_argument("action", choices=tuple(ACTIONS))
    p.add_argument("name", help="the campaign")
    p.add_argument("number", nargs="?", help="add, dnc: the number")
    p.add_argument("contact", nargs="*", help="add: the contact's name")
    _common(p)
    p.set_defaults(func=run)


__all__ = ["register"]
