"""The auditor's SOAP report (GDPR art. 15): exactly the disclosures about a person, and only for auditors."""

from __future__ import annotations

import pytest
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from audit import EventKind
from audit.sql import SqlEventLog
from tests.integration.conftest import MODEL, RunningHub

R = "{urn:pl:platforma-komunikacyjna:raport:1}"


def service(hub: RunningHub, login: str, name: str) -> Client:
    user = hub.user(login)
    return Client(hub.wsdl.replace("/zapytania?", f"/{name}?"), wsse=UsernameToken(login, user["password"]))


def test_person_report_lists_exactly_the_disclosures_about_that_person(hub: RunningHub) -> None:
    pesel = hub.person("OPS", "SR")
    queries = service(hub, "sr.referent", "zapytania").service
    request_ids = []
    for categories in (["DANE_OSOBOWE"], ["SWIADCZENIA"]):
        answer = queries.ZapytanieOBeneficjenta(
            Zapytanie={
                "IdentyfikatorBeneficjenta": {"Pesel": pesel},
                "PodstawaPrawna": "USR-2003",
                "Cel": "Ustalenie prawa do dodatku",
                "Zbiory": {"Zbior": [{"Kod": "OPS", "Zakres": {"Kategoria": categories}}]},
            }
        )
        request_ids.append(answer.IdentyfikatorZapytania)
    report = service(hub, "audytor", "audyt").service.RaportUjawnien(
        Zamowienie={"Rodzaj": "OSOBA", "Pesel": pesel, "Format": "xml"}
    )
    assert report.TypMIME == "application/xml" and report.NazwaPliku.endswith(".xml")
    root = etree.fromstring(report.Tresc)
    listed = [e.text for e in root.iter(f"{R}IdZapytania")]
    assert sorted(listed) == sorted(request_ids), etree.tostring(root)[:2000]
    events = SqlEventLog(f"sqlite:///{hub.demo['audit_database']}")
    assert any(e.user == "audytor" for e in events.events(kind=EventKind.REPORT))


def test_a_pdf_for_the_person_is_a_pdf(hub: RunningHub) -> None:
    report = service(hub, "audytor", "audyt").service.RaportUjawnien(
        Zamowienie={"Rodzaj": "OSOBA", "Pesel": hub.person("PUP", "OPS", "SR"), "Format": "pdf"}
    )
    assert report.Tresc.startswith(b"%PDF") and report.TypMIME == "application/pdf"


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
        (
            {"Rodzaj": "OKRES", "Od": "2026-02-01T00:00:00Z", "Do": "2026-01-01T00:00:00Z", "Format": "csv"},
            "NIEPRAWIDLOWE_ZAPYTANIE",
        ),
    ],
    ids=["period-without-dates", "pesel-bad-checksum", "person-without-pesel", "period-backwards"],
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
