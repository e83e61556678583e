"""ISUP simple segmentation (Q.764 2.1.12; Q.763 2.38 SGM, 3.37/3.38 simple segmentation
indicator): sending a message too long for one MSU as message + SGM, reassembly with T34."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from isup_rig import isup_pair

from core.errors import EncodeError
from ss7 import isup_codec as C
from ss7.isup import IsupListener
from ss7.timers import ISUP_TIMERS

UUI = b"\x04" + b"U" * 128  # user-to-user information: IA5 protocol discriminator + 128 octets
ACCESS = (b"\x28\x50" + b"D" * 0x50) * 2  # access transport: two Q.931 display elements


class Rec(IsupListener):
    def __init__(self, clock):
        self.clock = clock
        self.setups: list[tuple[float, dict]] = []
        self.alerting: list[float] = []
        self.releases: list[int] = []

    def on_setup(self, call):
        self.setups.append((self.clock.time(), dict(call.setup_params)))

    def on_alerting(self, call):
        self.alerting.append(self.clock.time())

    def on_release(self, call, cause):
        self.releases.append(cause)


def nodes(clock, variant="itu"):
    ra, rb = Rec(clock), Rec(clock)
    a, b, sent = isup_pair(clock, ra, rb, 8, tapped="a", variant=variant)
    return a, b, ra, rb, sent


def iam_params(**optional):
    return {"nature_of_connection": C.nature_of_connection(), "forward_call": C.forward_call(),
            "calling_category": 10, "transmission_medium_requirement": 0,
            "called": C.called_party("1234F"), **optional}


@pytest.mark.parametrize("variant,label", [("itu", 4), ("china", 7)])
def test_long_iam_goes_as_iam_and_sgm_and_is_reassembled(clock, variant, label):
    a, b, ra, rb, sent = nodes(clock, variant)
    a.isup.setup(2, "1234", "5678", optional={"user_to_user": UUI, "access_transport": ACCESS})
    clock.advance(0.05)
    assert [d[2] for d in sent] == [0x01, 0x38]  # IAM then SGM, nothing between
    assert all(len(d) <= 272 - label for d in sent)  # SIF = label + ISUP part <= 272 octets
    iam, sgm = C.decode(sent[0]), C.decode(sent[1])
    assert iam["params"]["optional_forward_call"]["simple_segmentation"] == 1
    assert iam["params"]["user_to_user"] == UUI and "access_transport" not in iam["params"]
    assert sgm["params"] == {"access_transport": ACCESS}
    (_, params), = rb.setups  # B processed one IAM with every parameter
    assert params["user_to_user"] == UUI and params["access_transport"] == ACCESS
    assert b.isup.counters["t34_expired"] == 0 and a.isup.counters["segmented"] == 1


def test_a_message_that_fits_is_not_segmented(clock):
    a, b, ra, rb, sent = nodes(clock)
    a.isup.setup(2, "1234", optional={"user_to_user": UUI})
    clock.advance(0.05)
    assert [d[2] for d in sent] == [0x01]
    assert "optional_forward_call" not in C.decode(sent[0])["params"]


def test_without_sgm_the_held_message_is_processed_alone_after_t34(clock):
    a, b, ra, rb, sent = nodes(clock)
    head, _sgm = C.segment("IAM", 3, iam_params(user_to_user=UUI, access_transport=ACCESS), 268)
    t0 = clock.time()
    b.isup.mtp_transfer(1, 2, 3, head)
    clock.advance(ISUP_TIMERS.values["T34"] - 0.01)
    assert rb.setups == []  # held while T34 runs
    clock.advance(0.02)
    (t, params), = rb.setups
    assert t == pytest.approx(t0 + ISUP_TIMERS.values["T34"])
    assert "access_transport" not in params and b.isup.counters["t34_expired"] == 1
    b.isup.mtp_transfer(1, 2, 3, _sgm)  # too late: discarded
    assert b.isup.counters["sgm_discarded"] == 1


def test_an_sgm_nobody_waits_for_is_discarded(clock):
    a, b, ra, rb, sent = nodes(clock)
    b.isup.mtp_transfer(1, 2, 4, C.encode("SGM", 4, {"user_to_user": UUI}))
    clock.advance(1)
    assert b.isup.counters["sgm_discarded"] == 1 and b.isup.circuit(1, 4).state == "IDLE"


def test_another_message_while_holding_lets_the_held_one_go_first(clock):
    a, b, ra, rb, sent = nodes(clock)
    head, _ = C.segment("IAM", 5, iam_params(user_to_user=UUI, access_transport=ACCESS), 268)
    b.isup.mtp_transfer(1, 2, 5, head)
    b.isup.mtp_transfer(1, 2, 5, C.encode("REL", 5, {"cause": C.cause(31)}))
    assert len(rb.setups) == 1 and rb.releases == [31]  # IAM processed, then REL
    assert b.isup.circuit(1, 5).state == "IDLE"
    assert not b.isup._reassembly.waiting(b.isup.circuit(1, 5))


def test_segmented_backward_messages_acm_and_anm(clock):
    a, b, ra, rb, sent = nodes(clock)
    call = b.isup.setup(1, "777")  # B calls A, A answers with a long ACM and ANM
    clock.advance(0.05)
    incoming = a.isup.circuit(2, call.cic)
    long = {"user_to_user": UUI, "access_transport": ACCESS, "generic_number": b"\x00" * 40}
    incoming.accept(long)
    clock.advance(0.05)
    assert [d[2] for d in sent[-2:]] == [0x06, 0x38]
    acm = C.decode(sent[-2])["params"]
    assert acm["optional_backward_call"]["simple_segmentation"] == 1
    assert call.state == "OUT_WAIT_ANM" and len(rb.alerting) == 1
    incoming.answer({"user_to_user": UUI, "access_transport": ACCESS})
    clock.advance(0.05)
    assert [d[2] for d in sent[-2:]] == [0x09, 0x38] and call.state == "ANSWERED"


def test_overlength_messages_that_cannot_be_segmented_raise(clock):
    a, *_ = nodes(clock)
    with pytest.raises(EncodeError, match="cannot be segmented"):  # REL is not segmented
        a.isup.send(2, 1, "REL", {"cause": C.cause(16, diagnostic=b"x" * 250),
                                  "user_to_user": UUI})
    with pytest.raises(EncodeError, match="even without"):  # too long without SGM parameters
        a.isup.send(2, 1, "CPG", {"event": {"event": 1, "restricted": 0},
                                  "redirection_number": C.called_party("1" * 200),
                                  "call_reference": b"r" * 200, "user_to_user": UUI})


_SGM_VALUE = st.binary(min_size=0, max_size=200)


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({}, optional={n: _SGM_VALUE for n in C.SGM_PARAMS}),
       st.sampled_from(sorted(C.SEGMENTING_INDICATOR)), st.integers(200, 268))
def test_segment_is_lossless_or_a_typed_error(extra, message, limit):
    base = {"IAM": iam_params(), "ACM": {"backward_call": C.backward_call()},
            "CON": {"backward_call": C.backward_call()}, "ANM": {},
            "CPG": {"event": {"event": 2, "restricted": 0}}}[message]
    params = {**base, **extra}
    try:
        parts = C.segment(message, 9, params, limit)
    except EncodeError:
        assert len(C.encode(message, 9, params)) > limit
        return
    assert all(len(p) <= limit for p in parts)
    msgs = [C.decode(p) for p in parts]
    whole = msgs[0]["params"]
    if len(parts) == 2:
        assert C.announces_segment(msgs[0]) and msgs[1]["message"] == "SGM"
        assert not set(whole) & set(msgs[1]["params"])
        whole = {**whole, **msgs[1]["params"]}
        del whole[C.SEGMENTING_INDICATOR[message]]
    else:
        assert not C.announces_segment(msgs[0])
    assert whole == C.decode(C.encode(message, 9, params))["params"]


_HEAD = C.segment("IAM", 2, iam_params(user_to_user=UUI, access_transport=ACCESS), 268)
_STEPS = {"head": _HEAD[0], "sgm": _HEAD[1],
          "rel": C.encode("REL", 2, {"cause": C.cause(16)}), "rlc": C.encode("RLC", 2, {}),
          "acm": C.encode("ACM", 2, {"backward_call": C.backward_call(),
                                     "optional_backward_call": {"inband": 0, "diversion": 0,
                                                                "simple_segmentation": 1,
                                                                "mlpp_user": 0, "national": 0}})}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(_STEPS)), st.sampled_from([0.0, 0.5, 4.0])),
                max_size=12))
def test_any_order_of_segments_and_messages_is_handled(steps):
    from core.clock import VirtualClock
    clock = VirtualClock()
    a, b, ra, rb, sent = nodes(clock)
    circuit = b.isup.circuit(1, 2)
    for name, wait in steps:
        b.isup.mtp_transfer(1, 2, 2, _STEPS[name])
        held = b.isup._reassembly.waiting(circuit)
        assert not held or name in ("head", "acm")
        if held and wait == 0.0:
            circuit.local_reset()  # stops every timer of the circuit, not T34
        clock.advance(wait)
    clock.advance(ISUP_TIMERS.values["T34"])
    assert not b.isup._reassembly.waiting(circuit)
