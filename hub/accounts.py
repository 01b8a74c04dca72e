"""Users of the platform in the hub's own database; passwords as argon2id (argon2-cffi).

Verifying argon2 costs tens of milliseconds by design, so a verified credential is remembered for a short,
configured time (as an HMAC under a per-process random key, never the password itself).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, String, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from hub.config import UserEntry
from hub.errors import AuthenticationFailed
from hub.policy import Caller

# Roles of the platform (issue "Accounts"): stable codes, as they appear in the configuration.
ROLES = {
    "UZYTKOWNIK": "użytkownik końcowy",
    "ADMINISTRATOR_URZEDU": "administrator urzędu (użytkownicy własnego urzędu)",
    "ADMINISTRATOR_PLATFORMY": "administrator platformy",
    "REDAKTOR_SZABLONOW": "redaktor szablonów dokumentów",
    "PODPISUJACY": "podpisujący dokumenty",
    "AUDYTOR": "audytor (rejestr ujawnień i zdarzeń)",
    "SYSTEM_ZASILAJACY": "system dziedzinowy zasilający replikę swojego urzędu",
}

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _HASHER.hash(password)


class HubBase(DeclarativeBase):
    """Declarative base of the hub's own database (users; later groups, templates, documents)."""


class User(HubBase):
    """An end user of one office, in one group."""

    __tablename__ = "uzytkownicy"

    login: Mapped[str] = mapped_column(String(120), primary_key=True)
    office: Mapped[str] = mapped_column("urzad", String(32))
    group: Mapped[str] = mapped_column("grupa", String(64))
    name: Mapped[str] = mapped_column("nazwa", String(200), default="")
    password_hash: Mapped[str] = mapped_column("haslo", String(200))
    active: Mapped[bool] = mapped_column("aktywny", Boolean, default=True)
    roles: Mapped[str] = mapped_column("role", String(300), default="UZYTKOWNIK")


def hub_engine(url: str) -> Engine:
    """The engine of the hub's database, with its schema created."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            dbapi_connection.execute("PRAGMA busy_timeout = 30000")

    else:
        engine = create_engine(url)
    HubBase.metadata.create_all(engine)
    return engine


class Accounts:
    """Authenticates users against the hub database, with a short-lived cache of verified credentials."""

    def __init__(self, engine: Engine, cache_seconds: int = 60) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._key = secrets.token_bytes(32)
        self._cache: dict[str, tuple[bytes, float, Caller]] = {}
        self._lock = threading.Lock()
        # Verified when the login is unknown, so a failed login takes the same time either way.
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))

    def import_users(self, entries: Iterable[UserEntry]) -> int:
        """Create or update users from the configuration; return how many were written."""
        count = 0
        with Session(self.engine) as session, session.begin():
            for entry in entries:
                user = session.get(User, entry.login)
                if user is None:
                    user = User(login=entry.login, active=True)
                    session.add(user)
                user.office, user.group, user.name = entry.office, entry.group, entry.name
                user.roles = ",".join(entry.roles)
                user.password_hash = entry.password_hash
                count += 1
        self.forget()
        return count

    def authenticate(self, login: str, password: str, channel: str = "SOAP") -> Caller:
        """The caller for these credentials, or `AuthenticationFailed` (never saying which part was wrong)."""
        tag = hmac.new(self._key, f"{login}\0{password}".encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(login)
        if cached is not None and cached[1] > now and hmac.compare_digest(cached[0], tag):
            caller = cached[2]
            if caller.channel != channel:
                caller = Caller(caller.login, caller.office, caller.group, channel, caller.roles)
            return caller
        with Session(self.engine) as session:
            user = session.scalars(select(User).where(User.login == login)).one_or_none()
            stored = user.password_hash if user is not None else self._dummy_hash
            try:
                _HASHER.verify(stored, password)
                ok = user is not None and user.active
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
            if not ok or user is None:
                raise AuthenticationFailed("Nieprawidłowy login lub hasło albo konto jest nieaktywne.")
            caller = Caller(user.login, user.office, user.group, channel, frozenset(user.roles.split(",")))
        with self._lock:
            self._cache[login] = (tag, now + self.cache_seconds, caller)
        return caller

    def forget(self, login: str | None = None) -> None:
        """Drop cached credentials (of one user, or all): a lock or password change takes effect at once."""
        with self._lock:
            if login is None:
                self._cache.clear()
            else:
                self._cache.pop(login, None)
