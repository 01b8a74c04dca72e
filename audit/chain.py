"""The hash chain's canonical forms: how one record becomes the bytes its link hash covers.

Every record of the audit database, a disclosure (tag `U`) or a security event (tag `Z`), has a number
`nr` from one sequence shared by both tables, and `link = SHA-256(message)` (lowercase hex), where the
message names the record's tag, number and predecessor (`previous`: the link of record `nr - 1`, 64
zeros for the first record) and then its fields in a fixed order (`audit.schema`).

Format 2 (`message_v2`, every record written now) hashes exactly the bytes and types the readers get:

    <tag>2|<nr>|<previous>|<L1>,<L2>,…,<Ln>,<bytes of field 1><bytes of field 2>…<bytes of field n>

`Li` is the length in bytes of field i (UTF-8), empty for a missing value (NULL); a flag is the one
byte `1` or `0`. The lengths make the encoding injective, and nothing is rendered: a NUL byte or any
other change of the stored bytes changes the hash. The verifier also checks each value's storage type
(text, NULL only where allowed, the flag an integer 0 or 1; `audit.verify`), because two values of
different types can have the same bytes and readers treat them differently.

Format 1 (`message_v1`, registers written before format 2; see `audit.schema.FORMATS`) wrote each field
as `<length in characters>:<value>` or `-`, and the flag as `1:1`/`1:0`, after `<tag>|<nr>|<previous>|`.
Its records are still verified, with the same type checks and a check that no value holds a NUL (which
the writer never stored), so for them too the hashed form is exactly what readers read.

Values are hashed exactly as stored: times are text in one fixed-width UTC form (`format_time`), so no
driver-dependent conversion of a timestamp can make an untouched record look changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GENESIS = "0" * 64
"""The 'previous link' of the first record of a chain."""

DISCLOSURE_TAG = "U"
EVENT_TAG = "Z"

FORMAT_1 = 1
FORMAT_2 = 2
CURRENT_FORMAT = FORMAT_2
"""The format every record is written in now."""

Value = str | bool | None
"""A field as hashed: text, a flag, or missing."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class Head:
    """The chain's last record: its number and link (0 and 64 zeros for an empty chain)."""

    nr: int
    link: str


def format_time(value: dt.datetime) -> str:
    """The stored and hashed form of a time: UTC, microseconds, fixed width (`2026-11-25T10:00:00.000000Z`).

    A naive time is taken to be UTC already. Fixed width keeps text comparison equal to time order.
    """
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    # isoformat() is `_TIME_FORMAT` for years 1000-9999, at a third of strftime's cost (once per record).
    return value.isoformat(timespec="microseconds") + "Z"


def parse_time(value: str) -> dt.datetime:
    """The inverse of `format_time`: an aware UTC datetime."""
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def clean(value: str) -> str:
    """A text value as it may be stored: NUL characters become U+FFFD.

    PostgreSQL cannot store NUL in text; replacing it before storing keeps what is stored, hashed and read
    identical in every database (and lets the verifier treat any NUL as a change).
    """
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


_FLAGS: dict[object, bytes] = {True: b"1", False: b"0"}


_encode = str.encode


def message_v2(tag: str, nr: int, previous: str, values: Sequence[Value]) -> bytes:
    """The bytes a format-2 link covers (see the module's docstring)."""
    # This runs for every record a request writes (`AuditStore.append`): a disclosure's values are all text
    # but for a missing PESEL, so they are encoded in one C-level pass; a None or a flag takes the general way.
    try:
        parts = list(map(_encode, values))  # type: ignore[arg-type]
    except TypeError:
        pass
    else:
        return f"{tag}{FORMAT_2}|{nr}|{previous}|{','.join(map(str, map(len, parts)))},".encode() + b"".join(parts)
    parts = [v.encode() if isinstance(v, str) else _FLAGS.get(v, b"") for v in values]
    if None in values:
        lengths = ",".join(["" if v is None else str(len(p)) for v, p in zip(values, parts, strict=True)])
    else:
        lengths = ",".join(map(str, map(len, parts)))
    return f"{tag}{FORMAT_2}|{nr}|{previous}|{lengths},".encode() + b"".join(parts)


def link_v2(tag: str, nr: int, previous: str, values: Sequence[Value]) -> str:
    """The format-2 link of a record with these field values."""
    return hashlib.sha256(message_v2(tag, nr, previous, values)).hexdigest()


def encode_fields(values: Iterable[str | None]) -> str:
    """Format 1: the content string of a record: each value as `<length>:<value>`, a missing one as `-`."""
    return "".join("-" if value is None else f"{len(value)}:{value}" for value in values)


def link(tag: str, nr: int, previous: str, content: str) -> str:
    """Format 1: the link hash of one record from its content string (`encode_fields`)."""
    return hashlib.sha256(f"{tag}|{nr}|{previous}|{content}".encode()).hexdigest()


def relink(message: bytes, *, nr: int | None = None, previous: str | None = None) -> str:
    """The link a record's message (either format) would have with another number or predecessor."""
    head, number, before, content = message.split(b"|", 3)
    if nr is not None:
        number = str(nr).encode()
    if previous is not None:
        before = previous.encode()
    return hashlib.sha256(b"|".join((head, number, before, content))).hexdigest()
