"""SCTP user messages out of IP captures: link layer, IPv4/IPv6, SCTP (RFC 9260).

Most SS7 and ISDN signalling captured in the field is SIGTRAN, carried in SCTP DATA chunks
over IP.  :func:`unwrap` takes one captured packet of an IP-bearing link type
(tcpdump.org LINKTYPE list: 1 Ethernet with 802.1Q/802.1ad VLAN tags, 113 Linux cooked SLL,
276 SLL2, 101 raw IP, 228 IPv4, 229 IPv6, 0 BSD loopback, 108 OpenBSD loopback, 248 SCTP
without IP) down to its SCTP DATA (type 0) and I-DATA (type 64, RFC 8260) chunks; other
SCTP chunks (INIT, SACK, HEARTBEAT...) and non-SCTP packets give nothing.  IPv4 fragments are not
reassembled: a first fragment's complete chunks are decoded, a later fragment is reported
as such.  IPv6 extension headers
(RFC 8200 4) are skipped; a packet behind ESP is reported as encrypted.
:func:`decode_packet` gives each chunk to the decoder of its payload protocol (PPID, IANA
"SCTP Payload Protocol Identifiers"; PPID 0 or an unknown one falls back to the IANA
well-known port).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from construct import Bytes, Int8ub, Int16ub, Int32ub, Struct

from core.errors import DecodeError
from core.layout import Fixed

LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL = 1, 101, 113
LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2 = 228, 229, 276
LINKTYPE_NULL, LINKTYPE_LOOP = 0, 108  # a 4-octet address family: host / network byte order
LINKTYPE_SCTP = 248  # an SCTP packet with no IP header
# AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS)
LOOPBACK_FAMILIES = {2: 0x0800, 10: 0x86DD, 24: 0x86DD, 28: 0x86DD, 30: 0x86DD}
ETHERTYPE_IPV4, ETHERTYPE_IPV6 = 0x0800, 0x86DD
ETHERTYPE_VLAN = frozenset((0x8100, 0x88A8, 0x9100))  # IEEE 802.1Q C-tag, 802.1ad S-tag, QinQ
IPPROTO_SCTP = 132
CHUNK_DATA, CHUNK_I_DATA = 0, 64
FLAG_E, FLAG_B = 0x01, 0x02  # RFC 9260 3.3.1: ending and beginning fragment bits

ETHERNET = Fixed("ethernet", Struct("dst" / Bytes(6), "src" / Bytes(6), "ethertype" / Int16ub))
VLAN_TAG = Fixed("vlan_tag", Struct("tci" / Int16ub, "ethertype" / Int16ub))
SLL = Fixed("sll", Struct("packet_type" / Int16ub, "arphrd" / Int16ub, "addr_len" / Int16ub,
                          "addr" / Bytes(8), "protocol" / Int16ub))
SLL2 = Fixed("sll2", Struct("protocol" / Int16ub, "reserved" / Int16ub, "ifindex" / Int32ub,
                            "arphrd" / Int16ub, "packet_type" / Int8ub, "addr_len" / Int8ub,
                            "addr" / Bytes(8)))
# byte-aligned fields: the version/IHL nibbles, flags/fragment offset and the IPv6
# version/traffic class/flow label word are split below
IPV4 = Fixed("ipv4", Struct("version_ihl" / Int8ub, "tos" / Int8ub, "total_length" / Int16ub,
                            "id" / Int16ub, "flags_offset" / Int16ub, "ttl" / Int8ub,
                            "protocol" / Int8ub, "checksum" / Int16ub, "src" / Bytes(4),
                            "dst" / Bytes(4)))  # RFC 791 3.1
IPV4_MF, IPV4_OFFSET = 0x2000, 0x1FFF
IPV6 = Fixed("ipv6", Struct("version_class_flow" / Int32ub, "payload_length" / Int16ub,
                            "next_header" / Int8ub, "hop_limit" / Int8ub, "src" / Bytes(16),
                            "dst" / Bytes(16)))  # RFC 8200 3
IPV6_EXTENSION = Fixed("ipv6_extension", Struct("next_header" / Int8ub, "length" / Int8ub))
IPV6_FRAGMENT = Fixed("ipv6_fragment", Struct(
    "next_header" / Int8ub, "reserved" / Int8ub, "offset_m" / Int16ub,
    "id" / Int32ub))  # RFC 8200 4.5: offset (13 bits), 2, M
SCTP_COMMON = Fixed("sctp_common", Struct("src_port" / Int16ub, "dst_port" / Int16ub,
                                          "verification_tag" / Int32ub,
                                          "checksum" / Int32ub))  # RFC 9260 3.1
CHUNK = Fixed("chunk", Struct("type" / Int8ub, "flags" / Int8ub, "length" / Int16ub))  # 3.2
DATA = Fixed("data", Struct("tsn" / Int32ub, "stream" / Int16ub, "ssn" / Int16ub,
                            "ppid" / Int32ub))  # RFC 9260 3.3.1
I_DATA = Fixed("i_data", Struct("tsn" / Int32ub, "stream" / Int16ub, "reserved" / Int16ub,
                                "mid" / Int32ub, "ppid_fsn" / Int32ub))  # RFC 8260 2.1


# RFC 8200 4.1: extension headers in the generic form (length in 8-octet units after the first
# 8); AH (RFC 4302) counts 4-octet units minus 2; the fragment header is fixed, 8 octets
IPV6_GENERIC_EXTENSIONS = frozenset((0, 43, 60, 135, 139, 140))
IPV6_AH, IPV6_FRAGMENT_HEADER, IPV6_ESP = 51, 44, 50

# IANA SCTP Payload Protocol Identifiers, and the well-known SCTP ports for PPID 0
PPID_NAMES = {1: "iua", 2: "m2ua", 3: "m3ua", 4: "sua", 5: "m2pa", 6: "v5ua", 7: "h248",
              18: "s1ap", 46: "diameter", 60: "ngap"}
PORT_PROTOS = {9900: "iua", 2904: "m2ua", 2905: "m3ua", 14001: "sua", 3565: "m2pa",
               5675: "v5ua", 3868: "diameter", 36412: "s1ap", 38412: "ngap"}


class Chunk(NamedTuple):
    """One SCTP DATA or I-DATA chunk; ``ppid`` None for an I-DATA continuation fragment."""

    src: str
    dst: str
    stream: int
    tsn: int
    ppid: int | None
    flags: int
    data: bytes

    @property
    def fragment(self) -> str | None:
        """None for a whole user message, else first/middle/last (RFC 9260 3.3.1 B/E)."""
        be = self.flags & (FLAG_B | FLAG_E)
        return {FLAG_B | FLAG_E: None, FLAG_B: "first", 0: "middle", FLAG_E: "last"}[be]


class Note(NamedTuple):
    """Something in the packet said rather than decoded (a fragment, an encrypted payload)."""

    layer: str
    message: str
    src: str
    dst: str
    fields: dict[str, Any]


def _network_offset(linktype: int, data: bytes) -> tuple[int | None, int]:
    """(ethertype or None for raw IP, offset of the IP header) of a link-layer frame."""
    if linktype == LINKTYPE_ETHERNET:
        eth = ETHERNET.read_within(data, 0, "ethernet")
        ethertype, off = eth.ethertype, ETHERNET.size
        while ethertype in ETHERTYPE_VLAN:
            tag = VLAN_TAG.read_within(data, off, "vlan_tag")
            ethertype, off = tag.ethertype, off + VLAN_TAG.size
        return ethertype, off
    if linktype == LINKTYPE_LINUX_SLL:
        return SLL.read_within(data, 0, "sll").protocol, SLL.size
    if linktype == LINKTYPE_LINUX_SLL2:
        return SLL2.read_within(data, 0, "sll2").protocol, SLL2.size
    if linktype == LINKTYPE_IPV4:
        return ETHERTYPE_IPV4, 0
    if linktype == LINKTYPE_IPV6:
        return ETHERTYPE_IPV6, 0
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        if len(data) < 4:
            raise DecodeError("loopback header truncated", offset=0, field="family")
        family = int.from_bytes(data[:4], "big")
        if linktype == LINKTYPE_NULL and family > 0xFFFF:  # written in the other byte order
            family = int.from_bytes(data[:4], "little")
        return LOOPBACK_FAMILIES.get(family), 4
    if linktype == LINKTYPE_RAW:
        if not data:
            raise DecodeError("empty raw IP packet", offset=0, field="version")
        return {4: ETHERTYPE_IPV4, 6: ETHERTYPE_IPV6}.get(data[0] >> 4), 0
    raise DecodeError(f"link type {linktype} carries no IP", offset=0, field="linktype")


class Datagram(NamedTuple):
    src: str
    dst: str
    protocol: int
    payload: bytes
    fragment: str | None  # None, "first" or "later"
    payload_offset: int
    missing: int = 0  # octets of the IP length beyond the capture (snapshot length)


def _ipv4(data: bytes, off: int) -> Datagram:
    h = IPV4.read_within(data, off, "ipv4")
    if h.version_ihl >> 4 != 4:
        raise DecodeError(f"IP version {h.version_ihl >> 4} in an IPv4 header", offset=off,
                          field="version")
    hlen = (h.version_ihl & 15) * 4
    # total length 0: a packet captured before the NIC segmented it (TSO/GSO; Wireshark reads
    # it the same way): the captured octets are the datagram
    total = h.total_length or len(data) - off
    if hlen < 20 or total < hlen:
        raise DecodeError("IPv4 header or total length too small", offset=off, field="ihl")
    if off + hlen > len(data):
        raise DecodeError("IPv4 options truncated", offset=off + 20, field="options")
    fragment = ("later" if h.flags_offset & IPV4_OFFSET
                else "first" if h.flags_offset & IPV4_MF else None)
    start = off + hlen
    return Datagram(str(ipaddress.IPv4Address(h.src)), str(ipaddress.IPv4Address(h.dst)),
                    h.protocol, data[start:off + total], fragment, start,
                    max(0, off + total - len(data)))


def _ipv6(data: bytes, off: int) -> Datagram:
    h = IPV6.read_within(data, off, "ipv6")
    if h.version_class_flow >> 28 != 6:
        raise DecodeError(f"IP version {h.version_class_flow >> 28} in an IPv6 header",
                          offset=off, field="version")
    src, dst = f"[{ipaddress.IPv6Address(h.src)}]", f"[{ipaddress.IPv6Address(h.dst)}]"
    end = off + 40 + h.payload_length
    nxt, pos, fragment = h.next_header, off + 40, None
    while True:
        if nxt in IPV6_GENERIC_EXTENSIONS or nxt == IPV6_AH:
            ext = IPV6_EXTENSION.read_within(data, pos, "extension_header")
            nxt = ext.next_header
            pos += (ext.length + 2) * 4 if nxt == IPV6_AH else (ext.length + 1) * 8
        elif nxt == IPV6_FRAGMENT_HEADER:
            frag = IPV6_FRAGMENT.read_within(data, pos, "fragment_header")
            if frag.offset_m >> 3:
                fragment = "later"
            elif frag.offset_m & 1:
                fragment = "first"
            nxt, pos = frag.next_header, pos + 8
        else:
            break
        if pos > len(data):
            raise DecodeError("extension header beyond the packet", offset=pos,
                              field="extension_header")
    return Datagram(src, dst, nxt, data[pos:end], fragment, pos, max(0, end - len(data)))


def _chunks(dg: Datagram) -> list[Chunk | Note]:
    """The DATA/I-DATA chunks of an SCTP packet (RFC 9260 3); a first IP fragment, or a
    packet the capture's snapshot length cut short, stops at the chunk it cuts, with a note."""
    data, base = dg.payload, dg.payload_offset
    common = SCTP_COMMON.read_within(data, 0, "sctp_common_header")
    src, dst = (f"{dg.src}:{common.src_port}" if dg.src else str(common.src_port),
                f"{dg.dst}:{common.dst_port}" if dg.dst else str(common.dst_port))
    out: list[Chunk | Note] = []
    off = SCTP_COMMON.size
    while off + CHUNK.size <= len(data):
        c = CHUNK.read(data, off)
        if c.length < 4:
            raise DecodeError(f"chunk length {c.length}", offset=base + off + 2,
                              field="chunk_length")
        if off + c.length > len(data):
            if dg.fragment == "first":
                out.append(Note("ip", "fragment", src, dst,
                                {"note": "first IP fragment: a chunk continues in the next "
                                         "fragment, not reassembled"}))
                return out
            if dg.missing:
                captured = base + len(data)
                out.append(Note("sctp", "truncated", src, dst,
                                {"note": f"captured {captured} of {captured + dg.missing} "
                                         f"octets: chunk type {c.type} cut short"}))
                return out
            raise DecodeError(f"chunk type {c.type} truncated", offset=base + off,
                              field="chunk_length")
        if c.type in (CHUNK_DATA, CHUNK_I_DATA):
            head = DATA if c.type == CHUNK_DATA else I_DATA
            size = 4 + head.size
            if c.length < size:
                raise DecodeError("DATA chunk shorter than its header", offset=base + off + 2,
                                  field="chunk_length")
            d = head.read(data, off + 4)
            if c.type == CHUNK_DATA:
                ppid = d.ppid
            else:
                ppid = d.ppid_fsn if c.flags & FLAG_B else None
            out.append(Chunk(src, dst, d.stream, d.tsn, ppid, c.flags,
                             data[off + size:off + c.length]))
        off += (c.length + 3) // 4 * 4
    return out


def unwrap(linktype: int, packet: bytes) -> list[Chunk | Note]:
    """The SCTP user-message chunks of one captured packet (empty: no SCTP DATA in it)."""
    if linktype == LINKTYPE_SCTP:  # SCTP without IP: the endpoints are ports alone
        return _chunks(Datagram("", "", IPPROTO_SCTP, packet, None, 0))
    ethertype, off = _network_offset(linktype, packet)
    if ethertype == ETHERTYPE_IPV4:
        dg = _ipv4(packet, off)
    elif ethertype == ETHERTYPE_IPV6:
        dg = _ipv6(packet, off)
    else:
        return []
    if dg.fragment == "later":
        return [Note("ip", "fragment", dg.src, dg.dst,
                     {"note": "later IP fragment, not reassembled"})]
    if dg.protocol == IPV6_ESP:
        return [Note("ip", "ESP", dg.src, dg.dst, {"note": "encrypted payload, not decoded"})]
    if dg.protocol != IPPROTO_SCTP:
        return []
    return _chunks(dg)


IP_LINKTYPES = (LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_IPV4,
                LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL, LINKTYPE_LOOP, LINKTYPE_SCTP)

Decoder = Callable[[bytes], list[dict[str, Any]]]


def _proto(chunk: Chunk) -> str | None:
    """The payload protocol named by the PPID; by the well-known port when the PPID is 0
    (unspecified) or not in the table (some stacks write it in host byte order: 0x03000000
    for M3UA), as Wireshark falls back from its PPID table to its port table."""
    name = PPID_NAMES.get(chunk.ppid) if chunk.ppid else None
    if name:
        return name
    for port in (chunk.dst, chunk.src):
        name = PORT_PROTOS.get(int(port.rsplit(":", 1)[-1]))
        if name:
            return name
    return None


def decode_packet(linktype: int, packet: bytes, protos: Mapping[str, Decoder]
                  ) -> list[dict[str, Any]]:
    """``cti decode`` records of one IP packet: each DATA chunk decoded by the decoder in
    ``protos`` named for its payload protocol, with ``src``/``dst`` (address:port) and
    ``direction``; a fragmented user message or a protocol without a decoder is one
    ``sctp`` record saying so.  A decoder's DecodeError is an ``error`` record."""
    out: list[dict[str, Any]] = []
    for item in unwrap(linktype, packet):
        addr = {"direction": f"{item.src}->{item.dst}", "src": item.src, "dst": item.dst}
        if isinstance(item, Note):
            out.append({"layer": item.layer, **addr, "message": item.message,
                        "fields": item.fields})
            continue
        name = _proto(item)
        fields = {"ppid": item.ppid, "protocol": name, "stream": item.stream, "tsn": item.tsn,
                  "length": len(item.data)}
        fn = protos.get(name) if name else None
        if item.fragment is not None or fn is None:
            what = (f"DATA {item.fragment} fragment, not reassembled" if item.fragment
                    else "DATA")
            out.append({"layer": "sctp", **addr, "message": what, "fields": fields})
            continue
        try:
            recs = fn(item.data)
        except DecodeError as e:
            recs = [{"layer": name, "message": None, "error": str(e)}]
        out.extend({"layer": rec["layer"], **addr,
                    **{k: v for k, v in rec.items() if k not in ("layer", "direction")}}
                   for rec in recs)
    return out
