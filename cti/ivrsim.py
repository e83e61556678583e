"""Run an IVR flow offline: one call over an ISDN PRI between two sim E1 boards on the
virtual clock, a scripted caller (key presses, talk, hanging up at given seconds after
the answer), and a transcript of the nodes the flow went through.  Routes out of the flow
(queue, station, trunk group) are reported and the call is then cleared, so a flow is
checked without agents or trunks behind it.  ``cti ivr sim`` prints the transcript."""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.q850 import cause_name
from cti.callcentre import CallCentre
from cti.calls import Call, CallState
from cti.cdr import CdrWriter
from cti.dialplan import DialPlan, Route
from cti.ivr import Flow


@dataclass
class Script:
    """What the caller does, in seconds after the flow answered."""

    presses: list[tuple[float, str]] = field(default_factory=list)
    talk: list[tuple[float, float]] = field(default_factory=list)  # (at, seconds of talk)
    hangup_at: float | None = None
    limit_s: float = 600.0  # the simulated call is cleared after this long


class _Centre(CallCentre):
    """Routes out of the flow are noted and end the call."""

    routed: str | None = None

    async def _leave(self, call: Call, target: str) -> None:
        self.routed = target
        call.drop(16)
        await call.wait(CallState.RELEASED, timeout=30)
        self.record(call, None, "routed")

    async def _queue(self, call: Call, name: str) -> None:
        await self._leave(call, f"queue:{name}")

    async def _to_station(self, call: Call, station: int) -> None:
        await self._leave(call, f"station:{station}")

    async def _to_group(self, call: Call, name: str) -> None:
        await self._leave(call, f"group:{name}")


def simulate(flows: dict[str, Flow], name: str, script: Script, *, ani: str = "0212345678",
             dnis: str = "4000", plan: str = "cn") -> dict[str, Any]:
    """The transcript: ``steps`` (t, flow, node, kind), ``trail``, ``vars``, ``routed``,
    ``cause``, ``recordings``, ``errors``."""
    from cti.kernel import Kernel
    from cti.media import MediaEngine
    from cti.trunks.isdn import IsdnTrunk
    from drivers.sim import cabled_pair
    from timeslot.g711 import alaw_encode

    if name not in flows:
        raise KeyError(f"no flow {name!r} (flows: {', '.join(flows)})")
    kernel = Kernel(virtual=True)
    caller_side, ivr_side = cabled_pair("caller", "ivr")
    kernel.add_ticker(caller_side.system)
    kernel.add_span(caller_side.spans[0])
    kernel.add_span(ivr_side.spans[0])
    media = MediaEngine(kernel, plan=plan)
    steps: list[dict[str, Any]] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        cdr = CdrWriter(os.path.join(tmp, "calls.csv"))
        centre = _Centre(kernel, media, DialPlan([Route.parse(".*", ".*", f"ivr:{name}")]), {},
                         cdr, plan=plan, flows=flows, on_error=errors.append)
        t0 = [0.0]
        cleared_by = ["ivr"]
        for kind, fn in list(centre.ivr.steps.items()):
            def logged(call, flow, node, v, fn=fn):
                steps.append({"t": round(kernel.now() - t0[0], 2), "flow": flow.name,
                              "node": node.name, "kind": node.kind})
                return fn(call, flow, node, v)
            centre.ivr.steps[kind] = logged
        caller = IsdnTrunk(kernel, "caller", caller_side.spans[0], "network")
        offered: list[Call] = []

        def offer(call: Call) -> None:
            offered.append(call)
            centre.incoming(call)

        IsdnTrunk(kernel, "ivr", ivr_side.spans[0], "user", on_offered=offer)
        rng = np.random.default_rng(1)

        async def act(out: Call, at: float, what) -> None:
            await asyncio.sleep(max(0.0, t0[0] + at - kernel.now()))
            if out.ended:
                return
            if isinstance(what, str):
                await media.send_dtmf(out.slot, what)
            else:  # talk: noise bursts at speech level
                x = rng.normal(0, 3000, int(what * 8000)).clip(-32000, 32000)
                await media.play(out.slot, [alaw_encode(x.astype(np.int16))])

        async def run() -> Call:
            for _ in range(40):
                await asyncio.sleep(0.25)
                if caller.link_up:
                    break
            out = Call(trunk=caller, direction="out", dnis=dnis, ani=ani, clock=kernel.now)
            out.dial()
            if await out.wait(CallState.CONNECTED, timeout=30) is not CallState.CONNECTED:
                return out
            t0[0] = out.times["connected"]
            tasks = [asyncio.ensure_future(act(out, at, d)) for at, d in script.presses]
            tasks += [asyncio.ensure_future(act(out, at, s)) for at, s in script.talk]
            limit = script.limit_s if script.hangup_at is None else script.hangup_at
            await out.wait(CallState.DISCONNECTED, timeout=limit)
            if not out.ended:
                cleared_by[0] = "caller" if script.hangup_at is not None else "time limit"
                out.drop(16)
            await out.wait(CallState.RELEASED, timeout=30)
            await asyncio.sleep(0.5)
            for t in tasks:
                t.cancel()
            return out

        try:
            out = kernel.run(run())
        finally:
            cdr.close()
            kernel.close()
    inc = offered[0] if offered else None
    data = inc.data if inc is not None else {}
    return {
        "flow": name, "steps": steps, "trail": data.get("ivr_trail", []),
        "vars": data.get("ivr", {}), "recordings": data.get("recordings", []),
        "routed": centre.routed,
        "cleared_by": cleared_by[0],
        "cause": out.cause, "cause_text": None if out.cause is None else cause_name(out.cause),
        "duration_s": round((out.times.get("disconnected") or kernel.now()) - t0[0], 2),
        "errors": errors + kernel.errors,
    }
