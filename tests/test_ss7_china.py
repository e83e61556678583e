"""China national variant (GF 001-9001 MTP/TUP, YDN 038 ISUP): 24-bit point codes end to end
and `cti decode --variant cn` from hex and from our pcap traces."""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import EncodeError
from cti.cli import main
from ss7 import isup_codec as C
from ss7 import tup_codec
from ss7.isup import IsupListener
from ss7.stack import MemoryWire, Ss7Node, connect
from ss7.trace import LinkTracer
from tests.conftest import need_program

PC_A, PC_B = 0x010203, 0x010204  # 1-2-3 and 1-2-4 (main area - sub area - point)


class Answer(IsupListener):
    def on_setup(self, call):
        call.accept()
        call.answer()


def decode(capsys, *argv):
    status = main(["decode", *argv, "--json"])
    out = capsys.readouterr().out
    return status, [json.loads(line) for line in out.splitlines()]


def test_china_call_traced_and_decoded_with_variant_cn(clock, tmp_path, capsys):
    path = tmp_path / "cn.pcap"
    tracer = LinkTracer(str(path), clock)
    a = Ss7Node(clock, PC_A, variant="china", tracer=tracer)
    b = Ss7Node(clock, PC_B, variant="china", isup_listener=Answer())
    a.isup.add_circuits(PC_B, range(1, 3))
    b.isup.add_circuits(PC_A, range(1, 3))
    connect(a, b, 0, MemoryWire(clock, 0.001))
    a.start()
    b.start()
    clock.advance(2)
    call = a.isup.setup(PC_B, "1065550100", "2100001111", cic=2)
    clock.advance(0.5)
    assert call.state == "ANSWERED"
    call.release(16)
    clock.advance(0.5)
    tracer.close()
    status, recs = decode(capsys, str(path), "--variant", "cn")
    assert status == 0 and not [r for r in recs if r.get("error")]
    isup = [r for r in recs if r["layer"] == "isup" and r["cic"] == 2]
    assert [r["message"] for r in isup] == ["IAM", "ACM", "ANM", "REL", "RLC"]
    iam = isup[0]
    assert (iam["opc"], iam["dpc"], iam["opc_pc"], iam["dpc_pc"]) == (PC_A, PC_B, "1-2-3", "1-2-4")
    assert iam["fields"]["called"] == "1065550100" and iam["fields"]["calling"] == "2100001111"
    assert isup[3]["fields"]["cause"] == 16 and isup[3]["direction"] == "tx"
    tra = [r for r in recs if r["message"] == "TRA"]
    assert tra and tra[0]["dpc"] == PC_B
    # read as ITU 14-bit labels the same units give other point codes
    _, itu = decode(capsys, str(path))
    assert not any(r.get("opc") == PC_A for r in itu)
    # Wireshark's "Chinese ITU" MTP3 standard reads the same labels
    tshark = need_program("tshark")
    out = subprocess.run([tshark, "-r", str(path), "-o", "mtp3.standard:Chinese ITU", "-Y",
                          "isup", "-T", "fields", "-e", "mtp3.opc", "-e", "mtp3.dpc", "-e",
                          "isup.cic", "-e", "isup.message_type", "-e", "_ws.malformed"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split("\t") for line in out]
    assert not any(r[4] for r in rows)
    assert [r[3] for r in rows if r[2] == "2"] == ["1", "6", "9", "12", "16"]
    assert all({int(r[0]), int(r[1])} == {PC_A, PC_B} for r in rows)


def test_hex_msu_with_a_24_bit_label(capsys):
    # SIO: SI 5 (ISUP), NI 2 (national); label (GF 001-9001): DPC 24 bits, OPC 24 bits, least
    # significant octet first, then SLS (4 bits) and 4 spare bits; ISUP RLC on CIC 1 (Q.763)
    hexmsu = "85" "040201" "030201" "01" "0100" "10" "00"
    status, recs = decode(capsys, "--proto", "mtp3", hexmsu, "--variant", "cn")
    assert status == 0
    assert recs == [{"layer": "isup", "message": "RLC", "opc": PC_A, "dpc": PC_B, "sls": 1,
                     "opc_pc": "1-2-3", "dpc_pc": "1-2-4", "cic": 1,
                     "fields": {"called": None, "calling": None, "cause": None}}]
    _, itu = decode(capsys, "--proto", "mtp3", hexmsu)  # read as ITU: another label
    assert itu[0].get("opc") != PC_A


def test_hex_china_tup_label(capsys):
    sif = tup_codec.encode(tup_codec.VARIANTS["china"], "CLF", PC_B, PC_A, 7, {})
    status, recs = decode(capsys, "--proto", "tup", sif.hex(), "--variant", "cn")
    assert status == 0 and recs[0]["message"] == "CLF"
    assert (recs[0]["opc"], recs[0]["dpc"], recs[0]["cic"]) == (PC_A, PC_B, 7)


def test_unknown_variant_is_a_usage_error(capsys):
    assert main(["decode", "--proto", "mtp3", "85", "--variant", "xx"]) == 2
    assert "unknown variant" in capsys.readouterr().err


class National(Answer):
    def __init__(self):
        self.got: list[tuple[str, dict]] = []
        self.cfn: list[tuple[int, int]] = []

    def on_national(self, call, message, params):
        self.got.append((message, params))

    def on_confusion(self, cic, cause):
        self.cfn.append((cic, cause))


def china_pair(clock, variant="china"):
    xa, xb = National(), National()
    pa, pb = (PC_A, PC_B) if variant == "china" else (1, 2)
    a = Ss7Node(clock, pa, variant=variant, isup_listener=xa)
    b = Ss7Node(clock, pb, variant=variant, isup_listener=xb)
    a.isup.add_circuits(pb, range(1, 3))
    b.isup.add_circuits(pa, range(1, 3))
    connect(a, b, 0, MemoryWire(clock, 0.001))
    a.start()
    b.start()
    clock.advance(2)
    return a, b, xa, xb


def test_china_national_messages_on_the_answered_call(clock):
    a, b, xa, xb = china_pair(clock)
    call = a.isup.setup(PC_B, "1065550100", cic=1)
    clock.advance(0.5)
    inc = b.isup.circuit(PC_A, 1)
    assert call.state == inc.state == "ANSWERED"
    # YDN 038: MPM 0xFD carries 2 octets of charge information (mandatory fixed) backward
    assert C.encode("MPM", 1, {"charge_information": b"\x00\x03"}) == bytes.fromhex("0100fd000300")
    inc.national("MPM", {"charge_information": b"\x00\x03"})
    call.national("CCL")
    call.national("OPR")
    inc.national("OPR")
    clock.advance(0.1)
    assert xa.got == [("MPM", {"charge_information": b"\x00\x03"}), ("OPR", {})]
    assert xb.got == [("CCL", {}), ("OPR", {})]
    with pytest.raises(EncodeError):
        call.national("MPM", {"charge_information": b"\x00\x01"})  # backward only
    with pytest.raises(EncodeError):
        inc.national("CCL")  # forward only


def test_itu_node_treats_china_national_messages_as_unrecognised(clock):
    a, b, xa, xb = china_pair(clock, variant="itu")
    call = a.isup.setup(2, "555", cic=1)
    clock.advance(0.5)
    with pytest.raises(EncodeError):
        call.national("CCL")
    a.isup.send(2, 1, "CCL")  # as a China exchange would
    clock.advance(0.1)
    assert xa.cfn == [(1, 97)] and xb.got == []  # Q.764 2.10.5.1: CFN, message not implemented
    assert call.state == "ANSWERED"


def test_decode_china_national_message(capsys):
    hexmsg = C.encode("MPM", 5, {"charge_information": b"\x00\x02"}).hex()
    status, recs = decode(capsys, "--proto", "isup", hexmsg, "--variant", "cn")
    assert status == 0 and recs[0]["message"] == "MPM" and recs[0]["cic"] == 5
    _, itu = decode(capsys, "--proto", "isup", hexmsg)
    assert itu[0].get("error") or itu[0]["message"] != "MPM"


_CHINA = C.VARIANTS["china"].message_by_code()


@settings(max_examples=60)
@given(st.sampled_from(sorted(C.NATIONAL_MESSAGES["china"])), st.integers(0, 4095),
       st.binary(min_size=2, max_size=2))
def test_china_national_messages_round_trip(name, cic, charge):
    params = {"charge_information": charge} if name == "MPM" else {}
    enc = C.encode(name, cic, params)
    dec = C.decode(enc, _CHINA)
    assert (dec["message"], dec["cic"], dec["params"]) == (name, cic, params)


@settings(max_examples=200)
@given(st.binary(max_size=40).map(lambda b: b[:2] + bytes((0xFD,)) + b[2:]))
def test_china_arbitrary_bytes_give_typed_errors(data):
    try:
        C.decode(data, _CHINA)
    except C.IsupDecodeError as e:
        assert e.offset is not None and e.field
