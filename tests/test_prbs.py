"""PRBS generator/checker (ITU-T O.150 family): sequences, sync, exact error counts, slips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import need_library
from timeslot.prbs import PATTERNS, PrbsChecker, PrbsGenerator, pattern


def reference_bits(name: str, count: int) -> np.ndarray:
    """The pattern straight from its recommendation: shift register, stages n and t fed back."""
    p = PATTERNS[name]
    reg = [1] * p.degree  # reg[0] is stage 1
    out = np.empty(count, dtype=np.uint8)
    for i in range(count):
        bit = reg[p.degree - 1] ^ reg[p.tap - 1]
        reg = [bit] + reg[:-1]
        out[i] = bit ^ int(p.invert)
    return out


@pytest.mark.parametrize("name", list(PATTERNS))
def test_generator_matches_recommendation(name):
    octets = PrbsGenerator(name).generate(64)[0]
    assert np.array_equal(np.unpackbits(octets), reference_bits(name, 64 * 8))


@pytest.mark.parametrize("name", ["2^9-1", "2^11-1", "2^15-1"])
def test_period_and_balance(name):
    p = pattern(name)
    bits = np.unpackbits(PrbsGenerator(name).generate(2 * p.length)[0])  # 16 periods
    assert np.array_equal(bits[: p.length], bits[p.length: 2 * p.length])
    ones = int(bits[: p.length].sum())
    # a maximal-length sequence has 2^(n-1) ones, 2^(n-1)-1 zeros; inversion swaps them
    assert ones == (2 ** (p.degree - 1) - 1 if p.invert else 2 ** (p.degree - 1))


def test_pattern_names():
    assert pattern("prbs15") is PATTERNS["2^15-1"]
    assert pattern(11).degree == 11
    with pytest.raises(ValueError):
        pattern("2^7-1")


@settings(max_examples=30)
@given(st.sampled_from(list(PATTERNS)), st.integers(1, 2**23 - 1), st.integers(0, 7))
def test_sync_from_arbitrary_phase(name, seed, skip_bits):
    g = PrbsGenerator(name)
    g.seed(0, seed)
    bits = np.unpackbits(g.generate(200)[0])[skip_bits:]
    bits = bits[: len(bits) // 8 * 8]
    c = PrbsChecker(name)
    c.process(np.packbits(bits)[None, :])
    s = c.stats()
    assert s["in_sync"] and s["errors"] == 0 and s["sync_losses"] == 0
    assert s["unsynced_bits"] == 3 * pattern(name).degree  # n to load, 2n to confirm


@settings(max_examples=40)
@given(st.sampled_from(list(PATTERNS)), st.lists(st.integers(0, 40), min_size=1, max_size=8))
def test_exact_error_counts(name, gaps):
    g, c = PrbsGenerator(name, channels=3), PrbsChecker(name, channels=3)
    c.process(g.generate(50))
    total = 0
    for gap in gaps:
        c.process(g.generate(gap + 1))
        g.inject(1, channel=1)
        total += 1
    c.process(g.generate(10))
    assert list(c.errors) == [0, total, 0]
    assert list(g.inserted) == [0, total, 0]
    assert c.stats(1)["sync_losses"] == 0
    assert c.bits[0] == c.bits[1]


def test_error_rate_is_counted_exactly():
    g, c = PrbsGenerator("2^15-1", channels=2), PrbsChecker("2^15-1", channels=2)
    c.process(g.generate(100))
    g.set_error_rate(1e-3, channel=0)
    g.set_error_rate(0.25e-3, channel=1)
    for _ in range(10):
        c.process(g.generate(10_000))
    assert c.stats(0)["errors"] == g.inserted[0] == 800
    assert c.stats(1)["errors"] == g.inserted[1] == 200
    assert c.stats(0)["ber"] == pytest.approx(1e-3, rel=0.01)


@pytest.mark.parametrize("slip", ["delete", "repeat"])
def test_resync_after_octet_slip(slip):
    g, c = PrbsGenerator("2^11-1"), PrbsChecker("2^11-1")
    stream = g.generate(4000)[0]
    cut = 1500
    if slip == "delete":
        slipped = np.concatenate([stream[:cut], stream[cut + 1:]])
    else:
        slipped = np.concatenate([stream[: cut + 1], stream[cut:]])
    c.process(np.ascontiguousarray(slipped[None, :]))
    s = c.stats()
    assert s["sync_losses"] == 1 and s["in_sync"]
    # after the slip the old reference is wrong about half the time until the window trips
    assert 0 < s["errors"] < 2 * 200  # at most a partial window plus one more before loss


def test_loss_of_sync_on_dead_line_and_no_false_sync():
    c = PrbsChecker("2^9-1")
    g = PrbsGenerator("2^9-1")
    c.process(g.generate(100))
    for filler in (0x00, 0xFF, 0x55):
        c.process(np.full((1, 500), filler, dtype=np.uint8))
        assert not c.stats()["in_sync"]
    assert c.stats()["sync_losses"] == 1
    c.process(g.generate(100))
    assert c.stats()["in_sync"]


def test_inverted_pattern_rejects_all_ones_idle():
    c = PrbsChecker("2^15-1")
    c.process(np.full((1, 1000), 0xFF, dtype=np.uint8))  # de-inverted: all zero register
    assert not c.stats()["in_sync"]


def test_reset_and_bad_arguments():
    g, c = PrbsGenerator("2^15-1"), PrbsChecker("2^15-1", channels=2)
    c.process(np.vstack([g.generate(100)[0]] * 2))
    c.reset(1)
    assert c.stats(1)["bits"] == 0 and c.stats(0)["bits"] > 0
    with pytest.raises(ValueError):
        c.process(np.zeros((3, 10), dtype=np.uint8))
    with pytest.raises(IndexError):
        c.stats(2)
    with pytest.raises(ValueError):
        g.set_error_rate(2.0)
    with pytest.raises(ValueError):
        PrbsChecker("2^15-1", window=10, loss_errors=11)


SPANDSP_PATTERNS = {"2^23-1": 8, "2^20-1": 9, "2^15-1": 10, "2^11-1": 11, "2^9-1": 12}


@pytest.fixture(scope="module")
def spandsp():
    path = need_library("spandsp")
    cffi = pytest.importorskip("cffi")
    ffi = cffi.FFI()
    ffi.cdef("""
        typedef struct { int total_bits; int bad_bits; int resyncs; } bert_results_t;
        void *bert_init(void *s, int limit, int pattern, int resync_len, int resync_percent);
        int bert_get_bit(void *s);
        void bert_put_bit(void *s, int bit);
        int bert_result(void *s, bert_results_t *results);
        int bert_free(void *s);
    """)
    return ffi, ffi.dlopen(path)


@pytest.mark.interop
@pytest.mark.parametrize("name", ["2^23-1", "2^15-1", "2^11-1", "2^9-1"])
def test_interop_with_spandsp_bert(spandsp, name):
    """spandsp's O.151/O.152/O.153 generator and checker agree with ours both ways."""
    ffi, lib = spandsp
    tx = lib.bert_init(ffi.NULL, 0, SPANDSP_PATTERNS[name], 300, 20)
    bits = np.array([lib.bert_get_bit(tx) for _ in range(8 * 4000)], dtype=np.uint8)
    c = PrbsChecker(name)
    c.process(np.packbits(bits)[None, :])
    assert c.stats()["in_sync"] and c.stats()["errors"] == 0
    rx = lib.bert_init(ffi.NULL, 0, SPANDSP_PATTERNS[name], 300, 20)
    g = PrbsGenerator(name)
    g.generate(10)
    g.inject(5)
    for bit in np.unpackbits(g.generate(4000)[0]):
        lib.bert_put_bit(rx, int(bit))
    res = ffi.new("bert_results_t *")
    lib.bert_result(rx, res)
    assert res.total_bits > 30000 and res.bad_bits == 0 and res.resyncs == 0
    lib.bert_free(tx)
    lib.bert_free(rx)
