"""Interop of the switch variants other than EuroISDN against libpri 1.6.

* ``qsig``: QSIG basic call (ECMA-143 / ISO/IEC 11572) on E1 against PRI_SWITCH_QSIG.
  QSIG is symmetric; libpri still takes a "network" or "cpe" node type, so both pairings
  are exercised.
* ``ni2``: National ISDN-2 (Telcordia) on T1 23B+D against PRI_SWITCH_NI2:
  channels 1..23 (D on 24), bearer capability layer 1 G.711 mu-law.

Each scenario runs with our side as network and as user, calling both ways: en-bloc
SETUP / CALL PROCEEDING / ALERTING / CONNECT / CONNECT ACKNOWLEDGE, clearing from either
side with the cause carried end to end, a call rejected by RELEASE COMPLETE, overlap
sending and receiving, RESTART, glare, libpri's calling name operations, and tshark over
the traces; NI-2 also fills the T1.
"""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from isdn_peer.helpers import (
    Recorder,
    answered,
    clear_call,
    overlap_receiving,
    overlap_sending,
    peer_answers,
    q931_sent,
    tap,
    they_call,
    traced_call,
    we_answer,
    we_call,
)
from isdn_peer.peer import SIDES, fixtures

from isdn import ie as ies
from isdn import q931_codec
from isdn.stack import Stack
from isdn.variants import VARIANTS

pytestmark = pytest.mark.interop

# variant -> (a B-channel, the highest B-channel)
PEERS = {"qsig": (5, 31), "ni2": (5, 23)}
VARIANT_NAMES = list(PEERS)
LIBPRI_LAYER1 = {2: 0x22, 3: 0x23}  # G.711 mu-law, A-law as libpri reports them (0x20 | code)


pri_exe, connect = fixtures()


def _layer1(msg) -> int | None:
    return msg.ie("bearer_capability").value["layer1"]


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
@pytest.mark.parametrize("clearer,cause", [("we", 16), ("they", 17)])
def test_we_call(connect, variant, ours, clearer, cause):
    peer, stack, rec, _ = connect(variant, ours)
    call, pid, ring = we_call(peer, stack, PEERS[variant][1])
    assert int(ring[7]) == LIBPRI_LAYER1[VARIANTS[variant].layer1]  # the law libpri read
    peer_answers(peer, call, rec, pid)
    assert _layer1(call.setup) == VARIANTS[variant].layer1
    clear_call(peer, call, rec, pid, clearer, cause)


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
@pytest.mark.parametrize("clearer,cause", [("we", 19), ("they", 21)])
def test_they_call(connect, variant, ours, clearer, cause):
    peer, stack, rec, received = connect(variant, ours)
    call, pid = they_call(peer, rec, PEERS[variant][0])
    assert _layer1(call.setup) == VARIANTS[variant].layer1
    we_answer(peer, call)
    peer.until(lambda: call.role == "ACTIVE" and "CONNECT ACKNOWLEDGE" in received)
    clear_call(peer, call, rec, pid, clearer, cause)
    assert stack.cc.counters["status_sent"] == 0  # nothing libpri sent was refused


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_rejected_both_ways(connect, variant, ours):
    peer, stack, rec, _ = connect(variant, ours)
    peer.send("auto reject 34")
    peer.wait_for("OK auto")
    call = stack.place_call("4000", "0212345678", channel=PEERS[variant][0])
    peer.until(lambda: rec.has("released", call))
    assert rec.first("released", call).cause == 34 and rec.kinds(call) == ["released"]
    peer.send("auto manual")
    peer.send(f"call 3 {PEERS[variant][1]} 4000 0212345678")
    peer.until(lambda: rec.has("offered"))
    rec.first("offered").call.hangup(21)  # offered, unanswered: RELEASE COMPLETE
    assert peer.wait_for("HANGUP").split()[2] == "21"


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_tshark_reads_variant_trace(connect, variant, ours, tmp_path):
    """Both ends' messages of a variant's calls, as we traced them, decode cleanly; the
    one warning allowed is tshark's own: it has no decoder for the ANSI calling name
    operation (OID 1.2.840.10005.0.4) libpri's NI-2 sends in a Facility IE."""
    from conftest import need_program
    tshark = need_program("tshark")
    peer, stack, rec, _ = connect(variant, ours, facility=True)
    peer.send("name Alice")
    channel = PEERS[variant][1]
    traced_call(peer, stack, rec, channel)
    peer.send(f"call 2 {PEERS[variant][0]} 5000 0299999999")
    peer.until(lambda: rec.has("offered"))
    inc = rec.first("offered").call
    inc.hangup(21)
    peer.wait_for("HANGUP")
    stack.tracer.close()
    pcap = str(tmp_path / f"{variant}-{ours}.pcap")
    out = subprocess.run([tshark, "-r", pcap, "-V"], capture_output=True, text=True,
                         check=True).stdout
    assert "Malformed" not in out and "Expert Info (Error" not in out
    warnings = [line for line in out.splitlines() if "Expert Info (Warning" in line]
    assert all("Undecoded INV: 1.2.840.10005.0.4" in w for w in warnings), warnings
    rows = [r.split("|") for r in subprocess.run(
        [tshark, "-r", pcap, "-T", "fields", "-E", "separator=|", "-e", "q931.message_type",
         "-e", "q931.called_party_number.digits", "-e", "q931.calling_party_number.digits",
         "-e", "q931.channel.number", "-e", "q931.cause_value", "-e", "q931.uil1"],
        capture_output=True, text=True, check=True).stdout.splitlines()]
    setups = [r for r in rows if r[0] == "0x05"]
    assert [r[1:4] for r in setups] == [["4000", "0212345678", str(channel)],
                                        ["5000", "0299999999", str(PEERS[variant][0])]]
    assert {r[5] for r in setups} == {f"0x{VARIANTS[variant].layer1:02x}"}
    assert any(r[0] == "0x45" and r[4] == "17" for r in rows)  # libpri's DISCONNECT
    assert any(r[0] == "0x5a" and r[4] == "21" for r in rows)  # our RELEASE COMPLETE


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_calling_name_operations_accepted(connect, variant, ours):
    """libpri with Facility IEs enabled sends the calling name as a supplementary service
    operation (QSIG: ECMA-164 in a Facility IE; NI-2: ANSI calling name operation and a
    display with a display type octet).  The basic call goes on without a STATUS."""
    peer, stack, rec, received = connect(variant, ours, facility=True)
    peer.send("name Alice")
    call, pid = they_call(peer, rec, PEERS[variant][0], ref=1)
    assert call.setup.ie("facility").value["data"]  # kept for the application, not judged
    if "display" in VARIANTS[variant].ie_forms:
        assert call.setup.get("display") == {"display_type": 0x31, "text": "Alice"}
    call.answer()
    peer.wait_for("ANSWER")
    peer.until(lambda: call.role == "ACTIVE" and "CONNECT ACKNOWLEDGE" in received)
    clear_call(peer, call, rec, pid, "they", 16)
    assert stack.cc.counters["status_sent"] == 0


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_overlap_both_ways(connect, variant, ours):
    """Overlap receiving (SETUP ACKNOWLEDGE, INFORMATION) and sending (Q.931 5.1.3, 5.2.4)."""
    peer, stack, rec, _ = connect(variant, ours)
    inc, pid = overlap_receiving(peer, rec, PEERS[variant][0])
    inc.answer()
    peer.wait_for("ANSWER")
    clear_call(peer, inc, rec, pid, "they", 16)
    out, pid = overlap_sending(peer, stack, rec, PEERS[variant][1], "50")
    clear_call(peer, out, rec, pid, "we", 16)


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_restart(connect, variant, ours):
    """RESTART of the highest B-channel both ways (a call on it is cleared with 41), then
    of the whole interface (Q.931 5.5)."""
    peer, stack, rec, _ = connect(variant, ours)
    last = PEERS[variant][1]
    stack.restart([last])
    assert peer.wait_for("RESTART").split()[1] == str(last)
    peer.until(lambda: rec.has("restart_ack"))
    call, _ = answered(peer, stack, last)
    peer.send(f"reset {last}")
    peer.until(lambda: rec.has("restart"))
    assert rec.first("restart").detail["channels"] == [last]
    assert rec.first("released", call).cause == 41
    assert peer.wait_for("RESTART_ACK").split()[1] == str(last)
    stack.restart()
    peer.until(lambda: len(rec.all("restart_ack")) == 2)
    assert stack.cc.channels.idle_count() == len(VARIANTS[variant].channels)


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_glare(connect, variant, ours):
    """Both ends seize the same channel at once (Q.931 5.2.3.1; QSIG side A/B as libpri's
    network/cpe): the network side's call keeps it, the user side's call is refused with 44."""
    peer, stack, rec, _ = connect(variant, ours)
    channel = PEERS[variant][0]
    peer.send(f"call 1 {channel} 5000 0299999999")
    peer.wait_line("CALLID")  # libpri's SETUP is on the wire, not yet read by us
    ours_call = stack.place_call("4000", "0212345678", channel=channel)
    peer.until(lambda: rec.has("offered") or rec.has("rejected"))
    pid = int(peer.wait_for("RING").split()[1])
    if ours == "network":
        assert rec.first("rejected").cause == 44
        assert peer.wait_for("HANGUP").split()[2] == "44"
        peer.send(f"answer {pid}")
        peer.until(lambda: ours_call.role == "ACTIVE")
        assert stack.cc.channels.owner(channel) is ours_call
    else:
        inc = rec.first("offered").call
        assert inc.channel == channel and ours_call.channel is None
        peer.send(f"hangup {pid} 44")  # libpri does not track B-channels: the script does
        peer.until(lambda: rec.has("released", ours_call))
        assert rec.first("released", ours_call).cause == 44
        inc.answer()
        peer.wait_for("ANSWER")
        assert stack.cc.channels.owner(channel) is inc


@pytest.mark.parametrize("ours", SIDES)
def test_ni2_full_t1_span(connect, ours):
    """All 23 B-channels of the T1 carry a call at once; a 24th finds no channel (34)."""
    from isdn.q931 import ChannelBusy
    peer, stack, rec, _ = connect("ni2", ours)
    peer.send("auto answer")
    peer.wait_for("OK auto")
    calls = [stack.place_call(f"40{c:02d}", "0212345678", channel=c) for c in range(1, 24)]
    peer.until(lambda: all(c.role == "ACTIVE" for c in calls))
    rings = [peer.wait_for("RING").split() for _ in calls]
    assert sorted(int(r[2]) for r in rings) == list(range(1, 24))
    assert stack.cc.channels.idle_count() == 0
    with pytest.raises(ChannelBusy) as busy:
        stack.place_call("4024", "0212345678")
    assert busy.value.cause == 34


@pytest.mark.parametrize("ours", SIDES)
def test_ni2_d_channel_is_not_a_b_channel(connect, ours):
    """T1 23B+D: timeslot 24 carries the D-channel; a SETUP naming it is refused with
    cause 82 (identified channel does not exist, Q.931 5.2.3.1)."""
    peer, stack, rec, _ = connect("ni2", ours)
    peer.send("call 1 24 4000 0212345678")
    assert peer.wait_for("HANGUP").split()[2] == "82"
    assert not rec.has("offered")
    with pytest.raises(ValueError):
        Stack(stack.scheduler, ours, variant="ni2", channels=[24])


# ---- the national display form, without libpri -------------------------------------------

_NAMED_SETUP = bytes.fromhex("080200010504038090a21803a98385" "2806b1416c696365"
                             "70058034303030")


def test_display_type_octet_is_ni2_only():
    """Q.931 4.5.16 display text is IA5 (bit 8 = 0): in ETSI a display type octet is
    invalid contents (5.8.7.2); NI-2 reads it as the ANSI display type."""
    etsi = VARIANTS["etsi"].read(q931_codec.decode(_NAMED_SETUP))
    assert etsi.ie("display").error and etsi.ie("display").value is None
    ni2 = VARIANTS["ni2"].read(q931_codec.decode(_NAMED_SETUP))
    assert ni2.get("display") == {"display_type": 0x31, "text": "Alice"}
    assert ni2.called == "4000" and ni2.channel == 5


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.integers(0, 127)),
       st.text(st.characters(max_codepoint=127), max_size=30))
def test_display_typed_round_trip(display_type, text):
    codec = ies.FORMS["display_typed"].codec
    body = codec.build({"display_type": display_type, "text": text})
    if display_type is None and text:
        assert body == text.encode()
    element = ies.decode_form("display_typed", ies.decode_body(0, 0x28, body))
    assert element.value == {"display_type": display_type, "text": text}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_display_typed_arbitrary_bytes(body):
    element = ies.decode_form("display_typed", ies.decode_body(0, 0x28, body))
    assert (element.value is None) == (element.error is not None)


@pytest.mark.parametrize("variant,refused", [("etsi", False), ("qsig", True)])
def test_setup_without_channel(variant, refused):
    """A user's SETUP may leave the channel to the network in ETSI (any channel); a QSIG
    SETUP must name its channel from either side (ECMA-143 is symmetric): RELEASE
    COMPLETE with cause 96, mandatory element missing (Q.931 5.8.6.1)."""
    from core.clock import VirtualClock
    from isdn.stack import memory_pair
    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, variant=variant, on_event_network=rn, on_event_user=ru)
    clock.advance(0.05)
    sent = tap(net)
    user.cc.send(q931_codec.Message("SETUP", 5, False, [ies.bearer(), ies.called("4000")]))
    clock.advance(0.05)
    answers = [(m.name, m.cause) for m in q931_sent(sent)]
    if refused:
        assert answers == [("RELEASE COMPLETE", 96)] and not rn.has("offered")
    else:
        assert rn.first("offered").call.channel is not None and answers == []


# ---- name identification (ECMA-164 for QSIG, GR-1367 for NI-2) ---------------------------


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_names_from_libpri(connect, variant, ours):
    """libpri's calling name reaches the call's ``calling_name`` (QSIG: in SETUP; libpri's
    NI-2 network side announces it with InformationFollowing in SETUP and sends it in
    FACILITY once the call is proceeding); the called name we alert with and the
    connected name we answer with reach libpri in ALERTING and CONNECT."""
    peer, stack, rec, _ = connect(variant, ours, facility=True)
    peer.send("name Alice")
    call, pid = they_call(peer, rec, PEERS[variant][0], ref=1)
    call.proceed()
    peer.until(lambda: call.calling_name == "Alice")
    call.alert(name="Bobby")
    peer.wait_for("RINGING")
    assert peer.wait_for("CONNECTED_NAME").split()[1:] == [str(pid), "Bobby"]
    call.answer(name="Bob")
    peer.wait_for("ANSWER")
    assert peer.wait_for("CONNECTED_NAME").split()[1:] == [str(pid), "Bob"]
    peer.until(lambda: call.role == "ACTIVE")
    clear_call(peer, call, rec, pid, "they", 16)
    assert stack.cc.counters["status_sent"] == 0


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_names_to_libpri(connect, variant, ours):
    """Our calling name in SETUP is libpri's ring calling name; libpri's called name in
    ALERTING and connected name in CONNECT are the call's ``called_name`` and
    ``connected_name`` (libpri sends them for QSIG only)."""
    peer, stack, rec, _ = connect(variant, ours, facility=True)
    call = stack.place_call("4000", "0212345678", channel=PEERS[variant][1],
                            calling_name="Carol")
    ring = peer.wait_for("RING").split()
    assert ring[8] == "Carol"
    pid = int(ring[1])
    sent = variant == "qsig"
    peer.send(f"alert {pid} - Erin")
    peer.until(lambda: call.role == "OUT_DELIVERED")
    assert call.called_name == ("Erin" if sent else None)
    peer.send(f"answer {pid} Dave")
    peer.until(lambda: call.role == "ACTIVE")
    assert call.connected_name == ("Dave" if sent else None)
    names = rec.first("connected", call).detail["names"]
    assert [n.text for n in names.values()] == (["Dave"] if sent else [])
    clear_call(peer, call, rec, pid, "we", 16)


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
@pytest.mark.parametrize("alerted", [False, True])
def test_busy_name_to_libpri(connect, variant, ours, alerted):
    """We refuse libpri's call as user busy with our busy name (ECMA-164 busyName in
    RELEASE COMPLETE, or in DISCONNECT once alerting).  libpri 1.6 decodes the operation
    but does not report it (its pri_facility.c leaves busyName "not handled yet"): its
    call ends with cause 17 and it sends us nothing we refuse."""
    from isdn import facility
    peer, stack, rec, received = connect(variant, ours, facility=True)
    call, pid = they_call(peer, rec, PEERS[variant][0])
    if alerted:
        call.alert()
        peer.wait_for("RINGING")
    sent = tap(stack)
    call.hangup(17, busy_name="Bob")
    if alerted:
        assert peer.wait_for("HANGUP_REQ").split()[1:] == [str(pid), "17"]
        peer.send(f"hangup {pid} 17")
    else:
        assert peer.wait_for("HANGUP ").split()[1:] == [str(pid), "17"]
    peer.until(lambda: rec.has("released", call))
    first = q931_sent(sent)[0]
    assert first.name == ("DISCONNECT" if alerted else "RELEASE COMPLETE")
    assert facility.names([first.ie("facility").value["data"]]) == {
        "busyName": facility.Name("Bob")}
    peer.pump(0.2)
    assert "STATUS" not in received and stack.cc.counters["status_sent"] == 0


# libpri's "name" command -> the ECMA-164 Name libpri sends, and the name presentation it
# reports for ours (PRI_PRES_RESTRICTED 32, PRI_PRES_UNAVAILABLE 64)
PRESENTED = [("Secret restricted", ("Secret", "restricted"), 32),
             ("- restricted", ("", "restricted_null"), 32),
             ("- unavailable", ("", "not_available"), 64)]


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
@pytest.mark.parametrize("command,name,presentation", PRESENTED,
                         ids=[p[1][1] for p in PRESENTED])
def test_name_presentation_with_libpri(connect, variant, ours, command, name, presentation):
    """Calling names that are not presentation allowed (Name [2], [7], [4]), both ways:
    libpri's reach our offered call's names (NI-2: in FACILITY once proceeding), ours
    reach libpri with their presentation; none is a call's ``calling_name``."""
    from isdn import facility
    name = facility.Name(*name)
    peer, stack, rec, _ = connect(variant, ours, facility=True)
    peer.send(f"name {command}")
    peer.send(f"call 1 {PEERS[variant][0]} 4000 0212345678")
    peer.until(lambda: rec.has("offered"))
    call = rec.first("offered").call
    call.proceed()

    def names() -> dict:
        return {op: n for e in rec.events if e.call is call
                for op, n in e.detail.get("names", {}).items()}
    peer.until(lambda: "callingName" in names())
    assert names()["callingName"] == name and call.calling_name is None
    out = stack.place_call("4001", "0212345678", channel=PEERS[variant][1], calling_name=name)
    assert int(peer.wait_for("RING").split()[9]) == presentation
    assert out.calling_name is None
