"""`platforma templates|documents` (issue 15): templates listed, exported to one file, imported as a new
version and activated by a template editor (and by nobody else); a request accepted, signed with the signer's
PKCS#12 key and uploaded, shown and collected from the command line, with `--json` for scripts.

The hub is the demo powiat (`platforma demo --no-serve`) with a seal, trust anchors and PUP's signer and
template editor, as in test_documents.py; the commands run in this process on the same database."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub import settings
from hub.cli import main
from hub.core import HubCore
from hub.domain.documents import RequestForm
from tests.integration.test_documents import SEAL_PASSWORD, SIGNER_PESEL, _p12, demo_for_documents
from tests.signing.pki import TestPKI

CERTIFICATE_TYPE = "ZASWIADCZENIE_PUP_REJESTRACJA"


@dataclass
class CliHub:
    """A configured demo hub (not served), its users' passwords, PKI and the signer's PKCS#12."""

    directory: Path
    demo: dict[str, Any]
    passwords: dict[str, str]
    pki: TestPKI
    signer_key: Path

    @property
    def config(self) -> Path:
        return self.directory / "platforma.toml"

    def person(self, *data_sets: str) -> str:
        return str(next(b["pesel"] for b in self.demo["beneficiaries"] if b["data_sets"] == list(data_sets)))

    def submit(
        self,
        pesel: str,
        certificate_type: str = CERTIFICATE_TYPE,
        recipient: str = "PUP",
        scope: dict[str, list[str]] | None = None,
        login: str = "ops.pracownik",
    ) -> str:
        """A request submitted through the domain service, as the SOAP edge does; its case id."""
        core = HubCore.open(settings.load(self.config))
        try:
            caller = core.accounts.authenticate(login, self.passwords[login], channel="CLI", source="test")
            form = RequestForm(
                pesel=pesel,
                legal_basis="UPS-2004",
                purpose="Ustalenie sytuacji osoby ubiegającej się o zasiłek",
                certificate_type=certificate_type,
                recipient_office=recipient,
                scope=scope or {"PUP": ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]},
            )
            return core.documents.submit(caller, form).case.id
        finally:
            core.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliHub]:
    directory = tmp_path_factory.mktemp("dokumenty-cli")
    state, passwords, pki = demo_for_documents(directory)
    signer = pki.signer("Anna", "Podpisująca", pesel=SIGNER_PESEL)
    _p12(signer, [pki.qualified_ca.cert], directory / "podpisujacy.p12")
    yield CliHub(directory, state, passwords, pki, directory / "podpisujacy.p12")


def platforma(
    hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, login: str, *argv: str
) -> tuple[int, str, str]:
    """Run one `platforma` command in this process as `login`; exit code, stdout, stderr."""
    monkeypatch.setenv("PLATFORMA_HASLO", hub.passwords[login])
    monkeypatch.setenv("PLATFORMA_HASLO_KLUCZA", SEAL_PASSWORD)
    monkeypatch.setenv("COLUMNS", "250")
    capsys.readouterr()
    group, action, *rest = argv
    code = main([group, action, "--config", str(hub.config), "--as", login, *rest])
    out, err = capsys.readouterr()
    return code, out, err


def test_templates_are_listed_exported_imported_and_activated_by_an_editor(
    hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out, _ = platforma(hub, capsys, monkeypatch, "pup.redaktor", "templates", "list", "--json")
    assert code == 0
    listed = {(t["rodzaj"], t["wersja"]): t for t in json.loads(out)}
    assert listed[("WNIOSEK_O_INFORMACJE", 1)]["aktywna"] and (CERTIFICATE_TYPE, 1) in listed
    exported = tmp_path / "szablon.json"
    code, _, _ = platforma(
        hub, capsys, monkeypatch, "pup.redaktor", "templates", "export", "WNIOSEK_O_INFORMACJE", "--out", str(exported)
    )
    assert code == 0 and json.loads(exported.read_text(encoding="utf-8"))["rodzaj"] == "WNIOSEK_O_INFORMACJE"
    code, _, err = platforma(hub, capsys, monkeypatch, "pup.podpisujacy", "templates", "import", str(exported))
    assert code == 2 and "redaktor szablonów" in err
    code, out, _ = platforma(hub, capsys, monkeypatch, "pup.redaktor", "templates", "import", str(exported), "--json")
    made = json.loads(out)
    assert code == 0 and made["wersja"] == 2 and not made["aktywna"] and made["autor_zmiany"] == "pup.redaktor"
    code, out, _ = platforma(
        hub, capsys, monkeypatch, "pup.redaktor", "templates", "activate", "WNIOSEK_O_INFORMACJE", "2", "--json"
    )
    assert code == 0 and json.loads(out)["aktywna"]
    code, out, _ = platforma(
        hub, capsys, monkeypatch, "pup.redaktor", "templates", "show", "WNIOSEK_O_INFORMACJE", "--json"
    )
    shown = json.loads(out)
    assert shown["wersja"] == 2 and shown["schemat"].startswith("<?xml")
    code, out, _ = platforma(hub, capsys, monkeypatch, "pup.redaktor", "templates", "show", "WNIOSEK_O_INFORMACJE")
    assert code == 0 and "wersja 2" in out


def test_a_new_version_from_files_keeps_the_rest_of_the_active_one(
    hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out, _ = platforma(hub, capsys, monkeypatch, "pup.redaktor", "templates", "show", CERTIFICATE_TYPE, "--json")
    xsl = tmp_path / "wizualizacja.xsl"
    xsl.write_text(json.loads(out)["wizualizacja"].replace("Okresy rejestracji", "Okresy w rejestrze"), "utf-8")
    code, out, _ = platforma(
        hub,
        capsys,
        monkeypatch,
        "pup.redaktor",
        "templates",
        "new-version",
        CERTIFICATE_TYPE,
        "--xsl",
        str(xsl),
        "--json",
    )
    assert code == 0 and json.loads(out)["wersja"] >= 2
    broken = tmp_path / "zly.xsl"
    broken.write_text("<nie-xsl", "utf-8")
    code, _, err = platforma(
        hub, capsys, monkeypatch, "pup.redaktor", "templates", "new-version", CERTIFICATE_TYPE, "--xsl", str(broken)
    )
    assert code == 2 and "nieprawidłowy" in err


def test_a_certificate_is_accepted_signed_with_a_pkcs12_key_and_collected_from_the_command_line(
    hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    case_id = hub.submit(hub.person("PUP", "OPS"))
    code, out, _ = platforma(
        hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "list", "--box", "inbox", "--json"
    )
    assert code == 0 and case_id in [c["sprawa"] for c in json.loads(out)]
    code, out, _ = platforma(hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "accept", case_id, "--json")
    assert code == 0 and len(json.loads(out)["sha256"]) == 64
    receipt = tmp_path / "upp.xml"
    code, out, err = platforma(
        hub,
        capsys,
        monkeypatch,
        "pup.podpisujacy",
        "documents",
        "sign",
        case_id,
        "--key",
        str(hub.signer_key),
        "--receipt",
        str(receipt),
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["stan"] == "DOSTARCZONY" and b"UPP" in receipt.read_bytes()
    certificate = tmp_path / "zaswiadczenie.xml"
    code, _, _ = platforma(
        hub, capsys, monkeypatch, "ops.pracownik", "documents", "fetch", case_id, "--out", str(certificate)
    )
    assert code == 0 and b"SignatureValue" in certificate.read_bytes()
    code, out, _ = platforma(hub, capsys, monkeypatch, "ops.pracownik", "documents", "show", case_id, "--json")
    shown = json.loads(out)
    assert shown["stan"] == "ODEBRANY"
    moves = [t["do_stanu"] for t in shown["przejscia"]]
    assert moves == ["ZLOZONY", "DO_PODPISU", "DO_PODPISU", "DOSTARCZONY", "ODEBRANY"]  # accepted, generated
    # the requesting office is shown the signed certificate, never the generated one awaiting a signature
    assert [d["rola"] for d in shown["dokumenty"]] == ["WNIOSEK", "ZASWIADCZENIE_PODPISANE"]
    verified = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "verify",
            "--trust",
            str(hub.directory / "zaufane"),
            "--offline",
            str(certificate),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0 and "Anna Podpisująca" in verified.stdout
    pdf = tmp_path / "zaswiadczenie.pdf"
    code, _, err = platforma(hub, capsys, monkeypatch, "ops.pracownik", "documents", "pdf", case_id, "--out", str(pdf))
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF"), err


def test_a_key_of_another_person_is_refused_with_the_verifiers_reason(
    hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    case_id = hub.submit(hub.person("PUP", "OPS"))
    platforma(hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "accept", case_id)
    stranger = tmp_path / "obcy.p12"
    _p12(hub.pki.signer("Jan", "Obcy", pesel="80010112345"), [hub.pki.qualified_ca.cert], stranger)
    code, _, err = platforma(
        hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "sign", case_id, "--key", str(stranger)
    )
    assert code == 2 and "inna niż" in err
    code, out, _ = platforma(hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "show", case_id)
    assert code == 0 and "DO_PODPISU" in out


def test_a_template_file_that_cannot_be_read_is_one_polish_line_naming_it(
    hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A missing file or a folder given as a file: exit 2, the path and the reason in Polish (the message
    quoted the C library's English, "[Errno 2] No such file or directory")."""
    missing = tmp_path / "nie-ma.json"
    code, _, err = platforma(hub, capsys, monkeypatch, "pup.redaktor", "templates", "import", str(missing))
    assert code == 2
    assert err.strip() == f"Błąd systemu plików lub sieci ({missing}): nie ma takiego pliku lub katalogu."
    code, _, err = platforma(
        hub, capsys, monkeypatch, "pup.redaktor", "templates", "new-version", CERTIFICATE_TYPE, "--xsl", str(tmp_path)
    )
    assert code == 2 and "to jest katalog, nie plik" in err and "Errno" not in err
