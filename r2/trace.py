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
    """Collects the trace of the current call of one circuit.

    Entries are kept as tuples and formatted when read (``lines``, ``text()``), so tracing
    every signal of hundreds of circuits stays cheap; a ``sink`` receives each line as it
    happens (a live log)."""

    def __init__(self, clock: Callable[[], float], circuit: int, variant: str,
                 sink: TextIO | None = None):
        self.clock = clock
        self.circuit = circuit
        self.variant = variant
        self.sink = sink
        self.header = f"# r2 circuit {circuit} variant {variant}"
        self._entries: list[tuple] = []
        if sink is not None:
            sink.write(self.header + "\n")

    def _add(self, entry: tuple) -> None:
        self._entries.append(entry)
        if self.sink is not None:
            self.sink.write(_format(entry) + "\n")

    def cas(self, direction: str, abcd: int, name: str) -> None:
        self._add((self.clock(), "CAS", direction, abcd, name))

    def mf(self, direction: str, sender: str, signal: int, meaning: str = "") -> None:
        self._add((self.clock(), "MF", direction, sender, signal, meaning))

    def event(self, name: str, **fields: object) -> None:
        self._add((self.clock(), "EV", name, fields))

    @property
    def lines(self) -> list[str]:
        return [self.header, *map(_format, self._entries)]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            f.write(self.text())


class SharedSink:
    """One live log for many circuits (a trunk's ``.r2log``): each circuit's lines go under
    its own header, written again whenever the log moves to another circuit, so the
    interleaved file reads back with :mod:`r2.decode`."""

    def __init__(self, f: TextIO):
        self.file = f
        self._header: str | None = None

    def circuit(self, header: str) -> _CircuitSink:
        return _CircuitSink(self, header)

    def write(self, header: str, line: str) -> None:
        if header != self._header:
            self._header = header
            self.file.write(header + "\n")
        self.file.write(line)

    def close(self) -> None:
        self.file.close()


class _CircuitSink:
    """A circuit's view of a :class:`SharedSink` (what :class:`CallTrace` writes to)."""

    def __init__(self, shared: SharedSink, header: str):
        self.shared, self.header = shared, header

    def write(self, line: str) -> None:
        self.shared.write(self.header, line)


def _format(entry: tuple) -> str:
    t, kind = entry[0], entry[1]
    if kind == "CAS":
        _, _, direction, abcd, name = entry
        return f"{t:.6f} {direction} CAS {abcd:04b} {name}".rstrip()
    if kind == "MF":
        _, _, direction, sender, signal, meaning = entry
        if not signal:
            return f"{t:.6f} {direction} MF {sender} off"
        return f"{t:.6f} {direction} MF {sender} {signal} {meaning}".rstrip()
    _, _, name, fields = entry
    extra = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
    return f"{t:.6f} EV {name} {extra}".rstrip()
