"""A feed record's date of birth: xs:date with a time zone is a date; a year the schema allows but no
calendar of ours has (12345, before the common era) rejects that record with a reason, never a server error."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from replica.writer import parse_record, record_problem

FEED = "urn:pl:platforma-komunikacyjna:zasilanie:1"
MODEL = "urn:pl:platforma-komunikacyjna:model:1"


def record(birth: str) -> etree._Element:
    return etree.fromstring(
        f'<Rekord xmlns="{FEED}"><IdZrodlowy>X-1</IdZrodlowy><DanePUP><m:DaneOsobowe xmlns:m="{MODEL}">'
        f"<m:Nazwisko>Testowa</m:Nazwisko><m:Imie>Anna</m:Imie><m:DataUrodzenia>{birth}</m:DataUrodzenia>"
        "<m:Plec>K</m:Plec></m:DaneOsobowe></DanePUP></Rekord>"
    )


@pytest.mark.parametrize("birth", ["1990-05-17", "1990-05-17Z", "1990-05-17+02:00", " 1990-05-17-11:00 "])
def test_a_date_with_or_without_a_time_zone_is_read(birth: str) -> None:
    parsed = parse_record(record(birth), "DanePUP")
    assert parsed.birth_date == dt.date(1990, 5, 17) and record_problem(parsed) is None


@pytest.mark.parametrize("birth", ["12345-01-01", "-2000-01-01", "10000-12-31Z"])
def test_a_year_out_of_range_rejects_the_record_with_a_reason(birth: str) -> None:
    parsed = parse_record(record(birth), "DanePUP")
    assert parsed.birth_date is None
    problem = record_problem(parsed)
    assert problem is not None and "data urodzenia" in problem and "9999" in problem
