"""Retention: old records are purged behind a signed cut, the rest still verifies, the purge is recorded."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from audit.checkpoints import CheckpointSigner, TrustedKeys
from audit.errors import AuditStorageError, ChainBrokenError
from audit.records import EventKind
from audit.retention import purge
from audit.store import AuditStore, CheckpointPolicy
from audit.verify import ProblemKind, verify
from tests.audit.conftest import Administrator, disclosure, security_event

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def age(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def aged(store: AuditStore) -> AuditStore:
    """Records 1–30 are 400 to 371 days old, 31–45 are 10 to 6 days old."""
    for index in range(30):
        store.append([disclosure(index, time=age(400 - index))])
    for index in range(5):
        moment = age(10 - index)
        store.append(
            [disclosure(100 + index, time=moment), disclosure(200 + index, time=moment)],
            [security_event(index, time=moment)],
        )
    return store


def test_purge_then_verify(aged: AuditStore, keys: TrustedKeys) -> None:
    result = purge(aged, dt.timedelta(days=365), actor="administrator", now=NOW)
    assert (result.cut_nr, result.removed) == (30, 30)
    remaining = [r.request_id for r in aged.disclosures()]
    assert remaining[0] == "zap-000100" and len(remaining) == 10
    report = verify(aged, keys)
    assert report.ok, report.problems
    assert (report.first_nr, report.last_nr) == (31, 46)  # 46: the purge itself, recorded in the chain
    # The signed cut covers 1–30: at most 31–46 are unsigned (verify said "Ostatnie 46 wpisów" after a purge).
    assert 0 <= report.unsigned_tail <= 16, report.unsigned_tail
    purges = list(aged.events(kind=EventKind.PURGE))
    assert len(purges) == 1 and purges[0].actor == "administrator" and "usunieto 30 wpisow" in purges[0].details
    cut = [c for c in aged.checkpoints() if c.reason == "USUNIECIE"]
    assert [c.nr for c in cut] == [30] and result.checkpoint == cut[0].number
    # the chain goes on after the cut, and a second purge with nothing old enough removes nothing
    aged.append([disclosure(300, time=NOW)])
    again = purge(aged, dt.timedelta(days=365), actor="administrator", now=NOW)
    assert again.removed == 0 and verify(aged, keys).ok


def test_purge_of_everything_keeps_the_chain_going(aged: AuditStore, keys: TrustedKeys) -> None:
    purge(aged, dt.timedelta(days=1), actor="administrator", now=NOW)
    assert list(aged.disclosures()) == []
    report = verify(aged, keys)
    assert report.ok and report.first_nr == report.last_nr == 46, report.problems  # the purge event
    aged.append([disclosure(1, time=NOW)])
    assert verify(aged, keys).ok


def test_purge_refuses_a_broken_chain_and_removes_nothing(aged: AuditStore, database: Path, keys: TrustedKeys) -> None:
    admin = Administrator(database)
    admin.run("UPDATE rejestr_ujawnien SET uzytkownik = 'ktos.inny' WHERE nr = 7")
    admin.close()
    with pytest.raises(ChainBrokenError, match="Wpis nr 7"):
        purge(aged, dt.timedelta(days=365), actor="administrator", now=NOW)
    assert len(list(aged.disclosures())) == 40
    assert not [c for c in aged.checkpoints() if c.reason == "USUNIECIE"]


def test_purge_interrupted_half_way_still_verifies(aged: AuditStore, keys: TrustedKeys) -> None:
    aged.cut(30)  # signed cut written, then the process died after deleting only part of it
    with aged.writer.begin() as connection:
        connection.exec_driver_sql("DELETE FROM rejestr_ujawnien WHERE nr <= 12")
    report = verify(aged, keys)
    assert report.ok and report.first_nr == 13, report.problems
    purge(aged, dt.timedelta(days=365), actor="administrator", now=NOW)  # finishes the job
    report = verify(aged, keys)
    assert report.ok and report.first_nr == 31, report.problems


def test_guards_allow_deleting_only_below_a_signed_cut(aged: AuditStore, database: Path, keys: TrustedKeys) -> None:
    db = sqlite3.connect(database, isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="cięciem retencji"):
        db.execute("DELETE FROM rejestr_ujawnien WHERE nr = 3")
    aged.cut(10)
    db.execute("DELETE FROM rejestr_ujawnien WHERE nr <= 10")
    db.commit()
    with pytest.raises(sqlite3.DatabaseError, match="cięciem retencji"):
        db.execute("DELETE FROM rejestr_ujawnien WHERE nr = 11")
    db.close()
    assert verify(aged, keys).ok


def test_a_forged_cut_does_not_excuse_deleted_records(aged: AuditStore, database: Path, keys: TrustedKeys) -> None:
    admin = Administrator(database)
    admin.run(
        "INSERT INTO punkty_kontrolne VALUES "
        "(99, 20, ?, '2026-11-01T00:00:00.000000Z', 'USUNIECIE', 'Ed25519', ?, 'AAAA')",
        "0" * 64,
        aged.checkpoints()[0].key_fingerprint,
    )
    admin.run("DELETE FROM rejestr_ujawnien WHERE nr <= 20")
    admin.close()
    report = verify(aged, keys)
    kinds = [p.kind for p in report.problems]
    assert ProblemKind.CHECKPOINT_SIGNATURE in kinds
    assert report.first_problem is not None and report.first_problem.kind is ProblemKind.REMOVED
    assert report.first_problem.nr == 1


def test_purge_needs_the_key(database: Path) -> None:
    store = AuditStore(f"sqlite:///{database}")
    with pytest.raises(AuditStorageError, match="klucza"):
        purge(store, dt.timedelta(days=1), actor="administrator")
    store.dispose()


def test_after_a_purge_the_unsigned_tail_counts_from_the_signed_cut(
    database: Path, signer: CheckpointSigner, keys: TrustedKeys
) -> None:
    """Feeds and reports pass: records 1–4 purged behind a signed cut, 5–6 remaining and no checkpoint since:
    `audit verify` said "Ostatnie 6 wpisów nie jest jeszcze objętych…", counting the purged records."""
    store = AuditStore(f"sqlite:///{database}", signer=signer, policy=CheckpointPolicy(every_records=1000))
    try:
        for index in range(4):
            store.append([disclosure(index, time=age(400 - index))])
        store.append([disclosure(100, time=age(1))])
        purge(store, dt.timedelta(days=365), actor="administrator", now=NOW)
        report = verify(store, keys)
    finally:
        store.dispose()
    assert report.ok and (report.first_nr, report.last_nr) == (5, 6), report.problems
    assert report.unsigned_tail == 2
