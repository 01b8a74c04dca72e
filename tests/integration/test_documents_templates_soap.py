"""Templates administered over SOAP (issue 15 items 2 and 7), with zeep from nothing but the served WSDL of
/soap/dokumenty: a template editor lists the versions, exports one as a file, imports a modified file as a new
version, activates it; a new certificate is made from it and names it, an older one keeps rendering with its
own version; editors making versions at once each get a number; a version in use, a template reaching a file
or the network, a malformed file and unknown types are refused as soap:Client faults with nothing written;
anyone else is refused (BRAK_UPRAWNIEN) and the refusal recorded (ODMOWA_UPRAWNIEN); every change is a
ZMIANA_SZABLONU event naming its actor. The document types' schemas are served at /xsd/<file> as checked in,
and a certificate validates against the one fetched.

The hub is the demo powiat with PUP's signer and template editor, served as in test_documents.py."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from zeep.exceptions import Fault
from zeep.helpers import serialize_object

from audit import EventKind, SecurityEvent
from audit.sql import SqlEventLog
from hub import settings
from hub.cli import main
from hub.core import HubCore
from hub.domain.documents import RequestForm, WrongState
from hub.soap import contracts
from tests.conftest import ROOT
from tests.integration.conftest import MODEL
from tests.integration.test_documents import DocumentsHub, fault_code, served_documents_hub

CERTIFICATE = "ZASWIADCZENIE_PUP_REJESTRACJA"
EDITOR = "pup.redaktor"
SIGNER = "pup.podpisujacy"
HEADING = "Okresy rejestracji"
NEW_HEADING = "Okresy w rejestrze (z importu)"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocumentsHub]:
    yield from served_documents_hub(
        tmp_path_factory.mktemp("szablony-soap"), "--pup", "120", "--ops", "60", "--sr", "60"
    )


def service(hub: DocumentsHub, login: str = EDITOR) -> Any:
    return hub.client(login).service


def events(hub: DocumentsHub, kind: EventKind) -> list[SecurityEvent]:
    log = SqlEventLog(f"sqlite:///{hub.directory / 'audyt' / 'audit.sqlite'}")
    try:
        return list(log.events(kind=kind))
    finally:
        log.dispose()


def refused(call: Callable[[], Any]) -> Fault:
    with pytest.raises(Fault) as fault:
        call()
    return fault.value


def listed(hub: DocumentsHub) -> dict[tuple[str, int], dict[str, Any]]:
    """Every version by (type, number), as plain values (zeep's objects do not compare)."""
    return {(t.RodzajDokumentu, t.Wersja): dict(serialize_object(t)) for t in service(hub).ListaSzablonow() or []}


def certificate_from(hub: DocumentsHub) -> tuple[str, Any]:
    """A request from OPS accepted by PUP's signer: the case id and the generated certificate (`Dokument`)."""
    pesel = next(str(b["pesel"]) for b in hub.demo["beneficiaries"] if "PUP" in b["data_sets"])
    case_id = (
        service(hub, "ops.pracownik")
        .ZlozWniosek(
            Wniosek={
                "Pesel": pesel,
                "PodstawaPrawna": "UPS-2004",
                "Cel": "Ustalenie sytuacji osoby ubiegającej się o zasiłek",
                "RodzajZaswiadczenia": CERTIFICATE,
                "Adresat": "PUP",
                "Zbior": [{"Kod": "PUP", "Kategoria": ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]}],
            }
        )
        .Sprawa.IdentyfikatorSprawy
    )
    return case_id, service(hub, SIGNER).PrzyjmijWniosek(IdentyfikatorSprawy=case_id)


def pdf_text(hub: DocumentsHub, case_id: str) -> str:
    pypdf = pytest.importorskip("pypdf")
    content = service(hub, SIGNER).PobierzPDF(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE").Tresc
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(content)).pages)


def with_stylesheet(exported: bytes, xsl: str) -> bytes:
    data = json.loads(exported)
    data["wizualizacja"] = xsl
    return json.dumps(data, ensure_ascii=False).encode()


def test_an_editor_imports_and_activates_a_version_new_documents_name_it_old_ones_keep_theirs(
    hub: DocumentsHub,
) -> None:
    old_case, old_certificate = certificate_from(hub)
    assert old_certificate.WersjaSzablonu == 1
    before = listed(hub)
    assert before[(CERTIFICATE, 1)]["Aktywna"] and before[(CERTIFICATE, 1)]["Uzyta"]
    assert before[(CERTIFICATE, 1)]["AutorZmiany"] == "platforma" and before[(CERTIFICATE, 1)]["Tytul"]
    exported = service(hub).PobierzSzablon(RodzajDokumentu=CERTIFICATE)
    assert (exported.Szablon.RodzajDokumentu, exported.Szablon.Wersja) == (CERTIFICATE, 1)
    assert hashlib.sha256(exported.PlikSzablonu).hexdigest() == exported.SkrotSHA256
    xsl = json.loads(exported.PlikSzablonu)["wizualizacja"]
    assert HEADING in xsl

    imported = service(hub).ImportujSzablon(
        PlikSzablonu=with_stylesheet(exported.PlikSzablonu, xsl.replace(HEADING, NEW_HEADING))
    )
    assert imported.RodzajDokumentu == CERTIFICATE and imported.Wersja > 1
    assert (imported.Aktywna, imported.Uzyta, imported.AutorZmiany) == (False, False, EDITOR)
    assert service(hub).PobierzSzablon(RodzajDokumentu=CERTIFICATE).Szablon.Wersja == 1  # not active yet
    activated = service(hub).AktywujSzablon(RodzajDokumentu=CERTIFICATE, Wersja=imported.Wersja)
    assert activated.Aktywna and activated.Wersja == imported.Wersja

    new_case, new_certificate = certificate_from(hub)
    assert new_certificate.WersjaSzablonu == imported.Wersja
    described = etree.fromstring(new_certificate.Tresc).findtext("{*}OpisDokumentu/{*}WersjaSzablonu")
    assert described == str(imported.Wersja)
    after = listed(hub)
    assert after[(CERTIFICATE, imported.Wersja)]["Uzyta"] and not after[(CERTIFICATE, 1)]["Aktywna"]
    new_text, old_text = pdf_text(hub, new_case), pdf_text(hub, old_case)
    assert NEW_HEADING in new_text and HEADING not in new_text
    assert HEADING in old_text and NEW_HEADING not in old_text

    history = service(hub).HistoriaSzablonu(RodzajDokumentu=CERTIFICATE)
    mine = [(c.Wersja, c.Czynnosc, c.Kto, c.Urzad) for c in history if c.Wersja == imported.Wersja]
    assert mine == [(imported.Wersja, "IMPORT", EDITOR, "PUP"), (imported.Wersja, "AKTYWACJA", EDITOR, "PUP")]
    assert history[0].Wersja == 1 and history[0].Kto == "platforma"
    made = service(hub).PobierzSzablon(RodzajDokumentu=CERTIFICATE, Wersja=imported.Wersja)
    assert {c.SkrotSHA256 for c in history if c.Wersja == imported.Wersja} == {made.SkrotSHA256}
    recorded = [e for e in events(hub, EventKind.TEMPLATE_CHANGE) if e.details.startswith(f"szablon {CERTIFICATE}:")]
    assert [(e.actor, e.office, e.success) for e in recorded[-2:]] == [(EDITOR, "PUP", True)] * 2
    assert recorded[-2].details.startswith(f"szablon {CERTIFICATE}: import wersji {imported.Wersja} ")
    assert recorded[-1].details.startswith(f"szablon {CERTIFICATE}: aktywacja wersji {imported.Wersja} ")
    assert made.SkrotSHA256 in recorded[-1].details


def test_a_new_version_takes_what_is_not_given_from_the_active_one_and_an_unused_one_takes_a_whole_schema(
    hub: DocumentsHub,
) -> None:
    active = service(hub).PobierzSzablon(RodzajDokumentu="WNIOSEK_O_INFORMACJE")
    made = service(hub).NowaWersjaSzablonu(
        RodzajDokumentu="WNIOSEK_O_INFORMACJE", Metadane=json.dumps({"tytul": "Wniosek o informacje (nowy tytuł)"})
    )
    assert made.Tytul == "Wniosek o informacje (nowy tytuł)" and not made.Aktywna
    new = json.loads(
        service(hub).PobierzSzablon(RodzajDokumentu="WNIOSEK_O_INFORMACJE", Wersja=made.Wersja).PlikSzablonu
    )
    old = json.loads(active.PlikSzablonu)
    assert (new["schemat"], new["wizualizacja"]) == (old["schemat"], old["wizualizacja"])
    assert {**old["metadane"], "tytul": made.Tytul} == new["metadane"]
    # A schema is longer than a Tekst (2000 characters): ZmienSzablon takes it whole on a version not yet used.
    schema = old["schemat"].replace("</xs:schema>", "<!-- zmiana -->\n</xs:schema>")
    assert len(schema) > 2000
    changed = service(hub).ZmienSzablon(RodzajDokumentu="WNIOSEK_O_INFORMACJE", Wersja=made.Wersja, Schemat=schema)
    assert changed.Wersja == made.Wersja
    history = service(hub).HistoriaSzablonu(RodzajDokumentu="WNIOSEK_O_INFORMACJE")
    assert [(c.Czynnosc, c.Kto) for c in history if c.Wersja == made.Wersja] == [
        ("UTWORZENIE", EDITOR),
        ("ZMIANA", EDITOR),
    ]
    details = [e.details for e in events(hub, EventKind.TEMPLATE_CHANGE) if e.actor == EDITOR]
    assert any(d.startswith(f"szablon WNIOSEK_O_INFORMACJE: nowa wersja {made.Wersja} ") for d in details)
    assert any(d.startswith(f"szablon WNIOSEK_O_INFORMACJE: zmiana wersji {made.Wersja} ") for d in details)


def test_editors_making_versions_of_one_type_at_once_each_get_their_own_number(hub: DocumentsHub) -> None:
    """Eight new versions of one type requested in parallel: each is made, numbered once, in the history."""
    clients = [service(hub) for _ in range(8)]
    for client in clients:  # logged in first (a login is a password hash), so the eight calls below do collide
        client.ListaSzablonow()
    ready = threading.Barrier(len(clients))

    def make(index: int) -> Any:
        ready.wait()
        return clients[index].NowaWersjaSzablonu(
            RodzajDokumentu="ZASWIADCZENIE_OPS_SWIADCZENIA", Metadane=json.dumps({"opis": f"Równolegle {index}."})
        )

    with ThreadPoolExecutor(len(clients)) as pool:
        made = list(pool.map(make, range(len(clients))))
    numbers = sorted(m.Wersja for m in made)
    assert numbers == list(range(numbers[0], numbers[0] + len(clients))), numbers
    history = service(hub).HistoriaSzablonu(RodzajDokumentu="ZASWIADCZENIE_OPS_SWIADCZENIA")
    assert sorted(c.Wersja for c in history if c.Czynnosc == "UTWORZENIE") == numbers


def test_the_command_line_shows_the_same_history_to_an_editor_only(
    hub: DocumentsHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`platforma templates history` runs the same domain function on the served hub's database."""
    over_soap = [
        (c.Wersja, c.Czynnosc, c.Kto, c.SkrotSHA256) for c in service(hub).HistoriaSzablonu(RodzajDokumentu=CERTIFICATE)
    ]
    config = str(hub.directory / "platforma.toml")
    monkeypatch.setenv("PLATFORMA_HASLO", hub.passwords[EDITOR])
    capsys.readouterr()
    assert main(["templates", "history", CERTIFICATE, "--config", config, "--as", EDITOR, "--json"]) == 0
    shown = [(e["wersja"], e["czynnosc"], e["kto"], e["sha256"]) for e in json.loads(capsys.readouterr().out)]
    assert shown == over_soap
    monkeypatch.setenv("PLATFORMA_HASLO", hub.passwords[SIGNER])
    assert main(["templates", "history", CERTIFICATE, "--config", config, "--as", SIGNER]) == 2
    assert "redaktor szablonów" in capsys.readouterr().err


def test_a_version_a_document_was_made_from_cannot_be_changed(hub: DocumentsHub) -> None:
    certificate_from(hub)  # whichever version is active is now in use
    version = service(hub).PobierzSzablon(RodzajDokumentu=CERTIFICATE)
    fault = refused(
        lambda: service(hub).ZmienSzablon(
            RodzajDokumentu=CERTIFICATE, Wersja=version.Szablon.Wersja, Wizualizacja="<x/>"
        )
    )
    assert fault_code(fault) == "SZABLON_W_UZYCIU" and fault.code.endswith("Client")
    assert "nie można" in fault.message
    again = service(hub).PobierzSzablon(RodzajDokumentu=CERTIFICATE, Wersja=version.Szablon.Wersja)
    assert again.PlikSzablonu == version.PlikSzablonu


def test_a_version_changed_while_a_certificate_is_made_from_it_stays_changed_and_the_certificate_is_not_stored(
    hub: DocumentsHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ZmienSzablon made to land between the acceptance's reading of the unused active version and its storing
    of the certificate (both succeeded, racing, in the templates attack pass): the change holds, the certificate
    made by what it replaced is not stored (NIEDOZWOLONE_PRZEJSCIE, the case back to ZLOZONY), the version
    stays unused; accepted again, the certificate is made from the changed version, which is then in use."""
    before = service(hub).PobierzSzablon(RodzajDokumentu=CERTIFICATE).Szablon.Wersja
    made = service(hub).NowaWersjaSzablonu(RodzajDokumentu=CERTIFICATE, Metadane=json.dumps({"opis": "Wyścig."}))
    service(hub).AktywujSzablon(RodzajDokumentu=CERTIFICATE, Wersja=made.Wersja)
    xsl = json.loads(service(hub).PobierzSzablon(RodzajDokumentu=CERTIFICATE).PlikSzablonu)["wizualizacja"]
    pesel = next(str(b["pesel"]) for b in hub.demo["beneficiaries"] if "PUP" in b["data_sets"])
    core = HubCore.open(settings.load(hub.directory / "platforma.toml"))
    try:
        scope = {"PUP": ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]}
        form = RequestForm(pesel, "UPS-2004", "Ustalenie sytuacji osoby", CERTIFICATE, "PUP", scope)
        requester = core.accounts.authenticate("ops.pracownik", hub.passwords["ops.pracownik"], channel="CLI")
        case_id = core.documents.submit(requester, form).case.id
        signer = core.accounts.authenticate(SIGNER, hub.passwords[SIGNER], channel="CLI")
        generate = core.documents._certificate_document

        def changed_meanwhile(*args: Any) -> bytes:
            content = generate(*args)
            service(hub).ZmienSzablon(RodzajDokumentu=CERTIFICATE, Wersja=made.Wersja, Wizualizacja=xsl + "<!--2-->")
            return content

        monkeypatch.setattr(core.documents, "_certificate_document", changed_meanwhile)
        with pytest.raises(WrongState, match="zmieniono w trakcie"):
            core.documents.accept(signer, case_id)
        monkeypatch.undo()
        assert core.documents.case(signer, case_id).state == "ZLOZONY"
        assert not listed(hub)[(CERTIFICATE, made.Wersja)]["Uzyta"]
        assert core.documents.accept(signer, case_id).template_version == made.Wersja
        assert listed(hub)[(CERTIFICATE, made.Wersja)]["Uzyta"]
    finally:
        core.close()
        service(hub).AktywujSzablon(RodzajDokumentu=CERTIFICATE, Wersja=before)


def reading(target: str) -> str:
    return (
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/">'
        f"<html><body><xsl:copy-of select=\"document('{target}')\"/></body></html></xsl:template></xsl:stylesheet>"
    )


def test_a_template_reading_a_file_or_the_network_is_refused_and_nothing_is_written(
    hub: DocumentsHub, tmp_path: Path
) -> None:
    secret = tmp_path / "sekret.xml"
    secret.write_text("<tajne>TAJNE-DANE</tajne>")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    network = f"http://127.0.0.1:{listener.getsockname()[1]}/dane.xml"
    exported = service(hub).PobierzSzablon(RodzajDokumentu=CERTIFICATE).PlikSzablonu
    including = (
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        f'<xsl:include href="{secret.as_uri()}"/></xsl:stylesheet>'
    )
    versions, changes = listed(hub), len(events(hub, EventKind.TEMPLATE_CHANGE))
    attempts = [
        lambda: service(hub).ImportujSzablon(PlikSzablonu=with_stylesheet(exported, reading(secret.as_uri()))),
        lambda: service(hub).NowaWersjaSzablonu(RodzajDokumentu=CERTIFICATE, Wizualizacja=reading(network)),
        lambda: service(hub).NowaWersjaSzablonu(RodzajDokumentu=CERTIFICATE, Wizualizacja=including),
    ]
    for attempt in attempts:
        fault = refused(attempt)
        assert fault_code(fault) == "NIEPRAWIDLOWY_SZABLON" and fault.code.endswith("Client"), fault.message
        assert "Arkusz XSL szablonu nie może" in fault.message
    assert listed(hub).keys() == versions.keys()
    assert len(events(hub, EventKind.TEMPLATE_CHANGE)) == changes
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda s: s.ImportujSzablon(PlikSzablonu=b"{nie json"), "NIEPRAWIDLOWE_ZAPYTANIE"),
        (lambda s: s.ImportujSzablon(PlikSzablonu=b'{"rodzaj": "X", "schemat": 1}'), "NIEPRAWIDLOWE_ZAPYTANIE"),
        (lambda s: s.NowaWersjaSzablonu(RodzajDokumentu=CERTIFICATE, Metadane="[1, 2]"), "NIEPRAWIDLOWY_SZABLON"),
        (lambda s: s.NowaWersjaSzablonu(RodzajDokumentu=CERTIFICATE, Schemat="<xs:schema"), "NIEPRAWIDLOWY_SZABLON"),
        (lambda s: s.NowaWersjaSzablonu(RodzajDokumentu=CERTIFICATE), "NIEPRAWIDLOWE_ZAPYTANIE"),
        (lambda s: s.NowaWersjaSzablonu(RodzajDokumentu="NIEZNANY", Metadane="{}"), "NIEZNANY_SZABLON"),
        (lambda s: s.PobierzSzablon(RodzajDokumentu=CERTIFICATE, Wersja=999), "NIEZNANY_SZABLON"),
        (lambda s: s.AktywujSzablon(RodzajDokumentu=CERTIFICATE, Wersja=999), "NIEZNANY_SZABLON"),
        (lambda s: s.HistoriaSzablonu(RodzajDokumentu="NIEZNANY"), "NIEZNANY_SZABLON"),
        (lambda s: s.AktywujSzablon(RodzajDokumentu=CERTIFICATE, Wersja=2**40), "NIEZGODNOSC_ZE_SCHEMATEM"),
        (
            lambda s: s.ZmienSzablon(RodzajDokumentu=CERTIFICATE, Wersja=2**64, Wizualizacja="x"),
            "NIEZGODNOSC_ZE_SCHEMATEM",
        ),
    ],
    ids=[
        "not-json",
        "not-an-export",
        "metadata-not-an-object",
        "broken-schema",
        "nothing-new",
        "unknown-type",
        "unknown-version",
        "activate-unknown-version",
        "history-of-unknown-type",
        "version-out-of-range",
        "changed-version-out-of-range",
    ],
)
def test_bad_input_is_the_callers_mistake_in_polish_and_nothing_is_written(
    hub: DocumentsHub, call: Callable[[Any], Any], code: str
) -> None:
    versions = listed(hub)
    fault = refused(lambda: call(service(hub)))
    assert fault_code(fault) == code and fault.code.endswith("Client"), fault.message
    assert fault.message.endswith(".") and not {"error", "invalid", "expected"} & set(fault.message.lower().split())
    assert listed(hub) == versions


OPERATIONS: list[tuple[str, dict[str, Any]]] = [
    ("ListaSzablonow", {}),
    ("PobierzSzablon", {"RodzajDokumentu": CERTIFICATE}),
    ("ImportujSzablon", {"PlikSzablonu": b"{}"}),
    ("NowaWersjaSzablonu", {"RodzajDokumentu": CERTIFICATE, "Metadane": "{}"}),
    ("AktywujSzablon", {"RodzajDokumentu": CERTIFICATE, "Wersja": 1}),
    ("HistoriaSzablonu", {"RodzajDokumentu": CERTIFICATE}),
]


@pytest.mark.parametrize(("operation", "arguments"), OPERATIONS, ids=[o for o, _ in OPERATIONS])
def test_anyone_but_a_template_editor_is_refused_and_the_refusal_recorded(
    hub: DocumentsHub, operation: str, arguments: dict[str, Any]
) -> None:
    versions = listed(hub)
    fault = refused(lambda: getattr(service(hub, SIGNER), operation)(**arguments))
    assert fault_code(fault) == "BRAK_UPRAWNIEN" and fault.code.endswith("Client")
    assert "redaktor szablonów" in fault.message
    detail = fault.detail.find(f"{MODEL}Blad/{MODEL}Szczegol")
    assert detail is not None and (detail.get("Rodzaj"), detail.get("Wartosc")) == ("ROLA", "REDAKTOR_SZABLONOW")
    refusal = events(hub, EventKind.PERMISSION_REFUSED)[-1]
    assert (refusal.user, refusal.office, refusal.success) == (SIGNER, "PUP", False)
    assert "REDAKTOR_SZABLONOW" in refusal.details
    assert listed(hub) == versions


@pytest.mark.parametrize("name", sorted(contracts.document_schemas()))
def test_a_document_types_schema_is_served_as_checked_in(hub: DocumentsHub, name: str) -> None:
    answer = requests.get(f"{hub.base}/xsd/{name}", timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/xml"
    assert answer.content == (ROOT / "xsd" / name).read_bytes()


def test_a_generated_certificate_validates_against_the_schema_fetched_over_http(hub: DocumentsHub) -> None:
    _case_id, certificate = certificate_from(hub)
    root = etree.fromstring(certificate.Tresc)
    name = next(n for n in contracts.document_schemas() if "zaswiadczenie-pup-rejestracja" in n)
    served = requests.get(f"{hub.base}/xsd/{name}", timeout=30)
    assert served.status_code == 200
    schema = etree.XMLSchema(etree.fromstring(served.content))
    schema.assertValid(root)
    root.find("{*}TrescDokumentu").append(etree.Element(f"{{{etree.QName(root).namespace}}}Dopisek"))
    assert not schema.validate(root)
