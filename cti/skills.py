"""Agent skills and queue requirements for skills-based routing (the ACD of :mod:`cti.queues`).

A skill is written ``name`` or ``name:level``: a name of 1..32 letters, digits and ``_.-``
starting with a letter (case does not matter: names are kept lower-case) and a level
1..:data:`MAX_LEVEL`.  An agent's ``skills`` say what it can do and how well (a skill
without a level is :data:`AGENT_LEVEL`); a queue's ``skills`` are requirements, each with a
minimum level (without one, :data:`REQUIRED_LEVEL`: any level).  An agent serves a queue when
it has every required skill at or above its minimum; a queue without skills is served by
every agent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_LEVEL = 10
AGENT_LEVEL = 5  # an agent's skill written without a level
REQUIRED_LEVEL = 1  # a queue's requirement written without a minimum level
_ENTRY = re.compile(r"^([A-Za-z][\w.-]{0,31})(?::(\d{1,2}))?$", re.ASCII)


class SkillError(ValueError):
    """A bad skill entry; ``index`` is its place in the list (None: the list itself)."""

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index


def parse_skills(entries: Any, default_level: int) -> dict[str, int]:
    """``["sales:5", "english"]`` as ``{"sales": 5, "english": default_level}``."""
    if not isinstance(entries, list | tuple):
        raise SkillError(f"must be a list of \"name\" or \"name:level\" strings, not "
                         f"{type(entries).__name__}")
    skills: dict[str, int] = {}
    for i, entry in enumerate(entries):
        m = _ENTRY.match(entry) if isinstance(entry, str) else None
        if m is None:
            raise SkillError(f"{entry!r} is not \"name\" or \"name:level\" (a name of 1..32 "
                             "letters, digits, _.- starting with a letter)", i)
        name, level = m.group(1).lower(), m.group(2)
        value = default_level if level is None else int(level)
        if not 1 <= value <= MAX_LEVEL:
            raise SkillError(f"level of {name!r} must be 1..{MAX_LEVEL}, not {value}", i)
        if name in skills:
            raise SkillError(f"skill {name!r} is listed twice", i)
        skills[name] = value
    return skills


def agent_skills(entries: Any) -> dict[str, int]:
    """An agent's skills: a missing level is :data:`AGENT_LEVEL`."""
    return parse_skills(entries, AGENT_LEVEL)


def queue_skills(entries: Any) -> dict[str, int]:
    """A queue's required skills: a missing minimum is :data:`REQUIRED_LEVEL`."""
    return parse_skills(entries, REQUIRED_LEVEL)


def serves(skills: Mapping[str, int], required: Mapping[str, int]) -> bool:
    """An agent with ``skills`` meets every requirement of ``required``."""
    return all(skills.get(name, 0) >= level for name, level in required.items())


def score(skills: Mapping[str, int], required: Mapping[str, int]) -> int:
    """How well an agent fits a queue (strategy ``best_skill``): the sum of its levels in
    the queue's required skills (0 for a queue without skills)."""
    return sum(skills.get(name, 0) for name in required)


# A queue's ``strategy``: the sort key ranking the eligible ready agents for its caller, of
# (the agent's skills, the time it has been idle since, the queue's required skills).
STRATEGIES: dict[str, Callable[[Mapping[str, int], float, Mapping[str, int]], tuple]] = {
    "longest_idle": lambda skills, idle_since, required: (idle_since,),
    "best_skill": lambda skills, idle_since, required: (-score(skills, required), idle_since),
}
