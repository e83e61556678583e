"""Outbound campaigns: a dialer that works a list of contacts over a trunk or trunk group
and gives the answered calls to the agents of a queue (docs/dialer.md).

Pacing (``mode``):

``progressive``  one call per ready agent who serves the campaign's queue: the agent is
                 *reserved* (not-ready, reason ``outbound``) while the call is placed, and
                 an answered call rings that agent at once; so there are never more calls
                 than agents and no answered call is abandoned for want of one.
``preview``      a ready agent is reserved and offered the contact (the ``agents.preview``
                 API event); the agent accepts (``campaign.accept``: the call is placed
                 and the agent's station is connected to it at once, hearing its progress)
                 or skips it (``campaign.skip``).
``predictive``   no reservation: calls are kept in progress by the measured answer rate
                 for the free agents (:meth:`Campaign.to_place`), held back to one per
                 agent while the abandon rate (answered, no agent within CONNECT_S: the
                 Ofcom measure) is above its target; answered calls go to the queue,
                 and one no agent has taken CONNECT_S after answer hears the
                 ``abandon_message`` and is cleared (:meth:`Campaign._inform`).

Each attempt ends in one outcome, from the Q.850 cause of the clearing (Q.850 table 1;
:data:`CAUSE_OUTCOMES`), from in-band call progress heard before answer (busy,
congestion, special information tone; :data:`TONE_OUTCOMES`) or from the ring timeout.
Every outcome has a retry rule (:data:`OUTCOMES`: seconds until the next attempt, or
final); a contact is done with the outcome of an answered or final attempt, or with
its last outcome after ``max_attempts``.  Numbers on the do-not-call list are never
dialled.  Calls are placed only within the dialing windows (local hours of the
campaign's time zone).  Each attempt leaves a call record (:mod:`cti.cdr`, direction
``out``, its ``campaign`` field the campaign's name, as in the campaign's results file).
"""

from __future__ import annotations

import asyncio
import csv
import heapq
import itertools
import os
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from core.q850 import NORMAL_CLEARING
from cti.api import ApiError, ApiServer
from cti.calls import Call, CallEvent, CallState, DialError
from cti.crm import CrmError, check_number
from cti.media import Reason
from cti.queues import Agent, HuntQueue
from cti.stats import CONNECT_S  # the live abandon measure is the report's
from cti.trunkgroup import TrunkGroup
from cti.wavstream import PromptStream
from timeslot.toneplans import plan as tone_plan

MODES = ("progressive", "preview", "predictive")
RESERVED = "outbound"  # the not-ready reason of an agent reserved for a campaign call
PREVIEW_TIMEOUT = "preview-timeout"  # the not-ready reason of an agent who let a preview lapse
PACE_S = 1.0  # the pacing tick: ready agents and due contacts are looked at this often
MESSAGE_TONE_S = 3.0  # an information message that is a tone plan entry plays this long
TONE_PREFIX = "tone:"  # abandon_message = "tone:NAME": a tone of the kernel's tone plan
HISTORY = 50  # predictive: the answer rate is measured over this many latest attempts
MIN_HISTORY = 10  # ... and taken as 1 (one call per agent) until there are this many


@dataclass(frozen=True)
class Outcome:
    """An attempt's outcome and its default retry rule (``retry_s`` None: final)."""
    name: str
    retry_s: float | None
    doc: str


OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    Outcome("answered", None, "answered; the call went to an agent"),
    Outcome("busy", 300.0, "Q.850 17 (user busy) or busy tone"),
    Outcome("no_answer", 1800.0, "ring timeout, or Q.850 16/18/19 before answer"),
    Outcome("rejected", 3600.0, "Q.850 21 (call rejected)"),
    Outcome("invalid", None, "Q.850 1/3/22/28 (no such number) or special information tone"),
    Outcome("congestion", 120.0, "Q.850 34/38/41/42/44/47 (no circuit, network trouble) or "
                                 "congestion tone"),
    Outcome("failed", 900.0, "any other cause"),
    Outcome("abandoned", 72 * 3600.0, "answered, but no agent took the call: the called "
                                      "party cleared first, or was played the information "
                                      "message (Ofcom: no automated call again for 72 h)"),
    Outcome("skipped", None, "preview: the agent skipped the contact (not dialled)"),
)}
CAUSE_OUTCOMES: dict[int, str] = {
    1: "invalid", 3: "invalid", 22: "invalid", 28: "invalid",
    16: "no_answer", 18: "no_answer", 19: "no_answer", 20: "no_answer",
    17: "busy",
    21: "rejected",
    34: "congestion", 38: "congestion", 41: "congestion", 42: "congestion",
    44: "congestion", 47: "congestion",
}
TONE_OUTCOMES: dict[str, str] = {"busy": "busy", "congestion": "congestion", "sit": "invalid"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def utc_now() -> datetime:
    """The wall clock of the dialing windows and the results file (aware, UTC)."""
    return datetime.now(timezone.utc)


def outcome_of_cause(cause: int | None) -> str:
    """The outcome of a call cleared before answer with Q.850 ``cause``."""
    return CAUSE_OUTCOMES.get(cause, "failed") if cause is not None else "failed"


# --- campaign settings: parsed once, checked by the config loader ----------------------------
def parse_windows(windows: Iterable[Any]) -> list[tuple[int, int]]:
    """``["09:00-12:30", "22:00-02:00"]`` -> minute ranges [start, end) of the day; a
    window ending before it starts runs past midnight.  ValueError names the entry."""
    out = []
    for i, w in enumerate(windows):
        m = _WINDOW.match(w) if isinstance(w, str) else None
        if m is None:
            raise ValueError(f"[{i}]: {w!r} is not HH:MM-HH:MM")
        start = int(m[1]) * 60 + int(m[2])
        end = int(m[3]) * 60 + int(m[4])
        if start == end or end > 24 * 60:
            raise ValueError(f"[{i}]: {w!r} is an empty window")
        out.append((start, end))
    return out


def parse_days(days: Iterable[Any]) -> frozenset[int]:
    """``["mon", "tue", ...]`` -> weekday numbers (Monday 0); none: every day."""
    out = set()
    for i, d in enumerate(days):
        if not isinstance(d, str) or d.lower() not in DAYS:
            raise ValueError(f"[{i}]: {d!r} is not one of {', '.join(DAYS)}")
        out.add(DAYS.index(d.lower()))
    return frozenset(out or range(7))


def parse_retry(retry: Mapping[str, Any]) -> dict[str, float | None]:
    """The outcome table's retry delays with ``retry`` (outcome -> seconds; 0 or less:
    final) over the defaults."""
    out = {name: o.retry_s for name, o in OUTCOMES.items()}
    for name, value in retry.items():
        if name not in OUTCOMES or name == "answered":
            raise ValueError(f".{name}: not an outcome that can be retried (outcomes: "
                             f"{', '.join(n for n in OUTCOMES if n != 'answered')})")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f".{name}: must be seconds, not {type(value).__name__}")
        out[name] = float(value) if value > 0 else None
    return out


def parse_contact(entry: Any) -> tuple[str, str]:
    """A contact as the config writes it: ``"0212345678"``, ``"0212345678 Ann Lee"`` or
    ``{number = "...", name = "..."}`` -> (number, name); ValueError when it is neither."""
    if isinstance(entry, dict):
        extra = set(entry) - {"number", "name"}
        if extra:
            raise ValueError(f"unknown key(s) {', '.join(sorted(extra))} (number, name)")
        number, name = entry.get("number"), entry.get("name", "")
    elif isinstance(entry, str):
        number, _, name = entry.strip().partition(" ")
    else:
        raise ValueError(f"{entry!r}: a number string or a {{number, name}} table")
    if not isinstance(name, str):
        raise ValueError("name must be a string")
    try:
        return check_number(number), name.strip()
    except CrmError as e:
        raise ValueError(str(e)) from None


def read_contacts(path: str) -> list[tuple[str, str]]:
    """A CSV file of contacts: number, then an optional name; a first row whose number is
    not one is a header.  ValueError names the line."""
    out = []
    with open(path, newline="", encoding="utf-8-sig") as f:  # spreadsheets write a BOM
        for n, row in enumerate(csv.reader(f), 1):
            if not row or not "".join(row).strip():
                continue
            try:
                out.append(parse_contact({"number": row[0].strip(),
                                          "name": row[1] if len(row) > 1 else ""}))
            except ValueError as e:
                if n == 1:
                    continue  # a header row
                raise ValueError(f"{path}:{n}: {e}") from None
    return out


def read_numbers(path: str) -> set[str]:
    """A do-not-call file: one number a line (``#`` starts a comment)."""
    out = set()
    with open(path) as f:
        for n, line in enumerate(f, 1):
            number = line.split("#", 1)[0].strip()
            if number:
                try:
                    out.add(check_number(number))
                except CrmError as e:
                    raise ValueError(f"{path}:{n}: {e}") from None
    return out


def crm_contacts(store) -> list[tuple[str, str]]:
    """The contacts of a CRM store (:class:`cti.crm.CrmStore`), by number."""
    rows = store.db.execute("SELECT number, coalesce(name, '') FROM contacts ORDER BY number")
    return [(number, name) for number, name in rows]


def check_message(message: str, media) -> None:
    """ValueError("abandon_message: ...") unless ``message`` names a tone of the media
    engine's tone plan (``tone:NAME``) or an audio file that can be played."""
    try:
        if message.startswith(TONE_PREFIX):
            tones = tone_plan(media.plan).tones
            if message[len(TONE_PREFIX):] not in tones:
                raise ValueError(f"no tone {message[len(TONE_PREFIX):]!r} in tone plan "
                                 f"{media.plan!r} (known: {', '.join(tones)})")
        else:
            PromptStream(message, media.law).close()
    except OSError as e:
        raise ValueError(f"abandon_message: cannot read {e.filename}: {e.strerror}") from None
    except ValueError as e:
        raise ValueError(f"abandon_message: {e}") from None


def spec_from_config(t: Mapping[str, Any], path: Callable[[str], str], store=None
                     ) -> CampaignSpec:
    """A campaign's settings from its checked ``[[campaign]]`` table; files are opened
    at ``path(name)``.  ValueError("KEY: message") names the key at fault."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    def key(k: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except CrmError as e:
            raise ValueError(f"{k}: {e}") from None
        except OSError as e:
            raise ValueError(f"{k}: cannot read {e.filename}: {e.strerror}") from None
        except (ValueError, ZoneInfoNotFoundError) as e:
            msg = str(e) or type(e).__name__
            raise ValueError(f"{k}{'' if msg[0] in '[.' else ': '}{msg}") from None

    contacts = []
    for i, entry in enumerate(t["contacts"]):
        contacts.append(key(f"contacts[{i}]", lambda e=entry: parse_contact(e)))
    if t["contacts_file"]:
        contacts += key("contacts_file", lambda: read_contacts(path(t["contacts_file"])))
    if t["crm_contacts"] and store is not None:
        contacts += crm_contacts(store)
    dnc = {key(f"dnc[{i}]", lambda n=n: parse_contact(n)[0]) for i, n in enumerate(t["dnc"])}
    if t["dnc_file"]:
        dnc |= key("dnc_file", lambda: read_numbers(path(t["dnc_file"])))
    if t["ani"]:
        key("ani", lambda: check_number(t["ani"]))
    for k in ("max_attempts", "ring_timeout_s", "preview_timeout_s"):
        if t[k] <= 0:
            raise ValueError(f"{k}: must be more than 0")
    if not 0.0 < t["abandon_target"] < 1.0:
        raise ValueError("abandon_target: must be a fraction between 0 and 1")
    if t["max_ratio"] < 1.0:
        raise ValueError("max_ratio: must be at least 1")
    message = t["abandon_message"]
    if t["mode"] == "predictive":  # it answers calls no agent may be free for
        if not message:
            raise ValueError("abandon_message: predictive mode needs the information message "
                             "played to a call no agent takes within 2 s (Ofcom, FTC TSR)")
        if not t["ani"]:
            raise ValueError("ani: predictive mode must send the calling number (Ofcom, "
                             "FTC TSR: caller id on every call)")
    if message and not message.startswith(TONE_PREFIX):
        message = path(message)
    return CampaignSpec(
        name=t["name"], trunk=t["trunk"], queue=t["queue"], ani=t["ani"], mode=t["mode"],
        contacts=contacts, dnc=dnc, windows=key("windows", lambda: parse_windows(t["windows"])),
        days=key("days", lambda: parse_days(t["days"])),
        timezone=key("timezone", lambda: ZoneInfo(t["timezone"]) if t["timezone"] else None),
        max_attempts=t["max_attempts"], retry_s=key("retry_s", lambda: parse_retry(t["retry_s"])),
        ring_timeout_s=t["ring_timeout_s"], preview_timeout_s=t["preview_timeout_s"],
        abandon_target=t["abandon_target"], max_ratio=t["max_ratio"],
        abandon_message=message or None, results=path(t["results"]) if t["results"] else None, start=t["start"])


@dataclass
class Contact:
    """A number to call and where it stands: ``state`` pending (due at ``next_at``),
    dialling (an agent has it or a call is placed) or done (``result`` is its final
    outcome, or ``dnc``)."""
    number: str
    name: str = ""
    state: str = "pending"
    attempts: int = 0  # calls placed
    skips: int = 0  # previews skipped
    next_at: float = 0.0
    outcome: str | None = None  # the last attempt's
    result: str | None = None
    calls: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "name": self.name, "state": self.state,
                "attempts": self.attempts, "skips": self.skips, "outcome": self.outcome,
                "result": self.result, "next_at": round(self.next_at, 3), "calls": self.calls}


@dataclass
class CampaignSpec:
    """A campaign's settings, as ``[[campaign]]`` gives them (docs/config.md)."""
    name: str
    trunk: str
    queue: str
    ani: str = ""
    mode: str = "progressive"
    contacts: list[tuple[str, str]] = field(default_factory=list)
    dnc: set[str] = field(default_factory=set)
    windows: list[tuple[int, int]] = field(default_factory=list)
    days: frozenset[int] = frozenset(range(7))
    timezone: Any = None  # a tzinfo; None: the host's local time
    max_attempts: int = 3
    retry_s: dict[str, float | None] = field(default_factory=lambda: parse_retry({}))
    ring_timeout_s: float = 30.0
    preview_timeout_s: float = 60.0
    abandon_target: float = 0.03  # predictive: the abandon rate not to exceed
    max_ratio: float = 3.0  # predictive: calls in progress per free agent at most
    abandon_message: str | None = None  # a prompt file, or "tone:NAME" (a tone plan entry)
    results: str | None = None  # CSV file: one row per attempt
    start: bool = True


class Campaign:
    """One campaign over the call centre: its contacts, pacing, attempts and counters."""

    def __init__(self, dialer: Dialer, spec: CampaignSpec):
        if spec.mode not in MODES:
            raise ValueError(f"campaign mode must be one of {', '.join(MODES)}")
        if spec.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if spec.abandon_message:
            check_message(spec.abandon_message, dialer.media)
        self.dialer = dialer
        self.spec = spec
        self.name = spec.name
        self.queue: HuntQueue = dialer.queues[spec.queue]
        self.group: TrunkGroup = dialer.group(spec.trunk)
        self.dnc = set(spec.dnc)
        self.contacts: dict[str, Contact] = {}
        self._heap: list[tuple[float, int, Contact]] = []  # pending contacts by due time
        self._order = itertools.count()
        self.state = "stopped"
        self.reserved: dict[str, Contact] = {}  # agent name -> the contact it is reserved for
        self.previews: dict[str, tuple[Contact, asyncio.TimerHandle]] = {}
        self.calls: dict[int, Call] = {}
        self.outcomes: Counter[str] = Counter()
        self.dialled = 0
        self.connects = 0  # calls answered by the called party
        self.late = 0  # ... of which no agent was on the call CONNECT_S after answer
        self._recent: deque[bool] = deque(maxlen=HISTORY)  # answered or not, latest attempts
        self._tick: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()  # the attempts followed (held: tasks are weak)
        self._results = None
        for number, name in spec.contacts:
            self.add(number, name)
        if spec.results:
            new = not os.path.exists(spec.results) or os.path.getsize(spec.results) == 0
            if not new:
                self._resume(spec.results)
            self._results = open(spec.results, "a", newline="")  # noqa: SIM115
            if new:
                csv.writer(self._results).writerow(RESULT_FIELDS)
        if spec.start:
            self.start()

    @property
    def kernel(self):
        return self.dialer.kernel

    # --- contacts ----------------------------------------------------------------------------
    def add(self, number: str, name: str = "") -> Contact:
        """A contact added to the list (a number already there is left as it is); a
        number on the do-not-call list is kept with result ``dnc`` and never dialled."""
        number = check_number(number)
        c = self.contacts.get(number)
        if c is None:
            c = self.contacts[number] = Contact(number, name)
            if number in self.dnc:
                c.state, c.result = "done", "dnc"
            else:
                self._pending(c, self.kernel.now())
            self._soon()
        return c

    def _resume(self, path: str) -> None:
        """Carry on from the results file of an earlier run: each contact's attempts,
        skips and last outcome come back, a contact with a final result stays done, and
        one to be retried is due when its retry delay (from the attempt's wall-clock
        time) is over.  Contacts added at run time then come back too.  ValueError
        ("results: FILE:LINE: ...") for a row that is not one this class wrote."""
        now = self.dialer.wallclock()
        with open(path, newline="") as f:
            for n, row in enumerate(csv.DictReader(f), 2):
                if row.get("campaign") != self.name:
                    continue
                try:
                    outcome, result = row["outcome"], row["result"] or None
                    if outcome not in OUTCOMES or (result is not None and result
                                                   not in (*OUTCOMES, "dnc")):
                        raise ValueError(f"unknown outcome {outcome!r} or result {result!r}")
                    at = datetime.strptime(row["at"], "%Y-%m-%dT%H:%M:%SZ").replace(
                        tzinfo=timezone.utc)
                    c = self.add(row["number"], row["name"] or "")
                    c.attempts = int(row["attempt"])
                except (ValueError, TypeError, KeyError, CrmError) as e:
                    raise ValueError(f"results: {path}:{n}: {e}") from None
                c.skips += outcome == "skipped"
                c.outcome = outcome
                self.outcomes[outcome] += 1
                self.dialled += outcome != "skipped"
                if result is not None:
                    c.state, c.result = "done", result
                elif c.state != "done":  # (dnc now)
                    wait = (self.spec.retry_s.get(outcome) or 0.0) - (now - at).total_seconds()
                    self._pending(c, self.kernel.now() + max(0.0, wait))

    def add_dnc(self, number: str) -> None:
        """Never call ``number``: a pending contact with it is done (``dnc``) at once."""
        self.dnc.add(check_number(number))
        c = self.contacts.get(number)
        if c is not None and c.state == "pending":
            c.state, c.result = "done", "dnc"

    def _pending(self, c: Contact, at: float | None = None) -> None:
        """``c`` waits to be called, from ``at`` (default: as it was due)."""
        c.state = "pending"
        if at is not None:
            c.next_at = at
        heapq.heappush(self._heap, (c.next_at, next(self._order), c))

    def _due(self) -> Contact | None:
        """The pending contact due first (list order among those due at once)."""
        now = self.kernel.now()
        while self._heap and self._heap[0][0] <= now:
            at, _, c = heapq.heappop(self._heap)
            if c.state != "pending" or c.next_at != at:
                continue  # an entry made stale by a later change
            if c.number in self.dnc:  # listed since it was added
                c.state, c.result = "done", "dnc"
                continue
            return c
        return None

    # --- control -----------------------------------------------------------------------------
    def start(self) -> str:
        self.state = "running"
        self._soon()
        return self.state

    def pause(self) -> str:
        """No new calls or previews; calls in progress and previews offered go on."""
        self.state = "paused"
        self._cancel_tick()
        return self.state

    def stop(self) -> str:
        """No new calls; previews offered are withdrawn (their contacts stay pending and
        their agents are ready again).  Calls in progress go on to their end."""
        self.state = "stopped"
        self._cancel_tick()
        for agent_name in list(self.previews):
            contact, timer = self.previews.pop(agent_name)
            timer.cancel()
            self._pending(contact)
            self._release(self.dialer.agent(agent_name))
        return self.state

    def close(self) -> None:
        self.stop()
        if self._results is not None:
            self._results.close()
            self._results = None

    def _cancel_tick(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def _soon(self) -> None:
        if self.state == "running":
            self._cancel_tick()
            self._tick = self.kernel.loop.call_soon(self._pace)

    # --- pacing ------------------------------------------------------------------------------
    def in_window(self) -> bool:
        """Whether the local time (the campaign's time zone) is in a dialing window on a
        dialing day."""
        local = self.dialer.wallclock().astimezone(self.spec.timezone)
        minute = local.hour * 60 + local.minute
        if not self.spec.windows:
            return local.weekday() in self.spec.days
        for start, end in self.spec.windows:
            if start < end and start <= minute < end and local.weekday() in self.spec.days:
                return True
            if start > end:  # past midnight: the day it began on is the dialing day
                if minute >= start and local.weekday() in self.spec.days:
                    return True
                if minute < end and (local.weekday() - 1) % 7 in self.spec.days:
                    return True
        return False

    def ready_agents(self) -> list[Agent]:
        """Ready agents who serve the queue, the queue's strategy's first choice first."""
        return sorted((a for a in self.queue.eligible() if a.state == "ready"),
                      key=self.queue.rank)

    def _pace(self) -> None:
        """One pacing step: each ready agent of the queue is reserved for a due contact
        (progressive: its call is placed; preview: the contact is offered)."""
        self._tick = self.kernel.loop.call_later(PACE_S, self._pace)
        if self.state != "running" or not self.in_window():
            return
        if self.spec.mode == "predictive":
            ringing = sum(c.state is not CallState.CONNECTED for c in self.calls.values())
            waiting = sum(c.id in self.calls for c in self.queue.callers())
            for _ in range(self.to_place(len(self.ready_agents()), ringing, waiting)):
                contact = self._due()
                if contact is None:
                    return
                contact.state = "dialling"
                self._launch(contact, None)
            return
        for agent in self.ready_agents():
            contact = self._due()
            if contact is None:
                return
            contact.state = "dialling"
            self.reserved[agent.name] = contact
            agent.set_state("not-ready", RESERVED)
            if self.spec.mode == "progressive":
                self._launch(contact, agent)
            else:
                self._offer_preview(agent, contact)

    def answer_rate(self) -> float | None:
        """The fraction of the latest attempts (at most HISTORY) the called party answered."""
        return sum(self._recent) / len(self._recent) if self._recent else None

    def abandon_rate(self) -> float | None:
        """Answered calls with no agent on them CONNECT_S after answer, over all answered
        calls of the campaign (Ofcom's measure of abandoned calls)."""
        return self.late / self.connects if self.connects else None

    def to_place(self, free: int, ringing: int, waiting: int) -> int:
        """Predictive pacing: calls to place now for ``free`` ready agents, ``ringing``
        calls not yet answered and ``waiting`` answered calls in the queue.  With ``p``
        the answer rate (1 until MIN_HISTORY attempts are known, or while the abandon
        rate is above its target; at least 1/max_ratio), as many calls are kept in
        progress as are expected to bring one answer per free agent:
        floor((free - waiting) / p) - ringing."""
        p = self.answer_rate() if len(self._recent) >= MIN_HISTORY else 1.0
        rate = self.abandon_rate()
        if rate is not None and rate > self.spec.abandon_target:
            p = 1.0
        p = max(p, 1.0 / self.spec.max_ratio)
        agents = free - waiting
        if agents <= 0:
            return 0
        return max(0, int(agents / p + 1e-9) - ringing)

    def _reserved_for(self, agent: Agent | None, contact: Contact) -> bool:
        if agent is None:
            return False
        return (self.reserved.get(agent.name) is contact and agent.state == "not-ready"
                and agent.reason == RESERVED)

    def _release(self, agent: Agent | None, contact: Contact | None = None) -> None:
        """End an agent's reservation: ready again (the ACD may give it a caller)."""
        if agent is None:
            return
        held = self.reserved.get(agent.name)
        if held is not None and (contact is None or held is contact):
            del self.reserved[agent.name]
            if agent.state == "not-ready" and agent.reason == RESERVED:
                agent.set_state("ready")

    # --- preview -----------------------------------------------------------------------------
    def _offer_preview(self, agent: Agent, contact: Contact) -> None:
        timer = self.kernel.loop.call_later(self.spec.preview_timeout_s, self._preview_lapsed,
                                            agent)
        self.previews[agent.name] = (contact, timer)
        self.dialer.notify("preview", {"agent": agent.name, "campaign": self.name,
                                       "contact": contact.as_dict(),
                                       "timeout_s": self.spec.preview_timeout_s})

    def _take_preview(self, agent: Agent) -> Contact:
        entry = self.previews.pop(agent.name, None)
        if entry is None:
            raise ApiError("bad_state", f"agent {agent.name} has no preview of "
                                        f"campaign {self.name}")
        entry[1].cancel()
        return entry[0]

    def accept(self, agent: Agent) -> int:
        """The agent accepts its preview: the call is placed; returns its id (None when
        no channel could be had: the attempt's outcome is then congestion)."""
        contact = self._take_preview(agent)
        return self._launch(contact, agent)

    def skip(self, agent: Agent) -> str:
        """The agent skips its preview: the contact's ``skipped`` rule applies (final by
        default), the agent is ready for the next."""
        contact = self._take_preview(agent)
        contact.skips += 1
        self._release(agent, contact)
        self._settle(contact, "skipped", None)
        return contact.state

    def _preview_lapsed(self, agent: Agent) -> None:
        """No answer to a preview in time: the contact goes back to the list, the agent
        is made not-ready (reason ``preview-timeout``), as ring-no-answer does."""
        contact, _ = self.previews.pop(agent.name)
        self._pending(contact)
        self.reserved.pop(agent.name, None)
        if agent.state == "not-ready" and agent.reason == RESERVED:
            agent.set_state("not-ready", PREVIEW_TIMEOUT)
        self._soon()

    # --- attempts ----------------------------------------------------------------------------
    def _launch(self, contact: Contact, agent: Agent | None) -> int | None:
        """Place the call to ``contact`` (the agent reserved for it; none: predictive)
        and follow it."""
        k = self.kernel
        call = Call(trunk=self.group.trunks[0], direction="out", dnis=contact.number,
                    ani=self.spec.ani, clock=k.now)
        call.data.update(campaign=self.name, contact=contact.name)
        call.times["offered"] = k.now()  # the record's start: the attempt began here
        contact.attempts += 1
        contact.calls.append(call.id)
        self.dialled += 1
        try:
            self.group.dial(call)
        except Exception as e:  # not placed: the attempt ends here, the list goes on
            if isinstance(e, DialError):
                call.cause = e.cause
            else:  # a stack refusing the call otherwise is a fault to be seen
                self.dialer.centre.on_error(f"campaign {self.name}: {contact.number} not "
                                            f"placed: {type(e).__name__}: {e}")
            call.times["released"] = k.now()
            self._release(agent, contact)
            self._ended(contact, call, outcome_of_cause(call.cause), None)
            return None
        self.calls[call.id] = call
        self.dialer.centre.track(call)
        # on the kernel's loop: accept() may be called from outside it (tests, scripts)
        task = k.loop.create_task(self._guarded(contact, agent, call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return call.id

    async def _guarded(self, contact: Contact, agent: Agent | None, call: Call) -> None:
        """An attempt's task: a fault is the centre's error (the report shows it), the
        call is cleared (Q.850 41), the attempt ends as failed and the list goes on."""
        try:
            await self._follow(contact, agent, call)
        except Exception as e:
            self.dialer.centre.on_error(f"campaign {self.name} call {call.id} to "
                                        f"{call.dnis}: {type(e).__name__}: {e}")
            call.drop(41)
            self._release(agent, contact)
            if contact.state == "dialling":
                self.calls.pop(call.id, None)
                self._settle(contact, "failed", call)

    async def _follow(self, contact: Contact, agent: Agent | None, call: Call) -> None:
        deliver = None
        if self.spec.mode == "preview":  # the agent is put on the call at once
            deliver = asyncio.ensure_future(self._deliver(call, agent, contact))
        try:
            outcome = await self.progress(call)
        except BaseException:
            if deliver is not None:
                deliver.cancel()
            raise
        if outcome == "answered":
            self.connects += 1
            self.kernel.loop.call_later(CONNECT_S, self._check_connect, call)
            outcome = await (deliver if deliver is not None
                             else self._deliver(call, agent, contact))
            if outcome == "withdrawn":
                await self._inform(call)
                outcome = "abandoned"
        else:
            call.drop(NORMAL_CLEARING)
            self._release(agent, contact)
            if deliver is not None:
                await deliver  # ends when the call does: the agent's leg is cleared
        await call.wait(CallState.RELEASED, timeout=None if outcome == "answered" else 30)
        self._ended(contact, call, outcome, self.queue.name if call.data.get("agent") else None)

    async def progress(self, call: Call) -> str:
        """Wait for answer, clearing or the ring timeout, listening meanwhile for the
        in-band tones of call progress (busy, congestion, SIT) on the call's audio."""
        loop = asyncio.get_running_loop()
        answer = asyncio.ensure_future(call.wait(CallState.CONNECTED,
                                                 timeout=self.spec.ring_timeout_s))
        tones: asyncio.Future = loop.create_future()
        analyses: list[asyncio.Future] = []

        def analyse(c: Call, ev: CallEvent | None = None) -> None:
            """Listen from the moment the bearer channel is known, until answer."""
            if c.slot is None or analyses or c.ended or c.state is CallState.CONNECTED:
                return
            task = asyncio.ensure_future(self.dialer.media.analyze(
                c.slot, timeout=self.spec.ring_timeout_s))
            task.add_done_callback(lambda t: None if t.cancelled() or tones.done() else
                                   tones.set_result(t.result().data.get("result")))
            analyses.append(task)

        call.listeners.append(analyse)
        analyse(call)
        try:
            while True:
                done, _ = await asyncio.wait({answer, tones}, return_when=asyncio.FIRST_COMPLETED)
                if answer in done:
                    state = answer.result()
                    if state is CallState.CONNECTED:
                        return "answered"
                    return outcome_of_cause(call.cause) if call.ended else "no_answer"
                result = TONE_OUTCOMES.get(tones.result())
                if result is not None:
                    return result
                tones = loop.create_future()  # voice or fax before answer: wait on
        finally:
            call.listeners.remove(analyse)
            answer.cancel()
            for task in analyses:
                task.cancel()

    def _check_connect(self, call: Call) -> None:
        """CONNECT_S after answer: a call no agent has taken is abandoned (Ofcom's
        measure); with an information message it leaves the queue for the message."""
        if "answered_at" in call.data:  # the queue stamps it when an agent answers
            return
        self.late += 1
        if self.spec.abandon_message and not call.ended:
            self.queue.withdraw(call)

    async def _inform(self, call: Call) -> None:
        """An abandoned call: the information message (who called, a number to call
        back: Ofcom's persistent-misuse policy, FTC TSR 310.4(b)(4)), then clearing with
        Q.850 16.  The called party clearing meanwhile ends the message."""
        media, slot = self.dialer.media, call.slot
        message = self.spec.abandon_message

        def on_end(c: Call, ev: CallEvent) -> None:
            if ev in (CallEvent.DISCONNECTED, CallEvent.RELEASED):
                media.stop(slot, Reason.HANGUP)

        call.listeners.append(on_end)
        try:
            if not call.ended:
                if message.startswith(TONE_PREFIX):
                    await media.tone(slot, message[len(TONE_PREFIX):], seconds=MESSAGE_TONE_S)
                else:
                    await media.play(slot, [message])
        finally:
            call.listeners.remove(on_end)
        call.drop(NORMAL_CLEARING)

    async def _deliver(self, call: Call, agent: Agent | None, contact: Contact) -> str:
        """The call to the campaign's queue, offered first to its reserved agent (rung at
        once) while the agent is still reserved for it: if the agent lets it ring out,
        rejects it or cannot be rung, the queue gives it to the next agent.  "answered"
        once an agent took it, "abandoned" if it ended first, "withdrawn" when
        :meth:`_check_connect` took it out for the information message."""
        reserved = self._reserved_for(agent, contact)
        if reserved:
            del self.reserved[agent.name]
        return await self.queue.enqueue(call, agent=agent if reserved else None)

    def _ended(self, contact: Contact, call: Call, outcome: str, queue: str | None) -> None:
        self.calls.pop(call.id, None)
        self.dialer.centre.record(call, queue, outcome)
        self._settle(contact, outcome, call)

    def _settle(self, contact: Contact, outcome: str, call: Call | None) -> None:
        """Apply the outcome's retry rule to the contact and log the attempt."""
        self.outcomes[outcome] += 1
        if call is not None and outcome != "skipped":
            self._recent.append("connected" in call.times)
        contact.outcome = outcome
        retry = self.spec.retry_s.get(outcome)
        tries = contact.attempts + (contact.skips if outcome == "skipped" else 0)
        if retry is None or tries >= self.spec.max_attempts:
            contact.state, contact.result = "done", outcome
        else:
            self._pending(contact, self.kernel.now() + retry)
        if self._results is not None:
            csv.writer(self._results).writerow([
                self.dialer.wallclock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                self.name, contact.number,
                contact.name, contact.attempts, outcome,
                "" if call is None or call.cause is None else call.cause,
                "" if call is None else call.id, contact.result or ""])
            self._results.flush()
            os.fsync(self._results.fileno())
        self._soon()

    # --- views -------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        states = Counter(c.state for c in self.contacts.values())
        return {
            "name": self.name, "state": self.state, "mode": self.spec.mode,
            "queue": self.queue.name, "trunk": self.group.name, "in_window": self.in_window(),
            "contacts": len(self.contacts), "pending": states["pending"],
            "dialling": states["dialling"], "done": states["done"],
            "dialled": self.dialled, "calls": len(self.calls),
            "answered": self.outcomes["answered"], "busy": self.outcomes["busy"],
            "no_answer": self.outcomes["no_answer"],
            "outcomes": {o: self.outcomes[o] for o in OUTCOMES},
            "answer_rate": _round(self.answer_rate()), "abandon_rate": _round(self.abandon_rate()),
            "results": dict(Counter(c.result for c in self.contacts.values() if c.result)),
            "agents": {a.name: a.state for a in self.queue.eligible()},
            "reserved": sorted(self.reserved),
            "previews": {a: c.number for a, (c, _) in self.previews.items()},
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


RESULT_FIELDS = ("at", "campaign", "number", "name", "attempt", "outcome", "cause", "call_id",
                 "result")


class Dialer:
    """The campaigns of one call centre and their control API (``campaign.*``)."""

    def __init__(self, kernel, centre, media, queues: Mapping[str, HuntQueue],
                 agents: list[Agent], wallclock: Callable[[], datetime] | None = None):
        self.kernel = kernel
        self.centre = centre
        self.media = media
        self.queues = queues
        self.agents = agents
        self.campaigns: dict[str, Campaign] = {}
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        # looked up at each use, so that a simulation may set the module's clock
        self.wallclock = wallclock or (lambda: utc_now())

    def group(self, name: str) -> TrunkGroup:
        return self.centre.group(name)

    def add_campaign(self, spec: CampaignSpec) -> Campaign:
        if spec.name in self.campaigns:
            raise ValueError(f"duplicate campaign {spec.name!r}")
        c = self.campaigns[spec.name] = Campaign(self, spec)
        return c

    def agent(self, name: str) -> Agent | None:
        return next((a for a in self.agents if a.name == name), None)

    def notify(self, event: str, data: dict[str, Any]) -> None:
        for fn in tuple(self.listeners):
            fn(event, data)


    def close(self) -> None:
        for c in self.campaigns.values():
            c.close()

    # --- control API -------------------------------------------------------------------------
    def _campaign(self, campaign: Any) -> Campaign:
        c = self.campaigns.get(campaign) if isinstance(campaign, str) else None
        if c is None:
            raise ApiError("not_found", f"no campaign {campaign!r} "
                                        f"(campaigns: {', '.join(self.campaigns) or 'none'})")
        return c

    def _preview_agent(self, agent: Any) -> tuple[Campaign, Agent]:
        for c in self.campaigns.values():
            if isinstance(agent, str) and agent in c.previews:
                return c, self.agent(agent)
        raise ApiError("bad_state", f"agent {agent!r} has no preview")

    def _accept(self, agent: str) -> int | None:
        c, a = self._preview_agent(agent)
        return c.accept(a)

    def _skip(self, agent: str) -> str:
        c, a = self._preview_agent(agent)
        return c.skip(a)

    def _add(self, campaign: str, number: str, name: str = "") -> dict[str, Any]:
        if not isinstance(name, str):
            raise ApiError("bad_params", "name must be a string")
        try:
            return self._campaign(campaign).add(number, name).as_dict()
        except CrmError as e:
            raise ApiError("bad_params", str(e)) from None

    def _dnc(self, campaign: str, number: str) -> str:
        try:
            self._campaign(campaign).add_dnc(number)
        except CrmError as e:
            raise ApiError("bad_params", str(e)) from None
        return "listed"

    def register(self, api: ApiServer) -> None:
        """The ``campaigns`` view and the ``campaign.*`` operations; previews are
        published as ``agents.preview`` events (an agent desktop's filter applies)."""
        ops = {
            "campaigns": (lambda: {n: c.status() for n, c in self.campaigns.items()},
                          "outbound campaigns: state, contacts, outcome counts, agents"),
            "campaign.status": (lambda campaign: self._campaign(campaign).status(),
                                "one campaign's status (campaign)"),
            "campaign.start": (lambda campaign: self._campaign(campaign).start(),
                               "start or resume dialing (campaign)"),
            "campaign.pause": (lambda campaign: self._campaign(campaign).pause(),
                               "no new calls; calls and previews go on (campaign)"),
            "campaign.stop": (lambda campaign: self._campaign(campaign).stop(),
                              "no new calls; previews withdrawn (campaign)"),
            "campaign.add": (self._add, "add a contact (campaign, number, name)"),
            "campaign.dnc": (self._dnc, "put a number on the do-not-call list (campaign, "
                                        "number)"),
            "campaign.contacts": (lambda campaign: [c.as_dict() for c in
                                                    self._campaign(campaign).contacts.values()],
                                  "the contacts with attempts and results (campaign)"),
            "campaign.accept": (self._accept, "preview: dial the agent's contact (agent)"),
            "campaign.skip": (self._skip, "preview: skip the agent's contact (agent)"),
        }
        for op, (fn, doc) in ops.items():
            api.register(op, fn, doc)
        self.listeners.append(lambda event, data: api.publish("agents", event, data))
