"""The synthetic powiat: deterministic, valid against the feed schema, overlapping on purpose; each person
made once (domain rows), the feed files being the adapters' reading of those rows."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from lxml import etree

from contract.identifiers import id_card_checksum_ok, validate_pesel
from demo.data import generate, write_domain_databases
from hub.soap.contracts import feed_schema

M = "{urn:pl:platforma-komunikacyjna:model:1}"
F = "{urn:pl:platforma-komunikacyjna:zasilanie:1}"


def _digest(paths: dict[str, Path]) -> str:
    return hashlib.sha256(b"".join(paths[k].read_bytes() for k in sorted(paths))).hexdigest()


def test_same_seed_same_powiat_other_seed_other_powiat(tmp_path: Path) -> None:
    a = generate(11, tmp_path / "a", pup=60, ops=30, sr=40)
    b = generate(11, tmp_path / "b", pup=60, ops=30, sr=40)
    c = generate(12, tmp_path / "c", pup=60, ops=30, sr=40)
    assert _digest(a.files) == _digest(b.files)
    assert _digest(a.files) != _digest(c.files)


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in key order (the file's own bytes differ with the order of its indexes)."""
    connection = sqlite3.connect(path)
    try:
        names = [n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: connection.execute(f"SELECT * FROM {n} ORDER BY 1").fetchall() for n in sorted(names)}  # noqa: S608
    finally:
        connection.close()


def test_same_seed_same_domain_databases(tmp_path: Path) -> None:
    a = write_domain_databases(11, tmp_path / "a", pup=30, ops=20, sr=20)
    b = write_domain_databases(11, tmp_path / "b", pup=30, ops=20, sr=20)
    assert a.known_to == b.known_to and a.history_rows == b.history_rows
    for kind in ("pup", "ops", "sr"):
        name = f"{kind}-dziedzinowa.sqlite"
        assert _rows(tmp_path / "a" / name) == _rows(tmp_path / "b" / name)


def test_feeds_are_valid_and_people_overlap(tmp_path: Path) -> None:
    summary = generate(5, tmp_path, pup=200, ops=100, sr=120)
    schema = feed_schema()
    pesels: dict[str, set[str]] = {}
    for data_set, path in summary.files.items():
        document = etree.parse(str(path))
        assert schema.validate(document), schema.error_log
        pesels[data_set] = {e.text or "" for e in document.iterfind(f"{F}Rekord/*/{M}DaneOsobowe/{M}Pesel")}
    assert summary.counts == {"PUP": 200, "OPS": 100, "SR": 120}
    assert summary.rejected == {"PUP": [], "OPS": [], "SR": []}
    sizes = [len(sets) for sets in summary.known_to.values()]
    assert sizes.count(3) > 0 and sizes.count(2) > 0 and sizes.count(1) > 0
    # Each person is in exactly the files of the offices that know them.
    assert {p: tuple(k for k in ("PUP", "OPS", "SR") if p in pesels[k]) for p in summary.known_to} == summary.known_to


def test_the_feed_files_are_the_adapters_reading_of_the_domain_databases(tmp_path: Path) -> None:
    """One representation: with --domains the databases are kept, and every person of a feed file is a
    person of that office's database, under the adapter's source key."""
    summary = generate(8, tmp_path, pup=25, ops=15, sr=15, domains=True)
    for data_set, prefix in (("PUP", "SYR-"), ("OPS", "POM-"), ("SR", "SR-")):
        url = summary.domain_urls[data_set]
        connection = sqlite3.connect(url[len("sqlite:///") :])
        in_database = {
            f"{prefix}{key}": pesel for key, pesel in connection.execute("SELECT id_osoby, pesel FROM osoba")
        }
        connection.close()
        root = etree.parse(str(summary.files[data_set])).getroot()
        in_feed = {r.findtext(f"{F}IdZrodlowy"): r.findtext(f".//{M}DaneOsobowe/{M}Pesel") for r in root}
        assert len(in_feed) == summary.counts[data_set]
        assert all(in_database[key] == pesel for key, pesel in in_feed.items())


def test_identifiers_are_valid_and_sr_decisions_have_children(tmp_path: Path) -> None:
    summary = generate(5, tmp_path, pup=20, ops=20, sr=30)
    root = etree.parse(str(summary.files["SR"])).getroot()
    pesels = [e.text for e in root.iter(f"{M}Pesel")]
    assert pesels and all(validate_pesel(p or "") for p in pesels)
    assert len(set(pesels)) == len(pesels)
    cards = [e.text or "" for e in root.iter(f"{M}Numer")]
    assert cards and all(id_card_checksum_ok(c) for c in cards)
    assert all(len(list(d)) >= 1 for d in root.iter(f"{M}DaneDzieci"))


def test_a_demo_folder_of_an_earlier_layout_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    """A demo folder is reused; one made before the replicas' layout changed would answer every query with
    an error, so `platforma demo` says to make it anew instead."""
    import json

    from contract.errors import ConfigurationError
    from demo.powiat import prepare

    (tmp_path / "demo-state.json").write_text(json.dumps({"config": "x", "users": {}}), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"wcześniejszej wersji.*Usuń go albo wskaż inny"):
        prepare(tmp_path)


def test_demo_data_prints_the_records_of_each_file_and_keeps_the_databases_with_domains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.cli import main

    arguments = ["demo-data", "--seed", "4", "--out", str(tmp_path), "--pup", "12", "--ops", "6", "--sr", "7"]
    assert main(arguments) == 0
    out = capsys.readouterr().out.replace("\n", "")
    assert "PUP: 12 rekordów" in out and "OPS: 6 rekordów" in out and "SR: 7 rekordów" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ops.xml", "pup.xml", "sr.xml"]
    assert main([*arguments, "--domains"]) == 0
    assert "Bazy dziedzinowe urzędów" in capsys.readouterr().out
    assert (tmp_path / "sr-dziedzinowa.sqlite").is_file()
