"""The XAdES baseline B-B signer: enveloped signatures over XML documents, detached ones over any file.

The XML-DSig core follows XML Signature 1.1, 3.1 (reference generation, then signature generation). By
default the digests come from libxml2's C14N (``signing.c14n``) and the SignatureValue from the key
source, so a token key signs exactly the canonical SignedInfo and nothing leaves the token; with
``SignerConfig(core="xmlsec")`` python-xmlsec makes both. The tests require the two to produce the same
bytes, and check every signature with python-xmlsec, xmlsec1 and signxml.

The default core does not build a tree per signature: the canonical SignedProperties and SignedInfo and
the serialized Signature are byte templates (``signing._templates``), made once per signer and document
context by the very C14N and serializer the tree path uses, and filled in with each signature's ids,
time, digests and value. A test requires the two paths to give the same bytes for documents of every
shape; what the templates do not cover (an encoding that does not write ASCII as ASCII, a document not
ending with its root's end tag, file names or media types that XML escapes) goes through the tree.
"""

from __future__ import annotations

import base64
import codecs
import copy
import functools
import hashlib
import mimetypes
import secrets
import time
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

import xmlsec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from lxml import etree

from . import constants as c
from ._cache import BoundedCache
from ._templates import VERBATIM, ByteTemplate
from ._xmlsec_io import serving
from .c14n import SUPPORTED as SUPPORTED_C14N
from .c14n import XML_NS, canonicalize, canonicalize_document
from .errors import InvalidInput, InvalidKey
from .keys import SigningKey, SoftwareKey
from .safexml import DEFAULT_MAX_BYTES, parse_xml
from .trust import issuer_chain
from .xades import SIGNING_TIME_FORMAT, DataObject, build_qualifying_properties, format_signing_time


@dataclass(frozen=True)
class SignerConfig:
    """Options of :class:`XadesSigner`.

    ``c14n_method`` defaults to inclusive C14N 1.0, what Polish signing tools (and ePUAP) use; exclusive
    C14N is accepted too. ``include_chain`` (on by default) puts the issuer certificates that came
    with the key (PKCS#12, PEM bundle, token) into KeyInfo after the signer's, nearest issuer first and
    without the root, so that a verifier holding only the root builds the path; off, KeyInfo holds the
    signer's certificate alone. ``description`` fills DataObjectFormat/Description. ``core``: "auto"
    computes the digests with libxml2's C14N (through lxml) and has the key source make the
    SignatureValue, which is how a token signs; "xmlsec" has python-xmlsec compute digests and
    SignatureValue itself (``ctx.sign``), about half as fast, and only for keys held in memory (PEM,
    PKCS#12). Both give the same signature.
    """

    c14n_method: str = c.C14N_10
    include_chain: bool = True
    description: str | None = None
    max_document_bytes: int = DEFAULT_MAX_BYTES
    core: Literal["auto", "xmlsec"] = "auto"

    def __post_init__(self) -> None:
        if self.c14n_method not in SUPPORTED_C14N or self.c14n_method.endswith("WithComments"):
            raise InvalidInput(
                f"Nieobsługiwana metoda kanonikalizacji: {self.c14n_method}", code="NIEOBSLUGIWANY_ALGORYTM"
            )


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


# The fields of a signature that change from one signature to the next (see ``signing._templates``).
_FIELDS = ("token", "signing_time", "uri", "mime_type", "data_digest", "properties_digest", "signature_value")
_XML_ATTRIBUTE = f"{{{XML_NS}}}"


@dataclass(frozen=True)
class _Filled:
    """A signature tree filled in for one signature, with the elements the core works on."""

    signature: etree._Element
    signed_info: etree._Element
    signed_properties: etree._Element
    properties_digest: etree._Element
    signature_value: etree._Element


@dataclass(frozen=True)
class _Templates:
    """One signature as byte templates: what is digested, what is signed, what is written out."""

    signed_properties: ByteTemplate  # canonical xades:SignedProperties
    signed_info: ByteTemplate  # canonical ds:SignedInfo
    signature: ByteTemplate  # ds:Signature as serialized into the document (detached: the whole file)


class XadesSigner:
    """Makes XAdES baseline B-B signatures with one key; reusable for many documents."""

    def __init__(self, key: SigningKey, config: SignerConfig | None = None) -> None:
        self.key = key
        self.config = config or SignerConfig()
        # The parts that do not change from one signature to the next are built once, as two trees
        # (enveloped and detached); the tree path deep-copies one and fills in ids, digests and time, and
        # the template path fills one in once per document context with markers (see ``_compile``).
        self._enveloped = self._template([c.ENVELOPED, self.config.c14n_method], "text/xml")
        self._detached = self._template([], "application/octet-stream")
        # Markers are random per signer, so that no certificate or description can contain one.
        self._marker_stem = f"Pole{secrets.token_hex(12)}"
        self._markers = {name: f"{self._marker_stem}{index:02d}x" for index, name in enumerate(_FIELDS)}
        self._templates: BoundedCache[Hashable, _Templates] = BoundedCache(64)
        # The tests clear this to compare the two paths byte for byte.
        self._templated = True
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
        docinfo = root.getroottree().docinfo
        position = _end_tag_position(document, root, docinfo.encoding)
        document_digest = ""
        if self._xmlsec_key is None:
            # The enveloped-signature transform removes exactly the Signature element, so the document
            # canonicalized before the Signature is added is the octet stream the verifier will digest.
            document_digest = _b64_sha256(canonicalize_document(root, self.config.c14n_method))
            if position is not None and self._templated:
                templates = self._templates.get(_context(root, docinfo), lambda: self._compile(self._enveloped, root))
                signature = self._render(templates, document_digest, signing_time)
                return b"".join((document[:position], signature, document[position:]))
        filled = self._fill(self._enveloped, secrets.token_hex(8), None, document_digest, None, signing_time, root)
        sig = self._sign_tree(filled, {})
        if position is not None:
            # Serialized as ASCII (character references for anything else): valid in any ASCII-compatible
            # encoding, and C14N renders the same characters either way.
            return b"".join((document[:position], etree.tostring(sig), document[position:]))
        return etree.tostring(root.getroottree(), xml_declaration=True, encoding=docinfo.encoding or "UTF-8")

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
        digest = _b64_sha256(data)
        if self._xmlsec_key is None and self._templated and VERBATIM.fullmatch(quoted) and VERBATIM.fullmatch(mime):
            templates = self._templates.get("detached", lambda: self._compile(self._detached, None))
            return self._render(templates, digest, signing_time, quoted.encode("ascii"), mime.encode("ascii"))
        filled = self._fill(self._detached, secrets.token_hex(8), quoted, digest, mime, signing_time, None)
        sig = self._sign_tree(filled, {quoted: data})
        return etree.tostring(sig, xml_declaration=True, encoding="UTF-8")

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
        # EN 319 132-1, 6.3 (a) asks for the signing certificate; XML Signature 1.1, 4.5.4 allows the rest
        # of the chain beside it, which verifiers that hold only a root (xmlsec1, signxml) need.
        chain = issuer_chain(self.key.certificate, self.key.chain) if self.config.include_chain else ()
        certificates = [self.key.certificate, *chain]
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

    def _fill(
        self,
        template: etree._Element,
        token: str,
        uri: str | None,
        data_digest: str,
        mime_type: str | None,
        signing_time: datetime | str | None,
        parent: etree._Element | None,
    ) -> _Filled:
        """A copy of ``template`` with this signature's ids, data reference and time; digests to come."""
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
        signed_properties[0][0].text = (
            signing_time if isinstance(signing_time, str) else _signing_time_text(signing_time)
        )
        data_object_format.set("ObjectReference", f"#{reference_id}")
        if mime_type is not None:
            data_object_format[-1].text = mime_type
        if parent is not None:
            # Attach before canonicalizing: inclusive C14N renders the namespaces in scope at the apex.
            parent.append(sig)
        return _Filled(sig, signed_info, signed_properties, sp_reference[-1], signature_value)

    def _sign_tree(self, filled: _Filled, detached: dict[str, bytes]) -> etree._Element:
        """XML Signature 1.1, 3.1 on the tree: the SignedProperties digest, then the SignatureValue."""
        if self._xmlsec_key is not None:
            return _sign_with_xmlsec(filled.signature, filled.signed_properties, self._xmlsec_key, detached)
        method = self.config.c14n_method
        filled.properties_digest.text = _b64_sha256(canonicalize(filled.signed_properties, method, reference=True))
        filled.signature_value.text = base64.b64encode(self.key.sign(canonicalize(filled.signed_info, method))).decode(
            "ascii"
        )
        return filled.signature

    def _compile(self, template: etree._Element, parent: etree._Element | None) -> _Templates:
        """Byte templates of a signature in ``parent``'s context (None: detached), by the tree path's own means.

        The signature is filled with markers, canonicalized and serialized exactly as ``_sign_tree`` and
        ``sign_enveloped`` do, then taken out of the document again.
        """
        marker = self._markers
        detached = parent is None
        filled = self._fill(
            template,
            marker["token"],
            marker["uri"] if detached else None,
            marker["data_digest"],
            marker["mime_type"] if detached else None,
            marker["signing_time"],
            parent,
        )
        method = self.config.c14n_method
        try:
            signed_properties = canonicalize(filled.signed_properties, method, reference=True)
            filled.properties_digest.text = marker["properties_digest"]
            signed_info = canonicalize(filled.signed_info, method)
            filled.signature_value.text = marker["signature_value"]
            if detached:
                serialized = etree.tostring(filled.signature, xml_declaration=True, encoding="UTF-8")
            else:
                serialized = etree.tostring(filled.signature)
        finally:
            if parent is not None:
                parent.remove(filled.signature)
        fields = {text: name for name, text in marker.items()}
        return _Templates(
            ByteTemplate(signed_properties, fields, self._marker_stem.encode("ascii")),
            ByteTemplate(signed_info, fields, self._marker_stem.encode("ascii")),
            ByteTemplate(serialized, fields, self._marker_stem.encode("ascii")),
        )

    def _render(
        self,
        templates: _Templates,
        data_digest: str,
        signing_time: datetime | None,
        uri: bytes = b"",
        mime_type: bytes = b"",
    ) -> bytes:
        """XML Signature 1.1, 3.1 on the templates: the same octets the tree path digests, signs and writes."""
        values = {
            b"token": secrets.token_hex(8).encode("ascii"),
            b"signing_time": _signing_time_text(signing_time).encode("ascii"),
            b"uri": uri,
            b"mime_type": mime_type,
            b"data_digest": data_digest.encode("ascii"),
        }
        values[b"properties_digest"] = _b64_sha256(templates.signed_properties.render(values)).encode("ascii")
        values[b"signature_value"] = base64.b64encode(self.key.sign(templates.signed_info.render(values)))
        return templates.signature.render(values)


def _signing_time_text(signing_time: datetime | None) -> str:
    """SigningTime as ``format_signing_time`` writes it; the current time without datetime's slow strftime."""
    if signing_time is not None:
        return format_signing_time(signing_time)
    return time.strftime(SIGNING_TIME_FORMAT, time.gmtime())


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


def _context(root: etree._Element, docinfo: etree.DocInfo) -> Hashable:
    """What of the document shows in the signature's canonical and serialized forms.

    lxml canonicalizes and serializes a subtree with the namespace declarations of its ancestors, in
    order, and ``signing.c14n`` adds the xml:* attributes an inclusive C14N apex inherits (C14N 1.0, 2.4);
    the root is the signature's only ancestor. Encoding and XML version are added for good measure.
    """
    inherited = tuple(item for item in root.attrib.items() if item[0].startswith(_XML_ATTRIBUTE))
    return (docinfo.encoding, docinfo.xml_version, tuple(root.nsmap.items()), inherited)


def _end_tag_position(document: bytes, root: etree._Element, encoding: str | None) -> int | None:
    """Where the root's end tag starts in ``document``, if the signature can be spliced in there.

    Splicing keeps the signer's input byte for byte and spares a full re-serialization. It is done only
    when the encoding is ASCII-compatible and the document ends with the root's end tag (nothing but
    whitespace after it); otherwise the caller serializes the tree.
    """
    codec = _ascii_compatible(encoding or "UTF-8")
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
    return position
