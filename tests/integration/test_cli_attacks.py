"""`platforma` used carelessly and with hostile input: a configuration that is a device, a FIFO, saved with a
BOM or naming one office twice; logins and group codes no command could name again; two `users add` of one
login at once; `--json` that prints nothing on an error; files with personal data readable by everyone; a
port already taken; help in English. Each failed before the fix beside it (hub/cli, hub/settings.py)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import resource
import sqlite3
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

import hub.domain.accounts
from contract.errors import ConfigurationError
from hub import settings
from hub.cli import build_parser, main
from tests.integration.test_documents import SIGNER_PESEL, _configure, _p12, _run
from tests.integration.test_documents_cli import CliHub
from tests.integration.test_documents_cli import platforma as as_signer
from tests.signing.pki import build_pki

SIZES = ("--pup", "50", "--ops", "20", "--sr", "30")
NEW_PASSWORD = "Bardzo-Mocne-Haslo-2026!"
MINIMAL: dict[str, Any] = {
    "hub": {"name": "Hub testowy", "database": "sqlite:///hub.sqlite", "audit_database": "sqlite:///audit.sqlite"},
    "offices": [{"code": "OPS", "name": "Ośrodek", "kind": "OPS"}, {"code": "PUP", "name": "Urząd", "kind": "PUP"}],
    "groups": [{"code": "G", "office": "OPS", "name": "Grupa"}],
    "users": [{"login": "ops.jan", "office": "OPS", "group": "G", "password_hash": "$argon2id$x"}],
    "data_sets": [{"code": "PUP", "controller": "PUP", "replica": "sqlite:///replicas/pup.sqlite"}],
    "legal_bases": [{"code": "UPS", "citation": "art. 1", "data_sets": ["PUP"]}],
    "systems": [{"name": "System OPS", "office": "OPS", "subject_cn": "ops.system"}],
    "rules": [
        {"office": "OPS", "group": "G", "data_set": "PUP", "categories": ["DANE_OSOBOWE"], "legal_bases": ["UPS"]}
    ],
}
MINIMAL_TOML = (
    '[hub]\nname = "H"\ndatabase = "sqlite:///hub.sqlite"\naudit_database = "sqlite:///audyt/audit.sqlite"\n'
    '[[offices]]\ncode = "PUP"\nname = "Urząd"\nkind = "PUP"\n'
)


def run(*args: str, umask: int = 0o022, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as an operator starts it; the deadline only guards against a hang, the address-space limit
    against a command that reads a device into memory (the machine is shared)."""

    def start() -> None:
        os.umask(umask)
        resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, 4 * 1024**3))

    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, COLUMNS="250", **(env or {})),
        preexec_fn=start,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("ataki-cli") / "demo"
    result = run("demo", "--dir", str(directory), "--no-serve", "--port", "0", *SIZES)
    assert result.returncode == 0, result.stdout + result.stderr
    state: dict[str, Any] = json.loads((directory / "demo.json").read_text(encoding="utf-8"))
    state["config"] = str(directory / "platforma.toml")
    state["passwords"] = {user["login"]: user["password"] for user in state["users"]}
    return state


@pytest.fixture(scope="module")
def signing_hub(tmp_path_factory: pytest.TempPathFactory) -> CliHub:
    """The demo with a seal, trust anchors and PUP's signer's PKCS#12, as test_documents_cli.py makes it."""
    directory = tmp_path_factory.mktemp("ataki-podpis")
    command = [sys.executable, "-m", "hub.cli", "demo", "--dir", str(directory), "--no-serve", "--port", "0", *SIZES]
    _run(command, directory / "demo.log")
    state = json.loads((directory / "demo.json").read_text(encoding="utf-8"))
    passwords = {user["login"]: user["password"] for user in state["users"]}
    pki = build_pki(dt.datetime.now(dt.UTC))
    _configure(directory, pki, passwords)
    _p12(pki.signer("Anna", "Podpisująca", pesel=SIGNER_PESEL), [pki.qualified_ca.cert], directory / "podpisujacy.p12")
    return CliHub(directory, state, passwords, pki, directory / "podpisujacy.p12")


def platforma(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, login: str, *argv: str
) -> tuple[int, str, str]:
    """One command in this process as `login`: exit code, stdout, stderr."""
    monkeypatch.setenv("PLATFORMA_HASLO", demo["passwords"].get(login, "zle-haslo"))
    monkeypatch.setenv("PLATFORMA_NOWE_HASLO", NEW_PASSWORD)
    monkeypatch.setenv("COLUMNS", "250")
    capsys.readouterr()
    group, action, *rest = argv
    code = main([group, action, "--config", demo["config"], "--as", login, *rest])
    out, err = capsys.readouterr()
    return code, out, err


def logins(demo: dict[str, Any]) -> set[str]:
    with sqlite3.connect(Path(demo["config"]).parent / "hub.sqlite") as db:
        return {row[0] for row in db.execute("SELECT login FROM uzytkownicy")}


# -- the configuration file ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_given_as_the_configuration_is_refused_at_once(device: str) -> None:
    """/dev/zero was read for ever (the command hung, its memory grew); /dev/null was an empty configuration."""
    result = run("users", "list", "--config", device, "--as", "x")
    assert result.returncode == 2
    assert result.stderr.strip() == f"Błąd: {device} nie jest zwykłym plikiem (urządzenie, potok lub gniazdo)."


def test_a_fifo_given_as_the_configuration_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "platforma.toml"
    os.mkfifo(fifo)
    result = run("serve", "--config", str(fifo))
    assert result.returncode == 2 and "nie jest zwykłym plikiem" in result.stderr


def test_a_configuration_saved_with_a_bom_is_read_as_written(tmp_path: Path) -> None:
    """Notepad writes UTF-8 with a BOM: it was "plik nie jest poprawnym TOML (Invalid statement ...)"."""
    path = tmp_path / "platforma.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL_TOML.encode("utf-8"))
    config = settings.load(path)
    assert config.hub.name == "H" and config.has_office("PUP")


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("offices", "platforma.toml:offices[3].code: powtórzony wpis offices[1] (OPS)"),
        ("groups", "platforma.toml:groups[2].code: powtórzony wpis groups[1] (OPS / G)"),
        ("users", "platforma.toml:users[2].login: powtórzony wpis users[1] (ops.jan)"),
        ("data_sets", "platforma.toml:data_sets[2].code: powtórzony wpis data_sets[1] (PUP)"),
        ("legal_bases", "platforma.toml:legal_bases[2].code: powtórzony wpis legal_bases[1] (UPS)"),
        ("systems", "platforma.toml:systems[2].subject_cn: powtórzony wpis systems[1] (ops.system)"),
        ("rules", "platforma.toml:rules[2].data_set: powtórzony wpis rules[1] (OPS / G / PUP)"),
    ],
)
def test_a_second_entry_with_the_same_code_is_refused_not_silently_dropped(
    tmp_path: Path, section: str, expected: str
) -> None:
    """Two offices coded OPS (or two systems with one certificate name, two rules for one group...) were
    accepted: the look-ups kept one of them, so the hub acted on another entry than the one read."""
    raw = copy.deepcopy(MINIMAL)
    raw[section].append(copy.deepcopy(raw[section][0]))
    with pytest.raises(ConfigurationError) as caught:
        settings.parse(raw, tmp_path / "platforma.toml")
    assert caught.value.message.splitlines() == [expected]


def test_a_nul_byte_in_a_path_is_a_polish_line_not_the_c_librarys_english(tmp_path: Path) -> None:
    raw = copy.deepcopy(MINIMAL)
    raw["hub"]["database"] = "sqlite:///hub\x00.sqlite"
    raw["hub"]["audit_key"] = "klucz\x00.pem"
    with pytest.raises(ConfigurationError) as caught:
        settings.parse(raw, tmp_path / "platforma.toml")
    lines = caught.value.message.splitlines()
    assert len(lines) == 2 and all("znak NUL (\\0) w ścieżce lub adresie" in line for line in lines), lines
    assert "embedded null byte" not in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[hub]\nname = "A"\nname = "B"\n', "klucz podany drugi raz (wiersz 3, kolumna 11)"),
        ("[hub]\n[hub]\n", "sekcja hub podana drugi raz (wiersz 2, kolumna 5)"),
        ("[hub]\nport = 80 81\n", "po wartości oczekiwano końca wiersza (wiersz 2, kolumna 11)"),
        ('[hub]\nkey = "C:\\klucze\\a.pem"\n', "znak \\ bez pary w tekście"),
        ("[hub]\nx = [1, 2\n", "niezamknięta lista (brak ]) (na końcu pliku)"),
    ],
    ids=["duplicate-key", "duplicate-section", "two-values", "windows-path", "unclosed-list"],
)
def test_a_toml_mistake_is_explained_in_polish_with_its_line(tmp_path: Path, text: str, expected: str) -> None:
    """It was tomllib's English: "plik nie jest poprawnym TOML (Cannot overwrite a value (at line 3, column 11))"."""
    path = tmp_path / "platforma.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        settings.load(path)
    assert caught.value.message.startswith(f"platforma.toml: plik nie jest poprawnym TOML: {expected}")


def test_a_missing_password_with_no_terminal_is_one_polish_line_and_a_piped_one_is_read(
    demo: dict[str, Any],
) -> None:
    """With no terminal (cron, a service) getpass printed "GetPassWarning: Can not control echo on the terminal"
    and "Warning: Password input may be echoed" before the Polish message."""
    command = [sys.executable, "-m", "hub.cli", "users", "list", "--config", demo["config"], "--as", "platforma.admin"]
    env = {k: v for k, v in os.environ.items() if k != "PLATFORMA_HASLO"} | {"COLUMNS": "250"}
    no_terminal = {"start_new_session": True, "capture_output": True, "text": True, "timeout": 120, "env": env}
    result = subprocess.run(command, stdin=subprocess.DEVNULL, check=False, **no_terminal)  # type: ignore[call-overload]
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "Błąd: brak hasła: ustaw zmienną PLATFORMA_HASLO albo uruchom polecenie w terminalu."
    )
    password = demo["passwords"]["platforma.admin"] + "\n"
    piped = subprocess.run(command, input=password, check=False, **no_terminal)  # type: ignore[call-overload]
    assert piped.returncode == 0 and "Warning" not in piped.stderr and "platforma.admin" in piped.stdout


def test_a_database_driver_that_is_not_installed_is_named_at_load_without_the_urls_password(tmp_path: Path) -> None:
    """Found only when the hub opened it: "Nieoczekiwany błąd (NoSuchModuleError): Can't load plugin:
    sqlalchemy.dialects:mysql.nope" or "(ModuleNotFoundError): No module named 'MySQLdb'", exit 3."""
    raw = copy.deepcopy(MINIMAL)
    raw["hub"]["database"] = "mysql+nope://hub:Tajne-Haslo-Bazy@127.0.0.1/hub"
    raw["hub"]["audit_database"] = "mysql+mysqldb://hub:Tajne-Haslo-Bazy@127.0.0.1/audit"
    with pytest.raises(ConfigurationError) as caught:
        settings.parse(raw, tmp_path / "platforma.toml")
    lines = caught.value.message.splitlines()
    assert lines[0].startswith("platforma.toml:hub.database: nieznany rodzaj bazy danych lub sterownik: mysql+nope")
    assert lines[1].startswith("platforma.toml:hub.audit_database: brak sterownika bazy danych MySQLdb")
    assert "Tajne-Haslo-Bazy" not in caught.value.message


def test_a_password_of_the_wrong_type_or_in_a_wrong_url_is_not_echoed(tmp_path: Path) -> None:
    """ "(podano 'postgresql://hub:haslo@...')" and "(podano 987654)" put the secret on the screen and in the log
    of the service that failed to start."""
    raw = copy.deepcopy(MINIMAL)
    raw["hub"]["seal_key_password"] = 987654
    raw["data_sets"][0]["replica"] = 12345
    raw["data_sets"][0]["writer"] = "postgresql://pisarz:Tajne-Haslo-Pisarza@" + "x" * 3000
    with pytest.raises(ConfigurationError) as caught:
        settings.parse(raw, tmp_path / "platforma.toml")
    assert "987654" not in caught.value.message and "Tajne-Haslo-Pisarza" not in caught.value.message
    assert "hub.seal_key_password: oczekiwano tekstu w cudzysłowie" in caught.value.message
    assert "data_sets[1].replica: oczekiwano tekstu w cudzysłowie (podano 12345)" in caught.value.message


# -- arguments of the wrong kind ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "login",
    ["jan kowalski", "zły\x1b[31mlogin", "dwie\nlinie", "a" * 10_000, ""],
    ids=["space", "escape", "newline", "10000", "empty"],
)
def test_users_add_refuses_a_login_no_command_could_name_again(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, login: str
) -> None:
    """All five were created (an empty login too; 10,000 characters in a 120-character column)."""
    with pytest.raises(SystemExit) as caught:
        platforma(
            demo, capsys, monkeypatch, "platforma.admin", "users", "add", login, "--office", "PUP", "--group", "AUDYT"
        )
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "nieprawidłowy login" in err and "a" * 100 not in err
    assert login not in logins(demo)


@pytest.mark.parametrize("code", ["zła grupa", "", "G\tH"], ids=["space", "empty", "tab"])
def test_groups_add_refuses_a_code_the_configuration_would_refuse(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        platforma(demo, capsys, monkeypatch, "platforma.admin", "groups", "add", "PUP", code, "Nazwa grupy")
    assert caught.value.code == 2 and "nieprawidłowy kod" in capsys.readouterr().err


def test_a_name_longer_than_its_column_or_with_a_newline_is_refused(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("Ż" * 5000, "Jan\nNowak"):
        with pytest.raises(SystemExit) as caught:
            platforma(
                demo, capsys, monkeypatch, "platforma.admin", "users", "add", "jan.nazwa", "--office", "PUP",
                "--group", "AUDYT", "--name", name,
            )  # fmt: skip
        assert caught.value.code == 2 and "nieprawidłowa nazwa" in capsys.readouterr().err
    assert "jan.nazwa" not in logins(demo)


def test_a_device_given_as_a_template_file_is_refused_not_read_until_memory_runs_out(demo: dict[str, Any]) -> None:
    """`templates import /dev/zero` ended in MemoryError (exit 3) or the OOM killer."""
    result = run(
        "templates", "import", "--config", demo["config"], "--as", "redaktor", "/dev/zero", "--json",
        env={"PLATFORMA_HASLO": demo["passwords"]["redaktor"]},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Błąd: /dev/zero nie jest zwykłym plikiem (urządzenie, potok lub gniazdo); podaj plik."
    )
    assert json.loads(result.stdout)["blad"]["kod"] == "NIEPRAWIDLOWE_ZAPYTANIE"


def test_a_receipt_that_cannot_be_written_is_refused_before_the_certificate_is_delivered(
    signing_hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`documents sign --receipt <a folder>` uploaded and delivered the certificate, then failed writing the
    receipt (exit 2): the operator saw an error for a delivery that had happened, and a retry found it closed."""
    case_id = signing_hub.submit(signing_hub.person("PUP", "OPS"))
    as_signer(signing_hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "accept", case_id)
    for receipt, expected in ((tmp_path, "jest katalogiem"), (tmp_path / "nie-ma" / "upp.xml", "nie ma katalogu")):
        code, _, err = as_signer(
            signing_hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "sign", case_id,
            "--key", str(signing_hub.signer_key), "--receipt", str(receipt),
        )  # fmt: skip
        assert code == 2 and f"--receipt {receipt}" in err and expected in err, err
    code, out, _ = as_signer(
        signing_hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "show", case_id, "--json"
    )
    assert code == 0 and json.loads(out)["stan"] == "DO_PODPISU"


def test_a_receipt_that_fails_after_the_delivery_says_the_certificate_was_delivered(
    signing_hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an attack pass: `--receipt /dev/full` (a full disk) passed the check before the upload, and after the
    delivery the command said only "brak miejsca na dysku", exit 2, while the case was DOSTARCZONY."""
    case_id = signing_hub.submit(signing_hub.person("PUP", "OPS"))
    as_signer(signing_hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "accept", case_id)
    code, out, err = as_signer(
        signing_hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "sign", case_id,
        "--key", str(signing_hub.signer_key), "--receipt", "/dev/full", "--json",
    )  # fmt: skip
    assert code == 1, err
    assert json.loads(out)["stan"] == "DOSTARCZONY" and json.loads(out)["poswiadczenie_niezapisane"]
    assert "zaświadczenie doręczono" in err and "brak miejsca na dysku" in err and "PobierzPoswiadczenia" in err


def test_a_device_given_as_the_signing_key_is_refused_not_read(
    signing_hub: CliHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """signing's load_key read /dev/zero until MemoryError (exit 3) or the OOM killer."""
    case_id = signing_hub.submit(signing_hub.person("PUP", "OPS"))
    as_signer(signing_hub, capsys, monkeypatch, "pup.podpisujacy", "documents", "accept", case_id)
    result = run(
        "documents", "sign", "--config", str(signing_hub.config), "--as", "pup.podpisujacy", case_id,
        "--key", "/dev/zero", env={"PLATFORMA_HASLO": signing_hub.passwords["pup.podpisujacy"]},
    )  # fmt: skip
    assert result.returncode == 2
    assert "--key /dev/zero nie jest zwykłym plikiem" in result.stderr


# -- the same command twice at once -------------------------------------------------------------------------------
def test_two_users_add_of_one_login_at_once_give_a_polish_line_not_sqlalchemys_sql(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other command inserts the login between this one's check and its insert (as two operators did):
    "Nieoczekiwany błąd (IntegrityError): ... [SQL: INSERT INTO uzytkownicy (login, ..., haslo, ...)]", exit 3."""
    real_hash = hub.domain.accounts.hash_password
    database = Path(demo["config"]).parent / "hub.sqlite"

    def the_other_command_first(password: str) -> str:
        if password != NEW_PASSWORD:  # the hub's own dummy hash, made when it opens
            return real_hash(password)
        with sqlite3.connect(database, timeout=30) as db:
            db.execute(
                "INSERT INTO uzytkownicy (login, urzad, grupa, nazwa, haslo, aktywny, role, zablokowany, "
                "nieudane_proby, wymagana_zmiana_hasla, wersja) VALUES ('jan.wyscig', 'PUP', 'AUDYT', '', 'x', 1, "
                "'UZYTKOWNIK', 0, 0, 1, 1)"
            )
        return real_hash(password)

    monkeypatch.setattr(hub.domain.accounts, "hash_password", the_other_command_first)
    code, _, err = platforma(
        demo, capsys, monkeypatch, "platforma.admin", "users", "add", "jan.wyscig", "--office", "PUP", "--group",
        "AUDYT", "--name", "Jan Wyścigowy",
    )  # fmt: skip
    assert code == 2, err
    assert err.startswith("Błąd: zapis koliduje z równoczesną zmianą"), err
    assert "INSERT" not in err and "haslo" not in err and "Wyścigowy" not in err


# -- --json on errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ("templates", "list"),
        ("templates", "show", "NIE_MA_TAKIEGO"),
        ("documents", "list"),
        ("documents", "show", "00000000-0000-0000-0000-000000000000"),
        ("documents", "accept", "nie-ma"),
    ],
)
def test_json_is_printed_on_errors_too(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    """A script that asked for JSON got an empty standard output on every error (a wrong password, an unknown
    template or case), and `json.loads("")` fails in the script instead of telling it why."""
    login = "redaktor" if argv[0] == "templates" else "pup.podpisujacy"
    code, out, _ = platforma(demo, capsys, monkeypatch, login, *argv, "--json")
    if argv[1] != "list":
        assert code == 2
        assert set(json.loads(out)["blad"]) == {"kod", "komunikat"}
    monkeypatch.setenv("PLATFORMA_HASLO", "zle-haslo")
    capsys.readouterr()
    code = main([*argv[:2], "--config", demo["config"], "--as", login, *argv[2:], "--json"])
    assert code == 2
    assert json.loads(capsys.readouterr().out)["blad"]["kod"] == "BLEDNE_UWIERZYTELNIENIE"


# -- private files ------------------------------------------------------------------------------------------------
def test_a_command_that_creates_the_hubs_databases_makes_them_private_even_with_umask_000(tmp_path: Path) -> None:
    """`users list` on a new configuration created hub.sqlite and the audit register 0644 (0666 with umask 000):
    the disclosure register and the password hashes readable by every account on the server."""
    config = tmp_path / "platforma.toml"
    config.write_text(MINIMAL_TOML, encoding="utf-8")
    result = run("users", "list", "--config", str(config), "--as", "nikt", umask=0, env={"PLATFORMA_HASLO": "x"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    created = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.rglob("*.sqlite*")}
    assert {"hub.sqlite", "audit.sqlite"} <= set(created)
    assert {name: oct(mode) for name, mode in created.items() if mode & 0o077} == {}


def test_a_written_document_is_private_even_with_umask_000(demo: dict[str, Any], tmp_path: Path) -> None:
    """`templates export --out` (and `documents fetch|pdf --out`, `--receipt`: a person's data) wrote 0666."""
    out = tmp_path / "szablon.json"
    result = run(
        "templates", "export", "--config", demo["config"], "--as", "redaktor", "WNIOSEK_O_INFORMACJE",
        "--out", str(out), umask=0, env={"PLATFORMA_HASLO": demo["passwords"]["redaktor"]},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert oct(stat.S_IMODE(out.stat().st_mode)) == oct(0o600)


def test_main_gives_the_calling_process_its_umask_back(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = os.umask(0o022)
    try:
        platforma(demo, capsys, monkeypatch, "redaktor", "templates", "list")
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(before)


# -- serve: start-up refusals -------------------------------------------------------------------------------------
def test_serve_on_a_taken_port_is_one_polish_line_and_exit_2(demo: dict[str, Any]) -> None:
    """It was "Nieoczekiwany błąd (CannotListenError): Couldn't listen on ...: [Errno 98] Address already in use.",
    exit 3, as if a bug."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--config", demo["config"], "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Błąd: nie można nasłuchiwać na 127.0.0.1:{port}: adres i port są już zajęte przez inny proces."
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_an_unknown_host_name_says_so(demo: dict[str, Any], workers: str) -> None:
    """With one worker: CannotListenError's English, exit 3; with more: "błąd systemowy", naming nothing."""
    result = run("serve", "--config", demo["config"], "--port", "0", "--listen", "nie-ma.invalid", "--workers", workers)
    assert result.returncode == 2
    assert "nieznany adres" in result.stderr and "Traceback" not in result.stderr


# -- help ---------------------------------------------------------------------------------------------------------
OWN_COMMANDS = (
    ("serve",),
    ("contracts",),
    ("users", "add"),
    ("users", "set-group"),
    ("users", "passwd"),
    ("groups", "add"),
    ("policy", "set"),
    ("events",),
    ("templates", "export"),
    ("documents", "sign"),
)


@pytest.mark.parametrize("command", [(), *OWN_COMMANDS], ids=lambda c: " ".join(c) or "platforma")
def test_help_is_polish_and_explains_every_argument(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """ "usage:", "positional arguments", "options", "show this help message and exit" were English, and the
    positional arguments of users, groups and policy had no explanation at all."""
    with pytest.raises(SystemExit) as caught:
        build_parser([*command, "--help"]).parse_args([*command, "--help"])
    assert caught.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("użycie: platforma")
    for english in ("usage:", "positional arguments", "options:", "show this help", "version number"):
        assert english not in text
    assert "argumenty pozycyjne:" in text or "opcje:" in text


def test_every_argument_of_the_own_commands_has_an_explanation() -> None:
    import argparse

    def missing(parser: argparse.ArgumentParser, path: str) -> list[str]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += missing(sub, f"{path} {name}")
            elif action.help is None:
                found.append(f"{path} {action.dest}")
        return found

    parser = build_parser(["users"])
    for module in ("groups", "templates"):
        build_parser([module])
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    own = ("serve", "contracts", "users", "groups", "policy", "events")
    assert [m for name in own for m in missing(subcommands.choices[name], name)] == []
    documents = build_parser(["documents"])
    actions = next(a for a in documents._actions if isinstance(a, argparse._SubParsersAction))
    assert [m for name in ("templates", "documents") for m in missing(actions.choices[name], name)] == []


@pytest.mark.parametrize("listing", [("users", "list"), ("groups", "list")])
def test_listing_an_office_the_configuration_does_not_name_says_so(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, listing: tuple[str, str]
) -> None:
    """`users list --office ŻÓŁW` printed an empty table, exit 0: a typo looked like an office with no users."""
    code, out, err = platforma(demo, capsys, monkeypatch, "platforma.admin", *listing, "--office", "ŻÓŁW")
    assert code == 2 and "Nieznany urząd ŻÓŁW" in err and "PUP" in err, (out, err)
    code, out, _ = platforma(demo, capsys, monkeypatch, "platforma.admin", *listing, "--office", "PUP")
    assert code == 0 and "PUP" in out


def test_a_database_address_or_file_of_the_wrong_kind_is_told_in_polish(tmp_path: Path) -> None:
    """`demo-domains --pup-url nonsense://x` ended in "Nieoczekiwany błąd (NoSuchModuleError)", exit 3; `audit
    verify` of a PNG said "file is not a database" and of an unknown scheme "Can't load plugin"."""
    png = tmp_path / "obraz.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    cases = [
        (
            ("demo-domains", "--seed", "1", "--out", str(tmp_path / "d"), "--pup-url", "nonsense://x"),
            "--pup-url: nieznany rodzaj bazy danych",
        ),
        (("audit", "verify", "--audit-db", f"sqlite:///{png}"), "plik nie jest bazą danych SQLite"),
        (("audit", "verify", "--audit-db", "nonsense://x"), "nieznany rodzaj bazy danych"),
    ]
    for argv, message in cases:
        result = run(*argv)
        assert result.returncode == 2 and message in result.stderr, (argv, result.stderr)
        assert not any(english in result.stderr for english in ("Nieoczekiwany", "not a database", "plugin")), (
            result.stderr
        )


def test_an_administrators_command_that_makes_new_databases_says_so(tmp_path: Path) -> None:
    """Found by an attack pass: with the hub's database and the register moved aside (or a mistyped path, and no
    checkpoint anchored yet), `users list` made a new, empty register and a hub database seeded from the file,
    silently. A new powiat's databases may still be prepared before the first start, but never without a word."""
    config = tmp_path / "platforma.toml"
    config.write_text(MINIMAL_TOML, encoding="utf-8")
    first = run("users", "list", "--config", str(config), "--as", "nikt", env={"PLATFORMA_HASLO": "x"})
    assert "Utworzono nową, pustą bazę huba" in first.stderr and "i rejestr audytu" in first.stderr, first.stderr
    again = run("users", "list", "--config", str(config), "--as", "nikt", env={"PLATFORMA_HASLO": "x"})
    assert "Utworzono" not in again.stderr, again.stderr


def test_an_administrators_command_needs_no_office_seal(signing_hub: CliHub, tmp_path: Path) -> None:
    """Found by an attack pass: every administrator's command opened every office's seal first, so `users lock` in
    an emergency failed while one seal's PIN variable was unset (or its token out of reach). Seals open when one is
    needed; the hub itself still opens them all at start."""
    path = signing_hub.directory / "platforma.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    config["seals"][0].pop("password", None)
    config["seals"][0]["password_env"] = "PIN_PIECZECI_NIEUSTAWIONY"
    changed = signing_hub.directory / "bez-pinu.toml"
    changed.write_text(tomli_w.dumps(config), encoding="utf-8")
    env = {"PLATFORMA_HASLO": signing_hub.passwords["platforma.admin"]}
    listed = run("users", "list", "--config", str(changed), "--as", "platforma.admin", env=env)
    assert listed.returncode == 0 and "pup.podpisujacy" in listed.stdout, listed.stdout + listed.stderr
    started = run("serve", "--config", str(changed), "--port", "0")
    assert started.returncode == 2 and "PIN_PIECZECI_NIEUSTAWIONY" in started.stderr, started.stderr
