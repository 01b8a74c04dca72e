"""The hub database's tables: users, groups, used WS-Security nonces, scope rules and the policy version
(later templates and documents). One module, so that the domain services that use them do not import each
other for a table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
    false,
    update,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from replica.sqlite import sqlite_file


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A moment, given back with its offset (UTC) on every database: SQLite's DATETIME kept no offset and gave
    stored times back naive, so one case's DataZlozenia went out with +00:00 from one operation and without it
    (local time of no known zone, to an xs:dateTime reader) from another. Stored in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None or value.tzinfo is None:
            return value  # naive: already UTC, as everything the hub writes
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class HubBase(DeclarativeBase):
    """Declarative base of the hub's own database (users, groups, rules; later templates, documents)."""


class User(HubBase):
    """An end user (or a system account) of one office, in one group."""

    __tablename__ = "uzytkownicy"

    login: Mapped[str] = mapped_column(String(120), primary_key=True)
    office: Mapped[str] = mapped_column("urzad", String(32), index=True)
    group: Mapped[str] = mapped_column("grupa", String(64))
    name: Mapped[str] = mapped_column("nazwa", String(200), default="")
    password_hash: Mapped[str] = mapped_column("haslo", String(200))
    active: Mapped[bool] = mapped_column("aktywny", Boolean, default=True)
    roles: Mapped[str] = mapped_column("role", String(300), default="UZYTKOWNIK")
    locked: Mapped[bool] = mapped_column("zablokowany", Boolean, default=False)
    locked_until: Mapped[dt.datetime | None] = mapped_column("zablokowany_do", UtcDateTime())
    # Attempts since the last successful login, counted before their password is checked (being checked or
    # failed): the lockout's arbiter across threads, processes and hubs (hub.domain.accounts).
    failed_attempts: Mapped[int] = mapped_column("nieudane_proby", Integer, default=0)
    must_change_password: Mapped[bool] = mapped_column("wymagana_zmiana_hasla", Boolean, default=False)
    # Bumped by every lock, unlock, password change, reset or logout: cached credentials of older versions
    # die, in every hub process.
    version: Mapped[int] = mapped_column("wersja", Integer, default=1)
    # Matched to the serialNumber (PNOPL-...) of the certificate that signs documents (issue 15).
    pesel: Mapped[str | None] = mapped_column("pesel", String(11), nullable=True, default=None)


class GroupRow(HubBase):
    """A group of end users of one office (guideline 3: the unit of scope)."""

    __tablename__ = "grupy"

    office: Mapped[str] = mapped_column("urzad", String(32), primary_key=True)
    code: Mapped[str] = mapped_column("kod", String(64), primary_key=True)
    name: Mapped[str] = mapped_column("nazwa", String(200), default="")


class UsedNonce(HubBase):
    """A WS-Security Nonce seen within the replay window (WSS UsernameToken Profile 1.1, 4), shared by every
    process and hub on this database: the unique key makes a second use fail on insert."""

    __tablename__ = "uzyte_nonce"

    key: Mapped[str] = mapped_column("klucz", String(64), primary_key=True)  # SHA-256 of login and Nonce
    # Unix seconds after which the token could not be accepted anyway (its Created is out of the window).
    expires: Mapped[int] = mapped_column("wygasa", BigInteger, index=True)


class RuleRow(HubBase):
    """(office, group, data set) → categories and legal bases."""

    __tablename__ = "reguly"

    office: Mapped[str] = mapped_column("urzad", String(32), primary_key=True)
    group: Mapped[str] = mapped_column("grupa", String(64), primary_key=True)
    data_set: Mapped[str] = mapped_column("zbior", String(32), primary_key=True)
    categories: Mapped[str] = mapped_column("kategorie", Text)
    legal_bases: Mapped[str] = mapped_column("podstawy_prawne", Text, default="")


class PolicyVersion(HubBase):
    """One row: bumped by every change of the rules."""

    __tablename__ = "wersja_polityki"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column("wersja", Integer)


def hub_engine(url: str) -> Engine:
    """The engine of the hub's database, with its schema created and its append-only tables guarded."""
    # Imported here: the documents' tables (and so their guards) are declared on this module's base.
    from hub.storage.guards import install_guards

    path = sqlite_file(url)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            # As the audit store (audit/store.py): in WAL mode NORMAL keeps a commit across a crash of the
            # process and syncs the log at checkpoints, instead of one fsync per transaction (FULL); that
            # fsync was 4 ms of each document transaction (bench/documents.py, issue 15).
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")
            dbapi_connection.execute("PRAGMA busy_timeout = 30000")

    else:
        engine = create_engine(url, hide_parameters=True)
    HubBase.metadata.create_all(engine)
    add_missing_columns(engine)
    install_guards(engine)
    return engine


def lock_for_writing(session: Session, table: Any) -> None:
    """Begin the session's transaction by taking the database's write lock, on SQLite, where it matters.

    SQLite ignores SELECT … FOR UPDATE, and its driver begins a transaction only at the first write: what a
    transaction read before that was read outside it, and may be stale by the time it writes (two template
    editors at once: one change lost, or an activation hashing content another change had replaced). A no-op
    UPDATE first makes the driver begin and SQLite grant the write lock (waiting for `busy_timeout` while another
    writer holds it); what the transaction reads after it, nobody else writes until the commit. Elsewhere
    (PostgreSQL) the transaction's own FOR UPDATE locks do this, and nothing is done."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(table).where(false()).values({table.c.id: table.c.id}))


def add_missing_columns(engine: Engine) -> list[str]:
    """Bring a hub database made by an earlier version up to the tables' columns: Alembic compares the
    database with the declared tables and each column a newer version added (always nullable or with a
    default, so old rows stay valid) is added in place. Other differences are left for a written migration.
    Returns `table.column` of each column added."""
    added: list[str] = []
    with engine.begin() as connection:
        context = MigrationContext.configure(connection)
        operations = Operations(context)
        for difference in compare_metadata(context, HubBase.metadata):
            if isinstance(difference, tuple) and difference[0] == "add_column":
                _kind, schema, table, column = difference
                # Nullable unless the database can fill it (a server default): old rows must stay valid.
                nullable = column.nullable or column.server_default is None
                added_column = Column(column.name, column.type, nullable=nullable, server_default=column.server_default)
                operations.add_column(table, added_column, schema=schema)
                added.append(f"{table}.{column.name}")
    return added
