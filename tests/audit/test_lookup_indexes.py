"""SQLite: the disclosures' lookup indexes are filled in batches, beside the appends, and never hide a record.

An append writes the row alone (`w_indeksie = 0`); the store's log thread (or `index_pending`) flags the
rows past the watermark indexed, which enters them into the partial indexes. Reports and `disclosures()`
find both: the indexed rows through the indexes, the rest past the watermark by number. A flag put back
to 0 below the watermark would hide a record from reports: `audit verify` reports it as changed.
"""

# ruff: noqa: S608 - these tests play a database administrator who edits the tables with hand-written SQL

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from audit.reports import ReportFormat, ReportKind, ReportRequest, Requester, build_report
from audit.store import AuditStore
from audit.verify import ProblemKind, verify
from tests.audit.conftest import Administrator, disclosure, fill, synthetic_pesel
from tests.audit.test_upgrade import write_format_1_register

U = "rejestr_ujawnien"
AUDITOR = Requester("audytor", "PUP", "TEST")


def flags(database: Path) -> tuple[list[int], int]:
    db = sqlite3.connect(database)
    try:
        rows = [int(r[0]) for r in db.execute(f"SELECT w_indeksie FROM {U} ORDER BY nr")]
        (watermark,) = db.execute("SELECT do_nr FROM stan_indeksu").fetchone()
    finally:
        db.close()
    return rows, int(watermark)


def person_report(store: AuditStore, pesel: str) -> bytes:
    return build_report(store, ReportRequest(ReportKind.PERSON, pesel=pesel), ReportFormat.CSV, requested_by=AUDITOR)


def test_records_are_found_before_and_after_they_are_indexed(store: AuditStore, database: Path) -> None:
    pesel = synthetic_pesel(7)
    fill(store, 5)  # 10 disclosures (nr 1, 2, 4, 5, ...), 5 events
    store.append([disclosure(70, pesel=pesel), disclosure(71, pesel=pesel)])
    assert flags(database) == ([0] * 12, 0)  # written alone: no index entry yet
    assert [r.request_id for r in store.disclosures(pesel=pesel)] == ["zap-000007", "zap-000070", "zap-000071"]
    assert person_report(store, pesel).count(pesel.encode()) >= 3
    assert store.index_pending() == 12
    assert flags(database) == ([1] * 12, 17)
    store.append([disclosure(72, pesel=pesel)])  # and one more after the watermark
    assert [r.request_id for r in store.disclosures(pesel=pesel)][-2:] == ["zap-000071", "zap-000072"]
    assert b"zap-000072" in person_report(store, pesel)
    assert verify(store).ok


def test_a_lookup_uses_the_partial_index(store: AuditStore, database: Path) -> None:
    fill(store, 3)
    store.index_pending()
    db = sqlite3.connect(database)
    plan = " ".join(
        str(row[3])
        for row in db.execute(
            f"EXPLAIN QUERY PLAN SELECT nr FROM {U} WHERE nr IN (SELECT nr FROM {U} WHERE w_indeksie = 1 AND "
            f"pesel_osoby = ? UNION ALL SELECT nr FROM {U} WHERE nr > (SELECT do_nr FROM stan_indeksu) AND "
            "w_indeksie = 0 AND pesel_osoby = ?)",
            ("x", "x"),
        )
    )
    db.close()
    assert "ix_rejestr_ujawnien_pesel_osoby_zindeksowane" in plan and "INTEGER PRIMARY KEY (rowid>?)" in plan


def test_the_log_thread_indexes_soon_after_appends(store: AuditStore, database: Path) -> None:
    fill(store, 4)
    deadline = time.monotonic() + 10
    while flags(database)[1] < 11:
        assert time.monotonic() < deadline, "the log thread did not index"
        time.sleep(0.1)
    assert set(flags(database)[0]) == {1}


def test_a_flag_put_back_hides_a_record_from_reports_and_verify_says_so(
    store: AuditStore, database: Path, administrator: Administrator
) -> None:
    store.index_pending()
    pesel = administrator.db.execute(f"SELECT pesel_osoby FROM {U} WHERE nr = 20").fetchone()[0]
    assert any(r.request_id == "zap-000013" for r in store.disclosures(pesel=pesel))
    administrator.run(f"UPDATE {U} SET w_indeksie = 0 WHERE nr = 20")
    assert not any(r.request_id == "zap-000013" for r in store.disclosures(pesel=pesel))  # hidden
    first = verify(store).first_problem
    assert first is not None and (first.kind, first.nr, first.table) == (ProblemKind.CHANGED, 20, U)


def test_only_the_flag_may_change_and_only_to_indexed(store: AuditStore, database: Path) -> None:
    fill(store, 2)
    db = sqlite3.connect(database, isolation_level=None)
    db.execute(f"UPDATE {U} SET w_indeksie = 1 WHERE nr = 1")  # what the store itself does
    for statement in (
        f"UPDATE {U} SET w_indeksie = 0 WHERE nr = 1",
        f"UPDATE {U} SET w_indeksie = 1, cel = 'x' WHERE nr = 2",
        f"UPDATE {U} SET cel = 'x' WHERE nr = 2",
        "UPDATE stan_indeksu SET do_nr = -1",
        "DELETE FROM stan_indeksu",
    ):
        with pytest.raises(sqlite3.DatabaseError, match=r"tylko|naprzód"):
            db.execute(statement)
    db.close()


def test_an_older_register_keeps_its_records_findable(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    write_format_1_register(path, 4)  # whole indexes, no flag column
    store = AuditStore(f"sqlite:///{path}")
    db = sqlite3.connect(path)
    indexes = {r[0] for r in db.execute(f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{U}'")}
    db.close()
    assert "ix_rejestr_ujawnien_pesel_osoby" not in indexes
    assert "ix_rejestr_ujawnien_pesel_osoby_zindeksowane" in indexes
    assert flags(path) == ([1] * 8, 11)  # the old rows count as indexed
    assert [r.request_id for r in store.disclosures(pesel=synthetic_pesel(3))] == ["zap-000003"]
    store.append([disclosure(3)])
    assert [r.request_id for r in store.disclosures(pesel=synthetic_pesel(3))] == ["zap-000003"] * 2
    assert verify(store).ok
    store.dispose()
