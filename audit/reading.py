"""Reading the checkpoints and the chain's formats on a plain DBAPI connection, inside the caller's transaction.

Both the verifier (in its read snapshot) and the store (in its write transaction, before it signs a
checkpoint) read them here, so that both see the same rows the same way.
"""

from __future__ import annotations

from typing import Any

from audit import chain
from audit.checkpoints import Checkpoint
from audit.schema import CHECKPOINTS, FORMATS

_CHECKPOINT_COLUMNS = "nr_punktu, nr, skrot, czas, powod, algorytm, odcisk_klucza, podpis"


def checkpoints(dbapi: Any, *, from_number: int = 1) -> list[Checkpoint]:
    """The checkpoints numbered `from_number` or more (all by default), in number order."""
    cursor = dbapi.cursor()
    try:
        cursor.execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM {CHECKPOINTS} WHERE nr_punktu >= {int(from_number)} "  # noqa: S608 - constants
            "ORDER BY nr_punktu"
        )
        return [
            Checkpoint(int(n), int(nr), str(link), chain.parse_time(str(at)), str(why), str(alg), str(key), str(sig))
            for n, nr, link, at, why, alg, key, sig in cursor.fetchall()
        ]
    finally:
        cursor.close()


def formats(dbapi: Any, dialect: str) -> list[tuple[int, int]]:
    """(first record number, format) pairs in order; `[(1, 1)]` for a register older than `format_lancucha`."""
    cursor = dbapi.cursor()
    try:
        if dialect == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (FORMATS,))
        else:
            cursor.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = %s "
                "AND table_schema = current_schema()",
                (FORMATS,),
            )
        row = cursor.fetchone()
        if row is None or not row[0]:
            return [(1, chain.FORMAT_1)]
        cursor.execute(f"SELECT od_nr, wersja FROM {FORMATS} ORDER BY od_nr")  # noqa: S608 - constant names
        noted = [(int(first), int(version)) for first, version in cursor.fetchall()]
    finally:
        cursor.close()
    if not noted or noted[0][0] > 1:
        noted.insert(0, (1, chain.FORMAT_1))
    return noted
