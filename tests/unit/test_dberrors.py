"""Database failures in Polish (contract.dberrors), from the real SQLite and SQLAlchemy errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from contract.dberrors import describe


def _error_of(url: str, sql: str = "SELECT count(*) FROM sqlite_master") -> BaseException:
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text(sql))
    except (SQLAlchemyError, ImportError) as error:
        return error
    pytest.fail(f"{url} opened")


def test_a_file_that_is_no_database(tmp_path: Path) -> None:
    png = tmp_path / "obraz.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    assert describe(_error_of(f"sqlite:///{png}")).startswith("plik nie jest bazą danych SQLite")


def test_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    assert describe(_error_of(f"sqlite:///{tmp_path / 'brak' / 'baza.sqlite'}")).startswith(
        "nie można otworzyć pliku bazy danych"
    )


def test_a_database_of_another_kind(tmp_path: Path) -> None:
    message = describe(_error_of(f"sqlite:///{tmp_path / 'inna.sqlite'}", "SELECT * FROM rejestr_ujawnien"))
    assert message == "w bazie nie ma tabeli rejestr_ujawnien (to nie jest baza tego rodzaju)"


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("nonsense://x", "nieznany rodzaj bazy danych w adresie"),
        ("mysql://u@h/b", "brak sterownika bazy danych MySQLdb"),
        ("to nie jest adres", "nieprawidłowy adres bazy danych"),
    ],
)
def test_an_address_sqlalchemy_cannot_use(url: str, start: str) -> None:
    assert describe(_error_of(url)).startswith(start)


def test_another_message_keeps_the_drivers_first_line() -> None:
    assert describe(RuntimeError("pierwsza linia\nSELECT * FROM x WHERE pesel = '44051401359'")) == "pierwsza linia"
