"""The control API of a running kernel: JSON over WebSocket on 127.0.0.1.

Protocol (docs/control-api.md has every operation):

* The first message must be ``{"op": "auth", "token": "..."}``.  A bad or missing token
  gets no reply at all: the connection is closed (code 1008).
* Requests are ``{"id": <any>, "op": "<name>", ...params}`` (no parameter is named ``id``
  or ``op``: those keys are the envelope's); each gets exactly one reply
  ``{"id": ..., "ok": true, "result": ...}`` or ``{"id": ..., "ok": false, "error":
  {"code": "...", "message": "..."}}``.  Malformed JSON, unknown operations and bad
  parameters are error replies; nothing a client sends stops the server.
* ``{"op": "subscribe", "topics": ["calls", "agents", "queues", "spans", "links"]}``
  starts event messages ``{"event": "<topic>.<name>", "data": {...}}``; with
  ``"agents": [names]`` the events about an agent (data naming it as ``agent`` or, on the
  ``agents`` topic, ``name``) come only for those agents: an agent desktop's view.

Operations are registered by the kernel's services with :meth:`ApiServer.register`.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

TOPICS = ("calls", "agents", "queues", "spans", "links")


class ApiError(Exception):
    """An error reply: ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


Handler = Callable[..., Any | Awaitable[Any]]


class ApiServer:
    def __init__(self, token: str | None = None, host: str = "127.0.0.1", port: int = 0):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the control API listens on the loopback interface only")
        # hex: a generated token never starts with "-", which `--token VALUE` would take
        # for an option (a 1-in-64 chance with URL-safe base64 made CLI calls fail)
        self.token = token or secrets.token_hex(24)
        self.host = host
        self.port = port
        self.ops: dict[str, tuple[Handler, str]] = {}
        self._subs: dict[ServerConnection, set[str]] = {}
        self._agents: dict[ServerConnection, frozenset[str]] = {}  # agent filters
        self._server = None
        self.register("ping", lambda: "pong", "liveness check")
        self.register("ops", lambda: {k: d for k, (_, d) in sorted(self.ops.items())},
                      "list operations")

    def register(self, op: str, handler: Handler, doc: str = "") -> None:
        self.ops[op] = (handler, doc)

    async def start(self) -> int:
        self._server = await serve(self._session, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    def subscribed(self, topic: str) -> bool:
        """Whether any client takes ``topic`` (to skip building events nobody reads)."""
        return any(topic in topics for topics in self._subs.values())

    def publish(self, topic: str, name: str, data: Any) -> None:
        """Send an event to every client subscribed to ``topic`` (never blocks)."""
        if not self._subs:
            return
        msg = None
        agent = data.get("agent", data.get("name") if topic == "agents" else None) \
            if isinstance(data, dict) else None
        for conn, topics in tuple(self._subs.items()):
            if topic in topics:
                only = self._agents.get(conn)
                if only is not None and agent is not None and agent not in only:
                    continue
                msg = msg or json.dumps({"event": f"{topic}.{name}", "data": data}, default=str)
                asyncio.ensure_future(self._send_quietly(conn, msg))

    @staticmethod
    async def _send_quietly(conn: ServerConnection, msg: str) -> None:
        try:
            await conn.send(msg)
        except ConnectionClosed:
            pass

    async def _session(self, conn: ServerConnection) -> None:
        try:
            first = await asyncio.wait_for(conn.recv(), timeout=10)
            req = json.loads(first)
            token = req.get("token") if isinstance(req, dict) and req.get("op") == "auth" else None
            if not isinstance(token, str) or not hmac.compare_digest(token, self.token):
                await conn.close(1008, "")
                return
        except (asyncio.TimeoutError, ValueError, ConnectionClosed, TypeError):
            await conn.close(1008, "")
            return
        self._subs[conn] = set()
        await conn.send(json.dumps({"ok": True, "result": "authenticated"}))
        try:
            async for raw in conn:
                await conn.send(json.dumps(await self._handle(conn, raw), default=str))
        except ConnectionClosed:
            pass
        finally:
            self._subs.pop(conn, None)
            self._agents.pop(conn, None)

    async def _handle(self, conn: ServerConnection, raw: str | bytes) -> dict[str, Any]:
        rid = None
        try:
            try:
                req = json.loads(raw)
            except ValueError:
                raise ApiError("bad_json", "request is not valid JSON") from None
            if not isinstance(req, dict):
                raise ApiError("bad_request", "request must be a JSON object")
            rid = req.get("id")
            op = req.get("op")
            if op == "subscribe" or op == "unsubscribe":
                topics = req.get("topics", list(TOPICS))
                if not isinstance(topics, list) or not all(t in TOPICS for t in topics):
                    raise ApiError("bad_params", f"topics must be a list of {', '.join(TOPICS)}")
                agents = req.get("agents")
                if agents is not None:
                    if op != "subscribe" or not isinstance(agents, list) or not all(
                            isinstance(a, str) for a in agents):
                        raise ApiError("bad_params", "agents must be a list of agent names "
                                                     "(subscribe only)")
                    self._agents[conn] = frozenset(agents)
                subs = self._subs.setdefault(conn, set())
                (subs.update if op == "subscribe" else subs.difference_update)(topics)
                return {"id": rid, "ok": True, "result": sorted(subs)}
            if not isinstance(op, str) or op not in self.ops:
                raise ApiError("unknown_op", f"unknown operation {op!r}")
            handler = self.ops[op][0]
            params = {k: v for k, v in req.items() if k not in ("id", "op")}
            try:
                inspect.signature(handler).bind(**params)
            except TypeError as e:
                raise ApiError("bad_params", f"{op}: {e}") from None
            result = handler(**params)
            if inspect.isawaitable(result):
                result = await result
            return {"id": rid, "ok": True, "result": result}
        except ApiError as e:
            return {"id": rid, "ok": False, "error": {"code": e.code, "message": str(e)}}
        except Exception as e:  # an operation that fails answers an error, never a silence
            return {"id": rid, "ok": False,
                    "error": {"code": "failed", "message": f"{type(e).__name__}: {e}"}}
