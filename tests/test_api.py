"""The control API through a real WebSocket client: auth, errors, events."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from cti.api import ApiError, ApiServer
from cti.client import ApiRequestError, Client


def run(coro):
    return asyncio.run(coro)


async def _server():
    srv = ApiServer(token="secret")

    def add(a: int, b: int) -> int:
        if not isinstance(a, int) or not isinstance(b, int):
            raise ApiError("bad_params", "a and b must be integers")
        return a + b

    async def slow() -> str:
        await asyncio.sleep(0)
        return "done"

    srv.register("add", add, "sum")
    srv.register("slow", slow)
    await srv.start()
    return srv


def test_requests_and_errors():
    async def main():
        srv = await _server()
        async with Client(srv.url, "secret") as c:
            assert await c.call("ping") == "pong"
            assert await c.call("add", a=2, b=3) == 5
            assert await c.call("slow") == "done"
            with pytest.raises(ApiRequestError) as e:
                await c.call("nope")
            assert e.value.code == "unknown_op"
            with pytest.raises(ApiRequestError) as e:
                await c.call("add", a=1)
            assert e.value.code == "bad_params"
            with pytest.raises(ApiRequestError) as e:
                await c.call("add", a="x", b=1)
            assert e.value.code == "bad_params"
            assert "add" in await c.call("ops")
        await srv.stop()

    run(main())


def test_malformed_requests_get_error_replies_and_server_survives():
    async def main():
        srv = await _server()
        async with connect(srv.url) as ws:
            await ws.send(json.dumps({"op": "auth", "token": "secret"}))
            assert json.loads(await ws.recv())["ok"]
            for bad in ["{", "[]", "42", json.dumps({"op": 5}), "\x00\xff", json.dumps({"id": 1})]:
                await ws.send(bad)
                reply = json.loads(await ws.recv())
                assert reply["ok"] is False and reply["error"]["code"]
            await ws.send(json.dumps({"id": 9, "op": "ping"}))
            assert json.loads(await ws.recv()) == {"id": 9, "ok": True, "result": "pong"}
        await srv.stop()

    run(main())


@pytest.mark.parametrize("first", [json.dumps({"op": "auth", "token": "wrong"}),
                                   json.dumps({"op": "ping"}), "garbage"])
def test_bad_token_gets_nothing(first):
    async def main():
        srv = await _server()
        async with connect(srv.url) as ws:
            await ws.send(first)
            with pytest.raises(ConnectionClosed) as e:
                await ws.recv()
            assert e.value.rcvd.code == 1008 and e.value.rcvd.reason == ""
        await srv.stop()

    run(main())


def test_subscribed_events_only():
    async def main():
        srv = await _server()
        async with Client(srv.url, "secret") as c:
            assert await c.call("subscribe", topics=["calls"]) == ["calls"]
            srv.publish("agents", "state", {"x": 1})
            srv.publish("calls", "offered", {"id": 7})
            ev = await asyncio.wait_for(c.events.get(), 2)
            assert ev == {"event": "calls.offered", "data": {"id": 7}}
            with pytest.raises(ApiRequestError):
                await c.call("subscribe", topics=["nonsense"])
        await srv.stop()

    run(main())


def test_api_refuses_non_loopback():
    with pytest.raises(ValueError):
        ApiServer(host="0.0.0.0")
