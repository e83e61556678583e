"""Call-progress tone plans: one data table per country, selected by name.

The same table drives generation (:mod:`timeslot.tonegen`) and cadence matching in the
call-progress detector (:mod:`timeslot.cpt`).  A :class:`Tone` is a list of
:class:`Segment` (frequencies, duration; an empty frequency tuple is a pause), either
continuous (one segment without duration) or repeated cyclically.

Sources: ITU-T E.180/Q.35 (03/98) clauses 2-8 (limits and recommended values: 425 Hz
family 400-450 Hz, ringing 0.67-1.5 s on / 3-5 s off, busy and congestion cadences,
special information tone of clause 7: 950/1400/1800 Hz +-50 Hz, 330 +-70 ms segments,
1 s +-250 ms silence, sending level -10 dBm0 per clause 6 for the 425 Hz tones) and, for
China, the national tone plan (YD/T 1.x / GF 002: 450 Hz +-25 Hz at -10 dBm0, dial
continuous, ringback 1 s / 4 s, busy 0.35 / 0.35 s, congestion 0.7 / 0.7 s, call
waiting 0.4 s / 4 s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import ConfigError


@dataclass(frozen=True)
class Segment:
    """One cadence step: ``freqs`` (Hz, empty = pause) for ``ms`` (None = continuous).

    ``lo_ms``/``hi_ms`` override the plan's cadence tolerance when the recommendation
    states a range (E.180 clause 7 for SIT)."""

    freqs: tuple[float, ...]
    ms: int | None
    lo_ms: int | None = None
    hi_ms: int | None = None

    @property
    def tone(self) -> bool:
        return bool(self.freqs)


@dataclass(frozen=True)
class Tone:
    """A supervisory tone: segments, level per frequency (dBm0), detection rule.

    ``match`` is the number of consecutive cadence segments the detector must see
    (the last may still be running once it has lasted its minimum); ``detect_ms`` is
    how long a continuous tone must last before it is reported."""

    name: str
    segments: tuple[Segment, ...]
    level: float = -10.0
    match: int = 2
    detect_ms: int = 1500
    clause: str = ""

    @property
    def continuous(self) -> bool:
        return len(self.segments) == 1 and self.segments[0].ms is None


@dataclass(frozen=True)
class TonePlan:
    """A country's tones plus the detector tolerances that go with them."""

    name: str
    description: str
    tones: Mapping[str, Tone]
    freq_tolerance_hz: float = 25.0     # accepted deviation from nominal
    cadence_tolerance: float = 0.10     # +-10 % of each nominal duration ...
    cadence_guard_ms: int = 40          # ... plus this, for block quantisation
    min_level_dbm0: float = -36.0       # weakest tone component accepted
    max_level_dbm0: float = 0.0
    sit_freq_tolerance_hz: float = 50.0

    @property
    def names(self) -> list[str]:
        return list(self.tones)

    def bounds(self, seg: Segment) -> tuple[int, int]:
        """(min, max) accepted duration of a segment in ms."""
        if seg.lo_ms is not None and seg.hi_ms is not None:
            return seg.lo_ms, seg.hi_ms
        assert seg.ms is not None
        lo = seg.ms * (1.0 - self.cadence_tolerance) - self.cadence_guard_ms
        hi = seg.ms * (1.0 + self.cadence_tolerance) + self.cadence_guard_ms
        return max(0, int(lo)), int(hi + 0.5)

    def frequencies(self) -> list[float]:
        """Distinct frequencies of the plan, in first-use order."""
        out: list[float] = []
        for t in self.tones.values():
            for s in t.segments:
                for f in s.freqs:
                    if f not in out:
                        out.append(f)
        return out

    def tolerance(self, f: float) -> float:
        return self.sit_freq_tolerance_hz if f in _SIT_FREQS else self.freq_tolerance_hz


def _on(f: float | tuple[float, ...], ms: int | None, lo: int | None = None,
        hi: int | None = None) -> Segment:
    return Segment(f if isinstance(f, tuple) else (f,), ms, lo, hi)


def _off(ms: int, lo: int | None = None, hi: int | None = None) -> Segment:
    return Segment((), ms, lo, hi)


_SIT_FREQS = (950.0, 1400.0, 1800.0)

# E.180 clause 7: three segments 330 +-70 ms, then 1 s +-250 ms of silence; -24 dBm0.
SIT = Tone("sit", (_on(950.0, 330, 260, 400), _on(1400.0, 330, 260, 400),
                   _on(1800.0, 330, 260, 400), _off(1000, 750, 1250)),
           level=-24.0, match=3, clause="E.180 cl. 7")

ITU = TonePlan(
    "itu", "ITU-T E.180/Q.35 recommended values (425 Hz)",
    {
        "dial": Tone("dial", (_on(425.0, None),), clause="E.180 cl. 2"),
        "ringback": Tone("ringback", (_on(425.0, 1000), _off(4000)), clause="E.180 cl. 3"),
        "busy": Tone("busy", (_on(425.0, 500), _off(500)), match=3, clause="E.180 cl. 4"),
        "congestion": Tone("congestion", (_on(425.0, 250), _off(250)), match=3,
                           clause="E.180 cl. 5"),
        "callwaiting": Tone("callwaiting", (_on(425.0, 400), _off(10000)), match=2,
                            clause="E.180 cl. 8"),
        "sit": SIT,
    },
)

CN = TonePlan(
    "cn", "China national tone plan (450 Hz)",
    {
        "dial": Tone("dial", (_on(450.0, None),), clause="YD/T dial tone"),
        "ringback": Tone("ringback", (_on(450.0, 1000), _off(4000)), clause="YD/T ringback"),
        "busy": Tone("busy", (_on(450.0, 350), _off(350)), match=3, clause="YD/T busy"),
        "congestion": Tone("congestion", (_on(450.0, 700), _off(700)), match=3,
                           clause="YD/T congestion"),
        "callwaiting": Tone("callwaiting", (_on(450.0, 400), _off(4000)), match=2,
                            clause="YD/T call waiting"),
        "sit": SIT,
    },
)

PLANS: dict[str, TonePlan] = {p.name: p for p in (ITU, CN)}


def plan(name: str | TonePlan) -> TonePlan:
    """The tone plan of that name ("itu", "cn")."""
    if isinstance(name, TonePlan):
        return name
    try:
        return PLANS[name]
    except KeyError:
        raise ConfigError(f"unknown tone plan (known: {', '.join(PLANS)})",
                          key=str(name)) from None
