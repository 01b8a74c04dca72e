"""The loader: the only writer of replicas. Applies feed batches (xsd/zasilanie), each all-or-nothing.

`ReplicaWriter.apply` is the one write path, used by the SOAP feed service, by `platforma feed` when it
writes a replica database directly, and by `Loader` for feed files. Memory does not grow with a batch:
records are consumed one at a time and inserted in bulk chunks inside one transaction.

* An incremental batch (`PRZYROSTOWA`) replaces or deletes people of the live snapshot by source key.
* A full snapshot (`PELNA`) is written as a new generation beside the live one, possibly over many
  batches of one run (`IdZasilenia`, `NumerPaczki` 1, 2, ...); its last batch (`Koniec`) makes it live by
  one update of `stan_repliki`: a query sees the old snapshot or the new one, never a mix.
* The watermark a batch reached is stored in the same transaction as the batch. A batch already applied
  (same run, same number) is acknowledged again and not applied twice; a gap in the numbering is refused.

Any failure rolls the batch back: the replica is exactly as it was before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lxml import etree
from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from contract import catalog
from contract.errors import (
    Detail,
    DetailKind,
    ForbiddenXml,
    MalformedXml,
    PlatformError,
    SchemaViolation,
    UnknownDataSet,
)
from contract.identifiers import has_pesel_form, normalise_name
from contract.schema_messages import polish
from replica.database import (
    DOCUMENT_KIND_LENGTH,
    DOCUMENT_NUMBER_LENGTH,
    NAME_KEY_LENGTH,
    STATE_ROW,
    Load,
    Person,
    ReplicaState,
    Sections,
    WalCheckpointer,
    sqlite_file,
    writable_engine,
)
from replica.feed import (
    FULL,
    INCREMENTAL,
    BatchHeader,
    LoadReport,
    RecordLike,
    Rejection,
    ReplicaIdentity,
    ReplicaStatus,
)
from replica.runlock import busy
from replica.sections import PackedSections, pack_sections

M = "{" + catalog.MODEL_NS + "}"
F = "{" + catalog.FEED_NS + "}"
BULK = 1000
CHECKPOINT_RECORDS = 5000  # bulk writer: records between log checkpoints (a few log pages each)
CHUNK = 500  # records per identity check (keeps IN lists short on every database)
PERSONS: Table = Person.__table__  # type: ignore[assignment]
SECTIONS: Table = Sections.__table__  # type: ignore[assignment]
STATE: Table = ReplicaState.__table__  # type: ignore[assignment]
LOADS: Table = Load.__table__  # type: ignore[assignment]
#: The order of the values in the writer's rows: the tables' own column order.
PERSON_COLUMNS = tuple(column.name for column in PERSONS.columns)
SECTION_COLUMNS = tuple(column.name for column in SECTIONS.columns)


class DuplicatePerson(PlatformError):
    """The same person (source key) appears twice in one batch or one full snapshot: the batch is refused."""

    code = "ZDUPLIKOWANA_OSOBA"


class BatchOutOfOrder(PlatformError):
    """A batch does not continue the run it names (a gap, or a run that is no longer open)."""

    code = "NIECIAGLOSC_ZASILENIA"


class EmptySnapshot(PlatformError):
    """A full run whose every record was refused would publish a snapshot of nobody: refused, the replica as it
    was (every query would then answer that the office does not know the person)."""

    code = "ODRZUCONO_WSZYSTKIE_REKORDY"


class ReplicaMismatch(UnknownDataSet):
    """The replica holds another data set, kind or controller than the writer or the batch names: refused,
    the replica untouched (an SR feeder pointed at the OPS replica, another data set's feed file)."""

    code = "NIEZGODNY_ZBIOR_REPLIKI"


def check_identity(recorded: ReplicaIdentity, offered: ReplicaIdentity) -> None:
    """The one rule of every path that writes a replica (the SOAP feed service, `platforma feed`,
    `platforma load`): what is offered must be what the replica holds, fact by fact (kind, data set,
    controller); a fact not known on either side (None) is not compared."""
    pairs = (
        (recorded.kind, offered.kind),
        (recorded.data_set, offered.data_set),
        (recorded.controller, offered.controller),
    )
    if any(mine is not None and theirs is not None and mine != theirs for mine, theirs in pairs):
        raise ReplicaMismatch(
            f"Replika przechowuje {recorded.describe()}, a zasilenie dotyczy: {offered.describe()}. "
            "To replika innego zbioru danych: niczego w niej nie zmieniono. Sprawdź adres repliki, "
            "adapter i konfigurację zbioru."
        )


@dataclass(frozen=True)
class ParsedRecord:
    """One record of a feed, reduced to what the replica stores."""

    source_key: str
    deleted: bool
    pesel: str | None
    surname: str
    first_name: str
    birth_date: dt.date | None
    document_kind: str | None
    document_number: str | None
    sections: tuple[tuple[str, bytes], ...]


def _recorded(state: Any) -> ReplicaIdentity:
    """The identity a `stan_repliki` row records."""
    return ReplicaIdentity(state["zbior"], state["rodzaj"], state["administrator"])


def _text(element: etree._Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    return found.text if found is not None else None


def xs_date(text: str | None) -> dt.date | None:
    """The date of an xs:date (a time zone ignored), or None: absent, or a year the schema allows but no
    calendar of ours has (12345, before the common era), which `record_problem` then refuses."""
    if not text:
        return None
    value = text.strip()
    if len(value) >= 10 and value[4] == "-" and value[:4].isdigit():
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


#: The `xsi:type` values in a section: QNames, whose prefixes exclusive C14N would not keep (it keeps only the
#: namespaces element and attribute names use), so a stored answer would name an undeclared prefix.
_XSI_TYPES = etree.XPath(
    "descendant-or-self::*/@xsi:type", namespaces={"xsi": "http://www.w3.org/2001/XMLSchema-instance"}
)


def _section_bytes(section: etree._Element) -> bytes:
    """A section as stored: exclusive C14N; inclusive C14N (every namespace in scope declared on the section)
    when it holds an `xsi:type`, whose QName may use any prefix, the default namespace included."""
    return etree.tostring(section, method="c14n", exclusive=not _XSI_TYPES(section))


def parse_record(record: etree._Element, data_element: str) -> ParsedRecord:
    """Reduce a `Rekord` element to identifiers and exclusive-C14N sections."""
    source_key = _text(record, F + "IdZrodlowy") or ""
    deleted = (_text(record, F + "Usuniety") or "false").strip() in ("true", "1")
    data = record.find(F + data_element)
    personal = data.find(M + "DaneOsobowe") if data is not None else None
    sections: list[tuple[str, bytes]] = []
    if data is not None:
        for section in data:
            if not isinstance(section.tag, str):
                continue
            name = etree.QName(section).localname
            sections.append((name, _section_bytes(section)))
    birth = _text(personal, M + "DataUrodzenia")
    pesel = _text(personal, M + "Pesel")
    return ParsedRecord(
        source_key=source_key,
        deleted=deleted,
        pesel=pesel,
        surname=_text(personal, M + "Nazwisko") or "",
        first_name=_text(personal, M + "Imie") or "",
        birth_date=xs_date(birth),
        document_kind=_text(personal, f"{M}DokumentTozsamosci/{M}Rodzaj"),
        document_number=(_text(personal, f"{M}DokumentTozsamosci/{M}Numer") or "").replace(" ", "").upper() or None,
        sections=tuple(sections),
    )


def iter_feed(
    source: str | Path | IO[bytes], schema: etree.XMLSchema | None
) -> Iterator[tuple[dict[str, str], etree._Element]]:
    """Yield (batch attributes, record element) pairs, validating while parsing; memory stays flat."""
    for attributes, element in _iter_feed(source, schema):
        if element is not None:
            yield attributes, element


def _iter_feed(
    source: str | Path | IO[bytes], schema: etree.XMLSchema | None
) -> Iterator[tuple[dict[str, str], etree._Element | None]]:
    """As `iter_feed`, and first (attributes, None) when the `Paczka` element opens."""
    context = etree.iterparse(
        source,
        events=("start", "end"),
        schema=schema,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    attributes: dict[str, str] = {}
    try:
        for event, element in context:
            if event == "start":
                if element.tag == F + "Paczka":
                    attributes = dict(element.attrib)
                    if element.getroottree().docinfo.doctype:
                        raise ForbiddenXml("Paczka zawiera deklarację DTD, której platforma nie przyjmuje.")
                    yield attributes, None
                continue
            if element.tag == F + "Rekord":
                yield attributes, element
                element.clear(keep_tail=False)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSchemaError as error:
        raise SchemaViolation(f"Paczka nie jest zgodna ze schematem zasilania: {error}") from error
    except etree.XMLSyntaxError as error:
        entry = error.error_log.last_error if error.error_log else None
        line = f" (wiersz {entry.line})" if entry is not None and entry.line else ""
        if entry is not None and entry.domain == etree.ErrorDomains.SCHEMASV:
            raise SchemaViolation(
                f"Paczka nie jest zgodna ze schematem zasilania{line}. {polish(entry.message)}"
            ) from error
        if entry is None or entry.line == 0:
            raise MalformedXml("Paczka nie jest dokumentem XML: plik jest pusty albo nie zawiera znaczników.") from None
        where = f" (wiersz {entry.line}, kolumna {entry.column})"
        # libxml2's own words are English ("Opening and ending tag mismatch"): the place says where to look.
        raise MalformedXml(f"Paczka nie jest poprawnym dokumentem XML{where}.") from None


def checked_header(attributes: dict[str, str]) -> BatchHeader:
    """`BatchHeader.from_attributes` on a streamed `Paczka`, read before the schema has seen its attributes
    (tests/fuzz): a value the schema will refuse is the sender's mistake."""
    try:
        return BatchHeader.from_attributes(attributes)
    except ValueError as error:
        raise SchemaViolation(f"Nieprawidłowe atrybuty elementu Paczka: {error}") from None


def checked_record(element: etree._Element, data_element: str) -> ParsedRecord:
    """`parse_record` on a streamed record: lxml reports a namespace or schema error only after the events
    read with it, so a record it will refuse may reach the parser first (tests/fuzz): the caller's mistake."""
    try:
        return parse_record(element, data_element)
    except (ValueError, etree.C14NError) as error:
        raise SchemaViolation(f"Rekord paczki nie jest zgodny ze schematem zasilania: {error}") from None


_PESEL_CENTURIES = (1900, 2000, 2100, 2200, 1800)  # by month // 20, as python-stdnum reads them


def pesel_is_valid(value: str) -> bool:
    """The PESEL check of python-stdnum (check digit, encoded birth date) for an already compact value.

    `validate_pesel` first cleans its input, which costs more than the check itself; feed values are
    eleven digits or refused, so the loader's hot path computes stdnum's check digit and birth date
    itself (the same arithmetic as `stdnum.pl.pesel.calc_check_digit` and `get_birth_date`; a test
    compares the two on many values). A PESEL is eleven ASCII digits (`contract.identifiers.validate_pesel`):
    other scripts' digits, which `str.isdigit` also takes, are not one.
    """
    if not has_pesel_form(value):
        return False
    d = value.encode()  # ASCII digits: d[i] - 48 is the digit; the weights 1 3 7 9 1 3 7 9 1 3 sum to 44
    weighted = d[0] + 3 * d[1] + 7 * d[2] + 9 * d[3] + d[4] + 3 * d[5] + 7 * d[6] + 9 * d[7] + d[8] + 3 * d[9]
    if (10 - (weighted - 48 * 44)) % 10 != d[10] - 48:
        return False
    month = int(value[2:4])
    try:
        dt.date(_PESEL_CENTURIES[month // 20] + int(value[0:2]), month % 20, int(value[4:6]))
    except ValueError:
        return False
    return True


def record_problem(record: RecordLike) -> str | None:
    """Why a record cannot be stored (Polish), or None; checks that need no other record."""
    if record.deleted:
        return None
    if record.birth_date is None or not record.surname:
        return (
            "Rekord nie zawiera danych osobowych (nazwisko, data urodzenia) albo data urodzenia jest poza "
            "obsługiwanym zakresem (rok od 0001 do 9999)."
        )
    if record.pesel and not pesel_is_valid(record.pesel):
        return "Nieprawidłowy numer PESEL."
    for field, value in (("Nazwisko", record.surname), ("Imię", record.first_name)):
        if len(name_key(value)) > NAME_KEY_LENGTH:
            return f"{field} ma więcej niż {NAME_KEY_LENGTH} znaków; replika takiego nie przechowuje."
    for document_field, stored, limit in (
        ("Rodzaj dokumentu tożsamości", record.document_kind, DOCUMENT_KIND_LENGTH),
        ("Numer dokumentu tożsamości", record.document_number, DOCUMENT_NUMBER_LENGTH),
    ):
        # Stored upper-cased: a schema-valid number can grow (ß is SS), and PostgreSQL refuses a longer value
        # for the whole batch (its message quoting the number).
        if stored is not None and len(stored) > limit:
            return f"{document_field} ma po ujednoliceniu więcej niż {limit} znaków; replika takiego nie przechowuje."
    return None


_NAME_KEYS: dict[str, str] = {}


def name_key(value: str) -> str:
    """`normalise_name`, remembered: names repeat across people (bounded cache)."""
    key = _NAME_KEYS.get(value)
    if key is None:
        if len(_NAME_KEYS) >= 20_000:
            _NAME_KEYS.clear()
        key = _NAME_KEYS[value] = normalise_name(value)
    return key


class ReplicaWriter:
    """Applies batches to one replica: the only code that writes replicas (guideline 8).

    `duplicates="reject"` rejects the second occurrence of a source key in a batch and goes on (feed
    files); `duplicates="refuse"` refuses the whole batch with `ZDUPLIKOWANA_OSOBA` (the SOAP service).
    `bulk=True` (a feeding module writing the replica database itself, batch after batch) gives a SQLite
    replica a bigger page cache and checkpoints its log beside the writer (`WalCheckpointer`).

    `data_set` (by default the kind's code) and `controller` are what the writer is meant to write: a new
    replica records them with its kind (`stan_repliki`), and a replica that holds anything else is refused
    (`check_identity`), as is a batch that declares another data set.
    """

    def __init__(
        self,
        replica_url: str,
        data_set_kind: str,
        *,
        data_set: str | None = None,
        controller: str | None = None,
        duplicates: str = "reject",
        bulk: bool = False,
    ) -> None:
        kind = catalog.kind(data_set_kind)
        if kind is None:
            raise UnknownDataSet(f"Nieznany rodzaj zbioru: {data_set_kind}.")
        self.kind = kind
        self.identity = ReplicaIdentity(data_set or kind.code, kind.code, controller)
        self.duplicates = duplicates
        path = sqlite_file(replica_url) if bulk else None
        self.engine = writable_engine(replica_url, checkpoint_on_commit=path is None, cache_mb=16 if bulk else 2)
        self._checkpointer = WalCheckpointer(path, every=CHECKPOINT_RECORDS) if path is not None else None
        self._since_restart = 0
        self._indexes_present: bool | None = None
        self._unanalyzed = 0
        self._analyzed = 0

    # -- state ---------------------------------------------------------------------------------------------
    def status(self) -> ReplicaStatus:
        """The live watermark and run, an open full snapshot and the number of live people."""
        with self.engine.connect() as connection:
            state = connection.execute(select(STATE).where(STATE.c.id == STATE_ROW)).mappings().one_or_none()
            people = 0
            if state is not None:
                people = int(
                    connection.scalar(
                        select(func.count()).select_from(Person).where(Person.generation == state["generacja"])
                    )
                    or 0
                )
        if state is None:
            return ReplicaStatus(None, None, None, None, None, None, None, 0)
        return ReplicaStatus(
            state["generacja"],
            state["znacznik"],
            state["id_zasilenia"],
            state["numer_paczki"],
            state["id_zasilenia_roboczego"],
            state["numer_paczki_roboczej"],
            state["znacznik_roboczy"],
            people,
            _recorded(state),
        )

    def verify(self, data_set: str | None = None) -> None:
        """Refuse now, before anything is read or sent, a replica this writer may not write, or a
        `data_set` it does not hold (`check_identity`; `apply` checks again in its transaction)."""
        with self.engine.connect() as connection:
            state = connection.execute(select(STATE).where(STATE.c.id == STATE_ROW)).mappings().one_or_none()
            if state is None:
                self._refuse_stateless(connection)
        self._check_identity(None if state is None else dict(state), data_set)

    def _check_identity(self, state: dict[str, Any] | None, data_set: str | None) -> dict[str, Any]:
        """Check the writer and the declared `data_set` against what the replica holds; return the state
        columns that record the identity where the replica has not recorded it yet (a new replica, or one
        created before identities were recorded)."""
        recorded = _recorded(state) if state is not None else ReplicaIdentity(None, None, None)
        unrecorded = recorded.unrecorded()
        if unrecorded:
            raise ReplicaMismatch(
                f"Replika {self._shown} nie podaje, czyje dane zawiera: w stan_repliki brak wartości "
                f"{', '.join(unrecorded)} ({recorded.describe()}), a tak replik nie zapisuje żaden program platformy. "
                "Niczego w niej nie zmieniono; sprawdź, kto zmieniał bazę repliki, albo utwórz ją na nowo "
                "(zasilenie pełne do nowej, pustej bazy)."
            )
        check_identity(recorded, self.identity)
        holds = ReplicaIdentity(
            recorded.data_set or self.identity.data_set,
            recorded.kind or self.identity.kind,
            recorded.controller or self.identity.controller,
        )
        if data_set is not None:
            check_identity(holds, ReplicaIdentity(data_set, None, None))
        missing = {
            column: value
            for column, known, value in (
                ("zbior", recorded.data_set, holds.data_set),
                ("rodzaj", recorded.kind, holds.kind),
                ("administrator", recorded.controller, holds.controller),
            )
            if known is None and value is not None
        }
        return missing

    # -- the write path ------------------------------------------------------------------------------------
    def apply(
        self,
        header: BatchHeader,
        records: Iterable[RecordLike],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> LoadReport:
        """Apply one batch in one transaction; return what happened (or raise, changing nothing)."""
        if header.kind not in (FULL, INCREMENTAL):
            raise SchemaViolation(f"Nieznany rodzaj paczki: {header.kind}.")
        self._restart_log()
        # A full batch held in memory is first written without the identity checks: the unique
        # constraint on (generation, source key) and PESEL's unique index (absent while a first snapshot
        # loads: checked when it is published) refuse a person already loaded, and only then is the batch
        # written again, checked, so that such people are reported one by one.
        optimistic = header.kind == FULL and isinstance(records, Sequence) and progress is None
        try:
            try:
                report, generation, old_generation = self._transaction(
                    header, records, progress, checked=not optimistic
                )
            except self._integrity_errors:
                if not optimistic:
                    raise
                report, generation, old_generation = self._transaction(header, records, progress, checked=True)
        except OperationalError as error:
            if "locked" not in str(error).lower():
                raise
            raise busy(self.identity.data_set or self.kind.code) from error  # another writer held it too long
        except self._integrity_errors as error:
            raise DuplicatePerson(
                "Paczka zawiera osobę, która już występuje w zasilanym zbiorze (ten sam identyfikator źródłowy "
                "albo PESEL); paczki nie zastosowano."
            ) from error
        if report.repeated:
            return report
        if self._checkpointer is not None:
            self._checkpointer.written(report.loaded + report.deleted)
            self._since_restart += report.loaded + report.deleted
        if report.snapshot_live and old_generation != generation:
            self._drop_generations(keep=(generation,))
        self._keep_statistics(report.loaded)
        return report

    def _transaction(
        self,
        header: BatchHeader,
        records: Iterable[RecordLike],
        progress: Callable[[int], None] | None,
        *,
        checked: bool,
    ) -> tuple[LoadReport, int, int]:
        """Write the batch in one transaction: (report, generation written, generation live before)."""
        report = LoadReport(
            header.data_set or self.identity.data_set or self.kind.code,  # a unit's OPS-9901022, not OPS
            header.kind,
            batch_id=header.batch_id,
            run_id=header.run_id,
            sequence=header.sequence,
            watermark=header.watermark,
        )
        known = self._indexes_present
        offered = hashlib.sha256()
        records = offered_records(records, offered)
        try:
            with self.engine.begin() as connection:
                state = self._lock_state(connection)
                identity = self._check_identity(state, header.data_set)
                if identity:
                    connection.execute(update(STATE).where(STATE.c.id == STATE_ROW).values(**identity))
                if self._already_applied(connection, state, header, report, records, offered):
                    return report, 0, 0
                generation = self._target_generation(connection, state, header)
                if header.kind == FULL:
                    self._deferred_indexes(connection, report, present=_holds_others(connection, generation))
                self._write(connection, generation, header, records, report, progress, checked=checked)
                if header.kind == INCREMENTAL or header.final:
                    # Before people become findable: the deferred indexes (built by sorting after a first load).
                    self._deferred_indexes(connection, report, present=True)
                if header.kind == FULL and header.final:
                    self._refuse_empty_snapshot(connection, header, generation, report)
                self._record(connection, header, report, generation, offered.hexdigest())
                new_state = self._advance(state, header, generation, report)
                connection.execute(update(STATE).where(STATE.c.id == STATE_ROW).values(**new_state))
                return report, generation, state["generacja"]
        except BaseException:
            self._indexes_present = known  # the index DDL, if any, was rolled back with the batch
            raise

    @staticmethod
    def _refuse_empty_snapshot(
        connection: Connection, header: BatchHeader, generation: int, report: LoadReport
    ) -> None:
        """The last batch of a full run would publish nobody although the run's records were refused (the wrong
        adapter for the data set, every PESEL's check digit wrong): refused, through the hub and directly alike.
        The feeder guarded only against rejections at the source; the replica's own went through."""
        if connection.scalar(select(func.count()).select_from(PERSONS).where(Person.generation == generation)):
            return
        runs = select(func.coalesce(func.sum(Load.rejected), 0)).where(Load.run_id == header.run_id)
        earlier = connection.scalar(runs)
        refused = int(earlier or 0) + len(report.rejected)
        if not refused:
            return  # a data set with nobody in it is published as such
        examples = "; ".join(f"{r.source_key}: {r.reason}" for r in report.rejected[:3])
        raise EmptySnapshot(
            f"Odrzucono wszystkie rekordy zasilenia pełnego {header.run_id} ({refused})"
            + (f", np. {examples}" if examples else "")
            + ". Pustej migawki nie opublikowano: replika pozostaje bez zmian. Sprawdź adapter, zbiór i dane źródła."
        )

    def _deferred_indexes(self, connection: Connection, report: LoadReport, *, present: bool) -> None:
        """Create or drop the `DEFERRED_INDEXES`, once per state this writer has not yet seen (a check costs
        an inspection). Before PESEL's unique index is built, people of a snapshot whose PESEL a person
        loaded before them has are taken out again and reported with this batch (`_withdraw_repeated_pesels`)."""
        if self._indexes_present is present:
            return
        if present:
            try:
                with connection.begin_nested():
                    _create_or_drop_deferred_indexes(connection, present=True)
            except self._integrity_errors:
                self._withdraw_repeated_pesels(connection, report)
                _create_or_drop_deferred_indexes(connection, present=True)
        else:
            _create_or_drop_deferred_indexes(connection, present=False)
        # Known only once committed: forgotten again if this transaction fails (see `_transaction`).
        self._indexes_present = present

    @staticmethod
    def _withdraw_repeated_pesels(connection: Connection, report: LoadReport) -> None:
        """Delete every person whose generation holds a person with the same PESEL and a lower id (loaded
        before them): the check a batch makes against its snapshot, made here for a whole first snapshot."""
        repeated = (
            select(Person.generation, Person.pesel)
            .where(Person.pesel.is_not(None))
            .group_by(Person.generation, Person.pesel)
            .having(func.count() > 1)
        )
        for generation, pesel in connection.execute(repeated).all():
            people = connection.execute(
                select(Person.id, Person.source_key)
                .where(Person.generation == generation, Person.pesel == pesel)
                .order_by(Person.id)
            ).all()
            owner = people[0][1]
            later = [person_id for person_id, _key in people[1:]]
            connection.execute(delete(Sections).where(Sections.person_id.in_(later)))
            connection.execute(delete(Person).where(Person.id.in_(later)))
            for _person_id, key in people[1:]:
                report.rejected.append(
                    Rejection(
                        key,
                        f"Ten numer PESEL ma w replice inną osobę (identyfikator {owner}), przesłana wcześniej w tym "
                        "zasileniu pełnym; osobę usunięto przy publikacji migawki.",
                    )
                )
            report.deleted += len(later)

    @property
    def _integrity_errors(self) -> tuple[type[Exception], ...]:
        """SQLAlchemy's IntegrityError and the driver's own (PostgreSQL's COPY runs on the driver's cursor)."""
        driver = getattr(self.engine.dialect.dbapi, "IntegrityError", None)
        return (IntegrityError, driver) if isinstance(driver, type) else (IntegrityError,)

    def _restart_log(self) -> None:
        """With a `WalCheckpointer`: start the log over once the thread has copied it (and in any case
        after a few rounds' worth of records, should the thread have stopped: the log stays bounded)."""
        checkpointer = self._checkpointer
        if checkpointer is None:
            return
        if checkpointer.restart_due or self._since_restart >= 4 * checkpointer.every:
            with self.engine.connect() as connection:
                checkpointer.restart(connection.connection.driver_connection)
            self._since_restart = 0

    def _keep_statistics(self, added: int) -> None:
        """PostgreSQL plans from statistics: a replica filled from empty needs them refreshed as it grows,
        or the identity checks become sequential scans (every time it doubles; amortised, cheap)."""
        if self.engine.dialect.name != "postgresql":
            return
        self._unanalyzed += added
        if self._unanalyzed < max(5_000, self._analyzed):
            return
        with self.engine.begin() as connection:
            for table in (PERSONS, SECTIONS):
                connection.exec_driver_sql(f"ANALYZE {self.engine.dialect.identifier_preparer.format_table(table)}")
        self._analyzed += self._unanalyzed
        self._unanalyzed = 0

    def _refuse_stateless(self, connection: Connection) -> None:
        """Refuse a replica that holds people but no state row: the row is created in the transaction of the
        first people written, so it was deleted, and with it what the replica holds (a writer creating it
        anew would take over another office's people)."""
        if connection.execute(select(Person.id).limit(1)).first() is not None:
            raise ReplicaMismatch(
                f"Replika {self._shown} zawiera osoby, ale nie ma wiersza stanu (stan_repliki), który zapisuje, "
                "czyje to dane. Niczego w niej nie zmieniono; sprawdź, kto zmieniał bazę repliki, albo utwórz ją "
                "na nowo (zasilenie pełne do nowej, pustej bazy)."
            )

    @property
    def _shown(self) -> str:
        """The replica's URL as messages show it (no password)."""
        return self.engine.url.render_as_string(hide_password=True)

    def _lock_state(self, connection: Connection) -> dict[str, Any]:
        query = select(STATE).where(STATE.c.id == STATE_ROW).with_for_update()
        row = connection.execute(query).mappings().one_or_none()
        if row is None:
            self._refuse_stateless(connection)
            values = {"id": STATE_ROW, "generacja": 1, "zaktualizowano": dt.datetime.now(dt.UTC)}
            connection.execute(insert(STATE).values(**values))
            row = connection.execute(query).mappings().one()
        return dict(row)

    def _already_applied(
        self,
        connection: Connection,
        state: dict[str, Any],
        header: BatchHeader,
        report: LoadReport,
        records: Iterable[RecordLike],
        offered: Any,
    ) -> bool:
        """True for a batch of a run that was applied before (a retry): acknowledge it, apply nothing.

        A retry offers what the batch applied then (the same `skrot_paczki`); the same number of the run with
        other records (a second feeder resuming the run, a feeder that rebuilt its batch) is refused, never
        acknowledged while its people are left out. A batch recorded before the digest existed cannot tell."""
        if header.run_id is None or header.sequence is None:
            return False
        previous = (
            connection.execute(
                select(LOADS).where(LOADS.c.id_zasilenia == header.run_id, LOADS.c.numer_paczki == header.sequence)
            )
            .mappings()
            .first()
        )
        if previous is None:
            open_run = state["id_zasilenia_roboczego"] if header.kind == FULL else state["id_zasilenia"]
            last = state["numer_paczki_roboczej"] if header.kind == FULL else state["numer_paczki"]
            if header.sequence > 1 and (open_run != header.run_id or (last or 0) + 1 != header.sequence):
                raise BatchOutOfOrder(
                    f"Paczka nr {header.sequence} zasilenia {header.run_id} nie jest kolejną paczką otwartego "
                    f"zasilenia (ostatnio przyjęta: {open_run or 'brak'} nr {last or 0}); "
                    "wznów zasilenie od stanu zwróconego przez operację StanZasilania.",
                )
            return False
        for _record in records:  # what this batch offers (`offered_records` digests it on the way)
            pass
        if previous["skrot_paczki"] is not None and previous["skrot_paczki"] != offered.hexdigest():
            raise BatchOutOfOrder(
                f"Paczka nr {header.sequence} zasilenia {header.run_id} została już przyjęta z inną treścią; "
                "ponowienie paczki musi zawierać te same rekordy. Nowe rekordy wyślij w kolejnej paczce "
                "(stan zwraca operacja StanZasilania).",
            )
        report.repeated = True
        report.loaded = previous["rekordy"]
        report.deleted = previous["usuniete"]
        report.digest = previous["skrot"]
        report.watermark = previous["znacznik"]
        report.snapshot_live = header.kind == FULL and state["id_zasilenia"] == header.run_id
        return True

    def _target_generation(self, connection: Connection, state: dict[str, Any], header: BatchHeader) -> int:
        live: int = state["generacja"]
        if header.kind == INCREMENTAL:
            return live
        staging = state["generacja_robocza"]
        if staging is not None and header.run_id is not None and state["id_zasilenia_roboczego"] == header.run_id:
            return int(staging)
        # A new full snapshot: a new generation; an abandoned open snapshot is discarded with this batch.
        if staging is not None:
            self._delete_generation(connection, int(staging))
        top = connection.scalar(select(func.max(Person.generation))) or 0
        return max(int(top), live) + 1

    def _write(
        self,
        connection: Connection,
        generation: int,
        header: BatchHeader,
        records: Iterable[RecordLike],
        report: LoadReport,
        progress: Callable[[int], None] | None,
        *,
        checked: bool = True,
    ) -> None:
        """Write the records (`checked`: against the people this generation holds already, one by one)."""
        digest = hashlib.sha256()
        update = digest.update
        next_id = int(connection.scalar(select(func.coalesce(func.max(Person.id), 0))) or 0) + 1
        seen: set[str] = set()
        seen_pesel: dict[str, str] = {}
        chunk: list[RecordLike] = []
        # Rows as plain tuples in the tables' column order (PERSON_COLUMNS, SECTION_COLUMNS).
        people: list[tuple[Any, ...]] = []
        sections: list[tuple[Any, ...]] = []

        def flush_chunk() -> None:
            nonlocal next_id
            if not chunk:
                return
            accepted = self._check_chunk(connection, generation, header, chunk, report) if checked else chunk
            for record in accepted:
                if record.deleted:
                    update(b"D" + record.source_key.encode() + b"\n")
                    continue
                person_id = next_id
                people.append(
                    (
                        person_id,
                        generation,
                        record.source_key,
                        record.pesel,
                        name_key(record.surname),
                        name_key(record.first_name),
                        record.birth_date,
                        record.document_kind,
                        record.document_number,
                    )
                )
                contents, content = pack_sections(record.sections)
                sections.append((person_id, contents, content))
                update(content)
                next_id += 1
                report.loaded += 1
            chunk.clear()
            if len(people) >= BULK:
                self._flush(connection, people, sections)

        for record in records:
            report.read += 1
            if progress is not None:
                progress(1)
            if record.source_key in seen:
                if self.duplicates == "refuse":
                    raise DuplicatePerson(
                        f"Osoba o identyfikatorze źródłowym {record.source_key} występuje w paczce więcej niż raz; "
                        "paczki nie zastosowano.",
                        details=(Detail(DetailKind.SOURCE_KEY, record.source_key),),
                    )
                report.rejected.append(
                    Rejection(
                        record.source_key, "Rekord o tym identyfikatorze źródłowym wystąpił w paczce więcej niż raz."
                    )
                )
                continue
            seen.add(record.source_key)
            problem = record_problem(record)
            if problem is None and record.pesel and not record.deleted:
                other = seen_pesel.get(record.pesel)
                if other is not None:
                    problem = f"Osoba o tym numerze PESEL wystąpiła w paczce więcej niż raz (także {other})."
                else:
                    seen_pesel[record.pesel] = record.source_key
            if problem is not None:
                report.rejected.append(Rejection(record.source_key, problem))
                continue
            chunk.append(record)
            if len(chunk) >= CHUNK:
                flush_chunk()
        flush_chunk()
        self._flush(connection, people, sections)
        report.digest = digest.hexdigest()

    def _check_chunk(
        self,
        connection: Connection,
        generation: int,
        header: BatchHeader,
        chunk: list[RecordLike],
        report: LoadReport,
    ) -> list[RecordLike]:
        """Keep the records whose PESEL is free; in an incremental target, replace (or delete) their people."""
        keys = [r.source_key for r in chunk]
        if header.kind == INCREMENTAL:
            deleted_keys = [r.source_key for r in chunk if r.deleted]
            if deleted_keys:
                # Counted per deletion record that found its person; the others were absent already.
                report.deleted += int(
                    connection.scalar(
                        select(func.count())
                        .select_from(Person)
                        .where(Person.generation == generation, Person.source_key.in_(deleted_keys))
                    )
                    or 0
                )
        else:
            present = set(
                connection.scalars(
                    select(Person.source_key).where(Person.generation == generation, Person.source_key.in_(keys))
                )
            )
            if present:
                if self.duplicates == "refuse":
                    raise DuplicatePerson(
                        "Osoba o identyfikatorze źródłowym "
                        + ", ".join(sorted(present)[:5])
                        + " została już przesłana w tym zasileniu pełnym; paczki nie zastosowano.",
                        details=tuple(Detail(DetailKind.SOURCE_KEY, key) for key in sorted(present)[:20]),
                    )
                for record in chunk:
                    if record.source_key in present:
                        report.rejected.append(
                            Rejection(record.source_key, "Rekord o tym identyfikatorze źródłowym już załadowano.")
                        )
                chunk = [r for r in chunk if r.source_key not in present]
        accepted = self._free_pesels(connection, generation, header, chunk, report)
        if header.kind == INCREMENTAL:
            # Only now are the accepted records' people replaced (or deleted): a record refused above leaves its
            # person as it was, never deleted without a word.
            replaced = [r.source_key for r in accepted]
            existing = select(Person.id).where(Person.generation == generation, Person.source_key.in_(replaced))
            connection.execute(delete(Sections).where(Sections.person_id.in_(existing)))
            connection.execute(delete(Person).where(Person.generation == generation, Person.source_key.in_(replaced)))
        return accepted

    def _free_pesels(
        self, connection: Connection, generation: int, header: BatchHeader, chunk: list[RecordLike], report: LoadReport
    ) -> list[RecordLike]:
        """The chunk's records whose PESEL no other person of the target holds (the others are rejected). In an
        incremental batch the chunk's own people are about to be replaced, so their PESELs do not count."""
        pesels = [r.pesel for r in chunk if r.pesel and not r.deleted]
        if not pesels or self._indexes_present is False:
            # Without PESEL's index (a first snapshot), the snapshot is checked once, when it is published.
            return chunk
        query = select(Person.pesel, Person.source_key).where(Person.generation == generation, Person.pesel.in_(pesels))
        if header.kind == INCREMENTAL:
            query = query.where(Person.source_key.not_in([r.source_key for r in chunk]))
        taken: dict[str, str] = {str(pesel): key for pesel, key in connection.execute(query)}
        accepted = []
        for record in chunk:
            owner = taken.get(record.pesel or "")
            if owner is not None and not record.deleted:
                report.rejected.append(
                    Rejection(record.source_key, f"Ten numer PESEL ma w replice inną osobę (identyfikator {owner}).")
                )
                continue
            accepted.append(record)
        return accepted

    @staticmethod
    def _flush(connection: Connection, people: list[tuple[Any, ...]], sections: list[tuple[Any, ...]]) -> None:
        # The driver's executemany (COPY on PostgreSQL) with the statement compiled once per dialect:
        # SQLAlchemy's per-row parameter processing would cost more than the insert (the values are
        # plain str/int/date/bytes).
        if people:
            _bulk_insert(connection, PERSONS, PERSON_COLUMNS, people)
        if sections:
            _bulk_insert(connection, SECTIONS, SECTION_COLUMNS, sections)
        people.clear()
        sections.clear()

    @staticmethod
    def _record(connection: Connection, header: BatchHeader, report: LoadReport, generation: int, offered: str) -> None:
        connection.execute(
            insert(Load).values(
                offered_digest=offered,
                batch_id=header.batch_id,
                run_id=header.run_id,
                sequence=header.sequence,
                kind=header.kind,
                applied_at=dt.datetime.now(dt.UTC),
                records=report.loaded,
                deleted=report.deleted,
                rejected=len(report.rejected),
                digest=report.digest,
                watermark=header.watermark,
                generation=generation,
            )
        )

    @staticmethod
    def _advance(state: dict[str, Any], header: BatchHeader, generation: int, report: LoadReport) -> dict[str, Any]:
        values: dict[str, Any] = {"zaktualizowano": dt.datetime.now(dt.UTC)}
        live = {"znacznik": header.watermark, "id_zasilenia": header.run_id, "numer_paczki": header.sequence}
        if header.kind == INCREMENTAL:
            # An incremental batch without a Znacznik (a correction an office's system sends by hand) claims no
            # position in the source: the feeder's position (watermark, run, number) stays. It wiped them, and
            # the feeding module's next run then refused to go on without a new full feed.
            if header.watermark is not None:
                values.update(live)
        elif header.final:
            values.update(live)
            values.update(
                generacja=generation,
                generacja_robocza=None,
                id_zasilenia_roboczego=None,
                numer_paczki_roboczej=None,
                znacznik_roboczy=None,
            )
            report.snapshot_live = True
        else:
            values.update(
                generacja_robocza=generation,
                id_zasilenia_roboczego=header.run_id,
                numer_paczki_roboczej=header.sequence,
                znacznik_roboczy=header.watermark,
            )
        return values

    @staticmethod
    def _delete_generation(connection: Connection, generation: int) -> None:
        people = select(Person.id).where(Person.generation == generation)
        connection.execute(delete(Sections).where(Sections.person_id.in_(people)))
        connection.execute(delete(Person).where(Person.generation == generation))

    def _drop_generations(self, keep: tuple[int, ...]) -> None:
        """Remove snapshots that are neither live nor open (after a swap; nobody reads them any more)."""
        with self.engine.begin() as connection:
            row = connection.execute(select(STATE).where(STATE.c.id == STATE_ROW)).mappings().one()
            wanted = {*keep, row["generacja"]}
            if row["generacja_robocza"] is not None:
                wanted.add(row["generacja_robocza"])
            stale = connection.scalars(
                select(Person.generation).where(Person.generation.not_in(wanted)).distinct()
            ).all()
            for generation in stale:
                self._delete_generation(connection, generation)

    def dispose(self) -> None:
        """Release the replica's connections (the last one to close checkpoints the log)."""
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.engine.dispose()


#: The indexes a replica's first snapshot is loaded without (nobody can be found in a snapshot before it is
#: published), built by sorting when its last batch publishes it: the lookups by name and birth date and by
#: document, and PESEL's unique index. Kept up to date row by row they are the writer's most random writes
#: (at a million people, PESEL's alone was a third of the pages written). The unique (generation, source
#: key) constraint stays: source keys come in order, and it guards the optimistic batches.
DEFERRED_INDEXES = tuple(PERSONS.indexes)


def _holds_others(connection: Connection, generation: int) -> bool:
    """Whether the replica holds people of another generation than `generation` (a live snapshot)."""
    # Two index range probes (a min() and a max() in one SELECT would scan the whole table in SQLite).
    for other in (Person.generation < generation, Person.generation > generation):
        if connection.execute(select(Person.id).where(other).limit(1)).first() is not None:
            return True
    return False


def _create_or_drop_deferred_indexes(connection: Connection, *, present: bool) -> None:
    """Create (or drop) the `DEFERRED_INDEXES` (checked first: idempotent)."""
    for index in DEFERRED_INDEXES:
        if present:
            index.create(connection, checkfirst=True)
        else:
            index.drop(connection, checkfirst=True)


_COMPILED: dict[tuple[str, str], tuple[str, Callable[[tuple[Any, ...]], Any] | None]] = {}


def _bulk_insert(connection: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """INSERT many rows (tuples in the order of `columns`) through the driver; COPY on PostgreSQL.

    psycopg's executemany costs a round trip per row; COPY streams them in one statement.
    """
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
        target = dialect.identifier_preparer.format_table(table)
        cursor = connection.connection.cursor()
        try:
            with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    key = (dialect.name, table.name)
    compiled = _COMPILED.get(key)
    if compiled is None:
        statement = insert(table).compile(dialect=dialect, column_keys=list(columns))
        arrange: Callable[[tuple[Any, ...]], Any] | None
        if dialect.positional and statement.positiontup:
            order = tuple(statement.positiontup)
            # The tuples are in the table's column order already, which is the statement's on every
            # dialect seen so far; otherwise they are rearranged.
            arrange = None if order == columns else operator.itemgetter(*(columns.index(n) for n in order))
        else:

            def arrange(row: tuple[Any, ...]) -> Any:
                return dict(zip(columns, row, strict=True))

        compiled = (statement.string, arrange)
        _COMPILED[key] = compiled
    sql, arrange = compiled
    if arrange is None and dialect.name == "sqlite":
        # Many rows per INSERT: each statement execution costs the driver more than a row does.
        per, many = _sqlite_multirow(sql, len(columns))
        whole = len(rows) - len(rows) % per
        if whole:
            connection.exec_driver_sql(
                many, [tuple(itertools.chain.from_iterable(rows[i : i + per])) for i in range(0, whole, per)]
            )
        if whole < len(rows):
            connection.exec_driver_sql(sql, rows[whole:])
        return
    connection.exec_driver_sql(sql, rows if arrange is None else [arrange(row) for row in rows])


def _sqlite_multirow(sql: str, width: int) -> tuple[int, str]:
    """(rows per statement, the single-row `INSERT ... VALUES (?, ...)` repeated that many times); at most
    999 parameters, the limit of SQLite before 3.32."""
    per = max(1, 999 // width)
    found = _MULTIROW.get(sql)
    if found is None:
        head, values = sql.rsplit(" VALUES ", 1)
        found = _MULTIROW[sql] = head + " VALUES " + ", ".join([values] * per)
    return per, found


_MULTIROW: dict[str, str] = {}


class Loader:
    """Applies feed files to one replica, each file one batch (`platforma load`, the demo)."""

    def __init__(
        self,
        replica_url: str,
        data_set_kind: str,
        schema: etree.XMLSchema | None,
        *,
        data_set: str | None = None,
        controller: str | None = None,
    ) -> None:
        self.writer = ReplicaWriter(replica_url, data_set_kind, data_set=data_set, controller=controller)
        self.kind = self.writer.kind
        self.schema = schema
        self.engine = self.writer.engine

    def load(
        self,
        source: str | Path | IO[bytes],
        *,
        progress: Callable[[int], None] | None = None,
        watermark: str | None = None,
    ) -> LoadReport:
        """Apply one feed file in one transaction; return what happened."""
        items = _iter_feed(source, self.schema)
        header: BatchHeader | None = None
        for attributes, element in items:
            if element is None:
                header = checked_header(attributes)
                break
        if header is None:
            raise SchemaViolation("Paczka nie zawiera elementu Paczka z rekordami.")
        if watermark is not None:
            header = BatchHeader(
                header.data_set, header.kind, header.batch_id, header.run_id, header.sequence, watermark, header.final
            )
        data_element = self.kind.data_element
        records = (checked_record(element, data_element) for _a, element in items if element is not None)
        return self.writer.apply(header, records, progress=progress)

    def dispose(self) -> None:
        """Release the replica's connections."""
        self.writer.dispose()


def offered_records(records: Iterable[RecordLike], digest: Any) -> Iterator[RecordLike]:
    """The records, each added to `digest` (a hashlib object) as it passes: what a batch offers, rejected records
    too, independent of what the replica holds (`ReplicaWriter._already_applied`)."""
    update = digest.update
    for record in records:
        fields = (
            record.source_key,
            "U" if record.deleted else "",
            record.pesel or "",
            record.surname,
            record.first_name,
            "" if record.birth_date is None else record.birth_date.isoformat(),
            record.document_kind or "",
            record.document_number or "",
        )
        sections = record.sections
        bodies: tuple[bytes, ...]
        if isinstance(sections, PackedSections):  # as `pack_sections` makes them: nothing to unpack
            contents, bodies = sections.contents, (sections.content,)
        else:
            contents = " ".join(f"{name}:{len(body)}" for name, body in sections)
            bodies = tuple(body for _name, body in sections)
        update("\x1f".join((*fields, contents, "")).encode("utf-8", "surrogatepass"))
        for body in bodies:
            update(body)
        update(b"\x1d")
        yield record
