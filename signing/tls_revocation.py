"""Revocation of TLS client certificates: the office systems' certificates checked against a CRL file.

A server that requires client certificates (mutual TLS) gets from :meth:`ClientRevocation.install` a
verify callback on its pyOpenSSL context. OpenSSL first verifies the client's chain against the
context's own trust store as before; the callback then verifies it once more, against an ``X509Store``
of the same client CAs with the CRLs added and ``X509StoreFlags.CRL_CHECK`` set (``CRL_CHECK_ALL`` as
well when the client CAs include intermediates, so that a revoked intermediate is caught too). A revoked
certificate, a CRL past its nextUpdate, or no CRL of the issuing CA fails the handshake (RFC 5280, 6.3:
without a current CRL the status is unknown, and an unknown client is not let in). Intermediate CAs
therefore belong in the client CA file, with their CRLs in the CRL file.

The CRL file (PEM with one or more CRLs, or one DER CRL) must hold a CRL of every client CA and nothing
else, each signed by its CA. It is re-read when it changes: each handshake compares its size, mtime and
inode with the last read (one ``stat``), so a CRL replaced by cron or by hand takes effect on the next
connection, without a restart (replace the file by renaming a new one over it, so that no handshake
reads half of it). A file that does not meet the rule is refused: at start with an error, later by
keeping the previous CRLs, and logging why once. Connections already open are not re-checked.

Nothing here knows Twisted: the hub installs the callback on the context its ``CertificateOptions``
made, before the first connection (pyOpenSSL refuses changes to a context in use). Twisted's options
turn TLS session resumption off by default, so every handshake sends, and verifies, the certificate.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from OpenSSL import SSL
from OpenSSL.crypto import X509, X509Store, X509StoreContext, X509StoreContextError, X509StoreFlags

from contract.oserrors import reason

from .certificates import display_name
from .errors import InvalidInput

log = logging.getLogger(__name__)

_MISSING = (-1, -1, -1)  # the stamp of a CRL file that is not there
_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)


@dataclass(frozen=True)
class _Loaded:
    """One reading of the CRL file: the store that checks against it, and the file's identity then."""

    store: X509Store
    crls: tuple[x509.CertificateRevocationList, ...]
    stamp: tuple[int, int, int]


class ClientRevocation:
    """Checks TLS client certificates against a CRL file of the client CAs, re-read when it changes."""

    def __init__(self, client_ca: str | Path, crl_file: str | Path) -> None:
        """Read the client CA bundle (PEM) and the CRL file; raise :class:`InvalidInput` if either is unusable."""
        self.crl_file = Path(crl_file)
        self.authorities = _read_authorities(Path(client_ca))
        # RFC 5280, 6.3.3 applies to every certificate of the path, not only the client's own, when the
        # client CAs hold intermediates: OpenSSL's CRL_CHECK_ALL.
        self.check_all = any(not _self_signed(ca) for ca in self.authorities)
        self._lock = threading.Lock()
        self._loaded = self._load(_stamp(self.crl_file))
        self._failed_stamp: tuple[int, int, int] | None = None

    @property
    def flags(self) -> int:
        """The ``X509StoreFlags`` of the checking store."""
        return X509StoreFlags.CRL_CHECK | (X509StoreFlags.CRL_CHECK_ALL if self.check_all else 0)

    @property
    def crls(self) -> tuple[x509.CertificateRevocationList, ...]:
        """The CRLs in use now."""
        return self._loaded.crls

    def install(self, context: SSL.Context) -> None:
        """Check the client certificate of every handshake on ``context`` (call before its first connection)."""
        context.set_verify(context.get_verify_mode() | SSL.VERIFY_PEER, self._verify)

    def reload_if_changed(self) -> bool:
        """Re-read the CRL file if its size, mtime or inode changed; True when new CRLs are now in use."""
        try:
            stamp = _stamp(self.crl_file)
        except InvalidInput as exc:
            self._keep_previous(_MISSING, exc)
            return False
        if stamp in (self._loaded.stamp, self._failed_stamp):
            return False
        with self._lock:
            if stamp == self._loaded.stamp:
                return False
            try:
                self._loaded = self._load(stamp)
            except InvalidInput as exc:
                self._keep_previous(stamp, exc)
                return False
        self._failed_stamp = None
        log.info("client CRL reloaded from %s (%d CRLs)", self.crl_file, len(self._loaded.crls))
        return True

    def check(self, certificate: x509.Certificate) -> str | None:
        """Why the client ``certificate`` is refused now (OpenSSL's words), or None when it is accepted.

        The path is built from the client CAs alone: an intermediate the client sends but the client CA
        file lacks could not have its CRL accepted here, so its clients are refused either way.
        """
        self.reload_if_changed()
        try:
            X509StoreContext(self._loaded.store, X509.from_cryptography(certificate)).verify_certificate()
        except X509StoreContextError as exc:
            return str(exc)
        return None

    def _keep_previous(self, stamp: tuple[int, int, int], exc: InvalidInput) -> None:
        if stamp != self._failed_stamp:  # once per change of the file, not once per handshake
            log.error("client CRL not reloaded, the previous one stays in use: %s", exc.message)
        self._failed_stamp = stamp

    def _load(self, stamp: tuple[int, int, int]) -> _Loaded:
        crls = _read_crls(self.crl_file)
        for crl in crls:
            if not any(_crl_signed_by(crl, ca) for ca in self.authorities):
                raise InvalidInput(
                    f"Lista CRL wystawcy {display_name(crl.issuer)} w pliku {self.crl_file} nie jest podpisana przez "
                    "żaden z urzędów certyfikacji klientów (client_ca).",
                    code="CRL_SPOZA_CA_KLIENTOW",
                )
        for ca in self.authorities:
            if not any(_crl_signed_by(crl, ca) for crl in crls):
                raise InvalidInput(
                    f"Plik {self.crl_file} nie zawiera listy CRL urzędu {display_name(ca.subject)}: bez niej każdy "
                    "certyfikat klienta od tego urzędu zostałby odrzucony.",
                    code="BRAK_LISTY_CRL_URZEDU",
                )
        store = X509Store()
        for ca in self.authorities:
            store.add_cert(X509.from_cryptography(ca))
        for crl in crls:
            store.add_crl(crl)
        store.set_flags(self.flags)
        return _Loaded(store, crls, stamp)

    def _verify(self, connection: SSL.Connection, certificate: X509, error: int, depth: int, ok: int) -> bool:
        """pyOpenSSL's verify callback: OpenSSL's own verdict on each certificate, then ours on the client's."""
        if not ok:
            return False
        if depth > 0:
            return True
        try:
            client = certificate.to_cryptography()
            refusal = self.check(client)
        except Exception:  # never let a bug here turn into an accepted handshake
            log.exception("client certificate revocation check failed")
            return False
        if refusal is not None:
            log.warning("TLS client certificate refused (%s): %s", refusal, display_name(client.subject))
            return False
        return True


def _stamp(path: Path) -> tuple[int, int, int]:
    try:
        status = os.stat(path)
    except OSError as exc:
        raise InvalidInput(f"Nie można odczytać listy CRL {path}: {reason(exc)}.", code="BRAK_PLIKU") from exc
    return (status.st_size, status.st_mtime_ns, status.st_ino)


def _read_authorities(path: Path) -> tuple[x509.Certificate, ...]:
    try:
        data = path.read_bytes()
        authorities = tuple(x509.load_pem_x509_certificates(data))
    except OSError as exc:
        raise InvalidInput(f"Nie można odczytać pliku {path}: {reason(exc)}.", code="BRAK_PLIKU") from exc
    except ValueError as exc:
        raise InvalidInput(
            f"Plik {path} nie zawiera certyfikatów CA klientów w formacie PEM.", code="NIEPRAWIDLOWY_CERTYFIKAT"
        ) from exc
    return authorities


def _read_crls(path: Path) -> tuple[x509.CertificateRevocationList, ...]:
    """Every CRL of a PEM file, or the one CRL of a DER file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Nie można odczytać listy CRL {path}: {reason(exc)}.", code="BRAK_PLIKU") from exc
    try:
        if b"-----BEGIN" in data:
            blocks = _PEM_CRL.findall(data)
            crls = tuple(x509.load_pem_x509_crl(block) for block in blocks)
        else:
            crls = (x509.load_der_x509_crl(data),)
    except ValueError as exc:
        raise InvalidInput(
            f"Plik {path} nie jest listą CRL (PEM lub DER) albo jest uszkodzony.", code="NIEPRAWIDLOWA_LISTA_CRL"
        ) from exc
    if not crls:
        raise InvalidInput(f"Plik {path} nie zawiera żadnej listy CRL.", code="NIEPRAWIDLOWA_LISTA_CRL")
    return crls


def _crl_signed_by(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    public_key = ca.public_key()
    if crl.issuer != ca.subject or not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return False
    return crl.is_signature_valid(public_key)


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True
