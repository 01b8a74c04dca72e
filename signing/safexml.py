"""Safe XML parsing for everything ``signing`` reads: no DTD, no entities, no network, bounded size.

A document with any DOCTYPE is refused outright (DESIGN.md, "XML input is parsed with entities, DTDs and
network access off, with size and depth limits"): XAdES documents never need one, and a DTD is the door
to XXE, billion-laughs and ID-injection (a DTD can declare which attribute is an ID, which is the basis of
several signature-wrapping attacks).
"""

from __future__ import annotations

from lxml import etree

from .errors import InvalidInput

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# libxml2 opens an external DTD named in a DOCTYPE even with load_dtd=False (seen with lxml 6.1: a
# SYSTEM "/etc/passwd" identifier is opened and read), so a DOCTYPE must be refused before the parser
# sees it. The markers are searched anywhere in the bytes, in the single-byte, UTF-16 and UTF-32 spellings; a
# "<!DOCTYPE" inside a comment or CDATA section is refused too, which is the price of not parsing.
_DOCTYPE_MARKERS = (
    b"<!DOCTYPE",
    "<!DOCTYPE".encode("utf-16-le"),
    "<!DOCTYPE".encode("utf-16-be"),
    "<!DOCTYPE".encode("utf-32-le"),
    "<!DOCTYPE".encode("utf-32-be"),
    b"<!ENTITY",
)


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers must not be shared between threads.
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
    if any(marker in data for marker in _DOCTYPE_MARKERS):
        raise InvalidInput(
            f"{what.capitalize()} zawiera deklarację DOCTYPE lub encje, które są niedozwolone.",
            code="DOCTYPE_NIEDOZWOLONY",
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(
            f"{what.capitalize()} nie jest poprawnym XML: {exc.msg}", code="NIEPRAWIDLOWY_XML"
        ) from exc
    docinfo = root.getroottree().docinfo
    # Belt and braces: should a DOCTYPE slip past the byte scan, the parsed document is refused all the same.
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise InvalidInput(
            f"{what.capitalize()} zawiera deklarację DOCTYPE lub encje, które są niedozwolone.",
            code="DOCTYPE_NIEDOZWOLONY",
        )
    return root
