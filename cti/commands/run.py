"""``cti run [CONFIG]``: run the kernel from a TOML config with the control API open."""

from __future__ import annotations

import asyncio
import sys

from core.errors import ConfigError
from cti.cli import UsageError


def run(args) -> int:
    from cti.config import Config
    from cti.runtime import Runtime, state_path

    if args.config is None:
        from cti.commands.lab import run as lab

        args.realtime, args.json = True, False
        args.calls, args.agents, args.seed, args.trunks, args.cdr = 200, 10, 1, None, None
        return lab(args)  # args.state is shared: `cti top` finds the lab
    try:
        cfg = Config.load(args.config)
        rt = Runtime(cfg, virtual=False if args.realtime else None)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    state = args.state or state_path()
    print(f"cti run: {args.config}: {len(rt.spans)} spans, {len(rt.trunks)} trunks, "
          f"{len(rt.agents)} agents; control API state in {state}", file=sys.stderr)
    loop = rt.kernel.loop
    task = loop.create_task(rt.serve(state))
    try:
        if args.seconds:
            loop.run_until_complete(asyncio.sleep(args.seconds))
        else:
            loop.run_until_complete(task)
    except KeyboardInterrupt:
        pass
    finally:
        task.cancel()
        try:
            loop.run_until_complete(task)
        except (asyncio.CancelledError, Exception):
            pass
        if rt.errors:
            print("\n".join(f"error: {e}" for e in rt.errors), file=sys.stderr)
        rt.close()
    return 1 if rt.errors else 0


def register(sub) -> None:
    p = sub.add_parser("run", help="run the kernel from a TOML config (no config: the lab in "
                                   "real time)")
    p.add_argument("config", nargs="?", help="TOML configuration (docs/config.md)")
    p.add_argument("--realtime", action="store_true", help="force the real-time clock")
    p.add_argument("--seconds", type=float, help="stop after this many seconds of kernel time")
    p.add_argument("--state", help="where to write the control API url and token")
    p.set_defaults(func=run)
