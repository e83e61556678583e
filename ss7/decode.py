"""``cti decode`` for SS7: MTP2 signal units, MTP3 messages, ISUP and TUP (hex or pcap 139/140).

One record per signal unit: FISU/LSSU as layer ``mtp2`` (message FISU/SIO/SIN/SIE/SIOS/SIPO/SIB),
SNM/SLT as layer ``mtp3``, ISUP and TUP as layers ``isup``/``tup`` with ``opc``/``dpc``/``sls``/
``cic`` and ``fields`` (called, calling, presentation, cause, ...).  Point codes are ITU 14-bit
(a China 24-bit trace is decoded with :mod:`ss7.mtp3_codec` / :mod:`ss7.tup_codec` variants).
"""

from __future__ import annotations

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
    decode_msu,
    decode_slt,
    decode_snm,
)
from ss7.trace import split_phdr

_ITU = VARIANTS["itu"]


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
    if msg["unknown_params"]:
        out["unknown_params"] = [u["code"] for u in msg["unknown_params"]]
    return out


def _mtp3(body: bytes) -> list[dict[str, Any]]:
    m = decode_msu(_ITU, body)
    head = {"opc": m["opc"], "dpc": m["dpc"], "sls": m["sls"]}
    si, payload = m["si"], m["payload"]
    if si == SI_ISUP:
        try:
            msg = isup_codec.decode(payload)
        except isup_codec.UnknownMessage as e:
            return [{"layer": "isup", "message": f"0x{e.code:02x}", **head, "cic": e.cic,
                     "fields": {}}]
        return [{"layer": "isup", "message": msg["message"], **head, "cic": msg["cic"],
                 "fields": isup_fields(msg)}]
    if si == SI_TUP:
        return tup(body[1:])
    if si == SI_SNM:
        s = decode_snm(_ITU, payload)
        return [{"layer": "mtp3", "message": s.pop("message"), **head, "fields": s}]
    if si in (SI_SLTM, SI_SLTM_SPECIAL):
        s = decode_slt(payload)
        return [{"layer": "mtp3", "message": s["message"], **head,
                 "fields": {"pattern": s["pattern"].hex()}}]
    return [{"layer": "mtp3", "message": SI_NAMES.get(si, f"SI {si}"), **head,
             "fields": {"payload": payload.hex()}}]


def mtp2(data: bytes) -> list[dict[str, Any]]:
    su = decode_su(data)
    if su["kind"] != "MSU":
        return [{"layer": "mtp2", "message": su["kind"],
                 "fields": {k: su[k] for k in ("bsn", "bib", "fsn", "fib")}}]
    return _mtp3(su["body"])


def mtp3(data: bytes) -> list[dict[str, Any]]:
    """SIO + SIF (an MSU body without the MTP2 header)."""
    return _mtp3(data)


def isup(data: bytes) -> list[dict[str, Any]]:
    """An ISUP message alone (CIC onward)."""
    msg = isup_codec.decode(data)
    return [{"layer": "isup", "message": msg["message"], "cic": msg["cic"],
             "fields": isup_fields(msg)}]


def _phdr(packet: bytes) -> list[dict[str, Any]]:
    hdr, su = split_phdr(packet)
    recs = mtp2(su)
    for r in recs:
        r["direction"] = "tx" if hdr["sent"] else "rx"
        r["link"] = hdr["link_number"]
    return recs


def tup(data: bytes) -> list[dict[str, Any]]:
    """A TUP SIF (label onward), ITU 14-bit label."""
    m = tup_codec.decode(tup_codec.VARIANTS["itu"], data)
    f = m["fields"]
    fields = {"called": f.get("called"), "calling": f.get("cli"), "cause": None}
    if "digits" in f:
        fields["digits"] = f["digits"]
    if "range" in f:
        fields["range"] = f["range"]
    return [{"layer": "tup", "message": m["message"], "opc": m["opc"], "dpc": m["dpc"],
             "sls": m["cic"] & 0x0F, "cic": m["cic"], "fields": fields}]


PROTOS = {"mtp2": mtp2, "mtp3": mtp3, "isup": isup, "tup": tup}
LINKTYPES = {139: _phdr, 140: mtp2}
