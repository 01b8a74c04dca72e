"""`[[seals]]` and the hub's `seal_key` in the settings (issue 15, item 4b): a file relative to the configuration's
folder or a `pkcs11:` URI as it is; a password or PIN from the file or from the environment variable `*_env`
names (read once, from the environment given); every mistake one Polish line naming `plik:sekcja.pole`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from contract.errors import ConfigurationError
from hub import settings
from hub.domain.seals import open_seals
from tests.unit.test_settings import VALID

TOKEN = "pkcs11:token=Pieczec;object=pieczec-pup?module-path=/usr/lib/softhsm/libsofthsm2.so"


def _raw(hub: dict[str, Any] | None = None, seals: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    raw = copy.deepcopy(VALID)
    raw["hub"].update(hub or {})
    if seals is not None:
        raw["seals"] = seals
    return raw


def _problems(raw: dict[str, Any], tmp_path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        settings.parse(raw, tmp_path / "platforma.toml", environ or {})
    return caught.value.message.splitlines()


def test_a_seal_is_a_file_beside_the_configuration_or_a_token_uri_left_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "klucze").mkdir()
    (tmp_path / "klucze" / "pieczec-ops.p12").write_bytes(b"")
    seals = [
        {"office": "PUP", "key": TOKEN, "password_env": "PIN_PUP"},
        {"office": "OPS", "key": "klucze/pieczec-ops.p12", "password": "haslo"},
    ]
    raw = _raw({"seal_key": TOKEN, "seal_key_password_env": "PIN_HUBA"}, seals)
    config = settings.parse(raw, tmp_path / "platforma.toml", {"PIN_PUP": "1111", "PIN_HUBA": "2222"})
    assert config.hub.seal_key == TOKEN and config.hub.seal_key_password == "2222"
    pup, ops = config.seal("PUP"), config.seal("OPS")
    assert pup is not None and pup.key == TOKEN and pup.password == "1111"
    assert ops is not None and ops.key == str(tmp_path / "klucze" / "pieczec-ops.p12") and ops.password == "haslo"
    assert config.seal("SR") is None
    assert "1111" not in repr(pup) and "2222" not in repr(config.hub)  # secrets stay out of logs and tracebacks
    assert config.with_hub(port=9000).hub.seal_key_password == "2222"  # command-line options keep it


@pytest.mark.parametrize(
    ("seal", "environ", "line"),
    [
        (
            {"office": "PUP", "key": TOKEN, "password": "1", "password_env": "PIN_PUP"},
            {"PIN_PUP": "1"},
            "platforma.toml:seals[1].password_env: podaj hasło w pliku (password) albo nazwę zmiennej "
            "(password_env), nie oba",
        ),
        (
            {"office": "PUP", "key": TOKEN, "password_env": "PIN-PUP"},
            {},
            "platforma.toml:seals[1].password_env: nazwa zmiennej środowiskowej: litery bez znaków diakrytycznych, "
            "cyfry i _, np. PIN_PIECZECI_PUP (podano 'PIN-PUP')",
        ),
        (
            {"office": "XYZ", "key": TOKEN, "password": "1"},
            {},
            "platforma.toml:seals[1].office: nieznany urząd XYZ",
        ),
        (
            {"office": "PUP", "key": "brak.p12", "password": "1"},
            {},
            "platforma.toml:seals[1].key: nie ma takiego pliku: {tmp}/brak.p12 (pieczęć urzędu PUP)",
        ),
        (
            {"office": "PUP", "key": TOKEN, "password": "1", "certificate": "brak.pem"},
            {},
            "platforma.toml:seals[1].certificate: nie ma takiego pliku: {tmp}/brak.pem (pieczęć urzędu PUP)",
        ),
        (
            {"office": "PUP", "key": TOKEN, "pin": "1"},
            {},
            "platforma.toml:seals[1].pin: nieznane pole (literówka?) (podano '1')",
        ),
    ],
)
def test_each_mistake_in_a_seal_is_one_line_naming_the_field(
    tmp_path: Path, seal: dict[str, Any], environ: dict[str, str], line: str
) -> None:
    assert _problems(_raw(seals=[seal]), tmp_path, environ) == [line.format(tmp=tmp_path)]


def test_an_office_has_one_seal(tmp_path: Path) -> None:
    seals = [{"office": "PUP", "key": TOKEN, "password": "1"}, {"office": "PUP", "key": TOKEN, "password": "1"}]
    assert _problems(_raw(seals=seals), tmp_path) == [
        "platforma.toml:seals[2].office: urząd PUP ma już pieczęć w [[seals]]"
    ]


def _opening_problems(raw: dict[str, Any], tmp_path: Path) -> list[str]:
    """The configuration loads; opening its seals (the hub at start) stops with these lines."""
    config = settings.parse(raw, tmp_path / "platforma.toml", {})
    with pytest.raises(ConfigurationError) as caught:
        open_seals(config)
    return caught.value.message.splitlines()


def test_an_unset_pin_variable_stops_the_opening_of_the_seals_not_the_reading_of_the_file(tmp_path: Path) -> None:
    """The file is read by every command; the seals are opened by the hub at start and by a command that seals:
    an administrator locking a user in an emergency must not need every office's PIN (an attack pass)."""
    seal = {"office": "PUP", "key": TOKEN, "password_env": "PIN_PUP"}
    assert _opening_problems(_raw(seals=[seal]), tmp_path) == [
        "platforma.toml:seals[1].password_env: zmienna środowiskowa PIN_PUP nie jest ustawiona (pieczęć urzędu PUP)"
    ]


def test_the_hubs_pin_may_come_from_the_environment_too(tmp_path: Path) -> None:
    assert _opening_problems(_raw({"seal_key": TOKEN, "seal_key_password_env": "PIN_HUBA"}), tmp_path)[0] == (
        "platforma.toml:hub.seal_key_password_env: zmienna środowiskowa PIN_HUBA nie jest ustawiona (pieczęć huba)"
    )
