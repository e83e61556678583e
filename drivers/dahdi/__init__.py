"""DAHDI backend: the real DAHDI userspace API through fcntl.ioctl and ctypes structures."""

from drivers.dahdi.channel import DahdiChannel
from drivers.dahdi.span import DahdiBoard, DahdiSpan, DahdiTimer, alarm_names

__all__ = ["DahdiBoard", "DahdiChannel", "DahdiSpan", "DahdiTimer", "alarm_names"]
