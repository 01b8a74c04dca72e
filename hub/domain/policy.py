"""Scope policy (guideline 3): which categories and legal bases an office's user group may use per data set.

Plain Python over the configuration; knows no SOAP and no SQL. A query asking for anything outside the
caller's scope is refused whole (`NotAllowed` lists every element that was not allowed).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from audit import EventKind, SecurityEvent
from contract import catalog
from contract.errors import Detail, DetailKind, NotAllowed, UnknownCategory, UnknownDataSet, UnknownLegalBasis
from hub.domain.scope import effective_rules
from hub.settings import Config, LegalBasis, Rule


@dataclass(frozen=True)
class Caller:
    """Who asks: the end user, their office and group, and the channel the request came by."""

    login: str
    office: str
    group: str
    channel: str = "SOAP"
    roles: frozenset[str] = frozenset({"UZYTKOWNIK"})
    source: str = ""
    must_change_password: bool = False

    def has_role(self, role: str) -> bool:
        """Whether the caller holds the role (see `contract.catalog.ROLES`)."""
        return role in self.roles

    def refusal(self, what: str, time: dt.datetime | None = None) -> SecurityEvent:
        """The security event recording that this caller was refused `what` (ODMOWA_UPRAWNIEN; guideline 7)."""
        when = time if time is not None else dt.datetime.now(dt.UTC)
        return SecurityEvent(
            when, EventKind.PERMISSION_REFUSED, self.login, self.office, self.login, self.source, False, what
        )


@dataclass(frozen=True)
class ScopeEntry:
    """What a caller may ask of one data set."""

    data_set: str
    categories: tuple[str, ...]
    legal_bases: tuple[str, ...]


class RuleSource(Protocol):
    """Where the current rules come from (the hub database: `hub.domain.rules.RuleStore`); kind-wide rules
    (`*OPS`) are resolved here, per office and data set (`hub.domain.scope.effective_rules`)."""

    def version(self) -> int: ...

    def rules(self) -> tuple[int, dict[tuple[str, str, str], Rule]]: ...


class Policy:
    """Decides, from the rules, whether a request is within the caller's scope.

    With a `RuleSource`, every decision first compares the rules' version (one cheap read), so a change
    made by the administrator applies from the next query on, in every hub process.
    """

    def __init__(self, config: Config, source: RuleSource | None = None) -> None:
        self._config = config
        self._source = source
        self._version = -1
        self._lock = threading.Lock()
        self._static: dict[tuple[str, str, str], Rule] = effective_rules(config, config.rules)

    @property
    def _rules(self) -> dict[tuple[str, str, str], Rule]:
        if self._source is None:
            return self._static
        if self._source.version() != self._version:
            with self._lock:
                version, rules = self._source.rules()
                self._version, self._static = version, effective_rules(self._config, rules.values())
        return self._static

    def legal_bases_for(self, rule: Rule) -> tuple[str, ...]:
        """The legal bases usable under a rule: those listed, else every basis that opens its data set."""
        opening = self._config.bases_opening(rule.data_set)
        if not rule.legal_bases:
            return opening
        return tuple(code for code in rule.legal_bases if code in opening)

    def scope(self, caller: Caller) -> list[ScopeEntry]:
        """The caller's effective scope: what `ListaZbiorow` answers (nothing without the role UZYTKOWNIK)."""
        if not caller.has_role(catalog.END_USER):
            return []
        entries = []
        rules = self._rules
        for data_set in self._config.data_sets:
            rule = rules.get((caller.office, caller.group, data_set.code))
            if rule is None or not rule.categories:
                continue
            entries.append(ScopeEntry(data_set.code, rule.categories, self.legal_bases_for(rule)))
        return entries

    def check(self, caller: Caller, legal_basis: str, requested: Mapping[str, Sequence[str]]) -> LegalBasis:
        """Check a whole request; return the legal basis, or raise naming everything not allowed.

        Unknown codes are reported first (they are the caller's mistake), then every element outside
        the caller's scope, all at once.
        """
        self._check_codes(requested)
        basis = self._config.legal_basis(legal_basis)
        if basis is None:
            raise UnknownLegalBasis(
                f"Podstawa prawna '{legal_basis}' nie występuje w rejestrze podstaw prawnych platformy.",
                details=(Detail.legal_basis(legal_basis),),
            )
        if not caller.has_role(catalog.END_USER):
            # The group's rules are the scope of its end users: an account of another role placed in the group (a
            # template editor, a feeding system, an administrator who moved himself there) got their data.
            raise NotAllowed(
                f"Dane osób otrzymuje tylko użytkownik z rolą {catalog.END_USER}; konto {caller.login} ma role: "
                f"{', '.join(sorted(caller.roles)) or 'żadnej'}. Nie udostępniono żadnych danych.",
                details=(Detail(DetailKind.ROLE, catalog.END_USER),),
            )
        refused: list[Detail] = []
        rules = self._rules
        for data_set, categories in requested.items():
            rule = rules.get((caller.office, caller.group, data_set))
            if rule is None or not rule.categories:
                refused.append(Detail.data_set_code(data_set))
                continue
            refused.extend(Detail.category(data_set, c) for c in categories if c not in rule.categories)
            if legal_basis not in self.legal_bases_for(rule):
                refused.append(Detail.legal_basis(legal_basis, data_set))
        if refused:
            raise NotAllowed(
                "Zapytanie wykracza poza zakres uprawnień Twojej grupy użytkowników; "
                "nie udostępniono żadnych danych. Niedozwolone: " + ", ".join(refused) + ".",
                details=tuple(refused),
            )
        return basis

    def _check_codes(self, requested: Mapping[str, Iterable[str]]) -> None:
        unknown_sets = [code for code in requested if self._config.data_set(code) is None]
        if unknown_sets:
            raise UnknownDataSet(
                "Nieznany zbiór danych: " + ", ".join(unknown_sets) + ".",
                details=tuple(Detail.data_set_code(c) for c in unknown_sets),
            )
        unknown_categories: list[Detail] = []
        for code, categories in requested.items():
            data_set = self._config.data_set(code)
            assert data_set is not None
            kind = catalog.kind(data_set.kind)
            assert kind is not None
            unknown_categories.extend(Detail.category(code, c) for c in categories if kind.category(c) is None)
        if unknown_categories:
            raise UnknownCategory(
                "Nieznana kategoria danych: " + ", ".join(unknown_categories) + ".",
                details=tuple(unknown_categories),
            )
