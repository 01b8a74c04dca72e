"""The document types' schemas are published under xsd/ (issue 15): one file per shipped type, the same bytes
as the type's `schemat.xsd`, compilable, and `platforma contracts check` fails when one drifts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from hub.domain.templates import SHIPPED
from hub.soap import contracts

ROOT = Path(__file__).resolve().parents[2]
TYPES = sorted(p.parent for p in SHIPPED.glob("*/metadane.json"))


@pytest.mark.parametrize("folder", TYPES, ids=lambda p: p.name)
def test_every_document_type_is_published_under_xsd_as_shipped(folder: Path) -> None:
    namespace = json.loads((folder / "metadane.json").read_text(encoding="utf-8"))["przestrzen_nazw"]
    name = f"dokumenty-{folder.name}-{namespace.rsplit(':', 1)[-1]}.xsd"
    published = ROOT / "xsd" / name
    assert published.read_bytes() == (folder / "schemat.xsd").read_bytes()
    schema = etree.fromstring(published.read_bytes())
    assert schema.get("targetNamespace") == namespace
    etree.XMLSchema(schema)


def test_a_drifted_document_schema_is_named_by_the_check(tmp_path: Path) -> None:
    contracts.export(tmp_path)
    assert contracts.check(tmp_path) == []
    first = sorted(contracts.document_schemas())[0]
    (tmp_path / "xsd" / first).write_bytes(b"<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'/>")
    assert contracts.check(tmp_path) == [f"xsd/{first}"]


def test_the_report_schema_is_published_from_the_code_and_a_stale_file_is_named() -> None:
    """Contracts pass: `/xsd/raport-1.xsd` was 404 though docs say every file of xsd/ is served, and an extra,
    stale file in xsd/ passed `contracts check`."""
    published = contracts.published_schemas()
    assert published["raport-1.xsd"] == (ROOT / "xsd" / "raport-1.xsd").read_bytes()
    assert published["raport-1.xsd"] == (ROOT / "audit" / "raport-1.xsd").read_bytes()
    assert {p.name for p in (ROOT / "xsd").glob("*.xsd")} == set(published)


def test_a_file_the_code_does_not_export_is_named_by_the_check(tmp_path: Path) -> None:
    contracts.export(tmp_path)
    (tmp_path / "xsd" / "stary-1.xsd").write_bytes(b"<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'/>")
    (tmp_path / "wsdl" / "zapytania-stary.wsdl").write_bytes(b"<definitions/>")
    assert contracts.check(tmp_path) == [
        "wsdl/zapytania-stary.wsdl (nie pochodzi z kodu)",
        "xsd/stary-1.xsd (nie pochodzi z kodu)",
    ]
