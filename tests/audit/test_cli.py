"""`platforma audit …`: verify, report, purge, checkpoint, key, grants; Polish help and errors, exit codes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from audit.checkpoints import generate_key
from audit.records import EventKind
from audit.store import AuditStore, CheckpointPolicy
from hub import cli  # `platforma`: `--config` is read by the hub's settings loader (hub/cli/audit.py)
from tests.audit.conftest import (
    AUDITOR_PASSWORD,
    Administrator,
    disclosure,
    fill,
    hub_config,
    needs_pdf,
    synthetic_pesel,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    """A hub configuration with relative paths, and an audit database with 60 records and checkpoints."""
    (tmp_path / "dane").mkdir()
    config = hub_config(
        tmp_path,
        "sqlite:///dane/audit.sqlite",
        extra_hub='audit_key = "klucz.pem"\naudit_checkpoint_every = 10\naudit_retention_days = 365\n',
    )
    generate_key(tmp_path / "klucz.pem")
    # As the hub opens it: with the key file, so each checkpoint is anchored beside the key (klucz.kotwice).
    store = AuditStore(
        f"sqlite:///{tmp_path / 'dane' / 'audit.sqlite'}", key_file=tmp_path / "klucz.pem", policy=CheckpointPolicy(10)
    )
    fill(store)
    store.dispose()
    return config


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_verify_intact_and_tampered(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "verify", "--config", str(configured))
    assert code == 0 and "Rejestr jest nienaruszony" in out and "Sprawdzono 60 wpisów" in out
    admin = Administrator(configured.parent / "dane" / "audit.sqlite")
    admin.run("DELETE FROM rejestr_ujawnien WHERE nr = 17")
    admin.close()
    code, out, _ = run(capsys, "audit", "verify", "--config", str(configured))
    assert code == 1
    assert "NARUSZENIE REJESTRU [USUNIETY]: Usunięto wpis nr 17" in out


def test_verify_with_a_public_key_only(configured: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "key", "--out", str(tmp_path / "inny.pem"))
    assert code == 0 and "BEGIN PUBLIC KEY" in out
    public = tmp_path / "inny.pub"
    public.write_text(out[out.index("-----BEGIN PUBLIC KEY") :], encoding="utf-8")
    url = f"sqlite:///{configured.parent / 'dane' / 'audit.sqlite'}"
    code, out, _ = run(capsys, "audit", "verify", "--audit-db", url, "--key", str(public))
    assert code == 1 and "[NIEZNANY_KLUCZ]" in out  # signed by the hub's key, which this auditor does not trust
    code, out, _ = run(capsys, "audit", "verify", "--audit-db", url)
    assert code == 0 and "podpisów punktów kontrolnych nie sprawdzono" in out


def test_report_to_file(configured: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "raport.xml"
    pesel = synthetic_pesel(5)
    code, _, err = run(
        capsys,
        "audit",
        "report",
        "--config",
        str(configured),
        "--pesel",
        pesel,
        "--output",
        str(target),
        "--actor",
        "audytor",
    )
    assert code == 0 and "Zapisano raport (1 wpisów)" in err
    document = etree.parse(str(target)).getroot()
    assert (
        document.findtext(
            "{urn:pl:platforma-komunikacyjna:raport:1}Naglowek/{urn:pl:platforma-komunikacyjna:raport:1}Wystawca"
        )
        == "Powiat testowy"
    )
    code, out, _ = run(capsys, "audit", "verify", "--config", str(configured))
    assert code == 0 and "Sprawdzono 62 wpisów" in out  # the auditor's login and the report were recorded
    report = list(AuditStore(f"sqlite:///{configured.parent / 'dane' / 'audit.sqlite'}").events())[-1]
    assert (report.kind, report.user, report.office) == (EventKind.REPORT, "audytor", "PUP")


def test_report_csv_to_stdout_and_period(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        [
            "audit",
            "report",
            "--config",
            str(configured),
            "--since",
            "2026-11-02",
            "--until",
            "2026-11-02",
            "--format",
            "csv",
            "--actor",
            "audytor",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("Nr;Czas;Uzytkownik") and len(lines) == 41  # header + 40


def test_report_pdf(configured: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_pdf()
    target = tmp_path / "osoba.pdf"
    code, _, _ = run(
        capsys,
        "audit",
        "report",
        "--config",
        str(configured),
        "--pesel",
        synthetic_pesel(3),
        "--format",
        "pdf",
        "--output",
        str(target),
        "--actor",
        "audytor",
    )
    assert code == 0 and target.read_bytes().startswith(b"%PDF-")


def test_purge_dry_run_then_for_real(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = AuditStore(f"sqlite:///{configured.parent / 'dane' / 'audit.sqlite'}")
    store.append([disclosure(999, time=dt.datetime.now(dt.UTC))])
    store.dispose()
    code, out, _ = run(capsys, "audit", "purge", "--config", str(configured), "--older-than-days", "3")
    assert code == 0 and "Usunięte zostałyby wpisy do nr 60" in out and "--yes" in out
    code, out, _ = run(capsys, "audit", "purge", "--config", str(configured), "--older-than-days", "3", "--yes")
    assert code == 0 and "Usunięto 60 wpisów (do nr 60)" in out
    code, out, _ = run(capsys, "audit", "verify", "--config", str(configured))
    assert code == 0 and "Sprawdzono 2 wpisów (nr 61–62)" in out


def test_checkpoint_and_grants(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "checkpoint", "--config", str(configured))
    assert code == 0 and "Nie ma nowych wpisów" in out  # 60 records, the last checkpoint is over record 60
    code, out, _ = run(capsys, "audit", "grants", "--hub-role", "platforma", "--retention-role", "retencja")
    assert code == 0
    tables = "rejestr_ujawnien, zdarzenia_bezpieczenstwa, punkty_kontrolne, format_lancucha"
    assert f'GRANT SELECT, INSERT ON {tables} TO "platforma";' in out
    assert 'GRANT DELETE ON rejestr_ujawnien, zdarzenia_bezpieczenstwa TO "retencja";' in out
    assert "CREATE OR REPLACE TRIGGER" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["audit", "verify"], "Wskaż bazę audytu"),
        (["audit", "verify", "--config", "/nie/ma/takiego.toml"], "Nie znaleziono pliku konfiguracji"),
        (["audit", "verify", "--audit-db", "sqlite:////proc/nie-wolno/audit.sqlite"], "Błąd:"),
        (["audit", "report", "--audit-db", "sqlite:///:memory:", "--actor", "a"], "zalogowany audytor"),
        (["audit", "report", "--actor", "a", "--since", "wczoraj"], "Nieprawidłowa data"),
        (["audit", "purge", "--audit-db", "sqlite:///:memory:", "--older-than-days", "30"], "wymaga klucza"),
        (["audit", "verify", "--audit-db", "sqlite:///:memory:", "--key", "/nie/ma/klucza.pem"], "Nie znaleziono"),
    ],
)
def test_errors_are_polish_sentences(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_help_is_polish() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "audit.cli", "audit", "verify", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0 and "pierwszy naruszony wpis" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "audit.cli", "audit", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert all(word in result.stdout for word in ("verify", "report", "purge", "raport"))


def test_verify_prints_an_anchor_and_checks_it(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "verify", "--config", str(configured))
    anchor = out.split("--anchor ", 1)[1].split()[0]
    assert code == 0 and anchor.startswith("60:")
    admin = Administrator(configured.parent / "dane" / "audit.sqlite")
    admin.run("DELETE FROM rejestr_ujawnien WHERE nr > 55")
    admin.run("DELETE FROM zdarzenia_bezpieczenstwa WHERE nr > 55")
    admin.run("DELETE FROM punkty_kontrolne WHERE nr_punktu = 5")  # the checkpoint over 60 goes too
    admin.close()
    code, out, _ = run(capsys, "audit", "verify", "--config", str(configured), "--no-anchors")
    assert code == 0  # from the database alone, nothing can be seen
    code, out, _ = run(capsys, "audit", "verify", "--config", str(configured), "--no-anchors", "--anchor", anchor)
    assert code == 1 and "[USUNIETY]: Usunięto wpisy nr 56–60 z końca rejestru" in out
    code, out, _ = run(capsys, "audit", "verify", "--config", str(configured))  # the anchor file beside the key
    assert code == 1 and "[USUNIETY]: Usunięto wpisy nr 56–60 z końca rejestru" in out
    code, _, err = run(capsys, "audit", "verify", "--config", str(configured), "--anchor", "60:xyz")
    assert code == 2 and "Kotwica ma postać" in err


@pytest.fixture(autouse=True)
def auditor_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORMA_HASLO", AUDITOR_PASSWORD)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--pesel", "12"], "Numer PESEL jest nieprawidłowy"),
        (["--pesel", "90051712345"], "Numer PESEL jest nieprawidłowy"),  # wrong check digit, as on SOAP
        (["--since", "2026-11-03", "--until", "2026-11-01"], "wcześniejszy"),
    ],
    ids=["short-pesel", "bad-checksum", "backwards-period"],
)
def test_report_identifiers_are_checked_as_on_soap(
    configured: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    target = tmp_path / "nie-powstanie.pdf"
    code, _, err = run(
        capsys, "audit", "report", "--config", str(configured), "--actor", "audytor", "--output", str(target), *argv
    )
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not target.exists()  # no "no disclosures" document for an identifier SOAP would refuse


def test_a_report_needs_an_auditor_who_logs_in(
    configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["audit", "report", "--config", str(configured), "--since", "2026-11-02"]
    code, out, err = run(capsys, *base, "--actor", "urzednik")
    assert code == 2 and "Brak uprawnień" in err and not out
    monkeypatch.setenv("PLATFORMA_HASLO", "zle-haslo")
    code, out, err = run(capsys, *base, "--actor", "audytor")
    assert code == 2 and "Nieprawidłowy login lub hasło" in err and not out
    with pytest.raises(SystemExit):  # the old self-declared identity is gone
        run(capsys, "audit", "report", "--audit-db", "sqlite:///:memory:", "--requested-by", "ktos")
    events = list(AuditStore(f"sqlite:///{configured.parent / 'dane' / 'audit.sqlite'}").events())
    assert any(e.kind == EventKind.PERMISSION_REFUSED and e.user == "urzednik" for e in events)
    assert not any(e.kind == EventKind.REPORT for e in events)
