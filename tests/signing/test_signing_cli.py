"""The ``sign`` and ``verify`` commands: exit codes, Polish output, JSON, errors without tracebacks."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from signing import cli

from .conftest import JAN_PESEL, NOW, fixture_path
from .documents import wniosek
from .pki import Issued, TestPKI

ROOT = Path(__file__).resolve().parents[2]
AT = ["--time", NOW.isoformat(), "--offline"]


@pytest.fixture
def trust_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "zaufane"
    folder.mkdir()
    shutil.copy(fixture_path("pki/root.pem"), folder / "root.pem")
    shutil.copy(fixture_path("pki/qualified_ca.pem"), folder / "qualified_ca.pem")
    return folder


@pytest.fixture
def key_file(tmp_path: Path, jan: Issued) -> Path:
    path = tmp_path / "jan.pem"
    path.write_bytes(jan.key_pem() + jan.cert_pem())
    path.chmod(0o600)  # `platforma sign` refuses a key others may read, as ssh does
    return path


def test_verify_prints_a_polish_report_and_exits_0(trust_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["verify", "--trust", str(trust_dir), *AT, str(fixture_path("valid_enveloped.xml"))])
    out = capsys.readouterr().out
    assert code == 0
    assert "PODPIS WAŻNY (kwalifikowany)" in out and f"PESEL {JAN_PESEL}" in out


def test_verify_json(trust_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["verify", "--trust", str(trust_dir), "--json", *AT, str(fixture_path("valid_enveloped.xml"))])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["valid"] is True and data["qualified"] is True
    assert (data["signer"], data["pesel"], data["signing_time"]) == ("Jan Testowy", JAN_PESEL, "2026-11-20T10:00:00Z")
    assert data["reasons"] == []


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("altered_content.xml", "NIEZGODNY_SKROT"),
        ("xsw_moved_document.xml", "PODPISANY_ELEMENT_PRZENIESIONY"),
        ("doctype_external_entity.xml", "DOCTYPE_NIEDOZWOLONY"),
        ("untrusted_signer.xml", "BRAK_ZAUFANIA"),
    ],
)
def test_verify_exits_1_when_not_accepted(
    trust_dir: Path, fixture: str, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = cli.main(["verify", "--trust", str(trust_dir), "--json", *AT, str(fixture_path(fixture))])
    data = json.loads(capsys.readouterr().out)
    assert exit_code == 1
    assert code in [reason["code"] for reason in data["reasons"]]


def test_verify_without_trust_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", *AT, str(fixture_path("valid_enveloped.xml"))]) == 1
    assert "BRAK_KOTWIC_ZAUFANIA" in capsys.readouterr().out


def test_verify_with_a_trusted_list_crl_and_revoked_signer(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["verify", "--trust", str(fixture_path("trusted_list.xml")), *AT]
    assert cli.main([*args, str(fixture_path("valid_enveloped.xml"))]) == 0
    crl = ["--crl", str(fixture_path("crl_revoked_certificate.pem"))]
    assert cli.main([*args, *crl, str(fixture_path("revoked_certificate.xml"))]) == 1
    assert "CERTYFIKAT_UNIEWAZNIONY" in capsys.readouterr().out


def test_sign_then_verify_enveloped(
    tmp_path: Path, key_file: Path, pki: TestPKI, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "wniosek.xml"
    document.write_bytes(wniosek())
    out = tmp_path / "wniosek.podpisany.xml"
    assert cli.main(["sign", "--key", str(key_file), "--out", str(out), str(document)]) == 0
    assert "Podpisano" in capsys.readouterr().out
    assert out.read_bytes().startswith(wniosek()[:100])
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root.cert_pem())
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.qualified_ca.cert_pem())
    argv = ["verify", "--trust", str(root), "--intermediate", str(ca), "--offline", str(out)]
    assert cli.main(argv) == 0, capsys.readouterr().out


def test_sign_detached_then_verify_finds_the_file_beside_it(
    tmp_path: Path, key_file: Path, pki: TestPKI, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = tmp_path / "załącznik.pdf"
    payload.write_bytes("%PDF-1.4 treść".encode())
    signature = tmp_path / "załącznik.pdf.xades"
    assert cli.main(["sign", "--key", str(key_file), "--detached", "--out", str(signature), str(payload)]) == 0
    trust = tmp_path / "zaufane"
    trust.mkdir()
    (trust / "root.pem").write_bytes(pki.root.cert_pem())
    (trust / "ca.pem").write_bytes(pki.qualified_ca.cert_pem())
    capsys.readouterr()
    # The CLI signed with the real clock, so it verifies on the real clock too (no --time).
    code = cli.main(["verify", "--json", "--offline", "--trust", str(trust), str(signature)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, data
    assert data["covers"]["detached"] == ["załącznik.pdf"]
    payload.write_bytes("%PDF-1.4 inna treść".encode())
    assert cli.main(["verify", "--json", "--offline", "--trust", str(trust), str(signature)]) == 1
    assert "NIEZGODNY_SKROT" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["sign", "--key", "/nie/ma/klucza.pem", "--out", "x.xml", "doc.xml"], "Nie można odczytać pliku klucza"),
        (["verify", "/nie/ma/dokumentu.xml"], "nie znaleziono pliku"),
        (["verify", "--trust", "/nie/ma/katalogu", "doc.xml"], "nie znaleziono katalogu"),
        (["verify", "--time", "wczoraj", "doc.xml"], "oczekiwano ISO 8601"),
    ],
)
def test_errors_are_polish_sentences_with_exit_2(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("Błąd: ") and fragment in err and "Traceback" not in err


def test_wrong_password_and_doctype_input(tmp_path: Path, jan: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    from cryptography.hazmat.primitives import serialization

    key = tmp_path / "zaszyfrowany.pem"
    key.write_bytes(
        jan.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"dobre"),
        )
        + jan.cert_pem()
    )
    key.chmod(0o600)
    out = str(tmp_path / "out.xml")
    doc = str(fixture_path("document_unsigned.xml"))
    assert cli.main(["sign", "--key", str(key), "--password", "złe", "--out", out, doc]) == 2
    assert "złe hasło" in capsys.readouterr().err
    evil = str(fixture_path("doctype_external_entity.xml"))
    assert cli.main(["sign", "--key", str(key), "--password", "dobre", "--out", out, evil]) == 2
    assert "DOCTYPE" in capsys.readouterr().err


def test_register_adds_both_subcommands() -> None:
    parser = argparse.ArgumentParser(prog="platforma")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["verify", "--json", "dokument.xml"])
    assert args.func is cli.run_verify and args.json
    args = parser.parse_args(["sign", "--key", "k.p12", "--detached", "--out", "o.xml", "plik.pdf"])
    assert args.func is cli.run_sign and args.detached


def test_module_runs_standalone_with_polish_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "signing.cli", "verify", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert "kotwice zaufania" in result.stdout and "--json" in result.stdout
