"""PostgreSQL parity of the register: the whole tampering matrix on both databases, identical records written to
both give identical links, and the hub database (accounts, rules) works on PostgreSQL.

1. Every case of `tests/audit/test_tampering.py`'s `CASES` runs on SQLite and on PostgreSQL (`tests/audit/parity.py`
   spells each edit for PostgreSQL, made by the tables' owner after dropping the guard triggers): `verify` must
   name the same kind of problem and the same first bad record, and for the same edits say it in the same words.
   The seven SQLite storage-type tricks cannot be written into PostgreSQL's typed columns: their ids say so, the
   literal statement is shown to be refused (or, for the text 'false', to change nothing), and the analogue, a
   column retyped by the owner, must be named ZMIENIONY_TYP_KOLUMNY.
2. The same records (NUL, combining marks, right-to-left text, astral-plane characters, empty and very long texts,
   both flag values; a lone surrogate cannot be encoded in UTF-8, so none is written) with the same times and
   signer give the same head and the same link for every record, and the databases recompute the same bytes.
3. The hub database on PostgreSQL: login, lockout, lock and unlock; rules seeded, changed, removed and read.

One throw-away PostgreSQL cluster serves the module (`Cluster` of tests/audit/test_postgresql.py); the tampered
registers are copies of one filled template database, so each case costs a CREATE DATABASE, not a refill.
"""

# ruff: noqa: S608 - these tests play a database owner who edits the tables with hand-written SQL

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher

import hub.domain.accounts as accounts_module
from audit import chain
from audit.chain import clean
from audit.checkpoints import CheckpointSigner, TrustedKeys, generate_key
from audit.errors import AuditStorageError
from audit.records import DisclosureRecord, EventKind, Outcome, SecurityEvent
from audit.schema import DISCLOSURES, EVENTS, postgresql_grants
from audit.sql import SqlEventLog
from audit.store import AuditStore, CheckpointPolicy, OpenMode
from audit.verify import Problem, ProblemKind, VerificationReport, _select, verify
from contract.catalog import PLATFORM_ADMIN
from contract.errors import AuthenticationFailed, NotAllowed
from hub.domain.accounts import Accounts, SecuritySettings, hash_password
from hub.domain.rules import RuleStore
from hub.settings import Config, Group, Rule, UserEntry
from hub.settings import load as load_config
from hub.storage.tables import add_missing_columns, hub_engine
from tests.audit.conftest import START, Administrator, fill
from tests.audit.parity import PG_CASES, PgAdministrator, Retyped
from tests.audit.test_postgresql import BINARIES, Cluster
from tests.audit.test_tampering import CASES
from tests.conftest import missing

DATABASES = ("sqlite", "postgresql")
OWNER, HUB = "wlasciciel", "hub"
TEMPLATE = "wzorzec_rejestru"


# -- the cluster and the filled template ------------------------------------------------------------------------
class Server:
    """The module's cluster: URLs and libpq connection strings of its roles and databases, a superuser's SQL."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._names = itertools.count(1)

    def url(self, role: str, database: str) -> str:
        return self.cluster.url(role, database)

    def conninfo(self, role: str, database: str) -> str:
        return f"host={self.cluster.socket} port={self.cluster.port} user={role} dbname={database}"

    def sql(self, statement: str) -> None:
        with psycopg.connect(self.conninfo("postgres", "postgres"), autocommit=True) as connection:
            connection.execute(statement)

    def new_database(self, prefix: str, *, template: str | None = None) -> str:
        name = f"{prefix}_{next(self._names)}"
        self.sql(f"CREATE DATABASE {name} OWNER {OWNER}" + (f" TEMPLATE {template}" if template else ""))
        return name


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    if not (BINARIES / "initdb").exists():
        missing("PostgreSQL 15 binaries are missing (Debian package 'postgresql', scripts/bootstrap.sh --test)")
    # Not under pytest's own temporary folder: the `postgres` user cannot enter root's 0700 folders.
    root = Path(tempfile.mkdtemp(prefix="audyt-rownosc-"))
    cluster = Cluster(root)
    try:
        cluster.start()
    except subprocess.CalledProcessError as error:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"cannot start a PostgreSQL cluster: {error.stderr.decode(errors='replace')[:300]}")
    server = Server(cluster)
    server.sql(f"CREATE ROLE {OWNER} LOGIN")
    server.sql(f"CREATE ROLE {HUB} LOGIN")
    yield server
    _stop(cluster)
    shutil.rmtree(root, ignore_errors=True)


def _stop(cluster: Cluster) -> None:
    """A fast shutdown with pg_ctl (the server's own pid file): `Cluster.stop` signals `runuser`, which waits two
    seconds before it passes the signal on."""
    stopped = subprocess.run(
        cluster._as_postgres(str(BINARIES / "pg_ctl"), "stop", "-D", str(cluster.data), "-m", "fast", "-w"),
        capture_output=True,
        check=False,
    )
    if stopped.returncode != 0:
        cluster.stop()
    elif cluster.process is not None:
        cluster.process.wait(30)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> CheckpointSigner:
    """One checkpoint key for both databases (overrides the per-test key of tests/audit/conftest.py)."""
    return generate_key(tmp_path_factory.mktemp("klucz") / "klucz-audytu.pem")


@pytest.fixture(scope="module")
def template(server: Server, signer: CheckpointSigner) -> str:
    """A PostgreSQL register filled as the SQLite fixture `administrator` is (60 records, checkpoints over 12,
    24, 36, 48 and 60), made by its owner, the hub's role granted INSERT and SELECT."""
    server.sql(f"CREATE DATABASE {TEMPLATE} OWNER {OWNER}")
    owner = AuditStore(server.url(OWNER, TEMPLATE), signer=signer, policy=CheckpointPolicy(every_records=10))
    fill(owner)
    with owner.writer.begin() as connection:
        for statement in postgresql_grants(HUB):
            connection.exec_driver_sql(statement)
    owner.dispose()
    return TEMPLATE


class Copies:
    """Copies of the template register, made a few ahead by a small thread pool (a CREATE DATABASE takes a
    tenth of a second or more, four at once take little more than one); each is dropped in the background."""

    def __init__(self, server: Server, template: str, ahead: int = 4) -> None:
        self.server, self.template = server, template
        self.pool = ThreadPoolExecutor(4, thread_name_prefix="kopie-rejestru")
        self.waiting: deque[Future[str]] = deque(self._make() for _ in range(ahead))

    def _make(self) -> Future[str]:
        return self.pool.submit(self.server.new_database, "przypadek", template=self.template)

    def take(self) -> str:
        name = self.waiting.popleft().result()
        self.waiting.append(self._make())
        return name

    def drop(self, name: str) -> None:
        self.pool.submit(self.server.sql, f"DROP DATABASE {name} WITH (FORCE)")

    def close(self) -> None:
        for future in self.waiting:
            self.drop(future.result())
        self.pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def copies(server: Server, template: str) -> Iterator[Copies]:
    made = Copies(server, template)
    yield made
    made.close()


@dataclasses.dataclass
class PgRegister:
    admin: PgAdministrator
    store: AuditStore


@pytest.fixture
def pg_register(server: Server, copies: Copies) -> Iterator[PgRegister]:
    """A fresh copy of the template register: its owner (triggers dropped) and the hub's read-only store."""
    name = copies.take()
    admin = PgAdministrator(server.conninfo(OWNER, name))
    store = AuditStore(server.url(HUB, name), mode=OpenMode.READ_ONLY)
    yield PgRegister(admin, store)
    store.dispose()
    admin.close()
    copies.drop(name)


# -- 1. the tampering matrix on both databases ------------------------------------------------------------------
def _matrix() -> list[Any]:
    params = []
    for case in sorted(CASES):
        for dialect in DATABASES:
            edit = PG_CASES[case]
            suffix = f"-analogue_{edit.why}" if dialect == "postgresql" and isinstance(edit, Retyped) else ""
            params.append(pytest.param(dialect, case, id=f"{dialect}-{case}{suffix}"))
    return params


def test_every_sqlite_case_has_a_postgresql_edit() -> None:
    assert sorted(PG_CASES) == sorted(CASES)


def test_untouched_copies_verify_alike(
    administrator: Administrator, store: AuditStore, pg_register: PgRegister, keys: TrustedKeys
) -> None:
    reports = [verify(store, keys), verify(pg_register.store, keys)]
    for report in reports:
        assert report.ok, report.problems
        assert (report.records, report.first_nr, report.last_nr, report.checkpoints) == (60, 1, 60, 5)
        assert report.last_signed_nr == 60 and report.unsigned_tail == 0
    assert reports[0].head_link == reports[1].head_link


def _tamper_postgresql(
    case: str, register: PgRegister, keys: TrustedKeys
) -> tuple[ProblemKind, int | None, str | None]:
    """Make the case's edit on PostgreSQL; the kind, record and table `verify` must name."""
    edit = PG_CASES[case]
    _tamper, kind, nr, table = CASES[case]
    if not isinstance(edit, Retyped):
        edit(register.admin)
        return kind, nr, table
    refusal = register.admin.refusal(edit.literal)
    if edit.refused is None:
        assert refusal is None, refusal
        assert verify(register.store, keys).ok  # taken as a value of the column's own type: nothing changed
    else:
        assert refusal is not None and re.search(edit.refused, refusal), refusal
    edit.tamper(register.admin)
    return ProblemKind.COLUMN_TYPE, None, edit.table


@pytest.mark.parametrize(("dialect", "case"), _matrix())
def test_tampering_is_named_alike(dialect: str, case: str, request: pytest.FixtureRequest, keys: TrustedKeys) -> None:
    if dialect == "sqlite":
        administrator: Administrator = request.getfixturevalue("administrator")
        store: AuditStore = request.getfixturevalue("store")
        tamper, kind, nr, table = CASES[case]
        tamper(administrator)
    else:
        register: PgRegister = request.getfixturevalue("pg_register")
        store = register.store
        kind, nr, table = _tamper_postgresql(case, register, keys)
    report = verify(store, keys)
    first = report.first_problem
    assert not report.ok and first is not None
    assert (first.kind, first.nr) == (kind, nr), first
    if table is not None:
        assert first.table == table, first
    edit = PG_CASES[case]
    if dialect == "postgresql" and isinstance(edit, Retyped):
        assert f"Kolumna {edit.column} tabeli {edit.table} ma typ {edit.new_type}" in first.message, first
    assert first.message


def _said(report: VerificationReport) -> list[tuple[Any, ...]]:
    """Every finding as the operator reads it (a foreign key's fingerprint is random per run: masked)."""

    def words(problem: Problem) -> str:
        return re.sub(r"odcisk [0-9a-f]{16}", "odcisk …", problem.message)

    return [(p.kind, p.nr, p.table, p.checkpoint, words(p)) for p in report.problems]


@pytest.mark.parametrize("case", sorted(c for c in CASES if not isinstance(PG_CASES[c], Retyped)))
def test_the_same_edit_is_reported_word_for_word_on_both(
    case: str, administrator: Administrator, store: AuditStore, pg_register: PgRegister, keys: TrustedKeys
) -> None:
    CASES[case][0](administrator)
    PG_CASES[case](pg_register.admin)  # type: ignore[operator]
    on_sqlite, on_postgresql = verify(store, keys), verify(pg_register.store, keys)
    assert _said(on_sqlite) == _said(on_postgresql)
    assert (on_sqlite.records, on_sqlite.last_nr, on_sqlite.last_signed_nr) == (
        on_postgresql.records,
        on_postgresql.last_nr,
        on_postgresql.last_signed_nr,
    )


# -- 2. identical records, identical links ----------------------------------------------------------------------
ODD: dict[str, str] = {
    "nul": "przed\x00po\x00",  # the store writes U+FFFD for NUL in both databases (`audit.chain.clean`)
    "combining": "Zaz\u0307o\u0301ł\u0301c\u0301 ge\u0328s\u0301la\u0328 jaz\u0301n\u0301",  # decomposed: kept so
    "precomposed": "Zażółć gęślą jaźń",
    "rtl": "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u202bosadzone\u202c \u202eodwrócone\u202c",
    "astral": "\U0001f600\U0001d518\U00020000\U0001f1f5\U0001f1f1\U0010fffd",
    "invisible": "\ufeff\u200b\u200d\u00ad\u2028\u2029",
    "controls": "\t\r\n\x01\x1b\x7f\x85",
    "quotes": "'; DROP TABLE x; -- \" \\ % %s %% | : ,",
    "empty": "",
    "long": "ż" * 100_000 + "\U0001f600" * 2_000 + "e\u0301" * 1_000,
}
"""Odd texts; a lone surrogate (U+D800) is not here: it has no UTF-8 form, so neither database can hold one."""

# Bounded columns (String(n): PostgreSQL checks n characters, SQLite nothing) get a prefix that fits.
_FITS = {"request_id": 64, "user": 120, "office": 32, "channel": 32, "data_set": 32, "legal_basis": 64, "digest": 64}


def _fit(value: str, length: int) -> str:
    return value[:length]


def odd_records() -> tuple[list[list[DisclosureRecord]], list[list[SecurityEvent]]]:
    """Per request: two disclosures and one event built from one odd text, at fixed, odd times."""
    disclosures, events = [], []
    warsaw = dt.timezone(dt.timedelta(hours=2))
    for index, (name, text) in enumerate(ODD.items()):
        time = START + dt.timedelta(days=index, microseconds=123_457 * index)
        pesels = (None, "", _fit(text, 11), "80010112345")
        pair = []
        for half in range(2):
            pair.append(
                DisclosureRecord(
                    time=time.astimezone(warsaw) if half else time,
                    request_id=_fit(f"zap-{name}-{text}", _FITS["request_id"]),
                    user=_fit(text, _FITS["user"]),
                    office=_fit(text, _FITS["office"]),
                    channel=_fit(text, _FITS["channel"]),
                    identifier=f"PESEL:{text}",
                    subject_pesel=pesels[(index + half) % len(pesels)],
                    data_set=_fit(text, _FITS["data_set"]),
                    controller=text,
                    categories=(_fit(text, 40), "DANE_OSOBOWE") if half else (),
                    legal_basis=_fit(text, _FITS["legal_basis"]),
                    purpose=text,
                    outcome=Outcome.REFUSED if half else Outcome.DISCLOSED,
                    digest=_fit(text, _FITS["digest"]),
                    reason=text,
                )
            )
        disclosures.append(pair)
        events.append(
            [
                SecurityEvent(
                    time=time + dt.timedelta(seconds=1),
                    kind=list(EventKind)[index % len(EventKind)],
                    user=_fit(text, 120),
                    office=_fit(text, 32),
                    actor=_fit(text[::-1], 120),
                    source=text,
                    success=index % 2 == 0,
                    details=text,
                )
            ]
        )
    return disclosures, events


def _raw(dialect: str, connection: Any) -> dict[str, Any]:
    """What each database holds: every record's number and links, and the message it recomputes for it."""
    links = f"SELECT nr, skrot_poprzedniego, skrot_wpisu FROM {DISCLOSURES} UNION ALL " + (
        f"SELECT nr, skrot_poprzedniego, skrot_wpisu FROM {EVENTS} ORDER BY 1"
    )
    return {
        "links": [tuple(row) for row in connection.execute(links).fetchall()],
        "messages": [(row[0], bytes(row[4])) for row in connection.execute(_select(dialect)).fetchall()],
        "users": [row[0] for row in connection.execute(f"SELECT uzytkownik FROM {DISCLOSURES} ORDER BY nr")],
    }


def test_identical_records_give_identical_links_on_both(
    server: Server, signer: CheckpointSigner, tmp_path: Path
) -> None:
    database = server.new_database("rownosc")
    stores = {
        "sqlite": AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite'}", signer=signer, policy=CheckpointPolicy(4)),
        "postgresql": AuditStore(server.url(OWNER, database), signer=signer, policy=CheckpointPolicy(4)),
    }
    disclosures, events = odd_records()
    for pair, event in zip(disclosures, events, strict=True):
        for store in stores.values():
            store.append(pair, event)
    keys = TrustedKeys([signer.public_key])
    sqlite_store, pg_store = stores["sqlite"], stores["postgresql"]

    assert sqlite_store.head() == pg_store.head()
    assert sqlite_store.head().nr == 3 * len(ODD)
    reports = {name: verify(store, keys) for name, store in stores.items()}
    for name, report in reports.items():
        assert report.ok, (name, report.problems)
        assert (report.records, report.head_link) == (3 * len(ODD), sqlite_store.head().link), name
    assert [(c.number, c.nr, c.link) for c in sqlite_store.checkpoints()] == [
        (c.number, c.nr, c.link) for c in pg_store.checkpoints()
    ]

    with sqlite3.connect(tmp_path / "audit.sqlite") as lite:
        on_sqlite = _raw("sqlite", lite)
    with psycopg.connect(server.conninfo(OWNER, database)) as pg:
        on_postgresql = _raw("postgresql", pg)
    assert on_sqlite["links"] == on_postgresql["links"]  # every record's number, predecessor and link
    assert on_sqlite["messages"] == on_postgresql["messages"]  # the bytes each database recomputes for it
    for (nr, message), (_nr, _previous, link) in zip(on_sqlite["messages"], on_sqlite["links"], strict=True):
        assert chain.relink(message, nr=nr) == link
    # NUL is written as U+FFFD alike; decomposed and precomposed letters stay as they were given.
    assert on_sqlite["users"] == on_postgresql["users"]
    assert on_sqlite["users"][0:2] == [chain.clean(ODD["nul"])] * 2
    assert ODD["combining"] in on_sqlite["users"] and ODD["precomposed"] in on_sqlite["users"]

    read = {name: (list(s.disclosures()), list(s.events())) for name, s in stores.items()}
    assert read["sqlite"] == read["postgresql"]
    assert [e.success for e in read["postgresql"][1]] == [i % 2 == 0 for i in range(len(ODD))]
    expected_events = [
        SecurityEvent(
            e.time, e.kind, clean(e.user), clean(e.office), clean(e.actor), clean(e.source), e.success, clean(e.details)
        )
        for [e] in events
    ]
    assert read["postgresql"][1] == expected_events
    for store in stores.values():
        store.dispose()
    server.sql(f"DROP DATABASE {database} WITH (FORCE)")


# A value longer than its column's String(n) was stored whole by SQLite (which ignores declared lengths) and
# refused by PostgreSQL, so a failed login typed longer than any account's name was lost there: the store now
# cuts such values to the declared length alike on both (audit/store.py `_fitted`), and the link covers them.


def test_a_value_longer_than_its_column_is_treated_alike(server: Server, tmp_path: Path) -> None:
    """Either both databases store the record (with the same link) or both refuse it."""
    database = server.new_database("za_dlugie")
    stores = {
        "sqlite": AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite'}"),
        "postgresql": AuditStore(server.url(OWNER, database)),
    }
    login = "zgadywany." + "x" * 111  # 121 characters, as typed into a login form
    event = SecurityEvent(START, EventKind.FAILED_LOGIN, login, "", login, "192.0.2.10", False, "nieznany login")
    outcomes: dict[str, tuple[str, object]] = {}
    errors: dict[str, str] = {}
    for name, store in stores.items():
        try:
            store.append(events=[event])
            outcomes[name] = ("zapisany", store.head())
        except AuditStorageError as error:
            outcomes[name], errors[name] = ("odmowa", None), str(error)
        store.dispose()
    server.sql(f"DROP DATABASE {database} WITH (FORCE)")
    assert outcomes["sqlite"] == outcomes["postgresql"], errors


# -- 3. the hub database on PostgreSQL ----------------------------------------------------------------------------
STRONG = "Kasztanowa-Aleja-1987!"
# The configuration gives the rules' offices, groups, data sets and legal bases; its [hub] URLs are not opened.
HUB_CONFIG = """
[hub]
name = "Powiat testowy"
database = "postgresql+psycopg://wlasciciel@/centrala"
audit_database = "postgresql+psycopg://wlasciciel@/audyt_centrali"

[[offices]]
code = "PUP"
name = "PUP testowy"
kind = "PUP"

[[offices]]
code = "OPS"
name = "OPS testowy"
kind = "OPS"

[[data_sets]]
code = "PUP"
controller = "PUP"
replica = "sqlite:///pup.sqlite"

[[groups]]
code = "G"
office = "OPS"
name = "Grupa"

[[groups]]
code = "ADM"
office = "PUP"
name = "Administratorzy"

[[legal_bases]]
code = "L"
citation = "Przepis testowy"
data_sets = ["PUP"]

[[rules]]
office = "OPS"
group = "G"
data_set = "PUP"
categories = ["DANE_OSOBOWE", "WIZYTY"]
"""


@dataclasses.dataclass
class PgHub:
    """The hub's own database and its audit register, both on the module's PostgreSQL cluster."""

    url: str
    events: SqlEventLog
    accounts: Accounts
    rules: RuleStore
    config: Config


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with one pass over 16 MiB (as tests/integration/test_login_concurrency.py): the same checks, quicker."""
    monkeypatch.setattr(accounts_module, "_HASHER", PasswordHasher(time_cost=1, memory_cost=16384, parallelism=2))


@pytest.fixture
def pg_hub(server: Server, tmp_path: Path, cheap_argon2: None) -> Iterator[PgHub]:
    hub_database, audit_database = server.new_database("centrala"), server.new_database("audyt_centrali")
    url = server.url(OWNER, hub_database)
    events = SqlEventLog(server.url(OWNER, audit_database))
    engine = hub_engine(url)
    accounts = Accounts(engine, events=events, settings=SecuritySettings(cache_seconds=60, max_failed_logins=3))
    accounts.import_groups([Group(code="G", office="OPS", name="Grupa"), Group(code="ADM", office="PUP", name="A")])
    stored = hash_password(STRONG)
    accounts.import_users(
        [
            UserEntry(login="ops.jan", office="OPS", group="G", password_hash=stored),
            UserEntry(login="root", office="PUP", group="ADM", password_hash=stored, roles=(PLATFORM_ADMIN,)),
        ]
    )
    (tmp_path / "platforma.toml").write_text(HUB_CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "platforma.toml")
    yield PgHub(url, events, accounts, RuleStore(engine, config, events), config)
    engine.dispose()
    events.dispose()
    for name in (hub_database, audit_database):
        server.sql(f"DROP DATABASE {name} WITH (FORCE)")


def _events(hub: PgHub) -> list[tuple[str, str, str, bool]]:
    return [(e.kind.value, e.user, e.actor, e.success) for e in hub.events.events()]


def test_accounts_on_postgresql_login_lockout_lock_and_unlock(pg_hub: PgHub) -> None:
    accounts = pg_hub.accounts
    assert pg_hub.url.startswith("postgresql+psycopg://") and accounts.engine.dialect.name == "postgresql"
    expected: list[tuple[str, str, str, bool]] = []

    def then(*events: tuple[str, str, str, bool]) -> None:
        expected.extend(events)
        assert _events(pg_hub) == expected

    def refused(password: str = STRONG) -> None:
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate("ops.jan", password)

    caller = accounts.authenticate("ops.jan", STRONG)
    assert (caller.login, caller.office, caller.group) == ("ops.jan", "OPS", "G")
    then(("LOGOWANIE", "ops.jan", "ops.jan", True))
    for _ in range(3):
        refused("zle-haslo")
    failed = ("NIEUDANE_LOGOWANIE", "ops.jan", "ops.jan", False)
    then(failed, failed, failed, ("BLOKADA", "ops.jan", "system", True))
    refused()  # the right password, but the account is locked
    then(failed)
    root = accounts.authenticate("root", STRONG)
    then(("LOGOWANIE", "root", "root", True))
    accounts.unlock(root, "ops.jan")
    then(("ODBLOKOWANIE", "ops.jan", "root", True))
    accounts.authenticate("ops.jan", STRONG)
    then(("LOGOWANIE", "ops.jan", "ops.jan", True))
    accounts.authenticate("ops.jan", STRONG)  # the cached credential: no new login
    then()
    accounts.lock(root, "ops.jan")
    then(("BLOKADA", "ops.jan", "root", True))
    refused()  # the cached credential died with the lock
    then(failed)
    accounts.unlock(root, "ops.jan")
    accounts.authenticate("ops.jan", STRONG)
    then(("ODBLOKOWANIE", "ops.jan", "root", True), ("LOGOWANIE", "ops.jan", "ops.jan", True))
    with psycopg.connect(pg_hub.url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        row = connection.execute(
            "SELECT zablokowany, zablokowany_do, nieudane_proby, wersja FROM uzytkownicy WHERE login = 'ops.jan'"
        ).fetchone()
    assert row == (False, None, 0, 5)  # locked twice, unlocked twice: four new credential versions
    second = hub_engine(pg_hub.url)  # a second hub process opens the same database, schema and all
    assert add_missing_columns(second) == []  # PostgreSQL's columns match the declared tables: nothing to add
    second.dispose()


def test_rules_on_postgresql_seed_change_and_read(pg_hub: PgHub) -> None:
    rules, config = pg_hub.rules, pg_hub.config
    root = pg_hub.accounts.authenticate("root", STRONG)
    clerk = pg_hub.accounts.authenticate("ops.jan", STRONG)
    assert rules.seed(config.rules) == 1
    assert rules.seed(config.rules) == 0  # later starts keep the database's rules
    other = RuleStore(hub_engine(pg_hub.url), config, pg_hub.events)  # another hub process
    version, read = other.rules()
    assert version == 1 == rules.version()
    assert read == {
        ("OPS", "G", "PUP"): Rule(office="OPS", group="G", data_set="PUP", categories=("DANE_OSOBOWE", "WIZYTY"))
    }

    rules.set_rule(root, "OPS", "G", "PUP", ["DANE_OSOBOWE", "HISTORIA_ZATRUDNIENIA"], ["L"])
    rules.set_rule(root, "*OPS", "G", "*PUP", ["DANE_OSOBOWE"])
    with pytest.raises(NotAllowed):
        rules.set_rule(clerk, "OPS", "G", "PUP", ["DANE_OSOBOWE", "WIZYTY", "HISTORIA_ZATRUDNIENIA"])
    version, read = other.rules()
    assert version == 3 == other.version()
    assert read == {
        ("OPS", "G", "PUP"): Rule(
            office="OPS",
            group="G",
            data_set="PUP",
            categories=("DANE_OSOBOWE", "HISTORIA_ZATRUDNIENIA"),
            legal_bases=("L",),
        ),
        ("*OPS", "G", "*PUP"): Rule(office="*OPS", group="G", data_set="*PUP", categories=("DANE_OSOBOWE",)),
    }
    rules.remove_rule(root, "OPS", "G", "PUP")
    version, read = other.rules()
    assert version == 4 and list(read) == [("*OPS", "G", "*PUP")]
    assert [(kind, user) for kind, user, _actor, _success in _events(pg_hub)][2:] == [
        ("ZMIANA_POLITYKI", "root"),
        ("ZMIANA_POLITYKI", "root"),
        ("ODMOWA_UPRAWNIEN", "ops.jan"),
        ("ZMIANA_POLITYKI", "root"),
    ]
    other.engine.dispose()


@pytest.mark.parametrize(
    "audit",
    [
        "sqlite",
        "postgresql",
    ],
)
def test_a_failed_login_with_an_overlong_login_is_recorded_alike(
    audit: str, server: Server, tmp_path: Path, cheap_argon2: None
) -> None:
    """A failed login's login as typed may be longer than any account's: it is refused and recorded."""
    database = server.new_database("audyt_logowan") if audit == "postgresql" else ""
    url = server.url(OWNER, database) if database else f"sqlite:///{tmp_path / 'audit.sqlite'}"
    events = SqlEventLog(url)
    accounts = Accounts(hub_engine(f"sqlite:///{tmp_path / 'hub.sqlite'}"), events=events)
    login = "zgadywany." + "x" * 190
    try:
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(login, "cokolwiek")
        [event] = events.events()
        assert (event.kind, event.details, event.success) == (EventKind.FAILED_LOGIN, "nieznany login", False)
        assert event.user and login.startswith(event.user)  # whole, or cut to what the register holds
    finally:
        accounts.engine.dispose()
        events.dispose()
        if database:
            server.sql(f"DROP DATABASE {database} WITH (FORCE)")


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param(
            [
                f"ALTER TABLE {DISCLOSURES} ENABLE ROW LEVEL SECURITY",
                f"ALTER TABLE {DISCLOSURES} FORCE ROW LEVEL SECURITY",
                f"CREATE POLICY czytanie ON {DISCLOSURES} FOR SELECT "
                "USING (current_query() NOT LIKE '%pesel_osoby =%')",
                f"CREATE POLICY dopisywanie ON {DISCLOSURES} FOR INSERT WITH CHECK (true)",
            ],
            id="row-level-security",
        ),
        pytest.param(
            [f"CREATE RULE bez_wpisu AS ON INSERT TO {EVENTS} WHERE NEW.rodzaj = 'LOGOWANIE' DO INSTEAD NOTHING"],
            id="rule",
        ),
    ],
)
def test_a_row_filter_added_by_the_owner_is_found_by_verify(
    pg_register: PgRegister, keys: TrustedKeys, statements: list[str]
) -> None:
    """The tables' owner hides rows from the reports without editing one (a policy may look at the query, so the
    verifier still reads every row), or drops appends by a rule: found by an attack pass, `verify` said intact."""
    for statement in statements:
        pg_register.admin.run(statement)
    report = verify(pg_register.store, keys)
    assert not report.ok and report.problems[0].kind == ProblemKind.STRUCTURE, report.problems
    assert report.problems[0].table in (DISCLOSURES, EVENTS)
    assert "ROW LEVEL SECURITY" in report.problems[0].message or "regułę bez_wpisu" in report.problems[0].message
