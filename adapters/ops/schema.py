"""Reference schema of an OPS social-assistance system (POMOST/TT-Pomoc-like): a person, their addresses,
their registration as a client of the unit, and the benefits granted by decisions, with dictionaries.

The real schemas are not public; this is a typical normalised design with the Polish names such systems
use. `mapping.toml` beside this file names every table and column; docs/adapters.md explains it.
"""

from __future__ import annotations

from sqlalchemy import TIMESTAMP, Integer, Numeric, SmallInteger, String

from adapters.sql import Col, SourceDate, TableSpec

MOD = Col("data_modyfikacji", TIMESTAMP, nullable=False, index=True)


def _person_fk(*, indexed: bool = True) -> Col:
    """The person's key; `indexed=False` where a history has its index by person and date instead."""
    return Col("id_osoby", Integer, nullable=False, index=indexed, references=("osoba", "id_osoby"))


SPECS: tuple[TableSpec, ...] = (
    TableSpec(
        "sl_forma_pomocy",
        "Słownik form pomocy (świadczeń) ośrodka.",
        (Col("kod_formy", String(10), primary_key=True), Col("nazwa", String(200), nullable=False)),
    ),
    TableSpec(
        "sl_status_klienta",
        "Słownik statusów osoby w jednostce.",
        (Col("kod_statusu", String(10), primary_key=True), Col("nazwa", String(200), nullable=False)),
    ),
    TableSpec(
        "osoba",
        "Osoba w ewidencji ośrodka; czy_usunieta = 1: usunięta z ewidencji (poza zbiorem).",
        (
            Col("id_osoby", Integer, primary_key=True),
            Col("nazwisko", String(100), nullable=False),
            Col("imie_pierwsze", String(60), nullable=False),
            Col("imie_drugie", String(60)),
            Col("pesel", String(11), index=True),
            Col("data_ur", SourceDate, nullable=False),
            Col("plec", String(1), nullable=False),
            Col("stan_cywilny", String(2)),
            Col("typ_dokumentu", String(2)),
            Col("seria_numer_dokumentu", String(20)),
            Col("czy_usunieta", SmallInteger, nullable=False),
            MOD,
        ),
    ),
    TableSpec(
        "adres_osoby",
        "Adresy osoby; rodzaj: ZAM zamieszkania, ZML zameldowania, KOR korespondencyjny, CZA pobytu czasowego.",
        (
            Col("id_adresu", Integer, primary_key=True),
            _person_fk(),
            Col("rodzaj", String(3), nullable=False),
            Col("kod_pocztowy", String(6)),
            Col("miejscowosc", String(100), nullable=False),
            Col("ulica", String(100)),
            Col("nr_domu", String(10)),
            Col("nr_mieszkania", String(10)),
            MOD,
        ),
    ),
    TableSpec(
        "klient",
        "Rejestracja osoby jako klienta jednostki (jeden wiersz na osobę).",
        (
            Col("id_klienta", Integer, primary_key=True),
            _person_fk(),
            Col("czy_zarejestrowany", SmallInteger, nullable=False),
            Col("kod_statusu", String(10), references=("sl_status_klienta", "kod_statusu")),
            MOD,
        ),
    ),
    TableSpec(
        "swiadczenie",
        "Świadczenia przyznane decyzjami i pobrane.",
        (
            Col("id_swiadczenia", Integer, primary_key=True),
            _person_fk(indexed=False),
            Col("kod_formy", String(10), nullable=False, references=("sl_forma_pomocy", "kod_formy")),
            Col("numer_decyzji", String(40)),
            Col("data_od", SourceDate, nullable=False),
            Col("data_do", SourceDate),
            Col("kwota_brutto", Numeric(12, 2, asdecimal=False), nullable=False),
            Col("kwota_netto", Numeric(12, 2, asdecimal=False), nullable=False),
            MOD,
        ),
        (("id_osoby", "data_od"),),
    ),
)
