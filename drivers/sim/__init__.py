"""Software boards: simulated E1 spans and cables (G.704/G.706 framing in C) and an
analog station board with simulated handsets.  See docs/sim.md."""

from drivers.sim.board import SimBoard, cabled_pair
from drivers.sim.span import SimSpan
from drivers.sim.station import StationBoard, StationEvent
from drivers.sim.system import Cable, Impairment, LoopPlug, SimSystem

__all__ = ["Cable", "Impairment", "LoopPlug", "SimBoard", "SimSpan", "SimSystem",
           "StationBoard", "StationEvent", "cabled_pair"]
