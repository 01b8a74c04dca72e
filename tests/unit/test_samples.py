"""The adapters' sample-data generators (adapters/sample.py, adapters/<kind>/sample.py): invented people,
rows of exactly the reference schemas, deterministic for a seed, importing nothing above their room."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest

from adapters.ops.sample import OpsSample
from adapters.ops.schema import SPECS as OPS_SPECS
from adapters.pup.sample import PupSample
from adapters.pup.schema import SPECS as PUP_SPECS
from adapters.sample import KindSample, Population, Rows, years_after
from adapters.sql import TableSpec
from adapters.sr.sample import SrSample
from adapters.sr.schema import SPECS as SR_SPECS
from contract.identifiers import id_card_checksum_ok, validate_pesel

ROOT = Path(__file__).resolve().parents[2]
KINDS: list[tuple[type[KindSample], tuple[TableSpec, ...]]] = [
    (PupSample, PUP_SPECS),
    (OpsSample, OPS_SPECS),
    (SrSample, SR_SPECS),
]


def _rows(sample_class: type[KindSample], seed: int, people: int = 40) -> Rows:
    population = Population(seed)
    sample = sample_class(population)
    rows = sample.empty()
    for _ in range(people):
        person = population.parent_with_children() if sample_class is SrSample else population.person(18, 64)
        sample.add(person, rows)
    return rows


@pytest.mark.parametrize(("sample_class", "specs"), KINDS, ids=lambda k: getattr(k, "kind", ""))
def test_every_row_has_exactly_the_columns_of_its_reference_table(
    sample_class: type[KindSample], specs: tuple[TableSpec, ...]
) -> None:
    columns = {spec.name: {c.name for c in spec.columns} for spec in specs}
    assert sample_class.tables == tuple(columns)
    dictionaries = sample_class(Population(1)).dictionaries()
    for name, rows in [*_rows(sample_class, 3).items(), *dictionaries.items()]:
        assert all(set(row) == columns[name] for row in rows), name
    assert all(rows for rows in dictionaries.values())


@pytest.mark.parametrize(("sample_class", "specs"), KINDS, ids=lambda k: getattr(k, "kind", ""))
def test_keys_are_unique_and_codes_are_in_the_dictionaries(
    sample_class: type[KindSample], specs: tuple[TableSpec, ...]
) -> None:
    rows = _rows(sample_class, 4)
    dictionaries = sample_class(Population(1)).dictionaries()
    for spec in specs:
        (key,) = [c.name for c in spec.columns if c.primary_key]
        values = [row[key] for row in [*rows[spec.name], *dictionaries.get(spec.name, [])]]
        assert len(values) == len(set(values)), spec.name
        for column in spec.columns:
            if column.references is None:
                continue
            table, referenced = column.references
            known = {row[referenced] for row in [*rows[table], *dictionaries.get(table, [])]}
            assert {row[column.name] for row in rows[spec.name]} - {None} <= known, (spec.name, column.name)


@pytest.mark.parametrize("sample_class", [k for k, _specs in KINDS], ids=lambda k: k.kind)
def test_same_seed_same_rows_other_seed_other_rows(sample_class: type[KindSample]) -> None:
    assert _rows(sample_class, 9) == _rows(sample_class, 9)
    assert _rows(sample_class, 9) != _rows(sample_class, 10)


def test_people_have_valid_unique_identifiers_and_children_born_after_their_parents_18th() -> None:
    population = Population(5)
    parents = [population.parent_with_children() for _ in range(60)]
    people = [*parents, *(child for parent in parents for child in parent.children)]
    assert all(validate_pesel(p.pesel) and id_card_checksum_ok(p.id_card) for p in people)
    assert len({p.pesel for p in people}) == len(people) and len({p.key for p in people}) == len(people)
    assert all(c.birth > years_after(p.birth, 18) and c.address == p.address for p in parents for c in p.children)


def test_an_sr_decision_covers_every_child_and_only_the_parent_has_an_id_card() -> None:
    population = Population(6)
    parent = population.parent_with_children()
    rows = SrSample(population).empty()
    SrSample(population).add(parent, rows)
    assert [r["id_osoby_dziecka"] for r in rows["decyzja_dziecko"]] == [c.key for c in parent.children]
    cards = {r["id_osoby"]: r["nr_dokumentu"] for r in rows["osoba"]}
    assert cards == {parent.key: parent.id_card, **{c.key: None for c in parent.children}}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("kind", ["", "pup", "ops", "sr"])
def test_a_sample_generator_imports_only_contract_replica_and_its_own_schema(kind: str) -> None:
    """Beside its adapter, never above it: no SQL reading, no hub, no demo (the demo imports them)."""
    path = ROOT / "adapters" / kind / "sample.py"
    allowed: tuple[Any, ...] = ("contract", "replica", "adapters.sample", f"adapters.{kind}.schema", "faker")
    ours = {name for name in _imports(path) if name.split(".")[0] not in sys.stdlib_module_names}
    assert {name for name in ours if name != "__future__" and not name.startswith(allowed)} == set()
