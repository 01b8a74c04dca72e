"""Retention: records older than the configured age are removed behind a signed cut, and that is recorded.

The order matters. The part to be removed is verified first (a purge must not erase the evidence of a
tampering); then a checkpoint with reason `USUNIECIE` is signed over the last record to go, which is
what allows the database guards to let those records be deleted and what lets `audit verify` trust
the first remaining record's predecessor; then the records are deleted in short transactions; last, the
purge is appended to the chain as a security event of kind `USUNIECIE_ZAPISOW`. A purge interrupted
half-way leaves a chain that still verifies, and running it again finishes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from audit.checkpoints import TrustedKeys
from audit.errors import AuditStorageError, ChainBrokenError
from audit.records import EventKind, SecurityEvent
from audit.schema import DisclosureRow, EventRow
from audit.store import AuditStore
from audit.verify import verify


@dataclass(frozen=True)
class PurgeResult:
    """What a purge did: the cut (last removed record number, 0 if none), how many records went."""

    cutoff: dt.datetime
    cut_nr: int
    removed: int
    checkpoint: int | None


def cut_for(store: AuditStore, cutoff: dt.datetime) -> int:
    """The highest record number such that it and every record before it is older than `cutoff`."""
    try:
        with store.reader.connect() as connection:
            newer = [
                connection.scalar(select(func.min(model.nr)).where(model.time >= cutoff))
                for model in (DisclosureRow, EventRow)
            ]
            kept = [n for n in newer if n is not None]
            if kept:
                return int(min(kept)) - 1
            return store.head().nr
    except SQLAlchemyError as error:
        raise AuditStorageError(f"Nie można odczytać rejestru audytu: {getattr(error, 'orig', error)}") from error


def purge(
    store: AuditStore,
    older_than: dt.timedelta,
    *,
    actor: str,
    source: str = "CLI",
    now: dt.datetime | None = None,
) -> PurgeResult:
    """Remove the records older than `older_than` behind a signed cut; refuse if the chain is broken there."""
    if store.signer is None:
        raise AuditStorageError(
            "Usuwanie wpisów wymaga klucza punktów kontrolnych (audit_key): bez podpisanego "
            "cięcia pozostała część rejestru nie dałaby się zweryfikować."
        )
    moment = now or dt.datetime.now(dt.UTC)
    cutoff = moment - older_than
    cut_nr = cut_for(store, cutoff)
    previous_cut = max((c.nr for c in store.checkpoints() if c.reason == "USUNIECIE"), default=0)
    removed = 0
    checkpoint: int | None = None
    if cut_nr > 0:
        report = verify(store, TrustedKeys([store.signer.public_key]), up_to=cut_nr)
        if not report.ok:
            first = report.first_problem
            assert first is not None
            raise ChainBrokenError(
                f"Rejestr audytu jest naruszony, więc niczego nie usunięto. {first.message} "
                "Zabezpiecz rejestr i wyjaśnij naruszenie przed usuwaniem wpisów."
            )
        if cut_nr > previous_cut:
            checkpoint = store.cut(cut_nr).number
        removed = store.delete_up_to(cut_nr)
    details = f"usunieto {removed} wpisow starszych niz {cutoff.isoformat()} (do nr {cut_nr})" + (
        f"; punkt kontrolny nr {checkpoint}" if checkpoint is not None else ""
    )
    store.append(
        events=[
            SecurityEvent(
                time=moment,
                kind=EventKind.PURGE,
                user=actor,
                office="",
                actor=actor,
                source=source,
                success=True,
                details=details,
            )
        ]
    )
    return PurgeResult(cutoff, cut_nr, removed, checkpoint)
