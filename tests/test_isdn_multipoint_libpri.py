"""BRI point-to-multipoint network side against two libpri terminals (point-to-multipoint
CPE, automatic TEI) on one bus: overlap receiving by the terminals on a broadcast SETUP
(Q.931 5.2.4, 5.2.5.2) and RESTART on every terminal's data link (5.5)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def pri_exe():
    from isdn_peer.peer import require
    return require()


@pytest.fixture
def bri_bus(pri_exe):
    from isdn_peer.peer import bri_bus
    with bri_bus(pri_exe) as bus_and_recorder:
        yield bus_and_recorder


def test_overlap_receiving_libpri_terminals_on_a_broadcast_setup(bri_bus):
    """SETUP without sending complete: both terminals acknowledge; the rest of the
    number reaches each in INFORMATION on its own link; the one that answers gets the
    call, the other is cleared with 26."""
    bus, rec = bri_bus
    call = bus.stack.place_call("20", "3000", overlap=True)
    rings = [peer.wait_for("RING") for peer in bus.peers]
    assert all(r.split()[3] == "20" and r.split()[5] == "0" for r in rings)  # not complete
    ids = [r.split()[1] for r in rings]
    for peer, cid in zip(bus.peers, ids, strict=True):
        peer.send(f"needmore {cid}")
    bus.until(lambda: call.role == "OUT_OVERLAP")
    bus.until(lambda: sum(r == "SETUP ACKNOWLEDGE"
                          for r in call.offer.responders.values()) == 2)
    call.send_digits("00", complete=True)
    infos = [peer.wait_for("INFO") for peer in bus.peers]
    assert all(i.split()[2].endswith("00") for i in infos)
    bus.peers[1].send(f"answer {ids[1]}")
    assert bus.peers[0].wait_for("HANGUP ").split()[2] == "26"
    bus.until(lambda: call.role == "ACTIVE")
    assert call.offer.selected is call.link and call.link in bus.stack.terminals.values()
    call.hangup(16)
    bus.peers[1].wait_for("HANGUP_REQ")
    bus.peers[1].send(f"hangup {ids[1]} 16")
    bus.until(lambda: rec.has("released", call))


def test_restart_reaches_both_libpri_terminals_and_both_acknowledge(bri_bus):
    bus, rec = bri_bus
    call = bus.stack.place_call("2000", "3000", channel=1)
    rings = [peer.wait_for("RING") for peer in bus.peers]
    ids = [r.split()[1] for r in rings]
    bus.peers[0].send(f"answer {ids[0]}")
    bus.until(lambda: call.role == "ACTIVE")
    bus.stack.restart([1])
    assert call.role == "NULL"
    for peer in bus.peers:
        assert peer.wait_for("RESTART ").split()[1] == "1"
    bus.until(lambda: rec.has("restart_ack"))
    assert rec.first("restart_ack").detail["channels"] == [1]
    assert bus.stack.cc.channels.snapshot()[1] == "idle" and bus.stack.cc.restarting == {}


def test_restart_of_the_interface_from_the_network(bri_bus):
    bus, rec = bri_bus
    bus.stack.restart()
    for peer in bus.peers:
        peer.wait_for("RESTART ")
    bus.until(lambda: rec.has("restart_ack"))
    assert set(bus.stack.cc.channels.snapshot().values()) == {"idle"}


def test_every_libpri_terminal_clears_caller_gets_user_busy(bri_bus):
    """Both terminals alert, then clear with DISCONNECT (21 and 17, in either order): when
    the last responder has gone the caller is cleared with 17 before 21 (5.2.5.3).  (libpri's
    terminal ignores a broadcast SETUP it rejects before responding, which 5.2.2 allows.)"""
    bus, rec = bri_bus
    call = bus.stack.place_call("2000", "3000")
    ids = [peer.wait_for("RING").split()[1] for peer in bus.peers]
    for peer, cid in zip(bus.peers, ids, strict=True):
        peer.send(f"alert {cid}")
    bus.until(lambda: len(call.offer.responders) == 2)
    for peer, cid, cause in zip(bus.peers, ids, (21, 17), strict=True):
        peer.send(f"hangup {cid} {cause}")
    bus.until(lambda: rec.has("released", call))
    assert rec.first("released", call).cause == 17
    assert sorted(call.offer.rejections) == [17, 21]  # the two terminals race
