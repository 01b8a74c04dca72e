"""A fourth kind of data set arrives as its own package: found by entry point, fed into its own replica.

The hub's query contract (WSDL) knows only the PUP, OPS and SR data elements, so a new kind is shown
through the feed path: adapter → feeder → replica writer → replica reader. Serving it in queries needs
its model types in hub/soap/model (a contract change, with a new namespace version).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from adapters import adapter_class, available
from adapters.feeder import FULL, Feeder
from adapters.targets import ReplicaTarget
from contract import catalog
from contract.identifiers import Identifier
from replica.database import ReplicaReader


@pytest.fixture
def plugin_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An installed distribution declaring the entry point (a .dist-info on sys.path, as pip makes it).

    The plug-in registers its kind in the process-wide catalog; the test gives it a copy of the catalog,
    so other tests see the three kinds only.
    """
    monkeypatch.setattr(catalog, "_KINDS", dict(catalog._KINDS))
    monkeypatch.delitem(sys.modules, "tests.adapters.plugin_pfron", raising=False)
    dist = tmp_path / "site" / "platforma_pfron-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: platforma-pfron\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[platforma.adapters]\npfron = tests.adapters.plugin_pfron:PfronAdapter\n", encoding="utf-8"
    )
    sys.path.insert(0, str(tmp_path / "site"))
    yield
    sys.path.remove(str(tmp_path / "site"))
    sys.modules.pop("tests.adapters.plugin_pfron", None)


def test_a_fourth_kind_is_found_by_entry_point_and_fed_end_to_end(plugin_installed: None, tmp_path: Path) -> None:
    assert "pfron" in available()
    cls = adapter_class("pfron")
    assert catalog.kind("PFRON") is not None  # registered by the plug-in's import, not by the hub
    source_url = f"sqlite:///{tmp_path / 'pfron.sqlite'}"
    engine = create_engine(source_url)
    adapter = cls(source_url, connect=False)  # type: ignore[call-arg]
    adapter.create_schema(engine)  # type: ignore[attr-defined]
    tables = adapter.tables  # type: ignore[attr-defined]
    stamp = dt.datetime(2026, 11, 1, 12)
    with engine.begin() as connection:
        connection.execute(
            tables["osoba"].insert(),
            [
                {"id_osoby": 1, "nazwisko": "Wiśniewska", "imie": "Zofia", "pesel": "90051712344",
                 "data_urodzenia": dt.date(1990, 5, 17), "plec": "K", "data_modyfikacji": stamp},
                {"id_osoby": 2, "nazwisko": "Kowal", "imie": "Jan", "pesel": None,
                 "data_urodzenia": dt.date(1970, 1, 2), "plec": "M", "data_modyfikacji": stamp},
            ],
        )  # fmt: skip
        connection.execute(
            tables["orzeczenie"].insert(),
            [{"id_orzeczenia": 1, "id_osoby": 1, "stopien": "umiarkowany", "data_wydania": dt.date(2024, 3, 1),
              "data_modyfikacji": stamp}],
        )  # fmt: skip
    engine.dispose()
    replica_url = f"sqlite:///{tmp_path / 'replika-pfron.sqlite'}"
    source = cls(source_url)  # type: ignore[call-arg]
    target = ReplicaTarget(replica_url, "PFRON")
    summary = Feeder(source, target).run(FULL)
    target.close()
    source.close()
    assert summary.applied == 2 and not summary.rejected
    reader = ReplicaReader(replica_url)
    (person,) = reader.find(Identifier.build(pesel="90051712344"))
    sections = reader.sections(person, ["DaneOsobowe", "Orzeczenia"])
    reader.dispose()
    assert b"<m:Stopien>umiarkowany</m:Stopien>" in sections["Orzeczenia"]
    assert b"<m:Nazwisko>Wi\xc5\x9bniewska</m:Nazwisko>" in sections["DaneOsobowe"]
