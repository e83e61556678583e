"""Interop: calls between our R2 stack and openr2 1.3 (unmodified libopenr2), both directions.

The peer (tests/r2_peer/r2_peer.c) is a real openr2 channel on a fake DAHDI CAS channel;
CAS bits travel as they would on TS16, register signals as numbers (openr2's MF interface
given symbolic signals) unless a test runs real tones.  Time is virtual and lockstep.
"""

from __future__ import annotations

import pytest
from conftest import need_library, need_program

pytestmark = pytest.mark.interop

OR2_NATIONAL_SUBSCRIBER = 0
OR2_NATIONAL_PRIORITY = 1


@pytest.fixture(scope="module")
def exe():
    need_library("openr2")
    need_program("gcc")
    from r2_peer.peer import build, dahdi_include
    if dahdi_include() is None:
        pytest.skip("dahdi/user.h not installed (make test installs dahdi-source)")
    return build()


def harness(exe, variant, peer_args, on_event=None, **opts):
    from r2_peer.peer import Harness
    h = Harness(exe, variant, peer_args, on_event=on_event, **opts)
    return h


def peer_event(h, name):
    text = h.peer.find(name)
    assert text is not None, f"openr2 never reported {name}: {h.peer.events}"
    return dict(kv.split("=", 1) for kv in text.split()[1:] if "=" in kv)


def accept_and_answer(ch, name, fields):
    if name == "offered":
        ch.accept()
        ch.answer()


# ---- openr2 calls us -----------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["itu", "ar", "ve", "co", "br", "mx"])
def test_openr2_calls_us_and_clears(exe, variant):
    h = harness(exe, variant, ["--role", "out", "--dnis", "4321", "--ani", "5550123",
                               "--category", str(OR2_NATIONAL_PRIORITY), "--hangup-after", "25"],
                accept_and_answer, max_dnis=4)
    try:
        h.run(30, until=lambda: "released" in h.names())
        h.run(0.5)
        offered = h.last("offered")
        assert offered["dnis"] == "4321"
        assert offered["ani"] == "5550123"
        assert offered["category"] == "national_priority"
        assert h.peer.names()[-3:] == ["answered", "hanging_up", "end"]
        assert h.last("released")["cause"] == 16
        assert h.chan.state == "idle"
    finally:
        h.close()


def test_openr2_calls_us_we_clear_back(exe):
    h = harness(exe, "itu", ["--role", "out", "--dnis", "12", "--ani", "9"],
                accept_and_answer, max_dnis=2)
    try:
        h.run(10, until=lambda: h.peer.find("answered") is not None)
        h.chan.hangup()                          # clear-back; openr2 must clear forward
        h.run(3, until=lambda: "released" in h.names())
        h.run(0.5)
        assert peer_event(h, "disconnect")["cause"] == "Normal_Clearing"
        assert h.last("released")["cause"] == 16 and h.peer.find("end")
    finally:
        h.close()


@pytest.mark.parametrize("variant", ["itu", "cn"])
@pytest.mark.parametrize("reason,or2_cause", [("busy", "Busy_Number"),
                                              ("unallocated", "Unallocated_Number")])
def test_we_refuse_openr2_call(exe, variant, reason, or2_cause):
    h = harness(exe, variant, ["--role", "out", "--dnis", "777", "--ani", "1"],
                lambda ch, n, f: ch.reject(reason) if n == "offered" else None,
                max_dnis=3, ani_order="after_dnis")
    try:
        h.run(20, until=lambda: "released" in h.names())
        h.run(0.5)
        assert peer_event(h, "disconnect")["cause"] == or2_cause
        assert h.last("released")["cause"] == {"busy": 17, "unallocated": 1}[reason]
        assert h.peer.find("end") and h.chan.state == "idle"
    finally:
        h.close()


# ---- we call openr2 ------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["itu", "cn", "ar", "ve", "co", "br", "mx"])
def test_we_call_openr2_and_clear(exe, variant):
    # openr2's Mexico table reads I-15 after the calling number as "ANI restricted" and drops
    # it; there the peer expects exactly 8 ANI digits so no end-of-ANI signal is needed.
    max_ani = "8" if variant == "mx" else "10"
    h = harness(exe, variant, ["--role", "in", "--max-dnis", "5", "--max-ani", max_ani])
    try:
        h.run(0.2)
        h.chan.make_call("86001", "13912345", "national_subscriber")
        h.run(30, until=lambda: "answered" in h.names())
        offered = peer_event(h, "offered")
        assert offered["dnis"] == "86001"
        assert offered["ani"] == "13912345"
        assert offered["category"] == str(OR2_NATIONAL_SUBSCRIBER)
        assert h.names()[:2] == ["alerting", "answered"]
        h.run(1)
        h.chan.hangup()
        h.run(2, until=lambda: "released" in h.names())
        h.run(0.5)
        assert h.last("released")["cause"] == 16
        assert peer_event(h, "disconnect")["cause"] == "Normal_Clearing"
        assert h.peer.find("end") and h.chan.state == "idle"
    finally:
        h.close()


def test_openr2_clears_back_our_call(exe):
    h = harness(exe, "itu", ["--role", "in", "--max-dnis", "3", "--hangup-after", "20"])
    try:
        h.run(0.2)
        h.chan.make_call("123", "45")
        h.run(10, until=lambda: "released" in h.names())
        h.run(0.5)
        assert h.names() == ["alerting", "answered", "clear_back", "released"]
        assert h.last("released")["cause"] == 16 and h.peer.find("end")
    finally:
        h.close()


@pytest.mark.parametrize("variant", ["itu", "cn"])
@pytest.mark.parametrize("on_offer,cause", [("busy", 17), ("unallocated", 1), ("congestion", 34)])
def test_openr2_refuses_our_call(exe, variant, on_offer, cause):
    h = harness(exe, variant, ["--role", "in", "--max-dnis", "3", "--on-offer", on_offer])
    try:
        h.run(0.2)
        h.chan.make_call("123", "45")
        h.run(20, until=lambda: "released" in h.names())
        h.run(0.5)
        assert h.last("call_failed")["reason"] == on_offer
        assert h.last("released")["cause"] == cause
        assert h.peer.find("end") and h.chan.state == "idle"
    finally:
        h.close()


# ---- China: openr2's calling side and China's A-1 ------------------------------------------
def test_cn_openr2_caller_answers_a1_with_dnis(exe):
    """Finding: openr2 1.3's forward register treats China A-1 ("send next digit") after A-6
    as a DNIS request even while the calling number is being asked for, so with ANI asked
    after the first digit (openr2's own CN order) the calling number is filled with the
    remaining DNIS digits.  This pins the defect down from our (correct) called side."""
    h = harness(exe, "cn", ["--role", "out", "--dnis", "1234", "--ani", "5678"],
                accept_and_answer, max_dnis=4, ani_order="after_first_digit")
    try:
        h.run(30, until=lambda: "offered" in h.names())
        offered = h.last("offered")
        assert (offered["dnis"], offered["ani"]) == ("1", "234")
    finally:
        h.close()


def test_cn_openr2_caller_with_ani_after_dnis(exe):
    """Asking for KA and the calling number after the full DNIS keeps DNIS and category right;
    openr2 then answers A-1 with silence (its DNIS is exhausted and it never sends ANI), our
    incoming register ends ANI by time-out and completes the call with no calling number."""
    h = harness(exe, "cn", ["--role", "out", "--dnis", "1234", "--ani", "5678",
                            "--hangup-after", "10"],
                accept_and_answer, max_dnis=4, ani_order="after_dnis")
    try:
        h.run(30, until=lambda: "released" in h.names())
        h.run(0.5)
        offered = h.last("offered")
        assert (offered["dnis"], offered["ani"], offered["category"]) == \
            ("1234", "", "national_subscriber")
        assert h.peer.names()[-3:] == ["answered", "hanging_up", "end"]
    finally:
        h.close()


def test_dual_seizure_with_openr2(exe):
    """Both ends seize in the same tick.  openr2 1.3 reads the far seize (00) as a forced
    release and clears forward within the same tick, so our end never sees a seize from it
    and only an unanswered seize remains: our seize-acknowledge timer releases (Q.850 102)
    and the circuit returns to idle on both ends."""
    h = harness(exe, "itu", ["--role", "out", "--dnis", "12", "--ani", "3", "--call-at", "5"],
                max_dnis=2)
    try:
        h.run(0.08)
        h.chan.make_call("99", "8")               # sent in tick 5, with openr2's seize
        h.run(12, until=lambda: "released" in h.names())
        h.run(1)
        assert peer_event(h, "disconnect")["cause"] == "Forced_Release"
        assert h.last("released")["cause"] == 102 and h.chan.state == "idle"
        assert h.peer.abcd == 0x9
    finally:
        h.close()


# ---- real tones: our generator/detector against openr2's own MF engine ----------------------
@pytest.mark.parametrize("variant", ["itu", "cn", "ar", "ve", "co", "br", "mx"])
def test_tones_openr2_calls_us(exe, variant):
    pytest.importorskip("timeslot.r2mf")
    from r2_peer.peer import ToneMedia
    h = harness(exe, variant, ["--role", "out", "--dnis", "8123", "--ani", "4455",
                               "--hangup-after", "25"],
                accept_and_answer, media=ToneMedia("forward"), max_dnis=4,
                ani_order="after_dnis" if variant == "cn" else None)
    try:
        h.run(40, until=lambda: "released" in h.names())
        h.run(0.5)
        offered = h.last("offered")
        assert offered["dnis"] == "8123"
        assert offered["ani"] == ("" if variant == "cn" else "4455")
        assert h.peer.find("end") and h.last("released")["cause"] == 16
    finally:
        h.close()


@pytest.mark.parametrize("variant", ["itu", "cn", "ar", "ve", "co", "br", "mx"])
def test_tones_we_call_openr2(exe, variant):
    pytest.importorskip("timeslot.r2mf")
    from r2_peer.peer import ToneMedia
    max_ani = "4" if variant == "mx" else "10"   # see test_we_call_openr2_and_clear
    h = harness(exe, variant, ["--role", "in", "--max-dnis", "4", "--max-ani", max_ani],
                media=ToneMedia("backward"))
    try:
        h.run(0.2)
        h.chan.make_call("8123", "4455")
        h.run(40, until=lambda: "answered" in h.names())
        offered = peer_event(h, "offered")
        assert (offered["dnis"], offered["ani"]) == ("8123", "4455")
        h.chan.hangup()
        h.run(2, until=lambda: "released" in h.names())
        h.run(0.5)
        assert h.last("released")["cause"] == 16 and h.peer.find("end")
    finally:
        h.close()


def test_blocking_seen_by_openr2(exe):
    h = harness(exe, "itu", ["--role", "in"])
    try:
        h.run(0.2)
        h.chan.block()
        h.run(0.2)
        assert h.peer.names()[-1] == "blocked"
        h.chan.unblock()
        h.run(0.2)
        assert h.peer.names()[-1] == "idle"
    finally:
        h.close()
