"""Interop: our Q.921/Q.931 stack against libpri over the hdlc-socket transport.

Every scenario runs with us as the network side (libpri as CPE) and as the user side
(libpri as network), ETSI (EuroISDN E1).  libpri runs in real time, so our timers
under test are shortened; libpri's own are left at their defaults.
"""

from __future__ import annotations

import pytest
from isdn_peer.helpers import (
    answered,
    clear_call,
    cut,
    mend,
    overlap_receiving,
    overlap_sending,
    peer_answers,
    they_call,
    traced_call,
    we_answer,
    we_call,
)
from isdn_peer.peer import SIDES, fixtures

from isdn.bchannels import BState

pytestmark = pytest.mark.interop



pri_exe, connect = fixtures()


# (clearing side, cause) pairs: every cause of the issue travels end to end both ways
CLEARINGS = [("we", 16), ("they", 17), ("we", 19), ("they", 21), ("we", 34), ("they", 16)]


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("clearer,cause", CLEARINGS[:4])
def test_we_call_en_bloc(connect, ours, clearer, cause):
    peer, stack, rec, _ = connect("etsi", ours)
    call, pid, _ = we_call(peer, stack, 1)
    peer_answers(peer, call, rec, pid)
    clear_call(peer, call, rec, pid, clearer, cause)


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("clearer,cause", CLEARINGS[2:])
def test_they_call_en_bloc(connect, ours, clearer, cause):
    peer, stack, rec, _ = connect("etsi", ours)
    call, pid = they_call(peer, rec, 5)
    we_answer(peer, call)
    peer.until(lambda: call.role == "ACTIVE" and not call.timers.running("T313"))
    clear_call(peer, call, rec, pid, clearer, cause)


@pytest.mark.parametrize("ours", SIDES)
def test_overlap_receiving(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours)
    call, pid = overlap_receiving(peer, rec, 2)
    we_answer(peer, call)
    peer.send(f"hangup {pid} 16")
    peer.until(lambda: rec.has("released", call))


@pytest.mark.parametrize("ours", SIDES)
def test_overlap_sending(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours)
    call, pid = overlap_sending(peer, stack, rec, 3, "40")
    clear_call(peer, call, rec, pid, "we", 16)


@pytest.mark.parametrize("ours", SIDES)
def test_progress_inband(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours)
    call = stack.place_call("4000", "0212345678", channel=4)
    pid = int(peer.wait_for("RING").split()[1])
    peer.send(f"proceed {pid}")
    peer.send(f"progress {pid}")
    peer.until(lambda: rec.has("progress"))
    assert rec.first("progress").detail["description"] == 8
    peer.send(f"alert {pid} inband")
    peer.until(lambda: rec.has("alerting"))
    assert rec.first("alerting").detail["inband"]
    clear_call(peer, call, rec, pid, "we", 16)
    # and the other way: we report in-band information to libpri
    peer.send("call 2 6 4000 0212345678")
    peer.until(lambda: rec.has("offered"))
    inc = rec.first("offered").call
    inc.proceed()
    inc.progress(8)
    assert peer.wait_for("PROGRESS").split()[2] != "0"


@pytest.mark.parametrize("ours", SIDES)
def test_rejected_with_release_complete(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours)
    peer.send("auto reject 34")  # libpri answers a SETUP with RELEASE COMPLETE for 34
    peer.wait_for("OK auto")
    call = stack.place_call("4000", "0212345678", channel=7)
    peer.until(lambda: rec.has("released", call))
    assert rec.first("released", call).cause == 34
    assert rec.kinds(call) == ["released"]
    peer.send("auto manual")
    peer.send("call 3 8 4000 0212345678")
    peer.until(lambda: rec.has("offered"))
    rec.first("offered").call.hangup(21)  # offered, unanswered: RELEASE COMPLETE
    assert peer.wait_for("HANGUP").split()[2] == "21"


@pytest.mark.parametrize("ours", SIDES)
def test_t303_setup_sent_twice_then_cleared(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours, q931={"T303": 0.3})
    peer.send("auto ignore")
    peer.wait_for("OK auto")
    sent = []
    orig = stack.transport.send
    stack.transport.send = lambda f: (sent.append(bytes(f)), orig(f))[1]
    call = stack.place_call("4000", "0212345678", channel=9)
    peer.until(lambda: rec.has("released", call), timeout=10)
    setups = [f for f in sent if len(f) > 8 and f[4] == 0x08 and f[4 + 1 + 2 + 1] == 0x05]
    assert len(setups) == 2
    assert rec.first("released", call).cause == (18 if ours == "network" else 102)


@pytest.mark.parametrize("ours", SIDES)
def test_t305_then_release(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours, q931={"T305": 0.3})
    call, pid = answered(peer, stack, 10)
    call.hangup(16)  # libpri (manual) does not answer DISCONNECT: T305 expires
    peer.wait_for("HANGUP_REQ")
    peer.until(lambda: call.role == "RELEASE_REQUEST" or rec.has("released", call), timeout=10)
    peer.until(lambda: rec.has("released", call), timeout=10)
    assert rec.first("released", call).cause == 16


@pytest.mark.parametrize("ours", SIDES)
def test_t308_twice_then_channel_restarted(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours, q931={"T305": 0.2, "T308": 0.2})
    call, pid = answered(peer, stack, 11)
    cut(peer)
    call.hangup(16)
    peer.until(lambda: rec.has("released", call), timeout=10)
    assert rec.first("released", call).cause == 102
    assert stack.cc.channels.state(11) in (BState.RESTART, BState.MAINTENANCE)
    mend(peer)
    peer.until(lambda: rec.has("restart_ack"), timeout=8)
    assert stack.cc.channels.state(11) is BState.IDLE


@pytest.mark.parametrize("ours", SIDES)
def test_restart_b_channel(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours)
    stack.restart([12])
    assert peer.wait_for("RESTART").split()[1] == "12"
    peer.until(lambda: rec.has("restart_ack"))
    assert stack.cc.channels.state(12) is BState.IDLE
    # libpri restarts a channel carrying one of our calls: the call is cleared
    call, pid = answered(peer, stack, 13)
    peer.send("reset 13")
    peer.until(lambda: rec.has("restart"))
    assert rec.first("restart").detail["channels"] == [13]
    assert rec.first("released", call).cause == 41
    assert peer.wait_for("RESTART_ACK").split()[1] == "13"
    # the whole interface (restart class 7; libpri's pri_restart() sends nothing here)
    stack.restart()
    peer.until(lambda: len(rec.all("restart_ack")) == 2)
    assert rec.all("restart_ack")[1].detail["channels"] is None
    assert stack.cc.channels.idle_count() == 30


@pytest.mark.parametrize("ours", SIDES)
def test_link_failure_keeps_active_call(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours, lapd={"T200": 0.2, "T203": 0.4})
    call, pid = answered(peer, stack, 14)
    cut(peer)
    peer.until(lambda: rec.has("link_down"), timeout=10)  # T203, then T200 x N200
    assert call.timers.running("T309") and call.role == "ACTIVE"
    mend(peer)
    peer.until(lambda: len(rec.all("link_up")) >= 2, timeout=10)
    peer.pump(0.3)
    assert call.role == "ACTIVE" and not call.timers.running("T309")
    assert not any(line.startswith("HANGUP") for line in peer.log)  # libpri kept it too
    clear_call(peer, call, rec, pid, "we", 16)


@pytest.mark.parametrize("ours", SIDES)
def test_full_span_then_glare_on_last_channel(connect, ours):
    peer, stack, rec, _ = connect("etsi", ours)
    peer.send("auto answer")
    peer.wait_for("OK auto")
    channels = [c for c in range(1, 31) if c != 16]
    calls = [stack.place_call(f"40{c:02d}", "0212345678", channel=c) for c in channels]
    peer.until(lambda: all(c.role == "ACTIVE" for c in calls), timeout=10)
    assert stack.cc.channels.idle_count() == 1
    # glare: libpri's SETUP for channel 31 is on the wire before ours reaches it
    peer.send("auto manual")
    peer.send("call 1 31 5000 0299999999")
    peer.wait_line("CALLID")
    ours_call = stack.place_call("4031", "0212345678", channel=31)
    peer.until(lambda: rec.has("offered") or rec.has("rejected"), timeout=10)
    if ours == "network":
        # the network's choice stands: the user's SETUP is refused with cause 44
        assert rec.first("rejected").cause == 44
        pid = int(peer.wait_for("RING 31").split()[1])
        assert peer.wait_for("HANGUP").split()[2] == "44"
        assert stack.cc.channels.owner(31) is ours_call
        peer.send(f"answer {pid}")
        peer.until(lambda: ours_call.role == "ACTIVE")
    else:
        # we are the user: the network's call takes channel 31 and our SETUP loses it;
        # the network (libpri does not track B-channels: the script does) refuses it
        inc = rec.first("offered").call
        assert inc.channel == 31 and stack.cc.channels.owner(31) is inc
        assert ours_call.channel is None
        pid = int(peer.wait_for("RING 31").split()[1])
        peer.send(f"hangup {pid} 44")
        peer.until(lambda: rec.has("released", ours_call), timeout=10)
        assert rec.first("released", ours_call).cause == 44
        assert rec.first("released", ours_call).detail["glare"]  # "glare, retry"
        inc.answer()
        peer.wait_for("ANSWER")
    assert stack.cc.channels.idle_count() == 0


def test_tshark_reads_interop_trace(connect, tmp_path):
    """libpri's messages and ours, as we traced them, decode cleanly in tshark."""
    import subprocess

    from conftest import need_program
    tshark = need_program("tshark")
    peer, stack, rec, _ = connect("etsi", "network")
    traced_call(peer, stack, rec, 5)
    stack.tracer.close()
    pcap = str(tmp_path / "etsi-network.pcap")
    out = subprocess.run([tshark, "-r", pcap, "-V"], capture_output=True, text=True,
                         check=True).stdout
    assert "Malformed" not in out and "Expert Info (Warning" not in out
    fields = subprocess.run([tshark, "-r", pcap, "-T", "fields", "-E", "separator=|",
                             "-e", "q931.message_type", "-e", "q931.cause_value"],
                            capture_output=True, text=True, check=True).stdout
    assert "0x45|17" in fields.splitlines()  # libpri's DISCONNECT with cause 17


# ---- BRI point-to-multipoint: two libpri terminals on one bus, our network side --------


@pytest.fixture
def bri_bus(pri_exe):
    """Two libpri basic access terminals on one bus facing our MultipointNetwork."""
    from isdn_peer.peer import bri_bus
    with bri_bus(pri_exe) as bus_and_recorder:
        yield bus_and_recorder


def test_bri_ptmp_libpri_terminals_obtain_distinct_teis(bri_bus):
    bus, _ = bri_bus
    assert sorted(bus.stack.terminals) == [64, 65]  # Q.921 5.3.2 automatic values


def test_bri_ptmp_first_connect_selected_other_terminal_gets_26(bri_bus):
    """Q.931 5.2.1 broadcast SETUP; both libpri terminals ring and alert; the one that
    answers gets the call, the other is cleared with cause 26 (5.2.9)."""
    bus, rec = bri_bus
    call = bus.stack.place_call("2000", "3000")
    rings = [peer.wait_for("RING") for peer in bus.peers]
    assert all(r.split()[3:5] == ["2000", "3000"] for r in rings)
    ids = [r.split()[1] for r in rings]
    for peer, cid in zip(bus.peers, ids, strict=True):
        peer.send(f"alert {cid}")
    bus.until(lambda: call.role == "OUT_DELIVERED")
    bus.peers[1].send(f"answer {ids[1]}")
    assert bus.peers[0].wait_for("HANGUP ").split()[2] == "26"  # RELEASE received
    bus.until(lambda: call.role == "ACTIVE")
    assert [e.kind for e in rec.all("connected")] == ["connected"]
    call.hangup(16)
    assert bus.peers[1].wait_for("HANGUP_REQ").split()[2] == "16"  # our DISCONNECT
    bus.peers[1].send(f"hangup {ids[1]} 16")
    bus.until(lambda: rec.has("released", call))
    assert bus.stack.cc.calls == {}


def test_bri_ptmp_terminal_calls_the_network(bri_bus):
    bus, rec = bri_bus

    def answer(ev):
        rec(ev)
        if ev.kind == "offered":
            ev.call.answer()
    bus.stack.cc.on_event = answer
    bus.peers[0].send("call 7 1 5000 6000")
    assert bus.peers[0].wait_for("ANSWER")
    offered = rec.first("offered")
    assert offered.call.called == "5000" and offered.call.calling == "6000"
    assert offered.call.link.tei in bus.stack.terminals  # on the calling terminal's link
