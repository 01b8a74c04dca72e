"""The synthetic powiat's data: who lives there, which offices know them, and the files the demo writes.

Each invented person is made once, as rows of the reference schema of every office that knows them
(`adapters/<kind>/sample.py`), and written into that office's domain database. Every other form of the
person is made from those rows by the office's adapter, as a real office's would be: the replicas of
`platforma demo` and the feed files (xsd/zasilanie) of `platforma demo-data`. People overlap on purpose
(many are known to two or three offices) and SR parents have children, so every category of the common
model is exercised. Everything is deterministic for a seed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from sqlalchemy import Table, create_engine, event
from sqlalchemy.engine import Engine

from adapters.base import FEED_NS, ModelRecord
from adapters.ops import OpsAdapter
from adapters.ops.sample import OpsSample
from adapters.pup import PupAdapter
from adapters.pup.sample import PupSample
from adapters.sample import KindSample, Person, Population, Rows
from adapters.sql import SqlAdapter
from adapters.sr import SrAdapter
from adapters.sr.sample import SrSample

__all__ = [
    "KINDS",
    "DemoFeed",
    "DemoSummary",
    "DomainSummary",
    "Person",
    "Population",
    "generate",
    "membership",
    "write_domain_databases",
    "write_feed",
    "write_people_database",
    "write_people_feed",
]

KINDS: tuple[str, ...] = ("PUP", "OPS", "SR")
SAMPLES: dict[str, type[KindSample]] = {"PUP": PupSample, "OPS": OpsSample, "SR": SrSample}
ADAPTERS: dict[str, type[SqlAdapter]] = {"PUP": PupAdapter, "OPS": OpsAdapter, "SR": SrAdapter}

#: A progress factory (stage, total, done) -> advance(step), as `platforma`'s progress bars give.
Progress = Callable[[str, int, int], Callable[[int], None]]


@dataclass
class DomainSummary:
    """What was written: one domain database URL per office, counts, who is known where."""

    urls: dict[str, str]
    counts: dict[str, int]
    known_to: dict[str, tuple[str, ...]]  # PESEL -> data sets
    history_rows: dict[str, int] = field(default_factory=dict)


@dataclass
class DemoSummary:
    """What `generate` wrote: feed files and their record counts, who is known where, and any person an
    adapter refused (source key, reason; none for the generators' own rows)."""

    files: dict[str, Path]
    counts: dict[str, int]
    known_to: dict[str, tuple[str, ...]]  # PESEL -> data sets
    rejected: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    domain_urls: dict[str, str] = field(default_factory=dict)  # the domain databases, when kept (`domains`)


def membership(population: Population, pup: int, ops: int, sr: int) -> list[tuple[Person, tuple[str, ...]]]:
    """The powiat's people with the data sets that know them: a tenth of the smallest office is known to
    all three, and each pair of offices shares a share of the rest; SR's people are parents."""
    triple = min(pup, ops, sr) // 10
    pup_ops = min(pup - triple, ops - triple) // 5
    pup_sr = min(pup - triple - pup_ops, sr - triple) // 6
    ops_sr = min(ops - triple - pup_ops, sr - triple - pup_sr) // 8
    people: list[tuple[Person, tuple[str, ...]]] = []
    groups = (
        (triple, ("PUP", "OPS", "SR")),
        (pup_ops, ("PUP", "OPS")),
        (pup_sr, ("PUP", "SR")),
        (ops_sr, ("OPS", "SR")),
        (pup - triple - pup_ops - pup_sr, ("PUP",)),
        (ops - triple - pup_ops - ops_sr, ("OPS",)),
        (sr - triple - pup_sr - ops_sr, ("SR",)),
    )
    for count, sets in groups:
        for _ in range(max(count, 0)):
            person = population.parent_with_children() if "SR" in sets else population.person(18, 64)
            people.append((person, sets))
    population.random.shuffle(people)
    return people


# -- domain databases (the feeding modules' sources) -----------------------------------------------------------
def write_domain_databases(
    seed: int,
    out: Path,
    pup: int = 5000,
    ops: int = 2000,
    sr: int = 3000,
    progress: Callable[[int], None] | None = None,
    *,
    urls: dict[str, str] | None = None,
    chunk: int = 2000,
) -> DomainSummary:
    """Write each office's domain database (SQLite under `out` unless `urls` are given) in its reference schema.

    Rows are generated person by person and inserted in bulk (executemany) every `chunk` people, so
    memory stays flat even for a million people.
    """
    population = Population(seed)
    people = membership(population, pup, ops, sr)
    result = DomainSummary({}, {}, {person.pesel: sets for person, sets in people})
    out.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        url = (urls or {}).get(kind) or f"sqlite:///{out / (kind.lower() + '-dziedzinowa.sqlite')}"
        members = [person for person, sets in people if kind in sets]
        history = _write_database(url, kind, SAMPLES[kind](population), members, progress, chunk)
        result.urls[kind] = url
        result.counts[kind] = len(members)
        result.history_rows[kind] = history
    return result


def _write_database(
    url: str,
    kind: str,
    sample: KindSample,
    people: Sequence[Person],
    progress: Callable[[int], None] | None,
    chunk: int,
) -> int:
    """Create one office's reference schema at `url` (a SQLite file made anew) and write the people's rows;
    return the number of history rows (all rows but the people's own)."""
    path = Path(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else None
    if path is not None:
        path.unlink(missing_ok=True)
    engine = create_engine(url, hide_parameters=True)
    if path is not None:
        event.listen(engine, "connect", _generation_pragmas)
    try:
        adapter = ADAPTERS[kind](url, connect=False)
        adapter.create_schema(engine)
        _insert(engine, adapter.tables, sample.dictionaries())
        rows, written = sample.empty(), 0
        for count, person in enumerate(people, start=1):
            sample.add(person, rows)
            if progress is not None:
                progress(1)
            if count % chunk == 0:
                written += _insert(engine, adapter.tables, rows)
        written += _insert(engine, adapter.tables, rows)
    finally:
        engine.dispose()
    return written - len(people)


def _generation_pragmas(dbapi_connection: Any, _record: object) -> None:
    # Generation only: the file is written once; a crash just means generating again.
    dbapi_connection.execute("PRAGMA journal_mode = WAL")
    dbapi_connection.execute("PRAGMA synchronous = OFF")


def _insert(engine: Engine, tables: dict[str, Table], rows: Rows) -> int:
    """Insert the rows table by table (in `rows`' order: parents first) in one transaction; empty the lists."""
    written = 0
    with engine.begin() as connection:
        for name, values in rows.items():
            if values:
                connection.execute(tables[name].insert(), values)
                written += len(values)
                values.clear()
    return written


# -- feed files (xsd/zasilanie), made by the adapters from the domain databases ----------------------------------
@dataclass
class DemoFeed:
    """One feed file written by `write_feed`: how many records, and the people the adapter refused."""

    path: Path
    records: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)


def write_feed(path: Path, adapter: SqlAdapter, progress: Callable[[int], None] | None = None) -> DemoFeed:
    """Stream the adapter's full run to `path` as one full `Paczka` (records in the adapter's key order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    feed = DemoFeed(path)
    kind = quoteattr(adapter.kind)
    with path.open("wb") as out:
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(f'<Paczka xmlns="{FEED_NS}" Zbior={kind} Rodzaj="PELNA" IdPaczki="demo-{adapter.kind}">\n'.encode())
        for batch in adapter.full():
            for item in batch:
                if isinstance(item, ModelRecord):
                    out.write(item.to_xml() + b"\n")
                    feed.records += 1
                else:
                    feed.rejected.append((item.source_key, item.reason))
            if progress is not None:
                progress(len(batch))
        out.write(b"</Paczka>\n")
    return feed


def generate(
    seed: int,
    out: Path,
    pup: int = 5000,
    ops: int = 2000,
    sr: int = 3000,
    progress: Progress | None = None,
    *,
    domains: bool = False,
) -> DemoSummary:
    """Write `pup.xml`, `ops.xml` and `sr.xml` under `out`; people overlap by design.

    The domain databases are written first (under `out` with `domains`, otherwise in a private temporary
    folder, removed afterwards) and each feed file is its adapter's full run over them.
    """
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dziedzinowe-") as scratch:
        folder = out if domains else Path(scratch)
        step = progress("Generowanie danych", pup + ops + sr, 0) if progress else None
        written = write_domain_databases(seed, folder, pup, ops, sr, progress=step)
        summary = DemoSummary({}, {}, written.known_to, domain_urls=written.urls if domains else {})
        for kind in KINDS:
            step = progress(f"Plik zasilający {kind}", written.counts[kind], 0) if progress else None
            adapter = ADAPTERS[kind](written.urls[kind])
            try:
                feed = write_feed(out / f"{kind.lower()}.xml", adapter, step)
            finally:
                adapter.close()
            summary.files[kind], summary.counts[kind], summary.rejected[kind] = feed.path, feed.records, feed.rejected
    return summary


def write_people_database(url: str, kind: str, population: Population, people: Sequence[Person]) -> None:
    """One office's domain database (a SQLite file made anew at `url`) holding exactly these people's rows:
    a gmina's unit in the demo powiat (`demo.powiat.write_gmina_units`)."""
    _write_database(url, kind, SAMPLES[kind](population), people, None, 2000)


def write_people_feed(path: Path, kind: str, population: Population, people: Sequence[Person]) -> DemoFeed:
    """A feed file of chosen people of one kind (tests make twins, say): their rows are generated into a
    temporary domain database and read back by the kind's adapter."""
    with tempfile.TemporaryDirectory(prefix="dziedzinowe-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'dziedzinowa.sqlite'}"
        _write_database(url, kind, SAMPLES[kind](population), people, None, 2000)
        adapter = ADAPTERS[kind](url)
        try:
            return write_feed(path, adapter)
        finally:
            adapter.close()
