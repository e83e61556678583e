"""Name identification in the Facility element (isdn.facility): the BER subset against
ECMA-164 / ECMA-165 encodings, round trips, arbitrary octets, and names carried end to
end by our own QSIG and NI-2 stacks (tshark reads them)."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from isdn_peer.helpers import Recorder, q931_sent, tap

from core.clock import VirtualClock
from isdn import facility as fac
from isdn import ie as ies
from isdn import q931_codec
from isdn.stack import memory_pair

# ECMA-164 callingName "Alice" with the ECMA-165 header libpri's QSIG writes: profile 0x9F,
# NFE endPINX -> endPINX, interpretation discardAnyUnrecognisedInvokePdu, invoke id 1
QSIG_ALICE = bytes.fromhex("9faa06800100820100 8b0100 a10d020101020100800541 6c696365"
                           .replace(" ", ""))
# libpri NI-2 InformationFollowing (OID 1.2.840.10005.0.4, argument ENUMERATED 0)
NI2_INFO_FOLLOWING = bytes.fromhex("9f8b0100a10f02010106072a8648ce1500040a0100")


def test_qsig_calling_name_bytes():
    assert fac.name_facility("qsig", "callingName", fac.Name("Alice"), 1) == QSIG_ALICE
    apdus = fac.decode(QSIG_ALICE)
    assert (apdus.profile, apdus.nfe, apdus.interpretation) == (fac.EXTENSIONS, (0, 0), 0)
    assert apdus.components == [fac.Component("invoke", 1, 0, name=fac.Name("Alice"))]


def test_ni2_has_no_network_facility_extension():
    data = fac.name_facility("ni2", "connectedName", fac.Name("Bob"), 5)
    assert data == bytes.fromhex("9f8b0100a10b020105020102800342 6f62".replace(" ", ""))


def test_global_operation_value_and_its_argument():
    apdus = fac.decode(NI2_INFO_FOLLOWING)
    (c,) = apdus.components
    assert c.operation == (1, 2, 840, 10005, 0, 4) and c.argument == b"\x0a\x01\x00"
    assert fac.encode(apdus) == NI2_INFO_FOLLOWING


@pytest.mark.parametrize("name,octets", [
    (fac.Name("Ann", "restricted"), "820341 6e6e"),
    (fac.Name("", "not_available"), "8400"),
    (fac.Name("", "restricted_null"), "8700"),
    (fac.Name("Zoë", "allowed", 9), "a1 09 04 04 5a 6f c3 ab 02 01 09"),
    (fac.Name("Zoë", "allowed", 8), "a1 0b 04 06 005a 006f 00eb 02 01 08"),  # BmpString
    (fac.Name("Ann", "restricted", 1), "a3 08 04 03 41 6e 6e 02 01 01"),
])
def test_name_choices(name, octets):
    """ECMA-164 Name: [0] / [2] simple, [1] / [3] NameSet with a character set, [4], [7]."""
    assert fac.encode_name(name) == bytes.fromhex(octets.replace(" ", ""))
    assert fac.decode_name(fac.encode_name(name)) == name


def test_name_argument_as_a_sequence_with_extensions():
    arg = bytes.fromhex("300b 800341 6e6e a004 0202 0101".replace(" ", ""))
    assert fac.decode_name(arg) == fac.Name("Ann")


def test_name_length_bounds():
    fac.encode_name(fac.Name("x" * 50))
    with pytest.raises(fac.EncodeError):
        fac.encode_name(fac.Name("x" * 51))
    with pytest.raises(fac.EncodeError):
        fac.encode_name(fac.Name(""))


@pytest.mark.parametrize("octets,field", [
    ("", "profile"), ("11", "profile"), ("9e a1 03 020101", "profile"),
    ("91", "component"), ("91 a1 05 020101", "component"),
    ("91 a1 03 020101", "operation"), ("91 a1 06 020101 020100", "name"),
    ("91 a1 08 020101 020100 8000", "nameData"), ("91 30 00", "component"),
    ("9f aa 03 800100 a1 03 020101", "nfe"), ("91 a1 83 000000", "component"),
    ("91 bf 00", "component"), ("91 a4 03 020101", "problem"),
])
def test_typed_errors_name_their_field(octets, field):
    with pytest.raises(fac.FacilityDecodeError) as err:
        fac.decode(bytes.fromhex(octets.replace(" ", "")))
    assert err.value.field == field and err.value.offset is not None


_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), min_size=1,
                max_size=50)
_NAMES = st.one_of(
    st.builds(fac.Name, _TEXT, st.sampled_from(["allowed", "restricted"]),
              st.sampled_from([None, 1])),
    st.builds(fac.Name, st.text(min_size=1, max_size=12), st.sampled_from(["allowed"]),
              st.just(9)),
    st.builds(fac.Name, st.just(""), st.sampled_from(["not_available", "restricted_null"])))
_IDS = st.integers(-(1 << 31), (1 << 31) - 1)
_OIDS = st.builds(lambda a, b, rest: (a, b, *rest), st.integers(0, 1), st.integers(0, 39),
                  st.lists(st.integers(0, 1 << 28), max_size=5))
_OTHER_OPS = st.one_of(st.integers(4, 1 << 20), st.integers(-100, -1), _OIDS)
_ARGS = st.sampled_from([b"", b"\x0a\x01\x00", b"\x30\x03\x02\x01\x07"])
_COMPONENTS = st.one_of(
    st.builds(fac.Component, st.just("invoke"), _IDS, st.integers(0, 3),
              st.one_of(st.none(), _IDS), _NAMES),
    st.builds(fac.Component, st.just("invoke"), _IDS, _OTHER_OPS, st.one_of(st.none(), _IDS),
              st.none(), _ARGS),
    st.builds(fac.Component, st.just("result"), _IDS, st.one_of(st.none(), _OTHER_OPS)),
    st.builds(fac.Component, st.just("error"), _IDS, _OTHER_OPS, argument=_ARGS),
    st.builds(fac.Component, st.just("reject"), st.one_of(st.none(), _IDS),
              argument=st.sampled_from([b"\x80\x01\x00", b"\x82\x01\x01"])))
_APDUS = st.one_of(
    st.builds(fac.Apdus, st.just(fac.ROSE), components=st.lists(_COMPONENTS, min_size=1,
                                                               max_size=3)),
    st.builds(fac.Apdus, st.just(fac.EXTENSIONS),
              st.one_of(st.none(), st.tuples(st.integers(0, 1), st.integers(0, 1))),
              st.one_of(st.none(), st.integers(0, 30)), st.one_of(st.none(), st.integers(0, 2)),
              st.lists(_COMPONENTS, min_size=1, max_size=3)))


@settings(max_examples=300)
@given(_APDUS)
def test_round_trip(apdus):
    assert fac.decode(fac.encode(apdus)) == apdus


@settings(max_examples=500)
@given(st.one_of(st.binary(max_size=40),
                 st.builds(lambda body: b"\x9f" + body, st.binary(max_size=40)),
                 st.builds(lambda body: b"\x91\xa1" + bytes((len(body),)) + body,
                           st.binary(max_size=30))))
def test_arbitrary_octets_decode_or_raise_a_typed_error(data):
    try:
        fac.decode(data)
    except fac.FacilityDecodeError as e:
        assert e.field and e.offset is not None


# ---- names carried by our own stacks ------------------------------------------------------


def _call(variant, calling_name, answer_name, trace=None):
    clock = VirtualClock()
    net, user = memory_pair(clock, variant=variant)
    if trace:
        net.trace_to(trace)
    clock.advance(1.0)
    offered = []

    def on_user(ev):
        if ev.kind == "offered":
            offered.append(ev)
            ev.call.alert(name=answer_name and answer_name + "by")
            ev.call.answer(name=answer_name)
    user.cc.on_event = on_user
    call = net.place_call("4000", "1234", calling_name=calling_name)
    clock.advance(1.0)
    if trace:
        net.tracer.close()
    return call, offered[0]


@pytest.mark.parametrize("variant", ["qsig", "ni2"])
def test_names_back_to_back(variant):
    call, offered = _call(variant, "Alice", "Bob")
    assert offered.call.calling_name == "Alice"
    assert offered.detail["names"] == {"callingName": fac.Name("Alice")}
    assert call.role == "ACTIVE" and call.connected_name == "Bob"
    assert call.called_name == "Bobby"
    facility_ies = [e for e in call.setup.ies if e.name == "facility"]
    assert fac.decode(facility_ies[0].value["data"]).nfe == ((0, 0) if variant == "qsig"
                                                             else None)


def test_etsi_carries_no_name_operation():
    call, offered = _call("etsi", "Alice", "Bob")
    assert call.setup.ie("facility") is None and offered.call.calling_name is None
    assert call.connected_name is None


def test_restricted_name_is_not_the_call_field():
    clock = VirtualClock()
    net, user = memory_pair(clock, variant="qsig")
    clock.advance(1.0)
    seen = []
    user.cc.on_event = lambda ev: seen.append(ev)
    data = fac.name_facility("qsig", "callingName", fac.Name("Secret", "restricted"), 1)
    net.place_call("4000", extra=[ies.make("facility", data=data)])
    clock.advance(0.1)
    offered = next(ev for ev in seen if ev.kind == "offered")
    assert offered.call.calling_name is None
    assert offered.detail["names"]["callingName"].presentation == "restricted"


def test_a_name_too_long_is_refused_before_anything_is_seized():
    clock = VirtualClock()
    net, _ = memory_pair(clock, variant="qsig")
    with pytest.raises(fac.EncodeError):
        net.place_call("4000", calling_name="x" * 51)
    assert net.cc.calls == {} and set(net.cc.channels.snapshot().values()) == {"idle"}


def _tshark_names(pcap: str) -> set[str]:
    """tshark reads the trace cleanly; its (message type|name operation|allowed name)
    rows."""
    from conftest import need_program
    tshark = need_program("tshark")
    out = subprocess.run([tshark, "-r", pcap, "-V"], capture_output=True, text=True,
                         check=True).stdout
    assert "Malformed" not in out and "Expert Info" not in out
    return set(subprocess.run([tshark, "-r", pcap, "-T", "fields", "-E", "separator=|",
                               "-e", "q931.message_type", "-e", "qsig.operation",
                               "-e", "qsig.na.namePresentationAllowedSimple"],
                              capture_output=True, text=True, check=True).stdout.splitlines())


@pytest.mark.parametrize("variant", ["qsig", "ni2"])
def test_tshark_decodes_our_name_operations(variant, tmp_path):
    pcap = str(tmp_path / "names.pcap")
    _call(variant, "Alice", "Bob", trace=pcap)
    rows = _tshark_names(pcap)
    assert {"0x05|0|Alice", "0x01|1|Bobby", "0x07|2|Bob"} <= rows  # SETUP, ALERTING,
    # CONNECT


def test_cti_decode_shows_the_names():
    from isdn.decode import decode_q931
    setup = "080200010504038090a3" "1c1b" + QSIG_ALICE.hex()
    rec = decode_q931(bytes.fromhex(setup))[0]
    assert rec["fields"]["names"] == {"callingName": {"text": "Alice",
                                                      "presentation": "allowed"}}


# ---- unrecognised invokes (Q.932 8.2.2, ECMA-165 8.2.2) ----------------------------------

_UNKNOWN = fac.Component("invoke", 7, 99, argument=b"\x0a\x01\x00")


@pytest.mark.parametrize("interpretation,answer,clear", [
    (None, "reject", False), (fac.REJECT, "reject", False), (fac.DISCARD, None, False),
    (fac.CLEAR_CALL, None, True)])
def test_screen_follows_the_interpretation_apdu(interpretation, answer, clear):
    data = fac.encode(fac.Apdus(fac.EXTENSIONS, (0, 1), None, interpretation, [_UNKNOWN]))
    screening = fac.screen([data], frozenset(fac.OPERATIONS), {})
    assert screening.clear is clear
    if answer is None:
        assert screening.replies == []
        return
    (reply,) = screening.replies
    apdus = fac.decode(reply)
    assert apdus.nfe == (1, 0) and apdus.interpretation is None  # back to the sender
    assert apdus.components == [fac.Component("reject", 7, argument=b"\x81\x01\x01")]


def test_screen_leaves_recognised_invokes_alone():
    assert fac.screen([QSIG_ALICE], frozenset(fac.OPERATIONS), {}) == fac.Screening()


def _offer(variant, facility_data):
    """The network offers a call whose SETUP carries ``facility_data``; (its call, its
    events, the user stack, the frames the user stack sent)."""
    clock = VirtualClock()
    net, user = memory_pair(clock, variant=variant)
    clock.advance(1.0)
    seen = []
    net.cc.on_event = seen.append
    sent = tap(user)
    call = net.place_call("4000", channel=1, extra=[ies.make("facility", data=facility_data)])
    clock.advance(0.1)
    return call, seen, user, sent


def test_unrecognised_invoke_is_rejected_in_facility():
    data = fac.encode(fac.Apdus(fac.EXTENSIONS, (0, 0), None, fac.REJECT, [_UNKNOWN]))
    call, seen, user, _ = _offer("qsig", data)
    facility = [ev for ev in seen if ev.kind == "facility"]
    assert len(facility) == 1 and user.calls[0].role == "IN_PRESENT"
    (comp,) = fac.decode(facility[0].message.ie("facility").value["data"]).components
    assert (comp.kind, comp.invoke_id, comp.argument) == ("reject", 7, b"\x81\x01\x01")


def test_clear_call_interpretation_clears_the_offered_call():
    data = fac.encode(fac.Apdus(fac.EXTENSIONS, (0, 0), None, fac.CLEAR_CALL, [_UNKNOWN]))
    call, seen, user, _ = _offer("qsig", data)
    assert [(ev.kind, ev.cause) for ev in seen] == [("released", fac.CLEAR_CAUSE)]
    assert user.cc.calls == {} and call.role == "NULL"


def test_a_variant_without_names_rejects_a_name_invoke():
    """Remote operations profile: no Interpretation APDU, unrecognised invokes rejected;
    an ETSI stack implements no operation (and QSIG_ALICE's discard would be obeyed)."""
    assert fac.screen([QSIG_ALICE], frozenset(), {}) == fac.Screening()
    rose = fac.encode(fac.Apdus(fac.ROSE, components=[
        fac.Component("invoke", 1, 0, name=fac.Name("Alice"))]))
    call, seen, _, _ = _offer("etsi", rose)
    (ev,) = [ev for ev in seen if ev.kind == "facility"]
    (comp,) = fac.decode(ev.message.ie("facility").value["data"]).components
    assert comp.kind == "reject" and comp.invoke_id == 1


@settings(max_examples=60)
@given(st.one_of(st.binary(max_size=30),
                 st.builds(lambda body: b"\x9f\x8b\x01" + body, st.binary(max_size=30)),
                 st.builds(lambda body: b"\x91\xa1" + bytes((len(body),)) + body,
                           st.binary(max_size=20)),
                 st.builds(lambda n, part: b"\x91" + part * n, st.integers(1, 40),
                           st.sampled_from([b"\xa5\x00", b"\xa2\x03\x02\x01\x05",
                                            b"\xa1\x03\x02\x01\x07"]))),
       st.sampled_from(["qsig", "ni2", "etsi"]))
def test_any_facility_contents_in_setup_leave_the_call_offered(data, variant):
    """Whatever the Facility holds, the SETUP is offered; only an unrecognised invoke
    under clearCallIfAnyInvokePduNotRecognised clears it.  The answers are FACILITY
    messages of Reject components, and a STATUS cause 100 naming the Facility element
    (identifier 0x1c) when its profile or extension header cannot be read."""
    call, seen, user, sent = _offer(variant, data or b"\x91")
    if call.role == "NULL":
        assert [(ev.kind, ev.cause) for ev in seen][-1] == ("released", fac.CLEAR_CAUSE)
        return
    assert user.calls[0].role == "IN_PRESENT"
    answers = q931_sent(sent)
    statuses = [(m.cause, m.get("cause")["diagnostics"]) for m in answers if m.name == "STATUS"]
    assert statuses in ([], [(100, b"\x1c")])
    for m in answers:
        assert m.name in ("STATUS", "FACILITY")
        if m.name == "FACILITY":
            kinds = {c.kind for c in fac.decode(m.ie("facility").value["data"]).components}
            assert kinds == {"reject"}


# ---- components that cannot be acted on are rejected (X.880 clause 11, Q.932 annex D) ----

_NAME_OPS = frozenset(fac.OPERATIONS)
_ALICE = "80 05 416c696365"  # callingName argument: presentationAllowedSimple "Alice"


@pytest.mark.parametrize("body,invoked,expected", [
    ("a5 03 020105", {}, [(5, "general", "unrecognizedComponent")]),
    ("30 00", {}, [(None, "general", "unrecognizedComponent")]),
    ("a1 03 020107", {}, [(7, "general", "mistypedComponent")]),  # no operation
    ("a1 05 0500 020100", {}, [(None, "general", "mistypedComponent")]),  # NULL id
    ("a1 06 020103 020500", {}, [(3, "general", "badlyStructuredComponent")]),
    ("a1 09 020101", {}, [(None, "general", "badlyStructuredComponent")]),
    ("a1 0d 020104 020100" + _ALICE + " a1 0d 020104 020100" + _ALICE, {},
     [(4, "invoke", "duplicateInvocation")]),
    ("a1 06 020106 020163", {}, [(6, "invoke", "unrecognizedOperation")]),
    ("a1 09 020102 020100 020100", {}, [(2, "invoke", "mistypedArgument")]),
    ("a1 10 020108 800101 020100" + _ALICE, {}, [(8, "invoke", "unrecognizedLinkedId")]),
    ("a2 03 020109", {}, [(9, "returnResult", "unrecognizedInvocation")]),
    ("a2 03 020109", {9: "callingName"}, [(9, "returnResult", "resultResponseUnexpected")]),
    ("a3 06 020109 020100", {}, [(9, "returnError", "unrecognizedInvocation")]),
    ("a3 06 020109 020100", {9: "callingName"},
     [(9, "returnError", "errorResponseUnexpected")]),
    ("a4 06 020109 800100", {9: "callingName"}, []),  # a Reject is reported, not answered
    ("a4 03 020109", {}, []),  # nor is a mistyped Reject
])
def test_faults_are_rejected_with_their_problem(body, invoked, expected):
    """Each row of facility.FAULTS met in a received component, and the Reject answering
    it; the invoke id is NULL where it cannot be read."""
    data = bytes.fromhex("91" + body.replace(" ", ""))
    screening = fac.screen([data], _NAME_OPS, invoked)
    got = []
    for reply in screening.replies:
        apdus = fac.decode(reply)
        assert apdus.profile == fac.ROSE
        got += [(c.invoke_id, *fac.problem_of(c)) for c in apdus.components]
    assert got == expected
    assert not screening.clear and not screening.content_error


def test_too_many_invokes_meet_resource_limitation():
    invokes = "".join(f"a1 0d 0201{i:02x} 020100 {_ALICE}" for i in range(1, fac.MAX_INVOKES + 2))
    (reply,) = fac.screen([bytes.fromhex("91" + invokes.replace(" ", ""))], _NAME_OPS,
                          {}).replies
    (c,) = fac.decode(reply).components
    assert (c.invoke_id, fac.problem_of(c)) == (fac.MAX_INVOKES + 1,
                                                ("invoke", "resourceLimitation"))


def test_reject_bytes_against_x880():
    """Reject ::= [4] SEQUENCE { invokeId INTEGER | NULL, problem CHOICE { general [0],
    invoke [1], returnResult [2], returnError [3] } }, BER (X.690)."""
    assert fac._enc_component(fac.reject(None, ("general", "badlyStructuredComponent"))) == \
        bytes.fromhex("a405 0500 800102".replace(" ", ""))
    assert fac._enc_component(fac.reject(300, ("returnError", "errorResponseUnexpected"))) \
        == bytes.fromhex("a407 02020 12c 830101".replace(" ", ""))
    (reply,) = fac.screen([bytes.fromhex("9f aa06800100820101 a1 03 020107".replace(" ", ""))],
                          _NAME_OPS, {}).replies
    assert reply == bytes.fromhex("9f aa06800101820100 a4 06 020107 800101".replace(" ", ""))


def test_a_mistyped_name_argument_of_an_unimplemented_operation_is_unrecognised():
    """ETSI implements no name operation: the invoke is judged by its operation first."""
    data = bytes.fromhex("91 a1 09 020102 020100 020100".replace(" ", ""))
    (reply,) = fac.screen([data], frozenset(), {}).replies
    (c,) = fac.decode(reply).components
    assert fac.problem_of(c) == ("invoke", "unrecognizedOperation")


@pytest.mark.parametrize("octets", ["92 a1 03 020101", "93", "1f a1 03 020101", "",
                                    "9f 30 00", "9f aa 03 800100 a1 03 020101", "91"])
def test_contents_no_reject_can_answer_are_a_content_error(octets):
    """A protocol profile not supported (CMIP 0x92, ACSE 0x93, bit 8 clear), a networking
    extension header not understood, no component at all: Q.931 5.8.7.2, Q.850 cause 100."""
    screening = fac.screen([bytes.fromhex(octets.replace(" ", ""))], _NAME_OPS, {})
    assert screening.content_error and screening.replies == []


def test_unsupported_profile_in_setup_gets_status_100():
    call, seen, user, sent = _offer("qsig", bytes.fromhex("92a103020101"))
    assert user.calls[0].role == "IN_PRESENT"
    assert [(m.name, m.cause, m.get("cause")["diagnostics"]) for m in q931_sent(sent)] == [
        ("STATUS", 100, b"\x1c")]


def _active(variant="qsig"):
    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, variant=variant, on_event_network=rn, on_event_user=ru)
    clock.advance(1.0)
    call = net.place_call("4000", channel=1, calling_name="Alice")
    clock.advance(0.1)
    inc = ru.first("offered").call
    inc.answer()
    clock.advance(0.1)
    return clock, net, user, call, inc, rn, ru


_MISTYPED = bytes.fromhex("9f aa06800100820100 a1 03 020107".replace(" ", ""))


def test_reject_goes_in_facility_on_the_same_call_reference():
    clock, net, user, call, inc, rn, ru = _active()
    sent = tap(user)
    net.cc.send(q931_codec.Message("FACILITY", call.cref, False,
                                   [ies.make("facility", data=_MISTYPED)]))
    clock.advance(0.1)
    (m,) = q931_sent(sent)
    assert (m.name, m.call_ref, m.flag) == ("FACILITY", call.cref, True)
    (c,) = fac.decode(m.ie("facility").value["data"]).components
    assert (c.invoke_id, fac.problem_of(c)) == (7, ("general", "mistypedComponent"))
    assert inc.role == "ACTIVE" and call.role == "ACTIVE"


def test_reject_of_a_disconnect_goes_in_our_release():
    clock, net, user, call, inc, rn, ru = _active()
    sent = tap(user)
    net.cc.send(q931_codec.Message("DISCONNECT", call.cref, False,
                                   [ies.cause(16), ies.make("facility", data=_MISTYPED)]))
    clock.advance(0.1)
    m = q931_sent(sent)[0]
    assert m.name == "RELEASE" and m.cause == 16
    (c,) = fac.decode(m.ie("facility").value["data"]).components
    assert (c.kind, c.invoke_id) == ("reject", 7)
    assert ru.has("released", inc)


def test_a_reject_of_our_invoke_is_reported_on_the_call():
    """The user rejects the network's callingName invoke (its id from the SETUP sent)."""
    clock, net, user, call, inc, rn, ru = _active()
    (invoke_id, operation), = call.invoked.items()
    assert operation == "callingName"
    data = fac.encode(fac.Apdus(fac.EXTENSIONS, (0, 0), None, None,
                                [fac.reject(invoke_id, ("invoke", "mistypedArgument"))]))
    user.cc.send(q931_codec.Message("FACILITY", call.cref, True,
                                    [ies.make("facility", data=data)]))
    clock.advance(0.1)
    ev = rn.first("facility_rejected", call)
    assert ev.detail["rejected"] == [{"invoke_id": invoke_id, "operation": "callingName",
                                      "problem": ("invoke", "mistypedArgument")}]
    assert call.role == "ACTIVE"


# ---- busy name (ECMA-164 / ISO 13868 operation 3) --------------------------------------


@pytest.mark.parametrize("variant", ["qsig", "ni2"])
@pytest.mark.parametrize("when,message", [("offered", "RELEASE COMPLETE"),
                                           ("alerting", "DISCONNECT")])
def test_busy_name_in_the_first_clearing_message(variant, when, message):
    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, variant=variant, on_event_network=rn, on_event_user=ru)
    clock.advance(1.0)
    call = net.place_call("4000", channel=1)
    clock.advance(0.1)
    inc = ru.first("offered").call
    if when == "alerting":
        inc.alert()
        clock.advance(0.1)
    sent = tap(user)
    inc.hangup(17, busy_name="Bob")
    clock.advance(0.1)
    first = q931_sent(sent)[0]
    assert (first.name, first.cause) == (message, 17)
    assert fac.names([first.ie("facility").value["data"]]) == {"busyName": fac.Name("Bob")}
    ev = rn.first("disconnected" if message == "DISCONNECT" else "released", call)
    assert ev.cause == 17 and ev.detail["names"] == {"busyName": fac.Name("Bob")}
    assert call.busy_name == "Bob" and rn.first("released", call).cause == 17
    assert [m.ie("facility") for m in q931_sent(sent)[1:]] == [None] * (len(sent) - 1)


def test_busy_name_bytes():
    """QSIG busyName: operation localValue 3, argument Name ([0] allowed simple)."""
    assert fac.name_facility("qsig", "busyName", fac.Name("Bob"), 1) == bytes.fromhex(
        "9f aa06800100820100 8b0100 a10b 020101 020103 8003426f62".replace(" ", ""))


def test_busy_name_goes_with_cause_17_of_the_called_party():
    clock, net, user, call, inc, rn, ru = _active()
    with pytest.raises(ValueError):
        inc.hangup(16, busy_name="Bob")
    with pytest.raises(ValueError):
        call.hangup(17, busy_name="Alice")
    with pytest.raises(fac.EncodeError):
        inc.hangup(17, busy_name="x" * 51)
    assert inc.role == call.role == "ACTIVE"


def test_busy_name_in_our_release_when_the_caller_cleared_first():
    """Our first clearing message is RELEASE when the caller's DISCONNECT came first (the
    application releases); the busy name goes in it, and only there."""
    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, variant="qsig", on_event_network=rn, on_event_user=ru)
    user.cc.auto_release = False
    clock.advance(1.0)
    call = net.place_call("4000", channel=1)
    clock.advance(0.1)
    inc = ru.first("offered").call
    inc.alert()
    clock.advance(0.1)
    call.hangup()
    clock.advance(0.1)
    assert inc.role == "WE_GOT_DISC"
    sent = tap(user)
    inc.hangup(17, busy_name="Bob")
    clock.advance(0.1)
    (m,) = q931_sent(sent)
    assert (m.name, m.cause) == ("RELEASE", 17)
    assert fac.names([m.ie("facility").value["data"]]) == {"busyName": fac.Name("Bob")}
    assert "busyName" not in inc.own_names


def test_etsi_sends_no_busy_name():
    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, variant="etsi", on_event_network=rn, on_event_user=ru)
    clock.advance(1.0)
    call = net.place_call("4000", channel=1)
    clock.advance(0.1)
    ru.first("offered").call.hangup(17, busy_name="Bob")
    clock.advance(0.1)
    assert rn.first("released", call).message.ie("facility") is None
    assert call.busy_name is None


def test_tshark_decodes_the_busy_name(tmp_path):
    clock = VirtualClock()
    ru = Recorder()
    net, user = memory_pair(clock, variant="qsig", on_event_user=ru)
    pcap = str(tmp_path / "busy.pcap")
    user.trace_to(pcap)
    clock.advance(1.0)
    net.place_call("4000", channel=1)
    clock.advance(0.1)
    ru.first("offered").call.hangup(17, busy_name="Bob")
    clock.advance(0.1)
    user.tracer.close()
    assert "0x5a|3|Bob" in _tshark_names(pcap)  # RELEASE COMPLETE, busyName


# ---- presentation restricted / name not available ---------------------------------------


@pytest.mark.parametrize("variant", ["qsig", "ni2"])
@pytest.mark.parametrize("name", [fac.Name("Secret", "restricted"),
                                  fac.Name("Secret", "restricted", 1),
                                  fac.Name("", "not_available"),
                                  fac.Name("", "restricted_null")])
def test_restricted_and_unavailable_names_end_to_end(variant, name):
    """Each choice of Name other than presentation allowed is sent as given (calling,
    called, connected) and read back; none becomes the call's name field."""
    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, variant=variant, on_event_network=rn, on_event_user=ru)
    clock.advance(1.0)
    call = net.place_call("4000", channel=1, calling_name=name)
    clock.advance(0.1)
    offered = ru.first("offered")
    assert offered.detail["names"] == {"callingName": name}
    inc = offered.call
    assert inc.calling_name is None and call.calling_name is None
    inc.alert(name=name)
    inc.answer(name=name)
    clock.advance(0.1)
    assert rn.first("alerting", call).detail["names"] == {"calledName": name}
    assert rn.first("connected", call).detail["names"] == {"connectedName": name}
    assert call.called_name is None and call.connected_name is None



def test_rejects_of_one_message_are_bounded():
    """A Facility of 100 components of an unknown type: the first MAX_REJECTS are
    rejected in one FACILITY that fits its element (255 octets)."""
    call, seen, user, sent = _offer("qsig", b"\x91" + b"\xa5\x00" * 100)
    (m,) = q931_sent(sent)
    comps = fac.decode(m.ie("facility").value["data"]).components
    assert len(comps) == fac.MAX_REJECTS
    assert {fac.problem_of(c) for c in comps} == {("general", "unrecognizedComponent")}


@settings(max_examples=300)
@given(st.lists(st.builds(lambda head, body: head + body,
                          st.sampled_from([b"", b"\x91", b"\x9f", b"\x9f\x8b\x01\x02"]),
                          st.binary(max_size=60)), max_size=3),
       st.dictionaries(st.integers(-3, 300), st.sampled_from(list(fac.OPERATIONS.values())),
                       max_size=3))
def test_screen_answers_any_contents_with_rejects_only(facilities, invoked):
    """Whatever a message's Facility elements hold, screening raises nothing and answers
    with Reject components only, each reply fitting one element."""
    screening = fac.screen(facilities, _NAME_OPS, invoked)
    answered = 0
    for reply in screening.replies:
        assert len(reply) <= 255
        comps = fac.decode(reply).components
        assert {c.kind for c in comps} == {"reject"}
        answered += len(comps)
    assert answered <= fac.MAX_REJECTS


def test_tshark_decodes_our_rejects(tmp_path):
    """The FACILITY answering a mistyped and a badly structured component: tshark's ROS
    dissector reads both Rejects (invoke ids 7 and 3, general problems 1 and 2)."""
    from conftest import need_program
    tshark = need_program("tshark")
    clock = VirtualClock()
    net, user = memory_pair(clock, variant="qsig")
    pcap = str(tmp_path / "rejects.pcap")
    user.trace_to(pcap)
    clock.advance(1.0)
    bad = bytes.fromhex("9f aa06800100820100 a103020107 a106020103020500".replace(" ", ""))
    net.place_call("4000", channel=1, extra=[ies.make("facility", data=bad)])
    clock.advance(0.1)
    user.tracer.close()
    ours = ["-Y", "q931.message_type == 0x62"]
    out = subprocess.run([tshark, "-r", pcap, *ours, "-V"], capture_output=True, text=True,
                         check=True).stdout
    assert "Malformed" not in out and "Expert Info" not in out
    rows = subprocess.run([tshark, "-r", pcap, *ours, "-T", "fields", "-e", "q932.ros.present",
                           "-e", "q932.ros.general"], capture_output=True, text=True,
                          check=True).stdout.split()
    assert rows == ["7,3", "1,2"]


# ---- the dummy call reference and Facility in every message that may carry it ------------


def test_facility_on_the_dummy_call_reference_is_answered_there():
    """Q.931 4.3 / Q.932 connectionless transport: a FACILITY on the dummy call reference
    (length 0) is judged like a call's; its Rejects go back on the dummy call reference
    (never a RELEASE COMPLETE, nor the global call reference); other messages there and
    contents no Reject can answer are ignored."""
    clock = VirtualClock()
    ru = Recorder()
    net, user = memory_pair(clock, variant="qsig", on_event_user=ru)
    clock.advance(1.0)
    sent = tap(user)
    rejected = fac.encode(fac.Apdus(fac.EXTENSIONS, (0, 0), None, None,
                                    [fac.reject(4, ("invoke", "unrecognizedOperation"))]))
    for name, data in [("FACILITY", _MISTYPED), ("FACILITY", bytes.fromhex("92a103020101")),
                       ("NOTIFY", _MISTYPED), ("SETUP", _MISTYPED), ("FACILITY", rejected)]:
        net.cc.send(q931_codec.Message(name, 0, False, [ies.make("facility", data=data)], 0))
        clock.advance(0.1)
    (m,) = q931_sent(sent)
    assert (m.name, m.cr_len) == ("FACILITY", 0)
    (c,) = fac.decode(m.ie("facility").value["data"]).components
    assert (c.invoke_id, fac.problem_of(c)) == (7, ("general", "mistypedComponent"))
    ev = ru.first("facility_rejected")
    assert ev.call is None and ev.detail["rejected"] == [
        {"invoke_id": 4, "operation": None, "problem": ("invoke", "unrecognizedOperation")}]
    assert user.cc.link_up and net.cc.link_up and not user.calls


# messages that may carry Facility (Q.932 clause 8: call-related transport) and FACILITY
# on the dummy call reference
_CARRIERS = ["SETUP ACKNOWLEDGE", "CALL PROCEEDING", "ALERTING", "PROGRESS", "CONNECT",
             "FACILITY", "DISCONNECT", "RELEASE", "RELEASE COMPLETE", "dummy FACILITY"]
_CONTENTS = st.one_of(
    st.binary(max_size=40),
    st.builds(lambda head, body: head + body,
              st.sampled_from([b"\x91", b"\x9f", b"\x9f\x8b\x01\x02", b"\x9f\xaa\x06\x80\x01"
                               b"\x00\x82\x01\x00"]), st.binary(max_size=40)),
    st.builds(lambda body: b"\x91\xa1" + bytes((len(body),)) + body, st.binary(max_size=30)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_CARRIERS), st.booleans(), _CONTENTS),
                min_size=1, max_size=4),
       st.sampled_from(["qsig", "ni2", "etsi"]))
def test_any_facility_in_any_message_gets_a_reject_or_nothing(script, variant):
    """The user's call is answered by messages whose Facility holds anything, in either
    direction: nothing raises, the data link stays up, and every FACILITY sent in reply
    holds Reject components only."""
    clock = VirtualClock()
    net, user = memory_pair(clock, variant=variant)
    clock.advance(1.0)
    call = user.place_call("4000", channel=1)
    clock.advance(0.1)
    frames = {"user": tap(user), "network": tap(net)}
    for name, to_user, data in script:
        sender = net if to_user else user
        extra = [ies.cause(16)] if name == "DISCONNECT" else []
        if name == "dummy FACILITY":
            msg = q931_codec.Message("FACILITY", 0, False, [ies.make("facility", data=data)], 0)
        else:
            msg = q931_codec.Message(name, call.cref, to_user,
                                     extra + [ies.make("facility", data=data)])
        sender.cc.send(msg)
        clock.advance(0.1)
    assert user.cc.link_up and net.cc.link_up
    for side, sent in frames.items():
        for m in q931_sent(sent):
            if m.name == "FACILITY" and m.ie("facility") is not None:
                data = m.ie("facility").value["data"]
                if data in [d for _, _, d in script]:
                    continue  # the message the test injected, not an answer
                assert {c.kind for c in fac.decode(data).components} == {"reject"}, side
