"""Trunk groups: each hunting policy's channel order, a trunk out of service skipped,
the overflow chain, Q.850 cause 34 at its end, and seizure without double booking or
glare - on model trunks and on ISDN PRI and SS7 ISUP trunks between sim E1 boards."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from cti.callcentre import CallCentre
from cti.calls import Call, CallState
from cti.cdr import CdrWriter
from cti.config import Config
from cti.dialplan import DialPlan, Route
from cti.kernel import Kernel
from cti.media import MediaEngine
from cti.trunkgroup import POLICIES, NoChannel, TrunkGroup, build_groups
from cti.trunks.isdn import IsdnTrunk
from cti.trunks.ss7 import Ss7Trunk
from drivers.sim import Cable, SimBoard


class ModelTrunk:
    """A trunk whose channels are a set: seize on make_call, free on release."""

    def __init__(self, name: str, channels: list[int], up: bool = True):
        self.name, self.kind = name, "model"
        self.channels = channels
        self.busy: dict[int, Call] = {}
        self.up = up

    @property
    def in_service(self) -> bool:
        return self.up

    def free_channels(self) -> list[int]:
        return [c for c in self.channels if c not in self.busy]

    def make_call(self, call: Call) -> None:
        ch = call.data.get("channel")
        if ch in self.busy:
            raise RuntimeError(f"channel {ch} busy")
        self.busy[ch] = call

    def free(self, ch: int) -> None:
        del self.busy[ch]


def place(group: TrunkGroup) -> tuple[str, int]:
    call = Call(trunk=group.trunks[0], direction="out", dnis="1")
    group.dial(call)
    return call.trunk.name, call.data["channel"]


def test_policy_orders():
    def group(hunt: str) -> TrunkGroup:
        return TrunkGroup("g", [ModelTrunk("a", [1, 2, 3]), ModelTrunk("b", [1, 2])], hunt)

    g = group("first")
    assert [place(g) for _ in range(5)] == [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2)]
    g = group("last")
    assert [place(g) for _ in range(5)] == [("b", 2), ("b", 1), ("a", 3), ("a", 2), ("a", 1)]

    g = group("round_robin")
    assert [place(g) for _ in range(2)] == [("a", 1), ("a", 2)]
    g.trunks[0].free(1)
    assert place(g) == ("a", 3)  # continues after the last seized, not back at a/1
    g.trunks[0].free(2)
    g.trunks[0].free(3)
    assert [place(g) for _ in range(3)] == [("b", 1), ("b", 2), ("a", 1)]  # wraps

    g = group("least_used")  # each call cleared before the next: use spreads evenly
    order = []
    for _ in range(6):
        order.append(place(g))
        g.trunks[0 if order[-1][0] == "a" else 1].free(order[-1][1])
    assert order == [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("a", 1)]
    assert g.counters == {"attempts": 6, "seized": 6, "overflowed": 0, "failed": 0}


def test_down_trunk_skipped_overflow_chain_and_cause_34():
    a = ModelTrunk("a", [1], up=False)
    b = ModelTrunk("b", [1])
    c = ModelTrunk("c", [5])
    last = TrunkGroup("last", [c])
    main = TrunkGroup("main", [a, b], overflow=TrunkGroup("mid", [b], overflow=last))
    assert place(main) == ("b", 1)  # a is down
    assert place(main) == ("c", 5)  # main full -> mid (same trunk, full) -> last
    with pytest.raises(NoChannel) as e:
        place(main)
    assert e.value.cause == 34
    assert main.counters == {"attempts": 3, "seized": 1, "overflowed": 2, "failed": 0}
    assert main.overflow.counters == {"attempts": 2, "seized": 0, "overflowed": 2, "failed": 0}
    assert last.counters == {"attempts": 2, "seized": 1, "overflowed": 0, "failed": 1}
    loop = TrunkGroup("x", [ModelTrunk("m", [])])
    loop.overflow = loop
    with pytest.raises(NoChannel):
        place(loop)
    assert loop.counters["failed"] == 1


def test_config_groups_and_errors():
    t = {"p": ModelTrunk("p", [1]), "q": ModelTrunk("q", [2])}
    groups = build_groups(t, [{"name": "g", "trunks": ["q", "p"], "hunt": "last",
                               "overflow": "p"}], {"p": None, "q": "g"})
    assert [x.name for x in groups["g"].trunks] == ["q", "p"]
    assert groups["g"].overflow is groups["p"] and groups["q"].overflow is groups["g"]
    with pytest.raises(ValueError, match="unknown hunt policy"):
        TrunkGroup("bad", [t["p"]], "random")


BASE = """
[[board]]
name = "cc"
type = "sim"
spans = 2

[[trunk]]
name = "pri"
type = "isdn"
span = "cc:1"

[[trunk]]
name = "pri2"
type = "isdn"
span = "cc:2"
"""


@pytest.mark.parametrize("extra, key, message", [
    ('[[trunk_group]]\nname = "pri"\ntrunks = ["pri2"]\n', "trunk_group[0].name",
     "already a trunk"),
    ('[[trunk_group]]\nname = "g"\ntrunks = ["nope"]\n', "trunk_group[0].trunks",
     "no trunk named 'nope'"),
    ('[[trunk_group]]\nname = "g"\ntrunks = []\n', "trunk_group[0].trunks", "at least one"),
    ('[[trunk_group]]\nname = "g"\ntrunks = ["pri"]\nhunt = "random"\n',
     "trunk_group[0].hunt", "one of first, round_robin"),
    ('[[trunk_group]]\nname = "g"\ntrunks = ["pri"]\noverflow = "x"\n',
     "trunk_group[0].overflow", "no trunk or trunk group named 'x'"),
    ('[[route]]\nto = "group:nope"\n', "route[0].to", "no trunk group named 'nope'"),
])
def test_config_errors_name_the_key(tmp_path, extra, key, message):
    p = tmp_path / "g.toml"
    p.write_text(BASE + extra)
    with pytest.raises(ConfigError) as e:
        Config.load(str(p))
    assert e.value.key == key and message in str(e.value)
    lines = (BASE + extra).splitlines()
    leaf = key.rsplit(".", 1)[1]
    assert e.value.line == next(n for n, line in enumerate(lines, 1)
                                if n > BASE.count("\n") and line.startswith(leaf))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 9)), max_size=50),
       st.sampled_from(sorted(POLICIES)))
def test_never_double_booked(ops, hunt):
    trunks = [ModelTrunk("a", [1, 2, 3, 4, 5]), ModelTrunk("b", [1, 2, 3, 4, 5])]
    g = TrunkGroup("g", trunks, hunt)
    held: set[tuple[str, int]] = set()
    for seize, k in ops:
        if seize:
            if len(held) == 10:
                with pytest.raises(NoChannel):
                    place(g)
            else:
                got = place(g)
                assert got not in held
                held.add(got)
        else:
            name, ch = ("a" if k < 5 else "b"), k % 5 + 1
            if (name, ch) in held:
                trunks[0 if name == "a" else 1].free(ch)
                held.discard((name, ch))


# --- real stacks between sim boards ---------------------------------------------------------

@pytest.fixture(scope="module")
def lines():
    """pstn:1-cc:1 ISDN PRI (cc user side), pstn:2-cc:2 SS7 ISUP; the far (pstn) ends
    keep what they are offered ringing."""
    kernel = Kernel(virtual=True)
    pstn = SimBoard("pstn", spans=2)
    cc = SimBoard("cc", spans=2, system=pstn.system)
    cables = [Cable(a, b) for a, b in zip(pstn.spans, cc.spans, strict=True)]
    pstn.open()
    cc.open()
    kernel.add_ticker(pstn.system)
    for span in pstn.spans + cc.spans:
        kernel.add_span(span)
    media = MediaEngine(kernel)
    far: list[Call] = []

    def ring(call: Call) -> None:
        far.append(call)
        call.alert()

    trunks = {
        "far-pri": IsdnTrunk(kernel, "far-pri", pstn.spans[0], "network", on_offered=ring),
        "pri": IsdnTrunk(kernel, "pri", cc.spans[0], "user"),
        "far-isup": Ss7Trunk(kernel, "far-isup", pstn.spans[1], opc=1, dpc=2, on_offered=ring),
        "isup": Ss7Trunk(kernel, "isup", cc.spans[1], opc=2, dpc=1),
    }
    for _ in range(60):
        kernel.run_for(1.0)
        if all(t.link_up for t in trunks.values()):
            break
    assert all(t.in_service for t in trunks.values())
    yield kernel, trunks, far, cables, media
    kernel.close()


def timeslot(kernel: Kernel, trunk, call: Call) -> int:
    return call.slot - kernel.span_slot(trunk.span, 0)


def clear_all(kernel: Kernel, calls: list[Call], far: list[Call]) -> None:
    async def clear():
        for c in calls:
            c.drop(16)
        for c in calls:
            await c.wait(CallState.RELEASED, timeout=20)
        await asyncio.sleep(1.0)
        far.clear()

    kernel.run(clear())


def dial_many(kernel: Kernel, group: TrunkGroup, n: int) -> tuple[list[Call], list[str]]:
    """``n`` calls placed in the same instant; the failures' reasons."""
    calls, failed = [], []

    async def burst():
        for i in range(n):
            call = Call(trunk=group.trunks[0], direction="out", dnis=f"55{i:02d}",
                        clock=kernel.now)
            try:
                group.dial(call)
                calls.append(call)
            except NoChannel as e:
                failed.append(str(e))
        await asyncio.sleep(1.0)

    kernel.run(burst())
    return calls, failed


def test_preferred_channels_follow_the_policy_across_isdn_and_isup(lines):
    kernel, trunks, far, *_ = lines
    group = TrunkGroup("out", [trunks["pri"], trunks["isup"]], "last")
    calls, failed = dial_many(kernel, group, 3)
    assert failed == []
    assert [(c.trunk.name, timeslot(kernel, c.trunk, c)) for c in calls] == [
        ("isup", 31), ("isup", 30), ("isup", 29)]
    # the far end seized the same circuits (CIC = timeslot): the stack honoured them
    assert sorted(timeslot(kernel, c.trunk, c) for c in far) == [29, 30, 31]
    assert all(c.state is CallState.ALERTING for c in calls)
    clear_all(kernel, calls, far)

    group = TrunkGroup("out", [trunks["pri"], trunks["isup"]], "first")
    calls, _ = dial_many(kernel, group, 2)
    assert [(c.trunk.name, timeslot(kernel, c.trunk, c)) for c in calls] == [("pri", 1),
                                                                             ("pri", 2)]
    assert sorted(timeslot(kernel, c.trunk, c) for c in far) == [1, 2]
    clear_all(kernel, calls, far)


def test_full_group_overflows_then_cause_34_without_double_booking(lines):
    kernel, trunks, far, *_ = lines
    isup = TrunkGroup("isup-only", [trunks["isup"]], "round_robin")
    group = TrunkGroup("pri-first", [trunks["pri"]], "first", overflow=isup)
    calls, failed = dial_many(kernel, group, 62)
    assert len(calls) == 60 and len(failed) == 2 and "no channel available" in failed[0]
    assert len({(c.trunk.name, c.slot) for c in calls}) == 60  # no channel given twice
    assert len(far) == 60 and all(c.state is CallState.ALERTING for c in calls)
    assert group.counters == {"attempts": 62, "seized": 30, "overflowed": 32, "failed": 0}
    assert isup.counters == {"attempts": 32, "seized": 30, "overflowed": 0, "failed": 2}
    clear_all(kernel, calls, far)


def test_trunk_in_alarm_is_skipped(lines):
    kernel, trunks, far, cables, _ = lines
    group = TrunkGroup("out", [trunks["pri"], trunks["isup"]], "first")
    cables[0].impair("both", los=True)
    kernel.run_for(1.0)
    assert not trunks["pri"].in_service
    calls, _ = dial_many(kernel, group, 1)
    assert calls[0].trunk.name == "isup"
    cables[0].impair("both")
    clear_all(kernel, calls, far)
    for _ in range(30):
        kernel.run_for(1.0)
        if trunks["pri"].in_service:
            break
    assert trunks["pri"].in_service


def test_both_ends_seizing_at_once_meet_no_glare(lines):
    """Our group hunts ``last`` while the far end (Q.931 network side) hunts from the
    lowest B-channel: ten calls each way in the same instant, none lost to glare."""
    kernel, trunks, far, *_ = lines
    group = TrunkGroup("out", [trunks["pri"]], "last")
    ours: list[Call] = []
    theirs: list[Call] = []

    async def burst():
        for i in range(10):
            c = Call(trunk=trunks["pri"], direction="out", dnis=f"7{i}", clock=kernel.now)
            group.dial(c)
            ours.append(c)
            t = Call(trunk=trunks["far-pri"], direction="out", dnis=f"8{i}", clock=kernel.now)
            t.dial()
            theirs.append(t)
        await asyncio.sleep(1.5)

    offered: list[Call] = []
    trunks["pri"].on_offered = lambda call: (offered.append(call), call.alert())
    kernel.run(burst())
    assert len(offered) == 10 and len(far) == 10
    assert all(c.state is CallState.ALERTING for c in ours + theirs)
    assert sorted(timeslot(kernel, trunks["pri"], c) for c in ours) == list(range(22, 32))
    assert sorted(timeslot(kernel, trunks["pri"], c) for c in offered) == list(range(1, 11))
    clear_all(kernel, ours + theirs, far)


def test_dial_plan_group_route_tandems_and_clears_with_cause_34(lines, tmp_path):
    kernel, trunks, far, cables, media = lines
    cdr = CdrWriter(str(tmp_path / "cdr.csv"))
    groups = {"out": TrunkGroup("out", [trunks["pri"]], "last")}
    centre = CallCentre(kernel, media, DialPlan([Route.parse("^6", ".*", "group:out")]), {},
                        cdr, trunks=trunks, groups=groups)
    trunks["isup"].on_offered = centre.incoming

    async def call(dnis: str) -> Call:
        c = Call(trunk=trunks["far-isup"], direction="out", dnis=dnis, ani="0101",
                 clock=kernel.now)
        c.dial()
        await asyncio.sleep(1.0)
        return c

    async def through():
        c = await call("6001")
        leg = far[-1]
        assert leg.dnis == "6001" and timeslot(kernel, trunks["far-pri"], leg) == 31
        leg.answer()
        assert await c.wait(CallState.CONNECTED, timeout=5) is CallState.CONNECTED
        leg.drop(16)
        await c.wait(CallState.RELEASED, timeout=20)
        return c

    first = kernel.run(through())
    assert first.cause == 16 and groups["out"].counters["seized"] == 1
    cables[0].impair("both", los=True)
    kernel.run_for(1.0)

    async def refused():
        c = await call("6002")
        await c.wait(CallState.RELEASED, timeout=20)
        return c

    second = kernel.run(refused())
    assert second.cause == 34 and groups["out"].counters["failed"] == 1
    cables[0].impair("both")
    for _ in range(30):
        kernel.run_for(1.0)
        if trunks["pri"].in_service:
            break
    trunks["isup"].on_offered = lambda c: c.reject(21)
    far.clear()
    cdr.close()
    outcomes = (tmp_path / "cdr.csv").read_text().splitlines()
    assert len(outcomes) == 3 and ",answered," in outcomes[1] and ",failed,34," in outcomes[2]


def test_r2_circuits_follow_the_policy():
    """MFC-R2 (China No.1) over a CAS span: the group's round robin continues after the
    last seized circuit, and the far end is offered exactly those timeslots."""
    from cti.trunks.r2 import R2Trunk
    from tests.kernel_rig import back_to_back

    rig = back_to_back(cas=True)
    kernel = rig.kernel
    fwd = R2Trunk(kernel, "pstn", rig.pstn, variant="cn", master=True)
    R2Trunk(kernel, "cc", rig.cc, variant="cn", master=False, on_offered=rig.offered.append)
    kernel.run_for(1.0)
    group = TrunkGroup("r2", [fwd], "round_robin")
    group.last = (0, 20)
    try:
        calls, failed = dial_many(kernel, group, 3)
        kernel.run_for(15.0)  # seizure, the compelled register cycles (DNIS and ANI)
        assert failed == [] and [timeslot(kernel, fwd, c) for c in calls] == [21, 22, 23]
        assert sorted(c.slot - kernel.span_slot(rig.cc, 0) for c in rig.offered) == [21, 22, 23]
        assert [c.dnis[:2] for c in rig.offered] == ["55"] * 3
    finally:
        kernel.close()


def test_runtime_builds_configured_and_one_trunk_groups(tmp_path):
    import os

    from cti.api import ApiServer
    from cti.runtime import Runtime, register_views

    example = os.path.join(os.path.dirname(__file__), "..", "examples", "lab-sim.toml")
    cfg = Config.load(example)
    cfg.data["crm"]["path"] = str(tmp_path / "crm.db")
    cfg.data["trunk"][1]["overflow"] = "cc-out"  # cc-pri's own group overflows to cc-out
    rt = Runtime(cfg, virtual=True)
    try:
        g = rt.groups["cc-out"]
        assert (g.hunt, [t.name for t in g.trunks]) == ("last", ["cc-pri", "cc-isup", "cc-r2"])
        assert rt.groups["cc-pri"].trunks == [rt.trunks["cc-pri"]]
        assert rt.groups["cc-pri"].overflow is g
        assert rt.centre.groups is rt.groups
        api = ApiServer()
        register_views(api, rt.kernel, rt.centre, rt.spans, rt.trunks, rt.agents)
        view = api.ops["groups"][0]()
        assert view["cc-out"]["counters"] == {"attempts": 0, "seized": 0, "overflowed": 0,
                                              "failed": 0}
        assert view["cc-out"]["hunt"] == "last" and view["cc-pri"]["overflow"] == "cc-out"
    finally:
        rt.close()
