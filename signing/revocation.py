"""Revocation status from a CRL (RFC 5280, 5 and 6.3) or an OCSP response (RFC 6960).

Answers come from what the caller supplies, and, when asked, from the CRL distribution points and OCSP
responders named in the certificate (plain HTTP, as RFC 5280, 4.2.1.13 and RFC 6960, A.1 use). Every
answer is checked: a CRL must be signed by the certificate's issuer, an OCSP response by the issuer or
by a responder the issuer delegated (id-kp-OCSPSigning).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from ._cache import BoundedCache

MAX_DOWNLOAD_BYTES = 32 * 1024 * 1024


class RevocationState(Enum):
    """GOOD: not revoked; REVOKED: revoked (or suspended); UNKNOWN: no usable answer."""

    GOOD = "GOOD"
    REVOKED = "REVOKED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class RevocationStatus:
    """The revocation status of one certificate and where it came from."""

    state: RevocationState
    source: str | None = None  # "CRL" or "OCSP"
    revoked_at: datetime | None = None
    reason: str | None = None
    produced_at: datetime | None = None
    note: str | None = None
    #: The issuer's own answer, past its nextUpdate (RFC 5280, 6.3.3 (a)(2); RFC 6960, 4.2.2.1): what it says
    #: may no longer hold, so the status cannot be established (ETSI EN 319 102-1: INDETERMINATE).
    stale: bool = False


@dataclass(frozen=True)
class RevocationSources:
    """CRLs and OCSP responses given by the caller, and whether to fetch more over the network."""

    crls: tuple[x509.CertificateRevocationList, ...] = ()
    ocsp_responses: tuple[bytes, ...] = ()
    online: bool = False
    timeout: float = 5.0
    _crl_checks: BoundedCache[tuple[int, x509.Certificate], tuple[object, bool]] = field(
        default_factory=BoundedCache, compare=False, repr=False
    )

    def crl_signed_by(self, crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
        """``crl`` is issued and signed by ``issuer`` (remembered for the CRLs given here)."""
        # Keyed by the CRL object's id; the CRL itself is kept in the value so the id stays its own.
        _kept, valid = self._crl_checks.get((id(crl), issuer), lambda: (crl, _crl_valid(crl, issuer)))
        return valid


def _verify_signed_by(
    public_key: object, signature: bytes, data: bytes, hash_algorithm: hashes.HashAlgorithm | None
) -> bool:
    if hash_algorithm is None:
        return False
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_algorithm))
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True


def _fetch(url: str, timeout: float, body: bytes | None = None) -> bytes | None:
    if not url.lower().startswith("http://") and not url.lower().startswith("https://"):
        return None
    headers = {"Content-Type": "application/ocsp-request"} if body is not None else {}
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data: bytes = response.read(MAX_DOWNLOAD_BYTES + 1)
    except (OSError, ValueError):
        return None
    return data if len(data) <= MAX_DOWNLOAD_BYTES else None


def _crl_urls(cert: x509.Certificate) -> list[str]:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for point in points
        for name in point.full_name or []
        if isinstance(name, x509.UniformResourceIdentifier)
    ]


def _ocsp_urls(cert: x509.Certificate) -> list[str]:
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        item.access_location.value
        for item in access
        if item.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(item.access_location, x509.UniformResourceIdentifier)
    ]


def _load_crl(data: bytes) -> x509.CertificateRevocationList | None:
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        return None


def _crl_valid(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    public_key = issuer.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return False
    return crl.issuer == issuer.subject and crl.is_signature_valid(public_key)


def _crl_scope(crl: x509.CertificateRevocationList, cert: x509.Certificate) -> str | None:
    """How far ``crl`` speaks of ``cert``: "" in full, a Polish note when in part, None when not at all.

    RFC 5280, 5.2.4, 5.2.5 and 6.3.3 (b): a CRL limited to CA (or end-entity, or attribute) certificates
    says nothing of other certificates, and a delta CRL or one for some reasons only cannot show that a
    certificate is not revoked. An indirect CRL's entries may be other issuers' (not followed here).
    """
    try:
        point = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    except x509.ExtensionNotFound:
        point = None
    except ValueError:
        return None
    if point is not None:
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except (x509.ExtensionNotFound, ValueError):
            is_ca = False
        if (
            point.indirect_crl
            or point.only_contains_attribute_certs
            or (point.only_contains_ca_certs and not is_ca)
            or (point.only_contains_user_certs and is_ca)
        ):
            return None
        if point.only_some_reasons:
            return "lista CRL obejmuje tylko niektóre przyczyny unieważnienia"
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    except x509.ExtensionNotFound:
        return ""
    return "lista CRL jest przyrostowa (delta CRL), bez pełnej listy bazowej"


def _from_crl(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    crl: x509.CertificateRevocationList,
    at: datetime,
    sources: RevocationSources | None = None,
) -> RevocationStatus | None:
    valid = sources.crl_signed_by(crl, issuer) if sources is not None else _crl_valid(crl, issuer)
    scope = _crl_scope(crl, cert)
    if not valid or scope is None:
        return None
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is not None:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
        except x509.ExtensionNotFound:
            reason = None
        return RevocationStatus(RevocationState.REVOKED, "CRL", entry.revocation_date_utc, reason, crl.last_update_utc)
    if scope:
        return RevocationStatus(RevocationState.UNKNOWN, "CRL", produced_at=crl.last_update_utc, note=scope)
    next_update = crl.next_update_utc
    if next_update is not None and next_update < at:
        return RevocationStatus(
            RevocationState.UNKNOWN,
            "CRL",
            produced_at=crl.last_update_utc,
            note=f"lista CRL jest nieaktualna (następna aktualizacja: {next_update:%Y-%m-%d %H:%M} UTC)",
            stale=True,
        )
    return RevocationStatus(RevocationState.GOOD, "CRL", produced_at=crl.last_update_utc)


def _responder_key(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> object | None:
    """The public key that may sign this response: the issuer's, or a delegated responder's."""

    def names(cert: x509.Certificate) -> bool:
        if response.responder_name is not None:
            return cert.subject == response.responder_name
        # RFC 6960, 4.2.1: byKey is the SHA-1 of the key's BIT STRING, as RFC 5280's key identifier
        # method (1) computes it.
        return response.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest

    if names(issuer):
        return issuer.public_key()
    for delegate in response.certificates:
        if not names(delegate):
            continue
        try:
            delegate.verify_directly_issued_by(issuer)
            usage = delegate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm, x509.ExtensionNotFound):
            continue
        # RFC 6960, 4.2.2.2: a delegated responder carries id-kp-OCSPSigning and is issued by the CA.
        if ExtendedKeyUsageOID.OCSP_SIGNING in usage:
            return delegate.public_key()
    return None


def _from_ocsp(cert: x509.Certificate, issuer: x509.Certificate, data: bytes, at: datetime) -> RevocationStatus | None:
    try:
        response = ocsp.load_der_ocsp_response(data)
    except ValueError:
        return None
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return None
    key = _responder_key(response, issuer)
    if key is None or not _verify_signed_by(
        key, response.signature, response.tbs_response_bytes, response.signature_hash_algorithm
    ):
        return None
    for single in response.responses:
        if single.serial_number != cert.serial_number:
            continue
        # RFC 6960, 4.1.1: CertID names the issuer by the hashes of its name and key; cryptography
        # computes the expected ones when it builds a request with the same hash algorithm.
        expected = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, single.hash_algorithm).build()
        if (single.issuer_name_hash, single.issuer_key_hash) != (expected.issuer_name_hash, expected.issuer_key_hash):
            continue
        if single.certificate_status == ocsp.OCSPCertStatus.GOOD:
            if single.next_update_utc is not None and single.next_update_utc < at:
                return RevocationStatus(
                    RevocationState.UNKNOWN,
                    "OCSP",
                    produced_at=response.produced_at_utc,
                    note=(
                        "odpowiedź OCSP jest nieaktualna "
                        f"(następna aktualizacja: {single.next_update_utc:%Y-%m-%d %H:%M} UTC)"
                    ),
                    stale=True,
                )
            return RevocationStatus(RevocationState.GOOD, "OCSP", produced_at=response.produced_at_utc)
        if single.certificate_status == ocsp.OCSPCertStatus.REVOKED:
            reason = single.revocation_reason.value if single.revocation_reason else None
            return RevocationStatus(
                RevocationState.REVOKED, "OCSP", single.revocation_time_utc, reason, response.produced_at_utc
            )
        return RevocationStatus(
            RevocationState.UNKNOWN,
            "OCSP",
            produced_at=response.produced_at_utc,
            note="responder OCSP nie zna certyfikatu",
        )
    return None


def check_revocation(
    cert: x509.Certificate, issuer: x509.Certificate, sources: RevocationSources, at: datetime
) -> RevocationStatus:
    """The revocation status of ``cert`` from the best answer available: OCSP first, then CRLs."""
    answers: list[RevocationStatus] = []
    for data in sources.ocsp_responses:
        status = _from_ocsp(cert, issuer, data, at)
        if status is not None:
            answers.append(status)
    for crl in sources.crls:
        status = _from_crl(cert, issuer, crl, at, sources)
        if status is not None:
            answers.append(status)
    if not any(a.state is not RevocationState.UNKNOWN for a in answers) and sources.online:
        answers.extend(_online(cert, issuer, sources, at))
    for wanted in (RevocationState.REVOKED, RevocationState.GOOD):
        for answer in answers:
            if answer.state is wanted:
                return answer
    if answers:
        # Of answers that settle nothing, a stale one first: the verdict does not depend on the files' order.
        return min(answers, key=lambda answer: not answer.stale)
    return RevocationStatus(RevocationState.UNKNOWN, note="brak listy CRL i odpowiedzi OCSP")


def _online(
    cert: x509.Certificate, issuer: x509.Certificate, sources: RevocationSources, at: datetime
) -> list[RevocationStatus]:
    answers: list[RevocationStatus] = []
    urls = _ocsp_urls(cert)
    if urls:
        request = (ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()).public_bytes(
            serialization.Encoding.DER
        )
        for url in urls:
            data = _fetch(url, sources.timeout, request)
            status = _from_ocsp(cert, issuer, data, at) if data else None
            if status is not None:
                answers.append(status)
                break
    if any(a.state is not RevocationState.UNKNOWN for a in answers):
        return answers
    for url in _crl_urls(cert):
        data = _fetch(url, sources.timeout)
        crl = _load_crl(data) if data else None
        status = _from_crl(cert, issuer, crl, at) if crl else None
        if status is not None:
            answers.append(status)
            break
    return answers


def load_crls(blobs: Sequence[bytes]) -> tuple[x509.CertificateRevocationList, ...]:
    """Parse CRLs in PEM or DER; unreadable ones are skipped."""
    return tuple(crl for crl in (_load_crl(blob) for blob in blobs) if crl is not None)
