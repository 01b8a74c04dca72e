"""A hub database made by an earlier version gets the columns a newer one added (hub/storage/tables.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import inspect

from hub.storage.tables import add_missing_columns, hub_engine


def test_an_older_users_table_gains_the_new_column_and_keeps_its_rows(tmp_path: Path) -> None:
    database = tmp_path / "hub.sqlite"
    engine = hub_engine(f"sqlite:///{database}")
    engine.dispose()
    with sqlite3.connect(database) as connection:  # as an earlier version left it: no pesel column
        connection.execute("ALTER TABLE uzytkownicy DROP COLUMN pesel")
        connection.execute(
            "INSERT INTO uzytkownicy (login, urzad, grupa, nazwa, haslo, aktywny, role, zablokowany, "
            "nieudane_proby, wymagana_zmiana_hasla, wersja) "
            "VALUES ('jan', 'OPS', 'G', '', 'x', 1, 'UZYTKOWNIK', 0, 0, 0, 1)"
        )
    engine = hub_engine(f"sqlite:///{database}")
    try:
        columns = {column["name"] for column in inspect(engine).get_columns("uzytkownicy")}
        assert "pesel" in columns
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT login, pesel FROM uzytkownicy").all() == [("jan", None)]
        assert add_missing_columns(engine) == []  # nothing left to add
    finally:
        engine.dispose()
