"""TEI management (Q.921 5.3): automatic TEI assignment, check and removal for a BRI.

Management messages travel in UI frames on SAPI 63, group TEI 127 (table 8/Q.921):
management entity identifier 0x0F, reference number Ri, message type and action
indicator Ai (bit 1 is the extension bit, always 1).  :class:`TeiUser` is the
terminal's assignment procedure (T202, N202); :class:`TeiNetwork` the network's
(assignment from 64..126, identity check with T201, removal).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import NamedTuple

from construct import BitsInteger, Const, ConstructError, Int8ub, Int16ub, Struct

from core.clock import Scheduler
from core.errors import DecodeError
from core.timers import Timers, TimerTable
from isdn import lapd_codec
from isdn.lapd_codec import Frame
from isdn.octet import Octet
from isdn.timers import lapd_table

MEI = 0x0F
# MDL-ERROR codes (Q.921 appendix II) that suggest a TEI assigned twice: a UA no SABME or
# DISC of ours asked for; management then checks (network) or asks a check (user, verify)
UNSOLICITED_UA = frozenset({"C", "D"})
ID_REQUEST, ID_ASSIGNED, ID_DENIED, ID_CHECK_REQUEST, ID_CHECK_RESPONSE, ID_REMOVE, ID_VERIFY = (
    1, 2, 3, 4, 5, 6, 7)
GROUP_AI = 127
AUTOMATIC = range(64, 127)

TEI_MESSAGE = Struct(
    "mei" / Const(MEI, Int8ub),
    "ri" / Int16ub,
    "type" / Int8ub,
    "ai" / Octet("value" / BitsInteger(7), "ext" / Const(1, BitsInteger(1))),
)


class TeiDecodeError(DecodeError):
    """Not a TEI management message."""


class TeiMessage(NamedTuple):
    type: int
    ri: int
    ai: int


def decode(info: bytes) -> TeiMessage:
    if len(info) != 5:
        raise TeiDecodeError("TEI management message must be 5 octets", offset=len(info),
                             field="length")
    try:
        p = TEI_MESSAGE.parse(info)
    except ConstructError as e:
        raise TeiDecodeError(f"invalid TEI management message: {e}".splitlines()[0], offset=0,
                             field="management_entity") from None
    return TeiMessage(p.type, p.ri, p.ai.value)


def encode(msg: TeiMessage) -> bytes:
    return TEI_MESSAGE.build({"mei": MEI, "ri": msg.ri, "type": msg.type,
                              "ai": {"value": msg.ai, "ext": 1}})


def _ui(network: bool, msg: TeiMessage) -> bytes:
    """A UI command on SAPI 63, group TEI (C/R set as a command of that side)."""
    return lapd_codec.encode(Frame(lapd_codec.SAPI_MANAGEMENT, network, lapd_codec.TEI_GROUP,
                                   "UI", False, None, None, encode(msg)))


class TeiUser:
    """The terminal side: obtains a TEI for a data link (5.3.2), answers checks (5.3.4)
    and obeys removal (5.3.5)."""

    def __init__(self, scheduler: Scheduler, send: Callable[[bytes], None],
                 timers: TimerTable | None = None, rng: random.Random | None = None):
        self.send = send
        self.table = timers or lapd_table()
        self.timers = Timers(self.table, scheduler)
        self.n202 = int(self.table.values["N202"])
        self.rng = rng or random.Random()
        self.link = None
        self.ri: int | None = None
        self.tries = 0
        self.denied = 0

    def request(self, link) -> None:
        """MDL-ASSIGN-INDICATION from a data link without a TEI: start identity request."""
        self.link = link
        if self.ri is None:
            self.tries = 0
            self._send_request()

    def _send_request(self) -> None:
        self.ri = self.rng.randrange(65536)
        self.tries += 1
        self.send(_ui(False, TeiMessage(ID_REQUEST, self.ri, GROUP_AI)))
        self.timers.start("T202", self._t202)

    def _t202(self) -> None:
        if self.tries < self.n202:
            self._send_request()
            return
        self.ri = None
        if self.link is not None:
            self.link.mdl_error_response()

    def receive(self, frame: Frame) -> None:
        try:
            msg = decode(frame.info)
        except TeiDecodeError:
            return
        tei = self.link.tei if self.link is not None else None
        if msg.type == ID_ASSIGNED and msg.ri == self.ri:
            self.timers.stop("T202")
            self.ri = None
            if msg.ai in AUTOMATIC:
                self.link.mdl_assign(msg.ai)
        elif msg.type == ID_DENIED and msg.ri == self.ri:
            self.timers.stop("T202")
            self.ri = None
            self.denied += 1
            self.link.mdl_error_response()
        elif msg.type == ID_CHECK_REQUEST and tei is not None and msg.ai in (tei, GROUP_AI):
            self.send(_ui(False, TeiMessage(ID_CHECK_RESPONSE, self.rng.randrange(65536), tei)))
        elif msg.type == ID_REMOVE and tei is not None and msg.ai in (tei, GROUP_AI):
            self.link.mdl_remove()

    def verify(self) -> None:
        """Identity verify (5.3.5): ask the network to check our TEI."""
        if self.link is not None and self.link.tei is not None:
            self.send(_ui(False, TeiMessage(ID_VERIFY, 0, self.link.tei)))

    def mdl_error(self, link, code: str) -> None:
        if code in UNSOLICITED_UA:
            self.verify()


class TeiNetwork:
    """The network side: assigns automatic TEIs (5.3.2), checks (5.3.4) and removes them
    (5.3.5).  ``on_assign(tei)`` / ``on_remove(tei)`` create and drop data links."""

    def __init__(self, scheduler: Scheduler, send: Callable[[bytes], None],
                 on_assign: Callable[[int], None], on_remove: Callable[[int], None],
                 timers: TimerTable | None = None):
        self.send = send
        self.on_assign, self.on_remove = on_assign, on_remove
        self.table = timers or lapd_table()
        self.scheduler = scheduler
        self.assigned: set[int] = set()
        self._checks: dict[int, dict] = {}

    def receive(self, frame: Frame) -> None:
        try:
            msg = decode(frame.info)
        except TeiDecodeError:
            return
        if msg.type == ID_REQUEST:
            self._request(msg)
        elif msg.type == ID_CHECK_RESPONSE and msg.ai in self._checks:
            self._checks[msg.ai]["answered"] += 1
        elif msg.type == ID_VERIFY and msg.ai in self.assigned:
            self.check(msg.ai)

    def _request(self, msg: TeiMessage) -> None:
        free = [t for t in AUTOMATIC if t not in self.assigned]
        wanted = msg.ai if msg.ai in AUTOMATIC and msg.ai not in self.assigned else None
        tei = wanted if wanted is not None else (free[0] if free and msg.ai == GROUP_AI else None)
        if tei is None:
            self.send(_ui(True, TeiMessage(ID_DENIED, msg.ri, GROUP_AI)))
            return
        self.assigned.add(tei)
        self.send(_ui(True, TeiMessage(ID_ASSIGNED, msg.ri, tei)))
        self.on_assign(tei)

    def check(self, tei: int) -> None:
        """Identity check (5.3.4): responses are counted until T201 expires; one means the
        TEI is in use, several that it is multiply assigned (removed), none after the
        second request that it is free (removed).  A check already running goes on."""
        if tei in self._checks:
            return
        self._checks[tei] = {"answered": 0, "sent": 0}
        self._send_check(tei)

    def _send_check(self, tei: int) -> None:
        state = self._checks[tei]
        state["sent"] += 1
        self.send(_ui(True, TeiMessage(ID_CHECK_REQUEST, 0, tei)))
        self.scheduler.call_later(self.table.values["T201"], self._t201, tei)

    def _t201(self, tei: int) -> None:
        state = self._checks.get(tei)
        if state is not None and state["answered"] > 1:
            del self._checks[tei]  # several terminals answered: multiply assigned (5.3.4.2)
            self.remove(tei)
            return
        if state is None or state["answered"]:
            self._checks.pop(tei, None)
            return
        if state["sent"] < 2:
            self._send_check(tei)
            return
        del self._checks[tei]
        self.remove(tei)

    def mdl_error(self, link, code: str) -> None:
        """A data link's error that suggests its TEI is multiply assigned: check it."""
        if code in UNSOLICITED_UA and link.tei in self.assigned:
            self.check(link.tei)

    def remove(self, tei: int) -> None:
        """Identity remove, sent twice (5.3.5); the TEI returns to the free pool."""
        for _ in range(2):
            self.send(_ui(True, TeiMessage(ID_REMOVE, 0, tei)))
        if tei in self.assigned:
            self.assigned.discard(tei)
            self.on_remove(tei)
