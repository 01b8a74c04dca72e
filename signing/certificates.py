"""What a signer's certificate says: who (name, PESEL), and whether it is qualified.

QCStatements (RFC 3739, 3.2.6) are not parsed by ``cryptography``; the few bytes of DER needed are read
here by a minimal reader rather than pulling in an ASN.1 library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID, ObjectIdentifier

from contract.errors import InvalidPesel
from contract.identifiers import validate_pesel

QC_STATEMENTS = ObjectIdentifier("1.3.6.1.5.5.7.1.3")  # RFC 3739, id-pe-qcStatements
# ETSI EN 319 412-5, 4.2.1-4.2.3 and 5: the ETSI statements.
QC_COMPLIANCE = "0.4.0.1862.1.1"
QC_SSCD = "0.4.0.1862.1.4"
QC_TYPE = "0.4.0.1862.1.6"
QC_TYPE_ESIGN = "0.4.0.1862.1.6.1"
QC_TYPE_ESEAL = "0.4.0.1862.1.6.2"
QC_TYPE_WEB = "0.4.0.1862.1.6.3"
QC_TYPE_NAMES = {QC_TYPE_ESIGN: "esign", QC_TYPE_ESEAL: "eseal", QC_TYPE_WEB: "web"}

# ETSI EN 319 412-1, 5.1.3: a natural person's identifier in subject serialNumber is "PNO" + ISO 3166
# country code + "-" + the national number; for Poland, the PESEL.
PESEL_PREFIX = "PNOPL-"


class DerError(ValueError):
    """The DER could not be read."""


def _read_tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """Read one tag-length-value at ``offset``: return (tag, value, offset after it)."""
    if offset + 2 > len(data):
        raise DerError("truncated")
    tag = data[offset]
    length = data[offset + 1]
    offset += 2
    if length & 0x80:
        size = length & 0x7F
        if size == 0 or size > 4 or offset + size > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[offset : offset + size], "big")
        offset += size
    if offset + length > len(data):
        raise DerError("truncated")
    return tag, data[offset : offset + length], offset + length


def _children(data: bytes) -> list[tuple[int, bytes]]:
    items = []
    offset = 0
    while offset < len(data):
        tag, value, offset = _read_tlv(data, offset)
        items.append((tag, value))
    return items


def _oid(value: bytes) -> str:
    if not value:
        raise DerError("empty OID")
    first = value[0]
    arcs = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    current = 0
    for byte in value[1:]:
        current = (current << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(current)
            current = 0
    return ".".join(str(arc) for arc in arcs)


@dataclass(frozen=True)
class QcStatements:
    """The ETSI QCStatements found in a certificate."""

    compliance: bool = False
    sscd: bool = False
    types: tuple[str, ...] = ()
    statement_ids: tuple[str, ...] = ()

    @property
    def esign(self) -> bool:
        """QcType says "electronic signature" (EN 319 412-5, 4.2.3)."""
        return QC_TYPE_ESIGN in self.types


def read_qc_statements(cert: x509.Certificate) -> QcStatements | None:
    """Return the certificate's QCStatements, or None when it has none (or they cannot be read)."""
    try:
        extension = cert.extensions.get_extension_for_oid(QC_STATEMENTS)
    except x509.ExtensionNotFound:
        return None
    raw = extension.value.value if isinstance(extension.value, x509.UnrecognizedExtension) else b""
    try:
        tag, body, _ = _read_tlv(raw, 0)
        if tag != 0x30:
            raise DerError("not a SEQUENCE")
        compliance = sscd = False
        types: list[str] = []
        ids: list[str] = []
        for statement_tag, statement in _children(body):
            if statement_tag != 0x30:
                raise DerError("statement not a SEQUENCE")
            parts = _children(statement)
            if not parts or parts[0][0] != 0x06:
                raise DerError("statement without an OID")
            statement_id = _oid(parts[0][1])
            ids.append(statement_id)
            if statement_id == QC_COMPLIANCE:
                compliance = True
            elif statement_id == QC_SSCD:
                sscd = True
            elif statement_id == QC_TYPE and len(parts) > 1 and parts[1][0] == 0x30:
                types.extend(_oid(value) for tag_, value in _children(parts[1][1]) if tag_ == 0x06)
    except DerError:
        return None
    return QcStatements(compliance, sscd, tuple(types), tuple(ids))


_DN_NAMES = {
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.GIVEN_NAME: "GN",
    NameOID.SURNAME: "SN",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
}


def dn(name: x509.Name) -> str:
    """An RFC 4514 string of ``name`` with readable names for the attributes Polish certificates use."""
    return name.rfc4514_string(_DN_NAMES)


def display_name(name: x509.Name) -> str:
    """The common name, or the whole DN when there is none."""
    return _attribute(name, NameOID.COMMON_NAME) or dn(name)


def _attribute(name: x509.Name, oid: ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


@dataclass(frozen=True)
class CertificateFacts:
    """What the verification report says about the signer's certificate."""

    subject: str
    issuer: str
    serial_number: str
    common_name: str | None
    given_name: str | None
    surname: str | None
    organization: str | None
    subject_serial_number: str | None
    pesel: str | None
    not_before: datetime
    not_after: datetime
    qc_compliance: bool
    qc_sscd: bool
    qc_types: tuple[str, ...]
    key_usage_present: bool
    non_repudiation: bool
    digital_signature: bool
    sha256: str = ""  # SHA-256 of the certificate's DER, hex: which certificate exactly (e.g. an office's seal)

    @property
    def signer_name(self) -> str:
        """The signer's name as a person reads it: CN, or given name and surname."""
        if self.common_name:
            return self.common_name
        return " ".join(part for part in (self.given_name, self.surname) if part) or self.subject

    @property
    def qc_esign(self) -> bool:
        """QcType includes esign."""
        return QC_TYPE_ESIGN in self.qc_types

    @property
    def qualified_for_esignature(self) -> bool:
        """A qualified certificate for electronic signatures on a QSCD, as EN 319 412-5 marks it.

        QcCompliance (EU qualified certificate), QcSSCD (key in a qualified signature creation device),
        QcType esign, and keyUsage nonRepudiation (EN 319 412-2, 4.3.2: content commitment for
        certificates supporting qualified signatures).
        """
        return not self.missing_for_esignature

    @property
    def missing_for_esignature(self) -> tuple[str, ...]:
        """What the certificate lacks of `qualified_for_esignature`, each named in Polish (genitive, after
        "brakuje"); empty for a qualified one."""
        return tuple(
            name
            for name, present in (
                ("deklaracji QcCompliance", self.qc_compliance),
                ("deklaracji QcSSCD (klucz na kwalifikowanym urządzeniu)", self.qc_sscd),
                ("typu QcType esign (podpis elektroniczny)", self.qc_esign),
                ("użycia klucza nonRepudiation (niezaprzeczalność)", self.non_repudiation),
            )
            if not present
        )


def pesel_from_serial_number(serial_number: str | None) -> str | None:
    """The PESEL from a subject serialNumber ``PNOPL-<PESEL>``, if present and valid."""
    if not serial_number or not serial_number.upper().startswith(PESEL_PREFIX):
        return None
    try:
        return validate_pesel(serial_number[len(PESEL_PREFIX) :])
    except InvalidPesel:
        return None


def describe(cert: x509.Certificate) -> CertificateFacts:
    """Collect the facts about ``cert`` that the verification report shows."""
    subject_serial = _attribute(cert.subject, NameOID.SERIAL_NUMBER)
    qc = read_qc_statements(cert)
    try:
        key_usage: x509.KeyUsage | None = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        key_usage = None
    return CertificateFacts(
        subject=dn(cert.subject),
        issuer=dn(cert.issuer),
        serial_number=format(cert.serial_number, "X"),
        common_name=_attribute(cert.subject, NameOID.COMMON_NAME),
        given_name=_attribute(cert.subject, NameOID.GIVEN_NAME),
        surname=_attribute(cert.subject, NameOID.SURNAME),
        organization=_attribute(cert.subject, NameOID.ORGANIZATION_NAME),
        subject_serial_number=subject_serial,
        pesel=pesel_from_serial_number(subject_serial),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        qc_compliance=bool(qc and qc.compliance),
        qc_sscd=bool(qc and qc.sscd),
        qc_types=qc.types if qc else (),
        key_usage_present=key_usage is not None,
        non_repudiation=bool(key_usage and key_usage.content_commitment),
        digital_signature=bool(key_usage and key_usage.digital_signature),
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
    )
