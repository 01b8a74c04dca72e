"""The auditor's SOAP report (GDPR art. 15): exactly the disclosures about a person, and only for auditors."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from audit import EventKind
from audit.records import SecurityEvent
from audit.sql import SqlEventLog
from contract.errors import InvalidRequest
from tests.integration.conftest import MODEL, RunningHub

R = "{urn:pl:platforma-komunikacyjna:raport:1}"


def service(hub: RunningHub, login: str, name: str) -> Client:
    user = hub.user(login)
    return Client(hub.wsdl.replace("/zapytania?", f"/{name}?"), wsse=UsernameToken(login, user["password"]))


def ask_about(hub: RunningHub, pesel: str, purpose: str) -> list[str]:
    """Two OPS queries about a person by `sr.referent`; their request ids."""
    queries = service(hub, "sr.referent", "zapytania").service
    request_ids = []
    for categories in (["DANE_OSOBOWE"], ["SWIADCZENIA"]):
        answer = queries.ZapytanieOBeneficjenta(
            Zapytanie={
                "IdentyfikatorBeneficjenta": {"Pesel": pesel},
                "PodstawaPrawna": "USR-2003",
                "Cel": purpose,
                "Zbiory": {"Zbior": [{"Kod": "OPS", "Zakres": {"Kategoria": categories}}]},
            }
        )
        request_ids.append(answer.IdentyfikatorZapytania)
    return request_ids


def report_events(hub: RunningHub) -> list[SecurityEvent]:
    events = SqlEventLog(f"sqlite:///{hub.demo['audit_database']}")
    try:
        return list(events.events(kind=EventKind.REPORT))
    finally:
        events.dispose()


def test_person_report_lists_exactly_the_disclosures_about_that_person(hub: RunningHub) -> None:
    pesel = hub.person("OPS", "SR")
    request_ids = ask_about(hub, pesel, "Ustalenie prawa do dodatku")
    before = report_events(hub)
    report = service(hub, "audytor", "audyt").service.RaportUjawnien(
        Zamowienie={"Rodzaj": "OSOBA", "Pesel": pesel, "Format": "xml"}
    )
    assert report.TypMIME == "application/xml" and report.NazwaPliku.endswith(".xml")
    root = etree.fromstring(report.Tresc)
    listed = [e.text for e in root.iter(f"{R}IdZapytania")]
    assert sorted(listed) == sorted(request_ids), etree.tostring(root)[:2000]
    # This report, recorded: one new event by the auditor naming the person, the format and the count.
    new = report_events(hub)[len(before) :]
    assert [(e.user, e.success) for e in new] == [("audytor", True)], new
    details = new[0].details.split("; ")
    assert {"raport OSOBA", f"pesel={pesel}", "format=xml", f"wpisow={len(request_ids)}"} <= set(details), details


def pdf_text(document: bytes) -> str:
    """The text of a PDF, its whitespace (line breaks in table cells) made single spaces."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages).split())


def test_a_pdf_for_the_person_lists_the_disclosures_about_that_person(hub: RunningHub) -> None:
    pesel = hub.person("PUP", "OPS")
    ask_about(hub, pesel, "Kontrola raportu w formacie PDF")
    audit = service(hub, "audytor", "audyt").service
    report = audit.RaportUjawnien(Zamowienie={"Rodzaj": "OSOBA", "Pesel": pesel, "Format": "pdf"})
    assert report.Tresc.startswith(b"%PDF") and report.TypMIME == "application/pdf"
    text = pdf_text(report.Tresc)
    # The same disclosures as the XML report about that person (whose exactness the test above checks),
    # each as a row: number, time, recipient, data set, scope, legal basis and purpose.
    entries = etree.fromstring(
        audit.RaportUjawnien(Zamowienie={"Rodzaj": "OSOBA", "Pesel": pesel, "Format": "xml"}).Tresc
    ).findall(f".//{R}Wpis")
    assert [e.findtext(f"{R}Cel") for e in entries].count("Kontrola raportu w formacie PDF") == 2
    assert f"numerze PESEL {pesel}" in text
    count = re.search(r"Liczba wpisów: (\d+)", text)
    assert count is not None and int(count[1]) == len(entries), text
    for entry in entries:
        row = " ".join(
            [
                str(entry.findtext(f"{R}Nr")),
                dt.datetime.fromisoformat(str(entry.findtext(f"{R}Czas"))).strftime("%d.%m.%Y %H:%M"),
                *(str(entry.findtext(f"{R}{name}")) for name in ("Urzad", "Uzytkownik", "Zbior", "Administrator")),
                *(str(c.text) for c in entry.iterfind(f"{R}Kategorie/{R}Kategoria")),
                str(entry.findtext(f"{R}PodstawaPrawna")),
                str(entry.findtext(f"{R}Cel")),
            ]
        )
        assert " ".join(row.split()) in text, f"row {row!r} not in the PDF:\n{text}"


def test_only_auditors_get_reports(hub: RunningHub) -> None:
    with pytest.raises(Fault) as refused:
        service(hub, "ops.pracownik", "audyt").service.RaportUjawnien(
            Zamowienie={"Rodzaj": "OKRES", "Format": "csv"}
        )
    assert refused.value.detail.findtext(f"{MODEL}Blad/{MODEL}Kod") == "BRAK_UPRAWNIEN"


@pytest.mark.parametrize(
    ("order", "code"),
    [
        ({"Rodzaj": "OKRES", "Format": "csv"}, "NIEPRAWIDLOWE_ZAPYTANIE"),
        ({"Rodzaj": "OSOBA", "Pesel": "90051712345", "Format": "xml"}, "NIEPRAWIDLOWY_PESEL"),
        ({"Rodzaj": "OSOBA", "Format": "xml"}, "NIEPRAWIDLOWY_PESEL|NIEPRAWIDLOWE_ZAPYTANIE"),
        # A mistyped office got an empty report, which reads as "no disclosures to that office".
        ({"Rodzaj": "URZAD", "Urzad": "OPSS", "Format": "csv"}, "NIEPRAWIDLOWE_ZAPYTANIE"),
        (
            {"Rodzaj": "OKRES", "Od": "2026-02-01T00:00:00Z", "Do": "2026-01-01T00:00:00Z", "Format": "csv"},
            "NIEPRAWIDLOWE_ZAPYTANIE",
        ),
    ],
    ids=["period-without-dates", "pesel-bad-checksum", "person-without-pesel", "unknown-office", "period-backwards"],
)
def test_an_incomplete_order_is_the_callers_mistake_with_a_stable_code(
    hub: RunningHub, order: dict[str, str], code: str
) -> None:
    with pytest.raises(Fault) as refused:
        service(hub, "audytor", "audyt").service.RaportUjawnien(Zamowienie=order)
    assert refused.value.code.endswith("Client"), refused.value.code
    found = refused.value.detail.findtext(f"{MODEL}Blad/{MODEL}Kod")
    assert found in code.split("|"), found
    assert "Traceback" not in refused.value.message and "b'" not in refused.value.message


def test_an_office_report_names_a_configured_office_or_one_the_register_knows(hub: RunningHub) -> None:
    """The refusal of a mistyped office must not refuse a real one: OPS is configured and gets its report."""
    answer = service(hub, "audytor", "audyt").service.RaportUjawnien(
        Zamowienie={"Rodzaj": "URZAD", "Urzad": "OPS", "Format": "csv"}
    )
    assert answer is not None


def test_an_office_no_longer_configured_still_gets_the_report_of_its_disclosures(
    hub: RunningHub, tmp_path: Path
) -> None:
    """Removed from platforma.toml, an office's disclosures are still in the register, and reportable."""
    from audit.records import DisclosureRecord, Outcome
    from audit.store import AuditStore
    from hub import settings
    from hub.domain.reports import ReportOrder, Reports

    config = settings.load(hub.directory / "platforma.toml")
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    try:
        reports = Reports(store, refusals=None, issuer="test", config=config)  # type: ignore[arg-type]
        order = ReportOrder(kind="URZAD", office="GOPS_DAWNY", format="csv")
        with pytest.raises(InvalidRequest, match="Nieznany urząd GOPS_DAWNY"):
            reports.request(order)
        store.append(
            [
                DisclosureRecord(
                    time=dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC),
                    request_id="dawny-1",
                    user="gops.dawny",
                    office="GOPS_DAWNY",
                    channel="SOAP",
                    identifier="PESEL:44051401359",
                    subject_pesel="44051401359",
                    data_set="PUP",
                    controller="PUP",
                    categories=("DANE_OSOBOWE",),
                    legal_basis="UPS-2004",
                    purpose="Test",
                    outcome=Outcome.DISCLOSED,
                    digest="0" * 64,
                )
            ]
        )
        request, _ = reports.request(order)
        assert request.office == "GOPS_DAWNY"
    finally:
        store.dispose()


def test_a_report_larger_than_an_answer_may_hold_is_refused_before_it_is_recorded(
    hub: RunningHub, tmp_path: Path
) -> None:
    """A report answered over SOAP is built in memory (100,000 entries of XML took 850 MB; a PDF of 5,000, 1.6 GB):
    over `report_max_entries` (any PDF over `report_max_entries_pdf`) it is refused with ZBYT_DUZY_RAPORT, nothing
    recorded; the command line streams XML and CSV, so only its PDF is bounded."""
    from audit.records import DisclosureRecord, Outcome
    from audit.store import AuditStore
    from contract.errors import ReportTooLarge
    from hub import settings
    from hub.domain.policy import Caller
    from hub.domain.reports import ReportOrder, Reports

    config = settings.load(hub.directory / "platforma.toml")
    limited = config.model_copy(
        update={"hub": config.hub.model_copy(update={"report_max_entries": 2, "report_max_entries_pdf": 1})}
    )
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    auditor = Caller("audytor", "STAROSTWO", "AUDYT", roles=frozenset({"AUDYTOR"}))
    try:
        reports = Reports(store, refusals=None, issuer="test", config=limited)  # type: ignore[arg-type]
        moment = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)
        store.append(
            [
                DisclosureRecord(moment, f"r-{n}", "ops.pracownik", "OPS", "SOAP", "PESEL:44051401359", "44051401359",
                                 "PUP", "PUP", ("DANE_OSOBOWE",), "UPS-2004", "Test", Outcome.DISCLOSED, "0" * 64)
                for n in range(3)
            ]
        )  # fmt: skip
        events = len(list(store.events()))
        person = {"kind": "OSOBA", "pesel": "44051401359"}
        with pytest.raises(ReportTooLarge, match=r"obejmowałby 3 wpisów.*najwyżej 2.*report_max_entries"):
            reports.build(auditor, ReportOrder(**person, format="xml"), channel="SOAP")
        with pytest.raises(ReportTooLarge, match=r"Raport PDF obejmowałby 3 wpisów.*report_max_entries_pdf"):
            reports.write(auditor, ReportOrder(**person, format="pdf"), io.BytesIO(), channel="CLI")
        assert len(list(store.events())) == events  # nothing recorded
        assert reports.write(auditor, ReportOrder(**person, format="csv"), io.BytesIO(), channel="CLI") == 3
        assert len(list(store.events())) == events + 1  # the streamed report, recorded
    finally:
        store.dispose()
