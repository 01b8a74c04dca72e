"""A feeding run: adapter → batches → target (the hub's SOAP feed service, or a replica database).

The watermark travels with every batch and is stored by the target in the same transaction as the
batch, so a run stopped at any moment resumes after the last applied batch: `run` asks the target where
it stands (`status`) and continues the same run (same id, next number) from that position.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.base import Adapter, AdapterError, Item, ModelRecord, SourceRejection, Watermark
from adapters.reader import ReaderGone, ReaderProcess, flat_heap, rare_collections
from contract.polish_time import repeated_hour
from replica.feed import FULL, INCREMENTAL, BatchHeader, LoadReport, ReplicaStatus
from replica.sections import sections_size

__all__ = ["FULL", "INCREMENTAL", "FeedError", "FeedOptions", "FeedSummary", "Feeder", "Target"]


class FeedError(AdapterError):
    """The run cannot go on (the target refused a batch, or there is nothing to continue from)."""

    code = "BLAD_ZASILANIA"

    def __init__(self, message: str, *, fault_code: str | None = None) -> None:
        super().__init__(message)
        self.fault_code = fault_code


class Target(Protocol):
    """Where batches go: `SoapTarget` (the hub) or `ReplicaTarget` (a replica database)."""

    def status(self, data_set: str) -> ReplicaStatus: ...
    def send(self, header: BatchHeader, records: Sequence[ModelRecord]) -> LoadReport: ...
    def close(self) -> None: ...


@dataclass
class FeedSummary:
    """What a run did: read, sent, rejected (with source keys), deleted, time, and where it ended."""

    mode: str
    run_id: str = ""
    resumed: bool = False
    read: int = 0
    sent: int = 0
    applied: int = 0
    deleted: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    batches: int = 0
    seconds: float = 0.0
    watermark: str = ""
    history_rows: int = 0
    #: The unfinished full run (of another source) this run replaced: its staged people are discarded.
    abandoned: str = ""


@dataclass(frozen=True)
class FeedOptions:
    """Sizes of a run: records per batch, bytes per batch (under the hub's request limit), source batch."""

    batch_records: int = 500
    batch_bytes: int = 900_000
    source_batch: int = 1000
    parallel: bool = False  # read and build in separate processes while this one sends
    readers: int = 1  # reader processes when parallel (adapters that share reading by batch)


def _size(record: ModelRecord) -> int:
    return 120 + len(record.source_key) + sections_size(record.sections)


def _before_repeated_hour(until: dt.datetime | None) -> dt.datetime | None:
    """Where an incremental window starts after a run that ended at `until` (a domain system's stamp).

    Domain systems stamp changes in local time (`data_modyfikacji`; the deletions journal's triggers too). When
    clocks go back (03:00 CEST -> 02:00 CET) the hour 02:00-02:59 repeats: after a run that ended at 02:50 CEST,
    a change or removal stamped 02:10 CET is earlier than the run's end and would never be read. A run that
    ended inside that hour is followed by windows from the hour's start, so it is read again (people sent
    twice take the same data again; a removal of someone already gone is no error); any other night, the
    window starts where the last one ended."""
    start = repeated_hour(until) if until is not None else None
    return until if start is None else start - dt.timedelta(microseconds=1)


class Feeder:
    """Runs an adapter against a target, full or incremental, resuming where the target stands."""

    def __init__(
        self,
        adapter: Adapter,
        target: Target,
        options: FeedOptions = FeedOptions(),
        *,
        progress: Callable[[int], None] | None = None,
        total: Callable[[int], None] | None = None,
        on_batch: Callable[[BatchHeader, LoadReport], None] | None = None,
        started: Sequence[ReaderProcess] = (),
        data_set: str | None = None,
    ) -> None:
        self.adapter = adapter
        #: The data set fed: by default the adapter's kind's code; a gmina's unit names its own (`OPS-0201011`).
        self.data_set = data_set or adapter.kind
        #: Reader processes started beforehand without work (`ReaderProcess(preload=...)`): the run gives
        #: them theirs, or stops them if it needs fewer.
        self.started = list(started)
        self.target = target
        self.options = options
        self.progress = progress
        #: Told how many people a full run will read, when the adapter can count them (`count`).
        self.total = total
        self.on_batch = on_batch
        #: The unfinished full run of another source that this run replaces (`plan`), if any.
        self.abandoned: str | None = None

    def plan(self, mode: str) -> tuple[str, int, Watermark, tuple[str, dict[str, Any]], bool]:
        """(run id, next number, watermark, (adapter method, its arguments), resumed) for a run.

        An unfinished full run is resumed only when it reads this adapter's source (`Watermark.source`): its
        position means nothing in another one, and the snapshot it closed would hold part of each source. A
        run of another source is replaced by a new one (the replica discards its staged people with the new
        run's first batch; its feeder's next batch is refused as out of order), and `abandoned` tells.
        """
        status = self.target.status(self.data_set)
        size = self.options.source_batch
        source = self.adapter.source_identity()
        read: tuple[str, dict[str, Any]]
        if mode == FULL:
            staged = Watermark.decode(status.staging_watermark)
            if status.staging_run_id and staged is not None and staged.full and not staged.complete:
                if staged.source == source:
                    read = ("full", {"after": staged.position, "batch_size": size})
                    return status.staging_run_id, (status.staging_sequence or 0) + 1, staged, read, True
                self.abandoned = status.staging_run_id
            elif status.staging_run_id:
                self.abandoned = status.staging_run_id
            mark = Watermark(True, self.adapter.high_water(), source=source)
            return uuid.uuid4().hex, 1, mark, ("full", {"after": None, "batch_size": size}), False
        live = Watermark.decode(status.watermark)
        if live is None:
            raise FeedError(
                f"Replika zbioru {self.data_set} nie ma jeszcze zasilenia pełnego z tego adaptera; "
                "uruchom najpierw zasilenie pełne (--full)."
            )
        if not live.complete and status.run_id:
            read = ("changes", {"since": live.since, "until": live.until, "after": live.position, "batch_size": size})
            return status.run_id, (status.sequence or 0) + 1, live, read, True
        mark = Watermark(False, self.adapter.high_water(), since=_before_repeated_hour(live.until), source=source)
        read = ("changes", {"since": mark.since, "until": mark.until, "after": None, "batch_size": size})
        return uuid.uuid4().hex, 1, mark, read, False

    def _items(self, method: str, arguments: dict[str, Any]) -> Iterator[Sequence[Item]]:
        """The adapter's batches: read here, or by reader processes when `parallel` (every CPU at work).

        With several readers (`FeedOptions.readers`, for an adapter that `shares_reading`), reader i of n
        builds source batches i, i + n, ...; they are taken from each in turn, so the order is the
        adapter's (see `adapters.reader`).
        """
        recipe = getattr(self.adapter, "recipe", None)
        if not self.options.parallel or recipe is None:
            yield from getattr(self.adapter, method)(**arguments)
            return
        count = max(1, self.options.readers) if getattr(self.adapter, "shares_reading", False) else 1
        flat_heap()
        readers: list[ReaderProcess] = []
        try:
            for index in range(count):
                share = {"share": (index, count)} if count > 1 else {}
                if self.started:
                    readers.append(self.started.pop(0))
                    readers[-1].start(recipe, method, {**arguments, **share})
                else:
                    readers.append(ReaderProcess(recipe, method, {**arguments, **share}))
            for turn in itertools.count():
                reader = readers[turn % count]
                # The whole batch is taken at once, so that its reader goes on to its next one meanwhile.
                batch: list[Item] = []
                kind = "part"
                while kind == "part":
                    try:
                        kind, payload = reader.receive()
                    except ReaderGone:
                        raise FeedError("Proces czytający bazę dziedzinową zakończył się niespodziewanie.") from None
                    if kind == "end":
                        return
                    if kind == "error":
                        raise payload
                    batch.extend(payload)
                yield batch
                del batch
        finally:
            for reader in readers:
                reader.close()

    def run(self, mode: str) -> FeedSummary:
        """Feed everything (FULL) or the changes since the target's watermark (INCREMENTAL)."""
        try:
            with rare_collections():
                return self._run(mode)
        finally:
            while self.started:  # started beforehand and not needed (or the run stopped before reading)
                self.started.pop().close()

    def _run(self, mode: str) -> FeedSummary:
        started = time.perf_counter()
        run_id, sequence, mark, (method, arguments), resumed = self.plan(mode)
        count = getattr(self.adapter, "count", None)
        if self.total is not None and method == "full" and callable(count):
            self.total(count(after=arguments["after"]))
        items = self._items(method, arguments)
        summary = FeedSummary(mode, run_id, resumed, watermark=mark.encode(), abandoned=self.abandoned or "")
        current: list[ModelRecord] = []
        current_position: str | None = mark.position
        size = 0
        limit_records, limit_bytes = self.options.batch_records, self.options.batch_bytes

        def send(batch_records: list[ModelRecord], last_position: str | None, final: bool) -> None:
            nonlocal sequence
            # The last batch completes the run: its watermark has no position (next run starts anew).
            watermark = mark.at(None if final else last_position).encode()
            header = BatchHeader(self.data_set, mode, f"{run_id[:54]}-{sequence}", run_id, sequence, watermark, final)
            report = self.target.send(header, batch_records)
            summary.batches += 1
            summary.sent += len(batch_records)
            summary.applied += report.loaded
            summary.deleted += report.deleted
            summary.rejected.extend((r.source_key, r.reason) for r in report.rejected)
            summary.watermark = watermark
            if self.on_batch is not None:
                self.on_batch(header, report)
            sequence += 1

        for source_batch in items:
            summary.read += len(source_batch)
            if self.progress is not None:
                self.progress(len(source_batch))  # per batch: a progress bar's update costs microseconds
            for item in source_batch:
                if isinstance(item, SourceRejection):
                    # Rejected at the source: reported, and the position moves past it with this batch.
                    summary.rejected.append((item.source_key, item.reason))
                    current_position = item.position
                    continue
                item_size = _size(item)
                if current and (len(current) >= limit_records or size + item_size > limit_bytes):
                    # A record follows, so this full batch is not the last one: it goes now.
                    send(current, current_position, final=False)
                    current, size = [], 0
                current.append(item)
                size += item_size
                current_position = item.position
        if mode == FULL and not resumed and summary.read and not summary.sent and not current:
            # Every person rejected (a mapping's code list cut short): the final batch would publish an empty
            # snapshot, and every query would then answer that the office does not know the person.
            examples = "; ".join(f"{key}: {reason}" for key, reason in summary.rejected[:3])
            raise FeedError(
                f"Odrzucono wszystkie przeczytane rekordy ({summary.read}), np. {examples}. Pustej migawki nie "
                "opublikowano: replika pozostaje bez zmian. Popraw źródło albo plik mapowania."
            )
        send(current, current_position, final=True)
        summary.seconds = time.perf_counter() - started
        return summary
