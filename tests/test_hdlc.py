"""HDLC bank (timeslot.hdlc): ISO/IEC 13239 framing, counters, and spandsp interop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import need_library
from timeslot.hdlc import TX_QUEUE, HdlcBank, HdlcError


def bits_of(octets: np.ndarray) -> str:
    """Line bits in time order: each timeslot octet MSB first (G.704)."""
    return "".join(f"{int(o):08b}" for o in octets)


def octets_of(bits: str) -> np.ndarray:
    bits += "1" * (-len(bits) % 8)
    return np.array([int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)], np.uint8)


def frame_bits(payload: bytes, fcs: int) -> str:
    """A frame as ISO/IEC 13239 puts it on the line: octets LSB first, FCS low octet
    first, zero inserted after five ones; no flags."""
    raw = "".join(f"{b:08b}"[::-1] for b in payload + fcs.to_bytes(2, "little"))
    out, ones = [], 0
    for bit in raw:
        out.append(bit)
        ones = ones + 1 if bit == "1" else 0
        if ones == 5:
            out.append("0")
            ones = 0
    return "".join(out)


def pump(tx: HdlcBank, rx: HdlcBank, frames=160, blocks=None, corrupt=None):
    """Run tx -> line -> rx until every queue is empty (plus two blocks of time fill)."""
    got, line = [], []
    idle_blocks = 0
    n = 0
    while idle_blocks < 2 and (blocks is None or n < blocks):
        out = np.zeros((tx.links, frames), np.uint8)
        tx.tx(out)
        if corrupt is not None:
            corrupt(out)
        line.append(out.copy())
        got += rx.rx(out)
        busy = any(tx.queued(k) for k in range(tx.links))
        idle_blocks = 0 if busy else idle_blocks + 1
        n += 1
    return got, np.concatenate(line, axis=1)


def test_fcs_check_values():
    # ISO/IEC 13239 FCS of "123456789": 0x906E (16-bit), 0xCBF43926 (32-bit)
    assert HdlcBank(1).fcs(b"123456789") == 0x906E
    assert HdlcBank(1, fcs=32).fcs(b"123456789") == 0xCBF43926


def test_line_bits_are_the_recommendation():
    tx = HdlcBank(1)
    payload = b"\x00\x01\xff\x3f"
    tx.send(0, payload)
    out = np.zeros((1, 16), np.uint8)
    tx.tx(out)
    bits = bits_of(out[0])
    want = "01111110" + frame_bits(payload, tx.fcs(payload)) + "01111110"
    assert bits.startswith(want)
    assert bits[len(want):] == "01111110" * ((len(bits) - len(want)) // 8) + \
        "01111110"[:(len(bits) - len(want)) % 8]


frame_st = st.binary(min_size=2, max_size=300)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), frame_st), max_size=20),
       st.sampled_from([16, 32]), st.booleans(), st.sampled_from(["flags", "ones"]),
       st.integers(1, 160))
def test_round_trip(frames, fcs, share, idle, block):
    tx = HdlcBank(3, fcs=fcs, max_frame=300, share_flags=share, idle=idle)
    rx = HdlcBank(3, fcs=fcs, max_frame=300)
    want = {k: [] for k in range(3)}
    pending = list(frames)
    got = []
    while pending or any(tx.queued(k) for k in range(3)):
        while pending and tx.queued(pending[0][0]) < TX_QUEUE:
            link, f = pending.pop(0)
            tx.send(link, f)
            want[link].append(f)
        g, _ = pump(tx, rx, frames=block, blocks=1)
        got += g
    g, _ = pump(tx, rx, frames=block)
    got += g
    for k in range(3):
        assert [f for link, f in got if link == k] == want[k]
        c, t = rx.counters(k), tx.counters(k)
        assert c["rx_frames"] == t["tx_frames"] == len(want[k])
        assert c["rx_octets"] == t["tx_octets"] == sum(map(len, want[k]))
        errors = ("rx_bad_fcs", "rx_aborts", "rx_too_short", "rx_too_long", "rx_misaligned")
        assert all(c[e] == 0 for e in errors)


def test_flag_sharing_on_the_line():
    for share, flags_between in ((True, 1), (False, 2)):
        tx = HdlcBank(1, share_flags=share)
        tx.send(0, b"\x01\x02")
        tx.send(0, b"\x03\x04")
        out = np.zeros((1, 40), np.uint8)
        tx.tx(out)
        bits = bits_of(out[0])
        f1, f2 = frame_bits(b"\x01\x02", tx.fcs(b"\x01\x02")), frame_bits(b"\x03\x04",
                                                                           tx.fcs(b"\x03\x04"))
        assert f1 + "01111110" * flags_between + f2 + "01111110" in bits
        assert f1 + "01111110" * (flags_between + 1) + f2 not in bits


def test_receiver_accepts_shared_zero_flags_and_unaligned_frames():
    p = b"\x10\x20\x30"
    fb = frame_bits(p, HdlcBank(1).fcs(p))
    # flags sharing their zeros (011111101111110), frames at odd bit offsets
    bits = "111" + "0111111011111101111110" + fb + "011111101111110" + fb + "01111110" * 3
    rx = HdlcBank(1)
    assert rx.rx(octets_of(bits)[None, :]) == [(0, p), (0, p)]


def test_idle_ones_is_not_an_abort():
    tx, rx = HdlcBank(1, idle="ones"), HdlcBank(1)
    tx.send(0, b"abc")
    got, line = pump(tx, rx)
    assert got == [(0, b"abc")]
    assert rx.counters(0)["rx_aborts"] == 0
    assert (line[0, -100:] == 0xFF).all()


def test_abort_sent_and_detected():
    tx, rx = HdlcBank(1), HdlcBank(1)
    tx.send(0, bytes(range(200)))
    tx.send(0, b"after")
    out = np.zeros((1, 50), np.uint8)
    tx.tx(out)
    rx.rx(out)
    assert tx.abort(0) is True
    got, _ = pump(tx, rx)
    assert got == [(0, b"after")]
    assert tx.counters(0)["tx_aborts"] == 1 and rx.counters(0)["rx_aborts"] == 1
    assert tx.abort(0) is False
    tx.send(0, b"x1")
    tx.send(0, b"x2")
    tx.abort(0, flush=True)
    assert tx.queued(0) == 0


def test_octets_while_hunting_are_counted():
    # Q.703 4.1 octet counting: after an abort the receiver counts octets until a flag
    rx = HdlcBank(1)
    rx.rx(np.full((1, 4), 0x7E, np.uint8))
    rx.rx(np.full((1, 20), 0xFF, np.uint8))
    c = rx.counters(0)
    assert c["rx_hunt_octets"] >= 18 and c["rx_aborts"] == 0
    rx.rx(np.full((1, 4), 0x7E, np.uint8))       # the octet holding the flag ends the hunt
    assert rx.counters(0)["rx_hunt_octets"] == c["rx_hunt_octets"] + 1


def test_length_limits_counted():
    tx = HdlcBank(1, min_frame=1, max_frame=400)
    rx = HdlcBank(1, min_frame=3, max_frame=100)
    for f in (b"\x01", b"\x01\x02", b"abc", bytes(101), bytes(300), b"end"):
        tx.send(0, f)
    got, _ = pump(tx, rx)
    assert got == [(0, b"abc"), (0, b"end")]
    c = rx.counters(0)
    assert c["rx_too_short"] == 2 and c["rx_too_long"] == 2


def test_bad_fcs_and_misaligned_counted():
    p = b"\x11\x22\x33"
    good = frame_bits(p, HdlcBank(1).fcs(p))
    bad_fcs = frame_bits(p, HdlcBank(1).fcs(p) ^ 1)
    flag = "01111110"
    bits = flag + good + flag + bad_fcs + flag + good[:-3] + flag + good + flag * 2
    rx = HdlcBank(1)
    assert rx.rx(octets_of(bits)[None, :]) == [(0, p), (0, p)]
    c = rx.counters(0)
    assert c["rx_bad_fcs"] == 1 and c["rx_misaligned"] == 1


def test_filter_repeats():
    tx = HdlcBank(2)
    rx = HdlcBank(2)
    rx.configure(1, filter_repeats=True)
    seq = [b"FISU", b"FISU", b"FISU", b"MSU1", b"FISU", b"FISU"]
    for f in seq:
        tx.send(0, f)
        tx.send(1, f)
        pump(tx, rx, blocks=1)
    got, _ = pump(tx, rx)
    assert rx.counters(0)["rx_frames"] == 6
    assert rx.counters(1)["rx_frames"] == 3 and rx.counters(1)["rx_repeats"] == 3


def test_random_bit_errors_are_counted_never_crash():
    rng = np.random.default_rng(7)
    tx, rx = HdlcBank(4, max_frame=64), HdlcBank(4, max_frame=64)
    sent = set()
    for _ in range(50):
        for k in range(4):
            if tx.queued(k) < TX_QUEUE:
                f = rng.bytes(int(rng.integers(2, 64)))
                sent.add(f)
                tx.send(k, f)

        def corrupt(out):
            flips = rng.random(out.shape + (8,)) < 2e-3
            out ^= np.packbits(flips, axis=-1)[..., 0]

        got, _ = pump(tx, rx, blocks=1, corrupt=corrupt)
        assert all(f in sent for _, f in got)
    errors = sum(rx.counters(k)[e] for k in range(4) for e in
                 ("rx_bad_fcs", "rx_aborts", "rx_misaligned", "rx_too_short", "rx_too_long"))
    assert errors > 0
    assert sum(rx.counters(k)["rx_frames"] for k in range(4)) > 0


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=600), st.sampled_from([16, 32]))
def test_arbitrary_line_bytes(data, fcs):
    rx = HdlcBank(2, fcs=fcs, max_frame=40)
    block = np.frombuffer(data * 2, np.uint8).reshape(2, -1)
    for link, f in rx.rx(block):
        assert link in (0, 1) and 2 <= len(f) <= 40


def test_bad_arguments():
    with pytest.raises(HdlcError):
        HdlcBank(0)
    with pytest.raises(HdlcError):
        HdlcBank(1, fcs=8)
    with pytest.raises(HdlcError):
        HdlcBank(1, min_frame=10, max_frame=5)
    b = HdlcBank(2, max_frame=10)
    with pytest.raises(HdlcError):
        b.send(2, b"ab")
    with pytest.raises(HdlcError):
        b.send(0, bytes(11))
    with pytest.raises(HdlcError):
        b.send(0, b"a")
    with pytest.raises(HdlcError):
        b.configure(0, idle="marks")
    with pytest.raises(HdlcError):
        b.rx(np.zeros((3, 10), np.uint8))
    with pytest.raises(HdlcError):
        b.tx(np.zeros((2, 10), np.int16))
    for _ in range(TX_QUEUE):
        b.send(1, b"ok")
    with pytest.raises(BufferError):
        b.send(1, b"ok")


@pytest.fixture(scope="module")
def spandsp():
    cffi = pytest.importorskip("cffi")
    lib = need_library("spandsp")
    ffi = cffi.FFI()
    ffi.cdef("""
        typedef void (*hdlc_frame_handler_t)(void *, const uint8_t *, int, int);
        typedef void (*hdlc_underflow_handler_t)(void *);
        void *hdlc_rx_init(void *s, int crc32, int report_bad, int ok_threshold,
                           hdlc_frame_handler_t handler, void *user_data);
        void hdlc_rx_put(void *s, const uint8_t buf[], int len);
        int hdlc_rx_free(void *s);
        void *hdlc_tx_init(void *s, int crc32, int inter_frame_flags, int progressive,
                           hdlc_underflow_handler_t handler, void *user_data);
        int hdlc_tx_frame(void *s, const uint8_t *frame, size_t len);
        int hdlc_tx_get(void *s, uint8_t buf[], size_t max_len);
        int hdlc_tx_free(void *s);
    """)
    return ffi, ffi.dlopen(lib)


@pytest.mark.interop
@pytest.mark.parametrize("fcs", [16, 32])
def test_interop_with_spandsp(spandsp, fcs):
    ffi, sp = spandsp
    frames = [bytes(np.random.default_rng(i).integers(0, 256, i + 3, dtype=np.uint8))
              for i in range(40)] + [b"\x7e\x7e\xff\xff\x7d", b"\x00" * 30]
    got_sp = []

    @ffi.callback("void(void *, const uint8_t *, int, int)")
    def handler(_, pkt, length, ok):
        if length >= 0 and ok:
            got_sp.append(bytes(ffi.buffer(pkt, length)))

    # ours -> spandsp
    tx = HdlcBank(1, fcs=fcs)
    srx = sp.hdlc_rx_init(ffi.NULL, fcs == 32, 0, 1, handler, ffi.NULL)
    pending = list(frames)
    for _ in range(400):
        while pending and tx.queued(0) < TX_QUEUE:
            tx.send(0, pending.pop(0))
        out = np.zeros((1, 160), np.uint8)
        tx.tx(out)
        sp.hdlc_rx_put(srx, ffi.from_buffer(out[0]), 160)
        if not pending and not tx.queued(0):
            break
    out = np.zeros((1, 16), np.uint8)
    tx.tx(out)
    sp.hdlc_rx_put(srx, ffi.from_buffer(out[0]), 16)
    sp.hdlc_rx_free(srx)
    assert got_sp == frames

    # spandsp -> ours
    stx = sp.hdlc_tx_init(ffi.NULL, fcs == 32, 1, 0, ffi.NULL, ffi.NULL)
    rx = HdlcBank(1, fcs=fcs)
    got = []
    pending = list(frames)
    buf = np.zeros(160, np.uint8)
    sp.hdlc_tx_get(stx, ffi.from_buffer(buf), 160)     # time fill first: an opening flag
    rx.rx(buf[None, :].copy())
    for _ in range(400):
        if pending:
            if sp.hdlc_tx_frame(stx, pending[0], len(pending[0])) == 0:
                pending.pop(0)
        sp.hdlc_tx_get(stx, ffi.from_buffer(buf), 160)
        got += [f for _, f in rx.rx(buf[None, :].copy())]
        if len(got) == len(frames):
            break
    sp.hdlc_tx_free(stx)
    assert got == frames
