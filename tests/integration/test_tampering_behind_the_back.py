"""Files and rows edited behind the program's back (attack pass): an operator or attacker with access to the hub's
files changes hub.sqlite (with its append-only triggers dropped), the seal files or platforma.toml while the hub is
stopped or running. What is changed is refused with a Polish fault naming a stable code (ours: soap:Server),
never served as authentic, and nothing is half written; a document is rendered with its own template version or
not at all.

One served demo hub (`platforma serve`, 127.0.0.1) for the module, stopped and started again where the edit is
made while it is stopped; every edit is undone before the next test.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from hub.storage.guards import sqlite_guards
from tests.integration.test_documents import CERTIFICATE_TYPE, _serve, demo_for_documents, fault_code


@dataclass
class Hub:
    """The served demo hub configured for documents, and how to stop and start it."""

    directory: Path
    passwords: dict[str, str]
    process: subprocess.Popen[bytes]
    base: str

    def client(self, login: str) -> Any:
        return Client(f"{self.base}/soap/dokumenty?wsdl", wsse=UsernameToken(login, self.passwords[login])).service

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def start(self) -> None:
        self.process, self.base = _serve(self.directory)

    def db(self) -> closing[sqlite3.Connection]:
        return closing(sqlite3.connect(self.directory / "hub.sqlite", isolation_level=None))

    def case(self, state: str, certificate_type: str = CERTIFICATE_TYPE) -> str:
        """A case of the demo in `state` (the demo makes one of each)."""
        with self.db() as db:
            row = db.execute(
                "SELECT id FROM sprawy_dokumentow WHERE stan = ? AND rodzaj_zaswiadczenia = ?",
                (state, certificate_type),
            ).fetchone()
        assert row is not None, state
        return str(row[0])

    def scalar(self, sql: str, *parameters: object) -> Any:
        with self.db() as db:
            row = db.execute(sql, parameters).fetchone()
        return None if row is None else row[0]

    def execute(self, *statements: tuple[str, tuple[object, ...]]) -> None:
        """Statements run on hub.sqlite as its owner would, the append-only triggers dropped first and put back
        after (as the hub's next start would)."""
        with self.db() as db:
            triggers = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
            for name in triggers:
                db.execute(f'DROP TRIGGER "{name}"')
            for sql, parameters in statements:
                db.execute(sql, parameters)
            for statement in sqlite_guards():
                db.execute(statement)


def served_hub(directory: Path) -> Iterator[Hub]:
    """The demo configured for documents in `directory`, served until the generator is closed."""
    _state, passwords, _pki = demo_for_documents(directory)
    process, base = _serve(directory)
    running = Hub(directory, passwords, process, base)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    yield from served_hub(tmp_path_factory.mktemp("za-plecami"))


def refused(call: Any, **arguments: Any) -> Fault:
    with pytest.raises(Fault) as caught:
        call(**arguments)
    fault = caught.value
    assert "Traceback" not in fault.message and "Error" not in fault.message, fault.message
    return fault


def test_a_used_template_version_rewritten_while_the_hub_is_stopped_is_neither_rendered_nor_used(hub: Hub) -> None:
    """The stylesheet of the version the demo's certificates were made from is rewritten in hub.sqlite while the
    hub is stopped: it no longer matches the SHA-256 its history recorded, so after the start no document is
    rendered with it, no certificate is made from it (the case stays ZLOZONY, nothing stored, nothing disclosed)
    and it is not exported; the original put back, the same document renders again."""
    delivered, submitted = hub.case("ODEBRANY"), hub.case("ZLOZONY")
    version_id = hub.scalar("SELECT id FROM wersje_szablonow WHERE rodzaj = ? AND wersja = 1", CERTIFICATE_TYPE)
    original = hub.scalar("SELECT wizualizacja FROM wersje_szablonow WHERE id = ?", version_id)
    forged = original.replace("<body>", "<body><p>Treść dopisana poza platformą</p>", 1)
    assert forged != original and hub.scalar("SELECT uzyta FROM wersje_szablonow WHERE id = ?", version_id) == 1
    documents_before = hub.scalar("SELECT count(*) FROM dokumenty")
    hub.stop()
    hub.execute(("UPDATE wersje_szablonow SET wizualizacja = ? WHERE id = ?", (forged, version_id)))
    hub.start()
    try:
        signer = hub.client("pup.podpisujacy")
        for call, arguments in (
            (signer.PobierzPDF, {"IdentyfikatorSprawy": delivered, "Rola": "ZASWIADCZENIE"}),
            (signer.PrzyjmijWniosek, {"IdentyfikatorSprawy": submitted}),
            (hub.client("redaktor").PobierzSzablon, {"RodzajDokumentu": CERTIFICATE_TYPE, "Wersja": 1}),
            (hub.client("redaktor").ListaSzablonow, {}),
            (signer.ListaRodzajowDokumentow, {}),
        ):
            fault = refused(call, **arguments)
            assert fault_code(fault) == "NARUSZONA_INTEGRALNOSC_SZABLONU", fault.message
            assert fault.code.endswith("Server") and "poza platformą" in fault.message
        assert hub.scalar("SELECT stan FROM sprawy_dokumentow WHERE id = ?", submitted) == "ZLOZONY"
        assert hub.scalar("SELECT count(*) FROM dokumenty") == documents_before
    finally:
        hub.stop()
        hub.execute(("UPDATE wersje_szablonow SET wizualizacja = ? WHERE id = ?", (original, version_id)))
        hub.start()
    pdf = hub.client("pup.podpisujacy").PobierzPDF(IdentyfikatorSprawy=delivered, Rola="ZASWIADCZENIE")
    assert pdf.Tresc.startswith(b"%PDF")


def test_a_document_relinked_to_another_template_version_while_the_hub_runs_is_not_rendered(hub: Hub) -> None:
    """A template editor makes version 2 of the certificate (a visualisation of its own); the owner of hub.sqlite
    then points the delivered certificate's row at it. The document names version 1 inside its hashed (and
    signed) bytes: it is not rendered with version 2 (NARUSZONA_INTEGRALNOSC_DOKUMENTU, ours)."""
    delivered = hub.case("ODEBRANY")
    editor = hub.client("redaktor")
    active = editor.PobierzSzablon(RodzajDokumentu=CERTIFICATE_TYPE).Szablon
    assert active.Wersja == 1
    xsl = hub.scalar("SELECT wizualizacja FROM wersje_szablonow WHERE rodzaj = ? AND wersja = 1", CERTIFICATE_TYPE)
    other = editor.NowaWersjaSzablonu(
        RodzajDokumentu=CERTIFICATE_TYPE, Wizualizacja=xsl.replace("<body>", "<body><p>Inna wersja</p>", 1)
    )
    other_id = hub.scalar(
        "SELECT id FROM wersje_szablonow WHERE rodzaj = ? AND wersja = ?", CERTIFICATE_TYPE, other.Wersja
    )
    select = "SELECT wersja_szablonu FROM dokumenty WHERE sprawa = ? AND rola = 'ZASWIADCZENIE_PODPISANE'"
    own = hub.scalar(select, delivered)
    relink = "UPDATE dokumenty SET wersja_szablonu = ? WHERE sprawa = ? AND rola = 'ZASWIADCZENIE_PODPISANE'"
    hub.execute((relink, (other_id, delivered)))
    try:
        fault = refused(
            hub.client("pup.podpisujacy").PobierzPDF, IdentyfikatorSprawy=delivered, Rola="ZASWIADCZENIE_PODPISANE"
        )
        assert fault_code(fault) == "NARUSZONA_INTEGRALNOSC_DOKUMENTU", fault.message
        assert fault.code.endswith("Server") and "poza platformą" in fault.message
    finally:
        hub.execute((relink, (own, delivered)))
    assert hub.scalar(select, delivered) == own
    pdf = hub.client("pup.podpisujacy").PobierzPDF(IdentyfikatorSprawy=delivered, Rola="ZASWIADCZENIE_PODPISANE")
    assert pdf.Tresc.startswith(b"%PDF")


def test_stored_bytes_rewritten_while_the_hub_runs_are_not_served_signed_or_sealed(hub: Hub) -> None:
    """The request of a submitted case and the certificate of a case waiting for its signature are rewritten in
    hub.sqlite while the hub runs (their SHA-256 left as recorded): neither is served (XML or PDF), read for
    signing or sealed; the case does not move and no receipt is issued."""
    waiting = hub.case("DO_PODPISU")
    request = hub.case("ZLOZONY")
    read = "SELECT tresc FROM dokumenty WHERE sprawa = ? AND rola = ?"
    write = "UPDATE dokumenty SET tresc = ? WHERE sprawa = ? AND rola = ?"
    originals = {(waiting, "ZASWIADCZENIE"): hub.scalar(read, waiting, "ZASWIADCZENIE")}
    originals[(request, "WNIOSEK")] = hub.scalar(read, request, "WNIOSEK")
    receipts = hub.scalar("SELECT count(*) FROM poswiadczenia")
    hub.execute(*((write, (content + b" ", case, role)) for (case, role), content in originals.items()))
    try:
        signer = hub.client("pup.podpisujacy")
        for call, arguments in (
            (signer.PobierzDoPodpisu, {"IdentyfikatorSprawy": waiting}),
            (signer.OpieczetujZaswiadczenie, {"IdentyfikatorSprawy": waiting}),
            (signer.PobierzDokument, {"IdentyfikatorSprawy": waiting, "Rola": "ZASWIADCZENIE"}),
            (signer.PobierzPDF, {"IdentyfikatorSprawy": waiting, "Rola": "ZASWIADCZENIE"}),
            (signer.PobierzDokument, {"IdentyfikatorSprawy": request, "Rola": "WNIOSEK"}),
            (signer.PrzyjmijWniosek, {"IdentyfikatorSprawy": request}),
        ):
            fault = refused(call, **arguments)
            assert fault_code(fault) == "NARUSZONA_INTEGRALNOSC_DOKUMENTU", fault.message
            assert fault.code.endswith("Server")
        assert hub.scalar("SELECT stan FROM sprawy_dokumentow WHERE id = ?", waiting) == "DO_PODPISU"
        assert hub.scalar("SELECT stan FROM sprawy_dokumentow WHERE id = ?", request) == "ZLOZONY"
        assert hub.scalar("SELECT count(*) FROM poswiadczenia") == receipts
    finally:
        hub.execute(*((write, (content, case, role)) for (case, role), content in originals.items()))
    assert (
        hub.client("pup.podpisujacy").PobierzDoPodpisu(IdentyfikatorSprawy=waiting).Tresc
        == originals[(waiting, "ZASWIADCZENIE")]
    )


@pytest.mark.parametrize("kind", ["UPP", "UPD"])
def test_a_receipt_deleted_with_its_tag_is_missed_not_silently_left_out(hub: Hub, kind: str) -> None:
    """A collected case's receipt row and its integrity tag deleted from hub.sqlite: the list of receipts was one
    shorter, without a word (the tags tell a changed receipt, not a missing one). Its state says which it had."""
    collected = hub.case("ODEBRANY")
    row = "SELECT * FROM poswiadczenia WHERE sprawa = ? AND rodzaj = ? ORDER BY utworzono DESC LIMIT 1"
    with hub.db() as db:
        db.row_factory = sqlite3.Row
        receipt = dict(db.execute(row, (collected, kind)).fetchone())
        tag = dict(db.execute("SELECT * FROM znaczniki_integralnosci WHERE obiekt = ?", (receipt["id"],)).fetchone())
    hub.execute(
        ("DELETE FROM poswiadczenia WHERE id = ?", (receipt["id"],)),
        ("DELETE FROM znaczniki_integralnosci WHERE obiekt = ?", (receipt["id"],)),
    )
    try:
        fault = refused(hub.client("ops.pracownik").PobierzPoswiadczenia, IdentyfikatorSprawy=collected)
        assert fault_code(fault) == "NARUSZONA_INTEGRALNOSC_DOKUMENTU" and kind in fault.message, fault.message
    finally:
        columns, tag_columns = ", ".join(receipt), ", ".join(tag)
        hub.execute(
            (
                f"INSERT INTO poswiadczenia ({columns}) VALUES ({', '.join('?' * len(receipt))})",  # noqa: S608
                tuple(receipt.values()),
            ),
            (f"INSERT INTO znaczniki_integralnosci ({tag_columns}) VALUES (?, ?, ?)", tuple(tag.values())),  # noqa: S608
        )
    assert len(hub.client("ops.pracownik").PobierzPoswiadczenia(IdentyfikatorSprawy=collected)) == 3


def test_seal_files_swapped_while_the_hub_is_stopped_stop_its_start_in_polish(hub: Hub) -> None:
    """PUP's and OPS's seal files exchanged while the hub is stopped: the next start refuses, one Polish line per
    seal naming the field and PIECZEC_INNEGO_PODMIOTU, no traceback; put back, the hub starts."""
    pup, ops = hub.directory / "pieczec-PUP.p12", hub.directory / "pieczec-OPS.p12"
    kept = hub.directory / "pieczec-zamiana.p12"
    hub.stop()
    try:
        shutil.move(pup, kept)
        shutil.move(ops, pup)
        shutil.move(kept, ops)
        command = [sys.executable, "-m", "hub.cli", "serve", "--config", str(hub.directory / "platforma.toml")]
        started = subprocess.run(
            [*command, "--port", "0"], capture_output=True, text=True, timeout=120, env=dict(os.environ), check=False
        )
        assert started.returncode != 0
        output = started.stdout + started.stderr
        assert "Traceback" not in output, output
        assert output.count("[PIECZEC_INNEGO_PODMIOTU]") == 2, output
        assert "seals[1].key" in output and "seals[2].key" in output, output
    finally:
        shutil.move(pup, kept)
        shutil.move(ops, pup)
        shutil.move(kept, ops)
        hub.start()
    assert hub.client("pup.podpisujacy").SkrzynkaOdbiorcza() is not None
