"""Timer expiry and data link failure of the QSIG and NI-2 variants against libpri 1.6.

The EuroISDN runs of the same procedures are in ``test_isdn_libpri.py``; here each runs
for ``qsig`` (E1, PRI_SWITCH_QSIG) and ``ni2`` (T1 23B+D, PRI_SWITCH_NI2) with our side as
network and as user (libpri as cpe / network).  Our timers are shortened through the
stack's timer tables (libpri runs in real time); libpri's are its defaults unless a test
says otherwise.  What is checked is what the peer sees on the wire and what our
application is told:

* T303 (Q.931 5.1.1 / 5.2.1, table 9-1): SETUP sent twice, then RELEASE COMPLETE 102; the
  application gets 18 on the network side (no user responding), 102 on the user side.
* T310 (5.1.5 / 5.2.5.4): CALL PROCEEDING and nothing more: DISCONNECT 102.
* T301 (table 9-1/9-2): ALERTING and no CONNECT: DISCONNECT 19 (no answer).
* T304 (5.1.3): SETUP ACKNOWLEDGE and no digits sent: DISCONNECT 102; T302 (5.1.3 /
  5.2.4): SETUP ACKNOWLEDGE sent and no digits received: DISCONNECT 28.
* T305 (5.3.3 / 5.3.4): DISCONNECT unanswered: RELEASE with the DISCONNECT's cause.
* T308 (5.3.3 / 5.3.4): RELEASE unanswered: RELEASE again, then the call reference is
  released (102), the B-channel goes to maintenance and is RESTARTed (5.5).
* T309 (5.8.9): the D-channel cut with one call active and one alerting: the active call
  is kept while the link is re-established (STATUS ENQUIRY after it), the other is
  cleared with 27 on both ends; when the link stays down longer than T309 the active call
  is cleared with 27 on both ends too.
"""

from __future__ import annotations

import subprocess

import pytest
import test_isdn_variants as basic
from isdn_peer.helpers import (
    answered,
    clear_call,
    cut,
    mend,
    peer_answers,
    q931_sent,
    tap,
    they_call,
    we_call,
)

from isdn.bchannels import BState
from isdn.variants import VARIANTS

pytestmark = pytest.mark.interop

# the libpri peer and the connect(variant, ours, q931=, lapd=, peer_timers=) fixture of
# the basic call tests
pri_exe, connect = basic.pri_exe, basic.connect
PEERS, SIDES, VARIANT_NAMES = basic.PEERS, basic.SIDES, basic.VARIANT_NAMES

# our LAPD timers while the link is cut: T203 notices the silence, T200 x N200 gives up
FAST_LINK = {"T200": 0.2, "T203": 0.4}


def _sent(frames: list) -> list[tuple[str, int | None]]:
    """(message, cause) of the Q.931 messages among tapped frames."""
    return [(m.name, m.cause) for m in q931_sent(frames)]


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_t303_setup_twice_then_cleared(connect, variant, ours):
    peer, stack, rec, received = connect(variant, ours, q931={"T303": 0.3})
    peer.send("auto ignore")
    peer.wait_for("OK auto")
    sent = tap(stack)
    channel = PEERS[variant][0]
    call = stack.place_call("4000", "0212345678", channel=channel)
    peer.until(lambda: rec.has("released", call))
    assert _sent(sent) == [("SETUP", None), ("SETUP", None), ("RELEASE COMPLETE", 102)]
    assert rec.first("released", call).cause == (18 if ours == "network" else 102)
    peer.pump(0.3)
    assert received == []  # libpri dropped its call silently: no STATUS, no answer
    assert stack.cc.channels.state(channel) is BState.IDLE and not stack.cc.calls


# our call stalls after libpri's first response: (timer, libpri's command, the event it
# gives us, the role we are then in, overlap sending, the cause of our DISCONNECT)
STALLS = [("T310", "proceed", "proceeding", "OUT_PROCEEDING", False, 102),
          ("T301", "alert", "alerting", "OUT_DELIVERED", False, 19),  # no answer
          ("T304", "needmore", "more_info", "OUT_OVERLAP", True, 102)]  # no INFORMATION


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
@pytest.mark.parametrize("timer,command,event,role,overlap,cause", STALLS,
                         ids=[s[0] for s in STALLS])
def test_our_call_stalls(connect, variant, ours, timer, command, event, role, overlap,
                         cause):
    """T310 / T301 / T304 expire: our DISCONNECT with the timer's cause, libpri clears."""
    peer, stack, rec, _ = connect(variant, ours, q931={timer: 0.3})
    call, pid, _ = we_call(peer, stack, PEERS[variant][0], "40" if overlap else "4000",
                           overlap=overlap)
    peer.send(f"{command} {pid}")
    peer.until(lambda: rec.has(event, call))
    assert call.role == role
    assert peer.wait_for("HANGUP_REQ").split()[1:] == [str(pid), str(cause)]  # DISCONNECT
    peer.send(f"hangup {pid} {cause}")
    peer.until(lambda: rec.has("released", call))
    assert rec.kinds(call)[-2:] == [event, "released"]
    assert rec.first("released", call).cause == cause


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_t302_overlap_receiving_incomplete(connect, variant, ours):
    peer, stack, rec, _ = connect(variant, ours, q931={"T302": 0.3})
    call, pid = they_call(peer, rec, PEERS[variant][1], "40", overlap=True, ref=1)
    call.more_info()  # SETUP ACKNOWLEDGE; libpri sends no more digits
    assert peer.wait_for("HANGUP_REQ").split()[1:] == [str(pid), "28"]  # incomplete number
    peer.send(f"hangup {pid} 28")
    peer.until(lambda: rec.has("released", call))
    assert rec.first("released", call).cause == 28


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_t305_disconnect_unanswered(connect, variant, ours):
    peer, stack, rec, _ = connect(variant, ours, q931={"T305": 0.3})
    call, pid = answered(peer, stack, PEERS[variant][1])
    sent = tap(stack)
    call.hangup(17)  # libpri (manual) reports DISCONNECT and does not answer it
    assert peer.wait_for("HANGUP_REQ").split()[1:] == [str(pid), "17"]
    peer.until(lambda: rec.has("released", call))
    assert _sent(sent) == [("DISCONNECT", 17), ("RELEASE", 17)]
    assert rec.first("released", call).cause == 17
    assert peer.wait_for("HANGUP ").split()[1:] == [str(pid), "17"]  # RELEASE taken


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_t308_twice_then_channel_restarted(connect, variant, ours):
    peer, stack, rec, _ = connect(variant, ours, q931={"T305": 0.2, "T308": 0.2})
    channel = PEERS[variant][0]
    call, _ = answered(peer, stack, channel)
    sent = tap(stack)
    cut(peer)
    call.hangup(16)
    peer.until(lambda: rec.has("released", call))
    assert rec.first("released", call).cause == 102
    assert _sent(sent) == [("DISCONNECT", 16), ("RELEASE", 16), ("RELEASE", 16), ("RESTART", None)]
    restart = q931_sent(sent)[-1]
    assert restart.get("channel_id")["channels"] == [channel]
    assert stack.cc.channels.state(channel) is BState.RESTART
    mend(peer)
    peer.until(lambda: rec.has("restart_ack"))
    assert rec.first("restart_ack").detail["channels"] == [channel]
    assert stack.cc.channels.state(channel) is BState.IDLE


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_link_failure_keeps_active_call(connect, variant, ours):
    """Q.931 5.8.9 on both ends (libpri's link timers shortened too, so it sees the
    failure): the active call survives; our alerting call and libpri's call we alerted
    are cleared with 27."""
    peer, stack, rec, _ = connect(variant, ours, lapd=FAST_LINK,
                                  peer_timers={"T200": 200, "T203": 400})
    active, pid_active = answered(peer, stack, PEERS[variant][0])
    ringing, pid_ringing, _ = we_call(peer, stack, PEERS[variant][1], "4001")
    peer.send(f"alert {pid_ringing}")
    peer.until(lambda: ringing.role == "OUT_DELIVERED")
    incoming, pid_incoming = they_call(peer, rec, 7, "5000", ref=9)
    incoming.alert()
    peer.wait_for(f"RINGING {pid_incoming}")
    cut(peer)
    peer.until(lambda: rec.has("link_down"))  # T203, then T200 x N200
    assert active.role == "ACTIVE" and active.timers.running("T309")
    assert [rec.first("released", c).cause for c in (ringing, incoming)] == [27, 27]
    assert stack.cc.channels.idle_count() == len(VARIANTS[variant].channels) - 1
    peer.wait_for("DOWN", timeout=5)
    hangups = {peer.wait_for("HANGUP ").split()[1] for _ in range(2)}  # libpri: the same
    assert hangups == {str(pid_ringing), str(pid_incoming)}
    assert all(line.endswith(" 27") for line in peer.log if line.startswith("HANGUP "))
    sent = tap(stack)
    mend(peer)
    peer.until(lambda: len(rec.all("link_up")) >= 2)
    peer.wait_for("UP")
    peer.until(lambda: "STATUS ENQUIRY" in [m for m, _ in _sent(sent)])
    peer.until(lambda: not active.timers.running("T322"))  # libpri's STATUS arrived
    peer.pump(0.3)
    assert active.role == "ACTIVE" and not active.timers.running("T309")  # compatible
    assert not any(line.startswith(f"HANGUP {pid_active}") for line in peer.log)
    clear_call(peer, active, rec, pid_active, "they", 16)


@pytest.mark.parametrize("ours", SIDES)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_t309_expiry_clears_active_call(connect, variant, ours):
    """The link stays down longer than T309 on both ends (libpri's link timers and T309
    shortened too): each clears the active call internally with 27 (5.8.9), the channel
    is idle, and once the link is back a new call takes the same channel."""
    peer, stack, rec, _ = connect(variant, ours, lapd=FAST_LINK, q931={"T309": 0.5},
                                  peer_timers={"T200": 200, "T203": 400, "T309": 500})
    channel = PEERS[variant][1]
    call, pid = answered(peer, stack, channel)
    cut(peer)
    peer.until(lambda: rec.has("released", call))
    # kept through T309 (0.5 s) after the link went down, then cleared with 27 (timed on
    # the events themselves: a loaded host may wake the test later than T309)
    assert rec.time_of("released", call) - rec.time_of("link_down") >= 0.45
    assert rec.first("released", call).cause == 27
    assert stack.cc.channels.state(channel) is BState.IDLE and not stack.cc.calls
    assert peer.wait_for(f"HANGUP {pid}").split()[2] == "27"  # libpri's T309
    mend(peer)
    peer.until(lambda: len(rec.all("link_up")) >= 2)
    again, pid, _ = we_call(peer, stack, channel)
    peer_answers(peer, again, rec, pid)
    clear_call(peer, again, rec, pid, "we", 16)


@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_tshark_reads_timer_trace(connect, variant, tmp_path):
    """A trace of T303 (SETUP twice, RELEASE COMPLETE 102) and T305 (DISCONNECT, RELEASE)
    decodes cleanly in tshark with the variant's channel and causes."""
    from conftest import need_program
    tshark = need_program("tshark")
    peer, stack, rec, _ = connect(variant, "network", q931={"T303": 0.2, "T305": 0.2})
    peer.send("auto ignore")
    peer.wait_for("OK auto")
    lost = stack.place_call("4000", "0212345678", channel=PEERS[variant][0])
    peer.until(lambda: rec.has("released", lost))
    peer.send("auto manual")
    peer.wait_for("OK auto")
    call, _ = answered(peer, stack, PEERS[variant][1], "4001")
    call.hangup(16)
    peer.until(lambda: rec.has("released", call))
    stack.tracer.close()
    pcap = str(tmp_path / f"{variant}-network.pcap")
    out = subprocess.run([tshark, "-r", pcap, "-V"], capture_output=True, text=True,
                         check=True).stdout
    assert "Malformed" not in out and "Expert Info (" not in out
    rows = [r.split("|") for r in subprocess.run(
        [tshark, "-r", pcap, "-Y", "q931", "-T", "fields", "-E", "separator=|", "-e",
         "q931.message_type", "-e", "q931.channel.number", "-e", "q931.cause_value", "-e",
         "q931.uil1"], capture_output=True, text=True, check=True).stdout.splitlines()]
    setups = [r for r in rows if r[0] == "0x05"]
    assert [r[1] for r in setups] == [str(PEERS[variant][0])] * 2 + [str(PEERS[variant][1])]
    assert {r[3] for r in setups} == {f"0x{VARIANTS[variant].layer1:02x}"}
    ours = [(r[0], r[2]) for r in rows if r[0] in ("0x5a", "0x45", "0x4d")]
    assert ("0x5a", "102") in ours  # RELEASE COMPLETE after the second T303
    assert ("0x45", "16") in ours and ("0x4d", "16") in ours  # DISCONNECT, then RELEASE
