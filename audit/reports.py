"""Reports from the disclosure register (guideline 6; GDPR art. 15): per person, user, office or period.

`build_report` returns a report as bytes in the requested format: XML (`xsd/raport-1.xsd`, namespace
`urn:pl:platforma-komunikacyjna:raport:1`), CSV (semicolon-separated, UTF-8 with BOM, as Polish
spreadsheets expect) or PDF (weasyprint, from a sandboxed Jinja2 template), for a person's request.
`write_report` streams XML and CSV to a file, so a report over millions of records needs no memory.
Every report made is itself recorded in the chain as a security event of kind `RAPORT`.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from sqlalchemy import Select, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from audit.errors import AuditStorageError, ReportError, ReportTooLarge
from audit.labels import category_title
from audit.records import EventKind, Outcome, SecurityEvent
from audit.schema import DisclosureRow
from audit.store import AuditStore
from audit.templates import PDF_TEMPLATE
from contract.errors import InvalidPesel
from contract.identifiers import has_pesel_form, validate_pesel
from contract.polish_time import polish_zone
from contract.text import in_sight

REPORT_NS = "urn:pl:platforma-komunikacyjna:raport:1"
_R = "{" + REPORT_NS + "}"


class ReportKind(enum.StrEnum):
    """Whose disclosures the report lists."""

    PERSON = "OSOBA"
    USER = "UZYTKOWNIK"
    OFFICE = "URZAD"
    PERIOD = "OKRES"
    DATA_SETS = "ZBIORY"  # the disclosures from a unit's (or a gmina's units') data sets: the controller's view


class ReportFormat(enum.StrEnum):
    """The format a report is made in."""

    XML = "xml"
    CSV = "csv"
    PDF = "pdf"


_TITLES = {
    ReportKind.PERSON: "Informacja o udostępnieniu danych osobowych",
    ReportKind.USER: "Zestawienie danych osobowych pozyskanych przez użytkownika",
    ReportKind.OFFICE: "Zestawienie danych osobowych pozyskanych przez urząd",
    ReportKind.PERIOD: "Zestawienie ujawnień danych osobowych w okresie",
    ReportKind.DATA_SETS: "Zestawienie udostępnień danych ze zbiorów administratora",
}


@dataclass(frozen=True)
class ReportRequest:
    """What a report covers. Times are half-open: `since` <= time < `until`.

    Refusals are listed only if `include_refusals` (default: not for a person, whose question is who
    *received* their data; yes for the auditor's reports on users, offices and periods).
    """

    kind: ReportKind
    pesel: str | None = None
    user: str | None = None
    office: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    include_refusals: bool | None = None
    data_sets: tuple[str, ...] = ()

    @property
    def with_refusals(self) -> bool:
        if self.include_refusals is None:
            return self.kind is not ReportKind.PERSON
        return self.include_refusals

    def check(self) -> None:
        """Raise `ReportError` (Polish) if the criteria do not fit the kind of report."""
        needed = {ReportKind.PERSON: "pesel", ReportKind.USER: "user", ReportKind.OFFICE: "office"}
        names = {"pesel": "numer PESEL osoby", "user": "login użytkownika", "office": "kod urzędu"}
        attribute = needed.get(self.kind)
        if attribute is not None and not getattr(self, attribute):
            raise ReportError(f"Raport rodzaju {self.kind.value} wymaga podania: {names[attribute]}.")
        if self.kind is ReportKind.DATA_SETS and not self.data_sets:
            raise ReportError("Raport rodzaju ZBIORY wymaga podania kodów zbiorów (jednostki albo gminy).")
        if self.kind is ReportKind.PERIOD and self.since is None and self.until is None:
            raise ReportError("Raport za okres wymaga podania początku lub końca okresu.")
        if self.pesel is not None:
            if not has_pesel_form(self.pesel):
                raise ReportError("Numer PESEL musi składać się z 11 cyfr.")
            try:  # as on SOAP: a number that cannot be anyone's yields no "no disclosures" document
                validate_pesel(self.pesel)
            except InvalidPesel as error:
                raise ReportError(error.message) from None
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ReportError("Początek okresu musi być wcześniejszy niż jego koniec.")


@dataclass(frozen=True)
class Requester:
    """Who asked for a report (recorded with it): login, office, and the channel (`CLI`, `SOAP`, ...)."""

    login: str
    office: str = ""
    source: str = "CLI"


@dataclass(frozen=True)
class ReportEntry:
    """One disclosure (or refusal) as a report shows it."""

    nr: int
    time: dt.datetime
    request_id: str
    user: str
    office: str
    channel: str
    identifier: str
    pesel: str | None
    data_set: str
    controller: str
    categories: tuple[str, ...]
    legal_basis: str
    purpose: str
    outcome: str
    digest: str
    reason: str
    link: str


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(polish_zone())


def _query(request: ReportRequest) -> Select[Any]:
    query = select(DisclosureRow)
    if request.pesel is not None:
        query = query.where(DisclosureRow.subject_pesel == request.pesel)
    if request.user is not None:
        query = query.where(DisclosureRow.user == request.user)
    if request.office is not None:
        query = query.where(DisclosureRow.office == request.office)
    if request.data_sets:
        query = query.where(DisclosureRow.data_set.in_(request.data_sets))
    if request.since is not None:
        query = query.where(DisclosureRow.time >= request.since)
    if request.until is not None:
        query = query.where(DisclosureRow.time < request.until)
    if not request.with_refusals:
        query = query.where(DisclosureRow.outcome == Outcome.DISCLOSED.value)
    return query


def _entries(session: Session, request: ReportRequest) -> Iterator[ReportEntry]:
    query = _query(request).order_by(DisclosureRow.nr).execution_options(yield_per=2000)
    for row in session.scalars(query):
        yield ReportEntry(
            nr=row.nr,
            time=row.time,
            request_id=row.request_id,
            user=row.user,
            office=row.office,
            channel=row.channel,
            identifier=row.identifier,
            pesel=row.subject_pesel,
            data_set=row.data_set,
            controller=row.controller,
            categories=tuple(c for c in row.categories.split(",") if c),
            legal_basis=row.legal_basis,
            purpose=row.purpose,
            outcome=row.outcome,
            digest=row.digest,
            reason=row.reason,
            link=row.link,
        )


@dataclass(frozen=True)
class _Context:
    request: ReportRequest
    requester: Requester
    issuer: str
    made: dt.datetime
    count: int
    labels: Mapping[tuple[str, str], str] | None


def _write_xml(context: _Context, entries: Iterator[ReportEntry], output: IO[bytes]) -> None:
    request = context.request
    with etree.xmlfile(output, encoding="utf-8") as xml:
        xml.write_declaration()
        with xml.element(_R + "Raport", nsmap={None: REPORT_NS}, Wersja="1"):
            header = etree.Element(_R + "Naglowek")
            etree.SubElement(header, _R + "Rodzaj").text = request.kind.value
            etree.SubElement(header, _R + "Tytul").text = _TITLES[request.kind]
            etree.SubElement(header, _R + "Wystawca").text = context.issuer
            etree.SubElement(header, _R + "DataSporzadzenia").text = _local(context.made).isoformat()
            requester = etree.SubElement(header, _R + "Zlecajacy")
            etree.SubElement(requester, _R + "Login").text = context.requester.login
            if context.requester.office:
                etree.SubElement(requester, _R + "Urzad").text = context.requester.office
            criteria = etree.SubElement(header, _R + "Kryteria")
            for name, value in (("Pesel", request.pesel), ("Uzytkownik", request.user), ("Urzad", request.office)):
                if value is not None:
                    etree.SubElement(criteria, _R + name).text = value
            for code in request.data_sets:
                etree.SubElement(criteria, _R + "Zbior").text = code
            if request.since is not None:
                etree.SubElement(criteria, _R + "Od").text = _local(request.since).isoformat()
            if request.until is not None:
                etree.SubElement(criteria, _R + "Do").text = _local(request.until).isoformat()
            etree.SubElement(criteria, _R + "ZOdmowami").text = "true" if request.with_refusals else "false"
            etree.SubElement(header, _R + "LiczbaWpisow").text = str(context.count)
            xml.write(header)
            with xml.element(_R + "Wpisy"):
                for entry in entries:
                    xml.write(_xml_entry(entry, context.labels))


#: xsd/raport-1.xsd's `Tekst`: a refusal's reason naming 64 unknown categories is longer, and is shortened.
REPORT_TEXT_MAX = 4000


def _bounded(text: str | None) -> str | None:
    if text is None or len(text) <= REPORT_TEXT_MAX:
        return text
    return text[: REPORT_TEXT_MAX - 1] + "…"


def _xml_entry(entry: ReportEntry, labels: Mapping[tuple[str, str], str] | None) -> etree._Element:
    element = etree.Element(_R + "Wpis")

    def add(name: str, value: str | None) -> None:
        if value is not None:
            etree.SubElement(element, _R + name).text = value

    add("Nr", str(entry.nr))
    add("Czas", _local(entry.time).isoformat())
    add("IdZapytania", entry.request_id)
    add("Uzytkownik", entry.user)
    add("Urzad", entry.office)
    add("Kanal", entry.channel)
    add("Identyfikator", entry.identifier)
    add("Pesel", entry.pesel)
    add("Zbior", entry.data_set)
    add("Administrator", entry.controller)
    categories = etree.SubElement(element, _R + "Kategorie")
    for code in entry.categories:
        category = etree.SubElement(categories, _R + "Kategoria", Kod=code)
        category.text = category_title(entry.data_set, code, labels)
    add("PodstawaPrawna", entry.legal_basis)
    add("Cel", _bounded(entry.purpose))
    add("Wynik", entry.outcome)
    add("SkrotSHA256", entry.digest or None)
    add("Powod", _bounded(entry.reason or None))
    add("SkrotWpisu", entry.link)
    return element


_CSV_COLUMNS = (
    "Nr",
    "Czas",
    "Uzytkownik",
    "Urzad",
    "Kanal",
    "Identyfikator",
    "PESEL",
    "Zbior",
    "Administrator",
    "Kategorie",
    "PodstawaPrawna",
    "Cel",
    "Wynik",
    "SkrotSHA256",
    "Powod",
    "IdZapytania",
    "SkrotWpisu",
)


def looks_like_a_report(start: bytes) -> bool:
    """Whether a file's first bytes are those of a report this module writes: a PDF, the XML (its namespace
    near the top) or the CSV (its header row, after the BOM). `audit.output` replaces only such a file."""
    header = ";".join(_CSV_COLUMNS[:2]).encode()
    return (
        start.startswith(b"%PDF-")
        or (start.lstrip().startswith(b"<?xml") and REPORT_NS.encode() in start)
        or start.removeprefix(b"\xef\xbb\xbf").startswith(header)
    )


#: What a spreadsheet takes for the start of a formula (OWASP, "CSV injection"): `=HYPERLINK(...)` typed as a
#: purpose became a live link in the auditor's spreadsheet.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as the text stored: a text starting like a formula gets a leading `'`
    (the spreadsheet's own mark for "text"), invisible controls and marks of direction their code points (a case
    number with a right-to-left override read backwards in the auditor's spreadsheet)."""
    if not isinstance(value, str):
        return value
    value = in_sight(value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _write_csv(context: _Context, entries: Iterator[ReportEntry], output: IO[bytes]) -> None:
    text = io.TextIOWrapper(output, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
        writer.writerow(_CSV_COLUMNS)
        for entry in entries:
            writer.writerow(
                spreadsheet_cell(cell)
                for cell in (
                    entry.nr,
                    _local(entry.time).isoformat(timespec="seconds"),
                    entry.user,
                    entry.office,
                    entry.channel,
                    entry.identifier,
                    entry.pesel or "",
                    entry.data_set,
                    entry.controller,
                    ", ".join(entry.categories),
                    entry.legal_basis,
                    entry.purpose,
                    entry.outcome,
                    entry.digest,
                    entry.reason,
                    entry.request_id,
                    entry.link,
                )
            )
    finally:
        text.detach()


def render_html(context_values: Mapping[str, Any]) -> str:
    """The PDF's HTML from the sandboxed template (autoescaped: register content is never markup)."""
    environment = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    return environment.from_string(PDF_TEMPLATE).render(**context_values)


def _pdf_values(context: _Context, entries: Iterator[ReportEntry]) -> dict[str, Any]:
    request = context.request
    rows = []
    for entry in entries:
        rows.append(
            {
                "nr": entry.nr,
                "time": _local(entry.time).strftime("%d.%m.%Y %H:%M"),
                "office": in_sight(entry.office),
                "user": in_sight(entry.user),
                "data_set": in_sight(entry.data_set),
                "controller": entry.controller,
                "categories": [category_title(entry.data_set, c, context.labels) for c in entry.categories],
                "legal_basis": in_sight(entry.legal_basis),
                "purpose": in_sight(entry.purpose),
                "outcome": entry.outcome,
                "refused": entry.outcome != Outcome.DISCLOSED.value,
                "pesel": entry.pesel or "",
            }
        )
    return {
        "title": _TITLES[request.kind],
        "kind": request.kind.value,
        "issuer": context.issuer,
        "made": _local(context.made).strftime("%d.%m.%Y %H:%M"),
        "requester": context.requester.login,
        "pesel": request.pesel or "",
        "user": request.user or "",
        "office": request.office or "",
        "since": _local(request.since).strftime("%d.%m.%Y %H:%M") if request.since else "",
        "until": _local(request.until).strftime("%d.%m.%Y %H:%M") if request.until else "",
        "with_refusals": request.with_refusals,
        "rows": rows,
        "count": len(rows),
    }


def _write_pdf(context: _Context, entries: Iterator[ReportEntry], output: IO[bytes]) -> None:
    html = render_html(_pdf_values(context, entries))
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        raise ReportError(
            f"Raport PDF wymaga pakietu weasyprint i bibliotek systemowych Pango oraz libharfbuzz-subset0 ({error})."
        ) from error
    output.write(weasyprint.HTML(string=html).write_pdf())


_WRITERS = {ReportFormat.XML: _write_xml, ReportFormat.CSV: _write_csv, ReportFormat.PDF: _write_pdf}


def _describe_criteria(request: ReportRequest) -> str:
    parts = [f"raport {request.kind.value}"]
    for name, value in (("pesel", request.pesel), ("uzytkownik", request.user), ("urzad", request.office)):
        if value is not None:
            parts.append(f"{name}={value}")
    if request.data_sets:
        parts.append(f"zbiory={','.join(request.data_sets)}")
    if request.since is not None:
        parts.append(f"od={request.since.isoformat()}")
    if request.until is not None:
        parts.append(f"do={request.until.isoformat()}")
    parts.append(f"odmowy={'tak' if request.with_refusals else 'nie'}")
    return "; ".join(parts)


def write_report(
    store: AuditStore,
    request: ReportRequest,
    fmt: ReportFormat,
    output: IO[bytes],
    *,
    requested_by: Requester,
    issuer: str = "Platforma komunikacyjna",
    labels: Mapping[tuple[str, str], str] | None = None,
    now: dt.datetime | None = None,
    max_entries: int | None = None,
) -> int:
    """Record a report (event `RAPORT`), then write it to a binary stream; return the number of entries.

    The event is durable before the first byte is written (guideline 6, as for disclosures): written after, a
    report streamed to a pipe was read in full while its recording failed (the register locked), and no `RAPORT`
    event ever said it was made. A report of more than `max_entries` entries is refused (`ReportTooLarge`) before
    it is recorded."""
    request.check()
    made = now or dt.datetime.now(dt.UTC)
    try:
        with store.reader.connect() as connection, connection.begin(), Session(connection) as session:
            count = session.scalar(select(func.count()).select_from(_query(request).subquery())) or 0
            if max_entries is not None and count > max_entries:
                raise ReportTooLarge(count, max_entries)  # nothing recorded, nothing written
            store.append(
                events=[
                    SecurityEvent(
                        time=made,
                        kind=EventKind.REPORT,
                        user=requested_by.login,
                        office=requested_by.office,
                        actor=requested_by.login,
                        source=requested_by.source,
                        success=True,
                        details=f"{_describe_criteria(request)}; format={ReportFormat(fmt).value}; wpisow={count}",
                    )
                ]
            )
            context = _Context(request, requested_by, issuer, made, count, labels)
            _WRITERS[ReportFormat(fmt)](context, _entries(session, request), output)
    except SQLAlchemyError as error:
        raise AuditStorageError(f"Nie można odczytać rejestru ujawnień: {getattr(error, 'orig', error)}") from error
    return count


def build_report(
    store: AuditStore,
    request: ReportRequest,
    fmt: ReportFormat,
    *,
    requested_by: Requester,
    issuer: str = "Platforma komunikacyjna",
    labels: Mapping[tuple[str, str], str] | None = None,
    max_entries: int | None = None,
) -> bytes:
    """The report as bytes in the requested format (for a SOAP operation for auditors); it is recorded."""
    buffer = io.BytesIO()
    write_report(
        store, request, fmt, buffer, requested_by=requested_by, issuer=issuer, labels=labels, max_entries=max_entries
    )
    return buffer.getvalue()
