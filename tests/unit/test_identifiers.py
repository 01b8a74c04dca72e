from __future__ import annotations

import datetime as dt

import pytest

from contract.errors import InvalidIdentifier, InvalidPesel
from contract.identifiers import Identifier, id_card_check_digit, id_card_checksum_ok, normalise_name, validate_pesel


def test_valid_pesel_is_accepted() -> None:
    assert validate_pesel("44051401359") == "44051401359"


@pytest.mark.parametrize(
    "value",
    [
        "44051401358",  # wrong check digit
        "44053201357",  # day 32 does not exist
        "4405140135",  # too short
        "4405140135a",  # not a number
        # python-stdnum's clean-up reads each of these as 44051401359; the contract says "11 cyfr".
        "４４０５１４０１３５９",  # full-width digits
        "٤٤٠٥١٤٠١٣٥٩",  # Arabic-Indic digits
        "44051-401359",  # a dash inside
        "4405 1401 359",  # spaces inside
        "",
    ],
)
def test_invalid_pesel_is_refused(value: str) -> None:
    with pytest.raises(InvalidPesel) as caught:
        validate_pesel(value)
    assert caught.value.code == "NIEPRAWIDLOWY_PESEL"


def test_white_space_around_a_pesel_is_dropped() -> None:
    assert validate_pesel(" 44051401359\n") == "44051401359"


def test_id_card_check_digit_matches_the_published_example() -> None:
    assert id_card_checksum_ok("ABA300000")
    assert not id_card_checksum_ok("ABA300001")
    assert id_card_check_digit("ABA", "00000") == "3"


def test_identifier_needs_a_complete_form() -> None:
    with pytest.raises(InvalidIdentifier):
        Identifier.build(surname="Kowalska", first_name="Anna")
    with pytest.raises(InvalidIdentifier):
        Identifier.build()
    with pytest.raises(InvalidIdentifier):
        Identifier.build(document_kind="DOWOD_OSOBISTY", document_number="ABA300001")


def test_identifier_describes_itself_for_the_register() -> None:
    assert Identifier.build(pesel="44051401359").describe() == "PESEL:44051401359"
    by_name = Identifier.build(surname=" Nowak ", first_name="Jan", birth_date=dt.date(1980, 1, 2))
    assert by_name.describe() == "OSOBA:Nowak|Jan|1980-01-02"
    by_card = Identifier.build(document_kind="DOWOD_OSOBISTY", document_number="aba 300000")
    assert by_card.describe() == "DOKUMENT:DOWOD_OSOBISTY:ABA300000"


def test_names_match_regardless_of_case_and_diacritics() -> None:
    assert normalise_name("Łukasz ") == normalise_name("lukasz")
    assert normalise_name("Żółć") == "zolc"
