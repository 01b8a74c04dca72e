"""Scope at the scale of a powiat (issue 16): kind-wide rules and queries that name a kind of data set.

A rule may name `*KIND` for its office ("every OPS's social workers") or its data set ("every OPS unit's
data set"); `effective_rules` resolves them into one rule per (office, group, data set), the most specific
winning: the office's own rule over its kind's, and for an office the data set's own rule over its kind's.
A query may name a kind instead of codes; `expand_kinds` turns it into the data sets of that kind within
the caller's scope, so a unit outside it is neither asked nor named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from contract import catalog
from contract.errors import Detail, DetailKind, NotAllowed, UnknownCategory, UnknownDataSet
from hub.settings import KIND_MARK, Config, Rule

RuleKey = tuple[str, str, str]


def kind_target(kind: str) -> str:
    """The `*KIND` form naming every office or data set of a kind (`*OPS`)."""
    return KIND_MARK + kind


def _targets(code: str, by_kind: Mapping[str, list[str]]) -> list[str]:
    return by_kind.get(code[1:], []) if code.startswith(KIND_MARK) else [code]


def effective_rules(config: Config, rules: Iterable[Rule]) -> dict[RuleKey, Rule]:
    """One rule per (office, group, data set), kind-wide rules expanded, the most specific one kept."""
    offices: dict[str, list[str]] = {}
    for entry in config.offices:
        offices.setdefault(entry.kind, []).append(entry.code)
    data_sets: dict[str, list[str]] = {}
    for item in config.data_sets:
        data_sets.setdefault(item.kind, []).append(item.code)
    chosen: dict[RuleKey, tuple[int, Rule]] = {}
    for rule in rules:
        # 0: the office's own rule for the data set; 1: the office's, for the kind; 2, 3: the office kind's
        rank = 2 * rule.office.startswith(KIND_MARK) + rule.data_set.startswith(KIND_MARK)
        for office in _targets(rule.office, offices):
            for data_set in _targets(rule.data_set, data_sets):
                key = (office, rule.group, data_set)
                if key in chosen and chosen[key][0] <= rank:
                    continue
                concrete = rule if rank == 0 else rule.model_copy(update={"office": office, "data_set": data_set})
                chosen[key] = (rank, concrete)
    return {key: rule for key, (_rank, rule) in chosen.items()}


@dataclass(frozen=True)
class ScopedDataSet:
    """A data set in a caller's scope as `ListaZbiorow` shows it: grouped by kind and gmina."""

    code: str
    kind: str
    controller: str
    gmina: str | None
    gmina_name: str | None
    categories: tuple[str, ...]
    legal_bases: tuple[str, ...]


def grouped(config: Config, entries: Iterable[tuple[str, tuple[str, ...], tuple[str, ...]]]) -> list[ScopedDataSet]:
    """(code, categories, legal bases) of a scope, described and ordered by kind (the catalog's order), then
    gmina (TERC), then code: the powiat-wide offices first, each gmina's units together."""
    order = {kind.code: index for index, kind in enumerate(catalog.kinds())}
    described = []
    for code, categories, legal_bases in entries:
        data_set = config.data_set(code)
        assert data_set is not None
        office = config.office(data_set.controller)
        gmina = config.gmina(office.gmina)
        described.append(
            ScopedDataSet(
                code,
                data_set.kind,
                office.name,
                office.gmina,
                gmina.name if gmina else None,
                categories,
                legal_bases,
            )
        )
    return sorted(described, key=lambda d: (order.get(d.kind, len(order)), d.kind, d.gmina or "", d.code))


def expand_kinds(
    config: Config,
    in_scope: Sequence[str],
    codes: Mapping[str, Sequence[str]],
    kinds: Mapping[str, Sequence[str]],
) -> dict[str, list[str]]:
    """The data sets a query asks: its codes, then for each kind it names every data set of that kind in the
    caller's scope (`in_scope`, in the configuration's order), with the categories asked of the kind.

    A kind the platform does not know is `UnknownDataSet`; a kind with no data set in the caller's scope is
    `NotAllowed` (both name it `*KIND`); nothing outside the scope is named.
    """
    scope: dict[str, list[str]] = {code: list(categories) for code, categories in codes.items()}
    unknown = [kind for kind in kinds if catalog.kind(kind) is None]
    if unknown:
        raise UnknownDataSet(
            "Nieznany rodzaj zbioru danych: " + ", ".join(unknown) + ".",
            details=tuple(Detail.data_set_code(kind_target(k)) for k in unknown),
        )
    strange = [
        (kind, category)
        for kind, categories in kinds.items()
        for category in categories
        if (known := catalog.kind(kind)) is not None and known.category(category) is None
    ]
    if strange:  # the caller's mistake, said as such before any question of scope
        raise UnknownCategory(
            "Nieznana kategoria danych: "
            + ", ".join(f"{category} (rodzaj {kind})" for kind, category in strange)
            + ".",
            details=tuple(Detail(DetailKind.CATEGORY, category, kind_target(kind)) for kind, category in strange),
        )
    empty: list[str] = []
    for kind, categories in kinds.items():
        members = [code for code in in_scope if (d := config.data_set(code)) is not None and d.kind == kind]
        if not members:
            empty.append(kind)
        for code in members:
            asked = scope.setdefault(code, [])
            asked.extend(c for c in dict.fromkeys(categories) if c not in asked)
    if empty:
        raise NotAllowed(
            "Żaden zbiór rodzaju " + ", ".join(empty) + " nie jest w zakresie uprawnień Twojej grupy użytkowników; "
            "nie udostępniono żadnych danych.",
            details=tuple(Detail.data_set_code(kind_target(k)) for k in empty),
        )
    return scope
