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
from contract.identifiers import normalise_name
from demo.data import DomainSummary
from hub.soap.contracts import feed_schema
from replica.writer import parse_record

FEED = "urn:pl:platforma-komunikacyjna:zasilanie:1"
KINDS = {"PUP": "pup", "OPS": "ops", "SR": "sr"}


def read_all(adapter: Any) -> list[Any]:
    return [item for batch in adapter.full(batch_size=25) for item in batch]


def assert_stored_exactly_as_the_hub_would(data_set: str, data_element: str, records: list[ModelRecord]) -> None:
    """The records are valid, and the hub's loader, canonicalising them, would store exactly their bytes."""
    document = f'<Paczka xmlns="{FEED}" Zbior="{data_set}" Rodzaj="PELNA">'.encode()
    document += b"".join(i.to_xml() for i in records) + b"</Paczka>"
    root = etree.fromstring(document)
    schema = feed_schema()
    assert schema.validate(root), schema.error_log
    for element, item in zip(root, records, strict=True):
        parsed = parse_record(element, data_element)
        assert parsed.sections == item.sections
        assert (parsed.pesel, parsed.birth_date) == (item.pesel, item.birth_date)
        assert (parsed.document_kind, parsed.document_number) == (item.document_kind, item.document_number)
        # Names are matched by their normalised form (a source value may carry spaces the section trims).
        assert normalise_name(parsed.surname) == normalise_name(item.surname)
        assert normalise_name(parsed.first_name) == normalise_name(item.first_name)


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
    # The hub's loader canonicalises what it receives: the adapter's bytes must be exactly that.
    assert_stored_exactly_as_the_hub_would(data_set, adapter.data_element, items)


# Character data that exclusive C14N writes escaped (&, <, >, CR) or that the adapters trim, beside
# characters it leaves as they are (quotes, ]]>, tabs, line feeds, non-ASCII).
AWKWARD = [
    "Kowalski & Syn <sp. j.> > 2",
    "wiersz\r\ndrugi\rtrzeci",
    "  spacje dookoła  ",
    "\ttabulator\t i\nnowa linia",
    "Zażółć „gęślą” jaźń",
    "a]]>b \"cudzysłów\" 'apostrof'",
    "&amp; już zapisane jako encja",
]


def test_awkward_text_leaves_the_pup_adapter_exactly_as_the_hub_canonicalises_it(copy_of: Any) -> None:
    path = copy_of("PUP")
    connection = sqlite3.connect(path)
    columns = {
        "osoba": ("nazwisko", "imie", "imie_drugie", "nr_dokumentu"),
        "adres": ("miejscowosc", "ulica", "nr_domu", "nr_lokalu"),
        "propozycja": ("opis", "rodzaj_oferty"),
        "szkolenie": ("temat",),
        "kwalifikacja": ("nazwa",),
        "kontakt": ("rodzaj", "miejsce"),
        "zatrudnienie": ("rodzaj_umowy", "pracodawca", "zawod", "stanowisko"),
        "historia_statusu": ("rodzaj", "typ", "opis"),
        "sl_swiadczenie": ("nazwa",),
        "sl_przyczyna_wyrejestrowania": ("nazwa",),
    }
    for table, names in columns.items():
        key = "kod" if table.startswith("sl_") else "rowid"
        keys = [row[0] for row in connection.execute(f"SELECT {key} FROM {table} ORDER BY {key}")]  # noqa: S608
        for i, value in enumerate(keys):
            for j, column in enumerate(names):
                text = AWKWARD[(i + j) % len(AWKWARD)]
                connection.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (text, value))  # noqa: S608
    connection.commit()
    connection.close()
    adapter = adapter_class("pup")(f"sqlite:///{path}")  # type: ignore[call-arg]
    items = read_all(adapter)
    adapter.close()
    records = [i for i in items if isinstance(i, ModelRecord)]
    assert len(records) == len(items)  # every awkward value is a value the model carries
    assert_stored_exactly_as_the_hub_would("PUP", "DanePUP", records)
    stored = b"".join(content for r in records for _name, content in r.sections)
    for escaped in (b"&amp; Syn &lt;sp. j.&gt; &gt; 2", b"wiersz&#xD;\ndrugi&#xD;trzeci", b"&amp;amp; ju"):
        assert escaped in stored
    assert ">spacje dookoła<".encode() in stored and b"\r" not in stored


@pytest.mark.parametrize(
    ("table", "column", "value", "reason"),
    [
        # A person's values are not shown (the operator's console, cron logs): the source key finds the row.
        ("adres", "kod_pocztowy", "Lipowa 7/12", "nieprawidłowy kod pocztowy: adres"),
        ("osoba", "data_urodzenia", "08251007126", "niemożliwa lub nieczytelna data: osoba: data urodzenia"),
        ("osoba", "data_urodzenia", "2023-02-30", "niemożliwa lub nieczytelna data: osoba: data urodzenia"),
        ("osoba", "nazwisko", "   ", "brak wymaganej wartości: osoba: nazwisko"),
        ("osoba", "plec", "X", "nieznany kod w słowniku plec: osoba: płeć = X"),
        ("rejestracja", "status", "Q", "nieznany kod 'Q' w historii osoby"),
        ("wyplata", "okres_do", "2021-13-01", "niemożliwa lub nieczytelna data"),
        ("osoba", "plec", "08251007126", "nieznany kod w słowniku plec: osoba: płeć = [PESEL ukryty]"),
        ("kwalifikacja", "typ", "?", "nieznany kod w słowniku typ_kwalifikacji: kwalifikacja: typ = ?"),
        ("zatrudnienie", "stanowisko", "x" * 501, "wartość dłuższa niż 500 znaków: zatrudnienie: stanowisko"),
    ],
)
def test_a_value_the_model_cannot_carry_rejects_only_that_person_naming_it(
    copy_of: Any, table: str, column: str, value: str, reason: str
) -> None:
    path = copy_of("PUP")
    connection = sqlite3.connect(path)
    person = connection.execute(f"SELECT min(id_osoby) FROM {table}").fetchone()[0]  # noqa: S608
    connection.execute(f"UPDATE {table} SET {column} = ? WHERE id_osoby = ?", (value, person))  # noqa: S608
    connection.commit()
    connection.close()
    items = read_all(adapter_class("pup")(f"sqlite:///{path}"))  # type: ignore[call-arg]
    rejected = [i for i in items if isinstance(i, SourceRejection)]
    assert [(r.source_key, r.reason) for r in rejected] == [(f"SYR-{person}", f"Odrzucono w źródle: {reason}.")]


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
        ("[tables.osoba\n", r"nie jest poprawnym TOML: brak \] na końcu nazwy sekcji \(wiersz 1, kolumna 14\)"),
        ('[tables.osoba]\nname "X"\n', r"nie jest poprawnym TOML: po kluczu oczekiwano znaku = \(wiersz 2"),
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


def test_a_domain_database_in_a_folder_with_a_hash_is_the_one_read(tmp_path: Path) -> None:
    from demo.data import write_domain_databases

    folder = tmp_path / "baza PUP #2"
    folder.mkdir()
    write_domain_databases(5, folder, pup=12, ops=3, sr=3)
    adapter = adapter_class("pup")(f"sqlite:///{folder / 'pup-dziedzinowa.sqlite'}")  # type: ignore[call-arg]
    try:
        items = [item for batch in adapter.full(batch_size=5) for item in batch]
    finally:
        adapter.close()
    assert len(items) == 12
    assert not [p for p in tmp_path.iterdir() if p.is_file()]  # nothing opened (or made) beside the folder


@pytest.mark.parametrize("name", ["pup", "ops"])
def test_histories_are_read_in_the_order_of_an_index_not_sorted(tmp_path: Path, name: str) -> None:
    """The reference schema indexes each dated history by person and date, the order the adapter reads it
    in: SQLite walks the index and sorts nothing (a sort of every batch cost the PUP reader ~7 us a person)."""
    from sqlalchemy import create_engine

    path = tmp_path / "zrodlo.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    adapter_class(name)(f"sqlite:///{path}", connect=False).create_schema(engine)  # type: ignore[call-arg]
    engine.dispose()
    adapter = adapter_class(name)(f"sqlite:///{path}")  # type: ignore[call-arg]
    try:
        ordered = [child.name for child in adapter.children() if len(child.order_by) > 1]
        assert ordered  # histories read in date order exist (and are checked below)
        queries = adapter._statements(adapter.engine.dialect, "full", 1000)  # type: ignore[attr-defined]
        connection = sqlite3.connect(path)
        try:
            for child, query in queries.children:
                plan = " | ".join(
                    row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + query.compiled.string, (1, 1000))
                )
                assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, (child, plan)
        finally:
            connection.close()
    finally:
        adapter.close()
