"""SQLite files named by URL, opened by URI: the one place that reads a `sqlite:///` URL's file and
opens it read-only (replicas, the hub database's change watch, domain sources)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, as SQLAlchemy reads it (None for another database or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


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
