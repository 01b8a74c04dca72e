"""A cheap 'did the hub database change?' for the per-request checks (account state, policy version).

SQLite's `PRAGMA data_version` (https://sqlite.org/pragma.html#pragma_data_version) changes, on a given
connection, whenever *another* connection commits to the database file. Each thread keeps its own
read-only connection and remembers what it last saw; while the value stands still, nothing it read from
the database can have changed, and the SELECTs are skipped. For other databases `token()` is None and
callers simply query.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from replica.sqlite import sqlite_file, sqlite_uri


class ChangeWatch:
    """Per-thread change tokens for one SQLite database file (None for any other database)."""

    def __init__(self, url: str) -> None:
        self._path: Path | None = sqlite_file(url)
        self._local = threading.local()

    def token(self) -> int | None:
        """This thread's current data version of the file, or None when it cannot be watched."""
        if self._path is None:
            return None
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(sqlite_uri(self._path), uri=True)
            except sqlite3.Error:
                return None
            self._local.connection = connection
        try:
            return int(connection.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return None

    def remembered(self, key: str) -> object:
        """What this thread stored under `key` (with `remember`), or None."""
        return getattr(self._local, "memo", {}).get(key)

    def remember(self, key: str, value: object) -> None:
        """Store a per-thread value (typically `(token, result)`)."""
        memo = getattr(self._local, "memo", None)
        if memo is None:
            memo = self._local.memo = {}
        memo[key] = value
