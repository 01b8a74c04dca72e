"""The PUP adapter: a Syriusz-like labour-office database → the PUP data set (guideline PUP 1-9)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from adapters import xmlout as x
from adapters.base import MODEL_NS, ModelRecord, RowProblem, escape
from adapters.mapping import Mapping
from adapters.pup.schema import SPECS
from adapters.sql import ChildQuery, SourceRow, SqlAdapter, labelled
from replica.sections import PackedSections


class PupAdapter(SqlAdapter):
    """Reads the reference PUP schema (see schema.py and mapping.toml)."""

    name = "pup"
    kind = "PUP"
    data_element = "DanePUP"
    reference_mapping = Path(__file__).with_name("mapping.toml")
    specs = SPECS
    named_rows = False  # `build` unpacks plain tuples: the columns below are in the order it reads them

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
        benefits = {
            r.kod: r for r in connection.execute(select(*labelled(t["sl_swiadczenie"], "kod", "nazwa", "rodzaj")))
        }

        def benefit_name(code: Any) -> str:
            return f"<m:Nazwa>{x.TXT[benefits[code].nazwa]}</m:Nazwa>"  # KeyError: an unknown code

        return {
            # Per benefit code, as the hot path reads them: the kind, and the name element (made when first
            # used; an unknown code is a KeyError either way).
            "rodzaj_swiadczenia": {code: row.rodzaj for code, row in benefits.items()},
            "nazwa_swiadczenia": x.Lookup(benefit_name),
            "przyczyna": {
                r.kod: r.nazwa
                for r in connection.execute(select(*labelled(t["sl_przyczyna_wyrejestrowania"], "kod", "nazwa")))
            },
        }

    def build(
        self, person: SourceRow, rows: dict[str, list[SourceRow]], dictionaries: dict[str, dict[str, Any]]
    ) -> ModelRecord:
        """Hot path (plain tuples, in the column order declared above): values are formatted by bounded
        lookups (`xmlout.Lookup`), checked in the same order as the model's elements are written, so a
        person with several problems is rejected for the first of them."""
        key, surname, first_name, second_name, pesel, birth_date, sex, marital, document, number = person
        f = self._formats
        address_xml = ""
        for _person, kind, post_code, town, street, house, flat in rows["adres"]:
            address_xml += x.wrap(
                "Adres",
                f.address_kind[kind]
                + f.post_code[post_code]
                + f.town[town]
                + f.street[street]
                + f.house[house]
                + f.flat[flat],
            )
        if address_xml:
            address_xml = "<m:Adresy>" + address_xml + "</m:Adresy>"
        document_kind = (f.document_kind[document] or None) if document is not None else None
        sex_xml = f.sex[sex]
        marital_xml = f.marital[marital] if marital is not None else ""
        pesel_text = x.pesel_text(pesel, "osoba")
        number_text = x.document_number_text(number, "osoba: numer dokumentu") if number else None
        personal = (
            f.surname[surname]
            + f.first_name[first_name]
            + f.second_name[second_name]
            + (f"<m:Pesel>{escape(pesel_text)}</m:Pesel>" if pesel_text is not None else "")
            + f.birth_date[birth_date]
        )
        if document_kind and number:
            personal += (
                f"<m:DokumentTozsamosci><m:Rodzaj>{escape(document_kind)}</m:Rodzaj>"
                f"<m:Numer>{escape(number_text or '')}</m:Numer></m:DokumentTozsamosci>"
            )
        sections = [("DaneOsobowe", f.sections["DaneOsobowe"](personal + sex_xml + marital_xml + address_xml))]
        try:
            self._histories(rows, dictionaries, sections)
        except KeyError as error:
            raise RowProblem(f"nieznany kod {error.args[0]!r} w historii osoby") from None
        return ModelRecord(
            self.source_key(key),
            str(key),
            False,
            self.data_element,
            pesel_text,
            surname,
            first_name,
            x.as_date(birth_date),
            document_kind if number else None,
            number_text,
            PackedSections.of(sections),
        )

    @cached_property
    def _formats(self) -> _Formats:
        return _Formats(self.mapping)

    def _histories(
        self, rows: dict[str, list[SourceRow]], dictionaries: dict[str, dict[str, Any]], out: list[tuple[str, bytes]]
    ) -> None:
        """The history sections in model order; a missing or impossible value raises `RowProblem`, an
        unknown code `KeyError`."""
        f = self._formats
        codes = self.mapping.codes
        iso, txt, amt = x.ISO, x.TXT, x.AMT
        reasons = dictionaries["przyczyna"]
        benefit_kinds, benefit_names = dictionaries["rodzaj_swiadczenia"], dictionaries["nazwa_swiadczenia"]
        status_codes, outcome_codes = codes["status_rejestracji"], codes["zakonczenie_szkolenia"]
        section = f.sections

        parts = []
        for _person, start, end, status, reason in rows["rejestracja"]:
            closed = f"<m:DataDo>{iso[end]}</m:DataDo>" if end is not None else ""
            removal = ""
            if reason and end is not None:
                removal = (
                    f"<m:DataWykreslenia>{iso[end]}</m:DataWykreslenia>"
                    f"<m:PrzyczynaWykreslenia>{txt[reasons.get(reason, reason)]}</m:PrzyczynaWykreslenia>"
                )
            parts.append(
                f"<m:OkresRejestracji><m:DataOd>{iso[start]}</m:DataOd>{closed}"
                f"<m:Status>{status_codes[status]}</m:Status>{removal}</m:OkresRejestracji>"
            )
        if parts:
            out.append(("OkresyRejestracji", section["OkresyRejestracji"]("".join(parts))))
        parts = []
        for _person, code, start, end in rows["decyzja_swiadczenie"]:
            until = f"<m:DataDo>{iso[end]}</m:DataDo>" if end is not None else ""
            parts.append(
                f"<m:PrzyznaneSwiadczenie>{benefit_names[code]}"
                f"<m:DataOd>{iso[start]}</m:DataOd>{until}</m:PrzyznaneSwiadczenie>"
            )
        if parts:
            out.append(("PrzyznaneSwiadczenia", section["PrzyznaneSwiadczenia"]("".join(parts))))
        allowances, others = [], []
        for _person, code, start, end, gross, net in rows["wyplata"]:
            kind = benefit_kinds[code]
            period = (
                f"<m:DataOd>{iso[start]}</m:DataOd><m:DataDo>{iso[end]}</m:DataDo>"
                f"<m:KwotaBrutto>{amt[gross]}</m:KwotaBrutto><m:KwotaNetto>{amt[net]}</m:KwotaNetto>"
            )
            if kind == "Z":
                allowances.append(f"<m:PobranyZasilek>{period}</m:PobranyZasilek>")
            else:
                others.append(f"<m:InneSwiadczenie>{benefit_names[code]}{period}</m:InneSwiadczenie>")
        if allowances:
            out.append(("PobraneZasilki", section["PobraneZasilki"]("".join(allowances))))
        if others:
            out.append(("InneSwiadczenia", section["InneSwiadczenia"]("".join(others))))
        trainings, jobs = [], []
        offer_kinds = codes["typ_propozycji"]
        accepted_flag, justified_flag = f.accepted, f.justified
        for _person, kind, submitted, accepted, justified, description, offer in rows["propozycja"]:
            head = (
                f"<m:DataPrzedlozenia>{iso[submitted]}</m:DataPrzedlozenia>"
                + accepted_flag(accepted)
                + justified_flag(justified)
            )
            if offer_kinds[kind] == "SZKOLENIE":
                trainings.append(
                    f"<m:PropozycjaSzkolenia>{head}<m:Szkolenie>{txt[description]}</m:Szkolenie></m:PropozycjaSzkolenia>"
                )
            else:
                jobs.append(
                    f"<m:PropozycjaPracy>{head}<m:Stanowisko>{txt[description]}</m:Stanowisko>"
                    f"<m:RodzajPropozycji>{txt[offer]}</m:RodzajPropozycji></m:PropozycjaPracy>"
                )
        if trainings:
            out.append(("PropozycjeSzkolen", section["PropozycjeSzkolen"]("".join(trainings))))
        parts = []
        for _person, referred, topic, outcome, started, finished in rows["szkolenie"]:
            end_xml = f"<m:DataZakonczenia>{iso[finished]}</m:DataZakonczenia>" if finished is not None else ""
            parts.append(
                f"<m:SzkolenieOdbyte><m:DataSkierowania>{iso[referred]}</m:DataSkierowania>"
                f"<m:ZakresTematyczny>{txt[topic]}</m:ZakresTematyczny>"
                f"<m:SposobZakonczenia>{outcome_codes[outcome]}</m:SposobZakonczenia>"
                f"<m:DataRozpoczecia>{iso[started]}</m:DataRozpoczecia>{end_xml}</m:SzkolenieOdbyte>"
            )
        if parts:
            out.append(("SzkoleniaOdbyte", section["SzkoleniaOdbyte"]("".join(parts))))
        if jobs:
            out.append(("PropozycjePracy", section["PropozycjePracy"]("".join(jobs))))
        if rows["kwalifikacja"]:
            groups: dict[str, list[str]] = {"W": [], "Z": [], "U": [], "J": [], "M": []}
            qualification = f.qualification
            for row in rows["kwalifikacja"]:
                letter, formatted = qualification[row[1:]]
                groups[letter].append(formatted)
            body = "".join(
                f"<m:{name}>{''.join(groups[letter])}</m:{name}>" for letter, name in _QUALIFICATIONS if groups[letter]
            )
            out.append(("WyksztalcenieIKwalifikacje", section["WyksztalcenieIKwalifikacje"](body)))
        parts = []
        for _person, kind, place, planned, actual in rows["kontakt"]:
            actual_xml = f"<m:DataFaktyczna>{iso[actual]}</m:DataFaktyczna>" if actual is not None else ""
            parts.append(
                f"<m:Wizyta><m:RodzajWizyty>{txt[kind]}</m:RodzajWizyty><m:Miejsce>{txt[place]}</m:Miejsce>"
                f"<m:DataPlanowana>{iso[planned]}</m:DataPlanowana>{actual_xml}</m:Wizyta>"
            )
        if parts:
            out.append(("Wizyty", section["Wizyty"]("".join(parts))))
        parts = []
        occupations, positions = f.occupation, f.position
        for _person, contract, start, end, employer, occupation, position in rows["zatrudnienie"]:
            until = f"<m:DataDo>{iso[end]}</m:DataDo>" if end is not None else ""
            occupation_xml = occupations[occupation]
            position_xml = positions[position]
            parts.append(
                f"<m:Zatrudnienie><m:RodzajZatrudnienia>{txt[contract]}</m:RodzajZatrudnienia>"
                f"<m:DataOd>{iso[start]}</m:DataOd>{until}<m:Pracodawca>{txt[employer]}</m:Pracodawca>"
                f"{occupation_xml}{position_xml}</m:Zatrudnienie>"
            )
        if parts:
            out.append(("HistoriaZatrudnienia", section["HistoriaZatrudnienia"]("".join(parts))))
        parts = []
        descriptions = f.status_description
        for _person, changed, kind, status_type, description in rows["historia_statusu"]:
            description_xml = descriptions[description]
            parts.append(
                f"<m:ZmianaStatusu><m:DataZmiany>{iso[changed]}</m:DataZmiany><m:Rodzaj>{txt[kind]}</m:Rodzaj>"
                f"<m:Typ>{txt[status_type]}</m:Typ>{description_xml}</m:ZmianaStatusu>"
            )
        if parts:
            out.append(("HistoriaStatusow", section["HistoriaStatusow"]("".join(parts))))


_QUALIFICATIONS = (
    ("W", "Wyksztalcenia"),
    ("Z", "Zawody"),
    ("U", "Uprawnienia"),
    ("J", "JezykiObce"),
    ("M", "Umiejetnosci"),
)
_SECTIONS = (
    "DaneOsobowe",
    "OkresyRejestracji",
    "PrzyznaneSwiadczenia",
    "PobraneZasilki",
    "InneSwiadczenia",
    "PropozycjeSzkolen",
    "SzkoleniaOdbyte",
    "PropozycjePracy",
    "WyksztalcenieIKwalifikacje",
    "Wizyty",
    "HistoriaZatrudnienia",
    "HistoriaStatusow",
)


class _Formats:
    """The PUP adapter's formatted values, looked up (`xmlout.Lookup`): text elements by value, codes
    through the mapping's code lists, a qualification by its whole row. Made once per adapter (the code
    lists are the mapping's)."""

    def __init__(self, mapping: Mapping) -> None:
        code = mapping.code

        def coded(name: str, element: str, what: str) -> x.Lookup:
            return x.Lookup(lambda value: x.el(element, code(name, value, what)))

        self.address_kind = coded("typ_adresu", "RodzajAdresu", "adres")
        self.post_code = x.Lookup(lambda value: x.post_code(value, "adres"))
        self.town = x.text_lookup("Miejscowosc", "adres: miejscowość", required=True)
        self.street = x.text_lookup("Ulica", "adres: ulica")
        self.house = x.text_lookup("NrDomu", "adres: numer domu", limit=x.MAX_NUMBER)
        self.flat = x.text_lookup("NrLokalu", "adres: numer lokalu", limit=x.MAX_NUMBER)
        self.document_kind = x.Lookup(lambda value: mapping.optional_code("rodzaj_dokumentu", value, _DOCUMENT) or "")
        self.sex = x.Lookup(lambda value: x.el("Plec", code("plec", value, "osoba: płeć")))
        self.marital = x.Lookup(
            lambda value: x.el("StanCywilny", mapping.optional_code("stan_cywilny", value, _MARITAL))
        )
        self.surname = x.text_lookup("Nazwisko", "osoba: nazwisko", required=True)
        self.first_name = x.text_lookup("Imie", "osoba: imię", required=True)
        self.second_name = x.text_lookup("DrugieImie", "osoba: drugie imię")
        self.birth_date = x.date_lookup("DataUrodzenia", "osoba: data urodzenia", required=True)
        self.accepted = x.flag_lookup("CzyPrzyjeta")
        self.justified = x.flag_lookup("CzyOdmowaUzasadniona")
        self.occupation = x.text_lookup("Zawod", "zatrudnienie: zawód")
        self.position = x.text_lookup("Stanowisko", "zatrudnienie: stanowisko")
        self.status_description = x.text_lookup("Opis", "status: opis")
        self.qualification: dict[tuple[Any, ...], tuple[str, str]] = _RowLookup(
            lambda row: _qualification(mapping, row)
        )
        self.sections = {name: _section_writer(name) for name in _SECTIONS}


_DOCUMENT = "osoba: rodzaj dokumentu"
_MARITAL = "osoba: stan cywilny"


def _section_writer(name: str) -> Any:
    opening, closing = f'<m:{name} xmlns:m="{MODEL_NS}">', f"</m:{name}>"

    def write(body: str) -> bytes:
        return (opening + body + closing).encode()

    return write


class _RowLookup(dict[tuple[Any, ...], tuple[str, str]]):
    """A qualification row (without the person) -> (group letter, formatted element), bounded."""

    def __init__(self, compute: Any) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, row: tuple[Any, ...]) -> tuple[str, str]:
        formatted: tuple[str, str] = self.compute(row)
        if len(self) >= 20_000:
            self.clear()
        self[row] = formatted
        return formatted


def _qualification(mapping: Mapping, row: tuple[Any, ...]) -> tuple[str, str]:
    """(group letter, element) of one `kwalifikacja` row, in the order the checks were always made."""
    kind_code, name, occupation_code, occupation_kind, speaking, writing, reading = row
    kind = mapping.code("typ_kwalifikacji", kind_code, "kwalifikacja: typ")
    if kind == "WYKSZTALCENIE":
        return "W", x.text("RodzajWyksztalcenia", name, "wykształcenie", required=True)
    if kind == "ZAWOD":
        code = occupation_code if occupation_code and len(str(occupation_code)) == 6 else None
        return "Z", x.wrap(
            "Zawod",
            x.text("Nazwa", name, "zawód", required=True)
            + x.el("KodZawodu", code)
            + x.el("Rodzaj", mapping.code("rodzaj_zawodu", occupation_kind, "zawód: rodzaj")),
        )
    if kind == "UPRAWNIENIE":
        return "U", x.text("Uprawnienie", name, "uprawnienie", required=True)
    if kind == "JEZYK":
        return "J", x.wrap(
            "JezykObcy",
            x.text("Nazwa", name, "język", required=True)
            + x.el("Mowa", mapping.code("poziom_jezyka", speaking, "język: mowa"))
            + x.el("Pismo", mapping.code("poziom_jezyka", writing, "język: pismo"))
            + x.el("Czytanie", mapping.code("poziom_jezyka", reading, "język: czytanie")),
        )
    return "M", x.text("Umiejetnosc", name, "umiejętność", required=True)
