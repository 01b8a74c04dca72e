"""Replicas: one database per data set (guideline 5), holding the common model as fed by the controller.

Each person is a row of `osoby` (the identifiers used to find them) and one row of `sekcje` per category
(the section of the common XML model, exclusive-C14N bytes). The hub opens replicas read-only
(guideline 8: the platform never adds, edits or deletes beneficiary data); only the loader writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.identifiers import Identifier, normalise_name


class ReplicaBase(DeclarativeBase):
    """Declarative base of the replica schema (Polish table names, as the controller's DBA sees them)."""


class Person(ReplicaBase):
    """A person known to the data set, with the identifiers a query may use."""

    __tablename__ = "osoby"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_key: Mapped[str] = mapped_column("id_zrodlowy", String(64), unique=True)
    pesel: Mapped[str | None] = mapped_column(String(11), unique=True)
    surname_key: Mapped[str] = mapped_column("nazwisko_klucz", String(200))
    first_name_key: Mapped[str] = mapped_column("imie_klucz", String(200))
    birth_date: Mapped[dt.date] = mapped_column("data_urodzenia", Date)
    document_kind: Mapped[str | None] = mapped_column("dokument_rodzaj", String(20))
    document_number: Mapped[str | None] = mapped_column("dokument_numer", String(40))

    __table_args__ = (
        Index("ix_osoby_nazwisko_imie_data", "nazwisko_klucz", "imie_klucz", "data_urodzenia"),
        Index("ix_osoby_dokument", "dokument_numer"),
    )


class Section(ReplicaBase):
    """One category of one person: a section element of the common model."""

    __tablename__ = "sekcje"

    person_id: Mapped[int] = mapped_column("osoba_id", ForeignKey("osoby.id", ondelete="CASCADE"), primary_key=True)
    element: Mapped[str] = mapped_column("sekcja", String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column("tresc", LargeBinary)


class Load(ReplicaBase):
    """A batch applied to the replica: when, what kind, how many records, digest, watermark."""

    __tablename__ = "zasilenia"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str | None] = mapped_column("id_paczki", String(64))
    kind: Mapped[str] = mapped_column("rodzaj", String(20))
    applied_at: Mapped[dt.datetime] = mapped_column("zastosowano", DateTime(timezone=True))
    records: Mapped[int] = mapped_column("rekordy", Integer)
    digest: Mapped[str] = mapped_column("skrot", String(64))
    watermark: Mapped[str | None] = mapped_column("znacznik", String(64))


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        return Path(url[len(prefix) :].split("?", 1)[0])
    return None


def read_only_engine(url: str) -> Engine:
    """An engine that cannot write: a read-only SQLite URI, or the URL's own (SELECT-only) role."""
    path = _sqlite_path(url)
    if path is not None:
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", pool_pre_ping=False)

        @event.listens_for(engine, "connect")
        def _query_only(dbapi_connection: Any, _record: Any) -> None:
            # Belt and braces: even a read-write file handle refuses writes (guideline 8).
            dbapi_connection.execute("PRAGMA query_only = ON")

        return engine
    return create_engine(url, pool_pre_ping=True)


def writable_engine(url: str) -> Engine:
    """The loader's engine: the only writer of a replica. Creates the schema if absent."""
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            dbapi_connection.execute("PRAGMA foreign_keys = ON")
            dbapi_connection.execute("PRAGMA busy_timeout = 10000")

    else:
        engine = create_engine(url)
    ReplicaBase.metadata.create_all(engine)
    return engine


class ReplicaReader:
    """Finds people and reads their sections; never writes (the engine is read-only)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = read_only_engine(url)

    def find(self, identifier: Identifier) -> list[int]:
        """The ids of the people the identifier matches (more than one means ambiguous)."""
        query = select(Person.id)
        if identifier.pesel:
            query = query.where(Person.pesel == identifier.pesel)
        elif identifier.document_number:
            query = query.where(
                Person.document_number == identifier.document_number,
                Person.document_kind == identifier.document_kind,
            )
        else:
            assert identifier.surname and identifier.first_name and identifier.birth_date
            query = query.where(
                Person.surname_key == normalise_name(identifier.surname),
                Person.first_name_key == normalise_name(identifier.first_name),
                Person.birth_date == identifier.birth_date,
            )
        with self.engine.connect() as connection:
            return list(connection.scalars(query.limit(2)))

    def sections(self, person_id: int, elements: Sequence[str]) -> dict[str, bytes]:
        """The stored sections of one person, by element name; absent sections are left out."""
        query = select(Section.element, Section.content).where(
            Section.person_id == person_id, Section.element.in_(elements)
        )
        with self.engine.connect() as connection:
            return {element: content for element, content in connection.execute(query)}

    def people_count(self) -> int:
        """How many people the replica holds (for status pages and the demo)."""
        from sqlalchemy import func

        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Person)) or 0)

    def dispose(self) -> None:
        self.engine.dispose()


def section_rows(person_id: int, sections: Iterable[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Rows for `sekcje` (used by the loader's bulk insert)."""
    return [{"osoba_id": person_id, "sekcja": name, "tresc": content} for name, content in sections]
