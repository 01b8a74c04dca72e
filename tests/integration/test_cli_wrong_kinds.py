"""`platforma` given files and values of the wrong kind: `sign` and `verify` handed a device or a FIFO (they waited
or read /dev/zero for ever), a signing key its group or everyone may read (used without a word), a password file
that is not UTF-8 and a `--cert` that is no certificate (the libraries' English); `-` as output (a file named
`-`); an output that cannot be written whole (half of it left behind); `--json` with a usage mistake (nothing on
standard output); `load` given a device or a FIFO. Each failed before the fix beside it (hub/cli, signing/cli.py,
contract/files.py); test_cli_attacks.py holds the earlier ones."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration import test_cli_attacks
from tests.integration.test_cli_attacks import platforma, run
from tests.integration.test_documents import SEAL_PASSWORD, SIGNER_PESEL, _p12
from tests.integration.test_documents_cli import CliHub
from tests.integration.test_documents_cli import platforma as as_signer
from tests.signing.pki import build_pki

demo = test_cli_attacks.demo  # the demo powiat and the one with PUP's signer, as those tests make them
signing_hub = test_cli_attacks.signing_hub
DOCUMENT = b'<?xml version="1.0" encoding="UTF-8"?>\n<Wniosek><Tresc>Prosze o zaswiadczenie</Tresc></Wniosek>\n'
NOT_A_FILE = "nie jest zwykłym plikiem (urządzenie, potok lub gniazdo); podaj plik."


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A signer's PKCS#12 (0600, password `SEAL_PASSWORD`), a document to sign, a FIFO nobody writes to."""
    directory = tmp_path_factory.mktemp("zle-rodzaje")
    pki = build_pki(dt.datetime.now(dt.UTC))
    key = directory / "podpisujacy.p12"
    _p12(pki.signer("Anna", "Podpisująca", pesel=SIGNER_PESEL), [pki.qualified_ca.cert], key)
    document = directory / "wniosek.xml"
    document.write_bytes(DOCUMENT)
    fifo = directory / "potok"
    os.mkfifo(fifo)
    not_utf8 = directory / "haslo.txt"
    not_utf8.write_bytes(b"\xff\xfehaslo\n")
    return {"directory": directory, "key": key, "document": document, "fifo": fifo, "not_utf8": not_utf8}


# -- the signer's key ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "who"),
    [
        (0o640, "użytkownicy grupy pliku"),
        (0o604, "wszyscy użytkownicy systemu"),
        (0o644, "wszyscy użytkownicy systemu"),
    ],
)
def test_sign_refuses_a_key_file_its_group_or_everyone_may_read_naming_it_and_the_fix(
    files: dict[str, Path], tmp_path: Path, mode: int, who: str
) -> None:
    """ssh refuses such a private key; `platforma sign` signed with it, and only the PKCS#12 password stood between
    the other accounts of the server and the signer's qualified signature."""
    shared = tmp_path / "klucz.p12"
    shutil.copyfile(files["key"], shared)
    shared.chmod(mode)
    out = tmp_path / "podpisany.xml"
    result = run("sign", "--key", str(shared), "--password", SEAL_PASSWORD, "--out", str(out), str(files["document"]))
    assert result.returncode == 2, result.stdout
    assert result.stderr.strip() == (
        f"Błąd: Plik klucza {shared} mogą czytać lub zmieniać {who} (uprawnienia {mode:04o}); ustaw 0600 "
        f"poleceniem chmod 600 {shared}."
    )
    assert not out.exists()


@pytest.mark.parametrize("mode", [0o1777, 0o755, 0o700], ids=["like-tmp", "like-home", "private"])
def test_sign_refuses_a_directory_as_its_key_without_advising_chmod(
    files: dict[str, Path], tmp_path: Path, mode: int
) -> None:
    """`--key /tmp` said "ustaw 0600 poleceniem chmod 600 /tmp": run as root, that advice breaks the machine."""
    folder = tmp_path / "katalog"
    folder.mkdir()
    folder.chmod(mode)
    out = tmp_path / "podpisany.xml"
    result = run("sign", "--key", str(folder), "--password", SEAL_PASSWORD, "--out", str(out), str(files["document"]))
    assert result.returncode == 2, result.stdout
    assert result.stderr.strip() == f"Błąd: --key {folder} jest katalogiem; podaj plik klucza."
    assert not out.exists() and (folder.stat().st_mode & 0o7777) == mode


def test_documents_sign_refuses_a_key_everyone_may_read_before_anything_is_uploaded(
    signing_hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    case_id = signing_hub.submit(signing_hub.person("PUP", "OPS"))
    as_signer(signing_hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "accept", case_id)
    shared = tmp_path / "klucz.p12"
    shutil.copyfile(signing_hub.signer_key, shared)
    shared.chmod(0o644)
    code, out, err = as_signer(
        signing_hub,
        capsys,
        monkeypatch,
        "pup.podpisujacy",
        "documents",
        "sign",
        case_id,
        "--key",
        str(shared),
        "--json",
    )
    assert code == 2 and f"chmod 600 {shared}" in err and "(uprawnienia 0644)" in err, err
    assert "chmod 600" in json.loads(out)["blad"]["komunikat"]
    code, out, _ = as_signer(
        signing_hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "show", case_id, "--json"
    )
    assert code == 0 and json.loads(out)["stan"] == "DO_PODPISU"


# -- devices and FIFOs --------------------------------------------------------------------------------------------
def test_sign_refuses_a_device_or_a_fifo_in_every_file_it_reads(files: dict[str, Path], tmp_path: Path) -> None:
    """`--key`, `--cert` or `--password-file` /dev/zero read until the memory ran out, a FIFO waited for a writer
    for ever, and so did the document."""
    key, document, fifo = str(files["key"]), str(files["document"]), str(files["fifo"])
    out = str(tmp_path / "podpisany.xml")
    for argv, named in (
        (("--key", fifo, "--password", SEAL_PASSWORD, "--out", out, document), f"--key {fifo}"),
        (("--key", key, "--password-file", "/dev/zero", "--out", out, document), "--password-file /dev/zero"),
        (
            ("--key", key, "--password", SEAL_PASSWORD, "--cert", "/dev/zero", "--out", out, document),
            "--cert /dev/zero",
        ),
        (("--key", key, "--password", SEAL_PASSWORD, "--out", out, fifo), f"Dokument {fifo}"),
        (("--key", key, "--password", SEAL_PASSWORD, "--detached", "--out", out, "/dev/zero"), "Dokument /dev/zero"),
    ):
        result = run("sign", *argv)
        assert result.returncode == 2 and result.stderr.strip() == f"Błąd: {named} {NOT_A_FILE}", result.stderr
    assert not Path(out).exists()


def test_verify_refuses_a_device_or_a_fifo_in_every_file_it_reads_with_json_too(
    files: dict[str, Path], tmp_path: Path
) -> None:
    trust, document, fifo = str(files["directory"]), str(files["document"]), str(files["fifo"])
    for argv, named in (
        ((fifo,), f"Dokument {fifo}"),
        (("--trust", "/dev/zero", document), "--trust /dev/zero"),
        (("--crl", "/dev/zero", document), "--crl /dev/zero"),
        (("--ocsp", fifo, document), f"--ocsp {fifo}"),
        (("--intermediate", "/dev/zero", document), "--intermediate /dev/zero"),
        (("--data", fifo, document), f"--data {fifo}"),
    ):
        result = run("verify", "--offline", "--json", "--trust", trust, *argv)
        assert result.returncode == 2 and result.stderr.strip() == f"Błąd: {named} {NOT_A_FILE}", result.stderr
        assert json.loads(result.stdout)["blad"]["komunikat"] == f"{named} {NOT_A_FILE}"


def test_load_refuses_a_device_or_a_fifo_at_once(demo: dict[str, Any], files: dict[str, Path]) -> None:
    """`load /dev/zero` parsed zeros for ever, a FIFO waited for a writer, both holding the replica's writer open."""
    for path in ("/dev/zero", str(files["fifo"])):
        result = run("load", "--config", demo["config"], "--data-set", "PUP", path)
        assert result.returncode == 2 and result.stderr.strip() == f"Błąd: {path} {NOT_A_FILE}", result.stderr


# -- passwords and certificates -----------------------------------------------------------------------------------
def test_sign_takes_the_key_password_from_platforma_haslo_klucza_as_documents_sign_does(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """Without --password it signed with no password ("złe hasło albo uszkodzony plik"); the only other way was
    `--password`, which every account on the server reads in the process list."""
    out = tmp_path / "podpisany.xml"
    result = run(
        "sign", "--key", str(files["key"]), "--out", str(out), str(files["document"]),
        env={"PLATFORMA_HASLO_KLUCZA": SEAL_PASSWORD},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert b"SignatureValue" in out.read_bytes()


def test_a_password_file_not_in_utf8_and_a_cert_that_is_no_certificate_are_polish_lines(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """They were "nieprawidłowa wartość: 'utf-8' codec can't decode byte 0xff in position 0" and "Unable to load
    PEM file. See https://cryptography.io/en/latest/faq/... MalformedFraming"."""
    key, document, not_utf8 = str(files["key"]), str(files["document"]), str(files["not_utf8"])
    out = str(tmp_path / "podpisany.xml")
    result = run("sign", "--key", key, "--password-file", not_utf8, "--out", out, document)
    assert result.returncode == 2
    assert result.stderr.strip() == f"Błąd: Plik hasła {not_utf8} nie jest tekstem w UTF-8 (bajt nr 1)."
    result = run("sign", "--key", key, "--password", SEAL_PASSWORD, "--cert", not_utf8, "--out", out, document)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Błąd: Nie można odczytać certyfikatu z pliku {not_utf8}: oczekiwano certyfikatu PEM."
    )


# -- where the output goes ----------------------------------------------------------------------------------------
def test_sign_writes_dash_to_standard_output_and_dev_null_stays_a_device(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """`--out -` made a file named `-` in the current folder (`templates export --out -` writes standard output)."""
    command = [sys.executable, "-m", "hub.cli", "sign", "--key", str(files["key"]), "--password", SEAL_PASSWORD]
    for out in ("-", "/dev/null"):
        result = subprocess.run(
            [*command, "--out", out, str(files["document"])],
            capture_output=True, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("Podpisano:")
    assert list(tmp_path.iterdir()) == [] and Path("/dev/null").is_char_device()
    dash = subprocess.run(
        [*command, "--out", "-", str(files["document"])], capture_output=True, timeout=120, check=False
    )
    assert dash.stdout.startswith(DOCUMENT.split(b"</Wniosek>")[0]) and b"SignatureValue" in dash.stdout
    assert dash.stderr.decode().startswith("Podpisano:")


def test_documents_fetch_writes_dash_to_standard_output(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    delivered = next(case["id"] for case in demo["documents"] if case["state"] == "DOSTARCZONY")
    monkeypatch.chdir(tmp_path)
    code, out, err = platforma(
        demo, capsys, monkeypatch, "ops.pracownik", "documents", "fetch", delivered, "--out", "-"
    )
    assert code == 0, err
    assert out.startswith("<?xml") and "SignatureValue" in out and "Zapisano" not in out
    assert list(tmp_path.iterdir()) == []


def _limited_file_size(limit: int) -> None:
    os.umask(0o022)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_signature_that_cannot_be_written_whole_leaves_the_earlier_file_as_it_was(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """A write cut short (a full disk, a quota; here the file size limit) left the first kilobyte of the signed
    document in place of the earlier file, and the message was "błąd systemowy EFBIG"."""
    out = tmp_path / "podpisany.xml"
    out.write_bytes(b"poprzednia wersja\n")
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli", "sign", "--key", str(files["key"]), "--password", SEAL_PASSWORD,
         "--out", str(out), str(files["document"])],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        preexec_fn=lambda: _limited_file_size(1024), check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "plik przekroczyłby największy dozwolony rozmiar" in result.stderr and str(out) in result.stderr
    assert out.read_bytes() == b"poprzednia wersja\n"
    assert [path.name for path in tmp_path.iterdir()] == ["podpisany.xml"]


# -- --json and usage mistakes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ("templates", "show", "WNIOSEK_O_INFORMACJE", "--version", "abc"),
        ("documents", "show"),
        ("documents", "list", "--box", "kosz"),
        # Past SQLite's INTEGER: OverflowError, exit 3, "Nieoczekiwany błąd" with Python's English (attack pass).
        ("templates", "show", "WNIOSEK_O_INFORMACJE", "--version", "9223372036854775808"),
        ("templates", "activate", "WNIOSEK_O_INFORMACJE", "9223372036854775808"),
        ("templates", "export", "WNIOSEK_O_INFORMACJE", "--version", "0", "--out", "-"),
    ],
    ids=["not-a-number", "no-case", "unknown-choice", "version-past-int64", "activate-past-int64", "version-0"],
)
def test_a_usage_mistake_with_json_is_json_too(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    """argparse wrote its line on standard error and nothing on standard output: `json.loads("")` in the script."""
    with pytest.raises(SystemExit) as caught:
        platforma(demo, capsys, monkeypatch, "redaktor", *argv, "--json")
    assert caught.value.code == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["blad"]["kod"] == "NIEPRAWIDLOWE_ARGUMENTY"
    assert json.loads(out)["blad"]["komunikat"][1:] in err


# -- the audit, feed and load commands, and a pasted case id ------------------------------------------------------
def test_audit_checkpoint_refuses_a_device_or_a_fifo_as_its_key(demo: dict[str, Any], files: dict[str, Path]) -> None:
    """`audit checkpoint --key /dev/zero` read until the address-space limit killed it; a FIFO waited for ever."""
    for key in ("/dev/zero", str(files["fifo"])):
        result = run("audit", "checkpoint", "--config", demo["config"], "--key", key)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.strip() == (
            f"Błąd: Nie można odczytać pliku klucza prywatnego punktów kontrolnych {key}: "
            "to nie jest zwykły plik (urządzenie, potok lub gniazdo)."
        ), result.stderr


def test_audit_report_into_a_missing_folder_names_the_file_asked_for(demo: dict[str, Any], tmp_path: Path) -> None:
    """The error named the partial file beside the target (`r.xml.czesciowy`), which the operator never asked for."""
    target = tmp_path / "nie-ma" / "r.xml"
    result = run(
        "audit", "report", "--config", demo["config"], "--actor", "audytor", "--pesel",
        demo["beneficiaries"][0]["pesel"], "--output", str(target),
        env={"PLATFORMA_HASLO": demo["passwords"]["audytor"]},
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"({target})" in result.stderr and "czesciowy" not in result.stderr, result.stderr
    assert not target.parent.exists()


@pytest.mark.parametrize("option", ["--password-file", "--mapping"])
def test_feed_refuses_a_device_as_its_password_or_mapping_file(
    demo: dict[str, Any], files: dict[str, Path], option: str
) -> None:
    """`feed --password-file /dev/zero` (and `--mapping`) read until memory ran out; a non-UTF-8 file was a
    traceback (the password) or the codec's English (the mapping)."""
    source = Path(demo["config"]).parent / "dziedzinowe" / "pup-dziedzinowa.sqlite"
    what = {"--password-file": "hasła", "--mapping": "mapowania"}[option]
    for given, why in (
        ("/dev/zero", "to nie jest zwykły plik (urządzenie, potok lub gniazdo)"),
        (str(files["not_utf8"]), "plik nie jest zapisany w UTF-8"),
    ):
        result = run(
            "feed", "--adapter", "pup", "--source", f"sqlite:///{source}", "--target",
            "http://127.0.0.1:1/soap/zasilanie", "--full", "--login", "pup.system", option, given,
        )  # fmt: skip
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"Nie można odczytać pliku {what} {given}: {why}." in " ".join(result.stderr.split()), result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content", [b"", bytes(range(256)) * 4], ids=["empty", "binary"])
def test_load_of_an_empty_or_binary_file_says_so_in_polish(
    demo: dict[str, Any], tmp_path: Path, content: bytes
) -> None:
    """It said libxml2's "no element found (line 0)"."""
    batch = tmp_path / "paczka.xml"
    batch.write_bytes(content)
    result = run("load", "--config", demo["config"], "--data-set", "PUP", str(batch))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Błąd: Paczka nie jest dokumentem XML: plik jest pusty albo nie zawiera znaczników." in result.stderr


def test_a_pasted_case_id_is_not_echoed_whole(
    signing_hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`documents fetch <100,000 characters>` printed all of them back in "Nie ma sprawy …"."""
    pasted = "a" * 100_000
    code, _out, err = as_signer(
        signing_hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "fetch", pasted, "--out", str(tmp_path / "x")
    )
    assert code != 0
    assert f"Nie ma sprawy {'a' * 64}… (100000 znaków) dostępnej dla urzędu PUP." in " ".join(err.split()), err[:300]
    assert len(err) < 1000
