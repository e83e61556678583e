"""Agent desktops over the control API: call control for agents, and the ACD events.

An agent in ``desktop`` mode is offered each call (event ``agents.offered`` and the screen
pop ``calls.screen_pop``, with the CRM record of the caller) while the station rings;
the desktop answers (``call.answer``: the kernel takes the station off-hook), rejects
(``call.reject``: the caller goes to the next agent) or lets it ring out (RONA), and
hangs up with ``call.drop`` naming the agent.  Every agent state change is an
``agents.state`` event: ready, ringing (offered), talking, wrapup, not-ready (with its
reason code), logged-out.  An operation on a call that is not the agent's, or in the
wrong state, is an error reply naming the reason.
"""

from __future__ import annotations

import re
from typing import Any

from cti.api import ApiError, ApiServer
from cti.calls import Call
from cti.crm import CrmError, CrmStore
from cti.queues import AGENT_MODES, Agent, Offer

REASON = re.compile(r"^[\w .:-]{1,32}$")


def _plain(v: Any) -> bool:
    """JSON data: scalars, and lists and string-keyed objects of them."""
    if v is None or isinstance(v, str | int | float | bool):
        return True
    if isinstance(v, list | tuple):
        return all(_plain(x) for x in v)
    return isinstance(v, dict) and all(isinstance(k, str) and _plain(x) for k, x in v.items())


POP_TRAIL = 50  # IVR trail entries a screen pop carries (the latest)


def call_vars(call: Call) -> dict[str, Any]:
    """The call's application variables: what the IVR collected (``ivr``, ``ivr_trail``),
    the queue and the like; the JSON data of ``call.data`` (not the bridged calls).  A flow
    that loops can make a long trail: only its last ``POP_TRAIL`` entries go, and
    ``ivr_trail_dropped`` says how many earlier ones did not."""
    out = {k: v for k, v in call.data.items() if _plain(v)}
    trail = out.get("ivr_trail")
    if isinstance(trail, list) and len(trail) > POP_TRAIL:
        out["ivr_trail"] = trail[-POP_TRAIL:]
        out["ivr_trail_dropped"] = len(trail) - POP_TRAIL
    return out


def agent_named(agents: list[Agent], name: Any) -> Agent:
    """The agent called ``name``, or the API's ``not_found`` error."""
    for a in agents:
        if a.name == name:
            return a
    raise ApiError("not_found", f"no agent {name!r}")


def check_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not REASON.match(reason):
        raise ApiError("bad_params", "reason must be 1..32 letters, digits, spaces or .:-_")
    return reason


class Desktop:
    def __init__(self, kernel, agents: list[Agent], calls: dict[int, Call], stations=None,
                 crm: CrmStore | None = None):
        self.kernel = kernel
        self.agents = agents
        self.calls = calls  # the active calls, by id (CallCentre.active)
        self.stations = stations
        self.crm = crm
        self.api: ApiServer | None = None
        self._handset_answer: dict[str, int | None] = {}
        for a in agents:
            self.watch(a)

    def watch(self, agent: Agent) -> None:
        """Publish the agent's state changes; apply its mode to its (simulated) phone."""
        if self._changed not in agent.listeners:
            agent.listeners.append(self._changed)
        self._apply_mode(agent)

    def register(self, api: ApiServer) -> None:
        self.api = api
        ops = {
            "agent": (self.view, "one agent: state, reason, mode, current call (name)"),
            "agent.mode": (self.set_mode, "auto (the phone answers) or desktop (name, mode)"),
            "agent.not_ready": (self.not_ready, "not ready with a reason code; during a call: "
                                                "after it (name, reason)"),
            "call.answer": (self.answer, "answer the call offered to an agent (agent, call)"),
            "call.reject": (self.reject, "refuse the call offered to an agent: next agent "
                                         "(agent, call)"),
            "crm.lookup": (self.crm_lookup, "a caller's contact and call history (number)"),
            "crm.update": (self.crm_update, "create or change a contact (number, fields)"),
        }
        for op, (fn, doc) in ops.items():
            api.register(op, fn, doc)

    # --- events -----------------------------------------------------------------------------
    def _changed(self, agent: Agent) -> None:
        api = self.api
        if api is None:
            return
        agents, calls = api.subscribed("agents"), api.subscribed("calls")
        if agents:
            api.publish("agents", "state", {**agent.as_dict(), "at": round(self.kernel.now(), 3)})
        if agent.state == "ringing" and agent.offer is not None and (agents or calls):
            pop = self.screen_pop(agent, agent.offer)
            api.publish("agents", "offered", {k: pop[k] for k in (
                "agent", "call", "leg", "queue", "ani", "dnis", "wait_s", "mode")})
            api.publish("calls", "screen_pop", pop)

    def screen_pop(self, agent: Agent, offer: Offer) -> dict[str, Any]:
        caller = offer.caller
        return {"agent": agent.name, "mode": agent.mode, "call": caller.id, "leg": offer.leg.id,
                "queue": offer.queue.name, "trunk": caller.trunk.kind, "ani": caller.ani,
                "dnis": caller.dnis, "wait_s": round(self.kernel.now() - offer.waiting.since, 3),
                "data": call_vars(caller), "crm": self._crm_record(caller.ani)}

    def _crm_record(self, number: str) -> dict[str, Any] | None:
        if self.crm is None:
            return None
        try:
            return self.crm.lookup(number)
        except CrmError:  # no caller number (withheld) or not a number
            return None

    # --- lookups ----------------------------------------------------------------------------
    def agent(self, name: Any) -> Agent:
        return agent_named(self.agents, name)

    def _offer(self, name: Any, call: Any, state: str) -> tuple[Agent, Offer]:
        """The agent's offer for ``call``, the agent being in ``state``; else the reason."""
        agent = self.agent(name)
        if not isinstance(call, int) or isinstance(call, bool):
            raise ApiError("bad_params", "call must be a call id (integer)")
        offer = agent.offer
        if offer is None or offer.caller.id != call:
            if call not in self.calls:
                raise ApiError("not_found", f"no active call {call}")
            raise ApiError("not_yours", f"call {call} is not offered to or answered by "
                                        f"agent {agent.name}")
        if agent.state != state:
            raise ApiError("bad_state", f"agent {agent.name} is {agent.state}, not {state}")
        return agent, offer

    def view(self, name: str) -> dict[str, Any]:
        return self.agent(name).as_dict()

    # --- operations ---------------------------------------------------------------------------
    def set_mode(self, name: str, mode: str) -> str:
        agent = self.agent(name)
        if mode not in AGENT_MODES:
            raise ApiError("bad_params", f"mode must be one of {', '.join(AGENT_MODES)}")
        if agent.state == "ringing":
            raise ApiError("busy", f"agent {name} is being offered a call")
        agent.mode = mode
        self._apply_mode(agent)
        return mode

    def _apply_mode(self, agent: Agent) -> None:
        """A simulated phone of a desktop agent does not lift by itself (the desktop
        answers); back in auto mode it answers as it did before."""
        if self.stations is None or not 0 <= agent.station < len(self.stations.board.handsets):
            return
        handset = self.stations.board.handsets[agent.station]
        if agent.mode == "desktop" and agent.name not in self._handset_answer:
            self._handset_answer[agent.name] = handset.answer_after
            handset.answer_after = None
        elif agent.mode == "auto" and agent.name in self._handset_answer:
            handset.answer_after = self._handset_answer.pop(agent.name)

    def not_ready(self, name: str, reason: str) -> dict[str, Any]:
        """Not ready with a reason code; during a call (talking, wrap-up pending) it takes
        effect when the call's wrap-up ends."""
        agent = self.agent(name)
        check_reason(reason)
        if agent.state == "logged-out":
            raise ApiError("bad_state", f"agent {name} is logged out")
        if agent.state == "ringing":
            raise ApiError("busy", f"agent {name} is being offered call "
                                   f"{agent.offer.caller.id}: answer or reject it first")
        if agent.state == "talking":
            agent.pending = ("not-ready", reason)
        else:
            agent.set_state("not-ready", reason)
        return agent.as_dict()

    def answer(self, agent: str, call: int) -> str:
        a, offer = self._offer(agent, call, "ringing")
        if a.mode != "desktop":
            raise ApiError("bad_state", f"agent {a.name} answers on the phone (mode auto)")
        offer.queue.answer(a)
        return "answering"

    def reject(self, agent: str, call: int) -> str:
        a, offer = self._offer(agent, call, "ringing")
        offer.queue.reject(a)
        return "rejected"

    def hangup(self, agent: str, call: int, cause: int) -> str:
        """The agent leaves the call (its station leg clears; the caller with it unless
        transferred, held or parked)."""
        a, offer = self._offer(agent, call, "talking")
        offer.leg.drop(cause)
        return "dropping"

    def crm_lookup(self, number: str) -> dict[str, Any]:
        return self._crm("lookup", number)

    def crm_update(self, number: str, fields: dict) -> dict[str, Any]:
        return self._crm("update", number, fields)

    def _crm(self, op: str, *args: Any) -> dict[str, Any]:
        if self.crm is None:
            raise ApiError("unavailable", "no CRM store configured")
        try:
            return getattr(self.crm, op)(*args)
        except CrmError as e:
            raise ApiError("bad_params", str(e)) from None
