"""``cti decode``: decode signalling from hex or from a capture (pcap, pcapng) or trace file.

Each signalling package provides ``<pkg>.decode`` with:

* ``PROTOS``: ``{"q931": fn, ...}`` - ``fn(data: bytes) -> list[dict]`` for ``--proto NAME HEX``;
* ``LINKTYPES``: ``{177: fn, ...}`` - the same for one pcap record of that link type;
* ``SUFFIXES`` (optional): ``{".r2log": fn}`` - ``fn(path) -> Iterable[dict]`` for trace files;
* ``variant_tables`` (optional): ``fn(name) -> (PROTOS, LINKTYPES)`` for ``--variant NAME``
  (e.g. ``cn``: China 24-bit point codes); it raises KeyError for a name it does not know.

Records are JSON-ready dicts with at least ``layer`` and ``message``; this command adds
``time`` for capture records and prints one line (or one JSON line) per record.  A record
that fails to decode is printed with ``"error"`` and the command exits 1.

Captures are classic pcap or pcapng (``core.capture``); each packet is decoded by the
table entry of its own interface's link type.  IP link types (``core.ipsctp.IP_LINKTYPES``:
Ethernet, Linux SLL/SLL2, raw IP, BSD loopback) are taken down to their SCTP DATA chunks
here, each given to the ``PROTOS`` entry named for its payload protocol (m3ua, m2ua, m2pa,
iua).
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterable
from functools import partial

from core import ipsctp
from core.capture import read_capture
from core.errors import DecodeError
from cti.cli import UsageError

STACKS = ("isdn", "ss7", "r2")


def _tables(variant: str | None = None) -> tuple[dict[str, Callable], dict[int, Callable],
                                                 dict[str, Callable]]:
    protos: dict[str, Callable] = {}
    linktypes: dict[int, Callable] = {}
    suffixes: dict[str, Callable] = {}
    known = False  # a variant names one stack's network (ISDN ni2, SS7 cn); the others default
    for pkg in STACKS:
        try:
            mod = importlib.import_module(f"{pkg}.decode")
        except ModuleNotFoundError as e:
            if e.name != f"{pkg}.decode":
                raise
            continue
        mod_protos, mod_links = getattr(mod, "PROTOS", {}), getattr(mod, "LINKTYPES", {})
        if variant is not None and hasattr(mod, "variant_tables"):
            try:
                mod_protos, mod_links = mod.variant_tables(variant)
                known = True
            except KeyError:
                pass
        protos.update(mod_protos)
        linktypes.update(mod_links)
        suffixes.update(getattr(mod, "SUFFIXES", {}))
    if variant is not None and not known:
        raise UsageError(f"unknown variant {variant!r}")
    for linktype in ipsctp.IP_LINKTYPES:
        linktypes[linktype] = partial(ipsctp.decode_packet, linktype, protos=protos)
    return protos, linktypes, suffixes


def _human(rec: dict) -> str:
    head = []
    if "time" in rec:
        head.append(f"{rec['time']:12.6f}")
    head.append(f"{rec.get('layer', '?'):5}")
    if rec.get("direction"):
        head.append(rec["direction"])
    head.append(str(rec.get("message", "?")))
    rest = {k: v for k, v in rec.items()
            if k not in ("time", "layer", "direction", "src", "dst", "message", "fields")
            and v is not None}
    rest.update({k: v for k, v in (rec.get("fields") or {}).items() if v is not None})
    return "  ".join(head) + ("  " + " ".join(f"{k}={v}" for k, v in rest.items()) if rest else "")


def _records(args) -> Iterable[dict]:
    protos, linktypes, suffixes = _tables(getattr(args, "variant", None))
    if args.proto:
        fn = protos.get(args.proto)
        if fn is None:
            known = ", ".join(sorted(protos))
            raise UsageError(f"unknown protocol {args.proto!r} (known: {known})")
        try:
            data = bytes.fromhex("".join(args.input.split()).replace(":", ""))
        except ValueError as e:
            raise UsageError(f"not hex: {e}") from None
        try:
            yield from fn(data)
        except DecodeError as e:
            yield {"layer": args.proto, "message": None, "error": str(e)}
        return
    path = args.input
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    suffix = os.path.splitext(path)[1]
    if suffix in suffixes:
        yield from suffixes[suffix](path)
        return
    try:
        packets = read_capture(path)
    except DecodeError as e:
        raise UsageError(f"{path}: {e}") from None
    try:
        for ts, linktype, pkt in packets:
            fn = linktypes.get(linktype)
            if fn is None:
                out = [{"layer": "?", "message": None,
                        "error": f"no decoder for link type {linktype}"}]
            else:
                try:
                    out = fn(pkt)
                except DecodeError as e:
                    out = [{"layer": "?", "message": None, "error": str(e)}]
            stamp = {} if ts is None else {"time": round(ts, 6)}
            for rec in out:
                yield {**stamp, **rec}
    except DecodeError as e:
        raise UsageError(f"{path}: {e}") from None


def run(args) -> int:
    status = 0
    for rec in _records(args):
        if rec.get("error"):
            status = 1
        print(json.dumps(rec) if args.json else _human(rec))
    return status


def register(sub) -> None:
    p = sub.add_parser("decode", help="decode LAPD/Q.931, MTP2/MTP3/ISUP/TUP, "
                       "M3UA/M2UA/M2PA/IUA, R2 from hex, pcap or pcapng")
    p.add_argument("input", help="a pcap/pcapng capture or trace file, or hex octets with --proto")
    p.add_argument("--proto", help="decode INPUT as hex of this protocol "
                   "(q931, lapd, iua, mtp2, m3ua, ...)")
    p.add_argument("--json", action="store_true", help="JSON lines, one per message")
    p.add_argument("--variant", help="network variant: SS7 itu, cn (China 24-bit point codes); "
                   "ISDN etsi, etsi_bri, ni2, qsig (national information element forms)")
    p.set_defaults(func=run)
