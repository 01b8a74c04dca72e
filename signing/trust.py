"""Trust anchors and certification paths.

Anchors come from a folder of certificates (PEM or DER) or from a trusted list in the ETSI TS 119 612
XML format, such as the Polish national list, of which only the services of type CA/QC with status
"granted" are taken. A path is built from the signer's certificate through the certificates the
signature carries up to an anchor and checked as RFC 5280, 6.1 describes in outline: signatures, names,
validity at the times asked for, basicConstraints, keyUsage keyCertSign and pathLenConstraint.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import SignatureAlgorithmOID

from . import constants as c
from ._cache import BoundedCache
from .certificates import display_name, dn
from .errors import InvalidInput
from .safexml import parse_xml

MAX_PATH_LENGTH = 8
MAX_TRUSTED_LIST_BYTES = 64 * 1024 * 1024
CERTIFICATE_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


@dataclass(frozen=True)
class TrustAnchor:
    """A certificate trusted as the end of a certification path."""

    certificate: x509.Certificate
    source: str  # "katalog" (folder) or "lista zaufania" (trusted list)
    service_name: str | None = None
    qualified_ca: bool = False  # listed as CA/QC, granted, in a trusted list

    @property
    def subject(self) -> str:
        """The anchor's subject DN."""
        return dn(self.certificate.subject)


def _load_certificates(data: bytes, origin: str) -> list[x509.Certificate]:
    try:
        if b"-----BEGIN CERTIFICATE" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise InvalidInput(f"Nie można odczytać certyfikatu z {origin}.", code="NIEPRAWIDLOWY_CERTYFIKAT") from exc


@dataclass
class TrustStore:
    """A set of trust anchors."""

    anchors: list[TrustAnchor] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_subject: dict[bytes, list[TrustAnchor]] = {}
        self._der: set[bytes] = set()
        self._issued: BoundedCache[tuple[x509.Certificate, x509.Certificate], bool] = BoundedCache(2048)
        self._paths: BoundedCache[
            tuple[x509.Certificate, tuple[x509.Certificate, ...]],
            tuple[tuple[x509.Certificate, ...], TrustAnchor | None, tuple[PathProblem, ...]],
        ] = BoundedCache(1024)
        anchors, self.anchors = self.anchors, []
        for anchor in anchors:
            self.add(anchor)

    def add(self, anchor: TrustAnchor) -> None:
        """Add an anchor (a duplicate certificate is ignored)."""
        der = anchor.certificate.public_bytes(Encoding.DER)
        if der in self._der:
            return
        self._der.add(der)
        self.anchors.append(anchor)
        self._by_subject.setdefault(anchor.certificate.subject.public_bytes(), []).append(anchor)

    def anchors_for_subject(self, name: x509.Name) -> list[TrustAnchor]:
        """Anchors whose subject is ``name``."""
        return self._by_subject.get(name.public_bytes(), [])

    def anchor_for(self, cert: x509.Certificate) -> TrustAnchor | None:
        """The anchor that is ``cert`` itself, if any."""
        for anchor in self.anchors_for_subject(cert.subject):
            if anchor.certificate == cert:
                return anchor
        return None

    def issued_by(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        """``cert`` names ``issuer`` as its issuer and carries its valid signature (remembered)."""
        return self._issued.get((cert, issuer), lambda: _issued_by(cert, issuer))

    def path_for(
        self, cert: x509.Certificate, intermediates: tuple[x509.Certificate, ...]
    ) -> tuple[tuple[x509.Certificate, ...], TrustAnchor | None, tuple[PathProblem, ...]]:
        """The certification path of ``cert`` and its time-independent problems (remembered)."""
        return self._paths.get((cert, intermediates), lambda: _build_path(cert, self, intermediates))

    def __len__(self) -> int:
        return len(self.anchors)

    @classmethod
    def from_certificates(cls, certificates: Iterable[x509.Certificate], source: str = "konfiguracja") -> TrustStore:
        """A store of the given certificates."""
        return cls([TrustAnchor(cert, source) for cert in certificates])

    @classmethod
    def from_directory(cls, directory: str | Path) -> TrustStore:
        """Every certificate file (.pem, .crt, .cer, .der) in ``directory``."""
        folder = Path(directory)
        store = cls()
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in CERTIFICATE_SUFFIXES:
                for cert in _load_certificates(path.read_bytes(), str(path)):
                    store.add(TrustAnchor(cert, "katalog"))
        return store

    @classmethod
    def from_trusted_list(cls, data: bytes) -> TrustStore:
        """The certificates of qualified CAs (CA/QC, granted) from an ETSI TS 119 612 trusted list.

        The list's own XAdES signature is not checked here: the operator vouches for the file.
        """
        root = parse_xml(data, max_bytes=MAX_TRUSTED_LIST_BYTES, what="lista zaufania")
        if root.tag != f"{{{c.TSL_NS}}}TrustServiceStatusList":
            raise InvalidInput(
                "Plik nie jest listą zaufania ETSI TS 119 612 (TrustServiceStatusList).", code="NIE_LISTA_ZAUFANIA"
            )
        ns = {"tsl": c.TSL_NS}
        store = cls()
        for info in root.iterfind(".//tsl:TSPService/tsl:ServiceInformation", ns):
            if (info.findtext("tsl:ServiceTypeIdentifier", "", ns) or "").strip() != c.TSL_SERVICE_CA_QC:
                continue
            # TS 119 612, 5.5.4: the current status is ServiceStatus; history is not looked at.
            if (info.findtext("tsl:ServiceStatus", "", ns) or "").strip() != c.TSL_STATUS_GRANTED:
                continue
            name = info.findtext("tsl:ServiceName/tsl:Name", None, ns)
            for element in info.iterfind("tsl:ServiceDigitalIdentity/tsl:DigitalId/tsl:X509Certificate", ns):
                try:
                    der = base64.b64decode("".join((element.text or "").split()), validate=True)
                    cert = x509.load_der_x509_certificate(der)
                except (binascii.Error, ValueError):
                    continue
                store.add(TrustAnchor(cert, "lista zaufania", name.strip() if name else None, qualified_ca=True))
        return store

    @classmethod
    def from_path(cls, path: str | Path) -> TrustStore:
        """A folder of certificates, a trusted list (XML), or a single certificate file."""
        location = Path(path)
        if location.is_dir():
            return cls.from_directory(location)
        data = location.read_bytes()
        if data.lstrip().startswith(b"<") or location.suffix.lower() == ".xml":
            return cls.from_trusted_list(data)
        return cls.from_certificates(_load_certificates(data, str(location)), "katalog")

    def merged(self, other: TrustStore) -> TrustStore:
        """A store with the anchors of both."""
        return TrustStore([*self.anchors, *other.anchors])


@dataclass(frozen=True)
class PathProblem:
    """Why a certification path was not accepted, in Polish, with a stable code."""

    code: str
    message: str


@dataclass(frozen=True)
class CertificationPath:
    """The result of path building: the certificates from signer to anchor, and any problems."""

    certificates: tuple[x509.Certificate, ...]
    anchor: TrustAnchor | None
    problems: tuple[PathProblem, ...]

    @property
    def trusted(self) -> bool:
        """A path to an anchor was found and nothing is wrong with it."""
        return self.anchor is not None and not self.problems


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def issuer_chain(cert: x509.Certificate, candidates: Sequence[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """The issuers of ``cert`` among ``candidates``, nearest first, up to but without a self-signed root.

    This is what a signature carries in KeyInfo: the verifier builds the path to an anchor of its own
    through these, and a root in the signature would be of no use to it (an anchor is never taken from
    the signature), as DSS leaves trust anchors out by default. Candidates off the path are left out.
    """
    chain: list[x509.Certificate] = []
    remaining = [candidate for candidate in candidates if candidate != cert]
    current = cert
    while True:
        issuer = next(
            (c for c in remaining if c.subject == current.issuer and _issued_by(current, c)),
            None,
        )
        if issuer is None or (issuer.subject == issuer.issuer and _issued_by(issuer, issuer)):
            return tuple(chain)
        chain.append(issuer)
        remaining.remove(issuer)
        current = issuer


def _name(cert: x509.Certificate) -> str:
    return display_name(cert.subject)


def _check_ca(cert: x509.Certificate, below: int) -> list[PathProblem]:
    problems = []
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        problems.append(
            PathProblem("WYSTAWCA_NIE_JEST_CA", f"Certyfikat wystawcy {_name(cert)} nie jest certyfikatem urzędu (CA).")
        )
    elif constraints.path_length is not None and below > constraints.path_length:
        problems.append(
            PathProblem("PRZEKROCZONA_DLUGOSC_SCIEZKI", f"Przekroczono ograniczenie długości ścieżki w {_name(cert)}.")
        )
    try:
        key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not key_usage.key_cert_sign:
            problems.append(
                PathProblem("WYSTAWCA_BEZ_KEYCERTSIGN", f"Certyfikat {_name(cert)} nie pozwala wystawiać certyfikatów.")
            )
    except x509.ExtensionNotFound:
        pass
    return problems


def _check_validity(cert: x509.Certificate, moments: Sequence[tuple[datetime, str]]) -> list[PathProblem]:
    problems = []
    for moment, label in moments:
        if moment < cert.not_valid_before_utc:
            problems.append(
                PathProblem("CERTYFIKAT_W_SCIEZCE_NIEWAZNY", f"Certyfikat {_name(cert)} nie był jeszcze ważny {label}.")
            )
        elif moment > cert.not_valid_after_utc:
            problems.append(
                PathProblem("CERTYFIKAT_W_SCIEZCE_NIEWAZNY", f"Certyfikat {_name(cert)} nie był już ważny {label}.")
            )
    return problems


def build_path(
    cert: x509.Certificate,
    store: TrustStore,
    intermediates: Sequence[x509.Certificate],
    moments: Sequence[tuple[datetime, str]],
) -> CertificationPath:
    """Build and check a path from ``cert`` to an anchor of ``store``.

    ``moments`` are the times (with a Polish label, e.g. "w chwili podpisu") at which every issuer
    certificate of the path must be valid; the signer's own certificate is left to the caller, which
    reports its validity with finer reasons.
    """
    certificates, anchor, problems = store.path_for(cert, tuple(intermediates))
    if anchor is None:
        return CertificationPath(certificates, None, problems)
    timed = [problem for issuer in certificates[1:] for problem in _check_validity(issuer, moments)]
    return CertificationPath(certificates, anchor, problems + tuple(timed))


#: Signature algorithms no longer accepted for certificates (OpenSSL here refuses to check them at all).
_WEAK_SIGNATURES = {
    SignatureAlgorithmOID.RSA_WITH_SHA1: "SHA-1",
    SignatureAlgorithmOID.ECDSA_WITH_SHA1: "SHA-1",
    SignatureAlgorithmOID.DSA_WITH_SHA1: "SHA-1",
    SignatureAlgorithmOID.RSA_WITH_MD5: "MD5",
}


def _weak_signature(
    cert: x509.Certificate, store: TrustStore, intermediates: Sequence[x509.Certificate]
) -> PathProblem | None:
    """Why the path stopped at ``cert`` when its issuer is known but signed it with SHA-1 or MD5: "the issuer
    is no trust anchor" named the wrong cause of a certificate its trusted issuer did sign."""
    weak = _WEAK_SIGNATURES.get(cert.signature_algorithm_oid)
    known = bool(store.anchors_for_subject(cert.issuer)) or any(c.subject == cert.issuer for c in intermediates)
    if weak is None or not known:
        return None
    return PathProblem(
        "NIEOBSLUGIWANY_ALGORYTM",
        f"Certyfikat {display_name(cert.subject)} podpisano algorytmem {weak}, którego nie uznaje się już za "
        "bezpieczny; ścieżki certyfikacji do zaufanego urzędu nie zbudowano.",
    )


def _build_path(
    cert: x509.Certificate, store: TrustStore, intermediates: Sequence[x509.Certificate]
) -> tuple[tuple[x509.Certificate, ...], TrustAnchor | None, tuple[PathProblem, ...]]:
    """The path and its time-independent problems (RFC 5280, 6.1.3 and 6.1.4 in outline)."""
    path = [cert]
    current = cert
    anchor = store.anchor_for(cert)
    while anchor is None and len(path) <= MAX_PATH_LENGTH:
        issuer_name = current.issuer
        issuer_anchor = next(
            (a for a in store.anchors_for_subject(issuer_name) if store.issued_by(current, a.certificate)), None
        )
        if issuer_anchor is not None:
            anchor = issuer_anchor
            path.append(issuer_anchor.certificate)
            break
        issuer = next(
            (
                candidate
                for candidate in intermediates
                if candidate.subject == issuer_name and candidate not in path and store.issued_by(current, candidate)
            ),
            None,
        )
        if issuer is None:
            break
        path.append(issuer)
        current = issuer
    if anchor is None:
        problem = _weak_signature(current, store, intermediates) or PathProblem(
            "BRAK_ZAUFANIA",
            "Nie zbudowano ścieżki certyfikacji do zaufanego urzędu: wystawca "
            f"{display_name(current.issuer)} nie jest kotwicą zaufania.",
        )
        return tuple(path), None, (problem,)
    problems = [problem for depth, issuer in enumerate(path[1:]) for problem in _check_ca(issuer, below=depth)]
    return tuple(path), anchor, tuple(problems)
