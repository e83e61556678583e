"""SimBoard: a software E1 card (drivers.base.Board) with N spans on a SimSystem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import ConfigError
from drivers.base import Board, Framing, LineCode, Signalling, SpanConfig
from drivers.sim.span import SimSpan
from drivers.sim.system import SimSystem, parse_clock

MAX_SPANS = 16
# config keys of a [boards.<name>] table of type "sim", with their checks
_KEYS = {
    "type": lambda v: v == "sim",
    "spans": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_SPANS,
    "framing": lambda v: v in {f.value for f in Framing},
    "signalling": lambda v: v in {s.value for s in Signalling},
    "line_code": lambda v: v in {c.value for c in LineCode},
    "clock": lambda v: isinstance(v, str) and _clock_ok(v),
}
_EXPECTED = {
    "type": "'sim'", "spans": f"an integer 1..{MAX_SPANS}",
    "framing": " or ".join(repr(f.value) for f in Framing),
    "signalling": " or ".join(repr(s.value) for s in Signalling),
    "line_code": " or ".join(repr(c.value) for c in LineCode),
    "clock": "master, free-run[:ppm] or slave:<span>",
}


def _clock_ok(v: str) -> bool:
    try:
        parse_clock(v)
    except ValueError:
        return False
    return True


class SimBoard(Board):
    """Spans are named ``<board>/<n>`` (n from 1).  Closing the board takes its spans off
    the line: the far ends see loss of signal until it is opened again."""

    def __init__(self, name: str, spans: int = 1, config: SpanConfig | None = None,
                 system: SimSystem | None = None) -> None:
        if not 1 <= spans <= MAX_SPANS:
            raise ValueError(f"spans must be 1..{MAX_SPANS}")
        self.name = name
        system = system or SimSystem()
        self.spans = [SimSpan(f"{name}/{i + 1}", config or SpanConfig(), system)
                      for i in range(spans)]
        self.opened = False
        self._set_enabled(False)

    @classmethod
    def from_config(cls, name: str, cfg: Mapping[str, Any], system: SimSystem | None = None,
                    file: str | None = None) -> SimBoard:
        """From a board table, e.g. ``{"type": "sim", "spans": 2, "framing": "crc4"}``."""
        for key, value in cfg.items():
            check = _KEYS.get(key)
            if check is None:
                raise ConfigError(f"unknown key for a sim board (known: {', '.join(_KEYS)})",
                                  file=file, key=key)
            if not check(value):
                raise ConfigError(f"expected {_EXPECTED[key]}, got {value!r}", file=file, key=key)
        if "type" not in cfg:
            raise ConfigError("missing board type", file=file, key="type")
        span_cfg = SpanConfig(framing=Framing(cfg.get("framing", Framing.CRC4.value)),
                              signalling=Signalling(cfg.get("signalling", Signalling.CCS.value)),
                              line_code=LineCode(cfg.get("line_code", LineCode.HDB3.value)),
                              clock=cfg.get("clock", "master"))
        return cls(name, cfg.get("spans", 1), span_cfg, system)

    @property
    def system(self) -> SimSystem:
        """The system the spans are in now (cables to other systems merge them)."""
        return self.spans[0].system

    def _set_enabled(self, on: bool) -> None:
        for s in self.spans:
            s.enabled = on
        self.system._apply_links()

    def open(self) -> None:
        self.opened = True
        self._set_enabled(True)

    def close(self) -> None:
        self.opened = False
        self._set_enabled(False)


def cabled_pair(a: str, b: str, spans: int = 1,
                config: SpanConfig | None = None) -> tuple[SimBoard, SimBoard]:
    """Two boards on one :class:`SimSystem`, span n of ``a`` cabled to span n of ``b``,
    both opened: the usual bench of a PSTN side and a system under test."""
    from drivers.sim.system import Cable

    first = SimBoard(a, spans=spans, config=config)
    second = SimBoard(b, spans=spans, config=config, system=first.system)
    for x, y in zip(first.spans, second.spans, strict=True):
        Cable(x, y)
    first.open()
    second.open()
    return first, second
