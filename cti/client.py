"""A Python client for the control API (see :mod:`cti.api`)."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


class ApiRequestError(RuntimeError):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


class Client:
    """``async with Client(url, token) as c: await c.call("calls")``; events on ``c.events``."""

    def __init__(self, url: str, token: str, timeout: float = 30.0):
        self.url = url
        self.token = token
        self.timeout = timeout
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._conn: ClientConnection | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> Client:
        self._conn = await connect(self.url)
        await self._conn.send(json.dumps({"op": "auth", "token": self.token}))
        try:
            reply = json.loads(await self._conn.recv())
        except ConnectionClosed:  # a bad token gets no reply: the server closes
            reply = {}
        if not reply.get("ok"):
            await self._conn.close()
            raise ApiRequestError("auth", "authentication failed (bad token?)")
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader:
            self._reader.cancel()
        if self._conn:
            await self._conn.close()

    async def _read(self) -> None:
        try:
            async for raw in self._conn:
                msg = json.loads(raw)
                if "event" in msg:
                    await self.events.put(msg)
                elif msg.get("id") in self._pending:
                    self._pending.pop(msg["id"]).set_result(msg)
        except ConnectionClosed:
            pass
        for fut in self._pending.values():  # the server went away: no reply will come
            if not fut.done():
                fut.set_exception(ApiRequestError("closed", "the connection was closed"))
        self._pending.clear()

    async def call(self, op: str, **params: Any) -> Any:
        if "id" in params or "op" in params:
            raise ValueError("'id' and 'op' are the envelope's own keys, not parameters")
        if self._reader is None or self._reader.done():
            raise ApiRequestError("closed", "not connected")
        rid = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        await self._conn.send(json.dumps({"id": rid, "op": op, **params}))
        try:
            reply = await asyncio.wait_for(fut, self.timeout)
        except asyncio.TimeoutError:
            self._pending.pop(rid, None)
            raise ApiRequestError("timeout", f"no reply to {op} in {self.timeout} s") from None
        if not reply.get("ok"):
            err = reply.get("error", {})
            raise ApiRequestError(err.get("code", "error"), err.get("message", ""))
        return reply.get("result")
