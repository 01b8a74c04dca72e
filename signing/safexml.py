"""Safe XML parsing for everything ``signing`` reads: no DTD, no entities, no network, bounded size.

A document with any DOCTYPE is refused outright (DESIGN.md, "XML input is parsed with entities, DTDs and
network access off, with size and depth limits"): XAdES documents never need one, and a DTD is the door
to XXE, billion-laughs and ID-injection (a DTD can declare which attribute is an ID, which is the basis of
several signature-wrapping attacks).
"""

from __future__ import annotations

import threading

from lxml import etree

from .errors import InvalidInput

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# libxml2 opens an external DTD named in a DOCTYPE even with load_dtd=False (seen with lxml 6.1: a
# SYSTEM "/etc/passwd" identifier is opened and read), so a DOCTYPE must be refused before the parser
# sees it. A DOCTYPE can only stand in the prolog (XML 1.0, 2.8), which is walked here; documents in a
# multi-byte encoding (UTF-16/32) are searched whole for the marker instead.
_WIDE_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(codec) for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


def _has_doctype(data: bytes) -> bool:
    if b"\x00" in data[:4]:
        return any(marker in data for marker in _WIDE_DOCTYPE_MARKERS)
    i = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    size = len(data)
    while i < size:
        if data[i] in b" \t\r\n":
            i += 1
        elif data.startswith(b"<?", i):
            i = data.find(b"?>", i + 2)
            if i < 0:
                return False  # malformed: the parser reports it
            i += 2
        elif data.startswith(b"<!--", i):
            i = data.find(b"-->", i + 4)
            if i < 0:
                return False
            i += 3
        else:
            # The first thing that is not the XML declaration, a PI, a comment or blank: either the root
            # element or a markup declaration ("<!DOCTYPE", or anything else starting "<!").
            return data.startswith(b"<!", i)
    return False


# One parser per thread: lxml parsers must not be shared between threads, and making one costs more
# than a small document's parse is worth saving (its libxml2 context is set up on first use).
_per_thread = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_per_thread, "parser", None)
    if parser is None:
        parser = _per_thread.parser = _new_parser()
    return parser


def _new_parser() -> etree.XMLParser:
    # resolve_entities/load_dtd/no_network: OWASP XXE prevention for libxml2. huge_tree stays off, so
    # libxml2 keeps its own limits on depth (256 levels) and on text node size.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "dokument") -> etree._Element:
    """Parse ``data`` into the root element, refusing DOCTYPEs, entities and oversized input."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInput(f"{what.capitalize()} musi być przekazany jako bajty.", code="NIEPRAWIDLOWE_DANE")
    data = bytes(data)
    if len(data) > max_bytes:
        raise InvalidInput(
            f"{what.capitalize()} ma {len(data)} bajtów, więcej niż dopuszczalne {max_bytes}.",
            code="DOKUMENT_ZA_DUZY",
        )
    if _has_doctype(data):
        raise InvalidInput(
            f"{what.capitalize()} zawiera deklarację DOCTYPE lub encje, które są niedozwolone.",
            code="DOCTYPE_NIEDOZWOLONY",
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        # The parser's own words are English: say where, in Polish (a clerk reads this).
        where = f" (wiersz {exc.lineno}, kolumna {exc.offset})" if exc.lineno else ""
        raise InvalidInput(f"{what.capitalize()} nie jest poprawnym XML{where}.", code="NIEPRAWIDLOWY_XML") from exc
    docinfo = root.getroottree().docinfo
    # Belt and braces: should a DOCTYPE slip past the byte scan, the parsed document is refused all the same.
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise InvalidInput(
            f"{what.capitalize()} zawiera deklarację DOCTYPE lub encje, które są niedozwolone.",
            code="DOCTYPE_NIEDOZWOLONY",
        )
    return root
