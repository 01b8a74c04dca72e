"""The feed format as Python types, one of each, shared by the replica writer, the hub's feeding service and
the feeders' targets: a batch's header, a record as the writer reads it, what a batch did (the receipt), and
where a replica stands. Plain dataclasses: a feeder's reader processes import this without SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

#: Batch numbers a replica stores (a 32-bit column on every database).
MAX_SEQUENCE = 2**31

FULL = "PELNA"
INCREMENTAL = "PRZYROSTOWA"


@dataclass(frozen=True)
class ReplicaIdentity:
    """What a replica holds: its data set, the kind of that data set and the controller (an office).

    None where not known: a replica created before the identity was recorded, or a writer that was not
    told the controller.
    """

    data_set: str | None
    kind: str | None
    controller: str | None = None

    def describe(self) -> str:
        """Polish, for messages: `zbiór OPS (rodzaj OPS, administrator OPS)`."""
        facts = [f"rodzaj {self.kind}"] if self.kind else []
        if self.controller:
            facts.append(f"administrator {self.controller}")
        return f"zbiór {self.data_set or '?'}" + (f" ({', '.join(facts)})" if facts else "")

    def unrecorded(self) -> tuple[str, ...]:
        """The facts a replica's state must record but does not (their columns: `zbior`, `rodzaj`).

        The writer records the data set (the kind's code when not told it) and the kind together, in the
        transaction that creates the state row; only the controller may stay unknown (`platforma feed` is
        not told it). A state that records nothing is a replica created before identities were recorded,
        its columns added by a writer and filled by its next batch: nothing is missing there.
        """
        if self == ReplicaIdentity(None, None, None):
            return ()
        return tuple(column for column, value in (("zbior", self.data_set), ("rodzaj", self.kind)) if value is None)


@dataclass
class Rejection:
    """A record that was not loaded, with its source key and the reason (Polish)."""

    source_key: str
    reason: str


@dataclass
class LoadReport:
    """What a batch did: counts, rejections, the digest of what was applied, where the run stands."""

    data_set: str
    kind: str
    read: int = 0
    loaded: int = 0
    deleted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    digest: str = ""
    batch_id: str | None = None
    run_id: str | None = None
    sequence: int | None = None
    watermark: str | None = None
    repeated: bool = False
    snapshot_live: bool = False


class RecordLike(Protocol):
    """What the writer needs of a record (a parsed feed record, or an adapter's record)."""

    @property
    def source_key(self) -> str: ...
    @property
    def deleted(self) -> bool: ...
    @property
    def pesel(self) -> str | None: ...
    @property
    def surname(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def birth_date(self) -> dt.date | None: ...
    @property
    def document_kind(self) -> str | None: ...
    @property
    def document_number(self) -> str | None: ...
    @property
    def sections(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True)
class BatchHeader:
    """The attributes of a `Paczka`: data set, kind, run, number, watermark, whether it ends a snapshot."""

    data_set: str
    kind: str = FULL
    batch_id: str | None = None
    run_id: str | None = None
    sequence: int | None = None
    watermark: str | None = None
    final: bool = True

    @classmethod
    def from_attributes(cls, attributes: dict[str, str]) -> BatchHeader:
        """The header of a `Paczka` element's attributes (see xsd/zasilanie-1.xsd)."""
        number = attributes.get("NumerPaczki")
        if number and not 0 < int(number) < MAX_SEQUENCE:
            raise ValueError(f"NumerPaczki poza zakresem 1–{MAX_SEQUENCE - 1}")
        final = attributes.get("Koniec")
        run_id = attributes.get("IdZasilenia")
        if run_id and not number:
            # Without a number a batch of a run skipped every order check, joined the staged snapshot and, with
            # Koniec="true", published it without the batches that never came (an attack pass).
            raise ValueError("paczka zasilenia (IdZasilenia) musi mieć NumerPaczki: kolejny numer, od 1")
        return cls(
            data_set=attributes.get("Zbior", ""),
            kind=attributes.get("Rodzaj", FULL),
            batch_id=attributes.get("IdPaczki"),
            run_id=run_id,
            sequence=int(number) if number else None,
            watermark=attributes.get("Znacznik"),
            # A batch that names no run is a whole snapshot on its own.
            final=(final or "").strip() in ("true", "1") if run_id else True,
        )


@dataclass(frozen=True)
class ReplicaStatus:
    """Where a replica stands: the live snapshot's watermark and run, and an open full snapshot, if any."""

    generation: int | None
    watermark: str | None
    run_id: str | None
    sequence: int | None
    staging_run_id: str | None
    staging_sequence: int | None
    staging_watermark: str | None
    people: int
    #: What the replica holds, as recorded when it was created (None for a replica never written).
    identity: ReplicaIdentity | None = None
