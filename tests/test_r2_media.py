"""R2 circuits over real MF-R2 tones: tone generator -> audio -> MF detectors, back to back."""

from __future__ import annotations

import pytest

from core.clock import VirtualClock

pytest.importorskip("timeslot.r2mf")
pytest.importorskip("timeslot.tonegen")


@pytest.mark.parametrize("variant", ["itu", "cn"])
def test_calls_over_tones(variant):
    from r2.media import R2Span

    clock = VirtualClock()
    offered = []

    def on_b(i, name, fields):
        if name == "offered":
            offered.append((i, fields))
            b.channels[i].accept()
            b.channels[i].answer()

    a = R2Span(clock, 3, variant, master=True)
    b = R2Span(clock, 3, variant, master=False, max_dnis=5, max_ani=4, on_event=on_b)
    for i, ch in enumerate(a.channels):
        ch.make_call(f"8600{i}", f"555{i}")
    for _ in range(500):
        a_audio, a_cas = a.tx()
        b_audio, b_cas = b.tx()
        a.rx(b_audio, b_cas.copy())
        b.rx(a_audio, a_cas.copy())
        clock.advance(0.02)
        if all(ch.state == "out_answered" for ch in a.channels):
            break
    assert sorted((i, f["dnis"], f["ani"]) for i, f in offered) == [
        (i, f"8600{i}", f"555{i}") for i in range(3)]
    assert all(ch.state == "out_answered" for ch in a.channels)
