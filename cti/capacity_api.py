"""Capacity of the control API: request round trips per CPU second through the Python
client, event fan-out to many subscribed desktops, and whole agent-desktop calls (offer,
screen pop with a CRM lookup, ``call.answer``, talk, ``call.drop``, wrap-up) per CPU second
through a runtime on the virtual clock.  No peer library exists for these: the figures
stand alone (client and server share one process, so a round trip counts both sides)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

from core.bench import BenchResult
from cti.api import ApiServer
from cti.client import Client

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "examples", "lab-sim.toml")


def api_requests(quick: bool) -> BenchResult:
    """``agent``-sized views answered per process CPU second (client + server)."""
    n = 2000 if quick else 20000

    async def main() -> tuple[float, float]:
        srv = ApiServer(token="t")
        row = {"name": "alice", "station": 0, "state": "ready", "reason": None, "call": None}
        srv.register("agent", lambda name: {**row, "name": name})
        await srv.start()
        try:
            async with Client(srv.url, "t") as c:
                await c.call("agent", name="warm-up")
                t0, w0 = time.process_time(), time.perf_counter()
                for i in range(n):
                    await c.call("agent", name=f"a{i}")
                return time.process_time() - t0, time.perf_counter() - w0
        finally:
            await srv.stop()

    cpu, wall = asyncio.run(main())
    return BenchResult("api_requests", n / cpu, "requests_per_cpu_s", notes=[
        f"{n} sequential request/reply round trips over WebSocket on 127.0.0.1, "
        f"{cpu:.2f} CPU s, {n / wall:.0f}/s wall clock; client and server in one process"])


def api_event_fanout(quick: bool) -> BenchResult:
    """Agent state events delivered per CPU second to 20 subscribed clients."""
    clients, events = 20, (200 if quick else 2000)

    async def main() -> float:
        srv = ApiServer(token="t")
        await srv.start()
        try:
            conns = [Client(srv.url, "t") for _ in range(clients)]
            for c in conns:
                await c.__aenter__()
                await c.call("subscribe", topics=["agents"])
            data = {"name": "alice", "station": 0, "state": "talking", "call": 7, "at": 1.0}
            t0 = time.process_time()
            for _ in range(events):
                srv.publish("agents", "state", data)
            for c in conns:
                for _ in range(events):
                    await c.events.get()
            cpu = time.process_time() - t0
            for c in conns:
                await c.__aexit__(None, None, None)
            return cpu
        finally:
            await srv.stop()

    cpu = asyncio.run(main())
    return BenchResult("api_event_fanout", clients * events / cpu, "events_per_cpu_s", notes=[
        f"{events} agents.state events to each of {clients} clients ({clients * events} "
        f"deliveries, encoded once per event) in {cpu:.2f} CPU s, receiving clients included"])


def api_desktop_calls(quick: bool) -> BenchResult:
    """Whole calls answered and cleared from agent desktops, per process CPU second."""
    from cti.config import Config
    from cti.runtime import Runtime

    calls = 12 if quick else 60
    tmp = tempfile.mkdtemp(prefix="cti-bench-api-")
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = os.path.join(tmp, "crm.db")
    cfg.data["route"].insert(0, {"dnis": r"^5\d{3}$", "ani": ".*", "to": "queue:sales"})
    for a in cfg.data["agent"]:
        a["mode"], a["wrapup_s"] = "desktop", 1.0
    rt = Runtime(cfg, virtual=True)
    rt.kernel.run_for(2.0)

    async def desktop(c: Client, done: asyncio.Queue) -> None:
        while True:
            ev = await c.events.get()
            if ev["event"] == "agents.offered":
                d = ev["data"]
                await c.call("call.answer", agent=d["agent"], call=d["call"])
                asyncio.get_running_loop().call_later(
                    1.0, lambda d=d: asyncio.ensure_future(
                        c.call("call.drop", call=d["call"], agent=d["agent"])))
            elif ev["event"] == "agents.state" and ev["data"]["state"] == "wrapup":
                await done.put(ev["data"]["name"])

    async def main() -> tuple[float, float]:
        api = await rt.start_api()
        try:
            async with Client(api.url, api.token) as c:
                await c.call("subscribe", topics=["agents", "calls"])
                done: asyncio.Queue = asyncio.Queue()
                worker = asyncio.ensure_future(desktop(c, done))
                t0, v0 = time.process_time(), rt.kernel.now()
                for i in range(calls):
                    await c.call("call.dial", trunk="pstn-pri", dnis="5000",
                                 ani=f"02{10000000 + i % 5}")
                    await asyncio.sleep(0.3)
                for _ in range(calls):
                    await asyncio.wait_for(done.get(), 120)
                cpu = time.process_time() - t0
                worker.cancel()
                return cpu, rt.kernel.now() - v0
        finally:
            await api.stop()

    try:
        cpu, simulated = rt.kernel.run(main())
    finally:
        rt.close()
    return BenchResult("api_desktop_calls", calls / cpu, "calls_per_cpu_s", notes=[
        f"{calls} ISDN calls to a queue of 4 desktop agents: offer + screen pop (CRM lookup), "
        f"call.answer, 1 s talk, call.drop, 1 s wrap-up; {cpu:.2f} CPU s for "
        f"{simulated:.1f} simulated s (signalling both sides, the switch, the API client)"])


BENCHES = [api_requests, api_event_fanout, api_desktop_calls]
