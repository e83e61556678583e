"""``cti lab``: the embedded default system, on simulated E1 boards.

Two sim E1 boards are cabled back to back: ``pstn`` (a PSTN simulator) and ``cc`` (the
call centre), one span per trunk type: ISDN PRI (network side on the PSTN, user side at
the call centre), SS7 ISUP (point codes 1 and 2) and MFC-R2 China No.1 (forward from the
PSTN).  A station board carries the agents' phones.  The call centre routes DNIS 4xxx to
the demo IVR (greeting, one DTMF choice), which queues the caller for sales or support;
the agents (simulated handsets) answer after a ring or two, talk and hang up after a
random time.  The PSTN side places the calls with random arrival times and DTMF choices;
callers whose patience runs out hang up (abandoned).  Every call that ends writes a
call record (CSV, and a row of the SQLite CRM store beside it: the callers' history).
The report adds up: offered = answered + abandoned + failed.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cti.api import ApiServer
from cti.calls import Call, CallEvent, CallState, DialError
from cti.config import Config
from cti.queues import Agent
from cti.runtime import Runtime, write_state
from drivers.sim.board import MAX_SPANS

TRUNK_KINDS = ("isdn", "ss7", "tup", "r2")  # what --trunks may name
DEFAULT_TRUNKS = ("isdn", "ss7", "r2")
LAB_DNIS = "4000"
CN_PC = (0x0A0B0C, 0x0A0B0D)  # the TUP trunks' China national signalling point codes  # the number the PSTN side dials: the demo IVR's route


@dataclass
class LabOptions:
    calls: int = 200
    agents: int = 10
    seed: int = 1
    interarrival_s: float = 5.5  # mean of the exponential arrival process: about 9 erlangs
    patience_s: tuple[float, float] = (20.0, 120.0)
    talk_s: tuple[float, float] = (15.0, 75.0)
    trunks: tuple[str, ...] = DEFAULT_TRUNKS
    realtime: bool = False
    cdr_path: str | None = None
    plan: str = "cn"
    state_file: str | None = None  # real time: where the control API url and token go
    spans_per_trunk: int = 1  # spans (30 circuits each) of every trunk type


@dataclass
class CallOutcome:
    id: int
    trunk: str
    ani: str
    outcome: str = "failed"
    reason: str = ""
    choice: str | None = None


def _trunk_kinds(opts: LabOptions) -> list[tuple[str, str]]:
    """(key, kind) of each span pair in order: ``isdn``, ``isdn-2``, ..., ``ss7``, ..."""
    return [(kind if j == 0 else f"{kind}-{j + 1}", kind)
            for kind in opts.trunks for j in range(opts.spans_per_trunk)]


def lab_config(opts: LabOptions, cdr_path: str) -> Config:
    """The lab as a ``cti run`` configuration: boards ``pstn`` and ``cc`` cabled span to
    span, a station board ``agents``, a trunk pair per span (``pstn-pri``/``cc-pri``,
    ``pstn-isup``/``cc-isup``, ``pstn-tup``/``cc-tup``, ``pstn-r2``/``cc-r2``; further
    spans add ``-2``...), DNIS
    4xxx to the demo IVR, and the agents ``agent01``..."""
    kinds = _trunk_kinds(opts)
    trunks: list[dict[str, Any]] = []
    for i, (key, kind) in enumerate(kinds):
        sfx = key[len(kind):]
        pstn, cc = {"span": f"pstn:{i + 1}"}, {"span": f"cc:{i + 1}"}
        if kind == "isdn":
            pstn.update(name=f"pstn-pri{sfx}", type="isdn", side="network")
            cc.update(name=f"cc-pri{sfx}", type="isdn", side="user")
        elif kind == "ss7":
            pstn.update(name=f"pstn-isup{sfx}", type="ss7", opc=1, dpc=2)
            cc.update(name=f"cc-isup{sfx}", type="ss7", opc=2, dpc=1)
        elif kind == "tup":  # China TUP, 24-bit national point codes
            pstn.update(name=f"pstn-tup{sfx}", type="tup", opc=CN_PC[0], dpc=CN_PC[1])
            cc.update(name=f"cc-tup{sfx}", type="tup", opc=CN_PC[1], dpc=CN_PC[0])
        else:
            pstn.update(name=f"pstn-r2{sfx}", type="r2", variant="cn", side="network")
            cc.update(name=f"cc-r2{sfx}", type="r2", variant="cn", side="user",
                      max_dnis=len(LAB_DNIS))
        trunks += [pstn, cc]
    return Config({
        "kernel": {"virtual": not opts.realtime, "tone_plan": opts.plan},
        "api": {"port": 0},
        "board": [{"name": "pstn", "type": "sim", "spans": len(kinds)},
                  {"name": "cc", "type": "sim", "spans": len(kinds)},
                  {"name": "agents", "type": "sim", "spans": 0, "stations": opts.agents}],
        "cable": [{"a": f"pstn:{i}", "b": f"cc:{i}"} for i in range(1, len(kinds) + 1)],
        "trunk": trunks,
        "route": [{"dnis": r"^4\d{3}$", "to": "ivr:demo"}],
        "queue": [{"name": "sales"}, {"name": "support"}],
        "agent": [{"name": f"agent{i + 1:02d}", "station": i} for i in range(opts.agents)],
        "crm": {"path": os.path.splitext(cdr_path)[0] + ".db", "records": cdr_path},
    }, path="<cti lab>")


class Lab:
    """The lab's callers and agents over a :class:`cti.runtime.Runtime` of
    :func:`lab_config`: the same assembly as ``cti run``."""

    def __init__(self, opts: LabOptions | None = None):
        self.opts = opts = opts or LabOptions()
        for kind in opts.trunks:
            if kind not in TRUNK_KINDS:
                raise ValueError(f"unknown trunk type {kind!r} (known: {', '.join(TRUNK_KINDS)})")
        if not 1 <= opts.spans_per_trunk <= MAX_SPANS // len(opts.trunks):
            raise ValueError(f"spans_per_trunk must be 1..{MAX_SPANS // len(opts.trunks)}")
        self.rng = random.Random(opts.seed)
        self.cdr_path = opts.cdr_path or tempfile.mkstemp(prefix="cti-lab-", suffix=".csv")[1]
        rt = self.runtime = Runtime(lab_config(opts, self.cdr_path))
        self.errors = rt.errors
        self.kernel, self.centre, self.media = rt.kernel, rt.centre, rt.media
        self.crm, self.cdr, self.agents = rt.crm, rt.cdr, rt.agents
        self.station_board = rt.stations_board
        for q in rt.queues.values():
            q.on_answered = self._agent_answered
        # trunks by kind ("isdn", "isdn-2", ...): the PSTN side places the calls
        self.pstn_trunks: dict[str, Any] = {}
        self.cc_trunks: dict[str, Any] = {}
        trunks = iter(rt.trunks.values())  # in lab_config's order: pstn, cc per span
        for key, _ in _trunk_kinds(opts):
            self.pstn_trunks[key], self.cc_trunks[key] = next(trunks), next(trunks)
        self.outcomes: list[CallOutcome] = []
        self.api: ApiServer | None = None
        self.answered_by_ani: dict[str, asyncio.Event] = {}

    # --- simulated agents ---------------------------------------------------------------
    def _agent_answered(self, caller: Call, leg: Call, agent: Agent) -> None:
        ev = self.answered_by_ani.get(caller.ani)
        if ev is not None:
            ev.set()
        handset = self.station_board.handsets[agent.station]
        handset.hang_up(after=self.rng.uniform(*self.opts.talk_s))

        def on_leg(c: Call, e: CallEvent) -> None:
            if e is CallEvent.RELEASED and handset.off_hook:
                handset.hang_up(after=0.5)
                handset.clear_received()

        leg.listeners.append(on_leg)

    def _prepare_agents(self) -> None:
        for a, h in zip(self.agents, self.station_board.handsets, strict=True):
            h.answer_after = self.rng.randint(1, 2)
            a.idle_since = self.kernel.now()

    # --- simulated callers --------------------------------------------------------------
    async def caller(self, i: int, kind: str) -> None:
        ani = f"02{10000000 + i}"
        out = CallOutcome(i, kind, ani)
        self.outcomes.append(out)
        j = (i // len(self.opts.trunks)) % self.opts.spans_per_trunk
        trunk = self.pstn_trunks[kind if j == 0 else f"{kind}-{j + 1}"]
        call = Call(trunk=trunk, direction="out", dnis=LAB_DNIS, ani=ani, clock=self.kernel.now)
        answered = self.answered_by_ani[ani] = asyncio.Event()
        try:
            call.dial()
        except DialError as e:  # no free circuit: a failed call, not a lab error
            out.reason = f"not placed: {e}"
            return
        state = await call.wait(CallState.CONNECTED, timeout=40)
        if state is not CallState.CONNECTED:
            out.reason = f"not answered by the IVR (cause {call.cause})"
            if not call.ended:
                call.drop(16)
            return
        await asyncio.sleep(self.rng.uniform(0.3, 0.5))
        out.choice = self.rng.choice("12")
        await self.media.send_dtmf(call.slot, out.choice)
        patience = self.rng.uniform(*self.opts.patience_s)
        try:
            await asyncio.wait_for(answered.wait(), patience)
        except asyncio.TimeoutError:
            if not call.ended:
                out.outcome, out.reason = "abandoned", f"hung up after {patience:.0f} s"
                call.drop(16)
                await call.wait(CallState.RELEASED, timeout=30)
                return
        if call.ended and not answered.is_set():
            out.reason = f"cleared by the call centre (cause {call.cause})"
            return
        out.outcome = "answered"
        await call.wait(CallState.RELEASED, timeout=None)

    async def _guarded_caller(self, i: int, kind: str) -> None:
        try:
            await self.caller(i, kind)
        except Exception as e:
            self.errors.append(f"caller {i} ({kind}): {type(e).__name__}: {e}")

    async def open_api(self, state_file: str | None = None) -> ApiServer:
        """The control API over the lab (real-time runs): `cti spans|links|calls|agents|
        queues|top` watch it while the calls go through; the call, agent desktop,
        supervisor and CRM operations of ``cti run`` work on its calls and agents."""
        api = self.api = await self.runtime.start_api()
        if state_file:
            write_state(state_file, api.url, api.token)
        return api

    async def run(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        k = self.kernel
        if self.opts.realtime:
            api = await self.open_api(self.opts.state_file)
            print(f"cti lab: control API at {api.url} (state in {self.opts.state_file})",
                  file=sys.stderr)
        await self._links_up()
        self._prepare_agents()
        tasks = []
        for i in range(self.opts.calls):
            kind = self.opts.trunks[i % len(self.opts.trunks)]
            tasks.append(asyncio.ensure_future(self._guarded_caller(i, kind)))
            await asyncio.sleep(self.rng.expovariate(1.0 / self.opts.interarrival_s))
        done = 0
        for t in asyncio.as_completed(tasks):
            await t
            done += 1
            if progress is not None:
                progress(done, len(tasks))
        await asyncio.sleep(5.0)  # let the last records be written
        report = self.report()
        report["simulated_s"] = round(k.now(), 1)
        if self.api is not None:
            await self.api.stop()
        return report

    async def _links_up(self) -> None:
        for _ in range(120):
            if all(t.link_up for t in (*self.pstn_trunks.values(), *self.cc_trunks.values())):
                return
            await asyncio.sleep(0.5)
        self.errors.append("signalling links did not come up within 60 s")

    def report(self) -> dict[str, Any]:
        def count(items: list[CallOutcome]) -> dict[str, int]:
            c = {"offered": len(items), "answered": 0, "abandoned": 0, "failed": 0}
            for o in items:
                c[o.outcome] += 1
            return c

        by_trunk = {kind: count([o for o in self.outcomes if o.trunk == kind])
                    for kind in self.opts.trunks}
        return {
            "calls": count(self.outcomes),
            "by_trunk": by_trunk,
            "queues": {q.name: q.stats.as_dict(q.sl) for q in self.centre.queues.values()},
            "agents": [{"name": a.name, "handled": a.handled, "talk_s": round(a.talk_s, 1)}
                       for a in self.agents],
            "signalling": {t.name: t.status()["counters"]
                           for t in (*self.pstn_trunks.values(), *self.cc_trunks.values())},
            "failures": sorted({o.reason for o in self.outcomes if o.outcome == "failed"}),
            "cdr": {"path": self.cdr_path, "records": self.cdr.count, "crm": self.crm.path},
            "kernel": self.kernel.stats.as_dict(self.kernel.block_s),
            "errors": list(self.errors),
        }

    def close(self) -> None:
        self.runtime.close()


def run_lab(opts: LabOptions, progress: Callable[[int, int], None] | None = None
            ) -> dict[str, Any]:
    lab = Lab(opts)
    try:
        return lab.kernel.run(lab.run(progress))
    finally:
        lab.close()


__all__ = ["Lab", "LabOptions", "run_lab"]
