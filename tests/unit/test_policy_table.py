"""The scope policy as one table: who may ask which data set for what, on which legal basis, and what is refused.

No I/O: the configuration is built in memory (`hub.settings.parse`; its paths are never opened) and every
data set is a remote node, so nothing is resolved to a file. Each row runs twice: with the rules of the
configuration, and with the same rules served by an in-memory `RuleSource` (the hub database's port).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contract.errors import NotAllowed, PlatformError, UnknownCategory, UnknownDataSet, UnknownLegalBasis
from hub import settings
from hub.domain.policy import Caller, Policy, ScopeEntry
from hub.settings import Config, Rule

RAW: dict[str, Any] = {
    "hub": {"name": "Hub testowy", "database": "sqlite:///hub.sqlite", "audit_database": "sqlite:///audit.sqlite"},
    "offices": [
        {"code": "PUP", "name": "Powiatowy Urząd Pracy", "kind": "PUP"},
        {"code": "OPS", "name": "Ośrodek Pomocy Społecznej", "kind": "OPS"},
        {"code": "SR", "name": "Dział Świadczeń Rodzinnych", "kind": "SR"},
    ],
    "groups": [
        {"code": "PRACOWNICY_SOCJALNI", "office": "OPS", "name": "Pracownicy socjalni"},
        {"code": "RECEPCJA", "office": "OPS", "name": "Recepcja"},
        {"code": "POSREDNICY", "office": "PUP", "name": "Pośrednicy pracy"},
        # The same group code in another office: scope belongs to (office, group), never to the code alone.
        {"code": "PRACOWNICY_SOCJALNI", "office": "SR", "name": "Pracownicy SR"},
    ],
    "data_sets": [
        {"code": "PUP", "controller": "PUP", "node": "https://pup.example.invalid/wezel"},
        {"code": "OPS", "controller": "OPS", "node": "https://ops.example.invalid/wezel"},
        {"code": "SR", "controller": "SR", "node": "https://sr.example.invalid/wezel"},
    ],
    "legal_bases": [
        {"code": "UPS_ART_105", "citation": "art. 105 ustawy o pomocy społecznej", "data_sets": ["PUP", "SR"]},
        {"code": "USR_ART_23", "citation": "art. 23 ustawy o świadczeniach rodzinnych", "data_sets": ["SR"]},
        {"code": "URP_ART_40", "citation": "art. 40 ustawy o rynku pracy", "data_sets": ["PUP", "OPS"]},
    ],
    "rules": [
        # Lists a basis that does not open PUP (USR_ART_23): it must not become usable for PUP.
        {
            "office": "OPS",
            "group": "PRACOWNICY_SOCJALNI",
            "data_set": "PUP",
            "categories": ["DANE_OSOBOWE", "OKRESY_REJESTRACJI", "POBRANE_ZASILKI"],
            "legal_bases": ["UPS_ART_105", "USR_ART_23"],
        },
        # No list of bases: every basis that opens SR.
        {
            "office": "OPS",
            "group": "PRACOWNICY_SOCJALNI",
            "data_set": "SR",
            "categories": ["DANE_OSOBOWE", "DANE_DZIECI", "PRZYZNANE_SWIADCZENIA"],
        },
        # A rule without categories gives no access at all.
        {"office": "OPS", "group": "PRACOWNICY_SOCJALNI", "data_set": "OPS", "categories": []},
        {"office": "OPS", "group": "RECEPCJA", "data_set": "PUP", "categories": ["DANE_OSOBOWE"]},
        {
            "office": "PUP",
            "group": "POSREDNICY",
            "data_set": "OPS",
            "categories": ["DANE_OSOBOWE", "SWIADCZENIA"],
            "legal_bases": ["URP_ART_40"],
        },
    ],
}

SOCIAL_WORKER = Caller("ops.kowalska", "OPS", "PRACOWNICY_SOCJALNI")
RECEPTION = Caller("ops.nowak", "OPS", "RECEPCJA")
JOB_BROKER = Caller("pup.wisniewski", "PUP", "POSREDNICY")
SR_WORKER_SAME_GROUP_CODE = Caller("sr.zielinska", "SR", "PRACOWNICY_SOCJALNI")

PUP_OF_SOCIAL_WORKER = ScopeEntry("PUP", ("DANE_OSOBOWE", "OKRESY_REJESTRACJI", "POBRANE_ZASILKI"), ("UPS_ART_105",))
SR_OF_SOCIAL_WORKER = ScopeEntry(
    "SR", ("DANE_OSOBOWE", "DANE_DZIECI", "PRZYZNANE_SWIADCZENIA"), ("UPS_ART_105", "USR_ART_23")
)
PUP_OF_RECEPTION = ScopeEntry("PUP", ("DANE_OSOBOWE",), ("UPS_ART_105", "URP_ART_40"))
OPS_OF_JOB_BROKER = ScopeEntry("OPS", ("DANE_OSOBOWE", "SWIADCZENIA"), ("URP_ART_40",))

#: Every caller's whole effective scope (what `ListaZbiorow` answers), in the configuration's order.
SCOPES: dict[Caller, list[ScopeEntry]] = {
    SOCIAL_WORKER: [PUP_OF_SOCIAL_WORKER, SR_OF_SOCIAL_WORKER],
    RECEPTION: [PUP_OF_RECEPTION],
    JOB_BROKER: [OPS_OF_JOB_BROKER],
    SR_WORKER_SAME_GROUP_CODE: [],
}


@dataclass(frozen=True)
class Allowed:
    """The request passes: `check` returns this legal basis."""

    legal_basis: str


@dataclass(frozen=True)
class Refused:
    """The request is refused whole: exactly this exception class, code and details."""

    error: type[PlatformError]
    code: str
    details: tuple[str, ...]


CASES = [
    # -- allowed ---------------------------------------------------------------------------------------------
    pytest.param(
        SOCIAL_WORKER,
        "UPS_ART_105",
        {"PUP": ["DANE_OSOBOWE", "OKRESY_REJESTRACJI", "POBRANE_ZASILKI"]},
        Allowed("UPS_ART_105"),
        id="a social worker asking PUP for exactly the group's categories on the basis it lists is allowed",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "UPS_ART_105",
        {"PUP": ["POBRANE_ZASILKI"]},
        Allowed("UPS_ART_105"),
        id="asking for a subset of the group's categories is allowed",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "USR_ART_23",
        {"SR": ["DANE_DZIECI", "DANE_OSOBOWE"]},
        Allowed("USR_ART_23"),
        id="a rule without legal bases allows every basis that opens the data set, in any category order",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "UPS_ART_105",
        {"PUP": ["DANE_OSOBOWE"], "SR": ["PRZYZNANE_SWIADCZENIA"]},
        Allowed("UPS_ART_105"),
        id="two data sets on one basis that opens both are allowed together",
    ),
    pytest.param(
        RECEPTION,
        "URP_ART_40",
        {"PUP": ["DANE_OSOBOWE"]},
        Allowed("URP_ART_40"),
        id="reception may ask PUP for personal data on any basis that opens PUP",
    ),
    pytest.param(
        JOB_BROKER,
        "URP_ART_40",
        {"OPS": ["SWIADCZENIA", "DANE_OSOBOWE"]},
        Allowed("URP_ART_40"),
        id="a job broker asking OPS for benefits on the labour-market basis is allowed",
    ),
    # -- refused: outside the group's scope (NotAllowed) ----------------------------------------------------------
    pytest.param(
        SOCIAL_WORKER,
        "UPS_ART_105",
        {"PUP": ["DANE_OSOBOWE", "HISTORIA_ZATRUDNIENIA", "WIZYTY"]},
        Refused(NotAllowed, "BRAK_UPRAWNIEN", ("PUP:HISTORIA_ZATRUDNIENIA", "PUP:WIZYTY")),
        id="categories outside the group's scope are refused and exactly those codes are named",
    ),
    pytest.param(
        RECEPTION,
        "UPS_ART_105",
        {"PUP": ["OKRESY_REJESTRACJI"]},
        Refused(NotAllowed, "BRAK_UPRAWNIEN", ("PUP:OKRESY_REJESTRACJI",)),
        id="a category another group of the same office may see is refused to reception",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "URP_ART_40",
        {"PUP": ["DANE_OSOBOWE"]},
        Refused(NotAllowed, "BRAK_UPRAWNIEN", ("PODSTAWA_PRAWNA:URP_ART_40@PUP",)),
        id="a basis that opens the data set but is not listed for the group is refused",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "URP_ART_40",
        {"SR": ["DANE_OSOBOWE"]},
        Refused(NotAllowed, "BRAK_UPRAWNIEN", ("PODSTAWA_PRAWNA:URP_ART_40@SR",)),
        id="a basis that does not open the data set is refused even when the rule lists no bases",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "USR_ART_23",
        {"PUP": ["DANE_OSOBOWE"]},
        Refused(NotAllowed, "BRAK_UPRAWNIEN", ("PODSTAWA_PRAWNA:USR_ART_23@PUP",)),
        id="a basis listed in the rule but not opening that data set is refused",
    ),
    pytest.param(
        SR_WORKER_SAME_GROUP_CODE,
        "UPS_ART_105",
        {"PUP": ["DANE_OSOBOWE"]},
        Refused(NotAllowed, "BRAK_UPRAWNIEN", ("ZBIOR:PUP",)),
        id="another office's group with the same code gets nothing of the first office's scope",
    ),
    pytest.param(
        RECEPTION,
        "UPS_ART_105",
        {"SR": ["DANE_OSOBOWE"]},
        Refused(NotAllowed, "BRAK_UPRAWNIEN", ("ZBIOR:SR",)),
        id="a group with no rule for the data set is refused the whole data set",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "URP_ART_40",
        {"OPS": ["DANE_OSOBOWE"]},
        Refused(NotAllowed, "BRAK_UPRAWNIEN", ("ZBIOR:OPS",)),
        id="a rule with no categories gives no access to the data set",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "UPS_ART_105",
        {"PUP": ["DANE_OSOBOWE"], "SR": ["DANE_DZIECI", "WYPLACONE_SWIADCZENIA"]},
        Refused(NotAllowed, "BRAK_UPRAWNIEN", ("SR:WYPLACONE_SWIADCZENIA",)),
        id="several data sets with one category refused refuse the whole query naming only that category",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "URP_ART_40",
        {"PUP": ["DANE_OSOBOWE", "WIZYTY"], "SR": ["DANE_OSOBOWE"], "OPS": ["SWIADCZENIA"]},
        Refused(
            NotAllowed,
            "BRAK_UPRAWNIEN",
            ("PUP:WIZYTY", "PODSTAWA_PRAWNA:URP_ART_40@PUP", "PODSTAWA_PRAWNA:URP_ART_40@SR", "ZBIOR:OPS"),
        ),
        id="every refused element of every data set is named at once in the order asked",
    ),
    # -- refused: codes the platform does not know ----------------------------------------------------------------
    pytest.param(
        SOCIAL_WORKER,
        "UPS_ART_105",
        {"ZUS": ["DANE_OSOBOWE"], "PUP": ["DANE_OSOBOWE"]},
        Refused(UnknownDataSet, "NIEZNANY_ZBIOR", ("ZBIOR:ZUS",)),
        id="an unknown data set is reported as unknown and not as outside the scope",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "KODEKS_NIEISTNIEJACY",
        {"ZUS": ["DANE_OSOBOWE"]},
        Refused(UnknownDataSet, "NIEZNANY_ZBIOR", ("ZBIOR:ZUS",)),
        id="an unknown data set is reported before an unknown legal basis",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "UPS_ART_105",
        {"PUP": ["DANE_OSOBOWE", "NIE_MA_TAKIEJ"]},
        Refused(UnknownCategory, "NIEZNANA_KATEGORIA", ("PUP:NIE_MA_TAKIEJ",)),
        id="an unknown category is reported as unknown with its data set",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "UPS_ART_105",
        {"PUP": ["DANE_DZIECI"], "SR": ["DANE_DZIECI"]},
        Refused(UnknownCategory, "NIEZNANA_KATEGORIA", ("PUP:DANE_DZIECI",)),
        id="a category of another kind of data set is unknown in this one",
    ),
    pytest.param(
        RECEPTION,
        "UPS_ART_105",
        {"SR": ["WYPLACONE_SWIADCZENIA", "ZLE"]},
        Refused(UnknownCategory, "NIEZNANA_KATEGORIA", ("SR:ZLE",)),
        id="an unknown category is reported before the group's missing rule",
    ),
    pytest.param(
        SOCIAL_WORKER,
        "KODEKS_NIEISTNIEJACY",
        {"PUP": ["DANE_OSOBOWE"]},
        Refused(UnknownLegalBasis, "NIEZNANA_PODSTAWA_PRAWNA", ("PODSTAWA_PRAWNA:KODEKS_NIEISTNIEJACY",)),
        id="an unknown legal basis is reported as unknown",
    ),
    pytest.param(
        RECEPTION,
        "KODEKS_NIEISTNIEJACY",
        {"SR": ["DANE_DZIECI"]},
        Refused(UnknownLegalBasis, "NIEZNANA_PODSTAWA_PRAWNA", ("PODSTAWA_PRAWNA:KODEKS_NIEISTNIEJACY",)),
        id="an unknown legal basis is reported before anything outside the scope",
    ),
]


class InMemoryRules:
    """A `RuleSource` (the port `hub.domain.rules.RuleStore` implements) holding the rules in a dict."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._version = 1
        self._rules = {(r.office, r.group, r.data_set): r for r in rules}
        self.version_reads = 0

    def version(self) -> int:
        self.version_reads += 1
        return self._version

    def rules(self) -> tuple[int, dict[tuple[str, str, str], Rule]]:
        return self._version, dict(self._rules)


@pytest.fixture(scope="module")
def config() -> Config:
    return settings.parse(RAW, Path("/tmp/x/platforma.toml"))


@pytest.fixture(params=["rules from the configuration", "rules from a rule source"])
def policy(request: pytest.FixtureRequest, config: Config) -> Policy:
    if request.param == "rules from the configuration":
        return Policy(config)
    # The source's rules replace the configuration's: a configuration without rules proves they are used.
    return Policy(config.model_copy(update={"rules": ()}), InMemoryRules(config.rules))


@pytest.mark.parametrize(("caller", "legal_basis", "requested", "expected"), CASES)
def test_policy_table(
    policy: Policy,
    config: Config,
    caller: Caller,
    legal_basis: str,
    requested: Mapping[str, Sequence[str]],
    expected: Allowed | Refused,
) -> None:
    if isinstance(expected, Allowed):
        basis = policy.check(caller, legal_basis, requested)
        assert basis == config.legal_basis(expected.legal_basis)
        scope = policy.scope(caller)
        assert scope == SCOPES[caller]
        by_data_set = {entry.data_set: entry for entry in scope}
        for data_set, categories in requested.items():
            assert set(categories) <= set(by_data_set[data_set].categories)
            assert legal_basis in by_data_set[data_set].legal_bases
        return
    with pytest.raises(PlatformError) as caught:
        policy.check(caller, legal_basis, requested)
    assert type(caught.value) is expected.error
    assert caught.value.code == expected.code
    assert caught.value.details == expected.details
    if expected.error is NotAllowed:  # the message a clerk reads names every refused element too
        assert all(detail in caught.value.message for detail in expected.details)


def test_the_table_covers_every_kind_of_answer() -> None:
    """At least 15 rows, and allowed rows as well as each kind of refusal."""
    outcomes: list[Allowed | Refused] = [case.values[3] for case in CASES]  # type: ignore[misc]
    assert len(CASES) >= 15
    kinds = {Allowed if isinstance(o, Allowed) else o.error for o in outcomes}
    assert kinds == {Allowed, NotAllowed, UnknownDataSet, UnknownCategory, UnknownLegalBasis}
    ids = [case.id for case in CASES]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("caller", list(SCOPES), ids=lambda c: f"{c.office}/{c.group}")
def test_every_callers_effective_scope(policy: Policy, caller: Caller) -> None:
    assert policy.scope(caller) == SCOPES[caller]


def test_a_rule_source_change_applies_from_the_next_check(config: Config) -> None:
    source = InMemoryRules(config.rules)
    policy = Policy(config.model_copy(update={"rules": ()}), source)
    assert policy.check(RECEPTION, "UPS_ART_105", {"PUP": ["DANE_OSOBOWE"]}).code == "UPS_ART_105"
    source._rules = {}
    source._version = 2
    with pytest.raises(NotAllowed) as caught:
        policy.check(RECEPTION, "UPS_ART_105", {"PUP": ["DANE_OSOBOWE"]})
    assert caught.value.details == ("ZBIOR:PUP",)
    assert policy.scope(RECEPTION) == []
