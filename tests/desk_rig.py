"""A runtime from examples/lab-sim.toml on the virtual clock with its control API open,
for the agent desktop, screen pop and supervisor tests: DNIS 5xxx goes straight to the
``sales`` queue; calls come from the PSTN side of the lab's ISDN trunk."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from cti.client import ApiRequestError, Client
from cti.config import Config
from cti.runtime import Runtime

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "lab-sim.toml")
CALLER = "0212345678"


def runtime(tmp_path, wrapup_s: float = 2.0, **agent_keys: Any) -> Runtime:
    """``agent_keys``: config keys given to every [[agent]] (mode, wrapup_s)."""
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(tmp_path / "crm.db")
    cfg.data["crm"]["records"] = str(tmp_path / "calls.csv")
    cfg.data["route"].insert(0, {"dnis": r"^5\d{3}$", "ani": ".*", "to": "queue:sales"})
    for q in cfg.data["queue"]:
        q["wrapup_s"] = wrapup_s
    for a in cfg.data["agent"]:
        a.update(agent_keys)
    rt = Runtime(cfg, virtual=True)
    rt.kernel.run_for(2.0)  # frame alignment, links up
    return rt


async def event(c: Client, kind: str, /, timeout: float = 30.0,
                **match: Any) -> dict[str, Any]:
    """The next event ``kind`` whose data has the ``match`` items (others are skipped)."""
    async def find() -> dict[str, Any]:
        while True:
            ev = await c.events.get()
            if ev["event"] == kind and all(ev["data"].get(k) == v for k, v in match.items()):
                return ev["data"]
    return await asyncio.wait_for(find(), timeout)


async def error_code(c: Client, op: str, **params: Any) -> str:
    try:
        await c.call(op, **params)
    except ApiRequestError as e:
        return e.code
    raise AssertionError(f"{op} {params} succeeded")


def run_with_client(rt: Runtime, scenario: Callable[[Client], Any]) -> Any:
    """Run ``scenario(client)`` on the kernel's loop with a real WebSocket client."""
    async def main() -> Any:
        api = await rt.start_api()
        try:
            async with Client(api.url, api.token) as c:
                await c.call("subscribe", topics=["agents", "calls"])
                return await scenario(c)
        finally:
            await api.stop()
    return rt.kernel.run(main())


async def only(c: Client, *names: str) -> None:
    """Only these agents take calls: the others go not ready (reason "test")."""
    for a in await c.call("agents"):
        if a["name"] not in names:
            await c.call("agent.not_ready", name=a["name"], reason="test")


async def dial(c: Client, trunk: str, dnis: str, ani: str = CALLER, within: float = 30.0) -> int:
    """``call.dial`` from the PSTN side once the trunk can place calls (an SS7 link
    aligns in some seconds after start)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        try:
            return await c.call("call.dial", trunk=trunk, dnis=dnis, ani=ani)
        except ApiRequestError:
            if loop.time() > end:
                raise
            await asyncio.sleep(0.5)
