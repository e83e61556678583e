"""Typed errors shared by every decoder and by the config loader."""

from __future__ import annotations


class DecodeError(ValueError):
    """A message could not be decoded.

    ``offset`` is the octet offset into the input where decoding failed and ``field``
    names the field being decoded; both appear in ``str(err)``.
    """

    def __init__(self, message: str, *, offset: int | None = None, field: str | None = None):
        self.offset = offset
        self.field = field
        where = []
        if field is not None:
            where.append(f"field {field}")
        if offset is not None:
            where.append(f"offset {offset}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class EncodeError(ValueError):
    """A message could not be encoded from the values given."""


class ConfigError(ValueError):
    """A configuration error naming file, line and key."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None):
        self.file, self.line, self.key = file, line, key
        loc = ":".join(str(x) for x in (file, line) if x is not None)
        prefix = f"{loc}: " if loc else ""
        keytxt = f"key '{key}': " if key else ""
        super().__init__(f"{prefix}{keytxt}{message}")
