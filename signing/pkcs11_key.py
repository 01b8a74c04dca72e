"""A signing key in a PKCS#11 token (smart card, HSM; SoftHSM2 in the tests), named by an RFC 7512 URI.

The private key never leaves the token: the signer hands over the canonical SignedInfo and receives
the signature value. Example URI::

    pkcs11:token=Podpis;object=jan-testowy?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234

Path attributes used: ``token``, ``object``, ``id``, ``serial``; query attributes: ``module-path``,
``pin-value``, ``pin-source`` (a file holding the PIN). The PIN may also be given separately.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pkcs11
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass

from .errors import InvalidKey
from .keys import SUPPORTED_CURVES, signature_method_for

# RFC 8017, 9.2 note 1: the DER prefix of DigestInfo for SHA-256, for tokens that only offer raw
# CKM_RSA_PKCS.
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


@dataclass
class _Login:
    """The session that logged this process in to one token, and how many keys' sessions rely on it."""

    session: Any
    pin_digest: bytes
    users: int = 0


@dataclass
class _Module:
    """What this process shares about one PKCS#11 module: one lock for every call, one login per token.

    python-pkcs11 initialises a module with C_Initialize(NULL_PTR), and so promises the module that no two
    threads call it at once (PKCS#11 v2.40 base specification, 5.4 and 6.6.2: without CKF_OS_LOCKING_OK the
    application serialises its calls); the module is loaded once per process (`pkcs11.lib` keeps it), so its
    lock is per process and module too: every key of one module (the hub's seal and the offices' seals in one
    HSM) signs under it, whichever request thread asks. Login state belongs to the application and the token,
    not to a session (5.6: C_Login on a second session is CKR_USER_ALREADY_LOGGED_IN, C_Logout on any session
    logs all of them out), so each token has one login session, kept while any key of the token is open.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    logins: dict[int, _Login] = field(default_factory=dict)

    def open_session(self, token: Any, pin: str) -> Any:
        """A session for one key, in a token this process is logged in to (with this PIN); call under `lock`."""
        digest = hashlib.sha256(pin.encode("utf-8")).digest()
        login = self.logins.get(token.slot.slot_id)
        if login is None:
            login = _Login(token.open(user_pin=pin), digest)
            self.logins[token.slot.slot_id] = login
        elif not hmac.compare_digest(login.pin_digest, digest):
            raise InvalidKey(
                "Nieprawidłowy PIN tokenu (inny niż PIN, którym już się do niego zalogowano).", code="ZLY_PIN"
            )
        try:
            session = token.open()  # logged in already: the login of the login session
        except pkcs11.exceptions.PKCS11Error:
            self._release_login(token.slot.slot_id)
            raise
        login.users += 1
        return session

    def close_session(self, session: Any) -> None:
        """Close one key's session, and the token's login session after its last key; call under `lock`."""
        slot_id = session.token.slot.slot_id
        try:
            session.close()
        finally:
            self.logins[slot_id].users -= 1
            self._release_login(slot_id)

    def _release_login(self, slot_id: int) -> None:
        login = self.logins.get(slot_id)
        if login is not None and login.users <= 0:
            del self.logins[slot_id]
            login.session.close()


_MODULES: dict[str, _Module] = {}
_MODULES_GUARD = threading.Lock()


def _module(module_path: str) -> _Module:
    with _MODULES_GUARD:
        return _MODULES.setdefault(str(Path(module_path).resolve()), _Module())


@dataclass(frozen=True)
class Pkcs11Uri:
    """The parts of an RFC 7512 ``pkcs11:`` URI that select a key."""

    token: str | None = None
    serial: str | None = None
    object: str | None = None
    id: bytes | None = None
    module_path: str | None = None
    pin: str | None = None


def parse_pkcs11_uri(uri: str) -> Pkcs11Uri:
    """Parse a ``pkcs11:`` URI (RFC 7512, 2.3): path attributes after ``;``, query after ``?``."""
    if not uri.startswith("pkcs11:"):
        raise InvalidKey("Adres tokenu musi zaczynać się od 'pkcs11:'.", code="NIEPRAWIDLOWY_URI_PKCS11")
    body = uri[len("pkcs11:") :]
    path, _, query = body.partition("?")
    values: dict[str, bytes] = {}
    for part in [p for p in path.split(";") if p] + [q for q in query.split("&") if q]:
        name, sep, value = part.partition("=")
        if not sep:
            raise InvalidKey(f"Nieprawidłowy atrybut w adresie tokenu: {part}", code="NIEPRAWIDLOWY_URI_PKCS11")
        values[name] = unquote_to_bytes(value)

    def text(name: str) -> str | None:
        return values[name].decode("utf-8") if name in values else None

    pin = text("pin-value")
    if pin is None and "pin-source" in values:
        source = text("pin-source") or ""
        source = source.removeprefix("file:")
        try:
            pin = Path(source).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InvalidKey(f"Nie można odczytać PIN-u z {source}.", code="BRAK_PINU") from exc
    return Pkcs11Uri(
        token=text("token"),
        serial=text("serial"),
        object=text("object"),
        id=values.get("id"),
        module_path=text("module-path"),
        pin=pin,
    )


def _translate(exc: Exception) -> InvalidKey:
    """A Polish message for the PKCS#11 errors a user can do something about."""
    messages: list[tuple[type[Exception], str, str]] = [
        (pkcs11.exceptions.PinIncorrect, "Nieprawidłowy PIN tokenu.", "ZLY_PIN"),
        (pkcs11.exceptions.PinLocked, "PIN tokenu jest zablokowany.", "PIN_ZABLOKOWANY"),
        (pkcs11.exceptions.NoSuchToken, "Nie znaleziono tokenu o podanej etykiecie.", "BRAK_TOKENU"),
        (pkcs11.exceptions.NoSuchKey, "Nie znaleziono klucza prywatnego w tokenie.", "BRAK_KLUCZA"),
        (
            pkcs11.exceptions.MultipleObjectsReturned,
            "Adres tokenu wskazuje więcej niż jeden klucz.",
            "NIEJEDNOZNACZNY_KLUCZ",
        ),
        (pkcs11.exceptions.MultipleTokensReturned, "Adres wskazuje więcej niż jeden token.", "NIEJEDNOZNACZNY_TOKEN"),
    ]
    for kind, message, code in messages:
        if isinstance(exc, kind):
            return InvalidKey(message, code=code)
    return InvalidKey(f"Błąd tokenu PKCS#11: {type(exc).__name__}.", code="BLAD_TOKENU")


class TokenKey:
    """A private key held in a PKCS#11 token, usable as a :class:`signing.keys.SigningKey`."""

    def __init__(
        self,
        session: Any,
        private_key: Any,
        certificate: x509.Certificate,
        chain: tuple[x509.Certificate, ...],
        module: _Module | None = None,
    ) -> None:
        self._session = session
        self._key = private_key
        # One call at a time per module (C_SignInit/C_Sign of one session among them; see `_Module`).
        self._module = module
        self._lock = module.lock if module is not None else threading.Lock()
        self._closed = False
        self.certificate = certificate
        self.chain = chain
        self.signature_method = signature_method_for(certificate.public_key())
        public_key = certificate.public_key()
        self._is_rsa = isinstance(public_key, rsa.RSAPublicKey)
        with self._lock:
            mechanisms = session.token.slot.get_mechanisms()
            key_type = private_key.key_type
        if key_type != (KeyType.RSA if self._is_rsa else KeyType.EC):
            # An EC key under an RSA certificate (or the reverse): the probe below would be a token error.
            raise InvalidKey("Klucz w tokenie nie pasuje do certyfikatu.", code="KLUCZ_NIE_PASUJE")
        if self._is_rsa:
            self._mechanism = (
                Mechanism.SHA256_RSA_PKCS if Mechanism.SHA256_RSA_PKCS in mechanisms else Mechanism.RSA_PKCS
            )
        else:
            # SoftHSM 2.6 offers only CKM_ECDSA (the hash is ours to make); cards may offer ECDSA_SHA256.
            self._mechanism = Mechanism.ECDSA_SHA256 if Mechanism.ECDSA_SHA256 in mechanisms else Mechanism.ECDSA
        self._check_pair()

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` in the token: RSA PKCS#1 v1.5 or ECDSA (r || s), with SHA-256."""
        if self._mechanism is Mechanism.RSA_PKCS:
            payload = _SHA256_DIGEST_INFO + hashlib.sha256(data).digest()
        elif self._mechanism is Mechanism.ECDSA:
            payload = hashlib.sha256(data).digest()
        else:
            payload = data
        try:
            with self._lock:
                signature: bytes = self._key.sign(payload, mechanism=self._mechanism)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise _translate(exc) from exc
        return signature

    def _check_pair(self) -> None:
        """Sign a probe and check it with the certificate: the token key and the certificate must match."""
        probe = b"platforma-komunikacyjna: kontrola pary klucz-certyfikat"
        signature = self.sign(probe)
        public_key = self.certificate.public_key()
        try:
            if isinstance(public_key, rsa.RSAPublicKey):
                public_key.verify(signature, probe, padding.PKCS1v15(), hashes.SHA256())
            elif isinstance(public_key, ec.EllipticCurvePublicKey):
                size = SUPPORTED_CURVES[public_key.curve.name]
                r = int.from_bytes(signature[:size], "big")
                s = int.from_bytes(signature[size:], "big")
                public_key.verify(encode_dss_signature(r, s), probe, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError) as exc:
            raise InvalidKey("Klucz w tokenie nie pasuje do certyfikatu.", code="KLUCZ_NIE_PASUJE") from exc

    def close(self) -> None:
        """Close the key's session (and the token's login, after the token's last key)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._module is not None:
                self._module.close_session(self._session)
            else:  # made without `open_token_key`: the session is the caller's own
                self._session.close()

    def __enter__(self) -> TokenKey:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_token_key(uri: str, *, pin: str | None = None, certificates: bytes | None = None) -> TokenKey:
    """Open the key a ``pkcs11:`` URI names; the certificate comes from the token or from ``certificates``."""
    where = parse_pkcs11_uri(uri)
    if not where.module_path:
        raise InvalidKey(
            "Adres tokenu musi wskazywać bibliotekę PKCS#11 (module-path=...), np. /usr/lib/softhsm/libsofthsm2.so.",
            code="BRAK_MODULU_PKCS11",
        )
    user_pin = where.pin if where.pin is not None else pin
    if user_pin is None:
        raise InvalidKey("Podaj PIN tokenu (pin-value w adresie albo --password).", code="BRAK_PINU")
    try:
        library = pkcs11.lib(where.module_path)
    except (RuntimeError, OSError) as exc:
        raise InvalidKey(
            f"Nie można załadować biblioteki PKCS#11 {where.module_path}.", code="BRAK_MODULU_PKCS11"
        ) from exc
    module = _module(where.module_path)
    with module.lock:
        session = _open_session(library, module, where, user_pin)
        try:
            attrs: dict[str, Any] = {"object_class": ObjectClass.PRIVATE_KEY}
            if where.object:
                attrs["label"] = where.object
            if where.id:
                attrs["id"] = where.id
            private_key = session.get_key(**attrs)
            certificate, chain = _certificate(session, where, certificates)
        except pkcs11.exceptions.PKCS11Error as exc:
            module.close_session(session)
            raise _translate(exc) from exc
        except InvalidKey:
            module.close_session(session)
            raise
    try:
        return TokenKey(session, private_key, certificate, chain, module)
    except InvalidKey:
        with module.lock:
            module.close_session(session)
        raise


def _open_session(library: Any, module: _Module, where: Pkcs11Uri, user_pin: str) -> Any:
    """A session with the token the URI names, in which this process is logged in as the token's user."""
    search: dict[str, Any] = {}
    if where.token:
        search["token_label"] = where.token
    if where.serial:
        search["token_serial"] = where.serial.encode("ascii")
    try:
        return module.open_session(library.get_token(**search), user_pin)
    except pkcs11.exceptions.PKCS11Error as exc:
        raise _translate(exc) from exc


def _certificate(
    session: Any, where: Pkcs11Uri, certificates: bytes | None
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    given = x509.load_pem_x509_certificates(certificates) if certificates else []
    template: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.CERTIFICATE}
    if where.object:
        template[Attribute.LABEL] = where.object
    if where.id:
        template[Attribute.ID] = where.id
    on_token = _token_certificates(session, template)
    candidates = [cert for cert in on_token if not _is_ca(cert)] or on_token
    candidates = candidates or [cert for cert in given if not _is_ca(cert)]
    if len(candidates) != 1:
        raise InvalidKey(
            "Nie można jednoznacznie ustalić certyfikatu klucza z tokenu: zapisz go w tokenie z tą samą "
            "etykietą albo podaj plik opcją --cert.",
            code="BRAK_CERTYFIKATU",
        )
    certificate = candidates[0]
    # Cards of qualified trust service providers hold their CA certificates too: with those from --cert
    # they are the chain the signer puts into KeyInfo (it picks the path and leaves the root out).
    authorities = [
        cert for cert in _token_certificates(session, {Attribute.CLASS: ObjectClass.CERTIFICATE}) if _is_ca(cert)
    ]
    chain: list[x509.Certificate] = []
    for cert in (*given, *authorities):
        if cert != certificate and cert not in chain:
            chain.append(cert)
    return certificate, tuple(chain)


def _token_certificates(session: Any, template: dict[Attribute, Any]) -> list[x509.Certificate]:
    """The X.509 certificates on the token that match ``template``; one the parser refuses is skipped."""
    found = []
    for obj in session.get_objects({**template, Attribute.CERTIFICATE_TYPE: CertificateType.X_509}):
        try:
            found.append(x509.load_der_x509_certificate(obj[Attribute.VALUE]))
        except ValueError:
            continue
    return found


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False
