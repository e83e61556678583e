"""The DAHDI userspace ABI (dahdi/user.h, DAHDI 2.x) as ctypes structures and ioctl numbers.

Everything here is checked against the real header by tests/test_dahdi_abi.py, which
compiles a C probe printing each size, offset and ioctl number.
"""

from __future__ import annotations

import ctypes

ELAST = 500  # read()/write() fail with this errno while an event is pending

# --- ioctl encoding (asm-generic/ioctl.h, as on x86 and arm) --------------------
_IOC_NONE, _IOC_WRITE, _IOC_READ = 0, 1, 2
DAHDI_CODE = 0xDA


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (DAHDI_CODE << 8) | nr


def _io(nr: int) -> int:
    return _ioc(_IOC_NONE, nr, 0)


def _ior(nr: int, ctype: type) -> int:
    return _ioc(_IOC_READ, nr, ctypes.sizeof(ctype))


def _iow(nr: int, ctype: type) -> int:
    return _ioc(_IOC_WRITE, nr, ctypes.sizeof(ctype))


def _iowr(nr: int, ctype: type) -> int:
    return _ioc(_IOC_READ | _IOC_WRITE, nr, ctypes.sizeof(ctype))


# --- structures --------------------------------------------------------------
class DahdiParams(ctypes.Structure):
    """struct dahdi_params (DAHDI_GET_PARAMS)."""

    _fields_ = [
        ("channo", ctypes.c_int), ("spanno", ctypes.c_int), ("chanpos", ctypes.c_int),
        ("sigtype", ctypes.c_int), ("sigcap", ctypes.c_int), ("rxisoffhook", ctypes.c_int),
        ("rxbits", ctypes.c_int), ("txbits", ctypes.c_int), ("txhooksig", ctypes.c_int),
        ("rxhooksig", ctypes.c_int), ("curlaw", ctypes.c_int), ("idlebits", ctypes.c_int),
        ("name", ctypes.c_char * 40),
        ("prewinktime", ctypes.c_int), ("preflashtime", ctypes.c_int),
        ("winktime", ctypes.c_int), ("flashtime", ctypes.c_int), ("starttime", ctypes.c_int),
        ("rxwinktime", ctypes.c_int), ("rxflashtime", ctypes.c_int),
        ("debouncetime", ctypes.c_int), ("pulsebreaktime", ctypes.c_int),
        ("pulsemaketime", ctypes.c_int), ("pulseaftertime", ctypes.c_int),
        ("chan_alarms", ctypes.c_uint32),
    ]


class DahdiSpanInfo(ctypes.Structure):
    """struct dahdi_spaninfo (DAHDI_SPANSTAT); packed in the header."""

    _pack_ = 1
    _fields_ = [
        ("spanno", ctypes.c_int), ("name", ctypes.c_char * 20), ("desc", ctypes.c_char * 40),
        ("alarms", ctypes.c_int), ("txlevel", ctypes.c_int), ("rxlevel", ctypes.c_int),
        ("bpvcount", ctypes.c_int), ("crc4count", ctypes.c_int), ("ebitcount", ctypes.c_int),
        ("fascount", ctypes.c_int), ("fecount", ctypes.c_uint32), ("cvcount", ctypes.c_uint32),
        ("becount", ctypes.c_uint32), ("prbs", ctypes.c_uint32), ("errsec", ctypes.c_uint32),
        ("irqmisses", ctypes.c_int), ("syncsrc", ctypes.c_int), ("numchans", ctypes.c_int),
        ("totalchans", ctypes.c_int), ("totalspans", ctypes.c_int), ("lbo", ctypes.c_int),
        ("lineconfig", ctypes.c_int), ("lboname", ctypes.c_char * 40),
        ("location", ctypes.c_char * 40), ("manufacturer", ctypes.c_char * 40),
        ("devicetype", ctypes.c_char * 40), ("irq", ctypes.c_int), ("linecompat", ctypes.c_int),
        ("spantype", ctypes.c_char * 6),
    ]


class DahdiBufferInfo(ctypes.Structure):
    """struct dahdi_bufferinfo (DAHDI_SET_BUFINFO)."""

    _fields_ = [("txbufpolicy", ctypes.c_int), ("rxbufpolicy", ctypes.c_int),
                ("numbufs", ctypes.c_int), ("bufsize", ctypes.c_int),
                ("readbufs", ctypes.c_int), ("writebufs", ctypes.c_int)]


class DahdiMaintInfo(ctypes.Structure):
    """struct dahdi_maintinfo (DAHDI_MAINT)."""

    _fields_ = [("spanno", ctypes.c_int), ("command", ctypes.c_int)]


class DahdiDynamicSpan(ctypes.Structure):
    """struct dahdi_dynamic_span (DAHDI_DYNAMIC_CREATE / DAHDI_DYNAMIC_DESTROY)."""

    _fields_ = [("driver", ctypes.c_char * 20), ("addr", ctypes.c_char * 40),
                ("numchans", ctypes.c_int), ("timing", ctypes.c_int), ("spanno", ctypes.c_int)]


_int = ctypes.c_int

IOCTLS = {
    "DAHDI_GET_BLOCKSIZE": _ior(1, _int),
    "DAHDI_SET_BLOCKSIZE": _iow(1, _int),
    "DAHDI_FLUSH": _iow(3, _int),
    "DAHDI_GET_PARAMS": _iowr(5, DahdiParams),
    "DAHDI_GETEVENT": _ior(8, _int),
    "DAHDI_IOMUX": _iowr(9, _int),
    "DAHDI_SPANSTAT": _iowr(10, DahdiSpanInfo),
    "DAHDI_MAINT": _iow(11, DahdiMaintInfo),
    "DAHDI_GET_BUFINFO": _ior(27, DahdiBufferInfo),
    "DAHDI_SET_BUFINFO": _iow(27, DahdiBufferInfo),
    "DAHDI_AUDIOMODE": _iow(32, _int),
    "DAHDI_HDLCRAWMODE": _iow(36, _int),
    "DAHDI_HDLCFCSMODE": _iow(37, _int),
    "DAHDI_SPECIFY": _iow(38, _int),
    "DAHDI_SETLAW": _iow(39, _int),
    "DAHDI_GETRXBITS": _ior(43, _int),
    "DAHDI_SETTXBITS": _iow(43, _int),
    "DAHDI_TIMERCONFIG": _iow(47, _int),
    "DAHDI_TIMERACK": _iow(48, _int),
    "DAHDI_DYNAMIC_CREATE": _iowr(80, DahdiDynamicSpan),
    "DAHDI_DYNAMIC_DESTROY": _iow(81, DahdiDynamicSpan),
}

# --- constants -----------------------------------------------------------------
CONSTANTS = {
    "ELAST": ELAST,
    "DAHDI_LAW_DEFAULT": 0, "DAHDI_LAW_MULAW": 1, "DAHDI_LAW_ALAW": 2,
    "DAHDI_POLICY_IMMEDIATE": 0, "DAHDI_POLICY_WHEN_FULL": 1, "DAHDI_POLICY_HALF_FULL": 2,
    "DAHDI_FLUSH_READ": 1, "DAHDI_FLUSH_WRITE": 2, "DAHDI_FLUSH_BOTH": 3,
    "DAHDI_ALARM_LOOPBACK": 1 << 1, "DAHDI_ALARM_YELLOW": 1 << 2, "DAHDI_ALARM_RED": 1 << 3,
    "DAHDI_ALARM_BLUE": 1 << 4, "DAHDI_ALARM_NOTOPEN": 1 << 5, "DAHDI_ALARM_LOS": 1 << 8,
    "DAHDI_ALARM_LFA": 1 << 9, "DAHDI_ALARM_LMFA": 1 << 10,
    "DAHDI_MAINT_NONE": 0, "DAHDI_MAINT_LOCALLOOP": 1, "DAHDI_MAINT_NETWORKLINELOOP": 2,
    "DAHDI_MAINT_NETWORKPAYLOADLOOP": 13,
    "DAHDI_IOMUX_READ": 1, "DAHDI_IOMUX_WRITE": 2, "DAHDI_IOMUX_SIGEVENT": 8,
    "DAHDI_IOMUX_NOWAIT": 0x100,
    "DAHDI_EVENT_NONE": 0, "DAHDI_EVENT_ALARM": 4, "DAHDI_EVENT_NOALARM": 5,
    "DAHDI_EVENT_ABORT": 6, "DAHDI_EVENT_OVERRUN": 7, "DAHDI_EVENT_BADFCS": 8,
    "DAHDI_EVENT_BITSCHANGED": 13, "DAHDI_EVENT_TIMER_EXPIRED": 15,
    "DAHDI_EVENT_REMOVED": 20, "DAHDI_EVENT_READ_OVERRUN": 29,
    "DAHDI_EVENT_WRITE_UNDERRUN": 30,
    "DAHDI_SIG_CLEAR": 1 << 7, "DAHDI_SIG_HDLCRAW": (1 << 8) | (1 << 7),
    "DAHDI_SIG_HDLCFCS": (1 << 9) | (1 << 8) | (1 << 7), "DAHDI_SIG_CAS": 1 << 15,
    "DAHDI_CONFIG_CCS": 1 << 8, "DAHDI_CONFIG_HDB3": 1 << 9, "DAHDI_CONFIG_CRC4": 1 << 10,
    "DAHDI_BITS_ABCD": 0xF,
}

#: the offsets the backend reads, checked against offsetof() in the real header
OFFSETS = {
    (struct.__name__, name): getattr(struct, name).offset
    for struct, names in (
        (DahdiSpanInfo, ("spanno", "alarms", "bpvcount", "crc4count", "ebitcount", "fascount",
                         "fecount", "cvcount", "becount", "errsec", "syncsrc", "totalchans",
                         "lineconfig", "spantype")),
        (DahdiParams, ("channo", "spanno", "chanpos", "sigtype", "rxbits", "txbits", "curlaw",
                       "name", "chan_alarms")),
        (DahdiBufferInfo, ("txbufpolicy", "rxbufpolicy", "numbufs", "bufsize", "readbufs",
                           "writebufs")),
        (DahdiMaintInfo, ("spanno", "command")),
        (DahdiDynamicSpan, ("driver", "addr", "numchans", "timing", "spanno")),
    )
    for name in names
}

#: C struct name for each ctypes structure
C_STRUCTS = {DahdiParams: "dahdi_params", DahdiSpanInfo: "dahdi_spaninfo",
             DahdiBufferInfo: "dahdi_bufferinfo", DahdiMaintInfo: "dahdi_maintinfo",
             DahdiDynamicSpan: "dahdi_dynamic_span"}
