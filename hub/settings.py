"""The hub's configuration: one TOML file read once at start-up into frozen, typed settings (pydantic v2).

Offices, user groups, demo users, data sets (each a replica URL or a node URL), the registry of legal
bases, the scope rules (guideline 3) and the offices' seals. Relative SQLite URLs and file paths are
resolved against the file's folder. Every mistake is reported at once, one Polish line each, as
`plik:sekcja.pole: what is wrong`; nothing else in the code reads the file again: the objects made here
are passed down.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
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
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError

from contract import catalog
from contract.errors import ConfigurationError, InvalidPesel
from contract.files import FileTooLarge, NotARegularFile, read_bounded
from contract.identifiers import LOGIN_RULE, is_valid_login, validate_pesel
from contract.toml_messages import toml_reason
from replica.sqlite import resolve_sqlite_url, sqlite_file

#: A code (office, group, data set, category…): letters without diacritics, digits and `_ . -`, 1 to 64 of them.
CODE_CHARACTERS, CODE_LENGTH = r"[A-Za-z0-9_.\-]", 64
Code = Annotated[StrictStr, Field(min_length=1, max_length=CODE_LENGTH, pattern=rf"^{CODE_CHARACTERS}+$")]
#: An office's or a data set's code: at most what the published contracts carry (`catalog.UNIT_CODE_LENGTH`).
UnitCode = Annotated[
    StrictStr, Field(min_length=1, max_length=catalog.UNIT_CODE_LENGTH, pattern=rf"^{CODE_CHARACTERS}+$")
]
Text = Annotated[StrictStr, Field(max_length=500)]


def _no_nul(value: str) -> str:
    """A path or URL with a NUL byte names no file (the C library would cut it there): say so in Polish."""
    if "\x00" in value:
        raise ValueError("znak NUL (\\0) w ścieżce lub adresie: usuń go")
    return value


def _login(value: str) -> str:
    if not is_valid_login(value):
        raise ValueError(f"nieprawidłowy login: {LOGIN_RULE}")
    return value


def _pesel(value: str) -> str:
    try:
        return validate_pesel(value)
    except InvalidPesel as error:
        raise ValueError(error.message.rstrip(".")) from None


Url = Annotated[StrictStr, Field(min_length=1, max_length=2000), AfterValidator(_no_nul)]
Seconds = Annotated[StrictInt, Field(ge=0)]
Number = StrictInt | StrictFloat


class _Frozen(BaseModel):
    """Settings are read once and never changed: frozen, and unknown fields are a mistake (a typo)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


TERYT_PATTERN = r"^[0-9]{7}$"
Teryt = Annotated[StrictStr, Field(pattern=TERYT_PATTERN)]
#: A code, or `*KIND` for every office (or data set) of a kind: kind-wide groups, rules and legal bases (issue 16).
Target = Annotated[StrictStr, Field(min_length=1, max_length=65, pattern=r"^\*?[A-Za-z0-9_.\-]+$")]
KIND_MARK = "*"


class Office(_Frozen):
    """An office that is a data controller and whose staff use the platform."""

    code: UnitCode
    name: Text
    kind: Code
    gmina: Teryt | None = None  # the TERC code of the gmina whose unit it is (`[[gminas]]`)


class Group(_Frozen):
    """A group of end users of one office; the unit of scope (guideline 3)."""

    code: Code
    office: Code
    name: Text


class UserEntry(_Frozen):
    """A user imported from the configuration (the demo's users); the hash is argon2id."""

    login: Annotated[StrictStr, AfterValidator(_login)]
    office: Code
    group: Code
    password_hash: Annotated[StrictStr, Field(min_length=1)]
    name: Text = ""
    roles: tuple[Code, ...] = (catalog.END_USER,)
    # The PESEL of a person who signs documents with a qualified signature (serialNumber PNOPL-...): issue 15.
    pesel: Annotated[StrictStr, AfterValidator(_pesel)] | None = None


def _base(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("base", "."))


class DataSet(_Frozen):
    """A data set: its kind, its controller (an office) and where its replica lives."""

    code: UnitCode
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
    """(office, group, data set) -> the categories and legal bases that group may use.

    `office` or `data_set` may be `*KIND`: every office (data set) of that kind; a rule naming the office
    (data set) itself overrides the kind-wide one (`hub.domain.scope.effective_rules`).
    """

    office: Target
    group: Code
    data_set: Target
    categories: tuple[Code, ...]
    legal_bases: tuple[Code, ...] = ()


PKCS11_SCHEME = "pkcs11:"
ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
EnvName = Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=ENV_PATTERN)]


def _key_source(value: str, base: Path) -> str:
    """A key file relative to the configuration's folder, or a `pkcs11:` URI (RFC 7512) as it is."""
    return value if value.startswith(PKCS11_SCHEME) else str((base / value).resolve())


class Seal(_Frozen):
    """An office's electronic seal held by the hub (issue 15, item 4b), with which it seals the certificates
    the office issues: a PKCS#12 or PEM file, or a key in a PKCS#11 token (`pkcs11:` URI).

    `password` is the file's password or the token's PIN; `password_env` names the environment variable
    that holds it instead (read once, when the configuration is loaded). `certificate`: a PEM file with the
    seal's certificate and its chain, for a token that does not hold them. `organization`: the name the seal
    certificate gives its holder (subject O or CN), when it is not the office's configured name; the hub
    refuses to start with a seal whose certificate names another organisation."""

    office: Code
    key: Url
    password: StrictStr | None = Field(default=None, repr=False)
    password_env: EnvName | None = None
    certificate: Url | None = None
    organization: Text | None = None

    @field_validator("key")
    @classmethod
    def _key_file(cls, value: str, info: ValidationInfo) -> str:
        return _key_source(value, _base(info))

    @field_validator("certificate")
    @classmethod
    def _certificate_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else str((_base(info) / value).resolve())


class OfficeSystem(_Frozen):
    """A domain system that authenticates with a TLS client certificate, mapped to its office."""

    name: Text
    office: Code
    subject_cn: Annotated[StrictStr, Field(min_length=1, max_length=200)]


_FILES = (
    "tls_certificate",
    "tls_key",
    "client_ca",
    "client_crl",
    "audit_key",
    "audit_anchors",
    "documents_key",
    "seal_key",
    "signature_trust",
    "signature_crls",
)


class HubSettings(_Frozen):
    """Where the hub keeps its own databases and how it protects itself."""

    name: Text
    database: Url
    audit_database: Url
    listen: Annotated[StrictStr, Field(min_length=1, max_length=255)] = "127.0.0.1"
    port: Annotated[StrictInt, Field(ge=0, le=65535)] = 8080
    public_url: Url | None = None
    max_request_bytes: Annotated[StrictInt, Field(ge=4096, le=1_073_741_824)] = 1_048_576
    #: Entries a report answered over SOAP may hold (XML, CSV): the answer is built in memory, ~8.5 kB an entry.
    report_max_entries: Annotated[StrictInt, Field(ge=1, le=10_000_000)] = 20_000
    #: Entries of a PDF report on any path (weasyprint lays the whole document out in memory, ~0.3 MB an entry).
    report_max_entries_pdf: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = 1_000
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
    # Documents (issue 15): the hub's seal signing receipts (PKCS#12, PEM or a `pkcs11:` URI; its password or
    # PIN in the file or in the environment variable `seal_key_password_env` names), the trust anchors and CRLs
    # against which uploaded qualified signatures are verified (a folder of certificates or a trusted list).
    # The offices' own seals, which seal their certificates, are `[[seals]]`.
    seal_key: Url | None = None
    seal_key_password: StrictStr | None = Field(default=None, repr=False)
    seal_key_password_env: EnvName | None = None
    signature_trust: Url | None = None
    signature_crls: Url | None = None
    # The key of the integrity tags of stored documents and receipts (`hub.storage.integrity`), made on the first
    # start; default `klucze/klucz-dokumentow` beside this file. Back it up with the database.
    documents_key: Url | None = None
    # Rendering of documents (HTML and PDF, `hub.domain.rendering`): each runs in a worker process, killed after
    # `render_timeout_seconds` (a stylesheet can run for ever) and limited to `render_memory_mb` of address space
    # (a worker maps about 380 MB once weasyprint and its fonts are loaded, so less renders nothing);
    # `render_processes` render at once, as many as `threads` may ask for.
    render_timeout_seconds: Annotated[Number, Field(gt=0, le=600)] = 10
    render_memory_mb: Annotated[StrictInt, Field(ge=384, le=65_536)] = 512
    render_processes: Annotated[StrictInt, Field(ge=1, le=64)] = 2
    # A request claimed for acceptance whose certificate is not stored after this long (the process making it
    # died) goes back to ZLOZONY; every hub process looks every few seconds (`Documents.release_abandoned_claims`).
    claim_timeout_seconds: Annotated[Number, Field(gt=0, le=3600)] = 5

    @field_validator("database", "audit_database")
    @classmethod
    def _absolute_url(cls, value: str, info: ValidationInfo) -> str:
        return _with_driver(resolve_sqlite_url(value, _base(info)))

    @field_validator(*_FILES)
    @classmethod
    def _absolute_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.field_name == "seal_key":
            return _key_source(value, _base(info))
        return str((_base(info) / value).resolve())


def _with_driver(url: str) -> str:
    """The hub's own database URL, once its dialect and driver are known to be installed: a missing one was
    found only when the hub opened it, as SQLAlchemy's English (NoSuchModuleError, ModuleNotFoundError)."""
    try:
        make_url(url).get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ValueError(f"nieznany rodzaj bazy danych lub sterownik: {make_url(url).drivername}") from None
    except ImportError as error:
        raise ValueError(
            f"brak sterownika bazy danych {error.name or make_url(url).drivername}: zainstaluj go albo popraw adres"
        ) from None
    return url


#: The default names of a gmina's unit offices, by kind (`[powiat] office_names` overrides them).
UNIT_NAMES = {
    "OPS": "Ośrodek Pomocy Społecznej — gmina {gmina}",
    "SR": "Dział Świadczeń Rodzinnych — gmina {gmina}",
}
Unit = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$", max_length=64)]


class Powiat(_Frozen):
    """The conventions of the powiat's gmina units: where their replicas (or nodes) are, how they are named.

    `{code}` in a pattern is the data set's code (`OPS-0201011`), `{teryt}` the gmina's TERC, `{kind}` the
    data set's kind; a bare path is a SQLite file relative to the configuration's folder.
    """

    name: Text = ""
    replica: Url | None = "replicas/{code}.sqlite"
    node: Url | None = None
    office_names: dict[Code, Text] = Field(default_factory=dict)

    @field_validator("replica", "node")
    @classmethod
    def _url_pattern(cls, value: str | None) -> str | None:
        return None if value is None else _pattern(value, URL_FIELDS)

    @field_validator("office_names")
    @classmethod
    def _name_patterns(cls, value: dict[str, str]) -> dict[str, str]:
        for kind, title in value.items():
            try:
                _pattern(title, NAME_FIELDS)
            except ValueError as error:
                raise ValueError(f"{kind}: {error} (podano {title[:80]!r})") from None
        return value


#: The fields a `[powiat]` (or gmina's) replica or node pattern may name, and an office name's.
URL_FIELDS = ("code", "teryt", "kind")
NAME_FIELDS = ("gmina", "kind")


def _pattern(value: str, fields: tuple[str, ...]) -> str:
    """A pattern of `str.format` naming only `fields` (`{code}`): a typo (`{kod}`, a lone `{`, `{0}`) is the
    configuration's error, named, and not an exception while the gminas are expanded."""
    allowed = ", ".join(f"{{{name}}}" for name in fields)
    try:
        value.format(**{name: name for name in fields})
    except (KeyError, IndexError, ValueError, AttributeError):
        raise ValueError(
            f"wzorzec może zawierać tylko pola {allowed} (nawias klamrowy jako tekst: {{{{ i }}}})"
        ) from None
    return value


class Gmina(_Frozen):
    """A gmina of the powiat (TERYT TERC code, name) and its units: `"OPS"`, `"SR"`, or `"OPS+SR"` for one
    office (the OPS) that controls both data sets (SR inside the OPS)."""

    teryt: Teryt
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    units: tuple[Unit, ...] = ("OPS", "SR")
    replica: Url | None = None  # this gmina's own pattern, else `[powiat]`'s
    node: Url | None = None

    @field_validator("replica", "node")
    @classmethod
    def _url_pattern(cls, value: str | None) -> str | None:
        return None if value is None else _pattern(value, URL_FIELDS)

    def unit_codes(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(office code, office kind, data-set kinds) per unit: `OPS-0201011`, `OPS`, `("OPS", "SR")`."""
        units = []
        for unit in self.units:
            kinds = tuple(unit.split("+"))
            units.append((f"{kinds[0]}-{self.teryt}", kinds[0], kinds))
        return units


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
    seals: tuple[Seal, ...] = ()
    powiat: Powiat = Field(default_factory=Powiat)
    gminas: tuple[Gmina, ...] = ()
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

    def seal(self, office: str) -> Seal | None:
        """The seal the hub holds for an office (`[[seals]]`), if any."""
        return next((seal for seal in self.seals if seal.office == office), None)

    def system(self, subject_cn: str) -> OfficeSystem | None:
        """The office system whose TLS client certificate has this subject common name."""
        for system in self.systems:
            if system.subject_cn == subject_cn:
                return system
        return None

    def legal_basis(self, code: str) -> LegalBasis | None:
        return self._legal_bases.get(code)

    def bases_opening(self, data_set: str) -> tuple[str, ...]:
        """The legal bases that open a data set (guideline 4: a query under another basis gets nothing of it)."""
        return tuple(b.code for b in self.legal_bases if data_set in b.data_sets)

    def gmina(self, teryt: str | None) -> Gmina | None:
        """The gmina with this TERC code, if configured."""
        return next((g for g in self.gminas if g.teryt == teryt), None) if teryt else None

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


def load(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and check a configuration file; raise `ConfigurationError` with every problem in Polish.

    `environ` (the process's environment by default) gives the passwords and PINs named by `*_env` fields."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(_text(path))
    except FileNotFoundError:
        raise ConfigurationError(f"Nie znaleziono pliku konfiguracji: {path}") from None
    except IsADirectoryError:
        raise ConfigurationError(f"{path} jest katalogiem, a nie plikiem konfiguracji.") from None
    except PermissionError:
        raise ConfigurationError(f"Brak uprawnień do odczytu pliku konfiguracji: {path}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"Plik konfiguracji {path} nie jest zapisany w UTF-8.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path.name}: plik nie jest poprawnym TOML: {toml_reason(str(error))}.") from None
    except RecursionError:  # tomllib recurses per nesting level (found by tests/fuzz)
        raise ConfigurationError(f"{path.name}: zbyt głęboko zagnieżdżone tablice lub sekcje TOML.") from None
    return parse(raw, path, environ)


#: A configuration is a few hundred lines (the demo powiat's, 1,000 gminas included, is under 1 MB): more is
#: not a configuration, and reading /dev/zero would never end.
MAX_CONFIG_BYTES = 16 * 1024 * 1024
_BOM = "\ufeff"


def _text(path: Path) -> str:
    """The file's text: a regular file (a FIFO or a device would block or never end), at most
    `MAX_CONFIG_BYTES`, UTF-8 with or without the BOM Windows editors write first."""
    try:
        content = read_bounded(path, MAX_CONFIG_BYTES)
    except NotARegularFile:
        raise ConfigurationError(f"{path} nie jest zwykłym plikiem (urządzenie, potok lub gniazdo).") from None
    except FileTooLarge:
        raise ConfigurationError(
            f"{path.name}: plik jest za duży jak na konfigurację (ponad {MAX_CONFIG_BYTES} B)."
        ) from None
    return content.decode("utf-8").removeprefix(_BOM)


def parse(raw: Mapping[str, Any], path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Build a `Config` from an already-read TOML table: types first, then consistency, all errors at once.

    `[[gminas]]` become offices and data sets, `*KIND` groups one group per office of the kind and `*KIND`
    in a legal basis every data set of the kind (`_expand`); a mistake in what was expanded is reported
    where it was written.
    """
    expanded, origin, problems = _expand(raw, path)
    expanded = _secrets_from_environment(expanded, os.environ if environ is None else environ, path.name, problems)
    try:
        config = Config.model_validate({**expanded, "path": path}, context={"base": path.parent})
    except ValidationError as error:
        lines = [*problems, *_report(error, path, origin=origin).splitlines()]
        raise ConfigurationError("\n".join(dict.fromkeys(lines))) from None
    problems += _duplicates(config, origin) + _check(config) + _check_tls(config.hub, path)
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
    "tuple_type": 'oczekiwano listy w nawiasach kwadratowych, np. ["A", "B"]',
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
    if kind == "string_too_long" and "max_length" in context:
        return f"tekst zbyt długi (najwyżej {context['max_length']} znaków)"
    if kind == "value_error":  # a validator's own Polish sentence (e.g. an unparsable database URL)
        return str(context.get("error", error.get("msg", kind)))
    if kind == "string_pattern_mismatch" and context.get("pattern") == TERYT_PATTERN:
        return "kod TERYT (TERC) gminy to 7 cyfr, np. 0201011"
    if kind == "string_pattern_mismatch" and context.get("pattern") == ENV_PATTERN:
        return "nazwa zmiennej środowiskowej: litery bez znaków diakrytycznych, cyfry i _, np. PIN_PIECZECI_PUP"
    if kind == "literal_error":
        return f"dozwolone wartości: {context.get('expected', '')}"
    return _MESSAGES.get(kind, str(error.get("msg", kind)))


def _shown(value: Any, location: Sequence[int | str] = ()) -> str:
    """The value given, to find it in the file; never a password or PIN, nor the password in a database URL
    (the message goes to the screen and to the service's log)."""
    if isinstance(value, Mapping) or any(str(part).endswith("password") for part in location):
        return ""
    text = _URL_PASSWORD.sub(r"\1***@", repr(value))
    return f" (podano {text[:60]})"


_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


Origin = Mapping[tuple[str, int], tuple[str, int]]


def _report(
    error: ValidationError, path: Path, prefix: tuple[str | int, ...] = (), origin: Origin | None = None
) -> str:
    lines = []
    for problem in error.errors(include_url=False):
        location = prefix + tuple(problem["loc"])
        if origin and len(location) > 1 and (location[0], location[1]) in origin:
            location = origin[(str(location[0]), int(location[1]))] + location[2:]
        # pydantic names the member of a union it tried (`int`, `float`): not part of the file's path
        location = tuple(p for p in location if p not in ("int", "float", "constrained-int", "constrained-float"))
        shown = "" if problem["type"] == "missing" else _shown(problem.get("input"), location)
        lines.append(f"{path.name}:{_where(location, {})}: {_message(problem)}{shown}")
    return "\n".join(dict.fromkeys(lines))


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
        if name in ("audit_key", "audit_anchors", "documents_key") or not value or value.startswith(PKCS11_SCHEME):
            continue
        file = Path(value)
        if not (file.is_file() or (name in ("signature_trust", "signature_crls") and file.is_dir())):
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
    office_kinds: dict[str, set[str]] = {}
    for office in config.offices:
        office_kinds.setdefault(office.kind, set()).add(office.code)
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
    problems.extend(_check_seals(name, config.seals, offices))
    for index, basis in enumerate(config.legal_bases, 1):
        problems.extend(
            f"{name}:legal_bases[{index}].data_sets: nieznany zbiór {code}"
            for code in basis.data_sets
            if code not in data_sets
        )
    for index, rule in enumerate(config.rules, 1):
        problems.extend(_check_rule(f"{name}:rules[{index}]", rule, groups, data_sets, legal_bases, office_kinds))
    return problems


def _duplicates(config: Config, origin: Origin) -> list[str]:
    """Each code once per section: a second office, data set, group, user, system or rule with the same key
    would silently replace the first (the look-ups keep one), so the hub would act on another than written.
    An entry expanded from `[[gminas]]` or a `*KIND` group is named where it was written (`origin`)."""
    sections: tuple[tuple[str, str, Sequence[Any], Any], ...] = (
        ("offices", "code", config.offices, lambda o: o.code),
        ("data_sets", "code", config.data_sets, lambda d: d.code),
        ("groups", "code", config.groups, lambda g: (g.office, g.code)),
        ("users", "login", config.users, lambda u: u.login),
        ("legal_bases", "code", config.legal_bases, lambda b: b.code),
        ("systems", "subject_cn", config.systems, lambda s: s.subject_cn),
        ("rules", "data_set", config.rules, lambda r: (r.office, r.group, r.data_set)),
    )
    problems: list[str] = []
    for section, field_name, entries, key in sections:
        first: dict[Any, int] = {}
        for index, entry in enumerate(entries, 1):
            seen = first.setdefault(key(entry), index)
            if seen != index:
                where, number = origin.get((section, index - 1), (section, index - 1))
                earlier, earlier_number = origin.get((section, seen - 1), (section, seen - 1))
                value = key(entry)
                shown = " / ".join(value) if isinstance(value, tuple) else value
                problems.append(
                    f"{config.path.name}:{where}[{number + 1}].{field_name}: powtórzony wpis "
                    f"{earlier}[{earlier_number + 1}] ({shown})"
                )
    holders: dict[str, str] = {}
    for index, data_set in enumerate(config.data_sets):
        if data_set.replica is None:
            continue
        holder = holders.setdefault(data_set.replica, data_set.code)
        if holder != data_set.code:  # guideline 5: one controller's data, one database
            where, number = origin.get(("data_sets", index), ("data_sets", index))
            problems.append(
                f"{config.path.name}:{where}[{number + 1}].replica: zbiór {data_set.code} ma tę samą bazę repliki "
                f"co zbiór {holder}; każdy zbiór ma własną bazę (wzorzec z {{code}})"
            )
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


def _check_seals(name: str, seals: Sequence[Seal], offices: set[str]) -> list[str]:
    """Each seal belongs to one configured office, and its files can be read (the keys are opened later, by
    the documents service at start: `hub.domain.seals`)."""
    problems: list[str] = []
    seen: set[str] = set()
    for index, seal in enumerate(seals, 1):
        where = f"{name}:seals[{index}]"
        if seal.office not in offices:
            problems.append(f"{where}.office: nieznany urząd {seal.office}")
        elif seal.office in seen:
            problems.append(f"{where}.office: urząd {seal.office} ma już pieczęć w [[seals]]")
        seen.add(seal.office)
        files = [("certificate", seal.certificate)]
        if not seal.key.startswith(PKCS11_SCHEME):
            files.insert(0, ("key", seal.key))
        for field_name, value in files:
            if value is None:
                continue
            if not Path(value).is_file():
                problems.append(f"{where}.{field_name}: nie ma takiego pliku: {value} (pieczęć urzędu {seal.office})")
            elif not os.access(value, os.R_OK):
                problems.append(f"{where}.{field_name}: brak uprawnień do odczytu pliku {value}")
    return problems


def _check_rule(
    where: str,
    rule: Rule,
    groups: set[tuple[str, str]],
    data_sets: Mapping[str, DataSet],
    legal_bases: set[str],
    kinds_of_offices: Mapping[str, set[str]],
) -> list[str]:
    problems: list[str] = []
    if rule.office.startswith(KIND_MARK):
        offices = {office for office, group in groups if office in kinds_of_offices.get(rule.office[1:], ())}
        if not any((office, rule.group) in groups for office in offices):
            problems.append(f"{where}.group: żaden urząd rodzaju {rule.office[1:]} nie ma grupy {rule.group}")
    elif (rule.office, rule.group) not in groups:
        problems.append(f"{where}.group: nieznana grupa {rule.group} urzędu {rule.office}")
    if rule.data_set.startswith(KIND_MARK):
        if not any(d.kind == rule.data_set[1:] for d in data_sets.values()):
            return [*problems, f"{where}.data_set: żaden zbiór nie jest rodzaju {rule.data_set[1:]}"]
        kind = catalog.kind(rule.data_set[1:])
    elif rule.data_set not in data_sets:
        return [*problems, f"{where}.data_set: nieznany zbiór {rule.data_set}"]
    else:
        kind = catalog.kind(data_sets[rule.data_set].kind)
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


# -- the powiat at scale: gminas, kind-wide groups and legal bases (issue 16) -------------------------------------


def _expand(
    raw: Mapping[str, Any], path: Path
) -> tuple[dict[str, Any], dict[tuple[str, int], tuple[str, int]], list[str]]:
    """The raw file with `[[gminas]]` expanded into offices and data sets and `*KIND` groups and legal-basis
    data sets into concrete ones; where each expanded entry was written; the problems found on the way."""
    problems: list[str] = []
    origin: dict[tuple[str, int], tuple[str, int]] = {}
    powiat, gminas = _powiat_and_gminas(raw, path, problems)
    result = dict(raw)
    if "gminas" in raw:
        result["gminas"] = [gmina for _index, gmina in gminas or ()]  # the others are reported already
    offices = _entries(raw, "offices", origin)
    data_sets = _entries(raw, "data_sets", origin)
    for index, gmina in gminas or ():
        _add_gmina(gmina, index, powiat, offices, data_sets, origin, problems, path.name)
    result["offices"], result["data_sets"] = offices, data_sets
    office_kinds = _by_kind(offices)
    data_set_kinds = _by_kind(data_sets, default_to_code=True)
    if isinstance(raw.get("groups"), list):
        result["groups"] = _expand_groups(raw["groups"], office_kinds, origin, problems, path.name)
    if isinstance(raw.get("legal_bases"), list):
        result["legal_bases"] = [
            _expand_basis(basis, index, data_set_kinds, problems, path.name)
            for index, basis in enumerate(raw["legal_bases"], 1)
        ]
    return result, origin, problems


def _powiat_and_gminas(
    raw: Mapping[str, Any], path: Path, problems: list[str]
) -> tuple[Powiat, list[tuple[int, Gmina]] | None]:
    """`[powiat]` and every well-written gmina with its place in the file (the others are reported)."""
    powiat = Powiat()
    try:
        powiat = Powiat.model_validate(raw.get("powiat", {}))
    except ValidationError as error:
        problems.extend(_report(error, path, prefix=("powiat",)).splitlines())
    entries = raw.get("gminas", [])
    if not isinstance(entries, list):
        problems.append(f"{path.name}:gminas: {_MESSAGES['list_type']}")
        return powiat, None
    gminas: list[tuple[int, Gmina]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, 1):
        try:
            gmina = Gmina.model_validate(entry)
        except ValidationError as error:
            problems.extend(_report(error, path, prefix=("gminas", index - 1)).splitlines())
            continue
        if gmina.teryt in seen:
            problems.append(f"{path.name}:gminas[{index}].teryt: gmina {gmina.teryt} podana drugi raz")
            continue
        seen.add(gmina.teryt)
        unknown = [kind for unit in gmina.units for kind in unit.split("+") if catalog.kind(kind) is None]
        problems.extend(f"{path.name}:gminas[{index}].units: nieznany rodzaj zbioru {kind}" for kind in unknown)
        if not unknown:
            gminas.append((index, gmina))
    return powiat, gminas


def _entries(raw: Mapping[str, Any], section: str, origin: dict[tuple[str, int], tuple[str, int]]) -> list[Any]:
    entries = raw.get(section, [])
    if not isinstance(entries, list):
        return entries  # pydantic reports it
    origin.update(((section, i), (section, i)) for i in range(len(entries)))
    return list(entries)


def _unit_url(pattern: str, code: str, gmina: Gmina, kind: str) -> str:
    url = pattern.format(code=code, teryt=gmina.teryt, kind=kind)
    return url if "://" in url else f"sqlite:///{url}"


def _add_gmina(
    gmina: Gmina,
    index: int,
    powiat: Powiat,
    offices: list[Any],
    data_sets: list[Any],
    origin: dict[tuple[str, int], tuple[str, int]],
    problems: list[str],
    name: str,
) -> None:
    """One gmina's units: an office per unit and a data set per kind it controls, coded `KIND-TERYT`."""
    taken_offices = {o.get("code") for o in offices if isinstance(o, Mapping)}
    taken_sets = {d.get("code") for d in data_sets if isinstance(d, Mapping)}
    node = gmina.node or (None if gmina.replica else powiat.node)
    replica = None if node else (gmina.replica or powiat.replica)
    for office, office_kind, kinds in gmina.unit_codes():
        if office in taken_offices:
            problems.append(f"{name}:gminas[{index}].units: urząd {office} jest już w [[offices]]")
            continue
        title = powiat.office_names.get(office_kind) or UNIT_NAMES.get(office_kind, "{kind} — gmina {gmina}")
        origin[("offices", len(offices))] = ("gminas", index - 1)
        office_name = title.format(gmina=gmina.name, kind=office_kind)
        offices.append({"code": office, "kind": office_kind, "gmina": gmina.teryt, "name": office_name})
        for kind in kinds:
            code = f"{kind}-{gmina.teryt}"
            if code in taken_sets:
                problems.append(f"{name}:gminas[{index}].units: zbiór {code} jest już w [[data_sets]]")
                continue
            where = {"node": _unit_url(node, code, gmina, kind)} if node else {}
            if replica:
                where = {"replica": _unit_url(replica, code, gmina, kind)}
            origin[("data_sets", len(data_sets))] = ("gminas", index - 1)
            data_sets.append({"code": code, "kind": kind, "controller": office, **where})


def _secrets_from_environment(
    raw: dict[str, Any], environ: Mapping[str, str], name: str, problems: list[str]
) -> dict[str, Any]:
    """Passwords and PINs named by `[hub] seal_key_password_env` and `[[seals]] password_env`, read from the
    environment once, here, so that a PIN need not be written in the file (nothing else reads the environment).
    """
    result = dict(raw)
    hub = raw.get("hub")
    if isinstance(hub, Mapping):
        result["hub"] = _secret(hub, "seal_key_password", environ, f"{name}:hub", "pieczęć huba", problems)
    seals = raw.get("seals")
    if isinstance(seals, list):
        result["seals"] = [
            _secret(seal, "password", environ, f"{name}:seals[{index}]", _seal_owner(seal), problems)
            if isinstance(seal, Mapping)
            else seal
            for index, seal in enumerate(seals, 1)
        ]
    return result


def _seal_owner(seal: Mapping[str, Any]) -> str:
    return f"pieczęć urzędu {seal.get('office')}" if isinstance(seal.get("office"), str) else "pieczęć"


def _secret(
    table: Mapping[str, Any], field: str, environ: Mapping[str, str], where: str, owner: str, problems: list[str]
) -> Mapping[str, Any]:
    """`table` with `field` read from the environment variable its `<field>_env` names (if it names one)."""
    variable = table.get(f"{field}_env")
    if not isinstance(variable, str) or not re.fullmatch(ENV_PATTERN, variable):
        return table  # absent, or a wrong type or name pydantic reports
    if field in table:
        problems.append(
            f"{where}.{field}_env: podaj hasło w pliku ({field}) albo nazwę zmiennej ({field}_env), nie oba"
        )
        return table
    if variable not in environ:
        # Not a mistake of the file: the seal cannot be opened, which `hub.domain.seals.open_seals` says when it is
        # (the hub at start; an administrator's command only when it seals): a user locked in an emergency needed
        # every office's PIN set.
        return table
    return {**table, field: environ[variable]}


def _by_kind(entries: Sequence[Any], *, default_to_code: bool = False) -> dict[str, list[str]]:
    """Codes of the (raw) offices or data sets, by kind."""
    found: dict[str, list[str]] = {}
    for entry in entries:
        if isinstance(entry, Mapping) and isinstance(entry.get("code"), str):
            kind = entry.get("kind", entry["code"] if default_to_code else None)
            if isinstance(kind, str):
                found.setdefault(kind, []).append(entry["code"])
    return found


def _expand_groups(
    groups: list[Any],
    office_kinds: Mapping[str, list[str]],
    origin: dict[tuple[str, int], tuple[str, int]],
    problems: list[str],
    name: str,
) -> list[Any]:
    """A group written for `office = "*OPS"` becomes that group in every OPS office."""
    result: list[Any] = []
    for index, group in enumerate(groups):
        office = group.get("office") if isinstance(group, Mapping) else None
        if not (isinstance(office, str) and office.startswith(KIND_MARK)):
            origin[("groups", len(result))] = ("groups", index)
            result.append(group)
            continue
        codes = office_kinds.get(office[1:], [])
        if not codes:
            problems.append(f"{name}:groups[{index + 1}].office: żaden urząd nie jest rodzaju {office[1:]}")
        for code in codes:
            origin[("groups", len(result))] = ("groups", index)
            result.append({**group, "office": code})
    return result


def _expand_basis(
    basis: Any, index: int, data_set_kinds: Mapping[str, list[str]], problems: list[str], name: str
) -> Any:
    """`data_sets = ["PUP", "*OPS"]`: the basis opens PUP and every OPS data set."""
    if not isinstance(basis, Mapping) or not isinstance(basis.get("data_sets"), list):
        return basis
    codes: list[Any] = []
    for code in basis["data_sets"]:
        if isinstance(code, str) and code.startswith(KIND_MARK):
            found = data_set_kinds.get(code[1:], [])
            if not found:
                problems.append(f"{name}:legal_bases[{index}].data_sets: żaden zbiór nie jest rodzaju {code[1:]}")
            codes.extend(found)
        else:
            codes.append(code)
    if all(isinstance(code, str) for code in codes):
        codes = list(dict.fromkeys(codes))
    return {**basis, "data_sets": codes}
