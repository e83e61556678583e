"""The control API's call and agent operations (softphone, transfer, conference, park),
shared by ``cti run`` (:class:`cti.runtime.Runtime`) and ``cti lab --realtime``: each names
calls by id and agents by name, and every refusal is an :class:`cti.api.ApiError` with a
reason code (docs/control-api.md)."""

from __future__ import annotations

from typing import Any

from cti.api import ApiError, ApiServer
from cti.calls import Call, CallError, DialError
from cti.desktop import Desktop, agent_named
from cti.features import FeatureError, Features
from cti.queues import Acd, Agent
from cti.skills import SkillError, agent_skills
from cti.supervisor import Supervisor
from cti.trunkgroup import NoChannel, TrunkGroup


class Operations:
    """Operations over one kernel's call centre; :meth:`register` puts them on an API
    together with the agent desktop and supervisor operations."""

    def __init__(self, kernel, centre, acd: Acd, trunks: dict[str, Any],
                 groups: dict[str, TrunkGroup], stations, media, crm):
        self.kernel = kernel
        self.centre = centre
        self.acd = acd
        self.trunks = trunks
        self.groups = groups
        self.stations = stations
        self.agents = agents = acd.agents
        self.features = Features(kernel, media)
        self.desktop = Desktop(kernel, agents, centre.active, stations, crm)
        self.api: ApiServer | None = None
        self.supervisor = Supervisor(kernel, stations, agents, centre.active)

    def _agent(self, name: str) -> Agent:
        return agent_named(self.agents, name)

    def _call(self, call_id: int) -> Call:
        call = self.centre.active.get(call_id)
        if call is None:
            raise ApiError("not_found", f"no active call {call_id}")
        return call

    def agent_ready(self, name: str) -> str:
        a = self._agent(name)
        if a.state in ("talking", "ringing"):
            raise ApiError("busy", f"agent {name} is {a.state}")
        if a.state == "logged-out":
            raise ApiError("bad_state", f"agent {name} is logged out: agent.login first")
        self.acd.set_ready(a)
        return a.state

    @staticmethod
    def _skills(skills: Any) -> dict[str, int]:
        """``skills`` in the config's form (``["sales:8", "english"]``), or ``bad_params``."""
        try:
            return agent_skills(skills)
        except SkillError as e:
            where = "skills" if e.index is None else f"skills[{e.index}]"
            raise ApiError("bad_params", f"{where}: {e}") from None

    def agent_skills(self, name: str, skills: list | None = None) -> dict[str, Any]:
        """An agent's skills and the queues it serves; ``skills`` replaces them, from the
        next dispatch on (at once), and is published as the event ``agents.skills``."""
        a = self._agent(name)
        if skills is not None:
            a.skills = self._skills(skills)
        view = {"name": a.name, "skills": dict(a.skills),
                "queues": [q.name for q in self.acd.queues if q.serves(a)]}
        if skills is not None:
            if self.api is not None:
                self.api.publish("agents", "skills", view)
            self.acd.dispatch()
        return view

    def agent_login(self, name: str, station: int, skills: list | None = None) -> str:
        """An agent signs in at a station (a new agent, or one moving desks); not ready.
        ``skills`` gives (or replaces) its skills."""
        if not isinstance(name, str) or not name:
            raise ApiError("bad_params", "name must be a non-empty string")
        if not isinstance(station, int) or isinstance(station, bool):
            raise ApiError("bad_params", "station must be an integer")
        parsed = None if skills is None else self._skills(skills)
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
                if parsed is not None:
                    a.skills = parsed
                return a.state
        self.agents.append(Agent(name, station, state="not-ready", skills=parsed))
        self.desktop.watch(self.agents[-1])
        return "not-ready"

    def agent_logout(self, name: str) -> str:
        a = self._agent(name)
        if a.state in ("talking", "ringing"):
            raise ApiError("busy", f"agent {name} is {a.state}")
        a.state = "logged-out"
        return a.state

    async def consult(self, call: int, trunk: str, dnis: str) -> int:
        """The call goes on hold; its partner (the agent) is connected to trunk/dnis.
        Returns the consultation call's id (for call.complete)."""
        c = self._call(call)
        agent = c.data.get("bridged")
        if agent is None:
            raise ApiError("bad_state", f"call {call} is not bridged to anyone")
        target = self._new_call(trunk, dnis, c.ani)
        if not await self._placing(target, self._feature(self.features.consult, c, agent,
                                                         target)):
            raise ApiError("failed", f"{dnis} did not answer")
        return target.id

    def complete(self, call: int, consult: int) -> str:
        """After call.consult: the held caller and the consulted party talk; the agent leaves."""
        c, target = self._call(call), self._call(consult)
        agent = target.data.get("bridged")
        if agent is None:
            raise ApiError("bad_state", f"call {consult} is not a consultation")
        self._feature(self.features.complete_transfer, c, agent, target)
        return "transferred"

    def _new_call(self, trunk: str, dnis: str, ani: str) -> Call:
        t = (self.trunks.get(trunk) or (self.stations if trunk == "stations" else None)
             if isinstance(trunk, str) else None)
        if t is None:
            raise ApiError("not_found", f"no trunk {trunk!r}")
        call = Call(trunk=t, direction="out", dnis=dnis, ani=ani, clock=self.kernel.now)
        self.centre.track(call)
        return call

    def agent_pause(self, name: str) -> str:
        a = self._agent(name)
        if a.state == "ready":
            a.state = "not-ready"
        return a.state

    def call_drop(self, call: int, cause: int = 16, agent: str | None = None) -> str:
        """Clear a call; with ``agent``, that agent hangs up (its leg of the call clears)."""
        if not isinstance(cause, int) or not 1 <= cause <= 127:
            raise ApiError("bad_params", "cause must be a Q.850 value 1..127")
        if agent is not None:
            return self.desktop.hangup(agent, call, cause)
        self._call(call).drop(cause)
        return "dropping"

    def call_dial(self, dnis: str, trunk: str | None = None, group: str | None = None,
                  ani: str = "") -> int:
        """Place a call on ``trunk`` (its stack picks the channel; "stations" for an
        extension) or on trunk group ``group`` (hunting, then overflow; no channel anywhere
        is error ``no_channel``, Q.850 cause 34)."""
        if not isinstance(dnis, str) or not dnis:
            raise ApiError("bad_params", "dnis must be a non-empty string of digits")
        if (trunk is None) == (group is None):
            raise ApiError("bad_params", "give either trunk or group")
        if group is not None:
            g = self.groups.get(group) if isinstance(group, str) else None
            if g is None:
                raise ApiError("not_found", f"no trunk group {group!r}")
            call = self._new_call(g.trunks[0].name, dnis, ani)
            place = g.dial
        else:
            call = self._new_call(trunk, dnis, ani)
            place = Call.dial
        try:
            place(call)
        except NoChannel as e:
            self.centre.active.pop(call.id, None)
            raise ApiError("no_channel", str(e)) from None
        except Exception:
            self.centre.active.pop(call.id, None)
            raise
        return call.id

    def trunk_trace(self, trunk: str, path: str | None = None) -> dict:
        """Start (``path``) or stop tracing a trunk's signalling (pcap; R2: .r2log)."""
        t = self.trunks.get(trunk) if isinstance(trunk, str) else None
        if t is None:
            raise ApiError("not_found", f"no trunk {trunk!r}")
        if path is not None and not isinstance(path, str):
            raise ApiError("bad_params", "path must be a file name")
        try:
            return {"trunk": trunk, "tracing": t.trace(path)}
        except ValueError as e:
            raise ApiError("bad_state", str(e)) from None
        except OSError as e:
            raise ApiError("failed", f"cannot write {path}: {e.strerror or e}") from None

    def _feature(self, fn, *args):
        for arg in args:  # hold, transfer, conference and park take calls out of supervision
            for c in arg if isinstance(arg, list) else [arg]:
                if isinstance(c, Call):
                    self.supervisor.release(c)
        try:
            return fn(*args)
        except FeatureError as e:
            raise ApiError("bad_state", str(e)) from None

    def hold(self, call: int) -> str:
        self._feature(self.features.hold, self._call(call))
        return "held"

    def retrieve(self, call: int) -> str:
        self._feature(self.features.retrieve, self._call(call))
        return "retrieved"

    def park(self, call: int) -> int:
        return self._feature(self.features.park, self._call(call))

    def unpark(self, number: int, call: int) -> int:
        return self._feature(self.features.unpark, number, self._call(call)).id

    def conference(self, calls: list) -> int:
        if not isinstance(calls, list) or len(calls) < 2:
            raise ApiError("bad_params", "calls must be a list of at least two call ids")
        return self._feature(self.features.conference, [self._call(c) for c in calls])

    async def transfer(self, call: int, trunk: str, dnis: str) -> bool:
        """Blind transfer: the call's current partner leaves, the call goes to trunk/dnis."""
        c = self._call(call)
        agent = c.data.get("bridged")
        if agent is None:
            raise ApiError("bad_state", f"call {call} is not bridged to anyone")
        target = self._new_call(trunk, dnis, c.ani)
        return await self._placing(target, self._feature(self.features.blind_transfer, c, agent,
                                                         target))

    def malicious(self, call: int, hold: bool = False) -> str:
        """China TUP: have the caller's exchange identify an incoming call as malicious."""
        if not isinstance(hold, bool):  # "false" must not mean hold
            raise ApiError("bad_params", "hold must be true or false")
        return self._procedure(call, "identify_malicious", hold)

    def operator(self, call: int) -> str:
        """China TUP: OPR on an outgoing operator call (re-ring the called party)."""
        return self._procedure(call, "operator_recall")

    def charge(self, call: int, pulses: int) -> str:
        """China TUP: MPM, ``pulses`` per unit charging time, on an incoming call."""
        if not isinstance(pulses, int) or isinstance(pulses, bool):
            raise ApiError("bad_params", "pulses must be an integer 0..65535")
        return self._procedure(call, "charge", pulses)

    def _procedure(self, call: int, name: str, *args: Any) -> str:
        """A trunk's own in-call procedure (``name``) on the call: ``bad_state`` when its
        trunk has none or refuses it now."""
        c = self._call(call)
        fn = getattr(c.trunk, name, None)
        if fn is None:
            raise ApiError("bad_state", f"call {call}: a {c.trunk.kind} trunk has no {name}")
        try:
            fn(c, *args)
        except CallError as e:
            raise ApiError("bad_state", str(e)) from None
        return "sent"

    async def _placing(self, target: Call, feature) -> Any:
        """Await a feature that dials ``target``; a trunk refusing it is error ``refused``
        (the caller stays with its agent), a party gone meanwhile (the agent hung up
        before the target answered) is ``bad_state``, as for the features that answer at once."""
        try:
            return await feature
        except DialError as e:
            self.centre.active.pop(target.id, None)
            raise ApiError("refused", f"{e} (Q.850 cause {e.cause})") from None
        except FeatureError as e:
            raise ApiError("bad_state", str(e)) from None

    def register(self, api: ApiServer) -> None:
        self.api = api
        ops = {
            "agent.ready": (self.agent_ready, "make an agent ready (name)"),
            "agent.pause": (self.agent_pause, "make an agent not ready (name)"),
            "agent.login": (self.agent_login, "sign an agent in at a station (name, station, "
                                              "skills)"),
            "agent.logout": (self.agent_logout, "sign an agent out (name)"),
            "agent.skills": (self.agent_skills, "an agent's skills and the queues it serves; "
                                                "skills [\"name:level\", ...] replaces them "
                                                "(name, skills)"),
            "call.consult": (self.consult, "hold a call, its agent calls trunk/dnis "
                                            "(call, trunk, dnis)"),
            "call.complete": (self.complete, "complete a consultative transfer (call, consult)"),
            "call.drop": (self.call_drop, "clear a call (call, cause)"),
            "call.dial": (self.call_dial, "place a call (dnis, trunk or group, ani)"),
            "call.hold": (self.hold, "music on hold for a call (call)"),
            "call.retrieve": (self.retrieve, "back from hold to its partner (call)"),
            "call.park": (self.park, "park a call; returns its parking number (call)"),
            "call.unpark": (self.unpark, "connect a parked call to an answered one (number, call)"),
            "call.conference": (self.conference, "bridge calls together (calls: [ids])"),
            "call.transfer": (self.transfer, "blind transfer to trunk/dnis (call, trunk, dnis)"),
            "call.malicious": (self.malicious, "TUP: malicious call identification of an "
                                               "incoming call, MAL or with hold GRQ (call, hold)"),
            "call.operator": (self.operator, "TUP: operator recall OPR (call)"),
            "call.charge": (self.charge, "TUP: metering pulses MPM per unit charging time "
                                         "(call, pulses)"),
            "trunk.trace": (self.trunk_trace, "signalling of a trunk to a file on the kernel's "
                                              "host (pcap; .r2log for R2); no path stops "
                                              "(trunk, path)"),
        }
        for op, (fn, doc) in ops.items():
            api.register(op, fn, doc)
        self.desktop.register(api)
        self.supervisor.register(api)
