"""The data sets and their categories: stable contract codes, plain Python (no SOAP, no SQL).

Codes follow DESIGN.md "Data scope: categories"; every category is one section of the common XML model,
stored and disclosed whole. A new kind of data set registers its own `DataSetKind` (see `register`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

MODEL_NS = "urn:pl:platforma-komunikacyjna:model:1"
QUERY_NS = "urn:pl:platforma-komunikacyjna:zapytania:1"
FEED_NS = "urn:pl:platforma-komunikacyjna:zasilanie:1"
#: The longest code of an office or a data set that the contracts carry (zasilanie `KodZbioru`, audyt 2
#: `KodUrzedu`); the configuration refuses a longer one, which could never be fed or reported on.
UNIT_CODE_LENGTH = 32


@dataclass(frozen=True)
class Category:
    """One category of a data set: a section of the model, disclosed as a whole."""

    code: str
    element: str
    title: str
    guideline: str


@dataclass(frozen=True)
class DataSetKind:
    """A kind of data set (PUP, OPS, SR, ...): its categories and the model element that carries them."""

    code: str
    title: str
    data_element: str
    categories: tuple[Category, ...]

    def category(self, code: str) -> Category | None:
        """The category with this code, or None."""
        for category in self.categories:
            if category.code == code:
                return category
        return None

    @property
    def category_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.categories)


PERSONAL_DATA = "DANE_OSOBOWE"

PUP = DataSetKind(
    code="PUP",
    title="Powiatowy urząd pracy",
    data_element="DanePUP",
    categories=(
        Category(PERSONAL_DATA, "DaneOsobowe", "Dane osobowe beneficjenta", "PUP 1"),
        Category("OKRESY_REJESTRACJI", "OkresyRejestracji", "Okresy rejestracji w PUP", "PUP 2.1"),
        Category("PRZYZNANE_SWIADCZENIA", "PrzyznaneSwiadczenia", "Przyznane świadczenia i zasiłki", "PUP 2.2"),
        Category("POBRANE_ZASILKI", "PobraneZasilki", "Zasiłki pobierane w PUP", "PUP 2.3"),
        Category("INNE_SWIADCZENIA", "InneSwiadczenia", "Inne świadczenia pobierane w PUP", "PUP 2.4"),
        Category("PROPOZYCJE_SZKOLEN", "PropozycjeSzkolen", "Szkolenia proponowane osobie", "PUP 3"),
        Category("SZKOLENIA_ODBYTE", "SzkoleniaOdbyte", "Szkolenia odbyte przez osobę", "PUP 4"),
        Category("PROPOZYCJE_PRACY", "PropozycjePracy", "Praca proponowana osobie", "PUP 5"),
        Category(
            "WYKSZTALCENIE_KWALIFIKACJE",
            "WyksztalcenieIKwalifikacje",
            "Wykształcenie i kwalifikacje zawodowe",
            "PUP 6",
        ),
        Category("WIZYTY", "Wizyty", "Historia kontaktów i zaplanowane wizyty", "PUP 7"),
        Category("HISTORIA_ZATRUDNIENIA", "HistoriaZatrudnienia", "Historia zatrudnienia", "PUP 8"),
        Category("HISTORIA_STATUSOW", "HistoriaStatusow", "Historia statusów osoby w PUP", "PUP 9"),
    ),
)

OPS = DataSetKind(
    code="OPS",
    title="Jednostka organizacyjna pomocy społecznej",
    data_element="DaneOPS",
    categories=(
        Category(PERSONAL_DATA, "DaneOsobowe", "Dane osobowe beneficjenta", "OPS 1"),
        Category("INFORMACJE_OGOLNE", "InformacjeOgolne", "Informacje ogólne o osobie", "OPS 2"),
        Category("SWIADCZENIA", "Swiadczenia", "Przyznane i pobrane świadczenia, zasiłki", "OPS 3"),
    ),
)

SR = DataSetKind(
    code="SR",
    title="Jednostka obsługująca świadczenia rodzinne",
    data_element="DaneSR",
    categories=(
        Category(PERSONAL_DATA, "DaneOsobowe", "Dane osobowe podmiotu decyzji", "SR 1.1"),
        Category("DANE_DZIECI", "DaneDzieci", "Dane dzieci, na które przyznano świadczenie", "SR 1.2"),
        Category("PRZYZNANE_SWIADCZENIA", "PrzyznaneSwiadczenia", "Przyznane świadczenia", "SR 2"),
        Category("WYPLACONE_SWIADCZENIA", "WyplaconeSwiadczenia", "Wypłacone świadczenia", "SR 3"),
    ),
)

_KINDS: dict[str, DataSetKind] = {kind.code: kind for kind in (PUP, OPS, SR)}


def register(kind: DataSetKind) -> None:
    """Make a new kind of data set known (used by plug-in model modules)."""
    existing = _KINDS.get(kind.code)
    if existing is not None and existing != kind:
        raise ValueError(f"data set kind {kind.code} is already registered differently")
    _KINDS[kind.code] = kind


def kind(code: str) -> DataSetKind | None:
    """The kind of data set with this code, or None."""
    return _KINDS.get(code)


def kinds() -> Iterator[DataSetKind]:
    """All known kinds of data set, in registration order."""
    return iter(tuple(_KINDS.values()))


# Roles of the platform: stable codes, as they appear in the configuration and on the command line.
ROLES = {
    "UZYTKOWNIK": "użytkownik końcowy",
    "ADMINISTRATOR_URZEDU": "administrator urzędu (użytkownicy własnego urzędu)",
    "ADMINISTRATOR_PLATFORMY": "administrator platformy",
    "REDAKTOR_SZABLONOW": "redaktor szablonów dokumentów",
    "PODPISUJACY": "podpisujący dokumenty",
    "AUDYTOR": "audytor (rejestr ujawnień i zdarzeń)",
    "SYSTEM_ZASILAJACY": "system dziedzinowy zasilający replikę swojego urzędu",
}
OFFICE_ADMIN = "ADMINISTRATOR_URZEDU"
PLATFORM_ADMIN = "ADMINISTRATOR_PLATFORMY"
TEMPLATE_EDITOR = "REDAKTOR_SZABLONOW"
SIGNER = "PODPISUJACY"
AUDITOR = "AUDYTOR"
FEEDING_SYSTEM = "SYSTEM_ZASILAJACY"
END_USER = "UZYTKOWNIK"

#: The highest number a template version may have (the contracts' `NumerWersji`, an SQL INTEGER everywhere).
TEMPLATE_VERSION_MAX = 2_147_483_647
