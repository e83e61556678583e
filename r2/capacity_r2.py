"""Capacity: MF-R2 detection and the compelled cycle for 480 channels at once on one core.

240 outgoing circuits call 240 incoming circuits back to back (480 channel ends, all in
register signalling at the same time: 8 DNIS digits, category, 8 ANI digits, group B,
answer).  Each 20 ms tick runs tone generation and both MF detectors over the whole block in C
(:class:`r2.media.R2Span`) and every channel's line and register machine in Python.
``r2_compelled_480``: process CPU per simulated second, as percent of one core.
``r2_cycle_ms``: median time from one forward signal onset to the next (one compelled cycle).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from core.bench import BenchResult
from core.clock import VirtualClock

DNIS, ANI = "86001234", "13912345"
TICK = 0.020


def _cycle_ms(traces: list[list[str]]) -> float:
    gaps = []
    for lines in traces:
        onsets = [float(ln.split()[0]) for ln in lines
                  if " TX MF fwd " in ln and not ln.endswith(" off")]
        gaps.extend(b - a for a, b in zip(onsets, onsets[1:], strict=False))
    return statistics.median(gaps) * 1000 if gaps else float("nan")


def _answer(chan) -> Callable[[str, dict], None]:
    def on_event(name: str, fields: dict) -> None:
        if name == "offered":
            chan().accept()
            chan().answer()
    return on_event


def _run_audio(pairs: int) -> tuple[float, float, float, list[str]]:
    from r2.media import R2Span

    clock = VirtualClock()
    a = R2Span(clock, pairs, "itu", master=True)
    b = R2Span(clock, pairs, "itu", master=False, max_dnis=len(DNIS), max_ani=len(ANI),
               on_event=lambda i, n, f: _answer(lambda: b.channels[i])(n, f))
    for ch in a.channels:
        ch.make_call(DNIS, ANI)
    sim = 0.0
    t0 = time.process_time()
    while sim < 30 and not all(ch.state == "out_answered" for ch in a.channels):
        a_audio, a_cas = a.tx()
        b_audio, b_cas = b.tx()
        a.rx(b_audio, b_cas.copy())
        b.rx(a_audio, a_cas.copy())
        clock.advance(TICK)
        sim += TICK
    cpu = time.process_time() - t0
    done = sum(ch.state == "out_answered" for ch in a.channels)
    notes = [f"{done}/{pairs} calls answered in {sim:.2f} s simulated; tone generation and "
             "MF detection in C (timeslot.tonegen, timeslot.r2mf)"]
    return cpu, sim, _cycle_ms([ch.trace.lines for ch in a.channels]), notes


def _run_symbolic(pairs: int) -> tuple[float, float, float, list[str]]:
    from r2.call import R2Channel

    clock = VirtualClock()
    # lockstep like the media path: what each end sends in a tick is seen by the other next tick
    sent = {"a": [[0x9, 0] for _ in range(pairs)], "b": [[0x9, 0] for _ in range(pairs)]}
    seen = {"a": [[0x9, 0] for _ in range(pairs)], "b": [[0x9, 0] for _ in range(pairs)]}

    def outputs(side: str, i: int):
        def cas(abcd: int) -> None:
            sent[side][i][0] = abcd

        def mf(sig: int, _sender: str) -> None:
            sent[side][i][1] = sig
        return cas, mf

    a_ch = [R2Channel(clock, "itu", i + 1, cas_tx=outputs("a", i)[0],
                      mf_tx=outputs("a", i)[1]) for i in range(pairs)]
    b_ch: list[R2Channel] = []
    for i in range(pairs):
        cas, mf = outputs("b", i)
        b_ch.append(R2Channel(clock, "itu", i + 1, cas_tx=cas, mf_tx=mf, master=False,
                              max_dnis=len(DNIS), max_ani=len(ANI),
                              on_event=_answer(lambda i=i: b_ch[i])))
    for ch in a_ch:
        ch.make_call(DNIS, ANI)
    t0 = time.process_time()
    sim = 0.0
    while sim < 30 and not all(ch.state == "out_answered" for ch in a_ch):
        snapshot = {k: [list(x) for x in v] for k, v in sent.items()}  # last tick's output
        for src, dst, chans in (("a", "b", b_ch), ("b", "a", a_ch)):
            for i, ch in enumerate(chans):
                now, old = snapshot[src][i], seen[dst][i]
                if now[0] != old[0]:
                    old[0] = now[0]
                    ch.on_cas(now[0])
                if now[1] != old[1]:
                    old[1] = now[1]
                    ch.on_mf(now[1])
        clock.advance(TICK)
        sim += TICK
    cpu = time.process_time() - t0
    notes = ["timeslot.r2mf not available: signalling only, MF signals passed as numbers in "
             "20 ms lockstep; no tone generation/detection cost included"]
    return cpu, sim, _cycle_ms([ch.trace.lines for ch in a_ch]), notes


def _openr2(pairs: int, symbolic: bool) -> tuple[dict[str, float] | None, str]:
    """The same workload on openr2 1.3 (all channels in one process, C), or None and why."""
    import ctypes.util
    import importlib.util
    import os
    import subprocess

    src = os.path.join(os.path.dirname(__file__), os.pardir, "tests", "r2_peer", "peer.py")
    if ctypes.util.find_library("openr2") is None or not os.path.exists(src):
        return None, "openr2 peer not available (libopenr2-dev and a source checkout needed)"
    spec = importlib.util.spec_from_file_location("r2_peer_build", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    try:
        exe = mod.build()
    except (OSError, subprocess.CalledProcessError) as e:
        return None, f"openr2 peer did not build: {e}"
    args = [exe, "--bench", str(pairs), "--dnis", DNIS, "--ani", ANI, "--max-dnis",
            str(len(DNIS)), "--max-ani", str(len(ANI) + 1)]
    out = subprocess.run(args + (["--symbolic-mf"] if symbolic else []), capture_output=True,
                         text=True, timeout=300)
    ticks, cpu, answered, cycle = out.stdout.split()
    if int(answered) != pairs:
        return None, f"openr2 completed only {answered}/{pairs} calls"
    return {"sim": int(ticks) * TICK, "cpu": float(cpu),
            "cycle": float(cycle) if float(cycle) > 0 else None}, \
        "openr2 1.3 channels in one process, same calls, " + (
            "signals as numbers" if symbolic else "openr2's own MF tone generation/detection")


def r2_compelled_480(quick: bool) -> list[BenchResult]:
    pairs = 240
    try:
        import timeslot.r2mf  # noqa: F401
        run, symbolic = _run_audio, False
    except ImportError:
        run, symbolic = _run_symbolic, True
    cpu, sim, cycle, notes = run(pairs)
    peer, peer_note = _openr2(pairs, symbolic)
    return [BenchResult("r2_compelled_480", 100.0 * cpu / sim, "percent_of_core", peer="openr2",
                        peer_value=None if peer is None else 100.0 * peer["cpu"] / peer["sim"],
                        notes=[*notes, peer_note]),
            BenchResult("r2_cycle_ms", cycle, "ms", peer="openr2",
                        peer_value=None if peer is None else peer["cycle"],
                        notes=["median forward-onset to forward-onset, one compelled cycle "
                               "(lockstep 20 ms ticks)"]),
            BenchResult("r2_setup_us_per_call", cpu / pairs * 1e6, "us_per_call", peer="openr2",
                        peer_value=None if peer is None else peer["cpu"] / pairs * 1e6,
                        notes=["CPU for one call's register signalling, both ends, "
                               "8 DNIS + category + 8 ANI digits, group B, answer"])]


BENCHES = [r2_compelled_480]
