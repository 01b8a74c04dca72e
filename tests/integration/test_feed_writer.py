"""The replica writer on the feed's hot path: its own PESEL check agrees with python-stdnum's; a bulk writer
checkpoints its SQLite log beside the writing and keeps it bounded."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from stdnum.pl import pesel as stdnum_pesel

from adapters.base import ModelRecord
from contract.identifiers import Identifier
from replica import writer as loader
from replica.database import ReplicaReader
from replica.writer import pesel_is_valid


def stdnum_says(value: str) -> bool:
    """python-stdnum's own verdict on eleven digits (the writer computes the same arithmetic itself)."""
    return len(value) == 11 and value.isdigit() and stdnum_pesel.is_valid(value)


def candidates(count: int) -> list[str]:
    """PESEL-like values: random digits, and encoded dates of every century code (valid or not) with
    their correct check digit, so that both the check digit and the date are exercised."""
    rng = random.Random(20261125)
    values = []
    for _ in range(count):
        if rng.random() < 0.3:
            values.append("".join(rng.choice("0123456789") for _ in range(11)))
            continue
        month = rng.choice([0, 1, 2, 9, 12, 13, 19, 20, 21, 32, 33, 41, 52, 61, 72, 81, 92, 93, 99])
        body = f"{rng.randrange(100):02d}{month:02d}{rng.randrange(33):02d}{rng.randrange(10000):04d}"
        values.append(body + stdnum_pesel.calc_check_digit(body))
    return values


def test_the_writers_pesel_check_agrees_with_python_stdnum() -> None:
    values = candidates(200_000)
    assert sum(map(stdnum_says, values)) > 50_000  # plenty of valid ones, plenty of invalid ones
    assert [v for v in values if pesel_is_valid(v) != stdnum_says(v)] == []


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("44051401359", True),  # python-stdnum's own example
        ("44051401358", False),  # check digit
        ("02022912347", False),  # 29 February 1902 (not a leap year), with a right check digit
        ("04222912347", True),  # 29 February 2004 (month + 20: the 2000s)
        ("", False),
        ("4405140135", False),
        ("440514013590", False),
        ("4405140135a", False),
        # Arabic-Indic digits are digits to str.isdigit: stdnum's own path (whose check digit is ASCII).
        ("٤٤٠٥١٤٠١٣٥٩", False),
    ],
)
def test_the_writers_pesel_check_on_edge_cases(value: str, valid: bool) -> None:
    assert pesel_is_valid(value) is stdnum_says(value) is valid


def test_a_bulk_writer_checkpoints_beside_the_writer_and_keeps_the_log_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "CHECKPOINT_RECORDS", 40)
    replica = tmp_path / "pup.sqlite"
    writer = loader.ReplicaWriter(f"sqlite:///{replica}", "PUP", duplicates="refuse", bulk=True)
    assert writer._checkpointer is not None
    wal = replica.with_name(replica.name + "-wal")
    section = b'<m:Wizyty xmlns:m="urn:pl:platforma-komunikacyjna:model:1">' + b"x" * 3000 + b"</m:Wizyty>"
    sizes = []
    try:
        for number in range(1, 41):
            records = [
                ModelRecord(f"SYR-{key}", str(key), False, "DanePUP", None, "Nowak", "Jan", dt.date(1980, 1, 1),
                            sections=(("Wizyty", section),))
                for key in range(number * 100, number * 100 + 25)
            ]  # fmt: skip
            header = loader.BatchHeader(
                "PUP", loader.FULL, f"p{number}", "run", number, f"v1;P;po={number}", number == 40
            )
            report = writer.apply(header, records)
            assert report.loaded == 25
            sizes.append(wal.stat().st_size)
            time.sleep(0.01)  # the checkpointing thread runs beside the writer
    finally:
        writer.dispose()
    # 1,000 records of ~3 KB went through a log that was started over along the way: it never held them
    # all (about 4 MB), and the database has every one of them.
    assert max(sizes) < 2_500_000
    connection = sqlite3.connect(replica)
    try:
        assert connection.execute("SELECT count(*) FROM osoby").fetchone()[0] == 1000
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()


def person(key: int, pesel: str | None) -> ModelRecord:
    section = b'<m:Wizyty xmlns:m="urn:pl:platforma-komunikacyjna:model:1"><m:Wizyta/></m:Wizyty>'
    return ModelRecord(f"SYR-{key}", str(key), False, "DanePUP", pesel, "Nowak", "Jan", dt.date(1980, 1, 1),
                       sections=(("Wizyty", section),))  # fmt: skip


def check_people_already_loaded_are_reported_one_by_one(url: str) -> None:
    """A full batch is first written without identity checks (the unique constraints stand guard); a
    person already loaded by an earlier batch of the run is then reported, and the rest applied. In a
    replica's first snapshot PESEL's index is built only when the snapshot is published: a repeated PESEL
    is found then, and its later holder taken out and reported with the last batch."""
    writer = loader.ReplicaWriter(url, "PUP", duplicates="refuse", bulk=True)
    checks: list[int] = []
    check_chunk = writer._check_chunk

    def counted(*args: Any) -> Any:
        checks.append(len(args[3]))
        return check_chunk(*args)

    def full(run: str, number: int, people: list[ModelRecord], final: bool = False) -> loader.LoadReport:
        mark = "v1;P" if final else f"v1;P;po={number}"
        return writer.apply(loader.BatchHeader("PUP", loader.FULL, f"{run}{number}", run, number, mark, final), people)

    writer._check_chunk = counted  # type: ignore[method-assign]
    taken, free, other = "80010112340", "80010112357", "80010112364"  # valid synthetic PESELs
    assert pesel_is_valid(taken) and pesel_is_valid(free) and pesel_is_valid(other)
    try:
        first = full("run", 1, [person(1, taken), person(2, None)])
        assert (first.loaded, first.rejected) == (2, [])
        assert checks == []  # written on the constraints' word alone
        # Person 3 has person 1's PESEL: in a first snapshot, found when it is published.
        second = full("run", 2, [person(3, taken), person(4, free)])
        assert (second.loaded, second.rejected) == (2, [])
        # A source key sent again in the same run: the whole batch is refused, nothing of it applied.
        with pytest.raises(loader.DuplicatePerson, match="SYR-2"):
            full("run", 3, [person(5, None), person(2, None)])
        assert checks == [2]  # the constraint refused it; written again, checked, refused
        last = full("run", 3, [person(6, None)], final=True)
        assert last.loaded == 1 and last.snapshot_live and last.deleted == 1
        assert [(r.source_key, "inną osobę (identyfikator SYR-1)" in r.reason) for r in last.rejected] == [
            ("SYR-3", True)
        ]
        assert writer.status().people == 4  # 1, 2, 4, 6
        # The next snapshot is loaded beside a live one, with PESEL's index: person 7 is rejected at once.
        checks.clear()
        again = full("next", 1, [person(1, taken), person(7, taken), person(4, other)])
        assert again.loaded == 2 and [r.source_key for r in again.rejected] == ["SYR-7"]
        replaced = full("next", 2, [person(8, free)], final=True)
        assert (replaced.loaded, replaced.rejected) == (1, []) and replaced.snapshot_live
        assert writer.status().people == 3  # 1, 4, 8
    finally:
        writer.dispose()


def test_people_already_loaded_are_reported_one_by_one_on_sqlite(tmp_path: Path) -> None:
    check_people_already_loaded_are_reported_one_by_one(f"sqlite:///{tmp_path / 'pup.sqlite'}")


def test_deferred_indexes_are_built_at_the_end_of_a_first_load_and_kept_when_a_snapshot_is_replaced(
    tmp_path: Path,
) -> None:
    replica = tmp_path / "pup.sqlite"
    writer = loader.ReplicaWriter(f"sqlite:///{replica}", "PUP", duplicates="refuse", bulk=True)
    lookup = {"ix_osoby_nazwisko_imie_data", "ix_osoby_dokument", "uq_osoby_generacja_pesel"}

    def indexes() -> set[str]:
        connection = sqlite3.connect(replica)
        try:
            return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        finally:
            connection.close()

    def full(run: str, number: int, keys: range, final: bool) -> None:
        header = loader.BatchHeader("PUP", loader.FULL, f"{run}-{number}", run, number, f"v1;P;po={number}", final)
        writer.apply(header, [person(key, None) for key in keys])

    try:
        assert lookup <= indexes()  # a new replica has its whole schema
        full("first", 1, range(1, 50), final=False)
        assert not lookup & indexes()  # nobody can be found yet: built at the end, not row by row
        full("first", 2, range(50, 100), final=True)
        assert lookup <= indexes()
        # The live snapshot stays findable while the next one is loaded.
        full("second", 1, range(1, 50), final=False)
        assert lookup <= indexes()
        full("second", 2, range(50, 120), final=True)
        assert lookup <= indexes() and writer.status().people == 119
    finally:
        writer.dispose()
    reader = ReplicaReader(f"sqlite:///{replica}")
    try:
        found, _sections = reader.lookup(
            Identifier.build(surname="Nowak", first_name="Jan", birth_date=dt.date(1980, 1, 1)), ["Wizyty"]
        )
        assert len(found) > 1  # found by name through the rebuilt index (ambiguous: everyone is Jan Nowak)
    finally:
        reader.dispose()
