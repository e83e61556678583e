"""``cti decode`` for SS7: MTP2 signal units, MTP3 messages, ISUP and TUP (hex or pcap 139/140,
MTP3 link type 141 from the SIO), and SIGTRAN: M3UA, M2UA and M2PA (``--proto m3ua|m2ua|m2pa
HEX``, and SCTP payload protocols 3, 2 and 5 in IP captures, see ``core.ipsctp``).

One record per signal unit: FISU/LSSU as layer ``mtp2`` (message FISU/SIO/SIN/SIE/SIOS/SIPO/SIB),
SNM/SLT as layer ``mtp3``, ISUP and TUP as layers ``isup``/``tup`` with ``opc``/``dpc``/``sls``/
``cic`` and ``fields`` (called, calling, presentation, cause, ...).  Point codes are ITU 14-bit
by default; :func:`variant_tables` ("cn": China national 24-bit labels, GF 001-9001 / YDN 038,
with the 64-bit TUP label) gives the same tables for another network (``cti decode --variant``).
An M3UA DATA message is decoded as the MSU it stands for (SIO from SI/NI/MP, the variant's
routing label from OPC/DPC/SLS, then the user part), its record carrying ``m3ua`` (NI, MP and
the other parameters); an M2PA User Data message as its MTP3 message with ``m2pa`` (BSN, FSN,
priority); an M2UA Data message as the MTP3 message of its Protocol Data 1 with ``m2ua`` (its
other parameters).  Other messages are records of layer ``m3ua``/``m2ua``/``m2pa`` named as in
the RFCs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from core.pcap import LINKTYPE_MTP2, LINKTYPE_MTP2_WITH_PHDR, LINKTYPE_MTP3
from core.sigtran import SigtranDecodeError
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
    encode_msu,
)
from ss7.sigtran import decode_m2pa, decode_m2ua, decode_m3ua
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


def _m3ua(data: bytes, mtp3: Decoder, mtp: Mtp3Variant) -> list[dict[str, Any]]:
    """One M3UA message (RFC 4666); DATA as the MSU of its Protocol Data (3.3.1)."""
    msg, params = decode_m3ua(data)
    if msg.name != "DATA":
        return [{"layer": "m3ua", "message": msg.name,
                 "fields": {"class": msg.msg_class, "type": msg.msg_type, **params}}]
    pd = params.pop("protocol_data")
    for key, bits in (("opc", mtp.pc_bits), ("dpc", mtp.pc_bits), ("sls", 4)):
        if pd[key] >> bits:
            raise SigtranDecodeError(f"m3ua: {key} {pd[key]} wider than the {mtp.name} routing "
                                     f"label's {bits} bits", offset=msg.offset, field=key)
    if pd["si"] > 15 or pd["ni"] > 3:
        raise SigtranDecodeError("m3ua: SI or NI beyond the SIO", offset=msg.offset, field="si")
    msu = encode_msu(mtp, pd["si"], pd["ni"], pd["dpc"], pd["opc"], pd["sls"],
                     bytes.fromhex(pd["data"]), priority=pd["mp"] & 3)
    info = {"ni": pd["ni"], "mp": pd["mp"], **params}
    recs = mtp3(msu)
    for r in recs:
        r["m3ua"] = info
    return recs


def _m2ua(data: bytes, mtp3: Decoder) -> list[dict[str, Any]]:
    """One M2UA message (RFC 3331); Data (3.3.1.1) as its MTP3 message: Protocol Data 1 is
    the MSU from the SIO, Protocol Data 2 (TTC) one LI octet (priority in its two spare
    bits, JT-Q703) then the MSU."""
    msg, params = decode_m2ua(data)
    if msg.name == "Data":
        if isinstance(params.get("protocol_data_1"), str):
            msu = bytes.fromhex(params.pop("protocol_data_1"))
        elif isinstance(params.get("protocol_data_2"), str) and params["protocol_data_2"]:
            ttc = bytes.fromhex(params.pop("protocol_data_2"))
            params["priority"], msu = ttc[0] >> 6, ttc[1:]
        else:
            raise SigtranDecodeError("m2ua: Data without one Protocol Data 1 or 2",
                                     offset=msg.offset, field="protocol_data")
        recs = mtp3(msu)
        for r in recs:
            r["m2ua"] = params
        return recs
    return [{"layer": "m2ua", "message": msg.name,
             "fields": {"class": msg.msg_class, "type": msg.msg_type, **params}}]


def _m2pa(data: bytes, mtp3: Decoder) -> list[dict[str, Any]]:
    """One M2PA message (RFC 4165); User Data as its MTP3 message."""
    m = decode_m2pa(data)
    link = {"bsn": m["bsn"], "fsn": m["fsn"]}
    if m.get("msu") is not None:
        recs = mtp3(m["msu"])
        for r in recs:
            r["m2pa"] = {**link, "priority": m["priority"]}
        return recs
    if "state" in m:
        link["state"] = m["state"]
    return [{"layer": "m2pa", "message": m["message"], "fields": link}]


def variant_tables(name: str) -> tuple[dict[str, Decoder], dict[int, Decoder]]:
    """``PROTOS`` and ``LINKTYPES`` for network variant ``name`` (itu, cn); KeyError if unknown."""
    v = VARIANT_NAMES[name]
    by_code = isup_codec.VARIANTS[v].message_by_code()
    mtp3 = partial(_mtp3, mtp=VARIANTS[v], tupv=tup_codec.VARIANTS[v], by_code=by_code)
    mtp2 = partial(_mtp2, mtp3=mtp3)
    protos = {"mtp2": mtp2, "mtp3": mtp3, "isup": partial(_isup, by_code=by_code),
              "tup": partial(_tup, variant=tup_codec.VARIANTS[v]),
              "m3ua": partial(_m3ua, mtp3=mtp3, mtp=VARIANTS[v]), "m2pa": partial(_m2pa, mtp3=mtp3),
              "m2ua": partial(_m2ua, mtp3=mtp3)}
    return protos, {LINKTYPE_MTP2_WITH_PHDR: partial(_phdr, mtp2=mtp2), LINKTYPE_MTP2: mtp2,
                    LINKTYPE_MTP3: mtp3}


PROTOS, LINKTYPES = variant_tables("itu")
mtp2, mtp3, isup, tup = (PROTOS[k] for k in ("mtp2", "mtp3", "isup", "tup"))  # ITU
