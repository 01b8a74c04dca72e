"""A relational domain system read through SQLAlchemy: SQLite, PostgreSQL or Oracle by URL.

`SqlAdapter` does the reading every adapter shares; a concrete adapter declares its reference schema
(`TableSpec`s with logical names, renamed by the mapping file), the queries of its child tables and how
one person's rows become common-model sections (`build`).

Memory stays flat: people are read in key order, one batch at a time (keyset pagination: `key > last
ORDER BY key LIMIT n`), and each child table is read for that batch only, ordered by person; no
connection is held while the batch is being sent. Incremental runs find changed people as the union of
the keys whose rows were modified in the window, plus the deletion journal (filled by triggers).

The rows of people and histories are many (about 26 a person in PUP), so they are read through the
driver's own cursor from statements compiled once per run: plain tuples, values as the driver gives
them (text dates on SQLite, `date` elsewhere; the formatting helpers take both). SQLAlchemy's result
rows cost more than the database does for these reads.
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib
import itertools
import keyword
import re
import sqlite3
from collections import defaultdict, namedtuple
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from sqlalchemy import (
    TIMESTAMP,
    Column,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.engine import Connection, Dialect, Engine, Row, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Select
from sqlalchemy.types import TypeDecorator, TypeEngine

from adapters.base import Adapter, Item, ModelRecord, RowProblem, SourceRejection, SourceUnavailable
from adapters.mapping import Mapping, load_mapping
from replica.sqlite import read_only_engine, sqlite_file


class SourceDate(TypeDecorator[Any]):
    """A date column read leniently: an impossible stored date comes back as its raw text, not an error.

    SQLite keeps dates as text, so a domain system can hold '2023-02-30'; the adapter then rejects only
    that person, naming the field. Databases with a real DATE type cannot hold such values.
    """

    impl = Date
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(10))
        return dialect.type_descriptor(Date())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "sqlite" and isinstance(value, dt.date):
            return value.isoformat()
        return value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # SQLite: the stored text as it is (xmlout.date checks it; an impossible date names the field);
        # elsewhere the driver's own date (or datetime, for Oracle's DATE).
        if dialect.name == "sqlite":
            return None
        return super().result_processor(dialect, coltype)


@dataclass(frozen=True)
class Col:
    """A logical column of a reference table."""

    name: str
    type: Any
    primary_key: bool = False
    nullable: bool = True
    index: bool = False
    references: tuple[str, str] | None = None  # (logical table, logical column)
    identity: bool = False  # numbered by the database (GENERATED AS IDENTITY; SQLite: rowid)


@dataclass(frozen=True)
class TableSpec:
    """A logical table of a reference schema, with a Polish comment for the DBA, and its indexes of more
    than one column (logical column names; a history read by person in date order has one)."""

    name: str
    comment: str
    columns: tuple[Col, ...]
    indexes: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class ChildQuery:
    """Rows of a person's history: which columns, from where, whose person, and what marks a change."""

    name: str
    columns: Sequence[ColumnElement[Any]]
    person: ColumnElement[Any]
    from_: FromClause
    modified: Sequence[ColumnElement[Any]]
    order_by: Sequence[ColumnElement[Any]] = field(default_factory=tuple)


def build_tables(metadata: MetaData, mapping: Mapping, specs: Sequence[TableSpec]) -> dict[str, Table]:
    """SQLAlchemy tables with physical names from the mapping and logical column keys (`t.c.<logical>`)."""
    tables: dict[str, Table] = {}
    for spec in specs:
        columns = []
        for col in spec.columns:
            args: list[Any] = []
            if col.identity:
                args.append(Identity())
            if col.references is not None:
                parent_table, parent_column = col.references
                args.append(ForeignKey(tables[parent_table].c[parent_column]))
            columns.append(
                Column(
                    mapping.column(spec.name, col.name),
                    col.type,
                    *args,
                    key=col.name,
                    primary_key=col.primary_key,
                    nullable=col.nullable and not col.primary_key,
                    index=col.index,
                    autoincrement=col.identity,
                )
            )
        table = Table(mapping.table(spec.name), metadata, *columns, schema=mapping.schema, comment=spec.comment)
        for names in spec.indexes:
            Index(f"ix_{table.name}_{'_'.join(table.c[n].name for n in names)}"[:63], *(table.c[n] for n in names))
        tables[spec.name] = table
    return tables


JOURNAL = TableSpec(
    "dziennik_usuniec",
    "Dziennik usunięć: wiersz na każde fizyczne usunięcie wiersza osoby lub jej historii (wyzwalacze).",
    (
        Col("id_wpisu", Integer, primary_key=True, identity=True),
        Col("tabela", String(64), nullable=False),
        Col("id_osoby", Integer, nullable=False),
        Col("data_usuniecia", TIMESTAMP, nullable=False, index=True),
    ),
)


def source_engine(url: str) -> Engine:
    """An engine on the domain database, read-only (`replica.sqlite.read_only_engine`); a SQLite file must exist."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise SourceUnavailable(f"Baza dziedzinowa nie istnieje: {path}")
    try:
        return read_only_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as error:
        raise SourceUnavailable(f"Nie można otworzyć bazy dziedzinowej ({type(error).__name__}).") from error


_DECODE_TEXT = re.compile(r" with text '.*", re.DOTALL)


def unavailable(error: Exception) -> SourceUnavailable:
    """The adapters' error for a database error (the driver's class, never the values of the rows)."""
    origin = getattr(error, "orig", None) or error
    first_line = str(origin).strip().splitlines()[0][:200] if str(origin).strip() else ""
    # SQLite quotes the text it could not decode ("Could not decode to UTF-8 column 'nazwisko' with text
    # '...'"): a person's data, which the operator's console and logs must not show.
    first_line = _DECODE_TEXT.sub(" (tekst zapisany w innym kodowaniu niż UTF-8, np. Windows-1250)", first_line)
    return SourceUnavailable(
        f"Baza dziedzinowa jest niedostępna lub nie daje się odczytać ({type(origin).__name__}: {first_line})."
    )


#: A source row handed to `build`: a tuple in the order of the query's columns (`person_columns()` after
#: the key; a child query's `columns` after the person). With `named_rows` it is also readable by label
#: (`row.nazwisko`, `person._klucz`), as SQLAlchemy's rows are.
SourceRow = Any


class _Prepared:
    """A statement compiled once for a dialect and run on the driver's cursor: rows come as plain tuples.

    Parameters are those of `bindparam`s (an expanding one for IN lists); values pass through the bind
    processors of their types, as SQLAlchemy's own execution would.
    """

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.compiled = compiled
        self.positional = dialect.positional
        self.names = tuple(statement.selected_columns.keys())

    def rows(self, connection: Connection, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Execute with `values` and fetch every row."""
        state = self.compiled.construct_expanded_state(values)
        params = state.parameters
        processors = state.processors
        if processors:
            params = {k: (processors[k](v) if k in processors else v) for k, v in params.items()}
        args: Any = tuple(params[name] for name in state.positiontup or ()) if self.positional else params
        cursor = connection.connection.cursor()
        try:
            cursor.execute(state.statement, args)
            return list(cursor.fetchall())
        except sqlite3.OperationalError as error:
            if not str(error).startswith(_UNDECODABLE):
                raise
        finally:
            cursor.close()
        return _rows_keeping_undecodable_text(connection, state.statement, args)


#: The start of SQLite's error for TEXT that is not UTF-8 (a source written in Windows-1250, say).
_UNDECODABLE = "Could not decode to UTF-8"


def _decoded_or_escaped(value: bytes) -> str:
    """SQLite TEXT as Python text; bytes that are not UTF-8 become lone surrogates (`surrogateescape`), which
    the value checks (`adapters.xmlout`) refuse, naming the field and the encoding, for that person alone."""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.decode("utf-8", "surrogateescape")


def _rows_keeping_undecodable_text(connection: Connection, statement: str, args: Any) -> list[tuple[Any, ...]]:
    """The rows of a query one of whose TEXT values is not UTF-8, read again with `_decoded_or_escaped`: the
    driver's own decoding stopped the whole run at the first such value. Only for the batch that has one
    (a text factory in Python costs every value of every row)."""
    driver = connection.connection.dbapi_connection
    assert isinstance(driver, sqlite3.Connection)
    usual = driver.text_factory
    driver.text_factory = _decoded_or_escaped
    cursor = driver.cursor()
    try:
        cursor.execute(statement, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()
        driver.text_factory = usual


class _Queries(NamedTuple):
    """The compiled queries of a run (see `SqlAdapter._statements`)."""

    first: _Prepared | None
    people: _Prepared
    skip_first: _Prepared | None
    skip: _Prepared | None
    children: tuple[tuple[str, _Prepared], ...]
    person_names: tuple[str, ...]


def _row_type(names: Sequence[str]) -> Any:
    """A named-tuple class whose attributes are the query's labels (`_klucz` included, unlike namedtuple)."""
    fields = [
        name if name.isidentifier() and not name.startswith("_") and not keyword.iskeyword(name) else f"c{i}"
        for i, name in enumerate(names)
    ]
    seen: set[str] = set()
    for i, name in enumerate(fields):
        if name in seen:
            fields[i] = f"c{i}"
        seen.add(fields[i])
    row_type = namedtuple("Wiersz", fields)  # type: ignore[misc]
    for i, name in enumerate(names):
        if fields[i] != name and name.isidentifier() and not hasattr(row_type, name):
            setattr(row_type, name, property(itemgetter(i)))
    return row_type


class SqlAdapter(Adapter):
    """Reads a relational domain system with the shape: person table, child tables, deletion journal."""

    #: The packaged reference mapping (mapping.toml beside the adapter).
    reference_mapping: ClassVar[Path]
    #: The reference schema, in creation order (dictionaries first).
    specs: ClassVar[tuple[TableSpec, ...]]
    #: Logical name of the person table and its key column.
    person_table: ClassVar[str] = "osoba"
    person_key: ClassVar[str] = "id_osoby"
    #: Rows readable by label (`row.nazwisko`); False hands `build` bare tuples (cheaper, for hot adapters).
    named_rows: ClassVar[bool] = True
    shares_reading = True

    def __init__(self, source_url: str, mapping: Path | dict[str, Any] | None = None, *, connect: bool = True) -> None:
        self.mapping = load_mapping(self.reference_mapping, mapping)
        #: How to open the same adapter in another process (the feeder's parallel reader).
        self.recipe = (type(self), (source_url, mapping), {"connect": connect})
        self.metadata = MetaData()
        self.tables = build_tables(self.metadata, self.mapping, (*self.specs, JOURNAL))
        self.engine: Engine | None = source_engine(source_url) if connect else None
        self._source_url = source_url
        self._dictionaries: dict[str, dict[str, Any]] | None = None
        self._prepared: dict[tuple[str, str, int], _Queries] = {}
        self._row_types: dict[tuple[str, ...], Any] = {}

    # -- what a concrete adapter declares -------------------------------------------------------------------
    @abc.abstractmethod
    def person_columns(self) -> Sequence[ColumnElement[Any]]:
        """The labelled columns of the person table that `build` uses."""

    @abc.abstractmethod
    def children(self) -> Sequence[ChildQuery]:
        """The child queries (histories) of a person."""

    @abc.abstractmethod
    def build(
        self, person: SourceRow, rows: dict[str, list[SourceRow]], dictionaries: dict[str, dict[str, Any]]
    ) -> ModelRecord:
        """One person's record; raise `RowProblem` for a value the model cannot carry.

        `person` is (key, *person_columns()); `rows[child.name]` are that child's rows of the person,
        each (person key, *child.columns), in the child's order.
        """

    def dictionaries(self, connection: Connection) -> dict[str, dict[str, Any]]:
        """Small code tables read once per run (code -> row); none by default."""
        return {}

    def in_data_set(self) -> ColumnElement[bool]:
        """Which rows of the person table belong to the data set now (not removed from the register)."""
        return true()

    def journal_sources(self) -> Sequence[tuple[str, str]]:
        """(logical table, SQL of the person key from OLD) for each table whose deletions are journaled."""
        return [
            (spec.name, f"OLD.{self.tables[spec.name].c[self.person_key].name}")
            for spec in self.specs
            if self.person_key in self.tables[spec.name].c
        ]

    def source_identity(self) -> str:
        """A digest of the adapter, the database (a SQLite file by its absolute path; the password left out) and
        the mapping: the same source read the same way gives the same text in any process."""
        path = sqlite_file(self._source_url)
        url = make_url(self._source_url).set(password=None)
        if path is not None:
            url = url.set(database=str(path.resolve()))
        named = "|".join((type(self).__module__, type(self).__qualname__, url.render_as_string(), repr(self.mapping)))
        return hashlib.sha256(named.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    # -- the reading ----------------------------------------------------------------------------------------
    @property
    def key_column(self) -> Column[Any]:
        """The person table's key column."""
        return self.tables[self.person_table].c[self.person_key]

    def source_key(self, key: Any) -> str:
        """The source key sent to the hub for a person key."""
        return f"{self.mapping.key_prefix}{key}"

    def _position(self, text: str | None) -> Any:
        if text is None:
            return None
        return int(text) if self.key_column.type.python_type is int else text

    def _connection(self) -> Connection:
        if self.engine is None:
            raise SourceUnavailable("Adapter utworzono bez połączenia z bazą dziedzinową.")
        return self.engine.connect()

    def _errors(self) -> tuple[type[Exception], ...]:
        """The exceptions of a failed read: SQLAlchemy's and the driver's own (raw cursors raise those)."""
        dbapi = getattr(self.engine.dialect, "loaded_dbapi", None) if self.engine is not None else None
        error = getattr(dbapi, "Error", None)
        return (
            (SQLAlchemyError, error) if isinstance(error, type) and issubclass(error, Exception) else (SQLAlchemyError,)
        )

    def high_water(self) -> dt.datetime | None:
        """The latest `data_modyfikacji` (or deletion) in the source."""
        stamps = [m for child in self.children() for m in child.modified]
        stamps.append(self.tables[self.person_table].c.data_modyfikacji)
        stamps.append(self.tables["dziennik_usuniec"].c.data_usuniecia)
        latest: dt.datetime | None = None
        try:
            with self._connection() as connection:
                for stamp in dict.fromkeys(stamps):
                    table = stamp.table
                    try:
                        value = connection.scalar(select(func.max(stamp)).select_from(table))
                        if isinstance(value, str):
                            value = dt.datetime.fromisoformat(value)
                        if value is not None and (latest is None or value > latest):
                            latest = value
                    except (ValueError, TypeError):
                        # A stamp typed as text ('31.12.2026 10:00'): the window of changes cannot be decided.
                        raise SourceUnavailable(
                            f"Kolumna {getattr(table, 'name', table)}.{stamp.name} bazy dziedzinowej zawiera "
                            "wartość, która nie jest datą i czasem (oczekiwano RRRR-MM-DD GG:MM:SS); popraw ją "
                            "w systemie dziedzinowym i uruchom zasilanie ponownie."
                        ) from None
        except SQLAlchemyError as error:
            raise unavailable(error) from error
        return latest

    def _statements(self, dialect: Dialect, mode: str, batch_size: int) -> _Queries:
        """The queries of a run, compiled once: `full` reads people by key (the first batch, then those
        after `last`) and their histories by key range; `changes` reads both by a list of keys."""
        found = self._prepared.get((dialect.name, mode, batch_size))
        if found is not None:
            return found
        key = self.key_column
        person = select(key.label("_klucz"), *self.person_columns())
        first = skip_first = skip = None
        if mode == "full":
            after = key > bindparam("last", type_=key.type)
            ordered = person.where(self.in_data_set()).order_by(key).limit(batch_size)
            first = _Prepared(ordered, dialect)
            people = _Prepared(ordered.where(after), dialect)
            # Another reader's batch is passed over by its last key alone (none: it is the last batch).
            last_key = select(key).where(self.in_data_set()).order_by(key).offset(batch_size - 1).limit(1)
            skip_first = _Prepared(last_key, dialect)
            skip = _Prepared(last_key.where(after), dialect)
        else:
            people = _Prepared(self.people_query(bindparam("keys", expanding=True, type_=key.type)), dialect)
        children = []
        for child in self.children():
            if mode == "full":
                where = child.person.between(bindparam("low", type_=key.type), bindparam("high", type_=key.type))
            else:
                where = child.person.in_(bindparam("keys", expanding=True, type_=key.type))
            query = (
                select(child.person.label("_osoba"), *child.columns)
                .select_from(child.from_)
                .where(where)
                .order_by(child.person, *child.order_by)
            )
            children.append((child.name, _Prepared(query, dialect)))
        prepared = _Queries(first, people, skip_first, skip, tuple(children), tuple(person.selected_columns.keys()))
        self._prepared[(dialect.name, mode, batch_size)] = prepared
        return prepared

    def count(self, after: str | None = None) -> int:
        """How many people a full run (from `after`) reads: the total of its progress bar."""
        key = self.key_column
        query = select(func.count()).select_from(key.table).where(self.in_data_set())
        position = self._position(after)
        if position is not None:
            query = query.where(key > position)
        try:
            with self._connection() as connection:
                return int(connection.scalar(query) or 0)
        except self._errors() as error:
            raise unavailable(error) from error

    def full(
        self, after: str | None = None, batch_size: int = 1000, *, share: tuple[int, int] = (0, 1)
    ) -> Iterator[Sequence[Item]]:
        """Every person of the data set in key order, in batches, starting after `after` (with `share`
        (i, n): only batches i, i + n, ...; the people query still walks every batch, cheaply)."""
        last = self._position(after)
        errors = self._errors()
        index, count = share
        for turn in itertools.count():
            mine = turn % count == index
            try:
                with self._connection() as connection:
                    dictionaries = self._dicts(connection)
                    queries = self._statements(connection.dialect, "full", batch_size)
                    if not mine:
                        assert queries.skip_first is not None and queries.skip is not None
                        skip = queries.skip_first if last is None else queries.skip
                        found = skip.rows(connection, {} if last is None else {"last": last})
                        if not found:
                            return
                        last = found[0][0]
                        continue
                    if last is None:
                        assert queries.first is not None
                        people = queries.first.rows(connection, {})
                    else:
                        people = queries.people.rows(connection, {"last": last})
                    if not people:
                        return
                    bounds = {"low": people[0][0], "high": people[-1][0]}
                    rows = {name: _by_person(q.rows(connection, bounds)) for name, q in queries.children}
            except errors as error:
                raise unavailable(error) from error
            last = people[-1][0]
            # Nothing of this batch stays referenced here while the next one is read (flat memory).
            items = self._items(people, rows, queries, dictionaries)
            del people, rows
            yield items
            del items

    def people_query(self, keys: Any) -> Select[Any]:
        """The people with these keys, each marked (last column) whether still in the data set (1/0: Oracle
        has no boolean in a select list before 23c)."""
        member = case((self.in_data_set(), 1), else_=0).label("_w_zbiorze")
        return select(self.key_column.label("_klucz"), *self.person_columns(), member).where(self.key_column.in_(keys))

    def changed_keys(self, since: dt.datetime | None, until: dt.datetime | None) -> Select[Any]:
        """The union of the person keys with a row modified (or deleted) in (since, until]."""

        def window(stamp: ColumnElement[Any]) -> ColumnElement[bool]:
            parts = []
            if since is not None:
                # Exclusive: rows stamped at the previous run's upper bound were read by that run.
                parts.append(stamp > since)
            if until is not None:
                parts.append(stamp <= until)
            return and_(true(), *parts)

        person = self.tables[self.person_table]
        journal = self.tables["dziennik_usuniec"]
        selects = [select(self.key_column.label("k")).where(window(person.c.data_modyfikacji))]
        for child in self.children():
            condition = or_(false(), *[window(m) for m in child.modified])
            selects.append(select(child.person.label("k")).select_from(child.from_).where(condition))
        journaled = select(journal.c.id_osoby).where(window(journal.c.data_usuniecia))
        selects.append(journaled.with_only_columns(journal.c.id_osoby.label("k")))
        selects.extend(self.journal_related(journaled))
        return union(*selects)  # type: ignore[return-value]

    def journal_related(self, journaled: Select[Any]) -> list[Select[Any]]:
        """Selects of the keys (labelled `k`) of people whose data shows rows of the people `journaled` (the
        keys of the deletions journal in the window): a row deleted from another person's history changes them
        too (an SR child's address is in the parent's section). None by default."""
        return []

    def changes(
        self,
        since: dt.datetime | None,
        until: dt.datetime | None,
        after: str | None = None,
        batch_size: int = 1000,
        *,
        share: tuple[int, int] = (0, 1),
    ) -> Iterator[Sequence[Item]]:
        """People changed in (since, until], in key order; gone or removed people as deletions (with
        `share` (i, n): only batches i, i + n, ...)."""
        changed = self.changed_keys(since, until).subquery("zmienione")
        last = self._position(after)
        errors = self._errors()
        size = min(batch_size, 1000)  # Oracle: at most 1000 in IN
        index, count = share
        for turn in itertools.count():
            query = select(changed.c.k)
            if last is not None:
                query = query.where(changed.c.k > last)
            query = query.order_by(changed.c.k).limit(size)
            try:
                with self._connection() as connection:
                    dictionaries = self._dicts(connection)
                    keys = list(connection.scalars(query))
                    if not keys:
                        return
                    if turn % count != index:
                        last = keys[-1]
                        continue
                    queries = self._statements(connection.dialect, "changes", size)
                    found = {row[0]: row for row in queries.people.rows(connection, {"keys": keys})}
                    rows = {name: _by_person(q.rows(connection, {"keys": keys})) for name, q in queries.children}
            except errors as error:
                raise unavailable(error) from error
            # The membership mark is the people query's last column.
            present = [found[k][:-1] for k in keys if k in found and found[k][-1]]
            built = iter(self._items(present, rows, queries, dictionaries))
            items: list[Item] = []
            for value in keys:
                row = found.get(value)
                if row is None or not row[-1]:
                    items.append(ModelRecord(self.source_key(value), str(value), True, self.data_element))
                else:
                    items.append(next(built))
            yield items
            last = keys[-1]

    # -- helpers -------------------------------------------------------------------------------------------
    def _dicts(self, connection: Connection) -> dict[str, dict[str, Any]]:
        if self._dictionaries is None:
            self._dictionaries = self.dictionaries(connection)
        return self._dictionaries

    def _named(self, names: Sequence[str]) -> Any:
        row_type = self._row_types.get(tuple(names))
        if row_type is None:
            row_type = self._row_types[tuple(names)] = _row_type(names)
        return row_type

    def _items(
        self,
        people: Sequence[tuple[Any, ...]],
        rows: dict[str, dict[Any, list[tuple[Any, ...]]]],
        queries: _Queries,
        dictionaries: dict[str, dict[str, Any]],
    ) -> list[Item]:
        """Build each person's item from their rows (grouped by person)."""
        empty: list[tuple[Any, ...]] = []
        groups = list(rows.items())
        if self.named_rows:
            person_type = self._named(queries.person_names)
            row_types = {name: self._named(query.names) for name, query in queries.children}
            people = [person_type._make(p) for p in people]
            groups = [
                (name, {k: [row_types[name]._make(r) for r in v] for k, v in by_person.items()})
                for name, by_person in groups
            ]
        items: list[Item] = []
        build = self.build
        for person in people:
            value = person[0]
            try:
                items.append(
                    build(person, {name: by_person.get(value, empty) for name, by_person in groups}, dictionaries)
                )
            except RowProblem as problem:
                items.append(
                    SourceRejection(self.source_key(value), str(value), f"Odrzucono w źródle: {problem.reason}.")
                )
        return items

    def close(self) -> None:
        """Release the source's connections."""
        if self.engine is not None:
            self.engine.dispose()

    # -- the reference schema (demo data, tests, a new deployment's DBA) --------------------------------------
    def create_schema(self, engine: Engine) -> None:
        """Create the reference schema with its deletion-journal triggers (SQLite and PostgreSQL)."""
        self.metadata.create_all(engine)
        journal = self.tables["dziennik_usuniec"]
        statements: list[str] = []
        for logical, key_sql in self.journal_sources():
            table = self.tables[logical]
            name = f"trg_{table.name}_usun"[:60]
            # Names come from the adapter's schema and the operator's mapping file, never from data.
            columns = f"{journal.c.tabela.name}, {journal.c.id_osoby.name}, {journal.c.data_usuniecia.name}"
            insert = f"INSERT INTO {_qualified(journal)} ({columns}) VALUES ('{table.name}', {key_sql}, "  # noqa: S608
            if engine.dialect.name == "sqlite":
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {name} AFTER DELETE ON {table.name} BEGIN "
                    f"{insert}strftime('%Y-%m-%d %H:%M:%f', 'now', 'localtime')); END"
                )
            elif engine.dialect.name == "postgresql":
                function = f"{_schema_prefix(table)}f_{name}"
                statements.append(
                    f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"{insert}localtimestamp); RETURN OLD; END $$"
                )
                statements.append(f"DROP TRIGGER IF EXISTS {name} ON {_qualified(table)}")
                statements.append(
                    f"CREATE TRIGGER {name} AFTER DELETE ON {_qualified(table)} "
                    f"FOR EACH ROW EXECUTE FUNCTION {function}()"
                )
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)


def _schema_prefix(table: Table) -> str:
    return f"{table.schema}." if table.schema else ""


def _qualified(table: Table) -> str:
    return f"{_schema_prefix(table)}{table.name}"


def group(rows: list[Row[Any]], attribute: str) -> dict[Any, list[Row[Any]]]:
    """Rows grouped by one attribute, in order."""
    grouped: dict[Any, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, attribute)].append(row)
    return grouped


def _by_person(rows: list[tuple[Any, ...]]) -> dict[Any, list[tuple[Any, ...]]]:
    """Rows ordered by person (first column), grouped by it."""
    return {key: list(group) for key, group in groupby(rows, itemgetter(0))}


def labelled(table: Table, *names: str) -> list[ColumnElement[Any]]:
    """The columns of a table labelled with their logical names (so rows read `row.<logical>`)."""
    return [table.c[name].label(name) for name in names]
