"""The disclosure register in a database of its own (SQLite by default), via SQLAlchemy 2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, create_engine, event, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from audit.records import DisclosureRecord, EventKind, Outcome, SecurityEvent


class AuditBase(DeclarativeBase):
    """Declarative base of the audit database."""


class DisclosureRow(AuditBase):
    """One row per (request, data set): a disclosure or a refusal."""

    __tablename__ = "rejestr_ujawnien"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[dt.datetime] = mapped_column("czas", DateTime(timezone=True))
    request_id: Mapped[str] = mapped_column("id_zapytania", String(64), index=True)
    user: Mapped[str] = mapped_column("uzytkownik", String(120))
    office: Mapped[str] = mapped_column("urzad", String(32))
    channel: Mapped[str] = mapped_column("kanal", String(32))
    identifier: Mapped[str] = mapped_column("identyfikator", String(300))
    subject_pesel: Mapped[str | None] = mapped_column("pesel_osoby", String(11), index=True)
    data_set: Mapped[str] = mapped_column("zbior", String(32))
    controller: Mapped[str] = mapped_column("administrator", String(300))
    categories: Mapped[str] = mapped_column("kategorie", Text)
    legal_basis: Mapped[str] = mapped_column("podstawa_prawna", String(64))
    purpose: Mapped[str] = mapped_column("cel", Text)
    outcome: Mapped[str] = mapped_column("wynik", String(16))
    digest: Mapped[str] = mapped_column("skrot_sha256", String(64))
    reason: Mapped[str] = mapped_column("powod", Text)

    __table_args__ = (Index("ix_rejestr_czas", "czas"),)


class EventRow(AuditBase):
    """One security event (guideline 7)."""

    __tablename__ = "zdarzenia_bezpieczenstwa"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[dt.datetime] = mapped_column("czas", DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column("rodzaj", String(32), index=True)
    user: Mapped[str] = mapped_column("uzytkownik", String(120), index=True)
    office: Mapped[str] = mapped_column("urzad", String(32))
    actor: Mapped[str] = mapped_column("wykonawca", String(120))
    source: Mapped[str] = mapped_column("zrodlo", String(200))
    success: Mapped[bool] = mapped_column("sukces", Boolean)
    details: Mapped[str] = mapped_column("szczegoly", Text)


def _engine(url: str) -> Engine:
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL: readers never block the writer; NORMAL: a commit survives a process crash.
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")
            dbapi_connection.execute("PRAGMA busy_timeout = 30000")

        return engine
    return create_engine(url)


class SqlDisclosureRegister:
    """Appends disclosure records to the `rejestr_ujawnien` table, one transaction per request."""

    def __init__(self, url: str) -> None:
        self.engine = _engine(url)
        AuditBase.metadata.create_all(self.engine)

    def append(self, records: Sequence[DisclosureRecord]) -> None:
        """Store the records of one request atomically (committed before the answer leaves)."""
        if not records:
            return
        rows = [
            {
                "time": r.time,
                "request_id": r.request_id,
                "user": r.user,
                "office": r.office,
                "channel": r.channel,
                "identifier": r.identifier,
                "subject_pesel": r.subject_pesel,
                "data_set": r.data_set,
                "controller": r.controller,
                "categories": ",".join(r.categories),
                "legal_basis": r.legal_basis,
                "purpose": r.purpose,
                "outcome": r.outcome.value,
                "digest": r.digest,
                "reason": r.reason,
            }
            for r in records
        ]
        with Session(self.engine) as session, session.begin():
            session.execute(insert(DisclosureRow), rows)

    def records(self, *, request_id: str | None = None, pesel: str | None = None) -> Iterator[DisclosureRecord]:
        """Read records back in the order they were written."""
        query = select(DisclosureRow).order_by(DisclosureRow.id)
        if request_id is not None:
            query = query.where(DisclosureRow.request_id == request_id)
        if pesel is not None:
            query = query.where(DisclosureRow.subject_pesel == pesel)
        with Session(self.engine) as session:
            for row in session.scalars(query):
                yield DisclosureRecord(
                    time=row.time,
                    request_id=row.request_id,
                    user=row.user,
                    office=row.office,
                    channel=row.channel,
                    identifier=row.identifier,
                    subject_pesel=row.subject_pesel,
                    data_set=row.data_set,
                    controller=row.controller,
                    categories=tuple(c for c in row.categories.split(",") if c),
                    legal_basis=row.legal_basis,
                    purpose=row.purpose,
                    outcome=Outcome(row.outcome),
                    digest=row.digest,
                    reason=row.reason,
                )

    def dispose(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


class SqlEventLog:
    """Appends security events to `zdarzenia_bezpieczenstwa` in the audit database."""

    def __init__(self, url: str) -> None:
        self.engine = _engine(url)
        AuditBase.metadata.create_all(self.engine)

    def record(self, event: SecurityEvent) -> None:
        """Store one event durably (its own transaction)."""
        with Session(self.engine) as session, session.begin():
            session.add(
                EventRow(
                    time=event.time,
                    kind=event.kind.value,
                    user=event.user,
                    office=event.office,
                    actor=event.actor,
                    source=event.source,
                    success=event.success,
                    details=event.details,
                )
            )

    def events(
        self,
        *,
        user: str | None = None,
        office: str | None = None,
        kind: EventKind | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Iterator[SecurityEvent]:
        """Read events back in the order they were written, optionally filtered."""
        query = select(EventRow).order_by(EventRow.id)
        if user is not None:
            query = query.where(EventRow.user == user)
        if office is not None:
            query = query.where(EventRow.office == office)
        if kind is not None:
            query = query.where(EventRow.kind == kind.value)
        if since is not None:
            query = query.where(EventRow.time >= since)
        if until is not None:
            query = query.where(EventRow.time < until)
        with Session(self.engine) as session:
            for row in session.scalars(query):
                yield SecurityEvent(
                    time=row.time,
                    kind=EventKind(row.kind),
                    user=row.user,
                    office=row.office,
                    actor=row.actor,
                    source=row.source,
                    success=row.success,
                    details=row.details,
                )

    def dispose(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
