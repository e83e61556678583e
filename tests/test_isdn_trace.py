"""Our pcap traces (LINKTYPE_LINUX_LAPD) read by tshark, and `cti decode` over them."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import need_program
from isdn_peer.helpers import Recorder

from core.clock import VirtualClock
from core.pcap import read_pcap
from isdn.decode import LINKTYPES, decode_lapd, decode_q931
from isdn.stack import memory_pair


def _traced_call(tmp_path):
    clock = VirtualClock()
    rn, ru = Recorder(), Recorder()
    net, user = memory_pair(clock, on_event_network=rn, on_event_user=ru)
    net.trace_to(str(tmp_path / "net.pcap"), epoch=1_700_000_000.0)
    user.trace_to(str(tmp_path / "user.pcap"), epoch=1_700_000_000.0)
    clock.advance(0.05)
    out = user.place_call("4000", "0212345678", channel=7)
    clock.advance(0.01)
    inc = rn.first("offered").call
    inc.proceed()
    inc.alert(inband=True)
    inc.answer()
    clock.advance(0.05)
    out.hangup(17)
    clock.advance(0.05)
    net.restart([9])
    clock.advance(0.05)
    net.tracer.close()
    user.tracer.close()
    return tmp_path / "net.pcap", tmp_path / "user.pcap"


def test_tshark_decodes_our_pcaps(tmp_path):
    tshark = need_program("tshark")
    for pcap in _traced_call(tmp_path):
        verbose = subprocess.run([tshark, "-r", str(pcap), "-V"], capture_output=True,
                                 text=True, check=True).stdout
        assert "Malformed" not in verbose
        assert "Expert Info (Warning" not in verbose and "Expert Info (Error" not in verbose
        fields = subprocess.run(
            [tshark, "-r", str(pcap), "-T", "fields", "-E", "separator=|",
             "-e", "q931.message_type", "-e", "q931.called_party_number.digits",
             "-e", "q931.calling_party_number.digits", "-e", "q931.channel.number",
             "-e", "q931.cause_value", "-e", "lapd.control.u_modifier_cmd"],
            capture_output=True, text=True, check=True).stdout.splitlines()
        rows = [f.split("|") for f in fields]
        setup = next(r for r in rows if r[0] == "0x05")
        assert setup[1:4] == ["4000", "0212345678", "7"]
        assert any(r[0] == "0x45" and r[4] == "17" for r in rows)  # DISCONNECT cause 17
        assert any(r[0] == "0x46" and r[3] == "9" for r in rows)  # RESTART channel 9
        directions = subprocess.run([tshark, "-r", str(pcap)], capture_output=True, text=True,
                                    check=True).stdout
        setup_line = next(line for line in directions.splitlines() if "SETUP" in line)
        assert "User" in setup_line.split("→")[0] and "Network" in setup_line.split("→")[1]


def test_cti_decode_pcap_json(tmp_path):
    net_pcap, _ = _traced_call(tmp_path)
    out = subprocess.run([sys.executable, "-m", "cti", "decode", str(net_pcap), "--json"],
                         capture_output=True, text=True, check=True).stdout
    recs = [json.loads(line) for line in out.splitlines()]
    setup = next(r for r in recs if r["message"] == "SETUP")
    assert setup["direction"] == "user->net" and setup["layer"] == "q931"
    assert (setup["fields"]["called"], setup["fields"]["calling"], setup["fields"]["channel"]) == (
        "4000", "0212345678", 7)
    assert {r["direction"] for r in recs if r["message"] in ("SABME", "UA")} == {
        "net->user", "user->net"}
    disc = next(r for r in recs if r["message"] == "DISCONNECT")
    assert disc["fields"]["cause"] == 17 and disc["direction"] == "user->net"
    assert {r["message"] for r in recs} >= {"CALL PROCEEDING", "ALERTING", "CONNECT",
                                            "CONNECT ACKNOWLEDGE", "RELEASE", "RELEASE COMPLETE",
                                            "RESTART", "RESTART ACKNOWLEDGE", "UA", "RR"}


def test_decode_functions():
    rec = decode_q931(bytes.fromhex("08020001" "45" "08028091"))[0]
    assert rec["message"] == "DISCONNECT" and rec["fields"]["cause"] == 17
    rr = decode_lapd(bytes.fromhex("00010102"))[0]
    assert (rr["layer"], rr["message"], rr["fields"]["nr"]) == ("lapd", "RR", 1)
    ui = decode_lapd(bytes.fromhex("000303" "08020001" "7b"))[0]
    assert ui["message"] == "INFORMATION"


def test_cti_decode_hex_and_errors():
    ok = subprocess.run([sys.executable, "-m", "cti", "decode", "--proto", "q931",
                         "08 02 00 01 05 04 03 80 90 a3", "--json"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["message"] == "SETUP"
    bad = subprocess.run([sys.executable, "-m", "cti", "decode", "--proto", "lapd", "0003"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "error" in bad.stdout


def test_cti_decode_variant_reads_national_element_forms(capsys):
    """`--variant ni2` reads the NI-2 display (display type octet, then text); by default
    (ETSI) that octet is invalid IA5 and shows as an element error; an unknown variant is a
    usage error."""
    from cti.cli import main

    setup = "080200010504038090a21803a98385" "2806b1416c696365" "70058034303030"
    assert main(["decode", "--proto", "q931", setup, "--json"]) == 0
    etsi = json.loads(capsys.readouterr().out)["fields"]
    assert etsi["display"] is None and etsi["ie_errors"][0].startswith("display")
    assert main(["decode", "--proto", "q931", setup, "--json", "--variant", "ni2"]) == 0
    ni2 = json.loads(capsys.readouterr().out)["fields"]
    assert ni2["display"] == "Alice" and ni2["ie_errors"] is None and ni2["called"] == "4000"
    assert main(["decode", "--proto", "q931", setup, "--variant", "nope"]) == 2


def test_pcap_linktype_is_linux_lapd(tmp_path):
    net_pcap, _ = _traced_call(tmp_path)
    linktype, records = read_pcap(str(net_pcap))
    assert linktype == 177 and 177 in LINKTYPES
    recs = [r for _, r in records]
    assert {r[:2] for r in recs} == {b"\x00\x00", b"\x00\x04"}  # received, sent by us
    assert all(r[6] == 1 and r[14:16] == b"\x00\x30" for r in recs)  # we are network, LAPD


def test_decode_tei_management_and_bri_channel():
    rec = decode_lapd(bytes.fromhex("fcff03" "0f1234" "01ff"))[0]
    assert rec["fields"]["tei_message"] == "identity request" and rec["fields"]["ai"] == 127
    bri = decode_q931(bytes.fromhex("080101" "05" "04038090a3" "180189"))[0]
    assert bri["fields"]["channel"] == 1  # BRI channel identification: B1, exclusive
