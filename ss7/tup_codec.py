"""TUP messages (Q.723, with the China national TUP of GF 001-9001), declared once.

A TUP SIF is the TUP label (Q.723 2.2: DPC, OPC and the 12-bit CIC whose 4 low bits are the
SLS; 40 bits with ITU 14-bit point codes, 64 bits in China with 24-bit point codes and 4 spare
bits), the heading octet (H0 in bits 1-4: message group; H1 in bits 5-8: message) and the
message's fields.  :data:`MESSAGES` maps names to (H0, H1, body); bodies are ``construct``
declarations built from :class:`ss7.bitfields.BitFields` and BCD address fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from construct import Construct, StreamError

from core.errors import DecodeError, EncodeError
from ss7.bitfields import BitFields


class TupDecodeError(DecodeError):
    """A TUP SIF that violates Q.723 / GF 001-9001."""


LABELS = {  # Q.723 2.2 figure 2; GF 001-9001: 24-bit point codes, CIC + 4 spare
    "itu": BitFields(5, ("dpc", 14), ("opc", 14), ("cic", 12)),
    "china": BitFields(8, ("dpc", 24), ("opc", 24), ("cic", 12), ("spare", 4)),
}
HEADING = BitFields(1, ("h0", 4), ("h1", 4))
_HEX = "0123456789ABCDEF"


def _bcd(data: bytes, count: int) -> str:
    s = data.hex()
    return "".join(s[i + 1] + s[i] for i in range(0, len(s), 2)).upper()[:count]


def _to_bcd(digits: str) -> bytes:
    if any(c not in _HEX for c in digits.upper()):
        raise StreamError(f"digit string {digits!r} has a non-hexadecimal character")
    d = digits.upper() + ("0" if len(digits) % 2 else "")
    return bytes.fromhex("".join(d[i + 1] + d[i] for i in range(0, len(d), 2)))


class Fields(Construct):
    """A message body: a sequence of (name, kind) items.  A kind is a :class:`BitFields`, or
    ``("digits", header_name)`` for address signals counted by the ``nas`` field of an earlier
    header, or ``("if", flag_path, item)`` for an item present when a flag is set."""

    def __init__(self, *items: tuple):
        super().__init__()
        self.items = items

    def parse_bytes(self, data: bytes) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._parse_items(self.items, data, 0, out)
        return out

    def _parse_items(self, items: tuple, data: bytes, pos: int, out: dict) -> int:
        for name, kind in items:
            if isinstance(kind, BitFields):
                out[name] = kind.parse_bytes(data[pos:pos + kind.size])
                pos += kind.size
            elif kind[0] == "digits":
                n = out[kind[1]]["nas"]
                size = (n + 1) // 2
                if pos + size > len(data):
                    raise StreamError(f"{name}: {n} address signals need {size} octets")
                out[name] = _bcd(data[pos:pos + size], n)
                pos += size
            else:  # ("if", (header, flag), ((name, kind), ...))
                hdr, flag = kind[1]
                if out[hdr][flag]:
                    pos = self._parse_items(kind[2], data, pos, out)
        return pos

    def build_bytes(self, obj: dict[str, Any]) -> bytes:
        return self._build_items(self.items, obj)

    def _build_items(self, items: tuple, obj: dict) -> bytes:
        out = bytearray()
        for name, kind in items:
            if isinstance(kind, BitFields):
                out += kind.build_bytes(obj[name])
            elif kind[0] == "digits":
                if len(obj[name]) != obj[kind[1]]["nas"]:
                    raise StreamError(f"{name}: nas disagrees with the digit count")
                out += _to_bcd(obj[name])
            else:
                hdr, flag = kind[1]
                if obj[hdr].get(flag):
                    out += self._build_items(kind[2], obj)
        return bytes(out)

    def _parse(self, stream: Any, context: Any, path: str) -> dict[str, Any]:
        return self.parse_bytes(stream.read())

    def _build(self, obj: dict[str, Any], stream: Any, context: Any, path: str) -> dict:
        stream.write(self.build_bytes(obj))
        return obj


# ---- field declarations (Q.723 3; GF 001-9001 4) -----------------------------------------------
CATEGORY = BitFields(1, ("category", 6), ("spare", 2))
IAM_IND = BitFields(2, ("noa", 2), ("circuit", 2), ("continuity", 2), ("echo", 1),
                    ("international", 1), ("redirected", 1), ("digital", 1), ("path", 1),
                    ("spare", 1), ("nas", 4))
FIRST_IND = BitFields(1, ("network_capability", 1), ("cug", 1), ("additional_calling", 1),
                      ("additional_routing", 1), ("cli", 1), ("oca", 1), ("charging", 1),
                      ("spare", 1))
CLI_HEAD = BitFields(1, ("noa", 2), ("restricted", 1), ("incomplete", 1), ("nas", 4))
OCA_HEAD = BitFields(1, ("noa", 2), ("spare", 2), ("nas", 4))
SAM_HEAD = BitFields(1, ("spare", 4), ("nas", 4))
SAO_BODY = BitFields(1, ("digit", 4), ("filler", 4))
GRQ_IND = BitFields(1, ("category", 1), ("cli", 1), ("oca", 1), ("malicious", 1), ("hold", 1),
                    ("echo", 1), ("spare", 2))
GSM_IND = BitFields(1, ("category", 1), ("cli", 1), ("transit_id", 1), ("oca", 1), ("echo", 1),
                    ("malicious", 1), ("hold", 1), ("spare", 1))
ACM_IND = BitFields(1, ("type", 2), ("free", 1), ("echo", 1), ("forwarded", 1), ("path", 1),
                    ("spare", 2))
RANGE = BitFields(1, ("range", 8))
MPM_BODY = BitFields(2, ("pulses", 16))  # GF 001-9001: charging information, pulses per unit
ACC_BODY = BitFields(1, ("level", 2), ("spare", 6))  # GF 001-9001: ACC information, 1 or 2

_CLI = (("cli_head", CLI_HEAD), ("cli", ("digits", "cli_head")))
_OCA = (("oca_head", OCA_HEAD), ("oca", ("digits", "oca_head")))


class RangeStatus(Construct):
    """Range and status (Q.723 3.15): range octet, then range + 1 status bits (none for range
    0), bit 1 of the first status octet for the CIC of the label."""

    def __init__(self, status: bool):
        super().__init__()
        self.status = status

    def parse_bytes(self, data: bytes) -> dict[str, Any]:
        if not data:
            raise StreamError("range missing")
        rng = data[0]
        if not self.status:
            if len(data) != 1:
                raise StreamError("octets after the range")
            return {"range": rng}
        size = (rng + 8) // 8 if rng else 0
        if len(data) != 1 + size:
            raise StreamError(f"range {rng} needs {size} status octets, got {len(data) - 1}")
        bits = [(data[1 + i // 8] >> (i % 8)) & 1 for i in range(rng + 1)] if rng else []
        return {"range": rng, "status": bits}

    def build_bytes(self, obj: dict[str, Any]) -> bytes:
        rng = obj["range"]
        if not self.status:
            return bytes((rng,))
        bits = obj.get("status", [])
        if rng and len(bits) != rng + 1:
            raise StreamError("status needs range + 1 bits")
        out = bytearray((rng + 8) // 8 if rng else 0)
        for i, b in enumerate(bits if rng else []):
            out[i // 8] |= (b & 1) << (i % 8)
        return bytes((rng,)) + bytes(out)

    def _parse(self, stream: Any, context: Any, path: str) -> dict[str, Any]:
        return self.parse_bytes(stream.read())

    def _build(self, obj: dict[str, Any], stream: Any, context: Any, path: str) -> dict:
        stream.write(self.build_bytes(obj))
        return obj


_EMPTY = Fields()
_GROUP = RangeStatus(True)

MESSAGES: dict[str, tuple[int, int, Construct]] = {
    # FAM (H0 = 1)
    "IAM": (1, 1, Fields(("category", CATEGORY), ("ind", IAM_IND), ("called", ("digits", "ind")))),
    "IAI": (1, 2, Fields(("category", CATEGORY), ("ind", IAM_IND), ("called", ("digits", "ind")),
                         ("first", FIRST_IND), ("cli_part", ("if", ("first", "cli"), _CLI)),
                         ("oca_part", ("if", ("first", "oca"), _OCA)))),
    "SAM": (1, 3, Fields(("head", SAM_HEAD), ("digits", ("digits", "head")))),
    "SAO": (1, 4, Fields(("sao", SAO_BODY))),
    # FSM (2)
    "GSM": (2, 1, Fields(("ind", GSM_IND), ("cat_part", ("if", ("ind", "category"),
                                                         (("category", CATEGORY),))),
                         ("cli_part", ("if", ("ind", "cli"), _CLI)),
                         ("oca_part", ("if", ("ind", "oca"), _OCA)))),
    "COT": (2, 3, _EMPTY), "CCF": (2, 4, _EMPTY),
    # BSM (3), SBM (4)
    "GRQ": (3, 1, Fields(("ind", GRQ_IND))),
    "ACM": (4, 1, Fields(("ind", ACM_IND))),
    # UBM (5)
    "SEC": (5, 1, _EMPTY), "CGC": (5, 2, _EMPTY), "NNC": (5, 3, _EMPTY), "ADI": (5, 4, _EMPTY),
    "CFL": (5, 5, _EMPTY), "SSB": (5, 6, _EMPTY), "UNN": (5, 7, _EMPTY), "LOS": (5, 8, _EMPTY),
    "SST": (5, 9, _EMPTY), "ACB": (5, 10, _EMPTY), "DPN": (5, 11, _EMPTY),
    # CSM (6)
    "ANU": (6, 0, _EMPTY), "ANC": (6, 1, _EMPTY), "ANN": (6, 2, _EMPTY), "CBK": (6, 3, _EMPTY),
    "CLF": (6, 4, _EMPTY), "RAN": (6, 5, _EMPTY), "FOT": (6, 6, _EMPTY), "CCL": (6, 7, _EMPTY),
    # CCM (7)
    "RLG": (7, 1, _EMPTY), "BLO": (7, 2, _EMPTY), "BLA": (7, 3, _EMPTY), "UBL": (7, 4, _EMPTY),
    "UBA": (7, 5, _EMPTY), "CCR": (7, 6, _EMPTY), "RSC": (7, 7, _EMPTY),
    # GRM (8)
    "MGB": (8, 1, _GROUP), "MBA": (8, 2, _GROUP), "MGU": (8, 3, _GROUP), "MUA": (8, 4, _GROUP),
    "HGB": (8, 5, _GROUP), "HBA": (8, 6, _GROUP), "HGU": (8, 7, _GROUP), "HUA": (8, 8, _GROUP),
    "GRS": (8, 9, RangeStatus(False)), "GRA": (8, 10, _GROUP),
    "SGB": (8, 11, _GROUP), "SBA": (8, 12, _GROUP), "SGU": (8, 13, _GROUP), "SUA": (8, 14, _GROUP),
    # China national (GF 001-9001): CNM (H0 = 10), NSB, NCB, NUB, NAM
    "ACC": (10, 1, Fields(("acc", ACC_BODY))),
    "MPM": (12, 2, MPM_BODY), "OPR": (13, 1, _EMPTY), "SLB": (14, 1, _EMPTY),
    "STB": (14, 2, _EMPTY), "MAL": (15, 1, _EMPTY),
}
BY_CODE = {(h0, h1): name for name, (h0, h1, _) in MESSAGES.items()}


@dataclass(frozen=True)
class TupVariant:
    name: str
    label: BitFields
    default_category: int  # China: 10 ordinary subscriber (GF 001-9001 table)


VARIANTS = {"itu": TupVariant("itu", LABELS["itu"], 10),
            "china": TupVariant("china", LABELS["china"], 10)}


def decode(variant: TupVariant, sif: bytes) -> dict[str, Any]:
    """Label + heading + fields of one TUP SIF."""
    size = variant.label.size
    if len(sif) < size + 1:
        raise TupDecodeError("shorter than label + heading", offset=len(sif), field="heading")
    label = variant.label.parse_bytes(sif[:size])
    h = HEADING.parse_bytes(sif[size:size + 1])
    name = BY_CODE.get((h["h0"], h["h1"]))
    if name is None:
        raise TupDecodeError(f"unknown heading H0={h['h0']} H1={h['h1']}", offset=size,
                             field="heading")
    body = MESSAGES[name][2]
    try:
        fields = body.parse_bytes(sif[size + 1:])
    except (StreamError, KeyError, IndexError) as e:
        raise TupDecodeError(f"{name}: {e}", offset=size + 1, field=name) from None
    if name in ("IAI", "GSM"):
        first = fields.get("first") or fields.get("ind")
        unsupported = [k for k in ("network_capability", "cug", "additional_calling",
                                   "additional_routing", "charging", "transit_id")
                       if first.get(k)]
        if unsupported:  # GF 001-9001: these fields are "for further study"
            raise TupDecodeError(f"{name} field {unsupported[0]} is for further study",
                                 offset=size + 1, field=unsupported[0])
    return {"message": name, "dpc": label["dpc"], "opc": label["opc"], "cic": label["cic"],
            "fields": fields}


def encode(variant: TupVariant, name: str, dpc: int, opc: int, cic: int,
           fields: dict[str, Any] | None = None) -> bytes:
    if name not in MESSAGES:
        raise EncodeError(f"unknown TUP message {name!r}")
    h0, h1, body = MESSAGES[name]
    try:
        label = variant.label.build_bytes({"dpc": dpc, "opc": opc, "cic": cic, "spare": 0})
        return label + HEADING.build_bytes({"h0": h0, "h1": h1}) + \
            body.build_bytes(fields or {})
    except (StreamError, KeyError) as e:
        raise EncodeError(f"cannot encode {name}: {e}") from None


# ---- helpers ------------------------------------------------------------------------------------
CONTINUITY = {0: "not required", 1: "required on this circuit",  # Q.723 3.3, bits E-F
              2: "performed on a previous circuit"}                   # (3 is spare)


def iam_fields(called: str, category: int = 10, noa: int = 2, cli: str | None = None,
               restricted: bool = False, continuity: int = 0) -> tuple[str, dict[str, Any]]:
    """IAM, or IAI when a calling line identity is given (Q.723 3.3-3.4); ``continuity`` is
    the continuity-check indicator (:data:`CONTINUITY`)."""
    if continuity not in CONTINUITY:
        raise EncodeError(f"continuity-check indicator {continuity} is spare (Q.723 3.3)")
    f: dict[str, Any] = {
        "category": {"category": category, "spare": 0},
        "ind": {"noa": noa, "circuit": 0, "continuity": continuity, "echo": 0, "international": 0,
                "redirected": 0, "digital": 0, "path": 1, "spare": 0, "nas": len(called)},
        "called": called}
    if cli is None:
        return "IAM", f
    f["first"] = {"network_capability": 0, "cug": 0, "additional_calling": 0,
                  "additional_routing": 0, "cli": 1, "oca": 0, "charging": 0, "spare": 0}
    f["cli_head"] = {"noa": noa, "restricted": int(restricted), "incomplete": 0,
                     "nas": len(cli)}
    f["cli"] = cli
    return "IAI", f
