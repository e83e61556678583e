"""A kernel built from a configuration (:mod:`cti.config`): boards, cables, trunks, the
dial plan, queues and agents, call records and the control API.  ``cti run`` uses it.

Spans are named ``board:N`` (N from 1).  A trunk's bearer channels are its span's
timeslots; a trunk on an hdlc-socket with no span has signalling only (its calls get
no media).  Every incoming call goes through :class:`cti.callcentre.CallCentre`.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from typing import Any

from core.errors import ConfigError
from cti import ivr
from cti.api import ApiError, ApiServer
from cti.callcentre import CallCentre
from cti.calls import Call
from cti.cdr import CdrWriter
from cti.config import Config
from cti.crm import CrmStore
from cti.desktop import Desktop
from cti.diagview import span_view
from cti.dialplan import DialPlan, Route
from cti.features import FeatureError, Features
from cti.kernel import Kernel
from cti.media import MediaEngine
from cti.queues import Agent, HuntQueue
from cti.supervisor import Supervisor
from cti.transports import HdlcSocketServer
from cti.trunkgroup import TrunkGroup, build_groups
from cti.trunks.base import parse_timeslots
from drivers.base import BoardError, Signalling, SpanConfig


class Runtime:
    def __init__(self, cfg: Config, *, virtual: bool | None = None):
        self.cfg = cfg
        kc = cfg["kernel"]
        self.kernel = k = Kernel(virtual=kc["virtual"] if virtual is None else virtual,
                                 block=kc["block"], law=kc["law"])
        self.errors: list[str] = []
        self.boards: dict[str, Any] = {}
        self.spans: dict[str, Any] = {}
        self.transports: list[HdlcSocketServer] = []
        self._sim_system = None
        self.stations = None
        self.cfg_types = {b["name"]: b["type"] for b in cfg["board"]}
        for i, b in enumerate(cfg["board"]):
            self._board(i, b)
        for i, c in enumerate(cfg["cable"]):
            self._cable(i, c)
        for name in {t["span"] for t in cfg["trunk"] if t["type"] == "r2" and t["span"]}:
            span = self.spans.get(name)
            if span is not None and span.config.signalling is not Signalling.CAS:
                span.configure(SpanConfig(framing=span.config.framing,
                                          signalling=Signalling.CAS, clock=span.config.clock))
        for name, board in self.boards.items():
            board.open()
            if self.cfg_types.get(name) == "dahdi":  # DAHDI spans exist once opened
                for n, span in enumerate(board.spans, 1):
                    self.spans[f"{name}:{n}"] = span
        for span in self.spans.values():
            k.add_span(span)
        if self.stations_board is not None:
            from cti.trunks.station import StationTrunk
            self.stations = StationTrunk(k, "stations", self.stations_board)
        self.media = MediaEngine(k, law=kc["law"], plan=kc["tone_plan"])
        self.agents = [Agent(a["name"], a["station"] if a["station"] is not None else i,
                             mode=a["mode"], wrapup_s=a["wrapup_s"])
                       for i, a in enumerate(cfg["agent"])]
        self.queues = {q["name"]: HuntQueue(q["name"], k, self.media, self.stations, self.agents,
                                            service_level_s=q["service_level_s"],
                                            wrapup_s=q["wrapup_s"],
                                            ring_timeout=q["ring_timeout_s"])
                       for q in cfg["queue"]}
        for default in ("sales", "support"):  # the demo flow's queues
            self.queues.setdefault(default, HuntQueue(default, k, self.media, self.stations,
                                                      self.agents))
        self.flows = self._flows()
        routes = []
        for i, r in enumerate(cfg["route"]):
            route = Route.parse(r["dnis"], r["ani"], r["to"])
            if route.kind == "ivr" and route.target not in self.flows:
                cfg.error(f"unknown flow (flows: {', '.join(self.flows)})", f"route[{i}].to")
            if route.kind == "queue" and route.target not in self.queues:
                cfg.error("no such queue", f"route[{i}].to")
            if route.kind == "station" and self.stations is None:
                cfg.error("no station board configured", f"route[{i}].to")
            routes.append(route)
        crm = cfg["crm"]  # files are made once the dial plan is known to be good
        try:
            self.crm = CrmStore(crm["path"])
        except sqlite3.Error as e:
            cfg.error(f"cannot open the CRM store {crm['path']!r}: {e}", "crm.path")
        self.cdr = CdrWriter(crm["records"] or os.path.splitext(crm["path"])[0] + "-calls.csv",
                             store=self.crm)
        self.trunks: dict[str, Any] = {}
        self.groups: dict[str, TrunkGroup] = {}
        self.centre = CallCentre(k, self.media, DialPlan(routes), self.queues, self.cdr,
                                 plan=kc["tone_plan"], trunks=self.trunks, groups=self.groups,
                                 stations=self.stations,
                                 on_error=self.errors.append, flows=self.flows)
        for i, t in enumerate(cfg["trunk"]):
            self.trunks[t["name"]] = self._trunk(i, t)
        self.groups.update(build_groups(self.trunks, cfg["trunk_group"],
                                        {t["name"]: t["overflow"] for t in cfg["trunk"]}))
        ivr.check_route_targets(self.flows, self.queues, self.groups,
                                0 if self.stations is None else len(self.stations.board.handsets))
        self.features = Features(k, self.media)
        self.desktop = Desktop(k, self.agents, self.centre.active, self.stations, self.crm)
        self.supervisor = Supervisor(k, self.stations, self.agents, self.centre.active)
        self.api: ApiServer | None = None

    # --- building ---------------------------------------------------------------------------
    stations_board = None

    def _board(self, i: int, b: dict) -> None:
        name, kind = b["name"], b["type"]
        if name in self.boards:
            self.cfg.error("duplicate board name", f"board[{i}].name")
        if kind == "sim":
            from drivers.sim import SimBoard
            from drivers.sim.station import StationBoard

            if self._sim_system is None:
                from drivers.sim import SimSystem
                self._sim_system = SimSystem()
                self.kernel.add_ticker(self._sim_system)
            opts = {"type": "sim", "spans": b["spans"], "framing": b["framing"],
                    "signalling": b["signalling"], "clock": b["clock"]}
            if b["spans"]:
                board = SimBoard.from_config(name, opts, system=self._sim_system,
                                             file=self.cfg.path)
                self.boards[name] = board
                for n, span in enumerate(board.spans, 1):
                    self.spans[f"{name}:{n}"] = span
            if b["stations"]:
                if self.stations_board is not None:
                    self.cfg.error("only one station board is supported", f"board[{i}].stations")
                self.stations_board = StationBoard(f"{name}-stations", stations=b["stations"],
                                                   law=self.cfg["kernel"]["law"],
                                                   system=self._sim_system)
                self.boards[f"{name}-stations"] = self.stations_board
        elif kind == "dahdi":
            from drivers.dahdi.span import DahdiBoard

            first = int(b["device"] or 1)
            board = DahdiBoard(name, {f"{name}:{n}": first + n - 1
                                      for n in range(1, b["spans"] + 1)},
                               blocksize=self.cfg["kernel"]["block"])
            self.boards[name] = board
        else:
            from drivers.pseudowire.span import PseudowireBoard, PseudowireConfig

            try:
                host, port = (b["peer"] or "").rsplit(":", 1)
                remote = (host, int(port))
                local = ("127.0.0.1", int(b["device"] or 0))
            except ValueError:
                self.cfg.error("pseudowire needs peer = 'host:port' and device = local port",
                               f"board[{i}]")
            board = PseudowireBoard(name, {f"{name}:1": PseudowireConfig(
                mode=b["mode"], local=local, remote=remote)})
            self.boards[name] = board
            self.kernel.add_ticker(board)
            self.spans[f"{name}:1"] = board.spans[0]

    def _flows(self) -> dict[str, ivr.Flow]:
        """The built-in flows, the config's [[ivr]] and those of ``kernel.ivr_path``."""
        path = self.cfg["kernel"]["ivr_path"]
        extra = {}
        if path:
            base = os.path.dirname(os.path.abspath(self.cfg.path))
            extra = ivr.load_flow_file(os.path.join(base, path))
        return ivr.merge_flows(ivr.builtin_flows(), ivr.flows_from(self.cfg), extra)

    def _span(self, name: str, where: str):
        span = self.spans.get(name)
        if span is None:
            raise ConfigError(f"no span {name!r} (spans: {', '.join(self.spans) or 'none'})",
                              file=self.cfg.path, key=where)
        return span

    def _cable(self, i: int, c: dict) -> None:
        from drivers.sim import Cable

        a, b = self._span(c["a"], f"cable[{i}].a"), self._span(c["b"], f"cable[{i}].b")
        cable = Cable(a, b)
        imp = c["impair"]
        if imp != "none":
            from drivers.diagnostics import parse_impairment
            try:
                cable.impair("both", **parse_impairment(imp))
            except (ValueError, TypeError) as e:
                self.cfg.error(f"bad impairment: {e}", f"cable[{i}].impair")

    def _trunk(self, i: int, t: dict):
        span = self._span(t["span"], f"trunk[{i}].span") if t["span"] else None
        transport = None
        if t["transport"] == "hdlc-socket":
            transport = HdlcSocketServer(self.kernel.loop, t["socket"])
            self.transports.append(transport)
        offered = self.centre.incoming
        name, timers = t["name"], t["timers"]
        timeslots = parse_timeslots(t["channels"])
        try:
            if t["type"] == "isdn":
                from cti.trunks.isdn import IsdnTrunk
                return IsdnTrunk(self.kernel, name, span, t["side"], variant=t["variant"] or "etsi",
                                 timers=timers, transport=transport, on_offered=offered,
                                 timeslots=timeslots)
            if t["type"] in ("ss7", "tup"):
                from cti.trunks.ss7 import Ss7Trunk
                return Ss7Trunk(self.kernel, name, span, opc=t["opc"], dpc=t["dpc"],
                                variant=t["variant"] or "itu", cic_base=t["cic_base"] - 1,
                                timers=timers, transport=transport, on_offered=offered,
                                timeslots=timeslots)
            from cti.trunks.r2 import R2Trunk
            if span is None:
                self.cfg.error("an R2 trunk needs a span", f"trunk[{i}].span")
            return R2Trunk(self.kernel, name, span, variant=t["variant"] or "cn",
                           master=t["side"] == "network", timers=timers, on_offered=offered,
                           max_dnis=t["max_dnis"], timeslots=timeslots)
        except (ConfigError, BoardError):
            raise
        except (ValueError, KeyError, TypeError) as e:
            self.cfg.error(f"cannot build trunk: {e}", f"trunk[{i}]")

    # --- control API -------------------------------------------------------------------------
    def _agent(self, name: str) -> Agent:
        for a in self.agents:
            if a.name == name:
                return a
        raise ApiError("not_found", f"no agent {name!r}")

    def _call(self, call_id: int) -> Call:
        call = self.centre.active.get(call_id)
        if call is None:
            raise ApiError("not_found", f"no active call {call_id}")
        return call

    def _agent_ready(self, name: str) -> str:
        a = self._agent(name)
        if a.state in ("talking", "ringing"):
            raise ApiError("busy", f"agent {name} is {a.state}")
        if a.state == "logged-out":
            raise ApiError("bad_state", f"agent {name} is logged out: agent.login first")
        for q in self.queues.values():
            q.set_ready(a)
        return a.state

    def _agent_login(self, name: str, station: int) -> str:
        """An agent signs in at a station (a new agent, or one moving desks); not ready."""
        if self.stations is None or not 0 <= station < len(self.stations.board.handsets):
            raise ApiError("bad_params", f"no station {station}")
        if any(a.station == station and a.name != name and a.state != "logged-out"
               for a in self.agents):
            raise ApiError("busy", f"station {station} is taken")
        for a in self.agents:
            if a.name == name:
                if a.state in ("talking", "ringing"):
                    raise ApiError("busy", f"agent {name} is {a.state}")
                a.station, a.state = station, "not-ready"
                return a.state
        self.agents.append(Agent(name, station, state="not-ready"))
        self.desktop.watch(self.agents[-1])
        return "not-ready"

    def _agent_logout(self, name: str) -> str:
        a = self._agent(name)
        if a.state in ("talking", "ringing"):
            raise ApiError("busy", f"agent {name} is {a.state}")
        a.state = "logged-out"
        return a.state

    async def _consult(self, call: int, trunk: str, dnis: str) -> int:
        """The call goes on hold; its partner (the agent) is connected to trunk/dnis.
        Returns the consultation call's id (for call.complete)."""
        c = self._call(call)
        agent = c.data.get("bridged")
        if agent is None:
            raise ApiError("bad_state", f"call {call} is not bridged to anyone")
        target = self._new_call(trunk, dnis, c.ani)
        if not await self._feature(self.features.consult, c, agent, target):
            raise ApiError("failed", f"{dnis} did not answer")
        return target.id

    def _complete(self, call: int, consult: int) -> str:
        """After call.consult: the held caller and the consulted party talk; the agent leaves."""
        c, target = self._call(call), self._call(consult)
        agent = target.data.get("bridged")
        if agent is None:
            raise ApiError("bad_state", f"call {consult} is not a consultation")
        self._feature(self.features.complete_transfer, c, agent, target)
        return "transferred"

    def _new_call(self, trunk: str, dnis: str, ani: str) -> Call:
        t = self.trunks.get(trunk) or (self.stations if trunk == "stations" else None)
        if t is None:
            raise ApiError("not_found", f"no trunk {trunk!r}")
        call = Call(trunk=t, direction="out", dnis=dnis, ani=ani, clock=self.kernel.now)
        self.centre.active[call.id] = call
        call.listeners.append(self.centre._track)
        return call

    def _agent_pause(self, name: str) -> str:
        a = self._agent(name)
        if a.state == "ready":
            a.state = "not-ready"
        return a.state

    def _call_drop(self, call: int, cause: int = 16, agent: str | None = None) -> str:
        """Clear a call; with ``agent``, that agent hangs up (its leg of the call clears)."""
        if not isinstance(cause, int) or not 1 <= cause <= 127:
            raise ApiError("bad_params", "cause must be a Q.850 value 1..127")
        if agent is not None:
            return self.desktop.hangup(agent, call, cause)
        self._call(call).drop(cause)
        return "dropping"

    def _call_dial(self, trunk: str, dnis: str, ani: str = "") -> int:
        if not isinstance(dnis, str) or not dnis:
            raise ApiError("bad_params", "dnis must be a non-empty string of digits")
        call = self._new_call(trunk, dnis, ani)
        try:
            call.dial()
        except Exception:
            self.centre.active.pop(call.id, None)
            raise
        return call.id

    def _feature(self, fn, *args):
        for arg in args:  # hold, transfer, conference and park take calls out of supervision
            for c in arg if isinstance(arg, list) else [arg]:
                if isinstance(c, Call):
                    self.supervisor.release(c)
        try:
            return fn(*args)
        except FeatureError as e:
            raise ApiError("bad_state", str(e)) from None

    def _hold(self, call: int) -> str:
        self._feature(self.features.hold, self._call(call))
        return "held"

    def _retrieve(self, call: int) -> str:
        self._feature(self.features.retrieve, self._call(call))
        return "retrieved"

    def _park(self, call: int) -> int:
        return self._feature(self.features.park, self._call(call))

    def _unpark(self, number: int, call: int) -> int:
        return self._feature(self.features.unpark, number, self._call(call)).id

    def _conference(self, calls: list) -> int:
        if not isinstance(calls, list) or len(calls) < 2:
            raise ApiError("bad_params", "calls must be a list of at least two call ids")
        return self._feature(self.features.conference, [self._call(c) for c in calls])

    async def _transfer(self, call: int, trunk: str, dnis: str) -> bool:
        """Blind transfer: the call's current partner leaves, the call goes to trunk/dnis."""
        c = self._call(call)
        agent = c.data.get("bridged")
        if agent is None:
            raise ApiError("bad_state", f"call {call} is not bridged to anyone")
        target = self._new_call(trunk, dnis, c.ani)
        return await self._feature(self.features.blind_transfer, c, agent, target)

    async def start_api(self) -> ApiServer:
        ac = self.cfg["api"]
        api = self.api = ApiServer(token=ac["token"], host=ac["host"], port=ac["port"])
        register_views(api, self.kernel, self.centre, self.spans, self.trunks, self.agents)
        ops = {
            "agent.ready": (self._agent_ready, "make an agent ready (name)"),
            "agent.pause": (self._agent_pause, "make an agent not ready (name)"),
            "agent.login": (self._agent_login, "sign an agent in at a station (name, station)"),
            "agent.logout": (self._agent_logout, "sign an agent out (name)"),
            "call.consult": (self._consult, "hold a call, its agent calls trunk/dnis "
                                            "(call, trunk, dnis)"),
            "call.complete": (self._complete, "complete a consultative transfer (call, consult)"),
            "call.drop": (self._call_drop, "clear a call (call, cause)"),
            "call.dial": (self._call_dial, "place a call (trunk, dnis, ani)"),
            "call.hold": (self._hold, "music on hold for a call (call)"),
            "call.retrieve": (self._retrieve, "back from hold to its partner (call)"),
            "call.park": (self._park, "park a call; returns its parking number (call)"),
            "call.unpark": (self._unpark, "connect a parked call to an answered one (number, call)"),
            "call.conference": (self._conference, "bridge calls together (calls: [ids])"),
            "call.transfer": (self._transfer, "blind transfer to trunk/dnis (call, trunk, dnis)"),
        }
        for op, (fn, doc) in ops.items():
            api.register(op, fn, doc)
        self.desktop.register(api)
        self.supervisor.register(api)
        await api.start()
        return api

    async def serve(self, state_file: str | None = None) -> None:
        """Run until cancelled, with the control API open; writes url+token for the CLI."""
        self.kernel.start()
        if self.cfg["api"]["enabled"]:
            api = await self.start_api()
            if state_file:
                write_state(state_file, api.url, api.token)
        try:
            await asyncio.Event().wait()
        finally:
            if self.api is not None:
                await self.api.stop()

    def close(self) -> None:
        for t in self.transports:
            t.close()
        for board in self.boards.values():
            board.close()
        self.cdr.close()
        self.crm.close()
        self.kernel.close()


def register_views(api: ApiServer, kernel, centre: CallCentre, spans: dict[str, Any],
                   trunks: dict[str, Any], agents: list[Agent]) -> None:
    """The read-only operations (``spans``, ``links``, ``calls``, ``agents``, ``queues``,
    ``stats``) and the ``calls`` events, for a runtime or the lab."""
    views = {
        "spans": (lambda: {n: {**s.status().as_dict(), "board": n.replace("/", ":").split(":")[0]}
                           for n, s in spans.items()}, "span alarms and counters"),
        "span": (lambda name: span_view(spans, trunks, name),
                 "one span: alarms, counters, line config, trunks (name)"),
        "links": (lambda: {n: t.status() for n, t in trunks.items()},
                  "signalling links/trunks with counters and timers"),
        "calls": (lambda: [c.as_dict() for c in centre.active.values()], "active calls"),
        "groups": (lambda: {n: g.status() for n, g in centre.groups.items()},
                   "trunk groups: hunting policy, free channels, counters"),
        "agents": (lambda: [a.as_dict() for a in agents], "agents and their states"),
        "queues": (lambda: {n: q.status() for n, q in centre.queues.items()},
                   "queues: waiting, service level, abandon rate"),
        "stats": (lambda: kernel.stats.as_dict(kernel.block_s), "tick statistics"),
    }
    for op, (fn, doc) in views.items():
        api.register(op, fn, doc)
    centre.listeners.append(lambda call, ev: api.publish("calls", ev.value, call.as_dict()))


def state_path() -> str:
    return os.environ.get("CTI_STATE") or os.path.join(
        os.environ.get("XDG_RUNTIME_DIR") or os.path.expanduser("~/.cache"), "ctikernel-api.json")


def write_state(path: str, url: str, token: str) -> None:
    import json

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": url, "token": token, "pid": os.getpid()}, f)
