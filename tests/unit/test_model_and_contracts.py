"""The common model covers every category of DESIGN.md, and the checked-in contracts match the code."""

from __future__ import annotations

from lxml import etree

from contract import catalog
from hub.soap import contracts
from hub.soap.model import DATA_TYPES
from tests.conftest import FIXTURES, ROOT

DESIGN_CATEGORIES = {
    "PUP": {
        "DANE_OSOBOWE",
        "OKRESY_REJESTRACJI",
        "PRZYZNANE_SWIADCZENIA",
        "POBRANE_ZASILKI",
        "INNE_SWIADCZENIA",
        "PROPOZYCJE_SZKOLEN",
        "SZKOLENIA_ODBYTE",
        "PROPOZYCJE_PRACY",
        "WYKSZTALCENIE_KWALIFIKACJE",
        "WIZYTY",
        "HISTORIA_ZATRUDNIENIA",
        "HISTORIA_STATUSOW",
    },
    "OPS": {"DANE_OSOBOWE", "INFORMACJE_OGOLNE", "SWIADCZENIA"},
    "SR": {"DANE_OSOBOWE", "DANE_DZIECI", "PRZYZNANE_SWIADCZENIA", "WYPLACONE_SWIADCZENIA"},
}


def test_every_category_of_the_design_is_in_the_catalog() -> None:
    for code, expected in DESIGN_CATEGORIES.items():
        kind = catalog.kind(code)
        assert kind is not None
        assert set(kind.category_codes) == expected


def test_every_category_is_a_section_of_the_model_in_the_same_order() -> None:
    for code, spyne_type in DATA_TYPES.items():
        kind = catalog.kind(code)
        assert kind is not None
        assert list(spyne_type._type_info.keys()) == [c.element for c in kind.categories]


def test_guideline_fields_are_in_the_model() -> None:
    model = etree.fromstring((ROOT / "xsd" / "model-1.xsd").read_bytes())
    names = {e.get("name") for e in model.iter("{http://www.w3.org/2001/XMLSchema}element")}
    for field in (
        "Nazwisko",
        "Imie",
        "Pesel",
        "DataUrodzenia",
        "DokumentTozsamosci",
        "Plec",
        "StanCywilny",
        "RodzajAdresu",
        "KodPocztowy",
        "Miejscowosc",
        "Ulica",
        "NrDomu",
        "NrLokalu",
        "KwotaBrutto",
        "KwotaNetto",
        "Dziecko",
        "DataWyplaty",
        "CzyOdmowaUzasadniona",
        "SposobZakonczenia",
        "RodzajPropozycji",
        "Mowa",
        "Pismo",
        "Czytanie",
        "DataFaktyczna",
    ):
        assert field in names, field


def test_checked_in_contracts_equal_the_exported_ones() -> None:
    drift = contracts.check(ROOT)
    assert drift == [], f"run 'platforma contracts export': {drift} drifted from hub/soap/model"


def test_feed_fixture_is_valid_against_the_feed_schema() -> None:
    schema = contracts.feed_schema()
    document = etree.parse(str(FIXTURES / "xml" / "feed_pup_small.xml"))
    assert schema.validate(document), schema.error_log


def test_checked_in_wsdls_give_zeep_every_operation() -> None:
    from zeep import Client

    expected = {
        "zapytania.wsdl": {"ZapytanieOBeneficjenta", "ListaZbiorow", "ListaPodstawPrawnych"},
        "konta.wsdl": {"ZmianaHasla", "Wylogowanie"},
    }
    for name, operations in expected.items():
        client = Client(str(ROOT / "wsdl" / name))
        assert operations <= set(client.service._operations), name
