"""The SR adapter: a family-benefits database → the SR data set (SR 1.1, 1.2, 2, 3).

The data set holds the subjects of decisions (people with at least one decision); their children come
from the decisions' children with full personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from adapters import xmlout as x
from adapters.base import ModelRecord, RowProblem
from adapters.sql import ChildQuery, SqlAdapter, labelled
from adapters.sr.schema import SPECS
from replica.sections import PackedSections

PERSON = (
    "nazwisko",
    "imie",
    "imie_drugie",
    "pesel",
    "data_urodzenia",
    "plec",
    "stan_cywilny",
    "typ_dokumentu",
    "nr_dokumentu",
)


class SrAdapter(SqlAdapter):
    """Reads the reference SR schema (see schema.py and mapping.toml)."""

    name = "sr"
    kind = "SR"
    data_element = "DaneSR"
    reference_mapping = Path(__file__).with_name("mapping.toml")
    specs = SPECS

    def person_columns(self) -> Sequence[ColumnElement[Any]]:
        return labelled(self.tables["osoba"], *PERSON)

    def in_data_set(self) -> ColumnElement[bool]:
        person, decision = self.tables["osoba"], self.tables["decyzja"]
        return (person.c.czy_usunieta == 0) & exists().where(decision.c.id_osoby == person.c.id_osoby)

    def journal_sources(self) -> Sequence[tuple[str, str]]:
        decision = self.tables["decyzja"]
        # Names from the schema and the mapping file, never from data.
        subject, number = decision.c.id_osoby.name, decision.c.id_decyzji.name
        via_decision = f"(SELECT d.{subject} FROM {decision.name} d WHERE d.{number} = OLD.{{column}})"  # noqa: S608
        sources: list[tuple[str, str]] = [
            ("osoba", f"OLD.{self.tables['osoba'].c.id_osoby.name}"),
            ("adres", f"OLD.{self.tables['adres'].c.id_osoby.name}"),
            ("decyzja", f"OLD.{decision.c.id_osoby.name}"),
        ]
        for name in ("decyzja_swiadczenie", "decyzja_dziecko", "wyplata"):
            sources.append((name, via_decision.format(column=self.tables[name].c.id_decyzji.name)))
        return sources

    def journal_related(self, journaled: Select[Any]) -> list[Select[Any]]:
        """The parents of the children journaled: a child's address (or the child) deleted changes the
        parent's `Dzieci` section, and the journal names the child."""
        decision, link = self.tables["decyzja"], self.tables["decyzja_dziecko"]
        parents = (
            select(decision.c.id_osoby.label("k"))
            .select_from(link.join(decision, link.c.id_decyzji == decision.c.id_decyzji))
            .where(link.c.id_osoby_dziecka.in_(journaled))
        )
        return [parents]

    def children(self) -> Sequence[ChildQuery]:
        t = self.tables
        decision = t["decyzja"]
        child_person = t["osoba"].alias("dziecko")
        child_address = t["adres"].alias("adres_dziecka")
        link = t["decyzja_dziecko"]

        def via_decision(name: str, *columns: str, order: Sequence[str]) -> ChildQuery:
            table = t[name]
            return ChildQuery(
                name,
                labelled(table, *columns),
                decision.c.id_osoby,
                table.join(decision, table.c.id_decyzji == decision.c.id_decyzji),
                (table.c.data_modyfikacji, decision.c.data_modyfikacji),
                tuple(table.c[c] for c in order) + tuple(table.primary_key.columns),
            )

        address = t["adres"]
        return (
            ChildQuery(
                "adres",
                labelled(address, "typ_adresu", "kod_pocztowy", "miejscowosc", "ulica", "nr_domu", "nr_lokalu"),
                address.c.id_osoby,
                address,
                (address.c.data_modyfikacji,),
                tuple(address.primary_key.columns),
            ),
            ChildQuery(
                "decyzja_swiadczenie",
                [
                    *labelled(t["decyzja_swiadczenie"], "kod_swiadczenia", "data_od", "data_do", "kwota"),
                    decision.c.numer_decyzji.label("numer_decyzji"),
                ],
                decision.c.id_osoby,
                t["decyzja_swiadczenie"].join(decision, t["decyzja_swiadczenie"].c.id_decyzji == decision.c.id_decyzji),
                (t["decyzja_swiadczenie"].c.data_modyfikacji, decision.c.data_modyfikacji),
                (t["decyzja_swiadczenie"].c.data_od, t["decyzja_swiadczenie"].c.id_pozycji),
            ),
            ChildQuery(
                "dzieci",
                [child_person.c.id_osoby.label("id_dziecka"), decision.c.numer_decyzji.label("numer_decyzji")]
                + [child_person.c[c].label(c) for c in PERSON],
                decision.c.id_osoby,
                link.join(decision, link.c.id_decyzji == decision.c.id_decyzji).join(
                    child_person, link.c.id_osoby_dziecka == child_person.c.id_osoby
                ),
                (link.c.data_modyfikacji, child_person.c.data_modyfikacji, decision.c.data_modyfikacji),
                (child_person.c.data_urodzenia, child_person.c.id_osoby),
            ),
            ChildQuery(
                "adresy_dzieci",
                [child_address.c.id_osoby.label("id_dziecka")]
                + [
                    child_address.c[c].label(c)
                    for c in ("typ_adresu", "kod_pocztowy", "miejscowosc", "ulica", "nr_domu", "nr_lokalu")
                ],
                decision.c.id_osoby,
                link.join(decision, link.c.id_decyzji == decision.c.id_decyzji).join(
                    child_address, link.c.id_osoby_dziecka == child_address.c.id_osoby
                ),
                (child_address.c.data_modyfikacji,),
                (child_address.c.id_adresu,),
            ),
            via_decision("wyplata", "kod_swiadczenia", "data_wyplaty", "kwota", order=("data_wyplaty",)),
        )

    def dictionaries(self, connection: Connection) -> dict[str, dict[str, Any]]:
        table = self.tables["sl_swiadczenie_rodzinne"]
        return {"swiadczenie": {r.kod: r.nazwa for r in connection.execute(select(*labelled(table, "kod", "nazwa")))}}

    def _personal(self, person: Row[Any], addresses: Sequence[Row[Any]], what: str) -> tuple[str, str | None]:
        m = self.mapping
        address_xml = x.addresses(
            x.address(
                m.code("typ_adresu", a.typ_adresu, f"{what}: adres"),
                a.kod_pocztowy,
                a.miejscowosc,
                a.ulica,
                a.nr_domu,
                a.nr_lokalu,
                f"{what}: adres",
            )
            for a in addresses
        )
        document_kind = m.optional_code("typ_dokumentu", person.typ_dokumentu, f"{what}: typ dokumentu")
        body = x.personal(
            surname=person.nazwisko,
            first_name=person.imie,
            second_name=person.imie_drugie,
            pesel=person.pesel,
            birth_date=person.data_urodzenia,
            document_kind=document_kind,
            document_number=person.nr_dokumentu,
            sex=m.code("plec", person.plec, f"{what}: płeć"),
            marital=m.optional_code("stan_cywilny", person.stan_cywilny, f"{what}: stan cywilny"),
            address_xml=address_xml,
            what=what,
        )
        return body, document_kind

    def build(
        self, person: Row[Any], rows: dict[str, list[Row[Any]]], dictionaries: dict[str, dict[str, Any]]
    ) -> ModelRecord:
        key = person._klucz
        names = dictionaries["swiadczenie"]

        def benefit(code: Any, what: str) -> str:
            name = names.get(code)
            if name is None:
                raise RowProblem(f"nieznany kod świadczenia: {what} = {code}")
            return str(name)

        body, document_kind = self._personal(person, rows["adres"], "osoba")
        sections = [x.section("DaneOsobowe", body)]
        child_addresses: dict[Any, list[Row[Any]]] = {}
        for row in rows["adresy_dzieci"]:
            bucket = child_addresses.setdefault(row.id_dziecka, [])
            if row not in bucket:  # one child on several decisions: the same address once
                bucket.append(row)
        children, seen = [], set()
        for child in rows["dzieci"]:
            if child.id_dziecka in seen:
                continue
            seen.add(child.id_dziecka)
            child_body, _kind = self._personal(child, child_addresses.get(child.id_dziecka, []), "dziecko")
            children.append(x.wrap("Dziecko", child_body))
        if children:
            sections.append(x.section("DaneDzieci", "".join(children)))
        granted = "".join(
            x.wrap(
                "PrzyznaneSwiadczenie",
                x.text("Rodzaj", benefit(r.kod_swiadczenia, "decyzja"), "decyzja: rodzaj", required=True)
                + x.text("NumerDecyzji", r.numer_decyzji, "decyzja: numer")
                + x.date("DataOd", r.data_od, "decyzja: data od", required=True)
                + x.date("DataDo", r.data_do, "decyzja: data do")
                + x.amount("Kwota", r.kwota, "decyzja: kwota"),
            )
            for r in rows["decyzja_swiadczenie"]
        )
        if granted:
            sections.append(x.section("PrzyznaneSwiadczenia", granted))
        paid = "".join(
            x.wrap(
                "Wyplata",
                x.text("Rodzaj", benefit(r.kod_swiadczenia, "wypłata"), "wypłata: rodzaj", required=True)
                + x.date("DataWyplaty", r.data_wyplaty, "wypłata: data", required=True)
                + x.amount("Kwota", r.kwota, "wypłata: kwota"),
            )
            for r in rows["wyplata"]
        )
        if paid:
            sections.append(x.section("WyplaconeSwiadczenia", paid))
        return ModelRecord(
            source_key=self.source_key(key),
            position=str(key),
            deleted=False,
            data_element=self.data_element,
            pesel=person.pesel or None,
            surname=person.nazwisko,
            first_name=person.imie,
            birth_date=x.as_date(person.data_urodzenia),
            document_kind=document_kind if person.nr_dokumentu else None,
            document_number=str(person.nr_dokumentu).replace(" ", "").upper() if person.nr_dokumentu else None,
            sections=PackedSections.of(sections),
        )
