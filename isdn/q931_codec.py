"""Q.931 message codec (clause 4): protocol discriminator, call reference, message type, IEs.

The header octets are declared with construct (:class:`isdn.octet.Octet`); elements
follow in the order received, with codeset shifts applied (4.5.2 locking, 4.5.3 non-locking shift).
Framing faults that make a message unusable (5.8.1 protocol discriminator, 5.8.2 too
short, 5.8.3.1 call reference format) raise :class:`Q931DecodeError`; element faults are
kept on the element (``IE.error``) for the error procedures of 5.8.5-5.8.7, and an
unknown message type is kept as ``name=None`` for 5.8.4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from construct import BitsInteger, Flag

from core.errors import DecodeError
from isdn import ie as ies
from isdn.ie import IE
from isdn.octet import Octet, build_octet, parse_octet

PD_Q931 = 0x08
# maintenance protocol discriminators of the North American PRI variants (B-channel
# maintenance, SERVICE / SERVICE ACKNOWLEDGE): 0x43 national (NI-2), 0x03 AT&T; the two
# use the message type codes the other way round (codes as libpri and Wireshark read them)
MAINTENANCE_TYPES: dict[int, dict[int, str]] = {
    0x43: {0x07: "SERVICE", 0x0F: "SERVICE ACKNOWLEDGE"},
    0x03: {0x0F: "SERVICE", 0x07: "SERVICE ACKNOWLEDGE"},
}
MAINTENANCE_CODES = {pd: {v: k for k, v in t.items()} for pd, t in MAINTENANCE_TYPES.items()}

# Q.931 table 4-2 (message types) - the recommendation's names
MESSAGE_TYPES: dict[int, str] = {
    0x01: "ALERTING", 0x02: "CALL PROCEEDING", 0x03: "PROGRESS", 0x05: "SETUP",
    0x07: "CONNECT", 0x0D: "SETUP ACKNOWLEDGE", 0x0F: "CONNECT ACKNOWLEDGE",
    0x20: "USER INFORMATION", 0x21: "SUSPEND REJECT", 0x22: "RESUME REJECT",
    0x25: "SUSPEND", 0x26: "RESUME", 0x2D: "SUSPEND ACKNOWLEDGE", 0x2E: "RESUME ACKNOWLEDGE",
    0x45: "DISCONNECT", 0x46: "RESTART", 0x4D: "RELEASE", 0x4E: "RESTART ACKNOWLEDGE",
    0x5A: "RELEASE COMPLETE", 0x60: "SEGMENT", 0x62: "FACILITY", 0x6E: "NOTIFY",
    0x75: "STATUS ENQUIRY", 0x79: "CONGESTION CONTROL", 0x7B: "INFORMATION", 0x7D: "STATUS",
}
MESSAGE_CODES: dict[str, int] = {v: k for k, v in MESSAGE_TYPES.items()}


class Q931DecodeError(DecodeError):
    """A frame that cannot be a Q.931 message (ignored by the receiver, 5.8.1-5.8.3.1)."""


# the header of figure 4-1: protocol discriminator, call reference (4.3), message type (4.4)
CR_LENGTH = Octet("spare" / BitsInteger(4), "length" / BitsInteger(4))
CR_FIRST = Octet("flag" / Flag, "value" / BitsInteger(7))
MESSAGE_TYPE = Octet("escape" / BitsInteger(1), "type" / BitsInteger(7))


@dataclass
class Message:
    """One Q.931 message.  ``flag`` is the call reference flag (0 from the originating side);
    ``pd`` the protocol discriminator (Q.931, or a maintenance one: :data:`MAINTENANCE_TYPES`)."""

    name: str | None
    call_ref: int
    flag: bool = False
    ies: list[IE] = field(default_factory=list)
    cr_len: int = 2
    code: int | None = None
    pd: int = PD_Q931

    # written out (the dataclass keeps its fields, eq and repr): one frame per message, the
    # code of a named message looked up here
    def __init__(self, name: str | None, call_ref: int, flag: bool = False,
                 ies: list[IE] | None = None, cr_len: int = 2, code: int | None = None,
                 pd: int = PD_Q931) -> None:
        self.name = name
        self.call_ref = call_ref
        self.flag = flag
        self.ies = [] if ies is None else ies
        self.cr_len = cr_len
        self.code = code if code is not None else (
            MESSAGE_CODES[name] if pd == PD_Q931 else MAINTENANCE_CODES[pd][name])
        self.pd = pd

    def ie(self, name: str) -> IE | None:
        """The first element of that name (later repeats are ignored, 5.8.5.2)."""
        for e in self.ies:
            if e.name == name:
                return e
        return None

    def get(self, name: str) -> dict | None:
        """The value of the first element of that name (5.8.5.2), None when absent."""
        for e in self.ies:
            if e.name == name:
                return e.value
        return None

    def all(self, name: str) -> list[dict]:
        return [e.value for e in self.ies if e.name == name and e.value is not None]

    # the fields people ask for first
    @property
    def called(self) -> str | None:
        v = self.get("called_number")
        return v["digits"] if v else None

    @property
    def calling(self) -> str | None:
        v = self.get("calling_number")
        return v["digits"] if v else None

    @property
    def channel(self) -> int | None:
        """B-channel number: from the channel list on a PRI, B1/B2 from the
        information channel selection on a BRI (4.5.13)."""
        v = self.get("channel_id")
        if not v:
            return None
        if v.get("channels"):
            return v["channels"][0]
        return v["selection"] if not v["pri"] and v["selection"] in (1, 2) else None

    @property
    def cause(self) -> int | None:
        v = self.get("cause")
        return v["value"] if v else None

    def summary(self) -> dict[str, Any]:
        progress = self.get("progress")
        restart = self.get("restart_indicator")
        state = self.get("call_state")
        return {"called": self.called, "calling": self.calling, "channel": self.channel,
                "cause": self.cause,
                "progress": progress["description"] if progress else None,
                "call_state": state["value"] if state else None,
                "restart_class": restart["restart_class"] if restart else None,
                "sending_complete": self.ie("sending_complete") is not None or None,
                "display": (self.get("display") or {}).get("text"),
                "change_status": (self.get("change_status") or {}).get("status"),
                "ie_errors": [f"{e.name}: {e.error}" for e in self.ies
                              if e.error and e.error != "skipped"] or None}


# per-octet tables evaluated from the header declarations above
_RX_CR_LENGTH = tuple(None if f["spare"] else f["length"]
                      for f in (parse_octet(CR_LENGTH, v) for v in range(256)))
_RX_CR_FIRST = tuple((f["flag"], f["value"]) for f in (parse_octet(CR_FIRST, v) for v in range(256)))
_RX_TYPE = tuple(None if f["escape"] else f["type"]
                 for f in (parse_octet(MESSAGE_TYPE, v) for v in range(256)))
_TX_CR_LENGTH = tuple(build_octet(CR_LENGTH, ("spare", 0), ("length", n)) for n in range(16))
_TX_CR_FIRST = {(flag, v): build_octet(CR_FIRST, ("flag", flag), ("value", v))
                for flag in (False, True) for v in range(128)}
_TX_TYPE = tuple(build_octet(MESSAGE_TYPE, ("escape", 0), ("type", t)) for t in range(128))


def decode(data: bytes) -> Message:
    """Decode one message; raises :class:`Q931DecodeError` on a framing fault."""
    data = bytes(data)
    if len(data) < 3:
        raise Q931DecodeError("message too short", offset=len(data), field="header")
    pd = data[0]
    if pd != PD_Q931 and pd not in MAINTENANCE_TYPES:
        raise Q931DecodeError(f"protocol discriminator 0x{pd:02x} is not Q.931",
                              offset=0, field="protocol_discriminator")
    cr_len = _RX_CR_LENGTH[data[1]]
    if cr_len is None or cr_len > 2:
        raise Q931DecodeError("invalid call reference length", offset=1, field="call_reference")
    end = 3 + cr_len
    if len(data) < end:
        raise Q931DecodeError("message too short", offset=len(data), field="message_type")
    flag, cref = False, 0
    if cr_len:
        flag, cref = _RX_CR_FIRST[data[2]]
        for octet in data[3:end - 1]:
            cref = (cref << 8) | octet
    code = _RX_TYPE[data[end - 1]]
    if code is None:
        raise Q931DecodeError("message type with bit 8 set (escape)", offset=end - 1,
                              field="message_type")
    names = MESSAGE_TYPES if pd == PD_Q931 else MAINTENANCE_TYPES[pd]
    return Message(names.get(code), cref, flag, _decode_ies(data[end:], end), cr_len, code, pd)


def _decode_ies(data: bytes, base: int) -> list[IE]:
    out: list[IE] = []
    locked = 0
    once: int | None = None
    i, n = 0, len(data)
    while i < n:
        octet = data[i]
        codeset = locked if once is None else once
        once = None
        if octet & 0x80:
            i += 1
            if octet >= 0xA0 and (octet >> 4) == 0xA:
                name = ies.SINGLE_TYPE2.get(octet)
                out.append(IE(name or f"ie_{codeset}_{octet:02x}", octet, codeset, {} if name else None,
                              b"", None if name else "unrecognised"))
                continue
            kind = octet >> 4
            value = octet & 0x0F
            if kind == 0x9:
                if value & 0x08:
                    once = value & 0x07
                else:
                    locked = value & 0x07
            name = ies.SINGLE_TYPE1.get(kind)
            out.append(IE(name or f"ie_{codeset}_{octet:02x}", kind, codeset,
                          {"value": value} if name else None, b"", None if name else "unrecognised"))
            continue
        if i + 1 >= n:
            out.append(IE(f"ie_{codeset}_{octet:02x}", octet, codeset, None, b"",
                          f"truncated at offset {base + i}"))
            break
        length = data[i + 1]
        body = data[i + 2:i + 2 + length]
        if len(body) < length:
            e = ies.decode_body(codeset, octet, b"")
            out.append(e._replace(raw=body, value=None, error=f"truncated at offset {base + i}"))
            break
        e = ies.decode_body(codeset, octet, body)
        if codeset >= 5 and e.error == "unrecognised":
            e = e._replace(error="skipped")  # national/network/user codesets: not interpreted
        out.append(e)
        i += 2 + length
    return out


def encode(msg: Message) -> bytes:
    """Octets of ``msg``."""
    head = [msg.pd, _TX_CR_LENGTH[msg.cr_len & 0x0F]]
    if msg.cr_len:
        if not 0 <= msg.call_ref < 1 << (8 * msg.cr_len - 1):
            raise ValueError("call reference out of range for its length")
        rest = msg.call_ref.to_bytes(msg.cr_len, "big")
        head.append(_TX_CR_FIRST[bool(msg.flag), rest[0]])
        head += rest[1:]
    head.append(_TX_TYPE[msg.code & 0x7F])
    return bytes(head) + ies.encode(msg.ies)
