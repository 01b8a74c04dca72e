"""A child disclosed under DANE_DZIECI is found by the child's own PESEL in the per-person report (GDPR
art. 15; issue 12 item 7): every identified person in what was disclosed gets a record."""

from __future__ import annotations

from lxml import etree
from zeep import Client
from zeep.wsse.username import UsernameToken

from audit.sql import SqlDisclosureRegister
from tests.integration.conftest import RunningHub

M = "{urn:pl:platforma-komunikacyjna:model:1}"
R = "{urn:pl:platforma-komunikacyjna:raport:1}"


def test_a_disclosed_child_finds_the_disclosure_under_their_own_pesel(hub: RunningHub) -> None:
    user = hub.user("ops.pracownik")
    queries = Client(hub.wsdl, wsse=UsernameToken(user["login"], user["password"])).service
    children: list[str] = []
    for person in hub.demo["beneficiaries"]:
        if "SR" not in person["data_sets"]:
            continue
        answer = queries.ZapytanieOBeneficjenta(
            Zapytanie={
                "IdentyfikatorBeneficjenta": {"Pesel": person["pesel"]},
                "PodstawaPrawna": "UPS-2004",
                "Cel": "Ustalenie sytuacji rodziny",
                "Zbiory": {"Zbior": [{"Kod": "SR", "Zakres": {"Kategoria": ["DANE_DZIECI"]}}]},
            }
        )
        sections = answer.Wyniki.Wynik[0].DaneSR
        kids = getattr(getattr(sections, "DaneDzieci", None), "Dziecko", None) or []
        children = [k.Pesel for k in kids if getattr(k, "Pesel", None)]
        if children:
            request_id = answer.IdentyfikatorZapytania
            break
    assert children, "the demo has SR people with children"
    register = SqlDisclosureRegister(f"sqlite:///{hub.demo['audit_database']}")
    try:
        for child in children:
            records = [r for r in register.records(pesel=child) if r.request_id == request_id]
            assert len(records) == 1, child
            assert records[0].categories == ("DANE_DZIECI",) and records[0].data_set == "SR"
    finally:
        register.dispose()
    auditor = Client(
        hub.wsdl.replace("/zapytania?", "/audyt?"), wsse=UsernameToken("audytor", hub.user("audytor")["password"])
    )
    report = auditor.service.RaportUjawnien(Zamowienie={"Rodzaj": "OSOBA", "Pesel": children[0], "Format": "xml"})
    listed = [e.text for e in etree.fromstring(report.Tresc).iter(f"{R}IdZapytania")]
    assert request_id in listed
