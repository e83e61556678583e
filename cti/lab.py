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
from cti.callcentre import CallCentre
from cti.calls import Call, CallEvent, CallState, DialError
from cti.cdr import CdrWriter
from cti.crm import CrmStore
from cti.dialplan import DialPlan, Route
from cti.kernel import Kernel
from cti.media import MediaEngine
from cti.operations import Operations
from cti.queues import Agent, HuntQueue
from cti.runtime import register_views, write_state
from cti.trunkgroup import build_groups
from cti.trunks.isdn import IsdnTrunk
from cti.trunks.r2 import R2Trunk
from cti.trunks.ss7 import Ss7Trunk
from cti.trunks.station import StationTrunk
from drivers.base import Signalling, SpanConfig
from drivers.sim import Cable, SimBoard
from drivers.sim.board import MAX_SPANS
from drivers.sim.station import StationBoard

TRUNK_KINDS = ("isdn", "ss7", "r2")
LAB_DNIS = "4000"  # the number the PSTN side dials: the demo IVR's route


@dataclass
class LabOptions:
    calls: int = 200
    agents: int = 10
    seed: int = 1
    interarrival_s: float = 5.5  # mean of the exponential arrival process: about 9 erlangs
    patience_s: tuple[float, float] = (20.0, 120.0)
    talk_s: tuple[float, float] = (15.0, 75.0)
    trunks: tuple[str, ...] = TRUNK_KINDS
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


class Lab:
    def __init__(self, opts: LabOptions | None = None):
        self.opts = opts = opts or LabOptions()
        for kind in opts.trunks:
            if kind not in TRUNK_KINDS:
                raise ValueError(f"unknown trunk type {kind!r} (known: {', '.join(TRUNK_KINDS)})")
        if not 1 <= opts.spans_per_trunk <= MAX_SPANS // len(opts.trunks):
            raise ValueError(f"spans_per_trunk must be 1..{MAX_SPANS // len(opts.trunks)}")
        self.rng = random.Random(opts.seed)
        self.errors: list[str] = []
        k = self.kernel = Kernel(virtual=not opts.realtime)
        kinds = [kind for kind in opts.trunks for _ in range(opts.spans_per_trunk)]
        n = len(kinds)
        self.pstn = SimBoard("pstn", spans=n)
        self.cc = SimBoard("cc", spans=n, system=self.pstn.system)
        for board in (self.pstn, self.cc):
            for span, kind in zip(board.spans, kinds, strict=True):
                if kind == "r2":
                    span.configure(SpanConfig(signalling=Signalling.CAS))
        for a, b in zip(self.pstn.spans, self.cc.spans, strict=True):
            Cable(a, b)
        self.pstn.open()
        self.cc.open()
        self.station_board = StationBoard("agents", stations=opts.agents,
                                          system=self.pstn.system)
        self.station_board.open()
        k.add_ticker(self.pstn.system)
        for span in self.pstn.spans + self.cc.spans:
            k.add_span(span)
        self.stations = StationTrunk(k, "agents", self.station_board)
        self.media = MediaEngine(k, plan=opts.plan)
        self.agents = [Agent(f"agent{i + 1:02d}", i) for i in range(opts.agents)]
        self.cdr_path = opts.cdr_path or tempfile.mkstemp(prefix="cti-lab-", suffix=".csv")[1]
        self.crm = CrmStore(os.path.splitext(self.cdr_path)[0] + ".db")
        self.cdr = CdrWriter(self.cdr_path, store=self.crm)
        queues = {name: HuntQueue(name, k, self.media, self.stations, self.agents)
                  for name in ("sales", "support")}
        for q in queues.values():
            q.on_answered = self._agent_answered
        self.centre = CallCentre(k, self.media, DialPlan([Route.parse(r"^4\d{3}$", ".*",
                                                                      "ivr:demo")]),
                                 queues, self.cdr, plan=opts.plan, on_error=self.errors.append)
        self.pstn_trunks: dict[str, Any] = {}
        self.cc_trunks: dict[str, Any] = {}
        offer = self.centre.incoming
        for i, kind in enumerate(kinds):
            ps, cs = self.pstn.spans[i], self.cc.spans[i]
            j = i % opts.spans_per_trunk  # trunks of further spans: keys and names "<x>-2"...
            sfx = "" if j == 0 else f"-{j + 1}"
            key = kind + sfx
            if kind == "isdn":
                self.pstn_trunks[key] = IsdnTrunk(k, f"pstn-pri{sfx}", ps, "network")
                self.cc_trunks[key] = IsdnTrunk(k, f"cc-pri{sfx}", cs, "user", on_offered=offer)
            elif kind == "ss7":
                self.pstn_trunks[key] = Ss7Trunk(k, f"pstn-isup{sfx}", ps, opc=1, dpc=2)
                self.cc_trunks[key] = Ss7Trunk(k, f"cc-isup{sfx}", cs, opc=2, dpc=1,
                                               on_offered=offer)
            else:
                self.pstn_trunks[key] = R2Trunk(k, f"pstn-r2{sfx}", ps, variant="cn",
                                                master=True)
                self.cc_trunks[key] = R2Trunk(k, f"cc-r2{sfx}", cs, variant="cn", master=False,
                                              on_offered=offer, max_dnis=len(LAB_DNIS))
        # every trunk is its own one-trunk group (the API's call.dial group=, cti groups)
        self.centre.trunks.update({t.name: t for t in (*self.pstn_trunks.values(),
                                                        *self.cc_trunks.values())})
        self.centre.groups.update(build_groups(self.centre.trunks, [], {}))
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
        api = ApiServer()
        register_views(api, self.kernel, self.centre,
                       {s.name: s for s in self.pstn.spans + self.cc.spans}, self.centre.trunks,
                       self.agents)
        Operations(self.kernel, self.centre, self.centre.queues, self.centre.trunks,
                   self.centre.groups, self.stations, self.agents, self.media,
                   self.crm).register(api)
        await api.start()
        if state_file:
            write_state(state_file, api.url, api.token)
        self.api = api
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
        self.cdr.close()
        self.crm.close()
        self.kernel.close()


def run_lab(opts: LabOptions, progress: Callable[[int, int], None] | None = None
            ) -> dict[str, Any]:
    lab = Lab(opts)
    try:
        return lab.kernel.run(lab.run(progress))
    finally:
        lab.close()


__all__ = ["Lab", "LabOptions", "run_lab"]
