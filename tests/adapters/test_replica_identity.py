"""A replica knows what it holds: data set, kind and controller, recorded when it is created. A feed of
another office's data (`platforma feed` pointed at the wrong replica, `platforma load` of another data
set's file) is refused by one rule in replica/, with a stable code, and the replica is left untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from adapters import adapter_class
from adapters.feeder import FULL, Feeder, FeedError
from adapters.targets import ReplicaTarget
from demo.data import DomainSummary
from hub.cli import main
from hub.soap.contracts import feed_schema
from replica.feed import ReplicaIdentity
from replica.writer import Loader, ReplicaMismatch, ReplicaWriter
from tests.conftest import FIXTURES

CODE = "NIEZGODNY_ZBIOR_REPLIKI"


def everything_in(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the replica's tables (what 'untouched' means)."""
    connection = sqlite3.connect(path)
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in tables}  # noqa: S608
    finally:
        connection.close()


def feed(adapter: str, source: str, replica: Path) -> int:
    return main(
        ["feed", "--adapter", adapter, "--source", source, "--target", f"sqlite:///{replica}", "--full", "--quiet",
         "--no-parallel"]
    )  # fmt: skip


def test_an_sr_feed_into_the_ops_replica_is_refused_and_the_replica_untouched(
    domain_dbs: DomainSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replica = tmp_path / "replicas" / "ops.sqlite"
    assert feed("ops", domain_dbs.urls["OPS"], replica) == 0
    before = everything_in(replica)
    capsys.readouterr()
    assert feed("sr", domain_dbs.urls["SR"], replica) == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert CODE in err and "zbiór OPS" in err and "zbiór SR" in err and "Traceback" not in err
    assert everything_in(replica) == before
    # An incremental run is refused just the same.
    argv = ["feed", "--adapter", "sr", "--source", domain_dbs.urls["SR"], "--target", f"sqlite:///{replica}",
            "--incremental", "--quiet", "--no-parallel"]  # fmt: skip
    assert main(argv) == 2
    assert everything_in(replica) == before


def test_a_new_replica_records_its_data_set_kind_and_controller(domain_dbs: DomainSummary, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    target = ReplicaTarget(url, "OPS", data_set="OPS", controller="OPS")
    target.close()
    assert feed("ops", domain_dbs.urls["OPS"], tmp_path / "ops.sqlite") == 0
    writer = ReplicaWriter(url, "OPS")
    try:
        assert writer.status().identity == ReplicaIdentity("OPS", "OPS", None)  # `platforma feed` knows no controller
    finally:
        writer.dispose()
    demo_like = tmp_path / "sr.sqlite"
    target = ReplicaTarget(f"sqlite:///{demo_like}", "SR", data_set="SR", controller="SR")
    try:
        adapter = adapter_class("sr")(domain_dbs.urls["SR"])  # type: ignore[call-arg]
        Feeder(adapter, target).run(FULL)
        adapter.close()
        assert target.writer.status().identity == ReplicaIdentity("SR", "SR", "SR")
    finally:
        target.close()


def test_a_writer_for_another_controller_is_refused_before_anything_is_read(
    domain_dbs: DomainSummary, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'sr.sqlite'}"
    target = ReplicaTarget(url, "SR", data_set="SR", controller="SR")
    adapter = adapter_class("sr")(domain_dbs.urls["SR"])  # type: ignore[call-arg]
    Feeder(adapter, target).run(FULL)
    adapter.close()
    target.close()
    before = everything_in(tmp_path / "sr.sqlite")
    with pytest.raises(FeedError) as refused:
        ReplicaTarget(url, "SR", data_set="SR", controller="OPS")
    assert refused.value.fault_code == CODE and "administrator SR" in refused.value.message
    with pytest.raises(FeedError):
        ReplicaTarget(url, "PUP")
    assert everything_in(tmp_path / "sr.sqlite") == before


def test_load_of_another_data_sets_file_is_refused_by_the_same_rule(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pup.sqlite'}"
    loader = Loader(url, "PUP", feed_schema(), data_set="PUP", controller="PUP")
    try:
        loader.load(FIXTURES / "xml" / "feed_pup_small.xml")
        before = everything_in(tmp_path / "pup.sqlite")
        with pytest.raises(ReplicaMismatch) as refused:
            loader.load(FIXTURES / "xml" / "feed_sr_small.xml")
        assert refused.value.code == CODE
    finally:
        loader.dispose()
    # A loader configured for SR, pointed at the PUP replica, is refused even with an SR file.
    other = Loader(url, "SR", feed_schema())
    try:
        with pytest.raises(ReplicaMismatch):
            other.load(FIXTURES / "xml" / "feed_sr_small.xml")
    finally:
        other.dispose()
    assert everything_in(tmp_path / "pup.sqlite") == before


def test_a_replica_made_before_identities_were_recorded_adopts_one_at_its_next_batch(tmp_path: Path) -> None:
    path = tmp_path / "pup.sqlite"
    url = f"sqlite:///{path}"
    loader = Loader(url, "PUP", feed_schema())
    loader.load(FIXTURES / "xml" / "feed_pup_small.xml")
    loader.dispose()
    connection = sqlite3.connect(path)
    for column in ("zbior", "rodzaj", "administrator"):
        connection.execute(f"ALTER TABLE stan_repliki DROP COLUMN {column}")
    connection.commit()
    connection.close()
    loader = Loader(url, "PUP", feed_schema(), controller="PUP")
    try:
        assert loader.writer.status().identity == ReplicaIdentity(None, None, None)
        loader.load(FIXTURES / "xml" / "feed_pup_small.xml")
        assert loader.writer.status().identity == ReplicaIdentity("PUP", "PUP", "PUP")
    finally:
        loader.dispose()
