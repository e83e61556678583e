"""Skills-based routing through a runtime on the virtual clock with a real control API
client (examples/lab-sim.toml, agents in desktop mode so each offer is seen and held):
skilled queues ring only skilled agents, minimum levels, one arbiter giving a shared
agent the oldest caller of all its queues (or the higher-priority queue's), the
best_skill strategy, skills changed at run time, and config errors naming the entry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from desk_rig import EXAMPLE, error_code, event, run_with_client
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from cti.config import Config
from cti.queues import Acd, Agent, HuntQueue, _Waiting
from cti.runtime import Runtime
from cti.skills import MAX_LEVEL, STRATEGIES, SkillError, agent_skills, queue_skills, serves

AGENTS = ("alice", "bob", "carol", "dave")


def runtime(tmp_path, queues: dict[str, dict[str, Any]],
            skills: dict[str, list[str]]) -> Runtime:
    """lab-sim.toml with ``queues`` (name -> keys) instead of its own, DNIS 51xx to the
    first, 52xx to the second..., and the agents' ``skills``; every agent in desktop mode."""
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(tmp_path / "crm.db")
    cfg.data["crm"]["records"] = str(tmp_path / "calls.csv")
    cfg.data["queue"] = [cfg._check("queue", f"queue[{i}]", {"name": n, **keys})
                         for i, (n, keys) in enumerate(queues.items())]
    for i, name in enumerate(queues, 1):
        cfg.data["route"].insert(0, {"dnis": rf"^5{i}\d\d$", "ani": ".*", "to": f"queue:{name}"})
    for a in cfg.data["agent"]:
        a.update(mode="desktop", skills=skills.get(a["name"], []))
    rt = Runtime(cfg, virtual=True)
    rt.kernel.run_for(2.0)  # frame alignment, links up
    return rt


async def ready_only(c, *names: str) -> None:
    """These agents ready, in this order (the first has been idle longest), the others not."""
    for a in AGENTS:
        if a not in names:
            await c.call("agent.not_ready", name=a, reason="test")
    for a in names:
        await c.call("agent.ready", name=a)
        await asyncio.sleep(1.0)


async def caller(c, queue_number: int, n: int) -> int:
    """A PSTN call to the queue_number'th queue; its id on the PSTN side."""
    return await c.call("call.dial", trunk="pstn-pri", dnis=f"5{queue_number}{n:02d}",
                        ani=f"02100000{n:02d}")


def scenario_of(tmp_path, queues, skills, scenario):
    rt = runtime(tmp_path, queues, skills)
    try:
        return run_with_client(rt, scenario)
    finally:
        rt.close()


def test_a_sales_call_never_rings_a_support_agent(tmp_path):
    async def scenario(c):
        await ready_only(c, "alice")  # support only: the sales caller waits
        await caller(c, 1, 1)
        await asyncio.sleep(8.0)
        assert (await c.call("agent", name="alice"))["state"] == "ready"
        sales = (await c.call("queues"))["sales"]
        assert sales["waiting"] == 1 and sales["skills"] == {"sales": 1}
        assert sales["agents"] == {"bob": "not-ready", "carol": "not-ready"}
        await c.call("agent.ready", name="bob")
        offered = await event(c, "agents.offered")
        assert (offered["agent"], offered["queue"]) == ("bob", "sales")
        await caller(c, 2, 2)  # a support call goes to the support agent
        offered = await event(c, "agents.offered")
        assert (offered["agent"], offered["queue"]) == ("alice", "support")
        return (await c.call("agents"))

    agents = scenario_of(tmp_path, {"sales": {"skills": ["sales"]},
                                    "support": {"skills": ["support"]}},
                         {"alice": ["support"], "bob": ["Sales:7", "english"],
                          "carol": ["sales", "support"]}, scenario)
    assert {a["name"]: a["skills"] for a in agents} == {
        "alice": {"support": 5}, "bob": {"sales": 7, "english": 5},
        "carol": {"sales": 5, "support": 5}, "dave": {}}


def test_minimum_levels(tmp_path):
    """billing:3 needs level 3 or more: level 2 never serves, 3 does (and so does the
    default level 5), whichever has been idle longest."""
    async def scenario(c):
        await ready_only(c, "alice", "bob")
        assert (await c.call("queues"))["billing"]["agents"] == {
            "bob": "ready", "carol": "not-ready"}
        await caller(c, 1, 1)
        first = await event(c, "agents.offered")
        await caller(c, 1, 2)
        await asyncio.sleep(8.0)
        return first, (await c.call("queues"))["billing"]["waiting"]

    first, waiting = scenario_of(tmp_path, {"billing": {"skills": ["billing:3", "english"]}},
                                 {"alice": ["billing:2", "english"],
                                  "bob": ["billing:3", "english:1"],
                                  "carol": ["billing", "english"]}, scenario)
    assert first["agent"] == "bob" and waiting == 1  # never alice (billing 2)


@pytest.mark.parametrize("priority, queue, n", [(0, "support", 1), (1, "sales", 2)])
def test_a_shared_agent_takes_the_oldest_caller_of_its_queues(tmp_path, priority, queue, n):
    """Alice serves both queues.  A support caller waits first, a sales caller later
    (sales is the first queue, whose dispatch used to run first); alice, ready, is offered
    the support caller - unless sales has the higher priority."""
    async def scenario(c):
        await ready_only(c)
        await caller(c, 2, 1)
        await asyncio.sleep(3.0)
        await caller(c, 1, 2)
        await asyncio.sleep(3.0)
        queues = await c.call("queues")
        assert queues["sales"]["waiting"] == queues["support"]["waiting"] == 1
        await c.call("agent.ready", name="alice")
        return await event(c, "agents.offered", agent="alice")

    offered = scenario_of(tmp_path, {"sales": {"skills": ["sales"], "priority": priority},
                                     "support": {"skills": ["support"]}},
                          {"alice": ["sales", "support"], "bob": ["sales"]}, scenario)
    assert (offered["queue"], offered["ani"]) == (queue, f"02100000{n:02d}")


@pytest.mark.parametrize("strategy, agent", [("longest_idle", "alice"), ("best_skill", "carol")])
def test_strategy(tmp_path, strategy, agent):
    """alice has been idle longest, carol has the highest level: longest_idle offers
    alice, best_skill carol (then, of equal levels, the longest idle)."""
    async def scenario(c):
        await ready_only(c, "alice", "bob", "carol", "dave")
        await caller(c, 1, 1)
        first = await event(c, "agents.offered")
        await caller(c, 1, 2)
        second = await event(c, "agents.offered")
        return first["agent"], second["agent"]

    first, second = scenario_of(tmp_path, {"sales": {"skills": ["sales"], "strategy": strategy}},
                                {"alice": ["sales:2"], "bob": ["sales:6"], "carol": ["sales:9"],
                                 "dave": ["sales:6"]}, scenario)
    assert (first, second) == (agent, "bob")  # best_skill: bob and dave 6, bob idle longer


def test_skills_changed_at_run_time(tmp_path):
    async def scenario(c):
        await ready_only(c, "alice")
        await caller(c, 1, 1)
        await asyncio.sleep(5.0)
        assert (await c.call("queues"))["sales"]["waiting"] == 1
        assert await c.call("agent.skills", name="alice") == {
            "name": "alice", "skills": {"support": 5}, "queues": ["support"]}
        codes = [await error_code(c, "agent.skills", name="alice", skills=bad)
                 for bad in (["sales:11"], ["sales:0"], "sales", [3], ["sales", "SALES:2"],
                             ["sales level"])]
        assert codes == ["bad_params"] * 6
        assert await error_code(c, "agent.skills", name="zed", skills=[]) == "not_found"
        assert (await c.call("agent", name="alice"))["skills"] == {"support": 5}  # unchanged
        result = await c.call("agent.skills", name="alice", skills=["support", "sales:4"])
        assert result["queues"] == ["sales", "support"]
        assert await event(c, "agents.skills", name="alice") == result
        offered = await event(c, "agents.offered")  # the waiting caller goes to alice now
        assert (offered["agent"], offered["queue"]) == ("alice", "sales")
        assert (await c.call("queues"))["sales"]["agents"] == {"alice": "ringing",
                                                               "bob": "not-ready"}
        await c.call("call.reject", agent="alice", call=offered["call"])
        await c.call("agent.skills", name="alice", skills=[])
        await asyncio.sleep(5.0)  # no other offer: the caller waits for a sales agent
        return (await c.call("queues"))["sales"]

    sales = scenario_of(tmp_path, {"sales": {"skills": ["sales:3"]},
                                   "support": {"skills": ["support"]}},
                        {"alice": ["support"], "bob": ["sales"]}, scenario)
    assert sales["waiting"] == 1 and sales["agents"] == {"bob": "not-ready"}


CONFIG = """
[[board]]
name = "cc"
type = "sim"
spans = 0
stations = 2

[[queue]]
name = "sales"
skills = ["sales:3"]

[[queue]]
name = "support"

[[agent]]
name = "alice"
station = 0
skills = ["sales:5", "english"]

[[agent]]
name = "bob"
station = 1
skills = ["billing:2"]
"""


@pytest.mark.parametrize("edit, line, key, words", [
    (('"sales:5", "english"', '"sales:5", "english:x"'), 18, "agent[0].skills[1]", "not"),
    (('"sales:5", "english"', '"sales:11", "english"'), 18, "agent[0].skills[0]", "1..10"),
    (('["billing:2"]', '["billing:0"]'), 23, "agent[1].skills[0]", "1..10"),
    (('["billing:2"]', '["billing", "Billing:3"]'), 23, "agent[1].skills[1]", "twice"),
    (('["billing:2"]', '"billing"'), 23, "agent[1].skills", "must be list"),
    (('["sales:3"]', '["sales:3", 4]'), 10, "queue[0].skills[1]", "not"),
    (('["sales:3"]', '["sales:6"]'), 10, "queue[0].skills", "nobody could serve"),
    (('["sales:3"]', '["sales", "billing"]'), 10, "queue[0].skills", "nobody could serve"),
    (('name = "support"', 'name = "sales"'), 13, "queue[1].name", "duplicate"),
    (('name = "support"', 'name = "support"\nstrategy = "random"'), 14, "queue[1].strategy",
     "one of"),
])
def test_config_errors_name_the_entry(tmp_path, edit, line, key, words):
    path = tmp_path / "acd.toml"
    path.write_text(CONFIG.replace(*edit))
    with pytest.raises(ConfigError) as e:
        Config.load(str(path))
    assert (e.value.key, e.value.line) == (key, line) and words in str(e.value)


def test_a_skilled_queue_without_configured_agents_is_accepted(tmp_path):
    """Agents may all log in at run time: no agent in the config, no check."""
    path = tmp_path / "acd.toml"
    path.write_text(CONFIG.split("[[agent]]")[0])
    cfg = Config.load(str(path))
    assert cfg.skills("queue", 0) == {"sales": 3} and cfg.skills("queue", 1) == {}


SKILL_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,31}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(SKILL_NAME.map(str.lower), st.integers(1, MAX_LEVEL), max_size=6))
def test_skills_round_trip(skills):
    assert agent_skills([f"{n}:{v}" for n, v in skills.items()]) == skills
    assert serves(skills, queue_skills(list(skills))) and serves(skills, {})


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(st.one_of(st.text(max_size=12), st.integers(), st.none(),
                                    SKILL_NAME.map(lambda s: s + ":" + "12")), max_size=5),
                 st.text(max_size=5), st.integers(), st.none()))
def test_arbitrary_entries_are_skills_or_a_skill_error(entries):
    try:
        skills = agent_skills(entries)
    except SkillError as e:
        assert e.index is None or 0 <= e.index < len(entries)
    else:
        assert all(1 <= v <= MAX_LEVEL for v in skills.values())


def test_cti_agents_and_queues_show_skills():
    from cti.commands.status import _human

    agents = _human("agents", [{"name": "alice", "state": "ready", "reason": None,
                                "mode": "auto", "handled": 2, "talk_s": 61.0,
                                "skills": {"sales": 8, "english": 5}}])
    assert agents.endswith("talk=61.0s skills=sales:8,english:5")
    queues = _human("queues", {"sales": {"waiting": 1, "entered": 3, "answered": 2,
                                         "service_level": 1.0, "abandon_rate": 0.0,
                                         "skills": {"sales": 3}, "agents": {"alice": "ready"}},
                               "support": {"waiting": 0, "entered": 0, "answered": 0,
                                           "service_level": None, "abandon_rate": None,
                                           "skills": {}, "agents": {}}}).splitlines()
    assert queues[0].endswith("abandon=0.0 skills=sales:3 agents=alice")
    assert queues[1].endswith("abandon=None agents=none")


def test_an_agent_logs_in_with_skills(tmp_path):
    """agent.login with skills: a new agent serves the skilled queue once ready; a bad
    entry signs nobody in."""
    async def scenario(c):
        await ready_only(c)
        await caller(c, 1, 1)
        await asyncio.sleep(3.0)
        await c.call("agent.logout", name="dave")
        assert await error_code(c, "agent.login", name="erin", station=3,
                                skills=["sales:99"]) == "bad_params"
        assert "erin" not in {a["name"] for a in await c.call("agents")}
        assert await c.call("agent.login", name="erin", station=3, skills=["sales"]) == \
            "not-ready"
        await c.call("agent.mode", name="erin", mode="desktop")
        assert (await c.call("queues"))["sales"]["agents"] == {"bob": "not-ready",
                                                               "erin": "not-ready"}
        await c.call("agent.ready", name="erin")
        return await event(c, "agents.offered")

    offered = scenario_of(tmp_path, {"sales": {"skills": ["sales"]}}, {"bob": ["sales"]},
                          scenario)
    assert (offered["agent"], offered["queue"]) == ("erin", "sales")


AGENT = st.fixed_dictionaries({
    "state": st.sampled_from(["ready", "ready", "talking", "not-ready"]),
    "skills": st.dictionaries(st.sampled_from("abc"), st.integers(1, MAX_LEVEL), max_size=3),
    "idle_since": st.integers(0, 5)})
QUEUE = st.fixed_dictionaries({
    "skills": st.dictionaries(st.sampled_from("abc"), st.integers(1, 4), max_size=2),
    "priority": st.integers(0, 2), "strategy": st.sampled_from(sorted(STRATEGIES)),
    "callers": st.lists(st.tuples(st.integers(0, 5), st.sets(st.integers(0, 7), max_size=2)),
                        max_size=5)})


@settings(max_examples=150, deadline=None)
@given(st.lists(AGENT, max_size=8), st.lists(QUEUE, min_size=1, max_size=4))
def test_match_is_the_greedy_oldest_first_assignment(agents, queues):
    """Acd.match, against its definition: callers in (priority, wait) order each take the
    best free agent (by the queue's strategy) who serves the queue and has not refused
    them - so no caller could have had a better agent that a later caller got."""
    staff = []
    for i, a in enumerate(agents):
        staff.append(Agent(f"a{i}", i, a["state"], skills=a["skills"]))
        staff[-1].idle_since = a["idle_since"]
    acd = Acd(None, staff)
    seq = 0
    for i, q in enumerate(queues):
        hq = HuntQueue(f"q{i}", None, None, None, staff, acd=acd, skills=q["skills"],
                       priority=q["priority"], strategy=q["strategy"])
        for since, refused in q["callers"]:
            hq.waiting.append(_Waiting(None, since, None, seq, {f"a{r}" for r in refused}))
            seq += 1
    got = {id(w): a for _, w, a in acd.match()}
    assert len({id(a) for a in got.values()}) == len(got)
    order = sorted(((q, w) for q in acd.queues for w in q.waiting),
                   key=lambda qw: (-qw[0].priority, qw[1].since, qw[1].seq))
    given_to = {}  # agent -> place of the caller it went to
    for place, (_, w) in enumerate(order):
        if id(w) in got:
            given_to[id(got[id(w)])] = place
    for place, (q, w) in enumerate(order):
        fits = [a for a in staff if a.state == "ready" and q.serves(a)
                and a.name not in w.refused]
        mine = got.get(id(w))
        assert mine is None or mine in fits
        for a in fits:  # a better (or, unmatched, any) agent went to an earlier caller
            if mine is None or q.rank(a) < q.rank(mine):
                assert given_to.get(id(a), place) < place
