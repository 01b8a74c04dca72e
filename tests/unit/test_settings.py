"""Typed settings read once: every mistake in the file is one Polish line naming `plik:sekcja.pole`."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contract.errors import ConfigurationError
from hub import settings

VALID: dict[str, Any] = {
    "hub": {"name": "Hub testowy", "database": "sqlite:///hub.sqlite", "audit_database": "sqlite:///audit.sqlite"},
    "offices": [{"code": "OPS", "name": "Ośrodek", "kind": "OPS"}, {"code": "PUP", "name": "Urząd", "kind": "PUP"}],
    "groups": [{"code": "G", "office": "OPS", "name": "Grupa"}],
    "data_sets": [{"code": "PUP", "controller": "PUP", "replica": "sqlite:///replicas/pup.sqlite"}],
    "legal_bases": [{"code": "UPS", "citation": "art. 1", "data_sets": ["PUP"]}],
    "rules": [
        {"office": "OPS", "group": "G", "data_set": "PUP", "categories": ["DANE_OSOBOWE"], "legal_bases": ["UPS"]}
    ],
}


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(VALID)
    target: Any = raw
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


_DELETE = object()


def _problems(raw: dict[str, Any], tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        settings.parse(raw, tmp_path / "platforma.toml")
    return caught.value.message.splitlines()


def test_a_valid_file_gives_frozen_typed_settings_with_paths_against_its_folder(tmp_path: Path) -> None:
    config = settings.parse(VALID, tmp_path / "platforma.toml")
    assert config.hub.port == 8080
    assert config.data_set("PUP") is not None
    assert config.data_set("PUP").kind == "PUP"  # type: ignore[union-attr]
    assert config.data_set("PUP").replica == f"sqlite:///{tmp_path}/replicas/pup.sqlite"  # type: ignore[union-attr]
    assert config.data_set("PUP").writer_url == config.data_set("PUP").replica  # type: ignore[union-attr]
    assert config.hub.database == f"sqlite:///{tmp_path}/hub.sqlite"
    assert config.legal_basis("UPS").name == "UPS"  # type: ignore[union-attr]
    with pytest.raises(Exception, match="frozen"):
        config.hub.port = 1  # type: ignore[misc]


def test_a_relative_writer_resolves_against_the_config_folder_not_the_working_directory(tmp_path: Path) -> None:
    raw = _with(("data_sets", 0, "writer"), "sqlite:///w/pup.sqlite")
    config = settings.parse(raw, tmp_path / "platforma.toml")
    assert config.data_set("PUP").writer_url == f"sqlite:///{tmp_path}/w/pup.sqlite"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("hub", "port"), "abc", "platforma.toml:hub.port: oczekiwano liczby całkowitej (podano 'abc')"),
        (("hub", "port"), 70000, "platforma.toml:hub.port: wartość musi być ≤ 65535"),
        (("offices", 1, "kind"), _DELETE, "platforma.toml:offices[2].kind: brak wymaganego pola"),
        (("rules", 0, "categories"), "DANE_OSOBOWE", "platforma.toml:rules[1].categories: oczekiwano listy"),
        (("hub", "max_request_bytes"), -5, "platforma.toml:hub.max_request_bytes: wartość musi być ≥ 4096"),
        (("hub", "prot"), 8080, "platforma.toml:hub.prot: nieznane pole (literówka?)"),
        (("hub", "audit_synchronous"), "SOMETIMES", "platforma.toml:hub.audit_synchronous: dozwolone wartości"),
        (("hub", "workers"), True, "platforma.toml:hub.workers: oczekiwano liczby całkowitej"),
        (("data_sets", 0, "kind"), "XYZ", "platforma.toml:data_sets[1].kind: nieznany rodzaj zbioru XYZ"),
        (("rules", 0, "categories"), ["NIE_MA"], "platforma.toml:rules[1].categories: nieznana kategoria NIE_MA"),
        (("groups", 0, "office"), "XX", "platforma.toml:groups[1].office: nieznany urząd XX"),
    ],
)
def test_each_mistake_is_one_polish_line_naming_the_field(
    tmp_path: Path, path: tuple[Any, ...], value: Any, expected: str
) -> None:
    problems = _problems(_with(path, value), tmp_path)
    assert any(line.startswith(expected) for line in problems), problems
    assert all(line.startswith("platforma.toml:") for line in problems), problems


def test_all_mistakes_are_reported_at_once(tmp_path: Path) -> None:
    raw = _with(("hub", "port"), "abc")
    raw["hub"]["threads"] = 0
    del raw["offices"][0]["kind"]
    problems = _problems(raw, tmp_path)
    assert len(problems) == 3, problems


def test_a_tls_certificate_without_its_key_is_refused_before_listening(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    problems = _problems(_with(("hub", "tls_certificate"), "cert.pem"), tmp_path)
    assert problems == [
        "platforma.toml:hub.tls_key: certyfikat TLS i klucz prywatny podaje się razem (tls_certificate, tls_key)"
    ]


def test_a_missing_tls_file_is_named(tmp_path: Path) -> None:
    raw = _with(("hub", "tls_certificate"), "nie-ma.pem")
    raw["hub"]["tls_key"] = "nie-ma.key"
    problems = _problems(raw, tmp_path)
    assert f"platforma.toml:hub.tls_certificate: nie ma takiego pliku: {tmp_path}/nie-ma.pem" in problems


def test_command_line_tls_options_are_checked_together(tmp_path: Path) -> None:
    config = settings.parse(VALID, tmp_path / "platforma.toml")
    (tmp_path / "cert.pem").write_text("x")
    with pytest.raises(ConfigurationError, match=r"hub\.tls_key: certyfikat TLS i klucz"):
        config.with_hub(tls_certificate=str(tmp_path / "cert.pem"))


def test_serve_prints_the_field_of_a_typo_with_its_brackets_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "platforma.toml"
    path.write_text(
        '[hub]\nname = "H"\ndatabase = "sqlite:///h.sqlite"\naudit_database = "sqlite:///a.sqlite"\nprot = 1\n'
        'port = "abc"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "platforma.toml:hub.prot: nieznane pole" in result.stderr
    assert "platforma.toml:hub.port: oczekiwano liczby całkowitej" in result.stderr
    assert "Traceback" not in result.stderr
