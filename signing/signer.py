"""The XAdES baseline B-B signer: enveloped signatures over XML documents, detached ones over any file.

The XML-DSig core follows XML Signature 1.1, 3.1 (reference generation, then signature generation). By
default the digests come from libxml2's C14N (``signing.c14n``) and the SignatureValue from the key
source, so a token key signs exactly the canonical SignedInfo and nothing leaves the token; with
``SignerConfig(core="xmlsec")`` python-xmlsec makes both. The tests require the two to produce the same
bytes, and check every signature with python-xmlsec, xmlsec1 and signxml.
"""

from __future__ import annotations

import base64
import codecs
import copy
import functools
import hashlib
import mimetypes
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

import xmlsec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from lxml import etree

from . import constants as c
from ._xmlsec_io import serving
from .c14n import SUPPORTED as SUPPORTED_C14N
from .c14n import canonicalize, canonicalize_document
from .errors import InvalidInput, InvalidKey
from .keys import SigningKey, SoftwareKey
from .safexml import DEFAULT_MAX_BYTES, parse_xml
from .xades import DataObject, build_qualifying_properties, format_signing_time


@dataclass(frozen=True)
class SignerConfig:
    """Options of :class:`XadesSigner`.

    ``c14n_method`` defaults to inclusive C14N 1.0, what Polish signing tools (and ePUAP) use; exclusive
    C14N is accepted too. ``include_chain`` adds the issuer certificates that came with the key to
    KeyInfo. ``description`` fills DataObjectFormat/Description. ``core``: "auto" computes the digests
    with libxml2's C14N (through lxml) and has the key source make the SignatureValue, which is how a
    token signs; "xmlsec" has python-xmlsec compute digests and SignatureValue itself (``ctx.sign``),
    about half as fast, and only for keys held in memory (PEM, PKCS#12). Both give the same signature.
    """

    c14n_method: str = c.C14N_10
    include_chain: bool = False
    description: str | None = None
    max_document_bytes: int = DEFAULT_MAX_BYTES
    core: Literal["auto", "xmlsec"] = "auto"

    def __post_init__(self) -> None:
        if self.c14n_method not in SUPPORTED_C14N or self.c14n_method.endswith("WithComments"):
            raise InvalidInput(
                f"Nieobsługiwana metoda kanonikalizacji: {self.c14n_method}", code="NIEOBSLUGIWANY_ALGORYTM"
            )


def _new_id(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(8)}"


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


class XadesSigner:
    """Makes XAdES baseline B-B signatures with one key; reusable for many documents."""

    def __init__(self, key: SigningKey, config: SignerConfig | None = None) -> None:
        self.key = key
        self.config = config or SignerConfig()
        # The parts that do not change from one signature to the next are built once, as two templates
        # (enveloped and detached); each signature deep-copies one and fills in ids, digests and time.
        self._enveloped = self._template([c.ENVELOPED, self.config.c14n_method], "text/xml")
        self._detached = self._template([], "application/octet-stream")
        self._xmlsec_key: xmlsec.Key | None = None
        if self.config.core == "xmlsec":
            if not isinstance(key, SoftwareKey):
                raise InvalidKey(
                    "Tryb xmlsec wymaga klucza w pamięci (PEM lub PKCS#12); klucz w tokenie podpisuje w trybie auto.",
                    code="NIEOBSLUGIWANY_KLUCZ",
                )
            pem = key.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            try:
                self._xmlsec_key = xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatPem)
            except xmlsec.Error as exc:
                raise InvalidKey("Biblioteka xmlsec nie przyjęła klucza.", code="NIEOBSLUGIWANY_KLUCZ") from exc

    def sign_enveloped(self, document: bytes, *, signing_time: datetime | None = None) -> bytes:
        """Sign the whole XML ``document`` and return it with the signature as the root's last child."""
        root = parse_xml(document, max_bytes=self.config.max_document_bytes)
        # The enveloped-signature transform removes exactly the Signature element, so the document
        # canonicalized before the Signature is added is the octet stream the verifier will digest.
        document_digest = "" if self._xmlsec_key else _b64_sha256(canonicalize_document(root, self.config.c14n_method))
        signature = self._signature(self._enveloped, None, document_digest, None, signing_time, root, None)
        spliced = _splice(document, root, signature)
        if spliced is not None:
            return spliced
        encoding = root.getroottree().docinfo.encoding or "UTF-8"
        return etree.tostring(root.getroottree(), xml_declaration=True, encoding=encoding)

    def sign_detached(
        self,
        data: bytes,
        uri: str,
        *,
        mime_type: str | None = None,
        signing_time: datetime | None = None,
    ) -> bytes:
        """Sign ``data`` known to the verifier as ``uri`` (usually its file name); return the signature XML."""
        if not uri or uri.startswith("#"):
            raise InvalidInput("Podpis zewnętrzny wymaga nazwy (URI) podpisywanego pliku.", code="BRAK_URI")
        mime = mime_type or mimetypes.guess_type(uri)[0] or "application/octet-stream"
        # A detached reference has no transforms: the digest is over the file's octets as they are.
        quoted = quote(uri, safe="/:@!$&'()*+,;=-._~%")
        signature = self._signature(self._detached, quoted, _b64_sha256(data), mime, signing_time, None, {quoted: data})
        return etree.tostring(signature, xml_declaration=True, encoding="UTF-8")

    def _template(self, transforms: list[str], mime_type: str) -> etree._Element:
        sig = etree.Element(c.ds("Signature"), nsmap={"ds": c.DS_NS}, Id="")
        signed_info = etree.SubElement(sig, c.ds("SignedInfo"))
        etree.SubElement(signed_info, c.ds("CanonicalizationMethod"), Algorithm=self.config.c14n_method)
        etree.SubElement(signed_info, c.ds("SignatureMethod"), Algorithm=self.key.signature_method)
        _reference(signed_info, uri="", reference_id="", transforms=transforms)
        # EN 319 132-1, 6.3: a reference to SignedProperties, typed as such.
        _reference(
            signed_info, uri="", reference_id=None, transforms=[self.config.c14n_method], type_=c.SIGNED_PROPERTIES_TYPE
        )
        etree.SubElement(sig, c.ds("SignatureValue"), Id="")
        # EN 319 132-1, 6.3 (a): the signing certificate is in KeyInfo/X509Data.
        x509_data = etree.SubElement(etree.SubElement(sig, c.ds("KeyInfo")), c.ds("X509Data"))
        certificates = [self.key.certificate, *(self.key.chain if self.config.include_chain else ())]
        for cert in certificates:
            etree.SubElement(x509_data, c.ds("X509Certificate")).text = base64.b64encode(
                cert.public_bytes(Encoding.DER)
            ).decode("ascii")
        qualifying = build_qualifying_properties(
            signature_id="",
            signed_properties_id="",
            signing_time=datetime.now(UTC),
            certificate_digest_b64=_b64_sha256(self.key.certificate.public_bytes(Encoding.DER)),
            data_objects=[DataObject("", mime_type, self.config.description)],
        )
        etree.SubElement(sig, c.ds("Object")).append(qualifying)
        return sig

    def _signature(
        self,
        template: etree._Element,
        uri: str | None,
        data_digest: str,
        mime_type: str | None,
        signing_time: datetime | None,
        parent: etree._Element | None,
        detached: dict[str, bytes] | None,
    ) -> etree._Element:
        token = secrets.token_hex(8)
        signature_id = f"Signature-{token}"
        reference_id = f"Reference-{token}"
        signed_properties_id = f"SignedProperties-{token}"
        sig = copy.deepcopy(template)
        signed_info, signature_value, _key_info, ds_object = sig
        data_reference, sp_reference = signed_info[2], signed_info[3]
        qualifying = ds_object[0]
        signed_properties = qualifying[0]
        data_object_format = signed_properties[1][0]
        sig.set("Id", signature_id)
        signature_value.set("Id", f"{signature_id}-SignatureValue")
        data_reference.set("Id", reference_id)
        if uri is not None:
            data_reference.set("URI", uri)
        data_reference[-1].text = data_digest
        sp_reference.set("URI", f"#{signed_properties_id}")
        qualifying.set("Target", f"#{signature_id}")
        signed_properties.set("Id", signed_properties_id)
        signed_properties[0][0].text = format_signing_time(signing_time or datetime.now(UTC))
        data_object_format.set("ObjectReference", f"#{reference_id}")
        if mime_type is not None:
            data_object_format[-1].text = mime_type
        if parent is not None:
            # Attach before canonicalizing: inclusive C14N renders the namespaces in scope at the apex.
            parent.append(sig)
        if self._xmlsec_key is not None:
            return _sign_with_xmlsec(sig, signed_properties, self._xmlsec_key, detached or {})
        sp_reference[-1].text = _b64_sha256(canonicalize(signed_properties, self.config.c14n_method, reference=True))
        signature_value.text = base64.b64encode(
            self.key.sign(canonicalize(signed_info, self.config.c14n_method))
        ).decode("ascii")
        return sig


def _sign_with_xmlsec(
    sig: etree._Element, signed_properties: etree._Element, key: xmlsec.Key, detached: dict[str, bytes]
) -> etree._Element:
    """XML Signature 1.1, 3.1 done wholly by xmlsec: reference digests, then the SignatureValue."""
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    ctx.register_id(signed_properties, "Id")
    try:
        with serving(detached):
            ctx.sign(sig)
    except xmlsec.Error as exc:
        raise InvalidInput(f"Biblioteka xmlsec nie utworzyła podpisu: {exc}", code="BLAD_PODPISU") from exc
    return sig


def _reference(
    signed_info: etree._Element,
    *,
    uri: str,
    reference_id: str | None,
    transforms: list[str],
    type_: str | None = None,
) -> etree._Element:
    reference = etree.SubElement(signed_info, c.ds("Reference"))
    if reference_id is not None:
        reference.set("Id", reference_id)
    if type_:
        reference.set("Type", type_)
    reference.set("URI", uri)
    if transforms:
        transforms_element = etree.SubElement(reference, c.ds("Transforms"))
        for algorithm in transforms:
            etree.SubElement(transforms_element, c.ds("Transform"), Algorithm=algorithm)
    etree.SubElement(reference, c.ds("DigestMethod"), Algorithm=c.SHA256)
    etree.SubElement(reference, c.ds("DigestValue"))
    return reference


@functools.lru_cache(maxsize=32)
def _ascii_compatible(encoding: str) -> str | None:
    """The codec name, if ``encoding`` writes ASCII as ASCII (UTF-8, ISO-8859-2, windows-1250...)."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        return None
    return codec if "<a>".encode(codec) == b"<a>" else None


def _splice(document: bytes, root: etree._Element, signature: etree._Element) -> bytes | None:
    """Insert the serialized signature before the root's end tag in the original bytes, if that is safe.

    This keeps the signer's input byte for byte and spares a full re-serialization. It is done only
    when the encoding is ASCII-compatible and the document ends with the root's end tag (nothing but
    whitespace after it); otherwise the caller serializes the tree.
    """
    codec = _ascii_compatible(root.getroottree().docinfo.encoding or "UTF-8")
    if codec is None:
        return None
    prefix = root.prefix
    localname = etree.QName(root).localname
    try:
        end_tag = b"</" + (f"{prefix}:{localname}" if prefix else localname).encode(codec)
    except UnicodeError:
        return None
    end = len(document)
    while end and document[end - 1] in b" \t\r\n":
        end -= 1
    position = document.rfind(b"</", 0, end)
    if position < 0 or document[end - 1 : end] != b">" or document[position : end - 1].rstrip() != end_tag:
        return None
    # Serialized as ASCII (character references for anything else): valid in any ASCII-compatible
    # encoding, and C14N renders the same characters either way.
    return b"".join((document[:position], etree.tostring(signature), document[position:]))
