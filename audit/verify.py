"""`audit verify`: stream through the chain and the checkpoints, name the first bad record and what happened.

The records of both chained tables are read in one pass, in number order, from one read snapshot; the
database computes each record's hashed message from its stored bytes, in the format it was written in,
after checking the storage type of every value (`audit.recompute`); Python computes its link hash. Memory
does not grow with the number of records (only with the number of checkpoints, a few hundred bytes each).

What is detected, and how it is named (`ProblemKind`):

- a record whose content, predecessor or own link was edited, or a value stored with another type than
  the writer's (a blob, the text 'false' in the flag): ZMIENIONY (changed);
- PostgreSQL: a column whose type was changed (readers would read other values): ZMIENIONY_TYP_KOLUMNY;
- a record edited *and* its link recomputed: its successor then points to a predecessor that no longer
  exists, so the edited one is named ZMIENIONY; if every later link was recomputed too, only a signed
  checkpoint can tell: NIEZGODNY_Z_PUNKTEM_KONTROLNYM names the range it covers;
- a gap in the numbers, or the tail missing below a signed checkpoint: USUNIETY (removed);
- a record that does not belong (its successor points past it, or a number repeats): WSTAWIONY (inserted);
- a record sealed for another position: PRZESTAWIONY (reordered);
- a checkpoint whose signature does not verify, names an unknown key, or is missing from the numbering:
  NIEPRAWIDLOWY_PODPIS, NIEZNANY_KLUCZ, USUNIETY_PUNKT_KONTROLNY.

Records after the last signed checkpoint are protected by the chain alone: deleting the newest of them,
or appending forged ones, cannot be seen without an earlier copy of the head (see docs/audit.md).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from audit import chain
from audit.chain import Head
from audit.checkpoints import Checkpoint, TrustedKeys
from audit.errors import AuditStorageError
from audit.recompute import Formats, message_sql
from audit.schema import (
    CUT_REASON,
    DISCLOSURE_FIELDS,
    DISCLOSURE_NULLABLE_FIELDS,
    DISCLOSURES,
    EVENT_BOOLEAN_FIELDS,
    EVENT_FIELDS,
    EVENTS,
)
from audit.store import AuditStore, read_checkpoints, read_formats

TABLE_NAMES = {chain.DISCLOSURE_TAG: DISCLOSURES, chain.EVENT_TAG: EVENTS}
_TABLE_TITLES = {chain.DISCLOSURE_TAG: "rejestr ujawnień", chain.EVENT_TAG: "dziennik zdarzeń bezpieczeństwa"}
_FETCH = 2_000
ANCHOR = "KOTWICA"
"""Reason of the pseudo-checkpoint made from an anchor (a head kept outside the database)."""


class ProblemKind(enum.StrEnum):
    """What happened to the first bad record or checkpoint."""

    CHANGED = "ZMIENIONY"
    REMOVED = "USUNIETY"
    INSERTED = "WSTAWIONY"
    REORDERED = "PRZESTAWIONY"
    CHECKPOINT_MISMATCH = "NIEZGODNY_Z_PUNKTEM_KONTROLNYM"
    CHECKPOINT_SIGNATURE = "NIEPRAWIDLOWY_PODPIS"
    CHECKPOINT_UNKNOWN_KEY = "NIEZNANY_KLUCZ"
    CHECKPOINT_REMOVED = "USUNIETY_PUNKT_KONTROLNY"
    COLUMN_TYPE = "ZMIENIONY_TYP_KOLUMNY"


@dataclass(frozen=True)
class Problem:
    """One finding: its kind, the record (`nr`, `table`) or checkpoint it concerns, a Polish sentence."""

    kind: ProblemKind
    message: str
    nr: int | None = None
    table: str | None = None
    checkpoint: int | None = None


@dataclass
class VerificationReport:
    """The outcome of one verification. `ok` only if no problem was found."""

    records: int = 0
    checkpoints: int = 0
    signatures_checked: bool = False
    first_nr: int | None = None
    last_nr: int | None = None
    head_link: str = chain.GENESIS
    last_signed_nr: int | None = None
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        """The first bad record if there is one, else the first checkpoint problem."""
        for problem in self.problems:
            if problem.nr is not None:
                return problem
        return self.problems[0] if self.problems else None

    @property
    def unsigned_tail(self) -> int:
        """How many records at the end are covered by no valid checkpoint (protected by the chain only)."""
        if self.last_nr is None:
            return 0
        return self.last_nr - (self.last_signed_nr or 0) if (self.last_signed_nr or 0) < self.last_nr else 0


class Row(NamedTuple):
    """One chained record as the verifier reads it: `message` is exactly what its link hash covers, or None
    when a value is not of the type the writer stored (`audit.recompute`)."""

    nr: int
    previous: str
    link: str
    tag: str
    message: bytes | None


def _row(values: Any) -> Row:
    message = values[4]
    return Row(
        int(values[0]), str(values[1]), str(values[2]), str(values[3]), None if message is None else bytes(message)
    )


def _seals(row: Row, nr: int) -> bool:
    """True if the row's link is the hash of its content, its stored predecessor and number `nr`."""
    return row.message is not None and chain.relink(row.message, nr=nr) == row.link


def _select(dialect: str, where: str = "", formats: Formats = ((1, chain.CURRENT_FORMAT),)) -> str:
    """Both chained tables in number order: (nr, stored predecessor, stored link, tag, message as bytes)."""
    disclosures = message_sql(
        chain.DISCLOSURE_TAG, DISCLOSURE_FIELDS, dialect=dialect, formats=formats, nullable=DISCLOSURE_NULLABLE_FIELDS
    )
    events = message_sql(chain.EVENT_TAG, EVENT_FIELDS, dialect=dialect, formats=formats, flags=EVENT_BOOLEAN_FIELDS)
    columns = "nr, skrot_poprzedniego, skrot_wpisu"
    return (
        f"SELECT {columns}, '{chain.DISCLOSURE_TAG}' AS tag, {disclosures} AS wiadomosc FROM {DISCLOSURES} {where} "  # noqa: S608 - constant names
        f"UNION ALL SELECT {columns}, '{chain.EVENT_TAG}' AS tag, {events} AS wiadomosc FROM {EVENTS} {where} "
        "ORDER BY 1"
    )


def _where(snapshot: _Snapshot, link: str) -> list[Row]:
    """The records whose stored link is `link` (to tell a changed record from a moved one)."""
    cursor = snapshot.dbapi.cursor()
    try:
        sql = _select(snapshot.store.dialect, "WHERE skrot_wpisu = :wartosc", snapshot.formats)
        if snapshot.store.dialect == "sqlite":
            sql = sql.replace(":wartosc", "?")
        else:  # psycopg reads every '%' as a placeholder when parameters are given
            sql = sql.replace("%", "%%").replace(":wartosc", "%s")
        cursor.execute(sql, (link, link))
        return [_row(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


def _name(row: Row | None, nr: int) -> str:
    if row is None:
        return f"wpis nr {nr}"
    return f"wpis nr {nr} ({_TABLE_TITLES.get(row.tag, row.tag)})"


def _diagnose(snapshot: _Snapshot, expected: int, previous: str, row: Row, after: Row | None) -> Problem:
    """Name what happened at the first record that does not fit (see the module's docstring)."""
    table = TABLE_NAMES.get(row.tag)
    if row.nr > expected:
        span = f"wpis nr {expected}" if row.nr == expected + 1 else f"wpisy nr {expected}–{row.nr - 1}"
        return Problem(
            ProblemKind.REMOVED,
            f"Usunięto {span}: po wpisie nr {expected - 1} następuje wpis nr {row.nr}.",
            nr=expected,
        )
    if row.nr < expected:
        return Problem(
            ProblemKind.INSERTED,
            f"Numer {row.nr} występuje więcej niż raz: {_name(row, row.nr)} został wstawiony.",
            nr=row.nr,
            table=table,
        )
    if row.previous == previous:
        if (
            after is not None
            and after.previous == previous
            and (_seals(after, expected) or _seals(after, after.nr - 1))
        ):
            return Problem(
                ProblemKind.INSERTED,
                f"{_name(row, expected).capitalize()} został wstawiony: następny wpis wskazuje jako poprzednika "
                f"wpis nr {expected - 1}.",
                nr=expected,
                table=table,
            )
        return Problem(
            ProblemKind.CHANGED,
            f"{_name(row, expected).capitalize()} został zmieniony: jego skrót nie zgadza się z treścią.",
            nr=expected,
            table=table,
        )
    before = next((r for r in _where(snapshot, row.previous) if r != row), None)
    candidates = [expected, expected + 1, expected - 1]
    if before is not None:
        candidates += [before.nr + 1, before.nr]
    origin = next((n for n in candidates if n > 0 and _seals(row, n)), None)
    if origin is None:
        if after is not None and after.previous == previous and (_seals(after, expected) or _seals(after, after.nr)):
            return Problem(
                ProblemKind.INSERTED,
                f"{_name(row, expected).capitalize()} został wstawiony: następny wpis wskazuje jako poprzednika "
                f"wpis nr {expected - 1}.",
                nr=expected,
                table=table,
            )
        return Problem(
            ProblemKind.CHANGED,
            f"{_name(row, expected).capitalize()} został zmieniony: jego skrót i wskazanie poprzednika nie zgadzają "
            "się z łańcuchem.",
            nr=expected,
            table=table,
        )
    if origin == expected:
        return Problem(
            ProblemKind.CHANGED,
            f"Wpis nr {expected - 1} został zmieniony, a jego skrót przeliczony: wpis nr {expected} wskazuje "
            "poprzednika, którego już nie ma w rejestrze.",
            nr=expected - 1,
        )
    if origin > expected and before is None:
        return Problem(
            ProblemKind.REMOVED,
            f"Usunięto wpis poprzedzający {_name(row, expected)}, a numery następnych zmniejszono "
            f"(ten wpis miał numer {origin}).",
            nr=expected,
            table=table,
        )
    if origin < expected and before is not None and before.nr == expected - 2:
        return Problem(
            ProblemKind.INSERTED,
            f"Wpis nr {expected - 1} został wstawiony: {_name(row, expected)} (pierwotnie nr {origin}) wskazuje "
            f"jako poprzednika wpis nr {expected - 2}.",
            nr=expected - 1,
        )
    return Problem(
        ProblemKind.REORDERED,
        f"Zmieniono kolejność wpisów: na pozycji {expected} stoi wpis z pozycji {origin} "
        f"({_TABLE_TITLES.get(row.tag, row.tag)}).",
        nr=expected,
        table=table,
    )


def _check_checkpoints(
    checkpoints: list[Checkpoint], keys: TrustedKeys | None, report: VerificationReport
) -> list[Checkpoint]:
    """Check numbering and signatures; return the checkpoints that may be trusted, ordered by `nr`."""
    trusted: list[Checkpoint] = []
    expected_number = 1
    for checkpoint in checkpoints:
        if checkpoint.number != expected_number:
            span = (
                f"nr {expected_number}"
                if checkpoint.number == expected_number + 1
                else f"nr {expected_number}–{checkpoint.number - 1}"
            )
            report.problems.append(
                Problem(
                    ProblemKind.CHECKPOINT_REMOVED,
                    f"Usunięto punkt kontrolny {span}: po punkcie nr {expected_number - 1} następuje "
                    f"nr {checkpoint.number}.",
                    checkpoint=expected_number,
                )
            )
        expected_number = checkpoint.number + 1
        if keys:
            if checkpoint.key_fingerprint not in keys:
                report.problems.append(
                    Problem(
                        ProblemKind.CHECKPOINT_UNKNOWN_KEY,
                        f"Punkt kontrolny nr {checkpoint.number} jest podpisany kluczem, któremu nie ufamy "
                        f"(odcisk {checkpoint.key_fingerprint[:16]}…).",
                        checkpoint=checkpoint.number,
                    )
                )
                continue
            if not keys.verify(checkpoint):
                report.problems.append(
                    Problem(
                        ProblemKind.CHECKPOINT_SIGNATURE,
                        f"Podpis punktu kontrolnego nr {checkpoint.number} (wpis nr {checkpoint.nr}) jest "
                        "nieprawidłowy: punkt sfałszowano lub zmieniono.",
                        checkpoint=checkpoint.number,
                    )
                )
                continue
        trusted.append(checkpoint)
    report.checkpoints = len(checkpoints)
    return sorted(trusted, key=lambda c: (c.nr, c.number))


class _Snapshot:
    """One read transaction over the whole verification, and a streaming cursor over the records."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store
        options: dict[str, Any] = {}
        if store.dialect == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        self.connection = store.reader.connect().execution_options(**options)
        self.transaction = self.connection.begin()
        dbapi = self.connection.connection.dbapi_connection
        assert dbapi is not None
        self.dbapi: Any = dbapi
        self.formats = read_formats(self.connection)

    def batches(self, up_to: int | None) -> Iterator[list[Any]]:
        sql = _select(self.store.dialect, "" if up_to is None else f"WHERE nr <= {int(up_to)}", self.formats)
        if self.store.dialect == "postgresql":
            cursor: Any = self.dbapi.cursor(name="weryfikacja_rejestru")  # server-side: rows are streamed
            cursor.itersize = _FETCH
        else:
            cursor = self.dbapi.cursor()
        try:
            cursor.execute(sql)
            while True:
                batch = cursor.fetchmany(_FETCH)
                if not batch:
                    return
                yield batch
        finally:
            cursor.close()

    def close(self) -> None:
        self.transaction.rollback()
        self.connection.close()


def verify(
    store: AuditStore,
    keys: TrustedKeys | None = None,
    *,
    up_to: int | None = None,
    progress: Callable[[int], None] | None = None,
    anchor: Head | None = None,
) -> VerificationReport:
    """Verify the chain and its checkpoints (signatures only if `keys` are given); never raises on tampering.

    `up_to` stops at that record number (used before a retention cut). `progress` is called with the
    number of records checked so far, every 100,000 records. `anchor` is a head kept outside the
    database from an earlier verification (`nr`, `link`): the chain must still contain exactly that
    record, which also protects the records after the last signed checkpoint that the anchor covers.
    """
    started = time.perf_counter()
    report = VerificationReport(signatures_checked=bool(keys))
    try:
        snapshot = _Snapshot(store)
        try:
            _verify(snapshot, keys, up_to, progress, report, anchor)
        finally:
            snapshot.close()
    except SQLAlchemyError as error:
        raise AuditStorageError(f"Nie można odczytać rejestru audytu: {getattr(error, 'orig', error)!s}") from error
    report.seconds = time.perf_counter() - started
    return report


def _verify(
    snapshot: _Snapshot,
    keys: TrustedKeys | None,
    up_to: int | None,
    progress: Callable[[int], None] | None,
    report: VerificationReport,
    anchor: Head | None = None,
) -> None:
    if snapshot.store.dialect == "postgresql":
        report.problems += _column_types(snapshot.connection)
        if report.problems:
            return
    trusted = _check_checkpoints(read_checkpoints(snapshot.connection), keys, report)
    if anchor is not None and anchor.nr > 0:
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        trusted = sorted(
            [*trusted, Checkpoint(0, anchor.nr, anchor.link, epoch, ANCHOR, "", "", "")], key=lambda c: c.nr
        )
    stream = itertools.chain.from_iterable(snapshot.batches(up_to))
    head = next(stream, None)
    first = None if head is None else _row(head)
    cuts = [c for c in trusted if c.reason == CUT_REASON]
    if first is None:
        previous_nr, previous = 0, chain.GENESIS
        if cuts:
            previous_nr, previous = cuts[-1].nr, cuts[-1].link
        report.last_nr = previous_nr
        _tail(trusted, previous_nr, up_to, report)
        return
    report.first_nr = first.nr
    start_cut = next((c for c in reversed(cuts) if c.nr == first.nr - 1), None)
    if first.nr == 1:
        previous = chain.GENESIS
    elif start_cut is not None:
        previous = start_cut.link
    elif any(c.nr >= first.nr for c in cuts):
        # A purge stopped half-way: the rest below the cut is confirmed when the cut checkpoint is reached.
        previous = first.previous
    else:
        below = max((c.nr for c in cuts if c.nr < first.nr), default=0)
        span = f"nr {below + 1}" if below + 1 == first.nr - 1 else f"nr {below + 1}–{first.nr - 1}"
        report.problems.insert(
            0,
            Problem(
                ProblemKind.REMOVED,
                f"Usunięto wpisy {span} z początku rejestru bez podpisanego cięcia retencji.",
                nr=below + 1,
            ),
        )
        return
    pending = iter([c for c in trusted if c.nr >= first.nr])
    checkpoint = next(pending, None)
    checkpoint_nr = checkpoint.nr if checkpoint is not None else -1
    confirmed_nr = first.nr - 1
    expected = first.nr
    count = 0
    sha256 = hashlib.sha256
    problem: Problem | None = None
    next_progress = 100_000
    for values in itertools.chain((head,), stream):
        nr, prev, link, _tag, message = values
        if nr != expected or prev != previous or message is None or sha256(message).hexdigest() != link:
            after = next(stream, None)
            problem = _diagnose(snapshot, expected, previous, _row(values), None if after is None else _row(after))
            break
        previous = link
        expected = nr + 1
        count += 1
        while nr == checkpoint_nr:
            assert checkpoint is not None
            if checkpoint.link != link and checkpoint.reason == ANCHOR:
                problem = Problem(
                    ProblemKind.CHECKPOINT_MISMATCH,
                    f"Wpisy nr {confirmed_nr + 1}–{nr} nie zgadzają się z kotwicą z wcześniejszej weryfikacji "
                    f"(wpis nr {nr} miał wtedy inny skrót): co najmniej jeden z nich zmieniono, usunięto lub "
                    "wstawiono, a skróty przeliczono.",
                    nr=confirmed_nr + 1,
                )
                break
            if checkpoint.link != link:
                problem = Problem(
                    ProblemKind.CHECKPOINT_MISMATCH,
                    f"Wpisy nr {confirmed_nr + 1}–{nr} nie zgadzają się z podpisanym punktem kontrolnym "
                    f"nr {checkpoint.number}: co najmniej jeden z nich zmieniono, usunięto lub wstawiono, "
                    "a skróty następnych przeliczono.",
                    nr=confirmed_nr + 1,
                    checkpoint=checkpoint.number,
                )
                break
            if checkpoint.reason != ANCHOR:
                report.last_signed_nr = nr
            confirmed_nr = nr
            checkpoint = next(pending, None)
            checkpoint_nr = checkpoint.nr if checkpoint is not None else -1
        if problem is not None:
            break
        if progress is not None and count >= next_progress:
            progress(count)
            next_progress += 100_000
    report.records = count
    report.last_nr = expected - 1
    report.head_link = previous
    if problem is not None:
        report.problems.insert(0, problem)
        return
    if checkpoint is not None:
        _tail([checkpoint, *pending], expected - 1, up_to, report)


_EXPECTED_TYPES = {
    **{(DISCLOSURES, f): ("character varying", "text") for f in DISCLOSURE_FIELDS},
    **{(EVENTS, f): ("character varying", "text") for f in EVENT_FIELDS if f not in EVENT_BOOLEAN_FIELDS},
    **{(EVENTS, f): ("boolean",) for f in EVENT_BOOLEAN_FIELDS},
    **{
        (t, f): ("character varying", "text")
        for t in (DISCLOSURES, EVENTS)
        for f in ("skrot_poprzedniego", "skrot_wpisu")
    },
    **{(t, "nr"): ("integer", "bigint") for t in (DISCLOSURES, EVENTS)},
}


def _column_types(connection: Connection) -> list[Problem]:
    """PostgreSQL: every chained column still has the type the writer wrote (readers read by it)."""
    rows = connection.exec_driver_sql(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "  # noqa: S608 - constant names
        f"WHERE table_schema = current_schema() AND table_name IN ('{DISCLOSURES}', '{EVENTS}')"
    )
    found = {(str(t), str(c)): str(d) for t, c, d in rows}
    problems = []
    for (table, column), allowed in _EXPECTED_TYPES.items():
        actual = found.get((table, column))
        if actual not in allowed:
            problems.append(
                Problem(
                    ProblemKind.COLUMN_TYPE,
                    f"Kolumna {column} tabeli {table} ma typ {actual or 'brak kolumny'} zamiast "
                    f"{' albo '.join(allowed)}: zmieniono schemat rejestru, a czytający odczytują inne wartości.",
                    table=table,
                )
            )
    return problems


def _tail(checkpoints: list[Checkpoint], last_nr: int, up_to: int | None, report: VerificationReport) -> None:
    """Checkpoints beyond the last record: the tail they covered was removed."""
    beyond = [c for c in checkpoints if c.nr > last_nr and (up_to is None or c.nr <= up_to)]
    if not beyond:
        return
    top = max(beyond, key=lambda c: c.nr)
    span = f"wpis nr {last_nr + 1}" if top.nr == last_nr + 1 else f"wpisy nr {last_nr + 1}–{top.nr}"
    if top.reason == ANCHOR:
        report.problems.insert(
            0,
            Problem(
                ProblemKind.REMOVED,
                f"Usunięto {span} z końca rejestru: rejestr kończy się na wpisie nr {last_nr}, a kotwica z "
                f"wcześniejszej weryfikacji wskazuje wpis nr {top.nr}.",
                nr=last_nr + 1,
            ),
        )
        return
    report.problems.insert(
        0,
        Problem(
            ProblemKind.REMOVED,
            f"Usunięto {span} z końca rejestru: rejestr kończy się na wpisie nr {last_nr}, a podpisany punkt "
            f"kontrolny nr {top.number} obejmuje wpisy do nr {top.nr}.",
            nr=last_nr + 1,
            checkpoint=top.number,
        ),
    )
