"""SS7 over SIGTRAN: M3UA (RFC 4666), M2UA (RFC 3331) and M2PA (RFC 4165) messages, declared
once for decoding and encoding (``cti decode`` reads them in IP captures; see ``ss7.decode``).

M3UA: the common classes of :mod:`core.sigtran` plus Transfer (1: DATA), SSNM (2: DUNA,
DAVA, DAUD, SCON, DUPU, DRST) and RKM (9: REG/DEREG REQ/RSP), with the M3UA parameter tags
of RFC 4666 3.2 (0x0200-0x0213).  The Protocol Data parameter (3.3.1) carries OPC, DPC
(32 bits each), SI, NI, MP, SLS and the user part message after the routing label.

M2UA: the common classes plus MAUP (6, 3.1.3: Data, Establish/Release, State, Data Retrieval,
Congestion Indication, Data Acknowledge) and interface identifier management (10); Protocol
Data 1 (0x0300) is the MTP3 message from the SIO (3.3.1.1).

M2PA: the common header (class 11) then BSN and FSN (24 bits each, RFC 4165 2.3); User Data
(type 1) carries a priority octet then the MTP3 message (SIO and SIF, 2.3.2; empty: an
acknowledgement only), Link Status (type 2) one of the states of 2.3.3.
"""

from __future__ import annotations

from typing import Any

from construct import (
    FocusedSeq,
    GreedyBytes,
    GreedyRange,
    Int8ub,
    Int16ub,
    Int24ub,
    Int32ub,
    Struct,
    Terminated,
)

from core import sigtran
from core.layout import Fixed
from core.sigtran import (
    COMMON_MESSAGES,
    COMMON_PARAMS,
    NESTED,
    PARSE_ERRORS,
    POINT_CODES,
    U32,
    Adaptation,
    SigtranDecodeError,
)

# RFC 4666 3.3.1: OPC, DPC, SI, NI, MP, SLS, then the user part after the routing label
PROTOCOL_DATA_LABEL = Struct("opc" / Int32ub, "dpc" / Int32ub, "si" / Int8ub, "ni" / Int8ub,
                             "mp" / Int8ub, "sls" / Int8ub)
PROTOCOL_DATA = Struct(*PROTOCOL_DATA_LABEL.subcons, "data" / sigtran.HEX).compile()


class ProtocolDataValue:
    """The Protocol Data parameter's value (3.3.1), in every DATA message: its fixed label
    read in place (:class:`core.layout.Fixed`), the user part in hex; built by
    :data:`PROTOCOL_DATA`."""

    label = Fixed("protocol_data", PROTOCOL_DATA_LABEL)

    def parse(self, raw: bytes) -> dict[str, Any]:
        if len(raw) < self.label.size:
            raise ValueError(f"{len(raw)} octets, the label alone takes {self.label.size}")
        return {**self.label.read(raw)._asdict(), "data": raw[self.label.size:].hex()}

    def build(self, value: dict[str, Any]) -> bytes:
        return PROTOCOL_DATA.build(value)


M3UA = Adaptation("m3ua", {
    **COMMON_MESSAGES,
    (1, 1): "DATA",
    (2, 1): "DUNA", (2, 2): "DAVA", (2, 3): "DAUD", (2, 4): "SCON", (2, 5): "DUPU",
    (2, 6): "DRST",
    (9, 1): "REG REQ", (9, 2): "REG RSP", (9, 3): "DEREG REQ", (9, 4): "DEREG RSP",
}, {
    **COMMON_PARAMS,
    0x0200: ("network_appearance", U32),
    0x0204: ("user_cause", Struct("cause" / Int16ub, "user" / Int16ub, Terminated).compile()),
    0x0205: ("congestion", Struct("reserved" / Int24ub, "level" / Int8ub, Terminated).compile()),
    0x0206: ("concerned_dpc", Struct("reserved" / Int8ub, "pc" / Int24ub, Terminated).compile()),
    0x0207: ("routing_key", NESTED),
    0x0208: ("registration_result", NESTED),
    0x0209: ("deregistration_result", NESTED),
    0x020A: ("local_rk_id", U32),
    0x020B: ("dpc", POINT_CODES),
    0x020C: ("service_indicators", FocusedSeq("v", "v" / GreedyRange(Int8ub)).compile()),
    0x020E: ("opc_list", POINT_CODES),
    0x020F: ("circuit_range", FocusedSeq("v", "v" / GreedyRange(Struct(
        "mask" / Int8ub, "pc" / Int24ub, "lower" / Int16ub, "upper" / Int16ub)),
        Terminated).compile()),
    0x0210: ("protocol_data", ProtocolDataValue()),
    0x0212: ("registration_status", U32),
    0x0213: ("deregistration_status", U32),
})

MAUP = 6
M2UA = Adaptation("m2ua", {
    **COMMON_MESSAGES,
    (MAUP, 1): "Data", (MAUP, 2): "Establish Request", (MAUP, 3): "Establish Confirm",
    (MAUP, 4): "Release Request", (MAUP, 5): "Release Confirm", (MAUP, 6): "Release Indication",
    (MAUP, 7): "State Request", (MAUP, 8): "State Confirm", (MAUP, 9): "State Indication",
    (MAUP, 10): "Data Retrieval Request", (MAUP, 11): "Data Retrieval Confirm",
    (MAUP, 12): "Data Retrieval Indication", (MAUP, 13): "Data Retrieval Complete Indication",
    (MAUP, 14): "Congestion Indication", (MAUP, 15): "Data Acknowledge",
    (10, 1): "REG REQ", (10, 2): "REG RSP", (10, 3): "DEREG REQ", (10, 4): "DEREG RSP",
}, {
    **COMMON_PARAMS,
    0x0001: ("interface_id", U32),
    0x0003: ("interface_id_text", sigtran.TEXT),
    0x0300: ("protocol_data_1", sigtran.HEX),
    0x0301: ("protocol_data_2", sigtran.HEX),
    0x0302: ("state", U32),
    0x0303: ("event", U32),
    0x0304: ("congestion_status", U32),
    0x0305: ("discard_status", U32),
    0x0306: ("action", U32),
    0x0307: ("sequence_number", U32),
    0x0308: ("retrieval_result", U32),
    0x0309: ("link_key", NESTED),
    0x030A: ("local_lk_id", U32),
    0x030B: ("sdt_id", U32),
    0x030C: ("sdl_id", U32),
    0x030D: ("registration_result", NESTED),
    0x030E: ("registration_status", U32),
    0x030F: ("deregistration_result", NESTED),
    0x0310: ("deregistration_status", U32),
})

M2PA_CLASS = 11
M2PA = Adaptation("m2pa", {(M2PA_CLASS, 1): "User Data", (M2PA_CLASS, 2): "Link Status"}, {})
M2PA_HEADER = Struct("unused_bsn" / Int8ub, "bsn" / Int24ub, "unused_fsn" / Int8ub,
                     "fsn" / Int24ub)  # RFC 4165 2.3
M2PA_BODIES = {
    "User Data": Struct(*M2PA_HEADER.subcons, "data" / GreedyBytes).compile(),
    "Link Status": Struct(*M2PA_HEADER.subcons, "state" / Int32ub,
                          "filler" / GreedyBytes).compile(),
}
LINK_STATES = {1: "Alignment", 2: "Proving Normal", 3: "Proving Emergency", 4: "Ready",
               5: "Processor Outage", 6: "Processor Recovered", 7: "Busy", 8: "Busy Ended",
               9: "Out of Service"}  # RFC 4165 2.3.3
LINK_STATE_CODES = {v: k for k, v in LINK_STATES.items()}


def decode_m3ua(data: bytes) -> tuple[sigtran.Message, dict[str, Any]]:
    """Header and parameters of one M3UA message; :class:`SigtranDecodeError` if malformed."""
    msg, params = sigtran.decode(M3UA, data)
    if msg.name == "DATA" and not isinstance(params.get("protocol_data"), dict):
        raise SigtranDecodeError("m3ua: DATA without one Protocol Data parameter",
                                 offset=msg.offset, field="protocol_data")
    return msg, params


def encode_m3ua_data(opc: int, dpc: int, si: int, ni: int, sls: int, user_part: bytes,
                     mp: int = 0, routing_context: int | None = None) -> bytes:
    """An M3UA DATA message (RFC 4666 3.3.1) carrying ``user_part`` (after the label)."""
    params: dict[str, Any] = {}
    if routing_context is not None:
        params["routing_context"] = [routing_context]
    params["protocol_data"] = {"opc": opc, "dpc": dpc, "si": si, "ni": ni, "mp": mp,
                               "sls": sls, "data": user_part.hex()}
    return sigtran.encode(M3UA, "DATA", params)


def decode_m2ua(data: bytes) -> tuple[sigtran.Message, dict[str, Any]]:
    """Header and parameters of one M2UA message; :class:`SigtranDecodeError` if malformed."""
    return sigtran.decode(M2UA, data)


def decode_m2pa(data: bytes) -> dict[str, Any]:
    """One M2PA message: ``message``, ``bsn``, ``fsn`` and for User Data ``priority`` and
    ``msu`` (SIO onward, None for an empty acknowledgement), for Link Status ``state``."""
    msg = sigtran.header(M2PA, data)
    layout = M2PA_BODIES.get(msg.name)
    if layout is None:
        raise SigtranDecodeError(f"m2pa: {msg.name}", offset=2, field="message_class")
    try:
        body = layout.parse(msg.body)
    except PARSE_ERRORS:
        raise SigtranDecodeError(f"m2pa: {msg.name} shorter than BSN/FSN", offset=msg.offset,
                                 field="bsn") from None
    out: dict[str, Any] = {"message": msg.name, "bsn": body.bsn, "fsn": body.fsn}
    if msg.name == "User Data":
        out["priority"] = body.data[0] >> 6 if body.data else None
        out["msu"] = body.data[1:] if len(body.data) > 1 else None
        if len(body.data) == 1:
            raise SigtranDecodeError("m2pa: User Data with a priority octet and no MTP3 "
                                     "message", offset=msg.offset + 8, field="data")
    else:
        out["state"] = LINK_STATES.get(body.state, body.state)
    return out


def encode_m2pa(message: str, bsn: int, fsn: int, *, msu: bytes | None = None,
                priority: int = 0, state: str | None = None) -> bytes:
    """User Data (``msu``: SIO onward, None for an empty one) or Link Status (``state``)."""
    head = {"unused_bsn": 0, "bsn": bsn, "unused_fsn": 0, "fsn": fsn}
    if message == "User Data":
        data = b"" if msu is None else bytes(((priority & 3) << 6,)) + msu
        body = M2PA_BODIES[message].build({**head, "data": data})
    else:
        body = M2PA_BODIES[message].build({**head, "state": LINK_STATE_CODES[state],
                                           "filler": b""})
    return sigtran.encode(M2PA, message, body=body)
