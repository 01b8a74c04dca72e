"""Requests and certificates end to end over SOAP (issue 15): OPS asks PUP for a certificate, PUP accepts, the
certificate is signed outside the hub with signxml's XAdES signer and uploaded, OPS collects it; it verifies
with xmlsec1 and `platforma verify`; bad signatures are refused; receipts verify offline.

The hub is the demo powiat made with `platforma demo --no-serve`, its configuration given a seal, trust
anchors and two users of PUP (a signer with a PESEL, a template editor), then served with `platforma serve`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from signxml.xades import XAdESSigner
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from audit.sql import SqlDisclosureRegister
from hub.domain.accounts import hash_password
from hub.domain.documents import canonical
from signing import constants as c
from tests.conftest import require_tool
from tests.integration.conftest import MODEL
from tests.signing.pki import Issued, TestPKI, build_pki, synthetic_pesel

C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
SIGNER_PESEL = synthetic_pesel(dt.date(1980, 4, 12), 123, female=True)
OTHER_PESEL = synthetic_pesel(dt.date(1975, 9, 3), 456, female=False)
SEAL_PASSWORD = "haslo-pieczeci"
CERTIFICATE_TYPE = "ZASWIADCZENIE_PUP_REJESTRACJA"
Q = "{urn:pl:platforma-komunikacyjna:zapytania:1}"


@dataclass
class DocumentsHub:
    """A served hub with documents configured, and the test PKI its signers use."""

    directory: Path
    base: str
    demo: dict[str, Any]
    passwords: dict[str, str]
    pki: TestPKI
    signer: Issued
    process: subprocess.Popen[bytes]

    def client(self, login: str, service: str = "dokumenty") -> Client:
        return Client(f"{self.base}/soap/{service}?wsdl", wsse=UsernameToken(login, self.passwords[login]))

    def person(self, *data_sets: str) -> str:
        return str(next(b["pesel"] for b in self.demo["beneficiaries"] if b["data_sets"] == list(data_sets)))

    @property
    def trust(self) -> Path:
        return self.directory / "zaufane"


def _run(command: list[str], log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=True, timeout=300)


def _p12(issued: Issued, chain: list[Any], path: Path) -> None:
    """A PKCS#12 with the key and the chain, 0600 as the demo writes keys (the hub refuses a seal others read)."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"pieczec",
            issued.key,
            issued.cert,
            chain,
            serialization.BestAvailableEncryption(SEAL_PASSWORD.encode()),
        )
    )


def _configure(directory: Path, pki: TestPKI, passwords: dict[str, str]) -> None:
    """Seals, trust anchors and the PUP signer and template editor in the demo's platforma.toml.

    The tests sign with their own PKI (they issue strangers', revoked and non-qualified certificates): its
    anchors and seal replace the demo's, and the demo's CRL (of the demo's CA) is dropped. A signer the demo
    already made (`passwords` from demo.json) keeps its account: the demo gives it the same PESEL."""
    trust = directory / "zaufane"
    trust.mkdir(exist_ok=True)
    (trust / "root.pem").write_bytes(pki.root.cert_pem())
    (trust / "ca.pem").write_bytes(pki.qualified_ca.cert_pem())
    seal = pki.signer("Pieczęć", "Platformy", qualified=False)
    _p12(seal, [pki.qualified_ca.cert], directory / "pieczec.p12")
    path = directory / "platforma.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    config["hub"].update(seal_key="pieczec.p12", seal_key_password=SEAL_PASSWORD, signature_trust="zaufane")
    config["hub"].pop("signature_crls", None)
    # The offices named in [[offices]] seal with seals of this PKI too (the demo's chain to the demo's root).
    config["seals"] = []
    for office in config["offices"]:
        seal_file = f"pieczec-{office['code']}.p12"
        _p12(pki.seal(office["name"], key_kind="rsa2048"), [pki.qualified_ca.cert], directory / seal_file)
        config["seals"].append({"office": office["code"], "key": seal_file, "password": SEAL_PASSWORD})
    for login, roles, pesel in (
        ("pup.podpisujacy", ["UZYTKOWNIK", "PODPISUJACY"], SIGNER_PESEL),
        ("pup.inny", ["UZYTKOWNIK", "PODPISUJACY"], OTHER_PESEL),
        ("pup.redaktor", ["REDAKTOR_SZABLONOW"], None),
    ):
        if login in passwords:
            continue
        passwords[login] = f"Dokumenty-{login}-2026!"
        user = {"login": login, "office": "PUP", "group": "KIEROWNICTWO", "roles": roles}
        user["password_hash"] = hash_password(passwords[login])
        if pesel:
            user["pesel"] = pesel
        config["users"].append(user)
    path.write_text(tomli_w.dumps(config), encoding="utf-8")


def _serve(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    log_path = directory / "serve.log"
    log = log_path.open("wb")
    command = [sys.executable, "-m", "hub.cli", "serve", "--config", str(directory / "platforma.toml"), "--port", "0"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = re.search(r"nasłuchuje: (http://127\.0\.0\.1:\d+)/", log_path.read_text(errors="replace"))
        if found:
            return process, found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("hub did not start:\n" + log_path.read_text(errors="replace"))


DEMO_SIZES = ("--pup", "300", "--ops", "150", "--sr", "200")


def demo_for_documents(directory: Path, *sizes: str) -> tuple[dict[str, Any], dict[str, str], TestPKI]:
    """`platforma demo` into `directory` (not served; `sizes` as its options, DEMO_SIZES by default), configured
    for documents with a new test PKI (`_configure`): the demo's state, its users' passwords, the PKI."""
    demo = [sys.executable, "-m", "hub.cli", "demo", "--dir", str(directory), "--no-serve", "--port", "0"]
    _run([*demo, *(sizes or DEMO_SIZES)], directory / "demo.log")
    state = json.loads((directory / "demo.json").read_text(encoding="utf-8"))
    passwords = {u["login"]: u["password"] for u in state["users"]}
    pki = build_pki(dt.datetime.now(dt.UTC))
    _configure(directory, pki, passwords)
    return state, passwords, pki


def served_documents_hub(directory: Path, *sizes: str, signer_pesel: str | None = None) -> Iterator[DocumentsHub]:
    """A module fixture's body: the demo configured for documents (`demo_for_documents`), served until the
    module ends; its signer is Anna Podpisująca of the new PKI (with `signer_pesel`, if given)."""
    state, passwords, pki = demo_for_documents(directory, *sizes)
    signer = pki.signer("Anna", "Podpisująca", pesel=signer_pesel)
    process, base = _serve(directory)
    try:
        yield DocumentsHub(directory, base, state, passwords, pki, signer, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocumentsHub]:
    yield from served_documents_hub(tmp_path_factory.mktemp("dokumenty"), signer_pesel=SIGNER_PESEL)


def fault_code(fault: Fault) -> str | None:
    return fault.detail.findtext(f"{MODEL}Blad/{MODEL}Kod") if fault.detail is not None else None


def submit(docs: DocumentsHub, pesel: str, purpose: str = "Ustalenie sytuacji osoby ubiegającej się o zasiłek") -> Any:
    return docs.client("ops.pracownik").service.ZlozWniosek(
        Wniosek={
            "Pesel": pesel,
            "PodstawaPrawna": "UPS-2004",
            "Cel": purpose,
            "RodzajZaswiadczenia": CERTIFICATE_TYPE,
            "Adresat": "PUP",
            "Zbior": [{"Kod": "PUP", "Kategoria": ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]}],
        }
    )


def accepted_case(docs: DocumentsHub, pesel: str) -> tuple[str, bytes]:
    """A submitted and accepted case: its id and the certificate to sign."""
    case_id = submit(docs, pesel).Sprawa.IdentyfikatorSprawy
    pup = docs.client("pup.podpisujacy").service
    pup.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)
    return case_id, pup.PobierzDoPodpisu(IdentyfikatorSprawy=case_id).Tresc


def sign(document: bytes, signer: Issued, pki: TestPKI) -> bytes:
    """Signed outside the hub, with signxml's XAdES signer (enveloped, C14N 1.1)."""
    root = etree.fromstring(document)
    signed = XAdESSigner(c14n_algorithm=C14N11).sign(root, key=signer.key, cert=[signer.cert, pki.qualified_ca.cert])
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def upload_refused(docs: DocumentsHub, case_id: str, signed: bytes, login: str = "pup.podpisujacy") -> Fault:
    with pytest.raises(Fault) as refused:
        docs.client(login).service.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed)
    return refused.value


def verify_offline(docs: DocumentsHub, path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hub.cli", "verify", "--trust", str(docs.trust), "--offline", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def xmlsec1(docs: DocumentsHub, path: Path) -> subprocess.CompletedProcess[str]:
    tool = require_tool("xmlsec1", "xmlsec1")
    command = [
        tool,
        "--verify",
        "--trusted-pem",
        str(docs.trust / "root.pem"),
        "--untrusted-pem",
        str(docs.trust / "ca.pem"),
        "--id-attr:Id",
        f"{c.XADES_NS}:SignedProperties",
        str(path),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_ops_requests_a_pup_certificate_signed_outside_the_hub_and_collects_it(
    docs: DocumentsHub, tmp_path: Path
) -> None:
    pesel = docs.person("PUP", "OPS")
    submitted = submit(docs, pesel)
    case_id = submitted.Sprawa.IdentyfikatorSprawy
    assert submitted.Sprawa.Stan == "ZLOZONY"
    inbox = docs.client("pup.podpisujacy").service.SkrzynkaOdbiorcza()  # zeep unwraps the one-child list
    assert case_id in [s.IdentyfikatorSprawy for s in inbox or []]
    pup = docs.client("pup.podpisujacy").service
    generated = pup.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)
    to_sign = pup.PobierzDoPodpisu(IdentyfikatorSprawy=case_id)
    assert to_sign.Tresc == generated.Tresc and to_sign.Rola == "ZASWIADCZENIE"
    signed = sign(to_sign.Tresc, docs.signer, docs.pki)
    delivered = pup.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed)
    assert delivered.Sprawa.Stan == "DOSTARCZONY"
    collected = docs.client("ops.pracownik").service.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    assert collected.Tresc == signed and collected.Rola == "ZASWIADCZENIE_PODPISANE"
    outbox = docs.client("ops.pracownik").service.SkrzynkaNadawcza()
    assert [s.Stan for s in outbox or [] if s.IdentyfikatorSprawy == case_id] == ["ODEBRANY"]
    path = tmp_path / "zaswiadczenie.xml"
    path.write_bytes(collected.Tresc)
    checked = xmlsec1(docs, path)
    assert checked.returncode == 0, checked.stderr
    verified = verify_offline(docs, path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Anna Podpisująca" in verified.stdout


def test_the_certificate_holds_exactly_the_replicas_sections(docs: DocumentsHub) -> None:
    pesel = docs.person("PUP", "OPS")
    _case_id, certificate = accepted_case(docs, pesel)
    answer = docs.client("ops.pracownik", "zapytania").service.ZapytanieOBeneficjenta(
        Zapytanie={
            "IdentyfikatorBeneficjenta": {"Pesel": pesel},
            "PodstawaPrawna": "UPS-2004",
            "Cel": "Porównanie z zaświadczeniem",
            "Zbiory": {"Zbior": [{"Kod": "PUP", "Zakres": {"Kategoria": ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]}}]},
        }
    )
    root = etree.fromstring(certificate)
    in_certificate = root.find(f".//{Q}DanePUP")
    assert in_certificate is not None
    from_query = answer.Wyniki.Wynik[0].DanePUP  # zeep object: compare the sections' element names and texts
    sections = [etree.QName(child).localname for child in in_certificate]
    assert sections == [
        s for s in ("OkresyRejestracji", "HistoriaStatusow") if getattr(from_query, s, None) is not None
    ]
    periods = in_certificate.findall(f"{MODEL}OkresyRejestracji/{MODEL}OkresRejestracji")
    assert [p.findtext(f"{MODEL}DataOd") for p in periods] == [
        str(p.DataOd) for p in from_query.OkresyRejestracji.OkresRejestracji
    ]


def test_a_document_altered_after_signing_is_refused(docs: DocumentsHub) -> None:
    case_id, certificate = accepted_case(docs, docs.person("PUP", "OPS"))
    signed = sign(certificate, docs.signer, docs.pki)
    altered = signed.replace(b"Stwierdzenie>", b"Stwierdzenie>X", 1)
    assert altered != signed
    refused = upload_refused(docs, case_id, altered)
    assert fault_code(refused) == "PODPIS_ODRZUCONY"
    assert "NIEZGODNY_SKROT" in etree.tostring(refused.detail).decode()


def test_a_signature_by_a_person_not_allowed_to_sign_for_the_office_is_refused(docs: DocumentsHub) -> None:
    case_id, certificate = accepted_case(docs, docs.person("PUP", "OPS"))
    stranger = docs.pki.signer("Jan", "Obcy", pesel=OTHER_PESEL)
    refused = upload_refused(docs, case_id, sign(certificate, stranger, docs.pki))  # uploaded by pup.podpisujacy
    assert fault_code(refused) == "PODPIS_ODRZUCONY"
    assert "PODPISUJACY_NIEUPRAWNIONY" in etree.tostring(refused.detail).decode()


def test_a_non_qualified_signature_is_refused(docs: DocumentsHub) -> None:
    case_id, certificate = accepted_case(docs, docs.person("PUP", "OPS"))
    plain = docs.pki.signer("Anna", "Podpisująca", pesel=SIGNER_PESEL, qualified=False)
    refused = upload_refused(docs, case_id, sign(certificate, plain, docs.pki))
    assert fault_code(refused) == "PODPIS_ODRZUCONY"
    detail = etree.tostring(refused.detail, encoding="unicode")
    assert "PODPIS_NIEKWALIFIKOWANY" in detail and "deklaracji QcCompliance" in detail, detail
    assert "nonRepudiation" not in detail  # what it lacks, and only that


def test_a_qualified_certificate_without_non_repudiation_is_refused_naming_that(docs: DocumentsHub) -> None:
    """Attack pass: its refusal said "certyfikat bez QCStatements", which it has: the signer looked for the
    wrong fix."""
    case_id, certificate = accepted_case(docs, docs.person("PUP", "OPS"))
    signing_only = docs.pki.signer("Anna", "Podpisująca", pesel=SIGNER_PESEL, non_repudiation=False)
    refused = upload_refused(docs, case_id, sign(certificate, signing_only, docs.pki))
    detail = etree.tostring(refused.detail, encoding="unicode")
    assert "PODPIS_NIEKWALIFIKOWANY" in detail and "nonRepudiation" in detail and "QcCompliance" not in detail, detail


def test_a_signed_document_wrapped_in_other_content_is_refused(docs: DocumentsHub) -> None:
    case_id, certificate = accepted_case(docs, docs.person("PUP", "OPS"))
    signed = etree.fromstring(sign(certificate, docs.signer, docs.pki))
    # Wrapping: the signed original hidden inside a document whose visible content is another.
    forged = etree.fromstring(certificate)
    ns = "{" + str(etree.QName(forged).namespace) + "}"
    statement = forged.find(f".//{ns}Stwierdzenie")
    body = forged.find(f"{ns}TrescDokumentu")
    signature = signed.find(c.ds("Signature"))
    assert statement is not None and body is not None and signature is not None
    statement.text = "Treść podmieniona."
    etree.SubElement(body, "Oryginal").append(signed)
    forged.append(signature)
    refused = upload_refused(docs, case_id, etree.tostring(forged))
    assert fault_code(refused) == "PODPIS_ODRZUCONY"


def test_a_signer_of_another_office_cannot_accept_and_ops_cannot_sign(docs: DocumentsHub) -> None:
    case_id = submit(docs, docs.person("PUP", "OPS")).Sprawa.IdentyfikatorSprawy
    with pytest.raises(Fault) as refused:
        docs.client("ops.pracownik").service.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)
    assert fault_code(refused.value) == "BRAK_UPRAWNIEN"
    with pytest.raises(Fault) as unknown:
        docs.client("sr.referent").service.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="WNIOSEK")
    assert fault_code(unknown.value) == "NIEZNANA_SPRAWA"


def test_a_refused_request_cannot_be_signed(docs: DocumentsHub) -> None:
    case_id = submit(docs, docs.person("PUP", "OPS")).Sprawa.IdentyfikatorSprawy
    pup = docs.client("pup.podpisujacy").service
    refused_case = pup.OdmowWniosku(IdentyfikatorSprawy=case_id, Powod="Brak podstawy do wydania zaświadczenia.")
    assert refused_case.Stan == "ODMOWIONY" and refused_case.PowodOdmowy
    with pytest.raises(Fault) as wrong:
        pup.PobierzDoPodpisu(IdentyfikatorSprawy=case_id)
    assert fault_code(wrong.value) == "NIEDOZWOLONE_PRZEJSCIE"


def test_a_template_version_in_use_cannot_be_changed(docs: DocumentsHub) -> None:
    accepted_case(docs, docs.person("PUP", "OPS"))  # a certificate made from version 1
    editor = docs.client("pup.redaktor").service
    with pytest.raises(Fault) as in_use:
        editor.ZmienSzablon(RodzajDokumentu=CERTIFICATE_TYPE, Wersja=1, Wizualizacja="<x/>")
    assert fault_code(in_use.value) == "SZABLON_W_UZYCIU"
    with pytest.raises(Fault) as not_editor:
        docs.client("pup.podpisujacy").service.ZmienSzablon(RodzajDokumentu=CERTIFICATE_TYPE, Wersja=1)
    assert fault_code(not_editor.value) == "BRAK_UPRAWNIEN"


def test_the_issuance_appears_in_the_persons_disclosure_report(docs: DocumentsHub) -> None:
    pesel = docs.person("PUP", "OPS", "SR")
    case_id, _certificate = accepted_case(docs, pesel)
    report = docs.client("audytor", "audyt").service.RaportUjawnien(
        Zamowienie={"Rodzaj": "OSOBA", "Pesel": pesel, "Format": "xml"}
    )
    listed = [
        e.text for e in etree.fromstring(report.Tresc).iter("{urn:pl:platforma-komunikacyjna:raport:1}IdZapytania")
    ]
    assert case_id in listed


def test_receipts_verify_offline_with_platforma_verify_and_xmlsec1(docs: DocumentsHub, tmp_path: Path) -> None:
    pesel = docs.person("PUP", "OPS")
    submitted = submit(docs, pesel)
    case_id = submitted.Sprawa.IdentyfikatorSprawy
    receipt = etree.fromstring(submitted.Poswiadczenie)
    assert receipt.findtext(".//{*}SkrotDokumentu") == submitted.Dokument.SkrotSHA256
    pup = docs.client("pup.podpisujacy").service
    pup.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)
    signed = sign(pup.PobierzDoPodpisu(IdentyfikatorSprawy=case_id).Tresc, docs.signer, docs.pki)
    pup.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed)
    docs.client("ops.pracownik").service.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    receipts = docs.client("ops.pracownik").service.PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)
    kinds = [etree.QName(etree.fromstring(r)[0]).localname for r in receipts]
    assert kinds == ["UPP", "UPP", "UPD"]
    for index, content in enumerate(receipts):
        path = tmp_path / f"poswiadczenie-{index}.xml"
        path.write_bytes(content)
        verified = verify_offline(docs, path)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        checked = xmlsec1(docs, path)
        assert checked.returncode == 0, checked.stderr
    tampered = tmp_path / "zmienione.xml"
    tampered.write_bytes(
        receipts[0].replace(b'<p:SkrotDokumentu Algorytm="SHA-256">', b'<p:SkrotDokumentu Algorytm="SHA-256">0', 1)
    )
    assert verify_offline(docs, tampered).returncode != 0


def test_the_pdf_shows_the_persons_data_and_the_verified_signer(docs: DocumentsHub) -> None:
    pypdf = pytest.importorskip("pypdf")
    pesel = docs.person("PUP", "OPS")
    case_id, certificate = accepted_case(docs, pesel)
    unsigned = docs.client("pup.podpisujacy").service.PobierzPDF(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    assert "nie zawiera podpisu" in _pdf_text(pypdf, unsigned.Tresc)
    docs.client("pup.podpisujacy").service.PrzeslijPodpisany(
        IdentyfikatorSprawy=case_id, Tresc=sign(certificate, docs.signer, docs.pki)
    )
    answer = docs.client("ops.pracownik").service.PobierzPDF(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    assert answer.Tresc.startswith(b"%PDF")
    text = _pdf_text(pypdf, answer.Tresc)
    first_period = etree.fromstring(certificate).findtext(f".//{MODEL}OkresRejestracji/{MODEL}DataOd")
    assert pesel in text and first_period and first_period in text, text
    assert "Anna Podpisująca" in text and f"PESEL {SIGNER_PESEL}" in text
    assert "PODPIS WAŻNY (kwalifikowany)" in text, text


def _pdf_text(pypdf: Any, content: bytes) -> str:
    import io

    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in pypdf.PdfReader(io.BytesIO(content)).pages
    )


def test_racing_signers_move_a_case_once_and_disclose_once(docs: DocumentsHub) -> None:
    """Ten concurrent acceptances and ten concurrent uploads of the same signed certificate: one of each
    wins; the replica is read and the disclosure recorded once, and one delivery receipt is issued."""
    from concurrent.futures import ThreadPoolExecutor

    pesel = docs.person("PUP", "OPS", "SR")
    case_id = submit(docs, pesel).Sprawa.IdentyfikatorSprawy

    def attempt(call: Any) -> str:
        try:
            call()
            return "OK"
        except Fault as fault:
            return fault_code(fault) or "?"

    clients = [docs.client("pup.podpisujacy").service for _ in range(10)]
    with ThreadPoolExecutor(10) as pool:
        accepted = list(pool.map(lambda s: attempt(lambda: s.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)), clients))
    assert accepted.count("OK") == 1 and set(accepted) <= {"OK", "NIEDOZWOLONE_PRZEJSCIE"}, accepted
    certificate = clients[0].PobierzDoPodpisu(IdentyfikatorSprawy=case_id).Tresc
    signed = sign(certificate, docs.signer, docs.pki)
    with ThreadPoolExecutor(10) as pool:
        uploaded = list(
            pool.map(lambda s: attempt(lambda: s.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed)), clients)
        )
    assert uploaded.count("OK") == 1 and set(uploaded) <= {"OK", "NIEDOZWOLONE_PRZEJSCIE"}, uploaded
    receipts = docs.client("ops.pracownik").service.PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)
    kinds = [etree.QName(etree.fromstring(r)).localname for r in (receipts or [])]
    assert len(kinds) == 2, kinds  # one UPP for the submission, one for the single delivery
    register = SqlDisclosureRegister(f"sqlite:///{docs.directory / 'audyt' / 'audit.sqlite'}")
    try:
        assert len(list(register.records(request_id=case_id))) == 1
    finally:
        register.dispose()


@pytest.mark.parametrize("content", [b"", b"hello", "<?xml version='1.0' encoding='latin-1'?><a>\u0142</a>".encode()])
def test_an_empty_or_broken_upload_is_refused_in_polish(docs: DocumentsHub, content: bytes) -> None:
    case_id, _certificate = accepted_case(docs, docs.person("PUP", "OPS", "SR"))
    refused = upload_refused(docs, case_id, content)
    assert fault_code(refused) == "PODPIS_ODRZUCONY", refused.message
    assert refused.code.endswith("Client") and "expected" not in refused.message and "Invalid" not in refused.message


def test_a_signer_has_the_certificate_sealed_over_soap_and_it_verifies_offline(
    docs: DocumentsHub, tmp_path: Path
) -> None:
    """OpieczetujZaswiadczenie (issue 15, 4b over SOAP): PUP's signer has the hub seal the certificate with
    PUP's seal; OPS collects it; xmlsec1 and platforma verify accept it; OPS cannot seal, nor can anyone twice."""
    case_id, generated = accepted_case(docs, docs.person("PUP", "OPS"))
    with pytest.raises(Fault) as refused:
        docs.client("ops.pracownik").service.OpieczetujZaswiadczenie(IdentyfikatorSprawy=case_id)
    assert fault_code(refused.value) == "BRAK_UPRAWNIEN" and refused.value.code.endswith("Client")
    sealed = docs.client("pup.podpisujacy").service.OpieczetujZaswiadczenie(IdentyfikatorSprawy=case_id)
    assert sealed.Sprawa.Stan == "DOSTARCZONY" and sealed.Dokument.Rola == "ZASWIADCZENIE_PODPISANE"
    assert b"SignatureValue" in sealed.Dokument.Tresc and b"SignatureValue" in _one(sealed.Poswiadczenie)
    with pytest.raises(Fault) as again:
        docs.client("pup.podpisujacy").service.OpieczetujZaswiadczenie(IdentyfikatorSprawy=case_id)
    assert fault_code(again.value) == "NIEDOZWOLONE_PRZEJSCIE"
    collected = docs.client("ops.pracownik").service.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    assert collected.Tresc == sealed.Dokument.Tresc
    path = tmp_path / "opieczetowane.xml"
    path.write_bytes(collected.Tresc)
    checked = xmlsec1(docs, path)
    assert checked.returncode == 0, checked.stderr
    verified = verify_offline(docs, path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert canonical(etree.fromstring(collected.Tresc)) == canonical(etree.fromstring(generated))


def _one(value: Any) -> bytes:
    """zeep unwraps a list of one element."""
    return bytes(value[0] if isinstance(value, list) else value)
