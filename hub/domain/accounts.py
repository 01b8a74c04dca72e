"""Accounts (guidelines 3 and 7): users and groups in the hub database, argon2id passwords, lockout,
security events, and who may administer whom.

Verifying argon2 costs tens of milliseconds by design, so a verified credential is remembered for a short,
configured time (as an HMAC under a per-process random key, never the password itself). Every cached use
still re-reads the account's state (active, locked, credential version), so a lock, a password change or a
logout takes effect at once, in every hub process.

The lockout limit holds under concurrency: each login first reserves an attempt with one conditional UPDATE
in the hub database (the row is the only arbiter shared by threads, worker processes and hubs), and only a
reserved attempt has its password checked; a success clears the count, a failure leaves it, and of the
failures that reach the limit exactly one locks the account.

The attempt is reserved when the request arrives, not when a worker thread gets to it (`reserve_on_arrival`,
called by the server before the request waits for a thread): each process queues requests for its few
threads, so a password sent after eight wrong ones could reach a free thread in one process while the
guesses sent before it still waited in the other's queue, find the limit not yet reached, and be served.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from audit import EventKind, EventLog, SecurityEvent
from contract.catalog import AUDITOR, OFFICE_ADMIN, PLATFORM_ADMIN, ROLES, TEMPLATE_EDITOR
from contract.errors import AuthenticationFailed, InvalidRequest, NotAllowed, PasswordChangeRequired, WeakPassword
from contract.identifiers import LOGIN_RULE, is_valid_login
from hub.domain.policy import Caller
from hub.settings import Group as GroupEntry
from hub.settings import UserEntry
from hub.storage.changes import ChangeWatch
from hub.storage.tables import GroupRow, UsedNonce, User

SYSTEM = "system"  # the actor of automatic actions (a lock after failed logins)

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
_GENERIC_FAILURE = "Nieprawidłowy login lub hasło albo konto jest zablokowane lub nieaktywne."
_WRONG_PASSWORD = "błędne hasło"  # noqa: S105 - the detail of a failed-login event
# How long a login waits for the checks holding every attempt to end, and how often it looks.
_RESERVATION_WAIT_SECONDS = 2.0
_RESERVATION_POLL_SECONDS = 0.02
_NONCE_PURGE_SECONDS = 60  # how often a process deletes the expired nonces
_ZXCVBN_MAX_LENGTH = 72  # characters zxcvbn accepts at most


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _HASHER.hash(password)


def _password_matches(stored: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class SecuritySettings:
    """Password and lockout rules (configurable in `[hub]`)."""

    cache_seconds: int = 60
    max_failed_logins: int = 5
    lock_minutes: int = 0  # 0: locked until an administrator unlocks
    min_password_length: int = 12
    min_password_score: int = 3  # zxcvbn score 0-4


class StaleToken(AuthenticationFailed):
    """A WS-Security token or timestamp made too long ago (or too far ahead), or expired."""

    code = "NIEAKTUALNY_TOKEN"


class ReplayedToken(AuthenticationFailed):
    """A UsernameToken whose Nonce was already used within the replay window: a request sent again."""

    code = "POWTORZONY_TOKEN"


@dataclass(frozen=True)
class TokenStamps:
    """The anti-replay parts of a WS-Security header, each optional: the UsernameToken's Nonce and Created
    (UsernameToken Profile 1.1, 4) and the header's Timestamp (SOAP Message Security 1.1, 10)."""

    nonce: str | None = None
    created: dt.datetime | None = None
    timestamp_created: dt.datetime | None = None
    timestamp_expires: dt.datetime | None = None


@dataclass
class Reservation:
    """An attempt counted against a login's limit when its request arrived, for that request's password check
    (`Accounts.reserve_on_arrival`). A request that ends without checking a password gives it back."""

    login: str
    stored: str
    office: str
    taken: bool = False

    def take(self, login: str) -> tuple[str, str] | None:
        """The (hash, office) to check the password against, once, if this reservation is for `login`."""
        if self.taken or login != self.login:
            return None
        self.taken = True
        return self.stored, self.office


@dataclass(frozen=True)
class UserView:
    """What an administrator sees of a user (never the hash)."""

    login: str
    office: str
    group: str
    name: str
    roles: tuple[str, ...]
    active: bool
    locked: bool
    must_change_password: bool


class _NullEvents:
    def record(self, event: SecurityEvent) -> None:
        del event


_STATE = select(User.active, User.locked, User.version).where(User.login == bindparam("login"))
_LOCK_STATE = select(
    User.active, User.locked, User.locked_until, User.failed_attempts, User.version, User.office
).where(User.login == bindparam("login"))
_ACTING = select(
    User.login, User.office, User.group, User.roles, User.active, User.locked, User.must_change_password
).where(User.login == bindparam("login"))


def check_password_strength(password: str, settings: SecuritySettings, hints: Iterable[str] = ()) -> None:
    """Refuse short or guessable passwords (zxcvbn knows the common-password lists), in Polish."""
    if len(password) < settings.min_password_length:
        raise WeakPassword(f"Hasło musi mieć co najmniej {settings.min_password_length} znaków.")
    hints = [hint for hint in hints if hint]
    lowered = password.casefold()
    for hint in hints[:2]:  # the login and the user's name, whole (their parts only lower zxcvbn's score)
        # zxcvbn lowers the score of a password built on the login, not always below the bar: say it plainly.
        if len(hint) >= 3 and hint.casefold() in lowered:
            raise WeakPassword("Hasło nie może zawierać loginu ani nazwy użytkownika.")
    # zxcvbn refuses (ValueError) anything past its limit of 72 characters: a longer passphrase was an internal
    # error, though the contract allows 200; its first 72 characters are what zxcvbn can judge.
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=[h[:_ZXCVBN_MAX_LENGTH] for h in hints if h])
    if result["score"] < settings.min_password_score:
        raise WeakPassword(
            "Hasło jest zbyt łatwe do odgadnięcia (popularne hasło, słowo ze słownika, dane użytkownika "
            "lub sekwencja klawiszy). Użyj dłuższego, mniej przewidywalnego hasła."
        )


#: Roles that act for every office: the platform's administration, the whole disclosure register and event log
#: (AUDYTOR), the templates every office's documents are made from (REDAKTOR_SZABLONOW). Only the platform
#: administrator grants them.
_ABOVE_THE_OFFICE = frozenset({PLATFORM_ADMIN, AUDITOR, TEMPLATE_EDITOR})
#: Accounts an office administrator does not lock, unlock, reset or regroup (their own excepted): those holding a
#: role above the office, and the other administrators of the office.
_BEYOND_AN_OFFICE_ADMIN = _ABOVE_THE_OFFICE | {OFFICE_ADMIN}
#: Who created an account or a group read from the configuration file, in their security events.
_FROM_CONFIGURATION = "konfiguracja"

log = logging.getLogger(__name__)


class Accounts:
    """Authentication, password changes, lockout, and administration of users and groups."""

    def __init__(
        self,
        engine: Engine,
        cache_seconds: int = 60,
        *,
        events: EventLog | None = None,
        settings: SecuritySettings | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.engine = engine
        self.watch = ChangeWatch(str(engine.url))
        self.settings = settings or SecuritySettings(cache_seconds=cache_seconds)
        self.cache_seconds = self.settings.cache_seconds
        self.events: EventLog = events or _NullEvents()  # type: ignore[assignment]
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._cache: dict[str, tuple[bytes, float, Caller, int]] = {}
        self._lock = threading.Lock()
        # Verified when the login is unknown, so a failed login takes the same time either way.
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))
        self._next_nonce_purge = 0  # Unix seconds

    # -- events ------------------------------------------------------------------------------------------------
    def _event(
        self,
        kind: EventKind,
        user: str,
        office: str,
        *,
        actor: str | None = None,
        source: str = "",
        success: bool = True,
        details: str = "",
    ) -> None:
        self.events.record(SecurityEvent(self.clock(), kind, user, office, actor or user, source, success, details))

    def refused(self, actor: Caller, what: str) -> NotAllowed:
        """Record a permission refusal and return the error to raise."""
        self._event(
            EventKind.PERMISSION_REFUSED,
            actor.login,
            actor.office,
            source=actor.source,
            success=False,
            details=what,
        )
        return NotAllowed(f"Brak uprawnień: {what}.", details=(what,))

    # -- import ------------------------------------------------------------------------------------------------
    def import_users(self, entries: Iterable[UserEntry]) -> int:
        """Create users of the configuration that the database does not have yet; return how many.

        At the first start (no account yet) this is the installation. Later, each account created is a security
        event (ZMIANA_UZYTKOWNIKA by `konfiguracja`) and a warning: one added to the file of a running powiat
        appeared at the next command with no trace. An account the database has is managed there (`platforma
        users ...`); where the file says otherwise (office, group, roles), a warning says so, as for the rules."""
        count = 0
        differing: list[str] = []
        with Session(self.engine) as session, session.begin():
            installing = session.scalar(select(User.login).limit(1)) is None
            for entry in entries:
                stored = session.get(User, entry.login)
                if stored is not None:  # managed in the database from now on (platforma users ...)
                    written = (entry.office, entry.group, ",".join(entry.roles))
                    if (stored.office, stored.group, stored.roles) != written:
                        differing.append(entry.login)
                    continue
                session.add(
                    User(
                        login=entry.login,
                        office=entry.office,
                        group=entry.group,
                        name=entry.name,
                        password_hash=entry.password_hash,
                        roles=",".join(entry.roles),
                        active=True,
                        locked=False,
                        failed_attempts=0,
                        must_change_password=False,
                        version=1,
                        pesel=entry.pesel,
                    )
                )
                count += 1
                if installing:
                    continue
                session.flush()
                self._event(
                    EventKind.USER_CHANGE,
                    entry.login,
                    entry.office,
                    actor=_FROM_CONFIGURATION,
                    details=f"dodano z pliku konfiguracji; grupa {entry.group}; role {','.join(entry.roles)}",
                )
                log.warning(
                    "konto %s dodano z pliku konfiguracji do bazy huba, w której są już konta (zdarzenie "
                    "ZMIANA_UZYTKOWNIKA); konta zakłada się poleceniem platforma users add",
                    entry.login,
                )
        if differing:
            log.warning(
                "konta w pliku konfiguracji różnią się od kont w bazie huba (%d, np. %s: urząd, grupa albo role); "
                "obowiązują dane z bazy: zmieniaj je poleceniami platforma users",
                len(differing),
                differing[0],
            )
        self.forget()
        return count

    def import_groups(self, entries: Iterable[GroupEntry]) -> int:
        """Create groups of the configuration that the database does not have yet (after the first start, each a
        security event ZMIANA_GRUPY by `konfiguracja`, as accounts are: `import_users`)."""
        count = 0
        with Session(self.engine) as session, session.begin():
            installing = session.scalar(select(GroupRow.code).limit(1)) is None
            for entry in entries:
                if session.get(GroupRow, (entry.office, entry.code)) is None:
                    session.add(GroupRow(office=entry.office, code=entry.code, name=entry.name))
                    count += 1
                    if installing:
                        continue
                    session.flush()
                    self._event(
                        EventKind.GROUP_CHANGE,
                        _FROM_CONFIGURATION,
                        entry.office,
                        details=f"dodano z pliku konfiguracji grupę {entry.code} ({entry.name})",
                    )
        return count

    # -- authentication ------------------------------------------------------------------------------------------
    def authenticate(
        self,
        login: str,
        password: str,
        channel: str = "SOAP",
        source: str = "",
        *,
        record_login: bool = True,
        reservation: Reservation | None = None,
    ) -> Caller:
        """The caller for these credentials, or `AuthenticationFailed` (never saying which part was wrong).

        A verification that is not a login (the old password of a password change) passes
        `record_login=False`; its failures still count and are recorded as failed logins. `reservation` is
        the attempt reserved when the request arrived, if any (`reserve_on_arrival`).
        """
        return self._authenticated(login, password, channel, source, record_login, reservation)[0]

    def _tag(self, login: str, password: str) -> bytes:
        return hmac.new(self._key, f"{login}\0{password}".encode(), hashlib.sha256).digest()

    def _remembered(self, login: str, tag: bytes, now: float) -> tuple[bytes, float, Caller, int] | None:
        with self._lock:
            cached = self._cache.get(login)
        if cached is not None and cached[1] > now and hmac.compare_digest(cached[0], tag):
            return cached
        return None

    def _authenticated(
        self,
        login: str,
        password: str,
        channel: str,
        source: str,
        record_login: bool,
        reservation: Reservation | None = None,
    ) -> tuple[Caller, int]:
        """`authenticate`, with the credential version the password was found valid for."""
        tag = self._tag(login, password)
        now = time.monotonic()
        cached = self._remembered(login, tag, now)
        if cached is not None:
            caller = self._still_valid(cached[2], cached[3])
            if caller is not None:
                return replace(caller, channel=channel, source=source), cached[3]
        caller, version = self._verify(login, password, channel, source, record_login, reservation)
        with self._lock:
            self._cache[login] = (tag, now + self.cache_seconds, caller, version)
        return caller, version

    def _still_valid(self, caller: Caller, version: int) -> Caller | None:
        # The hot path of every request. If the hub database has not changed since this thread last
        # confirmed this credential version, it is still valid; else one Core SELECT decides.
        token = self.watch.token()
        key = f"user:{caller.login}"
        if token is not None and self.watch.remembered(key) == (token, version):
            return caller
        with self.engine.connect() as connection:
            row = connection.execute(_STATE, {"login": caller.login}).one_or_none()
        if row is None or not row[0] or row[1] or row[2] != version:  # active, locked, version
            self.forget(caller.login)
            return None
        if token is not None:
            self.watch.remember(key, (token, version))
        return caller

    def _verify(
        self,
        login: str,
        password: str,
        channel: str,
        source: str,
        record_login: bool = True,
        reservation: Reservation | None = None,
    ) -> tuple[Caller, int]:
        # Guideline 7 under concurrency: an attempt is reserved in the database before its hash is checked
        # (one conditional UPDATE, atomic in SQLite and PostgreSQL alike), so however many requests, worker
        # processes or hubs race, at most `max_failed_logins` guesses are checked and one of them locks.
        reserved = (reservation.take(login) if reservation is not None else None) or self._reserve(login, source)
        if reserved is None:
            _password_matches(self._dummy_hash, password)  # the time of a real check; this guess is never tried
            reason, office = self._refusal_reason(login)
            self._event(EventKind.FAILED_LOGIN, login, office, source=source, success=False, details=reason)
            raise AuthenticationFailed(_GENERIC_FAILURE)
        stored, office = reserved
        if not _password_matches(stored, password):
            self._event(EventKind.FAILED_LOGIN, login, office, source=source, success=False, details=_WRONG_PASSWORD)
            self._lock_if_exhausted(login, source)
            raise AuthenticationFailed(_GENERIC_FAILURE)
        accepted = self._accept(login, stored)
        if accepted is None:  # locked, deactivated or given a new password while this one was checked
            self._event(
                EventKind.FAILED_LOGIN,
                login,
                office,
                source=source,
                success=False,
                details="konto zmienione w trakcie sprawdzania hasła",
            )
            raise AuthenticationFailed(_GENERIC_FAILURE)
        caller, version = accepted
        caller = replace(caller, channel=channel, source=source)
        if record_login:
            self._event(EventKind.LOGIN, caller.login, caller.office, source=source, details=channel)
        return caller, version

    def remembered_until(self, login: str, password: str) -> float | None:
        """Until when (`time.monotonic()`) this process remembers these credentials as verified, if it does."""
        cached = self._remembered(login, self._tag(login, password), time.monotonic())
        return None if cached is None else cached[1]

    def reserve_on_arrival(self, login: str, password: str) -> Reservation | None:
        """Count an attempt for a request that has just arrived, before it waits for a thread: None when this
        process remembers the credential (no check will be needed) or no attempt is free now (the request's
        thread then reserves as before, waiting for the checks that hold them). A reservation the request does
        not use is given back with `release`."""
        if self._remembered(login, self._tag(login, password), time.monotonic()) is not None:
            return None
        row = self._reserve_once(login)
        return None if row is None else Reservation(login, row[0], row[1])

    def release(self, reservation: Reservation) -> None:
        """Give back an attempt reserved on arrival by a request that ended before its password was checked
        (a malformed message, a replayed token, a credential this process had remembered meanwhile)."""
        if reservation.taken:
            return
        reservation.taken = True
        give_back = (
            update(User)
            .where(User.login == reservation.login, User.locked.is_(False), User.failed_attempts > 0)
            .values({User.failed_attempts: User.failed_attempts - 1})
        )
        with self.engine.begin() as connection:
            connection.execute(give_back)

    def _reserve_once(self, login: str) -> tuple[str, str] | None:
        """One conditional UPDATE: an attempt counted, and the (hash, office), if one is free now."""
        reserve = (
            update(User)
            .where(
                User.login == login,
                User.active.is_(True),
                User.locked.is_(False),
                User.failed_attempts < self.settings.max_failed_logins,
            )
            .values({User.failed_attempts: User.failed_attempts + 1})
            .returning(User.password_hash, User.office)
        )
        with self.engine.begin() as connection:
            row = connection.execute(reserve).one_or_none()
        return None if row is None else (row[0], row[1])

    def _reserve(self, login: str, source: str) -> tuple[str, str] | None:
        """Count one attempt against the limit before its hash is checked: the (hash, office) to check it
        against, or None when the login is unknown, inactive or locked, or no attempt frees up in time."""
        deadline = time.monotonic() + _RESERVATION_WAIT_SECONDS
        while True:
            row = self._reserve_once(login)
            if row is not None:
                return row
            with self.engine.connect() as connection:
                state = connection.execute(_LOCK_STATE, {"login": login}).one_or_none()
            if state is None or not state[0]:  # unknown or inactive
                return None
            if state[1] and not self._lift_expired_lock(login, state[2], state[4], state[5], source):
                return None
            if time.monotonic() >= deadline:
                return None
            if not state[1] and state[3] >= self.settings.max_failed_logins:
                # Every attempt is reserved by checks still running (about 0.1 s each): their outcome decides
                # (a success frees the attempts, the last failure locks), so wait for it rather than refuse a
                # burst of right passwords.
                time.sleep(_RESERVATION_POLL_SECONDS)

    def _lift_expired_lock(
        self, login: str, locked_until: dt.datetime | None, version: int, office: str, source: str
    ) -> bool:
        """Unlock an account whose configured lock time has passed (one of all racing calls does, and records
        it); whether the lock is over."""
        if locked_until is None:
            return False
        if locked_until > self.clock():  # aware: `UtcDateTime`
            return False
        unlock = (
            update(User)
            .where(User.login == login, User.locked.is_(True), User.version == version)
            .values({User.locked: False, User.locked_until: None, User.failed_attempts: 0, User.version: version + 1})
        )
        with self.engine.begin() as connection:
            lifted = connection.execute(unlock).rowcount == 1
        if lifted:
            self._event(EventKind.UNLOCK, login, office, actor=SYSTEM, source=source, details="upłynął czas blokady")
        return True

    def _lock_if_exhausted(self, login: str, source: str) -> None:
        # Conditional, so that of all the failures that see the limit reached exactly one locks and records it.
        until = self.clock() + dt.timedelta(minutes=self.settings.lock_minutes) if self.settings.lock_minutes else None
        lock = (
            update(User)
            .where(
                User.login == login,
                User.locked.is_(False),
                User.failed_attempts >= self.settings.max_failed_logins,
            )
            .values({User.locked: True, User.locked_until: until, User.version: User.version + 1})
            .returning(User.failed_attempts, User.office)
        )
        with self.engine.begin() as connection:
            row = connection.execute(lock).one_or_none()
        if row is not None:
            self._event(
                EventKind.LOCK,
                login,
                row[1],
                actor=SYSTEM,
                source=source,
                details=f"{row[0]} nieudanych prób logowania",
            )
            self.forget(login)

    def _accept(self, login: str, stored: str) -> tuple[Caller, int] | None:
        """Clear the attempts (this one's reservation and the failures before it) if the account is still
        usable with the hash just checked; the caller and the credential version."""
        accept = (
            update(User)
            .where(User.login == login, User.active.is_(True), User.locked.is_(False), User.password_hash == stored)
            .values({User.failed_attempts: 0})
            .returning(User.office, User.group, User.roles, User.must_change_password, User.version)
        )
        with self.engine.begin() as connection:
            row = connection.execute(accept).one_or_none()
        if row is None:
            return None
        roles = frozenset(row[2].split(","))
        return Caller(login, row[0], row[1], "", roles, "", row[3]), row[4]

    def _refusal_reason(self, login: str) -> tuple[str, str]:
        """Why no attempt could be reserved (for the security event), and the account's office."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(User.active, User.locked, User.office).where(User.login == login)
            ).one_or_none()
        if row is None:
            return "nieznany login", ""
        if row[1]:
            return "konto zablokowane", row[2]
        if not row[0]:
            return "konto nieaktywne", row[2]
        return "wyczerpany limit prób logowania (trwa sprawdzanie wcześniejszych)", row[2]

    # -- replayed and stale tokens ------------------------------------------------------------------------------
    def admit_token(self, login: str, stamps: TokenStamps, window: dt.timedelta, source: str = "") -> None:
        """Refuse a token made outside the window around now, an expired timestamp or a Nonce already used
        within the window (shared by every process and hub on this database); each refusal is recorded.

        A token without them is admitted (over TLS, UsernameToken Profile 1.1 makes them optional); a
        refusal does not count towards the lockout, for no password was tried.
        """
        now = self.clock()
        seconds = int(window.total_seconds())
        for moment, what in ((stamps.created, "wsu:Created tokenu"), (stamps.timestamp_created, "wsu:Timestamp")):
            if moment is not None and abs(now - moment) > window:
                raise self.refuse_token(
                    login,
                    f"{what} poza oknem {seconds} s",
                    StaleToken(
                        f"Token WS-Security jest nieaktualny: czas utworzenia ({what}) różni się od czasu "
                        f"platformy o więcej niż {seconds} s. Wyślij żądanie z nowym tokenem i sprawdź zegar systemu."
                    ),
                    source,
                )
        if stamps.timestamp_expires is not None and stamps.timestamp_expires <= now:
            raise self.refuse_token(
                login,
                "wsu:Timestamp wygasł",
                StaleToken(
                    "Znacznik czasu WS-Security wygasł (wsu:Expires). Wyślij żądanie z nowym znacznikiem czasu."
                ),
                source,
            )
        if stamps.nonce is not None and not self._claim_nonce(login, stamps.nonce, (stamps.created or now) + window):
            raise self.refuse_token(
                login,
                "powtórzony Nonce",
                ReplayedToken(
                    "Token WS-Security z tym samym Nonce został już użyty: żądanie odrzucono jako możliwe "
                    "powtórzenie. Każde żądanie musi mieć nowy Nonce."
                ),
                source,
            )

    def refuse_token(
        self, login: str, reason: str, error: AuthenticationFailed, source: str = ""
    ) -> AuthenticationFailed:
        """Record a token refused before its password was checked (a failed login) and return the error to raise."""
        with self.engine.connect() as connection:
            office = connection.execute(select(User.office).where(User.login == login)).scalar_one_or_none()
        self._event(EventKind.FAILED_LOGIN, login, office or "", source=source, success=False, details=reason)
        return error

    def _claim_nonce(self, login: str, nonce: str, until: dt.datetime) -> bool:
        """Remember a Nonce until `until` (insert-or-fail on its unique key); False if it was already used."""
        key = hashlib.sha256(f"{login}\0{nonce}".encode()).hexdigest()
        now = int(self.clock().timestamp())
        try:
            with self.engine.begin() as connection:
                if now >= self._next_nonce_purge:
                    # Expired rows go in one indexed DELETE now and then, not one per request.
                    self._next_nonce_purge = now + _NONCE_PURGE_SECONDS
                    connection.execute(delete(UsedNonce).where(UsedNonce.expires < now))
                else:  # this key's own expired row, if the same Nonce comes back after its window
                    connection.execute(delete(UsedNonce).where(UsedNonce.key == key, UsedNonce.expires < now))
                connection.execute(
                    insert(UsedNonce).values({UsedNonce.key: key, UsedNonce.expires: math.ceil(until.timestamp())})
                )
        except IntegrityError:
            return False
        return True

    def act_for(self, office: str, login: str, system: str, source: str = "") -> Caller:
        """The end user a certificate-authenticated office system acts for (it must belong to that office)."""
        token = self.watch.token()
        key = f"acting:{office}:{login}"
        remembered = self.watch.remembered(key)
        if token is not None and isinstance(remembered, tuple) and remembered[0] == token:
            user = remembered[1]  # the database has not changed since this thread read this user
        else:
            with self.engine.connect() as connection:  # per request: Core, not the ORM session
                user = connection.execute(_ACTING, {"login": login}).one_or_none()
            if token is not None:
                self.watch.remember(key, (token, user))

        def refused(details: str) -> None:
            self._event(
                EventKind.PERMISSION_REFUSED, login, office, actor=system, source=source, success=False, details=details
            )

        if user is None or user.urzad != office or not user.aktywny or user.zablokowany:
            refused(f"system {system} urzędu {office} nie może działać w imieniu tego użytkownika")
            raise AuthenticationFailed(
                "Wskazany użytkownik końcowy nie istnieje, jest zablokowany albo nie należy do urzędu "
                "systemu, który wywołuje usługę."
            )
        above = sorted(set(user.role.split(",")) & _BEYOND_AN_OFFICE_ADMIN)
        if above:
            # An office's domain system acts for its staff, not for the auditor, the template editor or an
            # administrator: their roles act for every office (or for the accounts), never lent to a certificate.
            refused(f"działanie w imieniu konta z rolą {', '.join(above)} przez system {system}")
            raise NotAllowed(
                f"System urzędu nie może działać w imieniu konta z rolą {', '.join(above)}; taki użytkownik "
                "loguje się sam (UsernameToken)."
            )
        return Caller(
            user.login,
            user.urzad,
            user.grupa,
            "SOAP-TLS",
            frozenset(user.role.split(",")),
            f"{system}@{source}" if source else system,
            user.wymagana_zmiana_hasla,
        )

    def logout(self, caller: Caller) -> None:
        """End the caller's session in every hub process: the credential version moves on, so each process's
        cached credential dies at its next use (not only this process's), and the logout is recorded."""
        with self.engine.begin() as connection:
            connection.execute(update(User).where(User.login == caller.login).values({User.version: User.version + 1}))
        self.forget(caller.login)
        self._event(EventKind.LOGOUT, caller.login, caller.office, source=caller.source, details=caller.channel)

    def forget(self, login: str | None = None) -> None:
        """Drop cached credentials (of one user, or all)."""
        with self._lock:
            if login is None:
                self._cache.clear()
            else:
                self._cache.pop(login, None)

    # -- passwords ---------------------------------------------------------------------------------------------
    def change_password(self, login: str, old: str, new: str, source: str = "") -> None:
        """Change a password, proving the old one; clears a forced change."""
        _caller, version = self._authenticated(login, old, "ZMIANA_HASLA", source, record_login=False)
        if new == old:
            raise WeakPassword("Nowe hasło musi się różnić od dotychczasowego.")
        with self.engine.connect() as connection:
            name, office = connection.execute(select(User.name, User.office).where(User.login == login)).one()
        check_password_strength(new, self.settings, (login, name, *login.split(".")))
        # Only the credential version the old password was checked against is changed: of two changes racing
        # with the same old password, both read it valid, and each overwrote the other, both confirmed.
        change = (
            update(User)
            .where(User.login == login, User.version == version, User.active.is_(True), User.locked.is_(False))
            .values(
                {User.password_hash: hash_password(new), User.must_change_password: False, User.version: version + 1}
            )
        )
        with self.engine.begin() as connection:
            changed = connection.execute(change).rowcount == 1
        self.forget(login)
        if not changed:
            self._event(
                EventKind.PASSWORD_CHANGE,
                login,
                office,
                source=source,
                success=False,
                details="konto zmienione w trakcie zmiany hasła",
            )
            raise AuthenticationFailed(
                "Hasła nie zmieniono: w tym samym czasie konto zmieniło się (inna zmiana hasła, blokada albo "
                "wylogowanie). Zaloguj się ponownie i sprawdź, które hasło obowiązuje."
            )
        self._event(EventKind.PASSWORD_CHANGE, login, office, source=source)

    # -- administration -------------------------------------------------------------------------------------------
    def _may_administer(self, actor: Caller, office: str, what: str) -> None:
        if actor.has_role(PLATFORM_ADMIN):
            return
        if actor.has_role(OFFICE_ADMIN) and actor.office == office:
            return
        raise self.refused(actor, what)

    def _user_for_admin(self, session: Session, actor: Caller, login: str, what: str) -> User:
        """The account an administrator changes, its credential version already moved on in this transaction.

        The version moves on first, by one UPDATE in SQL: that write takes the database's lock on the row
        (SQLite: on the database; it ignores FOR UPDATE), so the account is read after it, as the last commit left
        it. Reading first and writing `version + 1` computed in Python lost one of two changes made at once (a
        group change and an unlock): the lost increment left each process's cached login valid with the old group
        or the old password until the cache expired. Rolled back with the transaction if the change is refused."""
        session.execute(update(User).where(User.login == login).values({User.version: User.version + 1}))
        user = session.get(User, login, populate_existing=True, with_for_update=True)
        if user is None:
            # Outside one's office, an unknown login and a foreign one look the same.
            if not actor.has_role(PLATFORM_ADMIN):
                raise self.refused(actor, f"{what} {login}")
            raise InvalidRequest(f"Nie ma użytkownika {login}.")
        self._may_administer(actor, user.office, f"{what} {login}")
        above = sorted(set(user.roles.split(",")) & _BEYOND_AN_OFFICE_ADMIN)
        if above and not actor.has_role(PLATFORM_ADMIN) and user.login != actor.login:
            # An office administrator resetting the platform administrator's password (or the auditor's) then
            # set one of their own and acted as them: such an account is the platform administrator's to manage.
            raise self.refused(
                actor, f"{what} {login} (konto z rolą {', '.join(above)}: zarządza nim administrator platformy)"
            )
        return user

    def _changed(self, kind: EventKind, user: User, actor: Caller, details: str = "") -> None:
        """Record an administrator's change of an account (its security event)."""
        self._event(kind, user.login, user.office, actor=actor.login, source=actor.source, details=details)

    def has_account(self, login: str) -> bool:
        """Whether an account with this login exists (active or not); says nothing else about it."""
        with self.engine.connect() as connection:
            return connection.scalar(select(User.login).where(User.login == login)) is not None

    def list_users(self, actor: Caller, office: str | None = None) -> list[UserView]:
        """Users the actor may see: all for a platform administrator, own office for an office administrator."""
        if not actor.has_role(PLATFORM_ADMIN):
            if office is not None and office != actor.office:
                raise self.refused(actor, f"lista użytkowników urzędu {office}")
            self._may_administer(actor, actor.office, "lista użytkowników")
            office = actor.office
        query = select(User).order_by(User.office, User.login)
        if office is not None:
            query = query.where(User.office == office)
        with Session(self.engine) as session:
            return [
                UserView(
                    u.login,
                    u.office,
                    u.group,
                    u.name,
                    tuple(u.roles.split(",")),
                    u.active,
                    u.locked,
                    u.must_change_password,
                )
                for u in session.scalars(query)
            ]

    def add_user(
        self,
        actor: Caller,
        login: str,
        office: str,
        group: str,
        password: str,
        *,
        roles: Iterable[str] = ("UZYTKOWNIK",),
        name: str = "",
    ) -> None:
        """Create a user (who must change the password at first use)."""
        roles = tuple(roles)
        self._may_administer(actor, office, f"dodanie użytkownika {login} w urzędzie {office}")
        if not is_valid_login(login):
            raise InvalidRequest(f"Nieprawidłowy login: {LOGIN_RULE}.")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise InvalidRequest(f"Nieznana rola: {', '.join(unknown)}.")
        granted_above = sorted(set(roles) & _ABOVE_THE_OFFICE)
        if granted_above and not actor.has_role(PLATFORM_ADMIN):
            # Each acts for every office (the whole register, every template): the platform administrator grants it.
            raise self.refused(actor, f"nadanie roli {', '.join(granted_above)}")
        check_password_strength(password, self.settings, (login, name, *login.split(".")))
        with Session(self.engine) as session, session.begin():
            if session.get(GroupRow, (office, group)) is None:
                raise InvalidRequest(f"Urząd {office} nie ma grupy {group}.")
            if session.get(User, login) is not None:
                raise InvalidRequest(f"Użytkownik {login} już istnieje.")
            # `Platforma.ADMIN` beside `platforma.admin` reads as the same person in lists and events.
            same = session.scalar(select(User.login).where(func.lower(User.login) == login.lower()))
            if same is not None:
                raise InvalidRequest(
                    f"Login {login} różni się od istniejącego {same} tylko wielkością liter; wybierz inny login."
                )
            session.add(
                User(
                    login=login,
                    office=office,
                    group=group,
                    name=name,
                    password_hash=hash_password(password),
                    roles=",".join(roles),
                    active=True,
                    locked=False,
                    failed_attempts=0,
                    must_change_password=True,
                    version=1,
                )
            )
            # The INSERT before the event: of parallel additions of one login, each loser fails here, not after
            # its "dodano" was recorded (five such events for one user, attack pass).
            session.flush()
            self._event(
                EventKind.USER_CHANGE,
                login,
                office,
                actor=actor.login,
                source=actor.source,
                details=f"dodano; grupa {group}; role {','.join(roles)}",
            )

    def lock(self, actor: Caller, login: str) -> None:
        """Lock an account (by an administrator)."""
        with Session(self.engine) as session, session.begin():
            user = self._user_for_admin(session, actor, login, "blokada użytkownika")
            user.locked, user.locked_until = True, None
            self._changed(EventKind.LOCK, user, actor)
        self.forget(login)

    def unlock(self, actor: Caller, login: str) -> None:
        """Unlock an account and clear its failed attempts."""
        with Session(self.engine) as session, session.begin():
            user = self._user_for_admin(session, actor, login, "odblokowanie użytkownika")
            user.locked, user.locked_until, user.failed_attempts = False, None, 0
            self._changed(EventKind.UNLOCK, user, actor)
        self.forget(login)

    def reset_password(self, actor: Caller, login: str) -> str:
        """Set a random one-time password; the user must change it at the next use. Returns it."""
        temporary = "-".join(secrets.token_urlsafe(6) for _ in range(3))
        with Session(self.engine) as session, session.begin():
            user = self._user_for_admin(session, actor, login, "reset hasła użytkownika")
            user.password_hash = hash_password(temporary)
            user.must_change_password = True
            self._changed(EventKind.PASSWORD_CHANGE, user, actor, "reset hasła przez administratora")
        self.forget(login)
        return temporary

    def set_group(self, actor: Caller, login: str, group: str) -> None:
        """Move a user to another group of the same office."""
        with Session(self.engine) as session, session.begin():
            user = self._user_for_admin(session, actor, login, "zmiana grupy użytkownika")
            if session.get(GroupRow, (user.office, group)) is None:
                raise InvalidRequest(f"Urząd {user.office} nie ma grupy {group}.")
            previous, user.group = user.group, group
            self._changed(EventKind.USER_CHANGE, user, actor, f"grupa {previous} → {group}")
        self.forget(login)

    def set_roles(self, actor: Caller, login: str, roles: Iterable[str]) -> None:
        """Replace a user's roles (a signer who changes jobs loses PODPISUJACY and keeps the account). A role above
        the office is given or taken by the platform administrator only; the change is a security event and ends
        the user's sessions in every process (the credential version moves on)."""
        roles = tuple(dict.fromkeys(roles))
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise InvalidRequest(f"Nieznana rola: {', '.join(unknown)}.")
        if not roles:
            raise InvalidRequest("Podaj co najmniej jedną rolę (aby odebrać wszystkie, zablokuj konto).")
        with Session(self.engine) as session, session.begin():
            user = self._user_for_admin(session, actor, login, "zmiana ról użytkownika")
            before = tuple(r for r in user.roles.split(",") if r)
            changed_above = sorted((set(roles) ^ set(before)) & _ABOVE_THE_OFFICE)
            if changed_above and not actor.has_role(PLATFORM_ADMIN):
                raise self.refused(actor, f"zmiana roli {', '.join(changed_above)} użytkownika {login}")
            if user.login == actor.login and PLATFORM_ADMIN in before and PLATFORM_ADMIN not in roles:
                raise InvalidRequest("Administrator platformy nie odbiera roli ADMINISTRATOR_PLATFORMY samemu sobie.")
            user.roles = ",".join(roles)
            self._changed(EventKind.USER_CHANGE, user, actor, f"role {','.join(before)} → {','.join(roles)}")
        self.forget(login)

    def add_group(self, actor: Caller, office: str, code: str, name: str) -> None:
        """Create a group in an office."""
        self._may_administer(actor, office, f"dodanie grupy {code} w urzędzie {office}")
        with Session(self.engine) as session, session.begin():
            if session.get(GroupRow, (office, code)) is not None:
                raise InvalidRequest(f"Urząd {office} ma już grupę {code}.")
            session.add(GroupRow(office=office, code=code, name=name))
            self._event(
                EventKind.GROUP_CHANGE,
                actor.login,
                office,
                actor=actor.login,
                source=actor.source,
                details=f"dodano grupę {code}: {name}",
            )

    def list_groups(self, actor: Caller, office: str | None = None) -> list[tuple[str, str, str]]:
        """Groups (office, code, name) the actor may see."""
        if not actor.has_role(PLATFORM_ADMIN):
            self._may_administer(actor, actor.office, "lista grup")
            office = actor.office
        query = select(GroupRow).order_by(GroupRow.office, GroupRow.code)
        if office is not None:
            query = query.where(GroupRow.office == office)
        with Session(self.engine) as session:
            return [(g.office, g.code, g.name) for g in session.scalars(query)]

    def check_usable(self, caller: Caller, operation: str, *, change_with: str = "operacja ZmianaHasla") -> None:
        """Refuse everything but a password change while a forced change is pending (`change_with`: how the
        caller changes it on their channel)."""
        if caller.must_change_password and operation != "ZmianaHasla":
            raise PasswordChangeRequired(
                f"Hasło zostało zresetowane przez administratora: zmień je ({change_with}) przed dalszą pracą."
            )
