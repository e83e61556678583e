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
from cti.api import ApiServer
from cti.callcentre import CallCentre
from cti.cdr import CdrError, CdrWriter
from cti.config import Config
from cti.crm import CrmStore
from cti.diagview import span_view
from cti.dialer import Dialer, spec_from_config
from cti.dialplan import DialPlan, Route
from cti.kernel import Kernel
from cti.media import MediaEngine
from cti.operations import Operations
from cti.queues import Acd, Agent, HuntQueue
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
                             mode=a["mode"], wrapup_s=a["wrapup_s"],
                             skills=cfg.skills("agent", i))
                       for i, a in enumerate(cfg["agent"])]
        self.acd = Acd(k, self.agents)  # one arbiter serves every queue
        self.queues = {q["name"]: HuntQueue(q["name"], k, self.media, self.stations, self.agents,
                                            acd=self.acd, skills=cfg.skills("queue", i),
                                            priority=q["priority"], strategy=q["strategy"],
                                            service_level_s=q["service_level_s"],
                                            wrapup_s=q["wrapup_s"],
                                            ring_timeout=q["ring_timeout_s"])
                       for i, q in enumerate(cfg["queue"])}
        for default in ("sales", "support"):  # the demo flow's queues
            if default not in self.queues:
                self.queues[default] = HuntQueue(default, k, self.media, self.stations,
                                                 self.agents, acd=self.acd)
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
        try:
            self.cdr = CdrWriter(crm["records"] or os.path.splitext(crm["path"])[0]
                                 + "-calls.csv", store=self.crm)
        except CdrError as e:
            cfg.error(str(e), "crm.records")
        self.trunks: dict[str, Any] = {}
        self.groups: dict[str, TrunkGroup] = {}
        self.centre = CallCentre(k, self.media, DialPlan(routes), self.queues, self.cdr,
                                 plan=kc["tone_plan"], trunks=self.trunks, groups=self.groups,
                                 stations=self.stations,
                                 on_error=self._error, flows=self.flows)
        for i, t in enumerate(cfg["trunk"]):
            self.trunks[t["name"]] = self._trunk(i, t)
            self._trace(t, f"trunk[{i}]")
        self.groups.update(build_groups(self.trunks, cfg["trunk_group"],
                                        {t["name"]: t["overflow"] for t in cfg["trunk"]}))
        for i, s in enumerate(cfg["stp"]):  # shown and traced as trunks are, never hunted
            self.trunks[s["name"]] = self._stp(i, s)
            self._trace(s, f"stp[{i}]")
        ivr.check_route_targets(self.flows, self.queues, self.groups,
                                0 if self.stations is None else len(self.stations.board.handsets))
        self.dialer = Dialer(k, self.centre, self.media, self.queues, self.agents)
        for i, c in enumerate(cfg["campaign"]):
            if c["queue"] not in self.queues:
                cfg.error("no such queue", f"campaign[{i}].queue")
            try:
                self.dialer.add_campaign(spec_from_config(c, self._relative, self.crm))
            except ValueError as e:
                key, _, msg = str(e).partition(": ")
                cfg.error(msg or key, f"campaign[{i}].{key}")
        self.ops = Operations(k, self.centre, self.acd, self.trunks, self.groups,
                              self.stations, self.media, self.crm)
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

    def _error(self, message: str) -> None:
        """A call-centre failure (logged by the centre); the first 1000 are kept, as the
        kernel keeps its handlers' (a long-running system must not grow without bound)."""
        if len(self.errors) < 1000:
            self.errors.append(message)

    def _relative(self, path: str) -> str:
        """A path of the configuration, relative to the file's directory."""
        return os.path.join(os.path.dirname(os.path.abspath(self.cfg.path)), path)

    def _flows(self) -> dict[str, ivr.Flow]:
        """The built-in flows, the config's [[ivr]] and those of ``kernel.ivr_path``."""
        path = self.cfg["kernel"]["ivr_path"]
        extra = {}
        if path:
            extra = ivr.load_flow_file(self._relative(path))
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
                if t["type"] == "ss7":
                    from cti.trunks.ss7 import Ss7Trunk as trunk_class
                else:
                    from cti.trunks.tup import TupTrunk as trunk_class
                return trunk_class(self.kernel, name, span, opc=t["opc"], dpc=t["dpc"],
                                   variant=t["variant"] or ("itu" if t["type"] == "ss7"
                                                            else "china"),
                                   cic_base=t["cic_base"] - 1, timers=timers,
                                   transport=transport, on_offered=offered, timeslots=timeslots,
                                   spans=[self._span(s, f"trunk[{i}].spans")
                                          for s in t["spans"]], links=t["links"],
                                   continuity_ratio=t["continuity_ratio"], stp=t["stp"],
                                   rct=t["rct"],
                                   link_spans=[self._span(s, f"trunk[{i}].link_spans")
                                               for s in t["link_spans"]])
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

    def _trace(self, t: dict, where: str) -> None:
        """The ``trace`` file of a trunk or STP, from the start."""
        if t["trace"]:
            try:
                self.trunks[t["name"]].trace(self._relative(t["trace"]))
            except (ValueError, OSError) as e:
                self.cfg.error(f"cannot trace: {e}", f"{where}.trace")

    def _stp(self, i: int, s: dict):
        from cti.trunks.stp import LinksetSpec, TransferPoint

        linksets = []
        for j, ls in enumerate(s["linksets"]):
            transport = None
            if ls["transport"] == "hdlc-socket":
                transport = HdlcSocketServer(self.kernel.loop, ls["socket"])
                self.transports.append(transport)
            spans = [self._span(n, f"stp[{i}].linksets[{j}].spans") for n in ls["spans"]]
            linksets.append(LinksetSpec(ls["adjacent"], spans, transport))
        try:
            return TransferPoint(self.kernel, s["name"], s["pc"], linksets, routes=s["routes"],
                                 variant=s["variant"], tfr=s["tfr"], rct=s["rct"],
                                 timers=s["timers"])
        except (ValueError, KeyError, TypeError) as e:
            self.cfg.error(f"cannot build the STP: {e}", f"stp[{i}]")

    async def start_api(self) -> ApiServer:
        ac = self.cfg["api"]
        api = self.api = ApiServer(token=ac["token"], host=ac["host"], port=ac["port"])
        register_views(api, self.kernel, self.centre, self.spans, self.trunks, self.agents)
        self.ops.register(api)
        self.dialer.register(api)
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
        for trunk in self.trunks.values():
            if trunk.trace_path is not None:
                trunk.trace(None)  # the pcap file closed whole
        for t in self.transports:
            t.close()
        for board in self.boards.values():
            board.close()
        self.dialer.close()
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
