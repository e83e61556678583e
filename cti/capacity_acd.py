"""The ACD's arbiter under load (``cti bench``): CPU time of one dispatch decision.

``acd_match_ms``: :meth:`cti.queues.Acd.match` - which waiting caller goes to which ready
agent, over every queue at once with skills, minimum levels, priorities, strategies and
callers' refusals - for a large busy centre: 300 agents with 1..4 of 12 skills (levels
1..10), 40 queues requiring 1..2 skills each (half ``best_skill``, a few of priority 1),
800 callers waiting, 10% of the agents ready.  The kernel runs this decision whenever an
agent becomes ready or a caller arrives; the figure is process CPU milliseconds per
decision (the offers it leads to ring stations and are the call path's, not measured
here).  No peer library makes this decision (ACD engines such as Asterisk's app_queue are
not libraries).
"""

from __future__ import annotations

import random

from core.bench import BenchResult, cpu_seconds
from cti.queues import Acd, Agent, HuntQueue, _Waiting

SKILLS = [f"skill{i:02d}" for i in range(12)]


def busy_centre(rng: random.Random, agents: int = 300, queues: int = 40, callers: int = 800,
                ready: float = 0.1) -> Acd:
    """An arbiter over ``agents`` skilled agents (a ``ready`` fraction of them ready) and
    ``queues`` skilled queues holding ``callers`` waiting callers, some refused by an agent."""
    staff = [Agent(f"a{i}", i, "ready" if rng.random() < ready else "talking",
                   skills={s: rng.randint(1, 10) for s in rng.sample(SKILLS, rng.randint(1, 4))})
             for i in range(agents)]
    for a in staff:
        a.idle_since = rng.uniform(0.0, 600.0)
    acd = Acd(None, staff)
    qs = [HuntQueue(f"q{i}", None, None, None, staff, acd=acd,
                    skills={s: rng.randint(1, 4) for s in rng.sample(SKILLS, rng.randint(1, 2))},
                    priority=1 if i % 10 == 0 else 0,
                    strategy="best_skill" if i % 2 else "longest_idle")
          for i in range(queues)]
    for n in range(callers):
        w = _Waiting(None, rng.uniform(0.0, 600.0), None, n)
        if rng.random() < 0.05:
            w.refused.add(rng.choice(staff).name)
        rng.choice(qs).waiting.append(w)
    return acd


def acd_match_ms(quick: bool) -> BenchResult:
    acd = busy_centre(random.Random(5))
    offers = len(acd.match())
    per_run, runs = cpu_seconds(acd.match, 0.2 if quick else 1.0)
    ready = sum(a.state == "ready" for a in acd.agents)
    return BenchResult("acd_match_ms", round(per_run * 1e3, 3), "ms", notes=[
        f"{len(acd.agents)} agents ({ready} ready), {len(acd.queues)} skilled queues, "
        f"{sum(len(q.waiting) for q in acd.queues)} waiting callers: {offers} offers per "
        f"decision; {runs} decisions timed",
        "no peer library makes ACD decisions (Asterisk app_queue is not a library)"])


BENCHES = [acd_match_ms]
