"""A synthetic test PKI built with ``cryptography``: a root, a qualified CA, signers, a CRL, OCSP answers.

Used by the tests and by `platforma demo` (demo/documents.py), never by the hub.

Everything here is invented: the people (Jan Testowy, Anna Próbna, ...), their PESEL numbers (valid
checksums, made up) and the CAs. Certificates follow the Polish qualified profile in outline: subject
CN, givenName, surname, serialNumber=PNOPL-<PESEL>, C=PL; keyUsage nonRepudiation (critical); the
QCStatements of ETSI EN 319 412-5 (QcCompliance, QcSSCD, QcType esign).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from stdnum.pl import pesel as stdnum_pesel

UTC = dt.UTC
QC_STATEMENTS_OID = ObjectIdentifier("1.3.6.1.5.5.7.1.3")
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def synthetic_pesel(birth: dt.date, serial: int, female: bool) -> str:
    """A PESEL with a valid check digit for an invented person (serial: 3 digits)."""
    month = birth.month + (20 if birth.year >= 2000 else 0)
    sex_digit = (serial % 5) * 2 + (0 if female else 1)
    body = f"{birth.year % 100:02d}{month:02d}{birth.day:02d}{serial % 1000:03d}{sex_digit}"
    return body + stdnum_pesel.calc_check_digit(body)


# --- a tiny DER encoder, enough for QCStatements (RFC 3739, 3.2.6; ETSI EN 319 412-5, 4.2) -------------


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def _oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    body = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _der(0x06, bytes(body))


def _seq(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


QC_COMPLIANCE = "0.4.0.1862.1.1"
QC_SSCD = "0.4.0.1862.1.4"
QC_TYPE = "0.4.0.1862.1.6"
QC_TYPES = {"esign": "0.4.0.1862.1.6.1", "eseal": "0.4.0.1862.1.6.2", "web": "0.4.0.1862.1.6.3"}
QC_PDS = "0.4.0.1862.1.5"


def qc_statements_der(*, compliance: bool = True, sscd: bool = True, types: tuple[str, ...] = ("esign",)) -> bytes:
    """DER of a QCStatements extension value."""
    statements = []
    if compliance:
        statements.append(_seq(_oid(QC_COMPLIANCE)))
    if sscd:
        statements.append(_seq(_oid(QC_SSCD)))
    if types:
        statements.append(_seq(_oid(QC_TYPE), _seq(*(_oid(QC_TYPES[t]) for t in types))))
    # A QcPDS statement with a URL and a language, as real Polish certificates carry.
    pds = _seq(_der(0x16, b"https://ca.test.invalid/pds_pl.pdf"), _der(0x13, b"pl"))
    statements.append(_seq(_oid(QC_PDS), _seq(pds)))
    return _seq(*statements)


# --- the PKI ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A key with its certificate."""

    key: PrivateKey
    cert: x509.Certificate

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def new_key(kind: str = "rsa2048") -> PrivateKey:
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, int(kind[3:]))
    curves = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}
    return ec.generate_private_key(curves[kind])


def _ca_name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Testowe Centrum Certyfikacji Sp. z o.o."),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "VATPL-0000000000"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def person_name(given: str, surname: str, pesel: str | None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
        x509.NameAttribute(NameOID.GIVEN_NAME, given),
        x509.NameAttribute(NameOID.SURNAME, surname),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{given} {surname}"),
    ]
    if pesel:
        # ETSI EN 319 412-1, 5.1.3: natural person semantics identifier "PNO" + country + "-" + number.
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PNOPL-{pesel}"))
    return x509.Name(attributes)


@dataclass
class TestPKI:
    """A root CA, a qualified CA under it, and helpers to issue signers, CRLs and OCSP answers."""

    now: dt.datetime
    root: Issued
    qualified_ca: Issued
    crl_url: str | None = None
    ocsp_url: str | None = None
    serial: int = 1000
    issued: list[Issued] = field(default_factory=list)

    __test__ = False  # not a pytest test class

    def _next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def signer(
        self,
        given: str = "Jan",
        surname: str = "Testowy",
        *,
        pesel: str | None = None,
        key_kind: str = "rsa2048",
        qualified: bool = True,
        non_repudiation: bool = True,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        issuer: Issued | None = None,
        key: PrivateKey | None = None,
        public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None,
    ) -> Issued:
        """Issue an end-entity signing certificate (qualified by default).

        With ``public_key`` (a key whose private half lives elsewhere, e.g. in a token) the returned
        ``Issued.key`` is a throwaway and must not be used.
        """
        issuer = issuer or self.qualified_ca
        key = key or new_key(key_kind if public_key is None else "p256")
        subject_key = public_key or key.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(person_name(given, surname, pesel))
            .issuer_name(issuer.cert.subject)
            .public_key(subject_key)
            .serial_number(self._next_serial())
            .not_valid_before(not_before or self.now - dt.timedelta(days=365))
            .not_valid_after(not_after or self.now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not non_repudiation,
                    content_commitment=non_repudiation,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key), critical=False)
            .add_extension(
                x509.CertificatePolicies(
                    [x509.PolicyInformation(ObjectIdentifier("0.4.0.194112.1.2" if qualified else "1.2.3.4"), None)]
                ),
                critical=False,
            )
        )
        if qualified:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(QC_STATEMENTS_OID, qc_statements_der()), critical=False
            )
        if self.crl_url:
            builder = builder.add_extension(
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier(self.crl_url)], None, None, None)]
                ),
                critical=False,
            )
        if self.ocsp_url:
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.ocsp_url)
                        )
                    ]
                ),
                critical=False,
            )
        issued = Issued(key, builder.sign(issuer.key, hashes.SHA256()))
        self.issued.append(issued)
        return issued

    def seal(
        self,
        organisation: str,
        *,
        identifier: str | None = None,
        key_kind: str = "p256",
        public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None,
        issuer: Issued | None = None,
    ) -> Issued:
        """Issue an organisation's electronic seal certificate (qualified, QcType eseal, EN 319 412-5).

        The subject names the organisation (CN and O, ETSI EN 319 412-3, 4.2.1), with its identifier when
        given (``NTRPL-…``); no person, no PESEL. With ``public_key`` the key lives elsewhere (a token) and
        ``Issued.key`` is a throwaway."""
        issuer = issuer or self.qualified_ca
        key = new_key(key_kind)
        subject_key = public_key or key.public_key()
        attributes = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, organisation),
        ]
        if identifier:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, identifier))
        usage = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(issuer.cert.subject)
            .public_key(subject_key)
            .serial_number(self._next_serial())
            .not_valid_before(self.now - dt.timedelta(days=365))
            .not_valid_after(self.now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key), critical=False)
            .add_extension(
                x509.UnrecognizedExtension(QC_STATEMENTS_OID, qc_statements_der(types=("eseal",))), critical=False
            )
        )
        issued = Issued(key, builder.sign(issuer.key, hashes.SHA256()))
        self.issued.append(issued)
        return issued

    def crl(
        self,
        revoked: list[tuple[x509.Certificate, dt.datetime]],
        *,
        issuer: Issued | None = None,
        this_update: dt.datetime | None = None,
        next_update: dt.datetime | None = None,
    ) -> x509.CertificateRevocationList:
        """A CRL of ``issuer`` (the qualified CA by default) listing ``revoked``."""
        issuer = issuer or self.qualified_ca
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.cert.subject)
            .last_update(this_update or self.now - dt.timedelta(hours=1))
            .next_update(next_update or self.now + dt.timedelta(days=7))
            .add_extension(x509.CRLNumber(self._next_serial()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        )
        for cert, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(when)
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        return builder.sign(issuer.key, hashes.SHA256())

    def ocsp_response(
        self,
        cert: x509.Certificate,
        *,
        revoked_at: dt.datetime | None = None,
        unknown: bool = False,
        issuer: Issued | None = None,
        responder: Issued | None = None,
        this_update: dt.datetime | None = None,
    ) -> bytes:
        """A DER OCSP response about ``cert``, signed by the issuing CA or a ``responder`` (RFC 6960, 4.2.2.2)."""
        issuer = issuer or self.qualified_ca
        signer = responder or issuer
        if unknown:
            status, reason = ocsp.OCSPCertStatus.UNKNOWN, None
        elif revoked_at is not None:
            status, reason = ocsp.OCSPCertStatus.REVOKED, x509.ReasonFlags.key_compromise
        else:
            status, reason = ocsp.OCSPCertStatus.GOOD, None
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=issuer.cert,
                algorithm=hashes.SHA256(),
                cert_status=status,
                this_update=this_update or self.now - dt.timedelta(minutes=5),
                next_update=(this_update or self.now) + dt.timedelta(days=1),
                revocation_time=revoked_at,
                revocation_reason=reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
        )
        if responder is not None:
            builder = builder.certificates([responder.cert])
        return builder.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def subordinate_ca(self, cn: str, *, issuer: Issued | None = None, path_length: int | None = 0) -> Issued:
        """A CA certificate issued by ``issuer`` (the root by default), for longer certification paths."""
        key = new_key("p256")
        issuer = issuer or self.root
        return Issued(key, _ca_cert(_ca_name(cn), key, issuer, self._next_serial(), self.now, path_length))

    def ocsp_responder(self, *, with_eku: bool = True) -> Issued:
        """A delegated OCSP responder certificate issued by the qualified CA."""
        key = new_key("p256")
        builder = (
            x509.CertificateBuilder()
            .subject_name(_ca_name("Testowy responder OCSP"))
            .issuer_name(self.qualified_ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(self._next_serial())
            .not_valid_before(self.now - dt.timedelta(days=30))
            .not_valid_after(self.now + dt.timedelta(days=30))
        )
        if with_eku:
            builder = builder.add_extension(ocsp_signing_eku(), critical=False)
        return Issued(key, builder.sign(self.qualified_ca.key, hashes.SHA256()))


def _ca_cert(
    name: x509.Name, key: PrivateKey, issuer: Issued | None, serial: int, now: dt.datetime, path_length: int | None
) -> x509.Certificate:
    issuer_name = issuer.cert.subject if issuer else name
    signing_key = issuer.key if issuer else key
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
        .sign(signing_key, hashes.SHA256())
    )


def build_pki(
    now: dt.datetime,
    *,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
    root_cn: str = "Testowy Narodowy Root CA",
    ca_cn: str = "Testowe Kwalifikowane CA 2026",
    ca_key_kind: str = "p256",
) -> TestPKI:
    """Build a fresh root and qualified CA (ECDSA P-256 keys by default: fast to make)."""
    root_key = new_key(ca_key_kind)
    root = Issued(root_key, _ca_cert(_ca_name(root_cn), root_key, None, 1, now, None))
    ca_key = new_key(ca_key_kind)
    ca = Issued(ca_key, _ca_cert(_ca_name(ca_cn), ca_key, root, 2, now, 0))
    return TestPKI(now=now, root=root, qualified_ca=ca, crl_url=crl_url, ocsp_url=ocsp_url)


def ocsp_signing_eku() -> x509.ExtendedKeyUsage:
    return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING])
