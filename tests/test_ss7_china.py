"""China national variant (GF 001-9001 MTP/TUP, YDN 038 ISUP): 24-bit point codes end to end
and `cti decode --variant cn` from hex and from our pcap traces."""

from __future__ import annotations

import json
import subprocess

from cti.cli import main
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
