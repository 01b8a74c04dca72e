"""An attack pass on the documents workflow (issue 15) over `/soap/dokumenty`, as a hostile or careless office
system would try it: request → accept → sign → deliver → collect, and the receipts.

One demo powiat (`platforma demo --port 0`) serves the whole module; the tests use nothing but demo.json, the
served WSDL (zeep), hand-written SOAP envelopes, the demo's signing keys and `platforma` commands, and read the
hub's and the audit's databases only to check what was (not) written.

Every caller's mistake must be a `soap:Client` fault with a stable code and a Polish sentence, change nothing
and, where it is a refusal of access, be recorded. Tests named for a finding failed when they were written;
the others keep attacks that were handled correctly and that no other test covers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from audit import EventKind, Outcome
from audit.sql import SqlDisclosureRegister
from hub import settings as config_module
from hub.domain.accounts import Accounts, hash_password
from hub.settings import UserEntry
from hub.storage.tables import hub_engine
from signing import constants as dsig
from tests.conftest import require_tool
from tests.integration import wsse
from tests.integration.conftest import MODEL, RunningHub, start_demo_hub
from tests.integration.test_documents_demo import sign_with, verify_offline
from tests.integration.worker_hub import admin_cli, hub_events

DOCS = "urn:pl:platforma-komunikacyjna:dokumenty:1"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CERTIFICATE_TYPE = "ZASWIADCZENIE_PUP_REJESTRACJA"
CATEGORIES = ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]
#: English words that must never reach a clerk in a fault (a leaked exception, a library's message).
ENGLISH = re.compile(
    r"\b(the|is|not|must|invalid|error|expected|failed|exception|traceback|none|value|line)\b", re.IGNORECASE
)


@dataclass
class Powiat:
    """The running demo hub, its demo.json, and one zeep client per login (fresh ones for threads)."""

    running: RunningHub
    clients: dict[str, Any] = field(default_factory=dict)

    @property
    def demo(self) -> dict[str, Any]:
        return self.running.demo

    @property
    def wsdl(self) -> str:
        return str(self.demo["wsdl"]["dokumenty"])

    @property
    def endpoint(self) -> str:
        return self.wsdl.removesuffix("?wsdl")

    @property
    def directory(self) -> Path:
        return self.running.directory

    def user(self, login: str) -> dict[str, Any]:
        return self.running.user(login)

    def service(self, login: str, *, fresh: bool = False) -> Any:
        if fresh or login not in self.clients:
            client = Client(self.wsdl, wsse=UsernameToken(login, self.user(login)["password"])).service
            if fresh:
                return client
            self.clients[login] = client
        return self.clients[login]

    def person(self, *data_sets: str) -> str:
        return self.running.person(*data_sets)


def served_powiat(directory: Path, *sizes: str) -> Iterator[Powiat]:
    """A small demo powiat served from `directory` until the generator is closed."""
    running = start_demo_hub(directory, "--gminas", "1", *(sizes or ("--pup", "60", "--ops", "40", "--sr", "40")))
    yield Powiat(running)
    running.process.terminate()
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()


@pytest.fixture(scope="module")
def powiat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Powiat]:
    yield from served_powiat(tmp_path_factory.mktemp("atak-dokumenty"))


# -- helpers ----------------------------------------------------------------------------------------------------
def form(pesel: str, **changes: Any) -> dict[str, Any]:
    wniosek: dict[str, Any] = {
        "Pesel": pesel,
        "PodstawaPrawna": "UPS-2004",
        "Cel": "Ustalenie sytuacji osoby ubiegającej się o zasiłek",
        "RodzajZaswiadczenia": CERTIFICATE_TYPE,
        "Adresat": "PUP",
        "Zbior": [{"Kod": "PUP", "Kategoria": list(CATEGORIES)}],
    }
    wniosek.update(changes)
    return wniosek


def submit(powiat: Powiat, login: str = "ops.pracownik", pesel: str | None = None, **changes: Any) -> Any:
    pesel = pesel or powiat.person("PUP", "OPS")
    return powiat.service(login).ZlozWniosek(Wniosek=form(pesel, **changes))


def accepted(powiat: Powiat, pesel: str | None = None) -> tuple[str, bytes]:
    """A request of OPS accepted by PUP's signer: the case and the certificate to sign."""
    case_id = str(submit(powiat, pesel=pesel).Sprawa.IdentyfikatorSprawy)
    pup = powiat.service("pup.podpisujacy")
    pup.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)
    return case_id, bytes(pup.PobierzDoPodpisu(IdentyfikatorSprawy=case_id).Tresc)


def signed_by(powiat: Powiat, login: str, document: bytes) -> bytes:
    """Signed outside the hub with the demo user's own PKCS#12 (signxml's XAdES signer)."""
    return sign_with(powiat.user(login), document)


def delivered(powiat: Powiat, pesel: str | None = None) -> tuple[str, bytes]:
    """A case whose certificate PUP's signer signed and uploaded: the case and the signed bytes."""
    case_id, certificate = accepted(powiat, pesel)
    signed = signed_by(powiat, "pup.podpisujacy", certificate)
    powiat.service("pup.podpisujacy").PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed)
    return case_id, signed


def fault_of(call: Callable[[], Any]) -> Fault:
    """The SOAP fault a call raises; an answer instead fails the test, showing what was answered."""
    try:
        answer = call()
    except Fault as fault:
        return fault
    pytest.fail(f"expected a soap:Client fault, the hub answered: {str(answer)[:400]}")


def client_fault(fault: Fault, *codes: str) -> str:
    """Assert a soap:Client fault with one of `codes` and a Polish sentence; its code."""
    code = fault.detail.findtext(f"{MODEL}Blad/{MODEL}Kod") if fault.detail is not None else None
    assert str(fault.code).endswith("Client"), (fault.code, code, fault.message)
    assert code in codes, (code, fault.message)
    polish(fault.message)
    return str(code)


def polish(message: str | None) -> None:
    assert message and not ENGLISH.search(message) and "Traceback" not in message, message


def state(powiat: Powiat, case_id: str, login: str = "ops.pracownik") -> str:
    """The case's state as its party sees it in the outbox (requester) or inbox (controller)."""
    service = powiat.service(login)
    for box in (service.SkrzynkaNadawcza, service.SkrzynkaOdbiorcza):
        for case in box() or []:
            if case.IdentyfikatorSprawy == case_id:
                return str(case.Stan)
    raise AssertionError(f"{login} does not see case {case_id}")


def outbox_size(powiat: Powiat, login: str = "ops.pracownik") -> int:
    return len(powiat.service(login).SkrzynkaNadawcza() or [])


def hub_rows(powiat: Powiat, query: str, *parameters: str) -> list[tuple[Any, ...]]:
    """Rows of the hub's database, read-only."""
    connection = sqlite3.connect(f"file:{powiat.directory / 'hub.sqlite'}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(query, parameters).fetchall()
    finally:
        connection.close()


def transitions(powiat: Powiat, case_id: str) -> list[tuple[str, str, str, str]]:
    """(from, to, actor, note) of every transition of a case, in the order written."""
    return hub_rows(
        powiat, "SELECT ze_stanu, do_stanu, kto, uwagi FROM przejscia_spraw WHERE sprawa = ? ORDER BY id", case_id
    )


def stored_roles(powiat: Powiat, case_id: str) -> list[str]:
    return sorted(r[0] for r in hub_rows(powiat, "SELECT rola FROM dokumenty WHERE sprawa = ?", case_id))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def refusal_recorded(powiat: Powiat, login: str, since: dt.datetime, needle: str) -> bool:
    """A refusal of `login` since `since` naming `needle`: an ODMOWA_UPRAWNIEN security event, or a refused
    record in the disclosure register (as the query path records a refused query)."""
    for event in hub_events(powiat.running, login):
        if event.kind == EventKind.PERMISSION_REFUSED and _utc(event.time) >= since and needle in event.details:
            return True
    register = SqlDisclosureRegister(f"sqlite:///{powiat.directory / 'audyt' / 'audit.sqlite'}")
    try:
        return any(
            r.user == login
            and r.outcome == Outcome.REFUSED
            and _utc(r.time) >= since
            and needle in f"{r.request_id} {r.subject_pesel} {r.reason}"
            for r in register.records()
        )
    finally:
        register.dispose()


def security_header(powiat: Powiat, login: str, extra: str = "") -> str:
    header = etree.tostring(wsse.security(login, powiat.user(login)["password"])).decode()
    return header + extra


def post(powiat: Powiat, header: str, body: str | bytes) -> tuple[int, str, str | None, str | None]:
    """POST one envelope; the HTTP status, faultcode, code and faultstring."""
    if isinstance(body, str):
        body = body.encode()
    envelope = f'<soap:Envelope xmlns:soap="{ENV}"><soap:Header>{header}</soap:Header><soap:Body>'.encode()
    envelope += body + b"</soap:Body></soap:Envelope>"
    response = requests.post(
        powiat.endpoint,
        data=envelope,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        timeout=60,
    )
    if response.status_code == 200:
        return 200, "", None, None
    root = etree.fromstring(response.content)  # anything but a SOAP fault fails here
    return (
        response.status_code,
        root.findtext(f".//{{{ENV}}}Fault/faultcode") or "",
        root.findtext(f".//{MODEL}Blad/{MODEL}Kod"),
        root.findtext(f".//{{{ENV}}}Fault/faultstring"),
    )


def request_body(pesel: str, purpose: str = "Ustalenie sytuacji osoby") -> str:
    """A ZlozWniosek element written by hand (so that any character can be put in a field)."""
    categories = "".join(f"<d:Kategoria>{c}</d:Kategoria>" for c in CATEGORIES)
    return (
        f'<d:ZlozWniosek xmlns:d="{DOCS}"><d:Wniosek><d:Pesel>{pesel}</d:Pesel>'
        f"<d:PodstawaPrawna>UPS-2004</d:PodstawaPrawna><d:Cel>{purpose}</d:Cel>"
        f"<d:RodzajZaswiadczenia>{CERTIFICATE_TYPE}</d:RodzajZaswiadczenia><d:Adresat>PUP</d:Adresat>"
        f"<d:Zbior><d:Kod>PUP</d:Kod>{categories}</d:Zbior></d:Wniosek></d:ZlozWniosek>"
    )


def outcome(call: Callable[[], Any]) -> str:
    try:
        call()
        return "OK"
    except Fault as fault:
        return (fault.detail.findtext(f"{MODEL}Blad/{MODEL}Kod") if fault.detail is not None else None) or "?"


# == findings (each failed on the code it was written against) ==================================================
def test_a_user_outside_the_requesting_groups_scope_cannot_collect_the_certificate(powiat: Powiat) -> None:
    """ops.pracownik (PRACOWNICY_SOCJALNI) requested a certificate holding HISTORIA_STATUSOW; ops.asystent
    (ASYSTENCI_RODZINY: PUP's DANE_OSOBOWE and OKRESY_REJESTRACJI only, so the same request of hers is refused)
    downloaded it, the case became ODEBRANY in her name, and no disclosure to her was recorded."""
    case_id, signed = delivered(powiat, powiat.person("PUP", "OPS"))
    assistant = powiat.service("ops.asystent")
    since = now()
    for call in (
        lambda: assistant.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE"),
        lambda: assistant.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE_PODPISANE"),
        lambda: assistant.PobierzPDF(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE"),
    ):
        client_fault(fault_of(call), "BRAK_UPRAWNIEN")
    assert state(powiat, case_id) == "DOSTARCZONY"
    assert refusal_recorded(powiat, "ops.asystent", since, case_id)
    collected = powiat.service("ops.pracownik").PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    assert collected.Tresc == signed and state(powiat, case_id) == "ODEBRANY"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ([{"Kod": "XYZ", "Kategoria": ["ABC"]}], "NIEZNANY_ZBIOR"),
        ([{"Kod": "OPS", "Kategoria": ["SWIADCZENIA"]}], "BRAK_UPRAWNIEN"),  # no rule OPS → OPS for the group
        ("NIEISTNIEJE", "NIEZNANA_KATEGORIA"),
    ],
    ids=["unknown-data-set", "data-set-outside-the-groups-rules", "unknown-category"],
)
def test_a_request_naming_data_sets_or_categories_outside_the_rules_is_refused_whole(
    powiat: Powiat, extra: Any, code: str
) -> None:
    """The request document was made and receipted with whatever the caller named besides the certificate's
    own categories (an unknown data set, a data set the group has no rule for, an unknown category): only the
    certificate's categories were checked. A query asking for the same is refused whole."""
    if isinstance(extra, str):
        scope = [{"Kod": "PUP", "Kategoria": [*CATEGORIES, extra]}]
    else:
        scope = [{"Kod": "PUP", "Kategoria": list(CATEGORIES)}, *extra]
    before = outbox_size(powiat)
    client_fault(fault_of(lambda: submit(powiat, Zbior=scope)), code)
    assert outbox_size(powiat) == before


def test_a_submission_refused_for_scope_is_recorded(powiat: Powiat) -> None:
    """ops.asystent's request for a certificate with HISTORIA_STATUSOW is refused (BRAK_UPRAWNIEN, as it should
    be), but nothing records it: the query path writes a refused record, the documents path called the policy
    without recording (design: "the refusal is logged")."""
    pesel = powiat.person("PUP", "OPS")
    since = now()
    before = outbox_size(powiat, "ops.asystent")
    client_fault(fault_of(lambda: submit(powiat, "ops.asystent", pesel)), "BRAK_UPRAWNIEN")
    assert outbox_size(powiat, "ops.asystent") == before
    assert refusal_recorded(powiat, "ops.asystent", since, pesel)


def test_another_offices_attempt_on_an_existing_case_is_recorded(powiat: Powiat) -> None:
    """SR reading or moving a case between OPS and PUP gets NIEZNANA_SPRAWA (right: existence is not
    revealed), but unlike a non-signer of the controller nothing is recorded about the attempt."""
    case_id = str(submit(powiat).Sprawa.IdentyfikatorSprawy)
    since = now()
    sr = powiat.service("sr.referent")
    client_fault(fault_of(lambda: sr.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="WNIOSEK")), "NIEZNANA_SPRAWA")
    client_fault(fault_of(lambda: sr.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)), "NIEZNANA_SPRAWA")
    assert refusal_recorded(powiat, "sr.referent", since, case_id)


@pytest.mark.parametrize(
    "purpose",
    ["\u200b\u200b\u200b", "\u2066\u2069", "Ustalenie sytuacji \u202eynowelunu\u202c osoby", "Ustalenie\u0085sytuacji"],
    ids=["zero-width-only", "bidi-isolates-only", "right-to-left-override", "c1-control"],
)
def test_an_invisible_or_direction_overriding_purpose_is_refused(powiat: Powiat, purpose: str) -> None:
    """A purpose of zero-width spaces (strip() keeps them) was accepted as given; so were a right-to-left
    override, which shows the clerk a different text than the one stored and recorded, and a C1 control."""
    before = outbox_size(powiat)
    fault = fault_of(lambda: submit(powiat, Cel=purpose))
    client_fault(fault, "BRAK_CELU", "NIEPRAWIDLOWE_ZAPYTANIE", "NIEZGODNOSC_ZE_SCHEMATEM")
    assert outbox_size(powiat) == before


def test_an_invisible_refusal_reason_is_refused(powiat: Powiat) -> None:
    """Whitespace is refused as a reason ("Podaj powód odmowy."), a zero-width space was not: the requester
    saw an empty reason."""
    case_id = str(submit(powiat).Sprawa.IdentyfikatorSprawy)
    pup = powiat.service("pup.podpisujacy")
    client_fault(
        fault_of(lambda: pup.OdmowWniosku(IdentyfikatorSprawy=case_id, Powod="\u200b\u200b")),
        "NIEPRAWIDLOWE_ZAPYTANIE",
        "NIEZGODNOSC_ZE_SCHEMATEM",
    )
    assert state(powiat, case_id) == "ZLOZONY"


def test_text_added_after_signing_never_reaches_the_requester(powiat: Powiat) -> None:
    """A comment put into the signed certificate after signing is not covered by the signature (C14N without
    comments) and the hub compared the documents with comments removed: the upload was accepted and the
    requester received bytes nobody signed ("Zaswiadczenie uniewaznione"). Either the upload is refused, or
    what is stored and delivered holds nothing but the signed content."""
    case_id, certificate = accepted(powiat)
    signed = signed_by(powiat, "pup.podpisujacy", certificate)
    injected = signed.replace(b"<TrescDokumentu>", b"<TrescDokumentu><!-- Zaswiadczenie uniewaznione -->", 1)
    assert injected != signed
    pup = powiat.service("pup.podpisujacy")
    try:
        pup.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=injected)
    except Fault as fault:
        client_fault(fault, "PODPIS_ODRZUCONY")
        assert state(powiat, case_id) == "DO_PODPISU"
        return
    collected = powiat.service("ops.pracownik").PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    assert b"uniewaznione" not in collected.Tresc


def test_a_refusal_racing_an_acceptance_has_one_outcome_and_a_consistent_history(powiat: Powiat) -> None:
    """A refusal arriving while the accepted certificate is being generated: both answered OK (the acceptor got
    a certificate to sign for a case that is already ODMOWIONY), the certificate was stored and its disclosure
    recorded after the refusal, and the history's last transition (DO_PODPISU → DO_PODPISU, 'wytworzenie
    zaświadczenia') came after DO_PODPISU → ODMOWIONY: the history no longer replays to the case's state.
    (A refusal after the certificate was made is allowed; only the interleaving is wrong.) The refusal is sent
    the moment the acceptance's claim (ZLOZONY → DO_PODPISU) is visible in the hub's database."""
    acceptor = powiat.service("pup.podpisujacy", fresh=True)
    refuser = powiat.service("pup.podpisujacy", fresh=True)
    acceptor.SkrzynkaOdbiorcza()  # both logged in (credentials cached) before the race
    refuser.SkrzynkaOdbiorcza()
    pesel = powiat.person("PUP", "OPS", "SR")
    problems = []
    for _attempt in range(8):
        case_id = str(submit(powiat, pesel=pesel).Sprawa.IdentyfikatorSprawy)

        def accept(case_id: str = case_id) -> str:
            return outcome(lambda: acceptor.PrzyjmijWniosek(IdentyfikatorSprawy=case_id))

        def refuse_once_claimed(case_id: str = case_id) -> str:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(transitions(powiat, case_id)) < 2:
                time.sleep(0.0005)
            return outcome(lambda: refuser.OdmowWniosku(IdentyfikatorSprawy=case_id, Powod="Brak podstawy."))

        with ThreadPoolExecutor(2) as pool:
            refused_future = pool.submit(refuse_once_claimed)
            accepted_future = pool.submit(accept)
            results = (accepted_future.result(), refused_future.result())
        moves = transitions(powiat, case_id)
        final = state(powiat, case_id)
        chained = all(later[0] == earlier[1] for earlier, later in itertools.pairwise(moves))
        if not chained or moves[-1][1] != final:
            problems.append((results, final, [(m[0], m[1], m[3]) for m in moves]))
    assert not problems, problems


def test_the_requester_cannot_accept_their_own_request(powiat: Powiat) -> None:
    """pup.podpisujacy submitted a request to her own office, accepted it, signed the certificate and collected
    it: the check the controller's signer makes of a request (legal basis, purpose) was made by its author.
    A certificate about an office's own data is fine; the person asking must not be the one deciding."""
    submitted = submit(powiat, "pup.podpisujacy", PodstawaPrawna="URPSZ-2025")
    case_id = str(submitted.Sprawa.IdentyfikatorSprawy)
    pup = powiat.service("pup.podpisujacy")
    client_fault(fault_of(lambda: pup.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)), "BRAK_UPRAWNIEN")
    assert state(powiat, case_id, "pup.podpisujacy") == "ZLOZONY"


def test_a_body_with_two_requests_is_refused(powiat: Powiat) -> None:
    """Two ZlozWniosek elements in one soap:Body: the first made a case, the second was silently dropped, and
    the caller got 200. WS-I BP: one child of soap:Body; a careless client must learn that not all was done."""
    pesel = powiat.person("PUP", "OPS")
    before = outbox_size(powiat)
    status, faultcode, code, message = post(
        powiat,
        security_header(powiat, "ops.pracownik"),
        request_body(pesel, "Pierwszy") + request_body(pesel, "Drugi"),
    )
    assert status == 500 and faultcode.endswith("Client"), (status, faultcode, code, message)
    assert code in ("NIEPRAWIDLOWE_ZAPYTANIE", "NIEZGODNOSC_ZE_SCHEMATEM"), (code, message)
    polish(message)
    assert outbox_size(powiat) == before


def test_an_unknown_mandatory_header_is_a_must_understand_fault(powiat: Powiat) -> None:
    """A header block with soap:mustUnderstand="1" that the hub does not know was ignored and the request served
    (a case was made). SOAP 1.1 §4.2.3 and WS-I BP R1025/R1027: a soap:MustUnderstand fault, nothing done."""
    pesel = powiat.person("PUP", "OPS")
    before = outbox_size(powiat)
    mandatory = f'<x:Potwierdzenie xmlns:x="urn:przyklad:naglowek" xmlns:soap="{ENV}" soap:mustUnderstand="1"/>'
    status, faultcode, _code, message = post(
        powiat, security_header(powiat, "ops.pracownik", mandatory), request_body(pesel)
    )
    assert status == 500 and faultcode.endswith("MustUnderstand"), (status, faultcode, message)
    polish(message)
    assert outbox_size(powiat) == before


# == attacks that held (not covered elsewhere) =================================================================
@pytest.fixture(scope="module")
def waiting(powiat: Powiat) -> tuple[str, bytes, bytes]:
    """One case waiting for the signature: its id, the certificate to sign, and it validly signed (not sent)."""
    case_id, certificate = accepted(powiat, powiat.person("PUP", "OPS"))
    return case_id, certificate, signed_by(powiat, "pup.podpisujacy", certificate)


def test_another_office_can_neither_see_nor_move_a_case_nor_learn_that_it_exists(
    powiat: Powiat, waiting: tuple[str, bytes, bytes]
) -> None:
    case_id, _certificate, signed = waiting
    sr = powiat.service("sr.referent")
    receipts = len(powiat.service("ops.pracownik").PobierzPoswiadczenia(IdentyfikatorSprawy=case_id))
    guessed = str(uuid.uuid4())
    for target in (case_id, guessed):
        messages = []
        for call in (
            lambda t=target: sr.PobierzDokument(IdentyfikatorSprawy=t, Rola="WNIOSEK"),
            lambda t=target: sr.PobierzDokument(IdentyfikatorSprawy=t, Rola="ZASWIADCZENIE"),
            lambda t=target: sr.PobierzPDF(IdentyfikatorSprawy=t, Rola="WNIOSEK"),
            lambda t=target: sr.PobierzPoswiadczenia(IdentyfikatorSprawy=t),
            lambda t=target: sr.PobierzDoPodpisu(IdentyfikatorSprawy=t),
            lambda t=target: sr.PrzyjmijWniosek(IdentyfikatorSprawy=t),
            lambda t=target: sr.OdmowWniosku(IdentyfikatorSprawy=t, Powod="Nie nasza sprawa."),
            lambda t=target: sr.PrzeslijPodpisany(IdentyfikatorSprawy=t, Tresc=signed),
        ):
            fault = fault_of(call)
            client_fault(fault, "NIEZNANA_SPRAWA")
            messages.append(fault.message.replace(target, "<sprawa>"))
        assert len(set(messages)) == 1, messages  # an existing case and a guessed id answer alike
    assert state(powiat, case_id) == "DO_PODPISU"
    assert len(powiat.service("ops.pracownik").PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)) == receipts
    assert case_id not in [c.IdentyfikatorSprawy for c in sr.SkrzynkaOdbiorcza() or []]
    assert case_id not in [c.IdentyfikatorSprawy for c in sr.SkrzynkaNadawcza() or []]
    malformed = fault_of(lambda: sr.PobierzDokument(IdentyfikatorSprawy="x" * 37, Rola="WNIOSEK"))
    client_fault(malformed, "NIEZGODNOSC_ZE_SCHEMATEM")
    injected = fault_of(lambda: sr.PobierzDokument(IdentyfikatorSprawy="' OR 1=1 --", Rola="WNIOSEK"))
    client_fault(injected, "NIEZNANA_SPRAWA")


def test_a_signer_of_another_office_or_a_clerk_without_the_role_cannot_move_a_case_and_is_recorded(
    powiat: Powiat, waiting: tuple[str, bytes, bytes]
) -> None:
    case_id, certificate, signed = waiting
    since = now()
    ops_signer = powiat.service("ops.podpisujacy")
    own_signature = signed_by(powiat, "ops.podpisujacy", certificate)  # a valid qualified signature of hers
    for call in (
        lambda: ops_signer.PrzyjmijWniosek(IdentyfikatorSprawy=case_id),
        lambda: ops_signer.OdmowWniosku(IdentyfikatorSprawy=case_id, Powod="Odmawiam za PUP."),
        lambda: ops_signer.PobierzDoPodpisu(IdentyfikatorSprawy=case_id),
        lambda: ops_signer.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=own_signature),
    ):
        client_fault(fault_of(call), "BRAK_UPRAWNIEN")
    clerk = powiat.service("pup.kierownik")  # PUP, no PODPISUJACY role
    client_fault(fault_of(lambda: clerk.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed)), "BRAK_UPRAWNIEN")
    client_fault(fault_of(lambda: clerk.OdmowWniosku(IdentyfikatorSprawy=case_id, Powod="x")), "BRAK_UPRAWNIEN")
    assert state(powiat, case_id) == "DO_PODPISU"
    assert stored_roles(powiat, case_id) == ["WNIOSEK", "ZASWIADCZENIE"]
    assert refusal_recorded(powiat, "ops.podpisujacy", since, case_id)
    assert refusal_recorded(powiat, "pup.kierownik", since, case_id)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"Pesel": "02251524604"}, "NIEPRAWIDLOWY_PESEL"),
        ({"RodzajZaswiadczenia": "ZASWIADCZENIE_NIEISTNIEJACE"}, "NIEZNANY_SZABLON"),
        ({"RodzajZaswiadczenia": "WNIOSEK_O_INFORMACJE"}, "NIEPRAWIDLOWE_ZAPYTANIE"),
        ({"PodstawaPrawna": "NIEMA-2020"}, "NIEZNANA_PODSTAWA_PRAWNA"),
        ({"PodstawaPrawna": "URPSZ-2025"}, "BRAK_UPRAWNIEN"),
        ({"Adresat": "NIEISTNIEJACY"}, "NIEPRAWIDLOWE_ZAPYTANIE"),
        ({"Adresat": "SR"}, "NIEPRAWIDLOWE_ZAPYTANIE"),
        ({"Cel": " \t\u00a0"}, "NIEPRAWIDLOWE_ZAPYTANIE"),
        ({"Cel": "a" * 2001}, "NIEZGODNOSC_ZE_SCHEMATEM"),
        ({"Zbior": [{"Kod": "PUP", "Kategoria": ["OKRESY_REJESTRACJI"]}]}, "NIEPRAWIDLOWE_ZAPYTANIE"),
    ],
    ids=[
        "pesel-checksum",
        "unknown-certificate-type",
        "request-type-as-certificate",
        "unknown-legal-basis",
        "legal-basis-outside-scope",
        "unknown-recipient",
        "recipient-not-the-controller",
        "whitespace-purpose",
        "purpose-over-2000",
        "certificates-category-missing",
    ],
)
def test_submission_mistakes_are_client_faults_and_write_nothing(
    powiat: Powiat, changes: dict[str, Any], code: str
) -> None:
    before = outbox_size(powiat)
    client_fault(fault_of(lambda: submit(powiat, **changes)), code)
    assert outbox_size(powiat) == before


@pytest.mark.parametrize(
    ("purpose", "code"),
    [
        ("a&#0;b", "NIEPRAWIDLOWY_XML"),
        ("a\x00b", "NIEPRAWIDLOWY_XML"),
        ("a\x07b", "NIEPRAWIDLOWY_XML"),
        ("a&#x1b;b", "NIEPRAWIDLOWY_XML"),
        ("a&#xFFFF;b", "NIEPRAWIDLOWY_XML"),
        ("<b>pogrubiony</b>", "NIEZGODNOSC_ZE_SCHEMATEM"),
        (
            '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>',
            "NIEZGODNOSC_ZE_SCHEMATEM",
        ),
        ("&encja;", "NIEDOZWOLONA_KONSTRUKCJA_XML"),
    ],
    ids=["nul-reference", "nul", "bell", "escape-reference", "non-character", "markup", "xinclude", "dtd-entity"],
)
def test_control_characters_markup_and_entities_in_form_fields_are_refused(
    powiat: Powiat, purpose: str, code: str
) -> None:
    pesel = powiat.person("PUP", "OPS")
    before = outbox_size(powiat)
    body = request_body(pesel, purpose)
    if "&encja;" in purpose:  # an internal DTD declaring the entity, before the envelope
        header = security_header(powiat, "ops.pracownik")
        envelope = (
            f'<?xml version="1.0"?><!DOCTYPE soap:Envelope [<!ENTITY encja "Cel z encji">]>'
            f'<soap:Envelope xmlns:soap="{ENV}"><soap:Header>{header}</soap:Header><soap:Body>{body}</soap:Body>'
            "</soap:Envelope>"
        )
        response = requests.post(
            powiat.endpoint,
            data=envelope.encode(),
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
            timeout=60,
        )
        root = etree.fromstring(response.content)
        answer = (
            response.status_code,
            root.findtext(f".//{{{ENV}}}Fault/faultcode") or "",
            root.findtext(f".//{MODEL}Blad/{MODEL}Kod"),
            root.findtext(f".//{{{ENV}}}Fault/faultstring"),
        )
    else:
        answer = post(powiat, security_header(powiat, "ops.pracownik"), body)
    status, faultcode, got, message = answer
    assert status == 500 and faultcode.endswith("Client") and got == code, answer
    polish(message)
    assert "root:" not in (message or "")
    assert outbox_size(powiat) == before


def _signed_body(signed: bytes) -> bytes:
    return signed.split(b"?>", 1)[1]


HOSTILE_UPLOADS: dict[str, Callable[[bytes], bytes]] = {
    "internal-entity": lambda s: (
        b'<?xml version="1.0"?><!DOCTYPE Dokument [<!ENTITY x "abc">]>'
        + _signed_body(s).replace(b"<Stwierdzenie>", b"<Stwierdzenie>&x;", 1)
    ),
    "external-entity": lambda s: (
        b'<?xml version="1.0"?><!DOCTYPE Dokument [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + _signed_body(s).replace(b"<Stwierdzenie>", b"<Stwierdzenie>&x;", 1)
    ),
    "billion-laughs": lambda s: (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %s "%s">' % (bytes([c]), (b"&" + bytes([c - 1]) + b";") * 10) for c in range(ord("b"), ord("h"))
        )
        + b"]><d>&g;</d>"
    ),
    "xinclude": lambda s: s.replace(
        b"<Stwierdzenie>",
        b'<Stwierdzenie><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" '
        b'parse="text"/>',
        1,
    ),
    "depth-300": lambda s: b"<a>" * 300 + b"</a>" * 300,
    "nul-byte": lambda s: s.replace(b"<Stwierdzenie>", b"<Stwierdzenie>\x00", 1),
    "binary": lambda s: bytes(range(256)) * 8,
    "two-documents": lambda s: s + s,
    "unknown-encoding": lambda s: b'<?xml version="1.0" encoding="X-NIEZNANE"?><a/>',
    "unsigned-certificate": lambda s: canonical_without_signature(s),
    "detached-signature-only": lambda s: etree.tostring(etree.fromstring(s).find(dsig.ds("Signature"))),
    "second-signature": lambda s: s.replace(
        b"</Dokument>", b'<ds:Signature xmlns:ds="%s"/></Dokument>' % dsig.DS_NS.encode()
    ),
}


def canonical_without_signature(signed: bytes) -> bytes:
    root = etree.fromstring(signed)
    for signature in root.findall(dsig.ds("Signature")):
        root.remove(signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("attack", sorted(HOSTILE_UPLOADS))
def test_hostile_xml_uploads_are_refused_and_change_nothing(
    powiat: Powiat, waiting: tuple[str, bytes, bytes], attack: str
) -> None:
    case_id, _certificate, signed = waiting
    content = HOSTILE_UPLOADS[attack](signed)
    assert content != signed
    fault = fault_of(
        lambda: powiat.service("pup.podpisujacy").PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=content)
    )
    client_fault(fault, "PODPIS_ODRZUCONY")
    assert "root:" not in fault.message and "/bin/" not in fault.message
    assert state(powiat, case_id) == "DO_PODPISU"
    assert stored_roles(powiat, case_id) == ["WNIOSEK", "ZASWIADCZENIE"]


def test_an_upload_over_the_request_limit_is_refused_before_it_is_read(
    powiat: Powiat, waiting: tuple[str, bytes, bytes]
) -> None:
    case_id, _certificate, _signed = waiting
    content = b"<a>" + b"x" * 3_000_000 + b"</a>"
    fault = fault_of(
        lambda: powiat.service("pup.podpisujacy").PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=content)
    )
    client_fault(fault, "ZBYT_DUZE_ZAPYTANIE")
    assert state(powiat, case_id) == "DO_PODPISU"


def _prefixed(document: bytes) -> bytes:
    """The same document with its namespace bound to a prefix instead of the default namespace."""
    root = etree.fromstring(document)
    namespace = str(etree.QName(root).namespace)
    copy = etree.Element(f"{{{namespace}}}Dokument", nsmap={"d": namespace})
    for child in root:
        copy.append(etree.fromstring(etree.tostring(child)))
    return etree.tostring(copy)


def test_a_valid_signature_over_anything_but_this_cases_generated_certificate_is_refused(
    powiat: Powiat, waiting: tuple[str, bytes, bytes]
) -> None:
    """Each of these carries a valid qualified signature: over another case's certificate, by a signer of
    another office (a real demo key, not the test PKI's stranger), over the certificate pretty-printed, with
    its namespace as a prefix, with an extra attribute, and signed twice (two signatures)."""
    case_id, certificate, _signed = waiting
    _other_case, other_certificate = accepted(powiat, powiat.person("PUP", "OPS"))
    pup = powiat.service("pup.podpisujacy")
    attempts = {
        "another-case": (signed_by(powiat, "pup.podpisujacy", other_certificate), "TRESC_NIEZGODNA_Z_WYTWORZONA"),
        "another-offices-signer": (signed_by(powiat, "ops.podpisujacy", certificate), "PODPISUJACY_NIEUPRAWNIONY"),
        "pretty-printed": (
            signed_by(powiat, "pup.podpisujacy", etree.tostring(etree.fromstring(certificate), pretty_print=True)),
            "TRESC_NIEZGODNA_Z_WYTWORZONA",
        ),
        "prefixed-namespace": (
            signed_by(powiat, "pup.podpisujacy", _prefixed(certificate)),
            "TRESC_NIEZGODNA_Z_WYTWORZONA",
        ),
        "extra-attribute": (
            signed_by(
                powiat,
                "pup.podpisujacy",
                certificate.replace(b"<TrescDokumentu>", b'<TrescDokumentu xmlns:z="urn:z" z:a="1">', 1),
            ),
            "TRESC_NIEZGODNA_Z_WYTWORZONA",
        ),
        "signed-twice": (
            signed_by(powiat, "pup.podpisujacy", signed_by(powiat, "pup.podpisujacy", certificate)),
            "",
        ),
    }
    for name, (content, reason) in attempts.items():
        fault = fault_of(lambda content=content: pup.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=content))
        client_fault(fault, "PODPIS_ODRZUCONY")
        assert reason in etree.tostring(fault.detail).decode(), (name, fault.message)
    assert state(powiat, case_id) == "DO_PODPISU"
    assert stored_roles(powiat, case_id) == ["WNIOSEK", "ZASWIADCZENIE"]


@pytest.mark.parametrize("reason", ["   \t\n", "\u00a0\u3000", "a" * 2001, "a" * 100_000])
def test_a_refusal_reason_of_whitespace_or_over_the_limit_is_refused(powiat: Powiat, reason: str) -> None:
    case_id = str(submit(powiat).Sprawa.IdentyfikatorSprawy)
    pup = powiat.service("pup.podpisujacy")
    fault = fault_of(lambda: pup.OdmowWniosku(IdentyfikatorSprawy=case_id, Powod=reason))
    client_fault(fault, "NIEPRAWIDLOWE_ZAPYTANIE", "NIEZGODNOSC_ZE_SCHEMATEM")
    assert state(powiat, case_id) == "ZLOZONY"
    assert [m[1] for m in transitions(powiat, case_id)] == ["ZLOZONY"]


def test_moves_the_state_does_not_allow_are_refused_and_the_requester_never_sees_an_unsigned_certificate(
    powiat: Powiat,
) -> None:
    pup = powiat.service("pup.podpisujacy")
    ops = powiat.service("ops.pracownik")
    # before signing: the requester gets neither the draft nor its PDF
    case_id, certificate = accepted(powiat)
    for call in (
        lambda: ops.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE"),
        lambda: ops.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE_PODPISANE"),
        lambda: ops.PobierzPDF(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE"),
    ):
        client_fault(fault_of(call), "NIEDOZWOLONE_PRZEJSCIE")
    signed = signed_by(powiat, "pup.podpisujacy", certificate)
    pup.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed)
    # after delivery and after collection: no second upload, no refusal, no new acceptance
    for stage in ("DOSTARCZONY", "ODEBRANY"):
        assert state(powiat, case_id) == stage
        for call in (
            lambda: pup.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed),
            lambda: pup.OdmowWniosku(IdentyfikatorSprawy=case_id, Powod="Jednak odmawiam."),
            lambda: pup.PrzyjmijWniosek(IdentyfikatorSprawy=case_id),
            lambda: pup.PobierzDoPodpisu(IdentyfikatorSprawy=case_id),
        ):
            client_fault(fault_of(call), "NIEDOZWOLONE_PRZEJSCIE")
        assert ops.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE").Tresc == signed
    receipts = ops.PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)
    assert [etree.QName(etree.fromstring(r)[0]).localname for r in receipts] == ["UPP", "UPP", "UPD"]
    # a refused case: no certificate and no PDF of one for the requester, nothing to sign, no receipt added
    refused_id, _ = accepted(powiat)
    pup.OdmowWniosku(IdentyfikatorSprawy=refused_id, Powod="Brak podstawy prawnej do wydania.")
    for call in (
        lambda: ops.PobierzDokument(IdentyfikatorSprawy=refused_id, Rola="ZASWIADCZENIE"),
        lambda: ops.PobierzPDF(IdentyfikatorSprawy=refused_id, Rola="ZASWIADCZENIE"),
        lambda: pup.PobierzDoPodpisu(IdentyfikatorSprawy=refused_id),
        lambda: pup.PrzeslijPodpisany(IdentyfikatorSprawy=refused_id, Tresc=signed),
        lambda: pup.OdmowWniosku(IdentyfikatorSprawy=refused_id, Powod="Drugi raz."),
    ):
        client_fault(fault_of(call), "NIEDOZWOLONE_PRZEJSCIE")
    assert len(ops.PobierzPoswiadczenia(IdentyfikatorSprawy=refused_id)) == 1
    assert [m[1] for m in transitions(powiat, refused_id)][-1] == "ODMOWIONY"


def test_a_replayed_ws_security_token_makes_one_case(powiat: Powiat) -> None:
    pesel = powiat.person("PUP", "OPS")
    message = wsse.Envelope.of(powiat.wsdl, "ZlozWniosek", Wniosek=form(pesel))
    before = outbox_size(powiat)
    for parallel in (False, True):
        header = wsse.security(
            "ops.pracownik",
            powiat.user("ops.pracownik")["password"],
            nonce=wsse.fresh_nonce(),
            created=dt.datetime.now(dt.UTC),
        )
        envelope = message.with_header(header)
        if parallel:
            with ThreadPoolExecutor(6) as pool:
                answers = list(pool.map(lambda _, sent=envelope: wsse.post(powiat.endpoint, sent), range(6)))
        else:
            answers = [wsse.post(powiat.endpoint, envelope), wsse.post(powiat.endpoint, envelope)]
        assert sorted(a.status for a in answers) == [200] + [500] * (len(answers) - 1), answers
        assert {a.code for a in answers if a.status != 200} == {"POWTORZONY_TOKEN"}
        assert all(a.faultcode.endswith("Client") for a in answers if a.status != 200)
    assert outbox_size(powiat) == before + 2


def test_a_signer_locked_while_a_case_waits_can_no_longer_move_it(powiat: Powiat) -> None:
    login, password = "pup.zablokowany", "Kasztanowa-Aleja-1987!"
    config = config_module.load(powiat.directory / "platforma.toml")
    accounts = Accounts(hub_engine(config.hub.database))
    try:
        accounts.import_users(
            [
                UserEntry(
                    login=login,
                    office="PUP",
                    group="KIEROWNICTWO",
                    password_hash=hash_password(password),
                    roles=("UZYTKOWNIK", "PODPISUJACY"),
                    pesel=powiat.user("pup.podpisujacy")["pesel"],  # so that the demo key is hers too
                )
            ]
        )
    finally:
        accounts.engine.dispose()
    signer = Client(powiat.wsdl, wsse=UsernameToken(login, password)).service
    case_id = str(submit(powiat).Sprawa.IdentyfikatorSprawy)
    certificate = signer.PrzyjmijWniosek(IdentyfikatorSprawy=case_id).Tresc
    signed = signed_by(powiat, "pup.podpisujacy", certificate)
    locked = admin_cli(powiat.running, "pup.admin", "users", "lock", login)
    assert locked.returncode == 0, locked.stderr
    for call in (
        lambda: signer.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed),
        lambda: signer.OdmowWniosku(IdentyfikatorSprawy=case_id, Powod="Zablokowana odmawia."),
        lambda: signer.PobierzDoPodpisu(IdentyfikatorSprawy=case_id),
    ):
        client_fault(fault_of(call), "BLEDNE_UWIERZYTELNIENIE")
    assert state(powiat, case_id) == "DO_PODPISU"
    assert stored_roles(powiat, case_id) == ["WNIOSEK", "ZASWIADCZENIE"]


@pytest.fixture(scope="module")
def collected(powiat: Powiat) -> tuple[str, bytes, list[bytes], bytes, str]:
    """A case through the whole workflow: its id, the signed certificate, its three receipts, the request, the
    person's PESEL."""
    pesel = powiat.person("PUP", "OPS", "SR")
    case_id, signed = delivered(powiat, pesel)
    ops = powiat.service("ops.pracownik")
    ops.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    request = bytes(ops.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="WNIOSEK").Tresc)
    receipts = [bytes(r) for r in ops.PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)]
    return case_id, signed, receipts, request, pesel


def _xmlsec1(powiat: Powiat, path: Path) -> subprocess.CompletedProcess[str]:
    trust = Path(powiat.demo["trust"])
    command = [
        require_tool("xmlsec1", "xmlsec1"),
        "--verify",
        "--trusted-pem",
        str(trust / "root.pem"),
        "--untrusted-pem",
        str(trust / "ca.pem"),
        "--id-attr:Id",
        f"{dsig.XADES_NS}:SignedProperties",
        str(path),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_receipts_name_the_exact_bytes_and_the_case_and_cannot_be_reused_for_another(
    powiat: Powiat, collected: tuple[str, bytes, list[bytes], bytes, str], tmp_path: Path
) -> None:
    case_id, signed, receipts, request, _pesel = collected
    expected = [hashlib.sha256(request).hexdigest()] + [hashlib.sha256(signed).hexdigest()] * 2
    for receipt, digest in zip(receipts, expected, strict=True):
        root = etree.fromstring(receipt)
        assert root.findtext(".//{*}IdentyfikatorSprawy") == case_id
        assert root.findtext(".//{*}SkrotDokumentu") == digest
    upd = tmp_path / "upd.xml"
    upd.write_bytes(receipts[2])
    assert _xmlsec1(powiat, upd).returncode == 0
    other_case, _other_signed = delivered(powiat)
    reused = tmp_path / "upd-innej-sprawy.xml"
    reused.write_bytes(receipts[2].replace(case_id.encode(), other_case.encode()))
    assert reused.read_bytes() != receipts[2]
    assert _xmlsec1(powiat, reused).returncode != 0
    checked = verify_offline(str(powiat.demo["trust"]), reused)
    assert checked.returncode != 0, checked.stdout
    # nor does a receipt pass as a signed certificate: the hub's seal signed it, not a person, over other content
    waiting_id, _ = accepted(powiat)
    fault = fault_of(
        lambda: powiat.service("pup.podpisujacy").PrzeslijPodpisany(IdentyfikatorSprawy=waiting_id, Tresc=receipts[0])
    )
    client_fault(fault, "PODPIS_ODRZUCONY")


def test_the_persons_report_from_the_command_line_shows_the_certificate_as_a_disclosure(
    powiat: Powiat, collected: tuple[str, bytes, list[bytes], bytes, str]
) -> None:
    case_id, _signed, _receipts, _request, pesel = collected
    env_password = powiat.user("audytor")["password"]
    command = [
        sys.executable,
        "-m",
        "hub.cli",
        "audit",
        "report",
        "--config",
        str(powiat.directory / "platforma.toml"),
        "--actor",
        "audytor",
        "--pesel",
        pesel,
        "--format",
        "csv",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PLATFORMA_HASLO=env_password),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if case_id in line]
    assert len(lines) == 1, result.stdout
    assert all(part in lines[0] for part in ("ops.pracownik", "DOKUMENTY", "UJAWNIENIE", "HISTORIA_STATUSOW"))


def test_a_data_set_named_twice_in_a_request_is_asked_once_with_all_its_categories(powiat: Powiat) -> None:
    """Two `Zbior` elements for PUP: the last one silently won (and the message said the first one's categories
    were missing); now they are merged as a query merges them, each category once in the request document."""
    split = [
        {"Kod": "PUP", "Kategoria": [CATEGORIES[0]]},
        {"Kod": "PUP", "Kategoria": [*CATEGORIES[1:], CATEGORIES[0]]},
    ]
    made = submit(powiat, Zbior=split)
    request = etree.fromstring(bytes(made.Dokument.Tresc))
    named = [c.text for c in request.iterfind(".//{*}Zbior[@Kod='PUP']/{*}Kategoria")]
    assert named == CATEGORIES
