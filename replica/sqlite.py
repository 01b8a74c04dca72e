"""SQLite files named by URL, opened by URI: the one place that reads a `sqlite:///` URL's file and
opens it read-only (replicas, the hub database's change watch, domain sources), and read-only engines."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import QueuePool


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, as SQLAlchemy reads it (None for another database or an in-memory one)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # A ValueError, so that a settings validator reports it as the field's mistake (found by tests/fuzz).
        raise ValueError(f"nieprawidłowy adres bazy danych: {url[:80]!r} (np. sqlite:///plik.sqlite)") from None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def resolve_sqlite_url(url: str, base: Path) -> str:
    """A SQLite URL whose relative file is made absolute against `base` (a configuration file's folder);
    any other URL as it is."""
    path = sqlite_file(url)
    if path is None or path.is_absolute():
        return url
    return make_url(url).set(database=str((base / path).resolve())).render_as_string(hide_password=False)


def sqlite_uri(path: Path, mode: str = "ro") -> str:
    """A SQLite URI for a file (https://sqlite.org/uri.html): the path percent-encoded, for a `#` or `?`
    in it would end the path there and drop `mode` (a different file, opened read-write)."""
    return f"file:{quote(str(path), safe='/')}?mode={mode}"


def read_only_sqlite(path: Path) -> sqlite3.Connection:
    """A driver connection that cannot write: a read-only URI, and `query_only` as belt and braces (even a
    read-write file handle then refuses writes; guideline 8). Usable from any thread."""
    connection = sqlite3.connect(sqlite_uri(path), uri=True, check_same_thread=False)
    connection.execute("PRAGMA query_only = ON")
    return connection


def read_only_engine(url: str) -> Engine:
    """An engine that cannot write: read-only SQLite connections (`read_only_sqlite`), or the URL's own
    (SELECT-only) role."""
    path = sqlite_file(url)
    if path is not None:
        # The file goes to the driver as a URI (in a SQLAlchemy URL its percent-encoding would be undone).
        return create_engine(
            "sqlite://", creator=lambda: read_only_sqlite(path), poolclass=QueuePool, hide_parameters=True
        )
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)
