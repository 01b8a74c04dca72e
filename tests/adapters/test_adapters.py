"""The adapters: valid common-model output, mapping files, watermarks, the entry-point registry."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters import adapter_class, available
from adapters.base import AdapterError, ModelRecord, SourceRejection, SourceUnavailable, Watermark
from adapters.mapping import MappingError
from hub.contracts import feed_schema
from hub.demo_data import DomainSummary
from hub.loader import parse_record

FEED = "urn:pl:platforma-komunikacyjna:zasilanie:1"
KINDS = {"PUP": "pup", "OPS": "ops", "SR": "sr"}


def read_all(adapter: Any) -> list[Any]:
    return [item for batch in adapter.full(batch_size=25) for item in batch]


@pytest.mark.parametrize("data_set", ["PUP", "OPS", "SR"])
def test_every_record_is_valid_and_stored_exactly_as_the_hub_would_store_it(
    domain_dbs: DomainSummary, data_set: str
) -> None:
    adapter = adapter_class(KINDS[data_set])(domain_dbs.urls[data_set])  # type: ignore[call-arg]
    items = read_all(adapter)
    adapter.close()
    assert len(items) == domain_dbs.counts[data_set]
    assert all(isinstance(i, ModelRecord) for i in items)
    positions = [int(i.position) for i in items]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    document = f'<Paczka xmlns="{FEED}" Zbior="{data_set}" Rodzaj="PELNA">'.encode()
    document += b"".join(i.to_xml() for i in items) + b"</Paczka>"
    root = etree.fromstring(document)
    schema = feed_schema()
    assert schema.validate(root), schema.error_log
    # The hub's loader canonicalises what it receives: the adapter's bytes must be exactly that.
    for element, item in zip(root, items, strict=True):
        parsed = parse_record(element, adapter.data_element)
        assert parsed.sections == item.sections
        assert (parsed.pesel, parsed.surname, parsed.birth_date) == (item.pesel, item.surname, item.birth_date)


def test_the_three_adapters_and_only_they_are_registered() -> None:
    assert {"pup", "ops", "sr"} <= set(available())
    with pytest.raises(AdapterError, match="Nieznany adapter"):
        adapter_class("syriusz-2")


def test_watermark_round_trip() -> None:
    mark = Watermark(False, dt.datetime(2026, 11, 25, 10, 0, 1, 250000), dt.datetime(2026, 11, 24), "1234")
    assert Watermark.decode(mark.encode()) == mark
    assert Watermark.decode(mark.at(None).encode()).complete  # type: ignore[union-attr]
    assert Watermark.decode("obcy znacznik") is None


def test_mapping_points_the_adapter_at_real_names_without_code_changes(
    domain_dbs: DomainSummary, copy_of: Any, tmp_path: Path
) -> None:
    reference = read_all(adapter_class("pup")(domain_dbs.urls["PUP"]))  # type: ignore[call-arg]
    path = copy_of("PUP")
    connection = sqlite3.connect(path)
    connection.execute("ALTER TABLE osoba RENAME TO OSOBY_BEZROBOTNE")
    connection.execute("ALTER TABLE OSOBY_BEZROBOTNE RENAME COLUMN nazwisko TO NAZWISKO_OS")
    connection.execute("ALTER TABLE kontakt RENAME COLUMN miejsce TO MIEJSCE_WIZYTY")
    connection.commit()
    connection.close()
    with pytest.raises(SourceUnavailable):
        read_all(adapter_class("pup")(f"sqlite:///{path}"))  # type: ignore[call-arg]
    mapping = tmp_path / "mapowanie.toml"
    mapping.write_text(
        '[tables.osoba]\nname = "OSOBY_BEZROBOTNE"\ncolumns = { nazwisko = "NAZWISKO_OS" }\n'
        '[tables.kontakt]\ncolumns = { miejsce = "MIEJSCE_WIZYTY" }\n',
        encoding="utf-8",
    )
    renamed = read_all(adapter_class("pup")(f"sqlite:///{path}", mapping))  # type: ignore[call-arg]
    assert [r.sections for r in renamed] == [r.sections for r in reference]


def test_a_code_list_of_the_mapping_replaces_the_reference_one(domain_dbs: DomainSummary, tmp_path: Path) -> None:
    mapping = tmp_path / "kody.toml"
    mapping.write_text('[codes.plec]\nK = "K"\n', encoding="utf-8")  # this system would code men otherwise
    items = read_all(adapter_class("ops")(domain_dbs.urls["OPS"], mapping))  # type: ignore[call-arg]
    rejected = [i for i in items if isinstance(i, SourceRejection)]
    assert rejected and all("płeć" in r.reason and "= M" in r.reason for r in rejected)
    assert len(rejected) < len(items)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[tables.osobaa]\nname = "X"\n', "nieznana tabela 'osobaa'"),
        ('[tables.osoba]\ncolumns = { nazwiskoo = "X" }\n', "nieznana kolumna 'osoba.nazwiskoo'"),
        ('[codes.plecc]\nK = "K"\n', "nieznany słownik kodów 'plecc'"),
        ("[tables.osoba\n", "nie jest poprawnym TOML"),
    ],
)
def test_a_mapping_with_a_typo_is_refused_naming_it(tmp_path: Path, text: str, problem: str) -> None:
    mapping = tmp_path / "zle.toml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=problem):
        adapter_class("pup")("sqlite:///nieistotne", mapping, connect=False)  # type: ignore[call-arg]


def test_a_missing_source_database_is_reported_not_created(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="nie istnieje"):
        adapter_class("sr")(f"sqlite:///{tmp_path / 'brak.sqlite'}")  # type: ignore[call-arg]
    assert not (tmp_path / "brak.sqlite").exists()


def test_incremental_reads_only_changes_and_journaled_deletions(domain_dbs: DomainSummary, copy_of: Any) -> None:
    path = copy_of("SR")
    adapter = adapter_class("sr")(f"sqlite:///{path}")  # type: ignore[call-arg]
    mark = adapter.high_water()
    assert mark is not None
    assert [i for b in adapter.changes(mark, None) for i in b] == []
    connection = sqlite3.connect(path)
    subject, decision = connection.execute("SELECT id_osoby, id_decyzji FROM decyzja LIMIT 1").fetchone()
    other = connection.execute("SELECT id_osoby FROM decyzja WHERE id_osoby != ? LIMIT 1", (subject,)).fetchone()[0]
    # A payment of `subject`'s decision is deleted (journaled by trigger); `other` loses every decision.
    connection.execute(
        "DELETE FROM wyplata WHERE id_wyplaty = (SELECT min(id_wyplaty) FROM wyplata WHERE id_decyzji = ?)", (decision,)
    )
    for table in ("wyplata", "decyzja_swiadczenie", "decyzja_dziecko"):
        sql = f"DELETE FROM {table} WHERE id_decyzji IN (SELECT id_decyzji FROM decyzja WHERE id_osoby = ?)"  # noqa: S608
        connection.execute(sql, (other,))
    connection.execute("DELETE FROM decyzja WHERE id_osoby = ?", (other,))
    connection.commit()
    connection.close()
    changes = [i for b in adapter.changes(mark, None) for i in b]
    adapter.close()
    by_key = {i.source_key: i for i in changes}
    assert set(by_key) == {f"SR-{subject}", f"SR-{other}"}
    assert by_key[f"SR-{other}"].deleted  # no decision any more: out of the data set
    assert not by_key[f"SR-{subject}"].deleted and by_key[f"SR-{subject}"].sections
