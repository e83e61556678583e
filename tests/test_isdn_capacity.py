"""The capacity harness drives real calls: every call completes with normal clearing and
the data links see no error (a bench of failing calls would measure the wrong thing)."""

from __future__ import annotations

from isdn.capacity_isdn import _Traffic


def test_traffic_calls_complete_without_link_errors():
    traffic = _Traffic()
    causes: list[int | None] = []
    on_user = traffic.user.cc.on_event

    def record(ev):
        if ev.kind == "released":
            causes.append(ev.cause)
        on_user(ev)

    traffic.user.cc.on_event = record
    traffic.run(300)  # enough timer churn to rebuild the clock's heap several times
    assert causes == [16] * 300
    assert traffic.net.link.errors == {} and traffic.user.link.errors == {}
    assert traffic.net.cc.counters["errors"] == traffic.user.cc.counters["errors"] == 0
