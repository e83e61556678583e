"""``cti diag``: span alarms and counters, loopbacks, BERT, test tone, level, monitor.

The logic lives in :mod:`drivers.diagnostics`; this module parses arguments, builds the
rig (``--sim`` two simulated spans back to back with ``--impair`` on the far -> near
direction, or a span of a board from ``--config FILE --span BOARD:N``) and prints tables
for people or one JSON document with ``--json``.  Progress goes to stderr on a terminal.

``alarms`` and ``counters`` also read a *running* kernel through its control API instead
of opening a board (``--api URL --token T``, ``--state FILE``, or ``--kernel`` for the
state file ``cti run`` writes): every span, or ``--span BOARD:N``; with ``--seconds S``
the counters are read twice, S seconds apart, and their increase is reported too.
Exit status: 0 when the measurement ran, 1 when it failed (board error, BERT never in
sync, no tone found), 2 on a usage error.
"""

from __future__ import annotations

import json
import sys

from core.errors import ConfigError
from cti.cli import UsageError
from drivers import diagnostics as dg
from drivers.base import BoardError, Framing, Loopback, Signalling, SpanConfig

DEFAULT_SECONDS = {"alarms": 1.0, "counters": 1.0, "loopback": 2.0, "bert": 10.0, "tone": 1.0,
                   "level": 1.0, "monitor": 5.0}


def _progress(args):
    if not (args.progress or sys.stderr.isatty()):
        return dg._no_progress

    def show(fraction: float) -> None:
        end = "\n" if fraction >= 1.0 else ""
        print(f"\rcti diag {args.what}: {fraction * 100:3.0f}%", end=end, file=sys.stderr,
              flush=True)
    return show


def _span_config(args) -> SpanConfig:
    return SpanConfig(framing=Framing(args.framing), signalling=Signalling(args.signalling))


def _board_rig(args) -> dg.Rig:
    """A span of a board described in the TOML config: ``--span BOARD:N`` (N from 1)."""
    from cti.config import Config

    try:
        cfg = Config.load(args.config)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    board_name, _, num = args.span.partition(":")
    table = next((b for b in cfg["board"] if b["name"] == board_name), None)
    if table is None:
        raise UsageError(f"{args.config}: no board named {board_name!r}")
    try:
        index = int(num or 1) - 1
    except ValueError:
        raise UsageError(f"--span must be BOARD:N, not {args.span!r}") from None
    board = _open_board(table)
    if not 0 <= index < len(board.spans):
        board.close()
        raise UsageError(f"board {board_name!r} has {len(board.spans)} span(s)")
    return dg.Rig.real(board.spans[index], board, args.frames)


def _open_board(table: dict):
    kind, name = table["type"], table["name"]
    if kind == "dahdi":
        from drivers.dahdi import DahdiBoard
        board = DahdiBoard(name, {f"{name}:{i + 1}": int(table["device"] or 1) + i
                                  for i in range(table["spans"])})
    elif kind == "pseudowire":
        from drivers.pseudowire import PseudowireBoard, PseudowireConfig
        if not table["device"] or not table["peer"]:
            raise UsageError(f"pseudowire board {name!r} needs device (UDP port) and peer")
        host, _, port = table["peer"].rpartition(":")
        board = PseudowireBoard(name, {f"{name}:1": PseudowireConfig(
            mode=table["mode"], local=("127.0.0.1", int(table["device"])),
            remote=(host, int(port)))})
    else:
        from drivers.sim import SimBoard
        board = SimBoard.from_config(name, {k: table[k] for k in
                                            ("type", "spans", "framing", "signalling", "clock")})
    board.open()
    return board


def _rig(args) -> dg.Rig:
    if args.sim:
        if args.config or args.span:
            raise UsageError("--sim builds its own spans: no --config/--span with it")
        try:
            return dg.Rig.sim(args.impair, _span_config(args), args.frames)
        except ValueError as e:
            raise UsageError(str(e)) from None
    if args.impair != "none":
        raise UsageError("--impair needs --sim (a real line brings its own faults)")
    if not (args.config and args.span):
        raise UsageError("give --sim, or --config FILE --span BOARD:N")
    return _board_rig(args)


def _timeslots(args) -> list[int]:
    try:
        return dg.parse_timeslots(args.timeslots, _span_config(args))
    except ValueError as e:
        raise UsageError(str(e)) from None


def _fmt_status(report: dict) -> str:
    lines = []
    for side, st in report.items():
        parts = [f"{side:5}"]
        if "alarms" in st:
            parts.append("alarms: " + (" ".join(st["alarms"]) or "none"))
        for key in ("counters", "pseudowire"):
            if key in st:
                parts.append("  ".join(f"{k}={v}" for k, v in st[key].items()))
        lines.append("   ".join(parts))
        if "delta" in st:  # read from a kernel twice: what grew in between
            lines.append(f"{'':5}   increase: " +
                         "  ".join(f"{k}={v}" for k, v in st["delta"].items()))
    return "\n".join(lines)


def _ranges(timeslots: list[int]) -> str:
    """[1, 2, 3, 5] -> "1-3,5"."""
    runs: list[list[int]] = []
    for t in timeslots:
        if runs and runs[-1][1] == t - 1:
            runs[-1][1] = t
        else:
            runs.append([t, t])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _fmt_bert(r: dict | None) -> str:
    if r is None:
        return "no BERT from this side: the far end tests through the loop"
    ber = "n/a" if r["ber"] is None else f"{r['ber']:.3e}"
    ts = _ranges(r["timeslots"])
    out = (f"BERT {r['pattern']} on TS {ts} for {r['seconds']:g} s: bits {r['bits']:,}  "
           f"errors {r['errors']:,}  BER {ber}  sync losses {r['sync_losses']}  "
           f"{'in sync' if r['in_sync'] else 'NOT IN SYNC'}")
    if r.get("inserted"):
        out += f"  (inserted {r['inserted']})"
    for t, s in (r.get("per_timeslot") or {}).items():
        out += f"\n  TS{t:<3} bits {s['bits']:,}  errors {s['errors']:,}  sync losses " \
               f"{s['sync_losses']}"
    return out


def _measure(args, rig: dg.Rig) -> tuple[dict, str, int]:
    """Run the command: (JSON document, human text, exit status)."""
    seconds = args.seconds if args.seconds is not None else DEFAULT_SECONDS[args.what]
    if seconds <= 0:
        raise UsageError("--seconds must be positive")
    prog = _progress(args)
    what = args.what
    if what in ("alarms", "counters"):
        keys = ("alarms", "counters") if what == "alarms" else ("counters",)
        doc = dg.status_report(rig, seconds, prog, keys)
        return doc, _fmt_status(doc), 0
    if what == "bert":
        doc = dg.bert(rig, _timeslots(args), args.pattern, seconds, args.separate,
                      args.inject_rate, args.inject, progress=prog)
        return doc, _fmt_bert(doc), 0 if doc["in_sync"] else 1
    if what == "loopback":
        doc = dg.loopback(rig, Loopback(args.mode), _timeslots(args), args.pattern, seconds,
                          args.keep, prog)
        text = f"{doc['span']}: {doc['loopback']} loopback" + \
            (" (kept)" if doc["kept"] else "") + "\n" + _fmt_bert(doc["bert"])
        ok = doc["bert"] is None or doc["bert"]["in_sync"]
        return doc, text, 0 if ok else 1
    if what == "tone":
        doc = dg.tone(rig, args.timeslot, args.hz, args.dbm0, seconds, args.law, prog)
        m = doc["measured"]
        hz = "no tone" if m["hz"] is None else f"{m['hz']:.2f} Hz"
        text = (f"TS{doc['timeslot']}: sent {args.hz:g} Hz {args.dbm0:g} dBm0, measured "
                f"{hz} {m['dbm0']:.2f} dBm0")
        return doc, text, 0 if m["hz"] is not None else 1
    send = args.send if args.send is not None else (1004.0 if args.sim else None)
    if what == "level":
        doc = dg.level(rig, args.timeslot, seconds, args.law, send, args.send_level, prog)
        text = (f"TS{doc['timeslot']}: {doc['dbm0']:.2f} dBm0 (20 ms min "
                f"{doc['min_dbm0']} max {doc['max_dbm0']})")
        return doc, text, 0
    if not args.out:
        raise UsageError("monitor needs --out FILE.wav")
    doc = dg.monitor(rig, args.timeslot, args.out, seconds, args.law, send, args.send_level,
                     prog)
    text = (f"TS{doc['timeslot']}: {doc['seconds']:g} s to {doc['path']} (left received "
            f"{doc['rx_dbm0']:.1f} dBm0, right sent {doc['tx_dbm0']:.1f} dBm0)")
    return doc, text, 0


def _kernel_mode(args) -> bool:
    """alarms/counters given --api, --token, --state or --kernel (other commands lack them)."""
    return any(getattr(args, k, None) for k in ("url", "token", "state", "kernel"))


async def _read_spans(url: str, token: str, span: str | None, seconds: float | None) -> dict:
    """{span: {"alarms", "counters", ...}} from the kernel's ``span`` view; with
    ``seconds``, ``delta``: how much each counter grew over that time."""
    import asyncio

    from cti.client import ApiRequestError, Client

    async def read(c: Client) -> dict:
        names = [span] if span else list(await c.call("spans"))
        return {n: await c.call("span", name=n) for n in names}

    try:
        async with Client(url, token) as c:
            first = await read(c)
            if not seconds:
                return first
            await asyncio.sleep(seconds)
            last = await read(c)
    except ApiRequestError as e:
        if e.code == "not_found":
            raise UsageError(str(e)) from None
        raise BoardError(f"the kernel at {url}: {e}") from None
    except OSError as e:
        raise BoardError(f"cannot reach the kernel at {url}: {e}") from None
    for n, st in last.items():
        before = first.get(n, {}).get("counters", {})
        st["delta"] = {k: v - before.get(k, 0) for k, v in st["counters"].items()}
    return last


def _from_kernel(args) -> int:
    """``alarms``/``counters`` of a running kernel, read through its control API."""
    import asyncio

    from cti.commands.status import endpoint

    if args.sim or args.config or args.impair != "none":
        raise UsageError("--api/--state read a running kernel: no --sim, --config or --impair")
    if args.seconds is not None and args.seconds <= 0:
        raise UsageError("--seconds must be positive")
    url, token = endpoint(args)
    try:
        doc = asyncio.run(_read_spans(url, token, args.span, args.seconds))
    except BoardError as e:
        print(f"cti diag: {e}", file=sys.stderr)
        return 1
    keys = ("alarms", "counters", "delta") if args.what == "alarms" else ("counters", "delta")
    doc = {n: {k: v for k, v in st.items() if k in keys or k == "pseudowire"}
           for n, st in doc.items()}
    print(json.dumps(doc) if args.json else _fmt_status(doc))
    return 0


def run(args) -> int:
    if _kernel_mode(args):
        return _from_kernel(args)
    try:
        rig = _rig(args)
    except BoardError as e:
        print(f"cti diag: {e}", file=sys.stderr)
        return 1
    try:
        doc, text, status = _measure(args, rig)
    except BoardError as e:
        print(f"cti diag: {e}", file=sys.stderr)
        return 1
    except ValueError as e:
        raise UsageError(str(e)) from None
    finally:
        rig.close()
    print(json.dumps(doc) if args.json else text)
    return status


def register(sub) -> None:
    p = sub.add_parser("diag", help="alarms, counters, loopback, BERT, test tone, level, monitor")
    inner = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    common = [
        (("--sim",), {"action": "store_true",
                      "help": "two simulated spans back to back (near receives the fault)"}),
        (("--impair",), {"default": "none",
                         "help": "with --sim: none, los, ais, ber=1e-4, burst=BITS[@PERIOD], "
                                 "slip=100ppm; join with +"}),
        (("--seconds",), {"type": float, "help": "simulated (or real) time to run"}),
        (("--json",), {"action": "store_true", "help": "one JSON document"}),
        (("--config",), {"help": "TOML config with the board"}),
        (("--span",), {"help": "BOARD:N, the span under test (with --config)"}),
        (("--frames",), {"type": int, "default": 160, "help": "frames per block (160 = 20 ms)"}),
        (("--framing",), {"default": "crc4", "choices": ("crc4", "no-crc4")}),
        (("--signalling",), {"default": "ccs", "choices": ("ccs", "cas")}),
        (("--law",), {"default": "alaw", "choices": ("alaw", "ulaw")}),
        (("--progress",), {"action": "store_true", "help": "progress on stderr even off a tty"}),
    ]
    helps = {"alarms": "span alarms (LOS, LOF, AIS, RAI, LOMF) and counters",
             "counters": "span error counters", "loopback": "set a loopback and BERT through it",
             "bert": "bit error ratio test with a PRBS", "tone": "send and measure a test tone",
             "level": "level meter in dBm0", "monitor": "record a timeslot to WAV"}
    for what, text in helps.items():
        q = inner.add_parser(what, help=text)
        for flags, kw in common:
            q.add_argument(*flags, **kw)
        if what in ("alarms", "counters"):
            q.add_argument("--api", "--url", dest="url",
                           help="a running kernel's control API url (ws://127.0.0.1:PORT/)")
            q.add_argument("--token", help="the control API token")
            q.add_argument("--state", help="the state file `cti run` writes (url and token)")
            q.add_argument("--kernel", action="store_true",
                           help="the running kernel of the default state file")
        if what in ("bert", "loopback"):
            q.add_argument("--timeslots", default="all" if what == "bert" else "1-31",
                           help="e.g. 1-15,17-31, 5, or all")
            q.add_argument("--pattern", default="2^15-1",
                           help="2^9-1, 2^11-1, 2^15-1, 2^20-1, 2^23-1")
        if what == "bert":
            q.add_argument("--separate", action="store_true",
                           help="one PRBS per timeslot instead of one N x 64 kbit/s channel")
            q.add_argument("--inject-rate", type=float, default=0.0,
                           help="insert errors at this ratio")
            q.add_argument("--inject", type=int, default=0,
                           help="insert this many single errors mid-run")
        if what == "loopback":
            q.add_argument("mode", choices=[m.value for m in Loopback])
            q.add_argument("--keep", action="store_true", help="leave the loopback set")
        if what in ("tone", "level", "monitor"):
            q.add_argument("--timeslot", type=int, default=1)
        if what == "tone":
            q.add_argument("--hz", type=float, default=1004.0)
            q.add_argument("--dbm0", type=float, default=-13.0)
        if what in ("level", "monitor"):
            q.add_argument("--send", type=float,
                           help="far end sends a tone of this frequency (--sim: 1004 Hz)")
            q.add_argument("--send-level", type=float, default=-13.0)
        if what == "monitor":
            q.add_argument("--out", help="WAV file to write (stereo: received, sent)")
        q.set_defaults(func=run)
