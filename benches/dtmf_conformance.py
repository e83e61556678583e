"""DTMF conformance table: our receiver against spandsp's dtmf_rx on the same signals.

Every row of tests/dsp_signals.dtmf_rows (Q.24 bounds, all 16 digits, random block
alignment, A-law round trip), the noise curve and talk-off on multilingual speech.  The
peer gets the same A-law signal decoded to linear, through cffi in ABI mode
(dtmf_rx_init(NULL, callback, user_data), dtmf_rx).

    python benches/dtmf_conformance.py [--seed N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import dsp_signals as s  # noqa: E402
from timeslot.dtmf import DtmfDetector  # noqa: E402
from timeslot.spandsp_abi import spandsp  # noqa: E402

Receiver = Callable[[np.ndarray], str]


def ours(codes: np.ndarray) -> str:
    det = DtmfDetector(1)
    events = []
    for at in range(0, len(codes), 160):
        events += det.process(codes[None, at:at + 160])
    return "".join(chr(e.value) for e in events + det.finish())


def peer_receiver() -> Receiver | None:
    peer = spandsp()
    if peer is None:
        return None
    ffi, lib = peer
    got: list[str] = []

    @ffi.callback("void(void *, const char *, int)")
    def on_digits(_user, digits, n):
        got.append(ffi.string(digits, n).decode())

    def run(codes: np.ndarray) -> str:
        got.clear()
        lin = np.ascontiguousarray(s.alaw_decode(codes))
        st = lib.dtmf_rx_init(ffi.NULL, on_digits, ffi.NULL)
        for at in range(0, len(lin), 160):
            chunk = lin[at:at + 160]
            lib.dtmf_rx(st, ffi.from_buffer("int16_t[]", chunk), len(chunk))
        lib.dtmf_rx_free(st)
        return "".join(got)

    run.keep = on_digits  # the callback must outlive the receiver
    return run


def score(receiver: Receiver | None, cases: list[s.Case]) -> int | None:
    if receiver is None:
        return None
    return sum(receiver(s.alaw_encode(c.signal)) == c.expect for c in cases)


def noise_rows(rng: np.random.Generator) -> list[tuple[str, list[s.Case]]]:
    rows = []
    for snr in (15, 12, 9, 6, 3, 0):
        rows.append((f"noise {snr} dB SNR", [
            s.Case("noise", d, s.add_noise(s.aligned(s.dtmf(d, 60, rng), rng)[0], snr,
                                           2 * s.power(-10), rng)) for d in s.DIGITS]))
    return rows


def wrong(receiver: Receiver | None, cases: list[s.Case]) -> int | None:
    """Cases where a digit other than the expected one was reported."""
    if receiver is None:
        return None
    return sum(bool(set(receiver(s.alaw_encode(c.signal))) - set(c.expect)) for c in cases)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    peer = peer_receiver()
    table = []
    for name, cases in s.dtmf_rows(rng):
        expect = "accept" if cases[0].expect else "reject"
        table.append({"row": name, "expect": expect, "cases": len(cases),
                      "ours": score(ours, cases), "spandsp": score(peer, cases)})
    for name, cases in noise_rows(rng):
        table.append({"row": name, "expect": "detect (curve)", "cases": len(cases),
                      "ours": score(ours, cases), "spandsp": score(peer, cases),
                      "ours_wrong": wrong(ours, cases), "spandsp_wrong": wrong(peer, cases)})
    try:
        speech = s.speech()
    except FileNotFoundError:
        speech = None
    if speech is not None:
        for level in (10, 0, -10, -20, -30):
            codes = s.alaw_encode(speech * 10 ** (level / 20))
            n = len(codes) / s.RATE
            table.append({"row": f"talk-off {n:.0f} s speech, {level - 20} dBm0 RMS",
                          "expect": "no digit", "cases": 1,
                          "ours": len(ours(codes)),
                          "spandsp": None if peer is None else len(peer(codes))})
    if args.json:
        print(json.dumps({"peer": peer is not None, "rows": table}))
        return 0
    print(f"{'row':40} {'expect':15} {'cases':>5} {'ours':>6} {'spandsp':>8}")
    for r in table:
        peer_txt = "-" if r["spandsp"] is None else str(r["spandsp"])
        extra = ""
        if "ours_wrong" in r:
            extra = f"   wrong digits: ours {r['ours_wrong']}, spandsp {r['spandsp_wrong']}"
        unit = " false digits" if r["expect"] == "no digit" else ""
        print(f"{r['row']:40} {r['expect']:15} {r['cases']:>5} {r['ours']:>6} "
              f"{peer_txt:>8}{unit}{extra}")
    if peer is None:
        print("spandsp (libspandsp + cffi) not installed: peer column empty")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
