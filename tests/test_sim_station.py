"""Station board: hook events (debounce, flash window), ringing cadence and ring trip,
DTMF dialling, talk and listen."""

from __future__ import annotations

import numpy as np
import pytest

from core.timers import TimerTable
from drivers.sim import SimSpan, SimSystem
from drivers.sim.station import STATION_TIMERS, StationBoard
from timeslot.dtmf import DtmfDetector

BLOCK = 80  # 10 ms


def run(board: StationBoard, seconds: float) -> list[np.ndarray]:
    out = []
    for _ in range(int(round(seconds * 8000 / BLOCK))):
        board.tick(BLOCK)
        out.append(board.read_block(BLOCK))
    return out


def kinds(board):
    return [(e.kind, e.station) for e in board.events()]


def test_lift_and_hang_up_are_reported_after_debounce_and_flash_window():
    b = StationBoard("st", 2)
    h = b.handsets[1]
    h.lift()
    run(b, 0.02)
    assert b.events() == [] and b.hook(1) == "seizing"  # 30 ms debounce not yet over
    run(b, 0.02)
    ev = b.events()
    assert [(e.kind, e.station) for e in ev] == [("off-hook", 1)]
    assert ev[0].time == pytest.approx(0.03)
    h.hang_up()
    run(b, 0.5)
    assert b.events() == []  # could still be a flash
    run(b, 0.2)
    ev = b.events()
    assert [(e.kind, e.station) for e in ev] == [("on-hook", 1)]
    assert ev[0].time == pytest.approx(0.04)  # the moment the break began


def test_contact_bounce_is_not_reported():
    b = StationBoard("st", 1)
    h = b.handsets[0]
    h.lift()
    h.hang_up(after=0.01)
    run(b, 0.2)
    assert b.events() == [] and b.hook(0) == "on-hook"


@pytest.mark.parametrize("ms, expect", [(40, []), (250, [("flash", 0)]), (900, [("on-hook", 0), ("off-hook", 0)])])
def test_break_length_decides_flash(ms, expect):
    b = StationBoard("st", 1)
    h = b.handsets[0]
    h.lift()
    run(b, 0.1)
    b.events()
    h.flash(ms)
    run(b, 1.5)
    assert kinds(b) == expect


def test_flash_window_is_a_timer_table_row():
    timers = STATION_TIMERS.with_overrides({"flash_max": 1.0})
    assert isinstance(timers, TimerTable)
    b = StationBoard("st", 1, timers=timers)
    h = b.handsets[0]
    h.lift()
    run(b, 0.1)
    b.events()
    h.flash(900)
    run(b, 1.5)
    assert kinds(b) == [("flash", 0)]


def test_ringing_follows_the_cadence_and_stops_on_answer():
    b = StationBoard("st", 1, cadence="itu")
    h = b.handsets[0]
    b.ring(0)
    seen = []
    for _ in range(600):  # 6 s
        b.tick(BLOCK)
        seen.append(h.ringing)
    t = 10 * (np.arange(600) + 1)  # ms at which each sample was taken
    assert seen == (t % 5000 < 1000).tolist()  # 1 s on, 4 s off
    assert h.rings_heard == 2
    h.answer_after = 3
    run(b, 5.1)
    assert h.off_hook and not h.ringing
    assert ("off-hook", 0) in kinds(b)


def test_uk_double_ring_cadence():
    b = StationBoard("st", 1, cadence="uk")
    b.ring(0)
    pattern = []
    for _ in range(300):
        b.tick(BLOCK)
        pattern.append(b.ringing(0))
    t = 10 * (np.arange(300) + 1)  # ms at which each sample was taken
    expect = (t % 3000 < 400) | ((t % 3000 >= 600) & (t % 3000 < 1000))
    assert pattern == expect.tolist()


def test_dialled_digits_are_dtmf_on_the_channel():
    b = StationBoard("st", 3)
    h = b.handsets[2]
    h.lift()
    run(b, 0.1)
    h.dial("123#")
    det = DtmfDetector(3)
    digits = []
    for blk in run(b, 1.0):
        digits += [chr(e.value) for e in det.process(blk) if e.channel == 2]
    digits += [chr(e.value) for e in det.finish() if e.channel == 2]
    assert "".join(digits) == "123#"


def test_talk_and_listen_while_off_hook_only():
    b = StationBoard("st", 2)
    h = b.handsets[0]
    speech = np.arange(200, dtype=np.uint8)
    h.talk(speech)
    on_hook = np.concatenate(run(b, 0.05), axis=1)[0]
    assert np.all(on_hook == b.silence)  # an on-hook phone sends nothing
    h.lift()
    got = np.concatenate(run(b, 0.05), axis=1)[0]
    assert np.array_equal(got[:200], speech) and np.all(got[200:] == b.silence)
    to_phone = np.full((2, BLOCK), 0x2A, np.uint8)
    b.write_block(to_phone)
    b.tick(BLOCK)
    assert np.array_equal(h.received(), to_phone[0])
    assert b.handsets[1].received().size == 0  # on-hook phone hears nothing


def test_station_board_ticks_with_the_sim_system():
    sim = SimSystem()
    SimSpan("trunk", system=sim)
    b = StationBoard("agents", 4, system=sim)
    b.handsets[3].lift()
    sim.run(0.1)
    assert kinds(b) == [("off-hook", 3)]
    assert b.read_block(160).shape == (4, 160)


def test_station_board_alone_in_a_system():
    sim = SimSystem()
    b = StationBoard("agents", 1, system=sim)
    b.handsets[0].lift()
    sim.run(0.1)
    assert kinds(b) == [("off-hook", 0)]


def test_bad_arguments():
    with pytest.raises(ValueError):
        StationBoard("st", 0)
    with pytest.raises(ValueError):
        StationBoard("st", 1, cadence="martian")
    b = StationBoard("st", 1)
    with pytest.raises(IndexError):
        b.ring(5)
    with pytest.raises(ValueError):
        b.write_block(np.zeros((2, 10), np.uint8))
    with pytest.raises(ValueError):
        b.handsets[0].talk(np.zeros(10, np.float32))


def test_talk_linear_samples_are_encoded_with_the_board_law():
    from timeslot.g711 import alaw_encode
    b = StationBoard("st", 1)
    h = b.handsets[0]
    h.lift()
    pcm = (3000 * np.sin(np.arange(160) * 2 * np.pi * 1004 / 8000)).astype(np.int16)
    h.talk(pcm)
    got = np.concatenate(run(b, 0.02), axis=1)[0]
    assert np.array_equal(got[:160], alaw_encode(pcm))
