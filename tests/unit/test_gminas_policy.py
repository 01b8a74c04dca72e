"""Policy at the scale of a powiat (issue 16): rules per kind of office and of data set, and per office where
they differ; the office's own rule wins, and the effective scope is what `ListaZbiorow` shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contract.errors import NotAllowed
from hub import settings
from hub.domain.policy import Caller, Policy
from tests.unit.test_gminas_settings import powiat

PUP_ALL = ["DANE_OSOBOWE", "OKRESY_REJESTRACJI", "PRZYZNANE_SWIADCZENIA"]


def config_with(rules: list[dict[str, Any]], tmp_path: Path, gminas: int = 4) -> settings.Config:
    raw = powiat(gminas)
    raw["rules"] = rules
    return settings.parse(raw, tmp_path / "platforma.toml")


def social_worker(teryt: str) -> Caller:
    return Caller(f"ops.{teryt}", f"OPS-{teryt}", "PRACOWNICY_SOCJALNI")


def test_every_ops_social_worker_sees_pup_under_a_kind_wide_rule(tmp_path: Path) -> None:
    config = config_with(
        [{"office": "*OPS", "group": "PRACOWNICY_SOCJALNI", "data_set": "PUP", "categories": PUP_ALL}], tmp_path
    )
    policy = Policy(config)
    for teryt in ("0201001", "0201004"):
        (entry,) = policy.scope(social_worker(teryt))
        assert (entry.data_set, entry.categories, entry.legal_bases) == ("PUP", tuple(PUP_ALL), ("URPSZ",))


def test_an_office_specific_rule_overrides_the_kind_wide_one_for_that_office_only(tmp_path: Path) -> None:
    config = config_with(
        [
            {"office": "*OPS", "group": "PRACOWNICY_SOCJALNI", "data_set": "PUP", "categories": PUP_ALL},
            {"office": "OPS-0201002", "group": "PRACOWNICY_SOCJALNI", "data_set": "PUP", "categories": PUP_ALL[:1]},
            {"office": "OPS-0201003", "group": "PRACOWNICY_SOCJALNI", "data_set": "PUP", "categories": []},
        ],
        tmp_path,
    )
    policy = Policy(config)
    assert [e.categories for e in policy.scope(social_worker("0201001"))] == [tuple(PUP_ALL)]
    assert [e.categories for e in policy.scope(social_worker("0201002"))] == [("DANE_OSOBOWE",)]
    assert policy.scope(social_worker("0201003")) == []  # the exception takes the access away
    with pytest.raises(NotAllowed) as refused:
        policy.check(social_worker("0201002"), "URPSZ", {"PUP": ["OKRESY_REJESTRACJI"]})
    assert refused.value.details == ("PUP:OKRESY_REJESTRACJI",)
    policy.check(social_worker("0201001"), "URPSZ", {"PUP": ["OKRESY_REJESTRACJI"]})


def test_a_rule_for_every_unit_of_a_kind_with_one_unit_excepted(tmp_path: Path) -> None:
    config = config_with(
        [
            {"office": "PUP", "group": "POSREDNICY", "data_set": "*OPS", "categories": ["DANE_OSOBOWE", "SWIADCZENIA"]},
            {"office": "PUP", "group": "POSREDNICY", "data_set": "OPS-0201004", "categories": ["DANE_OSOBOWE"]},
            {"office": "PUP", "group": "POSREDNICY", "data_set": "SR-0201001", "categories": ["DANE_OSOBOWE"]},
        ],
        tmp_path,
    )
    scope = {e.data_set: e.categories for e in Policy(config).scope(Caller("pup.p", "PUP", "POSREDNICY"))}
    assert scope == {
        "OPS-0201001": ("DANE_OSOBOWE", "SWIADCZENIA"),
        "OPS-0201002": ("DANE_OSOBOWE", "SWIADCZENIA"),
        "OPS-0201003": ("DANE_OSOBOWE", "SWIADCZENIA"),
        "OPS-0201004": ("DANE_OSOBOWE",),
        "SR-0201001": ("DANE_OSOBOWE",),
    }


def test_the_office_own_rule_for_a_kind_beats_the_office_kind_rule_for_a_data_set(tmp_path: Path) -> None:
    config = config_with(
        [
            {"office": "*OPS", "group": "PRACOWNICY_SOCJALNI", "data_set": "SR-0201001", "categories": ["DANE_DZIECI"]},
            {"office": "OPS-0201001", "group": "PRACOWNICY_SOCJALNI", "data_set": "*SR", "categories": PUP_ALL[:1]},
        ],
        tmp_path,
    )
    policy = Policy(config)
    own = {e.data_set: e.categories for e in policy.scope(social_worker("0201001"))}
    assert own == {f"SR-020100{i}": ("DANE_OSOBOWE",) for i in range(1, 5)}
    other = {e.data_set: e.categories for e in policy.scope(social_worker("0201002"))}
    assert other == {"SR-0201001": ("DANE_DZIECI",)}
