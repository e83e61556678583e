"""MTP3 octet formats: SIO, routing label (Q.704 2.2-2.3, 14-bit ITU or 24-bit China national
point codes), signalling network management messages (Q.704 15) and signalling link test
messages (Q.707 2).  Variants are data: :data:`VARIANTS` selects the label and point code size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from construct import Bytes, Construct, ConstructError, Struct, Switch, this

from core.errors import DecodeError
from ss7.bitfields import BitFields


class Mtp3DecodeError(DecodeError):
    """An MSU whose SIO/label/management message violates Q.704 or Q.707."""


# Q.704 14.2: service indicator values
SI_SNM, SI_SLTM, SI_SLTM_SPECIAL, SI_SCCP, SI_TUP, SI_ISUP = 0, 1, 2, 3, 4, 5
SI_NAMES = {0: "SNM", 1: "SLT", 2: "SLT-special", 3: "SCCP", 4: "TUP", 5: "ISUP", 6: "DUP-C",
            7: "DUP-F", 9: "B-ISUP", 10: "SAT-ISUP"}
# Q.704 14.2.2: network indicator
NI_INTERNATIONAL, NI_NATIONAL = 0, 2

SIO = BitFields(1, ("si", 4), ("priority", 2), ("ni", 2))  # Q.704 14.2

_LABEL_ITU = BitFields(4, ("dpc", 14), ("opc", 14), ("sls", 4))  # Q.704 2.2 figure 3
_LABEL_CHINA = BitFields(7, ("dpc", 24), ("opc", 24), ("sls", 4), ("spare", 4))


@dataclass(frozen=True)
class Mtp3Variant:
    """Point code size and label layout of one network (Q.704 2.2; China GF 001-9001)."""

    name: str
    pc_bits: int
    label_len: int
    label: BitFields
    pc_field: BitFields  # a point code inside SNM messages (TFP/TFA), with its spare bits

    def parse_label(self, data: bytes, offset: int = 0) -> tuple[int, int, int]:
        """(dpc, opc, sls) from the label at ``offset`` of an SIF."""
        if len(data) - offset < self.label_len:
            raise Mtp3DecodeError("routing label truncated", offset=offset + len(data),
                                  field="routing label")
        v = self.label.parse_bytes(data[offset:offset + self.label_len])
        return v["dpc"], v["opc"], v["sls"]

    def build_label(self, dpc: int, opc: int, sls: int) -> bytes:
        return self.label.build_bytes({"dpc": dpc, "opc": opc, "sls": sls})

    def pc_str(self, pc: int) -> str:
        """3-8-3 for ITU, 8-8-8 for China."""
        if self.pc_bits == 24:
            return f"{pc >> 16}-{(pc >> 8) & 255}-{pc & 255}"
        return f"{pc >> 11}-{(pc >> 3) & 255}-{pc & 7}"


VARIANTS: dict[str, Mtp3Variant] = {
    "itu": Mtp3Variant("itu", 14, 4, _LABEL_ITU, BitFields(2, ("pc", 14), ("spare", 2))),
    "china": Mtp3Variant("china", 24, 7, _LABEL_CHINA, BitFields(3, ("pc", 24))),
}

# Q.704 15.2: heading codes (H0 in bits 1-4, H1 in bits 5-8)
SNM_CODES: dict[str, tuple[int, int]] = {
    "COO": (1, 1), "COA": (1, 2), "CBD": (1, 5), "CBA": (1, 6),
    "ECO": (2, 1), "ECA": (2, 2),
    "RCT": (3, 1), "TFC": (3, 2),
    "TFP": (4, 1), "TFR": (4, 3), "TFA": (4, 5),
    "RST": (5, 1), "RSR": (5, 2),
    "LIN": (6, 1), "LUN": (6, 2), "LIA": (6, 3), "LUA": (6, 4), "LID": (6, 5), "LFU": (6, 6),
    "LLT": (6, 7), "LRT": (6, 8),
    "TRA": (7, 1),
    "DLC": (8, 1), "CSS": (8, 2), "CNS": (8, 3), "CNP": (8, 4),
    "UPU": (10, 1),
}
SNM_NAMES = {v: k for k, v in SNM_CODES.items()}
SLT_CODES = {"SLTM": (1, 1), "SLTA": (1, 2)}  # Q.707 2.2
SLT_NAMES = {v: k for k, v in SLT_CODES.items()}

HEADING = BitFields(1, ("h0", 4), ("h1", 4))
_FSN = BitFields(1, ("fsn", 7), ("spare", 1))  # Q.704 15.4.1
_UPU_CAUSE = BitFields(1, ("up", 4), ("cause", 4))  # Q.704 15.17


def _snm_params(variant: Mtp3Variant) -> Construct:
    """Parameters after the heading code, by message (Q.704 15.4-15.17)."""
    dest = variant.pc_field
    return Switch(this.msg, {
        "COO": _FSN, "COA": _FSN,
        "CBD": BitFields(1, ("code", 8)), "CBA": BitFields(1, ("code", 8)),
        "TFP": dest, "TFR": dest, "TFA": dest, "RST": dest, "RSR": dest,
        "TFC": dest,
        "UPU": Struct("dest" / dest, "upu" / _UPU_CAUSE),
    }, default=Struct())


SLT_BODY = Struct("len_slc" / BitFields(1, ("slc", 4), ("length", 4)),
                  "pattern" / Bytes(this.len_slc["length"]))


def decode_snm(variant: Mtp3Variant, data: bytes, offset: int = 0) -> dict[str, Any]:
    """An SNM message (SI 0) after the routing label: name and parameters."""
    if len(data) <= offset:
        raise Mtp3DecodeError("no heading code", offset=offset, field="H0/H1")
    h = HEADING.parse_bytes(data[offset:offset + 1])
    msg = SNM_NAMES.get((h["h0"], h["h1"]))
    if msg is None:
        raise Mtp3DecodeError(f"unknown SNM heading H0={h['h0']} H1={h['h1']}", offset=offset,
                              field="H0/H1")
    try:
        p = _snm_params(variant).parse(data[offset + 1:], msg=msg)
    except ConstructError as e:
        raise Mtp3DecodeError(f"{msg}: {e.__class__.__name__}", offset=offset + 1,
                              field=f"{msg} parameters") from None
    out: dict[str, Any] = {"message": msg}
    if msg in ("COO", "COA"):
        out["fsn"] = p["fsn"]
    elif msg in ("CBD", "CBA"):
        out["code"] = p["code"]
    elif msg == "UPU":
        out["dest"], out["up"], out["cause"] = p["dest"]["pc"], p["upu"]["up"], p["upu"]["cause"]
    elif "pc" in p:
        out["dest"] = p["pc"]
    return out


def encode_snm(variant: Mtp3Variant, msg: str, **params: Any) -> bytes:
    h0, h1 = SNM_CODES[msg]
    head = HEADING.build_bytes({"h0": h0, "h1": h1})
    if msg in ("COO", "COA"):
        return head + _FSN.build_bytes({"spare": 0, "fsn": params["fsn"]})
    if msg in ("CBD", "CBA"):
        return head + bytes((params["code"] & 0xFF,))
    if msg == "UPU":
        return head + variant.pc_field.build_bytes({"spare": 0, "pc": params["dest"]}) + \
            _UPU_CAUSE.build_bytes({"up": params["up"], "cause": params["cause"]})
    if msg in ("TFP", "TFR", "TFA", "RST", "RSR", "TFC"):
        return head + variant.pc_field.build_bytes({"spare": 0, "pc": params["dest"]})
    return head


def decode_slt(data: bytes, offset: int = 0) -> dict[str, Any]:
    """SLTM/SLTA (Q.707 2.2) after the routing label."""
    if len(data) < offset + 2:
        raise Mtp3DecodeError("SLT message truncated", offset=len(data), field="length")
    h = HEADING.parse_bytes(data[offset:offset + 1])
    msg = SLT_NAMES.get((h["h0"], h["h1"]))
    if msg is None:
        raise Mtp3DecodeError(f"unknown SLT heading H0={h['h0']} H1={h['h1']}", offset=offset,
                              field="H0/H1")
    try:
        b = SLT_BODY.parse(data[offset + 1:])
    except ConstructError:
        raise Mtp3DecodeError("test pattern shorter than its length", offset=offset + 2,
                              field="test pattern") from None
    return {"message": msg, "pattern": bytes(b["pattern"])}


def encode_slt(msg: str, pattern: bytes, slc: int = 0) -> bytes:
    h0, h1 = SLT_CODES[msg]
    return HEADING.build_bytes({"h0": h0, "h1": h1}) + SLT_BODY.build(
        {"len_slc": {"length": len(pattern), "slc": slc}, "pattern": pattern})


# memo of MSU headers (SIO + routing label) per variant, both ways: a signalling point talks to
# few (dpc, opc, sls) triples, so each is parsed / built once
_SPLIT: dict[str, dict[bytes, tuple[int, int, int, int, int, int]]] = {n: {} for n in VARIANTS}
_HEAD: dict[tuple[str, int, int, int, int, int, int], bytes] = {}
_MEMO_MAX = 65536


def decode_msu(variant: Mtp3Variant, body: bytes) -> dict[str, Any]:
    """SIO + routing label of an MSU body; ``payload`` is the rest of the SIF after the label
    (the heading code onward for SNM/SLT; the user part message for TUP/ISUP)."""
    n = 1 + variant.label_len
    if len(body) < n:
        raise Mtp3DecodeError("MSU shorter than SIO + routing label", offset=len(body),
                              field="routing label")
    memo = _SPLIT[variant.name]
    head = bytes(body[:n]) if type(body) is not bytes else body[:n]
    v = memo.get(head)
    if v is None:
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        sio = SIO.parse_bytes(head[:1])
        dpc, opc, sls = variant.parse_label(head, 1)
        v = memo[head] = (sio["ni"], sio["priority"], sio["si"], dpc, opc, sls)
    return {"ni": v[0], "priority": v[1], "si": v[2], "dpc": v[3], "opc": v[4], "sls": v[5],
            "payload": body[n:]}


def encode_msu(variant: Mtp3Variant, si: int, ni: int, dpc: int, opc: int, sls: int,
               payload: bytes, priority: int = 0) -> bytes:
    key = (variant.name, si, ni, priority, dpc, opc, sls)
    head = _HEAD.get(key)
    if head is None:
        if len(_HEAD) >= _MEMO_MAX:
            _HEAD.clear()
        head = _HEAD[key] = SIO.build_bytes({"si": si, "priority": priority, "ni": ni}) + \
            variant.build_label(dpc, opc, sls)
    return head + payload
