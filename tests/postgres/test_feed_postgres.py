"""Feeding with PostgreSQL on both sides, against a real server the tests start (conftest.py).

Domain databases in PostgreSQL (the reference schemas, with their deletion triggers); replicas in
PostgreSQL, one database per controller, written by the feeder's role and read by the hub's role, which
has SELECT only (DESIGN.md, Security; guideline 5 and 8).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import tomli_w
from sqlalchemy import delete, func, select
from sqlalchemy.exc import ProgrammingError
from zeep import Client
from zeep.wsse.username import UsernameToken

from adapters import adapter_class
from adapters.base import SourceUnavailable
from adapters.feeder import FULL, INCREMENTAL, Feeder, FeedOptions
from adapters.targets import ReplicaTarget, SoapTarget
from contract.identifiers import Identifier
from demo.data import DomainSummary, write_domain_databases
from replica.database import Person, ReplicaReader
from replica.feed import BatchHeader, LoadReport
from replica.runlock import ReplicaBusy, RunLock
from replica.writer import BatchOutOfOrder, ParsedRecord, ReplicaWriter
from tests.postgres.conftest import PostgresServer

WRITER, READER = "zasilacz", "hub_czytelnik"
SETS = ("PUP", "OPS", "SR")


@pytest.fixture(scope="module")
def pg(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    postgres.sql(f"CREATE ROLE {WRITER} LOGIN")
    postgres.sql(f"CREATE ROLE {READER} LOGIN")
    replicas: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    for data_set in SETS:
        name = f"replika_{data_set.lower()}"
        postgres.sql(f"CREATE DATABASE {name} OWNER {WRITER}")
        # Whatever the feeder's role creates there, the hub's role may only read.
        postgres.sql(f"ALTER DEFAULT PRIVILEGES FOR ROLE {WRITER} GRANT SELECT ON TABLES TO {READER}", name)
        replicas[data_set] = {"writer": postgres.url(name, WRITER), "reader": postgres.url(name, READER)}
        postgres.sql(f"CREATE DATABASE {data_set.lower()}_dziedzinowa")
        sources[data_set] = postgres.url(f"{data_set.lower()}_dziedzinowa")
    summary = write_domain_databases(3, tmp_path_factory.mktemp("pg"), pup=150, ops=60, sr=80, urls=sources)
    yield {"replicas": replicas, "sources": sources, "summary": summary, "server": postgres}


def adapter(pg: dict[str, Any], data_set: str, url: str | None = None) -> Any:
    return adapter_class(data_set.lower())(url or pg["sources"][data_set])  # type: ignore[call-arg]


def live_people(url: str) -> int:
    reader = ReplicaReader(url)
    try:
        return reader.people_count()
    finally:
        reader.dispose()


def source_people(pg: dict[str, Any], data_set: str) -> int:
    server: PostgresServer = pg["server"]
    extra = " AND EXISTS (SELECT 1 FROM decyzja d WHERE d.id_osoby = o.id_osoby)" if data_set == "SR" else ""
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname={data_set.lower()}_dziedzinowa") as c:
        row = c.execute(f"SELECT count(*) FROM osoba o WHERE czy_usunieta = 0{extra}").fetchone()  # type: ignore[call-overload]  # noqa: S608
    assert row is not None
    return int(row[0])


def feed(pg: dict[str, Any], data_set: str, mode: str, **options: Any) -> Any:
    source = adapter(pg, data_set)
    target = ReplicaTarget(pg["replicas"][data_set]["writer"], data_set)
    try:
        return Feeder(source, target, FeedOptions(**options)).run(mode)
    finally:
        target.close()
        source.close()


def test_full_feed_between_postgres_databases_with_a_read_only_hub_role(pg: dict[str, Any]) -> None:
    for data_set in SETS:
        summary = feed(pg, data_set, FULL, batch_records=50)
        assert not summary.rejected and summary.batches >= 2
        assert live_people(pg["replicas"][data_set]["reader"]) == source_people(pg, data_set) == summary.applied
    summary_data: DomainSummary = pg["summary"]
    pesel = next(p for p, sets in summary_data.known_to.items() if "PUP" in sets)
    reader = ReplicaReader(pg["replicas"]["PUP"]["reader"])
    try:
        (person,) = reader.find(Identifier.build(pesel=pesel))
        assert pesel.encode() in reader.sections(person, ["DaneOsobowe"])["DaneOsobowe"]
        with pytest.raises(ProgrammingError, match="permission denied"):
            with reader.engine.begin() as connection:
                connection.execute(delete(Person))
    finally:
        reader.dispose()
    assert live_people(pg["replicas"]["PUP"]["reader"]) == source_people(pg, "PUP")


def test_incremental_run_reads_postgres_changes_and_trigger_journaled_deletions(pg: dict[str, Any]) -> None:
    feed(pg, "PUP", FULL)
    server: PostgresServer = pg["server"]
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=pup_dziedzinowa") as c:
        (changed,), (deleted,) = c.execute(
            "SELECT id_osoby FROM osoba WHERE czy_usunieta = 0 ORDER BY id_osoby LIMIT 2"
        )
        c.execute(
            "UPDATE osoba SET nazwisko = 'Zmieniona', data_modyfikacji = localtimestamp WHERE id_osoby = %s", (changed,)
        )
        for table in ("adres", "rejestracja", "decyzja_swiadczenie", "wyplata", "propozycja", "szkolenie"):
            c.execute(f"DELETE FROM {table} WHERE id_osoby = %s", (deleted,))  # type: ignore[call-overload]  # noqa: S608
        for table in ("kwalifikacja", "kontakt", "zatrudnienie", "historia_statusu", "osoba"):
            c.execute(f"DELETE FROM {table} WHERE id_osoby = %s", (deleted,))  # type: ignore[call-overload]  # noqa: S608
        journaled = c.execute("SELECT count(*) FROM dziennik_usuniec WHERE id_osoby = %s", (deleted,)).fetchone()
        assert journaled is not None and journaled[0] >= 2
    time.sleep(0.05)
    summary = feed(pg, "PUP", INCREMENTAL)
    assert (summary.read, summary.applied, summary.deleted) == (2, 1, 1), summary
    reader = ReplicaReader(pg["replicas"]["PUP"]["reader"])
    with reader.engine.connect() as connection:
        keys = set(
            connection.scalars(
                select(Person.source_key).where(
                    Person.generation == select(func.max(Person.generation)).scalar_subquery()
                )
            )
        )
    reader.dispose()
    assert f"SYR-{deleted}" not in keys and f"SYR-{changed}" in keys
    assert live_people(pg["replicas"]["PUP"]["reader"]) == source_people(pg, "PUP")


def test_a_feeder_killed_half_way_resumes_without_loss_or_duplicates(pg: dict[str, Any]) -> None:
    """`platforma feed` killed with SIGKILL after its third batch, then run again: the same run goes on."""
    reader, writer = pg["replicas"]["OPS"]["reader"], pg["replicas"]["OPS"]["writer"]
    feed(pg, "OPS", FULL)  # a live snapshot, which must stay what queries see until the new one is complete
    before = live_people(reader)
    command = [
        sys.executable, "-m", "hub.cli", "feed", "--adapter", "ops", "--source", pg["sources"]["OPS"],
        "--target", writer, "--full", "--batch-records", "7", "--quiet",
    ]  # fmt: skip
    server: PostgresServer = pg["server"]
    watch = psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=replika_ops")
    feeder = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            # The state row locked as the writer locks it: no batch can commit while the test looks and kills.
            row = watch.execute(
                "SELECT id_zasilenia_roboczego, numer_paczki_roboczej FROM stan_repliki FOR UPDATE"
            ).fetchone()
            if row is not None and row[0] and (row[1] or 0) >= 3:
                os.killpg(feeder.pid, signal.SIGKILL)
                feeder.wait(timeout=10)
                watch.rollback()
                break
            watch.rollback()
            assert feeder.poll() is None, "the feeder ended before it could be killed"
            assert time.monotonic() < deadline, "the feeder did not reach its third batch in 60 s"
            time.sleep(0.005)
    finally:
        if feeder.poll() is None:
            os.killpg(feeder.pid, signal.SIGKILL)
            feeder.wait(timeout=10)
        watch.close()
    run_id, killed_after = row
    assert feeder.returncode == -signal.SIGKILL
    assert live_people(reader) == before  # the open snapshot is invisible
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, env=dict(os.environ, COLUMNS="200"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Zasilenie wznowione {run_id}" in again.stdout, again.stdout
    with psycopg.connect(writer.replace("postgresql+psycopg", "postgresql")) as c:
        numbers = [
            n for (n,) in c.execute("SELECT numer_paczki FROM zasilenia WHERE id_zasilenia = %s ORDER BY 1", (run_id,))
        ]
        applied = c.execute("SELECT sum(rekordy) FROM zasilenia WHERE id_zasilenia = %s", (run_id,)).fetchone()
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > killed_after  # no gap, no repeat
    assert applied is not None and applied[0] == live_people(reader) == source_people(pg, "OPS")


def test_a_postgres_source_that_disappears_mid_run_leaves_the_replica_as_it_was(pg: dict[str, Any]) -> None:
    server: PostgresServer = pg["server"]
    server.sql("CREATE DATABASE sr_kopia TEMPLATE sr_dziedzinowa")
    before = live_people(pg["replicas"]["SR"]["reader"])
    source = adapter(pg, "SR", server.url("sr_kopia"))
    target = ReplicaTarget(pg["replicas"]["SR"]["writer"], "SR")
    calls: list[int] = []

    def vanish(batch: BatchHeader, receipt: LoadReport) -> None:
        calls.append(batch.sequence)
        if len(calls) == 1:
            server.sql("DROP DATABASE sr_kopia WITH (FORCE)")

    with pytest.raises(SourceUnavailable, match="niedostępna"):
        Feeder(source, target, FeedOptions(batch_records=5, source_batch=10), on_batch=vanish).run(FULL)
    source.close()
    target.close()
    assert live_people(pg["replicas"]["SR"]["reader"]) == before


def test_soap_feed_into_postgres_replicas_and_query_back(pg: dict[str, Any], tmp_path: Path) -> None:
    """The hub with PostgreSQL replicas: it reads with the SELECT-only role, writes only on the feed path."""
    env = dict(os.environ, COLUMNS="200", PYTHONUNBUFFERED="1")
    subprocess.run(
        [sys.executable, "-m", "hub.cli", "demo", "--dir", str(tmp_path), "--port", "0", "--no-serve",
         "--pup", "20", "--ops", "20", "--sr", "20"],
        check=True, capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    config_path = tmp_path / "platforma.toml"
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    for entry in config["data_sets"]:
        entry["replica"] = pg["replicas"][entry["code"]]["reader"]
        entry["writer"] = pg["replicas"][entry["code"]]["writer"]
    config_path.write_text(tomli_w.dumps(config), encoding="utf-8")
    state = json.loads((tmp_path / "demo-state.json").read_text(encoding="utf-8"))
    users = {u["login"]: u["password"] for u in state["users"]}
    hub = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(config_path), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
    )  # fmt: skip
    try:
        assert hub.stdout is not None
        seen: list[str] = []
        port = None
        while port is None and len(seen) < 50:
            line = hub.stdout.readline()
            if not line:
                break
            seen.append(line)
            port = re.search(r"nasłuchuje: http://127\.0\.0\.1:(\d+)", line)
        assert port, "".join(seen)
        base = f"http://127.0.0.1:{port.group(1)}/soap"
        source = adapter(pg, "PUP")
        target = SoapTarget(f"{base}/zasilanie", "pup.system", users["pup.system"])
        summary = Feeder(source, target, FeedOptions(batch_records=40)).run(FULL)
        source.close()
        target.close()
        assert summary.applied == source_people(pg, "PUP") == live_people(pg["replicas"]["PUP"]["reader"])
        server: PostgresServer = pg["server"]
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=pup_dziedzinowa") as c:
            row = c.execute(
                "SELECT pesel, nazwisko FROM osoba WHERE czy_usunieta = 0 AND pesel IS NOT NULL LIMIT 1"
            ).fetchone()
        assert row is not None
        client = Client(f"{base}/zapytania?wsdl", wsse=UsernameToken("pup.kierownik", users["pup.kierownik"]))
        answer = client.service.ZapytanieOBeneficjenta(
            Zapytanie={
                "IdentyfikatorBeneficjenta": {"Pesel": row[0]},
                "PodstawaPrawna": "URPSZ-2025",
                "Cel": "Sprawdzenie repliki w PostgreSQL (test)",
                "Zbiory": {"Zbior": [{"Kod": "PUP", "Zakres": {"Kategoria": ["DANE_OSOBOWE"]}}]},
            }
        )
        result = answer.Wyniki.Wynik[0]
        assert result.Status == "OK" and result.DanePUP.DaneOsobowe.Nazwisko == row[1]
    finally:
        hub.terminate()
        hub.wait(timeout=15)


def test_people_already_loaded_are_reported_one_by_one_through_copy(pg: dict[str, Any]) -> None:
    """On PostgreSQL the rows go by COPY on the driver's cursor: its unique violation, not SQLAlchemy's,
    makes the writer write the batch again, checked (tests/integration/test_feed_writer.py)."""
    from tests.integration.test_feed_writer import check_people_already_loaded_are_reported_one_by_one

    server: PostgresServer = pg["server"]
    server.sql(f"CREATE DATABASE replika_duplikaty OWNER {WRITER}")
    check_people_already_loaded_are_reported_one_by_one(server.url("replika_duplikaty", WRITER))


def test_a_second_run_of_a_postgresql_replica_is_refused_while_the_first_holds_it(pg: dict[str, Any]) -> None:
    url = pg["replicas"]["SR"]["writer"]
    first = RunLock(url, "SR")
    try:
        with pytest.raises(ReplicaBusy) as refused:
            RunLock(url, "SR")
        assert refused.value.code == "REPLIKA_ZAJETA"
        RunLock(pg["replicas"]["OPS"]["writer"], "OPS").release()  # another replica is not held
    finally:
        first.release()
    RunLock(url, "SR").release()  # free once released (a killed holder's session ends the same way)


def test_a_name_longer_than_the_replica_keeps_rejects_that_person_alone_and_a_retry_is_told_apart(
    postgres: PostgresServer,
) -> None:
    """The model's text allows 500 characters, the replica's name key 200: a 300-character surname made
    PostgreSQL refuse the whole batch (varchar(200)); now that person alone is rejected with a reason. The same
    replica on PostgreSQL keeps what each batch offered (`skrot_paczki`): the same number with another person is
    refused, the true retry acknowledged."""
    postgres.sql("CREATE DATABASE dlugie_nazwiska")
    url = postgres.url("dlugie_nazwiska")
    writer = ReplicaWriter(url, "PUP", duplicates="refuse")
    try:
        header = BatchHeader("PUP", "PELNA", "p-1", "pelne", 1)
        people = [_person("A-1", "Pierwsza"), _person("A-2", "Długa" * 60), _person("A-3", "Trzecia")]
        report = writer.apply(header, people)
        assert report.loaded == 2 and [r.source_key for r in report.rejected] == ["A-2"], report
        assert "więcej niż 200 znaków" in report.rejected[0].reason
        with pytest.raises(BatchOutOfOrder, match="z inną treścią"):
            writer.apply(header, [_person("A-9", "Inna")])
        assert writer.apply(header, people).repeated
    finally:
        writer.dispose()
        postgres.sql("DROP DATABASE dlugie_nazwiska WITH (FORCE)")


def _person(key: str, surname: str) -> ParsedRecord:
    section = f'<m:DaneOsobowe xmlns:m="urn:pl:platforma-komunikacyjna:model:1"><m:Nazwisko>{surname}</m:Nazwisko>'
    section += "<m:Imie>Anna</m:Imie><m:DataUrodzenia>1990-05-17</m:DataUrodzenia></m:DaneOsobowe>"
    return ParsedRecord(key, False, None, surname, "Anna", dt.date(1990, 5, 17), None, None,
                        (("DaneOsobowe", section.encode()),))  # fmt: skip
