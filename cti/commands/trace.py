"""``cti trace TRUNK FILE`` / ``cti trace TRUNK --stop``: the signalling of a running kernel's
trunk to a file on the kernel's host, through its control API (``trunk.trace``): pcap for an
ISDN D-channel or SS7 links (``cti decode FILE``, tshark), the ``.r2log`` text trace of its
circuits for R2 (``cti decode``).  ``--seconds N`` stops again after N seconds."""

from __future__ import annotations

import asyncio
import json
import os

from cti.cli import UsageError
from cti.commands.status import _common, endpoint


async def _trace(url: str, token: str, trunk: str, path: str | None,
                 seconds: float | None) -> dict:
    from cti.client import ApiRequestError, Client

    try:
        async with Client(url, token) as c:
            result = await c.call("trunk.trace", trunk=trunk, path=path)
            if seconds is not None and path is not None:
                await asyncio.sleep(seconds)
                result = await c.call("trunk.trace", trunk=trunk, path=None)
                result["written"] = path
            return result
    except ApiRequestError as e:
        raise UsageError(f"trunk.trace: {e}") from None
    except OSError as e:
        raise UsageError(f"cannot reach the kernel at {url}: {e}") from None


def run(args) -> int:
    if (args.file is None) == (not args.stop):
        raise UsageError("give a pcap FILE to start, or --stop")
    if args.seconds is not None and (args.stop or args.seconds <= 0):
        raise UsageError("--seconds needs a FILE and a positive number")
    url, token = endpoint(args)
    path = None if args.stop else os.path.abspath(args.file)
    result = asyncio.run(_trace(url, token, args.trunk, path, args.seconds))
    if args.json:
        print(json.dumps(result))
    elif result.get("written"):
        print(f"{args.trunk}: traced for {args.seconds:g} s to {result['written']}")
    elif result["tracing"]:
        print(f"{args.trunk}: tracing to {result['tracing']} (cti trace {args.trunk} --stop)")
    else:
        print(f"{args.trunk}: not traced")
    return 0


def register(sub) -> None:
    p = sub.add_parser("trace", help="a running kernel's trunk signalling to a file (pcap, "
                                      ".r2log)")
    p.add_argument("trunk", help="trunk name (see `cti links`)")
    p.add_argument("file", nargs="?", help="file to write on the kernel's host (pcap; .r2log "
                                            "for R2)")
    p.add_argument("--stop", action="store_true", help="stop tracing and close the file")
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    _common(p)
    p.set_defaults(func=run)


__all__ = ["register"]
