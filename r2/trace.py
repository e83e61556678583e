"""Per-call R2 trace: every CAS change and MF tone with its time, one readable line each.

    # r2 circuit 3 variant cn
    12.345000 TX CAS 0011 seize
    12.400000 RX CAS 1111 seize-ack
    12.420000 TX MF fwd 5 digit 5
    12.480000 RX MF bwd 1 A next_digit
    12.500000 TX MF fwd off
    13.100000 EV offered dnis=1234 ani=5678 category=national_subscriber

:mod:`r2.decode` reads these files back for ``cti decode``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO


class CallTrace:
    """Collects trace lines for the current call of one circuit; optional sink per line."""

    def __init__(self, clock: Callable[[], float], circuit: int, variant: str,
                 sink: TextIO | None = None):
        self.clock = clock
        self.circuit = circuit
        self.variant = variant
        self.sink = sink
        self.lines: list[str] = [f"# r2 circuit {circuit} variant {variant}"]
        self._emit(self.lines[0])

    def _emit(self, line: str) -> None:
        if self.sink is not None:
            self.sink.write(line + "\n")

    def _add(self, text: str) -> None:
        line = f"{self.clock():.6f} {text}"
        self.lines.append(line)
        self._emit(line)

    def cas(self, direction: str, abcd: int, name: str) -> None:
        self._add(f"{direction} CAS {abcd:04b} {name}")

    def mf(self, direction: str, sender: str, signal: int, meaning: str = "") -> None:
        if signal:
            self._add(f"{direction} MF {sender} {signal} {meaning}".rstrip())
        else:
            self._add(f"{direction} MF {sender} off")

    def event(self, name: str, **fields: object) -> None:
        extra = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        self._add(f"EV {name} {extra}".rstrip())

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            f.write(self.text())
