"""Query mode over real SOAP (guideline 1.1): zeep against a hub on a loopback port, records in the register."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from audit.records import Outcome
from audit.sql import SqlDisclosureRegister
from hub.domain.query import digest_of
from tests.integration.conftest import MODEL, RunningHub

Q = "{urn:pl:platforma-komunikacyjna:zapytania:1}"
M = "{urn:pl:platforma-komunikacyjna:model:1}"
PURPOSE = "Ustalenie sytuacji osoby w postępowaniu administracyjnym"
ALL_PUP = ["DANE_OSOBOWE", "OKRESY_REJESTRACJI", "POBRANE_ZASILKI", "WIZYTY"]
SECTION_ELEMENTS = {
    "DANE_OSOBOWE": "DaneOsobowe",
    "OKRESY_REJESTRACJI": "OkresyRejestracji",
    "POBRANE_ZASILKI": "PobraneZasilki",
    "WIZYTY": "Wizyty",
    "INFORMACJE_OGOLNE": "InformacjeOgolne",
    "SWIADCZENIA": "Swiadczenia",
    "DANE_DZIECI": "DaneDzieci",
    "WYPLACONE_SWIADCZENIA": "WyplaconeSwiadczenia",
}


def client(hub: RunningHub, login: str, password: str | None = None) -> Client:
    user = hub.user(login)
    return Client(hub.wsdl, wsse=UsernameToken(login, password if password is not None else user["password"]))


def query(pesel: str | None, basis: str, scope: dict[str, list[str]], purpose: str = PURPOSE, **ident: Any) -> dict:
    identifier = {"Pesel": pesel} if pesel else ident
    return {
        "IdentyfikatorBeneficjenta": identifier,
        "PodstawaPrawna": basis,
        "Cel": purpose,
        "Zbiory": {"Zbior": [{"Kod": code, "Zakres": {"Kategoria": cats}} for code, cats in scope.items()]},
    }


def fault_code(error: pytest.ExceptionInfo[Fault]) -> str:
    detail = error.value.detail
    assert detail is not None, "a fault must carry detail/Blad"
    code = detail.find(f"{MODEL}Blad/{MODEL}Kod")
    assert code is not None
    return str(code.text)


def raw_answer(hub: RunningHub, login: str, request: dict) -> etree._Element:
    service = client(hub, login)
    with service.settings(raw_response=True):
        response = service.service.ZapytanieOBeneficjenta(Zapytanie=request)
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def register(hub: RunningHub) -> SqlDisclosureRegister:
    return SqlDisclosureRegister(f"sqlite:///{hub.demo['audit_database']}")


WIDE_SCOPE = {
    "PUP": ALL_PUP,
    "OPS": ["DANE_OSOBOWE", "INFORMACJE_OGOLNE", "SWIADCZENIA"],
    "SR": ["DANE_DZIECI", "WYPLACONE_SWIADCZENIA"],
}


def sections_held(hub: RunningHub, data_set: str, pesel: str) -> set[str]:
    """The sections the live replica holds for a person (read from its file, not through the hub)."""
    path = hub.directory / "replicas" / f"{data_set.lower()}.sqlite"
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT s.spis FROM osoby o JOIN sekcje s ON s.osoba_id = o.id "
            "WHERE o.pesel = ? AND o.generacja = (SELECT generacja FROM stan_repliki)",
            (pesel,),
        ).fetchall()
    finally:
        connection.close()
    return {entry.partition(":")[0] for (index,) in rows for entry in index.split()}


def person_with_every_section(hub: RunningHub, scope: dict[str, list[str]]) -> str:
    """A person known to every data set of `scope` whose replicas hold every section asked for."""
    for person in hub.demo["beneficiaries"]:
        if set(person["data_sets"]) >= set(scope) and all(
            {SECTION_ELEMENTS[c] for c in categories} <= sections_held(hub, code, person["pesel"])
            for code, categories in scope.items()
        ):
            return str(person["pesel"])
    raise AssertionError(f"the demo has nobody with data in every category of {scope}")


def test_person_known_to_three_offices_is_answered_by_all_three_with_exactly_the_allowed_sections(
    hub: RunningHub,
) -> None:
    pesel = person_with_every_section(hub, WIDE_SCOPE)
    root = raw_answer(hub, "pup.kierownik", query(pesel, "URPSZ-2025", WIDE_SCOPE))
    results = root.findall(f".//{Q}Wynik")
    assert [r.findtext(f"{Q}Zbior") for r in results] == ["PUP", "OPS", "SR"]
    for result in results:
        code = str(result.findtext(f"{Q}Zbior"))
        assert result.findtext(f"{Q}Status") == "OK"
        data = result.find(f"{Q}Dane{code}")
        assert data is not None
        sent = [etree.QName(section).localname for section in data]
        # The person has data in every category asked: every one is sent, once, in the model's order
        # (WIDE_SCOPE lists them so), and nothing else.
        asked = [SECTION_ELEMENTS[c] for c in WIDE_SCOPE[code]]
        assert sent == asked, f"{code}: sent {sent}, asked {asked}"
    pup = results[0].find(f"{Q}DanePUP")
    assert pup is not None and pup.findtext(f"{MODEL}DaneOsobowe/{MODEL}Pesel") == pesel


def test_the_same_query_from_a_narrower_group_is_refused_whole(hub: RunningHub) -> None:
    pesel = hub.person("PUP", "OPS", "SR")
    with pytest.raises(Fault) as error:
        client(hub, "pup.posrednik").service.ZapytanieOBeneficjenta(Zapytanie=query(pesel, "URPSZ-2025", WIDE_SCOPE))
    assert fault_code(error) == "BRAK_UPRAWNIEN"
    details = {d.text for d in error.value.detail.iter(f"{MODEL}Szczegol")}
    assert "ZBIOR:PUP" in details and "ZBIOR:SR" in details and "OPS:SWIADCZENIA" in details
    assert "nie udostępniono żadnych danych" in error.value.message
    request_id = error.value.detail.findtext(f"{MODEL}Blad/{MODEL}IdentyfikatorZapytania")
    records = list(register(hub).records(request_id=request_id))
    assert records and all(r.outcome == Outcome.REFUSED for r in records)
    assert all(r.digest == "" for r in records)


def test_unknown_person_gives_no_data_and_no_disclosure_record(hub: RunningHub) -> None:
    unknown = "44051401359"  # valid, not in the synthetic powiat (born 1944)
    answer = client(hub, "pup.kierownik").service.ZapytanieOBeneficjenta(
        Zapytanie=query(unknown, "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"], "OPS": ["DANE_OSOBOWE"]})
    )
    assert [w.Status for w in answer.Wyniki.Wynik] == ["BRAK_DANYCH", "BRAK_DANYCH"]
    assert list(register(hub).records(request_id=answer.IdentyfikatorZapytania)) == []


def test_disclosure_records_match_what_was_sent_digest_included(hub: RunningHub) -> None:
    pesel = hub.person("PUP", "SR")
    scope = {"PUP": ["DANE_OSOBOWE", "POBRANE_ZASILKI"], "SR": ["DANE_DZIECI", "WYPLACONE_SWIADCZENIA"]}
    root = raw_answer(hub, "ops.pracownik", query(pesel, "UPS-2004", scope))
    request_id = root.findtext(f".//{Q}IdentyfikatorZapytania")
    written = list(register(hub).records(request_id=request_id))
    records = {r.data_set: r for r in written if r.subject_pesel == pesel}
    assert set(records) == {"PUP", "SR"}
    # Each child named in DANE_DZIECI has a record of its own (GDPR art. 15 reports find it by its PESEL).
    children = sorted(p.text or "" for p in root.iter(f"{M}Pesel") if p.text != pesel)
    named = [r for r in written if r.subject_pesel != pesel]
    assert sorted(r.subject_pesel or "" for r in named) == children
    assert all(r.data_set == "SR" and r.categories == ("DANE_DZIECI",) for r in named)
    assert all(r.digest == records["SR"].digest for r in named)
    for result in root.iter(f"{Q}Wynik"):
        code = result.findtext(f"{Q}Zbior")
        data = result.find(f"{Q}Dane{code}")
        assert data is not None
        record = records[str(code)]
        assert record.digest == digest_of(data) == result.findtext(f"{Q}SkrotSHA256")
        assert record.user == "ops.pracownik" and record.office == "OPS" and record.channel == "SOAP"
        assert record.identifier == f"PESEL:{pesel}" and record.subject_pesel == pesel
        assert record.legal_basis == "UPS-2004" and record.purpose == PURPOSE
        assert record.outcome == Outcome.DISCLOSED
        assert record.categories == tuple(scope[str(code)])
        assert record.controller


def test_lists_show_the_callers_scope_and_the_registry(hub: RunningHub) -> None:
    narrow = client(hub, "pup.posrednik").service.ListaZbiorow()
    assert [z.Kod for z in narrow] == ["OPS"]
    assert [k.Kod for k in narrow[0].Kategorie.Kategoria] == ["DANE_OSOBOWE", "INFORMACJE_OGOLNE"]
    bases = client(hub, "pup.posrednik").service.ListaPodstawPrawnych()
    assert "Dz.U. 2025 poz. 620" in next(b.Przepis for b in bases if b.Kod == "URPSZ-2025")


def test_person_found_by_name_and_birth_date_and_by_id_card(hub: RunningHub) -> None:
    pesel = hub.person("PUP", "OPS", "SR")
    service = client(hub, "pup.kierownik").service
    first = service.ZapytanieOBeneficjenta(Zapytanie=query(pesel, "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]}))
    person = first.Wyniki.Wynik[0].DanePUP.DaneOsobowe
    by_name = service.ZapytanieOBeneficjenta(
        Zapytanie=query(
            None,
            "URPSZ-2025",
            {"PUP": ["DANE_OSOBOWE"]},
            Nazwisko=person.Nazwisko.upper(),
            Imie=person.Imie,
            DataUrodzenia=person.DataUrodzenia,
        )
    )
    by_card = service.ZapytanieOBeneficjenta(
        Zapytanie=query(
            None,
            "URPSZ-2025",
            {"PUP": ["DANE_OSOBOWE"]},
            DokumentTozsamosci={"Rodzaj": "DOWOD_OSOBISTY", "Numer": person.DokumentTozsamosci.Numer},
        )
    )
    for answer in (by_name, by_card):
        assert answer.Wyniki.Wynik[0].Status == "OK"
        assert answer.Wyniki.Wynik[0].DanePUP.DaneOsobowe.Pesel == pesel


POLISH_LETTERS = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"
POLISH_WORDS = {"nie", "jest", "lub", "albo", "danych", "nieznany", "nieznana", "podaj", "zapytanie", "numer", "zakres"}
ENGLISH_WORDS = {
    "the", "is", "not", "of", "for", "and", "in", "must", "error", "invalid", "unknown", "missing",
    "required", "request", "value", "failed", "exception", "denied", "none", "null", "true", "false",
}  # fmt: skip
PYTHON_REPR = ("Traceback", 'File "', "b'", 'b"', "('", "')", "<class", "object at 0x", "\\n", "Error:", "Exception")


def assert_polish_sentence(message: str) -> None:
    """A Polish sentence for a person: Polish letters or words, no English error text, no Python repr."""
    words = re.findall(r"[^\W\d_]+", message)
    lower = {w.lower() for w in words}
    assert re.match(r"[A-ZĄĆĘŁŃÓŚŹŻ]", message) and message.rstrip().endswith("."), f"not a sentence: {message!r}"
    assert any(c in message for c in POLISH_LETTERS) or lower & POLISH_WORDS, f"not Polish: {message!r}"
    assert not lower & ENGLISH_WORDS, f"English in the message: {sorted(lower & ENGLISH_WORDS)} in {message!r}"
    assert not [m for m in PYTHON_REPR if m in message], f"Python's text in the message: {message!r}"


FULL_WIDTH = "４４０５１４０１３５９"  # 44051401359 in full-width digits


@pytest.mark.parametrize(
    ("login", "pesel", "basis", "scope", "purpose", "expected"),
    [
        ("pup.kierownik", "44051401358", "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]}, PURPOSE, "NIEPRAWIDLOWY_PESEL"),
        ("pup.kierownik", "44053201357", "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]}, PURPOSE, "NIEPRAWIDLOWY_PESEL"),
        ("pup.kierownik", "4405", "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]}, PURPOSE, "NIEPRAWIDLOWY_PESEL"),
        # Digits of another script and a dash: python-stdnum's clean-up alone took them for 44051401359.
        ("pup.kierownik", FULL_WIDTH, "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]}, PURPOSE, "NIEPRAWIDLOWY_PESEL"),
        ("pup.kierownik", "44051-401359", "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]}, PURPOSE, "NIEPRAWIDLOWY_PESEL"),
        ("pup.kierownik", "44051401359", "URPSZ-2025", {"ZUS": ["DANE_OSOBOWE"]}, PURPOSE, "NIEZNANY_ZBIOR"),
        ("pup.kierownik", "44051401359", "URPSZ-2025", {"PUP": ["MAJATEK"]}, PURPOSE, "NIEZNANA_KATEGORIA"),
        ("pup.kierownik", "44051401359", "BRAK-TAKIEJ", {"PUP": ["DANE_OSOBOWE"]}, PURPOSE, "NIEZNANA_PODSTAWA_PRAWNA"),
        ("ops.pracownik", "44051401359", "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]}, PURPOSE, "BRAK_UPRAWNIEN"),
        ("pup.kierownik", "44051401359", "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]}, "   ", "BRAK_CELU"),
    ],
    ids=[
        "checksum",
        "date",
        "length",
        "full-width",
        "dash",
        "data-set",
        "category",
        "legal-basis",
        "basis-not-allowed",
        "purpose",
    ],
)
def test_bad_queries_get_a_fault_with_a_stable_code_and_a_polish_message(
    hub: RunningHub, login: str, pesel: str, basis: str, scope: dict, purpose: str, expected: str
) -> None:
    with pytest.raises(Fault) as error:
        client(hub, login).service.ZapytanieOBeneficjenta(Zapytanie=query(pesel, basis, scope, purpose))
    assert fault_code(error) == expected
    assert error.value.code.endswith("Client")
    assert_polish_sentence(error.value.message)


def test_wrong_password_and_missing_credentials_are_refused(hub: RunningHub) -> None:
    pesel = hub.person(
        "PUP",
    )
    request = query(pesel, "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]})
    with pytest.raises(Fault) as wrong:
        client(hub, "pup.kierownik", password="zle-haslo").service.ZapytanieOBeneficjenta(Zapytanie=request)
    assert fault_code(wrong) == "BLEDNE_UWIERZYTELNIENIE"
    with pytest.raises(Fault) as unknown_user:
        Client(hub.wsdl, wsse=UsernameToken("nie.ma.takiego", "x")).service.ListaZbiorow()
    assert fault_code(unknown_user) == "BLEDNE_UWIERZYTELNIENIE"
    assert unknown_user.value.message == wrong.value.message  # never says whether the login exists
    with pytest.raises(Fault) as missing:
        Client(hub.wsdl).service.ZapytanieOBeneficjenta(Zapytanie=request)
    assert fault_code(missing) == "BRAK_UWIERZYTELNIENIA"


def test_the_answer_time_is_now(hub: RunningHub) -> None:
    answer = client(hub, "sr.referent").service.ZapytanieOBeneficjenta(
        Zapytanie=query(hub.person("PUP", "OPS", "SR"), "USR-2003", {"PUP": ["OKRESY_REJESTRACJI"]})
    )
    assert abs((dt.datetime.now(dt.UTC) - answer.DataOdpowiedzi).total_seconds()) < 60
    assert requests.get(hub.endpoint.rsplit("/soap/", 1)[0] + "/", timeout=5).status_code == 200


def test_answers_are_valid_against_the_published_schema(hub: RunningHub) -> None:
    from tests.conftest import ROOT

    schema = etree.XMLSchema(etree.parse(str(ROOT / "xsd" / "zapytania-1.xsd")))
    for login, basis, scope, pesel in (
        ("pup.kierownik", "URPSZ-2025", WIDE_SCOPE, hub.person("PUP", "OPS", "SR")),
        ("pup.kierownik", "URPSZ-2025", {"PUP": ["DANE_OSOBOWE"]}, "44051401359"),  # BRAK_DANYCH
    ):
        root = raw_answer(hub, login, query(pesel, basis, scope))
        body = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        assert body is not None
        answer = body[0]
        assert schema.validate(etree.ElementTree(answer)), schema.error_log
