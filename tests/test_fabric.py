"""Time-slot interchange (timeslot.fabric) against a pure-Python model of the switch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.test_conference import model as conference_model
from timeslot import g711
from timeslot.fabric import Fabric, FabricError, SlotError

N = 12


class SwitchModel:
    """Reference semantics: tx[d] = rx[src[d]] (transcoded across laws) or idle[d]."""

    def __init__(self, n: int):
        self.src: dict[int, int] = {}
        self.idle = [0xD5] * n
        self.own_idle: set[int] = set()
        self.member: dict[int, tuple[int, str]] = {}   # slot -> (bridge, mode)
        self.law = ["alaw"] * n
        self.n = n

    def listen(self, dst, src):
        self.src[dst] = src

    def unlisten(self, dst):
        self.src.pop(dst, None)

    def connect(self, a, b):
        self.src[a], self.src[b] = b, a

    def disconnect(self, s):
        self.src.pop(s, None)
        for d in [d for d, v in self.src.items() if v == s]:
            del self.src[d]

    def output(self, rx):
        tx = np.empty_like(rx)
        for d in range(self.n):
            s = self.src.get(d)
            if d in self.member:
                continue
            if s is None:
                tx[d] = self.idle[d]
            elif self.law[s] == self.law[d]:
                tx[d] = rx[s]
            elif self.law[s] == "alaw":
                tx[d] = g711.alaw_to_ulaw(rx[s])
            else:
                tx[d] = g711.ulaw_to_alaw(rx[s])
        for bridge in {b for b, _ in self.member.values()}:
            parties = [(s, mode, None, 0.0, 0.0) for s, (b, mode) in self.member.items()
                       if b == bridge]
            for s, row in conference_model(parties, rx, self.law, self.idle).items():
                tx[s] = row
        return tx


slots = st.integers(0, N - 1)


class FabricMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.fabric = Fabric(N)
        self.model = SwitchModel(N)
        self.rng = np.random.default_rng(1)
        self.bridges = [self.fabric.conference_create(), self.fabric.conference_create()]

    @rule(dst=slots, src=slots)
    def listen(self, dst, src):
        if dst in self.model.member:
            with pytest.raises(FabricError):
                self.fabric.listen(dst, src)
            return
        self.fabric.listen(dst, src)
        self.model.listen(dst, src)

    @rule(dst=slots)
    def unlisten(self, dst):
        if dst in self.model.member:
            with pytest.raises(FabricError):
                self.fabric.unlisten(dst)
            return
        self.fabric.unlisten(dst)
        self.model.unlisten(dst)

    @rule(a=slots, b=slots)
    def connect(self, a, b):
        if a == b or a in self.model.member or b in self.model.member:
            with pytest.raises(FabricError):
                self.fabric.connect(a, b)
            return
        self.fabric.connect(a, b)
        self.model.connect(a, b)

    @rule(s=slots)
    def disconnect(self, s):
        self.fabric.disconnect(s)
        self.model.disconnect(s)

    @rule(bridge=st.integers(0, 1), s=slots, mode=st.sampled_from(["normal", "listen", "talk"]))
    def join(self, bridge, s, mode):
        conf = self.bridges[bridge]
        other = self.model.member.get(s)
        if other is not None and other[0] != bridge:
            with pytest.raises(FabricError):
                self.fabric.conference_add(conf, s, mode=mode)
            return
        self.fabric.conference_add(conf, s, mode=mode)
        self.model.member[s] = (bridge, mode)
        self.model.src.pop(s, None)

    @rule(s=slots)
    def leave(self, s):
        if s not in self.model.member:
            return
        self.fabric.conference_remove(self.bridges[self.model.member.pop(s)[0]], s)

    @rule(s=slots, octet=st.integers(0, 255))
    def set_idle(self, s, octet):
        self.fabric.set_idle(octet, s)
        self.model.idle[s] = octet
        self.model.own_idle.add(s)

    @rule(s=slots, law=st.sampled_from(["alaw", "ulaw"]))
    def set_law(self, s, law):
        self.fabric.set_law(s, law)
        self.model.law[s] = law
        if s not in self.model.own_idle:
            self.model.idle[s] = g711.silence(law)

    @rule(frames=st.integers(1, 160))
    def process(self, frames):
        rx = self.rng.integers(0, 256, (N, frames), dtype=np.uint8)
        tx = np.zeros_like(rx)
        self.fabric.process(rx, tx)
        np.testing.assert_array_equal(tx, self.model.output(rx))

    @invariant()
    def routes_agree(self):
        for s in range(N):
            r = self.fabric.route(s)
            assert r.listens_to == self.model.src.get(s)
            assert r.listeners == tuple(d for d in range(N) if self.model.src.get(d) == s)
            assert r.idle == self.model.idle[s]
            member = self.model.member.get(s)
            assert r.conference == (None if member is None else self.bridges[member[0]])


FabricMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30,
                                           deadline=None)
TestFabric = FabricMachine.TestCase


def block(n, frames=160, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, frames), dtype=np.uint8)


def test_edge_cases():
    f = Fabric(8)
    rx, tx = block(8), np.zeros((8, 160), np.uint8)
    f.listen(1, 0)
    f.listen(2, 0)
    f.listen(1, 3)            # re-listen moves the listener
    f.connect(4, 5)
    f.connect(4, 6)           # connect over an existing route: 5 still hears 4
    f.process(rx, tx)
    np.testing.assert_array_equal(tx[1], rx[3])
    np.testing.assert_array_equal(tx[2], rx[0])
    np.testing.assert_array_equal(tx[4], rx[6])
    np.testing.assert_array_equal(tx[5], rx[4])
    np.testing.assert_array_equal(tx[6], rx[4])
    assert (tx[0] == 0xD5).all() and (tx[7] == 0xD5).all()
    f.disconnect(4)           # transmitter goes: its listeners 5 and 6 fall back to idle
    f.process(rx, tx)
    assert (tx[4:7] == 0xD5).all()
    f.listen(7, 7)            # loopback
    f.process(rx, tx)
    np.testing.assert_array_equal(tx[7], rx[7])


def test_idle_patterns_and_law():
    f = Fabric(4, law="ulaw")
    rx, tx = block(4, 8), np.zeros((4, 8), np.uint8)
    f.process(rx, tx)
    assert (tx == 0xFF).all()
    f.set_idle(0x54, slot=2)
    f.set_idle(0x7E)          # default for all slots without their own
    f.process(rx, tx)
    assert (tx[2] == 0x54).all() and (tx[[0, 1, 3]] == 0x7E).all()
    f.set_law(1, "alaw")
    f.listen(1, 0)
    f.process(rx, tx)
    np.testing.assert_array_equal(tx[1], g711.ulaw_to_alaw(rx[0]))
    assert f.route(1).law == "alaw"


def test_strided_rows():
    f = Fabric(4)
    big = block(4, 320)
    out = np.zeros((4, 320), np.uint8)
    f.connect(0, 3)
    f.process(big[:, 100:260], out[:, 10:170])
    np.testing.assert_array_equal(out[0, 10:170], big[3, 100:260])
    assert (out[:, :10] == 0).all()


@pytest.mark.parametrize("bad", [
    lambda f: f.listen(0, 99), lambda f: f.listen(-1, 0), lambda f: f.unlisten(4),
    lambda f: f.disconnect(17), lambda f: f.connect(0, 4), lambda f: f.route(4),
])
def test_bad_slots(bad):
    with pytest.raises(SlotError):
        bad(Fabric(4))


@pytest.mark.parametrize(("rx", "tx"), [
    (np.zeros((4, 10), np.int16), np.zeros((4, 10), np.uint8)),
    (np.zeros((3, 10), np.uint8), np.zeros((3, 10), np.uint8)),
    (np.zeros((4, 0), np.uint8), np.zeros((4, 0), np.uint8)),
    (np.zeros((4, 161), np.uint8), np.zeros((4, 161), np.uint8)),
    (np.zeros((4, 10), np.uint8), np.zeros((4, 11), np.uint8)),
    (np.zeros((4, 20), np.uint8)[:, ::2], np.zeros((4, 10), np.uint8)),
    (np.zeros(40, np.uint8), np.zeros(40, np.uint8)),
])
def test_bad_blocks(rx, tx):
    with pytest.raises(FabricError):
        Fabric(4).process(rx, tx)


def test_rx_tx_must_not_overlap():
    buf = np.zeros((4, 20), np.uint8)
    with pytest.raises(FabricError):
        Fabric(4).process(buf, buf)
    ro = np.zeros((4, 10), np.uint8)
    ro.flags.writeable = False
    with pytest.raises(FabricError):
        Fabric(4).process(np.zeros((4, 10), np.uint8), ro)


def test_bad_construction_and_values():
    for n in (0, 4097):
        with pytest.raises(FabricError):
            Fabric(n)
    with pytest.raises(FabricError):
        Fabric(4, law="slinear")
    with pytest.raises(FabricError):
        Fabric(4).set_idle(256)
    with pytest.raises(FabricError):
        Fabric(4).set_law(0, "pcm")


def test_full_size_fabric():
    f = Fabric(4096)
    rx, tx = block(4096, 160), np.zeros((4096, 160), np.uint8)
    for s in range(0, 4096, 2):
        f.connect(s, s + 1)
    f.process(rx, tx)
    np.testing.assert_array_equal(tx[0::2], rx[1::2])
    np.testing.assert_array_equal(tx[1::2], rx[0::2])
