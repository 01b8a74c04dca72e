"""Code run in other processes by the concurrency and crash tests (importable, so `spawn` can start it)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from audit.checkpoints import CheckpointSigner
from audit.store import AuditStore, CheckpointPolicy
from tests.audit.conftest import disclosure, security_event


def _say(path: str, text: str) -> None:
    """Write `text` to `path` atomically: the test waits for the file and reads it at once."""
    partial = Path(path + ".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _open(database: str, key: str, every: int) -> AuditStore:
    return AuditStore(
        f"sqlite:///{database}", signer=CheckpointSigner.from_file(key), policy=CheckpointPolicy(every_records=every)
    )


def append_many(database: str, key: str, worker: int, appends: int) -> None:
    """`appends` appends of two disclosures and one event, tagged with the worker's number."""
    store = _open(database, key, every=7)
    try:
        for index in range(appends):
            base = 100_000 * (worker + 1) + 2 * index
            store.append([disclosure(base), disclosure(base + 1)], [security_event(base)])
    finally:
        store.dispose()


def stall_inside_append(database: str, key: str, ready: str) -> None:
    """Start an append, insert its rows, say so in `ready`, then hang inside the transaction until killed."""
    store = _open(database, key, every=5)
    original = AuditStore._append_prepared

    def stalled(self: AuditStore, cursor: object, state: Any, disclosures: object, events: object) -> Any:
        after = original(self, cursor, state, disclosures, events)  # type: ignore[arg-type]
        _say(ready, str(after.head.nr))
        time.sleep(120)
        return after

    AuditStore._append_prepared = stalled  # type: ignore[method-assign]
    store.append([disclosure(900_000), disclosure(900_001)], [security_event(900_000)])


def append_forever(database: str, key: str, ready: str) -> None:
    """Append as fast as possible (checkpoint every 3 records) until killed; `ready` after the first append."""
    store = _open(database, key, every=3)
    index = 0
    while True:
        store.append([disclosure(800_000 + index)], [security_event(800_000 + index)] if index % 2 else [])
        if index == 0:
            _say(ready, "1")
        index += 1


if __name__ == "__main__":
    name, *arguments = sys.argv[1:]
    {"stall": stall_inside_append, "forever": append_forever}[name](*arguments)
