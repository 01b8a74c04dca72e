"""A small synthetic powiat's domain databases (SQLite, reference schemas), made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.data import DomainSummary, write_domain_databases


@pytest.fixture(scope="session")
def domain_dbs(tmp_path_factory: pytest.TempPathFactory) -> DomainSummary:
    return write_domain_databases(7, tmp_path_factory.mktemp("dziedzinowe"), pup=120, ops=60, sr=80)


@pytest.fixture
def copy_of(tmp_path: Path, domain_dbs: DomainSummary):  # type: ignore[no-untyped-def]
    """A writable copy of one office's domain database (tests change it)."""
    import sqlite3

    def make(data_set: str) -> Path:
        source = sqlite3.connect(domain_dbs.urls[data_set][len("sqlite:///") :])
        # Not named as a replica would be (`pup.sqlite`): tests fed replicas of that name into the source itself.
        path = tmp_path / f"{data_set.lower()}-dziedzinowa.sqlite"
        target = sqlite3.connect(path)
        source.backup(target)
        source.close()
        target.close()
        return path

    return make
