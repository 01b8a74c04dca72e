"""Helpers to forge signatures for the attack fixtures: edit a signed document, then sign it again.

``resign`` lets xmlsec recompute every reference digest and the SignatureValue with a given private
key, so a forged document is cryptographically consistent and only the verifier's other checks can
catch it, which is the point of each fixture.
"""

from __future__ import annotations

import copy

import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from signing import constants as c

from .pki import Issued

DS = c.DS_NS
XADES = c.XADES_NS


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def signature_of(root: etree._Element) -> etree._Element:
    return root if root.tag == c.ds("Signature") else next(root.iter(c.ds("Signature")))


def resign(root: etree._Element, signer: Issued, signature: etree._Element | None = None) -> None:
    """Recompute all digests and the SignatureValue of ``signature`` (default: the first) with ``signer``."""
    sig = signature if signature is not None else signature_of(root)
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(
        signer.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        xmlsec.constants.KeyDataFormatPem,
    )
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in ("Id", "ID", "id"):
            if element.get(name):
                ctx.register_id(element, name)
                break
    for digest in sig.iter(c.ds("DigestValue")):
        if digest.getparent() is not None and digest.getparent().tag == c.ds("Reference"):
            digest.text = ""
    sig.find(c.ds("SignatureValue")).text = ""
    ctx.sign(sig)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def deep(element: etree._Element) -> etree._Element:
    return copy.deepcopy(element)
