"""The query engine without I/O: replicas are dicts (`fakes.InMemoryReplicaReader`), the disclosure register a
list (`fakes.ListDisclosureRegister`). What leaves, what is recorded, what is never read.

The same engine against real SQLite replicas and the hash-chained register is in
`tests/integration/test_query_engine.py`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from audit import DisclosureRecord, Outcome
from contract import catalog
from contract.errors import (
    InvalidRequest,
    MissingPurpose,
    NotAllowed,
    PlatformError,
    UnknownCategory,
    UnknownDataSet,
    UnknownLegalBasis,
)
from contract.identifiers import Identifier
from hub import settings
from hub.domain.policy import Caller
from hub.domain.query import AMBIGUOUS, NO_DATA, OK, UNAVAILABLE, QueryAnswer, QueryEngine, QueryRequest
from hub.settings import Config
from tests.unit.fakes import (
    InMemoryReplicaReader,
    ListDisclosureRegister,
    StoredPerson,
    UnavailableReplicaReader,
    engine_with,
    section,
)

RAW: dict[str, Any] = {
    "hub": {"name": "Hub testowy", "database": "sqlite:///hub.sqlite", "audit_database": "sqlite:///audit.sqlite"},
    "offices": [
        {"code": "PUP", "name": "Powiatowy Urząd Pracy w Testowie", "kind": "PUP"},
        {"code": "OPS", "name": "Ośrodek Pomocy Społecznej w Testowie", "kind": "OPS"},
        {"code": "SR", "name": "Dział Świadczeń Rodzinnych w Testowie", "kind": "SR"},
    ],
    "groups": [{"code": "PRACOWNICY_SOCJALNI", "office": "OPS", "name": "Pracownicy socjalni"}],
    # Every data set is a node, so `QueryEngine` builds no `ReplicaReader`; the fakes are put in its place.
    "data_sets": [
        {"code": "PUP", "controller": "PUP", "node": "https://pup.example.invalid/wezel"},
        {"code": "SR", "controller": "SR", "node": "https://sr.example.invalid/wezel"},
        {"code": "OPS", "controller": "OPS", "node": "https://ops.example.invalid/wezel"},
    ],
    "legal_bases": [
        {"code": "UPS_ART_105", "citation": "art. 105 ustawy o pomocy społecznej", "data_sets": ["PUP", "SR", "OPS"]}
    ],
    "rules": [
        {
            "office": "OPS",
            "group": "PRACOWNICY_SOCJALNI",
            "data_set": "PUP",
            "categories": ["DANE_OSOBOWE", "OKRESY_REJESTRACJI", "WIZYTY"],
        },
        {
            "office": "OPS",
            "group": "PRACOWNICY_SOCJALNI",
            "data_set": "SR",
            "categories": ["DANE_OSOBOWE", "DANE_DZIECI", "PRZYZNANE_SWIADCZENIA"],
        },
        {"office": "OPS", "group": "PRACOWNICY_SOCJALNI", "data_set": "OPS", "categories": ["DANE_OSOBOWE"]},
    ],
}

CALLER = Caller("ops.kowalska", "OPS", "PRACOWNICY_SOCJALNI", channel="SOAP")
BASIS = "UPS_ART_105"
PURPOSE = "Wywiad środowiskowy, sprawa OPS.5111.12.2025"

ANNA_PESEL = "90010112349"
TWIN_PESELS = ("85050578907", "85050512347")
TWINS_BORN = dt.date(1985, 5, 5)


def _personal(pesel: str, surname: str, first_name: str, born: dt.date) -> bytes:
    return section("DaneOsobowe", Nazwisko=surname, Imie=first_name, Pesel=pesel, DataUrodzenia=born.isoformat())


ANNA_PUP = StoredPerson(
    ANNA_PESEL,
    "Kowalska",
    "Anna",
    dt.date(1990, 1, 1),
    {
        "DaneOsobowe": _personal(ANNA_PESEL, "Kowalska", "Anna", dt.date(1990, 1, 1)),
        "OkresyRejestracji": section("OkresyRejestracji", Od="2024-02-01", Status="bezrobotny"),
        "Wizyty": section("Wizyty", Rodzaj="wizyta u doradcy", DataPlanowana="2025-03-04"),
        "HistoriaZatrudnienia": section("HistoriaZatrudnienia", Pracodawca="Huta Testowo sp. z o.o."),
    },
    document_kind="DOWOD_OSOBISTY",
    document_number="ABA300000",
)


def _twin(pesel: str) -> StoredPerson:
    return StoredPerson(
        pesel, "Nowak", "Jan", TWINS_BORN, {"DaneOsobowe": _personal(pesel, "Nowak", "Jan", TWINS_BORN)}
    )


@pytest.fixture(scope="module")
def config() -> Config:
    return settings.parse(RAW, Path("/tmp/x/platforma.toml"))


@pytest.fixture
def pup() -> InMemoryReplicaReader:
    return InMemoryReplicaReader({1: ANNA_PUP, 2: _twin(TWIN_PESELS[0]), 3: _twin(TWIN_PESELS[1])})


@pytest.fixture
def sr() -> InMemoryReplicaReader:
    """SR knows only the first of the two Jan Nowaks, with a child."""
    jan = _twin(TWIN_PESELS[0])
    jan.sections["DaneDzieci"] = section("DaneDzieci", Imie="Zosia", DataUrodzenia="2015-06-01")
    return InMemoryReplicaReader({7: jan})


@pytest.fixture
def register() -> ListDisclosureRegister:
    return ListDisclosureRegister()


@pytest.fixture
def engine(
    config: Config, register: ListDisclosureRegister, pup: InMemoryReplicaReader, sr: InMemoryReplicaReader
) -> QueryEngine:
    """PUP and SR answer from memory; OPS has no reader at all."""
    return engine_with(config, register, {"PUP": pup, "SR": sr})


def _request(identifier: Identifier, scope: dict[str, list[str]], legal_basis: str = BASIS) -> QueryRequest:
    return QueryRequest(identifier, legal_basis, PURPOSE, scope)


def _children(answer: QueryAnswer, data_set: str) -> list[str]:
    element = _result(answer, data_set).element
    assert element is not None
    return [etree.QName(child).localname for child in element]


def _result(answer: QueryAnswer, data_set: str) -> Any:
    (result,) = [r for r in answer.results if r.data_set == data_set]
    return result


def _c14n(element: Any) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def test_a_person_known_in_one_data_set_gets_exactly_the_asked_sections_and_one_record(
    engine: QueryEngine, register: ListDisclosureRegister, pup: InMemoryReplicaReader, sr: InMemoryReplicaReader
) -> None:
    answer = engine.ask(
        CALLER,
        QueryRequest(Identifier.build(pesel=ANNA_PESEL), BASIS, f"  {PURPOSE} ", {"PUP": ["WIZYTY", "DANE_OSOBOWE"]}),
        request_id="req-1",
    )

    assert answer.request_id == "req-1"
    assert [(r.data_set, r.status) for r in answer.results] == [("PUP", OK)]
    result = answer.results[0]
    assert result.controller == "Powiatowy Urząd Pracy w Testowie"
    assert result.element is not None
    assert etree.QName(result.element).text == f"{{{catalog.QUERY_NS}}}DanePUP"
    # Exactly the asked sections (in the model's order, not the caller's), each byte for byte as stored:
    # neither the stored OkresyRejestracji (in scope, not asked) nor HistoriaZatrudnienia (out of scope).
    assert _children(answer, "PUP") == ["DaneOsobowe", "Wizyty"]
    assert [_c14n(child) for child in result.element] == [ANNA_PUP.sections["DaneOsobowe"], ANNA_PUP.sections["Wizyty"]]
    assert result.categories == ("DANE_OSOBOWE", "WIZYTY")

    sent = hashlib.sha256(_c14n(result.element)).hexdigest()
    assert result.digest == sent
    assert register.batches == [
        [
            DisclosureRecord(
                time=answer.time,
                request_id="req-1",
                user="ops.kowalska",
                office="OPS",
                channel="SOAP",
                identifier=f"PESEL:{ANNA_PESEL}",
                subject_pesel=ANNA_PESEL,
                data_set="PUP",
                controller="Powiatowy Urząd Pracy w Testowie",
                categories=("DANE_OSOBOWE", "WIZYTY"),
                legal_basis=BASIS,
                purpose=PURPOSE,
                outcome=Outcome.DISCLOSED,
                digest=sent,
                reason="",
            )
        ]
    ]
    # One read of the data set asked, none of the one not asked.
    assert [name for name, _args in pup.calls] == ["lookup"]
    assert sr.calls == []


def test_categories_asked_twice_are_sent_and_recorded_once(
    engine: QueryEngine, register: ListDisclosureRegister
) -> None:
    answer = engine.ask(CALLER, _request(Identifier.build(pesel=ANNA_PESEL), {"PUP": ["WIZYTY", "WIZYTY"]}))
    assert _children(answer, "PUP") == ["Wizyty"]
    (record,) = register.all
    assert record.categories == ("WIZYTY",)


def test_the_subject_is_recorded_by_pesel_even_when_asked_by_document_without_personal_data(
    engine: QueryEngine, register: ListDisclosureRegister, pup: InMemoryReplicaReader
) -> None:
    """The per-person report (GDPR art. 15) finds the record although the PESEL was neither given nor sent."""
    identifier = Identifier.build(document_kind="DOWOD_OSOBISTY", document_number="aba 300000")
    answer = engine.ask(CALLER, _request(identifier, {"PUP": ["OKRESY_REJESTRACJI"]}))
    assert _children(answer, "PUP") == ["OkresyRejestracji"]
    (record,) = register.all
    assert record.identifier == "DOKUMENT:DOWOD_OSOBISTY:ABA300000"
    assert record.subject_pesel == ANNA_PESEL
    assert list(register.records(pesel=ANNA_PESEL)) == [record]
    # The PESEL came from a second read of the personal section, which was not put in the answer.
    assert [name for name, _args in pup.calls] == ["lookup", "sections"]


def test_a_person_unknown_to_a_data_set_gets_no_data_from_it_and_no_record_for_it(
    engine: QueryEngine, register: ListDisclosureRegister
) -> None:
    answer = engine.ask(
        CALLER, _request(Identifier.build(pesel=ANNA_PESEL), {"PUP": ["DANE_OSOBOWE"], "SR": ["DANE_OSOBOWE"]})
    )
    assert [(r.data_set, r.status) for r in answer.results] == [("PUP", OK), ("SR", NO_DATA)]
    unknown = _result(answer, "SR")
    assert (unknown.element, unknown.digest, unknown.categories) == (None, "", ())
    assert unknown.controller == "Dział Świadczeń Rodzinnych w Testowie"
    assert unknown.message == "Brak danych o tej osobie w zbiorze."
    # Only what left the platform is recorded: the PUP disclosure, nothing for SR.
    assert [(r.data_set, r.outcome) for r in register.all] == [("PUP", Outcome.DISCLOSED)]


def test_a_person_unknown_everywhere_discloses_nothing_and_records_nothing(
    engine: QueryEngine, register: ListDisclosureRegister
) -> None:
    answer = engine.ask(CALLER, _request(Identifier.build(pesel="02213065438"), {"PUP": ["DANE_OSOBOWE", "WIZYTY"]}))
    assert [(r.data_set, r.status, r.element) for r in answer.results] == [("PUP", NO_DATA, None)]
    assert register.all == []


def test_an_identifier_matching_two_people_discloses_nothing_from_that_data_set(
    engine: QueryEngine, register: ListDisclosureRegister
) -> None:
    by_name = Identifier.build(surname="NOWAK", first_name="jan", birth_date=TWINS_BORN)
    answer = engine.ask(CALLER, _request(by_name, {"PUP": ["DANE_OSOBOWE"], "SR": ["DANE_DZIECI"]}))

    assert [(r.data_set, r.status) for r in answer.results] == [("PUP", AMBIGUOUS), ("SR", OK)]
    ambiguous = _result(answer, "PUP")
    assert (ambiguous.element, ambiguous.digest) == (None, "")
    assert "PESEL" in ambiguous.message  # tells the clerk how to narrow it down
    assert not any(pesel in ambiguous.message for pesel in TWIN_PESELS)
    # SR knows one Jan Nowak born that day: only that disclosure is recorded, with his PESEL.
    (record,) = register.all
    assert (record.data_set, record.outcome, record.categories) == ("SR", Outcome.DISCLOSED, ("DANE_DZIECI",))
    assert record.identifier == f"OSOBA:NOWAK|jan|{TWINS_BORN.isoformat()}"
    assert record.subject_pesel == TWIN_PESELS[0]


REFUSALS = [
    pytest.param(
        {"PUP": ["DANE_OSOBOWE", "HISTORIA_ZATRUDNIENIA"], "SR": ["DANE_DZIECI"]},
        BASIS,
        NotAllowed,
        ("PUP:HISTORIA_ZATRUDNIENIA",),
        ("Powiatowy Urząd Pracy w Testowie", "Dział Świadczeń Rodzinnych w Testowie"),
        id="a category outside the scope refuses the whole query",
    ),
    pytest.param(
        {"PUP": ["DANE_OSOBOWE"]},
        "KODEKS_NIEISTNIEJACY",
        UnknownLegalBasis,
        ("PODSTAWA_PRAWNA:KODEKS_NIEISTNIEJACY",),
        ("Powiatowy Urząd Pracy w Testowie",),
        id="an unknown legal basis is refused",
    ),
    pytest.param(
        {"PUP": ["NIE_MA_TAKIEJ"]},
        BASIS,
        UnknownCategory,
        ("PUP:NIE_MA_TAKIEJ",),
        ("Powiatowy Urząd Pracy w Testowie",),
        id="an unknown category is refused",
    ),
    pytest.param(
        {"ZUS": ["DANE_OSOBOWE"], "PUP": ["DANE_OSOBOWE"]},
        BASIS,
        UnknownDataSet,
        ("ZBIOR:ZUS",),
        ("", "Powiatowy Urząd Pracy w Testowie"),
        id="an unknown data set is refused",
    ),
]


@pytest.mark.parametrize(("scope", "legal_basis", "error", "details", "controllers"), REFUSALS)
def test_a_refused_query_reads_nothing_and_records_the_refusal(
    engine: QueryEngine,
    register: ListDisclosureRegister,
    pup: InMemoryReplicaReader,
    sr: InMemoryReplicaReader,
    scope: dict[str, list[str]],
    legal_basis: str,
    error: type[PlatformError],
    details: tuple[str, ...],
    controllers: tuple[str, ...],
) -> None:
    with pytest.raises(PlatformError) as caught:
        engine.ask(CALLER, _request(Identifier.build(pesel=ANNA_PESEL), scope, legal_basis), request_id="req-odmowa")
    assert type(caught.value) is error
    assert caught.value.details == details

    assert pup.calls == [] and sr.calls == []
    # One batch, one refusal per data set asked, naming what was asked and why it was refused; no digest.
    (batch,) = register.batches
    assert [(r.data_set, r.controller, r.categories) for r in batch] == [
        (code, controller, tuple(categories))
        for (code, categories), controller in zip(scope.items(), controllers, strict=True)
    ]
    for record in batch:
        assert record.outcome is Outcome.REFUSED
        assert record.digest == ""
        assert record.reason == f"{error.code}: {', '.join(details)}"
        assert record.request_id == "req-odmowa"
        assert (record.user, record.office, record.channel) == ("ops.kowalska", "OPS", "SOAP")
        assert (record.legal_basis, record.purpose, record.subject_pesel) == (legal_basis, PURPOSE, ANNA_PESEL)


@pytest.mark.parametrize(
    ("purpose", "scope", "error"),
    [
        pytest.param("   ", {"PUP": ["DANE_OSOBOWE"]}, MissingPurpose, id="a query without a purpose"),
        pytest.param("\u200b\u2060\u200b", {"PUP": ["DANE_OSOBOWE"]}, MissingPurpose, id="an invisible purpose"),
        pytest.param(
            "Ustalenie \u202eynowelunu\u202c", {"PUP": ["DANE_OSOBOWE"]}, InvalidRequest, id="a reversed purpose"
        ),
        pytest.param(PURPOSE, {}, InvalidRequest, id="a query without a data set"),
        pytest.param(PURPOSE, {"PUP": []}, InvalidRequest, id="a data set asked without categories"),
    ],
)
def test_a_malformed_query_reads_nothing_and_records_nothing(
    engine: QueryEngine,
    register: ListDisclosureRegister,
    pup: InMemoryReplicaReader,
    purpose: str,
    scope: dict[str, list[str]],
    error: type[PlatformError],
) -> None:
    """Rejected before the policy: the caller's form is incomplete, not a request for data (not recorded)."""
    with pytest.raises(error):
        engine.ask(CALLER, QueryRequest(Identifier.build(pesel=ANNA_PESEL), BASIS, purpose, scope))
    assert pup.calls == []
    assert register.batches == []


def test_a_data_set_whose_replica_fails_is_unavailable_while_the_others_answer(
    config: Config, register: ListDisclosureRegister, sr: InMemoryReplicaReader
) -> None:
    failing = UnavailableReplicaReader()
    engine = engine_with(config, register, {"PUP": failing, "SR": sr})  # OPS: no reader at all
    answer = engine.ask(
        CALLER,
        _request(
            Identifier.build(pesel=TWIN_PESELS[0]),
            {"PUP": ["DANE_OSOBOWE"], "SR": ["DANE_OSOBOWE", "DANE_DZIECI"], "OPS": ["DANE_OSOBOWE"]},
        ),
    )

    assert [(r.data_set, r.status) for r in answer.results] == [("PUP", UNAVAILABLE), ("SR", OK), ("OPS", UNAVAILABLE)]
    for code in ("PUP", "OPS"):
        down = _result(answer, code)
        assert (down.element, down.digest) == (None, "")
        assert "SELECT" not in down.message and "nie odpowiada" not in down.message  # nothing internal leaks
    assert len(failing.calls) == 1
    assert _children(answer, "SR") == ["DaneOsobowe", "DaneDzieci"]
    (record,) = register.all
    assert (record.data_set, record.digest) == ("SR", _result(answer, "SR").digest)


def test_nothing_is_answered_when_the_register_cannot_record(config: Config, pup: InMemoryReplicaReader) -> None:
    """Guideline 6: the record is durable before data leaves; a register that fails stops the answer."""

    class BrokenRegister(ListDisclosureRegister):
        def append(self, records: Any) -> None:
            raise OSError("dysk pełny")

    engine = engine_with(config, BrokenRegister(), {"PUP": pup})
    with pytest.raises(OSError, match="dysk pełny"):
        engine.ask(CALLER, _request(Identifier.build(pesel=ANNA_PESEL), {"PUP": ["DANE_OSOBOWE"]}))


def test_close_disposes_every_reader(
    engine: QueryEngine, pup: InMemoryReplicaReader, sr: InMemoryReplicaReader
) -> None:
    engine.close()
    assert pup.disposed and sr.disposed
