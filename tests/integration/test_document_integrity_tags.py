"""Documents and receipts rewritten together with their SHA-256 behind the hub's back (issue 15 item 3,
guideline 8; `hub.storage.integrity`): the owner of hub.sqlite drops the append-only triggers and writes new
bytes and their new hash, so the hash check alone passes. The integrity tag, made with a key outside the database,
does not: such a document is not sealed, served or read for signing, a receipt is not served, and nothing
moves. The key file itself: missing while tags exist, or readable by others, stops the start in Polish; an older
database without tags gets them once, when the key is first made.

One served demo hub (`platforma serve`, 127.0.0.1) for the module; every edit is undone before the next test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_documents import fault_code
from tests.integration.test_tampering_behind_the_back import Hub, refused, served_hub

TAMPERED = "NARUSZONA_INTEGRALNOSC_DOKUMENTU"
READ = "SELECT tresc FROM dokumenty WHERE sprawa = ? AND rola = ?"
WRITE = "UPDATE dokumenty SET tresc = ?, skrot_sha256 = ? WHERE sprawa = ? AND rola = ?"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    yield from served_hub(tmp_path_factory.mktemp("znaczniki"))


def _key(hub: Hub) -> Path:
    return hub.directory / "klucze" / "klucz-dokumentow"


def _start_fails(hub: Hub) -> str:
    command = [sys.executable, "-m", "hub.cli", "serve", "--config", str(hub.directory / "platforma.toml")]
    started = subprocess.run(
        [*command, "--port", "0"], capture_output=True, text=True, timeout=120, env=dict(os.environ), check=False
    )
    output = started.stdout + started.stderr
    assert started.returncode != 0, output
    assert "Traceback" not in output, output
    return output


def _forged(content: bytes) -> bytes:
    """The document with one period of registration moved: still well-formed, still valid for its schema."""
    text = content.decode("utf-8")
    year = next(y for y in ("2019", "2020", "2021", "2022", "2023", "2024", "2025") if y in text)
    forged = text.replace(year, str(int(year) - 5), 1).encode("utf-8")
    assert forged != content
    return forged


def test_the_key_is_made_on_the_first_start_for_the_hub_alone(hub: Hub) -> None:
    """The demo's first start made the key beside the configuration, 0600, and tagged every document and receipt."""
    key = _key(hub)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    fields = tomllib.loads(key.read_text("utf-8"))
    assert len(bytes.fromhex(fields["klucz"])) == 32 and fields["oznaczono_istniejace"] is True
    documents = hub.scalar("SELECT count(*) FROM dokumenty")
    receipts = hub.scalar("SELECT count(*) FROM poswiadczenia")
    assert documents > 0 and receipts > 0
    assert hub.scalar("SELECT count(*) FROM znaczniki_integralnosci WHERE rodzaj = 'DOKUMENT'") == documents
    assert hub.scalar("SELECT count(*) FROM znaczniki_integralnosci WHERE rodzaj = 'POSWIADCZENIE'") == receipts


def test_a_generated_certificate_rewritten_with_its_hash_is_neither_sealed_nor_served(hub: Hub) -> None:
    """The certificate waiting for its signature is rewritten in hub.sqlite with its new SHA-256: the hub does not
    seal it with PUP's seal, nor hand it out for signing, as XML or as PDF; the case stays DO_PODPISU and no
    receipt is issued. Put back, it is handed out again."""
    waiting = hub.case("DO_PODPISU")
    original = hub.scalar(READ, waiting, "ZASWIADCZENIE")
    forged = _forged(original)
    receipts = hub.scalar("SELECT count(*) FROM poswiadczenia")
    hub.execute((WRITE, (forged, hashlib.sha256(forged).hexdigest(), waiting, "ZASWIADCZENIE")))
    try:
        signer = hub.client("pup.podpisujacy")
        for call, arguments in (
            (signer.OpieczetujZaswiadczenie, {"IdentyfikatorSprawy": waiting}),
            (signer.PobierzDoPodpisu, {"IdentyfikatorSprawy": waiting}),
            (signer.PobierzDokument, {"IdentyfikatorSprawy": waiting, "Rola": "ZASWIADCZENIE"}),
            (signer.PobierzPDF, {"IdentyfikatorSprawy": waiting, "Rola": "ZASWIADCZENIE"}),
        ):
            fault = refused(call, **arguments)
            assert fault_code(fault) == TAMPERED, fault.message
            assert fault.code.endswith("Server") and "znacznika integralności" in fault.message, fault.message
        assert hub.scalar("SELECT stan FROM sprawy_dokumentow WHERE id = ?", waiting) == "DO_PODPISU"
        assert hub.scalar("SELECT count(*) FROM poswiadczenia") == receipts
    finally:
        hub.execute((WRITE, (original, hashlib.sha256(original).hexdigest(), waiting, "ZASWIADCZENIE")))
    assert hub.client("pup.podpisujacy").PobierzDoPodpisu(IdentyfikatorSprawy=waiting).Tresc == original


def test_a_request_rewritten_with_its_hash_is_not_accepted(hub: Hub) -> None:
    """A submitted request rewritten with its new hash (another purpose): not accepted, nothing disclosed."""
    submitted = hub.case("ZLOZONY")
    original = hub.scalar(READ, submitted, "WNIOSEK")
    forged = original.replace(b"</", b"<!-- dopisane --></", 1)
    hub.execute((WRITE, (forged, hashlib.sha256(forged).hexdigest(), submitted, "WNIOSEK")))
    try:
        fault = refused(hub.client("pup.podpisujacy").PrzyjmijWniosek, IdentyfikatorSprawy=submitted)
        assert fault_code(fault) == TAMPERED, fault.message
        assert hub.scalar("SELECT stan FROM sprawy_dokumentow WHERE id = ?", submitted) == "ZLOZONY"
    finally:
        hub.execute((WRITE, (original, hashlib.sha256(original).hexdigest(), submitted, "WNIOSEK")))


def test_a_delivered_certificate_and_a_receipt_replaced_after_delivery_are_not_served(hub: Hub) -> None:
    """After delivery, the signed certificate (with its hash) and a receipt are replaced by other bytes: the
    certificate is not served to either office and the case's receipts are not served."""
    delivered = hub.case("ODEBRANY")
    original = hub.scalar(READ, delivered, "ZASWIADCZENIE_PODPISANE")
    forged = _forged(original)
    with hub.db() as db:
        receipt_id, receipt = db.execute(
            "SELECT id, tresc FROM poswiadczenia WHERE sprawa = ? ORDER BY utworzono LIMIT 1", (delivered,)
        ).fetchone()
    hub.execute(
        (WRITE, (forged, hashlib.sha256(forged).hexdigest(), delivered, "ZASWIADCZENIE_PODPISANE")),
        ("UPDATE poswiadczenia SET tresc = ? WHERE id = ?", (receipt.replace(b"<", b" <", 1), receipt_id)),
    )
    try:
        for login in ("pup.podpisujacy", "ops.pracownik"):
            fault = refused(
                hub.client(login).PobierzDokument, IdentyfikatorSprawy=delivered, Rola="ZASWIADCZENIE_PODPISANE"
            )
            assert fault_code(fault) == TAMPERED, fault.message
        fault = refused(hub.client("ops.pracownik").PobierzPoswiadczenia, IdentyfikatorSprawy=delivered)
        assert fault_code(fault) == TAMPERED and "Poświadczenie" in fault.message, fault.message
    finally:
        hub.execute(
            (WRITE, (original, hashlib.sha256(original).hexdigest(), delivered, "ZASWIADCZENIE_PODPISANE")),
            ("UPDATE poswiadczenia SET tresc = ? WHERE id = ?", (receipt, receipt_id)),
        )
    served = hub.client("ops.pracownik").PobierzDokument(IdentyfikatorSprawy=delivered, Rola="ZASWIADCZENIE_PODPISANE")
    assert served.Tresc == original
    assert receipt in hub.client("ops.pracownik").PobierzPoswiadczenia(IdentyfikatorSprawy=delivered)


def test_a_document_whose_tag_was_deleted_is_not_served(hub: Hub) -> None:
    """A tag row deleted (as if the document had been inserted behind the hub's back): the document is refused."""
    waiting = hub.case("DO_PODPISU")
    document_id = hub.scalar("SELECT id FROM dokumenty WHERE sprawa = ? AND rola = 'ZASWIADCZENIE'", waiting)
    tag = hub.scalar("SELECT znacznik FROM znaczniki_integralnosci WHERE obiekt = ?", document_id)
    hub.execute(("DELETE FROM znaczniki_integralnosci WHERE obiekt = ?", (document_id,)))
    try:
        fault = refused(hub.client("pup.podpisujacy").OpieczetujZaswiadczenie, IdentyfikatorSprawy=waiting)
        assert fault_code(fault) == TAMPERED, fault.message
    finally:
        hub.execute(
            (
                "INSERT INTO znaczniki_integralnosci (rodzaj, obiekt, znacznik) VALUES ('DOKUMENT', ?, ?)",
                (document_id, tag),
            )
        )
    assert hub.client("pup.podpisujacy").PobierzDoPodpisu(IdentyfikatorSprawy=waiting).Tresc


def test_a_missing_or_readable_key_file_stops_the_start_in_polish(hub: Hub) -> None:
    """The key file moved away while tags exist: the start is refused, naming the file and the restore; made
    readable by all: refused naming chmod 600. Put back, the hub starts and serves."""
    key = _key(hub)
    kept = hub.directory / "klucz-dokumentow.kopia"
    hub.stop()
    try:
        shutil.move(key, kept)
        output = _start_fails(hub)
        assert "[BRAK_KLUCZA_INTEGRALNOSCI]" in output and str(key) in output, output
        assert not key.exists()  # no new key made over the tagged documents
        shutil.move(kept, key)
        key.chmod(0o644)
        output = _start_fails(hub)
        assert "[KLUCZ_DOSTEPNY_DLA_WSZYSTKICH]" in output and "chmod 600" in output, output
    finally:
        if kept.exists():
            shutil.move(kept, key)
        key.chmod(0o600)
        hub.start()
    assert hub.client("pup.podpisujacy").PobierzDoPodpisu(IdentyfikatorSprawy=hub.case("DO_PODPISU")).Tresc


def test_a_database_from_before_the_tags_gets_them_once_when_the_key_is_made(hub: Hub) -> None:
    """A hub database made before tags existed (no tags table, no key file): the first start makes the key and
    tags what is stored, once; the documents are served as before."""
    key = _key(hub)
    kept = hub.directory / "klucz-dokumentow.stary"
    hub.stop()
    try:
        shutil.move(key, kept)
        with hub.db() as db:
            db.execute("DROP TABLE znaczniki_integralnosci")  # its triggers go with it
        hub.start()
        assert tomllib.loads(key.read_text("utf-8"))["oznaczono_istniejace"] is True
        assert hub.scalar("SELECT count(*) FROM znaczniki_integralnosci") == hub.scalar(
            "SELECT (SELECT count(*) FROM dokumenty) + (SELECT count(*) FROM poswiadczenia)"
        )
        delivered = hub.case("ODEBRANY")
        assert hub.client("ops.pracownik").PobierzPoswiadczenia(IdentyfikatorSprawy=delivered)
        assert hub.client("pup.podpisujacy").PobierzDoPodpisu(IdentyfikatorSprawy=hub.case("DO_PODPISU")).Tresc
    finally:
        kept.unlink(missing_ok=True)
