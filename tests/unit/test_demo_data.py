"""The synthetic powiat: deterministic, valid against the feed schema, overlapping on purpose."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lxml import etree

from contract.identifiers import id_card_checksum_ok, validate_pesel
from demo.data import generate
from hub.soap.contracts import feed_schema

M = "{urn:pl:platforma-komunikacyjna:model:1}"


def _digest(paths: dict[str, Path]) -> str:
    return hashlib.sha256(b"".join(paths[k].read_bytes() for k in sorted(paths))).hexdigest()


def test_same_seed_same_powiat_other_seed_other_powiat(tmp_path: Path) -> None:
    a = generate(11, tmp_path / "a", pup=60, ops=30, sr=40)
    b = generate(11, tmp_path / "b", pup=60, ops=30, sr=40)
    c = generate(12, tmp_path / "c", pup=60, ops=30, sr=40)
    assert _digest(a.files) == _digest(b.files)
    assert _digest(a.files) != _digest(c.files)


def test_feeds_are_valid_and_people_overlap(tmp_path: Path) -> None:
    summary = generate(5, tmp_path, pup=200, ops=100, sr=120)
    schema = feed_schema()
    for path in summary.files.values():
        document = etree.parse(str(path))
        assert schema.validate(document), schema.error_log
    assert summary.counts == {"PUP": 200, "OPS": 100, "SR": 120}
    sizes = [len(sets) for sets in summary.known_to.values()]
    assert sizes.count(3) > 0 and sizes.count(2) > 0 and sizes.count(1) > 0


def test_identifiers_are_valid_and_sr_decisions_have_children(tmp_path: Path) -> None:
    summary = generate(5, tmp_path, pup=20, ops=20, sr=30)
    root = etree.parse(str(summary.files["SR"])).getroot()
    pesels = [e.text for e in root.iter(f"{M}Pesel")]
    assert pesels and all(validate_pesel(p or "") for p in pesels)
    assert len(set(pesels)) == len(pesels)
    cards = [e.text or "" for e in root.iter(f"{M}Numer")]
    assert cards and all(id_card_checksum_ok(c) for c in cards)
    assert all(len(list(d)) >= 1 for d in root.iter(f"{M}DaneDzieci"))


def test_a_demo_folder_of_an_earlier_layout_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    """A demo folder is reused; one made before the replicas' layout changed would answer every query with
    an error, so `platforma demo` says to make it anew instead."""
    import json

    from contract.errors import ConfigurationError
    from demo.powiat import prepare

    (tmp_path / "demo-state.json").write_text(json.dumps({"config": "x", "users": {}}), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"wcześniejszej wersji.*Usuń go albo wskaż inny"):
        prepare(tmp_path)
