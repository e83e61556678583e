"""The control API (see cti/capacity_api.py): one request round trip through the Python
client, and the capacity figures as ``cti bench --quick`` reports them (requests and
event deliveries per CPU second, whole agent-desktop calls per CPU second)."""

from __future__ import annotations

import asyncio

import pytest

from cti.api import ApiServer
from cti.capacity_api import api_desktop_calls, api_event_fanout, api_requests
from cti.client import Client


def test_api_round_trip(benchmark):
    loop = asyncio.new_event_loop()
    srv = ApiServer(token="t")
    srv.register("agent", lambda name: {"name": name, "state": "ready"})
    loop.run_until_complete(srv.start())
    client = Client(srv.url, "t")
    loop.run_until_complete(client.__aenter__())
    benchmark.group = "api"
    result = benchmark(lambda: loop.run_until_complete(client.call("agent", name="alice")))
    assert result["name"] == "alice"
    loop.run_until_complete(client.__aexit__(None, None, None))
    loop.run_until_complete(srv.stop())
    loop.close()


@pytest.mark.parametrize("bench", [api_requests, api_event_fanout, api_desktop_calls],
                         ids=["requests", "event_fanout", "desktop_calls"])
def test_api_capacity(benchmark, bench):
    r = benchmark.pedantic(bench, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update(r.as_dict())
    assert r.value > 0
