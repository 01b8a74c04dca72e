"""Replicas: one database per data set (guideline 5), holding the common model as fed by the controller.

Each person is a row of `osoby` (the identifiers used to find them) and a row of `sekcje`: their
categories, each the section of the common XML model as exclusive-C14N bytes, stored one after another
with a table of contents. The hub opens replicas read-only
(guideline 8: the platform never adds, edits or deletes beneficiary data); only the loader writes.

A full snapshot may arrive in many batches; it is written as a new *generation* of `osoby` beside the
live one and made live by one update of `stan_repliki` when its last batch arrives, so a query sees the
old snapshot or the new one, never a mix. Readers only ever see the live generation.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
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
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    inspect,
    outerjoin,
    select,
    true,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from contract.errors import ConfigurationError
from contract.identifiers import Identifier, normalise_name
from replica.feed import ReplicaIdentity
from replica.sections import unpack_sections
from replica.sqlite import read_only_engine, read_only_sqlite, sqlite_file

WATERMARK_LENGTH = 200
STATE_ROW = 1


class ReplicaBase(DeclarativeBase):
    """Declarative base of the replica schema (Polish table names, as the controller's DBA sees them)."""


#: The longest name the replica keeps (as its search key): no person's name is longer, though the model's
#: text type allows 500 characters; a longer one is a rejected record (`replica.writer.record_problem`).
NAME_KEY_LENGTH = 200
#: The identity document's kind and number as stored (upper-cased, without spaces).
DOCUMENT_KIND_LENGTH = 20
DOCUMENT_NUMBER_LENGTH = 40


class Person(ReplicaBase):
    """A person known to the data set, with the identifiers a query may use."""

    __tablename__ = "osoby"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column("generacja", Integer, default=1)
    source_key: Mapped[str] = mapped_column("id_zrodlowy", String(64))
    pesel: Mapped[str | None] = mapped_column(String(11))
    surname_key: Mapped[str] = mapped_column("nazwisko_klucz", String(NAME_KEY_LENGTH))
    first_name_key: Mapped[str] = mapped_column("imie_klucz", String(NAME_KEY_LENGTH))
    birth_date: Mapped[dt.date] = mapped_column("data_urodzenia", Date)
    document_kind: Mapped[str | None] = mapped_column("dokument_rodzaj", String(DOCUMENT_KIND_LENGTH))
    document_number: Mapped[str | None] = mapped_column("dokument_numer", String(DOCUMENT_NUMBER_LENGTH))

    __table_args__ = (
        UniqueConstraint("generacja", "id_zrodlowy", name="uq_osoby_generacja_id_zrodlowy"),
        # An index, not a constraint: a first snapshot is loaded without it (see replica.writer.DEFERRED_INDEXES).
        Index("uq_osoby_generacja_pesel", "generacja", "pesel", unique=True),
        Index("ix_osoby_nazwisko_imie_data", "generacja", "nazwisko_klucz", "imie_klucz", "data_urodzenia"),
        Index("ix_osoby_dokument", "generacja", "dokument_numer"),
    )


class Sections(ReplicaBase):
    """A person's categories: the section elements of the common model exactly as the controller's feeder
    sent them, one after another in `tresc`, and their table of contents in `spis` (see `pack_sections`).

    One row per person, not one per section: a full load writes a million people, and a row per section
    cost the writer three times as much (ten rows and index entries a person instead of one).
    """

    __tablename__ = "sekcje"

    person_id: Mapped[int] = mapped_column("osoba_id", ForeignKey("osoby.id", ondelete="CASCADE"), primary_key=True)
    contents: Mapped[str] = mapped_column("spis", Text)
    content: Mapped[bytes] = mapped_column("tresc", LargeBinary)


#: The replica layout this version writes and reads (2: one `sekcje` row per person). A demo folder
#: records it, so one made by an earlier build is recognised (`demo.powiat.prepare`).
LAYOUT = 2


def check_layout(engine: Engine, url: str) -> None:
    """Refuse a replica written by a development build with a `sekcje` row per section (no migration: an
    unreleased layout); it is loaded anew."""
    columns = {column["name"] for column in inspect(engine).get_columns(Sections.__tablename__)}
    if "sekcja" in columns:
        raise ConfigurationError(
            f"Replika {make_url(url).render_as_string(hide_password=True)} ma dawny układ tabeli sekcje (wiersz "
            "na każdą sekcję). Utwórz ją na nowo: zasilenie pełne do nowej, pustej bazy."
        )


class Load(ReplicaBase):
    """A batch applied to the replica: when, what kind, how many records, digest, watermark reached."""

    __tablename__ = "zasilenia"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str | None] = mapped_column("id_paczki", String(64))
    run_id: Mapped[str | None] = mapped_column("id_zasilenia", String(64), index=True)
    sequence: Mapped[int | None] = mapped_column("numer_paczki", Integer)
    kind: Mapped[str] = mapped_column("rodzaj", String(20))
    applied_at: Mapped[dt.datetime] = mapped_column("zastosowano", DateTime(timezone=True))
    records: Mapped[int] = mapped_column("rekordy", Integer)
    deleted: Mapped[int] = mapped_column("usuniete", Integer, default=0)
    rejected: Mapped[int] = mapped_column("odrzucone", Integer, default=0)
    digest: Mapped[str] = mapped_column("skrot", String(64))
    #: SHA-256 of what the batch offered (every record as sent, rejected ones too), whatever the replica held:
    #: a batch number sent again is a retry only with this digest (`replica.writer.offered_digest`).
    offered_digest: Mapped[str | None] = mapped_column("skrot_paczki", String(64))
    watermark: Mapped[str | None] = mapped_column("znacznik", String(WATERMARK_LENGTH))
    generation: Mapped[int | None] = mapped_column("generacja", Integer)


class ReplicaState(ReplicaBase):
    """One row: the live generation and the watermark it reached; an open (staging) full snapshot, if any.

    The watermark is stored in the same transaction as the batch that reached it, so a feeder that was
    stopped half-way resumes exactly after the last applied batch (no loss, no duplicates).
    """

    __tablename__ = "stan_repliki"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column("generacja", Integer)
    watermark: Mapped[str | None] = mapped_column("znacznik", String(WATERMARK_LENGTH))
    run_id: Mapped[str | None] = mapped_column("id_zasilenia", String(64))
    sequence: Mapped[int | None] = mapped_column("numer_paczki", Integer)
    staging_generation: Mapped[int | None] = mapped_column("generacja_robocza", Integer)
    staging_run_id: Mapped[str | None] = mapped_column("id_zasilenia_roboczego", String(64))
    staging_sequence: Mapped[int | None] = mapped_column("numer_paczki_roboczej", Integer)
    staging_watermark: Mapped[str | None] = mapped_column("znacznik_roboczy", String(WATERMARK_LENGTH))
    updated_at: Mapped[dt.datetime | None] = mapped_column("zaktualizowano", DateTime(timezone=True))
    # What the replica holds, recorded when its state row is created (`ReplicaIdentity`): a writer of
    # another data set, kind or controller is refused (`replica.writer.check_identity`).
    data_set: Mapped[str | None] = mapped_column("zbior", String(64))
    kind: Mapped[str | None] = mapped_column("rodzaj", String(20))
    controller: Mapped[str | None] = mapped_column("administrator", String(64))


#: The state's identity columns, added to a replica created before they existed (`_add_columns`).
IDENTITY_COLUMNS = ("zbior", "rodzaj", "administrator")
#: What the hub's identity check reads, in SQL every replica database takes (the driver's own connection too):
#: the state row with whatever columns a replica of its age has and, when there is none, whether anyone is in.
_STATE_SQL = f"SELECT * FROM {ReplicaState.__tablename__} WHERE id = {STATE_ROW}"  # noqa: S608 - our own names
_ANYONE_SQL = f"SELECT id FROM {Person.__tablename__} LIMIT 1"  # noqa: S608 - our own names


def writable_engine(url: str, *, checkpoint_on_commit: bool = True, cache_mb: int = 2) -> Engine:
    """The loader's engine: the only writer of a replica. Creates the schema if absent.

    SQLite: `checkpoint_on_commit=False` leaves the log to a `WalCheckpointer`; `cache_mb` is each
    connection's page cache (a bulk load's random index inserts read fewer pages with more).
    """
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The driver would begin a transaction only at the first INSERT, leaving index DDL before it
            # outside the batch's transaction: SQLAlchemy's BEGIN (below) starts every one instead.
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            dbapi_connection.execute("PRAGMA foreign_keys = ON")
            dbapi_connection.execute("PRAGMA busy_timeout = 10000")
            # WAL with NORMAL sync is durable against corruption; a batch is still atomic.
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")
            dbapi_connection.execute(f"PRAGMA cache_size = {-1024 * int(cache_mb)}")
            # Index builds (a first snapshot's, when it is published) sort with helper threads.
            dbapi_connection.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
            # Bulk loads: checkpoint every ~40 MB of WAL rather than every 4 MB (or never, see above).
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {10000 if checkpoint_on_commit else 0}")

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

    else:
        engine = create_engine(url, hide_parameters=True)
    try:
        if path is not None:  # a SQLite file; a server's database may hold other schemas' tables by design
            _refuse_other_database(engine, url)
        ReplicaBase.metadata.create_all(engine)
        check_layout(engine, url)
        _add_columns(engine)
    except SQLAlchemyError as error:
        # Not a replica at all (a PDF, a folder, a database it may not write): one sentence, not a traceback.
        engine.dispose()
        origin = getattr(error, "orig", None) or error
        raise ConfigurationError(
            f"Nie można otworzyć bazy repliki {make_url(url).render_as_string(hide_password=True)} do zapisu "
            f"({type(origin).__name__}: {str(origin).strip()[:200]}). Sprawdź, czy adres wskazuje bazę repliki "
            "(albo miejsce na nową), a nie inny plik lub folder."
        ) from error
    return engine


def _refuse_other_database(engine: Engine, url: str) -> None:
    """A database that holds tables and none of a replica's (the office's domain database, the audit register, the
    hub's database) is no replica: a replica is written only into an empty database or a replica (one of an older
    layout is `check_layout`'s). Before, `feed --target` added the replica's tables to any of them and wrote the
    people's data there (an attack pass)."""
    names = set(inspect(engine).get_table_names())
    if names and not names & set(ReplicaBase.metadata.tables):
        shown = ", ".join(sorted(names)[:5]) + (", …" if len(names) > 5 else "")
        engine.dispose()
        raise ConfigurationError(
            f"Baza {make_url(url).render_as_string(hide_password=True)} nie jest repliką: zawiera inne tabele "
            f"({shown}), a nie stan repliki. Replikę zapisuje się do nowej, pustej bazy albo do istniejącej repliki; "
            "niczego nie zmieniono. Sprawdź adres (--target, replica w konfiguracji)."
        )


def _add_columns(engine: Engine) -> None:
    """Add the columns a replica created before they existed lacks (all nullable): the state's identity (recorded
    by the next batch, `replica.writer.ReplicaWriter`) and the digest of what a batch offered."""
    preparer = engine.dialect.identifier_preparer
    for model, names in ((ReplicaState, IDENTITY_COLUMNS), (Load, ("skrot_paczki",))):
        table = model.__table__
        present = {column["name"] for column in inspect(engine).get_columns(model.__tablename__)}
        missing = [name for name in names if name not in present]
        if not missing:
            continue
        with engine.begin() as connection:
            for name in missing:
                column_type = table.c[name].type.compile(dialect=engine.dialect)
                connection.exec_driver_sql(
                    f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.quote(name)} {column_type}"
                )


class WalCheckpointer:
    """Copies a SQLite replica's write-ahead log into the database in a thread of its own.

    With WAL and `synchronous = NORMAL` a checkpoint syncs the log before copying it and the database
    after: on a bulk load the writer would wait for the disk about a quarter of the time. Here the
    copying (PASSIVE: it never blocks the writer) happens beside the writer; the writer still makes the
    log start over, which only it can do at the start of a transaction, by a short `RESTART` checkpoint
    (`restart_due`, `restart`) once the thread has caught up. Durability is the same: every checkpoint
    syncs as before, and a batch is committed in the log exactly as with checkpoints on commit.
    """

    def __init__(self, path: Path, *, every: int) -> None:
        self.path = path
        #: Records written between checkpoints (a batch's log frames are a few per record).
        self.every = every
        self._written = 0
        self._wake = threading.Event()
        self._caught_up = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"checkpoint {path.name}", daemon=True)
        self._thread.start()

    def written(self, records: int) -> None:
        """A batch of `records` was committed: start copying when enough have been written."""
        self._written += records
        if self._written >= self.every:
            self._written = 0
            self._wake.set()

    @property
    def restart_due(self) -> bool:
        """Whether the thread has copied the log (but for what came meanwhile): time for `restart`."""
        return self._caught_up.is_set()

    def restart(self, dbapi_connection: Any) -> None:
        """Copy the rest of the log and have the next transaction write it from its start (the writer's
        own connection, outside a transaction)."""
        self._caught_up.clear()
        dbapi_connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()

    def close(self) -> None:
        """Stop the thread (the writer's last connection to close checkpoints what is left)."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout = 10000")
            connection.execute("PRAGMA synchronous = NORMAL")
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                # A pass copies what was committed when it started; a few more passes copy what the
                # writer added meanwhile, so that the writer's own RESTART has little left to do.
                for _pass in range(4):
                    _busy, log, done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if log - done < 2000 or self._stopping:
                        break
                self._caught_up.set()
        except sqlite3.Error:
            return  # the writer checkpoints on its own at the end; nothing is lost by stopping here
        finally:
            connection.close()


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None  # gone: the open connection reads on (a check at the next open refuses what comes)


class ReplicaReader:
    """Finds people and reads their sections; never writes (the engine is read-only)."""

    def __init__(self, url: str, *, expected: ReplicaIdentity | None = None) -> None:
        self.url = url
        self.expected = expected
        self.engine = read_only_engine(url)
        self._generations: bool | None = None
        self._sql: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._file = sqlite_file(url)
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()

    def _thread_connection(self) -> sqlite3.Connection:
        """This thread's own read-only connection to a SQLite replica, for the query path's one read.

        In a request, SQLAlchemy's pool and result machinery cost several times the query itself (measured
        in the hub's WSGI application: 129 us against 16 us for the same statement), so the lookup runs on
        the driver directly, read-only as `read_only_engine`'s.
        """
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        assert self._file is not None  # only SQLite replicas read this way
        if connection is not None and _inode(self._file) != self._local.inode:
            # A file moved over the replica (rsync, mv) while the hub runs: this connection still reads the old,
            # deleted one. The new file is opened, and checked, as at the first read.
            self._drop_thread_connection()
            connection = None
        if connection is None:
            inode = _inode(self._file)
            connection = read_only_sqlite(self._file)
            try:
                # A new connection opens the file as it is now: one moved over the replica since the first
                # check (another office's replica) is refused here, before it answers anyone.
                self._check_connection(connection)
                version = connection.execute("PRAGMA data_version").fetchone()[0]
            except BaseException:
                connection.close()
                raise
            with self._opened_lock:
                self._opened.append(connection)
            self._local.connection, self._local.inode, self._local.version = connection, inode, version
        return connection

    def _drop_thread_connection(self) -> None:
        connection = self._local.connection
        self._local.connection = None
        with self._opened_lock:
            if connection in self._opened:
                self._opened.remove(connection)
        connection.close()

    def _read(self, sql: str, arguments: Any) -> list[Any]:
        """The query path's one read on this thread's connection, in a read transaction that also re-checks
        whose data the file holds whenever another connection committed since the last check: content written
        in place over the replica (a backup of another unit restored with `.restore`, a copy through SQLite's
        API) is refused before it answers anyone, as a file moved over it is (`_thread_connection`)."""
        connection = self._thread_connection()
        connection.execute("BEGIN")
        try:
            before = connection.execute("PRAGMA data_version").fetchone()[0]
            rows = connection.execute(sql, arguments).fetchall()
            after = connection.execute("PRAGMA data_version").fetchone()[0]
            if before != self._local.version or after != before:
                try:
                    self._check_connection(connection)  # in the snapshot the rows were read from
                except BaseException:
                    connection.execute("COMMIT")
                    self._drop_thread_connection()
                    raise
                # A commit during the read may or may not be in this snapshot: the next read checks again.
                self._local.version = before if after == before else None
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")
        return rows

    def _known(self) -> bool:
        """Whether the replica has generations (one written before they existed has none); its layout
        checked once (`check_layout`)."""
        if self._generations is None:
            check_layout(self.engine, self.url)
            generations = inspect(self.engine).has_table(ReplicaState.__tablename__)
            if generations and self.expected is not None:
                self._check_identity(self.expected)
            self._generations = generations
        return self._generations

    def _check_identity(self, expected: ReplicaIdentity) -> None:
        """Refuse to answer from a replica that records another data set or kind than the configuration
        names for it (a file copied over another office's, a URL pointing at the wrong database), or that
        cannot say whose it is: its people would be disclosed as that office's (guideline 5)."""
        with self.engine.connect() as connection:

            def read(sql: str) -> tuple[list[str], list[Any]]:
                result = connection.exec_driver_sql(sql)
                return list(result.keys()), list(result.all())

            self._refuse_unknown(read, expected)

    def _check_connection(self, connection: sqlite3.Connection) -> None:
        """`_check_identity` on a thread's own driver connection (see `_thread_connection`)."""
        if self.expected is None:
            return

        def read(sql: str) -> tuple[list[str], list[Any]]:
            cursor = connection.execute(sql)
            return [column[0] for column in cursor.description], cursor.fetchall()

        self._refuse_unknown(read, self.expected)

    def _refuse_unknown(self, read: Callable[[str], tuple[list[str], list[Any]]], expected: ReplicaIdentity) -> None:
        """The one rule of both checks: the state row read as it is (a replica of any age), refused when it
        records another identity or none that a writer could have left (`ReplicaIdentity.unrecorded`)."""
        names, rows = read(_STATE_SQL)
        if not rows:
            if read(_ANYONE_SQL)[1]:
                # The writer creates the state row in the transaction of the first people it writes.
                raise ConfigurationError(
                    f"Replika {self._shown} zawiera osoby, ale nie ma wiersza stanu (stan_repliki), który zapisuje, "
                    f"czyje to dane; konfiguracja wskazuje ją dla: {expected.describe()}; zbiór nie jest udostępniany."
                )
            return  # never loaded: nobody is found
        if not set(IDENTITY_COLUMNS) <= set(names):
            return  # written before replicas recorded what they hold
        state = dict(zip(names, rows[0], strict=True))
        self._refuse_other(ReplicaIdentity(*(state[name] for name in IDENTITY_COLUMNS)), expected)

    def _refuse_other(self, recorded: ReplicaIdentity, expected: ReplicaIdentity) -> None:
        """Raise `ConfigurationError` when the replica records another data set, kind or controller, or
        leaves out a fact every writer records."""
        missing = recorded.unrecorded()
        if missing:
            raise ConfigurationError(
                f"Replika {self._shown} nie podaje, czyje dane zawiera: w stan_repliki brak wartości "
                f"{', '.join(missing)} ({recorded.describe()}), a tak replik nie zapisuje żaden program platformy; "
                f"konfiguracja wskazuje ją dla: {expected.describe()}; zbiór nie jest udostępniany."
            )
        # A feeder that was not told the data set's own code records its kind's code (`platforma feed
        # --adapter ops` into a gmina's OPS-… replica): then only the kind can be compared.
        named = recorded.data_set != recorded.kind
        wrong = [
            (name, mine, theirs)
            for name, mine, theirs in (
                ("zbiór", recorded.data_set if named else None, expected.data_set),
                ("rodzaj", recorded.kind, expected.kind),
                ("administrator", recorded.controller, expected.controller),
            )
            if mine is not None and theirs is not None and mine != theirs
        ]
        if wrong:
            raise ConfigurationError(
                f"Replika {self._shown} zawiera "
                f"{recorded.describe()}, a konfiguracja wskazuje ją dla: {expected.describe()}; "
                "zbiór nie jest udostępniany."
            )

    @property
    def _shown(self) -> str:
        """The replica's URL as messages show it (no password)."""
        return make_url(self.url).render_as_string(hide_password=True)

    def _live(self) -> Any:
        """The filter on the live generation (a replica written before generations existed has none)."""
        return Person.generation == live_generation() if self._known() else true()

    def find(self, identifier: Identifier) -> list[int]:
        """The ids of the people the identifier matches (more than one means ambiguous)."""
        query = select(Person.id).where(self._live())
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

    def lookup(self, identifier: Identifier, elements: Sequence[str]) -> tuple[list[int], dict[str, bytes]]:
        """The people the identifier matches and, when exactly one, their asked sections: one round trip.

        This is the query path's only read; its statements are built once, so SQLAlchemy's compiled cache
        serves them (building a select per call cost more than the database did).
        """
        if not self._known():
            found = self.find(identifier)
            return found, (self.sections(found[0], elements) if len(found) == 1 else {})
        params: dict[str, Any]
        if identifier.pesel:
            statement, params = "pesel", {"pesel": identifier.pesel}
        elif identifier.document_number:
            statement = "document"
            params = {"number": identifier.document_number, "kind": identifier.document_kind}
        else:
            assert identifier.surname and identifier.first_name and identifier.birth_date
            statement = "name"
            params = {
                "surname": normalise_name(identifier.surname),
                "first_name": normalise_name(identifier.first_name),
                "birth_date": identifier.birth_date,
            }
        sql, names, known = self._compiled(statement)
        values = {**known, **params}
        arguments: Any = tuple(values[n] for n in names) if names is not None else values
        if self._file is not None:
            try:
                rows: Any = self._read(sql, arguments)
            except sqlite3.Error as error:
                # The query path's one error type for a replica that does not answer.
                # Its text leaves the arguments out: they hold the PESEL looked up (logs never hold one).
                raise OperationalError(sql, arguments, error, hide_parameters=True) from error
        else:
            with self.engine.connect() as connection:
                rows = connection.exec_driver_sql(sql, arguments).all()
        # One row per person (a name can match several: then nobody's sections are given).
        if len(rows) != 1:
            return [row[0] for row in rows], {}
        person_id, contents, content = rows[0]
        return [person_id], ({} if contents is None else unpack_sections(contents, content, elements))

    def _compiled(self, kind: str) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        """Driver SQL for one identifier kind, compiled once for this dialect: the SQL and the order of its
        positional parameters (None for named paramstyles), and the statement's own values."""
        cached = self._sql.get(kind)
        if cached is None:
            compiled = _lookup_statement(*_CONDITIONS[kind]).compile(dialect=self.engine.dialect)
            known = dict(compiled.params)  # the statement's own values (row id, limit); ours are None here
            cached = (compiled.string, tuple(compiled.positiontup) if compiled.positional else None, known)
            self._sql[kind] = cached
        return cached

    def sections(self, person_id: int, elements: Sequence[str]) -> dict[str, bytes]:
        """The stored sections of one person, by element name; absent sections are left out."""
        query = select(Sections.contents, Sections.content).where(Sections.person_id == person_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return {} if row is None else unpack_sections(row[0], row[1], elements)

    def people_count(self) -> int:
        """How many people the replica holds (for status pages and the demo)."""
        from sqlalchemy import func

        query = select(func.count()).select_from(Person).where(self._live())
        with self.engine.connect() as connection:
            return int(connection.scalar(query) or 0)

    def dispose(self) -> None:
        """Close the threads' connections and the engine's."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()
        self.engine.dispose()


def live_generation() -> Any:
    """The live generation as a scalar subquery (NULL on a replica never loaded: nobody is found)."""
    return select(ReplicaState.generation).where(ReplicaState.id == STATE_ROW).scalar_subquery()


def _lookup_statement(*conditions: Any) -> Any:
    """People of the live generation matching `conditions`, each with their sections (outer join)."""
    joined = outerjoin(Person, Sections, Sections.person_id == Person.id)
    # A name can match many people: two rows show the ambiguity.
    return (
        select(Person.id, Sections.contents, Sections.content)
        .select_from(joined)
        .where(Person.generation == live_generation(), *conditions)
        .limit(2)
    )


_CONDITIONS: dict[str, tuple[Any, ...]] = {
    "pesel": (Person.pesel == bindparam("pesel"),),
    "document": (Person.document_number == bindparam("number"), Person.document_kind == bindparam("kind")),
    "name": (
        Person.surname_key == bindparam("surname"),
        Person.first_name_key == bindparam("first_name"),
        Person.birth_date == bindparam("birth_date"),
    ),
}
