"""ISUP messages and parameters (Q.763), declared once and used to encode and decode.

A message is CIC (Q.763 1.2, 12 bits + 4 spare) + message type + mandatory fixed part +
pointers + mandatory variable part + optional part (Q.763 1.3-1.8).  :data:`MESSAGES` lists each
message's parts by parameter name; :data:`PARAMS` declares every known parameter with its code and
a compiled ``construct`` for its contents; unknown optional parameters are kept as raw octets
(``{"code": n, "raw": b""}``) so the compatibility procedure (Q.764 2.10.5) can act on them.
Variants (ITU, China) are data: :data:`VARIANTS`.
"""

from __future__ import annotations

from binascii import hexlify, unhexlify
from dataclasses import dataclass
from typing import Any

from construct import (
    Construct,
    ConstructError,
    GreedyBytes,
    GreedyRange,
    Int8ul,
    Int16ul,
    StreamError,
    Struct,
)

from core.errors import DecodeError, EncodeError
from ss7.bitfields import BitFields


class IsupDecodeError(DecodeError):
    """An ISUP message that violates Q.763 (pointers, lengths, parameter contents)."""


class UnknownMessage(IsupDecodeError):
    """A message type this exchange does not implement (Q.764 2.10.5.1); ``compat`` holds the
    message compatibility information when the message carried one in its optional part."""

    def __init__(self, code: int, cic: int, compat: dict[str, int] | None):
        self.code, self.cic, self.compat = code, cic, compat
        super().__init__(f"unrecognised message type 0x{code:02x}", offset=2, field="message type")


class Octet(Construct):
    """A one-octet parameter whose whole value is a code point (category, TMR, ...)."""

    def parse_bytes(self, data: bytes) -> int:
        if len(data) != 1:
            raise StreamError(f"expected 1 octet, got {len(data)}")
        return data[0]

    def build_bytes(self, obj: int) -> bytes:
        return bytes((obj,))

    def _parse(self, stream: Any, context: Any, path: str) -> int:
        return self.parse_bytes(stream.read(1))

    def _build(self, obj: int, stream: Any, context: Any, path: str) -> int:
        stream.write(self.build_bytes(obj))
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        return 1


class CauseIndicators(Construct):
    """Q.763 3.12 / Q.850 2.2: location/coding octet, cause value octet, diagnostics."""

    O1 = BitFields(1, ("location", 4), ("spare", 1), ("coding", 2), ("ext", 1))
    O2 = BitFields(1, ("cause", 7), ("ext", 1))

    def parse_bytes(self, data: bytes) -> dict[str, Any]:
        if len(data) < 2:
            raise StreamError("cause indicators shorter than 2 octets")
        o1 = self.O1.parse_bytes(data[:1])
        pos = 1 if o1["ext"] else 2  # octet 1a (recommendation) present when ext = 0
        if len(data) <= pos:
            raise StreamError("cause value missing")
        return {"o1": o1, "o2": self.O2.parse_bytes(data[pos:pos + 1]),
                "diagnostic": bytes(data[pos + 1:])}

    def build_bytes(self, obj: dict[str, Any]) -> bytes:
        return (self.O1.build_bytes(dict(obj["o1"], ext=1)) + self.O2.build_bytes(obj["o2"])
                + bytes(obj.get("diagnostic", b"")))

    def _parse(self, stream: Any, context: Any, path: str) -> dict[str, Any]:
        return self.parse_bytes(stream.read())

    def _build(self, obj: dict[str, Any], stream: Any, context: Any, path: str) -> dict:
        stream.write(self.build_bytes(obj))
        return obj


# ---------------------------------------------------------------------------------------------
# Digits (Q.763 3.9 / 3.10): BCD, first digit in the low nibble, filler 0 when odd.
_DIGITS = "0123456789ABCDEF"
_NOT_BCD = str.maketrans("", "", _DIGITS + _DIGITS.lower())  # leaves only what is not BCD
# BCD octets carry the first digit in the low nibble, hex text has it first: the two are one
# nibble swap of every octet apart
_SWAP_NIBBLES = bytes(((o & 15) << 4) | (o >> 4) for o in range(256))


class AddressNumber(Construct):
    """Q.763 3.9/3.10 address: octet 1 odd/even + NAI, octet 2 indicators (``ind``), then BCD
    address signals, first digit in the low nibble, filler 0 when odd."""

    HEAD = BitFields(1, ("nai", 7), ("odd", 1))

    def __init__(self, ind: BitFields | None):
        super().__init__()
        self.ind = ind

    def parse_bytes(self, data: bytes) -> dict[str, Any]:
        skip = 2 if self.ind is not None else 1
        if len(data) < skip:
            raise StreamError("address parameter shorter than its header")
        head = self.HEAD.parse_bytes(data[:1])
        digits = hexlify(data[skip:].translate(_SWAP_NIBBLES)).decode().upper()
        if head["odd"] and digits:
            digits = digits[:-1]
        out = {"head": head, "digits": digits}
        if self.ind is not None:
            out["ind"] = self.ind.parse_bytes(data[1:2])
        return out

    def build_bytes(self, obj: dict[str, Any]) -> bytes:
        digits = obj["digits"]
        if digits.translate(_NOT_BCD):
            raise StreamError(f"digit string {digits!r} has a non-BCD character")
        odd = len(digits) % 2
        out = self.HEAD.build_bytes({"nai": obj["head"].get("nai", 0), "odd": odd})
        if self.ind is not None:
            out += self.ind.build_bytes(obj["ind"])
        return out + unhexlify(digits + "0" if odd else digits).translate(_SWAP_NIBBLES)

    def _parse(self, stream: Any, context: Any, path: str) -> dict[str, Any]:
        return self.parse_bytes(stream.read())

    def _build(self, obj: dict[str, Any], stream: Any, context: Any, path: str) -> dict:
        stream.write(self.build_bytes(obj))
        return obj


_CALLED_IND = BitFields(1, ("spare", 4), ("npi", 3), ("inn", 1))
_CALLING_IND = BitFields(1, ("screen", 2), ("pres", 2), ("npi", 3), ("ni", 1))

_COMPAT_INSTR = BitFields(  # Q.763 3.33 / 3.41 instruction indicators
    1, ("transit", 1), ("release_call", 1), ("send_notification", 1), ("discard_message", 1),
    ("discard_parameter", 1), ("pass_on_not_possible", 2), ("ext", 1))

_CIRCUIT_STATE = BitFields(  # Q.763 3.14: one octet per circuit of a CQR
    1, ("maintenance", 2), ("call", 2), ("hardware", 2), ("spare", 2))

PARAMS: dict[str, tuple[int, Construct]] = {
    "call_reference": (0x01, GreedyBytes),
    "transmission_medium_requirement": (0x02, Octet()),
    "access_transport": (0x03, GreedyBytes),
    "called": (0x04, AddressNumber(_CALLED_IND)),
    "subsequent": (0x05, AddressNumber(None)),
    "nature_of_connection": (0x06, BitFields(
        1, ("satellite", 2), ("continuity_check", 2), ("echo_control", 1), ("spare", 3))),
    "forward_call": (0x07, BitFields(
        2, ("international", 1), ("end_to_end_method", 2), ("interworking", 1),
        ("end_to_end_info", 1), ("isup", 1), ("isup_preference", 2), ("isdn_access", 1),
        ("sccp_method", 2), ("spare", 1), ("reserved", 4))),
    "optional_forward_call": (0x08, BitFields(  # Q.763 3.38; bit C: 2.1.12 segmentation
        1, ("cug", 2), ("simple_segmentation", 1), ("spare", 4), ("connected_line_request", 1))),
    "calling_category": (0x09, Octet()),
    "calling": (0x0A, AddressNumber(_CALLING_IND)),
    "redirecting": (0x0B, AddressNumber(_CALLING_IND)),
    "redirection_number": (0x0C, AddressNumber(_CALLED_IND)),
    "information_request": (0x0E, Int16ul),
    "information": (0x0F, Int16ul),
    "continuity": (0x10, Octet()),
    "backward_call": (0x11, BitFields(
        2, ("charge", 2), ("called_status", 2), ("called_category", 2), ("end_to_end_method", 2),
        ("interworking", 1), ("end_to_end_info", 1), ("isup", 1), ("holding", 1),
        ("isdn_access", 1), ("echo_device", 1), ("sccp_method", 2))),
    "cause": (0x12, CauseIndicators()),
    "redirection_information": (0x13, GreedyBytes),
    "cgs_type": (0x15, BitFields(1, ("type", 2), ("spare", 6))),
    "range_status": (0x16, Struct("range" / Int8ul, "status" / GreedyBytes)),
    "user_service_information": (0x1D, GreedyBytes),
    "user_to_user": (0x20, GreedyBytes),
    "connected": (0x21, AddressNumber(_CALLING_IND)),
    "suspend_resume": (0x22, BitFields(1, ("network_initiated", 1), ("spare", 7))),
    "event": (0x24, BitFields(1, ("event", 7), ("restricted", 1))),
    "original_called": (0x28, AddressNumber(_CALLING_IND)),
    "circuit_state": (0x26, GreedyRange(_CIRCUIT_STATE)),
    "automatic_congestion_level": (0x27, Octet()),  # Q.763 3.4: 1 / 2 = level 1 / 2 exceeded
    "optional_backward_call": (0x29, BitFields(  # Q.763 3.37; bit C: 2.1.12 segmentation
        1, ("inband", 1), ("diversion", 1), ("simple_segmentation", 1), ("mlpp_user", 1),
        ("national", 4))),
    "access_delivery": (0x2E, Octet()),
    "echo_control": (0x37, Octet()),
    "message_compatibility": (0x38, GreedyRange(_COMPAT_INSTR)),
    "parameter_compatibility": (0x39, GreedyRange(Struct("code" / Int8ul,
                                                         "instr" / _COMPAT_INSTR))),
    "hop_counter": (0x3D, Octet()),
    "location_number": (0x3F, AddressNumber(_CALLING_IND)),
    "generic_number": (0xC0, GreedyBytes),
    "generic_digits": (0xC1, GreedyBytes),
    # China national (YDN 038-1997): MPM's mandatory fixed 2 octets, so its name code never
    # travels; 0xFD as published (Dialogic ISUP manual, China ISUP appendix)
    "charge_information": (0xFD, GreedyBytes),
}
PARAMS = {k: (c, s if hasattr(s, "parse_bytes") else s.compile()) for k, (c, s) in PARAMS.items()}
PARAM_BY_CODE = {c: n for n, (c, _) in PARAMS.items()}
FIXED_LEN = {"transmission_medium_requirement": 1, "nature_of_connection": 1, "forward_call": 2,
             "calling_category": 1, "information_request": 2, "information": 2, "continuity": 1,
             "backward_call": 2, "cgs_type": 1, "suspend_resume": 1, "event": 1,
             "charge_information": 2}


@dataclass(frozen=True)
class MessageSpec:
    """One row of Q.763 tables 21-50: code, mandatory fixed, mandatory variable, optional?"""

    name: str
    code: int
    fixed: tuple[str, ...] = ()
    variable: tuple[str, ...] = ()
    optional: bool = False


MESSAGES: dict[str, MessageSpec] = {m.name: m for m in [
    MessageSpec("IAM", 0x01, ("nature_of_connection", "forward_call", "calling_category",
                              "transmission_medium_requirement"), ("called",), True),
    MessageSpec("SAM", 0x02, (), ("subsequent",), True),
    MessageSpec("INR", 0x03, ("information_request",), (), True),
    MessageSpec("INF", 0x04, ("information",), (), True),
    MessageSpec("COT", 0x05, ("continuity",)),
    MessageSpec("ACM", 0x06, ("backward_call",), (), True),
    MessageSpec("CON", 0x07, ("backward_call",), (), True),
    MessageSpec("FOT", 0x08, (), (), True),
    MessageSpec("ANM", 0x09, (), (), True),
    MessageSpec("REL", 0x0C, (), ("cause",), True),
    MessageSpec("SUS", 0x0D, ("suspend_resume",), (), True),
    MessageSpec("RES", 0x0E, ("suspend_resume",), (), True),
    MessageSpec("RLC", 0x10, (), (), True),
    MessageSpec("CCR", 0x11),
    MessageSpec("RSC", 0x12),
    MessageSpec("BLO", 0x13),
    MessageSpec("UBL", 0x14),
    MessageSpec("BLA", 0x15),
    MessageSpec("UBA", 0x16),
    MessageSpec("GRS", 0x17, (), ("range_status",)),
    MessageSpec("CGB", 0x18, ("cgs_type",), ("range_status",)),
    MessageSpec("CGU", 0x19, ("cgs_type",), ("range_status",)),
    MessageSpec("CGBA", 0x1A, ("cgs_type",), ("range_status",)),
    MessageSpec("CGUA", 0x1B, ("cgs_type",), ("range_status",)),
    MessageSpec("LPA", 0x24),
    MessageSpec("GRA", 0x29, (), ("range_status",)),
    MessageSpec("CQM", 0x2A, (), ("range_status",)),
    MessageSpec("CQR", 0x2B, (), ("range_status", "circuit_state")),
    MessageSpec("CPG", 0x2C, ("event",), (), True),
    MessageSpec("UCIC", 0x2E),
    MessageSpec("CFN", 0x2F, (), ("cause",), True),
    MessageSpec("SGM", 0x38, (), (), True),
]}
MESSAGE_BY_CODE = {m.code: m for m in MESSAGES.values()}
# National messages by variant (codes from the national range of Q.763 table 4); only that
# variant decodes them, elsewhere they are unrecognised messages (Q.764 2.10.5.1)
NATIONAL_MESSAGES: dict[str, dict[str, MessageSpec]] = {
    "itu": {},
    "china": {m.name: m for m in [  # YDN 038-1997
        MessageSpec("CCL", 0xFC, (), (), True),  # calling party clearing: forward, answered
        MessageSpec("MPM", 0xFD, ("charge_information",), (), True),  # metering: backward
        MessageSpec("OPR", 0xFE, (), (), True),  # operator: both ways, answered
    ]},
}
_SPECS = {**MESSAGES, **{n: m for t in NATIONAL_MESSAGES.values() for n, m in t.items()}}


@dataclass(frozen=True)
class IsupVariant:
    """Network variant: point code size (via MTP3), parameter defaults and the national
    messages it understands (Q.763; China YDN 038: 24-bit point codes, CCL/MPM/OPR)."""

    name: str
    mtp3: str
    called_nai: int
    calling_nai: int
    calling_category: int

    def message_by_code(self) -> dict[int, MessageSpec]:
        """The messages this variant decodes; other codes are unrecognised (Q.764 2.10.5)."""
        return {**MESSAGE_BY_CODE,
                **{m.code: m for m in NATIONAL_MESSAGES[self.name].values()}}


VARIANTS = {
    "itu": IsupVariant("itu", "itu", called_nai=3, calling_nai=3, calling_category=10),
    "china": IsupVariant("china", "china", called_nai=3, calling_nai=3, calling_category=10),
}


# ---------------------------------------------------------------------------------------------
_PARSE = {n: getattr(c, "parse_bytes", c.parse) for n, (_, c) in PARAMS.items()}
_BUILD = {n: getattr(c, "build_bytes", c.build) for n, (_, c) in PARAMS.items()}
# compiled constructs return Containers: those values are turned into plain dicts/lists
_CONTAINERS = frozenset(n for n, (_, c) in PARAMS.items() if not hasattr(c, "parse_bytes"))
_PARAM_ERRORS = (ConstructError, EncodeError, IndexError)
_BUILD_ERRORS = (ConstructError, KeyError, TypeError, ValueError)
# per message: the names of its mandatory parameters (they never go in the optional part)
_MANDATORY = {m.name: frozenset(m.fixed + m.variable) for m in _SPECS.values()}


def _parse_param(name: str, data: bytes, offset: int) -> Any:
    try:
        v = _PARSE[name](data)
    except _PARAM_ERRORS as e:
        raise IsupDecodeError(f"bad {name} parameter: {e.__class__.__name__}", offset=offset,
                              field=name) from None
    return _plain(v) if name in _CONTAINERS else v


def _plain(v: Any) -> Any:
    """construct containers -> plain dicts/lists (no private keys)."""
    if type(v) is dict or not isinstance(v, (dict, list)):
        return v
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items() if not k.startswith("_")}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _build_param(name: str, value: Any) -> bytes:
    try:
        return _BUILD[name](value)
    except _BUILD_ERRORS as e:
        raise EncodeError(f"cannot encode {name}: {e}") from None


def decode(data: bytes, by_code: dict[int, MessageSpec] = MESSAGE_BY_CODE) -> dict[str, Any]:
    """Decode one ISUP message (the user part of an MSU, after the routing label);
    ``by_code`` is the variant's message table (:meth:`IsupVariant.message_by_code`)."""
    n = len(data)
    if n < 3:
        raise IsupDecodeError("shorter than CIC + message type", offset=n, field="message type")
    cic = (data[0] | (data[1] << 8)) & 0x0FFF
    spec = by_code.get(data[2])
    if spec is None:
        raise UnknownMessage(data[2], cic, _unknown_compat(data))
    params: dict[str, Any] = {}
    unknown: list[dict[str, Any]] = []
    out = {"message": spec.name, "cic": cic, "params": params, "unknown_params": unknown}
    pos = 3
    for name in spec.fixed:
        size = FIXED_LEN[name]
        if pos + size > n:
            raise IsupDecodeError("mandatory fixed part truncated", offset=pos, field=name)
        params[name] = _parse_param(name, data[pos:pos + size], pos)
        pos += size
    variable = spec.variable
    if not variable and not spec.optional:
        return out
    if pos + len(variable) + spec.optional > n:
        raise IsupDecodeError("pointers truncated", offset=pos, field="pointer")
    for name in variable:
        ptr = data[pos]
        if ptr == 0:
            raise IsupDecodeError("mandatory parameter pointer is zero", offset=pos, field=name)
        start = pos + ptr
        if start >= n or start + 1 + data[start] > n:
            raise IsupDecodeError("mandatory variable parameter beyond the message", offset=pos,
                                  field=name)
        params[name] = _parse_param(name, data[start + 1:start + 1 + data[start]], start + 1)
        pos += 1
    if spec.optional and data[pos]:
        _decode_optional(data, pos + data[pos], params, unknown)
    return out


def _decode_optional(data: bytes, pos: int, params: dict, unknown: list) -> None:
    n = len(data)
    while True:
        if pos >= n:
            raise IsupDecodeError("optional part without end-of-optional-parameters",
                                  offset=pos, field="optional part")
        code = data[pos]
        if code == 0:
            return
        if pos + 1 >= n or pos + 2 + data[pos + 1] > n:
            raise IsupDecodeError("optional parameter length beyond the message", offset=pos,
                                  field=f"parameter 0x{code:02x}")
        end = pos + 2 + data[pos + 1]
        name = PARAM_BY_CODE.get(code)
        if name is None:
            unknown.append({"code": code, "raw": bytes(data[pos + 2:end])})
        else:
            params[name] = _parse_param(name, data[pos + 2:end], pos + 2)
        pos = end


def _unknown_compat(data: bytes) -> dict[str, int] | None:
    """Q.763 1.8 / Q.764 2.10.5.1: a new message puts its optional-part pointer first; look
    there for message compatibility information."""
    if len(data) < 4 or data[3] == 0:
        return None
    params: dict[str, Any] = {}
    try:
        _decode_optional(data, 3 + data[3], params, [])
    except IsupDecodeError:
        return None
    mci = params.get("message_compatibility")
    return mci[0] if mci else None


def encode(message: str, cic: int, params: dict[str, Any] | None = None,
           unknown_params: list[dict[str, Any]] | None = None) -> bytes:
    """Encode a message; ``params`` maps parameter names to their values."""
    spec = _SPECS.get(message)
    if spec is None:
        raise EncodeError(f"unknown ISUP message {message!r}")
    if not 0 <= cic <= 0x0FFF:
        raise EncodeError(f"CIC {cic} out of range (12 bits)")
    if params is None:
        params = {}
    mandatory = _MANDATORY[message]
    for name in mandatory:
        if name not in params:
            raise EncodeError(f"{message} needs mandatory parameter {name}")
    out = bytearray((cic & 0xFF, cic >> 8, spec.code))
    for name in spec.fixed:
        out += _build_param(name, params[name])
    opt = bytearray()
    if len(params) > len(mandatory):
        if not spec.optional:
            raise EncodeError(f"{message} has no optional part")
        for name, value in params.items():
            if name in mandatory:
                continue
            entry = PARAMS.get(name)
            if entry is None:
                raise EncodeError(f"unknown ISUP parameter {name!r}")
            body = _build_param(name, value)
            if len(body) > 255:
                raise EncodeError(f"{name} longer than 255 octets")
            opt.append(entry[0])
            opt.append(len(body))
            opt += body
    if spec.optional:
        for u in unknown_params or ():
            opt += bytes((u["code"], len(u["raw"]))) + u["raw"]
    variable = spec.variable
    if not variable and not spec.optional:
        return bytes(out)
    nptr = len(variable) + spec.optional
    body = bytearray()
    for i, name in enumerate(variable):
        m = _build_param(name, params[name])
        if len(m) > 255:
            raise EncodeError("parameter longer than 255 octets")
        _pointer(out, nptr - i + len(body))
        body.append(len(m))
        body += m
    if spec.optional:
        if opt:
            _pointer(out, nptr - len(variable) + len(body))
            opt.append(0)
        else:
            out.append(0)
    return bytes(out + body + opt)


def _pointer(out: bytearray, value: int) -> None:
    """Q.763 1.5: a pointer is one octet."""
    if value > 255:
        raise EncodeError("message too long for its pointers")
    out.append(value)


# ---- helpers to build common parameters ---------------------------------------------------------
def called_party(digits: str, nai: int = 3, npi: int = 1, inn: int = 0) -> dict[str, Any]:
    return {"head": {"odd": len(digits) % 2, "nai": nai},
            "ind": {"inn": inn, "npi": npi, "spare": 0}, "digits": digits}


def calling_party(digits: str, nai: int = 3, pres: int = 0, screen: int = 3, npi: int = 1,
                  ni: int = 0) -> dict[str, Any]:
    return {"head": {"odd": len(digits) % 2, "nai": nai},
            "ind": {"ni": ni, "npi": npi, "pres": pres, "screen": screen}, "digits": digits}


def cause(value: int, location: int = 0, diagnostic: bytes = b"") -> dict[str, Any]:
    return {"o1": {"ext": 1, "coding": 0, "spare": 0, "location": location},
            "o2": {"ext": 1, "cause": value}, "diagnostic": diagnostic}


def range_status(rng: int, status_bits: list[int] | None = None) -> dict[str, Any]:
    """Range (number of circuits - 1) and status bits, bit i for CIC + i (Q.763 3.43)."""
    if status_bits is None:
        return {"range": rng, "status": b""}
    octets = bytearray((rng + 8) // 8)
    for i, b in enumerate(status_bits[:rng + 1]):
        if b:
            octets[i // 8] |= 1 << (i % 8)
    return {"range": rng, "status": bytes(octets)}


def status_bits(rs: dict[str, Any]) -> list[int]:
    st, rng = rs["status"], rs["range"]
    return [(st[i // 8] >> (i % 8)) & 1 if i // 8 < len(st) else 0 for i in range(rng + 1)]


def nature_of_connection(satellite: int = 0, continuity_check: int = 0,
                         echo_control: int = 0) -> dict[str, int]:
    return {"spare": 0, "echo_control": echo_control, "continuity_check": continuity_check,
            "satellite": satellite}


def forward_call(international: int = 0, isup: int = 1, isup_preference: int = 0,
                 isdn_access: int = 1) -> dict[str, int]:
    return {"isup_preference": isup_preference, "isup": isup, "end_to_end_info": 0,
            "interworking": 0, "end_to_end_method": 0, "international": international,
            "reserved": 0, "spare": 0, "sccp_method": 0, "isdn_access": isdn_access}


def backward_call(charge: int = 2, called_status: int = 1, called_category: int = 1,
                  isup: int = 1) -> dict[str, int]:
    return {"end_to_end_method": 0, "called_category": called_category,
            "called_status": called_status, "charge": charge, "sccp_method": 0, "echo_device": 0,
            "isdn_access": 0, "holding": 0, "isup": isup, "end_to_end_info": 0,
            "interworking": 0}


# ---- circuit state indicator (Q.763 3.14) ------------------------------------------------------
CALL_STATES = ("transient", "incoming busy", "outgoing busy", "idle")  # by bits DC; 00 with BA
BLOCKING = ("none", "local", "remote", "both")  # bits BA (when DC != 00) and FE


def circuit_state(octet: dict[str, int]) -> dict[str, str]:
    """One decoded circuit state octet -> ``{"call", "maintenance", "hardware"}`` names: with
    bits DC = 00 the call state is BA's "transient" / "unequipped" (01, 10 spare)."""
    if octet["call"] == 0:
        call = ("transient", "spare", "spare", "unequipped")[octet["maintenance"]]
        return {"call": call, "maintenance": "none", "hardware": "none"}
    return {"call": CALL_STATES[octet["call"]], "maintenance": BLOCKING[octet["maintenance"]],
            "hardware": BLOCKING[octet["hardware"]]}


def circuit_state_octet(call: str, maintenance: str = "none",
                        hardware: str = "none") -> dict[str, int]:
    """The octet for a call state name (``circuit_state`` inverted); hardware blocking is only
    coded with an idle circuit (Q.763 3.14 note)."""
    if call in ("transient", "unequipped"):
        return {"maintenance": 0 if call == "transient" else 3, "call": 0, "hardware": 0,
                "spare": 0}
    if hardware != "none" and call != "idle":
        raise EncodeError("hardware blocking is coded only with call state idle (Q.763 3.14)")
    return {"maintenance": BLOCKING.index(maintenance), "call": CALL_STATES.index(call),
            "hardware": BLOCKING.index(hardware), "spare": 0}


# ---- simple segmentation (Q.764 2.1.12, Q.763 2.38 / table 49) ---------------------------------
# the messages that may announce an SGM, and the indicator parameter whose bit C does so
SEGMENTING_INDICATOR = {"IAM": "optional_forward_call", "ACM": "optional_backward_call",
                        "CPG": "optional_backward_call", "ANM": "optional_backward_call",
                        "CON": "optional_backward_call"}
# parameters an SGM carries (Q.763 table 49; generic notification is not declared here, and the
# message compatibility information stays with the message it describes)
SGM_PARAMS = ("access_transport", "user_to_user", "generic_digits", "generic_number")
_INDICATOR_DEFAULT = {
    "optional_forward_call": {"cug": 0, "spare": 0, "connected_line_request": 0},
    "optional_backward_call": {"inband": 0, "diversion": 0, "mlpp_user": 0, "national": 0},
}


def announces_segment(msg: dict[str, Any]) -> bool:
    """True when a decoded message says an SGM follows (simple segmentation indicator)."""
    indicator = SEGMENTING_INDICATOR.get(msg["message"])
    value = msg["params"].get(indicator) if indicator else None
    return bool(value and value["simple_segmentation"])


def segment(message: str, cic: int, params: dict[str, Any], limit: int,
            unknown_params: list[dict[str, Any]] | None = None) -> list[bytes]:
    """Encode ``message`` in at most ``limit`` octets: whole when it fits, else (Q.764 2.1.12)
    as the message with its simple segmentation indicator set followed by one SGM carrying
    the last of its SGM parameters, as few as make the first fit.  Raises
    :class:`EncodeError` when the message may not be segmented or two segments are not
    enough."""
    whole = encode(message, cic, params, unknown_params)
    if len(whole) <= limit:
        return [whole]
    indicator = SEGMENTING_INDICATOR.get(message)
    movable = [n for n in params if n in SGM_PARAMS]
    if indicator is None or not movable:
        raise EncodeError(f"{message} of {len(whole)} octets exceeds {limit} and cannot be "
                          f"segmented (Q.764 2.1.12)")
    first = dict(params)
    first[indicator] = {**_INDICATOR_DEFAULT[indicator], **params.get(indicator, {}),
                        "simple_segmentation": 1}
    for name in reversed(movable):
        del first[name]
        head = encode(message, cic, first, unknown_params)
        if len(head) <= limit:
            break
    else:
        raise EncodeError(f"{message} does not fit in {limit} octets even without its SGM "
                          f"parameters (Q.764 2.1.12)")
    tail = encode("SGM", cic, {n: params[n] for n in movable if n not in first})
    if len(tail) > limit:
        raise EncodeError(f"the SGM of {message} exceeds {limit} octets (Q.764 2.1.12)")
    return [head, tail]
