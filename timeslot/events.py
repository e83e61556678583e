"""Events reported by the media core (mirrors ``enum cti_event_kind`` in csrc/ring.h)."""

from __future__ import annotations

import enum
from typing import NamedTuple


class Kind(enum.IntEnum):
    DTMF = 1
    R2F = 2
    R2B = 3
    CPT = 4
    FAX = 5
    TONE = 6
    TALK = 7
    SILENCE = 8
    HDLC = 9


class Event(NamedTuple):
    """One detector event; ``start``/``end`` are sample indices (8,000 per second)."""

    channel: int
    kind: Kind
    value: int
    extra: int
    start: int
    end: int
