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
  checkpoint or an anchor can tell: NIEZGODNY_Z_PUNKTEM_KONTROLNYM names the range it covers;
- a gap in the numbers, or the tail missing below a signed checkpoint or an anchor: USUNIETY (removed);
- a record that does not belong (its successor points past it, or a number repeats): WSTAWIONY (inserted);
- a record sealed for another position: PRZESTAWIONY (reordered);
- a checkpoint whose signature does not verify, names an unknown key, or is missing from the numbering:
  NIEPRAWIDLOWY_PODPIS, NIEZNANY_KLUCZ, USUNIETY_PUNKT_KONTROLNY;
- a checkpoint named in the anchor file (`audit.anchors`, kept outside the database) that is gone or is
  not the one anchored: USUNIETY_PUNKT_KONTROLNY, PODMIENIONY_PUNKT_KONTROLNY.

Records after the last signed checkpoint and the last anchor are protected by the chain alone: deleting
the newest of them, or appending forged ones, cannot be seen (see docs/audit.md). An operator who has
investigated a finding may accept the register's state (`AuditStore.accept`): findings before that
point are then reported as accepted (`VerificationReport.accepted`), and the chain after it must be intact.

`check_before_signing` is the check the store makes, in its own write transaction, before it signs a
checkpoint: from the last trusted anchor to the head.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from audit import chain, reading
from audit.anchors import Anchor, AnchorFile, anchors_lost
from audit.chain import Head
from audit.checkpoints import Checkpoint, TrustedKeys
from audit.errors import AuditStorageError
from audit.recompute import message_sql
from audit.schema import (
    ACCEPTANCE_REASON,
    CHAINED_TABLES,
    CHECKPOINTS,
    CUT_REASON,
    DISCLOSURE_FIELDS,
    DISCLOSURE_NULLABLE_FIELDS,
    DISCLOSURES,
    EVENT_BOOLEAN_FIELDS,
    EVENT_FIELDS,
    EVENTS,
    FORMATS,
)

TABLE_NAMES = {chain.DISCLOSURE_TAG: DISCLOSURES, chain.EVENT_TAG: EVENTS}
_TABLE_TITLES = {chain.DISCLOSURE_TAG: "rejestr ujawnień", chain.EVENT_TAG: "dziennik zdarzeń bezpieczeństwa"}
_FETCH = 2_000
ANCHOR = "KOTWICA"
"""Reason of the pseudo-checkpoint made from an anchor (a head kept outside the database)."""
_EPOCH = chain.parse_time("1970-01-01T00:00:00Z")


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
    CHECKPOINT_REPLACED = "PODMIENIONY_PUNKT_KONTROLNY"
    COLUMN_TYPE = "ZMIENIONY_TYP_KOLUMNY"
    STRUCTURE = "ZMIENIONA_STRUKTURA_REJESTRU"
    ANCHORS_MISSING = "BRAK_KOTWIC"


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
    """The outcome of one verification. `ok` if no problem was found after the last accepted state.

    `accepted` holds findings up to a state an operator accepted after investigating them
    (`AuditStore.accept`); `acceptance` is that state's checkpoint. `anchors` is how many anchors (heads
    kept outside the database) were checked.
    """

    records: int = 0
    checkpoints: int = 0
    signatures_checked: bool = False
    first_nr: int | None = None
    last_nr: int | None = None
    head_link: str = chain.GENESIS
    last_signed_nr: int | None = None
    problems: list[Problem] = field(default_factory=list)
    accepted: list[Problem] = field(default_factory=list)
    acceptance: Checkpoint | None = None
    anchors: int = 0
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


@functools.lru_cache(maxsize=32)
def _select(dialect: str, where: str = "", formats: tuple[tuple[int, int], ...] = ((1, chain.CURRENT_FORMAT),)) -> str:
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


class Source:
    """What a verification reads: one DBAPI connection inside one transaction, so that every read sees the
    same state (the verifier's read snapshot, or the store's own write transaction before it signs)."""

    def __init__(self, dbapi: Any, dialect: str) -> None:
        self.dbapi, self.dialect = dbapi, dialect
        self.formats = reading.formats(dbapi, dialect)
        self._statements = itertools.count()

    def checkpoints(self, *, from_number: int = 1) -> list[Checkpoint]:
        return reading.checkpoints(self.dbapi, from_number=from_number)

    def batches(self, *, start: int | None = None, up_to: int | None = None) -> Iterator[list[Any]]:
        """The records numbered `start` to `up_to` (either may be open), streamed in batches."""
        bounds = [(">=", int(start))] if start is not None else []
        bounds += [("<=", int(up_to))] if up_to is not None else []
        parameters: tuple[int, ...] = ()
        if self.dialect == "sqlite":
            # Placeholders: the store's walk before each checkpoint prepares the same statement (from its cache).
            where = " AND ".join(f"nr {comparison} ?" for comparison, _ in bounds)
            parameters = tuple(value for _, value in bounds) * 2  # both tables
        else:
            where = " AND ".join(f"nr {comparison} {value}" for comparison, value in bounds)
        sql = _select(self.dialect, f"WHERE {where}" if bounds else "", tuple(self.formats))
        if self.dialect == "postgresql":  # server-side: rows are streamed
            cursor: Any = self.dbapi.cursor(name=f"weryfikacja_rejestru_{next(self._statements)}")
            cursor.itersize = _FETCH
        else:
            cursor = self.dbapi.cursor()
        try:
            cursor.execute(sql, parameters) if parameters else cursor.execute(sql)
            while True:
                batch = cursor.fetchmany(_FETCH)
                if not batch:
                    return
                yield batch
        finally:
            cursor.close()

    def with_link(self, link: str) -> list[Row]:
        """The records whose stored link is `link` (to tell a changed record from a moved one)."""
        sql = _select(self.dialect, "WHERE skrot_wpisu = :wartosc", tuple(self.formats))
        if self.dialect == "sqlite":
            sql = sql.replace(":wartosc", "?")
        else:  # psycopg reads every '%' as a placeholder when parameters are given
            sql = sql.replace("%", "%%").replace(":wartosc", "%s")
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(sql, (link, link))
            return [_row(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def column_problems(self) -> list[Problem]:
        """PostgreSQL: every chained column still has the type the writer wrote (readers read by it), and no
        row-level security or rule decides which rows a reader (a report) sees or which appends are kept."""
        if self.dialect != "postgresql":
            return []
        return self._column_types() + self._row_filters()

    def _row_filters(self) -> list[Problem]:
        """Row-level security on a register table, or a rule on it: the tables' owner can hide rows from the
        reports' queries (a policy may look at `current_query()`) while the verifier still reads them all."""
        tables = (*CHAINED_TABLES, CHECKPOINTS, FORMATS)
        marks = ", ".join(["%s"] * len(tables))
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(
                "SELECT c.relname, 'zabezpieczenia na poziomie wierszy (ROW LEVEL SECURITY)' FROM pg_class c "  # noqa: S608
                "WHERE c.relnamespace = current_schema()::regnamespace AND (c.relrowsecurity OR c.relforcerowsecurity) "
                f"AND c.relname IN ({marks}) "
                "UNION ALL SELECT tablename, 'regułę ' || rulename FROM pg_rules "
                f"WHERE schemaname = current_schema() AND tablename IN ({marks})",
                (*tables, *tables),
            )
            found = [(str(table), str(what)) for table, what in cursor.fetchall()]
        finally:
            cursor.close()
        return [
            Problem(
                ProblemKind.STRUCTURE,
                f"Tabela {table} ma {what}: może ona ukrywać wpisy przed raportami albo pomijać dopisywane, choć "
                "weryfikacja widzi wszystkie. Rejestr nie dodaje takich mechanizmów; zbadaj, kto je dodał, i usuń je.",
                table=table,
            )
            for table, what in sorted(found)
        ]

    def integrity_problems(self) -> list[Problem]:
        """SQLite: every index of the register's tables holds exactly their rows (`PRAGMA integrity_check`).

        Whoever can write the file can rebuild an index without a record and restore its definition's text
        (`writable_schema`): no row changes, so the chain verifies, while the reports that read through the
        index (a person's, a user's) leave the record out."""
        if self.dialect != "sqlite":
            return []
        problems = []
        cursor = self.dbapi.cursor()
        try:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            present = {name for (name,) in cursor.fetchall()}
            for table in (t for t in (*CHAINED_TABLES, CHECKPOINTS, FORMATS) if t in present):
                cursor.execute(f"PRAGMA integrity_check({table})")
                found = [str(line) for (line,) in cursor.fetchmany(3)]
                if found and found != ["ok"]:
                    problems.append(
                        Problem(
                            ProblemKind.STRUCTURE,
                            f"Tabela {table} lub jej indeks nie zgadza się z zapisanymi wierszami "
                            f"({'; '.join(found)[:300]}): plik bazy zmieniono z pominięciem SQLite, a raporty "
                            "czytające przez indeks mogą pomijać wpisy. Zbadaj sprawę; indeksy odbuduje REINDEX.",
                            table=table,
                        )
                    )
        finally:
            cursor.close()
        return problems

    def _column_types(self) -> list[Problem]:
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name IN (%s, %s)",
                (DISCLOSURES, EVENTS),
            )
            found = {(str(t), str(c)): str(d) for t, c, d in cursor.fetchall()}
        finally:
            cursor.close()
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


def _name(row: Row | None, nr: int) -> str:
    if row is None:
        return f"wpis nr {nr}"
    return f"wpis nr {nr} ({_TABLE_TITLES.get(row.tag, row.tag)})"


def _diagnose(source: Source, expected: int, previous: str, row: Row, after: Row | None) -> Problem:
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
    before = next((r for r in source.with_link(row.previous) if r != row), None)
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
    checkpoints: Sequence[Checkpoint], keys: TrustedKeys | None, problems: list[Problem], *, first_number: int = 1
) -> list[Checkpoint]:
    """Check numbering (from `first_number`) and signatures; return the checkpoints that may be trusted."""
    trusted: list[Checkpoint] = []
    expected_number = first_number
    for checkpoint in checkpoints:
        if checkpoint.number != expected_number:
            span = (
                f"nr {expected_number}"
                if checkpoint.number == expected_number + 1
                else f"nr {expected_number}–{checkpoint.number - 1}"
            )
            problems.append(
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
                problems.append(
                    Problem(
                        ProblemKind.CHECKPOINT_UNKNOWN_KEY,
                        f"Punkt kontrolny nr {checkpoint.number} jest podpisany kluczem, któremu nie ufamy "
                        f"(odcisk {checkpoint.key_fingerprint[:16]}…).",
                        checkpoint=checkpoint.number,
                    )
                )
                continue
            if not keys.verify(checkpoint):
                problems.append(
                    Problem(
                        ProblemKind.CHECKPOINT_SIGNATURE,
                        f"Podpis punktu kontrolnego nr {checkpoint.number} (wpis nr {checkpoint.nr}) jest "
                        "nieprawidłowy: punkt sfałszowano lub zmieniono.",
                        checkpoint=checkpoint.number,
                    )
                )
                continue
        trusted.append(checkpoint)
    return trusted


def _pseudo(anchor: Anchor) -> Checkpoint:
    """An anchor as a checkpoint the chain must match (its signature was checked when it was written); the
    anchor of a retention cut still marks where records may be missing."""
    reason = CUT_REASON if anchor.reason == CUT_REASON else ANCHOR
    return Checkpoint(anchor.number, anchor.nr, anchor.link, anchor.time, reason, "", "", "")


def _no_anchors(anchors: AnchorFile, checkpoints: int) -> Problem:
    """The anchor file holds no anchor (missing, emptied, or cut to its header line) while the register has signed
    checkpoints, each of which was anchored when it was signed: the hub refuses to start so, and so does this.
    Cut so, the file hid a checkpoint deleted with the records it covered."""
    return Problem(
        ProblemKind.ANCHORS_MISSING,
        f"Plik kotwic {anchors.path} nie ma żadnej kotwicy, a rejestr ma {checkpoints} podpisanych punktów "
        "kontrolnych (każdy zakotwiczono przy podpisaniu): plik usunięto, opróżniono albo obcięto, więc usunięcia "
        "punktów kontrolnych i wpisów nie da się wykluczyć. Porównaj z kopią pliku kotwic spoza serwera; po "
        "wyjaśnieniu: platforma audit accept --reason …",
    )


def _check_anchors(anchors: Sequence[Anchor], checkpoints: Sequence[Checkpoint]) -> list[Problem]:
    """Every anchored checkpoint must still be in the database, exactly as it was signed."""
    by_number = {c.number: c for c in checkpoints}
    problems = []
    for anchor in anchors:
        found = by_number.get(anchor.number)
        if found is None:
            problems.append(
                Problem(
                    ProblemKind.CHECKPOINT_REMOVED,
                    f"Usunięto punkt kontrolny nr {anchor.number} (nad wpisem nr {anchor.nr}), który plik kotwic "
                    "poza bazą zapisał przy jego podpisaniu.",
                    checkpoint=anchor.number,
                )
            )
        elif not anchor.matches(found):
            problems.append(
                Problem(
                    ProblemKind.CHECKPOINT_REPLACED,
                    f"Punkt kontrolny nr {anchor.number} nie jest tym, który zapisano w pliku kotwic (wtedy: nad "
                    f"wpisem nr {anchor.nr}, teraz: nad wpisem nr {found.nr}, podpis inny): podmieniono go.",
                    checkpoint=anchor.number,
                )
            )
    return problems


@dataclass
class _Walked:
    """What one pass over the chain found (see `_walk`)."""

    records: int = 0
    first_nr: int | None = None
    last_nr: int = 0
    head_link: str = chain.GENESIS
    last_signed_nr: int | None = None
    problem: Problem | None = None


def _walk(
    source: Source,
    trusted: Sequence[Checkpoint],
    *,
    start: Checkpoint | None = None,
    up_to: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> _Walked:
    """One pass over the records in number order against the trusted checkpoints and anchors.

    From the beginning of the chain (genesis or the last retention cut), or from `start`: a trusted
    checkpoint or anchor whose record is taken with its stored predecessor, then must have its link.
    Stops at the first problem.
    """
    walked = _Walked()
    trusted = sorted(trusted, key=lambda c: (c.nr, c.number))
    stream = itertools.chain.from_iterable(source.batches(start=None if start is None else start.nr, up_to=up_to))
    head = next(stream, None)
    first = None if head is None else _row(head)
    cuts = [c for c in trusted if c.reason == CUT_REASON]
    if first is None:
        walked.last_nr, walked.head_link = (cuts[-1].nr, cuts[-1].link) if cuts else (0, chain.GENESIS)
        if start is not None and start.nr > walked.last_nr:
            walked.last_nr = start.nr - 1
        walked.problem = _tail(trusted, walked.last_nr, up_to)
        return walked
    walked.first_nr = first.nr
    start_cut = next((c for c in reversed(cuts) if c.nr == first.nr - 1), None)
    if first.nr == 1:
        previous = chain.GENESIS
    elif start_cut is not None:
        previous = start_cut.link
        walked.last_signed_nr = start_cut.nr  # the purge's signed cut covers everything up to it
    elif any(c.nr >= first.nr for c in cuts) or (start is not None and first.nr == start.nr):
        # A purge stopped half-way (the rest below the cut is confirmed when the cut checkpoint is reached),
        # or a walk from a trusted point: that record's link is confirmed by the point itself.
        previous = first.previous
    else:
        below = max((c.nr for c in cuts if c.nr < first.nr), default=0)
        if start is not None:
            below = max(below, start.nr - 1)
        span = f"nr {below + 1}" if below + 1 == first.nr - 1 else f"nr {below + 1}–{first.nr - 1}"
        where = "z początku rejestru" if start is None else f"od wpisu nr {start.nr}, który potwierdzała kotwica,"
        walked.problem = Problem(
            ProblemKind.REMOVED, f"Usunięto wpisy {span} {where} bez podpisanego cięcia retencji.", nr=below + 1
        )
        return walked
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
            problem = _diagnose(source, expected, previous, _row(values), None if after is None else _row(after))
            break
        previous = link
        expected = nr + 1
        count += 1
        matched = False
        while nr == checkpoint_nr:  # every checkpoint and anchor over this record must hold its link
            assert checkpoint is not None
            if checkpoint.link != link:
                problem = _mismatch(checkpoint, confirmed_nr, nr)
                break
            if checkpoint.reason != ANCHOR:
                walked.last_signed_nr = nr
            matched = True
            checkpoint = next(pending, None)
            checkpoint_nr = checkpoint.nr if checkpoint is not None else -1
        if problem is not None:
            break
        if matched:
            confirmed_nr = nr
        if progress is not None and count >= next_progress:
            progress(count)
            next_progress += 100_000
    walked.records, walked.last_nr, walked.head_link = count, expected - 1, previous
    if problem is None and checkpoint is not None:
        problem = _tail([checkpoint, *pending], expected - 1, up_to)
    walked.problem = problem
    return walked


def _mismatch(checkpoint: Checkpoint, confirmed_nr: int, nr: int) -> Problem:
    """The records since the last confirmed point do not end in the link a checkpoint or anchor holds."""
    many = confirmed_nr + 1 < nr
    span = f"Wpisy nr {confirmed_nr + 1}–{nr} nie zgadzają się" if many else f"Wpis nr {nr} nie zgadza się"
    which = "co najmniej jeden z nich" if many else "go"
    if checkpoint.reason == ANCHOR:
        held = (
            f"z kotwicą punktu kontrolnego nr {checkpoint.number} zapisaną poza bazą"
            if checkpoint.number
            else "z kotwicą z wcześniejszej weryfikacji"
        )
        return Problem(
            ProblemKind.CHECKPOINT_MISMATCH,
            f"{span} {held} (wpis nr {nr} miał wtedy inny skrót): {which} zmieniono, usunięto lub wstawiono, a "
            "skróty przeliczono.",
            nr=confirmed_nr + 1,
            checkpoint=checkpoint.number or None,
        )
    return Problem(
        ProblemKind.CHECKPOINT_MISMATCH,
        f"{span} z podpisanym punktem kontrolnym nr {checkpoint.number}: {which} zmieniono, usunięto lub "
        "wstawiono, a skróty następnych przeliczono.",
        nr=confirmed_nr + 1,
        checkpoint=checkpoint.number,
    )


def _tail(checkpoints: Sequence[Checkpoint], last_nr: int, up_to: int | None) -> Problem | None:
    """Checkpoints or anchors beyond the last record: the tail they covered was removed."""
    beyond = [c for c in checkpoints if c.nr > last_nr and (up_to is None or c.nr <= up_to)]
    if not beyond:
        return None
    top = max(beyond, key=lambda c: c.nr)
    span = f"wpis nr {last_nr + 1}" if top.nr == last_nr + 1 else f"wpisy nr {last_nr + 1}–{top.nr}"
    if top.reason == ANCHOR:
        held = (
            f"kotwica punktu kontrolnego nr {top.number} zapisana poza bazą"
            if top.number
            else "kotwica z wcześniejszej weryfikacji"
        )
        return Problem(
            ProblemKind.REMOVED,
            f"Usunięto {span} z końca rejestru: rejestr kończy się na wpisie nr {last_nr}, a {held} wskazuje "
            f"wpis nr {top.nr}.",
            nr=last_nr + 1,
        )
    return Problem(
        ProblemKind.REMOVED,
        f"Usunięto {span} z końca rejestru: rejestr kończy się na wpisie nr {last_nr}, a podpisany punkt "
        f"kontrolny nr {top.number} obejmuje wpisy do nr {top.nr}.",
        nr=last_nr + 1,
        checkpoint=top.number,
    )


# -- the verifications --------------------------------------------------------------------------------------------
class Readable(Protocol):
    """What `verify` needs of a store (`audit.store.AuditStore`): its read engine and SQL dialect."""

    @property
    def reader(self) -> Engine: ...

    @property
    def dialect(self) -> str: ...


class _IntegrityCheck:
    """SQLite's integrity check of the register's tables and indexes (`Source.integrity_problems`), run on a
    connection of its own in a thread beside the walk: it takes about as long as the walk (2.9 s for 1,000,000
    records), and SQLite works without Python's lock, so on two CPUs the verification takes hardly longer."""

    def __init__(self, store: Readable) -> None:
        self._found: list[Problem] | BaseException = []
        self._thread: threading.Thread | None = None
        if store.dialect == "sqlite" and not isinstance(store.reader.pool, StaticPool):
            self._thread = threading.Thread(target=self._run, args=(store,), name="integrity-check", daemon=True)
            self._thread.start()

    def _run(self, store: Readable) -> None:
        try:
            with store.reader.connect() as connection, connection.begin():
                dbapi = connection.connection.dbapi_connection
                assert dbapi is not None
                self._found = Source(dbapi, store.dialect).integrity_problems()
        except BaseException as error:  # raised again in the verifying thread
            self._found = error

    def problems(self, source: Source) -> list[Problem]:
        """What the check found: from the thread, or (an in-memory register, one connection) on `source`."""
        if self._thread is None:
            return source.integrity_problems()
        self._thread.join()
        if isinstance(self._found, BaseException):
            raise self._found
        return self._found


class _Snapshot:
    """One read transaction over the whole verification."""

    def __init__(self, store: Readable) -> None:
        options: dict[str, Any] = {}
        if store.dialect == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        self.connection = store.reader.connect().execution_options(**options)
        self.transaction = self.connection.begin()
        dbapi = self.connection.connection.dbapi_connection
        assert dbapi is not None
        self.source = Source(dbapi, store.dialect)

    def close(self) -> None:
        self.transaction.rollback()
        self.connection.close()


def verify(
    store: Readable,
    keys: TrustedKeys | None = None,
    *,
    up_to: int | None = None,
    progress: Callable[[int], None] | None = None,
    anchor: Head | None = None,
    anchors: AnchorFile | Sequence[Anchor] | None = None,
) -> VerificationReport:
    """Verify the chain and its checkpoints (signatures only if `keys` are given); never raises on tampering.

    `anchors` is the anchor file (or its anchors): every anchored checkpoint must be in the database as
    signed, and every anchored record must have the anchored link. `anchor` is one head (`nr`, `link`)
    kept from an earlier verification. `up_to` stops at that record number (used before a retention
    cut). `progress` is called with the number of records checked so far, every 100,000 records.
    """
    started = time.perf_counter()
    report = VerificationReport(signatures_checked=bool(keys))
    held = anchors.read() if isinstance(anchors, AnchorFile) else list(anchors or ())
    try:
        integrity = _IntegrityCheck(store)
        snapshot = _Snapshot(store)
        try:
            _verify(snapshot.source, keys, held, anchor, up_to, progress, report)
            if isinstance(anchors, AnchorFile) and not held:
                signed = snapshot.source.checkpoints()
                if anchors_lost(anchors, held, signed):
                    report.problems.append(_no_anchors(anchors, len(signed)))
            report.problems[:0] = integrity.problems(snapshot.source)
        finally:
            snapshot.close()
    except SQLAlchemyError as error:
        raise AuditStorageError(f"Nie można odczytać rejestru audytu: {getattr(error, 'orig', error)!s}") from error
    report.seconds = time.perf_counter() - started
    return report


def _verify(
    source: Source,
    keys: TrustedKeys | None,
    anchors: Sequence[Anchor],
    anchor: Head | None,
    up_to: int | None,
    progress: Callable[[int], None] | None,
    report: VerificationReport,
) -> None:
    report.problems += source.column_problems()
    if report.problems:
        return
    checkpoints = source.checkpoints()
    report.checkpoints, report.anchors = len(checkpoints), len(anchors)
    problems: list[Problem] = []
    trusted = _check_checkpoints(checkpoints, keys, problems)
    problems += _check_anchors(anchors, checkpoints)
    trusted += [_pseudo(a) for a in anchors]
    if anchor is not None and anchor.nr > 0:
        trusted.append(Checkpoint(0, anchor.nr, anchor.link, _EPOCH, ANCHOR, "", "", ""))
    acceptance = _acceptance(anchors, trusted)
    walks: list[_Walked] = []
    if acceptance is None or (up_to is not None and up_to < acceptance.nr):
        walks.append(_walk(source, trusted, up_to=up_to, progress=progress))
    else:
        before = _walk(source, trusted, up_to=acceptance.nr, progress=progress)
        after = _walk(source, trusted, start=acceptance, up_to=up_to, progress=progress)
        if before.problem is None and before.last_nr == acceptance.nr:
            before.records -= 1  # the accepted state's record is walked again from there
        walks += [before, after]
    _merge(report, walks, problems, acceptance)


def _acceptance(anchors: Sequence[Anchor], trusted: Sequence[Checkpoint]) -> Checkpoint | None:
    """The last state an operator accepted: from the anchor file, else from the signed checkpoints."""
    accepted = [_pseudo(a) for a in anchors if a.reason == ACCEPTANCE_REASON]
    if not anchors:
        accepted = [c for c in trusted if c.reason == ACCEPTANCE_REASON]
    return max(accepted, key=lambda c: c.number, default=None)


def _merge(
    report: VerificationReport, walks: Sequence[_Walked], problems: Sequence[Problem], acceptance: Checkpoint | None
) -> None:
    """Put the passes and the checkpoint findings into the report; findings before an acceptance are accepted."""
    last = walks[-1]
    report.records = sum(w.records for w in walks)
    report.first_nr = walks[0].first_nr if walks[0].first_nr is not None else last.first_nr
    report.last_nr, report.head_link = last.last_nr, last.head_link
    report.last_signed_nr = max((w.last_signed_nr for w in walks if w.last_signed_nr is not None), default=None)
    report.acceptance = acceptance
    chain_problems = [w.problem for w in walks if w.problem is not None]
    if acceptance is not None and len(walks) == 2 and walks[0].problem is not None:
        report.accepted.append(walks[0].problem)
        chain_problems = chain_problems[1:]
    report.problems = chain_problems + report.problems
    for problem in problems:
        before = acceptance is not None and problem.checkpoint is not None and problem.checkpoint < acceptance.number
        (report.accepted if before else report.problems).append(problem)


def check_before_signing(
    source: Source, keys: TrustedKeys | None, anchors: Sequence[Anchor] | None, *, known_good: Head | None = None
) -> VerificationReport:
    """The chain from the last trusted point to its head, as the store checks it before signing a checkpoint.

    The last trusted point is the anchor over the highest record (of the newest anchors, since the last
    accepted state) when `anchors` are kept, else the last checkpoint whose signature verifies. That
    anchored checkpoint, and those anchored after it, must still be in the database as signed; the
    checkpoints after the point must be validly signed, numbered without gaps, and match the chain.
    Older anchors are `verify`'s business: signing over an intact chain from the last one is safe.
    `known_good` is a later head the caller knows to be good (its own records, in the same database
    session, none written by others since): the walk then starts there.
    """
    report = VerificationReport(signatures_checked=bool(keys))
    report.problems += source.column_problems()
    if report.problems:
        return report
    problems: list[Problem] = []
    start: Checkpoint | None = None
    trusted: list[Checkpoint] = []
    if anchors:
        accepted = max((i for i, a in enumerate(anchors) if a.reason == ACCEPTANCE_REASON), default=0)
        last = max(anchors[accepted:], key=lambda a: (a.nr, a.number))
        relevant = [a for a in anchors[accepted:] if a.number >= last.number or a.nr >= last.nr]
        checkpoints = source.checkpoints(from_number=min(a.number for a in relevant))
        report.anchors = len(relevant)
        problems += _check_anchors(relevant, checkpoints)
        start = _pseudo(last)
        trusted += [_pseudo(a) for a in relevant if a.nr >= start.nr]
    else:
        checkpoints = source.checkpoints()
        start = next((c for c in reversed(checkpoints) if keys is None or keys.verify(c)), None)
    report.checkpoints = len(checkpoints)
    first_number = 1 if start is None else start.number + 1
    later = [c for c in checkpoints if c.number >= first_number]
    trusted += _check_checkpoints(later, keys, problems, first_number=first_number)
    if known_good is not None and known_good.nr > 0 and (start is None or known_good.nr > start.nr):
        start = Checkpoint(0, known_good.nr, known_good.link, _EPOCH, ANCHOR, "", "", "")
        trusted = [c for c in trusted if c.nr >= start.nr]
    if start is not None and start.nr == 0:
        start = None
    if start is not None:
        trusted.append(start)
    walked = _walk(source, trusted, start=start)
    _merge(report, [walked], problems, None)
    return report
