"""A database's failure in Polish, in one line (the SQL statement and its parameters never shown).

SQLAlchemy and the drivers speak English ("file is not a database", "Can't load plugin:
sqlalchemy.dialects:nonsense"); an operator reads the message of a command or of the hub's start. The common
SQLite messages and the unknown or missing driver are said in Polish; any other keeps the driver's first line.
Plain Python: the exceptions are recognised by their class names, so nothing here imports SQLAlchemy.
"""

from __future__ import annotations

__all__ = ["describe"]

#: SQLite's messages (sqlite3.c, `sqlite3ErrStr`) an operator meets, by their start.
_SQLITE = (
    ("file is not a database", "plik nie jest bazą danych SQLite (inny plik albo uszkodzony nagłówek)"),
    ("database disk image is malformed", "plik bazy danych SQLite jest uszkodzony"),
    ("database is locked", "baza danych jest zablokowana przez inny proces"),
    ("unable to open database file", "nie można otworzyć pliku bazy danych (brak katalogu albo uprawnień)"),
    ("attempt to write a readonly database", "baza danych jest tylko do odczytu"),
    ("database or disk is full", "dysk albo baza danych są pełne"),
    ("disk I/O error", "błąd odczytu lub zapisu dysku"),
)


def describe(error: BaseException) -> str:
    """One Polish line (no full stop at its end) for a failure to open or use a database."""
    kind = type(error).__name__
    if kind == "NoSuchModuleError":
        return "nieznany rodzaj bazy danych w adresie (np. sqlite:///plik.sqlite, postgresql+psycopg://…)"
    if isinstance(error, ImportError):
        return f"brak sterownika bazy danych {error.name or ''}: zainstaluj go albo popraw adres".replace("  ", " ")
    if kind == "ArgumentError":
        return "nieprawidłowy adres bazy danych (np. sqlite:///plik.sqlite, postgresql+psycopg://…)"
    original = getattr(error, "orig", None) or error
    lines = str(original).splitlines()
    text = lines[0].strip() if lines else type(original).__name__
    for english, polish in _SQLITE:
        if text.startswith(english):
            return polish
    if text.startswith("no such table: "):
        return f"w bazie nie ma tabeli {text.removeprefix('no such table: ')} (to nie jest baza tego rodzaju)"
    return text
