"""Simulated spans and cables: every impairment gives the alarms and counters the
recommendations predict; voice and CAS cross the cable; loopbacks; board config."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from drivers.base import BoardError, ChannelMode, Loopback, Signalling, SpanConfig
from drivers.sim import Cable, LoopPlug, SimBoard, SimSpan, SimSystem
from drivers.sim.system import FRAME_RATE, Impairment

RNG = np.random.default_rng(775)
VOICE = [ts for ts in range(1, 32) if ts != 16]


def pair(clock_a: str = "master", clock_b: str = "master", **cfg):
    a = SimSpan("a", SpanConfig(clock=clock_a, **cfg))
    b = SimSpan("b", SpanConfig(clock=clock_b, **cfg))
    cable = Cable(a, b)
    return a, b, cable, a.system


def counters(span) -> dict:
    return span.status().counters.as_dict()


# ----------------------------------------------------------------------------- clean line
def test_clean_cable_aligns_both_ends_without_errors():
    a, b, _, sim = pair()
    sim.run(0.5)
    for s in (a, b):
        assert s.status().alarms == []
        assert s.details()["crc4"] == "aligned"
        c = counters(s)
        # E = 0 is sent until the far receiver has multiframe alignment (G.704 2.3.3.4)
        assert c["crc4_errors"] == c["fas_errors"] == c["slips"] == 0 and c["ebit_errors"] < 40
        s.clear_counters()
    sim.run(0.5)
    for s in (a, b):
        assert all(v == 0 for v in counters(s).values())


def _delay(sent: list[np.ndarray], got: list[np.ndarray]) -> int:
    tx = np.concatenate(sent, axis=1)
    rx = np.concatenate(got, axis=1)
    probe = rx[VOICE, -400:]
    for d in range(0, tx.shape[1] - 400):
        if np.array_equal(tx[VOICE, tx.shape[1] - 400 - d:tx.shape[1] - d], probe):
            return d
    raise AssertionError("received voice is not the sent voice at any delay")


@pytest.mark.parametrize("delay_bits", [0, 5])
def test_voice_is_byte_exact_on_30_channels_both_ways(delay_bits):
    a, b, cable, sim = pair(signalling="cas")
    cable.impair("both", delay_bits=delay_bits)
    sent = {"a": [], "b": []}
    got = {"a": [], "b": []}
    for _ in range(60):
        for s in (a, b):
            blk = RNG.integers(0, 256, (32, 160), dtype=np.uint8)
            s.write_block(blk)
            sent[s.name].append(blk)
        sim.tick(160)
        for s in (a, b):
            got[s.name].append(s.read_block(160))
    da = _delay(sent["a"][20:], got["b"][20:])
    db = _delay(sent["b"][20:], got["a"][20:])
    assert da == db and da <= 2  # the elastic store holds at most two frames
    assert counters(a)["slips"] == counters(b)["slips"] == 0


def test_cas_bits_cross_the_cable():
    a, b, _, sim = pair(signalling="cas")
    sim.run(0.1)
    want = {ts: int(RNG.integers(1, 16)) for ts in range(1, 32) if ts != 16}
    for ts, v in want.items():
        a.cas_tx(ts, v)
    sim.run(0.02)
    got = b.cas_rx()
    assert {ts: int(got[ts]) for ts in want} == want
    assert b.status().alarms == []


def test_national_bits_cross_the_cable():
    a, b, _, sim = pair(framing="no-crc4")
    a.set_national_bits(sa=0b10110, si=1)
    sim.run(0.05)
    assert b.details()["sa"] == 0b10110 and b.status().alarms == []
    with pytest.raises(ValueError):
        a.set_national_bits(sa=64)


def test_abcd_0000_refused_on_channels_1_to_15():
    a, *_ = pair(signalling="cas")
    with pytest.raises(ValueError, match="0000"):
        a.cas_tx(3, 0)
    a.cas_tx(20, 0)  # channels 16..30 sit in the low nibble: allowed


# ----------------------------------------------------------------------------- bit errors
def test_ber_gives_crc4_errors_and_far_end_e_bits():
    a, b, cable, sim = pair()
    sim.run(0.1)
    a.clear_counters()
    cable.impair("a->b", ber=1e-3)
    seconds = 2.0
    sim.run(seconds)
    blocks = seconds * 1000  # sub-multiframes per second
    n = 2048
    p0 = (1 - 1e-3) ** n
    p1 = n * 1e-3 * (1 - 1e-3) ** (n - 1)
    detected = p1 + (1 - p0 - p1) * 15 / 16  # single errors always, others 1 - 2^-4
    expect = blocks * detected
    cable.impair("a->b")
    sim.run(0.1)  # let the E bits still queued at b reach a
    nb, na = counters(b), counters(a)
    assert abs(nb["crc4_errors"] - expect) < 0.05 * expect
    assert nb["crc4_errors"] == na["ebit_errors"]  # every errored block reported back
    assert na["crc4_errors"] == 0
    fas_expect = seconds * FRAME_RATE / 2 * 7 * 1e-3
    assert abs(nb["fas_errors"] - fas_expect) < 5 * math.sqrt(fas_expect)
    bpv_expect = seconds * 2.048e6 * 1e-3  # one bipolar violation per line error
    assert abs(nb["bpv"] - bpv_expect) < 5 * math.sqrt(bpv_expect) and na["bpv"] == 0
    assert b.status().alarms == [] and a.status().alarms == []


def test_low_ber_counts_are_near_the_expected_block_error_ratio():
    a, b, cable, sim = pair()
    sim.run(0.1)
    cable.impair("a->b", ber=1e-5)
    sim.run(5.0)
    expect = 5000 * (1 - (1 - 1e-5) ** 2048)
    got = counters(b)["crc4_errors"]
    assert abs(got - expect) < 5 * math.sqrt(expect)


def test_error_bursts_hit_one_or_two_blocks_each():
    a, b, cable, sim = pair()
    sim.run(0.1)
    cable.impair("a->b", burst=(100, 0.1))
    sim.run(2.0)
    n = counters(b)["crc4_errors"]
    assert 18 <= n <= 42  # 20 bursts; one that covers a C bit also fails the block before
    assert counters(a)["ebit_errors"] >= n - 2


# ----------------------------------------------------------------------------- defects
def test_los_near_los_and_lof_far_rai_then_recovery():
    a, b, cable, sim = pair()
    sim.run(0.1)
    cable.impair("a->b", los=True)
    sim.run(0.05)
    assert b.status().alarms == ["LOS", "LOF"]
    assert a.status().alarms == ["RAI"]
    assert np.all(b.read_block(160) == 0xFF)  # AIS towards the system while out of frame
    cable.impair("a->b")
    sim.run(0.1)
    assert a.status().alarms == [] and b.status().alarms == []


def test_ais_near_ais_only_far_rai():
    a, b, cable, sim = pair()
    sim.run(0.1)
    cable.impair("a->b", ais=True)
    sim.run(0.05)
    assert b.status().alarms == ["AIS"]  # AIS takes precedence over the LOF it causes
    assert a.status().alarms == ["RAI"]


def test_cabling_merges_systems_and_the_board_follows():
    x = SimBoard("x", 1)
    y = SimBoard("y", 1)
    cable = Cable(x.spans[0], y.spans[0])
    assert x.system is y.system is cable.system
    x.open()
    y.open()
    x.system.run(0.1)
    y.close()
    x.system.run(0.05)
    assert "LOS" in x.spans[0].status().alarms


def test_board_closed_is_los_at_the_far_end():
    sim = SimSystem()
    x = SimBoard("x", 1, system=sim)
    y = SimBoard("y", 1, system=sim)
    Cable(x.spans[0], y.spans[0])
    x.open()
    y.open()
    sim.run(0.1)
    assert y.spans[0].status().alarms == []
    x.close()
    sim.run(0.05)
    assert "LOS" in y.spans[0].status().alarms


def test_bit_slip_on_the_cable_realigns():
    a, b, cable, sim = pair()
    sim.run(0.1)
    cable.impair("a->b", delay_bits=3)
    sim.run(0.1)
    d = b.details()
    assert d["lof_events"] == 1 and d["framed"] and b.status().alarms == []


# ----------------------------------------------------------------------------- clocks
def _slip_rate(span, sim, seconds: float) -> float:
    sim.run(2.0)  # past the first slip (the store starts centred)
    before = counters(span)["slips"]
    sim.run(seconds)
    return (counters(span)["slips"] - before) / seconds


def test_free_running_pair_slips_at_the_rate_the_offset_implies():
    """100 ppm of 8000 frames/s = 0.8 frame/s: one controlled slip every 1.25 s."""
    a, b, _, sim = pair("free-run:100", "master")
    rate_b = _slip_rate(b, sim, 10.0)
    assert rate_b == pytest.approx(0.8, abs=0.11)
    rate_a = (counters(a)["slips"] - 0) / sim.time
    assert rate_a == pytest.approx(0.8, abs=0.15)
    assert counters(a)["crc4_errors"] == counters(b)["crc4_errors"] == 0  # slips hit payload


def test_slaved_span_follows_the_far_end_and_never_slips():
    a, b, _, sim = pair("free-run:100", "slave:b")
    sim.run(6.0)
    assert counters(a)["slips"] == counters(b)["slips"] == 0


def test_cable_ppm_slips_only_at_the_receiver_of_that_direction():
    a, b, cable, sim = pair()
    cable.impair("a->b", ppm=-50)
    assert _slip_rate(b, sim, 10.0) == pytest.approx(0.4, abs=0.11)
    assert counters(a)["slips"] == 0


# ----------------------------------------------------------------------------- loopbacks
def test_local_loopback_returns_our_own_payload():
    a, b, _, sim = pair()
    a.set_loopback(Loopback.LOCAL)
    blk = RNG.integers(0, 256, (32, 160), dtype=np.uint8)
    for _ in range(20):
        a.write_block(blk)
        sim.tick(160)
    got = a.read_block(160)
    assert a.status().alarms == []
    assert np.array_equal(got[VOICE, 1:], blk[VOICE, :-1])


@pytest.mark.parametrize("mode", [Loopback.LINE, Loopback.PAYLOAD])
def test_remote_loopbacks_return_what_we_send(mode):
    a, b, _, sim = pair()
    b.set_loopback(mode)
    blk = RNG.integers(0, 256, (32, 160), dtype=np.uint8)
    for _ in range(30):
        a.write_block(blk)
        sim.tick(160)
    got = a.read_block(160)
    assert a.status().alarms == []
    rows = got[VOICE]
    # a constant block: the loop's delay is a rotation of the columns
    assert any(np.array_equal(np.roll(blk[VOICE], k, axis=1), rows) for k in range(160))


def test_loop_plug():
    s = SimSpan("p")
    LoopPlug(s)
    s.system.run(0.1)
    assert s.status().alarms == []


def test_unconnected_span_has_los():
    s = SimSpan("lonely")
    s.system.run(0.05)
    assert s.status().alarms == ["LOS", "LOF"]


def test_crc4_interworking_timer_is_a_table_row():
    from drivers.sim.span import E1_TIMERS
    a = SimSpan("a", SpanConfig(framing="crc4"),
                timers=E1_TIMERS.with_overrides({"crc4_interworking": 0.1}))
    b = SimSpan("b", SpanConfig(framing="no-crc4"))
    Cable(a, b)
    a.system.run(0.2)
    assert a.details()["crc4"] == "interworking" and a.status().alarms == []
    assert b.details()["crc4"] == "off" and b.status().alarms == []


# ----------------------------------------------------------------------------- HDLC
def test_hdlc_links_of_all_spans_cross_the_cables():
    pytest.importorskip("timeslot.hdlc")
    sim = SimSystem()
    spans = [SimSpan(f"s{i}", system=sim) for i in range(4)]
    Cable(spans[0], spans[1])
    Cable(spans[2], spans[3])
    for s in spans:
        s.set_channel_mode(16, ChannelMode.HDLC)
    spans[2].set_channel_mode(7, ChannelMode.HDLC)
    spans[3].set_channel_mode(7, ChannelMode.HDLC)
    sim.run(0.1)
    frames = [bytes(RNG.integers(0, 256, n, dtype=np.uint8)) for n in (3, 60, 260)]
    for f in frames:
        spans[0].hdlc_send(16, f)
    spans[3].hdlc_send(7, b"\x7e\x7d\xff")  # flag and escape octets: bit stuffing
    sim.run(0.2)
    assert spans[1].hdlc_recv(16) == frames
    assert spans[2].hdlc_recv(7) == [b"\x7e\x7d\xff"]
    assert spans[1].hdlc_recv(16) == [] and spans[3].hdlc_recv(16) == []
    with pytest.raises(BoardError):
        spans[0].hdlc_send(5, b"x")  # not an HDLC timeslot


# ----------------------------------------------------------------------------- config
def test_board_from_config():
    b = SimBoard.from_config("pstn", {"type": "sim", "spans": 2, "framing": "crc4",
                                       "signalling": "cas"})
    assert [s.name for s in b.spans] == ["pstn/1", "pstn/2"]
    assert b.spans[0].config.signalling is Signalling.CAS
    with pytest.raises(ConfigError, match="spans"):
        SimBoard.from_config("x", {"type": "sim", "spans": 0})
    with pytest.raises(ConfigError, match="colour"):
        SimBoard.from_config("x", {"type": "sim", "colour": "red"})
    with pytest.raises(ConfigError, match="clock"):
        SimBoard.from_config("x", {"type": "sim", "clock": "slave:"})


def test_bad_impairments_and_wiring_are_refused():
    a, b, cable, sim = pair()
    with pytest.raises(ValueError):
        cable.impair("a->b", ber=2.0)
    with pytest.raises(TypeError):
        cable.impair("a->b", noise=1)
    with pytest.raises(ValueError):
        cable.impair("sideways")
    with pytest.raises(ValueError):
        Impairment(delay_bits=9)
    c = SimSpan("c", system=sim)
    with pytest.raises(BoardError):
        sim.connect(c, b)  # b already receives from a
    with pytest.raises(BoardError):
        b.read_block(7)  # no block of that size was received
    cas = SimSpan("d", SpanConfig(signalling="cas"), system=sim)
    with pytest.raises(BoardError):
        cas.set_channel_mode(16, ChannelMode.VOICE_ALAW)
    with pytest.raises(ValueError):
        a.write_block(np.zeros((31, 160), np.uint8))


_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 40), st.text(max_size=12),
                    st.sampled_from(["sim", "crc4", "no-crc4", "cas", "ccs", "hdb3", "master",
                                     "free-run:50", "slave:x"]))


@settings(max_examples=60)
@given(st.dictionaries(st.sampled_from(["type", "spans", "framing", "signalling", "line_code",
                                        "clock", "colour"]), _values))
def test_any_board_table_builds_or_raises_config_error(cfg):
    try:
        board = SimBoard.from_config("x", cfg)
    except ConfigError as e:
        assert e.key is not None
    else:
        assert 1 <= len(board.spans) <= 16
