"""DAHDI spans and boards behind :mod:`drivers.base`.

Spans are configured by ``dahdi_cfg`` from /etc/dahdi/system.conf (as Asterisk expects);
this backend checks that configuration against what is asked, opens every configured
channel of the span, sets block size, buffer policy, law/audio mode and HDLC mode, and
reads span status (alarms, counters) and maintenance (loopbacks) through /dev/dahdi/ctl.
An E1 span's channel ``basechan + ts - 1`` is timeslot ``ts`` (1..31).
"""

from __future__ import annotations

import ctypes
import os
import select

import numpy as np

from drivers.base import (
    TIMESLOTS_E1,
    Board,
    BoardError,
    ChannelMode,
    Counters,
    Framing,
    LineCode,
    Loopback,
    Signalling,
    Span,
    SpanConfig,
    SpanStatus,
)
from drivers.dahdi.abi import CONSTANTS as C
from drivers.dahdi.abi import IOCTLS, DahdiMaintInfo, DahdiSpanInfo
from drivers.dahdi.channel import CHANNEL_DEV, HDLC_MRU, ChannelNotConfigured, DahdiChannel
from drivers.dahdi.sysio import Posix

CTL_DEV = "/dev/dahdi/ctl"
TIMER_DEV = "/dev/dahdi/timer"
SYSFS_BASECHAN = "/sys/bus/dahdi_spans/devices/span-{}/basechan"

#: DAHDI alarm bits -> G.775 names (red = LOF, blue = AIS, yellow = RAI)
ALARM_BITS = (
    ("DAHDI_ALARM_LOS", "LOS"),
    ("DAHDI_ALARM_LFA", "LOF"),
    ("DAHDI_ALARM_RED", "LOF"),
    ("DAHDI_ALARM_BLUE", "AIS"),
    ("DAHDI_ALARM_YELLOW", "RAI"),
    ("DAHDI_ALARM_LMFA", "LOMF"),
)

MAINT = {
    Loopback.NONE: "DAHDI_MAINT_NONE",
    Loopback.LOCAL: "DAHDI_MAINT_LOCALLOOP",
    Loopback.LINE: "DAHDI_MAINT_NETWORKLINELOOP",
    Loopback.PAYLOAD: "DAHDI_MAINT_NETWORKPAYLOADLOOP",
}

LAWS = {ChannelMode.VOICE_ALAW: "DAHDI_LAW_ALAW", ChannelMode.VOICE_ULAW: "DAHDI_LAW_MULAW"}


def alarm_names(bits: int) -> list[str]:
    names: list[str] = []
    for flag, name in ALARM_BITS:
        if bits & C[flag] and name not in names:
            names.append(name)
    return names


def lineconfig_bits(config: SpanConfig) -> int:
    bits = 0
    if config.framing is Framing.CRC4:
        bits |= C["DAHDI_CONFIG_CRC4"]
    if config.signalling is Signalling.CCS:
        bits |= C["DAHDI_CONFIG_CCS"]
    if config.line_code is LineCode.HDB3:
        bits |= C["DAHDI_CONFIG_HDB3"]
    return bits


class DahdiControl:
    """/dev/dahdi/ctl: span status and maintenance."""

    def __init__(self, sys: Posix):
        self.sys = sys
        try:
            self.fd = sys.open(CTL_DEV, os.O_RDWR)
        except OSError as e:
            raise BoardError(f"{CTL_DEV}: {e.strerror}") from None

    def spaninfo(self, spanno: int) -> DahdiSpanInfo:
        info = DahdiSpanInfo()
        info.spanno = spanno
        try:
            self.sys.ioctl(self.fd, IOCTLS["DAHDI_SPANSTAT"], info)
        except OSError as e:
            raise BoardError(f"DAHDI span {spanno}: {e.strerror}") from None
        return info

    def maint(self, spanno: int, command: int) -> None:
        try:
            self.sys.ioctl(self.fd, IOCTLS["DAHDI_MAINT"],
                           DahdiMaintInfo(spanno=spanno, command=command))
        except OSError as e:
            raise BoardError(f"DAHDI span {spanno}: DAHDI_MAINT {command}: {e.strerror}") from None

    def close(self) -> None:
        self.sys.close(self.fd)


class DahdiSpan(Span):
    READ_TIMEOUT_MS = 2000  # a blocked read longer than this is reported, not waited out

    """One DAHDI E1 span: 31 channels, TS1..TS31."""

    def __init__(self, control: DahdiControl, name: str, spanno: int, basechan: int,
                 blocksize: int = 160, config: SpanConfig | None = None):
        self.ctl = control
        self.name = name
        self.spanno = spanno
        self.basechan = basechan
        self.blocksize = blocksize
        self.config = config or SpanConfig()
        self.channels: dict[int, DahdiChannel] = {}
        self.modes: dict[int, ChannelMode] = {}
        self.cas: set[int] = set()
        self.sigtypes: dict[int, int] = {}  # DAHDI signalling of each configured channel
        self.events: list[tuple[int, int]] = []  # (timeslot, DAHDI_EVENT_*)

    def open(self) -> None:
        """Open every configured channel in the mode its DAHDI signalling implies."""
        sys = self.ctl.sys
        for ts in range(1, TIMESLOTS_E1):
            ch = DahdiChannel(sys, self.basechan + ts - 1)
            try:
                ch.open()
            except ChannelNotConfigured:  # e.g. TS16 of a CAS span
                continue
            sig = ch.params().sigtype
            if sig == 0:
                ch.close()
                continue
            self.channels[ts] = ch
            self.sigtypes[ts] = sig
            if sig & C["DAHDI_SIG_CAS"]:
                self.cas.add(ts)
            hdlc = sig & C["DAHDI_SIG_HDLCFCS"] == C["DAHDI_SIG_HDLCFCS"]
            self.set_channel_mode(ts, ChannelMode.HDLC if hdlc else ChannelMode.VOICE_ALAW)

    def close(self) -> None:
        for ch in self.channels.values():
            ch.close()
        self.channels.clear()

    def _channel(self, ts: int) -> DahdiChannel:
        ch = self.channels.get(ts)
        if ch is None:
            raise BoardError(f"DAHDI span {self.spanno}: channel {self.basechan + ts - 1} "
                             f"(TS{ts}) is not configured (see /etc/dahdi/system.conf)")
        return ch

    # -- Span ------------------------------------------------------------------------
    def configure(self, config: SpanConfig) -> None:
        """Check the dahdi_cfg line configuration (framing, signalling, line code)."""
        want = lineconfig_bits(config)
        mask = C["DAHDI_CONFIG_CRC4"] | C["DAHDI_CONFIG_CCS"] | C["DAHDI_CONFIG_HDB3"]
        have = self.ctl.spaninfo(self.spanno).lineconfig & mask
        if have != want:
            raise BoardError(f"DAHDI span {self.spanno} is configured with lineconfig "
                             f"{have:#x}, asked {want:#x}: change /etc/dahdi/system.conf "
                             "and run dahdi_cfg")
        self.config = config

    def set_channel_mode(self, timeslot: int, mode: ChannelMode) -> None:
        ch = self._channel(timeslot)
        mode = ChannelMode(mode)
        sig = self.sigtypes[timeslot]
        # a dchan/hardhdlc channel is HDLC with FCS by configuration; only a clear channel
        # is switched with DAHDI_HDLCFCSMODE (DAHDI refuses it on any other signalling)
        configured_hdlc = sig & C["DAHDI_SIG_HDLCFCS"] == C["DAHDI_SIG_HDLCFCS"]
        switchable = sig == C["DAHDI_SIG_CLEAR"]
        needs_clear = (mode is ChannelMode.HDLC) != configured_hdlc or mode is ChannelMode.CLEAR
        if needs_clear and not switchable:
            raise BoardError(f"DAHDI channel {ch.channo} (TS{timeslot}) has signalling "
                             f"{sig:#x}: {mode.value} needs a clear channel (bchan) or a "
                             "change in /etc/dahdi/system.conf")
        if mode is ChannelMode.HDLC:
            ch.open(nonblocking=True)  # frames are polled, never waited for
            if switchable:
                ch.hdlc_fcs_mode(True)
        else:
            if ch.nonblocking:
                ch.open()
                if switchable:
                    ch.hdlc_fcs_mode(False)
            ch.set_blocksize(self.blocksize)
            if mode in LAWS:
                ch.set_law(C[LAWS[mode]])
            if switchable:  # DAHDI_AUDIOMODE exists only for clear (bchan) channels
                ch.audio_mode(mode in LAWS)
            ch.flush()
        self.modes[timeslot] = mode

    def status(self) -> SpanStatus:
        info = self.ctl.spaninfo(self.spanno)
        return SpanStatus(
            alarms=alarm_names(info.alarms),
            counters=Counters(crc4_errors=info.crc4count, ebit_errors=info.ebitcount,
                              fas_errors=info.fascount, slips=0, bpv=info.bpvcount))

    def set_loopback(self, mode: Loopback) -> None:
        self.ctl.maint(self.spanno, C[MAINT[Loopback(mode)]])

    def _block_channels(self):
        return [(ts, ch) for ts, ch in self.channels.items()
                if self.modes.get(ts) not in (ChannelMode.HDLC, ChannelMode.IDLE)]

    def _resize(self, frames: int) -> None:
        if frames != self.blocksize:
            self.blocksize = frames
            for _, ch in self._block_channels():
                ch.set_blocksize(frames)

    def read_block(self, frames: int) -> np.ndarray:
        self._resize(frames)
        block = np.full((TIMESLOTS_E1, frames), 0xD5, dtype=np.uint8)
        for ts, ch in self._block_channels():
            got = b""
            while len(got) < frames:
                # a span whose far end is gone delivers nothing: fail, never hang the loop
                if not ch.sys.poll(ch.fd, select.POLLIN | select.POLLPRI, self.READ_TIMEOUT_MS):
                    raise BoardError(f"DAHDI channel {ch.channo}: no data for "
                                     f"{self.READ_TIMEOUT_MS} ms (span down or not clocked?)")
                part = ch.read(frames - len(got))
                if not part:
                    raise BoardError(f"DAHDI channel {ch.channo}: end of file")
                got += part
            block[ts, :] = np.frombuffer(got, dtype=np.uint8)
            self._collect(ts, ch)
        return block

    def write_block(self, block: np.ndarray) -> None:
        if block.ndim != 2 or block.shape[0] != TIMESLOTS_E1:
            raise ValueError(f"expected a block of shape (32, frames), got {block.shape}")
        self._resize(block.shape[1])
        for ts, ch in self._block_channels():
            ch.write(np.ascontiguousarray(block[ts], dtype=np.uint8).tobytes())
            self._collect(ts, ch)

    def _collect(self, ts: int, ch: DahdiChannel) -> None:
        self.events.extend((ts, ev) for ev in ch.take_events())

    def take_events(self) -> list[tuple[int, int]]:
        """(timeslot, DAHDI_EVENT_*) seen since the last call."""
        ev, self.events = self.events, []
        return ev

    def cas_rx(self) -> np.ndarray:
        out = np.zeros(TIMESLOTS_E1, dtype=np.uint8)
        for ts in sorted(self.cas):
            out[ts] = self.channels[ts].rx_bits()
        return out

    def cas_tx(self, timeslot: int, abcd: int) -> None:
        if timeslot not in self.cas:
            raise BoardError(f"DAHDI span {self.spanno}: TS{timeslot} is not a CAS channel")
        if not 0 <= abcd <= 0xF:
            raise ValueError("ABCD is a 4-bit value")
        self.channels[timeslot].tx_bits(abcd)

    def _hdlc(self, ts: int) -> DahdiChannel:
        if self.modes.get(ts) is not ChannelMode.HDLC:
            raise BoardError(f"DAHDI span {self.spanno}: TS{ts} is not in HDLC mode")
        return self.channels[ts]

    def hdlc_send(self, timeslot: int, frame: bytes) -> None:
        """The frame plus 2 placeholder octets: DAHDI computes and sends the FCS."""
        ch = self._hdlc(timeslot)
        ch.write(bytes(frame) + b"\0\0")
        self._collect(timeslot, ch)

    def hdlc_recv(self, timeslot: int) -> list[bytes]:
        """Frames DAHDI received with a good FCS (it drops bad ones with DAHDI_EVENT_BADFCS);
        DAHDI_IOMUX with NOWAIT says whether a frame or an event is waiting."""
        ch = self._hdlc(timeslot)
        frames = []
        want = C["DAHDI_IOMUX_READ"] | C["DAHDI_IOMUX_SIGEVENT"] | C["DAHDI_IOMUX_NOWAIT"]
        while ready := ch.iomux(want):
            if ready & C["DAHDI_IOMUX_SIGEVENT"]:
                ch.events.append(ch.get_event())
                continue
            data = ch.read(HDLC_MRU)
            if data is None:
                break
            if len(data) > 2:
                frames.append(data[:-2])  # each read is one frame plus its 2 FCS octets
        self._collect(timeslot, ch)
        return frames


class DahdiTimer:
    """/dev/dahdi/timer: a tick every ``frames`` samples of the DAHDI master clock."""

    def __init__(self, sys: Posix, frames: int):
        self.sys = sys
        try:
            self.fd = sys.open(TIMER_DEV, os.O_RDWR | os.O_NONBLOCK)
        except OSError as e:
            raise BoardError(f"{TIMER_DEV}: {e.strerror}") from None
        self._ioctl("DAHDI_TIMERCONFIG", frames)

    def _ioctl(self, name: str, value: int) -> int:
        arg = ctypes.c_int(value)
        self.sys.ioctl(self.fd, IOCTLS[name], arg)
        return arg.value

    def wait(self, timeout_ms: int = 1000) -> bool:
        """Block until the timer expires; True if it did (and acknowledge it)."""
        if not self.sys.poll(self.fd, select.POLLPRI, timeout_ms):
            return False
        self._ioctl("DAHDI_TIMERACK", 1)
        return True

    def close(self) -> None:
        self.sys.close(self.fd)


class DahdiBoard(Board):
    """DAHDI spans opened by number: ``spans = {"name": spanno}`` (or ``(spanno, basechan)``)."""

    def __init__(self, name: str, spans: dict[str, int | tuple[int, int]],
                 blocksize: int = 160, sys: Posix | None = None):
        self.name = name
        self.sys = sys or Posix()
        self.blocksize = blocksize
        self._wanted = spans
        self.spans: list[DahdiSpan] = []
        self.ctl: DahdiControl | None = None

    def open(self) -> None:
        for dev in (CTL_DEV, CHANNEL_DEV):
            if not self.sys.exists(dev):
                raise BoardError(f"DAHDI board {self.name!r}: {dev} not found (is the dahdi "
                                 "kernel module loaded and dahdi_cfg run?)")
        self.ctl = DahdiControl(self.sys)
        try:
            for name, where in self._wanted.items():
                spanno, basechan = where if isinstance(where, tuple) else (where, None)
                span = DahdiSpan(self.ctl, name, spanno, basechan or self._basechan(spanno),
                                 self.blocksize)
                self.spans.append(span)
                span.open()
        except BoardError:
            self.close()
            raise

    def _basechan(self, spanno: int) -> int:
        text = self.sys.read_text(SYSFS_BASECHAN.format(spanno))
        if text and text.strip().isdigit():
            return int(text)
        try:
            self.ctl.spaninfo(spanno)
        except BoardError as e:
            raise BoardError(f"DAHDI board {self.name!r}: no span {spanno} ({e})") from None
        return 1 + sum(self.ctl.spaninfo(n).totalchans for n in range(1, spanno))

    def close(self) -> None:
        for span in self.spans:
            span.close()
        self.spans = []
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
