"""DAHDI backend against a fake DAHDI (the system-call layer replaced): ioctl sequences,
ELAST handling, CAS nibble masking, HDLC frame+2 convention, alarms and maintenance."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from drivers.base import BoardError, ChannelMode, Loopback, SpanConfig
from drivers.dahdi import DahdiBoard, DahdiTimer
from drivers.dahdi.abi import CONSTANTS as C
from drivers.dahdi.abi import ELAST, IOCTLS
from drivers.dahdi.sysio import Posix

NAMES = {v: k for k, v in IOCTLS.items() if k != "DAHDI_GET_BLOCKSIZE"}


class FakeDahdi(Posix):
    """One E1 span (span 1, channels 1..31): TS16 a D-channel, TS1..15/17..31 CAS or clear."""

    def __init__(self, cas: bool = False, devices: bool = True):
        self.devices = devices
        self.calls: list[tuple] = []
        self.fds: dict[int, dict] = {}
        self.next_fd = 10
        self.alarms = 0
        self.counters = {"bpvcount": 3, "crc4count": 5, "ebitcount": 7, "fascount": 11}
        self.lineconfig = C["DAHDI_CONFIG_CRC4"] | C["DAHDI_CONFIG_CCS"] | C["DAHDI_CONFIG_HDB3"]
        self.sig = {ts: (C["DAHDI_SIG_CAS"] if cas else C["DAHDI_SIG_CLEAR"])
                    for ts in range(1, 32)}
        self.sig[16] = 0 if cas else C["DAHDI_SIG_HDLCFCS"]
        self.rxbits = {ts: 0xF0 | (ts & 0xF) for ts in range(1, 32)}  # high bits set: loc
        self.pending: dict[int, list[int]] = {}  # channo -> events to raise ELAST with
        self.hdlc_rx: dict[int, list[bytes]] = {16: [b"\x02\x01\x7f" + b"\xaa\xbb"]}
        self.written: dict[int, list[bytes]] = {}
        self.maint: list[tuple[int, int]] = []

    def exists(self, path):
        return self.devices

    def read_text(self, path):
        return None

    def open(self, path, flags):
        fd = self.next_fd
        self.next_fd += 1
        self.fds[fd] = {"path": path, "chan": None, "flags": flags}
        self.calls.append(("open", path))
        return fd

    def close(self, fd):
        self.calls.append(("close", self.fds.pop(fd)["chan"]))

    def ioctl(self, fd, request, arg):
        name = NAMES[request]
        chan = self.fds[fd]["chan"]
        self.calls.append((name, chan, getattr(arg, "value", None)))
        if name == "DAHDI_SPECIFY":
            if not self.sig.get(arg.value):
                raise OSError(errno.ENXIO, "No such device or address")  # as DAHDI does
            self.fds[fd]["chan"] = arg.value
        elif name == "DAHDI_GET_PARAMS":
            arg.sigtype = self.sig[chan]
            arg.chanpos = chan
        elif name == "DAHDI_SPANSTAT":
            if arg.spanno != 1:
                raise OSError(errno.EINVAL, "Invalid argument")
            arg.alarms, arg.lineconfig, arg.totalspans, arg.totalchans = (
                self.alarms, self.lineconfig, 1, 31)
            for k, v in self.counters.items():
                setattr(arg, k, v)
        elif name == "DAHDI_GETEVENT":
            arg.value = self.pending[chan].pop(0)
        elif name == "DAHDI_GETRXBITS":
            arg.value = self.rxbits[chan]
        elif name == "DAHDI_IOMUX":
            assert arg.value & C["DAHDI_IOMUX_NOWAIT"]
            arg.value = ((C["DAHDI_IOMUX_SIGEVENT"] if self.pending.get(chan) else 0)
                         | (C["DAHDI_IOMUX_READ"] if self.hdlc_rx.get(chan) else 0))
        elif name == "DAHDI_MAINT":
            self.maint.append((arg.spanno, arg.command))

    def _elast(self, chan):
        if self.pending.get(chan):
            raise OSError(ELAST, "event pending")

    def read(self, fd, size):
        chan = self.fds[fd]["chan"]
        self.calls.append(("read", chan, size))
        self._elast(chan)
        if self.sig[chan] == C["DAHDI_SIG_HDLCFCS"]:
            if not self.hdlc_rx.get(chan):
                raise BlockingIOError(errno.EAGAIN, "again")
            return self.hdlc_rx[chan].pop(0)
        return bytes([chan]) * size

    def write(self, fd, data):
        chan = self.fds[fd]["chan"]
        self.calls.append(("write", chan, len(data)))
        self._elast(chan)
        self.written.setdefault(chan, []).append(bytes(data))
        return len(data)

    def poll(self, fd, events, timeout_ms):
        return events


def ioctls_for(fake, chan):
    return [c[0] for c in fake.calls if len(c) > 1 and c[1] == chan and c[0].startswith("DAHDI")]


def test_missing_dev_dahdi_is_one_line_board_error():
    with pytest.raises(BoardError) as e:
        DahdiBoard("card0", {"span1": 1}, sys=FakeDahdi(devices=False)).open()
    assert "/dev/dahdi/ctl" in str(e.value) and "\n" not in str(e.value)


def test_real_system_without_dahdi_names_what_is_missing():
    if os.path.exists("/dev/dahdi/ctl"):
        pytest.skip("this machine has DAHDI")
    with pytest.raises(BoardError, match="/dev/dahdi/ctl not found"):
        DahdiBoard("card0", {"span1": 1}).open()


def test_open_sequence_voice_and_dchannel():
    fake = FakeDahdi()
    with DahdiBoard("card0", {"span1": 1}, blocksize=160, sys=fake) as board:
        span = board.spans[0]
        assert span.modes[1] is ChannelMode.VOICE_ALAW and span.modes[16] is ChannelMode.HDLC
        assert ioctls_for(fake, 1) == [
            "DAHDI_GET_PARAMS", "DAHDI_SET_BLOCKSIZE", "DAHDI_SET_BUFINFO", "DAHDI_SETLAW",
            "DAHDI_AUDIOMODE", "DAHDI_FLUSH"]
        assert ("DAHDI_SPECIFY", None, 1) in fake.calls
        assert ("DAHDI_SETLAW", 1, C["DAHDI_LAW_ALAW"]) in fake.calls
        # the D-channel (dchan: HDLC with FCS by configuration) is reopened non-blocking;
        # DAHDI refuses DAHDI_HDLCFCSMODE on it (EINVAL on the real driver)
        assert "DAHDI_HDLCFCSMODE" not in ioctls_for(fake, 16)
        dfds = [fd for fd, f in fake.fds.items() if f["chan"] == 16]
        assert fake.fds[dfds[0]]["flags"] & os.O_NONBLOCK
    assert not fake.fds  # everything closed


def test_block_io_and_elast_event_handling():
    fake = FakeDahdi()
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        span = board.spans[0]
        fake.pending[5] = [C["DAHDI_EVENT_ALARM"], C["DAHDI_EVENT_NOALARM"]]
        block = span.read_block(160)
        assert block.shape == (32, 160)
        assert (block[5] == 5).all() and (block[16] == 0xD5).all() and (block[0] == 0xD5).all()
        assert span.take_events() == [(5, C["DAHDI_EVENT_ALARM"]), (5, C["DAHDI_EVENT_NOALARM"])]
        reads5 = [c for c in fake.calls if c[0] == "read" and c[1] == 5]
        assert len(reads5) == 3  # two failed with ELAST, then the data
        fake.pending[7] = [C["DAHDI_EVENT_WRITE_UNDERRUN"]]
        span.write_block(np.full((32, 160), 0x55, dtype=np.uint8))
        assert fake.written[7] == [b"\x55" * 160] and 16 not in fake.written
        assert span.take_events() == [(7, C["DAHDI_EVENT_WRITE_UNDERRUN"])]
        span.read_block(80)  # another tick size: block size follows
        assert ("DAHDI_SET_BLOCKSIZE", 3, 80) in fake.calls


def test_hdlc_frame_plus_two_octets():
    fake = FakeDahdi()
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        span = board.spans[0]
        span.hdlc_send(16, b"\x00\x01\x03\x08")
        assert fake.written[16] == [b"\x00\x01\x03\x08\x00\x00"]
        fake.pending[16] = [C["DAHDI_EVENT_BADFCS"]]
        fake.hdlc_rx[16].append(b"\x02\x01\x03\x00\x00")
        # FCS octets dropped; the event waiting in front is read with DAHDI_GETEVENT
        assert span.hdlc_recv(16) == [b"\x02\x01\x7f", b"\x02\x01\x03"]
        assert span.take_events() == [(16, C["DAHDI_EVENT_BADFCS"])]
        assert span.hdlc_recv(16) == []
        with pytest.raises(BoardError):
            span.hdlc_send(1, b"x")


def test_cas_bits_masked_to_the_nibble():
    fake = FakeDahdi(cas=True)
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        span = board.spans[0]
        assert 16 not in span.channels
        rx = span.cas_rx()
        assert rx[1] == 1 and rx[15] == 15 and rx[17] == 1 and rx.max() <= 0xF
        span.cas_tx(3, 0b1001)
        assert ("DAHDI_SETTXBITS", 3, 0b1001) in fake.calls
        with pytest.raises(BoardError):
            span.cas_tx(16, 1)
        with pytest.raises(ValueError):
            span.cas_tx(3, 0x10)


def test_alarms_counters_and_loopbacks():
    fake = FakeDahdi()
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        span = board.spans[0]
        assert span.status().alarms == []
        fake.alarms = C["DAHDI_ALARM_RED"] | C["DAHDI_ALARM_LOS"] | C["DAHDI_ALARM_LMFA"]
        st = span.status()
        assert st.alarms == ["LOS", "LOF", "LOMF"]
        assert st.counters.as_dict() == {"crc4_errors": 5, "ebit_errors": 7, "fas_errors": 11,
                                         "slips": 0, "bpv": 3}
        fake.alarms = C["DAHDI_ALARM_BLUE"] | C["DAHDI_ALARM_YELLOW"]
        assert span.status().alarms == ["AIS", "RAI"]
        for mode in (Loopback.LOCAL, Loopback.LINE, Loopback.PAYLOAD, Loopback.NONE):
            span.set_loopback(mode)
        assert fake.maint == [(1, 1), (1, 2), (1, 13), (1, 0)]


def test_configure_checks_dahdi_cfg_lineconfig():
    fake = FakeDahdi()
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        span = board.spans[0]
        span.configure(SpanConfig())
        with pytest.raises(BoardError, match="system.conf"):
            span.configure(SpanConfig(framing="no-crc4"))


def test_clear_channel_switched_to_hdlc_and_back():
    fake = FakeDahdi()
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        span = board.spans[0]
        span.set_channel_mode(5, ChannelMode.HDLC)
        assert fake.calls[-1] == ("DAHDI_HDLCFCSMODE", 5, 1)
        span.set_channel_mode(5, ChannelMode.VOICE_ALAW)
        assert ("DAHDI_HDLCFCSMODE", 5, 0) in fake.calls
        with pytest.raises(BoardError, match="system.conf"):
            span.set_channel_mode(16, ChannelMode.VOICE_ALAW)  # a dchan stays HDLC
    fake = FakeDahdi(cas=True)
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        # the real driver answers EINVAL to DAHDI_AUDIOMODE on anything but a clear channel
        assert "DAHDI_AUDIOMODE" not in ioctls_for(fake, 1)
        for mode in (ChannelMode.HDLC, ChannelMode.CLEAR):
            with pytest.raises(BoardError, match="clear channel"):
                board.spans[0].set_channel_mode(1, mode)


def test_clear_channel_for_bert_and_unknown_span():
    fake = FakeDahdi()
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        board.spans[0].set_channel_mode(2, ChannelMode.CLEAR)
        assert fake.calls[-2:] == [("DAHDI_AUDIOMODE", 2, 0),
                                   ("DAHDI_FLUSH", 2, C["DAHDI_FLUSH_BOTH"])]
    with pytest.raises(BoardError, match="no span 2"):
        DahdiBoard("card0", {"span2": 2}, sys=FakeDahdi()).open()


def test_timer_configures_and_acks():
    fake = FakeDahdi()
    timer = DahdiTimer(fake, 160)
    assert timer.wait()
    names = [c[0] for c in fake.calls if c[0].startswith("DAHDI")]
    assert names == ["DAHDI_TIMERCONFIG", "DAHDI_TIMERACK"]
    timer.close()


def test_basechan_from_sysfs():
    class SysfsFake(FakeDahdi):
        def read_text(self, path):
            return "1\n" if path == "/sys/bus/dahdi_spans/devices/span-1/basechan" else None

    fake = SysfsFake()
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        assert board.spans[0].basechan == 1
        assert ("DAHDI_SPECIFY", None, 31) in fake.calls
    # an explicit base channel wins
    with DahdiBoard("card0", {"span1": (1, 1)}, sys=FakeDahdi()) as board:
        assert board.spans[0].channels[31].channo == 31


# --- the real driver: run inside the DAHDI VM (two looped "loc" spans, see
# tests/dahdi_vm/guest.sh), e.g.
#   python3 tests/dahdi_vm/vm.py -- python3 -m pytest -q -p no:xdist \
#       tests/test_dahdi_backend.py -k real_driver
# Elsewhere these skip.

LOC_CONF = "/tmp/system.conf"  # written by guest.sh: TS16 of both spans a D-channel
CAS_CONF = """dynamic=loc,1:0,31,0
dynamic=loc,1:1,31,0
cas=1-15,17-31:1101
cas=32-46,48-62:1101
alaw=1-62
"""


@pytest.fixture
def loc_spans():
    if not (os.path.exists("/dev/dahdi/ctl") and os.path.exists(LOC_CONF)):
        pytest.skip("needs the DAHDI VM (tests/dahdi_vm/vm.py)")
    board = DahdiBoard("loc", {"a": 1, "b": 2})
    yield board
    board.close()


def _only(span, keep):
    for ts in list(span.channels):
        if ts not in keep and span.modes.get(ts) is not ChannelMode.HDLC:
            span.set_channel_mode(ts, ChannelMode.IDLE)


def test_real_driver_voice_and_dchannel(loc_spans):
    from timeslot.prbs import PrbsChecker, PrbsGenerator

    loc_spans.open()
    a, b = loc_spans.spans
    assert (a.basechan, b.basechan) == (1, 32)
    assert a.modes[16] is ChannelMode.HDLC and len(a.channels) == 31
    assert a.status().alarms == []
    for span in (a, b):
        _only(span, {1})  # under emulation the VM keeps real time for one channel only
    gen, chk = PrbsGenerator("2^11-1"), PrbsChecker("2^11-1")
    frame = bytes([0x00, 0x01, 0x03, 0x08, 0x00, 0x05, 0x01])
    a.hdlc_send(16, frame)
    got = []
    idle = np.full((32, 160), 0xD5, dtype=np.uint8)
    for _ in range(50):
        block = idle.copy()
        block[1] = gen.generate(160)[0]
        a.write_block(block)
        b.write_block(idle)
        a.read_block(160)
        chk.process(np.ascontiguousarray(b.read_block(160)[1:2]))
        got += b.hdlc_recv(16)
    assert got == [frame]
    s = chk.stats()
    assert s["in_sync"] and s["errors"] == 0 and s["bits"] > 40 * 160 * 8


def test_real_driver_cas_and_elast(loc_spans):
    import subprocess

    with open("/tmp/cas.conf", "w") as f:
        f.write(CAS_CONF)
    subprocess.run(["dahdi_cfg", "-c", "/tmp/cas.conf"], check=True, capture_output=True)
    try:
        loc_spans.open()
        a, b = loc_spans.spans
        assert 16 not in a.channels and a.cas == set(range(1, 16)) | set(range(17, 32))
        for span in (a, b):
            _only(span, {1})
        assert b.cas_rx()[1] == 0b1101
        a.cas_tx(1, 0b0101)
        a.cas_tx(2, 0b1001)
        idle = np.full((32, 160), 0xD5, dtype=np.uint8)
        for _ in range(25):
            for span in (a, b):
                span.write_block(idle)
            for span in (a, b):
                span.read_block(160)
        assert list(b.cas_rx()[1:3]) == [0b0101, 0b1001]
        assert b.channels[1].params().rxbits > 0xF  # loc hands the bits masked with 0xff
        # the change came as DAHDI_EVENT_BITSCHANGED through a read failing with ELAST
        assert (1, C["DAHDI_EVENT_BITSCHANGED"]) in b.take_events()
        with pytest.raises(BoardError, match="clear channel"):
            a.set_channel_mode(3, ChannelMode.CLEAR)
    finally:
        loc_spans.close()
        subprocess.run(["dahdi_cfg", "-c", LOC_CONF], check=True, capture_output=True)


def test_a_silent_channel_is_a_board_error_not_a_hang():
    """A loc span whose far end was destroyed delivers nothing; read_block must not block."""

    class Silent(FakeDahdi):
        def poll(self, fd, events, timeout_ms):
            self.calls.append(("poll", timeout_ms))
            return 0

    fake = Silent()
    with DahdiBoard("card0", {"span1": 1}, sys=fake) as board:
        with pytest.raises(BoardError, match="no data for 2000 ms"):
            board.spans[0].read_block(160)
    assert ("poll", 2000) in fake.calls
