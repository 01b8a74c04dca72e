"""Hardened XML parsing: no DTDs, no entities, no network, bounded size and depth (DESIGN.md, Security)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from contract.errors import ForbiddenXml, MalformedXml

# Depth is bounded by libxml2 itself (256 levels without XML_PARSE_HUGE, i.e. huge_tree=False).


#: The hardened parser's options, for lxml's other parsers (`XMLPullParser`) too.
OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_pis": True,
    "remove_comments": True,
}


def parser(**extra: Any) -> etree.XMLParser:
    """A parser that never loads a DTD, resolves an entity or touches the network; comments and processing
    instructions are dropped unless `extra` keeps them."""
    return etree.XMLParser(**{**OPTIONS, **extra})


def check_tree(root: etree._Element) -> None:
    """Refuse documents that declare a DTD or contain entity references."""
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise ForbiddenXml("Dokument XML zawiera deklarację DTD, której platforma nie przyjmuje.")
    for element in root.iter(etree.Entity):
        raise ForbiddenXml(
            f"Dokument XML zawiera odwołanie do encji ({element.text}), którego platforma nie przyjmuje."
        )


def parse_bytes(data: bytes, *, keep_comments: bool = False) -> etree._Element:
    """Parse a whole document with the hardened parser and the checks above (`keep_comments`: and its
    comments and processing instructions, for comparing documents exactly)."""
    # libxml2 may open an external DTD named in a DOCTYPE even with load_dtd=False, so a DOCTYPE is
    # refused before parsing, also in UTF-16/32 documents (recognised by their byte-order mark).
    probe = data
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            probe = data.decode(codec, errors="replace").encode("utf-8")
            break
    if b"<!DOCTYPE" in probe or b"<!ENTITY" in probe:
        raise ForbiddenXml("Dokument XML zawiera deklarację DTD lub encji, której platforma nie przyjmuje.")
    try:
        root = etree.fromstring(data, parser(remove_comments=False, remove_pis=False) if keep_comments else parser())
    except etree.XMLSyntaxError as error:
        raise MalformedXml(f"Dokument nie jest poprawnym XML (wiersz {error.lineno}).") from error
    check_tree(root)
    return root
