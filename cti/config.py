"""The kernel configuration: one TOML file, validated against a schema declared as data.

Every error names the file, the line and the dotted key (``board[1].framing``), so an
operator fixes the right line the first time.  docs/config.md documents every key.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError
from cti.dialer import MODES, spec_from_config
from cti.skills import STRATEGIES, SkillError, agent_skills, queue_skills, serves
from cti.trunks.base import parse_timeslots
from ss7.mtp3_codec import VARIANTS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    choices: tuple | None = None
    doc: str = ""


RCT_DOC = ("national option: the signalling-route-set-congestion-test (Q.704 13.9) - a TFC "
           "marks the route set congested until an RCT sent mtp3.T15 after it draws no TFC "
           "within mtp3.T16; off: the international procedure, TFC only tells the user parts "
           "(13.1)")
SCHEMA: dict[str, dict[str, Key]] = {
    "kernel": {
        "block": Key(int, 160, doc="frames per tick: 160 = 20 ms, 8 = 1 ms"),
        "virtual": Key(bool, False, doc="run on the virtual clock (tests, simulations)"),
        "law": Key(str, "alaw", choices=("alaw", "ulaw"), doc="companding law of the fabric"),
        "tone_plan": Key(str, "cn", choices=("cn", "itu"), doc="tone plan for generation/CPT"),
        "ivr_path": Key(str, None, doc="a TOML file of further [[ivr]] flows (relative to "
                                       "this file)"),
    },
    "api": {
        "host": Key(str, "127.0.0.1", choices=("127.0.0.1", "::1", "localhost")),
        "port": Key(int, 8765, doc="TCP port; 0 picks a free one"),
        "token": Key(str, None, doc="shared secret; when absent one is generated and "
                                    "written to the state file `cti top` reads"),
        "enabled": Key(bool, True, doc="open the control API"),
    },
    "board": {
        "name": Key(str, required=True),
        "type": Key(str, required=True, choices=("sim", "dahdi", "pseudowire")),
        "spans": Key(int, 1, doc="number of spans (sim)"),
        "stations": Key(int, 0, doc="analog extensions on a sim station board"),
        "framing": Key(str, "crc4", choices=("crc4", "no-crc4")),
        "signalling": Key(str, "ccs", choices=("ccs", "cas")),
        "clock": Key(str, "master"),
        "device": Key(str, None, doc="dahdi: first span number; pseudowire: local UDP port"),
        "peer": Key(str, None, doc="pseudowire: host:port of the far end"),
        "mode": Key(str, "cesopsn", choices=("cesopsn", "cesopsn-cas", "satop"),
                    doc="pseudowire mode"),
    },
    "cable": {
        "a": Key(str, required=True, doc="board:span, e.g. pstn:1"),
        "b": Key(str, required=True),
        "impair": Key(str, "none", doc="none, los, ais, ber=1e-4, burst=..., slip=100ppm"),
    },
    "trunk": {
        "name": Key(str, required=True),
        "type": Key(str, required=True, choices=("isdn", "ss7", "tup", "r2")),
        "span": Key(str, None, doc="board:span carrying the bearer channels"),
        "spans": Key(list, [], doc="ss7/tup: further board:span whose timeslots are circuits "
                     "of the same trunk (CIC = cic_base - 1 + 32 x place + timeslot)"),
        "links": Key(int, 1, doc="ss7/tup: signalling links, in TS16 of the first N spans "
                     "(span, then spans): one link set, load shared, with changeover"),
        "side": Key(str, "user", choices=("user", "network")),
        "variant": Key(str, None, doc="isdn: etsi, qsig (E1), ni2 (T1 23B+D), etsi_bri; "
                       "ss7: itu/china; tup: china (default)/itu; r2: itu/cn/br/mx/ar/ve/co"),
        "transport": Key(str, "span", choices=("span", "hdlc-socket")),
        "socket": Key(str, None, doc="hdlc-socket: path of the SOCK_SEQPACKET socket"),
        "opc": Key(int, None), "dpc": Key(int, None), "cic_base": Key(int, 1),
        "continuity_ratio": Key(int, 0, doc="ss7/tup: statistical continuity checking - "
                                "every Nth outgoing call checks its circuit with the 2000 Hz "
                                "check tone (Q.764 2.1.8, Q.724 7); 0 = never"),
        "channels": Key(str, "1-15,17-31", doc="bearer timeslots the trunk uses (a fractional "
                        "E1): ISDN B-channels, ISUP circuits, R2 circuits; the others are "
                        "left alone"),
        "overflow": Key(str, None, doc="trunk or trunk group to try when this one is full"),
        "max_dnis": Key(int, None, doc="r2 incoming: called-number length that ends address "
                        "collection at once (variants without an end-of-digits signal, such as "
                        "China No.1, otherwise wait the back_step time-out for more digits)"),
        "trace": Key(str, None, doc="file the trunk's signalling is written to from the "
                     "start: pcap for isdn/ss7/tup, an .r2log text trace for r2 (relative to "
                     "this file; `cti trace` starts and stops it at run time)"),
        "timers": Key(dict, {}, doc="timer name -> seconds (see `cti links --json`); ss7 "
                      "and tup trunks name the layer: mtp2.T2, mtp3.T4, isup.T7, tup.T_COT"),
        "stp": Key(int, None, doc="ss7/tup: point code of the adjacent signalling transfer "
                   "point the links go to (quasi-associated signalling): messages to dpc go "
                   "through it"),
        "link_spans": Key(list, [], doc="ss7/tup: board:span whose TS16 carry the links (one "
                          "each) instead of the circuit spans, e.g. the spans cabled to an STP"),
        "rct": Key(bool, False, doc=RCT_DOC),
    },
    "stp": {
        "name": Key(str, required=True, doc="shown by `cti links`, traced by `cti trace NAME`"),
        "pc": Key(int, required=True, doc="its own point code"),
        "variant": Key(str, "itu", choices=("itu", "china"),
                       doc="14-bit ITU or 24-bit China point codes"),
        "tfr": Key(bool, False, doc="national option: transfer-restricted (TFR, Q.704 13.4) "
                   "for destinations reached over a less efficient route, sent after mtp3.T11"),
        "rct": Key(bool, False, doc=RCT_DOC),
        "linksets": Key(list, required=True, doc="`[[stp.linksets]]` tables (below): the "
                        "links toward each adjacent point"),
        "routes": Key(dict, {}, doc="destination point code (a string key) -> adjacent point "
                      "codes in priority order; each adjacent point is a route to itself"),
        "timers": Key(dict, {}, doc="mtp2.NAME / mtp3.NAME -> seconds (e.g. mtp3.T15)"),
        "trace": Key(str, None, doc="pcap file of its links from the start (relative to this "
                     "file)"),
    },
    "trunk_group": {
        "name": Key(str, required=True, doc="dial plan target `group:NAME`"),
        "trunks": Key(list, required=True, doc="trunk names, in hunting order"),
        "hunt": Key(str, "first", choices=("first", "round_robin", "least_used", "last"),
                    doc="channel hunting policy"),
        "overflow": Key(str, None, doc="trunk group (or trunk) to try when all are busy"),
    },
    "route": {
        "dnis": Key(str, ".*", doc="regular expression on the called number"),
        "ani": Key(str, ".*", doc="regular expression on the calling number"),
        "to": Key(str, required=True,
                  doc="ivr:FLOW, queue:NAME, station:N, group:NAME or trunk:NAME"),
    },
    "ivr": {
        "name": Key(str, required=True, doc="dial plan target `ivr:NAME`"),
        "start": Key(str, required=True, doc="the first node"),
        "answer": Key(bool, True, doc="answer the call before the first node"),
        "nodes": Key(dict, required=True, doc="node name -> node table (see below)"),
    },
    "queue": {"name": Key(str, required=True),
              "skills": Key(list, [], doc="required skills, `\"name\"` or `\"name:min\"` "
                            "(minimum level 1..10, default 1): only agents with all of them "
                            "at or above the minimum serve the queue; none: every agent"),
              "priority": Key(int, 0, doc="an agent serving several queues takes the callers "
                              "of the higher-priority queue first, then the longest waiting"),
              "strategy": Key(str, "longest_idle", choices=tuple(STRATEGIES),
                              doc="which ready agent a caller goes to: the longest idle, or "
                              "the highest levels in the queue's skills (their sum), then "
                              "the longest idle"),
              "service_level_s": Key(float, 20.0),
              "wrapup_s": Key(float, 3.0, doc="wrap-up time after each call (agent's own wins)"),
              "ring_timeout_s": Key(float, 15.0, doc="ring-no-answer: the call goes back")},
    "agent": {"name": Key(str, required=True), "station": Key(int, None),
              "skills": Key(list, [], doc="`\"name\"` or `\"name:level\"` (level 1..10, "
                            "default 5); the control API's `agent.skills` changes them at "
                            "run time"),
              "mode": Key(str, "auto", choices=("auto", "desktop"),
                          doc="auto: the phone answers; desktop: call.answer over the API"),
              "wrapup_s": Key(float, None, doc="wrap-up time of this agent (else the queue's)")},
    "campaign": {
        "name": Key(str, required=True, doc="`campaign.*` API operations name it"),
        "trunk": Key(str, required=True, doc="trunk or trunk group the calls go out on"),
        "queue": Key(str, required=True, doc="the queue whose agents take the answered calls"),
        "ani": Key(str, "", doc="calling number sent"),
        "mode": Key(str, "progressive", choices=MODES,
                    doc="progressive: one call per ready agent; preview: the agent accepts "
                    "or skips each contact first; predictive: calls for the agents by the "
                    "measured answer rate, held to abandon_target"),
        "contacts": Key(list, [], doc="`\"NUMBER\"`, `\"NUMBER NAME\"` or "
                        "`{number = ..., name = ...}`"),
        "contacts_file": Key(str, None, doc="CSV of number[,name] rows (relative to this file)"),
        "crm_contacts": Key(bool, False, doc="also call every contact of the CRM store"),
        "dnc": Key(list, [], doc="do-not-call numbers: never dialled"),
        "dnc_file": Key(str, None, doc="do-not-call numbers, one a line"),
        "windows": Key(list, [], doc="dialing windows `\"HH:MM-HH:MM\"` in local time "
                       "(past midnight when the end is earlier); none: any time"),
        "days": Key(list, [], doc="dialing days (`mon`..`sun`); none: every day"),
        "timezone": Key(str, None, doc="IANA time zone of the windows; none: the host's"),
        "max_attempts": Key(int, 3, doc="calls placed to one contact at most"),
        "retry_s": Key(dict, {}, doc="outcome -> seconds before the next attempt (0: "
                       "final), over the defaults of docs/dialer.md"),
        "ring_timeout_s": Key(float, 30.0, doc="unanswered this long: outcome no_answer"),
        "preview_timeout_s": Key(float, 60.0, doc="preview not accepted or skipped this "
                                 "long: back to the list, the agent not-ready"),
        "abandon_target": Key(float, 0.03, doc="predictive: answered calls with no agent 2 s "
                              "after answer, as a fraction of answered calls, not to exceed "
                              "(Ofcom's 3 %)"),
        "max_ratio": Key(float, 3.0, doc="predictive: calls in progress per free agent at most"),
        "abandon_message": Key(str, None, doc="information message (caller's identity, a "
                               "number to call back) played to an answered call no agent "
                               "takes within 2 s, which is then cleared: a prompt file "
                               "(relative to this file) or `\"tone:NAME\"` of the tone plan; "
                               "required in predictive mode (Ofcom, FTC TSR)"),
        "results": Key(str, None, doc="CSV file of every attempt's outcome (appended); "
                       "read back at start-up, so a restarted campaign carries on"),
        "start": Key(bool, True, doc="dial from start-up (else `campaign.start`)"),
    },
    "crm": {"path": Key(str, "crm.db", doc="SQLite CRM store: contacts and call history"),
            "records": Key(str, None, doc="CSV call records (default: crm.path without its suffix, plus -calls.csv)")},
}
ARRAYS = ("board", "cable", "trunk", "stp", "trunk_group", "route", "ivr", "queue", "agent",
          "campaign")
# the tables of stp.linksets
STP_LINKSET: dict[str, Key] = {
    "adjacent": Key(int, required=True, doc="point code of the adjacent point"),
    "spans": Key(list, [], doc="board:span whose TS16 carry one link each (load shared)"),
    "transport": Key(str, "span", choices=("span", "hdlc-socket")),
    "socket": Key(str, None, doc="hdlc-socket: path of the socket the peer connects to"),
}


def _line_map(text: str) -> dict[str, int]:
    """Map dotted keys (``trunk[0].side``) to their 1-based line in the TOML text."""
    lines: dict[str, int] = {}
    prefix = ""
    counts: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if m := re.match(r"^\[\[\s*([\w.-]+)\s*\]\]$", line):
            name = m.group(1)
            idx = counts.get(name, 0)
            counts[name] = idx + 1
            prefix = f"{name}[{idx}]"
            lines.setdefault(prefix, n)
        elif m := re.match(r"^\[\s*([\w.-]+)\s*\]$", line):
            prefix = m.group(1)
            head, _, rest = prefix.partition(".")
            if rest and head in counts:  # [ivr.nodes.x]: a sub-table of the last [[ivr]]
                prefix = f"{head}[{counts[head] - 1}].{rest}"
            lines.setdefault(prefix, n)
        elif m := re.match(r"^([\w.-]+|\"[^\"]+\")\s*=", line):
            key = m.group(1).strip('"')
            lines.setdefault(f"{prefix}.{key}" if prefix else key, n)
    return lines


class Config:
    """A validated configuration; sections are dicts, arrays are lists of dicts."""

    def __init__(self, data: Mapping[str, Any], path: str = "<config>", text: str = ""):
        self.path = path
        self._lines = _line_map(text)
        self.data: dict[str, Any] = {}
        for section, value in data.items():
            if section not in SCHEMA:
                self.error(f"unknown section (known: {', '.join(SCHEMA)})", section)
            if section in ARRAYS:
                if not isinstance(value, list):
                    self.error(f"must be an array of tables: write [[{section}]]", section)
                self.data[section] = [self._check(section, f"{section}[{i}]", v)
                                      for i, v in enumerate(value)]
            else:
                self.data[section] = self._check(section, section, value)
        for section in SCHEMA:
            if section not in self.data:
                self.data[section] = [] if section in ARRAYS else self._check(section, section, {})
        self._cross_checks()

    @classmethod
    def load(cls, path: str) -> Config:
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError as e:
            raise ConfigError(e.strerror or str(e), file=path) from None
        text = raw.decode("utf-8", "replace")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            m = re.search(r"line (\d+)", str(e))
            raise ConfigError(f"not valid TOML: {e}", file=path,
                              line=int(m.group(1)) if m else None) from None
        return cls(data, path, text)

    def line(self, key: str) -> int | None:
        while key:
            if key in self._lines:
                return self._lines[key]
            if m := re.match(r"^(.+\.[\w-]+)\[\d+\]$", key):  # agent[2].skills[1]: its list
                key = m.group(1)
            else:
                key = key.rsplit(".", 1)[0] if "." in key else ""
        return None

    def error(self, message: str, key: str) -> None:
        raise ConfigError(message, file=self.path, line=self.line(key), key=key)

    def _check(self, section: str, where: str, table: Any,
               schema: dict[str, Key] | None = None) -> dict[str, Any]:
        """``table`` checked against ``schema`` (default: the section's), defaults filled."""
        if not isinstance(table, dict):
            self.error("must be a table", where)
        schema = SCHEMA[section] if schema is None else schema
        out: dict[str, Any] = {}
        for key, value in table.items():
            spec = schema.get(key)
            if spec is None:
                self.error(f"unknown key (known: {', '.join(schema)})", f"{where}.{key}")
            types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
            if spec.type is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                self.error(f"must be {'/'.join(t.__name__ for t in types)}, not "
                           f"{type(value).__name__}", f"{where}.{key}")
            if spec.choices and value not in spec.choices:
                self.error(f"must be one of {', '.join(map(str, spec.choices))}", f"{where}.{key}")
            out[key] = value
        for key, spec in schema.items():
            if key not in out:
                if spec.required:
                    self.error(f"missing required key '{key}'", where)
                out[key] = spec.default
        return out

    def _cross_checks(self) -> None:
        boards = {b["name"] for b in self.data["board"]}
        trunks = {t["name"] for t in self.data["trunk"]}
        for i, t in enumerate(self.data["trunk"]):
            if t["transport"] == "hdlc-socket" and not t["socket"]:
                self.error("transport hdlc-socket needs 'socket'", f"trunk[{i}].transport")
            if t["span"] and t["span"].split(":")[0] not in boards:
                self.error(f"no board named {t['span'].split(':')[0]!r}", f"trunk[{i}].span")
            if t["type"] in ("ss7", "tup") and (t["opc"] is None or t["dpc"] is None):
                self.error("ss7/tup trunks need opc and dpc", f"trunk[{i}]")
            if t["continuity_ratio"] and (t["type"] not in ("ss7", "tup") or not t["span"]
                                          or t["continuity_ratio"] < 0):
                self.error("a positive ratio, on an ss7/tup trunk with a span",
                           f"trunk[{i}].continuity_ratio")
            if t["spans"] or t["links"] != 1:
                if t["type"] not in ("ss7", "tup"):
                    self.error("spans and links are for ss7/tup trunks", f"trunk[{i}]")
                if not t["span"]:
                    self.error("further spans need a first span", f"trunk[{i}].spans")
                if not 1 <= t["links"] <= 1 + len(t["spans"]):
                    self.error(f"must be 1..{1 + len(t['spans'])} (one per span)",
                               f"trunk[{i}].links")
            self._check_spans(t["spans"], boards, f"trunk[{i}].spans")
            try:
                parse_timeslots(t["channels"])
            except ValueError as e:
                self.error(str(e), f"trunk[{i}].channels")
        for i, t in enumerate(self.data["trunk"]):
            if (t["stp"] is not None or t["link_spans"] or t["rct"]) and \
                    t["type"] not in ("ss7", "tup"):
                self.error("stp, link_spans and rct are for ss7/tup trunks", f"trunk[{i}]")
            self._check_spans(t["link_spans"], boards, f"trunk[{i}].link_spans")
        self._check_stps(boards, trunks)
        self._check_acd()
        groups = self._check_trunk_groups(trunks)
        self._check_campaigns(trunks, groups)
        for i, r in enumerate(self.data["route"]):
            kind, _, target = r["to"].partition(":")
            if kind not in ("ivr", "queue", "station", "group", "trunk") or not target:
                self.error("must be ivr:FLOW, queue:NAME, station:N, group:NAME or trunk:NAME",
                           f"route[{i}].to")
            if kind == "trunk" and target not in trunks:
                self.error(f"no trunk named {target!r}", f"route[{i}].to")
            if kind == "group" and target not in groups:
                self.error(f"no trunk group named {target!r}", f"route[{i}].to")
            for k in ("dnis", "ani"):
                try:
                    re.compile(r[k])
                except re.error as e:
                    self.error(f"bad regular expression: {e}", f"route[{i}].{k}")

    def _check_spans(self, spans: list, boards: set[str], key: str) -> None:
        """Each of ``spans`` is a ``board:span`` of a configured board."""
        for span in spans:
            if not isinstance(span, str) or span.split(":")[0] not in boards:
                self.error(f"no board for span {span!r}", key)

    def _check_stps(self, boards: set[str], trunks: set[str]) -> None:
        """Transfer points: names apart from the trunks', link set tables checked against
        :data:`STP_LINKSET`, each with spans or a socket, routes naming point codes."""
        names = set(trunks)
        for i, s in enumerate(self.data["stp"]):
            if s["name"] in names:
                self.error(f"name {s['name']!r} is already a trunk or STP", f"stp[{i}].name")
            names.add(s["name"])
            s["linksets"] = [self._check("stp", f"stp[{i}].linksets[{j}]", ls, STP_LINKSET)
                             for j, ls in enumerate(s["linksets"])]
            if not s["linksets"]:
                self.error("an STP needs at least one link set", f"stp[{i}].linksets")
            for j, ls in enumerate(s["linksets"]):
                where = f"stp[{i}].linksets[{j}]"
                if (ls["transport"] == "hdlc-socket") != bool(ls["socket"]) or \
                        (ls["transport"] == "span") != bool(ls["spans"]):
                    self.error("spans (transport span) or socket (transport hdlc-socket)", where)
                self._check_spans(ls["spans"], boards, f"{where}.spans")
            routes = {}
            adjacent = {ls["adjacent"] for ls in s["linksets"]}
            for dpc, via in s["routes"].items():
                where = f"stp[{i}].routes.{dpc}"
                try:
                    dest = int(dpc, 0)
                except ValueError:
                    self.error("a destination point code", where)
                if dest == s["pc"]:
                    self.error("a route to the STP's own point code", where)
                if not isinstance(via, list) or not via or \
                        any(isinstance(v, bool) or not isinstance(v, int) for v in via):
                    self.error("a non-empty list of adjacent point codes (integers)", where)
                if not set(via) <= adjacent:
                    self.error(f"no link set toward {sorted(set(via) - adjacent)}: a route goes "
                               f"through adjacent points of the link sets", where)
                routes[dest] = via
            s["routes"] = routes
        self._check_point_codes()
        self._check_link_timeslots()
        self._check_trunk_stps()

    def _point_code(self, pc: Any, variant: str, key: str) -> None:
        """Q.704 2.2: a point code the routing label carries (14 bits; 24 in China)."""
        bits = VARIANTS[variant].pc_bits if variant in VARIANTS else 24
        if isinstance(pc, bool) or not isinstance(pc, int) or not 0 <= pc < 1 << bits:
            self.error(f"point code {pc!r}: must be 0..{(1 << bits) - 1} ({bits}-bit "
                       f"{variant})", key)

    def _check_point_codes(self) -> None:
        """Every point code of the ss7/tup trunks and the STPs fits their variant's label."""
        for i, t in enumerate(self.data["trunk"]):
            if t["type"] in ("ss7", "tup"):
                variant = t["variant"] or ("itu" if t["type"] == "ss7" else "china")
                for k in ("opc", "dpc", "stp"):
                    if t[k] is not None:
                        self._point_code(t[k], variant, f"trunk[{i}].{k}")
                if t["stp"] is not None and t["stp"] in (t["opc"], t["dpc"]):
                    self.error("the STP is a point of its own, neither opc nor dpc",
                               f"trunk[{i}].stp")
        for i, s in enumerate(self.data["stp"]):
            self._point_code(s["pc"], s["variant"], f"stp[{i}].pc")
            for j, ls in enumerate(s["linksets"]):
                self._point_code(ls["adjacent"], s["variant"], f"stp[{i}].linksets[{j}].adjacent")
            for dpc, via in s["routes"].items():
                for pc in (dpc, *via):
                    self._point_code(pc, s["variant"], f"stp[{i}].routes.{dpc}")

    def _check_link_timeslots(self) -> None:
        """Signalling links in TS16 (Q.703 over E1 TS16): each span's TS16 carries one link -
        of an ss7/tup trunk (its link_spans, else its first `links` circuit spans) or of an
        STP link set - and a span given to links alone (link_spans, an STP's) carries no
        other trunk's circuits."""
        ts16: dict[str, str] = {}
        circuits: dict[str, str] = {}
        for t in self.data["trunk"]:
            for span in [t["span"], *t["spans"]] if t["span"] else []:
                circuits.setdefault(span, t["name"])
        claims = []
        for i, t in enumerate(self.data["trunk"]):
            if t["type"] in ("ss7", "tup") and t["transport"] == "span":
                own = t["link_spans"] or ([t["span"], *t["spans"]][:t["links"]]
                                          if t["span"] else [])
                key = f"trunk[{i}].{'link_spans' if t['link_spans'] else 'span'}"
                claims += [(span, f"a link of trunk {t['name']!r}", key, t["name"],
                            bool(t["link_spans"])) for span in own]
        for i, s in enumerate(self.data["stp"]):
            for j, ls in enumerate(s["linksets"]):
                claims += [(span, f"a link of STP {s['name']!r} toward {ls['adjacent']}",
                            f"stp[{i}].linksets[{j}].spans", s["name"], True)
                           for span in ls["spans"]]
        for span, what, key, owner, links_only in claims:
            if span in ts16:
                self.error(f"TS16 of span {span!r} already carries {ts16[span]}", key)
            if links_only and circuits.get(span, owner) != owner:
                self.error(f"span {span!r} carries the circuits of trunk "
                           f"{circuits[span]!r}", key)
            ts16[span] = what

    def _check_trunk_stps(self) -> None:
        """A trunk signalling through an STP of this configuration (``trunk.stp`` its point
        code) needs that STP to have a link set toward the trunk's point (opc) and a route
        (or link set) to the trunk's dpc; an STP not configured here is a peer's."""
        stps = {s["pc"]: s for s in self.data["stp"]}
        for i, t in enumerate(self.data["trunk"]):
            s = stps.get(t["stp"]) if t["type"] in ("ss7", "tup") else None
            if s is None:
                continue
            adjacent = {ls["adjacent"] for ls in s["linksets"]}
            if t["opc"] not in adjacent:
                self.error(f"STP {s['name']!r} (pc {s['pc']}) has no link set toward this "
                           f"trunk's opc {t['opc']}", f"trunk[{i}].stp")
            if t["dpc"] not in adjacent and t["dpc"] not in s["routes"]:
                self.error(f"STP {s['name']!r} (pc {s['pc']}) has no route to this trunk's "
                           f"dpc {t['dpc']}: add it to its routes or a link set",
                           f"trunk[{i}].stp")

    def skills(self, section: str, i: int) -> dict[str, int]:
        """The skills of ``[[agent]]`` (levels) or ``[[queue]]`` (minimum levels) number
        ``i``; a bad entry is an error naming it (``agent[2].skills[1]``)."""
        parse = {"agent": agent_skills, "queue": queue_skills}[section]
        try:
            return parse(self.data[section][i]["skills"])
        except SkillError as e:
            self.error(str(e), f"{section}[{i}].skills" +
                       ("" if e.index is None else f"[{e.index}]"))

    def _check_acd(self) -> None:
        """Queue and agent names are unique; skills parse; a queue that none of the
        configured agents can serve is an error (a config without agents, whose agents
        log in at run time, is not checked)."""
        for section in ("queue", "agent"):
            seen: set[str] = set()
            for i, t in enumerate(self.data[section]):
                if t["name"] in seen:
                    self.error(f"duplicate {section} name {t['name']!r}", f"{section}[{i}].name")
                seen.add(t["name"])
        agents = [self.skills("agent", i) for i in range(len(self.data["agent"]))]
        for i in range(len(self.data["queue"])):
            required = self.skills("queue", i)
            if agents and not any(serves(a, required) for a in agents):
                self.error("no agent has all these skills at these levels: nobody could "
                           "serve the queue", f"queue[{i}].skills")

    def _check_campaigns(self, trunks: set[str], groups: set[str]) -> None:
        """Campaign names are unique; each goes out on a trunk or trunk group and its
        settings parse (contacts, windows, days, time zone, retry table; files are read
        when the kernel is built)."""
        seen: set[str] = set()
        for i, c in enumerate(self.data["campaign"]):
            if c["name"] in seen:
                self.error(f"duplicate campaign name {c['name']!r}", f"campaign[{i}].name")
            seen.add(c["name"])
            if c["trunk"] not in trunks | groups:
                self.error(f"no trunk or trunk group named {c['trunk']!r}",
                           f"campaign[{i}].trunk")
            try:
                spec_from_config({**c, "contacts_file": None, "dnc_file": None,
                                  "results": None}, str)
            except ValueError as e:
                k, _, msg = str(e).partition(": ")
                self.error(msg or k, f"campaign[{i}].{k}")

    def _check_trunk_groups(self, trunks: set[str]) -> set[str]:
        """Trunk groups name existing trunks; group and trunk names share one namespace
        (an ``overflow`` names either); returns the group names."""
        groups: set[str] = set()
        for i, g in enumerate(self.data["trunk_group"]):
            if g["name"] in trunks or g["name"] in groups:
                self.error(f"name {g['name']!r} is already a trunk or trunk group",
                           f"trunk_group[{i}].name")
            groups.add(g["name"])
            if not g["trunks"]:
                self.error("a trunk group needs at least one trunk", f"trunk_group[{i}].trunks")
            for n in g["trunks"]:
                if not isinstance(n, str) or n not in trunks:
                    self.error(f"no trunk named {n!r}", f"trunk_group[{i}].trunks")
        for section in ("trunk", "trunk_group"):
            for i, t in enumerate(self.data[section]):
                if t["overflow"] and t["overflow"] not in trunks | groups:
                    self.error(f"no trunk or trunk group named {t['overflow']!r}",
                               f"{section}[{i}].overflow")
        return groups

    def __getitem__(self, section: str) -> Any:
        return self.data[section]


SECTION_DOCS = {
    "kernel": "The tight loop and its clock.",
    "api": "The control API (JSON over WebSocket on loopback; see docs/control-api.md).",
    "board": "A board: `sim` (software E1 spans and optionally a station board), `dahdi` "
             "(spans of the real driver, numbered from `device`), `pseudowire` (one E1 span over "
             "UDP, CESoPSN or SAToP). Spans are named `board:N`, N from 1.",
    "cable": "A sim cable between two sim spans (both directions), with an optional impairment "
             "written as `cti diag --impair` takes it.",
    "trunk": "A signalling trunk: `isdn` (Q.921/Q.931 on TS16), `ss7`/`tup` (MTP2 on TS16, "
             "CIC = cic_base - 1 + timeslot), `r2` (CAS on TS16, MF tones in the voice "
             "timeslots; the span is switched to CAS). With `transport = \"hdlc-socket\"` the "
             "D-channel or signalling link is a SOCK_SEQPACKET socket at `socket` that an "
             "external peer (libpri, libss7) connects to; without `span` such a trunk carries "
             "signalling only. `timers`: any row of the stack's timer table, in seconds "
             "(`cti links --json` lists them with defaults and clauses).",
    "stp": "A signalling transfer point (Q.704 2.3, 13): a point code of its own with a link "
           "set toward each adjacent point (links in TS16 of sim/DAHDI spans, or an "
           "hdlc-socket) and route sets; it carries the messages of the points around it, "
           "broadcasts their route status (TFP/TFA, TFR as the national option) and tells "
           "originating points of congestion (TFC). Trunks signal through it with "
           "`trunk.stp` and `trunk.link_spans` (quasi-associated mode). See docs/ss7.md.",
    "trunk_group": "Outgoing trunks hunted as one group: a free bearer channel across the "
                   "trunks by `hunt` (`first`: lowest channel of the first trunk; `last`: "
                   "highest of the last, against a far end hunting first; `round_robin`: "
                   "after the last seized; `least_used`: fewest seizures), skipping trunks "
                   "whose link is down or span in alarm; when none is free the call goes to "
                   "`overflow`, and fails with Q.850 cause 34 at the end of the chain.",
    "route": "The dial plan, tried in order: the first route whose `dnis` and `ani` regular "
             "expressions both match wins. Targets: `ivr:demo` (greeting, DTMF 1 sales / 2 "
             "support, queue), `ivr:answer` (answer, greeting, clear), `queue:NAME`, "
             "`station:N`, `group:NAME` (tandem over a trunk group), `trunk:NAME` (a "
             "one-trunk group, then the trunk's `overflow`).",
    "ivr": "An IVR flow written as data: nodes run one after another from `start`, each "
           "naming the next. The built-in flows `demo` and `answer` are written this way "
           "(`cti/flows.toml`); `kernel.ivr_path` names a file of more `[[ivr]]` tables. "
           "A node is `[ivr.nodes.NAME]` after its `[[ivr]]`, with a `kind` from the node "
           "reference below. Unknown nodes, prompts that are missing or unplayable, and "
           "route targets that do not exist are errors when the config loads.",
    "queue": "A queue of callers served by the agents who have its `skills` (skills-based "
             "routing; no skills: every agent). One arbiter serves all queues: an agent who "
             "is ready takes the caller who has waited longest among the queues it can "
             "serve (a higher `priority` queue first); a caller goes to the eligible ready "
             "agent its queue's `strategy` ranks first. A caller is never offered again to "
             "an agent who rejected it; ring-no-answer puts the caller back at the head and "
             "pauses the agent. A queue that none of the configured agents can serve is an "
             "error (not checked when the file has no agents: they log in at run time with "
             "`agent.login`). docs/control-api.md: the `queues` view lists each queue's "
             "eligible agents, `agent.skills` changes an agent's skills at run time.",
    "agent": "An agent on a station of the station board. `mode = \"desktop\"`: the station "
             "rings and the agent desktop answers or rejects over the control API "
             "(docs/control-api.md); `auto`: the phone answers (ring trip). `skills`, e.g. "
             "`[\"sales:8\", \"english\", \"billing:2\"]`: skill names (1..32 letters, "
             "digits, `_.-`, from a letter; case does not matter) with a level 1..10.",
    "campaign": "An outbound campaign (docs/dialer.md): its contacts are called over "
                "`trunk` and the answered calls go to the agents of `queue`, one call per "
                "ready agent (`progressive`) or after the agent accepts the contact "
                "(`preview`). Each attempt's outcome (busy, no_answer, congestion...) "
                "has a retry rule; do-not-call numbers are never dialled, and calls are "
                "placed only within the dialing windows.",
    "crm": "The CRM store: SQLite at `path` (contacts, and every finished call, queryable "
           "as the caller's history; schema in docs/control-api.md), and the same call "
           "records as CSV rows at `records` (flushed and fsync'ed).",
}


def reference_markdown() -> str:
    """docs/config.md, generated from :data:`SCHEMA` (a test keeps the file in step)."""
    out = ["# Configuration reference (`cti run CONFIG`)", "",
           "One TOML file describes a kernel. `[name]` sections are tables, `[[name]]` sections",
           "are arrays (several boards, trunks, routes...). Every error names the file, the line",
           "and the dotted key, e.g. `site.toml:14: key 'trunk[0].span': no board named 'xx'`,",
           "and `cti run` exits 2. `examples/lab-sim.toml` is a complete working example.", ""]
    for sec, keys in SCHEMA.items():
        hdr = f"[[{sec}]]" if sec in ARRAYS else f"[{sec}]"
        out += [f"## `{hdr}`", "", SECTION_DOCS[sec], "", *key_table(sec, keys)]
        if sec == "stp":
            out += ["Each `[[stp.linksets]]` table:", "", *key_table("stp.linksets", STP_LINKSET)]
        if sec == "ivr":
            from cti.ivr import node_reference

            out += node_reference()
    return "\n".join(out)


def key_table(prefix: str, keys: Mapping[str, Key]) -> list[str]:
    """Markdown table rows documenting ``keys`` as ``prefix.key``, then a blank line."""
    out = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for k, spec in keys.items():
        types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
        if spec.required:
            default = "required"
        elif spec.default is None:
            default = "none"
        else:
            default = "`" + repr(spec.default).replace("'", '"') + "`"
        meaning = spec.doc
        if spec.choices:
            meaning = (meaning + "; " if meaning else "") + "one of " + ", ".join(
                f"`{c}`" for c in spec.choices)
        out.append(f"| `{prefix}.{k}` | {'/'.join(t.__name__ for t in types)} | {default} | "
                   f"{meaning} |")
    out.append("")
    return out
