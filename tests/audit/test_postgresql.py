"""The register on a real PostgreSQL 15: the hub's role may only INSERT and SELECT, the guard trigger refuses
changes even to the owner, concurrent writers serialise on an advisory lock, verify and purge work alike.

A private cluster is started from Debian's `postgresql` binaries in a temporary folder (as the `postgres`
system user when run as root), on a Unix socket only; it takes a second or two.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from audit.anchors import AnchorFile
from audit.checkpoints import CheckpointSigner, TrustedKeys, generate_key
from audit.errors import ChainBrokenError
from audit.retention import purge
from audit.schema import postgresql_grants
from audit.store import AuditStore, CheckpointPolicy
from audit.verify import ProblemKind, verify
from tests.audit.conftest import disclosure, security_event

BINARIES = Path("/usr/lib/postgresql/15/bin")


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class Cluster:
    """A throw-away PostgreSQL cluster reachable on a Unix socket."""

    def __init__(self, root: Path) -> None:
        self.root, self.socket, self.port = root, root / "gniazdo", 54329 + os.getpid() % 500
        self.data = root / "dane"
        self.process: subprocess.Popen[bytes] | None = None

    def _as_postgres(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def start(self) -> None:
        self.socket.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket, "postgres")
        subprocess.run(
            self._as_postgres(
                str(BINARIES / "initdb"),
                "-D",
                str(self.data),
                "--auth=trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ),
            check=True,
            capture_output=True,
        )
        self.process = subprocess.Popen(
            self._as_postgres(
                str(BINARIES / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.socket),
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not (self.socket / f".s.PGSQL.{self.port}").exists():
            assert self.process.poll() is None, "postgres exited"
            assert time.monotonic() < deadline, "postgres did not start"
            time.sleep(0.05)
        time.sleep(0.2)

    def url(self, role: str, database: str = "audyt") -> str:
        return f"postgresql+psycopg://{role}@/{database}?host={self.socket}&port={self.port}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (setup.cfg test extras: psycopg[binary])")
    if not (BINARIES / "initdb").exists():
        _missing("PostgreSQL 15 binaries are missing (Debian package 'postgresql')")
    # Not under pytest's own temporary folder: the `postgres` user cannot enter root's 0700 folders.
    root = Path(tempfile.mkdtemp(prefix="audyt-pg-"))
    cluster = Cluster(root)
    try:
        cluster.start()
    except subprocess.CalledProcessError as error:
        shutil.rmtree(root, ignore_errors=True)
        _missing(f"cannot start a PostgreSQL cluster: {error.stderr.decode(errors='replace')[:300]}")
    admin = create_engine(cluster.url("postgres", "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for role in ("wlasciciel", "hub", "retencja"):
            connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(text("CREATE DATABASE audyt OWNER wlasciciel"))
    admin.dispose()
    yield cluster
    cluster.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> CheckpointSigner:
    return generate_key(tmp_path_factory.mktemp("klucz") / "klucz.pem")


@pytest.fixture(scope="module")
def installed(cluster: Cluster, signer: CheckpointSigner) -> Cluster:
    """The owner creates the tables and the guard trigger, then grants the hub INSERT and SELECT only."""
    owner = AuditStore(cluster.url("wlasciciel"), signer=signer)
    with owner.writer.begin() as connection:
        for statement in postgresql_grants("hub", "retencja"):
            connection.exec_driver_sql(statement)
    owner.dispose()
    return cluster


def test_hub_appends_and_verifies_but_cannot_change(installed: Cluster, signer: CheckpointSigner) -> None:
    hub = AuditStore(installed.url("hub"), signer=signer, policy=CheckpointPolicy(every_records=5))
    for index in range(10):
        hub.append([disclosure(index), disclosure(index + 100)], [security_event(index)])
    report = verify(hub, TrustedKeys([signer.public_key]))
    assert report.ok and report.records == 30 and report.checkpoints == 5, report.problems
    with hub.writer.connect() as connection:
        for statement in (
            "UPDATE rejestr_ujawnien SET cel = 'x'",
            "DELETE FROM zdarzenia_bezpieczenstwa",
            "TRUNCATE rejestr_ujawnien",
            "DELETE FROM punkty_kontrolne",
        ):
            with pytest.raises(SQLAlchemyError, match="permission denied"):
                connection.exec_driver_sql(statement)
            connection.rollback()
    hub.dispose()


def test_guard_trigger_refuses_even_the_owner(installed: Cluster) -> None:
    owner = create_engine(installed.url("wlasciciel"))
    with owner.connect() as connection:
        for statement, message in (
            ("UPDATE rejestr_ujawnien SET cel = 'x'", "tylko do dopisywania"),
            ("DELETE FROM rejestr_ujawnien", "cięciem retencji"),
            ("TRUNCATE zdarzenia_bezpieczenstwa", "tylko do dopisywania"),
            ("UPDATE punkty_kontrolne SET skrot = 'x'", "nie mogą być"),
        ):
            with pytest.raises(SQLAlchemyError, match=message):
                connection.exec_driver_sql(statement)
            connection.rollback()
    owner.dispose()


def test_concurrent_writers_one_chain(installed: Cluster, signer: CheckpointSigner) -> None:
    stores = [
        AuditStore(installed.url("hub"), signer=signer, policy=CheckpointPolicy(every_records=7)) for _ in range(4)
    ]
    before = stores[0].head().nr
    failures: list[BaseException] = []

    def work(store: AuditStore, worker: int) -> None:
        try:
            for index in range(20):
                store.append([disclosure(5000 * (worker + 1) + index)], [security_event(index)])
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    report = verify(stores[0], TrustedKeys([signer.public_key]))
    assert report.ok and report.last_nr == before + 4 * 20 * 2, report.problems
    for store in stores:
        store.dispose()


def test_superuser_tampering_is_detected_then_purge_refused(installed: Cluster, signer: CheckpointSigner) -> None:
    hub = AuditStore(installed.url("hub"), signer=signer)
    keys = TrustedKeys([signer.public_key])
    assert verify(hub, keys).ok
    superuser = create_engine(installed.url("postgres"))
    with superuser.begin() as connection:
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")  # triggers off
        connection.exec_driver_sql("UPDATE rejestr_ujawnien SET uzytkownik = 'ktos.inny' WHERE nr = 4")
    report = verify(hub, keys)
    assert report.first_problem is not None
    assert (report.first_problem.kind, report.first_problem.nr) == (ProblemKind.CHANGED, 4)
    retention = AuditStore(installed.url("retencja"), signer=signer)
    with pytest.raises(ChainBrokenError, match="naruszony"):
        purge(retention, dt.timedelta(days=0), actor="administrator")
    with superuser.begin() as connection:  # put it back as it was
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.exec_driver_sql("UPDATE rejestr_ujawnien SET uzytkownik = 'ops.pracownik' WHERE nr = 4")
    superuser.dispose()
    assert verify(hub, keys).ok
    result = purge(retention, dt.timedelta(days=0), actor="administrator")
    assert result.removed > 0
    report = verify(hub, keys)
    assert report.ok and report.first_nr == result.cut_nr + 1, report.problems
    hub.append([disclosure(1)], [])
    assert verify(hub, keys).ok
    retention.dispose()
    hub.dispose()


def test_a_column_retyped_by_the_owner_is_detected(installed: Cluster, signer: CheckpointSigner) -> None:
    """PostgreSQL stores no NUL and no text in a boolean; an owner who changes a column's type can. The
    verifier checks the columns' types, since readers would take the text 'false' for a successful login."""
    hub = AuditStore(installed.url("hub"), signer=signer)
    keys = TrustedKeys([signer.public_key])
    hub.append([], [security_event(4)])  # a failed login
    assert verify(hub, keys).ok
    superuser = create_engine(installed.url("postgres"))
    retype = "ALTER TABLE zdarzenia_bezpieczenstwa ALTER COLUMN sukces TYPE {} USING ({})"
    with superuser.begin() as connection:
        connection.exec_driver_sql(retype.format("text", "CASE WHEN sukces THEN 'true' ELSE 'false' END"))
    try:
        assert list(hub.events())[-1].success is True  # what a report would now show
        report = verify(hub, keys)
        first = report.first_problem
        assert first is not None and first.kind is ProblemKind.COLUMN_TYPE, report.problems
        assert first.table == "zdarzenia_bezpieczenstwa" and "sukces" in first.message
    finally:
        with superuser.begin() as connection:
            connection.exec_driver_sql(retype.format("boolean", "sukces = 'true'"))
        superuser.dispose()
    assert verify(hub, keys).ok
    hub.dispose()


def test_anchors_and_the_check_before_signing(installed: Cluster, signer: CheckpointSigner, tmp_path: Path) -> None:
    """The same anchors on PostgreSQL: a checkpoint deleted by a superuser is seen, and not signed over."""
    anchors = tmp_path / "klucz.kotwice"
    hub = AuditStore(installed.url("hub"), signer=signer, anchor_file=anchors, policy=CheckpointPolicy(1000))
    keys = TrustedKeys([signer.public_key])
    hub.accept("inspektor.od", "kotwice od tej chwili")  # this register had checkpoints before anchors
    hub.append([disclosure(7000)], [security_event(7000)])
    made = hub.checkpoint()
    assert made is not None and AnchorFile(anchors).read()[-1].number == made.number
    hub.verify_before_signing()
    assert verify(hub, keys, anchors=AnchorFile(anchors)).ok
    superuser = create_engine(installed.url("postgres"))
    with superuser.begin() as connection:
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")  # triggers off
        connection.execute(text("DELETE FROM punkty_kontrolne WHERE nr_punktu = :n"), {"n": made.number})
    try:
        assert verify(hub, keys).ok  # the database alone
        report = verify(hub, keys, anchors=AnchorFile(anchors))
        assert (ProblemKind.CHECKPOINT_REMOVED, made.number) in {(p.kind, p.checkpoint) for p in report.problems}
        with pytest.raises(ChainBrokenError):
            hub.verify_before_signing()
    finally:
        with superuser.begin() as connection:  # put it back, as signed
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            connection.execute(
                text("INSERT INTO punkty_kontrolne VALUES (:n, :nr, :link, :czas, :powod, :alg, :klucz, :podpis)"),
                {
                    "n": made.number,
                    "nr": made.nr,
                    "link": made.link,
                    "czas": made.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "powod": made.reason,
                    "alg": made.algorithm,
                    "klucz": made.key_fingerprint,
                    "podpis": made.signature,
                },
            )
        superuser.dispose()
    hub.verify_before_signing()
    hub.dispose()
