"""The seals the hub holds (issue 15, item 4b): its own, which signs receipts, and each office's, with which it
seals the certificates that office issues.

An office's seal names the office (its certificate's subject), so a certificate sealed with it says who issued
it; the hub's seal names the platform. An office without a seal of its own gets no certificate sealed by the
hub (`BRAK_PIECZECI_URZEDU`): sealing it with the hub's seal would present the platform as the issuer, so its
signer signs with a qualified signature instead (`PrzeslijPodpisany`).

Every key is opened once, when the hub starts; a seal that cannot be used (a missing file, a wrong password
or PIN, no token, no certificate, a certificate of another key) stops the start with one Polish line per seal
naming the file, the section and the field. The keys are shared by the request threads: a file key signs
from any thread, and a token key serialises its calls into the PKCS#11 module (`signing.pkcs11_key`).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from contract.errors import ConfigurationError, PlatformError
from hub.domain.receipts import ReceiptSigner
from hub.settings import Config, Seal
from signing import InvalidKey, SigningKey, XadesSigner, load_key

# Which field of the configuration a key source's refusal points at (signing.keys, signing.pkcs11_key codes).
_PASSWORD_CODES = frozenset({"ZLY_PIN", "PIN_ZABLOKOWANY", "WYMAGANE_HASLO", "ZLE_HASLO_LUB_PLIK", "BRAK_PINU"})
_CERTIFICATE_CODES = frozenset({"BRAK_CERTYFIKATU", "KLUCZ_NIE_PASUJE", "NIEPRAWIDLOWY_CERTYFIKAT"})
# signing's words for a missing certificate name the CLI's --cert option; the configuration has its own field.
_MESSAGES = {
    "BRAK_CERTYFIKATU": "do klucza nie ma certyfikatu (zapisz go w pliku klucza lub w tokenie albo wskaż plik "
    "PEM w polu certificate)",
}


class NoOfficeSeal(PlatformError):
    """A certificate of an office for which the hub holds no seal: its signer signs it (`PrzeslijPodpisany`)."""

    code = "BRAK_PIECZECI_URZEDU"


@dataclass(frozen=True)
class OfficeSeal:
    """One office's seal: the certificate configured for the office (read once, at start) and the signer that
    seals whole documents with its key (file or token)."""

    office: str
    certificate: x509.Certificate
    signer: XadesSigner

    @property
    def sha256(self) -> str:
        """SHA-256 of the seal certificate's DER, hex (as `signing.CertificateFacts.sha256`)."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def seal(self, document: bytes) -> bytes:
        """The document sealed: enveloped XAdES over the whole document."""
        try:
            return self.signer.sign_enveloped(document)
        except InvalidKey as error:  # a token gone since the start (an HSM restarted, a card pulled out)
            raise ConfigurationError(
                f"Pieczęć urzędu {self.office} nie daje się użyć: {error.message.rstrip('.')} [{error.code}]"
            ) from None


class Seals:
    """The hub's seal (receipts) and the offices' seals (certificates), opened once and shared by threads."""

    def __init__(
        self,
        hub: SigningKey | None = None,
        offices: Mapping[str, SigningKey] | None = None,
        *,
        opener: Callable[[], Seals] | None = None,
    ) -> None:
        """The given keys; or, with `opener`, the keys it opens when a seal is first needed (`open_seals`, for the
        administrator's commands: an account locked in an emergency must not wait for every office's seal PIN,
        nor fail on a token that is out of reach)."""
        self._opener = opener
        self._lock = threading.Lock()
        self._keys = [key for key in (hub, *(offices or {}).values()) if key is not None]
        self._receipts = ReceiptSigner(hub) if hub is not None else None
        self._offices = {
            code: OfficeSeal(code, key.certificate, XadesSigner(key)) for code, key in (offices or {}).items()
        }

    def _ready(self) -> None:
        if self._opener is None:
            return
        with self._lock:
            if self._opener is not None:
                opened = self._opener()
                self._keys, self._receipts, self._offices = opened._keys, opened._receipts, opened._offices
                self._opener = None

    @property
    def receipts(self) -> ReceiptSigner | None:
        """The hub's own seal, which signs receipts (None when the hub holds none)."""
        self._ready()
        return self._receipts

    def of(self, office: str, name: str = "") -> OfficeSeal:
        """The seal of `office`, or `NoOfficeSeal` when the hub holds none for it."""
        self._ready()
        found = self._offices.get(office)
        if found is None:
            raise NoOfficeSeal(
                f"Hub nie przechowuje pieczęci urzędu {name or office}: zaświadczenie podpisuje osoba uprawniona "
                "kwalifikowanym podpisem elektronicznym (pobierz do podpisu, podpisz, prześlij podpisane)."
            )
        return found

    @property
    def offices(self) -> tuple[str, ...]:
        """The codes of the offices whose seals the hub holds."""
        self._ready()
        return tuple(self._offices)

    def close(self) -> None:
        """Close the token sessions (file keys hold nothing to close)."""
        for key in self._keys:
            close = getattr(key, "close", None)
            if close is not None:
                close()


def open_seals(config: Config) -> Seals:
    """Open the hub's seal and each office's seal, once; every seal that cannot be used is one line of the
    `ConfigurationError` that stops the start."""
    name = config.path.name
    problems: list[str] = []
    settings = config.hub
    hub_key = None
    if settings.seal_key:
        password = "seal_key_password_env" if settings.seal_key_password_env else "seal_key_password"
        fields = {"password": password, "key": "seal_key", "certificate": "seal_key"}
        variable = settings.seal_key_password_env
        if variable and settings.seal_key_password is None:
            problems.append(
                f"{name}:hub.seal_key_password_env: zmienna środowiskowa {variable} nie jest ustawiona (pieczęć huba)"
            )
        else:
            hub_key = _open(
                settings.seal_key, settings.seal_key_password, None, f"{name}:hub", fields, "huba", problems
            )
        _check_private(settings.seal_key, f"{name}:hub.seal_key", "huba", problems)
    offices: dict[str, SigningKey] = {}
    holders: dict[bytes, str] = {}  # seal certificate (SHA-256) -> the office it was configured for first
    for index, seal in enumerate(config.seals, 1):
        where = f"{name}:seals[{index}]"
        _check_private(seal.key, f"{where}.key", f"urzędu {seal.office}", problems)
        if seal.password_env and seal.password is None:
            problems.append(
                f"{where}.password_env: zmienna środowiskowa {seal.password_env} nie jest ustawiona "
                f"(pieczęć urzędu {seal.office})"
            )
            continue
        key = _open(seal.key, seal.password, seal.certificate, where, _fields(seal), f"urzędu {seal.office}", problems)
        if key is None:
            continue
        expected = seal.organization or (
            config.office(seal.office).name if config.has_office(seal.office) else seal.office
        )
        named = _holder_names(key.certificate)
        fingerprint = key.certificate.fingerprint(hashes.SHA256())
        if _normal(expected) not in {_normal(n) for n in named}:
            problems.append(
                f"{where}.key: certyfikat pieczęci urzędu {seal.office} wystawiono dla "
                f"{' / '.join(named) or 'podmiotu bez nazwy'}, nie dla {expected!r} (jeśli to ta sama instytucja "
                "pod inną nazwą, podaj ją w polu organization) [PIECZEC_INNEGO_PODMIOTU]"
            )
        elif fingerprint in holders:
            problems.append(
                f"{where}.key: ta sama pieczęć jest już skonfigurowana dla urzędu {holders[fingerprint]}; "
                f"urząd {seal.office} potrzebuje własnej [PIECZEC_INNEGO_PODMIOTU]"
            )
        holders.setdefault(fingerprint, seal.office)
        offices[seal.office] = key
    office = holders.get(hub_key.certificate.fingerprint(hashes.SHA256())) if hub_key is not None else None
    if office is not None:
        problems.append(
            f"{name}:hub.seal_key: pieczęć huba jest pieczęcią urzędu {office}; pokwitowania huba wyglądałyby na "
            "wystawione przez ten urząd — hub potrzebuje własnej pieczęci [PIECZEC_INNEGO_PODMIOTU]"
        )
    seals = Seals(hub_key, offices)
    if problems:
        seals.close()
        raise ConfigurationError("\n".join(problems))
    return seals


def _check_private(source: str, where: str, whose: str, problems: list[str]) -> None:
    """A seal's key file must not be readable or writable by other users (0600, or 0640 with a group: the
    demo writes 0600); a token (`pkcs11:`) keeps its keys itself."""
    if source.startswith("pkcs11:"):
        return
    try:
        mode = stat.S_IMODE(os.stat(source).st_mode)
    except OSError:
        return  # opening it says what is wrong with a missing file
    if mode & 0o007:
        problems.append(
            f"{where}: plik klucza pieczęci {whose} ({source}) mogą czytać lub zmieniać wszyscy użytkownicy "
            f"systemu (uprawnienia {mode:04o}); ustaw 0600 poleceniem chmod 600 [KLUCZ_DOSTEPNY_DLA_WSZYSTKICH]"
        )


def _holder_names(certificate: x509.Certificate) -> list[str]:
    """The names a seal certificate gives its holder: organizationName, then commonName."""
    names: list[str] = []
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        names.extend(str(a.value) for a in certificate.subject.get_attributes_for_oid(oid))
    return list(dict.fromkeys(names))


def _normal(name: str) -> str:
    return " ".join(name.casefold().split())


def _fields(seal: Seal) -> dict[str, str]:
    """The fields of `[[seals]]` a refusal points at: where the password came from, the key, the certificate."""
    return {
        "password": "password_env" if seal.password_env else "password",
        "key": "key",
        "certificate": "certificate" if seal.certificate else "key",
    }


def _open(
    source: str,
    password: str | None,
    certificate: str | None,
    where: str,
    fields: Mapping[str, str],
    whose: str,
    problems: list[str],
) -> SigningKey | None:
    """One key, or None with its problem in `problems` (one line: where, which field, what is wrong, the code)."""
    try:
        return load_key(source, password, certificate)
    except InvalidKey as error:
        code = error.code
        kind = "password" if code in _PASSWORD_CODES else "certificate" if code in _CERTIFICATE_CODES else "key"
        message = _MESSAGES.get(code, error.message.rstrip("."))
    except (OSError, ValueError) as error:  # a certificate file that is not PEM, a file gone since the check
        code, kind = "BLAD_PLIKU", "certificate" if certificate else "key"
        message = f"nie można odczytać pliku ({error})"
    problems.append(f"{where}.{fields[kind]}: pieczęć {whose} nie daje się użyć: {message} [{code}]")
    return None
