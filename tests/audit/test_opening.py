"""Commands that read a register never make one: a mistyped path is an error, not an empty 'intact' register.

`audit verify` opens the database read-only (SQLite `mode=ro`); `audit report`, `purge`, `checkpoint` open
an existing one (`mode=rw`, never created); only the hub (`OpenMode.CREATE`, the default) creates it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from audit.checkpoints import generate_key
from audit.errors import AuditStorageError, RegisterNotFoundError
from audit.store import AuditStore, OpenMode
from audit.verify import verify
from tests.audit.conftest import disclosure, fill, run


@pytest.mark.parametrize(
    "command",
    [
        ["verify"],
        ["report", "--since", "2026-11-02"],
        ["purge", "--older-than-days", "30", "--yes", "--key", "KLUCZ"],
        ["checkpoint", "--key", "KLUCZ"],
    ],
    ids=["verify", "report", "purge", "checkpoint"],
)
def test_a_mistyped_path_is_an_error_and_creates_nothing(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mistyped = tmp_path / "dane" / "audyt.sqlite"
    key = tmp_path / "klucz.pem"
    generate_key(key)
    options = [str(key) if option == "KLUCZ" else option for option in command[1:]]
    code, out, err = run(capsys, "audit", command[0], "--audit-db", f"sqlite:///{mistyped}", *options)
    assert code == 2, (out, err)
    assert "nienaruszony" not in out and "Traceback" not in err
    assert f"Nie ma rejestru audytu: plik {mistyped} nie istnieje" in err
    assert not mistyped.exists() and not mistyped.parent.exists()


def test_verify_reads_a_register_without_writing_to_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.sqlite"
    store = AuditStore(f"sqlite:///{path}")
    fill(store, 5)
    store.dispose()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    path.chmod(0o444)  # as root this stops nobody; the digest below is what shows nothing was written
    code, out, _ = run(capsys, "audit", "verify", "--audit-db", f"sqlite:///{path}")
    assert code == 0 and "Sprawdzono 15 wpisów" in out
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    log = tmp_path / "audit.sqlite-wal"  # SQLite may open an empty log beside a WAL database it reads
    assert not log.exists() or log.stat().st_size == 0


def test_a_file_that_is_not_a_register_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "hub.sqlite"  # e.g. the hub's own database given by mistake
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE uzytkownicy (login TEXT)")
    db.commit()
    db.close()
    for command in (["verify"], ["report", "--since", "2026-11-02"]):
        code, out, err = run(capsys, "audit", command[0], "--audit-db", f"sqlite:///{other}", *command[1:])
        assert code == 2 and f"Plik {other} nie zawiera rejestru audytu" in err, (out, err)
    db = sqlite3.connect(other)
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["uzytkownicy"]
    db.close()


def test_a_read_only_store_reads_and_refuses_to_write(tmp_path: Path) -> None:
    path = tmp_path / "audyt #1" / "audit.sqlite"  # a '#' in a folder name must not cut the URI short
    store = AuditStore(f"sqlite:///{path}")
    fill(store, 3)
    store.dispose()
    reader = AuditStore(f"sqlite:///{path}", mode=OpenMode.READ_ONLY)
    assert verify(reader).records == 9 and len(list(reader.disclosures())) == 6
    with pytest.raises(AuditStorageError, match="tylko do odczytu"):
        reader.append([disclosure(99)])
    reader.dispose()
    with pytest.raises(RegisterNotFoundError):
        AuditStore(f"sqlite:///{tmp_path / 'brak.sqlite'}", mode=OpenMode.EXISTING)
    with pytest.raises(RegisterNotFoundError):
        AuditStore("sqlite:///:memory:", mode=OpenMode.READ_ONLY)
    assert not (tmp_path / "brak.sqlite").exists()
