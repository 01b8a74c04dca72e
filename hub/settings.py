"""The hub's configuration: one TOML file read once at start-up into frozen, typed settings (pydantic v2).

Offices, user groups, demo users, data sets (each a replica URL or a node URL), the registry of legal
bases and the scope rules (guideline 3). Relative SQLite URLs and file paths are resolved against the
file's folder. Every mistake is reported at once, one Polish line each, as `plik:sekcja.pole: what is
wrong`; nothing else in the code reads the file again: the objects made here are passed down.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contract import catalog
from contract.errors import ConfigurationError
from replica.sqlite import resolve_sqlite_url, sqlite_file

Code = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Text = Annotated[StrictStr, Field(max_length=500)]
Url = Annotated[StrictStr, Field(min_length=1, max_length=2000)]
Seconds = Annotated[StrictInt, Field(ge=0)]
Number = StrictInt | StrictFloat


class _Frozen(BaseModel):
    """Settings are read once and never changed: frozen, and unknown fields are a mistake (a typo)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Office(_Frozen):
    """An office that is a data controller and whose staff use the platform."""

    code: Code
    name: Text
    kind: Code


class Group(_Frozen):
    """A group of end users of one office; the unit of scope (guideline 3)."""

    code: Code
    office: Code
    name: Text


class UserEntry(_Frozen):
    """A user imported from the configuration (the demo's users); the hash is argon2id."""

    login: Annotated[StrictStr, Field(min_length=1, max_length=120)]
    office: Code
    group: Code
    password_hash: Annotated[StrictStr, Field(min_length=1)]
    name: Text = ""
    roles: tuple[Code, ...] = (catalog.END_USER,)


def _base(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("base", "."))


class DataSet(_Frozen):
    """A data set: its kind, its controller (an office) and where its replica lives."""

    code: Code
    kind: Code
    controller: Code
    replica: Url | None = None
    node: Url | None = None
    writer: Url | None = None  # the feed path's account for the replica (SELECT-only `replica` for the hub)

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults_to_code(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping) and "kind" not in raw and "code" in raw:
            return {**raw, "kind": raw["code"]}
        return raw

    @field_validator("replica", "writer")
    @classmethod
    def _absolute(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else resolve_sqlite_url(value, _base(info))

    @property
    def writer_url(self) -> str | None:
        """The URL the feed path writes this replica with: `writer`, or the SQLite replica file itself.

        The hub's own replica URL is a SELECT-only account on PostgreSQL (DESIGN.md, Security), so a server
        database needs its `writer` (the feeder's role) in the same `[[data_sets]]` entry.
        """
        if self.writer:
            return self.writer
        if self.replica and sqlite_file(self.replica) is not None:
            return self.replica
        return None


class LegalBasis(_Frozen):
    """A legal basis in the registry: the provision cited and the data sets it opens."""

    code: Code
    name: Text
    citation: Text
    data_sets: tuple[Code, ...]

    @model_validator(mode="before")
    @classmethod
    def _name_defaults_to_code(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping) and "name" not in raw and "code" in raw:
            return {**raw, "name": raw["code"]}
        return raw


class Rule(_Frozen):
    """(office, group, data set) -> the categories and legal bases that group may use."""

    office: Code
    group: Code
    data_set: Code
    categories: tuple[Code, ...]
    legal_bases: tuple[Code, ...] = ()


class OfficeSystem(_Frozen):
    """A domain system that authenticates with a TLS client certificate, mapped to its office."""

    name: Text
    office: Code
    subject_cn: Annotated[StrictStr, Field(min_length=1, max_length=200)]


_FILES = ("tls_certificate", "tls_key", "client_ca", "client_crl", "audit_key", "audit_anchors")


class HubSettings(_Frozen):
    """Where the hub keeps its own databases and how it protects itself."""

    name: Text
    database: Url
    audit_database: Url
    listen: Annotated[StrictStr, Field(min_length=1, max_length=255)] = "127.0.0.1"
    port: Annotated[StrictInt, Field(ge=0, le=65535)] = 8080
    public_url: Url | None = None
    max_request_bytes: Annotated[StrictInt, Field(ge=4096, le=1_073_741_824)] = 1_048_576
    credential_cache_seconds: Seconds = 60
    threads: Annotated[StrictInt, Field(ge=1, le=256)] = 2
    workers: Annotated[StrictInt, Field(ge=1, le=64)] = 1
    max_failed_logins: Annotated[StrictInt, Field(ge=1, le=100)] = 5
    lock_minutes: Seconds = 0
    min_password_length: Annotated[StrictInt, Field(ge=8, le=256)] = 12
    min_password_score: Annotated[StrictInt, Field(ge=0, le=4)] = 3
    tls_certificate: Url | None = None
    tls_key: Url | None = None
    client_ca: Url | None = None
    client_crl: Url | None = None
    audit_key: Url | None = None
    audit_anchors: Url | None = None  # heads of signed checkpoints, outside the register (default: beside the key)
    audit_checkpoint_every: Annotated[StrictInt, Field(ge=1)] = 1000
    audit_checkpoint_minutes: Annotated[Number, Field(gt=0)] = 10.0
    audit_retention_days: Annotated[StrictInt, Field(ge=1)] | None = None
    audit_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "NORMAL"
    replay_window_seconds: Annotated[StrictInt, Field(ge=1, le=86_400)] = 300

    @field_validator("database", "audit_database")
    @classmethod
    def _absolute_url(cls, value: str, info: ValidationInfo) -> str:
        return resolve_sqlite_url(value, _base(info))

    @field_validator(*_FILES)
    @classmethod
    def _absolute_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else str((_base(info) / value).resolve())


class Config(_Frozen):
    """The whole configuration, validated for internal consistency."""

    path: Path
    hub: HubSettings
    offices: tuple[Office, ...] = ()
    groups: tuple[Group, ...] = ()
    users: tuple[UserEntry, ...] = ()
    data_sets: tuple[DataSet, ...] = ()
    legal_bases: tuple[LegalBasis, ...] = ()
    rules: tuple[Rule, ...] = ()
    systems: tuple[OfficeSystem, ...] = ()
    _offices: dict[str, Office] = PrivateAttr(default_factory=dict)
    _data_sets: dict[str, DataSet] = PrivateAttr(default_factory=dict)
    _legal_bases: dict[str, LegalBasis] = PrivateAttr(default_factory=dict)

    def model_post_init(self, _context: Any) -> None:
        self._offices.update((o.code, o) for o in self.offices)
        self._data_sets.update((d.code, d) for d in self.data_sets)
        self._legal_bases.update((b.code, b) for b in self.legal_bases)

    def office(self, code: str) -> Office:
        return self._offices[code]

    def has_office(self, code: str) -> bool:
        """Whether an office with this code is configured."""
        return code in self._offices

    def data_set(self, code: str) -> DataSet | None:
        return self._data_sets.get(code)

    def system(self, subject_cn: str) -> OfficeSystem | None:
        """The office system whose TLS client certificate has this subject common name."""
        for system in self.systems:
            if system.subject_cn == subject_cn:
                return system
        return None

    def legal_basis(self, code: str) -> LegalBasis | None:
        return self._legal_bases.get(code)

    def with_hub(self, **changes: Any) -> Config:
        """The same configuration with some `[hub]` settings changed (command-line options), checked again."""
        raw = self.hub.model_dump(exclude_none=True) | {k: v for k, v in changes.items() if v is not None}
        try:
            hub = HubSettings.model_validate(raw, context={"base": Path.cwd()})
        except ValidationError as error:
            raise ConfigurationError(_report(error, self.path, prefix=("hub",))) from None
        problems = _check_tls(hub, self.path)
        if problems:
            raise ConfigurationError("\n".join(problems))
        return self.model_copy(update={"hub": hub})


# -- loading -----------------------------------------------------------------------------------------------------


def load(path: str | Path) -> Config:
    """Read and check a configuration file; raise `ConfigurationError` with every problem in Polish."""
    path = Path(path).resolve()
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(f"Nie znaleziono pliku konfiguracji: {path}") from None
    except IsADirectoryError:
        raise ConfigurationError(f"{path} jest katalogiem, a nie plikiem konfiguracji.") from None
    except PermissionError:
        raise ConfigurationError(f"Brak uprawnień do odczytu pliku konfiguracji: {path}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"Plik konfiguracji {path} nie jest zapisany w UTF-8.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path.name}: plik nie jest poprawnym TOML ({error}).") from None
    except RecursionError:  # tomllib recurses per nesting level (found by tests/fuzz)
        raise ConfigurationError(f"{path.name}: zbyt głęboko zagnieżdżone tablice lub sekcje TOML.") from None
    return parse(raw, path)


def parse(raw: Mapping[str, Any], path: Path) -> Config:
    """Build a `Config` from an already-read TOML table: types first, then consistency, all errors at once."""
    try:
        config = Config.model_validate({**raw, "path": path}, context={"base": path.parent})
    except ValidationError as error:
        raise ConfigurationError(_report(error, path)) from None
    problems = _check(config) + _check_tls(config.hub, path)
    if problems:
        raise ConfigurationError("\n".join(problems))
    return config


_MESSAGES = {
    "missing": "brak wymaganego pola",
    "extra_forbidden": "nieznane pole (literówka?)",
    "int_type": "oczekiwano liczby całkowitej",
    "int_parsing": "oczekiwano liczby całkowitej",
    "int_from_float": "oczekiwano liczby całkowitej",
    "float_type": "oczekiwano liczby",
    "float_parsing": "oczekiwano liczby",
    "string_type": "oczekiwano tekstu w cudzysłowie",
    "bool_type": "oczekiwano wartości logicznej (true albo false)",
    "tuple_type": "oczekiwano listy w nawiasach kwadratowych, np. [\"A\", \"B\"]",
    "list_type": "oczekiwano listy w nawiasach kwadratowych",
    "model_type": "oczekiwano sekcji (tabeli TOML)",
    "model_attributes_type": "oczekiwano sekcji (tabeli TOML)",
    "dict_type": "oczekiwano sekcji (tabeli TOML)",
    "string_too_short": "pusty tekst",
    "string_too_long": "tekst zbyt długi",
    "string_pattern_mismatch": "dozwolone są tylko litery bez znaków diakrytycznych, cyfry, _ . -",
}


def _where(location: Sequence[int | str], groups: Mapping[str, Any]) -> str:
    """`hub.port`, `data_sets[2].kind`: a TOML path a person finds in the file (arrays counted from 1)."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}
        limit = next(iter(context.values()), "")
        return f"wartość musi być {bounds[kind]} {limit}"
    if kind == "value_error":  # a validator's own Polish sentence (e.g. an unparsable database URL)
        return str(context.get("error", error.get("msg", kind)))
    if kind == "literal_error":
        return f"dozwolone wartości: {context.get('expected', '')}"
    return _MESSAGES.get(kind, str(error.get("msg", kind)))


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return ""
    text = repr(value)
    return f" (podano {text[:60]})"


def _report(error: ValidationError, path: Path, prefix: tuple[str, ...] = ()) -> str:
    lines = []
    for problem in error.errors(include_url=False):
        location = prefix + tuple(problem["loc"])
        # pydantic names the member of a union it tried (`int`, `float`): not part of the file's path
        location = tuple(p for p in location if p not in ("int", "float", "constrained-int", "constrained-float"))
        shown = "" if problem["type"] == "missing" else _shown(problem.get("input"))
        lines.append(f"{path.name}:{_where(location, {})}: {_message(problem)}{shown}")
    return "\n".join(lines)


def _check_tls(hub: HubSettings, path: Path) -> list[str]:
    """The TLS options go together, and their files must be readable before the hub listens."""
    problems: list[str] = []
    where = f"{path.name}:hub"
    if bool(hub.tls_certificate) != bool(hub.tls_key):
        problems.append(f"{where}.tls_key: certyfikat TLS i klucz prywatny podaje się razem (tls_certificate, tls_key)")
    if hub.client_ca and not hub.tls_certificate:
        problems.append(f"{where}.client_ca: uwierzytelnianie certyfikatem klienta wymaga TLS (tls_certificate)")
    if hub.client_crl and not hub.client_ca:
        problems.append(f"{where}.client_crl: lista CRL wymaga certyfikatów CA klientów (client_ca)")
    for name in _FILES:
        value = getattr(hub, name)
        if name in ("audit_key", "audit_anchors") or not value:
            continue
        file = Path(value)
        if not file.is_file():
            problems.append(f"{where}.{name}: nie ma takiego pliku: {file}")
        elif not os.access(file, os.R_OK):
            problems.append(f"{where}.{name}: brak uprawnień do odczytu pliku {file}")
    return problems


def _check(config: Config) -> list[str]:
    """Cross-references between sections: every code named must be configured."""
    name = config.path.name
    offices = {o.code for o in config.offices}
    groups = {(g.office, g.code) for g in config.groups}
    data_sets = {d.code: d for d in config.data_sets}
    legal_bases = {b.code for b in config.legal_bases}
    problems: list[str] = []
    for index, data_set in enumerate(config.data_sets, 1):
        where = f"{name}:data_sets[{index}]"
        if catalog.kind(data_set.kind) is None:
            known = ", ".join(k.code for k in catalog.kinds())
            problems.append(f"{where}.kind: nieznany rodzaj zbioru {data_set.kind} (znane: {known})")
        if data_set.controller not in offices:
            problems.append(f"{where}.controller: nieznany urząd {data_set.controller}")
        if (data_set.replica is None) == (data_set.node is None):
            problems.append(f"{where}: podaj dokładnie jedno z pól replica albo node")
    for index, system in enumerate(config.systems, 1):
        if system.office not in offices:
            problems.append(f"{name}:systems[{index}].office: nieznany urząd {system.office}")
    for index, group in enumerate(config.groups, 1):
        if group.office not in offices:
            problems.append(f"{name}:groups[{index}].office: nieznany urząd {group.office}")
    problems.extend(_check_users(name, config.users, groups))
    for index, basis in enumerate(config.legal_bases, 1):
        problems.extend(
            f"{name}:legal_bases[{index}].data_sets: nieznany zbiór {code}"
            for code in basis.data_sets
            if code not in data_sets
        )
    for index, rule in enumerate(config.rules, 1):
        problems.extend(_check_rule(f"{name}:rules[{index}]", rule, groups, data_sets, legal_bases))
    return problems


def _check_users(name: str, users: Sequence[UserEntry], groups: set[tuple[str, str]]) -> list[str]:
    problems: list[str] = []
    for index, user in enumerate(users, 1):
        if (user.office, user.group) not in groups:
            problems.append(f"{name}:users[{index}].group: nieznana grupa {user.group} urzędu {user.office}")
        problems.extend(
            f"{name}:users[{index}].roles: nieznana rola {role}" for role in user.roles if role not in catalog.ROLES
        )
    return problems


def _check_rule(
    where: str, rule: Rule, groups: set[tuple[str, str]], data_sets: Mapping[str, DataSet], legal_bases: set[str]
) -> list[str]:
    problems: list[str] = []
    if (rule.office, rule.group) not in groups:
        problems.append(f"{where}.group: nieznana grupa {rule.group} urzędu {rule.office}")
    data_set = data_sets.get(rule.data_set)
    if data_set is None:
        return [*problems, f"{where}.data_set: nieznany zbiór {rule.data_set}"]
    kind = catalog.kind(data_set.kind)
    if kind is not None:
        problems.extend(
            f"{where}.categories: nieznana kategoria {category} zbioru {rule.data_set}"
            for category in rule.categories
            if kind.category(category) is None
        )
    problems.extend(
        f"{where}.legal_bases: nieznana podstawa prawna {code}" for code in rule.legal_bases if code not in legal_bases
    )
    return problems
