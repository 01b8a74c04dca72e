"""Integrity tags of what the hub stores about a case (issue 15 item 3, guideline 8: nothing about a
beneficiary is edited on the way).

Each stored document and receipt has an HMAC-SHA256 tag over what identifies it (its id, case, role or kind,
template version or document, and the SHA-256 of its bytes), made with a key the hub keeps in a file outside its
database (`[hub] documents_key`, by default `klucze/klucz-dokumentow` beside the configuration, 0600). The
triggers (`hub.storage.guards`) stop an UPDATE, and the stored SHA-256 a change of the bytes alone; the tag
stops what those two do not: the database's owner dropping the triggers and writing new bytes together with
their new SHA-256 (a generated certificate rewritten before the hub seals it, a receipt or a signed certificate
replaced after delivery). The hub checks the tag on every read; a document or receipt without one, or with one
that does not match, is never served, sealed or signed over.

Tags live in their own append-only table, so a database made by an earlier version gains them without
changing its rows: the first start that makes the key tags every document and receipt already stored (trust on
first use, recorded in the key file, `oznaczono_istniejace`), and from then on an untagged row is a tampered
one. A key file that is missing while tags exist stops the start: the key must be restored from the backup.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, String, and_, exists, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from contract.errors import ConfigurationError
from contract.files import read_bounded, why_unreadable
from hub.storage.documents import Receipt, StoredDocument
from hub.storage.tables import HubBase

DOCUMENT = "DOKUMENT"
RECEIPT = "POSWIADCZENIE"
DEFAULT_KEY = Path("klucze") / "klucz-dokumentow"
_KEY_BYTES = 32
_KEY_FILE_BYTES = 4096  # the header and one line of hex; a device or a huge file is no key file
_HEADER = (
    "# Klucz integralności dokumentów huba (HMAC-SHA256 znaczników dokumentów i poświadczeń w jego bazie).\n"
    "# Tylko dla huba: uprawnienia 0600. Kopię przechowuj razem z kopią bazy huba; bez niego hub nie potwierdzi,\n"
    "# że zapisanych dokumentów nie zmieniono, i nie wyda żadnego z nich.\n"
)


class IntegrityTag(HubBase):
    """The tag of one stored document or receipt (append-only, as what it tags)."""

    __tablename__ = "znaczniki_integralnosci"

    kind: Mapped[str] = mapped_column("rodzaj", String(16), primary_key=True)
    object_id: Mapped[str] = mapped_column("obiekt", String(64), primary_key=True)
    tag: Mapped[str] = mapped_column("znacznik", String(64))


def tag_of(kind: str, object_column: Mapped[str]) -> ColumnElement[bool]:
    """The condition joining a row (its id column) to its tag, for an outer join."""
    return and_(IntegrityTag.kind == kind, IntegrityTag.object_id == object_column)


@dataclass(frozen=True)
class IntegrityKey:
    """The hub's key for integrity tags."""

    secret: bytes = b""

    def _tag(self, kind: str, fields: Iterable[str | int]) -> str:
        message = bytearray()
        for value in (kind, *fields):
            encoded = str(value).encode("utf-8")
            message += len(encoded).to_bytes(4, "big") + encoded
        return hmac.new(self.secret, bytes(message), hashlib.sha256).hexdigest()

    def document(self, document_id: str, case_id: str, role: str, template_id: int, sha256: str) -> str:
        """The tag of a stored document, as identified by these and the SHA-256 of its bytes."""
        return self._tag(DOCUMENT, (document_id, case_id, role, template_id, sha256))

    def receipt(self, receipt_id: str, case_id: str, kind: str, document_id: str, content: bytes) -> str:
        """The tag of a stored receipt (its bytes' SHA-256 included)."""
        return self._tag(RECEIPT, (receipt_id, case_id, kind, document_id, hashlib.sha256(content).hexdigest()))

    @staticmethod
    def matches(expected: str, found: str | None) -> bool:
        return found is not None and hmac.compare_digest(expected, found)


_INSERT = IntegrityTag.__table__.insert()  # type: ignore[attr-defined]


def insert_tag(executor: Connection | Session, kind: str, object_id: str, tag: str) -> None:
    """Store a row's tag in the transaction that stores the row."""
    executor.execute(_INSERT, {"rodzaj": kind, "obiekt": object_id, "znacznik": tag})


def open_key(path: str | Path, engine: Engine) -> IntegrityKey:
    """The hub's integrity key from its file, made on the first start (then the documents and receipts already
    stored are tagged, once); a key file missing while tags exist, unreadable or readable by other users stops
    the start with one Polish line."""
    target = Path(path)
    try:
        key, tagged_existing = _read(target)
    except FileNotFoundError:
        with engine.connect() as connection:
            if connection.scalar(select(func.count()).select_from(IntegrityTag)):
                raise ConfigurationError(
                    f"Brak pliku klucza integralności dokumentów {target}, a dokumenty w bazie huba są nim "
                    "oznaczone: przywróć ten plik z kopii zapasowej (bez niego hub nie potwierdzi, że dokumentów "
                    "nie zmieniono) [BRAK_KLUCZA_INTEGRALNOSCI]"
                ) from None
        key, tagged_existing = _create(target), False
    if not tagged_existing:
        _tag_existing(engine, key)
        _write(target, key, tagged_existing=True, replace=True)
    return key


def _read(target: Path) -> tuple[IntegrityKey, bool]:
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
        text = read_bounded(target, _KEY_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as error:
        raise ConfigurationError(
            f"Nie można odczytać klucza integralności dokumentów {target}: {why_unreadable(error)}"
        ) from None
    if mode & 0o077:
        raise ConfigurationError(
            f"Plik klucza integralności dokumentów {target} mogą czytać inni użytkownicy systemu (uprawnienia "
            f"{mode:04o}); ustaw 0600 poleceniem chmod 600 [KLUCZ_DOSTEPNY_DLA_WSZYSTKICH]"
        )
    try:
        fields = tomllib.loads(text)
        secret = bytes.fromhex(fields["klucz"])
        tagged_existing = fields.get("oznaczono_istniejace", False)
        if len(secret) != _KEY_BYTES or not isinstance(tagged_existing, bool):
            raise ValueError
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError):
        raise ConfigurationError(
            f'Plik klucza integralności dokumentów {target} jest uszkodzony (oczekiwano klucz = "…": '
            f"{_KEY_BYTES * 2} cyfr szesnastkowych); przywróć go z kopii zapasowej"
        ) from None
    return IntegrityKey(secret), tagged_existing


def _create(target: Path) -> IntegrityKey:
    """A new key, published atomically (a hub process starting at the same time reads the same key)."""
    key = IntegrityKey(secrets.token_bytes(_KEY_BYTES))
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        _write(target, key, tagged_existing=False, replace=False)
    except FileExistsError:
        return _read(target)[0]
    return key


def _write(target: Path, key: IntegrityKey, *, tagged_existing: bool, replace: bool) -> None:
    text = f'{_HEADER}klucz = "{key.secret.hex()}"\noznaczono_istniejace = {str(tagged_existing).lower()}\n'
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # FileExistsError if another process made it first
    finally:
        temporary.unlink(missing_ok=True)


def _tag_existing(engine: Engine, key: IntegrityKey) -> None:
    """Tag every stored document and receipt that has no tag yet (first use of the key; idempotent)."""
    documents = select(
        StoredDocument.id,
        StoredDocument.case_id,
        StoredDocument.role,
        StoredDocument.template_id,
        StoredDocument.sha256,
    ).where(~exists().where(tag_of(DOCUMENT, StoredDocument.id)))
    receipts = select(Receipt.id, Receipt.case_id, Receipt.kind, Receipt.document_id, Receipt.content).where(
        ~exists().where(tag_of(RECEIPT, Receipt.id))
    )
    for _attempt in range(3):
        try:
            with engine.begin() as connection:
                for document in connection.execute(documents).all():
                    insert_tag(connection, DOCUMENT, document.id, key.document(*document))
                for receipt in connection.execute(receipts).all():
                    insert_tag(connection, RECEIPT, receipt.id, key.receipt(*receipt))
            return
        except IntegrityError:
            continue  # another hub process starting at once tagged some of them: tag what is left
