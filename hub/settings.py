"""The hub's configuration: one TOML file read once at start-up into frozen, typed objects.

Offices, user groups, demo users, data sets (each a replica URL or a node URL), the registry of legal
bases and the scope rules (guideline 3). Relative SQLite paths are resolved against the file's folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract import catalog
from contract.errors import ConfigurationError


@dataclass(frozen=True)
class Office:
    """An office that is a data controller and whose staff use the platform."""

    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class Group:
    """A group of end users of one office; the unit of scope (guideline 3)."""

    code: str
    office: str
    name: str


@dataclass(frozen=True)
class UserEntry:
    """A user imported from the configuration (the demo's users); the hash is argon2id."""

    login: str
    office: str
    group: str
    password_hash: str
    name: str = ""
    roles: tuple[str, ...] = ("UZYTKOWNIK",)


@dataclass(frozen=True)
class DataSet:
    """A data set: its kind, its controller (an office) and where its replica lives."""

    code: str
    kind: str
    controller: str
    replica: str | None = None
    node: str | None = None
    writer: str | None = None  # the feed path's account for the replica (SELECT-only `replica` for the hub)


@dataclass(frozen=True)
class LegalBasis:
    """A legal basis in the registry: the provision cited and the data sets it opens."""

    code: str
    name: str
    citation: str
    data_sets: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """(office, group, data set) -> the categories and legal bases that group may use."""

    office: str
    group: str
    data_set: str
    categories: tuple[str, ...]
    legal_bases: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfficeSystem:
    """A domain system that authenticates with a TLS client certificate, mapped to its office."""

    name: str
    office: str
    subject_cn: str


@dataclass(frozen=True)
class HubSettings:
    """Where the hub keeps its own databases and how it protects itself."""

    name: str
    database: str
    audit_database: str
    listen: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    max_request_bytes: int = 1_048_576
    credential_cache_seconds: int = 60
    threads: int = 2
    workers: int = 1
    max_failed_logins: int = 5
    lock_minutes: int = 0
    min_password_length: int = 12
    min_password_score: int = 3
    tls_certificate: str | None = None
    tls_key: str | None = None
    client_ca: str | None = None
    audit_key: str | None = None
    audit_checkpoint_every: int = 1000
    audit_checkpoint_minutes: float = 10.0
    audit_retention_days: int | None = None
    audit_synchronous: str = "NORMAL"


@dataclass(frozen=True)
class Config:
    """The whole configuration, validated for internal consistency."""

    path: Path
    hub: HubSettings
    offices: tuple[Office, ...]
    groups: tuple[Group, ...]
    users: tuple[UserEntry, ...]
    data_sets: tuple[DataSet, ...]
    legal_bases: tuple[LegalBasis, ...]
    rules: tuple[Rule, ...]
    systems: tuple[OfficeSystem, ...] = ()
    _index: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def office(self, code: str) -> Office:
        return self._index["offices"][code]

    def data_set(self, code: str) -> DataSet | None:
        return self._index["data_sets"].get(code)

    def system(self, subject_cn: str) -> OfficeSystem | None:
        """The office system whose TLS client certificate has this subject common name."""
        for system in self.systems:
            if system.subject_cn == subject_cn:
                return system
        return None

    def legal_basis(self, code: str) -> LegalBasis | None:
        return self._index["legal_bases"].get(code)


def _resolve_url(url: str, base: Path) -> str:
    """Make a relative SQLite path absolute, relative to the configuration file's folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def _require(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ConfigurationError(f"W konfiguracji brakuje pola '{key}' w sekcji {where}.")
    return table[key]


def load(path: str | Path) -> Config:
    """Read and check a configuration file; raise `ConfigurationError` with a Polish message."""
    path = Path(path).resolve()
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigurationError(f"Nie znaleziono pliku konfiguracji: {path}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"Plik konfiguracji {path} nie jest poprawnym TOML: {error}") from error
    return parse(raw, path)


def parse(raw: dict[str, Any], path: Path) -> Config:
    """Build a `Config` from an already-read TOML table."""
    base = path.parent
    hub_raw = dict(_require(raw, "hub", "głównej"))
    for key in ("database", "audit_database"):
        hub_raw[key] = _resolve_url(_require(hub_raw, key, "[hub]"), base)
    for key in ("tls_certificate", "tls_key", "client_ca", "audit_key"):
        if hub_raw.get(key):
            hub_raw[key] = str((base / hub_raw[key]).resolve())
    known = set(HubSettings.__dataclass_fields__)
    unknown = set(hub_raw) - known
    if unknown:
        raise ConfigurationError(f"Nieznane pola w sekcji [hub]: {', '.join(sorted(unknown))}.")
    hub = HubSettings(**hub_raw)

    offices = tuple(Office(o["code"], o["name"], o["kind"]) for o in raw.get("offices", []))
    groups = tuple(Group(g["code"], g["office"], g["name"]) for g in raw.get("groups", []))
    users = tuple(
        UserEntry(
            u["login"],
            u["office"],
            u["group"],
            u["password_hash"],
            u.get("name", ""),
            tuple(u.get("roles", ("UZYTKOWNIK",))),
        )
        for u in raw.get("users", [])
    )
    data_sets = tuple(
        DataSet(
            d["code"],
            d.get("kind", d["code"]),
            d["controller"],
            _resolve_url(d["replica"], base) if "replica" in d else None,
            d.get("node"),
            _resolve_url(d["writer"], base) if "writer" in d else None,
        )
        for d in raw.get("data_sets", [])
    )
    legal_bases = tuple(
        LegalBasis(b["code"], b.get("name", b["code"]), b["citation"], tuple(b["data_sets"]))
        for b in raw.get("legal_bases", [])
    )
    rules = tuple(
        Rule(r["office"], r["group"], r["data_set"], tuple(r["categories"]), tuple(r.get("legal_bases", ())))
        for r in raw.get("rules", [])
    )
    systems = tuple(OfficeSystem(s["name"], s["office"], s["subject_cn"]) for s in raw.get("systems", []))
    config = Config(path, hub, offices, groups, users, data_sets, legal_bases, rules, systems)
    _check(config)
    return config


def _check(config: Config) -> None:
    offices = {o.code: o for o in config.offices}
    groups = {(g.office, g.code) for g in config.groups}
    data_sets = {d.code: d for d in config.data_sets}
    legal_bases = {b.code: b for b in config.legal_bases}
    problems: list[str] = []
    for data_set in config.data_sets:
        kind = catalog.kind(data_set.kind)
        if kind is None:
            problems.append(f"zbiór {data_set.code}: nieznany rodzaj {data_set.kind}")
        if data_set.controller not in offices:
            problems.append(f"zbiór {data_set.code}: nieznany administrator {data_set.controller}")
        if (data_set.replica is None) == (data_set.node is None):
            problems.append(f"zbiór {data_set.code}: podaj dokładnie jedno z 'replica' albo 'node'")
    for system in config.systems:
        if system.office not in offices:
            problems.append(f"system {system.name}: nieznany urząd {system.office}")
    for group in config.groups:
        if group.office not in offices:
            problems.append(f"grupa {group.code}: nieznany urząd {group.office}")
    for user in config.users:
        if (user.office, user.group) not in groups:
            problems.append(f"użytkownik {user.login}: nieznana grupa {user.group} urzędu {user.office}")
    for user in config.users:
        for role in user.roles:
            if role not in catalog.ROLES:
                problems.append(f"użytkownik {user.login}: nieznana rola {role}")
    for basis in config.legal_bases:
        for code in basis.data_sets:
            if code not in data_sets:
                problems.append(f"podstawa prawna {basis.code}: nieznany zbiór {code}")
    for rule in config.rules:
        where = f"reguła ({rule.office}, {rule.group}, {rule.data_set})"
        if (rule.office, rule.group) not in groups:
            problems.append(f"{where}: nieznana grupa")
        rule_data_set = data_sets.get(rule.data_set)
        if rule_data_set is None:
            problems.append(f"{where}: nieznany zbiór")
            continue
        kind = catalog.kind(rule_data_set.kind)
        for category in rule.categories:
            if kind is not None and kind.category(category) is None:
                problems.append(f"{where}: nieznana kategoria {category}")
        for code in rule.legal_bases:
            if code not in legal_bases:
                problems.append(f"{where}: nieznana podstawa prawna {code}")
    if problems:
        raise ConfigurationError("Konfiguracja jest niespójna: " + "; ".join(problems) + ".")
    config._index.update(offices=offices, data_sets=data_sets, legal_bases=legal_bases)
