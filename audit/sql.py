"""The disclosure register and the security event log in a database of their own (SQLite by default).

Both are thin views of one `audit.store.AuditStore`: every record either of them writes becomes a link
of the same hash chain. The hub constructs `SqlDisclosureRegister(url)`; the keyword options configure
the checkpoint key and interval (see `docs/audit.md`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from audit.records import DisclosureRecord, EventKind, SecurityEvent
from audit.schema import AuditBase, DisclosureRow, EventRow
from audit.store import AuditStore, CheckpointPolicy

log = logging.getLogger(__name__)

__all__ = ["AuditBase", "DisclosureRow", "EventRow", "SqlDisclosureRegister", "SqlEventLog"]


def _open(
    url: str,
    store: AuditStore | None,
    key_file: str | Path | None,
    checkpoint_every: int,
    checkpoint_minutes: float,
    synchronous: str,
    anchor_file: str | Path | None,
) -> AuditStore:
    if store is not None:
        return store
    return AuditStore(
        url,
        key_file=key_file,
        policy=CheckpointPolicy(checkpoint_every, checkpoint_minutes),
        synchronous=synchronous,
        anchor_file=anchor_file,
    )


class SqlDisclosureRegister:
    """Appends disclosure records to the chained `rejestr_ujawnien` table, one transaction per request.

    `key_file` is the hub's checkpoint signing key (PEM, Ed25519 or RSA); a checkpoint is signed after
    `checkpoint_every` records or `checkpoint_minutes` minutes, and its head appended to `anchor_file`
    (default: beside the key; `audit.anchors`). `store` shares an already open database.
    """

    def __init__(
        self,
        url: str,
        *,
        key_file: str | Path | None = None,
        checkpoint_every: int = 1000,
        checkpoint_minutes: float = 10.0,
        synchronous: str = "NORMAL",
        store: AuditStore | None = None,
        anchor_file: str | Path | None = None,
    ) -> None:
        self.store = _open(url, store, key_file, checkpoint_every, checkpoint_minutes, synchronous, anchor_file)
        self.engine = self.store.reader
        if self.store.signer is None:
            log.warning("disclosure register: no checkpoint key configured, the chain's head is not signed")

    def append(self, records: Sequence[DisclosureRecord]) -> None:
        """Store the records of one request atomically (committed before the answer leaves)."""
        self.store.append(disclosures=records)

    def records(self, *, request_id: str | None = None, pesel: str | None = None) -> Iterator[DisclosureRecord]:
        """Read records back in the order they were written."""
        return self.store.disclosures(request_id=request_id, pesel=pesel)

    def dispose(self) -> None:
        """Release the database connections."""
        self.store.dispose()


class SqlEventLog:
    """Appends security events to the chained `zdarzenia_bezpieczenstwa` table in the audit database."""

    def __init__(
        self,
        url: str,
        *,
        key_file: str | Path | None = None,
        checkpoint_every: int = 1000,
        checkpoint_minutes: float = 10.0,
        synchronous: str = "NORMAL",
        store: AuditStore | None = None,
        anchor_file: str | Path | None = None,
    ) -> None:
        self.store = _open(url, store, key_file, checkpoint_every, checkpoint_minutes, synchronous, anchor_file)
        self.engine = self.store.reader

    def record(self, event: SecurityEvent) -> None:
        """Store one event durably (its own transaction)."""
        self.store.append(events=[event])

    def events(
        self,
        *,
        user: str | None = None,
        office: str | None = None,
        kind: EventKind | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Iterator[SecurityEvent]:
        """Read events back in the order they were written, optionally filtered."""
        return self.store.events(user=user, office=office, kind=kind, since=since, until=until)

    def dispose(self) -> None:
        """Release the database connections."""
        self.store.dispose()
