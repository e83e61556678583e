"""Conference bridges in the fabric, against a numpy model of the mix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timeslot import g711
from timeslot.fabric import MAX_PARTIES, Fabric, FabricError, gain_q12


def scale(x, q):
    return (x.astype(np.int64) * q + 2048) >> 12


def model(parties, rx, laws, idle=None):
    """Expected transmit rows: {slot: octets}.  parties: (slot, mode, coach_of, gin, gout)."""
    contrib = {s: scale(g711.decode(rx[s], laws[s]), gain_q12(gi))
               for s, mode, _, gi, _ in parties if mode != "listen"}
    total = sum((contrib[s] for s, mode, *_ in parties if mode in ("normal", "talk")),
                np.zeros(rx.shape[1], np.int64))
    out = {}
    for s, mode, _, _, go in parties:
        if mode == "talk":
            out[s] = np.full(rx.shape[1], idle[s] if idle else g711.silence(laws[s]), np.uint8)
            continue
        acc = total - (contrib[s] if mode == "normal" else 0)
        for k, kmode, kof, _, _ in parties:
            if kmode == "coach" and kof == s and k != s:
                acc = acc + contrib[k]
        lin = np.clip(scale(acc, gain_q12(go)), -32768, 32767).astype(np.int16)
        out[s] = g711.encode(lin, laws[s])
    return out


def run(parties, n=16, frames=160, laws=None, seed=0, rx=None):
    f = Fabric(n)
    laws = laws or ["alaw"] * n
    for s, law in enumerate(laws):
        f.set_law(s, law)
    c = f.conference_create()
    for s, mode, of, gi, go in parties:
        f.conference_add(c, s, mode=mode, coach_of=of, gain_db=gi, listen_gain_db=go)
    if rx is None:
        lin = np.random.default_rng(seed).normal(0, 3000, (n, frames)).astype(np.int16)
        rx = np.stack([g711.encode(lin[s], laws[s]) for s in range(n)])
    tx = np.zeros_like(rx)
    f.process(rx, tx)
    return f, c, rx, tx, model(parties, rx, laws)


def test_three_party_sum_excludes_self():
    parties = [(0, "normal", None, 0.0, 0.0), (1, "normal", None, 0.0, 0.0),
               (2, "normal", None, 0.0, 0.0)]
    _, _, rx, tx, want = run(parties)
    for s, row in want.items():
        np.testing.assert_array_equal(tx[s], row)
    # a party's own voice is absent: 0 hears exactly decode(1) + decode(2)
    lin = g711.alaw_decode(rx[1]).astype(np.int32) + g711.alaw_decode(rx[2])
    np.testing.assert_array_equal(tx[0], g711.alaw_encode(np.clip(lin, -32768, 32767)
                                                          .astype(np.int16)))
    assert (tx[3:] == 0xD5).all()    # non-parties idle


def test_saturation():
    rx = np.full((4, 10), 0xAA, np.uint8)   # A-law full scale positive
    parties = [(s, "normal", None, 0.0, 0.0) for s in range(4)]
    _, _, _, tx, want = run(parties, n=4, frames=10, rx=rx)
    assert (tx == 0xAA).all()
    for s, row in want.items():
        np.testing.assert_array_equal(tx[s], row)


def test_modes_and_whisper():
    caller, agent, coach, monitor, speaker = 0, 1, 2, 3, 4
    parties = [(caller, "normal", None, 0.0, 0.0), (agent, "normal", None, 0.0, 0.0),
               (coach, "coach", agent, 0.0, 0.0), (monitor, "listen", None, 0.0, 0.0),
               (speaker, "talk", None, 0.0, 0.0)]
    _, _, rx, tx, want = run(parties, n=6)
    for s, row in want.items():
        np.testing.assert_array_equal(tx[s], row)
    d = {s: g711.alaw_decode(rx[s]).astype(np.int32) for s in range(5)}

    def enc(x):
        return g711.alaw_encode(np.clip(x, -32768, 32767).astype(np.int16))

    np.testing.assert_array_equal(tx[caller], enc(d[agent] + d[speaker]))           # no coach
    np.testing.assert_array_equal(tx[agent], enc(d[caller] + d[speaker] + d[coach]))
    np.testing.assert_array_equal(tx[coach], enc(d[caller] + d[agent] + d[speaker]))
    np.testing.assert_array_equal(tx[monitor], enc(d[caller] + d[agent] + d[speaker]))
    assert (tx[speaker] == 0xD5).all()


def test_gains():
    parties = [(0, "normal", None, 6.0, 0.0), (1, "normal", None, 0.0, -6.0),
               (2, "listen", None, 0.0, 3.5)]
    _, _, _, tx, want = run(parties)
    for s, row in want.items():
        np.testing.assert_array_equal(tx[s], row)
    assert gain_q12(0.0) == 4096 and gain_q12(6.0) == 8173
    with pytest.raises(FabricError):
        gain_q12(40.0)


def test_mixed_laws():
    laws = ["alaw", "ulaw", "ulaw", "alaw"]
    parties = [(s, "normal", None, 0.0, 0.0) for s in range(4)]
    _, _, _, tx, want = run(parties, n=4, laws=laws)
    for s, row in want.items():
        np.testing.assert_array_equal(tx[s], row)


party_st = st.tuples(st.sampled_from(["normal", "listen", "talk", "coach"]),
                     st.sampled_from([0.0, -3.0, 6.0, -20.0, 12.0]),
                     st.sampled_from([0.0, 2.0, -6.0]))


@settings(max_examples=40, deadline=None)
@given(st.lists(party_st, min_size=1, max_size=12), st.integers(1, 160),
       st.lists(st.sampled_from(["alaw", "ulaw"]), min_size=12, max_size=12),
       st.integers(0, 2**32 - 1))
def test_random_bridges_match_model(specs, frames, laws, seed):
    parties = []
    for s, (mode, gi, go) in enumerate(specs):
        if mode == "coach":
            if s == 0:
                mode = "normal"
            of = None if mode != "coach" else seed % s
        else:
            of = None
        parties.append((s, mode, of, gi, go))
    _, _, _, tx, want = run(parties, n=12, frames=frames, laws=laws, seed=seed)
    for s, row in want.items():
        np.testing.assert_array_equal(tx[s], row)


def test_membership_rules():
    f = Fabric(80)
    a, b = f.conference_create(), f.conference_create()
    f.conference_add(a, 0)
    f.conference_add(a, 1)
    with pytest.raises(FabricError):
        f.conference_add(b, 0)                       # already in another bridge
    with pytest.raises(FabricError):
        f.listen(0, 5)                               # routes replaced while a party
    with pytest.raises(FabricError):
        f.connect(1, 5)
    with pytest.raises(FabricError):
        f.conference_add(a, 2, mode="coach", coach_of=9)
    with pytest.raises(FabricError):
        f.conference_add(a, 2, coach_of=0)
    with pytest.raises(FabricError):
        f.conference_add(a, 2, mode="shout")
    with pytest.raises(FabricError):
        f.conference_remove(b, 0)
    with pytest.raises(FabricError):
        f.conference_add(99, 3)
    f.listen(7, 0)                                   # listening to a party's receive side
    rx = np.random.default_rng(3).integers(0, 256, (80, 40), dtype=np.uint8)
    tx = np.zeros_like(rx)
    f.process(rx, tx)
    np.testing.assert_array_equal(tx[7], rx[0])
    np.testing.assert_array_equal(tx[0], rx[1])      # two parties: each hears the other
    assert f.route(0).conference == a
    f.conference_add(a, 0, mode="listen-only")       # change of mode in place (alias)
    assert [p.mode for p in f.conference_parties(a)] == ["listen", "normal"]
    f.conference_remove(a, 0)
    f.process(rx, tx)
    assert (tx[0] == 0xD5).all() and f.route(0).conference is None
    for s in range(2, 2 + MAX_PARTIES):
        f.conference_add(b, s)
    with pytest.raises(FabricError):
        f.conference_add(b, 70)
    f.conference_destroy(a)
    assert f.conferences() == [b]
    f.process(rx, tx)
    assert (tx[1] == 0xD5).all()
    f.conference_destroy(b)
    f.connect(2, 3)


def test_many_bridges():
    f = Fabric(64)
    rx = np.random.default_rng(5).integers(0, 256, (64, 160), dtype=np.uint8)
    for k in range(16):
        c = f.conference_create()
        for s in range(4 * k, 4 * k + 4):
            f.conference_add(c, s)
    tx = np.zeros_like(rx)
    f.process(rx, tx)
    for k in range(16):
        parties = [(s, "normal", None, 0.0, 0.0) for s in range(4 * k, 4 * k + 4)]
        for s, row in model(parties, rx, ["alaw"] * 64).items():
            np.testing.assert_array_equal(tx[s], row)
