"""A replica whose recorded identity was emptied behind the hub's back (`UPDATE stan_repliki SET rodzaj = NULL`,
its state row deleted while its people stay) cannot say whose people it holds. The hub does not answer from
it as the configured office's, and no writer feeds into it (nor takes it over); the replica is untouched.

What a writer can legitimately leave is still served: no controller (`platforma feed` is not told it), and a
replica made before identities were recorded (no identity columns, or the columns added and not yet filled).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from contract.errors import ConfigurationError
from contract.identifiers import Identifier
from demo.data import DomainSummary
from hub import settings as config_module
from hub.cli import main
from hub.core import HubCore
from hub.domain.policy import Caller
from hub.domain.query import OK, UNAVAILABLE, QueryRequest
from hub.soap.contracts import feed_schema
from replica.database import ReplicaReader
from replica.feed import ReplicaIdentity
from replica.writer import Loader, ReplicaMismatch
from tests.adapters.test_feed_attacks import a_pesel
from tests.adapters.test_replica_identity import everything_in
from tests.conftest import FIXTURES
from tests.integration.test_query_engine import CONFIG as QUERY_CONFIG

CODE = "NIEZGODNY_ZBIOR_REPLIKI"
PUP_FEED = FIXTURES / "xml" / "feed_pup_small.xml"
CALLER = Caller("ops.test", "OPS", "G")

#: The query engine's test powiat (one PUP replica, an OPS group allowed DANE_OSOBOWE).
CONFIG = QUERY_CONFIG

#: Each way of emptying what the replica records, and the fact the refusal must name.
TAMPERING = {
    "kind NULL": ("UPDATE stan_repliki SET rodzaj = NULL", "rodzaj"),
    "data set NULL": ("UPDATE stan_repliki SET zbior = NULL", "zbior"),
    "kind and controller NULL": ("UPDATE stan_repliki SET rodzaj = NULL, administrator = NULL", "rodzaj"),
    "data set and kind NULL, controller kept": ("UPDATE stan_repliki SET zbior = NULL, rodzaj = NULL", "zbior"),
    "state row deleted, people kept": ("DELETE FROM stan_repliki", "stan_repliki"),
}


def tamper(path: Path, sql: str) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute(sql)
        connection.commit()
    finally:
        connection.close()


@pytest.fixture
def hub(tmp_path: Path) -> Any:
    """A hub whose PUP data set is a replica loaded as `platforma load` does (data set, kind and controller
    recorded); yields the core and the replica's file."""
    (tmp_path / "platforma.toml").write_text(CONFIG, encoding="utf-8")
    config = config_module.load(tmp_path / "platforma.toml")
    replica = tmp_path / "pup.sqlite"
    loader = Loader(f"sqlite:///{replica}", "PUP", feed_schema(), data_set="PUP", controller="PUP")
    try:
        loader.load(PUP_FEED)
    finally:
        loader.dispose()
    core = HubCore.open(config)
    yield core, replica
    core.close()


def ask(core: HubCore, pesel: str) -> Any:
    request = QueryRequest(Identifier.build(pesel=pesel), "L", "Cel testowy", {"PUP": ["DANE_OSOBOWE"]})
    answer = core.query.ask(CALLER, request)
    return answer, answer.results[0]


@pytest.mark.parametrize("case", list(TAMPERING))
def test_the_hub_does_not_answer_from_a_replica_that_cannot_say_whose_it_is(hub: Any, case: str) -> None:
    core, replica = hub
    pesel = a_pesel(replica)
    tamper(replica, TAMPERING[case][0])
    answer, result = ask(core, pesel)
    assert (result.status, result.element) == (UNAVAILABLE, None)
    assert list(core.register.records(request_id=answer.request_id)) == []


@pytest.mark.parametrize("case", list(TAMPERING))
def test_a_replica_emptied_while_the_hub_serves_is_refused_by_the_next_threads_connection(hub: Any, case: str) -> None:
    """The identity is checked once per reader and again by every new thread's own connection: a replica
    emptied after the first query is refused by a request served in another thread."""
    core, replica = hub
    pesel = a_pesel(replica)
    _answer, result = ask(core, pesel)
    assert result.status == OK  # serving, checked
    tamper(replica, TAMPERING[case][0])
    answers: list[Any] = []
    worker = threading.Thread(target=lambda: answers.append(ask(core, pesel)))
    worker.start()
    worker.join(timeout=60)
    answer, result = answers[0]
    assert (result.status, result.element) == (UNAVAILABLE, None)
    assert list(core.register.records(request_id=answer.request_id)) == []


@pytest.mark.parametrize("case", list(TAMPERING))
def test_the_readers_refusal_names_the_replica_and_what_is_missing(hub: Any, case: str) -> None:
    _core, replica = hub
    tamper(replica, TAMPERING[case][0])
    reader = ReplicaReader(f"sqlite:///{replica}", expected=ReplicaIdentity("PUP", "PUP", "PUP"))
    try:
        with pytest.raises(ConfigurationError) as refused:
            reader.lookup(Identifier.build(pesel=a_pesel(replica)), ["DaneOsobowe"])
    finally:
        reader.dispose()
    message = refused.value.message
    assert str(replica) in message and TAMPERING[case][1] in message and "nie jest udostępniany" in message


@pytest.mark.parametrize("case", list(TAMPERING))
def test_load_into_a_replica_that_cannot_say_whose_it_is_is_refused_and_changes_nothing(hub: Any, case: str) -> None:
    _core, replica = hub
    tamper(replica, TAMPERING[case][0])
    before = everything_in(replica)
    loader = Loader(f"sqlite:///{replica}", "PUP", feed_schema(), data_set="PUP", controller="PUP")
    try:
        with pytest.raises(ReplicaMismatch) as refused:
            loader.load(PUP_FEED)
    finally:
        loader.dispose()
    assert refused.value.code == CODE
    assert str(replica) in refused.value.message and TAMPERING[case][1] in refused.value.message
    assert everything_in(replica) == before


@pytest.mark.parametrize("case", list(TAMPERING))
def test_platforma_feed_into_a_replica_that_cannot_say_whose_it_is_is_refused_and_changes_nothing(
    hub: Any, case: str, domain_dbs: DomainSummary, capsys: pytest.CaptureFixture[str]
) -> None:
    _core, replica = hub
    tamper(replica, TAMPERING[case][0])
    before = everything_in(replica)
    capsys.readouterr()
    argv = ["feed", "--adapter", "pup", "--source", domain_dbs.urls["PUP"], "--target", f"sqlite:///{replica}",
            "--full", "--quiet", "--no-parallel"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert CODE in err and TAMPERING[case][1] in err and "Traceback" not in err
    assert everything_in(replica) == before


def test_a_replica_without_a_controller_is_what_platforma_feed_writes_and_is_still_answered(hub: Any) -> None:
    """`platforma feed` is not told the controller: a replica that records its data set and kind but no
    controller is legitimate (the data set and kind are still compared)."""
    core, replica = hub
    pesel = a_pesel(replica)
    tamper(replica, "UPDATE stan_repliki SET administrator = NULL")
    _answer, result = ask(core, pesel)
    assert result.status == OK


def test_a_replica_made_before_identities_were_recorded_is_still_answered_and_adopted(hub: Any) -> None:
    """No identity columns (a replica older than them), or the columns a writer added and its next batch has
    not filled yet: served as before, and the next batch records the identity."""
    core, replica = hub
    pesel = a_pesel(replica)
    tamper(replica, "UPDATE stan_repliki SET zbior = NULL, rodzaj = NULL, administrator = NULL")
    _answer, result = ask(core, pesel)
    assert result.status == OK
    for column in ("zbior", "rodzaj", "administrator"):
        tamper(replica, f"ALTER TABLE stan_repliki DROP COLUMN {column}")
    reader = ReplicaReader(f"sqlite:///{replica}", expected=ReplicaIdentity("PUP", "PUP", "PUP"))
    try:
        found, _sections = reader.lookup(Identifier.build(pesel=pesel), ["DaneOsobowe"])
        assert len(found) == 1
    finally:
        reader.dispose()
    loader = Loader(f"sqlite:///{replica}", "PUP", feed_schema(), data_set="PUP", controller="PUP")
    try:
        loader.load(PUP_FEED)
        assert loader.writer.status().identity == ReplicaIdentity("PUP", "PUP", "PUP")
    finally:
        loader.dispose()


def test_an_empty_replica_without_a_state_row_is_a_new_one(tmp_path: Path) -> None:
    """Created and never loaded: no state row and nobody in it. Nobody is found, and a writer may fill it."""
    url = f"sqlite:///{tmp_path / 'pup.sqlite'}"
    Loader(url, "PUP", feed_schema()).dispose()  # creates the schema only
    reader = ReplicaReader(url, expected=ReplicaIdentity("PUP", "PUP", "PUP"))
    try:
        assert reader.lookup(Identifier.build(pesel="44051401359"), ["DaneOsobowe"]) == ([], {})
    finally:
        reader.dispose()
    loader = Loader(url, "PUP", feed_schema(), data_set="PUP", controller="PUP")
    try:
        assert loader.load(PUP_FEED).loaded > 0
    finally:
        loader.dispose()


def _other_units_replica(tmp_path: Path) -> Path:
    """The same people loaded as another unit's data set (a backup of the wrong replica)."""
    other = tmp_path / "inny.sqlite"
    loader = Loader(f"sqlite:///{other}", "PUP", feed_schema(), data_set="PUP", controller="PUP-INNY")
    try:
        loader.load(PUP_FEED)
    finally:
        loader.dispose()
    return other


@pytest.mark.parametrize("how", ["restored in place (.restore)", "moved over (mv)"])
def test_a_replica_replaced_while_the_hub_serves_is_refused_by_the_same_threads_next_read(
    hub: Any, tmp_path: Path, how: str
) -> None:
    """Attack pass: the identity was checked only when a thread opened its connection. Another unit's backup
    restored over the replica with sqlite3's `.restore` was then answered from by every thread that had read it
    before (as the configured office's data); a file moved over it was not even seen (the old, deleted file was
    read on). Each read now re-checks when another connection wrote, and a moved file is opened again."""
    core, replica = hub
    pesel = a_pesel(replica)
    _answer, result = ask(core, pesel)
    assert result.status == OK  # this thread's connection is open and checked
    other = _other_units_replica(tmp_path)
    if how.startswith("restored"):
        source, target = sqlite3.connect(other), sqlite3.connect(replica)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        other.replace(replica)
    answer, result = ask(core, pesel)  # the same thread
    assert (result.status, result.element) == (UNAVAILABLE, None)
    assert list(core.register.records(request_id=answer.request_id)) == []


def test_a_feed_committed_while_the_hub_serves_is_read_and_still_answered(hub: Any) -> None:
    """The re-check after another connection's commit passes for the replica's own writer."""
    core, replica = hub
    pesel = a_pesel(replica)
    assert ask(core, pesel)[1].status == OK
    tamper(replica, "UPDATE stan_repliki SET zbior = zbior")  # a commit that keeps the identity
    assert ask(core, pesel)[1].status == OK
