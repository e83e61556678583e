"""The shortcuts the ISDN hot paths take agree with the declarations they are derived from:
elements read and built as a cached head plus a greedy tail (digits, text, diagnostics) give
exactly what construct gives for the whole body."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isdn import ie
from tests.test_isdn_codec import values

SPLIT = sorted(s.name for s in (*ie.SPECS, *ie.FORMS.values()) if s.split is not None)
SPEC = {**{s.name: s for s in ie.SPECS}, "display_typed": ie.FORMS["display_typed"]}


def _whole(spec: ie.IeSpec, body: bytes) -> ie.IE:
    """The element read by construct from the whole body (no head/tail split)."""
    try:
        value = ie._flatten(spec, spec.codec.parse(body))
    except Exception as e:  # noqa: BLE001 - the reference: any failure is an element error
        return ie.IE(spec.name, spec.ident, 0, None, body, f"invalid contents: {e}".splitlines()[0])
    return ie.IE(spec.name, spec.ident, 0, value, body)


def test_split_elements_are_the_expected_ones():
    assert {"called_number", "calling_number", "cause", "display", "keypad"} <= set(SPLIT)
    assert ie.BY_NAME["channel_id"].split is None  # channel list: not bounded


@pytest.mark.parametrize("name", SPLIT + ["display_typed"])
@settings(max_examples=150)
@given(body=st.binary(max_size=12) | st.builds(lambda h, t: h + t, st.binary(max_size=3),
                                               st.text("0123456789*#", max_size=8).map(
                                                   str.encode)))
def test_split_read_equals_whole_read(name, body):
    spec = SPEC[name]
    if spec.split is None:
        return
    assert ie._decode_as(spec, 0, body) == _whole(spec, body)


@pytest.mark.parametrize("name", [n for n in SPLIT if n in values])
@settings(max_examples=60)
@given(data=st.data())
def test_split_build_equals_whole_build(name, data):
    spec = ie.BY_NAME[name]
    value = data.draw(values[name])
    assert ie.encode_body(name, value) == spec.codec.build(ie._unflatten(spec, value))


def test_tail_outside_its_encoding_is_refused_as_before():
    """Non-IA5 digits: the typed refusal construct gives for the whole body."""
    with pytest.raises(ValueError, match="cannot encode called_number: cannot use encoding"):
        ie.encode_body("called_number", {"type": 0, "plan": 1, "digits": "4\u00e9"})
