"""Dial plan matching and trunk-group hunting with overflow."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.dialplan import DialPlan, Route, TrunkGroup


def test_first_matching_route_wins():
    plan = DialPlan([Route.parse("^4000$", ".*", "ivr:demo"),
                     Route.parse("^40", "^0212", "queue:vip"),
                     Route.parse("^40", ".*", "queue:sales"),
                     Route.parse(".*", ".*", "trunk:out")])
    assert plan.match("4000", "1").target == "demo"
    assert plan.match("4001", "0212345").target == "vip"
    assert plan.match("4001", "0755").target == "sales"
    assert plan.match("9", "").kind == "trunk"
    with pytest.raises(ValueError):
        Route.parse(".*", ".*", "fax:1")


def test_hunt_policies_and_overflow():
    g = TrunkGroup("a", [1, 2, 3])
    assert [g.seize()[1] for _ in range(3)] == [1, 2, 3]
    assert g.seize() is None
    g.release(2)
    assert g.seize()[1] == 2
    rr = TrunkGroup("rr", [1, 2, 3], hunt="round-robin")
    assert rr.seize()[1] == 1
    rr.release(1)
    assert rr.seize()[1] == 2
    lu = TrunkGroup("lu", [1, 2], hunt="least-used")
    lu.seize()
    lu.release(1)
    assert lu.seize()[1] == 2
    over = TrunkGroup("o", [9])
    main = TrunkGroup("m", [1], overflow=over)
    assert main.seize() == (main, 1)
    assert main.seize() == (over, 9)
    assert main.seize() is None


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 7)), max_size=60),
       st.sampled_from(["first", "round-robin", "least-used"]))
def test_seize_never_double_books(ops, hunt):
    g = TrunkGroup("g", list(range(8)), hunt=hunt)
    held = set()
    for seize, ch in ops:
        if seize:
            r = g.seize()
            if len(held) == 8:
                assert r is None
            else:
                assert r[1] not in held
                held.add(r[1])
        elif ch in held:
            g.release(ch)
            held.discard(ch)
    assert held == g.busy
