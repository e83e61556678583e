"""The message framing the SIGTRAN adaptation layers share (M3UA RFC 4666 3.1-3.2, IUA
RFC 4233 3.1-3.2, M2UA RFC 3331, SUA RFC 3868): a common header (version 1, reserved,
message class, message type, length including the header) followed by tag-length-value
parameters padded to 32 bits.  The management (class 0), ASP state maintenance (3) and
ASP traffic maintenance (4) messages and their parameters are common to all of them
(RFC 4666 3.5-3.8, 3.2 common parameter tags); each layer adds its own classes and tags
to an :class:`Adaptation`, a table read by :func:`decode` and :func:`encode`.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, NamedTuple, Protocol

from construct import (
    ConstructError,
    ExprAdapter,
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

from core.errors import DecodeError, EncodeError
from core.layout import Fixed


class SigtranDecodeError(DecodeError):
    """A SIGTRAN message that does not follow its RFC's framing."""


# what a (compiled) construct raises on octets that do not fit its layout
PARSE_ERRORS = (ConstructError, struct.error, ValueError, IndexError)
VERSION = 1
COMMON_HEADER = Fixed("common_header", Struct("version" / Int8ub, "reserved" / Int8ub,
                                               "msg_class" / Int8ub, "msg_type" / Int8ub,
                                               "length" / Int32ub))
PARAMETER_HEADER = Fixed("parameter_header", Struct("tag" / Int16ub, "length" / Int16ub))

# parameter value layouts, each consuming exactly the value (padding excluded)
U32 = FocusedSeq("v", "v" / Int32ub, Terminated).compile()
U32_LIST = FocusedSeq("v", "v" / GreedyRange(Int32ub), Terminated).compile()
TEXT = ExprAdapter(GreedyBytes, lambda b, _: b.decode("utf-8", "replace"),
                   lambda s, _: s.encode())
HEX = ExprAdapter(GreedyBytes, lambda b, _: b.hex(), lambda s, _: bytes.fromhex(s))
STATUS = Struct("type" / Int16ub, "info" / Int16ub, Terminated).compile()
POINT_CODES = FocusedSeq("v", "v" / GreedyRange(Struct("mask" / Int8ub, "pc" / Int24ub)),
                         Terminated).compile()
NESTED = None  # a parameter whose value is itself a list of parameters (routing key, ...)


class ValueLayout(Protocol):
    """How a parameter value is read and written: a construct, or an object parsing a
    construct-declared layout faster (``ss7.sigtran.ProtocolDataValue``)."""

    def parse(self, data: bytes) -> Any: ...

    def build(self, obj: Any) -> bytes: ...


@dataclass(frozen=True)
class Adaptation:
    """One adaptation layer: message names by (class, type) and parameters by tag."""

    name: str
    messages: Mapping[tuple[int, int], str]
    params: Mapping[int, tuple[str, ValueLayout | None]]

    @cached_property
    def codes(self) -> dict[str, tuple[int, int]]:
        """(class, type) by message name."""
        return {v: k for k, v in self.messages.items()}

    @cached_property
    def tags(self) -> dict[str, tuple[int, ValueLayout | None]]:
        """(tag, value layout) by parameter name."""
        return {name: (tag, c) for tag, (name, c) in self.params.items()}


# RFC 4666 3.1.2 / RFC 4233 3.1: the classes and messages every layer has
COMMON_MESSAGES = {
    (0, 0): "ERR", (0, 1): "NTFY",
    (3, 1): "ASPUP", (3, 2): "ASPDN", (3, 3): "BEAT", (3, 4): "ASPUP ACK", (3, 5): "ASPDN ACK",
    (3, 6): "BEAT ACK",
    (4, 1): "ASPAC", (4, 2): "ASPIA", (4, 3): "ASPAC ACK", (4, 4): "ASPIA ACK",
}
# RFC 4666 3.2 common parameter tags (RFC 4233 uses the same values for these)
COMMON_PARAMS: dict[int, tuple[str, ValueLayout | None]] = {
    0x0004: ("info_string", TEXT), 0x0006: ("routing_context", U32_LIST),
    0x0007: ("diagnostic", HEX), 0x0009: ("heartbeat", HEX),
    0x000B: ("traffic_mode", U32), 0x000C: ("error_code", U32), 0x000D: ("status", STATUS),
    0x0011: ("asp_id", U32), 0x0012: ("affected_point_codes", POINT_CODES),
    0x0013: ("correlation_id", U32),
}


class Message(NamedTuple):
    msg_class: int
    msg_type: int
    name: str
    body: bytes  # after the common header, up to the message length
    offset: int  # of the body in the input (8)


def header(layer: Adaptation, data: bytes) -> Message:
    """The common header of ``data`` (RFC 4666 3.1): version 1, length within the input."""
    if len(data) < 8:
        raise SigtranDecodeError(f"{layer.name}: shorter than the common header",
                                 offset=len(data), field="common_header")
    h = COMMON_HEADER.read(data)
    if h.version != VERSION:
        raise SigtranDecodeError(f"{layer.name}: version {h.version}", offset=0, field="version")
    if h.length < 8 or h.length > len(data):
        raise SigtranDecodeError(f"{layer.name}: message length {h.length} of {len(data)} "
                                 "octets", offset=4, field="message_length")
    name = layer.messages.get((h.msg_class, h.msg_type),
                              f"class {h.msg_class} type {h.msg_type}")
    return Message(h.msg_class, h.msg_type, name, data[8:h.length], 8)


def _plain(value: Any) -> Any:
    """construct containers as plain JSON-ready dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


MAX_NESTING = 3  # a routing key or registration result holds parameters, none holds deeper
SHORT_VALUE = 16  # octets: identifiers, routing contexts, DLCIs repeat from message to message


@lru_cache(maxsize=1024)
def _parse_short(layout: ValueLayout, raw: bytes) -> Any:
    """A short parameter value parsed once for all the messages that repeat it; callers
    copy it with :func:`_plain`, so no record shares the cached container."""
    return layout.parse(raw)


def parameters(layer: Adaptation, data: bytes, offset: int = 0,
               depth: int = 0) -> dict[str, Any]:
    """Parameters of a message body (RFC 4666 3.2): ``{name: value}``, unknown tags as
    ``tag_0xNNNN`` with the value in hex, a repeated parameter as a list of its values."""
    if depth > MAX_NESTING:
        raise SigtranDecodeError(f"{layer.name}: parameters nested deeper than {MAX_NESTING}",
                                 offset=offset, field="parameter")
    found: dict[str, list[Any]] = {}
    off = 0
    while off < len(data):
        if off + 4 > len(data):
            raise SigtranDecodeError(f"{layer.name}: parameter header truncated",
                                     offset=offset + off, field="parameter")
        p = PARAMETER_HEADER.read(data, off)
        name, layout = layer.params.get(p.tag, (f"tag_0x{p.tag:04x}", HEX))
        if p.length < 4 or off + p.length > len(data):
            raise SigtranDecodeError(f"{layer.name}: parameter length {p.length}",
                                     offset=offset + off + 2, field=name)
        raw = data[off + 4:off + p.length]
        if layout is NESTED:
            value = parameters(layer, raw, offset + off + 4, depth + 1)
        else:
            try:
                value = _plain(_parse_short(layout, raw) if len(raw) <= SHORT_VALUE
                               else layout.parse(raw))
            except PARSE_ERRORS as e:
                raise SigtranDecodeError(f"{layer.name}: {name}: {e}", offset=offset + off + 4,
                                         field=name) from None
        found.setdefault(name, []).append(value)
        off += (p.length + 3) // 4 * 4
    return {k: v[0] if len(v) == 1 else v for k, v in found.items()}


def decode(layer: Adaptation, data: bytes) -> tuple[Message, dict[str, Any]]:
    """Header and parameters of a message of a TLV adaptation layer."""
    msg = header(layer, data)
    return msg, parameters(layer, msg.body, msg.offset)


def encode_parameters(layer: Adaptation, params: Mapping[str, Any]) -> bytes:
    out = bytearray()
    for name, value in params.items():
        try:
            tag, layout = layer.tags[name]
        except KeyError:
            raise EncodeError(f"{layer.name}: no parameter {name!r}") from None
        raw = encode_parameters(layer, value) if layout is NESTED else layout.build(value)
        out += PARAMETER_HEADER.build({"tag": tag, "length": 4 + len(raw)}) + raw
        out += bytes(-len(raw) % 4)
    return bytes(out)


def encode(layer: Adaptation, name: str, params: Mapping[str, Any] | None = None,
           body: bytes | None = None) -> bytes:
    """A message by name: its parameters in the order given, or a ready ``body``."""
    try:
        msg_class, msg_type = layer.codes[name]
    except KeyError:
        raise EncodeError(f"{layer.name}: no message {name!r}") from None
    payload = body if body is not None else encode_parameters(layer, params or {})
    return COMMON_HEADER.build({"version": VERSION, "reserved": 0, "msg_class": msg_class,
                                "msg_type": msg_type, "length": 8 + len(payload)}) + payload
