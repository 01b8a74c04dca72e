"""Reference schema of a PUP labour-office system (Syriusz-like): a person, their registrations, benefits,
payments, offers, trainings, qualifications, contacts, employment and status history, with dictionaries.

The real Syriusz schema is not public; this is a typical normalised design with the Polish names such
systems use. `mapping.toml` beside this file names every table and column; docs/adapters.md explains it.
"""

from __future__ import annotations

from sqlalchemy import TIMESTAMP, Integer, Numeric, SmallInteger, String

from adapters.sql import Col, SourceDate, TableSpec

D = SourceDate
TS = TIMESTAMP
MOD = Col("data_modyfikacji", TS, nullable=False, index=True)


def _person_fk(*, indexed: bool = True) -> Col:
    """The person's key; `indexed=False` where a history has its index by person and date instead."""
    return Col("id_osoby", Integer, nullable=False, index=indexed, references=("osoba", "id_osoby"))


SPECS: tuple[TableSpec, ...] = (
    TableSpec(
        "sl_stan_cywilny",
        "Słownik stanów cywilnych.",
        (Col("kod", String(2), primary_key=True), Col("nazwa", String(100), nullable=False)),
    ),
    TableSpec(
        "sl_swiadczenie",
        "Słownik świadczeń i zasiłków; rodzaj: Z = zasiłek dla bezrobotnych, I = inne świadczenie.",
        (
            Col("kod", String(10), primary_key=True),
            Col("nazwa", String(200), nullable=False),
            Col("rodzaj", String(1), nullable=False),
        ),
    ),
    TableSpec(
        "sl_przyczyna_wyrejestrowania",
        "Słownik przyczyn wyłączenia z ewidencji.",
        (Col("kod", String(10), primary_key=True), Col("nazwa", String(200), nullable=False)),
    ),
    TableSpec(
        "sl_zawod",
        "Klasyfikacja zawodów i specjalności (KZiS): kod sześciocyfrowy.",
        (Col("kod", String(6), primary_key=True), Col("nazwa", String(200), nullable=False)),
    ),
    TableSpec(
        "osoba",
        "Osoba zarejestrowana w urzędzie; czy_usunieta = 1: usunięta z ewidencji (poza zbiorem).",
        (
            Col("id_osoby", Integer, primary_key=True),
            Col("nazwisko", String(100), nullable=False),
            Col("imie", String(60), nullable=False),
            Col("imie_drugie", String(60)),
            Col("pesel", String(11), index=True),
            Col("data_urodzenia", D, nullable=False),
            Col("plec", String(1), nullable=False),
            Col("kod_stanu_cywilnego", String(2), references=("sl_stan_cywilny", "kod")),
            Col("rodzaj_dokumentu", String(2)),
            Col("nr_dokumentu", String(20)),
            Col("czy_usunieta", SmallInteger, nullable=False),
            MOD,
        ),
    ),
    TableSpec(
        "adres",
        "Adresy osoby; typ_adresu: Z zameldowania, M zamieszkania, K korespondencyjny, C pobytu czasowego.",
        (
            Col("id_adresu", Integer, primary_key=True),
            _person_fk(),
            Col("typ_adresu", String(1), nullable=False),
            Col("kod_pocztowy", String(6)),
            Col("miejscowosc", String(100), nullable=False),
            Col("ulica", String(100)),
            Col("nr_domu", String(10)),
            Col("nr_lokalu", String(10)),
            MOD,
        ),
    ),
    TableSpec(
        "rejestracja",
        "Okresy rejestracji; status: B bezrobotny, P poszukujący pracy.",
        (
            Col("id_rejestracji", Integer, primary_key=True),
            _person_fk(indexed=False),
            Col("data_rejestracji", D, nullable=False),
            Col("data_wyrejestrowania", D),
            Col("status", String(1), nullable=False),
            Col("kod_przyczyny", String(10), references=("sl_przyczyna_wyrejestrowania", "kod")),
            MOD,
        ),
        (("id_osoby", "data_rejestracji"),),
    ),
    TableSpec(
        "decyzja_swiadczenie",
        "Świadczenia i zasiłki przyznane decyzją.",
        (
            Col("id_decyzji", Integer, primary_key=True),
            _person_fk(indexed=False),
            Col("kod_swiadczenia", String(10), nullable=False, references=("sl_swiadczenie", "kod")),
            Col("data_od", D, nullable=False),
            Col("data_do", D),
            MOD,
        ),
        (("id_osoby", "data_od"),),
    ),
    TableSpec(
        "wyplata",
        "Wypłaty za okresy (listy wypłat); rodzaj świadczenia ze słownika rozdziela zasiłki i inne świadczenia.",
        (
            Col("id_wyplaty", Integer, primary_key=True),
            _person_fk(indexed=False),
            Col("kod_swiadczenia", String(10), nullable=False, references=("sl_swiadczenie", "kod")),
            Col("okres_od", D, nullable=False),
            Col("okres_do", D, nullable=False),
            Col("kwota_brutto", Numeric(12, 2, asdecimal=False), nullable=False),
            Col("kwota_netto", Numeric(12, 2, asdecimal=False), nullable=False),
            MOD,
        ),
        (("id_osoby", "okres_od"),),
    ),
    TableSpec(
        "propozycja",
        "Propozycje przedłożone osobie; typ: S szkolenie, P praca.",
        (
            Col("id_propozycji", Integer, primary_key=True),
            _person_fk(indexed=False),
            Col("typ", String(1), nullable=False),
            Col("data_przedlozenia", D, nullable=False),
            Col("czy_przyjeta", SmallInteger, nullable=False),
            Col("czy_odmowa_uzasadniona", SmallInteger),
            Col("opis", String(300), nullable=False),
            Col("rodzaj_oferty", String(100)),
            MOD,
        ),
        (("id_osoby", "data_przedlozenia"),),
    ),
    TableSpec(
        "szkolenie",
        "Szkolenia odbyte; kod_zakonczenia: U ukończone, P przerwane, T w trakcie.",
        (
            Col("id_szkolenia", Integer, primary_key=True),
            _person_fk(indexed=False),
            Col("data_skierowania", D, nullable=False),
            Col("temat", String(300), nullable=False),
            Col("kod_zakonczenia", String(1), nullable=False),
            Col("data_rozpoczecia", D, nullable=False),
            Col("data_zakonczenia", D),
            MOD,
        ),
        (("id_osoby", "data_skierowania"),),
    ),
    TableSpec(
        "kwalifikacja",
        "Wykształcenie i kwalifikacje; typ: W wykształcenie, Z zawód, U uprawnienie, J język, M umiejętność.",
        (
            Col("id_kwalifikacji", Integer, primary_key=True),
            _person_fk(),
            Col("typ", String(1), nullable=False),
            Col("nazwa", String(200), nullable=False),
            Col("kod_zawodu", String(6)),
            Col("rodzaj_zawodu", String(1)),
            Col("poziom_mowa", String(1)),
            Col("poziom_pismo", String(1)),
            Col("poziom_czytanie", String(1)),
            MOD,
        ),
    ),
    TableSpec(
        "kontakt",
        "Wizyty i kontakty z urzędem, zaplanowane i odbyte.",
        (
            Col("id_kontaktu", Integer, primary_key=True),
            _person_fk(indexed=False),
            Col("rodzaj", String(100), nullable=False),
            Col("miejsce", String(100), nullable=False),
            Col("data_planowana", D, nullable=False),
            Col("data_faktyczna", D),
            MOD,
        ),
        (("id_osoby", "data_planowana"),),
    ),
    TableSpec(
        "zatrudnienie",
        "Historia zatrudnienia.",
        (
            Col("id_zatrudnienia", Integer, primary_key=True),
            _person_fk(indexed=False),
            Col("rodzaj_umowy", String(100), nullable=False),
            Col("data_od", D, nullable=False),
            Col("data_do", D),
            Col("pracodawca", String(300), nullable=False),
            Col("zawod", String(200)),
            Col("stanowisko", String(200)),
            MOD,
        ),
        (("id_osoby", "data_od"),),
    ),
    TableSpec(
        "historia_statusu",
        "Zmiany statusu osoby w urzędzie.",
        (
            Col("id_zmiany", Integer, primary_key=True),
            _person_fk(indexed=False),
            Col("data_zmiany", D, nullable=False),
            Col("rodzaj", String(100), nullable=False),
            Col("typ", String(100), nullable=False),
            Col("opis", String(300)),
            MOD,
        ),
        (("id_osoby", "data_zmiany"),),
    ),
)
