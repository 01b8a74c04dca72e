"""A relational domain system read through SQLAlchemy: SQLite, PostgreSQL or Oracle by URL.

`SqlAdapter` does the reading every adapter shares; a concrete adapter declares its reference schema
(`TableSpec`s with logical names, renamed by the mapping file), the queries of its child tables and how
one person's rows become common-model sections (`build`).

Memory stays flat: people are read in key order, one batch at a time (keyset pagination: `key > last
ORDER BY key LIMIT n`), and each child table is read for that batch only, ordered by person; no
connection is held while the batch is being sent. Incremental runs find changed people as the union of
the keys whose rows were modified in the window, plus the deletion journal (filled by triggers).
"""

from __future__ import annotations

import abc
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    TIMESTAMP,
    Column,
    Date,
    ForeignKey,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    create_engine,
    event,
    false,
    func,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.engine import Connection, Dialect, Engine, Row
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Select
from sqlalchemy.types import TypeDecorator, TypeEngine

from adapters.base import Adapter, Item, ModelRecord, RowProblem, SourceRejection, SourceUnavailable
from adapters.mapping import Mapping, load_mapping


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
    """A logical table of a reference schema, with a Polish comment for the DBA."""

    name: str
    comment: str
    columns: tuple[Col, ...]


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
        tables[spec.name] = Table(
            mapping.table(spec.name), metadata, *columns, schema=mapping.schema, comment=spec.comment
        )
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
    """An engine on the domain database; a SQLite file must exist and is opened read-only."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        path = Path(url[len("sqlite:///") :].split("?", 1)[0])
        if not path.is_file():
            raise SourceUnavailable(f"Baza dziedzinowa nie istnieje: {path}")
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA query_only = ON")

        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as error:
        raise SourceUnavailable(f"Nie można otworzyć bazy dziedzinowej ({type(error).__name__}).") from error


def unavailable(error: Exception) -> SourceUnavailable:
    """The adapters' error for a database error (the driver's class, never the values of the rows)."""
    origin = getattr(error, "orig", None) or error
    first_line = str(origin).strip().splitlines()[0][:200] if str(origin).strip() else ""
    return SourceUnavailable(
        f"Baza dziedzinowa jest niedostępna lub nie daje się odczytać ({type(origin).__name__}: {first_line})."
    )


class SqlAdapter(Adapter):
    """Reads a relational domain system with the shape: person table, child tables, deletion journal."""

    #: The packaged reference mapping (mapping.toml beside the adapter).
    reference_mapping: ClassVar[Path]
    #: The reference schema, in creation order (dictionaries first).
    specs: ClassVar[tuple[TableSpec, ...]]
    #: Logical name of the person table and its key column.
    person_table: ClassVar[str] = "osoba"
    person_key: ClassVar[str] = "id_osoby"

    def __init__(self, source_url: str, mapping: Path | dict[str, Any] | None = None, *, connect: bool = True) -> None:
        self.mapping = load_mapping(self.reference_mapping, mapping)
        #: How to open the same adapter in another process (the feeder's parallel reader).
        self.recipe = (type(self), (source_url, mapping), {"connect": connect})
        self.metadata = MetaData()
        self.tables = build_tables(self.metadata, self.mapping, (*self.specs, JOURNAL))
        self.engine: Engine | None = source_engine(source_url) if connect else None
        self._dictionaries: dict[str, dict[str, Any]] | None = None

    # -- what a concrete adapter declares -------------------------------------------------------------------
    @abc.abstractmethod
    def person_columns(self) -> Sequence[ColumnElement[Any]]:
        """The labelled columns of the person table that `build` uses."""

    @abc.abstractmethod
    def children(self) -> Sequence[ChildQuery]:
        """The child queries (histories) of a person."""

    @abc.abstractmethod
    def build(
        self, person: Row[Any], rows: dict[str, list[Row[Any]]], dictionaries: dict[str, dict[str, Any]]
    ) -> ModelRecord:
        """One person's record; raise `RowProblem` for a value the model cannot carry."""

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
                    value = connection.scalar(select(func.max(stamp)).select_from(table))
                    if isinstance(value, str):
                        value = dt.datetime.fromisoformat(value)
                    if value is not None and (latest is None or value > latest):
                        latest = value
        except SQLAlchemyError as error:
            raise unavailable(error) from error
        return latest

    def full(self, after: str | None = None, batch_size: int = 1000) -> Iterator[Sequence[Item]]:
        """Every person of the data set in key order, in batches, starting after `after`."""
        key = self.key_column
        last = self._position(after)
        while True:
            query = select(key.label("_klucz"), *self.person_columns()).where(self.in_data_set())
            if last is not None:
                query = query.where(key > last)
            query = query.order_by(key).limit(batch_size)
            try:
                with self._connection() as connection:
                    dictionaries = self._dicts(connection)
                    people = connection.execute(query).all()
                    if not people:
                        return
                    low, high = people[0]._klucz, people[-1]._klucz
                    rows = {
                        c.name: self._child_rows(connection, c, c.person.between(low, high)) for c in self.children()
                    }
            except SQLAlchemyError as error:
                raise unavailable(error) from error
            yield [self._item(person, rows, dictionaries) for person in people]
            last = high

    def people_query(self, keys: Sequence[Any]) -> Select[Any]:
        """The people with these keys, each marked whether still in the data set (1/0: Oracle has no
        boolean in a select list before 23c)."""
        member = case((self.in_data_set(), 1), else_=0).label("_w_zbiorze")
        return select(self.key_column.label("_klucz"), member, *self.person_columns()).where(self.key_column.in_(keys))

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
        selects.append(select(journal.c.id_osoby.label("k")).where(window(journal.c.data_usuniecia)))
        return union(*selects)  # type: ignore[return-value]

    def changes(
        self,
        since: dt.datetime | None,
        until: dt.datetime | None,
        after: str | None = None,
        batch_size: int = 1000,
    ) -> Iterator[Sequence[Item]]:
        """People changed in (since, until], in key order; gone or removed people as deletions."""
        changed = self.changed_keys(since, until).subquery("zmienione")
        last = self._position(after)
        while True:
            query = select(changed.c.k)
            if last is not None:
                query = query.where(changed.c.k > last)
            query = query.order_by(changed.c.k).limit(min(batch_size, 1000))  # Oracle: at most 1000 in IN
            try:
                with self._connection() as connection:
                    dictionaries = self._dicts(connection)
                    keys = list(connection.scalars(query))
                    if not keys:
                        return
                    people_query = self.people_query(keys)
                    people = {p._klucz: p for p in connection.execute(people_query)}
                    rows = {c.name: self._child_rows(connection, c, c.person.in_(keys)) for c in self.children()}
            except SQLAlchemyError as error:
                raise unavailable(error) from error
            items: list[Item] = []
            for value in keys:
                person = people.get(value)
                if person is None or not person._w_zbiorze:
                    items.append(ModelRecord(self.source_key(value), str(value), True, self.data_element))
                else:
                    items.append(self._item(person, rows, dictionaries))
            yield items
            last = keys[-1]

    # -- helpers -------------------------------------------------------------------------------------------
    def _dicts(self, connection: Connection) -> dict[str, dict[str, Any]]:
        if self._dictionaries is None:
            self._dictionaries = self.dictionaries(connection)
        return self._dictionaries

    @staticmethod
    def _child_rows(connection: Connection, child: ChildQuery, where: ColumnElement[bool]) -> dict[Any, list[Row[Any]]]:
        query = (
            select(child.person.label("_osoba"), *child.columns)
            .select_from(child.from_)
            .where(where)
            .order_by(child.person, *child.order_by)
        )
        grouped: dict[Any, list[Row[Any]]] = defaultdict(list)
        for row in connection.execute(query).all():
            grouped[row._osoba].append(row)
        return grouped

    def _item(
        self, person: Row[Any], rows: dict[str, dict[Any, list[Row[Any]]]], dictionaries: dict[str, dict[str, Any]]
    ) -> Item:
        value = person._klucz
        mine = {name: by_person.get(value, []) for name, by_person in rows.items()}
        try:
            return self.build(person, mine, dictionaries)
        except RowProblem as problem:
            return SourceRejection(self.source_key(value), str(value), f"Odrzucono w źródle: {problem.reason}.")

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


def labelled(table: Table, *names: str) -> list[ColumnElement[Any]]:
    """The columns of a table labelled with their logical names (so rows read `row.<logical>`)."""
    return [table.c[name].label(name) for name in names]
