"""A powiat of twenty gminas over real SOAP (issue 16): `platforma demo --gminas 20` configures and feeds 40
units (a few people each); zeep, generated from the served WSDL, asks every OPS unit at once by kind."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from audit.records import Outcome
from audit.sql import SqlDisclosureRegister
from tests.integration.conftest import MODEL, RunningHub, start_demo_hub

PURPOSE = "Ustalenie, czy osoba korzysta z pomocy społecznej w powiecie"


@pytest.fixture(scope="module")
def powiat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_demo_hub(tmp_path_factory.mktemp("powiat20"), "--gminas", "20")
    yield running
    running.process.terminate()
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()


def client(hub: RunningHub, login: str) -> Client:
    return Client(hub.wsdl, wsse=UsernameToken(login, hub.user(login)["password"]))


def by_kind(pesel: str, kind: str, categories: list[str], basis: str = "URPSZ-2025") -> dict[str, Any]:
    return {
        "IdentyfikatorBeneficjenta": {"Pesel": pesel},
        "PodstawaPrawna": basis,
        "Cel": PURPOSE,
        "Zbiory": {"Zbior": [{"Rodzaj": kind, "Zakres": {"Kategoria": categories}}]},
    }


def test_the_demo_powiat_lists_forty_units_with_their_gminas(powiat: RunningHub) -> None:
    offices = {o["code"]: o for o in powiat.demo["offices"]}
    assert len(offices) == 41
    assert offices["OPS"]["gmina"] == "9901012" and offices["OPS"]["data_sets"] == ["OPS"]
    assert offices["SR-9901202"]["gmina_name"] == "Gmina Demonstracyjna 20"
    assert offices["PUP"]["gmina"] is None


def test_a_query_by_kind_from_pup_answers_every_ops_unit_in_one_answer_with_a_record_per_disclosing_unit(
    powiat: RunningHub,
) -> None:
    moved = powiat.demo["moved"][0]
    answer = client(powiat, "pup.kierownik").service.ZapytanieOBeneficjenta(
        Zapytanie=by_kind(moved["pesel"], "OPS", ["DANE_OSOBOWE", "SWIADCZENIA"])
    )
    statuses = {w.Zbior: w.Status for w in answer.Wyniki.Wynik}
    ops_units = {d for o in powiat.demo["offices"] if o["kind"] == "OPS" for d in o["data_sets"]}
    assert set(statuses) == ops_units and len(ops_units) == 20
    known = {code for code in moved["data_sets"] if code in ops_units}
    assert len(known) == 2
    assert {code for code, status in statuses.items() if status == "OK"} == known
    assert all(status == "BRAK_DANYCH" for code, status in statuses.items() if code not in known)
    register = SqlDisclosureRegister(f"sqlite:///{powiat.demo['audit_database']}")
    records = list(register.records(request_id=answer.IdentyfikatorZapytania))
    assert sorted(r.data_set for r in records) == sorted(known)
    assert all(r.outcome == Outcome.DISCLOSED and r.subject_pesel == moved["pesel"] for r in records)


def test_a_kind_outside_the_groups_scope_is_refused_without_naming_any_unit(powiat: RunningHub) -> None:
    pesel = powiat.demo["moved"][0]["pesel"]
    with pytest.raises(Fault) as refused:
        client(powiat, "pup.posrednik").service.ZapytanieOBeneficjenta(
            Zapytanie=by_kind(pesel, "SR", ["DANE_OSOBOWE"])
        )
    detail = refused.value.detail
    assert detail.find(f"{MODEL}Blad/{MODEL}Kod").text == "BRAK_UPRAWNIEN"
    assert [d.text for d in detail.iter(f"{MODEL}Szczegol")] == ["ZBIOR:*SR"]


def test_lista_zbiorow_groups_the_scope_by_kind_and_gmina(powiat: RunningHub) -> None:
    listed = client(powiat, "pup.posrednik").service.ListaZbiorow()  # zeep unwraps DostepneZbiory to its list
    assert [z.Rodzaj for z in listed] == ["OPS"] * 20
    assert [z.Gmina for z in listed] == sorted(z.Gmina for z in listed)
    assert (listed[0].Kod, listed[0].Gmina, listed[0].NazwaGminy) == ("OPS", "9901012", "Zielonka")
    assert listed[1].Kod == "OPS-9901022"


def test_the_persons_report_lists_the_disclosures_of_every_unit(powiat: RunningHub) -> None:
    """GDPR art. 15 across the powiat: a person known to two gminas' OPS units sees both disclosures."""
    moved = powiat.demo["moved"][1] if len(powiat.demo["moved"]) > 1 else powiat.demo["moved"][0]
    answer = client(powiat, "pup.kierownik").service.ZapytanieOBeneficjenta(
        Zapytanie=by_kind(moved["pesel"], "OPS", ["DANE_OSOBOWE"])
    )
    disclosed = sorted(w.Zbior for w in answer.Wyniki.Wynik if w.Status == "OK")
    assert len(disclosed) >= 2
    auditor = Client(
        powiat.wsdl.replace("/zapytania?", "/audyt?"),
        wsse=UsernameToken("audytor", powiat.user("audytor")["password"]),
    )
    report = auditor.service.RaportUjawnien(Zamowienie={"Rodzaj": "OSOBA", "Pesel": moved["pesel"], "Format": "xml"})
    root = etree.fromstring(report.Tresc)
    r = "{urn:pl:platforma-komunikacyjna:raport:1}"
    rows = [
        (entry.findtext(f"{r}Zbior"), entry.findtext(f"{r}IdZapytania"))
        for entry in root.iter(f"{r}Wpis")
        if entry.findtext(f"{r}IdZapytania") == answer.IdentyfikatorZapytania
    ]
    assert sorted(data_set for data_set, _ in rows) == disclosed


def test_the_persons_report_names_a_gmina_units_categories_with_its_kinds_titles(powiat: RunningHub) -> None:
    """The register names a unit's data set (`SR-9901022`); its categories are its kind's (SR's), never those
    of another kind with the same category code (PUP's "Dane osobowe beneficjenta")."""
    moved = next(m for m in powiat.demo["moved"] if sum(code.startswith("SR") for code in m["data_sets"]) >= 2)
    answer = client(powiat, "pup.kierownik").service.ZapytanieOBeneficjenta(
        Zapytanie=by_kind(moved["pesel"], "SR", ["DANE_OSOBOWE"])
    )
    disclosed = {w.Zbior for w in answer.Wyniki.Wynik if w.Status == "OK"}
    assert len(disclosed) >= 2 and disclosed - {"SR"}
    r = "{urn:pl:platforma-komunikacyjna:raport:1}"
    report = _audit_report(powiat, "--pesel", moved["pesel"])
    titles = {
        entry.findtext(f"{r}Zbior"): [k.text for k in entry.iter(f"{r}Kategoria")]
        for entry in report.iter(f"{r}Wpis")
        if entry.findtext(f"{r}IdZapytania") == answer.IdentyfikatorZapytania
    }
    assert titles == {code: ["Dane osobowe podmiotu decyzji"] for code in disclosed}


def _audit_report(hub: RunningHub, *criteria: str) -> etree._Element:
    command = [sys.executable, "-m", "hub.cli", "audit", "report", "--config", str(hub.directory / "platforma.toml")]
    result = subprocess.run(
        [*command, "--actor", "audytor", "--format", "xml", *criteria],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PLATFORMA_HASLO": hub.user("audytor")["password"]},
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return etree.fromstring(result.stdout)


def test_reports_per_unit_and_per_gmina_list_the_disclosures_from_their_data_sets(powiat: RunningHub) -> None:
    """Guideline 5/6 at the scale of a powiat: each unit, and each gmina, sees what was disclosed from its
    own data sets, and nothing of another unit's."""
    moved = powiat.demo["moved"][0]
    answer = client(powiat, "pup.kierownik").service.ZapytanieOBeneficjenta(
        Zapytanie=by_kind(moved["pesel"], "OPS", ["DANE_OSOBOWE"])
    )
    unit = next(w.Zbior for w in answer.Wyniki.Wynik if w.Status == "OK" and w.Zbior != "OPS")
    office = next(o for o in powiat.demo["offices"] if unit in o["data_sets"])
    r = "{urn:pl:platforma-komunikacyjna:raport:1}"
    by_unit = _audit_report(powiat, "--unit", office["code"])
    assert by_unit.findtext(f"{r}Naglowek/{r}Rodzaj") == "ZBIORY"
    data_sets = {e.findtext(f"{r}Zbior") for e in by_unit.iter(f"{r}Wpis")}
    assert data_sets == {unit}
    assert answer.IdentyfikatorZapytania in {e.findtext(f"{r}IdZapytania") for e in by_unit.iter(f"{r}Wpis")}
    by_gmina = _audit_report(powiat, "--gmina", office["gmina"])
    gmina_sets = {d for o in powiat.demo["offices"] if o["gmina"] == office["gmina"] for d in o["data_sets"]}
    assert {e.findtext(f"{r}Zbior") for e in by_gmina.iter(f"{r}Wpis")} <= gmina_sets
    assert unit in {e.findtext(f"{r}Zbior") for e in by_gmina.iter(f"{r}Wpis")}
    assert sorted(c.text for c in by_gmina.iter(f"{r}Kryteria") for c in c.iter(f"{r}Zbior")) == sorted(gmina_sets)
