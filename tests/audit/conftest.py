"""Fixtures of the audit tests: a chained audit database with a checkpoint key, synthetic records, and a
'database administrator' who edits the SQLite file directly, past the application and its guards."""

# ruff: noqa: S608 - these tests play a database administrator who edits the tables with hand-written SQL

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit import cli
from audit.checkpoints import CheckpointSigner, TrustedKeys, generate_key
from audit.records import DisclosureRecord, EventKind, Outcome, SecurityEvent
from audit.store import AuditStore, CheckpointPolicy

START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def synthetic_pesel(index: int) -> str:
    """A valid-checksum PESEL of an invented person (born in the 1980s), different for each index."""
    first_ten = f"8{index // 10000 % 10}{1 + index // 1000 % 9:02d}{1 + index % 28:02d}{index % 1000:03d}{index % 10}"
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(int(d) * w for d, w in zip(first_ten, weights, strict=True)) % 10) % 10
    return first_ten + str(check)


def disclosure(
    index: int,
    *,
    pesel: str | None = None,
    user: str = "ops.pracownik",
    office: str = "OPS",
    outcome: Outcome = Outcome.DISCLOSED,
    time: dt.datetime | None = None,
) -> DisclosureRecord:
    """A synthetic disclosure record."""
    subject = pesel or synthetic_pesel(index)
    return DisclosureRecord(
        time=time or START + dt.timedelta(minutes=index),
        request_id=f"zap-{index:06d}",
        user=user,
        office=office,
        channel="SOAP",
        identifier=f"PESEL:{subject}",
        subject_pesel=subject,
        data_set="PUP" if index % 2 else "SR",
        controller="Powiatowy Urząd Pracy w Testowie" if index % 2 else "Ośrodek świadczeń rodzinnych",
        categories=("DANE_OSOBOWE", "OKRESY_REJESTRACJI") if index % 2 else ("DANE_DZIECI",),
        legal_basis="UPS-2004",
        purpose="Ustalenie sytuacji rodziny: zasiłek okresowy; łączność z ; i | oraz 12:34",
        outcome=outcome,
        digest=f"{index:064x}" if outcome is Outcome.DISCLOSED else "",
        reason="" if outcome is Outcome.DISCLOSED else "BRAK_UPRAWNIEN: PUP:HISTORIA_ZATRUDNIENIA",
    )


def security_event(index: int, *, kind: EventKind = EventKind.LOGIN, time: dt.datetime | None = None) -> SecurityEvent:
    """A synthetic security event."""
    return SecurityEvent(
        time=time or START + dt.timedelta(minutes=index, seconds=30),
        kind=kind,
        user=f"uzytkownik.{index % 3}",
        office="PUP",
        actor=f"uzytkownik.{index % 3}",
        source="192.0.2.10",
        success=index % 4 != 0,
        details="" if index % 5 else "próba z nowego adresu",
    )


@pytest.fixture
def signer(tmp_path: Path) -> CheckpointSigner:
    return generate_key(tmp_path / "klucz-audytu.pem")


@pytest.fixture
def keys(signer: CheckpointSigner) -> TrustedKeys:
    return TrustedKeys([signer.public_key])


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "audyt" / "audit.sqlite"


@pytest.fixture
def store(database: Path, signer: CheckpointSigner) -> Iterator[AuditStore]:
    opened = AuditStore(f"sqlite:///{database}", signer=signer, policy=CheckpointPolicy(every_records=10))
    yield opened
    opened.dispose()


def fill(store: AuditStore, requests: int = 20) -> None:
    """`requests` appends, each of two disclosures and one security event: 3 * requests records."""
    for index in range(requests):
        store.append([disclosure(2 * index), disclosure(2 * index + 1)], [security_event(index)])


class Administrator:
    """Someone with the database file in hand: drops the guards, ignores the type checks, edits rows directly."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            self.db.execute(f'DROP TRIGGER "{name}"')
        # The tables' CHECKs on storage types stop a careless edit, not an owner: this is SQLite's switch.
        self.db.execute("PRAGMA ignore_check_constraints = ON")

    def run(self, sql: str, *parameters: object) -> None:
        self.db.execute(sql, parameters)

    def table_of(self, nr: int) -> str:
        for table in ("rejestr_ujawnien", "zdarzenia_bezpieczenstwa"):
            if self.db.execute(f"SELECT 1 FROM {table} WHERE nr = ?", (nr,)).fetchone():
                return table
        raise AssertionError(f"no record {nr}")

    def renumber(self, nr: int, new: int) -> None:
        self.run(f"UPDATE {self.table_of(nr)} SET nr = ? WHERE nr = ?", new, nr)

    def shift(self, from_nr: int, by: int) -> None:
        """Renumber every record numbered `from_nr` or more by `by` (both tables)."""
        for table in ("rejestr_ujawnien", "zdarzenia_bezpieczenstwa"):
            self.run(f"UPDATE {table} SET nr = -(nr + ?) WHERE nr >= ?", by, from_nr)
            self.run(f"UPDATE {table} SET nr = -nr WHERE nr < 0")

    def close(self) -> None:
        self.db.close()


@pytest.fixture
def administrator(store: AuditStore, database: Path) -> Iterator[Administrator]:
    fill(store)
    admin = Administrator(database)
    yield admin
    admin.close()


def needs_pdf() -> None:
    """weasyprint (PyPI) with Pango and libharfbuzz-subset0 (Debian); under CI=true a missing one fails."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:
        message = f"weasyprint is not usable ({error}); setup.cfg and scripts/bootstrap.sh install it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


AUDITOR_PASSWORD = "Audytor-testowy-2026!"


def hub_config(folder: Path, audit_url: str, *, extra_hub: str = "") -> Path:
    """A hub configuration over an audit register, with an auditor (`audytor`) and a clerk (`urzednik`) of
    one office: `platforma audit report` is made by a logged-in auditor (password `AUDITOR_PASSWORD`)."""
    from hub.domain.accounts import hash_password

    digest = hash_password(AUDITOR_PASSWORD)
    config = folder / "platforma.toml"
    config.write_text(
        f'[hub]\nname = "Powiat testowy"\ndatabase = "sqlite:///hub.sqlite"\naudit_database = "{audit_url}"\n'
        f"{extra_hub}"
        '[[offices]]\ncode = "PUP"\nname = "Urząd testowy"\nkind = "PUP"\n'
        '[[groups]]\ncode = "AUDYT"\noffice = "PUP"\nname = "Audytorzy"\n'
        '[[groups]]\ncode = "G"\noffice = "PUP"\nname = "Urzędnicy"\n'
        f'[[users]]\nlogin = "audytor"\noffice = "PUP"\ngroup = "AUDYT"\npassword_hash = "{digest}"\n'
        'roles = ["AUDYTOR"]\n'
        f'[[users]]\nlogin = "urzednik"\noffice = "PUP"\ngroup = "G"\npassword_hash = "{digest}"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture
def key_file(tmp_path: Path, signer: CheckpointSigner) -> Path:
    return tmp_path / "klucz-audytu.pem"  # written by the `signer` fixture


@pytest.fixture
def anchored(database: Path, key_file: Path) -> Iterator[AuditStore]:
    """A store as the hub opens it (key file, so anchors beside the key), checkpoints every 10 records."""
    store = AuditStore(f"sqlite:///{database}", key_file=key_file, policy=CheckpointPolicy(every_records=10))
    yield store
    store.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`python -m audit.cli …` in this process: its exit code, output and errors (an uncaught exception, a
    traceback for the user, fails the test)."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
