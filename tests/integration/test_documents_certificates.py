"""Certificates of OPS benefits received and of SR family benefits paid (issue 15, item 1), through the same
workflow as PUP's: PUP's management requests, the controller's signer accepts (the certificate generated
from that office's replica within the requester's scope), signs with her own key, PUP collects; the
certificate's section equals what a query answers, and its PDF names the person and the signer."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from cryptography.hazmat.primitives import serialization
from lxml import etree

from contract.errors import ConfigurationError, InvalidRequest, NotAllowed
from contract.identifiers import Identifier
from hub import settings
from hub.core import HubCore
from hub.domain.accounts import hash_password
from hub.domain.documents import CERTIFICATE, DocumentTampered, RequestForm, SignatureRefused, WrongState
from hub.domain.query import QueryRequest
from signing import XadesSigner, load_key
from tests.integration.test_documents import SEAL_PASSWORD, _p12, demo_for_documents
from tests.signing.pki import synthetic_pesel

Q = "{urn:pl:platforma-komunikacyjna:zapytania:1}"
SIGNERS = {
    "OPS": ("ops.podpisujacy", "Olga", "Opiekuńcza", synthetic_pesel(dt.date(1982, 2, 3), 211, female=True)),
    "SR": ("sr.podpisujacy", "Stefan", "Rodzinny", synthetic_pesel(dt.date(1979, 7, 21), 317, female=False)),
}


@dataclass
class Office:
    """A configured demo hub (not served), its users' passwords and each signer's PKCS#12."""

    directory: Path
    demo: dict[str, Any]
    passwords: dict[str, str]
    keys: dict[str, Path]
    pki: Any = None

    def core(self) -> HubCore:
        return HubCore.open(settings.load(self.directory / "platforma.toml"))

    def person(self, data_set: str) -> str:
        return str(next(b["pesel"] for b in self.demo["beneficiaries"] if data_set in b["data_sets"]))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    directory = tmp_path_factory.mktemp("zaswiadczenia")
    state, passwords, pki = demo_for_documents(directory)
    path = directory / "platforma.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    keys = {}
    for office, (login, given, surname, pesel) in SIGNERS.items():
        keys[office] = directory / f"{login}.p12"
        _p12(pki.signer(given, surname, pesel=pesel), [pki.qualified_ca.cert], keys[office])
        if login in passwords:
            continue  # made by the demo (demo/documents.py) with this PESEL
        passwords[login] = f"Dokumenty-{login}-2026!"
        group = "PRACOWNICY_SOCJALNI" if office == "OPS" else "REFERENCI"
        config["users"].append(
            {
                "login": login,
                "office": office,
                "group": group,
                "roles": ["UZYTKOWNIK", "PODPISUJACY"],
                "password_hash": hash_password(passwords[login]),
                "pesel": pesel,
            }
        )
    # A second certificate of OPS's signer, revoked on the qualified CA's CRL (signature_crls).
    revoked = pki.signer(*SIGNERS["OPS"][1:3], pesel=SIGNERS["OPS"][3])
    keys["OPS-revoked"] = directory / "uniewazniony.p12"
    _p12(revoked, [pki.qualified_ca.cert], keys["OPS-revoked"])
    (directory / "crl").mkdir(exist_ok=True)
    crl = pki.crl([(revoked.cert, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))])
    (directory / "crl" / "ca.crl").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    config["hub"]["signature_crls"] = "crl"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    yield Office(directory, state, passwords, keys, pki)


def _caller(core: HubCore, hub: Office, login: str) -> Any:
    return core.accounts.authenticate(login, hub.passwords[login], channel="CLI", source="test")


@pytest.mark.parametrize(
    ("certificate_type", "office", "category", "section"),
    [
        ("ZASWIADCZENIE_OPS_SWIADCZENIA", "OPS", "SWIADCZENIA", "DaneOPS"),
        ("ZASWIADCZENIE_SR_WYPLACONE_SWIADCZENIA", "SR", "WYPLACONE_SWIADCZENIA", "DaneSR"),
    ],
)
def test_a_certificate_of_the_offices_benefits_goes_through_the_workflow(
    hub: Office, certificate_type: str, office: str, category: str, section: str
) -> None:
    pypdf = pytest.importorskip("pypdf")
    pesel = hub.person(office)
    signer_login, given, surname, _pesel = SIGNERS[office]
    core = hub.core()
    try:
        requester = _caller(core, hub, "pup.kierownik")
        form = RequestForm(
            pesel, "URPSZ-2025", "Ustalenie uprawnień do świadczeń", certificate_type, office, {office: [category]}
        )
        case_id = core.documents.submit(requester, form).case.id
        signer = _caller(core, hub, signer_login)
        generated = core.documents.accept(signer, case_id)
        signed = XadesSigner(load_key(str(hub.keys[office]), SEAL_PASSWORD)).sign_enveloped(generated.content)
        delivered = core.documents.upload_signed(signer, case_id, signed)
        assert delivered.case.state == "DOSTARCZONY"
        collected = core.documents.document(requester, case_id, CERTIFICATE)
        assert collected.content == signed and collected.document_type == certificate_type
        answer = core.query.ask(
            requester,
            QueryRequest(
                Identifier.build(pesel=pesel), "URPSZ-2025", "Porównanie z zaświadczeniem", {office: [category]}
            ),
        )
        in_certificate = etree.fromstring(collected.content).find(f".//{Q}{section}")
        assert in_certificate is not None and answer.results[0].element is not None
        assert etree.tostring(in_certificate, method="c14n", exclusive=True) == etree.tostring(
            answer.results[0].element, method="c14n", exclusive=True
        )
        pdf = core.documents.pdf(requester, case_id, CERTIFICATE)
        text = " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert pesel in text and f"{given} {surname}" in text and "PODPIS WAŻNY (kwalifikowany)" in text
    finally:
        core.close()


def test_a_benefits_certificate_from_an_office_without_such_a_data_set_is_refused(hub: Office) -> None:
    core = hub.core()
    try:
        form = RequestForm(
            hub.person("SR"),
            "URPSZ-2025",
            "Ustalenie uprawnień",
            "ZASWIADCZENIE_SR_WYPLACONE_SWIADCZENIA",
            "PUP",
            {"SR": ["WYPLACONE_SWIADCZENIA"]},
        )
        with pytest.raises(InvalidRequest, match="takiego zbioru nie ma"):
            core.documents.submit(_caller(core, hub, "pup.kierownik"), form)
    finally:
        core.close()


def _accepted(core: HubCore, hub: Office, pesel: str) -> tuple[Any, str, bytes]:
    """An OPS benefits certificate requested by PUP and accepted by OPS's signer: the signer, case, content."""
    form = RequestForm(
        pesel, "URPSZ-2025", "Ustalenie uprawnień", "ZASWIADCZENIE_OPS_SWIADCZENIA", "OPS", {"OPS": ["SWIADCZENIA"]}
    )
    case_id = core.documents.submit(_caller(core, hub, "pup.kierownik"), form).case.id
    signer = _caller(core, hub, "ops.podpisujacy")
    return signer, case_id, core.documents.accept(signer, case_id).content


def test_a_signature_with_a_revoked_certificate_is_refused(hub: Office) -> None:
    core = hub.core()
    try:
        signer, case_id, content = _accepted(core, hub, hub.person("OPS"))
        signed = XadesSigner(load_key(str(hub.keys["OPS-revoked"]), SEAL_PASSWORD)).sign_enveloped(content)
        with pytest.raises(SignatureRefused) as refused:
            core.documents.upload_signed(signer, case_id, signed)
        assert "CERTYFIKAT_UNIEWAZNIONY" in str(refused.value.details)
        assert core.documents.case(signer, case_id).state == "DO_PODPISU"
    finally:
        core.close()


def test_a_crl_dropped_into_the_folder_while_the_hub_runs_is_used_at_the_next_upload(hub: Office) -> None:
    """Found by an attack pass: the CRLs were read once at start, so a signer revoked meanwhile still delivered
    certificates until a restart, and a file that is no CRL (a download cut short) was skipped, leaving the revoked
    signer accepted. Now the folder is read again when a file changes, and a bad file is refused, never skipped."""
    crl_file = hub.directory / "crl" / "ca.crl"
    original = crl_file.read_bytes()
    later = hub.pki.signer(*SIGNERS["OPS"][1:3], pesel=SIGNERS["OPS"][3])
    key = hub.directory / "pozniej-uniewazniony.p12"
    _p12(later, [hub.pki.qualified_ca.cert], key)
    core = hub.core()
    try:
        signer, case_id, content = _accepted(core, hub, hub.person("OPS"))
        core.documents.upload_signed(signer, case_id, XadesSigner(load_key(str(key), SEAL_PASSWORD)).sign_enveloped(
            content))  # fmt: skip
        revoked_now = hub.pki.crl([(later.cert, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))])
        crl_file.write_bytes(revoked_now.public_bytes(serialization.Encoding.PEM))
        signer, case_id, content = _accepted(core, hub, hub.person("OPS"))
        signed = XadesSigner(load_key(str(key), SEAL_PASSWORD)).sign_enveloped(content)
        with pytest.raises(SignatureRefused) as refused:
            core.documents.upload_signed(signer, case_id, signed)
        assert "CERTYFIKAT_UNIEWAZNIONY" in str(refused.value.details)
        cut = hub.directory / "crl" / "nowa.crl"
        cut.write_bytes(revoked_now.public_bytes(serialization.Encoding.DER)[:-20])  # a download cut short
        with pytest.raises(ConfigurationError, match=r"hub\.signature_crls: plik nowa\.crl .* nie jest listą CRL"):
            core.documents.upload_signed(signer, case_id, signed)
        assert core.documents.case(signer, case_id).state == "DO_PODPISU"
        with pytest.raises(ConfigurationError, match=r"nowa\.crl"):
            hub.core()  # at start, too: the hub does not start
        cut.unlink()
        with pytest.raises(SignatureRefused):
            core.documents.upload_signed(signer, case_id, signed)
    finally:
        core.close()
        crl_file.write_bytes(original)


def test_the_hub_seals_a_certificate_with_the_seal_it_holds_for_the_office(hub: Office) -> None:
    core = hub.core()
    try:
        signer, case_id, _content = _accepted(core, hub, hub.person("OPS"))
        with pytest.raises(NotAllowed):
            core.documents.seal_certificate(_caller(core, hub, "pup.kierownik"), case_id)
        sealed = core.documents.seal_certificate(signer, case_id)
        assert sealed.case.state == "DOSTARCZONY" and b"SignatureValue" in sealed.document.content
        # OPS's own seal (`[[seals]]`), not the hub's: tests/integration/test_office_seals.py for the rest.
        assert "pieczęć: Ośrodek Pomocy Społecznej" in [t.note for t in core.documents.history(signer, case_id)]
        report = core.documents.signing.verifier.verify(sealed.document.content)  # type: ignore[union-attr]
        assert report.accepted and report.coverage.whole_document
    finally:
        core.close()


def test_every_transition_of_a_case_is_recorded_with_its_actor_and_hash(hub: Office) -> None:
    """Issue 15, item 3: every transition is recorded — the acceptance too (it was lost: the claim's
    transition was expunged from the session before its commit), and a refusal after it."""
    core = hub.core()
    try:
        signer, case_id, _content = _accepted(core, hub, hub.person("OPS"))
        request_sha = core.documents.document(signer, case_id, "WNIOSEK").sha256
        generated_sha = core.documents.document(signer, case_id, CERTIFICATE).sha256
        sealed = core.documents.seal_certificate(signer, case_id)
        history = core.documents.history(signer, case_id)
        assert [(t.from_state, t.to_state, t.actor, t.office, t.sha256) for t in history] == [
            ("", "ZLOZONY", "pup.kierownik", "PUP", request_sha),
            ("ZLOZONY", "DO_PODPISU", "ops.podpisujacy", "OPS", request_sha),
            ("DO_PODPISU", "DO_PODPISU", "ops.podpisujacy", "OPS", generated_sha),
            ("DO_PODPISU", "DOSTARCZONY", "ops.podpisujacy", "OPS", sealed.document.sha256),
        ]
        assert history[1].note == "przyjęcie wniosku"

        _signer, refused_case, _ = _accepted(core, hub, hub.person("OPS"))
        core.documents.refuse(signer, refused_case, "Brak podstawy prawnej")
        moves = [(t.from_state, t.to_state) for t in core.documents.history(signer, refused_case)]
        assert moves == [
            ("", "ZLOZONY"),
            ("ZLOZONY", "DO_PODPISU"),
            ("DO_PODPISU", "DO_PODPISU"),
            ("DO_PODPISU", "ODMOWIONY"),
        ]
    finally:
        core.close()


def test_the_requester_sees_no_unsigned_certificate_on_any_path(hub: Office) -> None:
    """Before the signature the certificate is the controller's alone: the XML download, the PDF, the HTML
    rendering and `documents show` (document_readonly) all answer the requester alike (the rendering path
    returned the unsigned certificate)."""
    core = hub.core()
    try:
        signer, case_id, content = _accepted(core, hub, hub.person("OPS"))
        requester = _caller(core, hub, "pup.kierownik")
        for read in (core.documents.document, core.documents.document_readonly, core.documents.render):
            with pytest.raises(WrongState):
                read(requester, case_id, CERTIFICATE)
        assert core.documents.document_readonly(signer, case_id, CERTIFICATE).content == content
        core.documents.seal_certificate(signer, case_id)
        shown = core.documents.document_readonly(requester, case_id, CERTIFICATE)
        assert shown.role == "ZASWIADCZENIE_PODPISANE" and b"SignatureValue" in shown.content
        assert core.documents.case(requester, case_id).state == "DOSTARCZONY"  # reading to show is not collecting
    finally:
        core.close()


def test_parallel_downloads_of_a_delivered_certificate_all_get_it_and_one_receipt_is_issued(hub: Office) -> None:
    """Two windows of the requesting office collecting at once, both having read the case as DOSTARCZONY
    (held at a barrier): both get the document (the loser of the DOSTARCZONY -> ODEBRANY move got
    WrongState), one transition and one delivery receipt (UPD)."""
    core = hub.core()
    try:
        signer, case_id, _content = _accepted(core, hub, hub.person("OPS"))
        sealed = core.documents.seal_certificate(signer, case_id)
        requester = _caller(core, hub, "pup.kierownik")
        receipts_before = len(core.documents.receipts(requester, case_id))
        barrier = threading.Barrier(2, timeout=10)
        stored = core.documents._stored

        def both_read_the_case(session: Any, case: str, role: str) -> Any:
            row = stored(session, case, role)
            barrier.wait()
            return row

        core.documents._stored = both_read_the_case  # type: ignore[method-assign]
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(core.documents.document, requester, case_id, CERTIFICATE) for _ in range(2)]
            results = [f.result().content for f in futures]
        core.documents._stored = stored  # type: ignore[method-assign]
        assert results == [sealed.document.content] * 2
        moves = [t.to_state for t in core.documents.history(requester, case_id)]
        assert moves.count("ODEBRANY") == 1 and moves[-1] == "ODEBRANY"
        assert len(core.documents.receipts(requester, case_id)) == receipts_before + 1
    finally:
        core.close()


def test_a_document_changed_behind_the_hubs_back_is_never_served_or_sealed(hub: Office) -> None:
    """The owner of hub.sqlite drops the append-only trigger and rewrites a generated certificate: its bytes no
    longer match the SHA-256 stored (and named by the receipts), so it is neither served, nor sealed, nor read
    for signing (NARUSZONA_INTEGRALNOSC_DOKUMENTU, ours: soap:Server), and the case does not move; the next start
    puts the trigger back."""
    core = hub.core()
    try:
        signer, case_id, content = _accepted(core, hub, hub.person("OPS"))
        with sqlite3.connect(hub.directory / "hub.sqlite") as connection:
            connection.execute("DROP TRIGGER dokumenty_tylko_dopisywanie_update")
            forged = content.replace(b"<Stwierdzenie>", b"<Stwierdzenie>Nieprawda. ", 1)
            assert forged != content
            connection.execute(
                "UPDATE dokumenty SET tresc = ? WHERE sprawa = ? AND rola = 'ZASWIADCZENIE'", (forged, case_id)
            )
        for attempt in (
            lambda: core.documents.seal_certificate(signer, case_id),
            lambda: core.documents.for_signing(signer, case_id),
            lambda: core.documents.document(signer, case_id, CERTIFICATE),
            lambda: core.documents.pdf(signer, case_id, CERTIFICATE),
        ):
            with pytest.raises(DocumentTampered) as refused:
                attempt()
            assert refused.value.code == "NARUSZONA_INTEGRALNOSC_DOKUMENTU" and not refused.value.client_error
            assert "nie zgadza się ze skrótem SHA-256" in refused.value.message
        assert core.documents.case(signer, case_id).state == "DO_PODPISU"
    finally:
        core.close()
    hub.core().close()  # a restart installs the guards again
    with sqlite3.connect(hub.directory / "hub.sqlite") as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "dokumenty_tylko_dopisywanie_update" in names


def test_a_claim_abandoned_by_a_dead_process_goes_back_to_the_inbox_and_nothing_else_does(hub: Office) -> None:
    """release_abandoned_claims on SQLite (tests/postgres/test_production_attacks.py kills a real worker): a case
    left DO_PODPISU without its certificate past the timeout returns to ZLOZONY with a transition by `system`; a
    case whose certificate was stored, and a fresh claim, stay as they are."""
    core = hub.core()
    try:
        _signer, with_certificate, _content = _accepted(core, hub, hub.person("OPS"))
        form = RequestForm(
            hub.person("OPS"),
            "URPSZ-2025",
            "Ustalenie",
            "ZASWIADCZENIE_OPS_SWIADCZENIA",
            "OPS",
            {"OPS": ["SWIADCZENIA"]},
        )
        requester = _caller(core, hub, "pup.kierownik")
        abandoned = core.documents.submit(requester, form).case.id
        fresh = core.documents.submit(requester, form).case.id
        long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat(" ")
        with sqlite3.connect(hub.directory / "hub.sqlite") as connection:  # claimed by a process that then died
            for case_id, when in ((abandoned, long_ago), (fresh, dt.datetime.now(dt.UTC).isoformat(" "))):
                connection.execute("UPDATE sprawy_dokumentow SET stan = 'DO_PODPISU' WHERE id = ?", (case_id,))
                connection.execute(
                    "INSERT INTO przejscia_spraw (sprawa, czas, kto, urzad, ze_stanu, do_stanu, skrot_sha256, uwagi) "
                    "VALUES (?, ?, 'ops.podpisujacy', 'OPS', 'ZLOZONY', 'DO_PODPISU', '', 'przyjęcie wniosku')",
                    (case_id, when),
                )
        assert core.documents.release_abandoned_claims(dt.timedelta(seconds=60)) == [abandoned]
        assert core.documents.case(requester, abandoned).state == "ZLOZONY"
        last = core.documents.history(requester, abandoned)[-1]
        assert (last.from_state, last.to_state, last.actor) == ("DO_PODPISU", "ZLOZONY", "system")
        assert core.documents.case(requester, fresh).state == "DO_PODPISU"
        assert core.documents.case(requester, with_certificate).state == "DO_PODPISU"
        assert core.documents.release_abandoned_claims(dt.timedelta(seconds=60)) == []
    finally:
        core.close()


def test_a_case_whose_certificate_was_deleted_is_not_taken_for_an_abandoned_claim(hub: Office) -> None:
    """The certificate row of a case waiting for its signature deleted behind the hub's back (triggers dropped):
    the timer took it for a claim whose process died and sent it back to ZLOZONY, to be generated (and disclosed)
    again over the deletion, and `for_signing` said it was being generated. Its history records the generation."""
    core = hub.core()
    try:
        signer, case_id, _content = _accepted(core, hub, hub.person("OPS"))
        long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat(" ")
        with sqlite3.connect(hub.directory / "hub.sqlite") as connection:
            for trigger in [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]:
                connection.execute(f'DROP TRIGGER "{trigger}"')
            connection.execute("DELETE FROM dokumenty WHERE sprawa = ? AND rola = 'ZASWIADCZENIE'", (case_id,))
            connection.execute("UPDATE przejscia_spraw SET czas = ? WHERE sprawa = ?", (long_ago, case_id))
        assert core.documents.release_abandoned_claims(dt.timedelta(seconds=60)) == []
        assert core.documents.case(signer, case_id).state == "DO_PODPISU"
        with pytest.raises(DocumentTampered, match="usunięto je poza platformą"):
            core.documents.for_signing(signer, case_id)
    finally:
        core.close()
    hub.core().close()  # a restart installs the guards again


def _recorded(hub: Office, case_id: str) -> list[str]:
    """The outcomes the register holds for a case (its id is the disclosure's request id)."""
    from audit.sql import SqlDisclosureRegister

    register = SqlDisclosureRegister(settings.load(hub.directory / "platforma.toml").hub.audit_database)
    try:
        return [r.outcome.value for r in register.records(request_id=case_id)]
    finally:
        register.dispose()


def _ops_request(core: HubCore, hub: Office) -> str:
    """A request of PUP's management for OPS's benefits certificate, submitted: its case."""
    form = RequestForm(
        hub.person("OPS"), "URPSZ-2025", "Ustalenie uprawnień", "ZASWIADCZENIE_OPS_SWIADCZENIA", "OPS",
        {"OPS": ["SWIADCZENIA"]},
    )  # fmt: skip
    return core.documents.submit(_caller(core, hub, "pup.kierownik"), form).case.id


def test_a_certificate_that_cannot_be_generated_records_no_disclosure(hub: Office) -> None:
    """Finding (left alone before): the disclosure was recorded when the replica was read, before the certificate
    was built; a version whose schema refuses this person's certificate (here: a PESEL pattern only the type's last
    certificate met, which is all a new version is checked against) left a disclosure in the register for a
    certificate that never existed, and one more with each retry. Now the record is written once the certificate
    is built and valid, still before it is stored."""

    core = hub.core()
    editor = _caller(core, hub, "pup.redaktor")
    kind = "ZASWIADCZENIE_OPS_SWIADCZENIA"
    people = [b["pesel"] for b in hub.demo["beneficiaries"] if "OPS" in b["data_sets"]]
    first, other = people[0], next(p for p in people[1:] if p[0] != people[0][0])
    active = core.documents.templates.active(kind)
    try:
        _accepted(core, hub, first)  # the type's last certificate: what a new version must accept
        only_first = active.xsd.replace('<xs:pattern value="[0-9]{11}"/>', f'<xs:pattern value="{first}"/>', 1)
        assert only_first != active.xsd
        narrow = core.documents.templates.new_version(editor, kind, xsd=only_first)
        core.documents.templates.activate(editor, kind, narrow.version)
        form = RequestForm(other, "URPSZ-2025", "Ustalenie uprawnień", kind, "OPS", {"OPS": ["SWIADCZENIA"]})
        case_id = core.documents.submit(_caller(core, hub, "pup.kierownik"), form).case.id
        signer = _caller(core, hub, "ops.podpisujacy")
        with pytest.raises(Exception, match="nie przyjmuje") as failed:
            core.documents.accept(signer, case_id)
        assert "Traceback" not in str(failed.value)
        assert core.documents.case(signer, case_id).state == "ZLOZONY"
    finally:
        core.documents.templates.activate(editor, kind, active.version)
        core.close()
    assert _recorded(hub, case_id) == []


def test_a_request_refused_while_its_certificate_is_generated_records_no_disclosure(hub: Office) -> None:
    """A refusal by another signer between the acceptance's claim and its storing (deterministic here: made
    when the certificate has been built) leaves the request refused, no certificate stored and, now, nothing in
    the register: the record was written when the replica was read, for a certificate nobody would ever get."""

    core = hub.core()
    try:
        case_id = _ops_request(core, hub)
        signer = _caller(core, hub, "ops.podpisujacy")
        build = core.documents._certificate_document

        def refused_meanwhile(*args: Any) -> Any:
            made = build(*args)
            core.documents.refuse(signer, case_id, "Wniosek wycofany telefonicznie")
            return made

        core.documents._certificate_document = refused_meanwhile  # type: ignore[method-assign]
        with pytest.raises(WrongState):
            core.documents.accept(signer, case_id)
        core.documents._certificate_document = build  # type: ignore[method-assign]
        assert core.documents.case(signer, case_id).state == "ODMOWIONY"
    finally:
        core.close()
    assert _recorded(hub, case_id) == []


def test_an_acceptance_whose_claim_was_released_meanwhile_stores_and_records_nothing(hub: Office) -> None:
    """Found by an attack pass: an acceptance slower than claim_timeout_seconds (the replica locked for 9 s) had
    its claim released by the timer and the case accepted again by another signer; both then stored a certificate
    and recorded a disclosure. The late one now stores and records nothing, and leaves the other's claim alone."""

    core = hub.core()
    try:
        case_id = _ops_request(core, hub)
        signer = _caller(core, hub, "ops.podpisujacy")
        build = core.documents._certificate_document
        again: list[Any] = []

        def released_and_taken_meanwhile(*args: Any) -> Any:
            made = build(*args)
            if not again:
                again.append(None)
                assert case_id in core.documents.release_abandoned_claims(dt.timedelta(0))
                again.append(core.documents.accept(signer, case_id))  # the second signer's acceptance
            return made

        core.documents._certificate_document = released_and_taken_meanwhile  # type: ignore[method-assign]
        with pytest.raises(WrongState, match="nic nie zapisano"):
            core.documents.accept(signer, case_id)
        core.documents._certificate_document = build  # type: ignore[method-assign]
        assert core.documents.case(signer, case_id).state == "DO_PODPISU"  # the second claim stands
        assert core.documents.for_signing(signer, case_id).content == again[1].content
        core.documents.seal_certificate(signer, case_id)
    finally:
        core.close()
    assert _recorded(hub, case_id) == ["UJAWNIENIE"]
    with sqlite3.connect(hub.directory / "hub.sqlite") as connection:
        stored = connection.execute(
            "SELECT count(*) FROM dokumenty WHERE sprawa = ? AND rola = 'ZASWIADCZENIE'", (case_id,)
        ).fetchone()[0]
    assert stored == 1


def test_a_certificate_whose_template_changed_meanwhile_records_no_disclosure(hub: Office) -> None:
    """Found by an attack pass: the disclosure was recorded before the template version was frozen, so a change
    of the (unused) version between generating and storing refused the certificate but left its disclosure."""

    core = hub.core()
    editor = _caller(core, hub, "pup.redaktor")
    kind = "ZASWIADCZENIE_OPS_SWIADCZENIA"
    active = core.documents.templates.active(kind)
    try:
        fresh = core.documents.templates.new_version(editor, kind, xsl=active.xsl + "<!-- kopia -->")
        core.documents.templates.activate(editor, kind, fresh.version)
        case_id = _ops_request(core, hub)
        signer = _caller(core, hub, "ops.podpisujacy")
        build = core.documents._certificate_document

        def changed_meanwhile(*args: Any) -> Any:
            made = build(*args)
            core.documents.templates.change(editor, kind, fresh.version, xsd=None, xsl=fresh.xsl + "<!-- zmiana -->")
            return made

        core.documents._certificate_document = changed_meanwhile  # type: ignore[method-assign]
        with pytest.raises(WrongState, match="zmieniono w trakcie"):
            core.documents.accept(signer, case_id)
        core.documents._certificate_document = build  # type: ignore[method-assign]
        assert core.documents.case(signer, case_id).state == "ZLOZONY"
    finally:
        core.documents.templates.activate(editor, kind, active.version)
        core.close()
    assert _recorded(hub, case_id) == []


def _slowed(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, seconds: float) -> threading.Event:
    """`target.name` made `seconds` slower on its first call (in whichever thread), which sets the event returned
    when it starts: another editor then acts while the first is between reading and writing."""
    original, started = getattr(target, name), threading.Event()

    def slowed(*args: Any, **kwargs: Any) -> Any:
        if not started.is_set():
            started.set()
            time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, slowed)
    return started


def test_two_editors_changing_one_version_at_once_lose_neither_change(
    hub: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an attack pass: SQLite ignores FOR UPDATE and its driver began the transaction at the first write,
    so `change` read the version outside it; one editor's XSL and another's XSD at once were both answered OK, and
    the version kept only the XSD."""
    import hub.domain.templates as templates_module

    core = hub.core()
    editor = _caller(core, hub, "pup.redaktor")
    kind = "ZASWIADCZENIE_OPS_SWIADCZENIA"
    try:
        base = core.documents.templates.active(kind)
        fresh = core.documents.templates.new_version(editor, kind, xsl=base.xsl + "<!-- wersja -->")
        started = _slowed(monkeypatch, templates_module, "compile_stylesheet", 0.6)
        styled = base.xsl + "<!-- zmiana redaktora 1 -->"
        schema = base.xsd.replace("<xs:", "<!-- zmiana redaktora 2 --><xs:", 1)
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(core.documents.templates.change, editor, kind, fresh.version, xsd=None, xsl=styled)
            assert started.wait(10)
            second = pool.submit(core.documents.templates.change, editor, kind, fresh.version, xsd=schema, xsl=None)
            first.result(timeout=60), second.result(timeout=60)
        after = next(t for t in core.documents.templates.versions(editor) if t.id == fresh.id)
        assert (after.xsl, after.xsd) == (styled, schema)
    finally:
        core.close()


def test_an_activation_racing_a_change_records_what_is_stored(hub: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an attack pass: an activation read the version, a change committed, and the activation's history
    row then named the SHA-256 of content no longer stored; every submission of the type, and the editors' listing,
    was refused as NARUSZONA_INTEGRALNOSC_SZABLONU (tampering) until the version changed again."""
    core = hub.core()
    editor = _caller(core, hub, "pup.redaktor")
    kind = "ZASWIADCZENIE_OPS_SWIADCZENIA"
    base = core.documents.templates.active(kind)
    try:
        fresh = core.documents.templates.new_version(editor, kind, xsl=base.xsl + "<!-- do aktywacji -->")
        started = _slowed(monkeypatch, type(core.documents.templates), "_check_generates", 0.6)
        changed = base.xsl + "<!-- zmiana w trakcie aktywacji -->"
        with ThreadPoolExecutor(2) as pool:
            activation = pool.submit(core.documents.templates.activate, editor, kind, fresh.version)
            assert started.wait(10)
            change = pool.submit(core.documents.templates.change, editor, kind, fresh.version, xsd=None, xsl=changed)
            activation.result(timeout=60), change.result(timeout=60)
        active = core.documents.templates.active(kind)  # raised NARUSZONA_INTEGRALNOSC_SZABLONU
        assert (active.version, active.xsl) == (fresh.version, changed)
        assert core.documents.templates.versions(editor)
        _ops_request(core, hub)
    finally:
        core.documents.templates.activate(editor, kind, base.version)
        core.close()


def test_a_refusal_reason_longer_than_the_contract_carries_is_refused(hub: Office) -> None:
    """Finding (CLI pass): `documents refuse --reason` of 3,000 characters was stored, and the requester's SOAP
    outbox then carried a PowodOdmowy longer than the published Tekst (2,000) allows."""
    core = hub.core()
    try:
        case_id = _ops_request(core, hub)
        signer = _caller(core, hub, "ops.podpisujacy")
        with pytest.raises(InvalidRequest, match="najwyżej 2000 znaków"):
            core.documents.refuse(signer, case_id, "ą" * 2001)
        assert core.documents.case(signer, case_id).state == "ZLOZONY"
        assert core.documents.refuse(signer, case_id, "ą" * 2000).state == "ODMOWIONY"
    finally:
        core.close()
