"""Canonicalization (C14N) of document subsets, done by libxml2 through lxml.

libxml2 is the C14N engine of both lxml and xmlsec; lxml's whole-document path is several times faster
than the node-set path xmlsec takes for same-document references, which is what lets signing stay close
to the speed of the private-key operation (see ``bench/signing.py``).
"""

from __future__ import annotations

from lxml import etree

from . import constants as c
from .errors import InvalidInput

XML_NS = "http://www.w3.org/XML/1998/namespace"

_INCLUSIVE = {c.C14N_10, c.C14N_10_COMMENTS, c.C14N_11, c.C14N_11_COMMENTS}
_EXCLUSIVE = {c.EXC_C14N, c.EXC_C14N_COMMENTS}
_WITH_COMMENTS = {c.C14N_10_COMMENTS, c.C14N_11_COMMENTS, c.EXC_C14N_COMMENTS}
SUPPORTED = frozenset(_INCLUSIVE | _EXCLUSIVE)


def _inherited_xml_attributes(element: etree._Element, algorithm: str) -> dict[str, str]:
    """xml:* attributes an inclusive C14N apex inherits from ancestors outside the node-set.

    C14N 1.0, 2.4: all xml:* attributes of ancestors are rendered on the apex; C14N 1.1, 2.4: only
    xml:lang and xml:space (xml:id is not inherited and xml:base needs fix-up, which we leave out:
    an xml:base above a signature is refused by the verifier's reference checks, never produced here).
    """
    inherited: dict[str, str] = {}
    only_lang_space = algorithm in (c.C14N_11, c.C14N_11_COMMENTS)
    ancestor = element.getparent()
    while ancestor is not None:
        for name, value in ancestor.attrib.items():
            if not name.startswith(f"{{{XML_NS}}}") or name in inherited or name in element.attrib:
                continue
            if only_lang_space and name not in (f"{{{XML_NS}}}lang", f"{{{XML_NS}}}space"):
                continue
            inherited[name] = value
        ancestor = ancestor.getparent()
    return inherited


def canonicalize(element: etree._Element, algorithm: str, *, reference: bool = False) -> bytes:
    """Canonicalize the subtree rooted at ``element`` in its document context.

    With ``reference=True`` comments are dropped whatever the algorithm: a same-document reference
    (``#id``) selects its node-set without comments (XML-DSig 1.1, 4.4.3.3).
    """
    if algorithm not in SUPPORTED:
        raise InvalidInput(f"Nieobsługiwana metoda kanonikalizacji: {algorithm}", code="NIEOBSLUGIWANY_ALGORYTM")
    exclusive = algorithm in _EXCLUSIVE
    with_comments = algorithm in _WITH_COMMENTS and not reference
    inherited = {} if exclusive else _inherited_xml_attributes(element, algorithm)
    if not inherited:
        return _c14n(element, exclusive, with_comments)
    # lxml renders the in-scope namespaces on the apex but not the inherited xml:* attributes, so they
    # are put on the apex for the time of the call: the C14N output is the same.
    for name, value in inherited.items():
        element.set(name, value)
    try:
        return _c14n(element, exclusive, with_comments)
    finally:
        for name in inherited:
            del element.attrib[name]


def _c14n(node: etree._Element | etree._ElementTree, exclusive: bool, with_comments: bool) -> bytes:
    try:
        return etree.tostring(node, method="c14n", exclusive=exclusive, with_comments=with_comments)
    except etree.C14NError as exc:
        # C14N 1.0, 2: a relative namespace URI (xmlns="dokument") has no canonical form.
        raise InvalidInput(
            "Dokumentu nie da się kanonikalizować (np. względny URI przestrzeni nazw).", code="NIEPRAWIDLOWY_XML"
        ) from exc


def canonicalize_document(root: etree._Element, algorithm: str) -> bytes:
    """Canonicalize the whole document of ``root``: the node-set of a ``URI=""`` reference.

    That node-set never holds comments (XML-DSig 1.1, 4.4.3.3), so none are rendered.
    """
    if algorithm not in SUPPORTED:
        raise InvalidInput(f"Nieobsługiwana metoda kanonikalizacji: {algorithm}", code="NIEOBSLUGIWANY_ALGORYTM")
    return _c14n(root.getroottree(), algorithm in _EXCLUSIVE, False)
