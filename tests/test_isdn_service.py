"""B-channel maintenance with SERVICE / SERVICE ACKNOWLEDGE (NI-2, national maintenance
protocol discriminator 0x43; AT&T 0x03 codes read too): octets, the procedure back to back
on the virtual clock (T3M1), and against libpri's NI-2 SERVICE handling both ways."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st
from isdn_peer.helpers import Recorder, q931_sent, tap

from core.clock import VirtualClock
from isdn import ie as ies
from isdn import q931_codec as codec
from isdn.bchannels import BState
from isdn.q931 import ChannelBusy
from isdn.stack import memory_pair

# SERVICE, B-channel 5 out of service: PD 0x43, global call reference (2 octets), type 0x07,
# change status c2 (ext, preference channel, status 2), channel id a9 83 85 (PRI, exclusive)
SERVICE_OOS_5 = bytes.fromhex("43 02 00 00 07 01 01 c2 18 03 a9 83 85")


def test_service_octets_national_and_att():
    m = codec.decode(SERVICE_OOS_5)
    assert (m.pd, m.name, m.call_ref, m.channel) == (0x43, "SERVICE", 0, 5)
    assert m.get("change_status") == {"ext": 1, "preference": 1, "status": 2}
    assert codec.encode(m) == SERVICE_OOS_5
    att = codec.decode(bytes.fromhex("03 02 80 00 07 01 01 c0 18 03 a9 83 85"))
    assert (att.name, att.flag) == ("SERVICE ACKNOWLEDGE", True)  # AT&T: 0x07 is the ack
    assert codec.decode(bytes.fromhex("43 02 80 00 0f 01 01 c0")).name == "SERVICE ACKNOWLEDGE"


@given(st.sampled_from([0x43, 0x03]), st.sampled_from(["SERVICE", "SERVICE ACKNOWLEDGE"]),
       st.integers(0, 1), st.integers(0, 7), st.lists(st.integers(1, 23), min_size=1,
                                                       max_size=3))
def test_maintenance_message_round_trip(pd, name, preference, status, channels):
    msg = codec.Message(name, 0, False, [
        ies.make("change_status", preference=preference, status=status),
        ies.make("channel_id", interface_id_present=False, pri=True, exclusive=True,
                 dchan=False, selection=1, coding=0, map=False, element_type=3,
                 channels=channels)], 2, pd=pd)
    back = codec.decode(codec.encode(msg))
    assert (back.pd, back.name, back.get("change_status")["status"]) == (pd, name, status)
    assert back.get("channel_id")["channels"] == channels


@pytest.fixture
def pair():
    clock = VirtualClock()
    net_rec, user_rec = Recorder(), Recorder()
    net, user = memory_pair(clock, variant="ni2", on_event_network=net_rec,
                            on_event_user=user_rec)
    clock.advance(0.1)
    return clock, net, user, net_rec, user_rec


def test_channel_out_of_service_and_back(pair):
    clock, net, user, net_rec, user_rec = pair
    net.service([5], in_service=False)
    clock.advance(0.1)
    ev = user_rec.first("service")
    assert ev.detail == {"channels": [5], "status": "out_of_service",
                         "requested": "out_of_service"}
    assert user.cc.channels.state(5) is BState.MAINTENANCE
    assert net.cc.channels.state(5) is BState.MAINTENANCE
    ack = net_rec.first("service_ack")
    assert ack.detail["acknowledged"] and ack.detail["status"] == "out_of_service"
    assert net.status()["maintenance"]["awaiting_ack"] == []
    with pytest.raises(ChannelBusy):  # no new call on it, from either side
        user.place_call("4000", channel=5)
    call = net.place_call("4000")  # hunting passes it by
    assert call.channel != 5
    net.service([5], in_service=True)
    clock.advance(0.1)
    assert user.cc.channels.state(5) is BState.IDLE and net.cc.channels.state(5) is BState.IDLE
    assert user_rec.all("service")[-1].detail["status"] == "in_service"


def test_a_busy_channel_keeps_its_call_and_goes_to_maintenance_after_it(pair):
    clock, net, user, net_rec, user_rec = pair
    call = user.place_call("4000", channel=7)
    clock.advance(0.1)
    incoming = net_rec.first("offered").call
    incoming.answer()
    clock.advance(0.1)
    net.service([7], in_service=False)
    clock.advance(0.1)
    assert (call.state, incoming.state) == ("U10", "N10")  # active, both sides
    assert user.cc.channels.state(7) is BState.BUSY
    call.hangup(16)
    clock.advance(0.5)
    assert user.cc.channels.state(7) is BState.MAINTENANCE
    assert net.cc.channels.state(7) is BState.MAINTENANCE


def test_unacknowledged_service_is_sent_again_then_maintenance_is_told(pair):
    clock, net, user, net_rec, user_rec = pair
    user.cc.maintenance = None  # a peer without SERVICE support: ignores the message
    sent = tap(net)
    net.service(None, in_service=False)  # the whole interface
    clock.advance(net.cc.timer_table.values["T3M1"] * 2 + 1)
    services = [m for m in q931_sent(sent) if m.name == "SERVICE"]
    assert len(services) == 2 and services[0].get("change_status")["preference"] == 0
    ack = net_rec.first("service_ack")
    assert ack.detail == {"channels": None, "status": "out_of_service", "acknowledged": False}
    assert user.cc.counters["ignored"] >= 2


def test_etsi_ignores_the_maintenance_discriminator():
    clock = VirtualClock()
    net, user = memory_pair(clock)
    clock.advance(0.1)
    with pytest.raises(ValueError, match="no SERVICE"):
        net.service([5], in_service=False)
    before = user.cc.counters["ignored"]
    user.cc.dl_data_ind(None, SERVICE_OOS_5)
    assert user.cc.counters["ignored"] == before + 1
    assert user.cc.channels.state(5) is BState.IDLE


@pytest.fixture(scope="module")
def pri_exe():
    from isdn_peer.peer import require
    return require()


@pytest.mark.interop
@pytest.mark.parametrize("ours", ["network", "user"])
def test_service_against_libpri_both_ways(pri_exe, tmp_path, ours):
    from isdn_peer.peer import PriPeer

    from isdn.stack import Stack

    rec = Recorder()
    pcap = tmp_path / "service.pcap"

    def factory(clock, sock):
        s = Stack(clock, ours, sock, variant="ni2", on_event=rec)
        s.trace_to(str(pcap))
        s.start()
        return s

    peer = PriPeer(pri_exe, "cpe" if ours == "network" else "network", factory, switch="ni2",
                   law="ulaw", service=True)
    try:
        peer.wait_for("UP")
        peer.until(lambda: peer.stack.link_up)
        stack = peer.stack
        stack.service([5], in_service=False)
        assert peer.wait_for("SERVICE ").split()[1:] == ["5", "2"]
        peer.until(lambda: rec.has("service_ack"))
        assert rec.first("service_ack").detail["acknowledged"]
        peer.send("service 9 2")  # libpri takes channel 9 out of service
        peer.until(lambda: rec.has("service"))
        assert rec.first("service").detail["channels"] == [9]
        assert stack.cc.channels.state(9) is BState.MAINTENANCE
        assert peer.wait_for("SERVICE_ACK").split()[1:] == ["9", "2"]
        peer.send("service 9 0")
        peer.until(lambda: stack.cc.channels.state(9) is BState.IDLE)
    finally:
        peer.close()
        stack.tracer.close()
    out = subprocess.run(["tshark", "-r", str(pcap), "-Y", "q931.disc == 0x43", "-T", "fields",
                          "-e", "q931.disc", "-e", "_ws.malformed", "-e", "_ws.expert"],
                         capture_output=True, text=True, timeout=60).stdout.split("\n")
    rows = [r for r in out if r]
    assert len(rows) >= 4 and all(r.split("\t")[1:] == ["", ""] for r in rows), rows
