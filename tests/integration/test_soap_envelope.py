"""The SOAP envelope rules every service keeps (hub/soap/services/protocol.py; docs/integration.md, "Envelope"),
with raw HTTP POSTs to a hub of this module's own (`platforma demo` on 127.0.0.1), and zeep from the served WSDL:

- a message is one request: a Body with two operation elements ran the first and silently dropped the second
  (HTTP 200); a second Body or anything after the Body was dropped the same way (WS-I Basic Profile 1.1);
- a header block aimed at the hub with `soap:mustUnderstand="1"` that the hub does not process was ignored
  and the request served; SOAP 1.1 §4.2.3 requires a `soap:MustUnderstand` fault.

Each refusal is followed by its repaired twin, which the hub serves and which leaves the trace the refused
message did not (a case, a register record, a report, a logout, a batch taken in): "nothing was done" is not
vacuous. Every request carries its WS-Security header with `soap:mustUnderstand="1"`, as PHP's SoapClient
sends it: the one header the hub processes is understood.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from audit import EventKind
from audit.sql import SqlDisclosureRegister, SqlEventLog
from tests.integration import wsse
from tests.integration.conftest import MODEL, RunningHub, start_demo_hub

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NEXT = "http://schemas.xmlsoap.org/soap/actor/next"
NS = "urn:pl:platforma-komunikacyjna:"
PESEL_FED = "90051712344"  # valid check digit; the person of every batch sent (the first one adds her)
#: English words that must never reach a clerk in a fault (a leaked exception, a library's message).
ENGLISH = re.compile(
    r"\b(the|is|not|must|invalid|error|expected|failed|exception|traceback|none|value|line)\b", re.IGNORECASE
)
_serial = itertools.count(1)


# -- the hub and what each service's operation leaves behind ------------------------------------------------------
@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_demo_hub(
        tmp_path_factory.mktemp("koperta"), "--gminas", "1", "--pup", "60", "--ops", "40", "--sr", "40"
    )
    yield running
    running.process.terminate()
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()


def _events(hub: RunningHub, login: str, kind: EventKind) -> int:
    log = SqlEventLog(f"sqlite:///{hub.demo['audit_database']}")
    try:
        return sum(1 for event in log.events(user=login, kind=kind))
    finally:
        log.dispose()


def _disclosures(hub: RunningHub) -> int:
    register = SqlDisclosureRegister(f"sqlite:///{hub.demo['audit_database']}")
    try:
        return sum(1 for _ in register.records(pesel=hub.person("PUP", "OPS", "SR")))
    finally:
        register.dispose()


def _rows(hub: RunningHub, database: str, query: str) -> int:
    connection = sqlite3.connect(f"file:{hub.directory / database}?mode=ro", uri=True, timeout=30)
    try:
        return int(connection.execute(query).fetchone()[0])
    finally:
        connection.close()


def _query(hub: RunningHub) -> str:
    return (
        f'<z:ZapytanieOBeneficjenta xmlns:z="{NS}zapytania:1"><z:Zapytanie><z:IdentyfikatorBeneficjenta>'
        f"<z:Pesel>{hub.person('PUP', 'OPS', 'SR')}</z:Pesel></z:IdentyfikatorBeneficjenta>"
        "<z:PodstawaPrawna>URPSZ-2025</z:PodstawaPrawna><z:Cel>Sprawdzenie koperty SOAP</z:Cel><z:Zbiory><z:Zbior>"
        "<z:Kod>PUP</z:Kod><z:Zakres><z:Kategoria>DANE_OSOBOWE</z:Kategoria></z:Zakres></z:Zbior></z:Zbiory>"
        "</z:Zapytanie></z:ZapytanieOBeneficjenta>"
    )


def _report(version: int, csv: str) -> Callable[[RunningHub], str]:
    def order(hub: RunningHub) -> str:
        return (
            f'<a:RaportUjawnien xmlns:a="{NS}audyt:{version}"><a:Zamowienie><a:Rodzaj>OSOBA</a:Rodzaj>'
            f"<a:Pesel>{hub.person('PUP', 'OPS', 'SR')}</a:Pesel><a:Format>{csv}</a:Format></a:Zamowienie>"
            "</a:RaportUjawnien>"
        )

    return order


def _batch(_hub: RunningHub) -> str:
    return (
        f'<Paczka xmlns="{NS}zasilanie:1" Zbior="PUP" Rodzaj="PRZYROSTOWA"><Rekord>'
        f"<IdZrodlowy>KOPERTA-{next(_serial)}</IdZrodlowy><DanePUP>"
        f'<m:DaneOsobowe xmlns:m="{NS}model:1"><m:Nazwisko>Kopertowa</m:Nazwisko><m:Imie>Anna</m:Imie>'
        f"<m:Pesel>{PESEL_FED}</m:Pesel><m:DataUrodzenia>1990-05-17</m:DataUrodzenia><m:Plec>K</m:Plec>"
        "</m:DaneOsobowe></DanePUP></Rekord></Paczka>"
    )


def _application(hub: RunningHub) -> str:
    categories = "".join(f"<d:Kategoria>{c}</d:Kategoria>" for c in ("OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"))
    return (
        f'<d:ZlozWniosek xmlns:d="{NS}dokumenty:1"><d:Wniosek><d:Pesel>{hub.person("PUP", "OPS")}</d:Pesel>'
        "<d:PodstawaPrawna>UPS-2004</d:PodstawaPrawna><d:Cel>Sprawdzenie koperty SOAP</d:Cel>"
        "<d:RodzajZaswiadczenia>ZASWIADCZENIE_PUP_REJESTRACJA</d:RodzajZaswiadczenia><d:Adresat>PUP</d:Adresat>"
        f"<d:Zbior><d:Kod>PUP</d:Kod>{categories}</d:Zbior></d:Wniosek></d:ZlozWniosek>"
    )


@dataclass(frozen=True)
class Operation:
    """An operation of a service that leaves a trace: who calls it, its request element as written by hand,
    how many traces of it there are, and a call of the service through zeep."""

    service: str
    login: str
    request: Callable[[RunningHub], str]
    traces: Callable[[RunningHub], int]
    zeep_call: Callable[[Any, RunningHub, list[etree._Element]], Any]


OPERATIONS = {
    "zapytania": Operation(
        "zapytania", "pup.kierownik", _query, _disclosures, lambda s, _h, headers: s.ListaZbiorow(_soapheaders=headers)
    ),
    "zasilanie": Operation(
        "zasilanie",
        "pup.system",
        _batch,
        lambda hub: _rows(hub, "replicas/pup.sqlite", "SELECT count(*) FROM zasilenia"),  # batches taken in
        lambda s, _h, headers: s.StanZasilania(Zbior="PUP", _soapheaders=headers),
    ),
    "audyt": Operation(
        "audyt",
        "audytor",
        _report(1, "csv"),
        lambda hub: _events(hub, "audytor", EventKind.REPORT),
        lambda s, hub, headers: s.RaportUjawnien(
            Zamowienie={"Rodzaj": "OSOBA", "Pesel": hub.person("PUP", "OPS", "SR"), "Format": "xml"},
            _soapheaders=headers,
        ),
    ),
    "audyt-2": Operation(
        "audyt-2",
        "audytor",
        _report(2, "CSV"),
        lambda hub: _events(hub, "audytor", EventKind.REPORT),
        lambda s, hub, headers: s.RaportUjawnien(
            Zamowienie={"Rodzaj": "OSOBA", "Pesel": hub.person("PUP", "OPS", "SR"), "Format": "XML"},
            _soapheaders=headers,
        ),
    ),
    "konta": Operation(
        "konta",
        "sr.referent",
        lambda _hub: f'<k:Wylogowanie xmlns:k="{NS}konta:1"/>',
        lambda hub: _events(hub, "sr.referent", EventKind.LOGOUT),
        lambda s, _h, headers: s.Wylogowanie(_soapheaders=headers),
    ),
    "dokumenty": Operation(
        "dokumenty",
        "ops.pracownik",
        _application,
        lambda hub: _rows(
            hub, "hub.sqlite", "SELECT count(*) FROM sprawy_dokumentow WHERE wnioskodawca = 'ops.pracownik'"
        ),
        lambda s, _h, headers: s.SkrzynkaNadawcza(_soapheaders=headers),
    ),
}
EVERY_SERVICE = pytest.mark.parametrize("operation", list(OPERATIONS.values()), ids=list(OPERATIONS))


# -- messages and answers ---------------------------------------------------------------------------------------
def security(hub: RunningHub, operation: Operation) -> str:
    """The caller's WS-Security header, mandatory as PHP's SoapClient marks it."""
    header = wsse.security(operation.login, hub.user(operation.login)["password"])
    header.set(f"{{{ENV}}}mustUnderstand", "1")
    return etree.tostring(header).decode()


def block(must_understand: str | None = None, actor: str | None = None) -> str:
    """A header block the hub knows nothing of."""
    attributes = "".join(
        f' soap:{name}="{value}"' for name, value in (("mustUnderstand", must_understand), ("actor", actor)) if value
    )
    return f'<x:Potwierdzenie xmlns:x="urn:przyklad:naglowek"{attributes}>tak</x:Potwierdzenie>'


def envelope(*parts: str) -> bytes:
    return f'<soap:Envelope xmlns:soap="{ENV}">{"".join(parts)}</soap:Envelope>'.encode()


def header(*blocks: str) -> str:
    return f"<soap:Header>{''.join(blocks)}</soap:Header>"


def body(*requests: str) -> str:
    return f"<soap:Body>{''.join(requests)}</soap:Body>"


@dataclass(frozen=True)
class Answer:
    status: int
    faultcode: tuple[str | None, str]  # (namespace, local name) of the faultcode QName
    code: str | None
    message: str
    has_detail: bool


def post(hub: RunningHub, operation: Operation, data: bytes) -> Answer:
    """POST one envelope to the operation's service; its status and, for a fault, what the fault says."""
    endpoint = str(hub.demo["wsdl"][operation.service]).removesuffix("?wsdl")
    response = requests.post(
        endpoint, data=data, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}, timeout=60
    )
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    if fault is None:
        return Answer(response.status_code, (None, ""), None, "", False)
    prefix, _, local = (fault.findtext("faultcode") or "").rpartition(":")
    return Answer(
        response.status_code,
        (fault.nsmap.get(prefix or None), local),
        root.findtext(f".//{MODEL}Blad/{MODEL}Kod"),
        fault.findtext("faultstring") or "",
        fault.find("detail") is not None,
    )


def polish(message: str) -> None:
    assert message and not ENGLISH.search(message), message


def refused_as_client_mistake(answer: Answer) -> None:
    assert (answer.status, answer.faultcode, answer.code) == (500, (ENV, "Client"), "NIEPRAWIDLOWE_ZAPYTANIE"), answer
    polish(answer.message)


def served_once(hub: RunningHub, operation: Operation, data: bytes, before: int) -> None:
    """The repaired message is served and leaves one trace: the refused one would have left one too."""
    answer = post(hub, operation, data)
    assert answer.status == 200, answer
    assert operation.traces(hub) == before + 1


# -- a message is one request -------------------------------------------------------------------------------------
@EVERY_SERVICE
def test_a_body_must_hold_exactly_one_request(hub: RunningHub, operation: Operation) -> None:
    """Two requests in one Body: the first ran and the second was dropped, with HTTP 200; now neither runs and
    the caller learns why. An empty Body was refused before (tests/fuzz) and still is."""
    credentials = header(security(hub, operation))
    before = operation.traces(hub)
    two = post(hub, operation, envelope(credentials, body(operation.request(hub), operation.request(hub))))
    refused_as_client_mistake(two)
    assert "więcej niż jedno żądanie" in two.message
    refused_as_client_mistake(post(hub, operation, envelope(credentials, body())))
    assert operation.traces(hub) == before
    served_once(hub, operation, envelope(credentials, body(operation.request(hub))), before)


ENVELOPE_SHAPES = {
    # A second Body: another request, dropped unseen (SOAP 1.1 §4.1.2: one Body).
    "second-body": lambda h, b: envelope(h, b, b),
    # Anything after the Body (WS-I BP 1.1 R1011).
    "element-after-body": lambda h, b: envelope(h, b, '<x:Dopisek xmlns:x="urn:przyklad:naglowek"/>'),
    # A second Header: its mandatory block went unseen, as Spyne read only the first Header.
    "second-header": lambda h, b: envelope(h, header(block("1")), b),
    # The Header after the Body (SOAP 1.1 §4.1.2: the Header comes first).
    "header-after-body": lambda h, b: envelope(b, h),
}


@EVERY_SERVICE
@pytest.mark.parametrize("shape", list(ENVELOPE_SHAPES), ids=list(ENVELOPE_SHAPES))
def test_an_envelope_of_another_shape_is_refused_and_runs_nothing(
    hub: RunningHub, operation: Operation, shape: str
) -> None:
    credentials, request = header(security(hub, operation)), body(operation.request(hub))
    before = operation.traces(hub)
    answer = post(hub, operation, ENVELOPE_SHAPES[shape](credentials, request))
    refused_as_client_mistake(answer)
    assert "soap:Header" in answer.message and "soap:Body" in answer.message
    assert operation.traces(hub) == before
    served_once(hub, operation, envelope(credentials, request), before)


# -- mandatory headers ---------------------------------------------------------------------------------------------
MANDATORY = {
    # (the block refused, its twin that is served)
    "must-understand-1": (block("1"), block("0")),
    "for-the-next-node": (block("1", NEXT), block("1", "urn:przyklad:inny-wezel")),
    "must-understand-true": (block("true"), block()),
}


@EVERY_SERVICE
@pytest.mark.parametrize("variant", list(MANDATORY), ids=list(MANDATORY))
def test_an_unknown_mandatory_header_is_a_must_understand_fault_and_runs_nothing(
    hub: RunningHub, operation: Operation, variant: str
) -> None:
    """SOAP 1.1 §4.2.3, WS-I BP R1025/R1027: the block was ignored and the request served. Now a
    soap:MustUnderstand fault (HTTP 500, WS-I BP R1126) naming the block, without `detail` (SOAP 1.1 §4.4
    keeps it for the Body); its twin (optional, for another actor, or without the attribute) is served."""
    mandatory, optional = MANDATORY[variant]
    credentials, request = security(hub, operation), body(operation.request(hub))
    before = operation.traces(hub)
    answer = post(hub, operation, envelope(header(credentials, mandatory), request))
    assert (answer.status, answer.faultcode, answer.code, answer.has_detail) == (
        500,
        (ENV, "MustUnderstand"),
        None,
        False,
    ), answer
    polish(answer.message)
    assert "Potwierdzenie z przestrzeni nazw urn:przyklad:naglowek" in answer.message
    assert operation.traces(hub) == before
    served_once(hub, operation, envelope(header(credentials, optional), request), before)


@EVERY_SERVICE
def test_a_must_understand_value_other_than_0_or_1_is_refused(hub: RunningHub, operation: Operation) -> None:
    """`soap:mustUnderstand="tak"` is neither mandatory nor optional (SOAP 1.1 §4.2.3: "0" or "1"): it is not
    guessed at, also on the WS-Security header the hub processes."""
    credentials, request = security(hub, operation), body(operation.request(hub))
    before = operation.traces(hub)
    for blocks in ((credentials, block("tak")), (credentials.replace('mustUnderstand="1"', 'mustUnderstand="2"'),)):
        answer = post(hub, operation, envelope(header(*blocks), request))
        refused_as_client_mistake(answer)
        assert "soap:mustUnderstand" in answer.message
    assert operation.traces(hub) == before
    served_once(hub, operation, envelope(header(credentials, block("0")), request), before)


# -- zeep, from the served WSDL -------------------------------------------------------------------------------------
@EVERY_SERVICE
def test_zeep_from_the_served_wsdl_calls_each_service_and_reads_the_must_understand_fault(
    hub: RunningHub, operation: Operation
) -> None:
    user = hub.user(operation.login)
    client = Client(hub.demo["wsdl"][operation.service], wsse=UsernameToken(user["login"], user["password"]))
    operation.zeep_call(client.service, hub, [])
    mandatory = etree.fromstring(block("1").replace("<x:Potwierdzenie", f'<x:Potwierdzenie xmlns:soap="{ENV}"'))
    with pytest.raises(Fault) as raised:
        operation.zeep_call(client.service, hub, [mandatory])
    assert str(raised.value.code).endswith(":MustUnderstand") and raised.value.detail is None
    polish(str(raised.value.message))
