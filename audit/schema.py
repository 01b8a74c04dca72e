"""Tables of the audit database and the guards that make them append-only (guideline 6; DESIGN.md).

Four tables: `rejestr_ujawnien` (disclosures), `zdarzenia_bezpieczenstwa` (security events), both links
of one hash chain numbered by `nr`, `punkty_kontrolne` (signed checkpoints over the chain's head) and
`format_lancucha` (from which record on the links are computed in which format, `audit.chain`).
The application never updates or deletes a record; the database refuses it too:

- SQLite: triggers abort every UPDATE, and every DELETE except of records at or below a retention cut
  (a checkpoint with reason `USUNIECIE`, whose signature `audit verify` checks);
- PostgreSQL: the same rule in a trigger function, plus privileges: the hub's role may only INSERT and
  SELECT (`postgresql_grants`), a separate retention role may also DELETE.

Neither stops an administrator who owns the database; the hash chain and the signed checkpoints make
what such a person does visible. New SQLite tables also refuse a value of another storage type than the
writer's (CHECK constraints; SQLite would otherwise store a blob or the text 'false' in any column).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from audit.chain import format_time, parse_time

DISCLOSURES = "rejestr_ujawnien"
EVENTS = "zdarzenia_bezpieczenstwa"
CHECKPOINTS = "punkty_kontrolne"
FORMATS = "format_lancucha"
CHAINED_TABLES = (DISCLOSURES, EVENTS)

CUT_REASON = "USUNIECIE"
"""Reason of the checkpoint written at a retention cut: records at or below it may be deleted."""
ACCEPTANCE_REASON = "PRZYJECIE"
"""Reason of the checkpoint an operator signs to accept the register's state after investigating a finding
(`AuditStore.accept`); the hub verifies the chain from the last such state before it signs again."""

# The content of a record, in the order its link hash covers it (audit.chain, format 1). Never reorder.
DISCLOSURE_FIELDS = (
    "czas",
    "id_zapytania",
    "uzytkownik",
    "urzad",
    "kanal",
    "identyfikator",
    "pesel_osoby",
    "zbior",
    "administrator",
    "kategorie",
    "podstawa_prawna",
    "cel",
    "wynik",
    "skrot_sha256",
    "powod",
)
DISCLOSURE_NULLABLE_FIELDS = ("pesel_osoby",)
EVENT_FIELDS = ("czas", "rodzaj", "uzytkownik", "urzad", "wykonawca", "zrodlo", "sukces", "szczegoly")
EVENT_BOOLEAN_FIELDS = ("sukces",)


def _sqlite_types(
    table: str, text: tuple[str, ...], nullable: tuple[str, ...] = (), flags: tuple[str, ...] = ()
) -> Any:
    """A SQLite CHECK that every value has the storage type the writer gives it (not created elsewhere)."""
    conditions = [f"typeof({c}) = 'text'" for c in text]
    conditions += [f"typeof({c}) IN ('text', 'null')" for c in nullable]
    conditions += [f"(typeof({c}) = 'integer' AND {c} IN (0, 1))" for c in flags]
    return CheckConstraint(" AND ".join(conditions), name=f"ck_{table}_typy").ddl_if(dialect="sqlite")


_LINKS = ("skrot_poprzedniego", "skrot_wpisu")


class UtcTime(TypeDecorator[dt.datetime]):
    """A time stored as fixed-width UTC text (`audit.chain.format_time`): hashed exactly as stored."""

    impl = String(27)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | str | None, dialect: Dialect) -> str | None:
        # A str is already in the stored form (the writer formats once, for the hash and the row alike).
        if value is None or isinstance(value, str):
            return value
        return format_time(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else parse_time(str(value))


class AuditBase(DeclarativeBase):
    """Declarative base of the audit database."""


class DisclosureRow(AuditBase):
    """One row per (request, data set): a disclosure or a refusal, a link of the chain."""

    __tablename__ = DISCLOSURES

    nr: Mapped[int] = mapped_column("nr", Integer, primary_key=True, autoincrement=False)
    previous: Mapped[str] = mapped_column("skrot_poprzedniego", String(64))
    link: Mapped[str] = mapped_column("skrot_wpisu", String(64))
    time: Mapped[dt.datetime] = mapped_column("czas", UtcTime(), index=True)
    # No index: no report looks a request up (`records(request_id=)` scans); the index was a page written
    # into the log by every append, ~5% of an append's cost (bench/audit.py).
    request_id: Mapped[str] = mapped_column("id_zapytania", String(64))
    user: Mapped[str] = mapped_column("uzytkownik", String(120), index=True)
    office: Mapped[str] = mapped_column("urzad", String(32), index=True)
    channel: Mapped[str] = mapped_column("kanal", String(32))
    identifier: Mapped[str] = mapped_column("identyfikator", Text)
    subject_pesel: Mapped[str | None] = mapped_column("pesel_osoby", String(11), index=True)
    data_set: Mapped[str] = mapped_column("zbior", String(32))
    controller: Mapped[str] = mapped_column("administrator", Text)
    categories: Mapped[str] = mapped_column("kategorie", Text)
    legal_basis: Mapped[str] = mapped_column("podstawa_prawna", String(64))
    purpose: Mapped[str] = mapped_column("cel", Text)
    outcome: Mapped[str] = mapped_column("wynik", String(16))
    digest: Mapped[str] = mapped_column("skrot_sha256", String(64))
    reason: Mapped[str] = mapped_column("powod", Text)

    __table_args__ = (
        _sqlite_types(
            DISCLOSURES,
            _LINKS + tuple(f for f in DISCLOSURE_FIELDS if f not in DISCLOSURE_NULLABLE_FIELDS),
            DISCLOSURE_NULLABLE_FIELDS,
        ),
    )


class EventRow(AuditBase):
    """One security event (guideline 7), a link of the same chain."""

    __tablename__ = EVENTS

    nr: Mapped[int] = mapped_column("nr", Integer, primary_key=True, autoincrement=False)
    previous: Mapped[str] = mapped_column("skrot_poprzedniego", String(64))
    link: Mapped[str] = mapped_column("skrot_wpisu", String(64))
    time: Mapped[dt.datetime] = mapped_column("czas", UtcTime(), index=True)
    kind: Mapped[str] = mapped_column("rodzaj", String(32), index=True)
    user: Mapped[str] = mapped_column("uzytkownik", String(120), index=True)
    office: Mapped[str] = mapped_column("urzad", String(32))
    actor: Mapped[str] = mapped_column("wykonawca", String(120))
    source: Mapped[str] = mapped_column("zrodlo", Text)
    success: Mapped[bool] = mapped_column("sukces", Boolean)
    details: Mapped[str] = mapped_column("szczegoly", Text)

    __table_args__ = (
        _sqlite_types(
            EVENTS, _LINKS + tuple(f for f in EVENT_FIELDS if f not in EVENT_BOOLEAN_FIELDS), flags=EVENT_BOOLEAN_FIELDS
        ),
    )


class CheckpointRow(AuditBase):
    """A signed statement 'the chain's record `nr` has link `link`', numbered without gaps."""

    __tablename__ = CHECKPOINTS

    number: Mapped[int] = mapped_column("nr_punktu", Integer, primary_key=True, autoincrement=False)
    nr: Mapped[int] = mapped_column("nr", Integer)
    link: Mapped[str] = mapped_column("skrot", String(64))
    time: Mapped[dt.datetime] = mapped_column("czas", UtcTime())
    reason: Mapped[str] = mapped_column("powod", String(32))
    algorithm: Mapped[str] = mapped_column("algorytm", String(32))
    key_fingerprint: Mapped[str] = mapped_column("odcisk_klucza", String(64))
    signature: Mapped[str] = mapped_column("podpis", Text)

    __table_args__ = (Index("ix_punkty_kontrolne_powod_nr", "powod", "nr"),)


class ChainFormatRow(AuditBase):
    """'From record `from_nr` on, links are computed in format `version`' (`audit.chain`); never changed.

    A new register has one row (1, 2); a register chained in format 1 gets (1, 1) and (next record, 2) when
    the hub first opens it, so each record is verified in the format it was written in.
    """

    __tablename__ = FORMATS

    from_nr: Mapped[int] = mapped_column("od_nr", Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column("wersja", Integer)


_REFUSE_UPDATE = "Rejestr audytu jest tylko do dopisywania: zmiana wpisu jest niedozwolona."
_REFUSE_DELETE = "Rejestr audytu jest tylko do dopisywania: usunąć można tylko wpisy objęte cięciem retencji."
_REFUSE_CHECKPOINT = "Punkty kontrolne rejestru audytu nie mogą być zmieniane ani usuwane."
_REFUSE_FORMAT = "Formaty łańcucha rejestru audytu nie mogą być zmieniane ani usuwane."


DROPPED_SQLITE_INDEXES = ("ix_rejestr_ujawnien_id_zapytania",)
"""Lookup indexes older SQLite registers have and new ones do not (dropped when the hub opens them)."""


def sqlite_guards() -> list[str]:
    """SQLite triggers that refuse UPDATE and DELETE on the audit tables (idempotent)."""
    statements: list[str] = []
    cut = f"(SELECT coalesce(max(nr), 0) FROM {CHECKPOINTS} WHERE powod = '{CUT_REASON}')"  # noqa: S608 - constant names
    for table in CHAINED_TABLES:
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {table}_bez_zmian BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSE_UPDATE}'); END"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {table}_bez_usuwania BEFORE DELETE ON {table} "
            f"WHEN OLD.nr > {cut} BEGIN SELECT RAISE(ABORT, '{_REFUSE_DELETE}'); END"
        )
    for table, message in ((CHECKPOINTS, _REFUSE_CHECKPOINT), (FORMATS, _REFUSE_FORMAT)):
        for operation in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_bez_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    return statements


def postgresql_guards() -> list[str]:
    """PostgreSQL trigger function and triggers with the same rule as `sqlite_guards` (PostgreSQL 14+)."""
    function = f"""
CREATE OR REPLACE FUNCTION audyt_tylko_dopisywanie() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = '{CHECKPOINTS}' THEN
        RAISE EXCEPTION '{_REFUSE_CHECKPOINT}';
    ELSIF TG_TABLE_NAME = '{FORMATS}' THEN
        RAISE EXCEPTION '{_REFUSE_FORMAT}';
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.nr <= (SELECT coalesce(max(nr), 0) FROM {CHECKPOINTS} WHERE powod = '{CUT_REASON}') THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '{_REFUSE_DELETE}';
    END IF;
    RAISE EXCEPTION '{_REFUSE_UPDATE}';
END
$$""".strip()  # noqa: S608 - constant names
    statements = [function]
    for table in (*CHAINED_TABLES, CHECKPOINTS, FORMATS):
        statements.append(
            f"CREATE OR REPLACE TRIGGER {table}_tylko_dopisywanie BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audyt_tylko_dopisywanie()"
        )
        statements.append(
            f"CREATE OR REPLACE TRIGGER {table}_bez_obcinania BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audyt_tylko_dopisywanie()"
        )
    return statements


def _quote_identifier(name: str) -> str:
    if not name or '"' in name or "\x00" in name:
        raise ValueError(f"invalid role name: {name!r}")
    return '"' + name + '"'


def postgresql_grants(hub_role: str, retention_role: str | None = None) -> list[str]:
    """GRANT/REVOKE statements for PostgreSQL: the hub's role may only INSERT and SELECT the audit tables.

    `retention_role` (used only by `platforma audit purge`) may also DELETE, which the guard trigger
    still limits to records below a signed retention cut. Auditors making reports need SELECT and
    INSERT too (each report is itself recorded), so they use the hub's role. Run them as the tables'
    owner, who should be neither of these roles.
    """
    tables = ", ".join((*CHAINED_TABLES, CHECKPOINTS, FORMATS))
    hub = _quote_identifier(hub_role)
    statements = [
        f"REVOKE ALL ON {tables} FROM PUBLIC",
        f"REVOKE ALL ON {tables} FROM {hub}",
        f"GRANT SELECT, INSERT ON {tables} TO {hub}",
    ]
    if retention_role is not None:
        retention = _quote_identifier(retention_role)
        statements += [
            f"REVOKE ALL ON {tables} FROM {retention}",
            f"GRANT SELECT, INSERT ON {tables} TO {retention}",
            f"GRANT DELETE ON {', '.join(CHAINED_TABLES)} TO {retention}",
        ]
    return statements
