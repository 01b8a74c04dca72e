"""A register written before the chain (the first version of audit/sql.py) is chained when opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from audit.records import EventKind, Outcome
from audit.sql import SqlDisclosureRegister, SqlEventLog
from audit.verify import verify

OLD_SCHEMA = """
CREATE TABLE rejestr_ujawnien (
    id INTEGER NOT NULL PRIMARY KEY, czas DATETIME, id_zapytania VARCHAR(64), uzytkownik VARCHAR(120),
    urzad VARCHAR(32), kanal VARCHAR(32), identyfikator VARCHAR(300), pesel_osoby VARCHAR(11), zbior VARCHAR(32),
    administrator VARCHAR(300), kategorie TEXT, podstawa_prawna VARCHAR(64), cel TEXT, wynik VARCHAR(16),
    skrot_sha256 VARCHAR(64), powod TEXT);
CREATE INDEX ix_rejestr_czas ON rejestr_ujawnien (czas);
CREATE INDEX ix_rejestr_ujawnien_id_zapytania ON rejestr_ujawnien (id_zapytania);
CREATE INDEX ix_rejestr_ujawnien_pesel_osoby ON rejestr_ujawnien (pesel_osoby);
CREATE TABLE zdarzenia_bezpieczenstwa (
    id INTEGER NOT NULL PRIMARY KEY, czas DATETIME, rodzaj VARCHAR(32), uzytkownik VARCHAR(120), urzad VARCHAR(32),
    wykonawca VARCHAR(120), zrodlo VARCHAR(200), sukces BOOLEAN, szczegoly TEXT);
CREATE INDEX ix_zdarzenia_bezpieczenstwa_czas ON zdarzenia_bezpieczenstwa (czas);
INSERT INTO rejestr_ujawnien VALUES (1, '2026-11-20 10:00:00.000000', 'r-1', 'ops.a', 'OPS', 'SOAP',
    'PESEL:80010100000', '80010100000', 'PUP', 'PUP testowy', 'DANE_OSOBOWE,WIZYTY', 'L', 'Cel 1', 'UJAWNIENIE',
    'ab', '');
INSERT INTO rejestr_ujawnien VALUES (2, '2026-11-20 10:05:00.000000', 'r-2', 'ops.a', 'OPS', 'SOAP',
    'PESEL:80010100000', '80010100000', 'PUP', 'PUP testowy', 'HISTORIA_ZATRUDNIENIA', 'L', 'Cel 2', 'ODMOWA',
    '', 'BRAK_UPRAWNIEN');
INSERT INTO zdarzenia_bezpieczenstwa VALUES (1, '2026-11-20 10:01:00.000000', 'LOGOWANIE', 'ops.a', 'OPS',
    'ops.a', '192.0.2.1', 1, '');
"""


def test_old_register_is_chained_in_write_order(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.close()
    register = SqlDisclosureRegister(f"sqlite:///{path}")
    records = list(register.records())
    assert [(r.request_id, r.outcome, r.categories) for r in records] == [
        ("r-1", Outcome.DISCLOSED, ("DANE_OSOBOWE", "WIZYTY")),
        ("r-2", Outcome.REFUSED, ("HISTORIA_ZATRUDNIENIA",)),
    ]
    events = SqlEventLog(f"sqlite:///{path}")
    assert [e.kind for e in events.events()] == [EventKind.LOGIN]
    report = verify(register.store)
    assert report.ok and report.records == 3
    with register.store.reader.connect() as connection:
        order = connection.exec_driver_sql(
            "SELECT nr, 'U' FROM rejestr_ujawnien UNION ALL SELECT nr, 'Z' FROM zdarzenia_bezpieczenstwa ORDER BY 1"
        ).fetchall()
        tables = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert [kind for _nr, kind in order] == ["U", "Z", "U"]  # by time, as they were written
    assert not any(name.endswith("_przed_lancuchem") for name in tables)
    register.dispose()
    events.dispose()
