"""A software E1 span (drivers.base.Span) running on a :class:`SimSystem`."""

from __future__ import annotations

import collections
from dataclasses import replace

import numpy as np

from core.timers import TimerSpec, TimerTable
from drivers.base import (
    BoardError,
    ChannelMode,
    Counters,
    Framing,
    Loopback,
    Signalling,
    Span,
    SpanConfig,
    SpanStatus,
)
from drivers.sim.system import SimSystem, parse_clock

# framer timers (the 3-FAS, 915/1000, LOS and AIS criteria are counts, fixed in csrc/e1.h)
E1_TIMERS = TimerTable([
    TimerSpec("crc4_mf_search", 8, "ms", "G.706 4.2",
              "two CRC-4 MFAS must be found this long after frame alignment, else re-search"),
    TimerSpec("crc4_interworking", 400, "ms", "G.706 annex B",
              "no CRC-4 multiframe this long after primary alignment: far end has no CRC-4"),
])

# octet sent on a timeslot nobody wrote this tick (G.711 idle/silence; HDLC flags)
IDLE_OCTET = {
    ChannelMode.VOICE_ALAW: 0xD5,
    ChannelMode.VOICE_ULAW: 0xFF,
    ChannelMode.CLEAR: 0xFF,
    ChannelMode.IDLE: 0xD5,
    ChannelMode.HDLC: 0x7E,
}
CAS_TIMESLOTS = tuple(range(1, 16)) + tuple(range(17, 32))
CAS_IDLE = 0b1101  # A=1 and BCD=101, the unused-bit pattern of G.704 5.1.3.2


class SimSpan(Span):
    """One simulated E1 trunk: G.704 framing, CRC-4, CAS, alarms and counters in C.

    Blocks move on :meth:`SimSystem.tick`: what was written before the tick is sent, what
    arrived is read after it.  TS0 is always the framer's; TS16 is the CAS multiframe
    when signalling is CAS."""

    def __init__(self, name: str, config: SpanConfig | None = None,
                 system: SimSystem | None = None, timers: TimerTable | None = None,
                 nfas_loss: bool = False) -> None:
        self.name = name
        self.timers = timers or E1_TIMERS
        self.nfas_loss = nfas_loss  # also lose alignment on 3 NFAS bit-2 errors (G.706 4.1.1)
        self._sa = (0x1F, 1)  # Sa4..Sa8, Si
        self.config = self._checked(config or SpanConfig())
        self.system: SimSystem | None = None
        self.index = -1
        self.enabled = True
        self.loopback = Loopback.NONE
        self.modes: dict[int, ChannelMode] = {}
        self._set_default_modes()
        self._cas_tx = dict.fromkeys(CAS_TIMESLOTS, CAS_IDLE)
        self._tx_block: np.ndarray | None = None
        self._idle: np.ndarray | None = None  # idle octet per timeslot, from the modes
        self._rx_block: np.ndarray | None = None
        self._hdlc_rx: dict[int, collections.deque] = collections.defaultdict(collections.deque)
        (system or SimSystem()).add_span(self)

    # ---------------------------------------------------------------- config
    @staticmethod
    def _checked(config: SpanConfig) -> SpanConfig:
        config = replace(config, framing=Framing(config.framing),
                         signalling=Signalling(config.signalling))
        parse_clock(config.clock)
        return config

    def _set_default_modes(self) -> None:
        self.modes = {ts: ChannelMode.VOICE_ALAW for ts in range(1, 32)}
        self.modes[16] = (ChannelMode.IDLE if self.config.signalling is Signalling.CAS
                          else ChannelMode.CLEAR)

    def _engine(self):
        assert self.system is not None
        return self.system.engine()

    def _apply(self, eng) -> None:
        """Push this span's settings into a (new) engine."""
        eng.configure(self.index, self.config.framing is Framing.CRC4,
                      self.config.signalling is Signalling.CAS, self.nfas_loss)
        eng.set_loopback(self.index, self.loopback.value)
        eng.set_sa(self.index, *self._sa)
        eng.set_timers(self.index, self.timers.values["crc4_mf_search"],
                       self.timers.values["crc4_interworking"])
        for ts, abcd in self._cas_tx.items():
            eng.cas_tx(self.index, ts, abcd)

    def configure(self, config: SpanConfig) -> None:
        cas_before = self.config.signalling
        self.config = self._checked(config)
        if self.config.signalling is not cas_before:
            self._set_default_modes()
            self._idle = None
            self.system.modes_changed()
        self._apply(self._engine())
        self.system._apply_links()

    def set_channel_mode(self, timeslot: int, mode: ChannelMode) -> None:
        mode = ChannelMode(mode)
        if not 1 <= timeslot <= 31:
            raise ValueError("timeslot must be 1..31 (TS0 carries the framing)")
        if timeslot == 16 and self.config.signalling is Signalling.CAS and mode is not ChannelMode.IDLE:
            raise BoardError("TS16 carries the CAS multiframe on this span (signalling=cas)")
        self.modes[timeslot] = mode
        self._idle = None
        if self.system is not None:
            self.system.modes_changed()

    # ---------------------------------------------------------------- state
    def status(self) -> SpanStatus:
        st = self._engine().status(self.index)
        return SpanStatus(alarms=st["alarms"], counters=Counters(**st["counters"]))

    def set_national_bits(self, sa: int = 0x1F, si: int = 1) -> None:
        """Sa4..Sa8 (5 bits, Sa4 the MSB) sent in NFAS frames, and Si (bit 1) when CRC-4 is
        off (G.704 2.3.2); the far end's ``details()["sa"]`` shows the Sa bits received."""
        if not 0 <= sa <= 0x1F or si not in (0, 1):
            raise ValueError("sa is 5 bits, si one bit")
        self._sa = (sa, si)
        self._engine().set_sa(self.index, sa, si)

    def clear_counters(self) -> None:
        """Restart the error counters (e.g. after alignment, before a measurement)."""
        self._engine().clear_counters(self.index)

    def details(self) -> dict:
        """Status plus framer state: CRC-4 multiframe state, LOF events, resyncs."""
        return self._engine().status(self.index)

    def set_loopback(self, mode: Loopback) -> None:
        self.loopback = Loopback(mode)
        self._engine().set_loopback(self.index, self.loopback.value)

    # ---------------------------------------------------------------- blocks
    def read_block(self, frames: int) -> np.ndarray:
        if self._rx_block is None or self._rx_block.shape[1] != frames:
            raise BoardError(f"span {self.name!r}: no block of {frames} frames received; "
                             "tick the system with that block size first")
        return self._rx_block.copy()

    def write_block(self, block: np.ndarray) -> None:
        block = np.asarray(block)
        if block.dtype != np.uint8 or block.ndim != 2 or block.shape[0] != 32:
            raise ValueError("block must be uint8 of shape (32, frames)")
        self._tx_block = block

    def _fill_tx(self, out: np.ndarray) -> None:
        blk = self._tx_block
        if blk is not None and blk.shape == out.shape:
            out[:] = blk
        else:
            if self._idle is None:
                self._idle = np.array([IDLE_OCTET[self.modes.get(ts, ChannelMode.IDLE)]
                                       for ts in range(32)], np.uint8)[:, None]
            out[:] = self._idle
        self._tx_block = None

    # ---------------------------------------------------------------- CAS
    def cas_rx(self) -> np.ndarray:
        """Debounced ABCD per timeslot (1..15, 17..31); 1111 while out of multiframe."""
        v = self._engine().cas_rx(self.index)
        v[0] = v[16] = 0
        return v

    def cas_tx(self, timeslot: int, abcd: int) -> None:
        if timeslot not in CAS_TIMESLOTS:
            raise ValueError("CAS timeslots are 1..15 and 17..31")
        if not 0 <= abcd <= 15:
            raise ValueError("abcd is a 4-bit value")
        if abcd == 0 and timeslot <= 15:
            raise ValueError("ABCD 0000 is not allowed on channels 1-15: it would imitate "
                             "the multiframe alignment signal (G.704 5.1.3.2)")
        self._cas_tx[timeslot] = abcd
        if self.system is not None and self.system._engine is not None:
            self.system._engine.cas_tx(self.index, timeslot, abcd)

    # ---------------------------------------------------------------- HDLC
    def _hdlc_link(self, timeslot: int):
        if self.modes.get(timeslot) is not ChannelMode.HDLC:
            raise BoardError(f"timeslot {timeslot} of {self.name!r} is not in HDLC mode")
        return self.system._hdlc_bank()

    def hdlc_send(self, timeslot: int, frame: bytes) -> None:
        self._hdlc_link(timeslot).send(self.index, timeslot, bytes(frame))

    def hdlc_recv(self, timeslot: int) -> list[bytes]:
        self._hdlc_link(timeslot)
        q = self._hdlc_rx[timeslot]
        out = list(q)
        q.clear()
        return out
