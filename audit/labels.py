"""Polish names of the category codes, for reports a person can read (DESIGN.md, Data scope).

A copy of the titles in `contract.catalog` (audit imports nothing of hub); tests/audit checks the two agree.
A caller that knows more kinds of data set passes its own labels to `audit.reports.build_report`.
"""

from __future__ import annotations

from collections.abc import Mapping

CATEGORY_TITLES: Mapping[tuple[str, str], str] = {
    ("PUP", "DANE_OSOBOWE"): "Dane osobowe beneficjenta",
    ("PUP", "OKRESY_REJESTRACJI"): "Okresy rejestracji w PUP",
    ("PUP", "PRZYZNANE_SWIADCZENIA"): "Przyznane świadczenia i zasiłki",
    ("PUP", "POBRANE_ZASILKI"): "Zasiłki pobierane w PUP",
    ("PUP", "INNE_SWIADCZENIA"): "Inne świadczenia pobierane w PUP",
    ("PUP", "PROPOZYCJE_SZKOLEN"): "Szkolenia proponowane osobie",
    ("PUP", "SZKOLENIA_ODBYTE"): "Szkolenia odbyte przez osobę",
    ("PUP", "PROPOZYCJE_PRACY"): "Praca proponowana osobie",
    ("PUP", "WYKSZTALCENIE_KWALIFIKACJE"): "Wykształcenie i kwalifikacje zawodowe",
    ("PUP", "WIZYTY"): "Historia kontaktów i zaplanowane wizyty",
    ("PUP", "HISTORIA_ZATRUDNIENIA"): "Historia zatrudnienia",
    ("PUP", "HISTORIA_STATUSOW"): "Historia statusów osoby w PUP",
    ("OPS", "DANE_OSOBOWE"): "Dane osobowe beneficjenta",
    ("OPS", "INFORMACJE_OGOLNE"): "Informacje ogólne o osobie",
    ("OPS", "SWIADCZENIA"): "Przyznane i pobrane świadczenia, zasiłki",
    ("SR", "DANE_OSOBOWE"): "Dane osobowe podmiotu decyzji",
    ("SR", "DANE_DZIECI"): "Dane dzieci, na które przyznano świadczenie",
    ("SR", "PRZYZNANE_SWIADCZENIA"): "Przyznane świadczenia",
    ("SR", "WYPLACONE_SWIADCZENIA"): "Wypłacone świadczenia",
}
"""(data set kind, category code) -> the category's Polish title."""


def category_title(data_set: str, code: str, labels: Mapping[tuple[str, str], str] | None = None) -> str:
    """The Polish title of a category of a data set; the code itself when unknown."""
    table = CATEGORY_TITLES if labels is None else labels
    title = table.get((data_set, code))
    if title is None:
        title = next((t for (_kind, c), t in table.items() if c == code), code)
    return title
