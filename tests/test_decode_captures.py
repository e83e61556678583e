"""`cti decode` over captures made by Wireshark's own tools (text2pcap writes pcapng;
editcap, mergecap), checked against tshark: LAPD (203), MTP3 (141), and SIGTRAN over
IP/SCTP (M3UA, M2PA, IUA) behind Ethernet, VLAN tags, Linux SLL/SLL2 and raw IPv4/IPv6."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import need_program
from hypothesis import given
from hypothesis import strategies as st

from core import ipsctp
from core.capture import read_capture
from core.errors import DecodeError
from core.pcap import PcapWriter
from core.sigtran import encode
from cti.cli import main
from isdn import decode as isdn_decode
from isdn import ie, iua, lapd_codec, q931_codec
from ss7 import decode as ss7_decode
from ss7 import isup_codec as C
from ss7.mtp2 import encode_su
from ss7.mtp3_codec import VARIANTS, encode_msu
from ss7.sigtran import M2UA, M3UA, encode_m2pa, encode_m3ua_data

IAM = C.encode("IAM", 1, {
    "nature_of_connection": C.nature_of_connection(), "forward_call": C.forward_call(),
    "calling_category": 10, "transmission_medium_requirement": 0,
    "called": C.called_party("1234567"), "calling": C.calling_party("7654321", pres=1)})
REL = C.encode("REL", 5, {"cause": C.cause(16)})
SETUP = q931_codec.encode(q931_codec.Message("SETUP", 1, False, [
    ie.sending_complete(), ie.bearer(), ie.channel(1), ie.calling("0212345678"),
    ie.called("4000")]))
DISCONNECT = q931_codec.encode(q931_codec.Message("DISCONNECT", 1, True, [ie.cause(16)]))
ISUP_CODES = {s.code: s.name for s in C.VARIANTS["itu"].message_by_code().values()}
# what tshark says of each message (name, CIC or call reference, called, calling, cause)
ISUP_EXPECTED = [("IAM", "1", "1234567", "7654321", ""), ("REL", "5", "", "", "16")]
Q931_EXPECTED = [("SETUP", "4000", "0212345678", ""), ("DISCONNECT", "", "", "16")]


def _msu(opc: int, dpc: int, sls: int, isup: bytes) -> bytes:
    return encode_msu(VARIANTS["itu"], 5, 2, dpc, opc, sls, isup)


def _text2pcap(tmp: Path, name: str, packets: list[bytes], *options: str) -> Path:
    text2pcap = need_program("text2pcap")
    src, out = tmp / f"{name}.txt", tmp / f"{name}.pcapng"
    src.write_text("".join("0000 " + " ".join(f"{b:02x}" for b in p) + "\n" for p in packets))
    subprocess.run([text2pcap, "-q", *options, str(src), str(out)], check=True,
                   capture_output=True)
    return out


# tshark reads IUA SAPIs as GSM A-bis (TS 48.056) unless told otherwise
TSHARK_PREFS = ["-o", "iua.use_gsm_sapi_values:FALSE"]


def _tshark(path: Path, *fields: str) -> list[list[str]]:
    tshark = need_program("tshark")
    args = [tshark, *TSHARK_PREFS, "-r", str(path), "-T", "fields", "-E", "separator=|",
            "-E", "occurrence=f"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


def _decode(path: Path, capsys, *extra: str) -> tuple[int, list[dict]]:
    status = main(["decode", str(path), "--json", *extra])
    return status, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _isup_rows(recs: list[dict]) -> list[tuple[str, ...]]:
    return [(r["message"], str(r["cic"]), r["fields"]["called"] or "",
             r["fields"]["calling"] or "", str(r["fields"]["cause"] or ""))
            for r in recs if r["layer"] == "isup"]


def _tshark_isup(path: Path) -> list[tuple[str, ...]]:
    rows = _tshark(path, "isup.message_type", "isup.cic", "isup.called", "isup.calling",
                   "isup.cause_indicator")
    return [(ISUP_CODES[int(r[0])], *r[1:]) for r in rows if r[0]]


def _q931_rows(recs: list[dict]) -> list[tuple[str, ...]]:
    return [(r["message"], r["fields"]["called"] or "", r["fields"]["calling"] or "",
             str(r["fields"]["cause"] or "")) for r in recs if r["layer"] == "q931"]


def _tshark_q931(path: Path) -> list[tuple[str, ...]]:
    rows = _tshark(path, "q931.message_type", "q931.called_party_number.digits",
                   "q931.calling_party_number.digits", "q931.cause_value")
    return [(q931_codec.MESSAGE_TYPES[int(r[0], 16)], *r[1:]) for r in rows if r[0]]


@pytest.fixture(scope="module")
def caps(tmp_path_factory) -> dict[str, Path]:
    """The captures, each written by text2pcap (pcapng)."""
    tmp = tmp_path_factory.mktemp("caps")
    lapd = [lapd_codec.encode_fields(0, False, 0, "I", False, 0, 0, SETUP),
            lapd_codec.encode_fields(0, True, 0, "I", False, 0, 1, DISCONNECT),
            lapd_codec.encode_fields(0, True, 0, "RR", False, nr=1),
            lapd_codec.encode_fields(0, True, 0, "UA", True)]
    m3ua = [encode(M3UA, "ASPUP", {"asp_id": 3}),
            encode_m3ua_data(100, 200, 5, 2, 1, IAM, routing_context=7),
            encode_m3ua_data(200, 100, 5, 2, 5, REL)]
    m2pa = [encode_m2pa("Link Status", 0xFFFFFF, 0xFFFFFF, state="Ready"),
            encode_m2pa("User Data", 0xFFFFFF, 0, msu=_msu(100, 200, 1, IAM)),
            encode_m2pa("User Data", 0, 0, msu=_msu(200, 100, 5, REL)),
            encode_m2pa("User Data", 0, 1)]
    m2ua = [encode(M2UA, "Establish Request", {"interface_id": 0}),
            *(encode(M2UA, "Data", {"interface_id": 0, "protocol_data_1": msu.hex()})
              for msu in (_msu(100, 200, 1, IAM), _msu(200, 100, 5, REL))),
            encode(M2UA, "State Indication", {"interface_id": 0, "event": 1})]
    iua_msgs = [iua.encode_data("Data Request", 1, 0, 0, SETUP),
                iua.encode_data("Data Indication", 1, 0, 5, DISCONNECT)]
    return {
        "lapd": _text2pcap(tmp, "lapd", lapd, "-l", "203"),
        "mtp3": _text2pcap(tmp, "mtp3", [_msu(100, 200, 1, IAM), _msu(200, 100, 5, REL)],
                           "-l", "141"),
        "mtp2": _text2pcap(tmp, "mtp2", [encode_su(1, 1, 2, 1), encode_su(1, 1, 2, 1, b"\x01"),
                                         encode_su(1, 1, 3, 1, _msu(100, 200, 1, IAM)),
                                         encode_su(3, 1, 4, 1, _msu(200, 100, 5, REL))],
                           "-l", "140"),
        "m3ua": _text2pcap(tmp, "m3ua", m3ua, "-4", "10.0.0.1,10.0.0.2", "-S", "2905,2905,3"),
        "m2pa": _text2pcap(tmp, "m2pa", m2pa, "-6", "2001:db8::1,2001:db8::2",
                           "-S", "3565,3565,5"),
        "m2ua": _text2pcap(tmp, "m2ua", m2ua, "-4", "10.0.0.5,10.0.0.6", "-S", "2904,2904,2"),
        "iua": _text2pcap(tmp, "iua", iua_msgs, "-4", "10.0.0.3,10.0.0.4", "-S", "9900,9900,1"),
    }


def test_text2pcap_writes_pcapng_and_we_read_it(caps):
    assert caps["lapd"].read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    assert {p.linktype for p in read_capture(str(caps["lapd"]))} == {203}


def test_lapd_203_agrees_with_tshark(caps, capsys):
    status, recs = _decode(caps["lapd"], capsys)
    assert status == 0
    assert _q931_rows(recs) == _tshark_q931(caps["lapd"]) == Q931_EXPECTED
    # Q.921 table 1: I frames are commands (user C/R 0, network C/R 1); UA is a response
    # (network C/R 0, user 1); RR may be either
    assert [r["direction"] for r in recs] == ["user->net", "net->user", "unknown", "user->net"]
    assert [r["message"] for r in recs[2:]] == ["RR", "UA"]


def test_mtp3_141_agrees_with_tshark(caps, capsys):
    status, recs = _decode(caps["mtp3"], capsys)
    assert status == 0
    assert _isup_rows(recs) == _tshark_isup(caps["mtp3"]) == ISUP_EXPECTED
    assert [(r["opc"], r["dpc"], r["sls"]) for r in recs] == [(100, 200, 1), (200, 100, 5)]


def test_mtp2_140_agrees_with_tshark(caps, capsys):
    status, recs = _decode(caps["mtp2"], capsys)
    assert status == 0
    assert _isup_rows(recs) == _tshark_isup(caps["mtp2"]) == ISUP_EXPECTED
    tshark = _tshark(caps["mtp2"], "mtp2.fsn", "mtp2.bsn", "mtp2.li", "mtp2.sf")
    assert [r["message"] for r in recs[:2]] == ["FISU", "SIN"] and tshark[1][3] == "1"
    assert [int(t[0]) for t in tshark[:2]] == [r["fields"]["fsn"] for r in recs[:2]]


def test_m3ua_over_ipv4_agrees_with_tshark(caps, capsys):
    status, recs = _decode(caps["m3ua"], capsys)
    assert status == 0
    assert _isup_rows(recs) == _tshark_isup(caps["m3ua"]) == ISUP_EXPECTED
    tshark = _tshark(caps["m3ua"], "m3ua.message_class", "m3ua.message_type",
                     "m3ua.protocol_data_opc", "m3ua.protocol_data_dpc")
    assert tshark[0][:2] == ["3", "1"] and recs[0]["message"] == "ASPUP"
    assert recs[0]["fields"]["asp_id"] == 3
    assert [[str(r.get("opc", "")), str(r.get("dpc", ""))] for r in recs] == \
        [t[2:] for t in tshark]
    iam = recs[1]
    assert iam["m3ua"] == {"ni": 2, "mp": 0, "routing_context": [7]}
    assert (iam["src"], iam["dst"], iam["direction"]) == (
        "10.0.0.1:2905", "10.0.0.2:2905", "10.0.0.1:2905->10.0.0.2:2905")


def test_m2pa_over_ipv6_agrees_with_tshark(caps, capsys):
    status, recs = _decode(caps["m2pa"], capsys)
    assert status == 0
    assert _isup_rows(recs) == _tshark_isup(caps["m2pa"]) == ISUP_EXPECTED
    tshark = _tshark(caps["m2pa"], "m2pa.type", "m2pa.status", "m2pa.bsn", "m2pa.fsn")
    assert [t[0] for t in tshark] == ["2", "1", "1", "1"] and tshark[0][1] == "4"  # Ready
    assert (recs[0]["message"], recs[0]["fields"]["state"]) == ("Link Status", "Ready")
    assert [r.get("m2pa", r.get("fields"))["bsn"] for r in recs] == [int(t[2]) for t in tshark]
    assert recs[3]["message"] == "User Data" and recs[3]["layer"] == "m2pa"
    assert recs[1]["src"] == "[2001:db8::1]:3565"


def test_m2ua_agrees_with_tshark(caps, capsys):
    status, recs = _decode(caps["m2ua"], capsys)
    assert status == 0
    assert _isup_rows(recs) == _tshark_isup(caps["m2ua"]) == ISUP_EXPECTED
    tshark = _tshark(caps["m2ua"], "m2ua.message_class", "m2ua.message_type", "m2ua.event")
    assert [[int(v) for v in t[:2]] for t in tshark] == [[6, 2], [6, 1], [6, 1], [6, 9]]
    assert [r["message"] for r in recs] == ["Establish Request", "IAM", "REL", "State Indication"]
    assert recs[3]["fields"]["event"] == int(tshark[3][2]) and recs[1]["m2ua"] == {
        "interface_id": 0}


def test_iua_agrees_with_tshark(caps, capsys):
    status, recs = _decode(caps["iua"], capsys)
    assert status == 0
    assert _q931_rows(recs) == _tshark_q931(caps["iua"]) == Q931_EXPECTED
    tshark = _tshark(caps["iua"], "iua.message_class", "iua.message_type", "iua.dlci_sapi",
                     "iua.dlci_tei", "iua.int_interface_identifier")
    ours = [[*iua.IUA.codes[r["iua"]["message"]], r["iua"]["sapi"], r["iua"]["tei"],
             r["iua"]["interface_id"]] for r in recs]
    assert ours == [[int(v, 0) for v in row] for row in tshark] == [[5, 1, 0, 0, 1],
                                                                     [5, 2, 0, 5, 1]]
    assert [r["iua"]["message"] for r in recs] == ["Data Request", "Data Indication"]
    assert recs[0]["direction"].startswith("10.0.0.3")


def test_merged_interfaces_of_different_link_types(caps, tmp_path, capsys):
    """mergecap keeps one interface per input: each packet decoded by its own link type."""
    mergecap = need_program("mergecap")
    merged = tmp_path / "merged.pcapng"
    subprocess.run([mergecap, "-a", "-w", str(merged), str(caps["lapd"]), str(caps["mtp3"]),
                    str(caps["m3ua"])], check=True, capture_output=True)
    assert [p.linktype for p in read_capture(str(merged))] == [203] * 4 + [141] * 2 + [1] * 3
    status, recs = _decode(merged, capsys)
    assert status == 0
    assert _q931_rows(recs) == Q931_EXPECTED
    assert _isup_rows(recs) == ISUP_EXPECTED * 2 == _tshark_isup(merged)


@pytest.mark.parametrize("name", ["lapd", "m3ua"])
def test_classic_pcap_by_editcap_reads_the_same(caps, tmp_path, capsys, name):
    editcap = need_program("editcap")
    classic = tmp_path / f"{name}.pcap"
    subprocess.run([editcap, "-F", "pcap", str(caps[name]), str(classic)], check=True)
    assert classic.read_bytes()[:4] == b"\xd4\xc3\xb2\xa1"
    assert _decode(classic, capsys) == _decode(caps[name], capsys)


def _ethernet_frames(path: Path) -> list[tuple[bytes, bytes]]:
    """(IP packet, ethertype octets) of each frame of an Ethernet capture."""
    return [(p.data[14:], p.data[12:14]) for p in read_capture(str(path))]


# other link layers under the same IP packets (tcpdump.org LINKTYPE list)
WRAPS = {
    "vlan": (1, lambda ip, et: bytes(12) + b"\x81\x00\x00\x05" + b"\x88\xa8\x00\x07" + et + ip),
    "sll": (113, lambda ip, et: struct.pack(">HHH8s", 0, 1, 6, bytes(8)) + et + ip),
    "sll2": (276, lambda ip, et: et + bytes(2) + struct.pack(">IHBB8s", 1, 1, 0, 6, bytes(8)) + ip),
    "raw": (101, lambda ip, et: ip),
    "ipv4": (228, lambda ip, et: ip),
    "null": (0, lambda ip, et: struct.pack("<I", 2) + ip),  # AF_INET, little-endian host
    "loop": (108, lambda ip, et: struct.pack(">I", 2) + ip),
    "sctp": (248, lambda ip, et: ip[20:]),  # SCTP without IP (the IPv4 header has no options)
}


@pytest.mark.parametrize("wrap", list(WRAPS))
def test_other_link_layers_agree_with_tshark(caps, tmp_path, capsys, wrap):
    linktype, build = WRAPS[wrap]
    path = tmp_path / f"{wrap}.pcap"
    with PcapWriter(str(path), linktype) as w:
        for i, (ip, et) in enumerate(_ethernet_frames(caps["m3ua"])):
            w.write(float(i), build(ip, et))
    status, recs = _decode(path, capsys)
    assert status == 0 and [r["message"] for r in recs] == ["ASPUP", "IAM", "REL"]
    assert _isup_rows(recs) == _tshark_isup(path) == ISUP_EXPECTED


def test_ipv6_link_type_229(caps, tmp_path, capsys):
    path = tmp_path / "v6.pcap"
    with PcapWriter(str(path), 229) as w:
        for ip, _ in _ethernet_frames(caps["m2pa"]):
            w.write(0.0, ip)
    status, recs = _decode(path, capsys)
    assert status == 0 and _isup_rows(recs) == ISUP_EXPECTED


def _ipv4_sctp(chunks: bytes, *, flags_offset: int = 0, proto: int = 132) -> bytes:
    """An IPv4 packet (checksums left 0: neither tshark nor we check them) with SCTP."""
    sctp = struct.pack(">HHII", 2905, 2905, 1, 0) + chunks
    return struct.pack(">BBHHHBBHII", 0x45, 0, 20 + len(sctp), 1, flags_offset, 64, proto, 0,
                       0x0A000001, 0x0A000002) + sctp


def _data_chunk(payload: bytes, flags: int = 3, ppid: int = 3) -> bytes:
    chunk = struct.pack(">BBHIHHI", 0, flags, 16 + len(payload), 1, 0, 0, ppid) + payload
    return chunk + bytes(-len(chunk) % 4)


def test_bundled_chunks_fragments_and_other_protocols():
    data = encode_m3ua_data(100, 200, 5, 2, 1, IAM)
    sack = struct.pack(">BBHIIHH", 3, 0, 16, 0, 0, 0, 0)
    protos = {**ss7_decode.PROTOS, **isdn_decode.PROTOS}
    recs = ipsctp.decode_packet(228, _ipv4_sctp(sack + _data_chunk(data) + _data_chunk(
        encode_m3ua_data(200, 100, 5, 2, 5, REL))), protos)
    assert [r["message"] for r in recs] == ["IAM", "REL"]
    first = ipsctp.decode_packet(228, _ipv4_sctp(_data_chunk(data[:20], flags=2)), protos)
    assert first[0]["layer"] == "sctp" and "first fragment" in first[0]["message"]
    assert "error" not in first[0]
    other = ipsctp.decode_packet(228, _ipv4_sctp(_data_chunk(b"xyz", ppid=46)), protos)
    assert other[0]["message"] == "DATA" and other[0]["fields"]["protocol"] == "diameter"
    unspecified = ipsctp.decode_packet(228, _ipv4_sctp(_data_chunk(data, ppid=0)), protos)
    assert unspecified[0]["message"] == "IAM"  # PPID 0: the M3UA port 2905
    swapped = ipsctp.decode_packet(228, _ipv4_sctp(_data_chunk(data, ppid=0x03000000)), protos)
    assert swapped[0]["message"] == "IAM"  # a PPID in host byte order: the port again
    later = ipsctp.decode_packet(228, _ipv4_sctp(b"", flags_offset=100), protos)
    assert later[0]["message"] == "fragment" and "not reassembled" in later[0]["fields"]["note"]
    assert ipsctp.decode_packet(228, _ipv4_sctp(b"", proto=17), protos) == []
    bad = ipsctp.decode_packet(228, _ipv4_sctp(_data_chunk(b"\x01\x00\x01\x01")), protos)
    assert bad[0]["layer"] == "m3ua" and "error" in bad[0]


def test_m3ua_point_code_wider_than_the_variant():
    wide = encode_m3ua_data(0x123456, 0x654321, 5, 2, 1, IAM)
    with pytest.raises(DecodeError, match="opc"):
        ss7_decode.PROTOS["m3ua"](wide)
    rec = ss7_decode.variant_tables("cn")[0]["m3ua"](wide)  # China: 24-bit point codes
    assert rec[0]["opc_pc"] == "18-52-86"


def test_unknown_link_type_is_an_error_record(tmp_path, capsys):
    path = tmp_path / "x.pcap"
    with PcapWriter(str(path), 147) as w:
        w.write(0.0, b"\x00")
    status, recs = _decode(path, capsys)
    assert status == 1 and recs[0]["error"] == "no decoder for link type 147"
    path.write_bytes(b"\x00" * 40)
    assert main(["decode", str(path)]) == 2  # neither pcap nor pcapng


_LT = st.sampled_from(ipsctp.IP_LINKTYPES)
_PROTOS = {**ss7_decode.PROTOS, **isdn_decode.PROTOS}


@given(_LT, st.binary(max_size=120))
def test_ip_sctp_unwrapping_bad_input_is_a_decode_error(linktype, data):
    try:
        ipsctp.decode_packet(linktype, data, _PROTOS)
    except DecodeError:
        pass


@given(st.binary(max_size=80), st.sampled_from([0, 2, 3]))
def test_sctp_payload_bad_input_is_a_decode_error(payload, flags):
    """Arbitrary SCTP user data under each payload protocol: records or DecodeError."""
    for ppid in (1, 2, 3, 5):
        try:
            ipsctp.decode_packet(228, _ipv4_sctp(_data_chunk(payload, flags, ppid)), _PROTOS)
        except DecodeError:
            pass


@given(st.sampled_from(["m3ua", "m2pa", "iua"]), st.binary(max_size=64))
def test_sigtran_hex_bad_input_is_a_decode_error(proto, data):
    header = bytes((1, 0)) + data[:2] + struct.pack(">I", 8 + len(data[2:]))
    for octets in (data, header + data[2:]):
        try:
            _PROTOS[proto](octets)
        except DecodeError:
            pass


def test_m3ua_tup_is_the_msu_it_stands_for():
    """RFC 4666 3.3.1: the user part after the routing label; a TUP label's CIC bits beyond
    the SLS start it, so the rebuilt MSU is the original one."""
    from ss7 import tup_codec

    sif = tup_codec.encode(tup_codec.VARIANTS["itu"], "CLF", 200, 100, 0x235)
    via_m3ua = ss7_decode.PROTOS["m3ua"](encode_m3ua_data(100, 200, 4, 2, 5, sif[4:]))
    direct = ss7_decode.PROTOS["mtp3"](bytes((0x84,)) + sif)
    assert [{k: v for k, v in r.items() if k != "m3ua"} for r in via_m3ua] == direct
    assert direct[0]["cic"] == 0x235 and direct[0]["message"] == "CLF"


def test_i_data_chunks_and_ipv6_extension_headers():
    """RFC 8260 I-DATA (PPID only in a first fragment) behind IPv6 hop-by-hop and fragment
    headers (RFC 8200 4.3, 4.5; an unfragmented packet's fragment header has offset 0, M 0)."""
    rel = encode_m3ua_data(200, 100, 5, 2, 5, REL)
    idata = struct.pack(">BBHIHHII", 64, 3, 20 + len(rel), 7, 1, 0, 0, 3) + rel
    sctp = struct.pack(">HHII", 2905, 2905, 1, 0) + idata + bytes(-len(idata) % 4)
    ext = bytes((44, 0)) + bytes(6) + bytes((132, 0, 0, 0)) + bytes(4)  # hop-by-hop, fragment
    ip6 = struct.pack(">IHBB16s16s", 6 << 28, len(ext) + len(sctp), 0, 64,
                      bytes(15) + b"\x01", bytes(15) + b"\x02") + ext + sctp
    recs = ipsctp.decode_packet(229, ip6, _PROTOS)
    assert [(r["message"], r["cic"], r["src"]) for r in recs] == [("REL", 5, "[::1]:2905")]
    middle = idata[:1] + b"\x00" + idata[2:]  # neither B nor E: no PPID, a middle fragment
    ip6_mid = ip6[:len(ip6) - len(sctp)] + struct.pack(">HHII", 2905, 2905, 1, 0) + middle \
        + bytes(-len(middle) % 4)
    mid = ipsctp.decode_packet(229, ip6_mid, _PROTOS)
    assert mid[0]["message"] == "DATA middle fragment, not reassembled"
    assert mid[0]["fields"]["ppid"] is None


def test_lapd_203_tei_management(tmp_path, capsys):
    """A UI frame on SAPI 63 is a command from the network with C/R 1 (Q.921 table 1)."""
    path = tmp_path / "tei.pcap"
    with PcapWriter(str(path), 203) as w:
        w.write(0.0, bytes.fromhex("feff03" "0f" "1234" "02" "81"))  # identity assigned, Ai 64
    status, recs = _decode(path, capsys)
    assert status == 0 and recs[0]["direction"] == "net->user"
    assert (recs[0]["fields"]["tei_message"], recs[0]["fields"]["ai"]) == ("identity assigned",
                                                                          64)


def test_our_177_and_139_traces_converted_to_pcapng_read_the_same(tmp_path, capsys):
    """editcap -F pcapng of the traces the stacks write (LINUX_LAPD 177, MTP2_WITH_PHDR 139)."""
    from isdn.trace import pseudo_header

    editcap = need_program("editcap")
    frames = {177: [pseudo_header(False, True) + lapd_codec.encode_fields(
                        0, False, 0, "I", False, 0, 0, SETUP)],
              139: [b"\x01\x00\x00\x02" + encode_su(1, 1, 3, 1, _msu(100, 200, 1, IAM))]}
    for linktype, records in frames.items():
        classic, ng = tmp_path / f"{linktype}.pcap", tmp_path / f"{linktype}.pcapng"
        with PcapWriter(str(classic), linktype) as w:
            for r in records:
                w.write(12.5, r)
        subprocess.run([editcap, "-F", "pcapng", str(classic), str(ng)], check=True)
        assert ng.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
        ours = _decode(ng, capsys)
        assert ours == _decode(classic, capsys) and ours[0] == 0
        assert ours[1][0]["message"] in ("SETUP", "IAM") and ours[1][0]["time"] == 12.5


def test_snaplen_truncated_packets_say_so(caps, tmp_path, capsys):
    """pcapng EPBs whose captured length is below the original (editcap -s, as tcpdump -s
    writes them): the complete chunks are decoded, the cut one is a "truncated" note."""
    editcap = need_program("editcap")
    cut = tmp_path / "cut.pcapng"
    subprocess.run([editcap, "-s", "90", str(caps["m3ua"]), str(cut)], check=True)
    status, recs = _decode(cut, capsys)
    assert status == 0
    assert [(r["layer"], r["message"]) for r in recs] == [("m3ua", "ASPUP"),
                                                          ("sctp", "truncated"),
                                                          ("sctp", "truncated")]
    assert recs[1]["fields"]["note"].startswith("captured 90 of ")
    rel = encode_m3ua_data(200, 100, 5, 2, 5, REL)
    both = _ipv4_sctp(_data_chunk(encode_m3ua_data(100, 200, 5, 2, 1, IAM)) + _data_chunk(rel))
    recs = ipsctp.decode_packet(228, both[:-10], _PROTOS)
    assert [(r["layer"], r["message"]) for r in recs] == [("isup", "IAM"), ("sctp", "truncated")]


def test_m2ua_ttc_protocol_data_2_agrees_with_tshark(tmp_path, capsys):
    """RFC 3331 3.3.1.1: Protocol Data 2 (TTC) is one LI octet, priority in its two spare
    bits, then the MSU; a Data message with neither Protocol Data is an error."""
    msgs = [encode(M2UA, "Data", {"interface_id": 0,
                                  "protocol_data_2": (bytes((0x80,)) + msu).hex()})
            for msu in (_msu(100, 200, 1, IAM), _msu(200, 100, 5, REL))]
    path = _text2pcap(tmp_path, "ttc", msgs, "-4", "10.0.0.5,10.0.0.6", "-S", "2904,2904,2")
    status, recs = _decode(path, capsys)
    assert status == 0 and _isup_rows(recs) == _tshark_isup(path) == ISUP_EXPECTED
    assert recs[0]["m2ua"] == {"interface_id": 0, "priority": 2}
    with pytest.raises(DecodeError, match="Protocol Data"):
        ss7_decode.PROTOS["m2ua"](encode(M2UA, "Data", {"interface_id": 0}))


def test_ipv4_total_length_zero_is_the_captured_packet():
    """A packet captured before segmentation offload (TSO/GSO) has IPv4 total length 0."""
    packet = bytearray(_ipv4_sctp(_data_chunk(encode_m3ua_data(200, 100, 5, 2, 5, REL))))
    packet[2:4] = b"\x00\x00"
    recs = ipsctp.decode_packet(228, bytes(packet), _PROTOS)
    assert [(r["message"], r["cic"]) for r in recs] == [("REL", 5)]


def test_lapd_203_direction_from_cr_against_tshark(tmp_path, capsys):
    """Q.921 3.3.2 table 1: the network sends commands with C/R 1 and responses with C/R 0,
    the user the reverse; tshark reads the same C/R bit (it gives 203 records no side)."""
    frames = [lapd_codec.encode_fields(0, cr, 0, kind, True)
              for cr in (True, False) for kind in ("SABME", "UA")]
    path = tmp_path / "cr.pcap"
    with PcapWriter(str(path), 203) as w:
        for f in frames:
            w.write(1.0, f)
    status, recs = _decode(path, capsys)
    assert status == 0
    assert [r["fields"]["cr"] for r in recs] == [int(t[0]) for t in _tshark(path, "lapd.cr")]
    assert [(r["message"], r["direction"]) for r in recs] == [
        ("SABME", "net->user"), ("UA", "user->net"), ("SABME", "user->net"),
        ("UA", "net->user")]
