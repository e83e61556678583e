"""The whole lab under load (``cti bench``): calls per CPU second and simultaneous calls.

The system is :class:`cti.lab.Lab` as ``cti lab`` runs it: PSTN and call-centre sim E1
boards cabled back to back with an ISDN PRI, an SS7 ISUP and an MFC-R2 span, the demo
IVR (greeting, DTMF choice), the hunt queues, simulated agents on the station board and
a call record per call.

``lab_calls_per_s``: calls answered per process CPU second on the virtual clock.  The lab
is run twice, with N and 2N calls (short talk times, enough agents that nobody
abandons); the figure is the marginal rate N / (CPU(2N) - CPU(N)), so the set-up, link
alignment and the final settling time of one run cancel out.

``lab_max_simultaneous``: the lab on the real-time clock, ramped through levels of
simultaneous calls (calls up on the PSTN trunks: in the IVR, queued or talking to an
agent); each level is held for a window during which the tick statistics are taken.  A
level passes when at most 1% of the ticks overrun their 20 ms block and the tick lateness
p99 stays under one block.  The figure is the largest passing level.  The full run gives
the lab five spans per trunk type (``LabOptions.spans_per_trunk``: 15 spans a side, 450
circuits) and climbs in steps of 87 calls; the quick run keeps one span per type (90
circuits, one level).  When every level passes, the figure is the circuit limit, and the
notes say so.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from core.bench import BenchResult
from cti.kernel import TickStats
from cti.lab import Lab, LabOptions, run_lab

# calls rate: arrivals every 0.15 s on average, 1-3 s talk, agents enough for all
RATE_OPTIONS = LabOptions(agents=60, seed=11, interarrival_s=0.15, talk_s=(1.0, 3.0),
                          patience_s=(120.0, 180.0))
# simultaneous calls: long talk and patience, so the level holds through its window
HOLD_OPTIONS = LabOptions(agents=460, seed=12, talk_s=(600.0, 900.0),
                          patience_s=(600.0, 900.0), realtime=True)
HOLD_SPANS = {True: 1, False: 5}  # spans per trunk type, quick or not (5: 15 spans a board)
CIRCUITS_PER_SPAN = 30
MAX_OVERRUN_FRACTION = 0.01
RAMP_SPACING_S = 0.02  # between placed calls while climbing to a level
RAMP_TIMEOUT_S = 15.0
WINDOWS_PER_LEVEL = 2  # a shared machine may stall one window: a level gets a second


def _cpu_run(opts: LabOptions) -> tuple[float, dict]:
    c0 = time.process_time()
    report = run_lab(opts)
    return time.process_time() - c0, report


def lab_calls_per_s(quick: bool) -> BenchResult:
    n = 60 if quick else 300
    cpu1, rep1 = _cpu_run(replace(RATE_OPTIONS, calls=n))
    cpu2, rep2 = _cpu_run(replace(RATE_OPTIONS, calls=2 * n))
    answered = rep2["calls"]["answered"] - rep1["calls"]["answered"]
    rate = answered / (cpu2 - cpu1) if cpu2 > cpu1 else 0.0
    c2 = rep2["calls"]
    return BenchResult("lab_calls_per_s", rate, "calls_per_s", notes=[
        f"virtual clock, marginal rate between {n} and {2 * n} offered calls "
        f"({cpu1:.2f} / {cpu2:.2f} process CPU s, {rep2['simulated_s']} simulated s)",
        f"{2 * n}-call run: {c2['answered']} answered, {c2['abandoned']} abandoned, "
        f"{c2['failed']} failed, {rep2['cdr']['records']} call records, "
        f"{len(rep2['errors'])} errors; whole-run rate {c2['answered'] / cpu2:.1f} calls/CPU s",
        "each call: trunk signalling both sides, IVR greeting + DTMF choice, queue, "
        "agent ring/answer/talk, release, CDR"])


def _active(lab: Lab) -> int:
    """Calls up on the PSTN side (IVR, queued or talking)."""
    return sum(len(t.calls) for t in lab.pstn_trunks.values())


def _circuits(lab: Lab) -> int:
    return CIRCUITS_PER_SPAN * len(lab.pstn_trunks)


def _passes(row: dict) -> bool:
    p99 = row["jitter_ms_p99"]
    return (row["ticks"] > 0 and row["overruns"] <= MAX_OVERRUN_FRACTION * row["ticks"]
            and p99 is not None and p99 < 20.0)


async def _climb(lab: Lab, tasks: list[asyncio.Future], level: int) -> None:
    """Place calls until ``level`` are up (or the ramp times out)."""
    deadline = lab.kernel.now() + RAMP_TIMEOUT_S
    while lab.kernel.now() < deadline:
        if sum(not t.done() for t in tasks) < level:  # callers in the system
            i = len(tasks)
            tasks.append(asyncio.ensure_future(
                lab._guarded_caller(i, lab.opts.trunks[i % len(lab.opts.trunks)])))
        elif _active(lab) >= level:
            return
        await asyncio.sleep(RAMP_SPACING_S)


async def _window(lab: Lab, level: int, window_s: float) -> dict:
    """Fresh tick statistics over ``window_s`` with the calls held."""
    k = lab.kernel
    k.stats = TickStats()
    samples = []
    c0 = time.process_time()
    for _ in range(int(window_s / 0.1)):
        await asyncio.sleep(0.1)
        samples.append(_active(lab))
    row = k.stats.as_dict(k.block_s)
    row.update(level=level, held=min(samples), mean=sum(samples) / len(samples),
               process_cpu=(time.process_time() - c0) / window_s)
    return row


async def _ramp(lab: Lab, levels: list[int], window_s: float) -> list[dict]:
    """Climb through ``levels``; a level failing all its windows ends the climb."""
    await lab._links_up()
    lab._prepare_agents()
    tasks: list[asyncio.Future] = []
    rows = []
    for level in levels:
        await _climb(lab, tasks, level)
        for _ in range(WINDOWS_PER_LEVEL):
            rows.append(await _window(lab, level, window_s))
            if _passes(rows[-1]):
                break
        if not _passes(rows[-1]):
            break
    for t in lab.pstn_trunks.values():
        for call in list(t.calls.values()):
            call.drop(16)
    for t in tasks:  # callers may be waiting out their patience: stop them
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(2.0)  # releases complete on both sides
    return rows


def lab_max_simultaneous(quick: bool) -> BenchResult:
    spans = HOLD_SPANS[quick]
    lab = Lab(replace(HOLD_OPTIONS, calls=0, spans_per_trunk=spans))
    step = (CIRCUITS_PER_SPAN - 1) * len(lab.opts.trunks)  # a circuit a span may be releasing
    levels = [step * (s + 1) for s in range(spans)]
    try:
        rows = lab.kernel.run(_ramp(lab, levels, 2.0 if quick else 4.0))
    finally:
        lab.close()
    passing = [r["held"] for r in rows if _passes(r)]
    notes = [f"real-time clock, 20 ms ticks; pass = overruns <= {MAX_OVERRUN_FRACTION:.0%} of "
             "ticks and tick lateness p99 < 20 ms over a window the level is held (a second "
             "window when the first fails; the climb ends at a level failing both)"]
    for r in rows:
        notes.append(
            f"level {r['level']}: held {r['held']} (mean {r['mean']:.0f}) calls, "
            f"{r['ticks']} ticks, {r['overruns']} overruns, lateness p50/p99 "
            f"{r['jitter_ms_p50']}/{r['jitter_ms_p99']} ms, process CPU "
            f"{100 * r['process_cpu']:.1f}% of a core -> {'pass' if _passes(r) else 'FAIL'}")
    if _passes(rows[-1]) and rows[-1]["level"] == levels[-1]:
        notes.append(f"every level passed: the figure is the lab's circuit limit "
                     f"({_circuits(lab)} circuits on {len(lab.pstn_trunks)} spans a side), "
                     "not the CPU limit")
    errors = len(lab.errors) + len(lab.kernel.errors)
    if errors:
        notes.append(f"{errors} lab/kernel errors during the run")
    return BenchResult("lab_max_simultaneous", max(passing, default=0), "calls", notes=notes)


BENCHES = [lab_calls_per_s, lab_max_simultaneous]
