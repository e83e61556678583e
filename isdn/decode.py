"""``cti decode`` support for LAPD and Q.931 (see ``cti/commands/decode.py``).

``--proto q931 HEX`` decodes one Q.931 message, ``--proto lapd HEX`` one LAPD frame
(with its Q.931 payload on SAPI 0), and pcap files of LINKTYPE_LINUX_LAPD (177) are
decoded record by record, the direction taken from the pseudo-header.  LINKTYPE_LAPD (203)
records are bare frames: the direction is derived from C/R where the frame kind is always a
command or always a response (Q.921 table 1), otherwise it is "unknown".
``--proto iua HEX`` and SCTP payload protocol 1 in IP captures are IUA (``isdn.iua``).
:func:`variant_tables` reads elements in a switch variant's national form (``cti decode
--variant ni2``: the NI-2 display with its display-type octet).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from core.pcap import LINKTYPE_LAPD, LINKTYPE_LINUX_LAPD
from isdn import facility, iua, lapd_codec, q931_codec, tei
from isdn.trace import parse_pseudo_header
from isdn.variants import VARIANTS, Variant

Decoder = Callable[..., list[dict[str, Any]]]


def q931_record(msg: q931_codec.Message, direction: str | None = None) -> dict[str, Any]:
    fields = msg.summary()
    names = facility.names([v["data"] for v in msg.all("facility")])
    if names:  # name identification operations in Facility elements (isdn.facility)
        fields["names"] = {op: {"text": n.text, "presentation": n.presentation}
                           for op, n in names.items()}
    return {"layer": "q931", "direction": direction,
            "message": msg.name or f"UNKNOWN (0x{msg.code:02x})", "call_ref": msg.call_ref,
            "call_ref_flag": int(msg.flag), "fields": fields}


def decode_q931(data: bytes, direction: str | None = None, *,
                variant: Variant = VARIANTS["etsi"]) -> list[dict[str, Any]]:
    return [q931_record(variant.read(q931_codec.decode(data)), direction)]


def decode_lapd(data: bytes, direction: str | None = None, *,
                variant: Variant = VARIANTS["etsi"]) -> list[dict[str, Any]]:
    return _lapd_records(lapd_codec.decode(data), direction, variant)


def _lapd_records(f: lapd_codec.Frame, direction: str | None,
                  variant: Variant) -> list[dict[str, Any]]:
    if f.kind in ("I", "UI") and f.sapi == lapd_codec.SAPI_CALL_CONTROL and f.info:
        rec = q931_record(variant.read(q931_codec.decode(f.info)), direction)
        rec["lapd"] = {"sapi": f.sapi, "tei": f.tei, "kind": f.kind, "ns": f.ns, "nr": f.nr}
        return [rec]
    fields = {"sapi": f.sapi, "tei": f.tei, "cr": int(f.cr), "pf": int(f.pf), "ns": f.ns,
              "nr": f.nr, "info": f.info.hex() or None}
    if f.kind == "UI" and f.sapi == lapd_codec.SAPI_MANAGEMENT:
        m = tei.decode(f.info)
        fields.update({"tei_message": TEI_MESSAGES.get(m.type, m.type), "ri": m.ri, "ai": m.ai})
    return [{"layer": "lapd", "direction": direction, "message": f.kind, "fields": fields}]


TEI_MESSAGES = {tei.ID_REQUEST: "identity request", tei.ID_ASSIGNED: "identity assigned",
                tei.ID_DENIED: "identity denied", tei.ID_CHECK_REQUEST: "identity check request",
                tei.ID_CHECK_RESPONSE: "identity check response",
                tei.ID_REMOVE: "identity remove", tei.ID_VERIFY: "identity verify"}


def decode_linux_lapd(record: bytes, *, variant: Variant = VARIANTS["etsi"]
                      ) -> list[dict[str, Any]]:
    sent, we_network, frame = parse_pseudo_header(record)
    direction = "net->user" if sent == we_network else "user->net"
    return decode_lapd(frame, direction, variant=variant)


# Q.921 table 5: frame kinds that are only commands or only responses
_COMMANDS = frozenset(("I", "UI", "SABME", "DISC"))
_RESPONSES = frozenset(("UA", "DM", "FRMR"))


def lapd_direction(f: lapd_codec.Frame) -> str:
    """net->user / user->net of a bare LAPD frame from its C/R bit (Q.921 3.3.2, table 1:
    commands carry C/R 1 from the network, 0 from the user; responses the reverse), or
    "unknown" for RR/RNR/REJ/XID, which may be either."""
    if f.kind in _COMMANDS:
        return "net->user" if f.cr else "user->net"
    if f.kind in _RESPONSES:
        return "user->net" if f.cr else "net->user"
    return "unknown"


def decode_bare_lapd(frame: bytes, *, variant: Variant = VARIANTS["etsi"]) -> list[dict[str, Any]]:
    """One LINKTYPE_LAPD (203) record: a Q.921 frame from the address field, no FCS."""
    f = lapd_codec.decode(frame)
    return _lapd_records(f, lapd_direction(f), variant)


def decode_iua(data: bytes, *, variant: Variant = VARIANTS["etsi"]) -> list[dict[str, Any]]:
    """One IUA message (RFC 4233): Data and Unit Data with a SAPI 0 Protocol Data as their
    Q.931 record carrying ``iua`` (message, interface, SAPI, TEI); others as layer ``iua``."""
    msg, params = iua.decode(data)
    dlci = params.get("dlci")
    dlci = {"sapi": dlci["sapi"], "tei": dlci["tei"]} if isinstance(dlci, dict) else {}
    q931 = params.get("protocol_data")
    if msg.name in iua.DATA_MESSAGES and isinstance(q931, str) and dlci.get("sapi", 0) == 0:
        rec = q931_record(variant.read(q931_codec.decode(bytes.fromhex(q931))))
        interface = params.get("interface_id", params.get("interface_id_text"))
        rec["iua"] = {"message": msg.name, "interface_id": interface, **dlci}
        return [rec]
    if dlci:
        params["dlci"] = dlci
    return [{"layer": "iua", "message": msg.name,
             "fields": {"class": msg.msg_class, "type": msg.msg_type, **params}}]


def variant_tables(name: str) -> tuple[dict[str, Decoder], dict[int, Decoder]]:
    """``PROTOS`` and ``LINKTYPES`` reading the elements of switch variant ``name`` in its
    national forms; KeyError if unknown."""
    v = VARIANTS[name]
    return ({"q931": partial(decode_q931, variant=v), "lapd": partial(decode_lapd, variant=v),
             "iua": partial(decode_iua, variant=v)},
            {LINKTYPE_LINUX_LAPD: partial(decode_linux_lapd, variant=v),
             LINKTYPE_LAPD: partial(decode_bare_lapd, variant=v)})


PROTOS, LINKTYPES = variant_tables("etsi")
