"""A kernel with two sim E1 spans cabled back to back (``pstn`` and ``cc``), for the
trunk and media tests; ``offered`` collects the calls the cc side is offered."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from cti.calls import Call, CallState
from cti.kernel import Kernel
from cti.media import MediaEngine
from cti.runtime import write_state
from drivers.base import Signalling, SpanConfig
from drivers.sim import cabled_pair


@dataclass
class Rig:
    kernel: Kernel
    media: MediaEngine
    pstn: object
    cc: object
    offered: list[Call] = field(default_factory=list)

    def links_up(self, *trunks, seconds: int = 60) -> None:
        """Run the kernel until every trunk's signalling link is up (at most ``seconds``)."""
        for _ in range(seconds):
            if all(t.link_up for t in trunks):
                return
            self.kernel.run_for(1.0)
        assert all(t.link_up for t in trunks), [t.name for t in trunks if not t.link_up]


def back_to_back(cas: bool = False) -> Rig:
    kernel = Kernel(virtual=True)
    cfg = SpanConfig(signalling=Signalling.CAS if cas else Signalling.CCS)
    a, b = cabled_pair("pstn", "cc", config=cfg)
    kernel.add_ticker(a.system)
    kernel.add_span(a.spans[0])
    kernel.add_span(b.spans[0])
    return Rig(kernel, MediaEngine(kernel), a.spans[0], b.spans[0])


def sim_config(tmp_path, spans: int, trunk: str):
    """A virtual-clock configuration with one sim board ``a`` of ``spans`` spans and the
    ``[[trunk]]`` table ``trunk`` (TOML lines), the API off and the CRM in ``tmp_path``."""
    from cti.config import Config

    path = tmp_path / "kernel.toml"
    path.write_text(f"""
[kernel]
virtual = true
[api]
enabled = false
[[board]]
name = "a"
type = "sim"
spans = {spans}
[[trunk]]
{trunk}
[crm]
path = "{tmp_path / 'crm.db'}"
""")
    return Config.load(str(path))


async def answered_call(kernel: Kernel, media: MediaEngine, offered: list[Call], trunk,
                        clearer: str, dnis: str = "4000",
                        ani: str = "0212345678") -> tuple[Call, Call, object]:
    """A call placed on ``trunk`` to the far side, alerted and answered there, DTMF "38"
    sent through it and collected at the far end, then cleared by ``clearer`` ("caller" or
    "called") with cause 16: (outgoing call, offered call, the collection's result)."""
    out = Call(trunk=trunk, direction="out", dnis=dnis, ani=ani, clock=kernel.now)
    out.dial()
    await asyncio.sleep(0.5)
    inc = offered[0]
    inc.alert()
    await out.wait(CallState.ALERTING, timeout=5)
    inc.answer()
    await out.wait(CallState.CONNECTED, timeout=5)
    collect = asyncio.ensure_future(media.collect(inc.slot, max_digits=2, terminators=""))
    await media.send_dtmf(out.slot, "38")
    digits = await collect
    (out if clearer == "caller" else inc).drop(16)
    await out.wait(CallState.RELEASED, timeout=10)
    await inc.wait(CallState.RELEASED, timeout=10)
    return out, inc, digits


@contextmanager
def api_kernel(rt, state: str, settle: Callable[[], Awaitable[None]] | None = None):
    """Run ``rt``'s kernel in real time in a thread with its control API, the state file
    (url, token) written to ``state`` for `cti ... --state`; yields the state as a dict.
    ``settle`` is awaited after the kernel starts and before the API opens."""
    loop, ready = rt.kernel.loop, threading.Event()

    async def serve():
        rt.kernel.start()
        if settle is not None:
            await settle()
        api = await rt.start_api()
        write_state(state, api.url, api.token)
        ready.set()
        try:
            await asyncio.Event().wait()
        finally:
            await api.stop()

    task = loop.create_task(serve())
    thread = threading.Thread(target=lambda: loop.run_until_complete(
        asyncio.gather(task, return_exceptions=True)), daemon=True)
    thread.start()
    try:
        assert ready.wait(30)
        with open(state) as f:
            yield json.load(f)
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(30)
