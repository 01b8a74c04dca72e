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


XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema"'


@pytest.mark.parametrize(
    ("identifier", "detail"),
    [
        (
            by_name("1990-05-17").replace("<z:Nazwisko>", f'<z:Nazwisko {XSI} xsi:type="xs:int">'),
            "Atrybut xsi:type elementu Nazwisko: typ int podany w xsi:type nie jest typem tego elementu",
        ),
        (
            by_name("1990-05-17").replace("<z:Nazwisko>", f'<z:Nazwisko {XSI} xsi:type="q:Typ">'),
            "Atrybut xsi:type elementu Nazwisko: prefiks nazwy 'q:Typ' nie ma deklaracji przestrzeni nazw",
        ),
        (
            by_name("1990-05-17").replace("Kowalska", "K" * 70_000),
            "Element Nazwisko: wartość ma długość 70000, a dozwolona jest najwyżej",
        ),
    ],
    ids=["xsi-type-not-derived", "xsi-type-undeclared-prefix", "70000-characters"],
)
def test_schema_faults_a_wrong_type_sweep_found_in_english_are_polish(
    hub: RunningHub, identifier: str, detail: str
) -> None:
    faultcode, code, message, details = fault(query(hub, identifier))
    assert (faultcode, code) == ("Client", "NIEZGODNOSC_ZE_SCHEMATEM")
    assert "{http" not in message and "komunikat walidatora" not in " ".join(details), (message, details)
    assert len(details) == 1 and details[0].startswith(detail) and len(details[0]) < 500, details


def test_a_report_period_after_the_year_9999_is_named_in_polish(hub: RunningHub) -> None:
    """libxml2 takes the year 12345 as an xs:dateTime; Spyne refuses it in English naming no element."""
    body = (
        '<a:RaportUjawnien xmlns:a="urn:pl:platforma-komunikacyjna:audyt:2"><a:Zamowienie><a:Rodzaj>OKRES</a:Rodzaj>'
        "<a:Od>12345-01-01T00:00:00Z</a:Od><a:Format>XML</a:Format></a:Zamowienie></a:RaportUjawnien>"
    )
    faultcode, code, _message, details = fault(post(hub, "/soap/audyt-2", envelope(body)))
    assert (faultcode, code) == ("Client", "NIEZGODNOSC_ZE_SCHEMATEM")
    assert details == [
        "Wartość '12345-01-01T00:00:00Z' ma poprawny zapis, ale wykracza poza zakres, który platforma przyjmuje "
        "(np. rok spoza lat 1–9999)."
    ]


def post(
    hub: RunningHub, path: str, body: bytes, content_type: str | None = "text/xml; charset=utf-8"
) -> requests.Response:
    base = hub.endpoint.rsplit("/soap/", 1)[0]
    headers = {"SOAPAction": '""'} | ({"Content-Type": content_type} if content_type is not None else {})
    return requests.post(base + path, data=body, headers=headers, timeout=30)


def envelope(body: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>{body}</soap:Body>'
        "</soap:Envelope>"
    ).encode()


AUDIT = "urn:pl:platforma-komunikacyjna:audyt:1"
FEED = "urn:pl:platforma-komunikacyjna:zasilanie:1"
UNHOLDABLE = {
    "audit-hour-24": (
        "/soap/audyt",
        f'<a:RaportUjawnien xmlns:a="{AUDIT}"><a:Zamowienie><a:Rodzaj>OKRES</a:Rodzaj><a:Od>2026-01-01T24:00:00Z'
        "</a:Od><a:Format>csv</a:Format></a:Zamowienie></a:RaportUjawnien>",
    ),
    "feed-hour-24": (
        "/soap/zasilanie",
        f'<Paczka xmlns="{FEED}" Zbior="PUP" Rodzaj="PRZYROSTOWA" Utworzono="2026-01-01T24:00:00Z"/>',
    ),
}


@pytest.mark.parametrize(("path", "body"), UNHOLDABLE.values(), ids=UNHOLDABLE.keys())
def test_a_schema_valid_value_python_cannot_hold_is_answered_and_not_logged_with_a_traceback(
    hub: RunningHub, path: str, body: str
) -> None:
    """Anyone, with no credentials, could fill the log: each such request wrote two ERROR lines and a traceback
    (Spyne's loggers spyne.server._base and spyne.server.wsgi), the caller's value in Spyne's English."""
    log = hub.directory / "hub.log"
    before = log.stat().st_size
    response = post(hub, path, envelope(body))
    faultcode, code, message, _details = fault(response)
    assert (faultcode, code) == ("Client", "NIEZGODNOSC_ZE_SCHEMATEM") and "24:00" in message
    ping = post(hub, "/soap/zapytania", envelope(f'<z:ListaZbiorow xmlns:z="{QUERY}"/>'))  # a later request: flushed
    assert ping.status_code == 500
    with log.open("rb") as opened:
        opened.seek(before)
        added = opened.read().decode("utf-8", errors="replace")
    assert "Traceback" not in added and "ERROR" not in added, added[:2000]


def test_base64_with_a_character_outside_ascii_is_named_as_such(hub: RunningHub) -> None:
    """It was told as 'a date, time or number … e.g. hour 24:00', and logged with a traceback."""
    documents = "urn:pl:platforma-komunikacyjna:dokumenty:1"
    body = (
        f'<d:ImportujSzablon xmlns:d="{documents}"><d:PlikSzablonu>PD94bWwg\u00a0</d:PlikSzablonu></d:ImportujSzablon>'
    )
    log = hub.directory / "hub.log"
    before = log.stat().st_size
    faultcode, code, message, _details = fault(post(hub, "/soap/dokumenty", envelope(body)))
    assert (faultcode, code) == ("Client", "NIEZGODNOSC_ZE_SCHEMATEM")
    assert "Base64" in message and "24:00" not in message, message
    post(hub, "/soap/zapytania", envelope(f'<z:ListaZbiorow xmlns:z="{QUERY}"/>'))
    with log.open("rb") as opened:
        opened.seek(before)
        assert b"Traceback" not in opened.read()


@pytest.mark.parametrize("content_type", [None, ""], ids=["missing", "empty"])
def test_a_post_without_a_content_type_is_refused_as_documented(hub: RunningHub, content_type: str | None) -> None:
    """docs/integration.md: NIEDOZWOLONE_ZADANIE, HTTP 405. Twisted gives the WSGI application an empty
    CONTENT_TYPE, not a missing one, so the request ran."""
    response = post(hub, "/soap/zapytania", envelope(f'<z:ListaZbiorow xmlns:z="{QUERY}"/>'), content_type)
    assert response.status_code == 405, response.text[:300]
    assert etree.fromstring(response.content).findtext(f".//{MODEL}Kod") == "NIEDOZWOLONE_ZADANIE"


@pytest.mark.parametrize("path", ["/soap/audyt2", "/soap/Konta", "/soap/", "/soap", "/nieznany/adres"])
def test_a_request_to_an_address_with_no_service_gets_a_polish_soap_fault(hub: RunningHub, path: str) -> None:
    response = post(hub, path, envelope(f'<z:ListaZbiorow xmlns:z="{QUERY}"/>'))
    assert response.status_code == 404 and response.headers["Content-Type"].startswith("text/xml"), response.text
    root = etree.fromstring(response.content)
    assert root.findtext(f".//{MODEL}Kod") == "NIEZNANA_USLUGA"
    message = root.findtext(f".//{SOAP_ENV}Fault/faultstring") or ""
    assert message.startswith("Pod adresem") and "/soap/zapytania" in message, message
    page = requests.get(response.url, timeout=30)
    assert page.status_code == 404 and "nie ma usługi platformy" in page.text and "<html" not in page.text


@pytest.mark.parametrize("path", ["/", "/xsd/model-1.xsd"])
def test_a_post_to_a_page_is_refused_in_polish(hub: RunningHub, path: str) -> None:
    response = post(hub, path, envelope(f'<z:ListaZbiorow xmlns:z="{QUERY}"/>'))
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
    assert etree.fromstring(response.content).findtext(f".//{MODEL}Kod") == "NIEDOZWOLONE_ZADANIE"
    assert requests.get(response.url, timeout=30).status_code == 200


@pytest.mark.parametrize("path", ["/soap/zapytania/x", "/soap/zapytania//", "/soap/konta/cokolwiek/dalej"])
def test_an_address_below_a_service_is_no_service(hub: RunningHub, path: str) -> None:
    """Protocol pass: `/soap/zapytania/x` was served as the service, and its `?wsdl` published an endpoint that does
    not exist (`…/soap/zapytania/xzapytania`)."""
    response = post(hub, path, envelope(f'<z:ListaZbiorow xmlns:z="{QUERY}"/>'))
    assert response.status_code == 404, response.text[:300]
    assert etree.fromstring(response.content).findtext(f".//{MODEL}Kod") == "NIEZNANA_USLUGA"
    assert requests.get(f"{base(hub)}{path}?wsdl", timeout=30).status_code == 404
    served = requests.get(f"{base(hub)}/soap/zapytania/?wsdl", timeout=30)  # a trailing slash is the service
    assert served.status_code == 200 and f'location="{base(hub)}/soap/zapytania"' in served.text


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_request_is_refused_naming_the_encoding(hub: RunningHub, encoding: str) -> None:
    """Protocol pass: a gzip body was read as XML and answered 500 NIEPRAWIDLOWY_XML."""
    import gzip
    import zlib

    body = envelope(f'<z:ListaZbiorow xmlns:z="{QUERY}"/>')
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    response = requests.post(
        f"{base(hub)}/soap/zapytania",
        data=packed,
        headers={"Content-Type": "text/xml; charset=utf-8", "Content-Encoding": encoding},
        timeout=30,
    )
    assert response.status_code == 415, response.text[:300]
    root = etree.fromstring(response.content)
    assert root.findtext(f".//{MODEL}Kod") == "NIEDOZWOLONE_ZADANIE"
    assert encoding in (root.findtext(f".//{SOAP_ENV}Fault/faultstring") or "")


def test_head_works_where_get_does_and_a_405_names_what_is_allowed(hub: RunningHub) -> None:
    head = requests.head(f"{base(hub)}/soap/zapytania?wsdl", timeout=30)
    assert head.status_code == 200 and not head.content
    refused = requests.get(f"{base(hub)}/soap/zapytania", timeout=30)
    assert refused.status_code == 405 and refused.headers.get("Allow") == "POST"


def base(hub: RunningHub) -> str:
    return hub.endpoint.rsplit("/soap/", 1)[0]


def test_a_soap_12_envelope_gets_version_mismatch(hub: RunningHub) -> None:
    """Contracts pass: SOAP 1.1 §4.4.1 (which docs/integration.md says the hub follows) answers an envelope of
    another version with faultcode VersionMismatch; the hub said NIEPRAWIDLOWE_ZAPYTANIE."""
    body = envelope(f'<z:ListaZbiorow xmlns:z="{QUERY}"/>').replace(
        b"http://schemas.xmlsoap.org/soap/envelope/", b"http://www.w3.org/2003/05/soap-envelope"
    )
    response = post(hub, "/soap/zapytania", body, "application/soap+xml; charset=utf-8")
    root = etree.fromstring(response.content)
    faultcode = root.findtext(f".//{SOAP_ENV}Fault/faultcode") or ""
    assert response.status_code == 500 and faultcode.endswith(":VersionMismatch"), response.text[:400]
    assert "SOAP 1.1" in (root.findtext(f".//{SOAP_ENV}Fault/faultstring") or "")
    assert root.find(f".//{SOAP_ENV}Fault/detail") is None
