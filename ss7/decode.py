"""``cti decode`` for SS7: MTP2 signal units, MTP3 messages, ISUP and TUP (hex or pcap 139/140).

One record per signal unit: FISU/LSSU as layer ``mtp2`` (message FISU/SIO/SIN/SIE/SIOS/SIPO/SIB),
SNM/SLT as layer ``mtp3``, ISUP and TUP as layers ``isup``/``tup`` with ``opc``/``dpc``/``sls``/
``cic`` and ``fields`` (called, calling, presentation, cause, ...).  Point codes are ITU 14-bit
by default; :func:`variant_tables` ("cn": China national 24-bit labels, GF 001-9001 / YDN 038,
with the 64-bit TUP label) gives the same tables for another network (``cti decode --variant``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ss7 import isup_codec, tup_codec
from ss7.mtp2 import decode_su
from ss7.mtp3_codec import (
    SI_ISUP,
    SI_NAMES,
    SI_SLTM,
    SI_SLTM_SPECIAL,
    SI_SNM,
    SI_TUP,
    VARIANTS,
    Mtp3Variant,
    decode_msu,
    decode_slt,
    decode_snm,
)
from ss7.trace import split_phdr
from ss7.tup_codec import TupVariant

Decoder = Callable[[bytes], list[dict[str, Any]]]
VARIANT_NAMES = {"itu": "itu", "cn": "china", "china": "china"}


def isup_fields(msg: dict[str, Any]) -> dict[str, Any]:
    """The fields a person looks for first, then the remaining parameters."""
    p = msg["params"]
    out: dict[str, Any] = {
        "called": p["called"]["digits"].rstrip("F") if "called" in p else None,
        "calling": p["calling"]["digits"] if "calling" in p else None,
        "cause": p["cause"]["o2"]["cause"] if "cause" in p else None,
    }
    if "calling" in p:
        out["presentation"] = p["calling"]["ind"]["pres"]
    if "subsequent" in p:
        out["digits"] = p["subsequent"]["digits"].rstrip("F")
    if "range_status" in p:
        out["range"] = p["range_status"]["range"]
    if "nature_of_connection" in p:  # Q.763 3.35: 1 check this circuit, 2 previous circuit
        out["continuity_check"] = p["nature_of_connection"]["continuity_check"]
    if "continuity" in p:  # Q.763 3.18: 1 continuity, 0 failed
        out["continuity"] = p["continuity"] & 1
    if msg["unknown_params"]:
        out["unknown_params"] = [u["code"] for u in msg["unknown_params"]]
    return out


def _mtp3(body: bytes, mtp: Mtp3Variant, tupv: TupVariant,
          by_code: dict[int, isup_codec.MessageSpec]) -> list[dict[str, Any]]:
    m = decode_msu(mtp, body)
    head = {"opc": m["opc"], "dpc": m["dpc"], "sls": m["sls"]}
    if mtp.pc_bits == 24:
        head["opc_pc"], head["dpc_pc"] = mtp.pc_str(m["opc"]), mtp.pc_str(m["dpc"])
    si, payload = m["si"], m["payload"]
    if si == SI_ISUP:
        try:
            msg = isup_codec.decode(payload, by_code)
        except isup_codec.UnknownMessage as e:
            return [{"layer": "isup", "message": f"0x{e.code:02x}", **head, "cic": e.cic,
                     "fields": {}}]
        return [{"layer": "isup", "message": msg["message"], **head, "cic": msg["cic"],
                 "fields": isup_fields(msg)}]
    if si == SI_TUP:
        return _tup(body[1:], tupv)
    if si == SI_SNM:
        s = decode_snm(mtp, payload)
        return [{"layer": "mtp3", "message": s.pop("message"), **head, "fields": s}]
    if si in (SI_SLTM, SI_SLTM_SPECIAL):
        s = decode_slt(payload)
        return [{"layer": "mtp3", "message": s["message"], **head,
                 "fields": {"pattern": s["pattern"].hex()}}]
    return [{"layer": "mtp3", "message": SI_NAMES.get(si, f"SI {si}"), **head,
             "fields": {"payload": payload.hex()}}]


def _mtp2(data: bytes, mtp3: Decoder) -> list[dict[str, Any]]:
    su = decode_su(data)
    if su["kind"] != "MSU":
        return [{"layer": "mtp2", "message": su["kind"],
                 "fields": {k: su[k] for k in ("bsn", "bib", "fsn", "fib")}}]
    return mtp3(su["body"])


def _isup(data: bytes, by_code: dict[int, isup_codec.MessageSpec]) -> list[dict[str, Any]]:
    """An ISUP message alone (CIC onward)."""
    msg = isup_codec.decode(data, by_code)
    return [{"layer": "isup", "message": msg["message"], "cic": msg["cic"],
             "fields": isup_fields(msg)}]


def _phdr(packet: bytes, mtp2: Decoder) -> list[dict[str, Any]]:
    hdr, su = split_phdr(packet)
    recs = mtp2(su)
    for r in recs:
        r["direction"] = "tx" if hdr["sent"] else "rx"
        r["link"] = hdr["link_number"]
    return recs


def _tup(data: bytes, variant: TupVariant) -> list[dict[str, Any]]:
    """A TUP SIF (label onward)."""
    m = tup_codec.decode(variant, data)
    f = m["fields"]
    fields = {"called": f.get("called"), "calling": f.get("cli"), "cause": None}
    if "digits" in f:
        fields["digits"] = f["digits"]
    if "range" in f:
        fields["range"] = f["range"]
    return [{"layer": "tup", "message": m["message"], "opc": m["opc"], "dpc": m["dpc"],
             "sls": m["cic"] & 0x0F, "cic": m["cic"], "fields": fields}]


def variant_tables(name: str) -> tuple[dict[str, Decoder], dict[int, Decoder]]:
    """``PROTOS`` and ``LINKTYPES`` for network variant ``name`` (itu, cn); KeyError if unknown."""
    v = VARIANT_NAMES[name]
    by_code = isup_codec.VARIANTS[v].message_by_code()
    mtp3 = partial(_mtp3, mtp=VARIANTS[v], tupv=tup_codec.VARIANTS[v], by_code=by_code)
    mtp2 = partial(_mtp2, mtp3=mtp3)
    protos = {"mtp2": mtp2, "mtp3": mtp3, "isup": partial(_isup, by_code=by_code),
              "tup": partial(_tup, variant=tup_codec.VARIANTS[v])}
    return protos, {139: partial(_phdr, mtp2=mtp2), 140: mtp2}


PROTOS, LINKTYPES = variant_tables("itu")
mtp2, mtp3, isup, tup = (PROTOS[k] for k in ("mtp2", "mtp3", "isup", "tup"))  # ITU
