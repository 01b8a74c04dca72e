"""Signed checkpoints over the chain's head, with the hub's own key (Ed25519 or RSA, `cryptography`).

A checkpoint says: "checkpoint number `number`, made at `time` for `reason`, covers the chain up to
record `nr`, whose link is `link`", signed by the key whose fingerprint (SHA-256 of the public key's
SubjectPublicKeyInfo) it names. Rewriting the chain then requires the private key, which the database
administrator does not hold. The key is a PEM file (PKCS#8, unencrypted or with a password); verifiers
need only the public key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from audit.chain import format_time
from audit.errors import AuditKeyError
from contract.files import FileTooLarge, NotARegularFile, mode_for_others, read_bounded, why_unreadable

ED25519 = "Ed25519"
RSA_SHA256 = "RSA-PKCS1v15-SHA256"

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint as stored in `punkty_kontrolne`."""

    number: int
    nr: int
    link: str
    time: dt.datetime
    reason: str
    algorithm: str
    key_fingerprint: str
    signature: str


def payload(number: int, nr: int, link: str, time: dt.datetime, reason: str, fingerprint: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    text = "\n".join(
        (
            "platforma-komunikacyjna:audyt:punkt-kontrolny:1",
            str(number),
            str(nr),
            link,
            format_time(time),
            reason,
            fingerprint,
        )
    )
    return text.encode()


def fingerprint(key: PublicKey) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _algorithm(key: PublicKey) -> str:
    return ED25519 if isinstance(key, ed25519.Ed25519PublicKey) else RSA_SHA256


class CheckpointSigner:
    """Signs checkpoints with the hub's private key."""

    def __init__(self, private_key: PrivateKey) -> None:
        if not isinstance(private_key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
            raise AuditKeyError("Klucz punktów kontrolnych musi być kluczem Ed25519 albo RSA.")
        self._key = private_key
        self.public_key: PublicKey = private_key.public_key()
        self.fingerprint = fingerprint(self.public_key)
        self.algorithm = _algorithm(self.public_key)

    @classmethod
    def from_file(cls, path: str | Path, password: bytes | None = None) -> CheckpointSigner:
        """Load a PEM private key (PKCS#8 or traditional), translating failures into `AuditKeyError`."""
        data = _read(path, "klucza prywatnego punktów kontrolnych")
        mode = mode_for_others(Path(path))
        if mode is not None and mode & 0o007:
            # Whoever reads it signs checkpoints over a forged register. As the office seals: 0600, or 0640 with a
            # group; the documents key and `sign --key` are refused so too.
            raise AuditKeyError(
                f"Plik klucza prywatnego punktów kontrolnych {path} mogą czytać lub zmieniać wszyscy użytkownicy "
                f"systemu (uprawnienia {mode:04o}); ustaw 0600 poleceniem chmod 600 [KLUCZ_DOSTEPNY_DLA_WSZYSTKICH]."
            )
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except TypeError:
            raise AuditKeyError(
                f"Klucz prywatny w pliku {path} jest zaszyfrowany hasłem; klucz punktów kontrolnych jest bez hasła "
                "(chroni go uprawnienie 0600)."
            ) from None
        except (ValueError, UnsupportedAlgorithm):  # cryptography's English says the same less plainly
            raise AuditKeyError(
                f"Plik {path} nie zawiera czytelnego klucza prywatnego PEM (Ed25519 lub RSA, bez hasła)."
            ) from None
        if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
            raise AuditKeyError(f"Klucz w pliku {path} nie jest kluczem Ed25519 ani RSA.")
        return cls(key)

    def sign(self, number: int, nr: int, link: str, time: dt.datetime, reason: str) -> Checkpoint:
        """A new signed checkpoint."""
        data = payload(number, nr, link, time, reason, self.fingerprint)
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            signature = self._key.sign(data)
        else:
            signature = self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return Checkpoint(
            number, nr, link, time, reason, self.algorithm, self.fingerprint, base64.b64encode(signature).decode()
        )


class TrustedKeys:
    """The public keys whose checkpoint signatures a verifier accepts, by fingerprint."""

    def __init__(self, keys: Iterable[PublicKey] = ()) -> None:
        self._keys = {fingerprint(key): key for key in keys}

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __contains__(self, key_fingerprint: object) -> bool:
        return key_fingerprint in self._keys

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> TrustedKeys:
        """Public keys from PEM files; a private key file is accepted too (its public half is used)."""
        return cls(load_public_key(path) for path in paths)

    def verify(self, checkpoint: Checkpoint) -> bool:
        """True if the checkpoint's signature is valid under the key it names (which must be trusted)."""
        key = self._keys.get(checkpoint.key_fingerprint)
        if key is None or checkpoint.algorithm != _algorithm(key):
            return False
        try:
            signature = base64.b64decode(checkpoint.signature, validate=True)
        except ValueError:
            return False
        data = payload(
            checkpoint.number,
            checkpoint.nr,
            checkpoint.link,
            checkpoint.time,
            checkpoint.reason,
            checkpoint.key_fingerprint,
        )
        try:
            if isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(signature, data)
            else:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True


#: A PEM key is a few hundred bytes; more is not a key (and /dev/zero would never end).
_KEY_FILE_BYTES = 1024 * 1024


def _read(path: str | Path, what: str) -> bytes:
    try:
        return read_bounded(Path(path), _KEY_FILE_BYTES)
    except FileNotFoundError as error:
        raise AuditKeyError(f"Nie znaleziono pliku {what}: {path}.") from error
    except (OSError, NotARegularFile, FileTooLarge) as error:
        raise AuditKeyError(f"Nie można odczytać pliku {what} {path}: {why_unreadable(error)}.") from None


def load_public_key(path: str | Path) -> PublicKey:
    """A trusted public key from a PEM file (a public key, or a private key whose public half is taken)."""
    data = _read(path, "klucza publicznego")
    key: object
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise AuditKeyError(f"Plik {path} nie zawiera klucza publicznego ani prywatnego PEM.") from error
    if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        raise AuditKeyError(f"Klucz w pliku {path} nie jest kluczem Ed25519 ani RSA.")
    return key


def generate_key(path: str | Path, *, overwrite: bool = False) -> CheckpointSigner:
    """Create a new Ed25519 private key in a PEM file readable only by its owner, and return its signer."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise AuditKeyError(f"Plik {target} już istnieje; nie nadpisuję klucza.")
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(target, flags, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return CheckpointSigner(key)


def public_pem(key: PublicKey) -> str:
    """The public key as PEM text (to give to auditors)."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
