"""Station trunk: analog extensions of a station board (agents' and test phones) in the
unified call model.  A call *to* a station rings it and connects on ring trip (off-hook);
going off-hook with no call ringing offers a call *from* the station (DNIS empty: the
application gives dial tone and collects digits); on-hook clears."""

from __future__ import annotations

from typing import Any

from core.q850 import USER_BUSY
from cti.calls import Call, CallEvent, DialError
from cti.trunks.base import TrunkBase


class StationTrunk(TrunkBase):
    kind = "station"

    def __init__(self, kernel, name: str, board, on_offered=None):
        super().__init__(kernel, name, None, on_offered)
        self.board = board
        self.lifted: set[int] = set()  # stations the kernel took off-hook (desktop answer)
        self.base = kernel.add_device(board, len(board.handsets), name)
        kernel.after_tick.append(self._poll)

    def station_slot(self, station: int) -> int:
        return self.base + station

    def _poll(self) -> None:
        for ev in self.board.events():
            call = self.calls.get(ev.station)
            if ev.kind == "off-hook":
                if call is None:
                    self.offered(ev.station, slot=self.station_slot(ev.station))
                elif call.direction == "out":
                    self.counters["answered"] += 1
                    call.notify(CallEvent.CONNECTED)
            elif ev.kind == "on-hook" and call is not None:
                self.lifted.discard(ev.station)
                call.notify(CallEvent.DISCONNECTED, cause=16, raw_cause="on-hook")
                self.ended(ev.station, 16, "on-hook")

    def make_call(self, call: Call) -> None:
        try:
            station = int(call.dnis)
        except ValueError:
            raise ValueError(f"station number expected, not {call.dnis!r}") from None
        if not 0 <= station < len(self.board.handsets):
            raise ValueError(f"no station {station} on {self.name}")
        if station in self.calls or self.board.hook(station) != "on-hook":
            raise DialError(f"station {station} is busy", USER_BUSY)
        self.calls[station] = call
        call.slot = self.station_slot(station)
        self.counters["placed"] += 1
        self.board.ring(station)
        call.notify(CallEvent.ALERTING)

    def _station(self, call: Call) -> int:
        for st, c in self.calls.items():
            if c is call:
                return st
        raise KeyError(f"call {call.id} is not on {self.name}")

    def alert(self, call: Call) -> None:
        """A call from a station: nothing to signal (the phone is already off-hook)."""

    def answer(self, call: Call) -> None:
        """A call from a station: connected at once.  A call to a station answered by the
        agent desktop: the kernel takes the station off-hook (the headset's remote
        off-hook), and the off-hook event connects it."""
        if call.direction == "in":
            call.notify(CallEvent.CONNECTED)
            return
        st = self._station(call)
        self.lifted.add(st)
        self.board.handsets[st].lift()

    def reject(self, call: Call, cause: int) -> None:
        self.drop(call, cause)

    def drop(self, call: Call, cause: int) -> None:
        st = self._station(call)
        self.board.stop_ring(st)
        if st in self.lifted:  # off-hook by the kernel: back on-hook by the kernel
            self.lifted.discard(st)
            self.board.handsets[st].hang_up()
        call.notify(CallEvent.DISCONNECTED, cause=cause)
        self.ended(st, cause)

    def release(self, call: Call) -> None:
        self.drop(call, 16)

    def status(self) -> dict[str, Any]:
        d = super().status()
        d["stations"] = [self.board.hook(i) for i in range(len(self.board.handsets))]
        return d
