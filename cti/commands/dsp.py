"""``cti dsp``: offline DSP tools - run every tone detector over a file, generate tones.

``cti dsp detect FILE [--json] [--plan itu|cn]`` reads WAV (PCM16/A-law/mu-law, 8 kHz
mono) or raw .alaw/.ulaw and prints what the detectors found, sorted by start time:
kind ``dtmf``, ``r2f``/``r2b`` (MFC-R2 signals 1..15, when timeslot.r2mf is built),
``cpt`` (tone names of the plan), ``fax`` (CNG/CED/ANS) and ``tone`` (steady single
tone, e.g. "1004Hz -13.0dBm0").  ``--json`` prints one JSON object a line.

``cti dsp gen OUT.wav --dtmf 123# | --r2f 1,2,3 | --r2b 1,2 | --cpt busy | --tone 1004``
writes a WAV file (``--law alaw|ulaw|pcm16``, ``--level`` dBm0, ``--seconds``).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from core.errors import ConfigError
from cti.cli import UsageError
from timeslot.audiofile import AudioFileError, read_audio, write_wav
from timeslot.cpt import CallProgressDetector
from timeslot.events import Event, Kind
from timeslot.faxtone import NAMES as FAX_NAMES
from timeslot.faxtone import FaxToneDetector
from timeslot.level import ToneMeter, describe_tone
from timeslot.tonegen import synth
from timeslot.toneplans import PLANS

RATE = 8000
GEN_LAWS = {"alaw": "alaw", "ulaw": "ulaw", "pcm16": "linear"}


def _optional(module: str, name: str) -> Any | None:
    """A detector class another block provides, or None while it is not built."""
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        return None


def detectors(plan: str, law: str) -> list[tuple[Any, Callable[[Event], tuple[str, str]]]]:
    """(detector, event -> (kind, value)) for every detector available."""
    cpt = CallProgressDetector(1, plan, law)
    out: list[tuple[Any, Callable[[Event], tuple[str, str]]]] = [
        (cpt, lambda e: ("cpt", cpt.name(e.value))),
        (FaxToneDetector(1, law), lambda e: ("fax", FAX_NAMES[e.value])),
        (ToneMeter(1, law), lambda e: ("tone", describe_tone(e.value, e.extra))),
    ]
    dtmf = _optional("timeslot.dtmf", "DtmfDetector")
    if dtmf is not None:
        out.append((dtmf(1, law), lambda e: ("dtmf", chr(e.value))))
    r2 = _optional("timeslot.r2mf", "R2MfDetector")
    if r2 is not None:
        for direction in ("forward", "backward"):
            out.append((r2(1, direction, law),
                        lambda e: ("r2f" if e.kind == Kind.R2F else "r2b", str(e.value))))
    return out


def detect(args) -> int:
    try:
        samples, law = read_audio(args.file, args.law)
    except AudioFileError as e:
        raise UsageError(str(e)) from None
    block = samples.reshape(1, -1)
    rows = []
    for det, describe in detectors(args.plan, law):
        for ev in det.process(block) + det.finish():
            if ev.end < 0:      # onset report of a signal whose end is reported too
                continue
            kind, value = describe(ev)
            rows.append({"start": round(ev.start / RATE, 3), "end": round(ev.end / RATE, 3),
                         "kind": kind, "value": value})
    rows.sort(key=lambda r: (r["start"], r["kind"]))
    if args.json:
        for r in rows:
            print(json.dumps(r))
    else:
        print(f"{'start':>9} {'end':>9}  {'kind':<5} value")
        for r in rows:
            print(f"{r['start']:9.3f} {r['end']:9.3f}  {r['kind']:<5} {r['value']}")
        print(f"{len(rows)} event(s), {samples.size / RATE:.3f} s of {law}")
    return 0


def _signal(args, law: str) -> np.ndarray:
    if args.dtmf is not None:
        kw = {} if args.level is None else {"level_low": args.level,
                                            "level_high": args.level + 2.0}
        return synth(f"dtmf:{args.dtmf}", args.seconds, law, **kw)
    if args.r2f is not None or args.r2b is not None:
        what = f"r2f:{args.r2f}" if args.r2f is not None else f"r2b:{args.r2b}"
        kw = {} if args.level is None else {"level": args.level}
        return synth(what, args.seconds, law, **kw)
    if args.cpt is not None:
        return synth(args.cpt, 10.0 if args.seconds is None else args.seconds, law, args.plan,
                     level=args.level)
    kw = {} if args.level is None else {"level": args.level}
    return synth(float(args.tone), args.seconds, law, **kw)


def gen(args) -> int:
    law = GEN_LAWS[args.law]
    if args.seconds is not None and args.seconds <= 0:
        raise UsageError("--seconds must be positive")
    try:
        signal = _signal(args, law)
    except (ValueError, ConfigError) as e:
        raise UsageError(str(e)) from None
    try:
        write_wav(args.out, signal, law)
    except OSError as e:
        raise UsageError(f"{args.out}: {e.strerror or e}") from None
    print(f"{args.out}: {signal.size / RATE:.3f} s {args.law}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("dsp", help="offline DSP: detect tones in a file, generate tones")
    dsp = p.add_subparsers(dest="dsp_command", metavar="ACTION", required=True)

    d = dsp.add_parser("detect", help="run all tone detectors over a WAV/A-law/mu-law file")
    d.add_argument("file")
    d.add_argument("--json", action="store_true", help="one JSON object per line")
    d.add_argument("--plan", choices=sorted(PLANS), default="itu", help="call-progress plan")
    d.add_argument("--law", choices=("alaw", "ulaw"),
                   help="coding of a raw file whose extension does not say")
    d.set_defaults(func=detect)

    g = dsp.add_parser("gen", help="generate DTMF, MFC-R2, call-progress or test tones")
    g.add_argument("out", help="output WAV file")
    what = g.add_mutually_exclusive_group(required=True)
    what.add_argument("--dtmf", metavar="DIGITS", help="DTMF digits (Q.23), e.g. 123#")
    what.add_argument("--r2f", metavar="N,N", help="MFC-R2 forward signals 1..15 (Q.441)")
    what.add_argument("--r2b", metavar="N,N", help="MFC-R2 backward signals 1..15")
    what.add_argument("--cpt", metavar="TONE", help="call-progress tone of --plan, e.g. busy")
    what.add_argument("--tone", type=float, metavar="HZ", help="single tone, e.g. 1004")
    g.add_argument("--plan", choices=sorted(PLANS), default="itu")
    g.add_argument("--level", type=float, help="dBm0 per frequency (default per signal)")
    g.add_argument("--seconds", type=float, help="length (default: natural length, 10 s "
                                                 "for call-progress, 4 s for a tone)")
    g.add_argument("--law", choices=sorted(GEN_LAWS), default="alaw")
    g.set_defaults(func=gen)
