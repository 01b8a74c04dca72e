"""People whose address has no post code or house number (a homeless OPS client, an address abroad) are
kept, their address without those elements (model 1.1); a person a feeder still cannot map is reported in
the feed summary as a refused record by source key, never by PESEL or name."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters import adapter_class
from adapters.base import ModelRecord, SourceRejection
from contract.identifiers import Identifier
from hub.cli import main
from replica.database import ReplicaReader
from tests.adapters.test_adapters import assert_stored_exactly_as_the_hub_would

M = "{urn:pl:platforma-komunikacyjna:model:1}"
# (data set, address table, house number column, source key prefix)
ADDRESSES = {
    "OPS": ("adres_osoby", "nr_domu", "POM-"),
    "SR": ("adres", "nr_domu", "SR-"),
    "PUP": ("adres", "nr_domu", "SYR-"),
}


def without_post_code_and_house(path: Path, table: str, house: str, post: str | None, number: str | None) -> int:
    """Give the first person with an address that address's `post` code and house `number`; their id."""
    connection = sqlite3.connect(path)
    person, address = connection.execute(
        f"SELECT id_osoby, min(rowid) FROM {table} GROUP BY id_osoby ORDER BY id_osoby LIMIT 1"  # noqa: S608
    ).fetchone()
    connection.execute(
        f"UPDATE {table} SET kod_pocztowy = ?, {house} = ? WHERE rowid = ?",  # noqa: S608
        (post, number, address),
    )
    connection.commit()
    connection.close()
    return int(person)


def read_all(data_set: str, path: Path) -> list[Any]:
    adapter = adapter_class(data_set.lower())(f"sqlite:///{path}")  # type: ignore[call-arg]
    try:
        return [item for batch in adapter.full(batch_size=25) for item in batch]
    finally:
        adapter.close()


def addresses_of(record: ModelRecord) -> list[etree._Element]:
    personal = dict(record.sections)["DaneOsobowe"]
    return etree.fromstring(personal).findall(f"{M}Adresy/{M}Adres")


@pytest.mark.parametrize("data_set", ["OPS", "SR", "PUP"])
@pytest.mark.parametrize(("post", "number"), [("", ""), ("  ", None)], ids=["empty", "blank-and-none"])
def test_an_address_without_post_code_or_house_number_keeps_the_person(
    copy_of: Any, data_set: str, post: str, number: str | None
) -> None:
    table, house, prefix = ADDRESSES[data_set]
    path = copy_of(data_set)
    person = without_post_code_and_house(path, table, house, post, number)
    items = read_all(data_set, path)
    assert [i for i in items if isinstance(i, SourceRejection)] == []
    record = next(i for i in items if i.source_key == f"{prefix}{person}")
    bare = [a for a in addresses_of(record) if a.find(f"{M}KodPocztowy") is None]
    assert bare and all(a.find(f"{M}NrDomu") is None and a.findtext(f"{M}Miejscowosc") for a in bare)
    # Valid against the published model, and stored by the hub exactly as the adapter wrote it.
    data_element = {"OPS": "DaneOPS", "SR": "DaneSR", "PUP": "DanePUP"}[data_set]
    assert_stored_exactly_as_the_hub_would(data_set, data_element, [i for i in items if isinstance(i, ModelRecord)])


def test_the_reference_schemas_accept_an_address_without_post_code_or_house_number(copy_of: Any) -> None:
    """A homeless client's place of stay: NULL post code and house number in the domain database."""
    path = copy_of("OPS")
    person = without_post_code_and_house(path, "adres_osoby", "nr_domu", None, None)
    record = next(i for i in read_all("OPS", path) if i.source_key == f"POM-{person}")
    assert isinstance(record, ModelRecord)


def test_a_fed_replica_holds_the_person_without_a_post_code(
    copy_of: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy_of("OPS")
    person = without_post_code_and_house(path, "adres_osoby", "nr_domu", "", "")
    connection = sqlite3.connect(path)
    pesel, people = connection.execute(
        "SELECT (SELECT pesel FROM osoba WHERE id_osoby = ?), count(*) FROM osoba WHERE czy_usunieta = 0", (person,)
    ).fetchone()
    connection.close()
    replica = tmp_path / "ops.sqlite"
    argv = ["feed", "--adapter", "ops", "--source", f"sqlite:///{path}", "--target", f"sqlite:///{replica}",
            "--full", "--quiet", "--no-parallel"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out.replace("\n", " ")
    assert f"zastosowano {people}," in out and "odrzucono 0" in out
    reader = ReplicaReader(f"sqlite:///{replica}")
    try:
        found, sections = reader.lookup(Identifier.build(pesel=pesel), ["DaneOsobowe"])
    finally:
        reader.dispose()
    assert len(found) == 1
    stored = etree.fromstring(sections["DaneOsobowe"]).findall(f"{M}Adresy/{M}Adres")
    assert any(a.find(f"{M}KodPocztowy") is None and a.find(f"{M}NrDomu") is None for a in stored)


def test_a_person_still_impossible_to_map_is_reported_by_source_key_only(
    copy_of: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy_of("OPS")
    connection = sqlite3.connect(path)
    person, pesel, surname, first_name = connection.execute(
        "SELECT o.id_osoby, o.pesel, o.nazwisko, o.imie_pierwsze FROM osoba o JOIN adres_osoby a USING (id_osoby) "
        "WHERE o.czy_usunieta = 0 ORDER BY o.id_osoby LIMIT 1"
    ).fetchone()
    connection.execute("UPDATE adres_osoby SET miejscowosc = '' WHERE id_osoby = ?", (person,))  # no town at all
    connection.commit()
    connection.close()
    replica = tmp_path / "ops.sqlite"
    argv = ["feed", "--adapter", "ops", "--source", f"sqlite:///{path}", "--target", f"sqlite:///{replica}",
            "--full", "--quiet", "--no-parallel"]  # fmt: skip
    assert main(argv) == 1  # not silently: the run says a person was left out
    captured = capsys.readouterr()
    out = (captured.out + captured.err).replace("\n", " ")
    assert "odrzucono 1" in out and f"POM-{person}" in out and "miejscowość" in out
    for personal in (pesel, surname, first_name):
        assert personal not in out
