"""The board model every backend implements (sim, dahdi, pseudowire, dialogic facade).

A *board* holds *spans* (E1/T1 trunks) and, for station boards, analog extensions.
A span carries 32 timeslots (E1; TS0 is framing, TS16 CAS or a D-channel/SS7 link).
Block I/O is channel-major: a ``uint8`` array of shape ``(32, frames)`` holding the
octets of each timeslot in order, A-law or mu-law for voice, raw octets otherwise.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import asdict, dataclass, field

import numpy as np

TIMESLOTS_E1 = 32


class Framing(str, enum.Enum):
    """G.704 framing: basic frame (double frame) or CRC-4 multiframe (clause 2.3.3)."""

    NO_CRC4 = "no-crc4"
    CRC4 = "crc4"


class Signalling(str, enum.Enum):
    """Use of TS16: channel-associated (G.704 5.1.3 multiframe) or common channel."""

    CAS = "cas"
    CCS = "ccs"


class LineCode(str, enum.Enum):
    HDB3 = "hdb3"
    AMI = "ami"


class ChannelMode(str, enum.Enum):
    VOICE_ALAW = "alaw"
    VOICE_ULAW = "ulaw"
    HDLC = "hdlc"  # a D-channel or SS7 signalling link: frames, not octets
    CLEAR = "clear"  # 64 kbit/s transparent (data, BERT)
    IDLE = "idle"


class Loopback(str, enum.Enum):
    NONE = "none"
    LOCAL = "local"  # our transmit looped to our receive, inside the framer
    LINE = "line"  # the received line signal sent back out (remote loopback)
    PAYLOAD = "payload"  # received timeslots retransmitted with our own framing


ALARMS = ("LOS", "LOF", "AIS", "RAI", "LOMF")


@dataclass
class SpanConfig:
    framing: Framing = Framing.CRC4
    signalling: Signalling = Signalling.CCS
    line_code: LineCode = LineCode.HDB3
    clock: str = "master"  # "master", "free-run" or "slave:<span name>"


@dataclass
class Counters:
    """Span error counters (G.826/G.821 raw events, as DAHDI's span info reports them)."""

    crc4_errors: int = 0
    ebit_errors: int = 0
    fas_errors: int = 0
    slips: int = 0
    bpv: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class SpanStatus:
    alarms: list[str] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)

    def as_dict(self) -> dict:
        return {"alarms": list(self.alarms), "counters": self.counters.as_dict()}


class BoardError(RuntimeError):
    """A board could not be opened or operated; the message names what is missing."""


class Span(abc.ABC):
    """One E1 trunk of a board."""

    name: str
    config: SpanConfig

    @abc.abstractmethod
    def configure(self, config: SpanConfig) -> None: ...

    @abc.abstractmethod
    def set_channel_mode(self, timeslot: int, mode: ChannelMode) -> None: ...

    @abc.abstractmethod
    def status(self) -> SpanStatus: ...

    @abc.abstractmethod
    def set_loopback(self, mode: Loopback) -> None: ...

    @abc.abstractmethod
    def read_block(self, frames: int) -> np.ndarray:
        """Received octets, shape (32, frames), channel-major."""

    @abc.abstractmethod
    def write_block(self, block: np.ndarray) -> None:
        """Octets to transmit, shape (32, frames); HDLC and TS0 rows are ignored."""

    @abc.abstractmethod
    def cas_rx(self) -> np.ndarray:
        """Received ABCD nibble of each timeslot (index 1..31), debounced by the framer."""

    @abc.abstractmethod
    def cas_tx(self, timeslot: int, abcd: int) -> None: ...

    @abc.abstractmethod
    def hdlc_send(self, timeslot: int, frame: bytes) -> None: ...

    @abc.abstractmethod
    def hdlc_recv(self, timeslot: int) -> list[bytes]:
        """Frames received with a good FCS since the last call."""


class Board(abc.ABC):
    """A card: opened by name from the config, holds spans (and maybe stations)."""

    name: str
    spans: list[Span]

    @abc.abstractmethod
    def open(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Board:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
