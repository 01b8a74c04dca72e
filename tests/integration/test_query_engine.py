"""The query core against real SQLite replicas: ambiguity, read-only replicas, the credential cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import text

from contract.errors import AuthenticationFailed, NotAllowed
from contract.identifiers import Identifier
from demo.data import Person, Population, write_people_feed
from hub import settings as config_module
from hub.core import HubCore
from hub.domain.accounts import Accounts, hash_password
from hub.domain.policy import Caller
from hub.domain.query import AMBIGUOUS, OK, UNAVAILABLE, QueryRequest
from hub.settings import UserEntry
from hub.soap.contracts import feed_schema
from hub.storage.tables import hub_engine
from replica.writer import Loader

CONFIG = """
[hub]
name = "Test"
database = "sqlite:///replica.sqlite"
audit_database = "sqlite:///audit.sqlite"

[[offices]]
code = "PUP"
name = "PUP testowy"
kind = "PUP"

[[offices]]
code = "OPS"
name = "OPS testowy"
kind = "OPS"

[[data_sets]]
code = "PUP"
controller = "PUP"
replica = "sqlite:///pup.sqlite"

[[groups]]
code = "G"
office = "OPS"
name = "Grupa"

[[legal_bases]]
code = "L"
citation = "Przepis testowy"
data_sets = ["PUP"]

[[rules]]
office = "OPS"
group = "G"
data_set = "PUP"
categories = ["DANE_OSOBOWE", "WIZYTY"]
"""


@pytest.fixture(params=["plain", "awkward"])
def twins(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[HubCore, Person, Person]:
    """A PUP replica where two different people share surname, first name and birth date; also in a folder
    whose name has a space and a `#` (which ends the path of a SQLite URI unless percent-encoded)."""
    if request.param == "awkward":
        tmp_path = tmp_path / "dane powiatu #1"
        tmp_path.mkdir()
    powiat = Population(99)
    first = powiat.person(30, 40)
    second = powiat.person(30, 40)
    second.surname, second.first_name, second.birth = first.surname, first.first_name, first.birth
    second.sex = first.sex
    feed = tmp_path / "pup.xml"
    write_people_feed(feed, "PUP", powiat, [first, second])
    (tmp_path / "platforma.toml").write_text(CONFIG, encoding="utf-8")
    config = config_module.load(tmp_path / "platforma.toml")
    loader = Loader(config.data_set("PUP").replica, "PUP", feed_schema())  # type: ignore[union-attr,arg-type]
    loader.load(feed)
    loader.dispose()
    core = HubCore.open(config)
    yield core, first, second
    core.close()


CALLER = Caller("ops.test", "OPS", "G")


def test_identifier_matching_two_people_discloses_nothing_from_that_data_set(twins) -> None:  # type: ignore[no-untyped-def]
    core, first, _second = twins
    request = QueryRequest(
        Identifier.build(surname=first.surname, first_name=first.first_name, birth_date=first.birth),
        "L",
        "Cel testowy",
        {"PUP": ["DANE_OSOBOWE"]},
    )
    answer = core.query.ask(CALLER, request)
    assert answer.results[0].status == AMBIGUOUS and answer.results[0].element is None
    assert list(core.register.records(request_id=answer.request_id)) == []
    by_pesel = core.query.ask(
        CALLER, QueryRequest(Identifier.build(pesel=first.pesel), "L", "Cel", {"PUP": ["WIZYTY"]})
    )
    assert by_pesel.results[0].status == OK
    sections = [etree.QName(s).localname for s in by_pesel.results[0].element]  # type: ignore[union-attr]
    assert sections == ["Wizyty"]
    record = next(core.register.records(request_id=by_pesel.request_id))
    assert record.subject_pesel == first.pesel  # found even though DANE_OSOBOWE was not asked


def test_a_replica_in_the_old_layout_answers_unavailable_and_discloses_nothing(twins) -> None:  # type: ignore[no-untyped-def]
    """A replica left by a development build (a `sekcje` row per section) is not misread: that data set is
    unavailable, no disclosure is recorded, and the caller gets no path or traceback."""
    core, first, _second = twins
    connection = sqlite3.connect(core.query.replicas["PUP"]._file)
    connection.execute("ALTER TABLE sekcje ADD COLUMN sekcja VARCHAR(64)")
    connection.commit()
    connection.close()
    request = QueryRequest(Identifier.build(pesel=first.pesel), "L", "Cel testowy", {"PUP": ["DANE_OSOBOWE"]})
    answer = core.query.ask(CALLER, request)
    result = answer.results[0]
    assert (result.status, result.element) == (UNAVAILABLE, None)
    assert result.message == "Źródło danych nie odpowiedziało."
    assert list(core.register.records(request_id=answer.request_id)) == []


def test_a_replica_of_another_data_set_answers_unavailable_and_discloses_nothing(twins) -> None:  # type: ignore[no-untyped-def]
    """The configuration names a replica that records another data set (a file copied over it, a URL to the
    wrong office's database): its people are not disclosed as this data set's."""
    core, first, _second = twins
    connection = sqlite3.connect(core.query.replicas["PUP"]._file)
    connection.execute("UPDATE stan_repliki SET zbior = 'SR', rodzaj = 'SR'")
    connection.commit()
    connection.close()
    request = QueryRequest(Identifier.build(pesel=first.pesel), "L", "Cel testowy", {"PUP": ["DANE_OSOBOWE"]})
    answer = core.query.ask(CALLER, request)
    result = answer.results[0]
    assert (result.status, result.element) == (UNAVAILABLE, None)
    assert list(core.register.records(request_id=answer.request_id)) == []


def test_refusal_is_recorded_and_nothing_is_read(twins) -> None:  # type: ignore[no-untyped-def]
    core, first, _ = twins
    request = QueryRequest(Identifier.build(pesel=first.pesel), "L", "Cel", {"PUP": ["HISTORIA_ZATRUDNIENIA"]})
    with pytest.raises(NotAllowed) as refused:
        core.query.ask(CALLER, request, request_id="r-refused")
    assert refused.value.details == ("PUP:HISTORIA_ZATRUDNIENIA",)
    records = list(core.register.records(request_id="r-refused"))
    assert len(records) == 1 and records[0].outcome.value == "ODMOWA" and records[0].digest == ""


def test_hub_connection_to_a_replica_cannot_write(twins) -> None:  # type: ignore[no-untyped-def]
    core, _first, _ = twins
    engine = core.query.replicas["PUP"].engine
    with pytest.raises(Exception, match=r"readonly|read-only|query_only"):
        with engine.begin() as connection:
            connection.execute(text("UPDATE osoby SET pesel = NULL"))
    with pytest.raises(Exception, match=r"readonly|read-only|query_only"):
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM sekcje"))
    # The query path's own per-thread driver connection is just as read-only.
    raw = core.query.replicas["PUP"]._thread_connection()
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        raw.execute("DELETE FROM sekcje")
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        raw.execute("UPDATE osoby SET pesel = NULL")


def test_verified_credentials_are_cached_and_argon2_is_not_run_per_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = Accounts(hub_engine(f"sqlite:///{tmp_path / 'replica.sqlite'}"), cache_seconds=60)
    accounts.import_users(
        [UserEntry(login="jan", office="OPS", group="G", password_hash=hash_password("Haslo-testowe-1"))]
    )
    import hub.domain.accounts as module

    calls: list[int] = []
    real = module._HASHER

    class CountingHasher:
        def verify(self, stored: str, password: str) -> bool:
            calls.append(1)
            return real.verify(stored, password)

    monkeypatch.setattr(module, "_HASHER", CountingHasher())
    for _ in range(20):
        assert accounts.authenticate("jan", "Haslo-testowe-1").office == "OPS"
    assert len(calls) == 1
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("jan", "inne-haslo")  # a different password is never served from the cache
    accounts.forget("jan")
    accounts.authenticate("jan", "Haslo-testowe-1")
    assert len(calls) == 3


def test_files_in_a_folder_with_awkward_characters_are_the_ones_opened(twins, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    core, first, _ = twins
    request = QueryRequest(Identifier.build(pesel=first.pesel), "L", "Cel", {"PUP": ["DANE_OSOBOWE"]})
    answer = core.query.ask(CALLER, request, request_id="r-path")
    assert [r.status for r in answer.results] == [OK]
    assert core.accounts.watch.token() is not None  # the hub database's change watch opened it
    # Nothing was created beside the folder (a URI cut at `#` named, and created, the file "dane powiatu ").
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("dane powiatu") and p.is_file()]
