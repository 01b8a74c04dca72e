"""XAdES qualifying properties, built and read with lxml (signxml's ``xades/`` is the model).

Only the signed properties of a baseline B-B signature are made: SigningTime, SigningCertificateV2 and
one DataObjectFormat per signed data object (ETSI EN 319 132-1, 6.3).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from . import constants as c
from .errors import InvalidInput


@dataclass(frozen=True)
class DataObject:
    """A signed data object as DataObjectFormat describes it."""

    reference_id: str
    mime_type: str
    description: str | None = None


@dataclass(frozen=True)
class CertificateDigest:
    """One ``xades:Cert`` of SigningCertificate(V2): a digest algorithm URI and the digest value."""

    algorithm: str
    value: bytes


@dataclass(frozen=True)
class SignedPropertiesData:
    """What a verifier reads from ``xades:SignedProperties``."""

    signing_time: datetime | None
    signing_time_text: str | None
    certificate_digests: tuple[CertificateDigest, ...]
    signing_certificate_version: int  # 2 for SigningCertificateV2, 1 for the legacy element, 0 if none
    data_objects: tuple[DataObject, ...]


SIGNING_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_signing_time(moment: datetime) -> str:
    """xsd:dateTime in UTC with a ``Z``, seconds precision (EN 319 132-1, SigningTime)."""
    return moment.astimezone(UTC).strftime(SIGNING_TIME_FORMAT)


#: XML Schema 1.0's dateTime lexical form (3.2.7), four-digit years (Python's own range).
_XSD_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)


def parse_signing_time(text: str) -> datetime:
    """Parse an xsd:dateTime; a value without a time zone is taken as UTC."""
    value = text.strip()
    # xsd:dateTime only (EN 319 132-1): Python's fromisoformat also reads a week date, a date alone, the basic
    # format and a space for the T, which a schema-validating verifier (DSS) refuses.
    if _XSD_DATETIME.fullmatch(value) is None:
        raise ValueError(f"not an xsd:dateTime: {text[:64]}")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError as exc:
        # 0001-01-01T00:00:00+14:00 is a valid xsd:dateTime whose UTC time falls outside datetime's range.
        raise ValueError(f"signing time out of range: {text}") from exc


def build_qualifying_properties(
    *,
    signature_id: str,
    signed_properties_id: str,
    signing_time: datetime,
    certificate_digest_b64: str,
    data_objects: list[DataObject],
) -> etree._Element:
    """Build ``xades:QualifyingProperties`` with the signed properties of a B-B signature."""
    qp = etree.Element(c.xades("QualifyingProperties"), nsmap={"xades": c.XADES_NS}, Target=f"#{signature_id}")
    sp = etree.SubElement(qp, c.xades("SignedProperties"), Id=signed_properties_id)
    ssp = etree.SubElement(sp, c.xades("SignedSignatureProperties"))
    etree.SubElement(ssp, c.xades("SigningTime")).text = format_signing_time(signing_time)
    # EN 319 132-1, 6.3 (j): SigningCertificateV2 references the signing certificate only, without
    # IssuerSerialV2; (i): no URI attribute on Cert.
    cert = etree.SubElement(etree.SubElement(ssp, c.xades("SigningCertificateV2")), c.xades("Cert"))
    digest = etree.SubElement(cert, c.xades("CertDigest"))
    etree.SubElement(digest, c.ds("DigestMethod"), Algorithm=c.SHA256)
    etree.SubElement(digest, c.ds("DigestValue")).text = certificate_digest_b64
    # EN 319 132-1, 6.3 (k): a DataObjectFormat with a MimeType for each signed data object.
    sdop = etree.SubElement(sp, c.xades("SignedDataObjectProperties"))
    for data_object in data_objects:
        dof = etree.SubElement(sdop, c.xades("DataObjectFormat"), ObjectReference=f"#{data_object.reference_id}")
        if data_object.description:
            etree.SubElement(dof, c.xades("Description")).text = data_object.description
        etree.SubElement(dof, c.xades("MimeType")).text = data_object.mime_type
    return qp


def _b64(text: str | None) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("Nieprawidłowa wartość base64 w podpisie.", code="NIEPRAWIDLOWA_STRUKTURA") from exc


def _certificate_digests(container: etree._Element) -> tuple[CertificateDigest, ...]:
    digests = []
    for cert in container.iterfind(c.xades("Cert")):
        method = cert.find(f"{c.xades('CertDigest')}/{c.ds('DigestMethod')}")
        value = cert.find(f"{c.xades('CertDigest')}/{c.ds('DigestValue')}")
        if method is None or value is None:
            raise InvalidInput("Element xades:Cert nie ma skrótu certyfikatu.", code="NIEPRAWIDLOWA_STRUKTURA")
        digests.append(CertificateDigest(method.get("Algorithm", ""), _b64(value.text)))
    return tuple(digests)


def read_signed_properties(signed_properties: etree._Element) -> SignedPropertiesData:
    """Read SigningTime, SigningCertificate(V2) and DataObjectFormat from ``xades:SignedProperties``."""
    ssp = signed_properties.find(c.xades("SignedSignatureProperties"))
    signing_time = None
    signing_time_text = None
    digests: tuple[CertificateDigest, ...] = ()
    version = 0
    if ssp is not None:
        st = ssp.find(c.xades("SigningTime"))
        if st is not None and st.text:
            signing_time_text = st.text.strip()
            try:
                signing_time = parse_signing_time(signing_time_text)
            except ValueError as exc:
                raise InvalidInput(
                    f"Nieprawidłowy czas podpisu: {signing_time_text}", code="NIEPRAWIDLOWA_STRUKTURA"
                ) from exc
        v2 = ssp.findall(c.xades("SigningCertificateV2"))
        v1 = ssp.findall(c.xades("SigningCertificate"))
        if len(v2) + len(v1) > 1:
            raise InvalidInput(
                "Podpis zawiera więcej niż jeden element SigningCertificate(V2).", code="NIEPRAWIDLOWA_STRUKTURA"
            )
        if v2:
            digests, version = _certificate_digests(v2[0]), 2
        elif v1:
            digests, version = _certificate_digests(v1[0]), 1
    data_objects = []
    for dof in signed_properties.iterfind(f"{c.xades('SignedDataObjectProperties')}/{c.xades('DataObjectFormat')}"):
        mime = dof.findtext(c.xades("MimeType"))
        data_objects.append(
            DataObject(
                reference_id=dof.get("ObjectReference", "").lstrip("#"),
                mime_type=(mime or "").strip(),
                description=dof.findtext(c.xades("Description")),
            )
        )
    return SignedPropertiesData(signing_time, signing_time_text, digests, version, tuple(data_objects))
