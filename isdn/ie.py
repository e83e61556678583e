"""Q.931 information elements (clause 4.5), each declared once with construct.

An element's value is a flat dict of the recommendation's field names.  The octet
groups of a variable-length element (octet 3, 3a, 4, ...) are BitStructs; a group
announced by extension bit 0 of the group before it is optional (4.5.1 note 3 on the
extension mechanism) and the extension bits are computed, never given by the caller.
Decoded values are cached per (codeset, identifier, contents), since the same elements
(bearer capability, channel, causes) repeat on every call.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from construct import (
    Adapter,
    BitsInteger,
    Check,
    Const,
    Construct,
    ConstructError,
    Default,
    Flag,
    GreedyBytes,
    GreedyString,
    If,
    IfThenElse,
    Int8ub,
    Optional,
    Padding,
    Renamed,
    RepeatUntil,
    SizeofError,
    StringEncoded,
    Struct,
    Tell,
    this,
)

from core.errors import DecodeError
from isdn.octet import Octet


class IeDecodeError(DecodeError):
    """Contents of one information element are invalid (Q.931 5.8.6.2 / 5.8.7.2)."""


def _octet(*fields: Any) -> Construct:
    """One extension-bit octet group: ext bit first, then the fields, 8 bits in all."""
    return Octet("ext" / BitsInteger(1), *fields)


class _Channels(Adapter):
    """Channel numbers of octet 3.3 (4.5.13): ext=1 marks the last number."""

    def _decode(self, obj, context, path):
        return [o.number for o in obj]

    def _encode(self, obj, context, path):
        return [{"ext": int(i == len(obj) - 1), "number": n} for i, n in enumerate(obj)]


_IA5 = GreedyString("ascii")
_REST = Default(GreedyBytes, b"")

_PARTY = (("o3", ("type", "plan")), ("o3a", ("presentation", "screening")))
_PARTY_STRUCT = Struct(
    "o3" / _octet("type" / BitsInteger(3), "plan" / BitsInteger(4)),
    "o3a" / If(this.o3.ext == 0, _octet("presentation" / BitsInteger(2),
                                         Padding(3), "screening" / BitsInteger(2))),
    "digits" / _IA5,
)

_BEARER = (("o3", ("coding", "capability")), ("o4", ("mode", "rate")),
           ("o5", ("layer1",)))
_BEARER_STRUCT = Struct(
    "o3" / _octet("coding" / BitsInteger(2), "capability" / BitsInteger(5)),
    Check(this.o3.ext == 1),
    "o4" / _octet("mode" / BitsInteger(2), "rate" / BitsInteger(5)),
    "multiplier" / If(this.o4.rate == 0x18, Int8ub),
    "o5" / Optional(_octet("layer" / Const(1, BitsInteger(2)), "layer1" / BitsInteger(5))),
    "extra" / _REST,  # octets 5a..7 (rate adaption, layer 2/3), kept as sent
)


def _compiled(body: Construct) -> Construct:
    """``body`` compiled by construct (parses and builds several times faster); a body
    with a condition written as a Python function (channel identification octet 3.3,
    redirecting number octet 3b) cannot be compiled and is interpreted."""
    try:
        return body.compile()
    except SyntaxError:
        return body


def _max_octets(sc: Construct) -> int | None:
    """The most octets ``sc`` reads, or None when that depends on the data."""
    if isinstance(sc, Renamed):
        return _max_octets(sc.subcon)
    if isinstance(sc, IfThenElse):
        sizes = (_max_octets(sc.thensubcon), _max_octets(sc.elsesubcon))
        return None if None in sizes else max(sizes)
    try:
        return sc.sizeof()
    except SizeofError:
        return None


def _greedy(sc: Construct) -> bool:
    """Whether ``sc`` takes every remaining octet as they are (bytes or IA5 text)."""
    return sc is GreedyBytes or (isinstance(sc, (StringEncoded, Default))
                                 and sc.subcon is GreedyBytes)


class _Split:
    """A body read as a head of at most ``size`` octets and a greedy tail field (the
    digits of a number, the text of a display, a cause's diagnostics).  The head does not
    depend on the tail, so it is coded once per distinct value and reused; the tail is
    coded as it comes.  Derived from the element's own declaration."""

    def __init__(self, spec: IeSpec, subcons: list[Construct], size: int):
        self.size = size
        self.tail = subcons[-1].name
        tail = subcons[-1].subcon
        self._tail = tail
        # the greedy field's own coding: text in its declared encoding, or the octets
        self._encoding = tail.encoding if isinstance(tail, StringEncoded) else None
        self._default = tail.value if isinstance(tail, Default) else None
        head = _compiled(Struct(*subcons[:-1], "_end" / Tell))

        @lru_cache(maxsize=1024)
        def parse_head(octets: bytes) -> tuple[dict, int] | None:
            try:
                parsed = head.parse(octets)
                return _flatten(spec, parsed), parsed["_end"]
            except (ConstructError, struct.error, UnicodeDecodeError, ValueError, TypeError):
                return None

        @lru_cache(maxsize=1024)
        def build_head(key: tuple) -> bytes:
            return head.build(_unflatten(spec, _value(key)))

        self.parse_head = parse_head
        self.build_head = build_head

    def parse_tail(self, octets: bytes) -> str | bytes:
        """The tail's value (UnicodeDecodeError for text outside its encoding)."""
        return octets.decode(self._encoding) if self._encoding else octets

    def build_tail(self, value: Any) -> bytes:
        if self._encoding and type(value) is str:
            try:
                return value.encode(self._encoding)
            except UnicodeEncodeError:
                pass
        elif not self._encoding and type(value) is bytes:
            return value
        elif value is None and isinstance(self._default, bytes):
            return self._default
        return self._tail.build(value)  # anything else as construct builds (or refuses) it


@dataclass(frozen=True)
class IeSpec:
    """One element: identifier (codeset 0 unless given), name, body and its octet groups."""

    ident: int
    name: str
    body: Construct
    groups: tuple = ()
    chained: bool = True  # optional groups are announced by the previous group's ext bit
    # groups that begin an octet group of their own (octet 4 after 3/3a): the octet before
    # them ends its group, ext = 1, present or not (Q.931 4.5.1)
    new_groups: frozenset = frozenset()

    @cached_property
    def group_fields(self) -> dict[str, None]:
        return {f: None for _, fields in self.groups for f in fields}

    @cached_property
    def group_fields_of(self) -> dict[str, tuple[str, ...]]:
        return dict(self.groups)

    @cached_property
    def member_names(self) -> tuple[str, ...]:
        return tuple(sc.name for sc in getattr(self.body, "subcons", ()) if sc.name)

    @cached_property
    def codec(self) -> Construct:
        """The body compiled on first use."""
        return _compiled(self.body)

    @cached_property
    def split(self) -> _Split | None:
        """The head/tail reading of the body when it is fields of a bounded size followed
        by one greedy field; None for other bodies."""
        subcons = list(getattr(self.body, "subcons", ()))
        if not subcons or subcons[-1].name is None or not _greedy(subcons[-1].subcon):
            return None
        sizes = [_max_octets(sc) for sc in subcons[:-1]]
        return None if None in sizes else _Split(self, subcons, sum(sizes))


SPECS: tuple[IeSpec, ...] = (
    IeSpec(0x04, "bearer_capability", _BEARER_STRUCT, _BEARER, chained=False),
    IeSpec(0x08, "cause", Struct(
        "o3" / _octet("coding" / BitsInteger(2), Padding(1), "location" / BitsInteger(4)),
        "o3a" / If(this.o3.ext == 0, _octet("recommendation" / BitsInteger(7))),
        "o4" / _octet("value" / BitsInteger(7)),
        "diagnostics" / _REST),
        (("o3", ("coding", "location")), ("o3a", ("recommendation",)), ("o4", ("value",))),
        new_groups=frozenset({"o4"})),
    IeSpec(0x01, "change_status", Octet(  # national PRI maintenance (SERVICE messages)
        "ext" / Const(1, BitsInteger(1)), "preference" / BitsInteger(1), Padding(3),
        "status" / BitsInteger(3))),
    IeSpec(0x10, "call_identity", Struct("identity" / GreedyBytes)),
    IeSpec(0x14, "call_state", Octet("coding" / BitsInteger(2), "value" / BitsInteger(6))),
    IeSpec(0x18, "channel_id", Struct(
        "o3" / _octet("interface_id_present" / Flag, "pri" / Flag, Padding(1),
                      "exclusive" / Flag, "dchan" / Flag, "selection" / BitsInteger(2)),
        "interface_id" / If(this.o3.interface_id_present, Int8ub),
        "o32" / If(this.o3.pri & (this.o3.selection == 1),
                   _octet("coding" / BitsInteger(2), "map" / Flag, "element_type" / BitsInteger(4))),
        "channels" / If(lambda c: c.o32 is not None and not c.o32["map"], _Channels(
            RepeatUntil(lambda o, lst, ctx: o["ext"] == 1,
                        _octet("number" / BitsInteger(7))))),
        "slot_map" / _REST),
        (("o3", ("interface_id_present", "pri", "exclusive", "dchan", "selection")),
         ("o32", ("coding", "map", "element_type"))), chained=False),
    IeSpec(0x1C, "facility", Struct("data" / GreedyBytes)),
    IeSpec(0x1E, "progress", Struct(
        "o3" / _octet("coding" / BitsInteger(2), Padding(1), "location" / BitsInteger(4)),
        "o4" / _octet("description" / BitsInteger(7))),
        (("o3", ("coding", "location")), ("o4", ("description",))), chained=False),
    IeSpec(0x20, "network_facilities", Struct("data" / GreedyBytes)),
    IeSpec(0x27, "notification", Struct(
        "o3" / _octet("description" / BitsInteger(7)), "extra" / _REST),
        (("o3", ("description",)),)),
    IeSpec(0x28, "display", Struct("text" / _IA5)),
    IeSpec(0x29, "date_time", Struct(
        "year" / Int8ub, "month" / Int8ub, "day" / Int8ub, "hour" / Optional(Int8ub),
        "minute" / Optional(Int8ub), "second" / Optional(Int8ub),
        Check((this.month >= 1) & (this.month <= 12) & (this.day >= 1) & (this.day <= 31)))),
    IeSpec(0x2C, "keypad", Struct("digits" / _IA5)),
    IeSpec(0x34, "signal", Struct("value" / Int8ub)),
    IeSpec(0x4C, "connected_number", _PARTY_STRUCT, _PARTY),
    IeSpec(0x4D, "connected_subaddress", Struct("data" / GreedyBytes)),
    IeSpec(0x6C, "calling_number", _PARTY_STRUCT, _PARTY),
    IeSpec(0x6D, "calling_subaddress", Struct("data" / GreedyBytes)),
    IeSpec(0x70, "called_number", Struct(
        "o3" / _octet("type" / BitsInteger(3), "plan" / BitsInteger(4)),
        Check(this.o3.ext == 1), "digits" / _IA5), (("o3", ("type", "plan")),)),
    IeSpec(0x71, "called_subaddress", Struct("data" / GreedyBytes)),
    IeSpec(0x74, "redirecting_number", Struct(
        "o3" / _octet("type" / BitsInteger(3), "plan" / BitsInteger(4)),
        "o3a" / If(this.o3.ext == 0, _octet("presentation" / BitsInteger(2), Padding(3),
                                             "screening" / BitsInteger(2))),
        "o3b" / If(lambda c: c.o3a is not None and c.o3a["ext"] == 0,
                   _octet(Padding(3), "reason" / BitsInteger(4))),
        "digits" / _IA5),
        (("o3", ("type", "plan")), ("o3a", ("presentation", "screening")), ("o3b", ("reason",)))),
    IeSpec(0x78, "transit_network", Struct("data" / GreedyBytes)),
    IeSpec(0x79, "restart_indicator", Octet(
        "ext" / Const(1, BitsInteger(1)), Padding(4), "restart_class" / BitsInteger(3))),
    IeSpec(0x7C, "low_layer_compatibility", _BEARER_STRUCT, _BEARER, chained=False),
    IeSpec(0x7D, "high_layer_compatibility", Struct(
        "o3" / _octet("coding" / BitsInteger(2), "interpretation" / BitsInteger(3),
                      "presentation" / BitsInteger(2)),
        "o4" / _octet("characteristics" / BitsInteger(7)),
        "o4a" / If(this.o4.ext == 0, _octet("extended" / BitsInteger(7)))),
        (("o3", ("coding", "interpretation", "presentation")), ("o4", ("characteristics",)),
         ("o4a", ("extended",))), new_groups=frozenset({"o4"})),
    IeSpec(0x7E, "user_user", Struct("protocol" / Int8ub, "data" / GreedyBytes)),
)
BY_ID: dict[int, IeSpec] = {s.ident: s for s in SPECS}
BY_NAME: dict[str, IeSpec] = {s.name: s for s in SPECS}


class _Only(Adapter):
    """The one field of an octet (its extension bit being a constant)."""

    def _decode(self, obj, context, path):
        return obj[self.subcon.layout[-1][0]]

    def _encode(self, obj, context, path):
        return {self.subcon.layout[-1][0]: obj}


# National forms of codeset-0 elements, chosen per variant (isdn.variants ``ie_forms``).
# ANSI T1.607 / Telcordia National ISDN: the display may start with a display type octet,
# bit 8 set (libpri's NI-2 sends 0xB1 before a calling name), which Q.931 4.5.16 IA5 text
# cannot have.
FORMS: dict[str, IeSpec] = {
    "display_typed": IeSpec(0x28, "display", Struct(
        "display_type" / Optional(_Only(Octet("ext" / Const(1, BitsInteger(1)),
                                              "display_type" / BitsInteger(7)))),
        "text" / _IA5)),
}

# single-octet elements (4.5.1, table 4-3): type 1 with a 4-bit value, type 2 whole octet
SINGLE_TYPE1 = {0x9: "shift", 0xB: "congestion_level", 0xD: "repeat_indicator"}
SINGLE_TYPE2 = {0xA0: "more_data", 0xA1: "sending_complete"}
SINGLE_BY_NAME = {**{v: k for k, v in SINGLE_TYPE1.items()}, **{v: k for k, v in SINGLE_TYPE2.items()}}


class IE(NamedTuple):
    """One decoded element.  ``value`` is None for an unknown or invalid element; then
    ``error`` says why (``"unrecognised"`` or the content error) and ``raw`` has its octets."""

    name: str
    ident: int
    codeset: int = 0
    value: dict | None = None
    raw: bytes = b""
    error: str | None = None

    @property
    def comprehension_required(self) -> bool:
        """Codeset 0 identifiers 0000xxxx must be understood (4.5.1, table 4-3 note)."""
        return self.codeset == 0 and self.ident < 0x10 and self.error == "unrecognised"


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items() if not k.startswith("_") and k != "ext"}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def _flatten(spec: IeSpec, parsed: dict) -> dict:
    """The flat value of a parsed body: the fields of its octet groups (None for a group
    that is absent) and its other fields, without extension bits."""
    out = dict(spec.group_fields)
    groups = spec.group_fields_of
    for k, v in parsed.items():
        if k[0] == "_":
            continue
        if k in groups:
            if v is not None:
                for f in groups[k]:
                    out[f] = v[f]
        else:
            out[k] = _plain(v)
    return out


def _unflatten(spec: IeSpec, value: dict) -> dict:
    """The construct object of a flat value: octet groups as dicts (a later group is
    present when any of its fields is given), extension bits computed."""
    obj = dict.fromkeys(spec.member_names)
    obj.update(value)
    made = []
    for i, (g, fields) in enumerate(spec.groups):
        vals = [obj.pop(f, None) for f in fields]
        # the first group is never optional
        group = ({f: (0 if v is None else v) for f, v in zip(fields, vals, strict=True)}
                 if i == 0 or vals.count(None) != len(vals) else None)
        obj[g] = group
        made.append(group)
    last = len(made) - 1
    for i, group in enumerate(made):
        if group is not None:
            chained_next = (spec.chained and i < last and made[i + 1] is not None
                            and spec.groups[i + 1][0] not in spec.new_groups)
            group["ext"] = 0 if chained_next else 1
    return obj


@lru_cache(maxsize=8192)
def decode_body(codeset: int, ident: int, body: bytes) -> IE:
    """Decode the contents of one variable-length element (never raises)."""
    spec = BY_ID.get(ident) if codeset == 0 else None
    if spec is None:
        return IE(f"ie_{codeset}_{ident:02x}", ident, codeset, None, body, "unrecognised")
    return _decode_as(spec, codeset, body)


def decode_form(form: str, element: IE) -> IE:
    """``element`` (as received) re-read in the national form ``form`` of :data:`FORMS`."""
    return _decode_form(form, element.codeset, element.raw)


@lru_cache(maxsize=1024)
def _decode_form(form: str, codeset: int, body: bytes) -> IE:
    return _decode_as(FORMS[form], codeset, body)


def _decode_as(spec: IeSpec, codeset: int, body: bytes) -> IE:
    ident = spec.ident
    split = spec.split
    if split is not None:
        head = split.parse_head(body[:split.size])
        if head is not None:
            try:
                tail = split.parse_tail(body[head[1]:])
            except UnicodeDecodeError:
                pass  # the whole body is read below, for the error's text
            else:
                value = dict(head[0])
                value[split.tail] = tail
                return IE(spec.name, ident, codeset, value, body)
    try:
        parsed = spec.codec.parse(body)
        value = _flatten(spec, parsed)
    except (ConstructError, struct.error, UnicodeDecodeError, ValueError, TypeError) as e:
        return IE(spec.name, ident, codeset, None, body, f"invalid contents: {e}".splitlines()[0])
    return IE(spec.name, ident, codeset, value, body)


def encode_body(name: str, value: dict) -> bytes:
    """Contents octets of element ``name`` from its flat value dict."""
    spec = BY_NAME[name]
    key = None
    if spec.split is not None:
        key = _key(value)
        try:
            hash(key)
        except TypeError:
            key = None  # an unhashable value: built whole
    return _encode(spec, value, key)


def _encode(spec: IeSpec, value: dict, key: tuple | None) -> bytes:
    """``key`` is ``value`` as a sorted tuple of items (:func:`_key`), when hashable."""
    split = spec.split
    try:
        if split is not None and key is not None and split.tail in value:
            head = split.build_head(tuple(kv for kv in key if kv[0] != split.tail))
            return head + split.build_tail(value[split.tail])
        return spec.codec.build(_unflatten(spec, value))
    except (ConstructError, struct.error) as e:
        raise ValueError(f"cannot encode {spec.name}: {e}") from None


def _key(value: dict) -> tuple:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(value.items()))


def _value(key: tuple) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in key}


def make(name: str, **value: Any) -> IE:
    """An element from field values, e.g. ``make("cause", value=16, location=0)``.
    Elements are immutable and cached: the same values give the same element."""
    return _make(name, _key(value))


@lru_cache(maxsize=8192)
def _make(name: str, key: tuple) -> IE:
    value = _value(key)
    if name in SINGLE_BY_NAME:
        return IE(name, SINGLE_BY_NAME[name], 0, value)
    spec = BY_NAME[name]
    return decode_body(0, spec.ident, _encode(spec, value, key))


def encode(ies: Iterable[IE]) -> bytes:
    """Octets of a sequence of codeset-0 elements (in the order given)."""
    out = bytearray()
    for ie in ies:
        if ie.ident >= 0x80:  # type 2 single octet
            out.append(ie.ident)
        elif ie.name in SINGLE_BY_NAME:  # type 1: identifier in bits 7-5, value in 4-1
            out.append((ie.ident << 4) | ((ie.value or {}).get("value", 0) & 0x0F))
        else:
            raw = ie.raw if ie.raw or ie.value is None else encode_body(ie.name, ie.value)
            if len(raw) > 255:
                raise ValueError(f"{ie.name}: contents longer than 255 octets")
            out += bytes((ie.ident, len(raw))) + raw
    return bytes(out)


# ---- builders for the elements call control sends (cached: elements are immutable) -----
@lru_cache(maxsize=4096)
def bearer(capability: int = 0, layer1: int | None = 3) -> IE:
    """Bearer capability (4.5.5): 0 speech, 8 unrestricted digital, 16 3.1 kHz audio;
    circuit mode 64 kbit/s; layer 1 G.711 (3 A-law, 2 mu-law), none for digital."""
    return make("bearer_capability", coding=0, capability=capability, mode=0, rate=0x10,
                layer1=None if capability == 8 else layer1)


@lru_cache(maxsize=4096)
def channel(number: int | None, exclusive: bool = True, pri: bool = True) -> IE:
    """Channel identification (4.5.13); None means any channel.  On a primary rate
    interface the channel number follows in octet 3.3; on a basic access the
    information channel selection names B1 or B2."""
    if number is None:
        return make("channel_id", interface_id_present=False, pri=pri, exclusive=False,
                    dchan=False, selection=3)
    if not pri:
        return make("channel_id", interface_id_present=False, pri=False, exclusive=exclusive,
                    dchan=False, selection=number)
    return channel_list([number], exclusive)


def channel_list(numbers: Iterable[int], exclusive: bool = True) -> IE:
    """Channel identification of a primary rate interface naming B-channels by number
    (4.5.13: octet 3.3 repeated), e.g. for RESTART or SERVICE of several channels."""
    return make("channel_id", interface_id_present=False, pri=True, exclusive=exclusive,
                dchan=False, selection=1, coding=0, map=False, element_type=3,
                channels=list(numbers))


@lru_cache(maxsize=4096)
def called(digits: str, type: int = 0, plan: int = 1) -> IE:
    return make("called_number", type=type, plan=plan, digits=digits)


@lru_cache(maxsize=4096)
def calling(digits: str, type: int = 0, plan: int = 1, presentation: int = 0,
            screening: int = 0) -> IE:
    return make("calling_number", type=type, plan=plan, presentation=presentation,
                screening=screening, digits=digits)


@lru_cache(maxsize=4096)
def cause(value: int, location: int = 0, diagnostics: bytes = b"") -> IE:
    return make("cause", coding=0, location=location, value=value, diagnostics=diagnostics)


@lru_cache(maxsize=4096)
def progress(description: int, location: int = 0) -> IE:
    """Progress indicator (4.5.23): 1 not end-to-end ISDN, 2 destination not ISDN,
    3 origination not ISDN, 8 in-band information now available."""
    return make("progress", coding=0, location=location, description=description)


@lru_cache(maxsize=4096)
def call_state(value: int) -> IE:
    return make("call_state", coding=0, value=value)


@lru_cache(maxsize=4096)
def restart_indicator(restart_class: int) -> IE:
    """Restart indicator (4.5.25): 0 indicated channels, 6 single interface, 7 all interfaces."""
    return make("restart_indicator", restart_class=restart_class)


@lru_cache(maxsize=4096)
def sending_complete() -> IE:
    return make("sending_complete")
