"""Disclosure records and the register interface (guideline 6; DESIGN.md, Security and accountability)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


class Outcome(enum.StrEnum):
    """What happened to a request for one data set."""

    DISCLOSED = "UJAWNIENIE"
    REFUSED = "ODMOWA"


@dataclass(frozen=True)
class DisclosureRecord:
    """Who obtained which data about whom, when, why, on which legal basis; or who was refused.

    `identifier` is the identifier the caller gave (e.g. `PESEL:...`); `subject_pesel` is the PESEL of
    the person whose data left the platform, when known, so a per-person report can find every record.
    `digest` is the SHA-256 (hex) of exactly what was sent; empty for refusals.
    """

    time: dt.datetime
    request_id: str
    user: str
    office: str
    channel: str
    identifier: str
    subject_pesel: str | None
    data_set: str
    controller: str
    categories: tuple[str, ...]
    legal_basis: str
    purpose: str
    outcome: Outcome
    digest: str = ""
    reason: str = ""


class EventKind(enum.StrEnum):
    """Security events (guideline 7) and the other events the platform must be able to account for."""

    LOGIN = "LOGOWANIE"
    LOGOUT = "WYLOGOWANIE"
    FAILED_LOGIN = "NIEUDANE_LOGOWANIE"
    PASSWORD_CHANGE = "ZMIANA_HASLA"  # noqa: S105 - an event name
    LOCK = "BLOKADA"
    UNLOCK = "ODBLOKOWANIE"
    PERMISSION_REFUSED = "ODMOWA_UPRAWNIEN"
    USER_CHANGE = "ZMIANA_UZYTKOWNIKA"
    GROUP_CHANGE = "ZMIANA_GRUPY"
    POLICY_CHANGE = "ZMIANA_POLITYKI"
    REPORT = "RAPORT"
    PURGE = "USUNIECIE_ZAPISOW"
    ACCEPTANCE = "PRZYJECIE_STANU_REJESTRU"
    """An operator accepted the audit register's state after investigating a finding (`AuditStore.accept`)."""
    TEMPLATE_CHANGE = "ZMIANA_SZABLONU"
    """A template editor made, imported, changed or activated a version of a document template (guideline 2)."""


@dataclass(frozen=True)
class SecurityEvent:
    """One security event: what happened, to whom, done by whom, from where, with what outcome.

    `user` is the account concerned (for a failed login, the login as typed); `actor` is who did it
    (the user themself, an administrator, or `system` for an automatic lock); `source` is the IP
    address or the calling system.
    """

    time: dt.datetime
    kind: EventKind
    user: str
    office: str
    actor: str
    source: str
    success: bool
    details: str = ""


class EventLog(Protocol):
    """Where security events go; append-only."""

    def record(self, event: SecurityEvent) -> None:
        """Store one event durably."""

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


class DisclosureRegister(Protocol):
    """Where disclosure records go. `append` must be durable before the data leaves the platform."""

    def append(self, records: Sequence[DisclosureRecord]) -> None:
        """Store the records of one request atomically."""

    def records(self, *, request_id: str | None = None, pesel: str | None = None) -> Iterator[DisclosureRecord]:
        """Read records back, optionally only those of one request or one person."""
