"""In-memory stand-ins for the core's ports (as in "Architecture Patterns with Python", ch. 3 and 5).

`InMemoryReplicaReader` answers the calls `hub.domain.query.QueryEngine` makes of a
`replica.database.ReplicaReader` (`lookup`, `sections`, `dispose`) from a dict of people, and counts them;
`ListDisclosureRegister` is a `audit.DisclosureRegister` that appends to a list. Neither opens a file or
a socket. `engine_with` builds a `QueryEngine` over them (see its note on the constructor).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import OperationalError

from audit import DisclosureRecord
from contract import catalog
from contract.identifiers import Identifier, normalise_name
from hub.domain.policy import Policy
from hub.domain.query import QueryEngine
from hub.settings import Config

M = catalog.MODEL_NS


def section(element: str, **fields: str) -> bytes:
    """One section of the common model as a replica stores it: exclusive-C14N bytes, `m:` prefixed.

    Written by hand in canonical form (namespace on the section, no whitespace, no self-closing tags),
    so a test can compare what the engine sends with these very bytes.
    """
    body = "".join(f"<m:{name}>{value}</m:{name}>" for name, value in fields.items())
    return f'<m:{element} xmlns:m="{M}">{body}</m:{element}>'.encode()


@dataclass
class StoredPerson:
    """A person as a replica holds them: the identifiers a query may use and their sections by element."""

    pesel: str | None
    surname: str
    first_name: str
    birth_date: dt.date
    sections: dict[str, bytes]
    document_kind: str | None = None
    document_number: str | None = None

    def matches(self, identifier: Identifier) -> bool:
        """The matching `ReplicaReader.find` does: PESEL, else document, else normalised name and birth date."""
        if identifier.pesel:
            return self.pesel == identifier.pesel
        if identifier.document_number:
            return (self.document_kind, self.document_number) == (identifier.document_kind, identifier.document_number)
        return (
            normalise_name(self.surname) == normalise_name(identifier.surname or "")
            and normalise_name(self.first_name) == normalise_name(identifier.first_name or "")
            and self.birth_date == identifier.birth_date
        )


@dataclass
class InMemoryReplicaReader:
    """A replica reader over a dict {person id: StoredPerson}; records every call in `calls`."""

    people: dict[int, StoredPerson] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    disposed: bool = False

    def lookup(self, identifier: Identifier, elements: Sequence[str]) -> tuple[list[int], dict[str, bytes]]:
        """The ids the identifier matches (at most two, as the real one's `LIMIT 2`) and, when exactly one,
        their asked sections in stored order; nobody's sections when ambiguous."""
        self.calls.append(("lookup", (identifier, tuple(elements))))
        found = [pid for pid, person in sorted(self.people.items()) if person.matches(identifier)][:2]
        if len(found) != 1:
            return found, {}
        return found, self._sections(found[0], elements)

    def sections(self, person_id: int, elements: Sequence[str]) -> dict[str, bytes]:
        """One person's stored sections among `elements`; absent ones left out."""
        self.calls.append(("sections", (person_id, tuple(elements))))
        return self._sections(person_id, elements)

    def _sections(self, person_id: int, elements: Sequence[str]) -> dict[str, bytes]:
        person = self.people.get(person_id)
        if person is None:
            return {}
        return {name: body for name, body in person.sections.items() if name in elements}

    def dispose(self) -> None:
        self.disposed = True


@dataclass
class UnavailableReplicaReader:
    """A replica that does not answer: every read raises the error the real reader raises (SQLAlchemy's)."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    disposed: bool = False

    def lookup(self, identifier: Identifier, elements: Sequence[str]) -> tuple[list[int], dict[str, bytes]]:
        self.calls.append(("lookup", (identifier, tuple(elements))))
        raise OperationalError("SELECT ...", {}, ConnectionError("replika nie odpowiada"))

    def sections(self, person_id: int, elements: Sequence[str]) -> dict[str, bytes]:
        self.calls.append(("sections", (person_id, tuple(elements))))
        raise OperationalError("SELECT ...", {}, ConnectionError("replika nie odpowiada"))

    def dispose(self) -> None:
        self.disposed = True


@dataclass
class ListDisclosureRegister:
    """A disclosure register backed by a list; `batches` keeps each `append` (one request's records) apart."""

    batches: list[list[DisclosureRecord]] = field(default_factory=list)

    @property
    def all(self) -> list[DisclosureRecord]:
        return [record for batch in self.batches for record in batch]

    def append(self, records: Sequence[DisclosureRecord]) -> None:
        self.batches.append(list(records))

    def records(self, *, request_id: str | None = None, pesel: str | None = None) -> Iterator[DisclosureRecord]:
        for record in self.all:
            if request_id is not None and record.request_id != request_id:
                continue
            if pesel is not None and record.subject_pesel != pesel:
                continue
            yield record


def engine_with(
    config: Config,
    register: ListDisclosureRegister,
    readers: Mapping[str, Any],
    policy: Policy | None = None,
) -> QueryEngine:
    """A `QueryEngine` reading `readers` instead of replicas opened from URLs.

    `QueryEngine.__init__` builds a `ReplicaReader(url)` for every data set with a `replica`; the test
    configurations give every data set a `node` instead (so none is built, nothing is opened), and the
    fakes are put in `replicas` afterwards. With a `replicas` parameter on the constructor this would be
    `QueryEngine(config, register, policy, replicas=readers)`.
    """
    engine = QueryEngine(config, register, policy)
    assert engine.replicas == {}, "the test configuration must not name replica URLs"
    engine.replicas = dict(readers)
    return engine
