"""IUA, ISDN Q.921-User Adaptation (RFC 4233): Q.931 carried over SCTP between a signalling
gateway and an application server, declared once for decoding and encoding.

The common SIGTRAN classes of :mod:`core.sigtran` plus the Q.921/Q.931 Boundary Primitives
Transport class (5, 3.1.3: Data, Unit Data, Establish and Release requests, confirms and
indications) and the TEI status messages of the management class; the IUA parameters of 3.2
(interface identifier, DLCI with SAPI and TEI, Protocol Data: the Q.931 message).
"""

from __future__ import annotations

from typing import Any

from construct import (
    BitsInteger,
    BitStruct,
    Flag,
    FocusedSeq,
    GreedyRange,
    Int32ub,
    Struct,
    Terminated,
)

from core import sigtran
from core.sigtran import COMMON_MESSAGES, COMMON_PARAMS, HEX, TEXT, U32, Adaptation

QPTM = 5
# RFC 4233 3.2: DLCI, laid out as the Q.921 address octets (3.3.1 figure 5, bit 1 least
# significant) with C/R spare and the EA bits 0 and 1, then 16 spare bits (as Wireshark reads it)
DLCI = FocusedSeq("v", "v" / BitStruct("sapi" / BitsInteger(6), "spare" / Flag, "zero" / Flag,
                                       "tei" / BitsInteger(7), "one" / Flag,
                                       "reserved" / BitsInteger(16)), Terminated).compile()

IUA = Adaptation("iua", {
    **COMMON_MESSAGES,
    (0, 2): "TEI Status Request", (0, 3): "TEI Status Confirm", (0, 4): "TEI Status Indication",
    (0, 5): "TEI Query Request",
    (QPTM, 1): "Data Request", (QPTM, 2): "Data Indication",
    (QPTM, 3): "Unit Data Request", (QPTM, 4): "Unit Data Indication",
    (QPTM, 5): "Establish Request", (QPTM, 6): "Establish Confirm",
    (QPTM, 7): "Establish Indication", (QPTM, 8): "Release Request",
    (QPTM, 9): "Release Confirm", (QPTM, 10): "Release Indication",
}, {
    **COMMON_PARAMS,
    0x0001: ("interface_id", U32),
    0x0003: ("interface_id_text", TEXT),
    0x0005: ("dlci", DLCI),
    0x0008: ("interface_id_range", FocusedSeq("v", "v" / GreedyRange(Struct(
        "start" / Int32ub, "end" / Int32ub)), Terminated).compile()),
    0x000E: ("protocol_data", HEX),
    0x000F: ("release_reason", U32),
    0x0010: ("tei_status", U32),
})

# 3.1.3: the messages whose Protocol Data is a layer 3 message
DATA_MESSAGES = frozenset(("Data Request", "Data Indication", "Unit Data Request",
                           "Unit Data Indication"))


def decode(data: bytes) -> tuple[sigtran.Message, dict[str, Any]]:
    """Header and parameters of one IUA message; :class:`core.sigtran.SigtranDecodeError`."""
    return sigtran.decode(IUA, data)


def encode_data(message: str, interface_id: int, sapi: int, tei: int, q931: bytes) -> bytes:
    """A QPTM Data or Unit Data message carrying ``q931``."""
    dlci = {"zero": False, "spare": False, "sapi": sapi, "one": True, "tei": tei, "reserved": 0}
    return sigtran.encode(IUA, message, {"interface_id": interface_id, "dlci": dlci,
                                         "protocol_data": q931.hex()})
