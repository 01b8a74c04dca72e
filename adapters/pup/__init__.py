"""The PUP adapter: a Syriusz-like labour-office database → the PUP data set (guideline PUP 1-9)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from adapters import xmlout as x
from adapters.base import ModelRecord, RowProblem
from adapters.pup.schema import SPECS
from adapters.sql import ChildQuery, SqlAdapter, labelled


class PupAdapter(SqlAdapter):
    """Reads the reference PUP schema (see schema.py and mapping.toml)."""

    name = "pup"
    kind = "PUP"
    data_element = "DanePUP"
    reference_mapping = Path(__file__).with_name("mapping.toml")
    specs = SPECS

    def person_columns(self) -> Sequence[ColumnElement[Any]]:
        return labelled(
            self.tables["osoba"],
            "nazwisko",
            "imie",
            "imie_drugie",
            "pesel",
            "data_urodzenia",
            "plec",
            "kod_stanu_cywilnego",
            "rodzaj_dokumentu",
            "nr_dokumentu",
        )

    def in_data_set(self) -> ColumnElement[bool]:
        return self.tables["osoba"].c.czy_usunieta == 0

    def children(self) -> Sequence[ChildQuery]:
        t = self.tables

        def child(name: str, *columns: str, order: Sequence[str] = ()) -> ChildQuery:
            table = t[name]
            return ChildQuery(
                name,
                labelled(table, *columns),
                table.c.id_osoby,
                table,
                (table.c.data_modyfikacji,),
                tuple(table.c[c] for c in order) + tuple(c for c in table.primary_key.columns),
            )

        return (
            child("adres", "typ_adresu", "kod_pocztowy", "miejscowosc", "ulica", "nr_domu", "nr_lokalu"),
            child(
                "rejestracja",
                "data_rejestracji",
                "data_wyrejestrowania",
                "status",
                "kod_przyczyny",
                order=("data_rejestracji",),
            ),
            child("decyzja_swiadczenie", "kod_swiadczenia", "data_od", "data_do", order=("data_od",)),
            child(
                "wyplata",
                "kod_swiadczenia",
                "okres_od",
                "okres_do",
                "kwota_brutto",
                "kwota_netto",
                order=("okres_od",),
            ),
            child(
                "propozycja",
                "typ",
                "data_przedlozenia",
                "czy_przyjeta",
                "czy_odmowa_uzasadniona",
                "opis",
                "rodzaj_oferty",
                order=("data_przedlozenia",),
            ),
            child(
                "szkolenie",
                "data_skierowania",
                "temat",
                "kod_zakonczenia",
                "data_rozpoczecia",
                "data_zakonczenia",
                order=("data_skierowania",),
            ),
            child(
                "kwalifikacja",
                "typ",
                "nazwa",
                "kod_zawodu",
                "rodzaj_zawodu",
                "poziom_mowa",
                "poziom_pismo",
                "poziom_czytanie",
            ),
            child("kontakt", "rodzaj", "miejsce", "data_planowana", "data_faktyczna", order=("data_planowana",)),
            child(
                "zatrudnienie",
                "rodzaj_umowy",
                "data_od",
                "data_do",
                "pracodawca",
                "zawod",
                "stanowisko",
                order=("data_od",),
            ),
            child("historia_statusu", "data_zmiany", "rodzaj", "typ", "opis", order=("data_zmiany",)),
        )

    def dictionaries(self, connection: Connection) -> dict[str, dict[str, Any]]:
        t = self.tables
        return {
            "swiadczenie": {
                r.kod: r for r in connection.execute(select(*labelled(t["sl_swiadczenie"], "kod", "nazwa", "rodzaj")))
            },
            "przyczyna": {
                r.kod: r.nazwa
                for r in connection.execute(select(*labelled(t["sl_przyczyna_wyrejestrowania"], "kod", "nazwa")))
            },
        }

    def build(
        self, person: Row[Any], rows: dict[str, list[Row[Any]]], dictionaries: dict[str, dict[str, Any]]
    ) -> ModelRecord:
        m = self.mapping
        key = person._klucz
        sections: list[tuple[str, bytes]] = []
        address_xml = x.addresses(
            x.address(
                m.code("typ_adresu", a.typ_adresu, "adres"),
                a.kod_pocztowy,
                a.miejscowosc,
                a.ulica,
                a.nr_domu,
                a.nr_lokalu,
                "adres",
            )
            for a in rows["adres"]
        )
        document_kind = m.optional_code("rodzaj_dokumentu", person.rodzaj_dokumentu, "osoba: rodzaj dokumentu")
        personal = x.personal(
            surname=person.nazwisko,
            first_name=person.imie,
            second_name=person.imie_drugie,
            pesel=person.pesel,
            birth_date=person.data_urodzenia,
            document_kind=document_kind,
            document_number=person.nr_dokumentu,
            sex=m.code("plec", person.plec, "osoba: płeć"),
            marital=m.optional_code("stan_cywilny", person.kod_stanu_cywilnego, "osoba: stan cywilny"),
            address_xml=address_xml,
        )
        sections.append(x.section("DaneOsobowe", personal))

        periods = "".join(
            x.wrap(
                "OkresRejestracji",
                x.date("DataOd", r.data_rejestracji, "rejestracja: data rejestracji", required=True)
                + x.date("DataDo", r.data_wyrejestrowania, "rejestracja: data wyrejestrowania")
                + x.el("Status", m.code("status_rejestracji", r.status, "rejestracja: status"))
                + (
                    x.date("DataWykreslenia", r.data_wyrejestrowania, "rejestracja: data wyrejestrowania")
                    + x.text(
                        "PrzyczynaWykreslenia",
                        dictionaries["przyczyna"].get(r.kod_przyczyny, r.kod_przyczyny),
                        "rejestracja: przyczyna",
                    )
                    if r.kod_przyczyny and r.data_wyrejestrowania is not None
                    else ""
                ),
            )
            for r in rows["rejestracja"]
        )
        self._add(sections, "OkresyRejestracji", periods)
        benefits = dictionaries["swiadczenie"]

        def benefit_name(code: Any, what: str) -> str:
            entry = benefits.get(code)
            if entry is None:
                raise RowProblem(f"nieznany kod świadczenia: {what} = {code}")
            return str(entry.nazwa)

        granted = "".join(
            x.wrap(
                "PrzyznaneSwiadczenie",
                x.text("Nazwa", benefit_name(r.kod_swiadczenia, "decyzja"), "decyzja: nazwa", required=True)
                + x.date("DataOd", r.data_od, "decyzja: data od", required=True)
                + x.date("DataDo", r.data_do, "decyzja: data do"),
            )
            for r in rows["decyzja_swiadczenie"]
        )
        self._add(sections, "PrzyznaneSwiadczenia", granted)
        allowances, others = [], []
        for r in rows["wyplata"]:
            name = benefit_name(r.kod_swiadczenia, "wypłata")
            period = (
                x.date("DataOd", r.okres_od, "wypłata: okres od", required=True)
                + x.date("DataDo", r.okres_do, "wypłata: okres do", required=True)
                + x.amount("KwotaBrutto", r.kwota_brutto, "wypłata: brutto")
                + x.amount("KwotaNetto", r.kwota_netto, "wypłata: netto")
            )
            if benefits[r.kod_swiadczenia].rodzaj == "Z":
                allowances.append(x.wrap("PobranyZasilek", period))
            else:
                others.append(x.wrap("InneSwiadczenie", x.text("Nazwa", name, "wypłata: nazwa") + period))
        self._add(sections, "PobraneZasilki", "".join(allowances))
        self._add(sections, "InneSwiadczenia", "".join(others))
        trainings, jobs = [], []
        for r in rows["propozycja"]:
            head = (
                x.date("DataPrzedlozenia", r.data_przedlozenia, "propozycja: data", required=True)
                + x.flag("CzyPrzyjeta", r.czy_przyjeta)
                + x.flag("CzyOdmowaUzasadniona", r.czy_odmowa_uzasadniona)
            )
            kind = m.code("typ_propozycji", r.typ, "propozycja: typ")
            if kind == "SZKOLENIE":
                trainings.append(
                    x.wrap(
                        "PropozycjaSzkolenia",
                        head + x.text("Szkolenie", r.opis, "propozycja: szkolenie", required=True),
                    )
                )
            else:
                jobs.append(
                    x.wrap(
                        "PropozycjaPracy",
                        head
                        + x.text("Stanowisko", r.opis, "propozycja: stanowisko", required=True)
                        + x.text("RodzajPropozycji", r.rodzaj_oferty, "propozycja: rodzaj", required=True),
                    )
                )
        self._add(sections, "PropozycjeSzkolen", "".join(trainings))
        attended = "".join(
            x.wrap(
                "SzkolenieOdbyte",
                x.date("DataSkierowania", r.data_skierowania, "szkolenie: data skierowania", required=True)
                + x.text("ZakresTematyczny", r.temat, "szkolenie: temat", required=True)
                + x.el(
                    "SposobZakonczenia", m.code("zakonczenie_szkolenia", r.kod_zakonczenia, "szkolenie: zakończenie")
                )
                + x.date("DataRozpoczecia", r.data_rozpoczecia, "szkolenie: rozpoczęcie", required=True)
                + x.date("DataZakonczenia", r.data_zakonczenia, "szkolenie: zakończenie"),
            )
            for r in rows["szkolenie"]
        )
        self._add(sections, "SzkoleniaOdbyte", attended)
        self._add(sections, "PropozycjePracy", "".join(jobs))
        self._add(sections, "WyksztalcenieIKwalifikacje", self._qualifications(rows["kwalifikacja"]))
        visits = "".join(
            x.wrap(
                "Wizyta",
                x.text("RodzajWizyty", r.rodzaj, "kontakt: rodzaj", required=True)
                + x.text("Miejsce", r.miejsce, "kontakt: miejsce", required=True)
                + x.date("DataPlanowana", r.data_planowana, "kontakt: data planowana", required=True)
                + x.date("DataFaktyczna", r.data_faktyczna, "kontakt: data faktyczna"),
            )
            for r in rows["kontakt"]
        )
        self._add(sections, "Wizyty", visits)
        employment = "".join(
            x.wrap(
                "Zatrudnienie",
                x.text("RodzajZatrudnienia", r.rodzaj_umowy, "zatrudnienie: rodzaj", required=True)
                + x.date("DataOd", r.data_od, "zatrudnienie: od", required=True)
                + x.date("DataDo", r.data_do, "zatrudnienie: do")
                + x.text("Pracodawca", r.pracodawca, "zatrudnienie: pracodawca", required=True)
                + x.text("Zawod", r.zawod, "zatrudnienie: zawód")
                + x.text("Stanowisko", r.stanowisko, "zatrudnienie: stanowisko"),
            )
            for r in rows["zatrudnienie"]
        )
        self._add(sections, "HistoriaZatrudnienia", employment)
        statuses = "".join(
            x.wrap(
                "ZmianaStatusu",
                x.date("DataZmiany", r.data_zmiany, "status: data zmiany", required=True)
                + x.text("Rodzaj", r.rodzaj, "status: rodzaj", required=True)
                + x.text("Typ", r.typ, "status: typ", required=True)
                + x.text("Opis", r.opis, "status: opis"),
            )
            for r in rows["historia_statusu"]
        )
        self._add(sections, "HistoriaStatusow", statuses)
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
            sections=tuple(sections),
        )

    def _qualifications(self, rows: list[Row[Any]]) -> str:
        m = self.mapping
        parts: dict[str, list[str]] = {"W": [], "Z": [], "U": [], "J": [], "M": []}
        for r in rows:
            kind = m.code("typ_kwalifikacji", r.typ, "kwalifikacja: typ")
            if kind == "WYKSZTALCENIE":
                parts["W"].append(x.text("RodzajWyksztalcenia", r.nazwa, "wykształcenie", required=True))
            elif kind == "ZAWOD":
                code = r.kod_zawodu if r.kod_zawodu and len(str(r.kod_zawodu)) == 6 else None
                parts["Z"].append(
                    x.wrap(
                        "Zawod",
                        x.text("Nazwa", r.nazwa, "zawód", required=True)
                        + x.el("KodZawodu", code)
                        + x.el("Rodzaj", m.code("rodzaj_zawodu", r.rodzaj_zawodu, "zawód: rodzaj")),
                    )
                )
            elif kind == "UPRAWNIENIE":
                parts["U"].append(x.text("Uprawnienie", r.nazwa, "uprawnienie", required=True))
            elif kind == "JEZYK":
                parts["J"].append(
                    x.wrap(
                        "JezykObcy",
                        x.text("Nazwa", r.nazwa, "język", required=True)
                        + x.el("Mowa", m.code("poziom_jezyka", r.poziom_mowa, "język: mowa"))
                        + x.el("Pismo", m.code("poziom_jezyka", r.poziom_pismo, "język: pismo"))
                        + x.el("Czytanie", m.code("poziom_jezyka", r.poziom_czytanie, "język: czytanie")),
                    )
                )
            else:
                parts["M"].append(x.text("Umiejetnosc", r.nazwa, "umiejętność", required=True))
        body = ""
        for letter, name in (
            ("W", "Wyksztalcenia"),
            ("Z", "Zawody"),
            ("U", "Uprawnienia"),
            ("J", "JezykiObce"),
            ("M", "Umiejetnosci"),
        ):
            if parts[letter]:
                body += x.wrap(name, "".join(parts[letter]))
        return body

    @staticmethod
    def _add(sections: list[tuple[str, bytes]], name: str, body: str) -> None:
        if body:
            sections.append(x.section(name, body))
