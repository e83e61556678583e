"""The Dialogic runtime over a :class:`cti.kernel.Kernel`: the device name space
(dxxxB<b>C<c>, dtiB<b>T<t>, msiB<b>C<c>), device handles, the SRL event queue and the
CAS watcher that turns received ABCD changes into DTEV_SIG events.

Numbering (docs/dialogic.md): voice channels are grouped four to a virtual board, as R4
does (dxxxB1C1..C4, dxxxB2C1..); each E1 span is one dti virtual board whose bearer
timeslots T1..T30 are E1 timeslots 1-15 and 17-31; each station board is one msi board
with stations C1..Cn.  The bus ("SCbus") timeslot numbers are the kernel fabric slots.
"""

from __future__ import annotations

import asyncio
import collections
import re
from dataclasses import dataclass

import numpy as np

from drivers.dialogic import constants as C
from drivers.dialogic.tables import DialogicError
from drivers.dialogic.voice import VoiceBank, VoiceChannel

CHANNELS_PER_VOICE_BOARD = 4
E1_BEARERS = tuple(range(1, 16)) + tuple(range(17, 32))  # dtiBnT1..T30 -> E1 timeslot
CAS_IDLE_DIALOGIC = C.DTB_ABIT | C.DTB_CBIT | C.DTB_DBIT  # G.704 5.1.3.2 idle: A=1, BCD=101
_NAME = re.compile(r"^(dxxx|dti|msi)B(\d+)([CT])(\d+)$")


def to_nibble(bits: int) -> int:
    """Dialogic ABCD flags (DTB_ABIT = 0x01 .. DTB_DBIT = 0x08) -> G.704 nibble (A = MSB)."""
    return ((bits & 1) << 3) | ((bits & 2) << 1) | ((bits & 4) >> 1) | ((bits & 8) >> 3)


to_flags = to_nibble  # the bit reversal is its own inverse


@dataclass
class Event:
    type: int
    dev: int
    data: object = None
    length: int = 0


@dataclass
class DtiDevice:
    name: str
    span: object
    timeslot: int
    slot: int
    tx_bits: int = CAS_IDLE_DIALOGIC
    rx_bits: int = 0
    sigmask: int = 0


@dataclass
class MsiDevice:
    name: str
    board: object
    station: int
    slot: int
    sigmask: int = 0
    rings: int | None = None  # ms_genring in progress: rings to give
    rings_at: int = 0  # the handset's ring count when ringing began


class StationStage:
    """Puts a station board's extensions on fabric slots (a kernel stage)."""

    def __init__(self, kernel, board, base: int) -> None:
        self.board, self.base, self.n = board, base, len(board.handsets)
        kernel.add_stage(self)

    def rx(self, rx: np.ndarray, frame: int) -> None:
        try:
            rx[self.base:self.base + self.n] = self.board.read_block(rx.shape[1])
        except ValueError:
            pass  # the board has not been ticked with this block size yet: idle rows

    def tx(self, tx: np.ndarray, frame: int) -> None:
        self.board.write_block(np.ascontiguousarray(tx[self.base:self.base + self.n]))


class Runtime:
    """All Dialogic devices of one kernel; configure before the kernel starts."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.names: dict[str, object] = {}
        self.handles: dict[int, tuple[str, object]] = {}
        self.by_name: dict[str, int] = {}
        self.next_handle = 1
        self.errors: dict[int, tuple[int, str]] = {C.SRL_DEVICE: (C.ESR_NOERR, "")}
        self.queue: collections.deque[Event] = collections.deque()
        self.current: Event | None = None
        self.banks: list[VoiceBank] = []
        self.voice_boards = 0
        self.dti_boards = 0
        self.msi_boards = 0
        self._waiter: asyncio.Future | None = None
        self._sync: dict[int, asyncio.Future] = {}
        self._dti_spans: list = []
        self._station_boards: list = []
        kernel.after_tick.append(self._watch_cas)
        kernel.after_tick.append(self._watch_stations)

    # --- configuration ---------------------------------------------------------------------
    def add_voice(self, channels: int) -> list[str]:
        """Voice resources on new fabric slots; returns their device names."""
        if channels < 1:
            raise ValueError("a voice resource has at least one channel")
        base = self.kernel.allocate(channels, f"dxxx{len(self.banks) + 1}")
        bank = VoiceBank(self.kernel, base, channels, self._voice_done, self._voice_cst)
        names = []
        for i in range(channels):
            b = self.voice_boards + 1 + i // CHANNELS_PER_VOICE_BOARD
            c = 1 + i % CHANNELS_PER_VOICE_BOARD
            ch = VoiceChannel(b, c, i, base + i, bank=bank)
            bank.chans.append(ch)
            name = f"dxxxB{b}C{c}"
            self.names[name] = ch
            names.append(name)
        self.voice_boards += -(-channels // CHANNELS_PER_VOICE_BOARD)
        self.banks.append(bank)
        return names

    def add_span(self, span, base: int | None = None) -> list[str]:
        """A span already added to the kernel (or added here) as the next dti board."""
        if base is None:
            base = next((b for s, b in self.kernel.spans if s is span), None)
            if base is None:
                base = self.kernel.add_span(span)
        self.dti_boards += 1
        names = []
        for t, ts in enumerate(E1_BEARERS, 1):
            name = f"dtiB{self.dti_boards}T{t}"
            self.names[name] = DtiDevice(name, span, ts, base + ts)
            names.append(name)
        self._dti_spans.append(span)
        return names

    def add_stations(self, board) -> list[str]:
        base = self.kernel.allocate(len(board.handsets), f"msi{self.msi_boards + 1}")
        StationStage(self.kernel, board, base)
        self._station_boards.append(board)
        self.msi_boards += 1
        names = []
        for i in range(len(board.handsets)):
            name = f"msiB{self.msi_boards}C{i + 1}"
            self.names[name] = MsiDevice(name, board, i, base + i)
            names.append(name)
        return names

    # --- handles and errors --------------------------------------------------------------------
    def open(self, name: str, prefix: str) -> int:
        m = _NAME.match(name or "")
        if m is None or m.group(1) != prefix or name not in self.names:
            raise DialogicError(C.EDX_BADDEV, f"no {prefix} device named {name!r} "
                                f"(known: {', '.join(n for n in self.names if n.startswith(prefix))})")
        if name in self.by_name:
            return self.by_name[name]
        h = self.next_handle
        self.next_handle += 1
        self.handles[h] = (name, self.names[name])
        self.by_name[name] = h
        self.errors[h] = (0, "")
        dev = self.names[name]
        if isinstance(dev, VoiceChannel):
            dev.bank.set_open(dev, True)
        return h

    def close(self, h: int) -> None:
        name, dev = self.device(h, object)
        del self.handles[h]
        del self.by_name[name]  # a closed device's operation ends without an event
        if isinstance(dev, VoiceChannel):
            if dev.op is not None:
                dev.bank.finish(dev, C.TM_USRSTOP)
            dev.bank.set_open(dev, False)
        if isinstance(dev, DtiDevice | MsiDevice):
            dev.sigmask = 0
        if isinstance(dev, MsiDevice) and dev.rings is not None:
            dev.board.stop_ring(dev.station)
            dev.rings = None

    def device(self, h: int, kind: type, code: int = C.EDX_BADDEV):
        entry = self.handles.get(h)
        if entry is None or not isinstance(entry[1], kind):
            raise DialogicError(code, f"{h!r} is not an open {getattr(kind, '__name__', '')} "
                                "device handle")
        return entry

    def fail(self, h: int, err: DialogicError) -> int:
        key = h if h in self.handles else C.SRL_DEVICE
        self.errors[key] = (err.code, str(err))
        return -1

    # --- events -----------------------------------------------------------------------------------
    def post(self, ev: Event) -> None:
        self.queue.append(ev)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _voice_done(self, ch: VoiceChannel, op) -> None:
        h = self.by_name.get(f"dxxxB{ch.board}C{ch.number}")
        if op.digit_out is not None:
            op.digit_out.dg_value = op.got
            op.digit_out.dg_type = [C.DG_DTMF] * len(op.got)
        if op.termmsk & C.TM_ERROR and h is not None:
            self.errors[h] = (C.EDX_SYSTEM, op.error)
        fut = self._sync.pop(ch.slot, None)
        if fut is not None:
            if not fut.done():
                fut.set_result(op)
        elif h is not None:  # an I/O failure is reported as TDX_ERROR
            self.post(Event(C.TDX_ERROR if op.termmsk & C.TM_ERROR else op.kind, h))

    def _voice_cst(self, ch: VoiceChannel, event: int, data: int) -> None:
        from drivers.dialogic.tables import DX_CST

        h = self.by_name.get(f"dxxxB{ch.board}C{ch.number}")
        if h is not None:
            self.post(Event(C.TDX_CST, h, DX_CST(event, data), 4))

    def _watch_cas(self) -> None:
        """DTEV_SIG for every received ABCD change a dti device's mask asks for."""
        watched = [(h, d) for h, (_, d) in self.handles.items() if isinstance(d, DtiDevice) and d.sigmask]
        if not watched:
            return
        cas = {}
        for h, d in watched:
            rx = cas.get(id(d.span))
            if rx is None:
                rx = cas[id(d.span)] = d.span.cas_rx()
            bits = to_flags(int(rx[d.timeslot]))
            changed = bits ^ d.rx_bits
            d.rx_bits = bits
            if not changed:
                continue
            report = 0
            for k in range(4):
                bit = 1 << k
                if not changed & bit:
                    continue
                on = bool(bits & bit)
                wanted = (C.DTC_ABIT << k) | (bit if on else (0x100 << k))
                if d.sigmask & wanted == wanted:
                    report |= C.DTC_ABIT << k
            if report:
                self.post(Event(C.DTEV_SIG, h, report | bits, 2))

    _HOOK = {"off-hook": C.MSMM_OFFHOOK, "on-hook": C.MSMM_ONHOOK, "flash": C.MSMM_HOOKFLASH}

    def _watch_stations(self) -> None:
        """Hook events (MSEV_SIGEVT) and ringing outcomes (MSEV_RING / MSEV_NORING)."""
        if not self._station_boards:
            return
        devs = {(id(d.board), d.station): (h, d) for h, (_, d) in self.handles.items()
                if isinstance(d, MsiDevice)}
        for board in self._station_boards:
            for ev in board.events():
                h, d = devs.get((id(board), ev.station), (None, None))
                if d is None:
                    continue
                if ev.kind == "off-hook" and d.rings is not None:
                    self.ring_done(h, d, C.MSEV_RING, C.MSMM_RNGOFFHK)
                mm = self._HOOK[ev.kind]
                if d.sigmask & mm == mm:
                    self.post(Event(C.MSEV_SIGEVT, h, mm, 2))
        for h, d in devs.values():
            if d.rings is not None and not d.board.ringing(d.station):
                if d.board.handsets[d.station].rings_heard - d.rings_at >= d.rings:
                    self.ring_done(h, d, C.MSEV_NORING, C.MSMM_TERM)

    def ring_done(self, h: int, d: MsiDevice, event: int, data: int) -> None:
        d.board.stop_ring(d.station)
        d.rings = None
        fut = self._sync.pop(("msi", h), None)
        if fut is not None:
            if not fut.done():
                fut.set_result(event)
        else:
            self.post(Event(event, h, data, 2))

    def run_ring(self, h: int, start) -> int:
        """EV_SYNC ms_genring: the kernel loop until the ringing ends; its event type."""
        fut = self.kernel.loop.create_future()
        self._sync[("msi", h)] = fut
        try:
            start()
            self.kernel.run(fut)
        finally:
            self._sync.pop(("msi", h), None)
        return fut.result()

    def waitevt(self, timeout_ms: int) -> int:
        """Run the kernel until an event is queued or ``timeout_ms`` passes (-1: forever)."""
        if not self.queue:
            loop = self.kernel.loop
            self._waiter = loop.create_future()
            try:
                if timeout_ms < 0:
                    self.kernel.run(self._waiter)
                else:
                    self.kernel.run(self._wait(self._waiter, timeout_ms / 1000.0))
            finally:
                self._waiter = None
        if not self.queue:
            self.current = None
            self.errors[C.SRL_DEVICE] = (C.ESR_TMOUT, "sr_waitevt timed out")
            return C.SR_TMOUT
        self.current = self.queue.popleft()
        return 0

    @staticmethod
    async def _wait(fut: asyncio.Future, seconds: float) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(fut), seconds)
        except asyncio.TimeoutError:
            pass

    def run_sync(self, ch: VoiceChannel, start) -> object:
        """Run an EV_SYNC operation: the kernel loop until it ends; returns the Operation."""
        fut = self.kernel.loop.create_future()
        self._sync[ch.slot] = fut
        try:
            start()
            if not fut.done():
                self.kernel.run(fut)
        finally:
            self._sync.pop(ch.slot, None)
        return fut.result()
