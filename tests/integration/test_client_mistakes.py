"""A caller's mistake is a `soap:Client` fault with a stable code and a Polish sentence, over real HTTP:
a schema-valid date of birth no calendar of ours has (year 12345, a year before the common era), and
schema violations, whose description carries no Python repr and no libxml2 file, line or error kind.
`soap:Server` is for the platform's own failures only."""

from __future__ import annotations

import pytest
import requests
from lxml import etree

from tests.integration.conftest import MODEL, RunningHub

SOAP_ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
QUERY = "urn:pl:platforma-komunikacyjna:zapytania:1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NOISE = ('b"', "b'", "<string>", "SCHEMASV", "SCHEMAV_", "ERROR:", "{urn:", "Traceback", "&#")


def query(hub: RunningHub, identifier: str) -> requests.Response:
    user = hub.user("pup.kierownik")
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
        f' xmlns:z="{QUERY}"><soap:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{user['login']}</wsse:Username><wsse:Password>{user['password']}</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><z:ZapytanieOBeneficjenta><z:Zapytanie>"
        f"<z:IdentyfikatorBeneficjenta>{identifier}</z:IdentyfikatorBeneficjenta>"
        "<z:PodstawaPrawna>URPSZ-2025</z:PodstawaPrawna><z:Cel>Sprawdzenie błędów klienta</z:Cel>"
        "<z:Zbiory><z:Zbior><z:Kod>PUP</z:Kod><z:Zakres><z:Kategoria>DANE_OSOBOWE</z:Kategoria></z:Zakres>"
        "</z:Zbior></z:Zbiory></z:Zapytanie></z:ZapytanieOBeneficjenta></soap:Body></soap:Envelope>"
    )
    return requests.post(
        hub.endpoint,
        data=body.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        timeout=30,
    )


def fault(response: requests.Response) -> tuple[str, str, str, list[str]]:
    """(faultcode without its prefix, stable code, fault string, details)."""
    assert response.status_code == 500, response.text[:500]
    root = etree.fromstring(response.content)
    found = root.find(f".//{SOAP_ENV}Fault")
    assert found is not None, response.text[:500]
    faultcode = (found.findtext("faultcode") or "").rsplit(":", 1)[-1]
    code = root.findtext(f".//{MODEL}Blad/{MODEL}Kod") or ""
    details = [d.text or "" for d in root.iter(f"{MODEL}Szczegol")]
    return faultcode, code, found.findtext("faultstring") or "", details


def by_name(birth: str) -> str:
    return f"<z:Nazwisko>Kowalska</z:Nazwisko><z:Imie>Anna</z:Imie><z:DataUrodzenia>{birth}</z:DataUrodzenia>"


@pytest.mark.parametrize("birth", ["12345-01-01", "-2000-01-01", "10000-12-31Z"])
def test_a_schema_valid_birth_date_out_of_range_is_the_callers_mistake(hub: RunningHub, birth: str) -> None:
    response = query(hub, by_name(birth))
    faultcode, code, message, _details = fault(response)
    assert (faultcode, code) == ("Client", "NIEPRAWIDLOWY_IDENTYFIKATOR")
    assert "Data urodzenia" in message and "9999" in message
    assert not any(noise in response.text for noise in NOISE)


def test_a_birth_date_with_a_time_zone_is_still_a_date(hub: RunningHub) -> None:
    response = query(hub, by_name("1990-05-17+02:00"))
    assert response.status_code == 200, response.text[:500]
    assert b"Status>BRAK_DANYCH<" in response.content or b"Status>OK<" in response.content


@pytest.mark.parametrize(
    ("identifier", "element", "clause"),
    [
        ("<z:Nieznany>1</z:Nieznany>", "Nieznany", "element Nieznany jest w tym miejscu niedozwolony"),
        (by_name("2000-13-01"), "DataUrodzenia", "wartość elementu DataUrodzenia jest niezgodna ze schematem"),
        (by_name("1990-05-17").replace("Anna", "Zofia Łucja"), None, None),  # valid: the contrast
    ],
    ids=["unknown-element", "impossible-date", "valid-non-ascii"],
)
def test_a_schema_fault_says_what_is_wrong_readably(
    hub: RunningHub, identifier: str, element: str | None, clause: str | None
) -> None:
    response = query(hub, identifier)
    if element is None:
        assert response.status_code == 200, response.text[:500]
        return
    faultcode, code, message, details = fault(response)
    assert (faultcode, code) == ("Client", "NIEZGODNOSC_ZE_SCHEMATEM")
    assert message.startswith("Zapytanie nie jest zgodne ze schematem") and clause in message
    # The detail in Polish too (contract.schema_messages): libxml2's English stays out of what a clerk reads.
    assert len(details) == 1 and details[0].startswith(f"Element {element}: "), details
    assert not any(english in details[0] for english in ("not expected", "not a valid value", "atomic type")), details
    assert not any(noise in response.text for noise in NOISE)


def test_a_schema_fault_keeps_non_ascii_values_readable(hub: RunningHub) -> None:
    identifier = "<z:DokumentTozsamosci><z:Rodzaj>DOWÓD</z:Rodzaj><z:Numer>ABA300000</z:Numer></z:DokumentTozsamosci>"
    faultcode, code, message, details = fault(query(hub, identifier))
    assert (faultcode, code) == ("Client", "NIEZGODNOSC_ZE_SCHEMATEM") and "elementu Rodzaj" in message
    assert details and "wartość 'DOWÓD' nie należy do wartości dozwolonych: 'DOWOD_OSOBISTY'" in details[0], details
