"""The pcapng reader (draft-ietf-opsawg-pcapng): sections in both byte orders, interfaces
with their own link types and timestamp resolutions, the three packet blocks, skipped
blocks, and typed errors for everything malformed."""

from __future__ import annotations

import struct
import subprocess

import pytest
from conftest import need_program
from hypothesis import given, settings
from hypothesis import strategies as st

from core.capture import parse_capture, read_capture
from core.errors import DecodeError
from core.pcap import Packet, PcapWriter
from core.pcapng import parse_pcapng


def block(order: str, btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(order + "II", btype, n) + body + struct.pack(order + "I", n)


def shb(order: str = "<", major: int = 1) -> bytes:
    return block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1))


def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + bytes(-len(value) % 4)


def idb(order: str, linktype: int, snaplen: int = 0, tsresol: int | None = None,
        tsoffset: int | None = None) -> bytes:
    opts = b""
    if tsresol is not None:
        opts += option(order, 9, bytes((tsresol,)))
    if tsoffset is not None:
        opts += option(order, 14, struct.pack(order + "q", tsoffset))
    if opts:
        opts += option(order, 0, b"")
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, snaplen) + opts)


def epb(order: str, iface: int, stamp: int, data: bytes) -> bytes:
    return block(order, 6, struct.pack(order + "IIIII", iface, stamp >> 32, stamp & 0xFFFFFFFF,
                                       len(data), len(data)) + data)


def spb(order: str, data: bytes) -> bytes:
    return block(order, 3, struct.pack(order + "I", len(data)) + data)


def pb(order: str, iface: int, stamp: int, data: bytes) -> bytes:
    return block(order, 2, struct.pack(order + "HHIIII", iface, 0, stamp >> 32,
                                       stamp & 0xFFFFFFFF, len(data), len(data)) + data)


def sample(custom: bool = True) -> bytes:
    """Two sections (little- then big-endian), interfaces of different link types and
    resolutions, every packet block, and blocks to skip (Wireshark shows a custom block as
    a frame of its own: ``custom=False`` leaves it out)."""
    return (shb("<") + idb("<", 203, tsresol=9, tsoffset=1000) + idb("<", 141)
            + block("<", 4, b"\x00" * 8)  # name resolution block: skipped
            + epb("<", 0, 1_500_000_000, b"\x01\x02\x03") + epb("<", 1, 2_000_000, b"\x04")
            + block("<", 5, b"\x00" * 12)  # interface statistics: skipped
            + shb(">") + idb(">", 1, snaplen=2, tsresol=0x8A)
            + (block(">", 0x40000BAD, b"\x00\x00\x00\x07data") if custom else b"")
            + epb(">", 0, 3 * 1024, b"\x05\x06") + spb(">", b"\x07\x08\x09")
            + pb(">", 0, 512, b"\x0a"))


def test_sections_interfaces_and_packet_blocks():
    assert list(parse_pcapng(sample())) == [
        Packet(1001.5, 203, b"\x01\x02\x03"),  # 10^-9 s units, offset 1000 s
        Packet(2.0, 141, b"\x04"),  # default 10^-6 s
        Packet(3.0, 1, b"\x05\x06"),  # new section: interface 0 is the Ethernet one, 2^-10 s
        Packet(None, 1, b"\x07\x08"),  # simple packet block: snaplen 2, no timestamp
        Packet(0.5, 1, b"\x0a"),  # obsolete packet block
    ]


def test_tshark_reads_the_sample_as_we_do(tmp_path):
    tshark = need_program("tshark")
    p = tmp_path / "s.pcapng"
    p.write_bytes(sample(custom=False))
    out = subprocess.run([tshark, "-r", str(p), "-T", "fields", "-e", "frame.cap_len",
                          "-e", "frame.time_epoch"], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    ours = list(read_capture(str(p)))
    rows = [line.split("\t") for line in out if line]
    assert [int(r[0]) for r in rows] == [len(q.data) for q in ours]
    assert [float(r[1]) for r, q in zip(rows, ours, strict=True) if q.time is not None] == \
        pytest.approx([q.time for q in ours if q.time is not None])


def test_capture_reads_classic_pcap_too(tmp_path):
    p = tmp_path / "c.pcap"
    with PcapWriter(str(p), 140) as w:
        w.write(1.5, b"\x01")
    assert list(read_capture(str(p))) == [Packet(1.5, 140, b"\x01")]


BAD = {
    "magic": b"\x00" * 32,
    "byte_order_magic": shb()[:8] + b"\x00" * 20,
    "major_version": shb(major=2),
    "interface_id": shb() + idb("<", 1) + epb("<", 1, 0, b"x"),
    "block_total_length": shb() + block("<", 6, b"\x00" * 20)[:-4] + b"\x00\x00\x00\x00",
    "captured_length": shb() + idb("<", 1) + block("<", 6, struct.pack("<IIIII", 0, 0, 0, 99, 99)),
    "if_tsresol": shb() + block("<", 1, struct.pack("<HHI", 1, 0, 0) + option("<", 9, b"ab")),
    "option_length": shb() + block("<", 1, struct.pack("<HHIHH", 1, 0, 0, 9, 40)),
    "block_header": shb() + b"\x06\x00",
}


@pytest.mark.parametrize("field", list(BAD))
def test_malformed_files_name_the_field(field):
    with pytest.raises(DecodeError) as e:
        list(parse_capture(BAD[field]))
    assert e.value.field in (field, "magic") and e.value.offset is not None


def test_packet_before_any_interface_is_an_error():
    with pytest.raises(DecodeError, match="interface"):
        list(parse_pcapng(shb() + spb("<", b"x")))


@given(st.binary(max_size=96))
def test_arbitrary_bytes_are_a_decode_error(data):
    for octets in (data, shb() + data, shb(">") + idb(">", 1) + data):
        try:
            list(parse_capture(octets))
        except DecodeError:
            pass


@given(st.integers(0, len(sample()) - 1), st.integers(0, 255))
def test_any_corrupted_octet_is_a_decode_error_or_packets(pos, value):
    data = bytearray(sample())
    data[pos] = value
    try:
        list(parse_capture(bytes(data)))
    except DecodeError:
        pass


def _fixed_layouts():
    from core import ipsctp, pcapng, sigtran
    from core.layout import Fixed
    from ss7.sigtran import ProtocolDataValue

    found = [v for mod in (ipsctp, sigtran) for v in vars(mod).values() if isinstance(v, Fixed)]
    return found + [*pcapng.LAYOUTS["<"].values(), *pcapng.LAYOUTS[">"].values(),
                    ProtocolDataValue.label]


@pytest.mark.parametrize("fixed", _fixed_layouts(), ids=lambda f: f.record.__name__)
@settings(max_examples=20)
@given(data=st.binary(min_size=64, max_size=64), offset=st.integers(0, 8))
def test_fixed_layouts_read_as_construct_parses(fixed, data, offset):
    """core.layout.Fixed reads a header in place exactly as its construct declaration
    parses it, and builds what it reads."""
    ours = fixed.read(data, offset)
    theirs = fixed.layout.parse(data[offset:offset + fixed.size])
    assert ours._asdict() == {k: v for k, v in theirs.items() if not k.startswith("_")}
    assert fixed.build(ours._asdict()) == data[offset:offset + fixed.size]
