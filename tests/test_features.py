"""Hold, transfer, conference and park in the kernel's switch, checked by the DTMF each
party hears (simulated handsets on a station board dial; the others' audio is detected)."""

from __future__ import annotations

import numpy as np
import pytest

from cti.calls import Call, CallState
from cti.features import FeatureError, Features
from cti.kernel import Kernel
from cti.media import MediaEngine
from cti.trunks.station import StationTrunk
from drivers.sim import SimSystem
from drivers.sim.station import StationBoard
from timeslot.dtmf import DtmfDetector


@pytest.fixture
def office():
    kernel = Kernel(virtual=True)
    system = SimSystem()
    board = StationBoard("phones", stations=4, system=system)
    board.open()
    kernel.add_ticker(_StationTicker(board))
    stations = StationTrunk(kernel, "phones", board)
    media = MediaEngine(kernel)
    feats = Features(kernel, media)
    legs = []

    async def answer_all():
        for i in range(4):
            leg = Call(trunk=stations, direction="out", dnis=str(i), clock=kernel.now)
            leg.dial()
            board.handsets[i].lift()
            legs.append(leg)
        for leg in legs:
            assert await leg.wait(CallState.CONNECTED, timeout=2) is CallState.CONNECTED

    kernel.run(answer_all())
    yield kernel, board, feats, legs
    kernel.close()


class _StationTicker:
    def __init__(self, board):
        self.board = board

    def tick(self, frames: int) -> None:
        self.board.tick(frames)


def heard(board, kernel, station: int, digits_from: int, digits: str) -> str:
    """Station ``digits_from`` dials ``digits``; what does ``station`` hear?"""
    for h in board.handsets:
        h.clear_received()
    board.handsets[digits_from].dial(digits)
    kernel.run_for(0.3 * len(digits) + 0.3)
    audio = board.handsets[station].received()
    det = DtmfDetector(1)
    events = det.process(audio[None, :]) + det.finish()
    return "".join(chr(e.value) for e in events)


def test_bridge_hold_retrieve(office):
    kernel, board, feats, (a, b, *_) = office
    feats.bridge(a, b)
    assert heard(board, kernel, 1, 0, "1") == "1"
    assert heard(board, kernel, 0, 1, "2") == "2"
    feats.hold(a)
    assert a.state is CallState.HELD
    assert heard(board, kernel, 1, 0, "3") == ""
    held_audio = board.handsets[0].received()
    assert np.any(held_audio != held_audio[0])  # music on hold, not silence
    feats.retrieve(a)
    assert heard(board, kernel, 1, 0, "4") == "4"
    with pytest.raises(FeatureError):
        feats.retrieve(a)


def test_consultative_transfer(office):
    kernel, board, feats, (caller, agent, expert, _) = office
    feats.bridge(caller, agent)
    kernel.run(feats.consult(caller, agent, _answered(expert)))
    assert heard(board, kernel, 2, 1, "5") == "5"  # agent and expert talk
    assert heard(board, kernel, 0, 1, "6") == ""  # the caller is on hold
    feats.complete_transfer(caller, agent, expert)
    kernel.run_for(0.5)
    assert agent.state is CallState.RELEASED
    assert heard(board, kernel, 2, 0, "7") == "7"


def _answered(call: Call) -> Call:
    """An already answered leg stands in for a new outgoing call in these tests."""
    call.dial = lambda: None  # type: ignore[method-assign]
    return call


def test_three_party_conference_with_whispering_coach(office):
    kernel, board, feats, (caller, agent, third, coach) = office
    feats.conference([caller, agent, third], coach=coach, coach_of=agent)
    assert heard(board, kernel, 1, 0, "8") == "8"
    assert heard(board, kernel, 2, 0, "9") == "9"
    assert heard(board, kernel, 3, 0, "0") == "0"  # the coach hears everyone
    assert heard(board, kernel, 1, 3, "1") == "1"  # the agent hears the coach
    assert heard(board, kernel, 0, 3, "2") == ""  # the caller does not
    assert heard(board, kernel, 2, 3, "3") == ""


def test_park_and_unpark(office):
    kernel, board, feats, (caller, agent, other, _) = office
    feats.bridge(caller, agent)
    n = feats.park(caller)
    assert feats.status()["parked"] == {n: caller.id}
    feats.unpark(n, other)
    assert heard(board, kernel, 2, 0, "4") == "4"
    with pytest.raises(FeatureError):
        feats.unpark(n, other)


def test_features_need_answered_calls(office):
    kernel, board, feats, legs = office
    idle = Call(trunk=legs[0].trunk, direction="out", dnis="0", clock=kernel.now)
    with pytest.raises(FeatureError):
        feats.hold(idle)

