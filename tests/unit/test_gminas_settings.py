"""A powiat at scale in the configuration (issue 16): `[[gminas]]` expand into offices and data sets coded
`KIND-TERYT`, `*KIND` groups and legal bases into one per office or data set of the kind; mistakes are
reported where they were written, all at once."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from contract.errors import ConfigurationError
from hub import settings

HUB = {"name": "Hub testowy", "database": "sqlite:///hub.sqlite", "audit_database": "sqlite:///audit.sqlite"}


def powiat(gminas: int = 20) -> dict[str, Any]:
    """One PUP (explicit `[[offices]]`/`[[data_sets]]`) and `gminas` gminas with an OPS and an SR unit each."""
    return {
        "hub": dict(HUB),
        "powiat": {"name": "Powiat testowy", "replica": "replicas/{code}.sqlite"},
        "offices": [{"code": "PUP", "name": "Powiatowy Urząd Pracy", "kind": "PUP"}],
        "data_sets": [{"code": "PUP", "controller": "PUP", "replica": "sqlite:///replicas/pup.sqlite"}],
        "gminas": [
            {"teryt": f"02010{i:02d}", "name": f"Gmina {i}", "units": ["OPS", "SR"]} for i in range(1, gminas + 1)
        ],
        "groups": [
            {"code": "POSREDNICY", "office": "PUP", "name": "Pośrednicy pracy"},
            {"code": "PRACOWNICY_SOCJALNI", "office": "*OPS", "name": "Pracownicy socjalni"},
        ],
        "legal_bases": [{"code": "URPSZ", "citation": "Dz.U. 2025 poz. 620", "data_sets": ["PUP", "*OPS", "*SR"]}],
        "rules": [
            {"office": "PUP", "group": "POSREDNICY", "data_set": "*OPS", "categories": ["DANE_OSOBOWE"]},
            {"office": "*OPS", "group": "PRACOWNICY_SOCJALNI", "data_set": "PUP", "categories": ["DANE_OSOBOWE"]},
        ],
    }


def _problems(raw: dict[str, Any], tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        settings.parse(raw, tmp_path / "platforma.toml")
    return caught.value.message.splitlines()


def test_twenty_gminas_with_two_units_each_become_forty_offices_and_data_sets(tmp_path: Path) -> None:
    config = settings.parse(powiat(20), tmp_path / "platforma.toml")
    assert len(config.offices) == 41 and len(config.data_sets) == 41
    ops = config.data_set("OPS-0201007")
    assert ops is not None and ops.kind == "OPS" and ops.controller == "OPS-0201007"
    assert ops.replica == f"sqlite:///{tmp_path}/replicas/OPS-0201007.sqlite"
    office = config.office("SR-0201020")
    assert office.kind == "SR" and office.gmina == "0201020" and "Gmina 20" in office.name
    assert config.gmina("0201020").name == "Gmina 20"  # type: ignore[union-attr]


def test_a_kind_wide_group_is_one_group_in_every_office_of_the_kind(tmp_path: Path) -> None:
    config = settings.parse(powiat(3), tmp_path / "platforma.toml")
    social = [g.office for g in config.groups if g.code == "PRACOWNICY_SOCJALNI"]
    assert social == ["OPS-0201001", "OPS-0201002", "OPS-0201003"]


def test_a_legal_basis_for_a_kind_opens_every_data_set_of_the_kind(tmp_path: Path) -> None:
    config = settings.parse(powiat(2), tmp_path / "platforma.toml")
    assert config.legal_basis("URPSZ").data_sets == (  # type: ignore[union-attr]
        "PUP",
        "OPS-0201001",
        "OPS-0201002",
        "SR-0201001",
        "SR-0201002",
    )


def test_an_sr_inside_the_ops_is_one_office_controlling_both_data_sets(tmp_path: Path) -> None:
    raw = powiat(1)
    raw["gminas"][0]["units"] = ["OPS+SR"]
    config = settings.parse(raw, tmp_path / "platforma.toml")
    assert [o.code for o in config.offices] == ["PUP", "OPS-0201001"]
    assert config.data_set("SR-0201001").controller == "OPS-0201001"  # type: ignore[union-attr]


def test_units_on_nodes_take_the_node_pattern(tmp_path: Path) -> None:
    raw = powiat(1)
    raw["powiat"]["node"] = "https://{code}.wezly.example/wezel"
    config = settings.parse(raw, tmp_path / "platforma.toml")
    data_set = config.data_set("OPS-0201001")
    assert data_set is not None and data_set.replica is None
    assert data_set.node == "https://OPS-0201001.wezly.example/wezel"


def test_explicit_offices_and_data_sets_still_work_beside_gminas(tmp_path: Path) -> None:
    raw = powiat(1)
    raw["offices"].append({"code": "OPS", "name": "Ośrodek", "kind": "OPS", "gmina": "0201099"})
    raw["data_sets"].append({"code": "OPS", "controller": "OPS", "replica": "sqlite:///replicas/ops.sqlite"})
    config = settings.parse(raw, tmp_path / "platforma.toml")
    assert config.data_set("OPS") is not None and config.data_set("OPS-0201001") is not None
    assert config.office("OPS").gmina == "0201099"
    # `*OPS` covers both: the group exists in each OPS office
    assert {g.office for g in config.groups if g.code == "PRACOWNICY_SOCJALNI"} == {"OPS", "OPS-0201001"}


def test_every_mistake_in_gminas_is_one_line_where_it_was_written(tmp_path: Path) -> None:
    raw = powiat(3)
    raw["gminas"][0]["teryt"] = "201001"
    raw["gminas"][1]["units"] = ["OPS+ZZZ"]
    raw["gminas"][2]["name"] = ""
    problems = _problems(raw, tmp_path)
    assert "platforma.toml:gminas[1].teryt: kod TERYT (TERC) gminy to 7 cyfr, np. 0201011 (podano '201001')" in problems
    assert "platforma.toml:gminas[2].units: nieznany rodzaj zbioru ZZZ" in problems
    assert "platforma.toml:gminas[3].name: pusty tekst (podano '')" in problems


def test_a_gmina_twice_and_a_clash_with_explicit_offices_are_reported(tmp_path: Path) -> None:
    raw = powiat(2)
    raw["gminas"][1]["teryt"] = "0201001"
    raw["offices"].append({"code": "SR-0201001", "name": "Dział", "kind": "SR"})
    problems = _problems(raw, tmp_path)
    assert "platforma.toml:gminas[2].teryt: gmina 0201001 podana drugi raz" in problems
    assert "platforma.toml:gminas[1].units: urząd SR-0201001 jest już w [[offices]]" in problems


def test_kind_wide_names_that_match_nothing_are_reported_with_the_rest(tmp_path: Path) -> None:
    raw = powiat(1)
    raw["groups"].append({"code": "G", "office": "*PFRON", "name": "Nikt"})
    raw["legal_bases"][0]["data_sets"].append("*PFRON")
    raw["rules"].append({"office": "*SR", "group": "X", "data_set": "*OPS", "categories": ["NIE_MA"]})
    problems = _problems(raw, tmp_path)
    assert problems == [
        "platforma.toml:groups[3].office: żaden urząd nie jest rodzaju PFRON",
        "platforma.toml:legal_bases[1].data_sets: żaden zbiór nie jest rodzaju PFRON",
        "platforma.toml:rules[3].group: żaden urząd rodzaju SR nie ma grupy X",
        "platforma.toml:rules[3].categories: nieznana kategoria NIE_MA zbioru *OPS",
    ]


def test_a_mistake_in_a_kind_wide_group_is_reported_once_where_it_was_written(tmp_path: Path) -> None:
    raw = copy.deepcopy(powiat(5))
    raw["groups"][1]["name"] = 7
    assert _problems(raw, tmp_path) == ["platforma.toml:groups[2].name: oczekiwano tekstu w cudzysłowie (podano 7)"]


@pytest.mark.parametrize(
    ("section", "value", "where"),
    [
        ("powiat", {"replica": "replicas/{kod}.sqlite"}, "platforma.toml:powiat.replica: wzorzec"),
        ("powiat", {"replica": "replicas/{0}.sqlite"}, "platforma.toml:powiat.replica: wzorzec"),
        ("powiat", {"node": "https://{code.x}/"}, "platforma.toml:powiat.node: wzorzec"),
        ("powiat", {"office_names": {"OPS": "GOPS w {nazwa}"}}, "platforma.toml:powiat.office_names: OPS: wzorzec"),
        ("powiat", {"office_names": {"OPS": "GOPS {"}}, "platforma.toml:powiat.office_names: OPS: wzorzec"),
        ("gmina", {"replica": "r/{teryt"}, "platforma.toml:gminas[1].replica: wzorzec"),
    ],
)
def test_a_typo_in_a_pattern_is_a_configuration_error_naming_the_field(
    tmp_path: Path, section: str, value: dict[str, Any], where: str
) -> None:
    """`{kod}`, `{0}` or a lone brace raised a KeyError, IndexError or ValueError out of the loader: `serve`
    said only "Nieoczekiwany błąd"."""
    raw = powiat(2)
    (raw["powiat"] if section == "powiat" else raw["gminas"][0]).update(value)
    problems = _problems(raw, tmp_path)
    assert len(problems) == 1 and problems[0].startswith(where), problems
    assert "{code}" in problems[0] or "{gmina}" in problems[0]


def test_two_data_sets_in_one_replica_database_are_refused(tmp_path: Path) -> None:
    """`replica = "replicas/{teryt}.sqlite"` put a gmina's OPS and SR in one file: the second unit could then
    neither be fed nor answer (guideline 5: one controller, one database)."""
    raw = powiat(2)
    raw["powiat"]["replica"] = "replicas/{teryt}.sqlite"
    problems = _problems(raw, tmp_path)
    assert len(problems) == 2, problems
    assert problems[0].startswith("platforma.toml:gminas[1].replica: zbiór SR-0201001 ma tę samą bazę repliki co")
    assert "OPS-0201001" in problems[0] and "SR-0201002" in problems[1]


@pytest.mark.parametrize("section", ["offices", "data_sets"])
def test_an_office_or_data_set_code_longer_than_the_contracts_carry_is_refused(tmp_path: Path, section: str) -> None:
    """Gminas pass: a 37-character code was valid in the configuration, but zasilanie-1.xsd (KodZbioru) and
    audyt-2.xsd (KodUrzedu) carry 32: that data set could never be fed nor its office reported on."""
    raw = powiat(1)
    long_code = "PUP_" + "X" * 33
    raw["offices"][0]["code"] = raw["data_sets"][0]["controller"] = long_code
    if section == "data_sets":
        raw["offices"][0]["code"] = raw["data_sets"][0]["controller"] = "PUP"
        raw["data_sets"][0]["code"] = long_code
        raw["data_sets"][0]["kind"] = "PUP"
    problems = _problems(raw, tmp_path)
    assert any(p.startswith(f"platforma.toml:{section}[1].code:") and "32" in p for p in problems), problems
