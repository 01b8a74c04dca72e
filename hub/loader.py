"""The loader: fills a replica from a feed file (xsd/zasilanie), streaming, in one transaction.

Memory does not grow with the file: records are parsed one at a time (lxml iterparse, validated against
the feed schema while parsing) and inserted in bulk batches. A full batch replaces the replica's
content; an incremental one replaces or deletes people by their source key. Any failure rolls back:
the replica is exactly as it was before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lxml import etree
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.engine import Connection

from hub import catalog
from hub.errors import ForbiddenXml, InvalidPesel, MalformedXml, SchemaViolation, UnknownDataSet
from hub.identifiers import normalise_name, validate_pesel
from hub.replicas import Load, Person, Section, writable_engine

M = "{" + catalog.MODEL_NS + "}"
F = "{" + catalog.FEED_NS + "}"
BULK = 1000
PERSONS: Table = Person.__table__  # type: ignore[assignment]
SECTIONS: Table = Section.__table__  # type: ignore[assignment]


@dataclass
class Rejection:
    """A record that was not loaded, with its source key and the reason (Polish)."""

    source_key: str
    reason: str


@dataclass
class LoadReport:
    """What a load did: counts, rejections, the digest of what was applied."""

    data_set: str
    kind: str
    read: int = 0
    loaded: int = 0
    deleted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    digest: str = ""


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


def _text(element: etree._Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    return found.text if found is not None else None


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
            sections.append((name, etree.tostring(section, method="c14n", exclusive=True)))
    birth = _text(personal, M + "DataUrodzenia")
    pesel = _text(personal, M + "Pesel")
    return ParsedRecord(
        source_key=source_key,
        deleted=deleted,
        pesel=pesel,
        surname=_text(personal, M + "Nazwisko") or "",
        first_name=_text(personal, M + "Imie") or "",
        birth_date=dt.date.fromisoformat(birth) if birth else None,
        document_kind=_text(personal, f"{M}DokumentTozsamosci/{M}Rodzaj"),
        document_number=(_text(personal, f"{M}DokumentTozsamosci/{M}Numer") or "").replace(" ", "").upper() or None,
        sections=tuple(sections),
    )


def iter_feed(
    source: str | Path | IO[bytes], schema: etree.XMLSchema | None
) -> Iterator[tuple[dict[str, str], etree._Element]]:
    """Yield (batch attributes, record element) pairs, validating while parsing; memory stays flat."""
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
            raise SchemaViolation(f"Paczka nie jest zgodna ze schematem zasilania{line}: {entry.message}") from error
        raise MalformedXml(f"Paczka nie jest poprawnym dokumentem XML{line}: {error}") from error


class Loader:
    """Applies feed files to one replica (the only writer of replicas)."""

    def __init__(self, replica_url: str, data_set_kind: str, schema: etree.XMLSchema | None) -> None:
        kind = catalog.kind(data_set_kind)
        if kind is None:
            raise UnknownDataSet(f"Nieznany rodzaj zbioru: {data_set_kind}.")
        self.kind = kind
        self.schema = schema
        self.engine = writable_engine(replica_url)

    def load(
        self,
        source: str | Path | IO[bytes],
        *,
        progress: Callable[[int], None] | None = None,
        watermark: str | None = None,
    ) -> LoadReport:
        """Apply one feed file in one transaction; return what happened."""
        digest = hashlib.sha256()
        report = LoadReport(self.kind.code, "")
        with self.engine.begin() as connection:
            next_id = int(connection.scalar(select(func.coalesce(func.max(Person.id), 0))) or 0) + 1
            people: list[dict[str, Any]] = []
            sections: list[dict[str, Any]] = []
            seen: set[str] = set()
            seen_pesel: set[str] = set()
            started = False
            for attributes, element in iter_feed(source, self.schema):
                if not started:
                    started = True
                    self._start(connection, attributes, report)
                report.read += 1
                record = parse_record(element, self.kind.data_element)
                problem = self._problem(record, seen, seen_pesel)
                if problem:
                    report.rejected.append(Rejection(record.source_key, problem))
                    continue
                seen.add(record.source_key)
                if report.kind == "PRZYROSTOWA":
                    removed = connection.execute(delete(Person).where(Person.source_key == record.source_key))
                    if record.deleted:
                        report.deleted += removed.rowcount or 0
                        digest.update(b"D" + record.source_key.encode() + b"\n")
                        continue
                if record.pesel:
                    seen_pesel.add(record.pesel)
                people.append(
                    {
                        "id": next_id,
                        "id_zrodlowy": record.source_key,
                        "pesel": record.pesel,
                        "nazwisko_klucz": normalise_name(record.surname),
                        "imie_klucz": normalise_name(record.first_name),
                        "data_urodzenia": record.birth_date,
                        "dokument_rodzaj": record.document_kind,
                        "dokument_numer": record.document_number,
                    }
                )
                for name, content in record.sections:
                    sections.append({"osoba_id": next_id, "sekcja": name, "tresc": content})
                    digest.update(content)
                next_id += 1
                report.loaded += 1
                if len(people) >= BULK:
                    self._flush(connection, people, sections)
                if progress is not None:
                    progress(1)
            if not started:
                raise SchemaViolation("Paczka nie zawiera elementu Paczka z rekordami.")
            self._flush(connection, people, sections)
            report.digest = digest.hexdigest()
            connection.execute(
                insert(Load).values(
                    batch_id=None,
                    kind=report.kind,
                    applied_at=dt.datetime.now(dt.UTC),
                    records=report.loaded,
                    digest=report.digest,
                    watermark=watermark,
                )
            )
        return report

    def _start(self, connection: Connection, attributes: dict[str, str], report: LoadReport) -> None:
        data_set = attributes.get("Zbior")
        if data_set != self.kind.code:
            raise UnknownDataSet(f"Paczka dotyczy zbioru {data_set}, a replika przyjmuje zbiór {self.kind.code}.")
        report.kind = attributes.get("Rodzaj", "PELNA")
        if report.kind == "PELNA":
            # A full snapshot replaces the previous one inside this transaction: readers see old or new.
            connection.execute(delete(Section))
            connection.execute(delete(Person))

    @staticmethod
    def _problem(record: ParsedRecord, seen: set[str], seen_pesel: set[str]) -> str | None:
        if record.source_key in seen:
            return "Rekord o tym identyfikatorze źródłowym wystąpił w paczce więcej niż raz."
        if record.deleted:
            return None
        if record.birth_date is None or not record.surname:
            return "Rekord nie zawiera danych osobowych (nazwisko, data urodzenia)."
        if record.pesel:
            try:
                validate_pesel(record.pesel)
            except InvalidPesel:
                return "Nieprawidłowy numer PESEL."
            if record.pesel in seen_pesel:
                return "Osoba o tym numerze PESEL wystąpiła w paczce więcej niż raz."
        return None

    @staticmethod
    def _flush(connection: Connection, people: list[dict[str, Any]], sections: list[dict[str, Any]]) -> None:
        if people:
            connection.execute(insert(PERSONS), people)
        if sections:
            connection.execute(insert(SECTIONS), sections)
        people.clear()
        sections.clear()

    def dispose(self) -> None:
        self.engine.dispose()
