"""Q.921 frame and Q.931 message/IE codecs: octets against the recommendations,
hypothesis round trips, and arbitrary input giving typed errors only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.q850 import CAUSES, cause_class, cause_name
from isdn import ie, lapd_codec, q931_codec
from isdn.lapd_codec import Frame, LapdDecodeError
from isdn.q931_codec import MESSAGE_TYPES, Message, Q931DecodeError

# ---- LAPD --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,pf,octet", [
    ("SABME", True, 0x7F), ("SABME", False, 0x6F), ("DM", True, 0x1F), ("UI", False, 0x03),
    ("DISC", True, 0x53), ("UA", True, 0x73), ("UA", False, 0x63), ("FRMR", False, 0x87),
    ("XID", True, 0xBF)])
def test_u_frame_control_octets(kind, pf, octet):
    """Q.921 table 5 control field encodings (P/F in bit 5)."""
    raw = lapd_codec.encode(Frame(0, True, 0, kind, pf))
    assert raw == bytes((0x02, 0x01, octet))


def test_i_and_s_frame_octets():
    assert lapd_codec.encode(Frame(0, False, 0, "I", True, 5, 9, b"\x08")) == bytes(
        (0x00, 0x01, 5 << 1, (9 << 1) | 1, 0x08))
    assert lapd_codec.encode(Frame(0, False, 0, "RR", False, None, 127)) == bytes((0, 1, 1, 254))
    assert lapd_codec.encode(Frame(0, False, 0, "RNR", True, None, 3)) == bytes((0, 1, 5, 7))
    assert lapd_codec.encode(Frame(63, True, 127, "REJ", False, None, 0)) == bytes((0xFE, 0xFF, 9, 0))


frames = st.one_of(
    st.builds(Frame, st.integers(0, 63), st.booleans(), st.integers(0, 127), st.just("I"),
              st.booleans(), st.integers(0, 127), st.integers(0, 127), st.binary(max_size=40)),
    st.builds(Frame, st.integers(0, 63), st.booleans(), st.integers(0, 127),
              st.sampled_from(["RR", "RNR", "REJ"]), st.booleans(), st.none(), st.integers(0, 127),
              st.just(b"")),
    st.builds(Frame, st.integers(0, 63), st.booleans(), st.integers(0, 127),
              st.sampled_from(["SABME", "DM", "DISC", "UA"]), st.booleans(), st.none(), st.none(),
              st.just(b"")),
    st.builds(Frame, st.integers(0, 63), st.booleans(), st.integers(0, 127),
              st.sampled_from(["UI", "FRMR", "XID"]), st.booleans(), st.none(), st.none(),
              st.binary(max_size=20)))


@given(frames)
def test_lapd_round_trip(frame):
    assert lapd_codec.decode(lapd_codec.encode(frame)) == frame


@given(st.binary(max_size=12))
def test_lapd_arbitrary_bytes_typed_error(data):
    try:
        f = lapd_codec.decode(data)
    except LapdDecodeError as e:
        assert e.offset is not None and e.field
    else:
        assert lapd_codec.encode(f) == data


@pytest.mark.parametrize("data,field", [
    (b"\x00", "control"), (b"\x01\x01\x7f", "address.ea0"), (b"\x00\x00\x7f", "address.ea1"),
    (b"\x00\x01\x0d\x00", "control"), (b"\x00\x01\x01\x00\x55", "info"),
    (b"\x00\x01\x00", "control"), (b"\x00\x01\x2b", "control")])
def test_lapd_invalid_frames_name_field(data, field):
    with pytest.raises(LapdDecodeError) as e:
        lapd_codec.decode(data)
    assert e.value.field == field


# ---- information elements ----------------------------------------------------------------


def test_ie_octets_against_q931():
    assert ie.cause(16).raw == bytes((0x80, 0x90))  # 4.5.12: coding ITU, location user, #16
    assert ie.cause(34, location=2, diagnostics=b"\x01").raw == bytes((0x82, 0xA2, 0x01))
    assert ie.channel(1).raw == bytes((0xA9, 0x83, 0x81))  # 4.5.13: PRI, exclusive, B, ch 1
    assert ie.channel(17, exclusive=False).raw == bytes((0xA1, 0x83, 0x91))
    assert ie.channel(None).raw == bytes((0xA3,))  # any channel
    assert ie.bearer().raw == bytes((0x80, 0x90, 0xA3))  # speech, 64 kbit/s, G.711 A-law
    assert ie.bearer(8).raw == bytes((0x88, 0x90))  # unrestricted digital
    assert ie.called("4000").raw == b"\x81" + b"4000"  # unknown type, ISDN plan
    assert ie.calling("02", presentation=1, screening=3).raw == bytes((0x01, 0xA3)) + b"02"
    assert ie.progress(8).raw == bytes((0x80, 0x88))
    assert ie.restart_indicator(7).raw == bytes((0x87,))
    assert ie.call_state(10).raw == bytes((0x0A,))
    assert ie.encode([ie.sending_complete(), ie.make("shift", value=0x0E)]) == bytes((0xA1, 0x9E))


values = {
    "bearer_capability": st.fixed_dictionaries({
        "coding": st.integers(0, 3), "capability": st.integers(0, 31), "mode": st.integers(0, 3),
        "rate": st.integers(0, 31).filter(lambda r: r != 0x18),
        "layer1": st.one_of(st.none(), st.integers(0, 31))}),
    "cause": st.fixed_dictionaries({
        "coding": st.integers(0, 3), "location": st.integers(0, 15), "value": st.integers(0, 127),
        "recommendation": st.one_of(st.none(), st.integers(0, 127)),
        "diagnostics": st.binary(max_size=8)}),
    "channel_id": st.fixed_dictionaries({
        "interface_id_present": st.just(False), "pri": st.just(True), "exclusive": st.booleans(),
        "dchan": st.booleans(), "selection": st.just(1), "coding": st.just(0), "map": st.just(False),
        "element_type": st.just(3), "channels": st.lists(st.integers(0, 127), min_size=1, max_size=4)}),
    "progress": st.fixed_dictionaries({"coding": st.integers(0, 3), "location": st.integers(0, 15),
                                       "description": st.integers(0, 127)}),
    "called_number": st.fixed_dictionaries({"type": st.integers(0, 7), "plan": st.integers(0, 15),
                                            "digits": st.text("0123456789*#", max_size=20)}),
    "calling_number": st.fixed_dictionaries({
        "type": st.integers(0, 7), "plan": st.integers(0, 15),
        "presentation": st.integers(0, 3), "screening": st.integers(0, 3),
        "digits": st.text("0123456789", max_size=20)}),
    "connected_number": st.fixed_dictionaries({
        "type": st.integers(0, 7), "plan": st.integers(0, 15), "digits": st.text("0123456789", max_size=8)}),
    "redirecting_number": st.fixed_dictionaries({
        "type": st.integers(0, 7), "plan": st.integers(0, 15), "presentation": st.integers(0, 3),
        "screening": st.integers(0, 3), "reason": st.integers(0, 15),
        "digits": st.text("0123456789", max_size=8)}),
    "display": st.fixed_dictionaries({"text": st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)}),
    "keypad": st.fixed_dictionaries({"digits": st.text("0123456789", max_size=8)}),
    "date_time": st.fixed_dictionaries({"year": st.integers(0, 99), "month": st.integers(1, 12),
                                        "day": st.integers(1, 31), "hour": st.integers(0, 23),
                                        "minute": st.integers(0, 59)}),
    "high_layer_compatibility": st.fixed_dictionaries({
        "coding": st.integers(0, 3), "interpretation": st.integers(0, 7),
        "presentation": st.integers(0, 3), "characteristics": st.integers(0, 127),
        "extended": st.one_of(st.none(), st.integers(0, 127))}),
    "low_layer_compatibility": st.fixed_dictionaries({
        "coding": st.just(0), "capability": st.integers(0, 31), "mode": st.just(0),
        "rate": st.just(16), "layer1": st.integers(0, 31)}),
    "call_state": st.fixed_dictionaries({"coding": st.integers(0, 3), "value": st.integers(0, 63)}),
    "restart_indicator": st.fixed_dictionaries({"restart_class": st.integers(0, 7)}),
    "change_status": st.fixed_dictionaries({"preference": st.integers(0, 1),
                                            "status": st.integers(0, 7)}),
    "notification": st.fixed_dictionaries({"description": st.integers(0, 127)}),
    "facility": st.fixed_dictionaries({"data": st.binary(max_size=20)}),
    "user_user": st.fixed_dictionaries({"protocol": st.integers(0, 255), "data": st.binary(max_size=10)}),
    "call_identity": st.fixed_dictionaries({"identity": st.binary(max_size=8)}),
    **{name: st.fixed_dictionaries({"data": st.binary(max_size=12)}) for name in (
        "connected_subaddress", "calling_subaddress", "called_subaddress", "transit_network",
        "network_facilities")},
    "signal": st.fixed_dictionaries({"value": st.integers(0, 255)}),
}


def test_every_element_has_a_strategy():
    assert {s.name for s in ie.SPECS} == set(values)


@pytest.mark.parametrize("name", sorted(values))
@settings(max_examples=40)
@given(data=st.data())
def test_ie_round_trip(name, data):
    value = data.draw(values[name])
    e = ie.make(name, **value)
    assert e.error is None
    again = ie.decode_body(0, e.ident, e.raw)
    assert again.value == e.value
    for k, v in value.items():
        assert e.value[k] == v, k


@given(st.integers(0, 127), st.binary(max_size=16))
def test_ie_arbitrary_contents_never_raise(ident, body):
    e = ie.decode_body(0, ident, body)
    assert (e.value is None) == (e.error is not None)


# ---- messages ----------------------------------------------------------------------------

SETUP_OCTETS = bytes.fromhex(
    "08020001" "05" "a1" "04038090a3" "1803a98381" "6c0c0180" + b"0212345678".hex() + "700581" + b"4000".hex())


def test_setup_octets():
    m = Message("SETUP", 1, False, [ie.sending_complete(), ie.bearer(), ie.channel(1),
                                   ie.calling("0212345678"), ie.called("4000")])
    assert q931_codec.encode(m) == SETUP_OCTETS
    d = q931_codec.decode(SETUP_OCTETS)
    assert (d.name, d.call_ref, d.flag, d.called, d.calling, d.channel) == (
        "SETUP", 1, False, "4000", "0212345678", 1)


def test_call_reference_flag_and_lengths():
    m = q931_codec.decode(bytes.fromhex("08028005" "5a" "08028090"))
    assert (m.call_ref, m.flag, m.name, m.cause) == (5, True, "RELEASE COMPLETE", 16)
    bri = q931_codec.decode(bytes.fromhex("080185" "4d"))
    assert (bri.cr_len, bri.call_ref, bri.flag) == (1, 5, True)
    dummy = q931_codec.decode(bytes.fromhex("0800" "7b"))
    assert dummy.cr_len == 0 and dummy.call_ref == 0


def test_codeset_shift_skips_national_elements():
    # locking shift to 6, an element of codeset 6, then (non-locking) codeset 5 element
    m = q931_codec.decode(bytes.fromhex("080200017d" "08028090" "140103" "96" "0202aabb"))
    assert m.cause == 16 and m.get("call_state")["value"] == 3
    national = m.ies[-1]
    assert (national.codeset, national.error) == (6, "skipped")
    assert m.summary()["ie_errors"] is None


def test_unknown_message_type_and_unknown_ie_kept():
    m = q931_codec.decode(bytes.fromhex("08020001" "77" "3f0101" "0b0100"))
    assert m.name is None and m.code == 0x77
    assert [e.error for e in m.ies] == ["unrecognised", "unrecognised"]
    assert [e.comprehension_required for e in m.ies] == [False, True]


@pytest.mark.parametrize("data,field", [
    (b"\x08\x02", "header"), (b"\x09\x02\x00\x01\x05", "protocol_discriminator"),
    (b"\x08\x03\x00\x00\x01\x05", "call_reference"), (b"\x08\x02\x00\x01", "message_type"),
    (b"\x08\x02\x00\x01\x85", "message_type")])
def test_framing_errors(data, field):
    with pytest.raises(Q931DecodeError) as e:
        q931_codec.decode(data)
    assert e.value.field == field


element_lists = st.lists(st.sampled_from(sorted(values)), max_size=6).flatmap(
    lambda names: st.tuples(*[values[n].map(lambda v, n=n: ie.make(n, **v)) for n in names]))


@settings(max_examples=60)
@given(st.sampled_from(sorted(MESSAGE_TYPES.values())), st.integers(0, 32767), st.booleans(),
       element_lists)
def test_message_round_trip(name, cref, flag, elements):
    m = Message(name, cref, flag, sorted(elements, key=lambda e: e.ident))
    d = q931_codec.decode(q931_codec.encode(m))
    assert (d.name, d.call_ref, d.flag) == (name, cref, flag)
    assert [(e.name, e.value) for e in d.ies] == [(e.name, e.value) for e in m.ies]


@given(st.binary(max_size=40))
def test_q931_arbitrary_bytes_typed_error(data):
    try:
        m = q931_codec.decode(data)
    except Q931DecodeError as e:
        assert e.field
    else:
        m.summary()


@given(st.binary(max_size=30))
def test_q931_arbitrary_elements_never_raise(tail):
    m = q931_codec.decode(bytes.fromhex("08020001" "05") + tail)
    m.summary()


def test_cause_table():
    assert cause_name(16) == "normal call clearing" and cause_name(34) == "no circuit/channel available"
    assert cause_class(17) == "normal event" and cause_class(81) == "invalid message"
    assert cause_class(100) == "protocol error"
    assert all(0 < v < 128 for v in CAUSES)


def test_octet_groups_end_before_octet_4():
    """Octet 3a ends group 3 of the cause (Q.850 2.2.5: ext 1, octet 4 follows as its own
    group), and octet 3 of the high layer compatibility is a group alone (Q.931 4.5.17); an
    octet 4a extends octet 4 (ext 0 in octet 4)."""
    from isdn import ie

    assert ie.make("cause", coding=0, location=2, value=16).raw == bytes([0x82, 0x90])
    assert ie.make("cause", coding=0, location=2, recommendation=0,
                   value=16).raw == bytes([0x02, 0x80, 0x90])
    hlc = ie.make("high_layer_compatibility", coding=0, interpretation=4, presentation=1,
                  characteristics=0x01)
    assert hlc.raw == bytes([0x91, 0x81])  # telephony (ISDN telephony HLC as libpri sends it)
    assert ie.make("high_layer_compatibility", coding=0, interpretation=4, presentation=1,
                   characteristics=0x5E, extended=0x01).raw == bytes([0x91, 0x5E, 0x81])
    back = ie.decode_body(0, 0x08, bytes([0x02, 0x80, 0x90]))
    assert back.value["recommendation"] == 0 and back.value["value"] == 16 and back.error is None
