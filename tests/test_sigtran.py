"""SIGTRAN codecs (core.sigtran, ss7.sigtran M3UA/M2UA/M2PA, isdn.iua): octets against the RFCs,
round trips, and arbitrary input as typed errors."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import sigtran
from core.errors import DecodeError, EncodeError
from isdn import decode as isdn_decode
from isdn import iua
from ss7 import decode as ss7_decode
from ss7.sigtran import M2UA, M3UA, decode_m2pa, decode_m3ua, encode_m2pa, encode_m3ua_data

REL = bytes.fromhex("05000c0200028090")  # ISUP REL CIC 5, cause 16


def test_m3ua_data_octets_rfc4666():
    # 3.1 common header: version 1, reserved, class 1 (transfer), type 1 (DATA), length 40;
    # 3.3.1: Routing Context (0x0006) 7, Protocol Data (0x0210): OPC 100, DPC 200, SI 5,
    # NI 2, MP 0, SLS 5, the user part; parameters padded to 32 bits
    assert encode_m3ua_data(100, 200, 5, 2, 5, REL, routing_context=7).hex() == (
        "0100010100000028" "0006000800000007"
        "0210001800000064000000c805020005" "05000c0200028090")


def test_m3ua_management_octets():
    assert sigtran.encode(M3UA, "ASPUP") == bytes.fromhex("0100030100000008")
    duna = sigtran.encode(M3UA, "DUNA", {"affected_point_codes": [{"mask": 0, "pc": 1234}]})
    assert duna.hex() == "0100020100000010" "00120008000004d2"
    msg, params = decode_m3ua(duna)
    assert msg.name == "DUNA" and params == {"affected_point_codes": [{"mask": 0, "pc": 1234}]}


def test_m2pa_octets_rfc4165():
    # 2.2 common header class 11; 2.3 BSN/FSN with an unused octet each; 2.3.3 state 4 Ready
    assert encode_m2pa("Link Status", 0xFFFFFF, 0xFFFFFF, state="Ready").hex() == (
        "01000b0200000014" "00ffffff00ffffff" "00000004")
    assert encode_m2pa("User Data", 1, 2, msu=b"\x85" + REL).hex() == (
        "01000b010000001a" "0000000100000002" "00" "85" + REL.hex())


def test_iua_data_request_octets_rfc4233():
    # 3.1.3 QPTM (class 5) Data Request (1); 3.2: interface id (0x1), DLCI (0x5): SAPI 0 in
    # bits 8-3 of the first octet, TEI 0 in bits 8-2 and the 1 bit of the second; Protocol
    # Data (0xe)
    q931 = bytes.fromhex("08020001" "45" "08028090")
    assert iua.encode_data("Data Request", 1, 0, 0, q931).hex() == (
        "0100050100000028" "0001000800000001" "0005000800010000" "000e000d" + q931.hex()
        + "000000")
    tei_64 = iua.encode_data("Data Request", 1, 16, 64, b"")
    assert tei_64[20:22] == bytes((16 << 2, 64 << 1 | 1))


@given(st.integers(0, 2**14 - 1), st.integers(0, 2**14 - 1), st.integers(0, 15),
       st.integers(0, 3), st.binary(max_size=40), st.none() | st.integers(0, 2**32 - 1))
def test_m3ua_data_round_trip(opc, dpc, sls, ni, data, rc):
    msg, params = decode_m3ua(encode_m3ua_data(opc, dpc, 5, ni, sls, data, routing_context=rc))
    assert params["protocol_data"] == {"opc": opc, "dpc": dpc, "si": 5, "ni": ni, "mp": 0,
                                       "sls": sls, "data": data.hex()}
    assert params.get("routing_context") == (None if rc is None else [rc])


@given(st.integers(0, 2**24 - 1), st.integers(0, 2**24 - 1), st.binary(min_size=1, max_size=40),
       st.integers(0, 3))
def test_m2pa_round_trip(bsn, fsn, msu, priority):
    m = decode_m2pa(encode_m2pa("User Data", bsn, fsn, msu=msu, priority=priority))
    assert (m["bsn"], m["fsn"], m["msu"], m["priority"]) == (bsn, fsn, msu, priority)


@given(st.sampled_from(sorted(iua.DATA_MESSAGES)), st.integers(0, 2**32 - 1),
       st.integers(0, 63), st.integers(0, 127), st.binary(max_size=40))
def test_iua_round_trip(name, interface, sapi, tei, q931):
    msg, params = iua.decode(iua.encode_data(name, interface, sapi, tei, q931))
    assert (msg.name, params["interface_id"], params["dlci"]["sapi"], params["dlci"]["tei"],
            params["protocol_data"]) == (name, interface, sapi, tei, q931.hex())


def test_bad_messages_are_typed_errors():
    with pytest.raises(DecodeError, match="version"):
        decode_m3ua(bytes.fromhex("0200030100000008"))
    with pytest.raises(DecodeError) as e:
        decode_m3ua(bytes.fromhex("0100010100000008"))
    assert e.value.field == "protocol_data"
    with pytest.raises(DecodeError) as e:
        decode_m3ua(bytes.fromhex("010003010000000c" "00110003"))
    assert e.value.field == "asp_id"  # an ASP identifier is 4 octets
    with pytest.raises(DecodeError):
        decode_m3ua(bytes.fromhex("0100030100000010" "00110009"))
    with pytest.raises(EncodeError):
        sigtran.encode(M3UA, "NOPE")
    nested = b""
    for _ in range(3000):  # routing keys in routing keys: bounded, never a RecursionError
        nested = struct.pack(">HH", 0x0207, 4 + len(nested)) + nested
    with pytest.raises(DecodeError, match="nested"):
        decode_m3ua(struct.pack(">BBBBI", 1, 0, 9, 1, 8 + len(nested)) + nested)


_PROTOS = {**ss7_decode.PROTOS, **isdn_decode.PROTOS}


@given(st.binary(max_size=48), st.integers(0, 255), st.integers(0, 3))
def test_carried_messages_bad_input_is_a_decode_error(payload, si, mp):
    """Arbitrary user parts in well-formed M3UA, M2PA and IUA: records or DecodeError."""
    carriers = [
        ("m3ua", encode_m3ua_data(1, 2, si & 15, 2, 0, payload, mp=mp)),
        ("m2pa", encode_m2pa("User Data", 0, 0, msu=bytes((si,)) + payload)),
        ("iua", iua.encode_data("Unit Data Indication", 0, 0, 127, payload)),
        ("m2ua", sigtran.encode(M2UA, "Data", {"protocol_data_1": (bytes((si,)) + payload).hex()})),
    ]
    for proto, message in carriers:
        try:
            _PROTOS[proto](message)
        except DecodeError:
            pass


def _tlvs(tags: list[int]) -> st.SearchStrategy[bytes]:
    """Parameters with the layer's own tags and arbitrary values (lengths right or wrong)."""
    one = st.tuples(st.sampled_from(tags), st.binary(max_size=12), st.integers(-2, 2)).map(
        lambda t: struct.pack(">HH", t[0], max(0, 4 + len(t[1]) + t[2])) + t[1]
        + bytes(-len(t[1]) % 4))
    return st.lists(one, max_size=5).map(b"".join)


@given(st.sampled_from(["m3ua", "m2ua", "iua"]), st.data())
def test_known_parameters_with_arbitrary_values_are_decode_errors(proto, data):
    layer = {"m3ua": M3UA, "m2ua": M2UA, "iua": iua.IUA}[proto]
    key = data.draw(st.sampled_from(sorted(layer.messages)))
    body = data.draw(_tlvs(sorted(layer.params)))
    message = struct.pack(">BBBBI", 1, 0, *key, 8 + len(body)) + body
    try:
        json.dumps(_PROTOS[proto](message))  # every record JSON-ready for --json
    except DecodeError:
        pass
