"""ISUP signalling congestion control (Q.764 2.10: steps, T29, T30) and automatic congestion
control (Q.764 2.11: automatic congestion level in REL, Q.763 3.4) on the virtual clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from isup_rig import isup_pair

from core.clock import VirtualClock
from ss7 import isup_codec as C
from ss7.isup import Congested, IsupListener, NoCircuit
from ss7.isup_congestion import ACC_SHARE, REDUCTION_STEPS, TrafficControl
from ss7.mtp3_codec import SI_SNM, encode_snm
from ss7.timers import ISUP_TIMERS

CONGESTION = "signalling network congestion"


class Rec(IsupListener):
    def __init__(self, clock, answer=True):
        self.clock, self.answer = clock, answer
        self.traffic: list[tuple[float, int, int, int]] = []
        self.releases: list[int] = []

    def on_setup(self, call):
        if self.answer:
            call.accept()
            call.answer()

    def on_release(self, call, cause):
        self.releases.append(cause)

    def on_traffic_control(self, dpc, step, acc_level):
        self.traffic.append((round(self.clock.time(), 3), dpc, step, acc_level))


def nodes(clock):
    ra, rb = Rec(clock), Rec(clock)
    a, b, sent = isup_pair(clock, ra, rb, 30, tapped="b")
    return a, b, ra, rb, sent


def attempts(isup, n):
    """Try ``n`` new calls toward 2; True for each admitted (then released at once)."""
    out = []
    for _ in range(n):
        try:
            call = isup.setup(2, "123", "456")
        except Congested as e:
            assert e.cause == 42 and e.dpc == 2 and isinstance(e, NoCircuit)
            out.append(False)
            continue
        out.append(True)
        call.release()
    return out


def test_tfc_reduces_new_calls_by_one_step(clock):
    a, b, ra, rb, _ = nodes(clock)
    ls = b.mtp3.linksets[1]
    ls.send_mgmt(ls.links[0], SI_SNM, encode_snm(b.mtp3.variant, "TFC", dest=2))
    clock.advance(0.01)
    ctl = a.isup.controls[2]
    assert (ctl.state, ctl.step, ctl.share) == ("IGNORING", 1, REDUCTION_STEPS[1])
    assert ra.traffic[-1][1:] == (2, 1, 0)
    admitted = attempts(a.isup, 8)
    assert admitted.count(True) == round(8 * REDUCTION_STEPS[1])  # 6 of 8 at step 1
    assert ctl.timers.running("T29") and ctl.timers.running("T30")
    assert a.status()["isup_traffic"] == [{"dpc": 2, "state": "IGNORING", "step": 1,
                                            "acc_level": 0, "share": REDUCTION_STEPS[1]}]


def test_t29_ignores_indications_then_the_next_one_reduces_again(clock):
    a, *_ = nodes(clock)
    t0 = clock.time()
    a.isup.mtp_status(2, CONGESTION)
    clock.advance(0.2)
    a.isup.mtp_status(2, CONGESTION)  # within T29 (450 ms): ignored
    ctl = a.isup.controls[2]
    assert ctl.step == 1
    clock.run_until(t0 + ISUP_TIMERS.values["T29"] + 0.01)
    assert ctl.state == "REDUCED"
    a.isup.mtp_status(2, "congested")  # local link congestion counts as well
    assert (ctl.state, ctl.step) == ("IGNORING", 2)


def test_t30_restores_one_step_at_a_time(clock):
    a, b, ra, *_ = nodes(clock)
    t29, t30 = ISUP_TIMERS.values["T29"], ISUP_TIMERS.values["T30"]
    t0 = clock.time()
    for k in range(3):  # three indications, each just after T29: step 3
        clock.run_until(t0 + k * (t29 + 0.05))
        a.isup.mtp_status(2, CONGESTION)
    last = clock.time()
    ctl = a.isup.controls[2]
    assert ctl.step == 3
    clock.advance(3 * t30 + 1)
    steps = [(round(t - last, 2), s) for t, _, s, _ in ra.traffic if t > last]
    assert steps == [(t30, 2), (2 * t30, 1), (3 * t30, 0)]
    assert ctl.state == "FULL" and not ctl.timers.running("T30")
    assert attempts(a.isup, 4) == [True] * 4


def test_maximum_reduction_is_the_last_step(clock):
    a, *_ = nodes(clock)
    for _ in range(2 * len(REDUCTION_STEPS)):
        a.isup.mtp_status(2, CONGESTION)
        clock.advance(ISUP_TIMERS.values["T29"] + 0.01)
    ctl = a.isup.controls[2]
    assert ctl.step == len(REDUCTION_STEPS) - 1
    assert attempts(a.isup, 20).count(True) == round(20 * REDUCTION_STEPS[-1])


def test_calls_in_progress_are_not_touched(clock):
    a, b, ra, rb, _ = nodes(clock)
    call = a.isup.setup(2, "123", "456")
    clock.advance(0.05)
    for _ in range(len(REDUCTION_STEPS)):
        a.isup.mtp_status(2, CONGESTION)
        clock.advance(ISUP_TIMERS.values["T29"] + 0.01)
    assert call.state == "ANSWERED"
    call.release()
    clock.advance(0.05)
    assert call.state == "IDLE" and rb.releases == [16]


def test_other_destinations_and_causes_are_not_reduced(clock):
    a, *_ = nodes(clock)
    a.isup.mtp_status(7, CONGESTION)
    a.isup.mtp_status(2, "user part 3 unavailable")
    assert 2 not in a.isup.controls and a.isup.status[2] == "user part 3 unavailable"
    assert attempts(a.isup, 3) == [True] * 3


# Automatic congestion control (Q.764 2.11) ----------------------------------------------------
def rel_params(sent):
    return [C.decode(d)["params"] for d in sent if d[2] == 0x0C]


def test_overloaded_exchange_puts_its_level_in_every_rel(clock):
    a, b, ra, rb, sent = nodes(clock)
    b.isup.set_overload(1)
    b.isup.setup(1, "99").release(42)
    clock.advance(0.05)
    b.isup.set_overload(0)
    b.isup.setup(1, "98").release(16)
    clock.advance(0.05)
    rels = rel_params(sent)
    assert rels[0]["automatic_congestion_level"] == 1  # Q.763 3.4: level 1 exceeded
    assert "automatic_congestion_level" not in rels[1]
    raw = next(d for d in sent if d[2] == 0x0C)
    assert bytes((0x27, 1, 1)) in raw  # parameter 0x27, length 1, level 1
    with pytest.raises(ValueError):
        b.isup.set_overload(3)


def test_rel_with_acl_reduces_traffic_toward_that_exchange_until_t_acc(clock):
    a, b, ra, rb, sent = nodes(clock)
    rb.answer = False
    b.isup.set_overload(2)
    call = a.isup.setup(2, "123")
    clock.advance(0.05)
    b.isup.circuit(1, call.cic).release(42)  # the overloaded exchange refuses the call
    clock.advance(0.05)
    ctl = a.isup.controls[2]
    assert (ctl.acc_level, ctl.share) == (2, ACC_SHARE[2]) and ra.releases == [42]
    admitted = attempts(a.isup, 8)
    assert admitted.count(True) == round(8 * ACC_SHARE[2])
    clock.advance(ISUP_TIMERS.values["T_acc"])
    assert ctl.acc_level == 0 and ra.traffic[-1][1:] == (2, 0, 0)
    assert attempts(a.isup, 4) == [True] * 4


def test_the_stronger_of_both_reductions_applies(clock):
    a, *_ = nodes(clock)
    a.isup.mtp_status(2, CONGESTION)
    ctl = a.isup.controls[2]
    ctl.acc(1)
    assert ctl.share == min(REDUCTION_STEPS[1], ACC_SHARE[1])
    ctl.acc(7)  # a level this exchange does not know: taken as the strongest known
    assert ctl.acc_level == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0.0, 12.0)), max_size=30))
def test_any_indication_pattern_keeps_the_machine_consistent(events):
    clock = VirtualClock()
    seen = []
    ctl = TrafficControl(2, ISUP_TIMERS, clock, lambda *a: seen.append(a))
    for congestion, wait in events:
        if congestion:
            before = (ctl.state, ctl.step)
            ctl.congestion()
            if before[0] == "IGNORING":
                assert ctl.step == before[1]
        clock.advance(wait)
        assert 0 <= ctl.step < len(REDUCTION_STEPS)
        assert (ctl.state == "FULL") == (ctl.step == 0)
        assert ctl.timers.running("T30") == (ctl.step > 0)
    clock.advance(len(REDUCTION_STEPS) * ISUP_TIMERS.values["T30"] + 1)
    assert (ctl.state, ctl.step) == ("FULL", 0)
    assert all(abs(x[1] - y[1]) == 1 for x, y in zip(seen, seen[1:], strict=False))


def test_ss7_trunk_refuses_a_congested_call_with_cause_42():
    """Through the kernel: a call not admitted reaches the application as DialError 42, at
    once (no retry on another circuit, which would double the admitted share)."""
    from cti.calls import Call, DialError
    from cti.trunks.ss7 import Ss7Trunk
    from tests.kernel_rig import back_to_back

    rig = back_to_back()
    kernel = rig.kernel
    try:
        pstn = Ss7Trunk(kernel, "pstn", rig.pstn, opc=1, dpc=2)
        cc = Ss7Trunk(kernel, "cc", rig.cc, opc=2, dpc=1, on_offered=rig.offered.append)
        for _ in range(60):
            kernel.run_for(1.0)
            if pstn.link_up and cc.link_up:
                break
        pstn.node.isup.control(2).acc(2)  # as after a REL with ACL 2: a quarter admitted
        causes = []
        for n in range(4):
            call = Call(trunk=pstn, direction="out", dnis=f"400{n}", clock=kernel.now)
            channel = 3 + n  # a requested channel too: still refused, not retried elsewhere
            call.data["channel"] = channel
            try:
                call.dial()
                causes.append(None)
            except DialError as e:
                causes.append(e.cause)
        assert causes == [42, 42, 42, None]
    finally:
        kernel.close()
