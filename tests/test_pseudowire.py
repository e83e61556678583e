"""SAToP (RFC 4553) and CESoPSN (RFC 5086) pseudowires over UDP on 127.0.0.1."""

from __future__ import annotations

import socket
import struct
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.pcap import PcapWriter
from drivers.base import BoardError, ChannelMode, Loopback
from drivers.pseudowire import (
    Header,
    JitterBuffer,
    PayloadFormat,
    PseudowireBoard,
    PseudowireConfig,
    PseudowireDecodeError,
    PseudowireSpan,
    decode,
    encode,
)
from drivers.pseudowire.wire import Frg
from tests.conftest import need_program

TICK = 160


class Relay:
    """A lossy PSN between two spans: ``policy(packets) -> packets`` per pump."""

    def __init__(self, dst: tuple[str, int], policy=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.dst = dst
        self.policy = policy or (lambda pkts: pkts)
        self.seen: list[bytes] = []

    @property
    def address(self):
        return self.sock.getsockname()

    def pump(self) -> None:
        pkts = []
        while True:
            try:
                pkts.append(self.sock.recv(65535))
            except BlockingIOError:
                break
        self.seen += pkts
        for p in self.policy(pkts):
            self.sock.sendto(p, self.dst)

    def close(self):
        self.sock.close()


def pair(mode="cesopsn", policy=None, **kw):
    a = PseudowireSpan("a", PseudowireConfig(mode=mode, **kw))
    b = PseudowireSpan("b", PseudowireConfig(mode=mode, **kw))
    a.open()
    b.open()
    relay = Relay(b.local_address, policy)
    a.connect(relay.address)
    b.connect(a.local_address)
    return a, b, relay


def run(a, b, relay, ticks, rng, frames=TICK):
    """Drive both spans for ``ticks``; (what a sent, what b received)."""
    sent, got = [], []
    for _ in range(ticks):
        block = rng.integers(0, 256, (32, frames), dtype=np.uint8)
        a.write_block(block)
        b.write_block(block)
        relay.pump()
        sent.append(block)
        got.append(b.read_block(frames))
        a.read_block(frames)
    return np.concatenate(sent, axis=1), np.concatenate(got, axis=1)


def align(sent, got, rows):
    """Frame delay at which ``got`` starts repeating ``sent`` on ``rows``."""
    for d in range(got.shape[1]):
        if np.array_equal(got[rows, d:d + 64], sent[rows, :64]):
            return d
    raise AssertionError("received stream never matches what was sent")


@pytest.fixture
def rng():
    return np.random.default_rng(1)


def test_cesopsn_30_channels_byte_exact_and_cas(rng):
    a, b, relay = pair("cesopsn-cas", frames_per_packet=8)
    try:
        a.cas_tx(1, 0b1101)
        a.cas_tx(31, 0b0101)
        sent, got = run(a, b, relay, 12, rng)
        rows = [t for t in range(1, 32) if t != 16]
        d = align(sent, got, rows)
        n = got.shape[1] - d
        assert n >= 6 * TICK
        assert np.array_equal(got[rows, d:], sent[rows, :n])
        assert (got[[0, 16], :] == 0xD5).all()  # not carried: idle
        cas = b.cas_rx()
        assert cas[1] == 0b1101 and cas[31] == 0b0101 and cas[2] == 0
        c = b.counters
        assert c.lost == c.reordered == c.duplicates == c.malformed == 0
        assert b.status().alarms == []
    finally:
        for s in (a, b, relay):
            s.close()


def test_cas_multiframe_fragments_carry_signalling_in_last():
    fmt = PayloadFormat("cesopsn-cas", 4, timeslots=[1, 2, 3])
    assert [fmt.frg(i) for i in range(4)] == [Frg.FIRST, Frg.MIDDLE, Frg.MIDDLE, Frg.LAST]
    block = np.arange(32 * 4, dtype=np.uint8).reshape(32, 4)
    cas = np.zeros(32, dtype=np.uint8)
    cas[[1, 2, 3]] = [0x1, 0x2, 0x3]
    last = fmt.pack(block, cas, Frg.LAST)
    # 3 timeslots x 4 frames, frame by frame; then nibbles 1,2,3 + one pad nibble
    assert last[:3] == bytes(block[[1, 2, 3], 0])
    assert last[12:] == bytes([0x12, 0x30])
    assert len(fmt.pack(block, cas, Frg.FIRST)) == 12
    out, rx_cas = fmt.unpack(last, Frg.LAST)
    assert np.array_equal(out[[1, 2, 3]], block[[1, 2, 3]]) and list(rx_cas[1:4]) == [1, 2, 3]
    with pytest.raises(PseudowireDecodeError):
        fmt.unpack(last, Frg.WHOLE)
    with pytest.raises(ValueError):
        PayloadFormat("cesopsn-cas", 3)


def test_satop_whole_e1_transparent_with_rtp(rng):
    a, b, relay = pair("satop", frames_per_packet=8, rtp=True)
    try:
        sent, got = run(a, b, relay, 10, rng)
        rows = list(range(32))
        d = align(sent, got, rows)
        assert np.array_equal(got[:, d:], sent[:, : got.shape[1] - d])
        headers = [decode(p, rtp=True)[0] for p in relay.seen]
        seqs = [h.seq for h in headers]
        assert (np.diff(seqs) % 65536 == 1).all()
        stamps = [h.timestamp for h in headers]
        assert (np.diff(stamps) % 2**32 == 8).all()
        assert len(relay.seen[0]) == 12 + 4 + 256
    finally:
        for s in (a, b, relay):
            s.close()


def drop_nth(*ns):
    count = [0]

    def policy(pkts):
        out = []
        for p in pkts:
            if count[0] not in ns:
                out.append(p)
            count[0] += 1
        return out
    return policy


def test_lost_packet_is_filler_and_counted(rng):
    a, b, relay = pair("cesopsn", policy=drop_nth(50))
    try:
        sent, got = run(a, b, relay, 10, rng)
        rows = list(range(1, 32))
        d = align(sent, got, rows)
        lost = slice(d + 50 * 8, d + 51 * 8)
        assert (got[rows, lost] == 0xD5).all()
        keep = np.ones(got.shape[1] - d, dtype=bool)
        keep[50 * 8:51 * 8] = False
        assert np.array_equal(got[rows, d:][:, keep], sent[rows, : got.shape[1] - d][:, keep])
        assert b.counters.lost == 1 and b.counters.late == 0
        assert "LOS" not in b.status().alarms
    finally:
        for s in (a, b, relay):
            s.close()


def test_reordered_and_duplicated_packets_are_transparent(rng):
    def policy(pkts):
        if len(pkts) > 10:
            pkts[3], pkts[4] = pkts[4], pkts[3]
            pkts.insert(7, pkts[6])
        return pkts
    a, b, relay = pair("cesopsn", policy=policy)
    try:
        sent, got = run(a, b, relay, 10, rng)
        rows = list(range(1, 32))
        d = align(sent, got, rows)
        assert np.array_equal(got[rows, d:], sent[rows, : got.shape[1] - d])
        c = b.counters
        assert c.reordered == 10 and c.duplicates == 10 and c.lost == 0
    finally:
        for s in (a, b, relay):
            s.close()


def test_jitter_buffer_late_duplicate_overrun():
    jb = JitterBuffer(depth=4, prefill=2, loss_enter=3, loss_exit=2)
    assert jb.loss_state
    jb.push(100, "a")
    jb.push(101, "b")
    assert jb.pop() == (True, "a")
    assert jb.pop() == (True, "b")
    assert not jb.loss_state
    jb.push(101, "b")  # already played
    assert jb.counters.duplicates == 1
    assert jb.pop() == (False, None)  # 102 missing: lost, and the buffer ran dry
    jb.push(102, "c")  # too late
    jb.push(110, "x")  # beyond the depth
    c = jb.counters
    assert (c.lost, c.underruns, c.late, c.overruns) == (1, 1, 1, 1)
    jb.push(104, "e")
    jb.push(103, "d")
    assert c.reordered == 1
    assert jb.pop() == (True, "d") and jb.pop() == (True, "e")
    for _ in range(3):
        jb.pop()
    assert jb.loss_state and c.loss_state_entries == 1
    # the far end restarts at another sequence number: after `depth` strikes we refill
    for s in range(5000, 5004):
        jb.push(s, s)
    jb.push(5004, 5004)
    assert jb.pop() == (True, 5003)  # the three strikes before the reset are gone


def test_sequence_wraps():
    jb = JitterBuffer(depth=4, prefill=1)
    for s in (65534, 65535, 0, 1):
        jb.push(s, s)
    assert [jb.pop()[1] for _ in range(4)] == [65534, 65535, 0, 1]
    assert jb.counters.lost == jb.counters.reordered == 0


def test_ac_fault_sends_l_bit_far_end_shows_ais(rng):
    a, b, relay = pair("satop")
    try:
        run(a, b, relay, 4, rng)
        assert b.status().alarms == []
        a.set_ac_fault(True)
        _, got = run(a, b, relay, 4, rng)
        assert b.status().alarms == ["AIS"]
        assert (got[:, -TICK:] == 0xFF).all()  # SAToP plays out AIS
        h, payload = decode(relay.seen[-1], rtp=False)
        assert h.l and payload == b""
    finally:
        for s in (a, b, relay):
            s.close()


def test_loss_of_packets_sets_r_bit_far_end_shows_rai(rng):
    a, b, relay = pair("cesopsn", policy=lambda pkts: pkts)
    try:
        run(a, b, relay, 4, rng)
        relay.policy = lambda pkts: []  # the PSN goes dead a -> b
        run(a, b, relay, 2, rng)
        assert b.status().alarms == ["LOS"]
        assert b.counters.loss_state_entries == 1
        for _ in range(4):  # a plays out what b sent after entering the loss state
            b.write_block(np.zeros((32, TICK), dtype=np.uint8))
            a.read_block(TICK)
        assert a.status().alarms == ["RAI"]
        relay.policy = lambda pkts: pkts
        run(a, b, relay, 4, rng)
        assert b.status().alarms == []
    finally:
        for s in (a, b, relay):
            s.close()


def test_rdi_m_bits_and_malformed(rng):
    a, b, relay = pair("cesopsn")
    try:
        a.set_rdi(True)
        run(a, b, relay, 4, rng)
        assert b.status().alarms == ["RAI"]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"\xf0\x00\x00\x01garbage", b.local_address)
        s.sendto(encode(Header(seq=1), bytes(5)), b.local_address)  # wrong payload size
        s.sendto(encode(Header(seq=2, l=True, m=2), b""), b.local_address)  # reserved
        s.sendto(encode(Header(seq=3, m=3), bytes(31 * 8)), b.local_address)  # signalling
        s.close()
        b.read_block(8)
        assert b.counters.malformed == 4
    finally:
        for s in (a, b, relay):
            s.close()


def test_local_and_line_loopback(rng):
    a, b, relay = pair("cesopsn")
    try:
        block = rng.integers(0, 256, (32, TICK), dtype=np.uint8)
        a.set_loopback(Loopback.LOCAL)
        a.write_block(block)
        assert np.array_equal(a.read_block(TICK), block)
        a.set_loopback(Loopback.NONE)
        b.set_loopback(Loopback.LINE)  # b returns what it receives
        sent, back = [], []
        for _ in range(10):
            block = rng.integers(0, 256, (32, TICK), dtype=np.uint8)
            a.write_block(block)
            relay.pump()
            b.read_block(TICK)
            back.append(a.read_block(TICK))
            sent.append(block)
        sent, back = np.concatenate(sent, axis=1), np.concatenate(back, axis=1)
        rows = list(range(1, 32))
        d = align(sent, back, rows)
        assert np.array_equal(back[rows, d:], sent[rows, : back.shape[1] - d])
    finally:
        for s in (a, b, relay):
            s.close()


def test_bad_configuration_and_board():
    with pytest.raises(ValueError):
        PayloadFormat("cesopsn-cas", 8, timeslots=[15, 16])
    with pytest.raises(ValueError):
        PayloadFormat("satop", 8, timeslots=[1])
    with pytest.raises(ValueError):
        PayloadFormat("tdmoip", 8)
    span = PseudowireSpan("x", PseudowireConfig(mode="cesopsn"))
    with pytest.raises(BoardError):
        span.cas_tx(1, 5)
    with pytest.raises(BoardError):
        span.pump()
    board = PseudowireBoard("pw", {"s1": PseudowireConfig(), "s2": PseudowireConfig()})
    with board:
        port = board.spans[0].local_address[1]
        clash = PseudowireBoard("pw2", {"s": PseudowireConfig(local=("127.0.0.1", port))})
        with pytest.raises(BoardError, match="cannot bind"):
            clash.open()


@given(st.integers(0, 65535), st.booleans(), st.booleans(), st.integers(0, 3),
       st.integers(0, 3), st.one_of(st.none(), st.integers(0, 2**32 - 1)),
       st.binary(max_size=300))
def test_header_round_trip(seq, l_bit, r_bit, m, frg, ts, payload):
    h = Header(seq=seq, l=l_bit, r=r_bit, m=m, frg=frg, timestamp=ts, ssrc=0 if ts is None else 77)
    assert decode(encode(h, payload), rtp=ts is not None) == (h, payload)


@settings(max_examples=300)
@given(st.binary(max_size=80), st.booleans())
def test_arbitrary_bytes_give_typed_errors(data, rtp):
    fmt = PayloadFormat("cesopsn-cas", 8, timeslots=[1, 2, 3])
    try:
        h, payload = decode(data, rtp)
        fmt.unpack(payload, h.frg)
    except PseudowireDecodeError as e:
        assert e.field is not None and e.offset is not None


def _pcap_udp(path, port, packets):
    """Raw IPv4/UDP records (LINKTYPE_RAW) around pseudowire packets."""
    with PcapWriter(str(path), 101) as w:
        for i, p in enumerate(packets):
            udp = struct.pack("!HHHH", 40000, port, 8 + len(p), 0) + p
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
            csum = sum(struct.unpack("!10H", ip))
            csum = (csum & 0xFFFF) + (csum >> 16)
            ip = ip[:10] + struct.pack("!H", ~csum & 0xFFFF) + ip[12:]
            w.write(i * 0.001, ip + udp)


PI_WARN = 0x00600000  # Wireshark expert severities: notes are below warnings


@pytest.mark.interop
@pytest.mark.parametrize("mode,proto,prefix", [("cesopsn", "pwcesopsn", "pwcesopsn"),
                                               ("satop", "pwsatopcw", "pwsatop")])
def test_tshark_decodes_packets(tmp_path, rng, mode, proto, prefix):
    """Normal packets, L set (payload omitted), L with RDI asked: tshark agrees on every
    sequence number and payload size and raises nothing above a note."""
    tshark = need_program("tshark")
    a, b, relay = pair(mode, timeslots=[1, 2, 3, 5] if mode == "cesopsn" else None)
    try:
        run(a, b, relay, 2, rng)
        a.set_ac_fault(True)
        run(a, b, relay, 1, rng)
        if mode == "cesopsn":
            a.set_rdi(True)
            run(a, b, relay, 1, rng)
            a.set_ac_fault(False)
            run(a, b, relay, 1, rng)
        packets = relay.seen
    finally:
        for s in (a, b, relay):
            s.close()
    pcap = tmp_path / "pw.pcap"
    _pcap_udp(pcap, 5000, packets)
    out = subprocess.run(
        [tshark, "-r", str(pcap), "-d", f"udp.port==5000,{proto}", "-T", "fields",
         "-E", "occurrence=a", "-e", "frame.protocols", "-e", f"{prefix}.cw.seqno",
         "-e", f"{prefix}.payload.len", "-e", "_ws.expert.severity", "-e", "_ws.malformed"],
        capture_output=True, text=True, check=True, timeout=60).stdout.splitlines()
    assert len(out) == len(packets)
    for line, packet in zip(out, packets, strict=True):
        protocols, seq, length, severity, malformed = (line.split("\t") + [""] * 5)[:5]
        header, payload = decode(packet, rtp=False)
        assert proto in protocols and not malformed
        assert int(seq) == header.seq
        assert int(length or 0) == len(payload)
        assert all(int(v) < PI_WARN for v in filter(None, severity.split(",")))


def test_hdlc_link_inside_the_pseudowire(rng):
    pytest.importorskip("timeslot.hdlc")
    a, b, relay = pair("cesopsn")
    try:
        for s in (a, b):
            s.set_channel_mode(16, ChannelMode.HDLC)
        frames = [b"\x00\x01\x03\x08\x00\x05", bytes(range(40))]
        for f in frames:
            a.hdlc_send(16, f)
        got = []
        for _ in range(6):
            a.write_block(np.full((32, TICK), 0xD5, dtype=np.uint8))
            relay.pump()
            b.read_block(TICK)
            got += b.hdlc_recv(16)
        assert got == frames
        with pytest.raises(BoardError):
            a.hdlc_send(15, b"x")
    finally:
        for s in (a, b, relay):
            s.close()


def test_hdlc_without_the_hdlc_block_is_a_board_error():
    try:
        import timeslot.hdlc  # noqa: F401
    except ImportError:
        span = PseudowireSpan("x", PseudowireConfig())
        with pytest.raises(BoardError, match="timeslot.hdlc"):
            span.set_channel_mode(16, ChannelMode.HDLC)
        assert span.modes[16] is ChannelMode.VOICE_ALAW
    else:
        pytest.skip("timeslot.hdlc is built")


def test_two_kernels_interconnect_over_a_pseudowire():
    """Each kernel ticks its board (the ticker hook), reads and writes the span."""
    from cti.kernel import Kernel

    class Source:
        def __init__(self, slot):
            self.slot, self.n = slot, 0

        def tx(self, tx, frame):
            tx[self.slot] = (np.arange(tx.shape[1]) + self.n) % 256
            self.n += tx.shape[1]

    class Sink:
        def __init__(self, slot):
            self.slot, self.got = slot, []

        def rx(self, rx, frame):
            self.got.append(rx[self.slot].copy())

    boards = [PseudowireBoard(n, {f"{n}:1": PseudowireConfig(mode="cesopsn-cas")})
              for n in ("pstn", "cc")]
    kernels = [Kernel(virtual=True), Kernel(virtual=True)]
    for b in boards:
        b.open()
    try:
        a, b = boards[0].spans[0], boards[1].spans[0]
        a.connect(b.local_address)
        b.connect(a.local_address)
        src = Source(kernels[0].add_span(a) + 5)
        sink = Sink(kernels[1].add_span(b) + 5)
        for k, board, stage in zip(kernels, boards, (src, sink), strict=True):
            k.add_ticker(board)
            k.add_stage(stage)
        for _ in range(10):
            for k in kernels:
                k.tick()
        stream = np.concatenate(sink.got)
        start = int(np.argmax(stream != 0xD5))
        assert np.array_equal(stream[start:], (np.arange(len(stream) - start)) % 256)
        assert b.counters.lost == 0 and b.status().alarms == []
    finally:
        for brd in boards:
            brd.close()


def test_e1_lines_bridged_by_two_gateways():
    """CE a -- E1 -- [x IWF] -- CESoPSN/UDP -- [IWF y] -- E1 -- CE b: a BERT end to end,
    and a line fault on the first E1 reaches the far gateway as the L bit (AIS)."""
    from drivers.diagnostics import Rig, bert
    from drivers.pseudowire.iwf import Iwf
    from drivers.sim import Cable, SimSpan, SimSystem

    system = SimSystem()
    a, x, y, b = (SimSpan(n, system=system) for n in "axyb")
    cable_ax = Cable(a, x, system)
    Cable(y, b, system)
    pw_x = PseudowireSpan("pw-x", PseudowireConfig(mode="cesopsn"))
    pw_y = PseudowireSpan("pw-y", PseudowireConfig(mode="cesopsn"))
    for p in (pw_x, pw_y):
        p.open()
    try:
        pw_x.connect(pw_y.local_address)
        pw_y.connect(pw_x.local_address)
        gateways = [Iwf(x, pw_x), Iwf(y, pw_y)]

        def step(frames):
            system.tick(frames)
            for g in gateways:
                g.tick(frames)

        rig = Rig(near=b, far=a, step=step)
        for span in (x, y):
            for ts in range(1, 32):
                span.set_channel_mode(ts, ChannelMode.CLEAR)
        result = bert(rig, list(range(1, 32)), seconds=2.0)
        assert result["in_sync"] and result["errors"] == 0 and result["bits"] > 2_000_000
        assert pw_y.counters.lost == 0
        cable_ax.impair("a->b", los=True)
        rig.run(0.5)
        assert "LOS" in x.status().alarms
        assert pw_y.status().alarms == ["AIS"]
        assert b.status().alarms == []  # y keeps framing; it plays filler on the timeslots
    finally:
        for p in (pw_x, pw_y):
            p.close()


def test_cas_crosses_two_gateways():
    from drivers.base import Signalling, SpanConfig
    from drivers.pseudowire.iwf import Iwf
    from drivers.sim import Cable, SimSpan, SimSystem

    system = SimSystem()
    cfg = SpanConfig(signalling=Signalling.CAS)
    a, x, y, b = (SimSpan(n, cfg, system) for n in "axyb")
    Cable(a, x, system)
    Cable(y, b, system)
    pws = [PseudowireSpan(n, PseudowireConfig(mode="cesopsn-cas")) for n in ("px", "py")]
    for p in pws:
        p.open()
    try:
        pws[0].connect(pws[1].local_address)
        pws[1].connect(pws[0].local_address)
        gateways = [Iwf(x, pws[0]), Iwf(y, pws[1])]
        a.cas_tx(1, 0b0101)
        b.cas_tx(31, 0b1001)
        for _ in range(40):
            system.tick(160)
            for g in gateways:
                g.tick(160)
        assert b.cas_rx()[1] == 0b0101 and a.cas_rx()[31] == 0b1001
    finally:
        for p in pws:
            p.close()


@settings(max_examples=100)
@given(st.sampled_from(["satop", "cesopsn", "cesopsn-cas"]), st.sampled_from([1, 2, 4, 8, 16]),
       st.sets(st.integers(1, 31), min_size=1, max_size=31), st.integers(0, 2**32 - 1),
       st.data())
def test_payload_round_trip(mode, fpp, timeslots, seed, data):
    if mode == "cesopsn-cas":
        timeslots.discard(16)
        if not timeslots:
            timeslots = {1}
    fmt = PayloadFormat(mode, fpp, None if mode == "satop" else sorted(timeslots))
    rng = np.random.default_rng(seed)
    block = rng.integers(0, 256, (32, fpp), dtype=np.uint8)
    cas = rng.integers(0, 16, 32, dtype=np.uint8)
    frg = fmt.frg(data.draw(st.integers(0, fmt.fragments - 1)))
    out, rx_cas = fmt.unpack(fmt.pack(block, cas, frg), frg)
    rows = fmt.timeslots
    assert np.array_equal(out[rows], block[rows])
    assert (np.delete(out, rows, axis=0) == fmt.idle).all()
    if fmt.carries_signalling(frg):
        assert np.array_equal(rx_cas[rows], cas[rows])
    else:
        assert rx_cas is None
