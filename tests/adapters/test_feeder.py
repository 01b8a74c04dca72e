"""The feeder against a replica database: the parallel reader gives the same replica, errors cross over."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters import adapter_class
from adapters.base import SourceUnavailable, Watermark
from adapters.feeder import FULL, INCREMENTAL, Feeder, FeedOptions
from adapters.reader import ReaderProcess
from adapters.targets import ReplicaTarget
from demo.data import DomainSummary
from replica.sections import unpack_sections

MODEL = "{urn:pl:platforma-komunikacyjna:model:1}"


def replica_content(path: Path) -> list[tuple[str, str, bytes]]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT o.id_zrodlowy, s.spis, s.tresc FROM osoby o JOIN sekcje s ON s.osoba_id = o.id "
            "WHERE o.generacja = (SELECT generacja FROM stan_repliki) ORDER BY 1"
        ).fetchall()
    finally:
        connection.close()
    return [(key, name, body) for key, index, content in rows for name, body in unpack_sections(index, content).items()]


def source_people(path: Path) -> dict[str, str]:
    """The PUP domain database's people in the register: source key (as the adapter makes it) -> surname."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT id_osoby, nazwisko FROM osoba WHERE czy_usunieta = 0").fetchall()
    finally:
        connection.close()
    return {f"SYR-{key}": surname for key, surname in rows}


def replica_people(path: Path) -> dict[str, str]:
    """The live replica's people: source key -> the surname in their DaneOsobowe."""
    people = {}
    for key, name, body in replica_content(path):
        if name == "DaneOsobowe":
            people[key] = str(etree.fromstring(body).findtext(f"{MODEL}Nazwisko"))
    return people


def feed(source: str, replica: Path, *, mode: str = FULL, **options: Any) -> Any:
    adapter = adapter_class("pup")(source)  # type: ignore[call-arg]
    target = ReplicaTarget(f"sqlite:///{replica}", "PUP")
    on_batch = options.pop("on_batch", None)
    total = options.pop("total", None)
    started = options.pop("started", ())
    try:
        feeder = Feeder(adapter, target, FeedOptions(**options), on_batch=on_batch, total=total, started=started)
        return feeder.run(mode)
    finally:
        target.close()
        adapter.close()


class Stop(Exception):
    """Raised by `stop_after_two`: a run stopped after its second batch, as a killed feeder's."""


def stop_after_two(batch: Any, _receipt: Any) -> None:
    if batch.sequence == 2:
        raise Stop


def test_the_parallel_reader_gives_exactly_the_same_replica(domain_dbs: DomainSummary, tmp_path: Path) -> None:
    serial = feed(domain_dbs.urls["PUP"], tmp_path / "a.sqlite", batch_records=30, source_batch=25)
    parallel = feed(domain_dbs.urls["PUP"], tmp_path / "b.sqlite", batch_records=30, source_batch=25, parallel=True)
    assert serial.applied == parallel.applied == domain_dbs.counts["PUP"]
    assert replica_content(tmp_path / "a.sqlite") == replica_content(tmp_path / "b.sqlite")


def test_readers_started_beforehand_are_given_the_run_or_stopped(domain_dbs: DomainSummary, tmp_path: Path) -> None:
    """`platforma feed` starts its reader processes (importing the adapter) while it opens the source and
    the target; the run gives them their work, and stops any it does not need."""
    serial = feed(domain_dbs.urls["PUP"], tmp_path / "a.sqlite", batch_records=30, source_batch=25)
    started = [ReaderProcess(preload="adapters.pup") for _ in range(3)]
    shared = feed(
        domain_dbs.urls["PUP"], tmp_path / "b.sqlite", batch_records=30, source_batch=25, parallel=True, readers=2,
        started=started,
    )  # fmt: skip
    assert serial.applied == shared.applied == domain_dbs.counts["PUP"]
    assert replica_content(tmp_path / "a.sqlite") == replica_content(tmp_path / "b.sqlite")
    # Two were given work, the third was not needed: all are stopped.
    assert [reader.has_work for reader in started] == [True, True, False]
    assert all(reader.process.poll() is not None for reader in started)
    unused = [ReaderProcess(preload="adapters.pup")]
    feed(domain_dbs.urls["PUP"], tmp_path / "c.sqlite", batch_records=30, source_batch=25, started=unused)
    assert unused[0].process.poll() is not None  # a run that reads in this process stops it too


@pytest.mark.parametrize("readers", [2, 3])
def test_several_readers_taking_batches_in_turn_give_exactly_the_same_replica(
    domain_dbs: DomainSummary, copy_of: Any, tmp_path: Path, readers: int
) -> None:
    # Small batches (and replica batches that do not line up with them): many turns, a short last one.
    serial = feed(domain_dbs.urls["PUP"], tmp_path / "a.sqlite", batch_records=17, source_batch=7)
    shared = feed(
        domain_dbs.urls["PUP"], tmp_path / "b.sqlite", batch_records=17, source_batch=7, parallel=True, readers=readers
    )
    assert (serial.read, serial.applied, serial.batches) == (shared.read, shared.applied, shared.batches)
    assert replica_content(tmp_path / "a.sqlite") == replica_content(tmp_path / "b.sqlite")
    # An incremental run over both replicas: changed, removed from the register and deleted people.
    path = copy_of("PUP")
    connection = sqlite3.connect(path)
    stamp = "2999-01-01 00:00:00.000000"  # after the full runs' upper bound, so the window sees it
    connection.execute(
        "UPDATE osoba SET nazwisko = nazwisko || '-Zm', data_modyfikacji = ? WHERE id_osoby % 9 = 0", (stamp,)
    )
    connection.execute("UPDATE osoba SET czy_usunieta = 1, data_modyfikacji = ? WHERE id_osoby % 13 = 0", (stamp,))
    connection.execute("DELETE FROM kontakt WHERE id_kontaktu = (SELECT min(id_kontaktu) FROM kontakt)")  # journaled
    connection.commit()
    connection.close()
    source = f"sqlite:///{path}"
    serial = feed(source, tmp_path / "a.sqlite", mode=INCREMENTAL, batch_records=17, source_batch=7)
    shared = feed(
        source,
        tmp_path / "b.sqlite",
        mode=INCREMENTAL,
        batch_records=17,
        source_batch=7,
        parallel=True,
        readers=readers,
    )
    assert serial.read > 10 and serial.deleted > 0
    assert (serial.read, serial.applied, serial.deleted) == (shared.read, shared.applied, shared.deleted)
    # Both equal the source as it now is: its people with their changed surnames, none removed, and
    # exactly what a full run over the changed source gives.
    expected = source_people(path)
    assert any(surname.endswith("-Zm") for surname in expected.values())
    fresh = feed(source, tmp_path / "c.sqlite", batch_records=17, source_batch=7)
    assert fresh.applied == len(expected)
    for replica in ("a.sqlite", "b.sqlite"):
        assert replica_people(tmp_path / replica) == expected, replica
        assert replica_content(tmp_path / replica) == replica_content(tmp_path / "c.sqlite"), replica


def test_a_source_error_in_the_reader_process_stops_the_run(
    copy_of: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy_of("PUP")
    planned = Feeder.plan

    def plan_then_vanish(self: Feeder, mode: str) -> Any:
        # The feeder has read the source (its high-water mark); the database is gone before the reader
        # processes read it. (Breaking it after a batch raced with the readers' read-ahead: a small source
        # fits in their pipes whole.)
        plan = planned(self, mode)
        path.write_bytes(b"\0" * 4096)
        return plan

    monkeypatch.setattr(Feeder, "plan", plan_then_vanish)
    with pytest.raises(SourceUnavailable, match="niedostępna"):
        feed(f"sqlite:///{path}", tmp_path / "r.sqlite", batch_records=5, source_batch=10, parallel=True, readers=2)
    # The open snapshot never became live: the replica has no live people.
    connection = sqlite3.connect(tmp_path / "r.sqlite")
    live = connection.execute("SELECT count(*) FROM osoby WHERE generacja = (SELECT generacja FROM stan_repliki)")
    assert live.fetchone()[0] == 0
    connection.close()


def test_a_full_run_tells_its_progress_bar_how_many_people_it_will_read(
    domain_dbs: DomainSummary, tmp_path: Path
) -> None:
    totals: list[int] = []

    with pytest.raises(Stop):
        feed(domain_dbs.urls["PUP"], tmp_path / "r.sqlite", batch_records=10, total=totals.append,
             on_batch=stop_after_two)  # fmt: skip
    resumed = feed(domain_dbs.urls["PUP"], tmp_path / "r.sqlite", batch_records=10, total=totals.append)
    # The whole data set at first; on resuming, those after the last applied batch (the ones it read).
    assert totals == [domain_dbs.counts["PUP"], resumed.read] and resumed.resumed
    assert resumed.read == domain_dbs.counts["PUP"] - 20


def test_changes_stamped_in_the_hour_clocks_go_back_are_fed(copy_of: Any, tmp_path: Path) -> None:
    """Domain systems stamp `data_modyfikacji` (and the deletions journal's triggers `data_usuniecia`) in local
    time. When clocks go back (25 October 2026, 03:00 CEST -> 02:00 CET) the hour 02:00-02:59 repeats: after a
    run that ended at 02:50 CEST, a change or removal stamped 02:10 CET is earlier than the run's end and was
    never read; the replica kept the old data or the removed person for good. A run that ended inside that hour
    is now followed by windows from the hour's start; any other time, by windows from where the last ended."""
    source = copy_of("PUP")
    url = f"sqlite:///{source}"
    replica = tmp_path / "replika.sqlite"
    connection = sqlite3.connect(source)

    def stamp(moment: str, *where: str) -> None:
        with connection:
            for (table,) in connection.execute(
                "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c "
                "WHERE m.type = 'table' AND c.name = 'data_modyfikacji'"
            ).fetchall():
                connection.execute(f"UPDATE {table} SET data_modyfikacji = ? {' '.join(where)}", (moment,))  # noqa: S608

    try:
        stamp("2026-10-25 01:00:00")
        people = [row[0] for row in connection.execute("SELECT id_osoby FROM osoba WHERE czy_usunieta = 0 LIMIT 3")]
        changed, removed, last = people
        with connection:
            connection.execute("UPDATE osoba SET data_modyfikacji = '2026-10-25 02:50:00' WHERE id_osoby = ?", (last,))
        assert not feed(url, replica, mode=FULL).rejected  # ends at 02:50 CEST
        with connection:  # after it, in the second 02:xx (CET)
            connection.execute(
                "UPDATE osoba SET nazwisko = 'Przestawiona', data_modyfikacji = '2026-10-25 02:10:00' "
                "WHERE id_osoby = ?",
                (changed,),
            )
            connection.execute(
                "UPDATE osoba SET czy_usunieta = 1, data_modyfikacji = '2026-10-25 02:20:00' WHERE id_osoby = ?",
                (removed,),
            )
        summary = feed(url, replica, mode=INCREMENTAL)
        assert not summary.rejected
        fed = replica_people(replica)
        assert fed[f"SYR-{changed}"] == "Przestawiona"
        assert f"SYR-{removed}" not in fed
        # Still inside the repeated hour: the next run reads it again, takes the same data, the removal no error.
        again = feed(url, replica, mode=INCREMENTAL)
        assert not again.rejected and again.read == 3
        assert replica_people(replica) == fed == source_people(source)
        # A change stamped after the hour ends the window there (this run still reads the hour: three people);
        # windows then start where the last ended, as on any other night.
        with connection:
            connection.execute("UPDATE osoba SET data_modyfikacji = '2026-10-25 03:05:00' WHERE id_osoby = ?", (last,))
        assert feed(url, replica, mode=INCREMENTAL).read == 3
        assert feed(url, replica, mode=INCREMENTAL).read == 0
    finally:
        connection.close()


def test_the_repeated_hour_is_polish_times() -> None:
    from contract.polish_time import repeated_hour

    assert repeated_hour(dt.datetime(2026, 10, 25, 2, 50)) == dt.datetime(2026, 10, 25, 2, 0)
    assert repeated_hour(dt.datetime(2026, 10, 25, 2, 0)) == dt.datetime(2026, 10, 25, 2, 0)
    for other in (dt.datetime(2026, 10, 25, 1, 59, 59), dt.datetime(2026, 10, 25, 3), dt.datetime(2026, 3, 29, 2, 30)):
        assert repeated_hour(other) is None


def test_a_deleted_address_of_an_sr_child_leaves_the_parents_data(copy_of: Any, tmp_path: Path) -> None:
    """Finding (left alone before): an SR child's address is shown in the parent's data (`adresy_dzieci`), but
    the deletions journal names the child, who is not in the data set; an incremental run sent the child's
    removal and not the parent, and the replica kept showing the deleted address. The parents of journaled
    children are now read again: the incremental replica equals a full one."""
    source = copy_of("SR")
    url = f"sqlite:///{source}"

    def sr_feed(replica: Path, mode: str) -> Any:
        adapter = adapter_class("sr")(url)  # type: ignore[call-arg]
        target = ReplicaTarget(f"sqlite:///{replica}", "SR")
        try:
            return Feeder(adapter, target).run(mode)
        finally:
            target.close()
            adapter.close()

    assert not sr_feed(tmp_path / "przyrostowa.sqlite", FULL).rejected
    connection = sqlite3.connect(source)
    try:
        child, parent, town = connection.execute(
            "SELECT dz.id_osoby_dziecka, d.id_osoby, a.miejscowosc FROM decyzja_dziecko dz "
            "JOIN decyzja d ON d.id_decyzji = dz.id_decyzji JOIN adres a ON a.id_osoby = dz.id_osoby_dziecka LIMIT 1"
        ).fetchone()
        with connection:
            connection.execute("DELETE FROM adres WHERE id_osoby = ?", (child,))
    finally:
        connection.close()
    before = replica_content(tmp_path / "przyrostowa.sqlite")
    summary = sr_feed(tmp_path / "przyrostowa.sqlite", INCREMENTAL)
    assert not summary.rejected
    assert sr_feed(tmp_path / "pelna.sqlite", FULL).applied > 0
    incremental = replica_content(tmp_path / "przyrostowa.sqlite")
    assert incremental == replica_content(tmp_path / "pelna.sqlite")
    parent_key = next(k for k, _n, _b in before if k.split("-")[-1] == str(parent))
    shown = [(name, body) for k, name, body in before if k == parent_key]
    assert any(town.encode() in body for _name, body in shown)
    assert [(name, body) for k, name, body in incremental if k == parent_key] != shown


def test_a_full_run_from_another_source_never_resumes_an_unfinished_one(copy_of: Any, tmp_path: Path) -> None:
    """A run stopped after two batches (a feeder through the hub, paused on a slow link) and a full run from another
    source into the same replica: resuming would close the first run's snapshot with the second source's rest, so
    the replica would publish part of each (found by an attack pass). The second run starts anew instead, says which
    run it replaced, and the first run's feeder is refused when it goes on."""
    first, other = copy_of("PUP"), tmp_path / "other.sqlite"
    first.rename(other)
    first = copy_of("PUP")
    with sqlite3.connect(other) as connection:  # the other source: the first 30 people only, renamed
        connection.execute("UPDATE osoba SET czy_usunieta = 1 WHERE id_osoby NOT IN "
                           "(SELECT id_osoby FROM osoba ORDER BY id_osoby LIMIT 30)")  # fmt: skip
        connection.execute("UPDATE osoba SET nazwisko = 'Innyzrodlowy'")
    replica = tmp_path / "r.sqlite"

    with pytest.raises(Stop):
        feed(f"sqlite:///{first}", replica, batch_records=10, on_batch=stop_after_two)
    with sqlite3.connect(replica) as connection:
        unfinished = connection.execute("SELECT id_zasilenia_roboczego FROM stan_repliki").fetchone()[0]
    assert unfinished
    replaced = feed(f"sqlite:///{other}", replica, batch_records=10)
    assert not replaced.resumed and replaced.abandoned == unfinished and replaced.run_id != unfinished
    assert replica_people(replica) == source_people(other)  # the other source's people, and nobody else
    assert set(replica_people(replica).values()) == {"Innyzrodlowy"}
    # The same source goes on with its own run: resumed, as before.
    with pytest.raises(Stop):
        feed(f"sqlite:///{first}", replica, batch_records=10, on_batch=stop_after_two)
    again = feed(f"sqlite:///{first}", replica, batch_records=10)
    assert again.resumed and not again.abandoned and replica_people(replica) == source_people(first)


def test_a_watermark_names_its_source_and_old_ones_still_read() -> None:
    mark = Watermark(True, dt.datetime(2026, 12, 5, 10, 0), None, "SYR;12", "ab12")
    assert Watermark.decode(mark.encode()) == mark
    assert Watermark.decode("v1;P;od=;do=2026-12-05T10:00:00;po=SYR;12") == Watermark(
        True, dt.datetime(2026, 12, 5, 10, 0), None, "SYR;12", None
    )


def test_a_full_run_whose_every_record_the_replica_refuses_publishes_nothing(copy_of: Any, tmp_path: Path) -> None:
    """Found by an attack pass: the feeder refused an empty snapshot only when the source rejected everyone; when
    the replica did (every PESEL's check digit wrong, or the wrong adapter for the data set through the hub) the
    last batch published a snapshot of nobody, exit 1, and every query answered that the office knew nobody."""
    source, replica = copy_of("PUP"), tmp_path / "r.sqlite"
    feed(f"sqlite:///{source}", replica, batch_records=50)
    before = replica_people(replica)
    assert before
    with sqlite3.connect(source) as connection:  # a wrong check digit for everyone
        connection.execute(
            "UPDATE osoba SET pesel = substr(pesel, 1, 10) || ((CAST(substr(pesel, 11, 1) AS INTEGER) + 1) % 10), "
            "data_modyfikacji = '2030-01-01 00:00:00' WHERE pesel IS NOT NULL"
        )
        connection.execute("UPDATE osoba SET czy_usunieta = 1 WHERE pesel IS NULL")
    with pytest.raises(Exception, match="Odrzucono wszystkie rekordy zasilenia pełnego") as refused:
        feed(f"sqlite:///{source}", replica, batch_records=50)
    assert "ODRZUCONO_WSZYSTKIE_REKORDY" in repr(refused.value) or "Pustej migawki nie opublikowano" in str(
        refused.value
    )
    assert replica_people(replica) == before  # the replica as it was


def test_a_feed_into_a_database_that_is_no_replica_is_refused_and_changes_nothing(copy_of: Any) -> None:
    """Found by an attack pass: `feed --target` pointed at the office's domain database (or a copy of the register,
    or of the hub's database) added the replica's tables there and wrote the people's data, exit 0."""
    from adapters.feeder import FeedError

    source = copy_of("PUP")
    with sqlite3.connect(source) as connection:
        before = sorted(name for (name,) in connection.execute("SELECT name FROM sqlite_master"))
    with pytest.raises(FeedError, match="nie jest repliką: zawiera inne tabele"):
        feed(f"sqlite:///{source}", source)
    with sqlite3.connect(source) as connection:
        assert sorted(name for (name,) in connection.execute("SELECT name FROM sqlite_master")) == before
