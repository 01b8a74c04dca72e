"""The OPS adapter: a POMOST/TT-Pomoc-like social-assistance database → the OPS data set (OPS 1-3)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from adapters import xmlout as x
from adapters.base import ModelRecord, RowProblem
from adapters.ops.schema import SPECS
from adapters.sql import ChildQuery, SqlAdapter, labelled
from replica.sections import PackedSections


class OpsAdapter(SqlAdapter):
    """Reads the reference OPS schema (see schema.py and mapping.toml)."""

    name = "ops"
    kind = "OPS"
    data_element = "DaneOPS"
    reference_mapping = Path(__file__).with_name("mapping.toml")
    specs = SPECS

    def person_columns(self) -> Sequence[ColumnElement[Any]]:
        return labelled(
            self.tables["osoba"],
            "nazwisko",
            "imie_pierwsze",
            "imie_drugie",
            "pesel",
            "data_ur",
            "plec",
            "stan_cywilny",
            "typ_dokumentu",
            "seria_numer_dokumentu",
        )

    def in_data_set(self) -> ColumnElement[bool]:
        return self.tables["osoba"].c.czy_usunieta == 0

    def children(self) -> Sequence[ChildQuery]:
        t = self.tables

        def child(name: str, *columns: str, order: Sequence[str] = ()) -> ChildQuery:
            table = t[name]
            keys = tuple(table.c[c] for c in order) + tuple(table.primary_key.columns)
            return ChildQuery(
                name, labelled(table, *columns), table.c.id_osoby, table, (table.c.data_modyfikacji,), keys
            )

        return (
            child("adres_osoby", "rodzaj", "kod_pocztowy", "miejscowosc", "ulica", "nr_domu", "nr_mieszkania"),
            child("klient", "czy_zarejestrowany", "kod_statusu"),
            child("swiadczenie", "kod_formy", "data_od", "data_do", "kwota_brutto", "kwota_netto", order=("data_od",)),
        )

    def dictionaries(self, connection: Connection) -> dict[str, dict[str, Any]]:
        t = self.tables
        forms = select(*labelled(t["sl_forma_pomocy"], "kod_formy", "nazwa"))
        statuses = select(*labelled(t["sl_status_klienta"], "kod_statusu", "nazwa"))
        return {
            "forma": {r.kod_formy: r.nazwa for r in connection.execute(forms)},
            "status": {r.kod_statusu: r.nazwa for r in connection.execute(statuses)},
        }

    def build(
        self, person: Row[Any], rows: dict[str, list[Row[Any]]], dictionaries: dict[str, dict[str, Any]]
    ) -> ModelRecord:
        m = self.mapping
        key = person._klucz
        address_xml = x.addresses(
            x.address(
                m.code("rodzaj_adresu", a.rodzaj, "adres"),
                a.kod_pocztowy,
                a.miejscowosc,
                a.ulica,
                a.nr_domu,
                a.nr_mieszkania,
                "adres",
            )
            for a in rows["adres_osoby"]
        )
        document_kind = m.optional_code("typ_dokumentu", person.typ_dokumentu, "osoba: typ dokumentu")
        personal = x.personal(
            surname=person.nazwisko,
            first_name=person.imie_pierwsze,
            second_name=person.imie_drugie,
            pesel=person.pesel,
            birth_date=person.data_ur,
            document_kind=document_kind,
            document_number=person.seria_numer_dokumentu,
            sex=m.code("plec", person.plec, "osoba: płeć"),
            marital=m.optional_code("stan_cywilny", person.stan_cywilny, "osoba: stan cywilny"),
            address_xml=address_xml,
        )
        sections = [x.section("DaneOsobowe", personal)]
        clients = rows["klient"]
        if clients:
            client = clients[-1]
            status = dictionaries["status"].get(client.kod_statusu) if client.kod_statusu else None
            if client.kod_statusu and status is None:
                raise RowProblem(f"nieznany kod statusu klienta: {client.kod_statusu}")
            sections.append(
                x.section(
                    "InformacjeOgolne",
                    x.flag("CzyZarejestrowana", client.czy_zarejestrowany)
                    + x.text("StatusWJednostce", status, "status"),
                )
            )
        benefits = []
        for r in rows["swiadczenie"]:
            name = dictionaries["forma"].get(r.kod_formy)
            if name is None:
                raise RowProblem(f"nieznana forma pomocy: {r.kod_formy}")
            benefits.append(
                x.wrap(
                    "Swiadczenie",
                    x.text("Nazwa", name, "świadczenie: nazwa", required=True)
                    + x.date("DataOd", r.data_od, "świadczenie: data od", required=True)
                    + x.date("DataDo", r.data_do, "świadczenie: data do")
                    + x.amount("KwotaBrutto", r.kwota_brutto, "świadczenie: brutto")
                    + x.amount("KwotaNetto", r.kwota_netto, "świadczenie: netto"),
                )
            )
        if benefits:
            sections.append(x.section("Swiadczenia", "".join(benefits)))
        number = person.seria_numer_dokumentu
        return ModelRecord(
            source_key=self.source_key(key),
            position=str(key),
            deleted=False,
            data_element=self.data_element,
            pesel=person.pesel or None,
            surname=person.nazwisko,
            first_name=person.imie_pierwsze,
            birth_date=x.as_date(person.data_ur),
            document_kind=document_kind if number else None,
            document_number=str(number).replace(" ", "").upper() if number else None,
            sections=PackedSections.of(sections),
        )
