"""IVR flows written as data (``[[ivr]]`` tables), checked when they load and run on the
kernel's media operations (:class:`cti.media.MediaEngine`).

A flow is a set of named nodes; each node does one thing and names the node that comes
next.  Kinds (:data:`NODES` declares their keys, docs/config.md lists them):

``play``     prompts back to back, optionally interrupted by digits (kept for the next node)
``menu``     prompts, then one digit: a choice goes to its node; no input or an invalid digit
             plays ``no_input``/``invalid`` and tries again, ``retries`` times, then ``default``
``collect``  digits into a variable: max digits, terminator, first/inter-digit timeouts
``record``   the caller to a WAV file: beep, max time, end on silence or a terminator digit
``route``    ``queue:``, ``station:``, ``group:``, ``trunk:`` (tandem) or ``ivr:`` (another flow)
``hangup``   clear with a Q.850 cause
``goto``     go on at another node
``branch``   the node named for a variable's value in ``cases``, else ``default``

Prompts are WAV/raw G.711 files (relative to the flow file, streamed when played),
``tone:NAME[:SECONDS]`` (a tone of the kernel's tone plan, or a frequency in Hz at
-13 dBm0) or ``silence:SECONDS``.  Every reference (node, prompt, route target) is checked
at load time, with errors naming file, line and key; a call then meets no unknown node.

Every way a node can end is handled: the caller clearing during any node ends the flow
and records the call as abandoned; a call without media (a signalling-only trunk) takes
each node's no-input path at once.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from cti.calls import Call, CallState
from cti.config import Config, Key, key_table
from cti.dialplan import KINDS as ROUTE_KINDS
from cti.media import Reason, Termination
from cti.wavstream import PromptStream
from timeslot.audiofile import AudioFileError, write_wav
from timeslot.toneplans import PLANS

DTMF = "0123456789*#ABCD"
BUILTIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flows.toml")

_PROMPTS = Key(list, [], doc="prompt files or `tone:`/`silence:` specs, back to back")
NODES: dict[str, dict[str, Key]] = {
    "play": {
        "prompts": Key(list, required=True, doc=_PROMPTS.doc),
        "interrupt": Key(str, "", doc="digits that stop the prompts (kept for the next node)"),
        "next": Key(str, None, doc="the next node; none: the flow ends, clearing the call"),
    },
    "menu": {
        "prompts": Key(list, required=True, doc=_PROMPTS.doc + "; any digit interrupts"),
        "choices": Key(dict, required=True, doc="digit -> node"),
        "timeout": Key(float, 5.0, doc="seconds to wait for the digit after the prompts"),
        "retries": Key(int, 2, doc="further tries after no input or an invalid digit"),
        "invalid": Key(list, [], doc="prompts played after a digit that is not a choice"),
        "no_input": Key(list, None, doc="prompts played after a timeout (default: invalid)"),
        "default": Key(str, None, doc="node once the retries are used; none: clear the call"),
    },
    "collect": {
        "prompts": _PROMPTS,
        "store": Key(str, required=True, doc="variable that receives the digits"),
        "max_digits": Key(int, 20, doc="digits that end the input when reached"),
        "terminator": Key(str, "#", doc="digits that end the input (not stored)"),
        "first_timeout": Key(float, 5.0, doc="seconds for the first digit"),
        "inter_timeout": Key(float, 3.0, doc="seconds between digits"),
        "next": Key(str, required=True, doc="the next node"),
        "on_timeout": Key(str, None, doc="node when no digit came (default: next)"),
    },
    "record": {
        "file": Key(str, required=True, doc="WAV path pattern (relative to the working "
                                            "directory): {call} id, {ani}, {dnis}, {flow}, "
                                            "{time} (Unix seconds)"),
        "prompts": _PROMPTS,
        "max_time": Key(float, 60.0, doc="seconds"),
        "beep": Key(bool, True, doc="a 1 kHz beep before recording"),
        "silence": Key(float, 5.0, doc="seconds of silence after talk that end it; 0: never"),
        "terminator": Key(str, "#", doc="digits that end it"),
        "store": Key(str, None, doc="variable that receives the file's path"),
        "next": Key(str, None, doc="the next node; none: the flow ends, clearing the call"),
    },
    "route": {"to": Key(str, required=True, doc="queue:NAME, station:N, group:NAME, "
                                                "trunk:NAME or ivr:FLOW")},
    "hangup": {"cause": Key(int, 16, doc="Q.850 cause")},
    "goto": {"next": Key(str, required=True, doc="the next node")},
    "branch": {
        "var": Key(str, required=True, doc="a variable stored by collect/record, or a "
                                           "menu's name (holding the digit chosen there)"),
        "cases": Key(dict, {}, doc="value -> node"),
        "default": Key(str, required=True, doc="node for any other value"),
    },
}
_KIND = Key(str, required=True, choices=tuple(NODES))
_REFS = {"next", "default", "on_timeout"}  # keys that name a node


@dataclass(frozen=True)
class Prompt:
    kind: str  # "file", "tone" (name or Hz), "silence"
    value: str
    seconds: float = 0.0


@dataclass
class Node:
    name: str
    kind: str
    opts: dict[str, Any]
    where: str  # dotted config key, for errors


@dataclass
class Flow:
    name: str
    start: str
    answer: bool
    nodes: dict[str, Node]
    cfg: Config
    where: str

    def error(self, message: str, key: str) -> None:
        self.cfg.error(f"flow {self.name}: {message}", key)

    def routes(self) -> list[tuple[Node, str, str]]:
        """(node, kind, target) of every route node, for the runtime's target checks."""
        return [(n, *n.opts["to"].split(":", 1)) for n in self.nodes.values()
                if n.kind == "route"]


# --- loading ----------------------------------------------------------------------------

def parse_prompt(spec: Any, base: str) -> Prompt:
    """A prompt spec; ValueError/AudioFileError with the reason if it cannot play."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"a prompt is a file name or tone:/silence: spec, not {spec!r}")
    kind, _, rest = spec.partition(":")
    if kind == "silence":
        return Prompt("silence", "", _seconds(rest, spec))
    if kind == "tone":
        name, _, secs = rest.partition(":")
        tones = {t for p in PLANS.values() for t in p.tones}
        if name not in tones and not re.fullmatch(r"\d+(\.\d+)?", name):
            raise ValueError(f"{spec!r}: no tone {name!r} (tones: {', '.join(sorted(tones))}, "
                             "or a frequency in Hz)")
        if name not in tones and not 50 <= float(name) <= 3400:
            raise ValueError(f"{spec!r}: frequency outside 50..3400 Hz")
        return Prompt("tone", name, _seconds(secs, spec) if secs else 0.0)
    path = os.path.join(base, spec)
    stream = PromptStream(path, "alaw")  # the header is checked now, not during a call
    stream.close()
    octets = os.path.getsize(path) if stream.remaining is None else stream.remaining
    return Prompt("file", path, octets / stream.width / stream.rate)


def _seconds(text: str, spec: str) -> float:
    try:
        s = float(text)
    except ValueError:
        raise ValueError(f"{spec!r}: seconds expected after ':'") from None
    if not 0 < s <= 3600:
        raise ValueError(f"{spec!r}: seconds must be in (0, 3600]")
    return s


def flows_from(cfg: Config) -> dict[str, Flow]:
    """The ``[[ivr]]`` flows of a loaded config, every node and reference checked."""
    base = os.path.dirname(os.path.abspath(cfg.path)) if cfg.path != "<config>" else "."
    flows: dict[str, Flow] = {}
    for i, t in enumerate(cfg["ivr"]):
        where = f"ivr[{i}]"
        if t["name"] in flows:
            cfg.error(f"flow {t['name']!r} is defined twice", f"{where}.name")
        flow = Flow(t["name"], t["start"], t["answer"], {}, cfg, where)
        for name, table in t["nodes"].items():
            flow.nodes[name] = _node(flow, name, table, f"{where}.nodes.{name}", base)
        _check_references(flow)
        flows[flow.name] = flow
    return flows


def _node(flow: Flow, name: str, table: Any, where: str, base: str) -> Node:
    cfg = flow.cfg
    if not isinstance(table, dict):
        cfg.error("a node must be a table with a 'kind'", where)
    kind = table.get("kind")
    if kind is None:
        cfg.error("missing required key 'kind'", where)
    if not isinstance(kind, str) or kind not in NODES:
        cfg.error(f"must be one of {', '.join(NODES)}", f"{where}.kind")
    opts = cfg._check("ivr", where, table, schema={"kind": _KIND, **NODES[kind]})
    for key in ("prompts", "invalid", "no_input"):
        if opts.get(key) is not None:
            prompts = []
            for spec in opts[key]:
                try:
                    prompts.append(parse_prompt(spec, base))
                except (ValueError, AudioFileError) as e:
                    cfg.error(str(e), f"{where}.{key}")
            opts[key] = prompts
    for key in ("interrupt", "terminator"):
        if key in opts and not set(opts[key]) <= set(DTMF):
            cfg.error(f"digits must be among {DTMF}", f"{where}.{key}")
    if kind == "menu":
        for d in opts["choices"]:
            if len(d) != 1 or d not in DTMF:
                cfg.error(f"choice {d!r} is not one DTMF digit", f"{where}.choices")
        if opts["retries"] < 0 or opts["timeout"] <= 0:
            cfg.error("retries must be >= 0 and timeout > 0", where)
    if kind == "collect" and (opts["max_digits"] < 1 or opts["first_timeout"] <= 0
                              or opts["inter_timeout"] <= 0):
        cfg.error("max_digits must be >= 1 and the timeouts > 0", where)
    if kind == "record":
        if opts["max_time"] <= 0 or opts["silence"] < 0:
            cfg.error("max_time must be > 0 and silence >= 0", where)
        try:
            opts["file"].format(call=1, ani="", dnis="", flow="", time=0)
        except (KeyError, IndexError, ValueError) as e:
            cfg.error(f"bad file pattern ({type(e).__name__}: {e}); fields: {{call}}, {{ani}}, "
                      "{dnis}, {flow}, {time}", f"{where}.file")
    if kind == "route":
        k, _, target = opts["to"].partition(":")
        if k not in ROUTE_KINDS or not target:
            cfg.error("must be queue:NAME, station:N, group:NAME, trunk:NAME or ivr:FLOW",
                      f"{where}.to")
    if kind == "hangup" and not 1 <= opts["cause"] <= 127:
        cfg.error("a Q.850 cause is 1..127", f"{where}.cause")
    return Node(name, kind, opts, where)


def _targets(node: Node) -> list[tuple[str, Any]]:
    """(key, node name) of every node reference in ``node``."""
    out = [(k, v) for k, v in node.opts.items() if k in _REFS and v is not None]
    for table in ("choices", "cases"):
        out += [(f"{table}.{d}", v) for d, v in node.opts.get(table, {}).items()]
    return out


def _check_references(flow: Flow) -> None:
    if flow.start not in flow.nodes:
        flow.error(f"start node {flow.start!r} does not exist", f"{flow.where}.start")
    for node in flow.nodes.values():
        for key, target in _targets(node):
            if not isinstance(target, str) or target not in flow.nodes:
                flow.error(f"node {node.name}: no node named {target!r}", f"{node.where}.{key}")
    # goto/branch cycles would spin without waiting for anything: refuse them now
    instant = {n.name for n in flow.nodes.values() if n.kind in ("goto", "branch")}
    for name in instant:
        seen, todo = set(), [name]
        while todo:
            for _, t in _targets(flow.nodes[todo.pop()]):
                if t == name:
                    flow.error(f"node {name} loops back to itself through goto/branch "
                               "nodes only", flow.nodes[name].where)
                if t in instant and t not in seen:
                    seen.add(t)
                    todo.append(t)


def load_flow_file(path: str) -> dict[str, Flow]:
    """Flows from a TOML file holding only ``[[ivr]]`` tables."""
    cfg = Config.load(path)
    for key in cfg._lines:
        if not key.startswith("ivr[") and key != "ivr":
            cfg.error("a flow file holds only [[ivr]] tables", key.split(".")[0])
    return flows_from(cfg)


def builtin_flows() -> dict[str, Flow]:
    """``demo`` and ``answer``, shipped as data in ``cti/flows.toml``."""
    return load_flow_file(BUILTIN)


def merge_flows(*sets: dict[str, Flow]) -> dict[str, Flow]:
    """Flow sets in order; a name defined twice is an error at its second definition."""
    out: dict[str, Flow] = {}
    for flows in sets:
        for name, flow in flows.items():
            if name in out:
                flow.error(f"already defined in {out[name].cfg.path}", f"{flow.where}.name")
            out[name] = flow
    return out


def node_reference() -> list[str]:
    """docs/config.md rows for the node kinds (appended to the ``[[ivr]]`` section)."""
    out = ["### IVR nodes (`[ivr.nodes.NAME]`)", "",
           "Prompts: a WAV (PCM, A-law, mu-law; mono; 8 kHz, or a usual rate from 11.025 to "
           "192 kHz, converted) or raw `.alaw`/`.ulaw` file relative to the flow's file, `tone:NAME[:SECONDS]` (a tone of the kernel's tone "
           "plan, one cadence by default) or `tone:HZ:SECONDS` (-13 dBm0), "
           "`silence:SECONDS`. A caller clearing during any node ends the flow (recorded as "
           "abandoned).", ""]
    for kind, keys in NODES.items():
        out += [f"`kind = \"{kind}\"`", "", *key_table(kind, keys)]
    return out


# --- running ---------------------------------------------------------------------------

class Gone(Exception):
    """The caller cleared during a node."""


class IvrRunner:
    """Runs flows on calls; terminal steps (route, clear, abandon) go through the call
    centre, which records the call."""

    def __init__(self, centre, flows: dict[str, Flow], *, plan: str, law: str):
        self.centre = centre
        self.media = centre.media
        self.flows = flows
        self.plan, self.law = plan, law
        self._tones: dict[Prompt, np.ndarray] = {}
        self.steps: dict[str, Callable[..., Any]] = {
            "play": self._play, "menu": self._menu, "collect": self._collect,
            "record": self._record, "route": self._route, "hangup": self._hangup,
            "goto": lambda call, flow, node, v: node.opts["next"],
            "branch": lambda call, flow, node, v: node.opts["cases"].get(
                str(v.get(node.opts["var"], "")), node.opts["default"]),
        }

    async def run(self, call: Call, name: str) -> None:
        flow = self.flows[name]
        if flow.answer and call.state is not CallState.CONNECTED:
            if not await self.centre._answered(call):
                return
        if call.slot is not None:
            self.media.enable_digits(call.slot)  # early digits are kept from now on
        variables = call.data.setdefault("ivr", {})
        trail = call.data.setdefault("ivr_trail", [])  # nodes entered and menu outcomes
        node: Node | None = flow.nodes[flow.start]
        try:
            while node is not None:
                if call.ended:
                    raise Gone
                trail.append(f"{name}.{node.name}")
                step = self.steps[node.kind](call, flow, node, variables)
                nxt = await step if asyncio.iscoroutine(step) else step
                node = flow.nodes[nxt] if isinstance(nxt, str) else None
        except Gone:
            self.centre.record(call, call.data.get("queue"), "abandoned")

    # --- media helpers -----------------------------------------------------------------
    def _render(self, prompts: list[Prompt]) -> list[np.ndarray | str]:
        from timeslot.tonegen import synth

        out: list[np.ndarray | str] = []
        for p in prompts:
            if p.kind == "file":
                out.append(p.value)
                continue
            if p not in self._tones:
                if p.kind == "silence":
                    data = np.full(int(p.seconds * 8000), 0xD5 if self.law == "alaw" else 0xFF,
                                   np.uint8)
                else:
                    secs = p.seconds or self._natural(p.value)
                    what = p.value if not p.value[0].isdigit() else float(p.value)
                    data = synth(what, secs, law=self.law, plan=self.plan)
                self._tones[p] = data
            out.append(self._tones[p])
        return out

    def _natural(self, name: str) -> float:
        """One cadence of a plan tone; 1 s of a continuous tone or a frequency."""
        tone = PLANS[self.plan].tones.get(name)
        if tone is None or tone.continuous:
            return 1.0
        return sum(s.ms or 0 for s in tone.segments) / 1000.0

    @staticmethod
    def _check(call: Call, term: Termination) -> Termination:
        if term.reason is Reason.HANGUP or call.ended:
            raise Gone
        return term

    async def _prompts(self, call: Call, prompts: list[Prompt], interrupt: str) -> Termination:
        if not prompts:
            return Termination(Reason.EOD)
        return self._check(call, await self.media.play(call.slot, self._render(prompts),
                                                       interrupt=interrupt))

    # --- nodes: each returns the next node's name, or None when the flow is over ---------
    async def _play(self, call: Call, flow: Flow, node: Node, v: dict) -> str | None:
        o = node.opts
        if call.slot is not None:
            await self._prompts(call, o["prompts"], o["interrupt"])
        else:  # no media: the prompts still take their time
            secs = sum(p.seconds or self._natural(p.value) for p in o["prompts"])
            await call.wait(CallState.DISCONNECTED, timeout=secs)
            if call.ended:
                raise Gone
        return o["next"] if o["next"] else await self._clear(call, 16)

    async def _menu(self, call: Call, flow: Flow, node: Node, v: dict) -> str | None:
        o = node.opts
        prompts = o["prompts"]
        for attempt in range(o["retries"] + 1):
            if call.slot is None:
                break
            await self._prompts(call, prompts, DTMF)
            got = self._check(call, await self.media.collect(
                call.slot, max_digits=1, terminators="", first_timeout=o["timeout"]))
            if got.digits in o["choices"]:
                v[node.name] = got.digits
                return o["choices"][got.digits]
            call.data["ivr_trail"].append(f"invalid {got.digits}" if got.digits else "no input")
            retry = o["invalid"] if got.digits else (o["no_input"] if o["no_input"] is not None
                                                     else o["invalid"])
            prompts = retry + o["prompts"]
            if attempt == o["retries"] and retry:  # the last word before the default
                await self._prompts(call, retry, "")
        return o["default"] if o["default"] else await self._clear(call, 16)

    async def _collect(self, call: Call, flow: Flow, node: Node, v: dict) -> str:
        o = node.opts
        if call.slot is None:
            v[o["store"]] = ""
            return o["on_timeout"] or o["next"]
        await self._prompts(call, o["prompts"], DTMF)
        got = self._check(call, await self.media.collect(
            call.slot, max_digits=o["max_digits"], terminators=o["terminator"],
            first_timeout=o["first_timeout"], inter_timeout=o["inter_timeout"]))
        v[o["store"]] = got.digits
        if not got.digits and got.reason is Reason.FIRST_TIMEOUT and o["on_timeout"]:
            return o["on_timeout"]
        return o["next"]

    async def _record(self, call: Call, flow: Flow, node: Node, v: dict) -> str | None:
        o = node.opts
        if call.slot is not None:
            await self._prompts(call, o["prompts"], "")
            self.media.flush_digits(call.slot)
            term = await self.media.record(call.slot, max_time=o["max_time"],
                                           silence=o["silence"] or None,
                                           terminators=o["terminator"], beep=o["beep"])
            audio = term.data.get("audio")
            if audio is not None and len(audio):
                path = o["file"].format(call=call.id, ani=call.ani or "unknown",
                                        dnis=call.dnis or "none", flow=flow.name,
                                        time=int(time.time()))
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                write_wav(path, audio, self.law)
                if o["store"]:
                    v[o["store"]] = path
                call.data.setdefault("recordings", []).append(path)
            self._check(call, term)
        return o["next"] if o["next"] else await self._clear(call, 16)

    async def _route(self, call: Call, flow: Flow, node: Node, v: dict) -> None:
        kind, target = node.opts["to"].split(":", 1)
        if kind == "ivr":
            return await self.run(call, target)
        if call.slot is not None:
            self.media.enable_digits(call.slot, False)
        c = self.centre
        if kind == "queue":
            await c._queue(call, target)
        elif kind == "station":
            await c._to_station(call, int(target))
        else:
            await c._to_group(call, target)
        return None

    async def _hangup(self, call: Call, flow: Flow, node: Node, v: dict) -> None:
        return await self._clear(call, node.opts["cause"])

    async def _clear(self, call: Call, cause: int) -> None:
        """The flow is over: clear the call with ``cause`` and record it."""
        answered = call.state is CallState.CONNECTED
        self.centre._refuse(call, cause)
        await call.wait(CallState.RELEASED, timeout=30)
        self.centre.record(call, None, "answered" if answered else "failed")
        return None


def check_route_targets(flows: dict[str, Flow], queues: Collection[str] | None,
                        groups: Collection[str] | None, stations: int | None) -> None:
    """Each route node's target exists (ConfigError naming the flow's file and key):
    flows always; queues, trunks/groups and station numbers (``stations``: how many;
    0 = no station board) unless given as None (not known: a flow file alone)."""
    for flow in flows.values():
        for node, kind, target in flow.routes():
            key = f"{node.where}.to"
            if kind == "ivr" and target not in flows:
                flow.error(f"no flow named {target!r}", key)
            if kind == "queue" and queues is not None and target not in queues:
                flow.error(f"no queue named {target!r}", key)
            if kind in ("group", "trunk") and groups is not None and target not in groups:
                flow.error(f"no {kind} named {target!r}", key)
            if kind == "station" and stations is not None and not (
                    target.isdigit() and int(target) < stations):
                flow.error(f"no station {target}" if stations else
                           "no station board configured", key)


__all__ = ["Flow", "IvrRunner", "NODES", "builtin_flows", "check_route_targets",
           "flows_from", "load_flow_file", "merge_flows"]
