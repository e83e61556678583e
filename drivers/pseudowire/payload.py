"""Payload formats: SAToP (RFC 4553) and CESoPSN basic / with CAS (RFC 5086).

A format turns ``frames`` E1 frames of a channel-major block ``(32, frames)`` into the
payload of one packet and back.  Formats are data (:data:`MODES`), not branches.

* SAToP (RFC 4553 clause 5.3): the unstructured 2.048 Mbit/s stream, octet aligned,
  32 octets per 125 us frame, TS0 included; filler is all ones, i.e. AIS (clause 6.3).
* CESoPSN basic NxDS0 (RFC 5086 clause 4.2): per frame the octets of the N configured
  timeslots in order; filler is the configured idle pattern (clause 6.2.2 (b)).
* CESoPSN NxDS0 with CAS (RFC 5086 clause 4.3): packets carry whole multiframes (16
  frames for E1) or equal fragments of one, marked by FRG; the packet that ends a
  multiframe appends the signalling substructure: the ABCD nibble of each of the N
  timeslots, in order, high nibble first, padded with a zero nibble to whole octets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivers.base import TIMESLOTS_E1
from drivers.pseudowire.wire import Frg, PseudowireDecodeError

CAS_MULTIFRAME = 16  # E1 CAS multiframe, G.704 clause 5.1.3


@dataclass(frozen=True)
class Mode:
    name: str
    structured: bool
    cas: bool
    rfc: str


MODES = {m.name: m for m in (
    Mode("satop", structured=False, cas=False, rfc="RFC 4553"),
    Mode("cesopsn", structured=True, cas=False, rfc="RFC 5086 clause 4.2"),
    Mode("cesopsn-cas", structured=True, cas=True, rfc="RFC 5086 clause 4.3"),
)}


class PayloadFormat:
    """Packetisation of one pseudowire: mode, timeslots and frames per packet."""

    def __init__(self, mode: str, frames_per_packet: int, timeslots: list[int] | None = None,
                 idle: int = 0xFF):
        if mode not in MODES:
            raise ValueError(f"unknown pseudowire mode {mode!r} (known: {', '.join(MODES)})")
        self.mode = MODES[mode]
        if frames_per_packet < 1:
            raise ValueError("frames_per_packet must be at least 1")
        if not 0 <= idle <= 0xFF:
            raise ValueError("idle pattern must be one octet")
        if self.mode.structured:
            default = [t for t in range(1, TIMESLOTS_E1) if not (self.mode.cas and t == 16)]
            ts = list(default if timeslots is None else timeslots)
            if not ts or len(set(ts)) != len(ts) or not all(1 <= t < TIMESLOTS_E1 for t in ts):
                raise ValueError("timeslots must be distinct numbers within 1..31")
            if self.mode.cas and 16 in ts:
                raise ValueError("with CAS, timeslot 16 carries the signalling, not payload")
            if self.mode.cas and CAS_MULTIFRAME % frames_per_packet:
                raise ValueError("with CAS, a packet carries a whole multiframe or an equal "
                                 "fragment: frames_per_packet must divide 16")
        else:
            if timeslots is not None:
                raise ValueError("SAToP carries the whole E1: no timeslot selection")
            ts = list(range(TIMESLOTS_E1))
            idle = 0xFF  # AIS, RFC 4553 clause 6.3
        self.timeslots = ts
        self.frames = frames_per_packet
        self.idle = idle
        self.fragments = CAS_MULTIFRAME // frames_per_packet if self.mode.cas else 1
        self.cas_octets = (len(ts) + 1) // 2 if self.mode.cas else 0
        self._rows = np.array(ts, dtype=np.intp)

    @property
    def data_octets(self) -> int:
        return len(self.timeslots) * self.frames

    def frg(self, index: int) -> Frg:
        """FRG of the ``index``-th packet of a multiframe (RFC 5086 clause 5.2)."""
        if self.fragments == 1:
            return Frg.WHOLE
        if index == 0:
            return Frg.FIRST
        return Frg.LAST if index == self.fragments - 1 else Frg.MIDDLE

    def data_parts(self, block: np.ndarray) -> list[bytes]:
        """Data octets of consecutive packets for ``block`` (32, k x frames_per_packet)."""
        data = block[self._rows, :].T.tobytes()  # frame by frame, timeslots in order
        n = self.data_octets
        return [data[i:i + n] for i in range(0, len(data), n)]

    def signalling(self, cas: np.ndarray) -> bytes:
        """The signalling substructure: ABCD nibbles of the carried timeslots, padded."""
        nib = (np.asarray(cas, dtype=np.uint8)[self._rows] & 0xF).tolist()
        if len(nib) % 2:
            nib.append(0)
        return bytes((nib[i] << 4) | nib[i + 1] for i in range(0, len(nib), 2))

    def carries_signalling(self, frg: int) -> bool:
        return bool(self.cas_octets) and frg in (Frg.WHOLE, Frg.LAST)

    def pack(self, block: np.ndarray, cas: np.ndarray | None = None, frg: int = Frg.WHOLE
             ) -> bytes:
        """Payload of one packet for ``block`` (32, frames_per_packet)."""
        data = self.data_parts(block)[0]
        return data + self.signalling(cas) if self.carries_signalling(frg) else data

    def check_modifier(self, l_bit: bool, m: int) -> None:
        """CESoPSN L/M combinations (RFC 5086 5.2): with L only M = 00; without L, 01 is
        reserved and 11 marks signalling packets, which this implementation does not use.
        SAToP's bits there are reserved and ignored (RFC 4553 5.2)."""
        if self.mode.structured and (m == 0b01 or m == 0b11 or (l_bit and m)):
            raise PseudowireDecodeError(f"L={int(l_bit)} M={m:02b} is not a data packet",
                                        offset=0, field="control_word.m")

    def split(self, payload: bytes, frg: int) -> tuple[bytes, np.ndarray | None]:
        """(data octets, CAS nibbles of 32 timeslots or None) of a received payload."""
        if (frg == Frg.WHOLE) != (self.fragments == 1):
            raise PseudowireDecodeError(
                f"FRG {frg:02b} but packets carry " + ("whole multiframes" if self.fragments == 1
                                                       else f"1/{self.fragments} multiframes"),
                offset=0, field="control_word.frg")
        expected = self.data_octets + (self.cas_octets if self.carries_signalling(frg) else 0)
        if len(payload) != expected:
            raise PseudowireDecodeError(
                f"{self.mode.name} payload of {len(payload)} octets, configured {expected}",
                offset=0, field="payload")
        if len(payload) == self.data_octets:
            return payload, None
        cas = np.zeros(TIMESLOTS_E1, dtype=np.uint8)
        nib = [v for b in payload[self.data_octets:] for v in (b >> 4, b & 0xF)]
        cas[self._rows] = nib[: len(self.timeslots)]
        return payload[: self.data_octets], cas

    def to_block(self, data: bytes) -> np.ndarray:
        """Block (32, frames) from the data octets of consecutive packets; idle elsewhere."""
        frames = len(data) // len(self.timeslots)
        block = self.filler(frames)
        block[self._rows, :] = np.frombuffer(data, dtype=np.uint8).reshape(
            frames, len(self.timeslots)).T
        return block

    def unpack(self, payload: bytes, frg: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(block (32, frames) with idle in unused rows, CAS nibbles or None)."""
        data, cas = self.split(payload, frg)
        return self.to_block(data), cas

    @property
    def filler_data(self) -> bytes:
        """Data octets of a packet that never came (or came with L set)."""
        return bytes([self.idle]) * self.data_octets

    def filler(self, frames: int) -> np.ndarray:
        return np.full((TIMESLOTS_E1, frames), self.idle, dtype=np.uint8)
