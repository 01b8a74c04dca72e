"""The audit database: one writer appends to one hash chain; checkpoints are signed as configured.

Many threads and processes may append at once. Each append is one transaction that first takes the
chain's write lock, then reads the head (the last number and link), then inserts the new records with the
following numbers and, when one is due, a signed checkpoint. Holding the lock before reading the head is
what prevents forks (two records claiming the same predecessor) and gaps; a process killed mid-append
leaves an uncommitted transaction, which the database rolls back, so the chain still verifies.

- SQLite: `BEGIN IMMEDIATE` takes the database's write lock (all processes sharing the file wait for
  it); within one process a lock per database file keeps threads from spinning in SQLite's busy handler.
- PostgreSQL: `pg_advisory_xact_lock`, which needs no privilege beyond connecting (the hub's role may
  only INSERT and SELECT, so it may not `LOCK TABLE` in an exclusive mode).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import logging
import operator
import os
import queue
import sqlite3
import threading
import time as _time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, delete, event, insert, inspect, select, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool, StaticPool

from audit import chain, reading
from audit.anchors import Anchor, AnchorFile, anchors_lost, default_anchor_path
from audit.chain import Head as Head  # re-exported: callers know it as audit.store.Head
from audit.checkpoints import Checkpoint, CheckpointSigner, TrustedKeys
from audit.errors import AnchorFileError, AuditKeyError, AuditStorageError, ChainBrokenError, RegisterNotFoundError
from audit.records import DisclosureRecord, EventKind, Outcome, SecurityEvent
from audit.schema import (
    ACCEPTANCE_REASON,
    CHAINED_TABLES,
    CHECKPOINTS,
    CUT_REASON,
    DISCLOSURE_FIELDS,
    DISCLOSURES,
    DROPPED_SQLITE_INDEXES,
    EVENT_FIELDS,
    EVENTS,
    FORMATS,
    AuditBase,
    ChainFormatRow,
    DisclosureRow,
    EventRow,
    postgresql_guards,
    sqlite_guards,
)
from audit.verify import Source, VerificationReport, check_before_signing
from contract.dberrors import describe

log = logging.getLogger(__name__)

PERIODIC = "OKRESOWY"
"""Reason of a checkpoint made because the configured number of records or minutes has passed."""
ON_REQUEST = "NA_ZADANIE"
"""Reason of a checkpoint made on an operator's request (`platforma audit checkpoint`)."""

ANCHOR_TAIL_BYTES = 64 * 1024
"""How much of the anchor file's end is read before signing (~400 anchors): its newest anchors."""

_ADVISORY_LOCK_KEY = 0x504B_4155  # "PKAU": the chain's write lock in PostgreSQL

# One lock per database per process: threads of one process queue here instead of in SQLite's busy
# handler (which sleeps up to 100 ms between attempts). Processes still serialise in the database.
_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(key: str) -> threading.Lock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(key, threading.Lock())


class OpenMode(enum.Enum):
    """How a store opens its database; only `CREATE` may make a new register."""

    CREATE = "rwc"
    """The hub: create the database and its tables when they are missing (and upgrade older ones)."""
    EXISTING = "rw"
    """An existing register, to be written to (`report` records itself, `purge`, `checkpoint`)."""
    READ_ONLY = "ro"
    """An existing register, only read (`verify`): no statement that writes is ever sent."""


@dataclass(frozen=True)
class CheckpointPolicy:
    """When the hub signs a checkpoint: after `every_records` records or `every_minutes` minutes."""

    every_records: int = 1000
    every_minutes: float = 10.0


@dataclass(frozen=True)
class _LastCheckpoint:
    number: int
    nr: int
    link: str
    time: dt.datetime

    @property
    def age(self) -> float:
        """Seconds since the checkpoint was made (by the wall clock, as its time was stamped)."""
        return _time.time() - self.timestamp

    @functools.cached_property
    def timestamp(self) -> float:
        return self.time.timestamp()


@dataclass(frozen=True)
class _State:
    """The chain's head and its last checkpoint, as a write transaction sees them."""

    head: Head
    last: _LastCheckpoint | None


class _Queued:
    """One request's prepared records waiting for a group commit (`AuditStore.append`)."""

    __slots__ = ("disclosures", "done", "events", "failure")

    def __init__(self, disclosures: list[tuple[str | None, ...]], events: list[tuple[str | bool, ...]]) -> None:
        self.disclosures, self.events = disclosures, events
        self.done = False
        self.failure: BaseException | None = None


def _sqlite_engine(database: Path, *, access: str, immediate: bool, synchronous: str) -> Engine:
    """An engine on a SQLite file opened by URI with `mode=<access>` (`ro`, `rw` or `rwc`).

    `ro` and `rw` never create the file. The path is percent-encoded: a `#` or `?` in a folder name would
    otherwise end the path and drop the mode (SQLite would open, or create, another file).
    """
    uri = f"file:{urllib.parse.quote(str(database.absolute()))}?mode={access}"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)

    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy's recipe for pysqlite: let us emit BEGIN ourselves, so that it can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        if access != "ro":
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.execute(f"PRAGMA synchronous = {synchronous}")
        dbapi_connection.execute("PRAGMA busy_timeout = 60000")
        if immediate:
            # The log is copied into the database by `_LogCheckpointer`, beside the appends; a commit
            # checkpoints by itself only if the log grows this long all the same (the thread stopped).
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {_FALLBACK_CHECKPOINT_PAGES}")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _memory_engine(url: str) -> Engine:
    engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _limits(table: Any, fields: tuple[str, ...]) -> tuple[int | None, ...]:
    """Each field's declared length (String(n)), or None where unbounded."""
    return tuple(getattr(table.c[name].type, "length", None) for name in fields)


_DISCLOSURE_LIMITS = _limits(DisclosureRow.__table__, DISCLOSURE_FIELDS)
_EVENT_LIMITS = _limits(EventRow.__table__, EVENT_FIELDS)


def _fitted(values: tuple[Any, ...], limits: tuple[int | None, ...]) -> tuple[Any, ...]:
    """Values cut to their column's declared length, alike on every database: SQLite ignores declared
    lengths and PostgreSQL refuses a longer value, which lost a failed login typed longer than any account's
    name (found by the parity tests). The link covers the value as stored."""
    pairs = tuple(zip(values, limits, strict=True))
    if all(limit is None or not isinstance(value, str) or len(value) <= limit for value, limit in pairs):
        return values
    return tuple(value[:limit] if limit is not None and isinstance(value, str) else value for value, limit in pairs)


# The disclosure fields with a declared length, for the one C-level look `disclosure_values` takes at them.
_DISCLOSURE_BOUNDED = operator.itemgetter(*(i for i, limit in enumerate(_DISCLOSURE_LIMITS) if limit is not None))
_DISCLOSURE_BOUNDS = tuple(limit for limit in _DISCLOSURE_LIMITS if limit is not None)


def disclosure_values(record: DisclosureRecord, time_text: str | None = None) -> tuple[str | None, ...]:
    """A disclosure's stored values, in the order of `schema.DISCLOSURE_FIELDS`; `time_text` is its time
    already formatted (`chain.format_time`), as the records of one request share it."""
    outcome = record.outcome
    values: tuple[str | None, ...] = (
        chain.format_time(record.time) if time_text is None else time_text,
        record.request_id,
        record.user,
        record.office,
        record.channel,
        record.identifier,
        record.subject_pesel,
        record.data_set,
        record.controller,
        ",".join(record.categories),
        record.legal_basis,
        record.purpose,
        outcome.value if outcome.__class__ is Outcome else Outcome(outcome).value,
        record.digest,
        record.reason,
    )
    # The usual record, all text, no NUL (see `chain.clean`), nothing too long, is checked in two C-level
    # passes (a third of the general way's cost; this runs for every record a request writes).
    try:
        lengths = map(len, _DISCLOSURE_BOUNDED(values))
        if "\x00" not in "".join(values) and all(map(operator.le, lengths, _DISCLOSURE_BOUNDS)):  # type: ignore[arg-type]
            return values
    except TypeError:  # a missing PESEL (None), or a value of another type: the general way
        pass
    if "\x00" in "".join(v for v in values if v is not None):
        values = tuple(None if v is None else chain.clean(v) for v in values)
    return _fitted(values, _DISCLOSURE_LIMITS)


def _disclosure_rows(records: Sequence[DisclosureRecord]) -> list[tuple[str | None, ...]]:
    """The stored values of a request's disclosures; their shared time is formatted once."""
    rows = []
    last: dt.datetime | None = None
    text = ""
    for record in records:
        if record.time is not last:
            last = record.time
            text = chain.format_time(last)
        rows.append(disclosure_values(record, text))
    return rows


def event_values(record: SecurityEvent) -> tuple[str | bool, ...]:
    """An event's stored and hashed values, in the order of `schema.EVENT_FIELDS` (the flag a bool)."""
    c = chain.clean
    values = (
        chain.format_time(record.time),
        c(EventKind(record.kind).value),
        c(record.user),
        c(record.office),
        c(record.actor),
        c(record.source),
        bool(record.success),
        c(record.details),
    )
    return _fitted(values, _EVENT_LIMITS)


def _disclosure_from_row(row: DisclosureRow) -> DisclosureRecord:
    return DisclosureRecord(
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


def _event_from_row(row: EventRow) -> SecurityEvent:
    return SecurityEvent(
        time=row.time,
        kind=EventKind(row.kind),
        user=row.user,
        office=row.office,
        actor=row.actor,
        source=row.source,
        success=bool(row.success),
        details=row.details,
    )


#: Log pages after which a commit checkpoints by itself (SQLite's default is 1,000; see `_LogCheckpointer`).
_FALLBACK_CHECKPOINT_PAGES = 20_000


class _LogCheckpointer:
    """Copies a SQLite audit database's write-ahead log into the database in a thread of its own.

    SQLite checkpoints the log from the connection that commits, once it holds 1,000 pages: every ~140
    appends one request waited for that copy and its fsync (~9 ms on the development machine). Here a
    PASSIVE checkpoint (it never blocks an append) runs every `interval` seconds after appends; the log
    starts over by itself at the first append after a complete one. Durability is unchanged.
    """

    def __init__(self, path: Path, interval: float = 0.5) -> None:
        self.path = path
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"audit checkpoint {path.name}", daemon=True)
        self._thread.start()

    def appended(self) -> None:
        """Records were committed: a checkpoint is due within `interval`."""
        if not self._wake.is_set():  # setting an Event takes its lock: once per interval, not per append
            self._wake.set()

    def close(self) -> None:
        """Stop the thread (what is left in the log is copied by the last connection to close)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return  # commits checkpoint by themselves (the fallback)
        try:
            connection.execute("PRAGMA busy_timeout = 10000")
            while True:
                self._wake.wait()
                # Appends of the next moments go into the same checkpoint.
                if self._stop.wait(self.interval):
                    return
                self._wake.clear()
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            return
        finally:
            connection.close()


class _AnchorWriter:
    """Anchors checkpoints in a thread of its own, in the order they were signed (`AuditStore._anchor_later`)."""

    def __init__(self, write: Callable[[Sequence[Checkpoint]], None]) -> None:
        self._write = write
        self._queue: queue.Queue[list[Checkpoint] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="audit anchors", daemon=True)
        self._thread.start()

    def submit(self, signed: list[Checkpoint]) -> None:
        self._queue.put(signed)

    def flush(self) -> None:
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=60)

    def _run(self) -> None:
        while True:
            signed = self._queue.get()
            try:
                if signed is None:
                    return
                self._write_logged(signed)
            finally:
                self._queue.task_done()

    def _write_logged(self, signed: list[Checkpoint]) -> None:
        try:
            self._write(signed)
        except AnchorFileError as failure:  # the records are committed; the next check will tell
            log.error("audit: checkpoint %d signed but not anchored: %s", signed[-1].number, failure.message)


class AuditStore:
    """The audit database of one hub: the chained tables, their single writer and the checkpoints.

    `signer` (or `key_file`) is the hub's checkpoint key; without one no checkpoints are made and only
    the chain protects the records. `synchronous` is SQLite's durability level: `NORMAL` (the default,
    as the register always had) makes a committed append survive a crash of the process; `FULL` syncs
    every commit to disk, so it also survives a power loss, at the price of one fsync per append
    (bench/audit.py measures both). Either way a lost transaction is lost whole: the chain verifies.

    `anchor_file` is where the head of every signed checkpoint is appended outside the database
    (`audit.anchors`); by default beside `key_file` (with a `signer` given directly, only if named).
    Before it signs a checkpoint the store verifies the chain from the last anchor and refuses to sign
    over a broken one (`verify_before_signing`); `accept` records an operator's decision to go on.
    """

    def __init__(
        self,
        url: str,
        *,
        signer: CheckpointSigner | None = None,
        key_file: str | Path | None = None,
        policy: CheckpointPolicy | None = None,
        synchronous: str = "NORMAL",
        mode: OpenMode = OpenMode.CREATE,
        anchor_file: str | Path | None = None,
    ) -> None:
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA", "OFF"):
            raise ValueError(f"unknown SQLite synchronous level: {synchronous}")
        self.url = url
        self.mode = mode
        self.signer = signer if signer is not None or key_file is None else CheckpointSigner.from_file(key_file)
        self.policy = policy or CheckpointPolicy()
        self.anchors = _anchor_file(anchor_file, key_file)
        #: Checkpoints signed in the transaction under way, anchored once it is committed (under `_lock`).
        self._signed: list[Checkpoint] = []
        #: Where and when signing was last refused (a broken chain), so that appends do not retry each time.
        self._refused: tuple[int, float] | None = None
        parsed = _parse_url(url)
        self.dialect = parsed.get_backend_name()
        self._database_file: Path | None = None
        try:
            if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
                database = Path(str(parsed.database))
                if mode is OpenMode.CREATE:
                    database.parent.mkdir(parents=True, exist_ok=True)
                elif not database.is_file():
                    raise RegisterNotFoundError(
                        f"Nie ma rejestru audytu: plik {database} nie istnieje. Sprawdź ścieżkę (--audit-db albo "
                        "audit_database w konfiguracji); rejestr tworzy tylko hub."
                    )
                self._lock_key = "sqlite:" + os.path.realpath(database)
                level = synchronous.upper()
                self.writer = _sqlite_engine(database, access=mode.value, immediate=True, synchronous=level)
                self.reader = _sqlite_engine(database, access="ro", immediate=False, synchronous=level)
                self._database_file = database
            elif self.dialect == "sqlite":
                if mode is not OpenMode.CREATE:
                    raise RegisterNotFoundError("Nie ma rejestru audytu: baza w pamięci jest zawsze pusta.")
                self._lock_key = f"memory:{id(self)}"
                self.writer = self.reader = _memory_engine(url)
            else:
                self._lock_key = parsed.render_as_string(hide_password=True)
                self.writer = self.reader = create_engine(url, hide_parameters=True)
            self._lock = _process_lock(self._lock_key)
            self._writer_state()
            self._sql = _Statements.for_dialect(self.dialect)
            self._dbapi_error: type[BaseException] = self.writer.dialect.loaded_dbapi.Error
            self._opened = _time.monotonic()
            if mode is not OpenMode.CREATE:
                self._require_tables()
            if mode is not OpenMode.READ_ONLY:
                self._install()
        except (SQLAlchemyError, ImportError) as error:  # ImportError: the URL's database driver is not installed
            self._dispose_engines()
            raise AuditStorageError(f"Nie można otworzyć bazy audytu: {_describe(error)}") from error
        except AuditStorageError:
            self._dispose_engines()
            raise
        self._start_anchors()

    def _writer_state(self) -> None:
        #: The DBAPI connection of `append`, kept between appends (used only under `_lock`), and its cursor.
        self._held: Any = None
        self._held_cursor: Any = None
        #: Requests waiting for the next group commit, and the lock of that list (held only briefly).
        self._queued: list[_Queued] = []
        self._queued_guard = threading.Lock()
        #: What this store's last commit left as the chain's state, and SQLite's data_version then.
        self._known: _State | None = None
        self._version: Any = None
        #: The head up to which the chain is known good: the head a check before signing reached, moved on
        #: by each commit of this store that appended to exactly that head (its own records, linked by it).
        self._verified: Head | None = None
        #: The same in the transaction under way (it becomes `_verified` when committed).
        self._transaction_good: Head | None = None
        #: The thread that anchors checkpoints signed during appends (made at the first one).
        self._anchor_writer: _AnchorWriter | None = None
        self._checkpointer: _LogCheckpointer | None = None

    # -- schema ----------------------------------------------------------------------------------------------
    def _require_tables(self) -> None:
        """Refuse a database without the audit tables (a mistyped path, or another application's file)."""
        with self.reader.connect() as connection:
            missing = [t for t in (*CHAINED_TABLES, CHECKPOINTS) if t not in inspect(connection).get_table_names()]
        if missing:
            where = self._database_file if self._database_file is not None else make_url(self.url).database
            raise RegisterNotFoundError(
                f"Plik {where} nie zawiera rejestru audytu (brak tabel: {', '.join(missing)}). Sprawdź ścieżkę "
                "(--audit-db albo audit_database w konfiguracji)."
            )

    def _start_anchors(self) -> None:
        """Make the anchor file of a register that has no checkpoint yet; warn if it is beside the database."""
        if self.anchors is None or self.signer is None:
            return
        if self._database_file is not None and os.path.realpath(self.anchors.path.parent) == os.path.realpath(
            self._database_file.parent
        ):
            log.warning(
                "Plik kotwic rejestru audytu %s leży w katalogu rejestru: trzymaj go osobno, tam gdzie administratorzy "
                "bazy nie piszą (docs/audit.md).",
                self.anchors.path,
            )
        if self.mode is not OpenMode.READ_ONLY and not self.anchors.exists() and not self.checkpoints():
            self.anchors.create()

    def _dispose_engines(self) -> None:
        for engine in {id(e): e for e in (getattr(self, "writer", None), getattr(self, "reader", None)) if e}.values():
            engine.dispose()

    def _install(self) -> None:
        with self._lock, self._write() as connection:
            existing = set(inspect(connection).get_table_names())
            legacy = [t for t in CHAINED_TABLES if t in existing and not _has_column(connection, t, "nr")]
            if legacy:
                _rename_legacy(connection, legacy)
            created = not all(t in existing for t in (*CHAINED_TABLES, CHECKPOINTS, FORMATS)) or bool(legacy)
            AuditBase.metadata.create_all(connection)
            if self.dialect == "sqlite":
                for statement in sqlite_guards():
                    connection.exec_driver_sql(statement)
                for index in DROPPED_SQLITE_INDEXES:
                    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
            elif self.dialect == "postgresql" and created:
                for statement in postgresql_guards():
                    connection.exec_driver_sql(statement)
            self._record_format(connection)
            if legacy:
                self._copy_legacy(connection, legacy)

    def _record_format(self, connection: Connection) -> None:
        """Note from which record on links are written in the current format (once per register).

        A register chained before formats were noted holds format-1 records up to its head: that is noted
        too, so that each record is verified in the format it was written in (`audit.chain`).
        """
        rows = connection.execute(
            select(ChainFormatRow.from_nr, ChainFormatRow.version).order_by(ChainFormatRow.from_nr)
        )
        noted = [(int(first), int(version)) for first, version in rows]
        if noted and noted[-1][1] == chain.CURRENT_FORMAT:
            return
        head = self._head(connection.connection.dbapi_connection.cursor())  # type: ignore[union-attr]
        if not noted and head.nr > 0:
            noted.append((1, chain.FORMAT_1))
            connection.execute(insert(ChainFormatRow).values(from_nr=1, version=chain.FORMAT_1))
        connection.execute(insert(ChainFormatRow).values(from_nr=head.nr + 1, version=chain.CURRENT_FORMAT))
        if head.nr > 0:
            log.warning(
                "audit database: records up to %d keep their chain format; format %d from %d",
                head.nr,
                chain.CURRENT_FORMAT,
                head.nr + 1,
            )

    def formats(self) -> list[tuple[int, int]]:
        """(first record number, chain format) pairs in order; `[(1, 1)]` for a register older than the note."""
        with self.reader.connect() as connection:
            return read_formats(connection)

    def _write(self) -> Any:
        """A SQLAlchemy write transaction holding the chain's lock in the database (schema, deletes)."""
        return _WriteTransaction(self)

    def _raw_write(self) -> _RawWrite:
        """A DBAPI cursor in a write transaction holding the chain's lock: the hot path of `append`."""
        return _RawWrite(self)

    # -- head and append -------------------------------------------------------------------------------------
    def _head(self, cursor: Any) -> Head:
        best = Head(0, chain.GENESIS)
        for statement in self._sql.heads:
            cursor.execute(statement)
            row = cursor.fetchone()
            if row is not None and row[0] > best.nr:
                best = Head(int(row[0]), str(row[1]))
        if best.nr == 0:
            # Everything was purged: the chain goes on from the last retention cut.
            cursor.execute(self._sql.last_checkpoint)
            row = cursor.fetchone()
            if row is not None:
                best = Head(int(row[1]), str(row[2]))
        return best

    def head(self) -> Head:
        """The chain's current head (as committed)."""
        with self.reader.connect() as connection:
            return self._head(connection.connection.dbapi_connection.cursor())  # type: ignore[union-attr]

    def append(self, disclosures: Sequence[DisclosureRecord] = (), events: Sequence[SecurityEvent] = ()) -> None:
        """Chain and store records atomically: committed (durable) when this returns, or nothing is.

        Group commit: the records of requests that arrive while another request's transaction is under
        way are queued, and the next thread to take the lock writes all of them in one transaction (each
        request's records still one after another); every request returns only after that commit. With
        several request threads one commit (one write of the index pages) serves several requests.
        """
        if not disclosures and not events:
            return
        self._writable()
        # Prepared before the lock: the values do not depend on the chain, only the links do.
        request = _Queued(_disclosure_rows(disclosures), [event_values(e) for e in events])
        with self._queued_guard:
            self._queued.append(request)
        signed: list[Checkpoint] = []
        with self._lock:
            if not request.done:
                signed = self._write_queued()
        if request.failure is not None:
            raise request.failure
        if signed:
            self._anchor_later(signed)
        if self._database_file is not None:
            self._log_appended()

    def _write_queued(self) -> list[Checkpoint]:
        """Write every queued request in one transaction (under `_lock`); return the checkpoints signed."""
        with self._queued_guard:
            batch, self._queued = self._queued, []
        failure: BaseException | None = None
        try:
            with self._raw_write() as cursor:
                state = self._state(cursor)
                for request in batch:
                    state = self._append_prepared(cursor, state, request.disclosures, request.events)
            self._known = state
        except self._dbapi_error as error:
            failure = AuditStorageError(f"Nie można zapisać wpisu w rejestrze audytu: {_first_line(error)}")
            failure.__cause__ = error
        except BaseException as error:
            failure = error
        for request in batch:
            request.done, request.failure = True, failure
        signed, self._signed = self._signed, []
        return signed if failure is None else []

    def _log_appended(self) -> None:
        checkpointer = self._checkpointer
        if checkpointer is None:
            with self._lock:
                if self._checkpointer is None:
                    self._checkpointer = _LogCheckpointer(self._database_file)  # type: ignore[arg-type]
                checkpointer = self._checkpointer
        checkpointer.appended()

    def _writable(self) -> None:
        if self.mode is OpenMode.READ_ONLY:
            raise AuditStorageError("Rejestr audytu otwarto tylko do odczytu: nie można w nim niczego zapisać.")

    def _append_locked(
        self, cursor: Any, disclosures: Sequence[DisclosureRecord], events: Sequence[SecurityEvent]
    ) -> Head:
        """Chain and insert records in the transaction under way (the caller holds the lock)."""
        state = self._state(cursor)
        state = self._append_prepared(cursor, state, _disclosure_rows(disclosures), [event_values(e) for e in events])
        self._known = None  # the caller commits (or not) after this
        return state.head

    def _append_prepared(
        self,
        cursor: Any,
        state: _State,
        disclosures: Sequence[tuple[str | None, ...]],
        events: Sequence[tuple[str | bool, ...]],
    ) -> _State:
        """Link and insert prepared values after `state`'s head; sign a checkpoint if one is due."""
        nr, previous = state.head.nr, state.head.link
        link = chain.link_v2
        if disclosures:
            rows: list[tuple[Any, ...]] = []
            for values in disclosures:
                nr += 1
                current = link(chain.DISCLOSURE_TAG, nr, previous, values)
                rows.append((nr, previous, current, *values))
                previous = current
            cursor.executemany(self._sql.insert_disclosure, rows)
        if events:
            rows = []
            for event in events:
                nr += 1
                current = link(chain.EVENT_TAG, nr, previous, event)
                rows.append((nr, previous, current, *event))
                previous = current
            cursor.executemany(self._sql.insert_event, rows)
        if self._transaction_good == state.head:  # linked to the known-good head by this store itself
            self._transaction_good = Head(nr, previous)
        state = _State(Head(nr, previous), state.last)
        if self.signer is not None:
            made = self._checkpoint_if_due(cursor, state.head, state.last)
            if made is not None:
                state = _State(state.head, _LastCheckpoint(made.number, made.nr, made.link, made.time))
        return state

    def _state(self, cursor: Any) -> _State:
        """The chain's head and last checkpoint at the start of a write transaction: what this store's last
        commit left, unless another connection has written since (`_began`), else read from the database."""
        known, self._known = self._known, None
        if known is not None:
            return known
        return _State(self._head(cursor), self._last_checkpoint(cursor))

    def _began(self, cursor: Any) -> None:
        """A write transaction began on the held connection (under `_lock`).

        SQLite tells a connection whether another one has committed since it last looked (`data_version`):
        if not, the chain's state this store's last commit left still holds (three queries fewer per
        append); if so, or in PostgreSQL, it is read anew.
        """
        self._transaction_good = self._verified
        version = None
        if self.dialect == "sqlite":
            cursor.execute("PRAGMA data_version")
            version = cursor.fetchone()[0]
        if version is None or version != self._version:
            self._known = None
        self._version = version

    def _committed(self) -> None:
        """The transaction under way was committed: what it checked, and appended to that, is known good."""
        self._verified = self._transaction_good

    # -- checkpoints -----------------------------------------------------------------------------------------
    def _last_checkpoint(self, cursor: Any) -> _LastCheckpoint | None:
        cursor.execute(self._sql.last_checkpoint)
        row = cursor.fetchone()
        return None if row is None else _LastCheckpoint(int(row[0]), int(row[1]), str(row[2]), chain.parse_time(row[3]))

    def _checkpoint_if_due(self, cursor: Any, head: Head, last: _LastCheckpoint | None) -> Checkpoint | None:
        """Sign a periodic checkpoint if one is due; a refusal (broken chain) is logged, not raised, so that
        appends go on; it is not retried before another interval has passed (`_due`)."""
        if not self._due(head, last):
            return None
        try:
            return self._sign(cursor, head, PERIODIC, last)
        except (ChainBrokenError, AnchorFileError) as refusal:
            log.error("audit: no checkpoint signed over record %d: %s", head.nr, refusal.message)
            return None

    def _due(self, head: Head, last: _LastCheckpoint | None) -> bool:
        """A periodic checkpoint is due over `head`: `every_records` records or `every_minutes` minutes since
        the last checkpoint, or since signing was last refused."""
        since_nr = last.nr if last is not None else 0
        if last is not None:
            elapsed = last.age  # the checkpoint's time as a POSIX timestamp is worked out once, not per append
        else:
            elapsed = _time.monotonic() - self._opened
        if self._refused is not None and self._refused[0] > since_nr:
            since_nr, elapsed = self._refused[0], _time.monotonic() - self._refused[1]
        if head.nr <= since_nr:
            return False
        return head.nr - since_nr >= self.policy.every_records or elapsed >= self.policy.every_minutes * 60

    def _sign(
        self, cursor: Any, head: Head, reason: str, last: _LastCheckpoint | None, *, check: bool = True
    ) -> Checkpoint:
        """Sign and insert a checkpoint over `head`, after verifying the chain from the last anchor (`check`).

        Raises `ChainBrokenError` or `AnchorFileError` instead of signing over a chain that does not verify.
        """
        assert self.signer is not None
        anchors = None if self.anchors is None else self.anchors.read(tail=ANCHOR_TAIL_BYTES)
        if check:
            try:
                self._check(Source(cursor.connection, self.dialect), anchors)
            except (ChainBrokenError, AnchorFileError):
                self._refused = (head.nr, _time.monotonic())
                raise
        # Numbers go on after the last one signed, also one gone from the database but not from the anchors.
        number = max([last.number if last is not None else 0, *(a.number for a in anchors or ())]) + 1
        checkpoint = self.signer.sign(number, head.nr, head.link, dt.datetime.now(dt.UTC), reason)
        cursor.execute(
            self._sql.insert_checkpoint,
            (
                checkpoint.number,
                checkpoint.nr,
                checkpoint.link,
                chain.format_time(checkpoint.time),
                checkpoint.reason,
                checkpoint.algorithm,
                checkpoint.key_fingerprint,
                checkpoint.signature,
            ),
        )
        self._signed.append(checkpoint)
        self._refused = None
        return checkpoint

    def _check(
        self, source: Source, anchors: list[Anchor] | None, *, in_transaction: bool = True
    ) -> VerificationReport:
        """The chain from the last trusted anchor to its head must verify (see `verify_before_signing`);
        `anchors` are those of the anchor file (None: no anchor file is kept). In the store's own write
        transaction the walk starts at the head known good (`_verified`), if later than the anchor."""
        keys = None if self.signer is None else TrustedKeys([self.signer.public_key])
        if self.anchors is not None and anchors is not None:
            # An existing file may lack the newest anchors (being written by another process, or lost in a
            # crash): checkpoints after the last anchor are checked by their signatures. A missing file is
            # not that: it was made when the register had no checkpoint yet (`_start_anchors`).
            # An emptied file (`: > kotwice`, a truncating log rotation) is a missing one, as the message says; so
            # is one cut to its header line, which hid a checkpoint deleted with the records it covered.
            if not anchors and anchors_lost(self.anchors, anchors, source.checkpoints()):
                raise AnchorFileError(
                    f"Plik kotwic {self.anchors.path} nie istnieje, jest pusty albo nie ma żadnej kotwicy, a rejestr "
                    "ma już podpisane punkty "
                    "kontrolne: plik przeniesiono lub usunięto, albo to pierwsze uruchomienie z kotwicami. Sprawdź "
                    "rejestr (platforma audit verify) i przyjmij jego stan: platforma audit accept --reason …"
                )
        good = self._transaction_good if in_transaction else None
        report = check_before_signing(source, keys, anchors, known_good=good)
        first = report.first_problem
        if first is not None:
            raise ChainBrokenError(
                f"Rejestr audytu jest naruszony, więc nie podpisano punktu kontrolnego. {first.message} Wyjaśnij "
                "naruszenie; po wyjaśnieniu: platforma audit accept --reason …",
                kind=first.kind.value,
                nr=first.nr,
                table=first.table,
                checkpoint=first.checkpoint,
            )
        if in_transaction:
            self._transaction_good = Head(report.last_nr or 0, report.head_link)
        return report

    def verify_before_signing(self) -> VerificationReport:
        """Verify the chain from the last trusted anchor to its head, as is done before each checkpoint.

        The hub calls it at start. Raises `ChainBrokenError` naming the first bad record (`kind`, `nr`,
        `table`, `checkpoint`), or `AnchorFileError` when the anchor file is missing although checkpoints
        exist, or unreadable; returns the report of an intact chain.
        """
        try:
            with self.reader.connect() as connection, connection.begin():
                anchors = None if self.anchors is None else self.anchors.read(tail=ANCHOR_TAIL_BYTES)
                source = Source(connection.connection.dbapi_connection, self.dialect)
                return self._check(source, anchors, in_transaction=False)
        except SQLAlchemyError as error:
            raise AuditStorageError(f"Nie można odczytać rejestru audytu: {_describe(error)}") from error

    def _anchor(self, signed: Sequence[Checkpoint]) -> None:
        """After their transaction committed: make it durable, then append the checkpoints' anchors.

        In that order, so that no anchor can name a checkpoint a power loss could still take back (with
        SQLite's `synchronous=NORMAL` a commit is only in the operating system's cache until its log is
        synced; a completed log checkpoint syncs the database file before the log starts over).
        """
        if self.anchors is None or not signed:
            return
        if self._database_file is not None:
            with contextlib.suppress(FileNotFoundError):
                descriptor = os.open(self._database_file.with_name(self._database_file.name + "-wal"), os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
        self.anchors.append(signed)

    def _anchor_later(self, signed: list[Checkpoint]) -> None:
        """Anchor a periodic checkpoint signed during an append in a thread of its own: the two syncs
        (~4 ms) are no part of the request's answer, which waited only for its records' commit."""
        with self._lock:
            if self._anchor_writer is None:
                self._anchor_writer = _AnchorWriter(self._anchor)
            writer = self._anchor_writer
        writer.submit(signed)

    def flush_anchors(self) -> None:
        """Wait until the anchors of every checkpoint signed so far are written (`dispose` does too)."""
        writer = self._anchor_writer
        if writer is not None:
            writer.flush()

    def checkpoint(self, *, force: bool = True) -> Checkpoint | None:
        """Sign a checkpoint over the current head now (`force`), or only if the policy says one is due.

        Returns None when no checkpoint was made (no key, nothing new since the last one, or not due).
        A hub calls `checkpoint(force=False)` from a timer so that a quiet chain is still signed.
        """
        if self.signer is None:
            return None
        self._writable()
        try:
            with self._lock:
                self._known = None  # this transaction changes what the last append left
                with self._raw_write() as cursor:
                    head = self._head(cursor)
                    last = self._last_checkpoint(cursor)
                    made: Checkpoint | None = None
                    if not force:
                        if self._due(head, last):
                            made = self._sign(cursor, head, PERIODIC, last)
                    elif head.nr > 0 and (last is None or last.nr != head.nr or last.link != head.link):
                        made = self._sign(cursor, head, ON_REQUEST, last)
                signed, self._signed = self._signed, []
        except self._dbapi_error as error:
            raise AuditStorageError(f"Nie można zapisać punktu kontrolnego: {_first_line(error)}") from error
        self.flush_anchors()  # in order: those signed during appends first
        self._anchor(signed)
        return made

    def accept(self, operator: str, reason: str, *, source: str = "CLI") -> Checkpoint:
        """Record that `operator` accepts the register's state after investigating, and sign a checkpoint.

        The decision is appended to the chain as event `PRZYJECIE_STANU_REJESTRU` (operator, reason, what the
        check found), then a checkpoint with reason `PRZYJECIE` is signed over it without the check and
        anchored: the hub verifies the chain from there on before it signs again. Use it after a finding
        has been investigated, or to start anchoring a register that has checkpoints but no anchor file.
        """
        if self.signer is None:
            raise AuditKeyError("Przyjęcie stanu rejestru wymaga klucza punktów kontrolnych (audit_key).")
        if not operator.strip() or not reason.strip():
            raise AuditStorageError("Przyjęcie stanu rejestru wymaga podania operatora i powodu.")
        self._writable()
        found = self._finding()
        event = SecurityEvent(
            time=dt.datetime.now(dt.UTC),
            kind=EventKind.ACCEPTANCE,
            user=operator,
            office="",
            actor=operator,
            source=source,
            success=True,
            details=f"powod: {reason}; stan przed przyjeciem: {found}",
        )
        try:
            with self._lock:
                self._known = None  # this transaction changes what the last append left
                with self._raw_write() as cursor:
                    head = self._append_locked(cursor, [], [event])
                    made = self._sign(cursor, head, ACCEPTANCE_REASON, self._last_checkpoint(cursor), check=False)
                signed, self._signed = self._signed, []
        except self._dbapi_error as error:
            raise AuditStorageError(f"Nie można zapisać przyjęcia stanu rejestru: {_first_line(error)}") from error
        self.flush_anchors()  # in order: those signed during appends first
        self._anchor(signed)
        log.warning("audit: the register's state was accepted at record %d (checkpoint %d)", made.nr, made.number)
        return made

    def _finding(self) -> str:
        """What the check before signing finds now, without personal data (kind and record number)."""
        try:
            self.verify_before_signing()
        except ChainBrokenError as error:
            return f"{error.kind} (wpis nr {error.nr}, punkt kontrolny nr {error.checkpoint})"
        except AnchorFileError as error:
            return error.code
        return "bez naruszen"

    def cut(self, nr: int) -> Checkpoint:
        """Sign a retention cut at record `nr` (which must exist): records up to it may then be deleted."""
        if self.signer is None:
            raise AuditStorageError("Cięcie retencji wymaga klucza punktów kontrolnych (audit_key).")
        self._writable()
        try:
            with self._lock:
                self._known = None  # this transaction changes what the last append left
                with self._raw_write() as cursor:
                    link = None
                    for statement in self._sql.link_of:
                        cursor.execute(statement, (nr,))
                        row = cursor.fetchone()
                        if row is not None:
                            link = str(row[0])
                    if link is None:
                        raise AuditStorageError(f"W rejestrze audytu nie ma wpisu nr {nr}; nie można w nim ciąć.")
                    made = self._sign(cursor, Head(nr, link), CUT_REASON, self._last_checkpoint(cursor))
                signed, self._signed = self._signed, []
        except self._dbapi_error as error:
            raise AuditStorageError(f"Nie można zapisać cięcia retencji: {_first_line(error)}") from error
        self.flush_anchors()  # in order: those signed during appends first
        self._anchor(signed)
        return made

    def delete_up_to(self, nr: int, *, batch: int = 20_000) -> int:
        """Delete the records numbered up to `nr` (allowed only below a signed cut), in short transactions."""
        self._writable()
        removed = 0
        try:
            for model in (DisclosureRow, EventRow):
                while True:
                    with self._lock, self._write() as connection:
                        numbers = [
                            n
                            for (n,) in connection.execute(
                                select(model.nr).where(model.nr <= nr).order_by(model.nr).limit(batch)
                            )
                        ]
                        if not numbers:
                            break
                        connection.execute(delete(model).where(model.nr <= numbers[-1]))
                        removed += len(numbers)
        except SQLAlchemyError as error:
            raise AuditStorageError(f"Nie można usunąć wpisów rejestru audytu: {_describe(error)}") from error
        return removed

    def checkpoints(self) -> list[Checkpoint]:
        """All checkpoints, in number order."""
        with self.reader.connect() as connection:
            return read_checkpoints(connection)

    # -- reading ---------------------------------------------------------------------------------------------
    def disclosures(self, *, request_id: str | None = None, pesel: str | None = None) -> Iterator[DisclosureRecord]:
        """Disclosure records in chain order, optionally only those of one request or one person (by PESEL
        through its index; by request a scan: no report asks for one, and an index costs every append)."""
        query = select(DisclosureRow).order_by(DisclosureRow.nr)
        if request_id is not None:
            query = query.where(DisclosureRow.request_id == request_id)
        if pesel is not None:
            query = query.where(DisclosureRow.subject_pesel == pesel)
        with Session(self.reader) as session:
            for row in session.scalars(query):
                yield _disclosure_from_row(row)

    def has_disclosures_by(self, office: str) -> bool:
        """Whether any disclosure was made to a user of `office` (through the office's index)."""
        query = select(DisclosureRow.nr).where(DisclosureRow.office == office).limit(1)
        with Session(self.reader) as session:
            return session.scalars(query).first() is not None

    def has_disclosures_to(self, user: str) -> bool:
        """Whether any disclosure (or refusal) was recorded for a user's request (through the user's index)."""
        query = select(DisclosureRow.nr).where(DisclosureRow.user == user).limit(1)
        with Session(self.reader) as session:
            return session.scalars(query).first() is not None

    def events(
        self,
        *,
        user: str | None = None,
        office: str | None = None,
        kind: EventKind | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Iterator[SecurityEvent]:
        """Security events in chain order, optionally filtered."""
        query = select(EventRow).order_by(EventRow.nr)
        if user is not None:
            query = query.where(EventRow.user == user)
        if office is not None:
            query = query.where(EventRow.office == office)
        if kind is not None:
            query = query.where(EventRow.kind == EventKind(kind).value)
        if since is not None:
            query = query.where(EventRow.time >= since)
        if until is not None:
            query = query.where(EventRow.time < until)
        with Session(self.reader) as session:
            for row in session.scalars(query):
                yield _event_from_row(row)

    def dispose(self) -> None:
        """Write the anchors still pending, release the database connections."""
        writer, self._anchor_writer = self._anchor_writer, None
        if writer is not None:
            writer.close()
        with self._lock:
            if self._held is not None:
                self._held.close()
                self._held = self._held_cursor = None
            checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.close()
        # The reader's connections first: the last connection to close copies the log into the database
        # file and removes it, which a read-only one cannot do (a copy of `audit.sqlite` alone was empty).
        if self.reader is not self.writer:
            self.reader.dispose()
        self.writer.dispose()

    # -- upgrade of a register written before the chain ------------------------------------------------------
    def _copy_legacy(self, connection: Connection, tables: list[str]) -> None:
        disclosures: list[DisclosureRecord] = []
        events: list[SecurityEvent] = []
        if DISCLOSURES in tables:
            for row in connection.exec_driver_sql(
                "SELECT czas, id_zapytania, uzytkownik, urzad, kanal, identyfikator, pesel_osoby, zbior, "  # noqa: S608 - constant names
                "administrator, kategorie, podstawa_prawna, cel, wynik, skrot_sha256, powod "
                f"FROM {DISCLOSURES}{_LEGACY_SUFFIX} ORDER BY id"
            ):
                disclosures.append(
                    DisclosureRecord(
                        _legacy_time(row[0]),
                        row[1],
                        row[2],
                        row[3],
                        row[4],
                        row[5],
                        row[6],
                        row[7],
                        row[8],
                        tuple(c for c in str(row[9]).split(",") if c),
                        row[10],
                        row[11],
                        Outcome(row[12]),
                        row[13] or "",
                        row[14] or "",
                    )
                )
        if EVENTS in tables:
            for row in connection.exec_driver_sql(
                "SELECT czas, rodzaj, uzytkownik, urzad, wykonawca, zrodlo, sukces, szczegoly "  # noqa: S608 - constant names
                f"FROM {EVENTS}{_LEGACY_SUFFIX} ORDER BY id"
            ):
                events.append(
                    SecurityEvent(
                        _legacy_time(row[0]),
                        EventKind(row[1]),
                        row[2],
                        row[3],
                        row[4],
                        row[5],
                        bool(row[6]),
                        row[7] or "",
                    )
                )
        # Chain them in the order they were written, as far as the old tables tell it (time, then id).
        merged = sorted(
            [(r.time, 0, i, r) for i, r in enumerate(disclosures)] + [(e.time, 1, i, e) for i, e in enumerate(events)],
            key=lambda item: (item[0], item[1], item[2]),
        )
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for _time_key, which, _index, item in merged:
            if which == 0:
                self._append_locked(cursor, [item], [])  # type: ignore[list-item]
            else:
                self._append_locked(cursor, [], [item])  # type: ignore[list-item]
        for table in tables:
            connection.exec_driver_sql(f"DROP TABLE {table}{_LEGACY_SUFFIX}")
        log.warning("audit database: %d old records chained", len(merged))


_LEGACY_SUFFIX = "_przed_lancuchem"


class _WriteTransaction:
    """`with store._write() as connection`: a transaction holding the chain's write lock in the database."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store
        self._context: Any = None

    def __enter__(self) -> Connection:
        self._context = self._store.writer.begin()
        connection: Connection = self._context.__enter__()
        if self._store.dialect == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_KEY})")
        return connection

    def __exit__(self, *exc: Any) -> None:
        self._context.__exit__(*exc)


class _RawWrite:
    """`with store._raw_write() as cursor`: the store's held DBAPI connection in a transaction holding the
    lock (the caller holds `store._lock`).

    Plain DBAPI calls on a connection kept between appends: SQLAlchemy's statement machinery, and even a
    pool checkout and return per append, cost more than the append itself in a request. A connection
    that fails is invalidated and the next append takes a fresh one from the pool.
    """

    def __init__(self, store: AuditStore) -> None:
        self._store = store
        self._connection: Any = None

    def __enter__(self) -> Any:
        store = self._store
        store._signed = []  # what a failed transaction signed was rolled back with it
        if store._held is None:
            held = store.writer.raw_connection()
            # One cursor for the connection's life (each execute resets it): a cursor per append cost more.
            store._held, store._held_cursor = held, held.cursor()
        self._connection = store._held
        cursor = store._held_cursor
        try:
            cursor.execute(store._sql.begin)
            store._began(cursor)
        except BaseException:
            self._drop()
            raise
        return cursor

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        store = self._store
        try:
            if kind is None:
                self._connection.commit()
                store._committed()
            else:
                store._known = None
                self._connection.rollback()
        except BaseException:
            store._known = None
            self._drop()
            raise

    def _drop(self) -> None:
        """Forget a connection in an unknown state (it is closed, not returned to the pool)."""
        store = self._store
        held, store._held, store._held_cursor = store._held, None, None
        if held is not None:
            with contextlib.suppress(Exception):
                held.invalidate()


@dataclass(frozen=True)
class _Statements:
    """The append path's SQL in one dialect's parameter style (`?` for SQLite, `%s` for psycopg)."""

    begin: str
    heads: tuple[str, ...]
    last_checkpoint: str
    insert_disclosure: str
    insert_event: str
    insert_checkpoint: str
    link_of: tuple[str, ...]

    @classmethod
    def for_dialect(cls, dialect: str) -> _Statements:
        mark = "?" if dialect == "sqlite" else "%s"

        def insert(table: str, columns: Sequence[str]) -> str:
            return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(mark for _ in columns)})"  # noqa: S608 - constant names

        chained = ("nr", "skrot_poprzedniego", "skrot_wpisu")
        if dialect == "sqlite":
            begin = "BEGIN IMMEDIATE"
        elif dialect == "postgresql":
            begin = f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_KEY})"
        else:
            begin = "SELECT 1"
        return cls(
            begin=begin,
            heads=tuple(f"SELECT nr, skrot_wpisu FROM {t} ORDER BY nr DESC LIMIT 1" for t in CHAINED_TABLES),  # noqa: S608 - constant names
            last_checkpoint=f"SELECT nr_punktu, nr, skrot, czas FROM {CHECKPOINTS} ORDER BY nr_punktu DESC LIMIT 1",  # noqa: S608 - constant names
            insert_disclosure=insert(DISCLOSURES, (*chained, *DISCLOSURE_FIELDS)),
            insert_event=insert(EVENTS, (*chained, *EVENT_FIELDS)),
            insert_checkpoint=insert(
                CHECKPOINTS, ("nr_punktu", "nr", "skrot", "czas", "powod", "algorytm", "odcisk_klucza", "podpis")
            ),
            link_of=tuple(f"SELECT skrot_wpisu FROM {t} WHERE nr = {mark}" for t in CHAINED_TABLES),  # noqa: S608 - constant names
        )


def _anchor_file(path: str | Path | None, key_file: str | Path | None) -> AnchorFile | None:
    if path is None and key_file is not None:
        path = default_anchor_path(key_file)
    return None if path is None else AnchorFile(path)


def read_checkpoints(connection: Connection) -> list[Checkpoint]:
    """All checkpoints, in number order, read on an open connection (for a consistent snapshot)."""
    return reading.checkpoints(connection.connection.dbapi_connection)


def read_formats(connection: Connection) -> list[tuple[int, int]]:
    """The chain's formats noted in the database (see `AuditStore.formats`), read on an open connection."""
    return reading.formats(connection.connection.dbapi_connection, connection.dialect.name)


def _has_column(connection: Connection, table: str, column: str) -> bool:
    return any(c["name"] == column for c in inspect(connection).get_columns(table))


def _rename_legacy(connection: Connection, tables: list[str]) -> None:
    for table in tables:
        for index in inspect(connection).get_indexes(table):
            if index.get("name"):
                connection.execute(text(f'DROP INDEX "{index["name"]}"'))
        connection.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {table}{_LEGACY_SUFFIX}")


def _legacy_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _first_line(error: BaseException) -> str:
    return (str(error) or type(error).__name__).splitlines()[0]


def _parse_url(url: str) -> URL:
    """The database URL, or `AuditStorageError` (the URL is not echoed: it may hold a password)."""
    try:
        return make_url(url)
    except ArgumentError as error:
        raise AuditStorageError(
            "Nieprawidłowy adres bazy audytu: podaj np. sqlite:///audit.sqlite albo postgresql://…"
        ) from error


def _describe(error: SQLAlchemyError | ImportError) -> str:
    """A short Polish description of a database error, without the SQL statement and its parameters."""
    return describe(error) + "."
