"""pcapng files read (draft-ietf-opsawg-pcapng, "PCAP Next Generation Dump File Format").

A file is a sequence of blocks (type, total length, body, total length again), grouped in
sections that each start with a Section Header Block (section 4.1) whose byte-order magic
sets the byte order of the whole section; a new section forgets the interfaces of the
previous one.  Interface Description Blocks (4.2) give each interface its link type,
snapshot length and timestamp resolution (option if_tsresol, 10^-6 s when absent; option
if_tsoffset).  Packets come from Enhanced Packet Blocks (4.3), Simple Packet Blocks (4.4,
interface 0, no timestamp) and the obsolete Packet Block (appendix A); every other block
(name resolution, interface statistics, decryption secrets, custom...) is skipped by its
length.  Every packet carries its own interface's link type.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from construct import Construct, Int16ub, Int16ul, Int32ub, Int32ul, Int64sb, Int64sl, Struct

from core.errors import DecodeError
from core.layout import Fixed
from core.pcap import Packet

SHB_MAGIC = b"\x0a\x0d\x0d\x0a"  # Section Header Block type: the same in both byte orders
BYTE_ORDER_MAGIC = 0x1A2B3C4D
IDB, PACKET_BLOCK, SPB, EPB = 1, 2, 3, 6
OPT_END, OPT_IF_TSRESOL, OPT_IF_TSOFFSET = 0, 9, 14


def _layouts(u16: Construct, u32: Construct, s64: Construct) -> dict[str, Struct]:
    """The fixed parts of the blocks in one byte order (sections 3.1, 4.1-4.4, A)."""
    return {
        "block": Struct("type" / u32, "length" / u32),
        "shb": Struct("magic" / u32, "major" / u16, "minor" / u16, "section_length" / s64),
        "idb": Struct("linktype" / u16, "reserved" / u16, "snaplen" / u32),
        "epb": Struct("interface" / u32, "ts_high" / u32, "ts_low" / u32, "caplen" / u32,
                      "origlen" / u32),
        "spb": Struct("origlen" / u32),
        "pb": Struct("interface" / u16, "drops" / u16, "ts_high" / u32, "ts_low" / u32,
                     "caplen" / u32, "origlen" / u32),
        "option": Struct("code" / u16, "length" / u16),
        "u32": Struct("value" / u32),
        "s64": Struct("value" / s64),
    }


LAYOUTS = {"<": {k: Fixed(k, v) for k, v in _layouts(Int16ul, Int32ul, Int64sl).items()},
           ">": {k: Fixed(k, v) for k, v in _layouts(Int16ub, Int32ub, Int64sb).items()}}
_SIZES = {k: v.size for k, v in LAYOUTS["<"].items()}


class Interface(NamedTuple):
    linktype: int
    snaplen: int  # 0: no limit
    units: int  # timestamp units per second
    offset: int  # seconds added to every timestamp (if_tsoffset)


def _get(order: str, name: str, data: bytes, off: int, end: int, field: str):
    return LAYOUTS[order][name].read_within(data, off, field, end)


def _options(order: str, data: bytes, off: int, end: int) -> dict[int, bytes]:
    """Options of a block body (section 3.5): code, length, value padded to 32 bits."""
    found: dict[int, bytes] = {}
    while off < end:
        opt = _get(order, "option", data, off, end, "option")
        if opt.code == OPT_END:
            break
        value_end = off + 4 + opt.length
        if value_end > end:
            raise DecodeError(f"option {opt.code} longer than its block", offset=off,
                              field="option_length")
        found.setdefault(opt.code, data[off + 4:value_end])
        off += 4 + (opt.length + 3) // 4 * 4
    return found


def _interface(order: str, data: bytes, off: int, end: int) -> Interface:
    idb = _get(order, "idb", data, off, end, "interface_description")
    opts = _options(order, data, off + _SIZES["idb"], end)
    units, offset = 10 ** 6, 0
    if OPT_IF_TSRESOL in opts:
        value = opts[OPT_IF_TSRESOL]
        if len(value) != 1:
            raise DecodeError("if_tsresol is not one octet", offset=off, field="if_tsresol")
        units = 2 ** (value[0] & 0x7F) if value[0] & 0x80 else 10 ** value[0]
    if OPT_IF_TSOFFSET in opts:
        value = opts[OPT_IF_TSOFFSET]
        if len(value) != 8:
            raise DecodeError("if_tsoffset is not 8 octets", offset=off, field="if_tsoffset")
        offset = LAYOUTS[order]["s64"].read(value).value
    return Interface(idb.linktype, idb.snaplen, units, offset)


def _section_order(data: bytes, off: int) -> str:
    if off + 28 > len(data):
        raise DecodeError("section header block truncated", offset=off, field="section_header")
    for order in ("<", ">"):
        if LAYOUTS[order]["u32"].read(data, off + 8).value == BYTE_ORDER_MAGIC:
            shb = _get(order, "shb", data, off + 8, off + 24, "section_header")
            if shb.major != 1:
                raise DecodeError(f"pcapng version {shb.major}.{shb.minor} not supported",
                                  offset=off + 12, field="major_version")
            return order
    raise DecodeError("bad byte-order magic", offset=off + 8, field="byte_order_magic")


def _lookup(interfaces: list[Interface], index: int, off: int) -> Interface:
    if index >= len(interfaces):
        raise DecodeError(f"packet of interface {index}, {len(interfaces)} described",
                          offset=off, field="interface_id")
    return interfaces[index]


def _stamp(iface: Interface, high: int, low: int) -> float:
    return iface.offset + ((high << 32) | low) / iface.units


def _packet(order: str, btype: int, data: bytes, body: int, end: int,
            interfaces: list[Interface]) -> Packet | None:
    """The packet of an EPB, SPB or obsolete PB whose body is data[body:end]; None otherwise."""
    if btype == EPB or btype == PACKET_BLOCK:
        name = "epb" if btype == EPB else "pb"
        head = _get(order, name, data, body, end, "packet_header")
        start = body + _SIZES[name]
        if start + head.caplen > end:
            raise DecodeError("captured length beyond the block", offset=body + _SIZES[name] - 8,
                              field="captured_length")
        iface = _lookup(interfaces, head.interface, body)
        return Packet(_stamp(iface, head.ts_high, head.ts_low), iface.linktype,
                      data[start:start + head.caplen])
    if btype == SPB:
        head = _get(order, "spb", data, body, end, "packet_header")
        iface = _lookup(interfaces, 0, body)
        caplen = min(head.origlen, end - body - 4, iface.snaplen or head.origlen)
        return Packet(None, iface.linktype, data[body + 4:body + 4 + caplen])
    return None


def parse_pcapng(data: bytes) -> Iterator[Packet]:
    """The packets of pcapng octets; the first section header is checked at once, every
    later block as it is reached (:class:`DecodeError` naming offset and field)."""
    if data[:4] != SHB_MAGIC:
        raise DecodeError("not a pcapng file: bad magic", offset=0, field="block_type")
    _section_order(data, 0)
    return _blocks(data)


def _blocks(data: bytes) -> Iterator[Packet]:
    off, order, interfaces = 0, "<", []
    while off < len(data):
        if data[off:off + 4] == SHB_MAGIC:
            order, interfaces = _section_order(data, off), []
        block = _get(order, "block", data, off, len(data), "block_header")
        if block.length < 12 or block.length % 4 or off + block.length > len(data):
            raise DecodeError(f"block total length {block.length} invalid", offset=off + 4,
                              field="block_total_length")
        end = off + block.length - 4
        if LAYOUTS[order]["u32"].read(data, end).value != block.length:
            raise DecodeError("trailing block total length differs", offset=end,
                              field="block_total_length")
        if block.type == IDB:
            interfaces.append(_interface(order, data, off + 8, end))
        else:
            packet = _packet(order, block.type, data, off + 8, end, interfaces)
            if packet is not None:
                yield packet
        off += block.length

