"""Reference schema of a family-benefits (SR) system: people (applicants and children), addresses,
decisions with the benefits they grant and the children they cover, and payments, with a dictionary.

The real schemas are not public; this is a typical normalised design with the Polish names such systems
use. `mapping.toml` beside this file names every table and column; docs/adapters.md explains it.
"""

from __future__ import annotations

from sqlalchemy import TIMESTAMP, Integer, Numeric, SmallInteger, String

from adapters.sql import Col, SourceDate, TableSpec

MOD = Col("data_modyfikacji", TIMESTAMP, nullable=False, index=True)


def _decision_fk() -> Col:
    return Col("id_decyzji", Integer, nullable=False, index=True, references=("decyzja", "id_decyzji"))


SPECS: tuple[TableSpec, ...] = (
    TableSpec(
        "sl_swiadczenie_rodzinne",
        "Słownik świadczeń rodzinnych (zasiłek rodzinny, dodatki, świadczenia opiekuńcze).",
        (Col("kod", String(10), primary_key=True), Col("nazwa", String(200), nullable=False)),
    ),
    TableSpec(
        "osoba",
        "Osoby: wnioskodawcy (podmioty decyzji) i dzieci; czy_usunieta = 1: usunięta z ewidencji.",
        (
            Col("id_osoby", Integer, primary_key=True),
            Col("nazwisko", String(100), nullable=False),
            Col("imie", String(60), nullable=False),
            Col("imie_drugie", String(60)),
            Col("pesel", String(11), index=True),
            Col("data_urodzenia", SourceDate, nullable=False),
            Col("plec", String(1), nullable=False),
            Col("stan_cywilny", String(2)),
            Col("typ_dokumentu", String(2)),
            Col("nr_dokumentu", String(20)),
            Col("czy_usunieta", SmallInteger, nullable=False),
            MOD,
        ),
    ),
    TableSpec(
        "adres",
        "Adresy osób; typ_adresu: Z zameldowania, M zamieszkania, K korespondencyjny, C pobytu czasowego.",
        (
            Col("id_adresu", Integer, primary_key=True),
            Col("id_osoby", Integer, nullable=False, index=True, references=("osoba", "id_osoby")),
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
        "decyzja",
        "Decyzje w sprawie świadczeń rodzinnych; id_osoby = wnioskodawca (podmiot decyzji).",
        (
            Col("id_decyzji", Integer, primary_key=True),
            Col("id_osoby", Integer, nullable=False, index=True, references=("osoba", "id_osoby")),
            Col("numer_decyzji", String(40), nullable=False),
            Col("data_wydania", SourceDate, nullable=False),
            MOD,
        ),
    ),
    TableSpec(
        "decyzja_swiadczenie",
        "Świadczenia przyznane decyzją: rodzaj, okres, kwota miesięczna.",
        (
            Col("id_pozycji", Integer, primary_key=True),
            _decision_fk(),
            Col("kod_swiadczenia", String(10), nullable=False, references=("sl_swiadczenie_rodzinne", "kod")),
            Col("data_od", SourceDate, nullable=False),
            Col("data_do", SourceDate),
            Col("kwota", Numeric(12, 2, asdecimal=False), nullable=False),
            MOD,
        ),
    ),
    TableSpec(
        "decyzja_dziecko",
        "Dzieci, na które przyznano świadczenie decyzją.",
        (
            Col("id_pozycji", Integer, primary_key=True),
            _decision_fk(),
            Col("id_osoby_dziecka", Integer, nullable=False, index=True, references=("osoba", "id_osoby")),
            MOD,
        ),
    ),
    TableSpec(
        "wyplata",
        "Wypłaty świadczeń z decyzji.",
        (
            Col("id_wyplaty", Integer, primary_key=True),
            _decision_fk(),
            Col("kod_swiadczenia", String(10), nullable=False, references=("sl_swiadczenie_rodzinne", "kod")),
            Col("data_wyplaty", SourceDate, nullable=False),
            Col("kwota", Numeric(12, 2, asdecimal=False), nullable=False),
            MOD,
        ),
    ),
)
