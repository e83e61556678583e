"""A span carried over UDP as a SAToP or CESoPSN pseudowire (the IWF of RFC 4553/5086).

:class:`PseudowireSpan` implements :class:`drivers.base.Span`: ``write_block`` packetises
and sends (PSN-bound IWF), ``read_block`` plays out from the jitter buffer (CE-bound
IWF).  Sockets are non-blocking; nothing runs in the background: the kernel's ticker
hook ``tick(frames)`` (and every ``read_block``) drains the socket, so the tick drives it.

Failure indications (RFC 4553 clause 6, RFC 5086 clause 6.2):

* :meth:`set_ac_fault` - the attachment circuit feeding us failed: packets go out with
  L set and no payload; the far end plays filler and shows AIS.
* :meth:`set_rdi` - (CESoPSN) the attachment circuit is in RAI: M = 10 goes out.
* packet loss state (no packets) - R goes out, and this span shows LOS.
* received R or M = 10 - this span shows RAI.

HDLC timeslots (a D-channel or SS7 link carried inside the pseudowire) run through one
``timeslot.hdlc.HdlcBank`` per span: frames are bit-stuffed into the timeslot's octets
before packetisation and recovered after playout.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from drivers.base import (
    TIMESLOTS_E1,
    Board,
    BoardError,
    ChannelMode,
    Counters,
    Loopback,
    Span,
    SpanConfig,
    SpanStatus,
)
from drivers.pseudowire.jitter import SEQ_MOD, JitterBuffer, PwCounters
from drivers.pseudowire.payload import PayloadFormat
from drivers.pseudowire.wire import Header, M, PseudowireDecodeError, decode, encode

MAX_DATAGRAM = 65535


@dataclass
class PseudowireConfig:
    """One pseudowire: mode ("satop", "cesopsn", "cesopsn-cas"), UDP ends, packetisation."""

    mode: str = "cesopsn"
    local: tuple[str, int] = ("127.0.0.1", 0)
    remote: tuple[str, int] | None = None
    frames_per_packet: int = 8  # 1 ms
    timeslots: list[int] | None = None  # CESoPSN: default 1..31 (without 16 with CAS)
    idle: int = 0xD5  # CESoPSN filler: A-law idle; SAToP always plays all ones (AIS)
    rtp: bool = False
    payload_type: int = 96
    ssrc: int = field(default_factory=lambda: int.from_bytes(os.urandom(4), "big"))
    jitter_frames: int = 640  # buffer depth, 80 ms: must exceed a kernel tick's worth
    prefill_frames: int | None = None  # default half the depth
    loss_enter: int = 8  # consecutive lost packets entering the packet loss state
    loss_exit: int = 8  # consecutive good packets leaving it


def _hdlc_bank_class(name: str) -> type:
    try:
        from timeslot.hdlc import HdlcBank
    except ImportError as e:  # built from csrc/hdlc.c by the HDLC block
        raise BoardError(f"pseudowire {name}: HDLC timeslots need timeslot.hdlc ({e})") from None
    return HdlcBank


class PseudowireSpan(Span):
    """An E1 span whose far end is a UDP peer speaking SAToP or CESoPSN."""

    def __init__(self, name: str, pw: PseudowireConfig, config: SpanConfig | None = None):
        self.name = name
        self.pw = pw
        self.config = config or SpanConfig()
        self.format = PayloadFormat(pw.mode, pw.frames_per_packet, pw.timeslots,
                                    idle=pw.idle)
        fpp = pw.frames_per_packet
        depth = max(1, -(-pw.jitter_frames // fpp))
        prefill = None if pw.prefill_frames is None else max(1, -(-pw.prefill_frames // fpp))
        self.counters = PwCounters()
        self.jitter = JitterBuffer(depth, prefill, pw.loss_enter, pw.loss_exit, self.counters)
        self.modes = dict.fromkeys(range(1, TIMESLOTS_E1), ChannelMode.VOICE_ALAW)
        self.loopback = Loopback.NONE
        self.ac_fault = False
        self.rdi = False
        self._sock: socket.socket | None = None
        self._seq = int.from_bytes(os.urandom(2), "big")  # random start, RFC 4553 5.2
        self._timestamp = int.from_bytes(os.urandom(4), "big")
        self._frag = 0
        self._tx = np.empty((TIMESLOTS_E1, 0), dtype=np.uint8)
        self._rx = np.empty((TIMESLOTS_E1, 0), dtype=np.uint8)
        self._cas_tx = np.zeros(TIMESLOTS_E1, dtype=np.uint8)
        self._cas_octets = self.format.signalling(self._cas_tx) if self.format.mode.cas else b""
        self._cas_rx = np.zeros(TIMESLOTS_E1, dtype=np.uint8)
        self.cas_received = False  # a signalling substructure has been played out
        self._far: Header | None = None  # header of the last packet played out
        self._hdlc_ts: list[int] = []
        self._hdlc_rx: dict[int, deque] = {}
        self._bank = None

    # -- sockets ---------------------------------------------------------------
    def open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(self.pw.local)
        except OSError as e:
            sock.close()
            raise BoardError(f"pseudowire {self.name}: cannot bind UDP {self.pw.local}: "
                             f"{e.strerror}") from None
        sock.setblocking(False)
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @property
    def local_address(self) -> tuple[str, int]:
        return self._socket().getsockname()

    def connect(self, remote: tuple[str, int]) -> None:
        """Send to ``remote`` from now on."""
        self.pw.remote = remote

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise BoardError(f"pseudowire {self.name} is not open")
        return self._sock

    # -- Span ------------------------------------------------------------------
    def configure(self, config: SpanConfig) -> None:
        self.config = config  # framing and line code belong to the far end's line

    def set_channel_mode(self, timeslot: int, mode: ChannelMode) -> None:
        if not 1 <= timeslot < TIMESLOTS_E1:
            raise ValueError(f"timeslot {timeslot} out of range 1..31")
        mode = ChannelMode(mode)
        if self.format.mode.structured and timeslot not in self.format.timeslots \
                and mode is not ChannelMode.IDLE:
            raise BoardError(f"pseudowire {self.name}: timeslot {timeslot} is not carried")
        if mode is ChannelMode.HDLC:
            _hdlc_bank_class(self.name)  # fail before changing anything
        was_hdlc = self.modes.get(timeslot) is ChannelMode.HDLC
        self.modes[timeslot] = mode
        if was_hdlc != (mode is ChannelMode.HDLC):
            self._rebuild_hdlc()

    def _rebuild_hdlc(self) -> None:
        """One HDLC bank for every HDLC timeslot (queued frames are dropped, as on a
        re-provisioned link)."""
        self._hdlc_ts = [t for t, m in sorted(self.modes.items()) if m is ChannelMode.HDLC]
        self._hdlc_rx = {t: deque() for t in self._hdlc_ts}
        self._bank = None
        if self._hdlc_ts:
            self._bank = _hdlc_bank_class(self.name)(len(self._hdlc_ts))

    def set_loopback(self, mode: Loopback) -> None:
        self.loopback = Loopback(mode)

    def set_ac_fault(self, failed: bool) -> None:
        """Attachment circuit failure: send L = 1 without payload (RFC 4553 5.2, 5086 5.2)."""
        self.ac_fault = failed

    def set_rdi(self, rdi: bool) -> None:
        """Attachment circuit in RAI: CESoPSN sends M = 10 (RFC 5086 clause 5.2)."""
        if rdi and not self.format.mode.structured:
            raise BoardError("SAToP has no RDI indication: RAI travels inside the E1 stream")
        self.rdi = rdi

    def status(self) -> SpanStatus:
        alarms = []
        if self.jitter.loss_state:
            alarms.append("LOS")
        far = self._far
        if far is not None and not self.jitter.loss_state:
            if far.l:
                alarms.append("AIS")
            if far.r or (far.m == M.RDI and self.format.mode.structured):  # SAToP: RSV
                alarms.append("RAI")
        return SpanStatus(alarms=alarms, counters=Counters())

    def write_block(self, block: np.ndarray) -> None:
        if block.ndim != 2 or block.shape[0] != TIMESLOTS_E1:
            raise ValueError(f"expected a block of shape (32, frames), got {block.shape}")
        block = np.asarray(block, dtype=np.uint8)
        if self.loopback is Loopback.LOCAL:
            self._rx = np.concatenate([self._rx, block], axis=1)
        if self.loopback in (Loopback.LINE, Loopback.PAYLOAD):
            return  # the line is looped back: what we receive is what goes out
        if self._bank is not None:
            block = block.copy()
            rows = np.empty((len(self._hdlc_ts), block.shape[1]), dtype=np.uint8)
            self._bank.tx(rows)
            block[self._hdlc_ts, :] = rows
        self._send_frames(block)

    def _send_frames(self, block: np.ndarray) -> None:
        tx = np.concatenate([self._tx, block], axis=1) if self._tx.shape[1] else block
        fpp = self.format.frames
        whole = tx.shape[1] // fpp * fpp
        if whole:
            for data in self.format.data_parts(tx[:, :whole]):
                self._send_packet(data)
        self._tx = tx[:, whole:]

    def _send_packet(self, data: bytes) -> None:
        frg = self.format.frg(self._frag)
        self._frag = (self._frag + 1) % self.format.fragments
        header = Header(
            seq=self._seq, l=self.ac_fault, r=self.jitter.loss_state,
            # with L set every M but 00 is reserved (RFC 5086 5.2): the fault wins
            m=M.RDI if self.rdi and not self.ac_fault else M.NORMAL, frg=frg,
            timestamp=self._timestamp if self.pw.rtp else None,
            payload_type=self.pw.payload_type, ssrc=self.pw.ssrc)
        if self.ac_fault:
            payload = b""  # L set: the payload may be omitted (RFC 4553 5.2, RFC 5086 5.2)
        elif self.format.carries_signalling(frg):
            payload = data + self._cas_octets
        else:
            payload = data
        self._seq = (self._seq + 1) % SEQ_MOD
        self._timestamp = (self._timestamp + self.format.frames) & 0xFFFFFFFF
        if self.pw.remote is None:
            return
        try:
            self._socket().sendto(encode(header, payload), self.pw.remote)
        except BlockingIOError:
            return  # the PSN dropped it: the far end sees a lost packet
        except OSError as e:
            raise BoardError(f"pseudowire {self.name}: send to {self.pw.remote}: "
                             f"{e.strerror}") from None
        self.counters.tx_packets += 1

    def tick(self, frames: int) -> None:
        """The kernel's ticker hook (cti.kernel.Ticker): take in what the PSN delivered."""
        self.pump()

    def pump(self) -> None:
        """Move every waiting datagram into the jitter buffer."""
        sock = self._socket()
        while True:
            try:
                data = sock.recv(MAX_DATAGRAM)
            except (BlockingIOError, ConnectionRefusedError):
                return
            self.receive(data)

    def receive(self, data: bytes) -> None:
        """One datagram from the PSN (used by :meth:`pump`, or directly by a relay)."""
        try:
            header, payload = decode(data, self.pw.rtp)
            self.format.check_modifier(header.l, header.m)
            if header.l:  # far attachment circuit failed: play filler, whatever came
                item = (self.format.filler_data, None, header)
            else:
                octets, cas = self.format.split(payload, header.frg)
                item = (octets, cas, header)
        except PseudowireDecodeError:
            self.counters.malformed += 1
            return
        self.jitter.push(header.seq, item)

    def read_block(self, frames: int) -> np.ndarray:
        if self._sock is not None:
            self.pump()
        if self.loopback is not Loopback.LOCAL:
            need = -(-(frames - self._rx.shape[1]) // self.format.frames)
            if need > 0:
                parts = []
                for _ in range(need):
                    ok, item = self.jitter.pop()
                    if ok:
                        octets, cas, self._far = item
                        if cas is not None:
                            self._cas_rx = cas
                            self.cas_received = True
                        parts.append(octets)
                    else:
                        parts.append(self.format.filler_data)
                played = self.format.to_block(b"".join(parts))
                self._rx = np.concatenate([self._rx, played], axis=1) \
                    if self._rx.shape[1] else played
        elif self._rx.shape[1] < frames:  # local loopback before anything was written
            gap = self.format.filler(frames - self._rx.shape[1])
            self._rx = np.concatenate([self._rx, gap], axis=1)
        out, self._rx = self._rx[:, :frames], self._rx[:, frames:]
        out = np.ascontiguousarray(out)
        if self._bank is not None:
            for link, frame in self._bank.rx(np.ascontiguousarray(out[self._hdlc_ts, :])):
                self._hdlc_rx[self._hdlc_ts[link]].append(bytes(frame))
        if self.loopback in (Loopback.LINE, Loopback.PAYLOAD):
            self._send_frames(out)
        return out

    def cas_rx(self) -> np.ndarray:
        self._need_cas()
        return self._cas_rx.copy()

    def cas_tx(self, timeslot: int, abcd: int) -> None:
        self._need_cas()
        if timeslot not in self.format.timeslots:
            raise ValueError(f"timeslot {timeslot} is not carried by this pseudowire")
        if not 0 <= abcd <= 0xF:
            raise ValueError("ABCD is a 4-bit value")
        self._cas_tx[timeslot] = abcd
        self._cas_octets = self.format.signalling(self._cas_tx)

    def _need_cas(self) -> None:
        if not self.format.mode.cas:
            raise BoardError(f"pseudowire {self.name} is {self.format.mode.name}: CAS needs "
                             "mode cesopsn-cas (SAToP carries TS16 inside the E1 stream)")

    def _link(self, timeslot: int) -> int:
        if timeslot not in self._hdlc_ts:
            raise BoardError(f"pseudowire {self.name}: TS{timeslot} is not in HDLC mode")
        return self._hdlc_ts.index(timeslot)

    def hdlc_send(self, timeslot: int, frame: bytes) -> None:
        self._bank.send(self._link(timeslot), bytes(frame))

    def hdlc_recv(self, timeslot: int) -> list[bytes]:
        self._link(timeslot)
        q = self._hdlc_rx[timeslot]
        out = list(q)
        q.clear()
        return out


class PseudowireBoard(Board):
    """A set of pseudowire spans opened together (``[boards.NAME] type = "pseudowire"``)."""

    def __init__(self, name: str, spans: dict[str, PseudowireConfig]):
        self.name = name
        self.spans = [PseudowireSpan(n, cfg) for n, cfg in spans.items()]

    def open(self) -> None:
        opened = []
        try:
            for s in self.spans:
                s.open()
                opened.append(s)
        except BoardError:
            for s in opened:
                s.close()
            raise

    def close(self) -> None:
        for s in self.spans:
            s.close()

    def tick(self, frames: int) -> None:
        """The kernel's ticker hook: every span takes in what the PSN delivered."""
        for s in self.spans:
            s.pump()
