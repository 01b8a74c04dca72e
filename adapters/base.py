"""The adapter interface (guideline 4): a feeding module reads one kind of domain system and yields the
records of its data set in the common XML model, in full or changed since a watermark.

An adapter knows nothing of the hub: it produces `ModelRecord`s (identifiers and the sections of the
common model as exclusive-C14N bytes, ready to store or to send) and `SourceRejection`s (a source row
that cannot be expressed in the model, with its source key). Records come in key order, each with its
position, so a run can stop after any record and resume after it (`Watermark`).
"""

from __future__ import annotations

import abc
import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from contract.catalog import FEED_NS, MODEL_NS
from replica.sections import pack_sections

__all__ = [
    "FEED_NS",
    "MODEL_NS",
    "Adapter",
    "AdapterError",
    "ModelRecord",
    "SourceRejection",
    "SourceUnavailable",
    "Watermark",
]


class AdapterError(Exception):
    """Base of the adapters' errors: a stable `code` and a Polish `message` for the operator."""

    code = "BLAD_ADAPTERA"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SourceUnavailable(AdapterError):
    """The domain database cannot be reached or read (gone, refused, corrupted) during a run."""

    code = "ZRODLO_NIEDOSTEPNE"


class MappingError(AdapterError):
    """The mapping file names a table, column or code the adapter does not know, or is not valid TOML."""

    code = "BLAD_MAPOWANIA"


class RowProblem(Exception):
    """A source value that the common model cannot carry (an impossible date, an unknown code)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ModelRecord(NamedTuple):
    """One person of the data set in the common model, as the replica stores it.

    `sections` are (element name, exclusive-C14N bytes) in model order: a tuple of pairs, or the same
    packed (`replica.sections.PackedSections`, as the shipped adapters give them: cheaper to pass between
    processes and stored as they are; a reader process packs a tuple); a deleted record has none.
    `position` is the source's ordering key, used for watermarks. A named tuple rather than a dataclass:
    records cross from the reader process to the writer by pickle, where a tuple costs half as much.
    """

    source_key: str
    position: str
    deleted: bool
    data_element: str
    pesel: str | None = None
    surname: str = ""
    first_name: str = ""
    birth_date: dt.date | None = None
    document_kind: str | None = None
    document_number: str | None = None
    sections: Sequence[tuple[str, bytes]] = ()

    def to_xml(self) -> bytes:
        """The `Rekord` element (feed namespace as the default, declared by the enclosing `Paczka`)."""
        key = escape(self.source_key).encode()
        if self.deleted:
            return b"<Rekord><IdZrodlowy>" + key + b"</IdZrodlowy><Usuniety>true</Usuniety></Rekord>"
        tag = self.data_element.encode()
        body = pack_sections(self.sections)[1]
        return b"<Rekord><IdZrodlowy>" + key + b"</IdZrodlowy><" + tag + b">" + body + b"</" + tag + b"></Rekord>"


@dataclass(frozen=True, slots=True)
class SourceRejection:
    """A source person that cannot be sent, with the reason (Polish); the run goes on without them."""

    source_key: str
    position: str
    reason: str


Item = ModelRecord | SourceRejection


@dataclass(frozen=True)
class Watermark:
    """How far a run got: the change window (`since`, `until`] and the last position sent in it.

    A full run has no `since`; its `until` is the source's high-water mark when it started, so the next
    incremental run starts there. `position` is None once the run is complete. `source` names the source
    the run reads (`Adapter.source_identity`): a position means something only in that source, so a run
    from another one is never resumed (`Feeder.plan`).
    """

    full: bool
    until: dt.datetime | None
    since: dt.datetime | None = None
    position: str | None = None
    source: str | None = None

    @property
    def complete(self) -> bool:
        """Whether the run that wrote this watermark finished."""
        return self.position is None

    def at(self, position: str | None) -> Watermark:
        """The same run, advanced to `position` (None: finished)."""
        return Watermark(self.full, self.until, self.since, position, self.source)

    def encode(self) -> str:
        """A compact text form, stored by the replica with the batch that reached it (`v2` names the source;
        `v1`, without it, is what feeders wrote before and what a source without an identity still writes)."""
        kind = "P" if self.full else "I"
        parts = ["v2", kind, "zr=" + self.source] if self.source else ["v1", kind]
        parts.append("od=" + (self.since.isoformat() if self.since else ""))
        parts.append("do=" + (self.until.isoformat() if self.until else ""))
        if self.position is not None:
            parts.append("po=" + self.position)
        return ";".join(parts)

    @classmethod
    def decode(cls, text: str | None) -> Watermark | None:
        """The watermark of `encode`, or None for an empty or foreign text."""
        if not text or not text.startswith(("v1;", "v2;")):
            return None
        # The position is last and may hold any character: the fields before it are split off, never it.
        fields = text.split(";", 4 if text.startswith("v1;") else 5)
        values = dict(f.split("=", 1) for f in fields[2:] if "=" in f)

        def stamp(value: str | None) -> dt.datetime | None:
            return dt.datetime.fromisoformat(value) if value else None

        full, until, since = fields[1] == "P", stamp(values.get("do")), stamp(values.get("od"))
        return cls(full, until, since, values.get("po"), values.get("zr") or None)


class Adapter(abc.ABC):
    """An adapter for one kind of domain system; found through the `platforma.adapters` entry points."""

    #: Entry-point name, e.g. "pup".
    name: ClassVar[str]
    #: Data set kind code of the hub's catalog (PUP, OPS, SR, or a plug-in kind).
    kind: ClassVar[str]
    #: The `Dane*` element of the feed record that carries the sections.
    data_element: ClassVar[str]
    #: Whether `full` and `changes` take `share=(i, n)`: only source batches i, i + n, ... are built, so
    #: n reader processes can share a run (the feeder takes their batches in turn).
    shares_reading: ClassVar[bool] = False

    def source_identity(self) -> str | None:
        """What names the source this adapter reads, as it reads it (database, mapping), in a short text without
        secrets; None when the adapter cannot tell (a run of it is then resumed by any feeder of its kind)."""
        return None

    @abc.abstractmethod
    def high_water(self) -> dt.datetime | None:
        """The latest modification time in the source now (the `until` of a run that starts now)."""

    @abc.abstractmethod
    def full(self, after: str | None = None, batch_size: int = 1000) -> Iterator[Sequence[Item]]:
        """Every person of the data set in key order, in batches, starting after position `after`."""

    @abc.abstractmethod
    def changes(
        self,
        since: dt.datetime | None,
        until: dt.datetime | None,
        after: str | None = None,
        batch_size: int = 1000,
    ) -> Iterator[Sequence[Item]]:
        """People changed, added, deleted or removed from the register in (since, until], in key order."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the source's connections."""


#: Characters XML 1.0 does not allow (section 2.2, `Char`), and lone surrogates (text that was not valid
#: UTF-8 at the source): a section holding one is no XML, and the hub refuses the whole batch that carries it.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    """Escape character data as exclusive C14N writes it (&, <, >, CR); a character XML does not allow is a
    `RowProblem` (the person is rejected, not the batch)."""
    if NOT_XML.search(text) is not None:
        raise RowProblem("tekst zawiera znak niedozwolony w XML (znak sterujący, np. NUL)")
    return escape_checked(text)


def escape_checked(text: str) -> str:
    """`escape` of text already searched for characters XML does not allow (`adapters.xmlout` does, to name
    the field): the search is not made twice."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#xD;")
    return text
