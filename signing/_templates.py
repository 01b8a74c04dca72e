"""Byte templates of a signature, made by lxml's own C14N and serializer and filled in per signature.

From one document to the next a signature changes only in a few fields: the ids, the signing time, the
two digests and the SignatureValue. The signer fills a signature with marker strings in place of those
fields, has libxml2 canonicalize SignedProperties and SignedInfo and serialize the Signature once, and
keeps each result split at the markers (:class:`ByteTemplate`). A later signature joins the pieces with
its own values. Markers and values are drawn from characters that C14N and the serializer both write
verbatim (letters, digits, the base64 and time punctuation: :data:`VERBATIM`), so the joined bytes are
exactly what canonicalizing or serializing the filled-in tree would give.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Written as is in text and attribute values by C14N 1.0/1.1 (sections 2.3, 2.4: only &, <, >, ", and
# TAB/CR/LF are escaped) and by libxml2's serializer (which also escapes >, and anything non-ASCII).
VERBATIM = re.compile(r"[A-Za-z0-9!$%()*+,\-./:;=?@_~]*")


class TemplateError(RuntimeError):
    """A template did not come out as expected (a marker went missing or was transformed)."""


class ByteTemplate:
    """Bytes with named holes: ``render`` puts a value in each hole."""

    __slots__ = ("_format", "fields")

    def __init__(self, text: bytes, markers: Mapping[str, str], leftover: bytes) -> None:
        """Split ``text`` at the ``markers`` (marker text → field name).

        ``leftover`` is the part every marker shares: finding it outside a marker afterwards means a
        marker was written differently from how it was given, and the template would be wrong.
        """
        pattern = re.compile(b"(" + b"|".join(re.escape(marker.encode("ascii")) for marker in markers) + b")")
        pieces: list[bytes] = []
        fields: set[str] = set()
        for index, piece in enumerate(pattern.split(text)):
            if index % 2:
                field = markers[piece.decode("ascii")]
                fields.add(field)
                pieces.append(b"%(" + field.encode("ascii") + b")b")
            elif leftover in piece:
                raise TemplateError("a marker was transformed by C14N or the serializer")
            else:
                pieces.append(piece.replace(b"%", b"%%"))
        # Kept as a printf-style format: filling it in is one C call (PEP 461).
        self._format = b"".join(pieces)
        self.fields = frozenset(fields)

    def render(self, values: Mapping[bytes, bytes]) -> bytes:
        """The text with every hole filled from ``values`` (field name → bytes written as they are)."""
        return self._format % values
