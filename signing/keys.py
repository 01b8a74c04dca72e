"""Key sources: a private key in a PEM or PKCS#12 file, or in a PKCS#11 token (see ``signing.pkcs11_key``).

Every source gives a :class:`SigningKey`: the signer's certificate, the rest of its chain, the XML-DSig
signature method, and a ``sign`` operation that returns the raw ``SignatureValue`` octets. The signer
never sees the private key itself, so a token key and a file key are used the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12

from contract.oserrors import reason

from . import constants as c
from .errors import InvalidKey

# ETSI TS 119 312 (cryptographic suites) and the issue: RSA 2048-4096 bits, ECDSA on P-256 or P-384,
# always with SHA-256.
RSA_MIN_BITS = 2048
RSA_MAX_BITS = 4096
SUPPORTED_CURVES = {"secp256r1": 32, "secp384r1": 48}


class SigningKey(Protocol):
    """What the signer needs from a key source."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        ...

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Issuer certificates that came with the key (may be empty)."""
        ...

    @property
    def signature_method(self) -> str:
        """The XML-DSig SignatureMethod URI this key signs with."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (canonical SignedInfo) and return the raw SignatureValue octets."""
        ...


def signature_method_for(public_key: object) -> str:
    """Return the SignatureMethod URI for a supported public key, or raise :class:`InvalidKey`."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if not RSA_MIN_BITS <= public_key.key_size <= RSA_MAX_BITS:
            raise InvalidKey(
                f"Klucz RSA ma {public_key.key_size} bitów; obsługiwane są klucze od {RSA_MIN_BITS} "
                f"do {RSA_MAX_BITS} bitów.",
                code="NIEOBSLUGIWANY_KLUCZ",
            )
        return c.RSA_SHA256
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in SUPPORTED_CURVES:
            raise InvalidKey(
                f"Krzywa {public_key.curve.name} nie jest obsługiwana; obsługiwane są P-256 i P-384.",
                code="NIEOBSLUGIWANY_KLUCZ",
            )
        return c.ECDSA_SHA256
    raise InvalidKey("Obsługiwane są tylko klucze RSA i ECDSA.", code="NIEOBSLUGIWANY_KLUCZ")


def ecdsa_raw_signature(der_signature: bytes, curve_name: str) -> bytes:
    """Turn a DER ECDSA signature into r || s, each padded to the curve size (XML-DSig 1.1, 6.4.3)."""
    size = SUPPORTED_CURVES[curve_name]
    r, s = decode_dss_signature(der_signature)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


@dataclass(frozen=True)
class SoftwareKey:
    """A private key held in memory, loaded from a PEM or PKCS#12 file."""

    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        if _spki(self.private_key.public_key()) != _spki(self.certificate.public_key()):
            raise InvalidKey("Klucz prywatny nie pasuje do certyfikatu.", code="KLUCZ_NIE_PASUJE")
        signature_method_for(self.certificate.public_key())

    @property
    def signature_method(self) -> str:
        """The SignatureMethod URI (rsa-sha256 or ecdsa-sha256)."""
        return signature_method_for(self.certificate.public_key())

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with SHA-256: RSA PKCS#1 v1.5, or ECDSA as r || s."""
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        der = self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        return ecdsa_raw_signature(der, self.private_key.curve.name)


def _spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _split_certificates(
    public_key: PublicKeyTypes, certificates: list[x509.Certificate]
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """Pick the certificate of ``public_key`` out of ``certificates``; the others form the chain."""
    own = [cert for cert in certificates if _spki(cert.public_key()) == _spki(public_key)]
    if not own:
        raise InvalidKey(
            "Nie znaleziono certyfikatu pasującego do klucza prywatnego (podaj go w pliku klucza lub opcją --cert).",
            code="BRAK_CERTYFIKATU",
        )
    return own[0], tuple(cert for cert in certificates if cert is not own[0])


def _checked_private_key(key: object) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise InvalidKey("Obsługiwane są tylko klucze RSA i ECDSA.", code="NIEOBSLUGIWANY_KLUCZ")
    return key


def _password_bytes(password: str | None) -> bytes | None:
    return password.encode("utf-8") if password else None


def load_pem(data: bytes, password: str | None = None, certificates: bytes | None = None) -> SoftwareKey:
    """Load a PEM private key with its certificate (from the same PEM or from ``certificates``)."""
    try:
        key = serialization.load_pem_private_key(data, _password_bytes(password))
    except TypeError as exc:
        raise InvalidKey("Klucz jest zaszyfrowany: podaj hasło.", code="WYMAGANE_HASLO") from exc
    except ValueError as exc:
        raise InvalidKey(
            "Nie można odczytać klucza PEM: złe hasło albo uszkodzony plik.", code="ZLE_HASLO_LUB_PLIK"
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise InvalidKey("Nieobsługiwany rodzaj klucza w pliku PEM.", code="NIEOBSLUGIWANY_KLUCZ") from exc
    private_key = _checked_private_key(key)
    pem_certs = data + (b"\n" + certificates if certificates else b"")
    try:
        certs = x509.load_pem_x509_certificates(pem_certs) if b"-----BEGIN CERTIFICATE" in pem_certs else []
    except ValueError as exc:
        raise InvalidKey("Nie można odczytać certyfikatu PEM.", code="NIEPRAWIDLOWY_CERTYFIKAT") from exc
    certificate, chain = _split_certificates(private_key.public_key(), certs)
    return SoftwareKey(private_key, certificate, chain)


def load_pkcs12(data: bytes, password: str | None = None, certificates: bytes | None = None) -> SoftwareKey:
    """Load a PKCS#12 (.p12/.pfx) file holding the private key, its certificate and possibly the chain."""
    try:
        bundle = pkcs12.load_pkcs12(data, _password_bytes(password))
    except ValueError as exc:
        raise InvalidKey(
            "Nie można odczytać pliku PKCS#12: złe hasło albo uszkodzony plik.", code="ZLE_HASLO_LUB_PLIK"
        ) from exc
    if bundle.key is None:
        raise InvalidKey("Plik PKCS#12 nie zawiera klucza prywatnego.", code="BRAK_KLUCZA")
    private_key = _checked_private_key(bundle.key)
    certs = [bundle.cert.certificate] if bundle.cert is not None else []
    certs += [extra.certificate for extra in bundle.additional_certs]
    if certificates:
        certs += x509.load_pem_x509_certificates(certificates)
    certificate, chain = _split_certificates(private_key.public_key(), certs)
    return SoftwareKey(private_key, certificate, chain)


def load_key(source: str, password: str | None = None, certificate_file: str | None = None) -> SigningKey:
    """Open a key source: a ``pkcs11:`` URI (RFC 7512), a PEM file, or a PKCS#12 file."""
    extra_certs = Path(certificate_file).read_bytes() if certificate_file else None
    if source.startswith("pkcs11:"):
        from .pkcs11_key import open_token_key

        return open_token_key(source, pin=password, certificates=extra_certs)
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise InvalidKey(f"Nie można odczytać pliku klucza {source}: {reason(exc)}.", code="BRAK_PLIKU") from exc
    if b"-----BEGIN" in data:
        return load_pem(data, password, extra_certs)
    return load_pkcs12(data, password, extra_certs)
