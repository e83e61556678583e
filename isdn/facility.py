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

The BER (X.690) subset is single-octet tags and definite lengths of up to two octets;
one element header is declared with construct and the APDU structure is a table of tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from construct import Bytes, Construct, ConstructError, Int8ub, Struct, Tell, this

from core.errors import DecodeError, EncodeError


class FacilityDecodeError(DecodeError):
    """Facility contents that are not a well-formed APDU of the subset read here."""


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
            7: "iso8859-7", 9: "utf-8"}


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


def _elements(data: bytes, base: int, what: str) -> list[Part]:
    """The elements in ``data``; offsets count from the IE contents (``base`` is where
    ``data`` starts)."""
    out: list[Part] = []
    i = 0
    while i < len(data):
        try:
            head = HEADER.parse(data[i:])
        except ConstructError:  # past the end, or a length form not read here
            raise FacilityDecodeError("element header truncated or of a length form not "
                                      "read here", offset=base + i, field=what) from None
        if head.tag & 0x1F == 0x1F:
            raise FacilityDecodeError(f"multi-octet tag 0x{head.tag:02x} not supported",
                                      offset=base + i, field=what)
        start = i + head.end
        if start + head.length > len(data):
            raise FacilityDecodeError(f"element 0x{head.tag:02x} of {head.length} octets "
                                      f"runs past its container", offset=base + i, field=what)
        out.append((head.tag, data[start:start + head.length], base + start, base + i))
        i = start + head.length
    return out


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
    kind = COMPONENTS[tag]
    parts = _elements(value, offset, kind)
    if not parts or parts[0][0] not in (INTEGER, NULL):
        raise FacilityDecodeError("invoke identifier missing", offset=offset,
                                  field="invokeId")
    id_tag, id_value, id_off, _ = parts.pop(0)
    if id_tag == NULL and kind != "reject":
        raise FacilityDecodeError("invoke identifier missing", offset=id_off,
                                  field="invokeId")
    comp = Component(kind, None if id_tag == NULL else _dec_int(id_value, id_off, "invokeId"))
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
            comp.name = decode_name(_rest(value, offset, parts), at)
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
        if not parts or not 0x80 <= parts[0][0] <= 0x83:
            raise FacilityDecodeError("reject problem missing", offset=offset,
                                      field="problem")
        comp.argument = _rest(value, offset, parts)
    return comp


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


def decode(data: bytes) -> Apdus:
    """Facility element contents; raises :class:`FacilityDecodeError`."""
    data = bytes(data)
    if not data:
        raise FacilityDecodeError("no protocol profile", offset=0, field="profile")
    if not data[0] & 0x80 or (data[0] & 0x1F) not in (ROSE, EXTENSIONS):
        raise FacilityDecodeError(f"protocol profile 0x{data[0]:02x} is not supported",
                                  offset=0, field="profile")
    apdus = Apdus(data[0] & 0x1F)
    for tag, value, offset, at in _elements(data[1:], 1, "component"):
        if tag in COMPONENTS:
            apdus.components.append(_dec_component(tag, value, offset))
        elif apdus.components or apdus.profile != EXTENSIONS:
            raise FacilityDecodeError(f"tag 0x{tag:02x} is not a ROSE component",
                                      offset=at, field="component")
        elif tag == NFE:
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
    if not apdus.components:
        raise FacilityDecodeError("no ROSE component", offset=len(data), field="component")
    return apdus


# ---- unrecognised invokes (Q.932 8.2.2, ECMA-165 8.2.2 InterpretationApdu) ----------------
DISCARD, CLEAR_CALL, REJECT = 0, 1, 2  # InterpretationApdu values
INVOKE_PROBLEM, UNRECOGNISED_OPERATION = 0x81, 1  # Reject problem [1] invoke (X.880)
CLEAR_CAUSE = 69  # Q.850 "requested facility not implemented": our choice for CLEAR_CALL


def screen(data: bytes, recognised: frozenset) -> tuple[bytes | None, bool]:
    """What a receiver does with the invokes of ``data`` whose operation it does not
    recognise: the Facility contents rejecting them (invoke problem unrecognisedOperation,
    to the entity that sent them), or True to clear the call; (None, False) when there
    is nothing to do.  The Interpretation APDU decides (discard, clear the call, reject);
    without one (and always under the remote operations profile) they are rejected."""
    try:
        apdus = decode(data)
    except FacilityDecodeError:
        return None, False  # not an APDU of the subset read here: nothing to answer
    unknown = [c for c in apdus.components
               if c.kind == "invoke" and c.operation not in recognised]
    action = REJECT if apdus.interpretation is None else apdus.interpretation
    if not unknown or action == DISCARD:
        return None, False
    if action == CLEAR_CALL:
        return None, True
    problem = _tlv(INVOKE_PROBLEM, _int(UNRECOGNISED_OPERATION))
    reply = Apdus(apdus.profile, None if apdus.nfe is None else apdus.nfe[::-1], None, None,
                  [Component("reject", c.invoke_id, argument=problem) for c in unknown])
    return encode(reply), False


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
    """Names invoked by the Facility contents of one message, by operation name; an
    element that is not a well-formed APDU is skipped (it carries no name)."""
    out: dict[str, Name] = {}
    for data in facilities:
        try:
            apdus = decode(data)
        except FacilityDecodeError:
            continue
        for c in apdus.components:
            if c.kind == "invoke" and c.name is not None:
                out[OPERATIONS[c.operation]] = c.name  # type: ignore[index]
    return out

