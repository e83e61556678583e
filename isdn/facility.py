"""Supplementary service APDUs in the Facility information element: the name
identification subset (QSIG and NI-2 calling/called/connected/busy name).

Contents of the Facility element (Q.932 8.2.3, ECMA-165 / ISO 11582 clause 8): octet 3
the protocol profile (0x91 remote operations, 0x9F networking extensions), then for the
networking extensions the optional Network Facility Extension ``[10]``, Network Protocol
Profile ``[18]`` and Interpretation APDU ``[11]``, then ROSE components (X.229 / Q.932
annex D): Invoke ``[1]``, ReturnResult ``[2]``, ReturnError ``[3]``, Reject ``[4]``.

Name operations (ECMA-164 / ISO 13868): localValue 0 callingName, 1 calledName,
2 connectedName, 3 busyName; the argument is ``Name`` (or a SEQUENCE whose first element
is ``Name``): ``[0]`` presentation allowed simple, ``[1]`` allowed extended (NameSet),
``[2]`` restricted simple, ``[3]`` restricted extended, ``[4]`` name not available,
``[7]`` restricted null; NameData is an OCTET STRING of 1 to 50 octets, NameSet a
SEQUENCE of NameData and an optional CharacterSet INTEGER.  NI-2 (Telcordia GR-1367)
carries the same operations with the networking extensions profile and an
Interpretation APDU but no Network Facility Extension (as libpri's NI-2 does).

Received components are judged as X.880 clause 11 (X.229, Q.932 8.2.2 / annex D,
ECMA-165 8.2.2) requires: one that cannot be acted on is answered by a Reject component
whose problem :data:`FAULTS` gives (invoke id NULL where it cannot be read); an invoke of
an operation not implemented is discarded, clears the call or is rejected as its
Interpretation APDU says; a Reject received is reported, never answered.  Contents whose
protocol profile is not supported (CMIP, ACSE, ...) or whose networking extension header
cannot be read are a content error of the element (Q.931 5.8.7.2; Q.850 cause 100: a
field coded in a way not implemented).

The BER (X.690) subset is single-octet tags and definite lengths of up to two octets;
one element header is declared with construct and the APDU structure is a table of tags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from construct import Bytes, Construct, ConstructError, Int8ub, Struct, Tell, this

from core.errors import DecodeError, EncodeError


class FacilityDecodeError(DecodeError):
    """Facility contents that are not a well-formed APDU of the subset read here."""


class BerStructureError(FacilityDecodeError):
    """Element headers or lengths that do not fit their container (X.690 8.1)."""


class ComponentFault(FacilityDecodeError):
    """A ROSE component that cannot be acted on.  ``problem`` is the (kind, name) of
    :data:`PROBLEMS` its Reject carries, ``invoke_id`` the identifier read from it (None:
    the Reject carries NULL), ``kind`` / ``operation`` what was read of it."""

    def __init__(self, message: str, *, offset: int | None, field: str | None,
                 problem: tuple[str, str], invoke_id: int | None = None,
                 kind: str | None = None, operation: int | tuple[int, ...] | None = None):
        super().__init__(message, offset=offset, field=field)
        self.problem, self.invoke_id, self.kind, self.operation = (problem, invoke_id, kind,
                                                                   operation)

    @classmethod
    def of(cls, err: FacilityDecodeError, problem: tuple[str, str], **read: Any
           ) -> ComponentFault:
        text = str(err).rsplit(" (", 1)[0]
        return cls(text, offset=err.offset, field=err.field, problem=problem, **read)


class _BerLength(Construct):
    """X.690 8.1.3 definite length: short form, or long form of one or two octets."""

    def _parse(self, stream, context, path):
        first = Int8ub._parsereport(stream, context, path)
        if first < 0x80:
            return first
        count = first & 0x7F
        if not 1 <= count <= 2:
            raise ConstructError(f"length form 0x{first:02x} not supported")
        value = 0
        for _ in range(count):
            value = (value << 8) | Int8ub._parsereport(stream, context, path)
        return value

    def _build(self, obj, stream, context, path):
        if obj < 0x80:
            octets = bytes((obj,))
        elif obj < 0x100:
            octets = bytes((0x81, obj))
        elif obj < 0x10000:
            octets = bytes((0x82, obj >> 8, obj & 0xFF))
        else:
            raise EncodeError(f"element of {obj} octets is too long")
        stream.write(octets)
        return obj


HEADER = Struct("tag" / Int8ub, "length" / _BerLength(), "end" / Tell)
ELEMENT = Struct("tag" / Int8ub, "length" / _BerLength(), "value" / Bytes(this.length))

# universal tags (X.680 8.4) and the context tags of the APDUs read here
INTEGER, OCTET_STRING, NULL, OID, SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
NFE, NPP, INTERPRETATION = 0xAA, 0x92, 0x8B  # ECMA-165 clause 8: [10], [18], [11]
COMPONENTS = {0xA1: "invoke", 0xA2: "result", 0xA3: "error", 0xA4: "reject"}
COMPONENT_TAGS = {v: k for k, v in COMPONENTS.items()}
LINKED_ID = 0x80
# protocol profile (Q.932 table 8-1 octet 3): remote operations / networking extensions
ROSE, EXTENSIONS = 0x11, 0x1F

OPERATIONS = {0: "callingName", 1: "calledName", 2: "connectedName", 3: "busyName"}
OPERATION_CODES = {v: k for k, v in OPERATIONS.items()}
# Name ::= CHOICE (ECMA-164 / ISO 13868): tag -> (presentation, extended NameSet)
NAME_FORMS = {0x80: ("allowed", False), 0xA1: ("allowed", True),
              0x82: ("restricted", False), 0xA3: ("restricted", True),
              0x84: ("not_available", None), 0x87: ("restricted_null", None)}
NAME_TAGS = {v: k for k, v in NAME_FORMS.items()}
NAME_MAX = 50  # NameData ::= OCTET STRING (SIZE (1..50))
# CharacterSet INTEGER values with a Python codec (1 iso8859-1 is the default)
CHARSETS = {1: "latin-1", 3: "iso8859-2", 4: "iso8859-3", 5: "iso8859-4", 6: "iso8859-5",
            7: "iso8859-7", 8: "utf-16-be", 9: "utf-8"}  # 8: iso10646-BmpString


@dataclass(frozen=True)
class Name:
    """A party name: ``text`` is empty for the not-available and restricted-null forms."""

    text: str = ""
    presentation: str = "allowed"  # allowed, restricted, not_available, restricted_null
    charset: int | None = None  # None: the simple form (ISO 8859-1)


@dataclass
class Component:
    """One ROSE component.  ``operation`` is a localValue (int) or an OID (tuple);
    ``name`` the decoded argument of a name operation; ``argument`` the argument
    octets of any other operation (and the result, error parameter or problem code)."""

    kind: str = "invoke"
    invoke_id: int | None = 0
    operation: int | tuple[int, ...] | None = None
    linked_id: int | None = None
    name: Name | None = None
    argument: bytes = b""


@dataclass
class Apdus:
    """Facility contents: profile, the networking extension header, components."""

    profile: int = EXTENSIONS
    nfe: tuple[int, int] | None = None  # (sourceEntity, destinationEntity), 0 = endPINX
    npp: int | None = None
    interpretation: int | None = None
    components: list[Component] = field(default_factory=list)


# ---- BER elements ------------------------------------------------------------------------
def _tlv(tag: int, value: bytes) -> bytes:
    return ELEMENT.build({"tag": tag, "length": len(value), "value": value})


def _int(value: int) -> bytes:
    """X.690 8.3: two's complement in the fewest octets."""
    size = 1
    while not -(1 << (8 * size - 1)) <= value < (1 << (8 * size - 1)):
        size += 1
    return value.to_bytes(size, "big", signed=True)


def _oid(arcs: tuple[int, ...]) -> bytes:
    """X.690 8.19: the first two arcs in one subidentifier, base-128 with continuation."""
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39) or min(arcs) < 0:
        raise EncodeError(f"object identifier {arcs} is not valid")
    out = bytearray()
    for sub in (arcs[0] * 40 + arcs[1], *arcs[2:]):
        chunk = [sub & 0x7F]
        while sub > 0x7F:
            sub >>= 7
            chunk.append(0x80 | (sub & 0x7F))
        out += bytes(reversed(chunk))
    return bytes(out)


Part = tuple[int, bytes, int, int]  # tag, value, offset of the value, of the element


def _walk(data: bytes, base: int, what: str):
    """The elements in ``data`` one by one; offsets count from the IE contents (``base``
    is where ``data`` starts).  An element that does not fit raises
    :class:`BerStructureError` when it is reached."""
    i = 0
    while i < len(data):
        try:
            head = HEADER.parse(data[i:])
        except ConstructError:  # past the end, or a length form not read here
            raise BerStructureError("element header truncated or of a length form not "
                                    "read here", offset=base + i, field=what) from None
        if head.tag & 0x1F == 0x1F:
            raise BerStructureError(f"multi-octet tag 0x{head.tag:02x} not supported",
                                    offset=base + i, field=what)
        start = i + head.end
        if start + head.length > len(data):
            raise BerStructureError(f"element 0x{head.tag:02x} of {head.length} octets "
                                    f"runs past its container", offset=base + i, field=what)
        yield head.tag, data[start:start + head.length], base + start, base + i
        i = start + head.length


def _elements(data: bytes, base: int, what: str) -> list[Part]:
    return list(_walk(data, base, what))


def _dec_int(value: bytes, offset: int, what: str) -> int:
    if not value or len(value) > 4:
        raise FacilityDecodeError(f"integer of {len(value)} octets", offset=offset, field=what)
    return int.from_bytes(value, "big", signed=True)


def _dec_oid(value: bytes, offset: int) -> tuple[int, ...]:
    if not value or value[-1] & 0x80:
        raise FacilityDecodeError("object identifier truncated", offset=offset,
                                  field="operation")
    subs, acc = [], 0
    for octet in value:
        acc = (acc << 7) | (octet & 0x7F)
        if not octet & 0x80:
            subs.append(acc)
            acc = 0
    first = subs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *subs[1:])


# ---- Name ----------------------------------------------------------------------------------
def encode_name(name: Name) -> bytes:
    """``Name`` CHOICE element (ECMA-164)."""
    if name.presentation in ("not_available", "restricted_null"):
        return _tlv(NAME_TAGS[name.presentation, None], b"")
    if name.presentation not in ("allowed", "restricted"):
        raise EncodeError(f"name presentation {name.presentation!r} is not known")
    data = name.text.encode(CHARSETS.get(name.charset or 1, "latin-1"))
    if not 1 <= len(data) <= NAME_MAX:
        raise EncodeError(f"name of {len(data)} octets: NameData is 1 to {NAME_MAX}")
    if name.charset is None:
        return _tlv(NAME_TAGS[name.presentation, False], data)
    body = _tlv(OCTET_STRING, data) + _tlv(INTEGER, _int(name.charset))
    return _tlv(NAME_TAGS[name.presentation, True], body)


def decode_name(data: bytes, base: int = 0) -> Name:
    """The ``Name`` at the start of a name operation's argument (which may also be a
    SEQUENCE beginning with it, followed by extensions that are skipped)."""
    elements = _elements(data, base, "name")
    if not elements:
        raise FacilityDecodeError("name argument missing", offset=base, field="name")
    tag, value, offset, at = elements[0]
    if tag == SEQUENCE:
        return decode_name(value, offset)
    form = NAME_FORMS.get(tag)
    if form is None:
        raise FacilityDecodeError(f"tag 0x{tag:02x} is not a Name", offset=at, field="name")
    presentation, extended = form
    if extended is None:
        return Name("", presentation)
    charset = None
    if extended:
        parts = _elements(value, offset, "nameSet")
        if not parts or parts[0][0] != OCTET_STRING:
            raise FacilityDecodeError("NameSet without NameData", offset=offset,
                                      field="nameSet")
        value, offset = parts[0][1], parts[0][2]
        charset = 1
        if len(parts) > 1 and parts[1][0] == INTEGER:
            charset = _dec_int(parts[1][1], parts[1][2], "characterSet")
    if not 1 <= len(value) <= NAME_MAX:
        raise FacilityDecodeError(f"NameData of {len(value)} octets (1 to {NAME_MAX})",
                                  offset=offset, field="nameData")
    try:
        text = value.decode(CHARSETS.get(charset or 1, "latin-1"))
    except UnicodeDecodeError:
        raise FacilityDecodeError("NameData not in its character set", offset=offset,
                                  field="nameData") from None
    return Name(text, presentation, charset)


# ---- components ----------------------------------------------------------------------------
def _enc_operation(op: int | tuple[int, ...]) -> bytes:
    return _tlv(OID, _oid(op)) if isinstance(op, tuple) else _tlv(INTEGER, _int(op))


def _enc_component(c: Component) -> bytes:
    if c.kind not in COMPONENT_TAGS:
        raise EncodeError(f"component kind {c.kind!r} is not known")
    invoke_id = _tlv(NULL, b"") if c.invoke_id is None else _tlv(INTEGER, _int(c.invoke_id))
    if c.kind == "invoke":
        if c.operation is None:
            raise EncodeError("an invoke needs an operation")
        body = invoke_id
        if c.linked_id is not None:
            body += _tlv(LINKED_ID, _int(c.linked_id))
        arg = encode_name(c.name) if c.name is not None else c.argument
        body += _enc_operation(c.operation) + arg
    elif c.kind == "result":
        body = invoke_id
        if c.operation is not None:
            body += _tlv(SEQUENCE, _enc_operation(c.operation) + c.argument)
    elif c.kind == "error":
        if c.operation is None:
            raise EncodeError("a return error needs an error value")
        body = invoke_id + _enc_operation(c.operation) + c.argument
    else:
        body = invoke_id + c.argument  # the problem element, as given
    return _tlv(COMPONENT_TAGS[c.kind], body)


def _dec_operation(tag: int, value: bytes, offset: int) -> int | tuple[int, ...]:
    if tag == INTEGER:
        return _dec_int(value, offset, "operation")
    if tag == OID:
        return _dec_oid(value, offset)
    raise FacilityDecodeError(f"tag 0x{tag:02x} is not an operation value", offset=offset,
                              field="operation")


def _rest(value: bytes, offset: int, parts: list[Part]) -> bytes:
    """The octets of ``value`` (at ``offset``) from the first of ``parts`` on."""
    return value[parts[0][3] - offset:] if parts else b""


def _dec_component(tag: int, value: bytes, offset: int) -> Component:
    """One component (X.880 clause 11, Q.932 annex D); one that cannot be acted on raises
    :class:`ComponentFault` with the problem of its Reject."""
    comp = Component(COMPONENTS[tag], None)
    try:
        _read_component(comp, value, offset)
    except ComponentFault:
        raise
    except BerStructureError as e:
        raise ComponentFault.of(e, FAULTS["badly structured"], invoke_id=comp.invoke_id,
                                kind=comp.kind) from None
    except FacilityDecodeError as e:
        raise ComponentFault.of(e, FAULTS["mistyped component"], invoke_id=comp.invoke_id,
                                kind=comp.kind, operation=comp.operation) from None
    return comp


def _read_component(comp: Component, value: bytes, offset: int) -> None:
    kind = comp.kind
    walk = _walk(value, offset, kind)
    first = next(walk, None)  # the invoke id is read before the rest is delimited
    if first is None or first[0] not in (INTEGER, NULL):
        raise FacilityDecodeError("invoke identifier missing", offset=offset,
                                  field="invokeId")
    id_tag, id_value, id_off, _ = first
    if id_tag == NULL and kind != "reject":
        raise FacilityDecodeError("invoke identifier missing", offset=id_off,
                                  field="invokeId")
    if id_tag == INTEGER:
        comp.invoke_id = _dec_int(id_value, id_off, "invokeId")
    parts = list(walk)
    if kind == "invoke":
        if parts and parts[0][0] == LINKED_ID:
            comp.linked_id = _dec_int(parts[0][1], parts[0][2], "linkedId")
            parts.pop(0)
        if not parts:
            raise FacilityDecodeError("operation value missing", offset=offset,
                                      field="operation")
        comp.operation = _dec_operation(*parts.pop(0)[:3])
        if comp.operation in OPERATIONS:
            at = parts[0][3] if parts else offset + len(value)
            try:
                comp.name = decode_name(_rest(value, offset, parts), at)
            except FacilityDecodeError as e:
                raise ComponentFault.of(e, FAULTS["argument mistyped"],
                                        invoke_id=comp.invoke_id, kind=kind,
                                        operation=comp.operation) from None
        else:
            comp.argument = _rest(value, offset, parts)
    elif kind == "result":
        if parts:
            if parts[0][0] != SEQUENCE:
                raise FacilityDecodeError("result is not a SEQUENCE", offset=parts[0][2],
                                          field="result")
            seq, seq_off = parts[0][1], parts[0][2]
            inner = _elements(seq, seq_off, "result")
            if not inner:
                raise FacilityDecodeError("result operation missing", offset=seq_off,
                                          field="operation")
            comp.operation = _dec_operation(*inner[0][:3])
            comp.argument = _rest(seq, seq_off, inner[1:])
    elif kind == "error":
        if not parts:
            raise FacilityDecodeError("error value missing", offset=offset, field="errorValue")
        comp.operation = _dec_operation(*parts.pop(0)[:3])
        comp.argument = _rest(value, offset, parts)
    else:
        if not parts or parts[0][0] not in PROBLEM_KINDS:
            raise FacilityDecodeError("reject problem missing", offset=offset,
                                      field="problem")
        _dec_int(parts[0][1], parts[0][2], "problem")
        comp.argument = _rest(value, offset, parts)


def _peek_id(value: bytes, offset: int) -> int | None:
    """The invoke id at the start of a component that is otherwise not read, if any."""
    try:
        tag, id_value, id_off, _ = next(_walk(value, offset, "invokeId"))
        return _dec_int(id_value, id_off, "invokeId") if tag == INTEGER else None
    except (StopIteration, FacilityDecodeError):
        return None


# ---- Reject problems (X.880 clause 11 / X.229; Q.932 annex D names) ----------------------
# problem CHOICE: kind -> (context tag, the values' names by number)
PROBLEMS: dict[str, tuple[int, tuple[str, ...]]] = {
    "general": (0x80, ("unrecognizedComponent", "mistypedComponent",
                       "badlyStructuredComponent")),
    "invoke": (0x81, ("duplicateInvocation", "unrecognizedOperation", "mistypedArgument",
                      "resourceLimitation", "initiatorReleasing", "unrecognizedLinkedId",
                      "linkedResponseUnexpected", "unexpectedChildOperation")),
    "returnResult": (0x82, ("unrecognizedInvocation", "resultResponseUnexpected",
                            "mistypedResult")),
    "returnError": (0x83, ("unrecognizedInvocation", "errorResponseUnexpected",
                           "unrecognizedError", "unexpectedError", "mistypedParameter")),
}
PROBLEM_KINDS = {tag: kind for kind, (tag, _) in PROBLEMS.items()}

# what is wrong with a received component -> the problem of the Reject answering it
FAULTS: dict[str, tuple[str, str]] = {
    "unknown component": ("general", "unrecognizedComponent"),  # not [1] .. [4]
    "mistyped component": ("general", "mistypedComponent"),  # an element missing or of
    # the wrong type (invoke id, operation, result, error value, problem)
    "badly structured": ("general", "badlyStructuredComponent"),  # lengths do not fit
    "duplicate invoke id": ("invoke", "duplicateInvocation"),  # again in one message
    "unknown operation": ("invoke", "unrecognizedOperation"),  # not implemented here
    "argument mistyped": ("invoke", "mistypedArgument"),  # not the operation's argument
    "too many invokes": ("invoke", "resourceLimitation"),  # beyond MAX_INVOKES
    "unknown linked id": ("invoke", "unrecognizedLinkedId"),  # no invocation in progress
    # (every operation invoked here is of class 5: none is in progress after its APDU)
    "result for no invoke": ("returnResult", "unrecognizedInvocation"),
    "result not expected": ("returnResult", "resultResponseUnexpected"),  # class 5
    "error for no invoke": ("returnError", "unrecognizedInvocation"),
    "error not expected": ("returnError", "errorResponseUnexpected"),  # class 5
}
MAX_INVOKES = 8  # invokes acted on in one message
MAX_REJECTS = 8  # Rejects sent for one message: they fit one element and one message
# (an element is at most 255 octets, a message N201 = 260); faults beyond are not answered


def reject(invoke_id: int | None, problem: tuple[str, str]) -> Component:
    """A Reject component; ``problem`` is a (kind, name) of :data:`PROBLEMS`."""
    tag, codes = PROBLEMS[problem[0]]
    return Component("reject", invoke_id, argument=_tlv(tag, _int(codes.index(problem[1]))))


def problem_of(comp: Component) -> tuple[str, str]:
    """The (kind, name) of a decoded Reject component's problem; a value X.880 does not
    name is given as its number."""
    tag, value, offset, _ = _elements(comp.argument, 0, "problem")[0]
    kind = PROBLEM_KINDS[tag]
    code = _dec_int(value, offset, "problem")
    codes = PROBLEMS[kind][1]
    return kind, codes[code] if 0 <= code < len(codes) else str(code)


# ---- the whole Facility contents ----------------------------------------------------------
def encode(apdus: Apdus) -> bytes:
    """Facility element contents (octet 3 onwards)."""
    if apdus.profile not in (ROSE, EXTENSIONS):
        raise EncodeError(f"protocol profile 0x{apdus.profile:02x} is not supported")
    out = bytearray((0x80 | apdus.profile,))
    if apdus.profile == EXTENSIONS:
        if apdus.nfe is not None:
            src, dst = apdus.nfe
            out += _tlv(NFE, _tlv(0x80, _int(src)) + _tlv(0x82, _int(dst)))
        if apdus.npp is not None:
            out += _tlv(NPP, _int(apdus.npp))
        if apdus.interpretation is not None:
            out += _tlv(INTERPRETATION, _int(apdus.interpretation))
    for c in apdus.components:
        out += _enc_component(c)
    return bytes(out)


def _read(data: bytes) -> tuple[Apdus, list[ComponentFault]]:
    """The header and components of Facility contents, and a fault for each component
    that cannot be acted on (a badly structured rest of the contents is one fault).  The
    protocol profile and the networking extension header are not ROSE components (no
    Reject answers them): their errors raise :class:`FacilityDecodeError`."""
    data = bytes(data)
    if not data:
        raise FacilityDecodeError("no protocol profile", offset=0, field="profile")
    if not data[0] & 0x80 or (data[0] & 0x1F) not in (ROSE, EXTENSIONS):
        raise FacilityDecodeError(f"protocol profile 0x{data[0]:02x} is not supported",
                                  offset=0, field="profile")
    apdus = Apdus(data[0] & 0x1F)
    faults: list[ComponentFault] = []
    walk = _walk(data[1:], 1, "component")
    while True:
        try:
            part = next(walk, None)
        except BerStructureError as e:  # nothing after it can be delimited
            faults.append(ComponentFault.of(e, FAULTS["badly structured"]))
            break
        if part is None:
            break
        tag, value, offset, at = part
        if tag in COMPONENTS:
            try:
                apdus.components.append(_dec_component(tag, value, offset))
            except ComponentFault as fault:
                faults.append(fault)
        elif apdus.components or faults or apdus.profile != EXTENSIONS:
            faults.append(ComponentFault(f"tag 0x{tag:02x} is not a ROSE component",
                                         offset=at, field="component",
                                         problem=FAULTS["unknown component"],
                                         invoke_id=_peek_id(value, offset)))
        else:
            _header(apdus, tag, value, offset, at)
    return apdus, faults


def _header(apdus: Apdus, tag: int, value: bytes, offset: int, at: int) -> None:
    """One element of the networking extension header (ECMA-165 clause 8)."""
    if tag == NFE:
        parts = {t: (v, o) for t, v, o, _ in _elements(value, offset, "nfe")}
        if 0x80 not in parts or 0x82 not in parts:
            raise FacilityDecodeError("network facility extension without its entities",
                                      offset=offset, field="nfe")
        apdus.nfe = (_dec_int(*parts[0x80], "sourceEntity"),
                     _dec_int(*parts[0x82], "destinationEntity"))
    elif tag == NPP:
        apdus.npp = _dec_int(value, offset, "networkProtocolProfile")
    elif tag == INTERPRETATION:
        apdus.interpretation = _dec_int(value, offset, "interpretation")
    else:
        raise FacilityDecodeError(f"tag 0x{tag:02x} is not a facility header element",
                                  offset=at, field="header")


def decode(data: bytes) -> Apdus:
    """Facility element contents, every component well formed; raises
    :class:`FacilityDecodeError` (a :class:`ComponentFault` for a component)."""
    apdus, faults = _read(data)
    if faults:
        raise faults[0]
    if not apdus.components:
        raise FacilityDecodeError("no ROSE component", offset=len(data), field="component")
    return apdus


# ---- received components (X.880 clause 11 / Q.932 8.2.2 / ECMA-165 8.2.2) ---------------
DISCARD, CLEAR_CALL, REJECT = 0, 1, 2  # InterpretationApdu values
CLEAR_CAUSE = 69  # Q.850 "requested facility not implemented": our choice for CLEAR_CALL


@dataclass
class Screening:
    """What a receiver does with the Facility elements of one message: send ``replies``
    (Facility contents of Reject components, to the entity the rejected APDUs came
    from), clear the call (``clear``), or treat an element as having content error
    (``content_error``: a protocol profile not supported or a networking extension
    header not understood, Q.931 5.8.7.2 / Q.850 cause 100); ``rejected`` lists the Reject
    components received: invoke id, the operation of ours it names (None when not one of
    ours) and the (kind, name) of the problem."""

    replies: list[bytes] = field(default_factory=list)
    clear: bool = False
    content_error: bool = False
    rejected: list[dict[str, Any]] = field(default_factory=list)


def screen(facilities: list[bytes], recognised: frozenset,
           invoked: Mapping[int | None, str]) -> Screening:
    """Judge the Facility contents of one message against the operations implemented here
    (``recognised``) and the invokes we sent on this call (``invoked``: id -> operation
    name, all of class 5).  An invoke of an operation not recognised is discarded, clears
    the call, or is rejected as its Interpretation APDU says (rejected without one, as
    under the remote operations profile); every other fault is rejected with the problem
    :data:`FAULTS` gives it (the first :data:`MAX_REJECTS` of the message); a Reject is
    never answered."""
    out = Screening()
    seen: set[int | None] = set()
    budget = MAX_REJECTS
    for data in facilities:
        try:
            apdus, faults = _read(data)
        except FacilityDecodeError:
            out.content_error = True
            continue
        if not apdus.components and not faults:
            out.content_error = True
            continue
        unknown: list[int | None] = []
        problems: list[tuple[int | None, tuple[str, str]]] = []
        for f in faults:
            if f.kind == "reject":
                continue
            if f.kind == "invoke" and f.operation is not None and f.operation not in recognised:
                unknown.append(f.invoke_id)
            else:
                problems.append((f.invoke_id, f.problem))
        for c in apdus.components:
            if c.kind == "reject":
                out.rejected.append({"invoke_id": c.invoke_id,
                                     "operation": invoked.get(c.invoke_id),
                                     "problem": problem_of(c)})
                continue
            problem = _judge(c, recognised, invoked, seen)
            if problem is None and c.kind == "invoke" and c.operation not in recognised:
                unknown.append(c.invoke_id)
            elif problem is not None:
                problems.append((c.invoke_id, problem))
        action = REJECT if apdus.interpretation is None else apdus.interpretation
        if unknown and action == CLEAR_CALL:
            out.clear = True
        elif unknown and action != DISCARD:
            problems += [(i, FAULTS["unknown operation"]) for i in unknown]
        problems = problems[:budget]
        budget -= len(problems)
        if problems:
            nfe = None if apdus.nfe is None else apdus.nfe[::-1]
            out.replies.append(encode(Apdus(apdus.profile, nfe, None, None,
                                            [reject(i, p) for i, p in problems])))
    return out


def _judge(c: Component, recognised: frozenset, invoked: Mapping[int | None, str],
           seen: set[int | None]) -> tuple[str, str] | None:
    """The problem of a well-formed invoke, result or error component, if any."""
    if c.kind == "result":
        return FAULTS["result not expected" if c.invoke_id in invoked else "result for no invoke"]
    if c.kind == "error":
        return FAULTS["error not expected" if c.invoke_id in invoked else "error for no invoke"]
    if c.invoke_id in seen:
        return FAULTS["duplicate invoke id"]
    seen.add(c.invoke_id)
    if c.operation not in recognised:
        return None  # as the Interpretation APDU says
    if c.linked_id is not None:
        return FAULTS["unknown linked id"]
    if len(seen) > MAX_INVOKES:
        return FAULTS["too many invokes"]
    return None


# ---- name identification services as variant data ----------------------------------------
@dataclass(frozen=True)
class NameService:
    """How a variant carries names: profile and extension header of the Facility."""

    profile: int
    nfe: bool  # Network Facility Extension endPINX -> endPINX (ECMA-165 8.2)
    interpretation: int | None  # 0: discard any unrecognised invoke APDU


NAME_SERVICES: dict[str, NameService] = {
    "qsig": NameService(EXTENSIONS, True, 0),  # ECMA-164 over ECMA-165
    "ni2": NameService(EXTENSIONS, False, 0),  # GR-1367 as libpri's NI-2 sends it
}


def name_facility(service: str, operation: str, name: Name, invoke_id: int) -> bytes:
    """Facility contents invoking ``operation`` (callingName ...) with ``name``."""
    svc = NAME_SERVICES[service]
    return encode(Apdus(svc.profile, (0, 0) if svc.nfe else None, None, svc.interpretation,
                        [Component("invoke", invoke_id, OPERATION_CODES[operation],
                                   name=name)]))


def names(facilities: list[bytes]) -> dict[str, Name]:
    """Names invoked by the Facility contents of one message, by operation name; the
    components that are not well formed carry none (:func:`screen` rejects them)."""
    out: dict[str, Name] = {}
    for data in facilities:
        try:
            apdus, _ = _read(data)
        except FacilityDecodeError:
            continue
        for c in apdus.components:
            if c.kind == "invoke" and c.name is not None:
                out[OPERATIONS[c.operation]] = c.name  # type: ignore[index]
    return out

