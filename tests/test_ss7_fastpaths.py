"""The tables and memos the SS7 hot paths use agree with the declarations they are derived from
(SU_HEADER, the routing labels, BitFields, Q.763 BCD address signals)."""

from __future__ import annotations

import pytest
from construct import StreamError
from hypothesis import given, settings
from hypothesis import strategies as st

from ss7 import isup_codec as C
from ss7.bitfields import BitFields
from ss7.mtp2 import SU_HEADER, decode_su, encode_su, su_kind
from ss7.mtp3_codec import SIO, VARIANTS, decode_msu, encode_msu

seq = st.integers(0, 127)
bit = st.integers(0, 1)


@settings(max_examples=200)
@given(seq, bit, seq, bit, st.binary(max_size=80))
def test_su_header_tables_match_the_declaration(bsn, bib, fsn, fib, body):
    su = encode_su(bsn, bib, fsn, fib, body)
    li = min(len(body), 63)
    assert su[:3] == SU_HEADER.build_bytes(
        {"bsn": bsn, "bib": bib, "fsn": fsn, "fib": fib, "li": li, "spare": 0})
    assert su[3:] == body


def test_su_header_out_of_range_names_the_field():
    with pytest.raises(StreamError, match="fsn"):
        encode_su(1, 1, 128, 0)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_su_kind_agrees_with_decode_su(frame):
    try:
        kind = su_kind(frame)
    except ValueError:
        with pytest.raises(ValueError):
            decode_su(frame)
        return
    assert decode_su(frame)["kind"] == kind


@settings(max_examples=100)
@given(st.sampled_from(sorted(VARIANTS)), st.integers(0, 15), st.integers(0, 3),
       st.integers(0, 2**14 - 1), st.integers(0, 2**14 - 1), st.integers(0, 15),
       st.binary(max_size=20))
def test_msu_header_memo_round_trip(variant, si, ni, dpc, opc, sls, payload):
    v = VARIANTS[variant]
    body = encode_msu(v, si, ni, dpc, opc, sls, payload)
    assert body == SIO.build_bytes({"si": si, "priority": 0, "ni": ni}) + \
        v.build_label(dpc, opc, sls) + payload
    for _ in range(2):  # the second decode comes from the memo: a fresh dict each time
        m = decode_msu(v, body)
        assert (m["si"], m["ni"], m["dpc"], m["opc"], m["sls"], m["payload"]) == \
            (si, ni, dpc, opc, sls, payload)
        m["dpc"] = -1


def test_same_octets_decode_per_variant():
    body = encode_msu(VARIANTS["china"], 5, 2, 0x123456, 0x654321, 3, b"\x01\x00\x10")
    china = decode_msu(VARIANTS["china"], body)
    itu = decode_msu(VARIANTS["itu"], body)
    assert china["dpc"] == 0x123456 and itu["dpc"] != china["dpc"]


def test_bitfields_build_partial_and_misfit():
    b = BitFields(2, ("a", 3), ("b", 12), ("c", 1))
    assert b.build_bytes({"a": 5}) == b.build_bytes({"a": 5, "b": 0, "c": 0})
    assert b.parse_bytes(b.build_bytes({"a": 5, "b": 4095, "c": 1})) == {"a": 5, "b": 4095, "c": 1}
    with pytest.raises(StreamError, match="field b=4096"):
        b.build_bytes({"a": 0, "b": 4096, "c": 0})
    one = BitFields(1, ("x", 7), ("y", 1))
    assert one.parse_bytes(b"\x85") == {"x": 5, "y": 1}
    with pytest.raises(StreamError):
        one.parse_bytes(b"")


@settings(max_examples=200)
@given(st.text(alphabet="0123456789abcdefABCDEF", max_size=20))
def test_bcd_digits_round_trip(digits):
    raw = C.PARAMS["called"][1].build_bytes(C.called_party(digits))
    assert C.PARAMS["called"][1].parse_bytes(raw)["digits"] == digits.upper()
    # first digit in the low nibble of octet 3, filler 0 when odd (Q.763 3.9)
    if digits:
        assert raw[2] & 0x0F == int(digits[0], 16)


def test_non_bcd_digit_is_an_encode_error():
    with pytest.raises(C.EncodeError):
        C.encode("IAM", 1, {**C.decode(C.encode("IAM", 1, {
            "nature_of_connection": C.nature_of_connection(), "forward_call": C.forward_call(),
            "calling_category": 10, "transmission_medium_requirement": 0,
            "called": C.called_party("123")}))["params"], "called": C.called_party("12 3")})
