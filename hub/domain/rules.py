"""Scope rules in the hub database, managed by the platform administrator (guideline 3).

A rule's office or data set may be `*KIND` (every OPS, every OPS unit's data set): stored as written, one
row and one security event however many offices it covers, and resolved by the policy (`hub.domain.scope`).

The configuration seeds them at the first start; afterwards `platforma policy …` changes them, each change
a security event. A version number lets every hub process see a change at its next query.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from audit import EventKind, EventLog, SecurityEvent
from contract import catalog
from contract.catalog import PLATFORM_ADMIN
from contract.errors import InvalidRequest, NotAllowed
from hub.domain.policy import Caller
from hub.settings import KIND_MARK, Config, Rule
from hub.storage.changes import ChangeWatch
from hub.storage.tables import GroupRow, PolicyVersion, RuleRow

log = logging.getLogger(__name__)

_VERSION = select(PolicyVersion.version).where(PolicyVersion.id == 1)


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(",") if v)


@dataclass
class RuleStore:
    """Reads and changes the rules; remembers the version it last read."""

    engine: Engine
    config: Config
    events: EventLog
    _watch: ChangeWatch | None = None

    def version(self) -> int:
        """The current version of the rules: remembered per thread while the hub database stands still."""
        token = self.watch.token()
        remembered = self.watch.remembered("policy")
        if token is not None and isinstance(remembered, tuple) and remembered[0] == token:
            return int(remembered[1])
        with self.engine.connect() as connection:
            version = int(connection.scalar(_VERSION) or 0)
        if token is not None:
            self.watch.remember("policy", (token, version))
        return version

    @property
    def watch(self) -> ChangeWatch:
        if self._watch is None:
            self._watch = ChangeWatch(str(self.engine.url))
        return self._watch

    def rules(self) -> tuple[int, dict[tuple[str, str, str], Rule]]:
        """The version and all rules, read in one transaction."""
        with Session(self.engine) as session:
            version = int(session.scalar(select(PolicyVersion.version).where(PolicyVersion.id == 1)) or 0)
            rows = session.scalars(select(RuleRow)).all()
            return version, {
                (r.office, r.group, r.data_set): Rule.model_construct(
                    office=r.office,
                    group=r.group,
                    data_set=r.data_set,
                    categories=_split(r.categories),
                    legal_bases=_split(r.legal_bases),
                )
                for r in rows
            }

    def seed(self, rules: Iterable[Rule]) -> int:
        """At the first start, copy the configuration's rules into the database; later starts keep the database's."""
        with Session(self.engine) as session, session.begin():
            if session.get(PolicyVersion, 1) is not None:
                rows = session.scalars(select(RuleRow))
                stored = {(r.office, r.group, r.data_set): (r.categories, r.legal_bases) for r in rows}
                written = {
                    (r.office, r.group, r.data_set): (",".join(r.categories), ",".join(r.legal_bases)) for r in rules
                }
                differing = sorted(k for k in stored.keys() | written.keys() if stored.get(k) != written.get(k))
                if differing:
                    # A rule added to the file after the first start was silently not applied.
                    log.warning(
                        "reguły zakresu w pliku konfiguracji różnią się od reguł w bazie huba (%d, np. %s); "
                        "obowiązują reguły z bazy: zmieniaj je poleceniem platforma policy",
                        len(differing),
                        " / ".join(differing[0]),
                    )
                return 0
            count = 0
            for rule in rules:
                session.add(
                    RuleRow(
                        office=rule.office,
                        group=rule.group,
                        data_set=rule.data_set,
                        categories=",".join(rule.categories),
                        legal_bases=",".join(rule.legal_bases),
                    )
                )
                count += 1
            session.add(PolicyVersion(id=1, version=1))
            return count

    def _check_admin(self, actor: Caller, what: str) -> None:
        if not actor.has_role(PLATFORM_ADMIN):
            self.events.record(actor.refusal(what, _now()))
            raise NotAllowed(f"Brak uprawnień: {what} (wymaga roli {PLATFORM_ADMIN}).", details=(what,))

    def set_rule(
        self,
        actor: Caller,
        office: str,
        group: str,
        data_set: str,
        categories: Sequence[str],
        legal_bases: Sequence[str] = (),
    ) -> None:
        """Create or replace the rule for (office, group, data set); a security event."""
        what = f"zmiana reguły ({office}, {group}, {data_set})"
        self._check_admin(actor, what)
        kind = self._kind_of(data_set)
        unknown = [c for c in categories if kind.category(c) is None]
        if unknown:
            raise InvalidRequest(f"Nieznane kategorie zbioru {data_set}: {', '.join(unknown)}.")
        bad_bases = [b for b in legal_bases if self.config.legal_basis(b) is None]
        if bad_bases:
            raise InvalidRequest(f"Nieznane podstawy prawne: {', '.join(bad_bases)}.")
        targets = (
            [d.code for d in self.config.data_sets if d.kind == data_set[1:]]
            if data_set.startswith(KIND_MARK)
            else [data_set]
        )
        opening = tuple(dict.fromkeys(b for target in targets for b in self.config.bases_opening(target)))
        closed = [b for b in legal_bases if b not in opening]
        if closed:
            # Saved, such a rule replaced a wider one and gave nothing: every query of the data set was refused.
            raise InvalidRequest(
                f"Podstawa prawna {', '.join(closed)} nie otwiera zbioru {data_set} (rejestr podstaw prawnych: "
                f"otwierają go {', '.join(opening) or 'żadne'}); reguła z nią nie dałaby dostępu do zbioru."
            )
        with Session(self.engine) as session, session.begin():
            self._bump(session)  # first: changes of the rules one at a time, each reading the one before it
            self._check_group(session, office, group)
            row = session.get(RuleRow, (office, group, data_set))
            before = "brak" if row is None else f"{row.categories} / {row.legal_bases or '*'}"
            if row is None:
                row = RuleRow(office=office, group=group, data_set=data_set)
                session.add(row)
            row.categories, row.legal_bases = ",".join(categories), ",".join(legal_bases)
            session.flush()  # a write that fails does so before its event is recorded
            self.events.record(
                SecurityEvent(
                    _now(),
                    EventKind.POLICY_CHANGE,
                    actor.login,
                    actor.office,
                    actor.login,
                    actor.source,
                    True,
                    f"{what}: {before} → {row.categories} / {row.legal_bases or '*'}",
                )
            )

    def remove_rule(self, actor: Caller, office: str, group: str, data_set: str) -> None:
        """Remove a rule: the group loses access to the data set; a security event."""
        what = f"usunięcie reguły ({office}, {group}, {data_set})"
        self._check_admin(actor, what)
        with Session(self.engine) as session, session.begin():
            self._bump(session)  # first, as in `set_rule`: of two removals the second finds no rule
            row = session.get(RuleRow, (office, group, data_set))
            if row is None:
                raise InvalidRequest(f"Nie ma reguły ({office}, {group}, {data_set}).")
            session.delete(row)
            session.flush()
            self.events.record(
                SecurityEvent(
                    _now(), EventKind.POLICY_CHANGE, actor.login, actor.office, actor.login, actor.source, True, what
                )
            )

    def _kind_of(self, data_set: str) -> catalog.DataSetKind:
        """The kind of a rule's data set: a configured code, or `*KIND` when some data set is of that kind."""
        if data_set.startswith(KIND_MARK):
            code = data_set[1:]
            if any(d.kind == code for d in self.config.data_sets) and (kind := catalog.kind(code)) is not None:
                return kind
            raise InvalidRequest(f"Żaden zbiór nie jest rodzaju {code}.")
        target = self.config.data_set(data_set)
        if target is None:
            raise InvalidRequest(f"Nieznany zbiór {data_set}.")
        found = catalog.kind(target.kind)
        assert found is not None
        return found

    def _check_group(self, session: Session, office: str, group: str) -> None:
        """The group exists in the office, or for `*KIND` in at least one office of the kind."""
        if office.startswith(KIND_MARK):
            offices = [o.code for o in self.config.offices if o.kind == office[1:]]
            if not any(session.get(GroupRow, (code, group)) is not None for code in offices):
                raise InvalidRequest(f"Żaden urząd rodzaju {office[1:]} nie ma grupy {group}.")
        elif session.get(GroupRow, (office, group)) is None:
            raise InvalidRequest(f"Urząd {office} nie ma grupy {group}.")

    @staticmethod
    def _bump(session: Session) -> None:
        """Move the rules' version on: the transaction's first write, so it holds the lock of the version row (the
        database's write lock in SQLite) from then on. Concurrent changes wait for it, and their reads see its
        result: two `policy set` of one rule recorded histories that did not chain, a set racing a removal was a
        StaleDataError (exit 3), and two removals of one rule were both recorded."""
        session.execute(update(PolicyVersion).where(PolicyVersion.id == 1).values(version=PolicyVersion.version + 1))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
