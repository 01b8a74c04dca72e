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

        try:
            self._histories(rows, dictionaries, sections)
        except KeyError as error:
            raise RowProblem(f"nieznany kod {error.args[0]!r} w historii osoby") from None
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

    def _histories(
        self, rows: dict[str, list[Row[Any]]], dictionaries: dict[str, dict[str, Any]], out: list[tuple[str, bytes]]
    ) -> None:
        """The history sections in model order. Hot path: formatted with C-speed lookups (xmlout.ISO, TXT,
        AMT) and the mapping's code lists; a missing or impossible value raises `RowProblem`."""
        codes = self.mapping.codes
        iso, txt, amt = x.ISO, x.TXT, x.AMT
        reasons, benefits = dictionaries["przyczyna"], dictionaries["swiadczenie"]
        status_codes, outcome_codes = codes["status_rejestracji"], codes["zakonczenie_szkolenia"]
        section = x.section

        parts = []
        for r in rows["rejestracja"]:
            end = r.data_wyrejestrowania
            closed = f"<m:DataDo>{iso[end]}</m:DataDo>" if end is not None else ""
            removal = ""
            if r.kod_przyczyny and end is not None:
                removal = (
                    f"<m:DataWykreslenia>{iso[end]}</m:DataWykreslenia>"
                    f"<m:PrzyczynaWykreslenia>{txt[reasons.get(r.kod_przyczyny, r.kod_przyczyny)]}"
                    "</m:PrzyczynaWykreslenia>"
                )
            parts.append(
                f"<m:OkresRejestracji><m:DataOd>{iso[r.data_rejestracji]}</m:DataOd>{closed}"
                f"<m:Status>{status_codes[r.status]}</m:Status>{removal}</m:OkresRejestracji>"
            )
        if parts:
            out.append(section("OkresyRejestracji", "".join(parts)))
        parts = []
        for r in rows["decyzja_swiadczenie"]:
            until = f"<m:DataDo>{iso[r.data_do]}</m:DataDo>" if r.data_do is not None else ""
            parts.append(
                f"<m:PrzyznaneSwiadczenie><m:Nazwa>{txt[benefits[r.kod_swiadczenia].nazwa]}</m:Nazwa>"
                f"<m:DataOd>{iso[r.data_od]}</m:DataOd>{until}</m:PrzyznaneSwiadczenie>"
            )
        if parts:
            out.append(section("PrzyznaneSwiadczenia", "".join(parts)))
        allowances, others = [], []
        for r in rows["wyplata"]:
            benefit = benefits[r.kod_swiadczenia]
            period = (
                f"<m:DataOd>{iso[r.okres_od]}</m:DataOd><m:DataDo>{iso[r.okres_do]}</m:DataDo>"
                f"<m:KwotaBrutto>{amt[r.kwota_brutto]}</m:KwotaBrutto><m:KwotaNetto>{amt[r.kwota_netto]}</m:KwotaNetto>"
            )
            if benefit.rodzaj == "Z":
                allowances.append(f"<m:PobranyZasilek>{period}</m:PobranyZasilek>")
            else:
                others.append(f"<m:InneSwiadczenie><m:Nazwa>{txt[benefit.nazwa]}</m:Nazwa>{period}</m:InneSwiadczenie>")
        if allowances:
            out.append(section("PobraneZasilki", "".join(allowances)))
        if others:
            out.append(section("InneSwiadczenia", "".join(others)))
        trainings, jobs = [], []
        offer_kinds = codes["typ_propozycji"]
        for r in rows["propozycja"]:
            head = (
                f"<m:DataPrzedlozenia>{iso[r.data_przedlozenia]}</m:DataPrzedlozenia>"
                + x.flag("CzyPrzyjeta", r.czy_przyjeta)
                + x.flag("CzyOdmowaUzasadniona", r.czy_odmowa_uzasadniona)
            )
            if offer_kinds[r.typ] == "SZKOLENIE":
                trainings.append(
                    f"<m:PropozycjaSzkolenia>{head}<m:Szkolenie>{txt[r.opis]}</m:Szkolenie></m:PropozycjaSzkolenia>"
                )
            else:
                jobs.append(
                    f"<m:PropozycjaPracy>{head}<m:Stanowisko>{txt[r.opis]}</m:Stanowisko>"
                    f"<m:RodzajPropozycji>{txt[r.rodzaj_oferty]}</m:RodzajPropozycji></m:PropozycjaPracy>"
                )
        if trainings:
            out.append(section("PropozycjeSzkolen", "".join(trainings)))
        parts = []
        for r in rows["szkolenie"]:
            finished = (
                f"<m:DataZakonczenia>{iso[r.data_zakonczenia]}</m:DataZakonczenia>"
                if r.data_zakonczenia is not None
                else ""
            )
            parts.append(
                f"<m:SzkolenieOdbyte><m:DataSkierowania>{iso[r.data_skierowania]}</m:DataSkierowania>"
                f"<m:ZakresTematyczny>{txt[r.temat]}</m:ZakresTematyczny>"
                f"<m:SposobZakonczenia>{outcome_codes[r.kod_zakonczenia]}</m:SposobZakonczenia>"
                f"<m:DataRozpoczecia>{iso[r.data_rozpoczecia]}</m:DataRozpoczecia>{finished}</m:SzkolenieOdbyte>"
            )
        if parts:
            out.append(section("SzkoleniaOdbyte", "".join(parts)))
        if jobs:
            out.append(section("PropozycjePracy", "".join(jobs)))
        qualifications = self._qualifications(rows["kwalifikacja"])
        if qualifications:
            out.append(section("WyksztalcenieIKwalifikacje", qualifications))
        parts = []
        for r in rows["kontakt"]:
            actual = (
                f"<m:DataFaktyczna>{iso[r.data_faktyczna]}</m:DataFaktyczna>" if r.data_faktyczna is not None else ""
            )
            parts.append(
                f"<m:Wizyta><m:RodzajWizyty>{txt[r.rodzaj]}</m:RodzajWizyty><m:Miejsce>{txt[r.miejsce]}</m:Miejsce>"
                f"<m:DataPlanowana>{iso[r.data_planowana]}</m:DataPlanowana>{actual}</m:Wizyta>"
            )
        if parts:
            out.append(section("Wizyty", "".join(parts)))
        parts = []
        for r in rows["zatrudnienie"]:
            until = f"<m:DataDo>{iso[r.data_do]}</m:DataDo>" if r.data_do is not None else ""
            occupation = x.text("Zawod", r.zawod, "zatrudnienie: zawód")
            position = x.text("Stanowisko", r.stanowisko, "zatrudnienie: stanowisko")
            parts.append(
                f"<m:Zatrudnienie><m:RodzajZatrudnienia>{txt[r.rodzaj_umowy]}</m:RodzajZatrudnienia>"
                f"<m:DataOd>{iso[r.data_od]}</m:DataOd>{until}<m:Pracodawca>{txt[r.pracodawca]}</m:Pracodawca>"
                f"{occupation}{position}</m:Zatrudnienie>"
            )
        if parts:
            out.append(section("HistoriaZatrudnienia", "".join(parts)))
        parts = []
        for r in rows["historia_statusu"]:
            description = x.text("Opis", r.opis, "status: opis")
            parts.append(
                f"<m:ZmianaStatusu><m:DataZmiany>{iso[r.data_zmiany]}</m:DataZmiany><m:Rodzaj>{txt[r.rodzaj]}</m:Rodzaj>"
                f"<m:Typ>{txt[r.typ]}</m:Typ>{description}</m:ZmianaStatusu>"
            )
        if parts:
            out.append(section("HistoriaStatusow", "".join(parts)))

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
