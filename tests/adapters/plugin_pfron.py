"""A fourth kind of data set as its own package: PFRON-like disability certificates ("orzeczenia").

Importing the module registers the kind with the hub's catalog (`catalog.register`); the adapter is
found through the `platforma.adapters` entry point the test installs. Nothing of the hub's core changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import ColumnElement

from adapters import xmlout as x
from adapters.base import ModelRecord
from adapters.sql import ChildQuery, Col, SourceDate, SqlAdapter, TableSpec, labelled
from contract import catalog

KIND = catalog.DataSetKind(
    code="PFRON",
    title="Orzecznictwo o niepełnosprawności (przykład czwartego zbioru)",
    data_element="DanePFRON",
    categories=(
        catalog.Category("DANE_OSOBOWE", "DaneOsobowe", "Dane osobowe", "PFRON 1"),
        catalog.Category("ORZECZENIA", "Orzeczenia", "Orzeczenia o niepełnosprawności", "PFRON 2"),
    ),
)
catalog.register(KIND)

MOD = Col("data_modyfikacji", DateTime, nullable=False, index=True)
SPECS = (
    TableSpec(
        "osoba",
        "Osoba z orzeczeniem.",
        (
            Col("id_osoby", Integer, primary_key=True),
            Col("nazwisko", String(100), nullable=False),
            Col("imie", String(60), nullable=False),
            Col("pesel", String(11)),
            Col("data_urodzenia", SourceDate, nullable=False),
            Col("plec", String(1), nullable=False),
            MOD,
        ),
    ),
    TableSpec(
        "orzeczenie",
        "Orzeczenia o stopniu niepełnosprawności.",
        (
            Col("id_orzeczenia", Integer, primary_key=True),
            Col("id_osoby", Integer, nullable=False, index=True, references=("osoba", "id_osoby")),
            Col("stopien", String(20), nullable=False),
            Col("data_wydania", SourceDate, nullable=False),
            MOD,
        ),
    ),
)


class PfronAdapter(SqlAdapter):
    """Reads the tiny PFRON-like schema above."""

    name = "pfron"
    kind = "PFRON"
    data_element = "DanePFRON"
    reference_mapping = Path(__file__).with_name("plugin_pfron.toml")
    specs = SPECS

    def person_columns(self) -> Sequence[ColumnElement[Any]]:
        return labelled(self.tables["osoba"], "nazwisko", "imie", "pesel", "data_urodzenia", "plec")

    def children(self) -> Sequence[ChildQuery]:
        table = self.tables["orzeczenie"]
        return (
            ChildQuery(
                "orzeczenie",
                labelled(table, "stopien", "data_wydania"),
                table.c.id_osoby,
                table,
                (table.c.data_modyfikacji,),
                (table.c.data_wydania,),
            ),
        )

    def build(self, person: Row[Any], rows: dict[str, list[Row[Any]]], dictionaries: dict[str, Any]) -> ModelRecord:
        personal = x.personal(
            surname=person.nazwisko,
            first_name=person.imie,
            second_name=None,
            pesel=person.pesel,
            birth_date=person.data_urodzenia,
            document_kind=None,
            document_number=None,
            sex=person.plec,
            marital=None,
            address_xml="",
        )
        decisions = "".join(
            x.wrap(
                "Orzeczenie", x.text("Stopien", r.stopien, "stopień") + x.date("DataWydania", r.data_wydania, "data")
            )
            for r in rows["orzeczenie"]
        )
        return ModelRecord(
            source_key=f"PFR-{person._klucz}",
            position=str(person._klucz),
            deleted=False,
            data_element=self.data_element,
            pesel=person.pesel,
            surname=person.nazwisko,
            first_name=person.imie,
            birth_date=x.as_date(person.data_urodzenia),
            sections=(x.section("DaneOsobowe", personal), x.section("Orzeczenia", decisions)),
        )
