"""Dial plan matching."""

from __future__ import annotations

import pytest

from cti.dialplan import DialPlan, Route


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
