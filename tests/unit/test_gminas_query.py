"""A query by kind of data set (issue 16), without I/O: a PUP clerk asks every OPS unit of a powiat of twenty
gminas at once; one result per unit in scope, one record per unit that returned data, and a unit outside
the group's scope is neither asked nor named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from audit import Outcome
from contract.errors import InvalidRequest, NotAllowed, UnknownDataSet
from contract.identifiers import Identifier
from hub import settings
from hub.domain.policy import Caller
from hub.domain.query import NO_DATA, OK, QueryRequest
from tests.unit.fakes import InMemoryReplicaReader, ListDisclosureRegister, StoredPerson, engine_with, section
from tests.unit.test_gminas_settings import powiat

PESEL = "90010112349"
GMINAS = [f"02010{i:02d}" for i in range(1, 21)]
KNOWN_IN = ("0201003", "0201011")  # the person moved from one gmina to another: both OPS know them
EXCEPTED = "0201020"  # the PUP's intermediaries may not see this gmina's OPS


def _person() -> StoredPerson:
    personal = section("DaneOsobowe", Nazwisko="Kowalska", Imie="Anna", Pesel=PESEL, DataUrodzenia="1990-01-01")
    benefits = section("Swiadczenia", Nazwa="zasiłek okresowy", Od="2025-01-01")
    sections = {"DaneOsobowe": personal, "Swiadczenia": benefits}
    return StoredPerson(PESEL, "Kowalska", "Anna", dt.date(1990, 1, 1), sections)


@pytest.fixture
def config(tmp_path: Path) -> settings.Config:
    raw: dict[str, Any] = powiat(20)
    raw["powiat"]["node"] = "https://{code}.example.invalid/wezel"  # no replica is opened: fakes stand in
    raw["data_sets"][0] = {"code": "PUP", "controller": "PUP", "node": "https://pup.example.invalid/wezel"}
    raw["rules"] = [
        {"office": "PUP", "group": "POSREDNICY", "data_set": "*OPS", "categories": ["DANE_OSOBOWE", "SWIADCZENIA"]},
        {"office": "PUP", "group": "POSREDNICY", "data_set": f"OPS-{EXCEPTED}", "categories": []},
    ]
    return settings.parse(raw, tmp_path / "platforma.toml")


@pytest.fixture
def readers(config: settings.Config) -> dict[str, InMemoryReplicaReader]:
    return {
        d.code: InMemoryReplicaReader({1: _person()} if d.code.removeprefix("OPS-") in KNOWN_IN else {})
        for d in config.data_sets
    }


CALLER = Caller("pup.posrednik", "PUP", "POSREDNICY")


def _by_kind(kinds: dict[str, list[str]], scope: dict[str, list[str]] | None = None) -> QueryRequest:
    purpose = "Aktywizacja, sprawa PUP.1.2026"
    return QueryRequest(Identifier.build(pesel=PESEL), "URPSZ", purpose, scope or {}, kinds=kinds)


def test_a_query_by_kind_answers_once_per_unit_in_scope_with_one_record_per_unit_that_returned_data(
    config: settings.Config, readers: dict[str, InMemoryReplicaReader]
) -> None:
    register = ListDisclosureRegister()
    engine = engine_with(config, register, readers)
    answer = engine.ask(CALLER, _by_kind({"OPS": ["DANE_OSOBOWE", "SWIADCZENIA"]}))
    statuses = {r.data_set: r.status for r in answer.results}
    assert len(statuses) == 19 and f"OPS-{EXCEPTED}" not in statuses
    assert {code for code, status in statuses.items() if status == OK} == {f"OPS-{t}" for t in KNOWN_IN}
    assert all(status == NO_DATA for code, status in statuses.items() if code.removeprefix("OPS-") not in KNOWN_IN)
    records = register.all
    assert [(r.data_set, r.outcome, r.categories) for r in records] == [
        (f"OPS-{t}", Outcome.DISCLOSED, ("DANE_OSOBOWE", "SWIADCZENIA")) for t in KNOWN_IN
    ]
    assert {r.request_id for r in records} == {answer.request_id}
    assert all(r.subject_pesel == PESEL for r in records)
    assert readers[f"OPS-{EXCEPTED}"].calls == [] and readers["PUP"].calls == []  # never asked
    assert all(readers[f"SR-{t}"].calls == [] for t in GMINAS)


def test_explicit_codes_and_a_kind_together_ask_each_unit_once(
    config: settings.Config, readers: dict[str, InMemoryReplicaReader]
) -> None:
    engine = engine_with(config, ListDisclosureRegister(), readers)
    answer = engine.ask(CALLER, _by_kind({"OPS": ["SWIADCZENIA"]}, {"OPS-0201003": ["DANE_OSOBOWE"]}))
    assert [r.data_set for r in answer.results][:2] == ["OPS-0201003", "OPS-0201001"]
    assert len(answer.results) == 19
    assert answer.results[0].categories == ("DANE_OSOBOWE", "SWIADCZENIA")


def test_a_kind_with_nothing_in_scope_is_refused_and_recorded_without_naming_any_unit(
    config: settings.Config, readers: dict[str, InMemoryReplicaReader]
) -> None:
    register = ListDisclosureRegister()
    engine = engine_with(config, register, readers)
    with pytest.raises(NotAllowed) as refused:
        engine.ask(CALLER, _by_kind({"SR": ["DANE_OSOBOWE"]}))
    assert refused.value.details == ("ZBIOR:*SR",)
    assert [(r.data_set, r.outcome) for r in register.all] == [("*SR", Outcome.REFUSED)]
    assert all(reader.calls == [] for reader in readers.values())


def test_a_kind_asking_more_than_one_unit_allows_is_refused_whole_naming_that_unit(
    config: settings.Config, readers: dict[str, InMemoryReplicaReader]
) -> None:
    engine = engine_with(config, ListDisclosureRegister(), readers)
    with pytest.raises(NotAllowed) as refused:
        engine.ask(CALLER, _by_kind({"OPS": ["INFORMACJE_OGOLNE"]}))
    assert len(refused.value.details) == 19 and "OPS-0201001:INFORMACJE_OGOLNE" in refused.value.details


def test_an_unknown_kind_and_a_kind_without_categories_are_the_callers_mistakes(
    config: settings.Config, readers: dict[str, InMemoryReplicaReader]
) -> None:
    engine = engine_with(config, ListDisclosureRegister(), readers)
    with pytest.raises(UnknownDataSet) as unknown:
        engine.ask(CALLER, _by_kind({"XYZ": ["DANE_OSOBOWE"]}))
    assert unknown.value.details == ("ZBIOR:*XYZ",)
    with pytest.raises(InvalidRequest):
        engine.ask(CALLER, _by_kind({"OPS": []}))


def test_an_unknown_category_of_a_kind_is_named_as_such_not_as_a_refusal(config: settings.Config) -> None:
    from contract.errors import UnknownCategory
    from hub.domain.scope import expand_kinds

    with pytest.raises(UnknownCategory) as unknown:
        expand_kinds(config, [], {}, {"OPS": ["DANE_OSOBOWE", "NIE_MA"]})
    assert unknown.value.code == "NIEZNANA_KATEGORIA" and "NIE_MA" in unknown.value.message


def _namesake(pesel: str) -> StoredPerson:
    personal = section("DaneOsobowe", Nazwisko="Kowalska", Imie="Anna", Pesel=pesel, DataUrodzenia="1990-01-01")
    benefits = section("Swiadczenia", Nazwa="zasiłek okresowy", Od="2025-01-01")
    sections = {"DaneOsobowe": personal, "Swiadczenia": benefits}
    return StoredPerson(pesel, "Kowalska", "Anna", dt.date(1990, 1, 1), sections)


@pytest.mark.parametrize("categories", [["DANE_OSOBOWE", "SWIADCZENIA"], ["SWIADCZENIA"]])
def test_a_name_naming_different_people_in_two_gminas_gives_nobodys_data(
    config: settings.Config, readers: dict[str, InMemoryReplicaReader], categories: list[str]
) -> None:
    """Gminas pass: two namesakes born the same day, one in each gmina's OPS: a query by name and birth date
    answered both units OK, and the caller could not tell whose benefits were whose."""
    readers[f"OPS-{KNOWN_IN[1]}"].people = {1: _namesake("90010112356")}  # another PESEL, the same name
    register = ListDisclosureRegister()
    engine = engine_with(config, register, readers)
    by_name = Identifier.build(surname="Kowalska", first_name="Anna", birth_date=dt.date(1990, 1, 1))
    request = QueryRequest(by_name, "URPSZ", "Aktywizacja, sprawa PUP.1.2026", {}, kinds={"OPS": categories})
    answer = engine.ask(CALLER, request)
    statuses = {r.data_set: r.status for r in answer.results}
    assert {code for code, status in statuses.items() if status == "NIEJEDNOZNACZNY"} == {f"OPS-{t}" for t in KNOWN_IN}
    assert OK not in statuses.values() and all(r.element is None for r in answer.results)
    assert register.all == []
    # The same person known to both gminas (one PESEL) is still answered by name.
    readers[f"OPS-{KNOWN_IN[1]}"].people = {1: _person()}
    again = engine.ask(CALLER, request)
    assert {r.data_set for r in again.results if r.status == OK} == {f"OPS-{t}" for t in KNOWN_IN}
