"""One feeding run per replica at a time: a second `platforma feed` of the same replica is refused at once
with `REPLIKA_ZAJETA` instead of interleaving its batches with the first, or failing later with a raw
"database is locked".

The lock dies with the process that holds it (a killed feeder's run resumes at once): for a SQLite replica
an exclusive `flock` on a file beside it, for a server database a session advisory lock
(`pg_try_advisory_lock`) on a connection held for the run.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Connection, Engine

from contract.errors import PlatformError
from replica.sqlite import sqlite_file


class ReplicaBusy(PlatformError):
    """Another feeding run (or another writer) holds the replica; try again when it has finished."""

    code = "REPLIKA_ZAJETA"


def busy(data_set: str) -> ReplicaBusy:
    """The error of a replica another run is writing."""
    return ReplicaBusy(
        f"Replikę zbioru {data_set} zasila właśnie inny proces (inne zasilenie); nic nie zmieniono. "
        "Uruchom zasilenie ponownie po jego zakończeniu: wznowi się od ostatniej zastosowanej paczki."
    )


class RunLock:
    """Held from the start of a run to its end; `release` (or the process's end) frees it."""

    def __init__(self, url: str, data_set: str) -> None:
        self._descriptor: int | None = None
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        path = sqlite_file(url)
        if path is not None:
            self._lock_file(Path(str(path) + ".zasilanie"), data_set)
        elif url.startswith("postgresql"):
            self._advisory(url, data_set)

    def _lock_file(self, path: Path, data_set: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise busy(data_set) from None
        self._descriptor = descriptor

    def _advisory(self, url: str, data_set: str) -> None:
        key = int.from_bytes(hashlib.sha256(f"platforma:replika:{data_set}".encode()).digest()[:8], "big", signed=True)
        self._engine = create_engine(url, pool_size=1, max_overflow=0, hide_parameters=True)
        self._connection = self._engine.connect()
        if not self._connection.scalar(select(func.pg_try_advisory_lock(key))):
            self.release()
            raise busy(data_set)

    def release(self) -> None:
        """Free the lock."""
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the descriptor releases the flock
            self._descriptor = None
        if self._connection is not None:
            self._connection.close()  # ends the session: its advisory locks go with it
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
