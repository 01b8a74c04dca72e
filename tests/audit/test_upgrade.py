"""Older registers: one written before the chain (the first version of audit/sql.py) is chained when opened;
one chained in hash format 1 is verified as strictly as format 2 and continued in format 2."""

# ruff: noqa: S608 - the test writes an old register with hand-written SQL

from __future__ import annotations

import sqlite3
from pathlib import Path

from audit import chain
from audit.records import EventKind, Outcome
from audit.sql import SqlDisclosureRegister, SqlEventLog
from audit.store import AuditStore, OpenMode, disclosure_values, event_values
from audit.verify import ProblemKind, verify
from tests.audit.conftest import Administrator, disclosure, security_event

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


# The chained schema as the first chained version created it (hash format 1, no format table).
FORMAT_1_SCHEMA = """
CREATE TABLE punkty_kontrolne (nr_punktu INTEGER NOT NULL, nr INTEGER NOT NULL, skrot VARCHAR(64) NOT NULL,
    czas VARCHAR(27) NOT NULL, powod VARCHAR(32) NOT NULL, algorytm VARCHAR(32) NOT NULL,
    odcisk_klucza VARCHAR(64) NOT NULL, podpis TEXT NOT NULL, PRIMARY KEY (nr_punktu));
CREATE TABLE rejestr_ujawnien (nr INTEGER NOT NULL, skrot_poprzedniego VARCHAR(64) NOT NULL,
    skrot_wpisu VARCHAR(64) NOT NULL, czas VARCHAR(27) NOT NULL, id_zapytania VARCHAR(64) NOT NULL,
    uzytkownik VARCHAR(120) NOT NULL, urzad VARCHAR(32) NOT NULL, kanal VARCHAR(32) NOT NULL,
    identyfikator TEXT NOT NULL, pesel_osoby VARCHAR(11), zbior VARCHAR(32) NOT NULL, administrator TEXT NOT NULL,
    kategorie TEXT NOT NULL, podstawa_prawna VARCHAR(64) NOT NULL, cel TEXT NOT NULL, wynik VARCHAR(16) NOT NULL,
    skrot_sha256 VARCHAR(64) NOT NULL, powod TEXT NOT NULL, PRIMARY KEY (nr));
CREATE INDEX ix_rejestr_ujawnien_pesel_osoby ON rejestr_ujawnien (pesel_osoby);
CREATE TABLE zdarzenia_bezpieczenstwa (nr INTEGER NOT NULL, skrot_poprzedniego VARCHAR(64) NOT NULL,
    skrot_wpisu VARCHAR(64) NOT NULL, czas VARCHAR(27) NOT NULL, rodzaj VARCHAR(32) NOT NULL,
    uzytkownik VARCHAR(120) NOT NULL, urzad VARCHAR(32) NOT NULL, wykonawca VARCHAR(120) NOT NULL,
    zrodlo TEXT NOT NULL, sukces BOOLEAN NOT NULL, szczegoly TEXT NOT NULL, PRIMARY KEY (nr));
"""


def write_format_1_register(path: Path, count: int) -> None:
    """`count` appends of two disclosures and one event, linked as the first chained version linked them."""
    db = sqlite3.connect(path)
    db.executescript(FORMAT_1_SCHEMA)
    previous, nr = chain.GENESIS, 0
    for index in range(count):
        for record in (disclosure(2 * index), disclosure(2 * index + 1)):
            nr += 1
            values = disclosure_values(record)
            current = chain.link(chain.DISCLOSURE_TAG, nr, previous, chain.encode_fields(values))
            db.execute(f"INSERT INTO rejestr_ujawnien VALUES ({', '.join('?' * 18)})", (nr, previous, current, *values))
            previous = current
        event = security_event(index)
        nr += 1
        values = (*event_values(event)[:6], "1" if event.success else "0", event_values(event)[7])
        current = chain.link(chain.EVENT_TAG, nr, previous, chain.encode_fields(values))
        db.execute(
            f"INSERT INTO zdarzenia_bezpieczenstwa VALUES ({', '.join('?' * 11)})",
            (nr, previous, current, *values[:6], event.success, values[7]),
        )
        previous = current
    db.commit()
    db.close()


def test_a_format_1_register_is_verified_strictly_and_continued_in_format_2(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    write_format_1_register(path, 10)  # records 1-30, every third an event
    url = f"sqlite:///{path}"
    reader = AuditStore(url, mode=OpenMode.READ_ONLY)  # verify does not upgrade anything
    assert verify(reader).ok and verify(reader).records == 30
    reader.dispose()
    store = AuditStore(url)  # the hub opens it: records from 31 on are linked in format 2
    assert store.formats() == [(1, 1), (31, 2)]
    store.append([disclosure(500)], [security_event(500)])
    report = verify(store)
    assert report.ok and report.records == 32, report.problems
    admin = Administrator(path)
    admin.run("UPDATE rejestr_ujawnien SET pesel_osoby = pesel_osoby || char(0) || 'X' WHERE nr = 5")
    admin.run("UPDATE zdarzenia_bezpieczenstwa SET sukces = 'false' WHERE nr = 15")
    first = verify(store).first_problem
    assert first is not None and (first.kind, first.nr) == (ProblemKind.CHANGED, 5)
    admin.run("UPDATE rejestr_ujawnien SET pesel_osoby = substr(pesel_osoby, 1, 11) WHERE nr = 5")
    first = verify(store).first_problem
    assert first is not None and (first.kind, first.nr) == (ProblemKind.CHANGED, 15)
    admin.close()
    store.dispose()
