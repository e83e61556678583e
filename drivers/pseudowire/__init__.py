"""E1 over UDP pseudowires: SAToP (RFC 4553) and CESoPSN with or without CAS (RFC 5086)."""

from drivers.pseudowire.iwf import Iwf
from drivers.pseudowire.jitter import JitterBuffer, PwCounters
from drivers.pseudowire.payload import MODES, PayloadFormat
from drivers.pseudowire.span import PseudowireBoard, PseudowireConfig, PseudowireSpan
from drivers.pseudowire.wire import Header, PseudowireDecodeError, decode, encode

__all__ = ["MODES", "Header", "Iwf", "JitterBuffer", "PayloadFormat", "PseudowireBoard",
           "PseudowireConfig", "PseudowireDecodeError", "PseudowireSpan", "PwCounters",
           "decode", "encode"]
