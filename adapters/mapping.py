"""Mapping files: how an adapter's reference schema is named in a real database, without code changes.

A mapping is TOML. Every adapter ships `mapping.toml` for its reference schema (physical names equal to
the logical ones, every table and column listed); a deployment copies it, changes the right-hand sides
to its real table and column names, and the code translations to its real dictionary codes, and passes
it with `--mapping`. Only the entries given are overridden; an unknown table, column or code list is an
error, so a typo cannot go unnoticed.

    [source]
    schema = "SYRIUSZ"        # owner of the tables (PostgreSQL schema, Oracle user); empty = default
    key_prefix = "SYR-"       # source key sent to the hub = prefix + person key

    [tables.osoba]
    name = "OSOBY"
    columns = { id_osoby = "ID_OSOBY", nazwisko = "NAZWISKO" }

    [codes.plec]              # source code -> common-model value
    K = "K"
    M = "M"
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.base import MappingError, RowProblem
from contract.files import read_bounded, why_unreadable
from contract.logs import redact
from contract.toml_messages import toml_reason


@dataclass(frozen=True)
class Mapping:
    """Physical names of the logical tables and columns, the source's schema and the code translations."""

    schema: str | None
    key_prefix: str
    tables: dict[str, str]
    columns: dict[str, dict[str, str]]
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def table(self, logical: str) -> str:
        """The physical name of a logical table."""
        return self.tables.get(logical, logical)

    def column(self, table: str, logical: str) -> str:
        """The physical name of a logical column."""
        return self.columns.get(table, {}).get(logical, logical)

    def code(self, name: str, value: Any, what: str) -> str:
        """The common-model value of a source code; an unknown code is a `RowProblem`."""
        key = "" if value is None else str(value).strip()
        try:
            return self.codes[name][key]
        except KeyError:
            # A code is no personal data, but a PESEL typed into the column would be: shown redacted.
            raise RowProblem(f"nieznany kod w słowniku {name}: {what} = {redact(key[:40]) or '(pusty)'}") from None

    def optional_code(self, name: str, value: Any, what: str) -> str | None:
        """As `code`, but an empty source value gives None."""
        if value is None or str(value).strip() == "":
            return None
        return self.code(name, value, what)


#: A mapping is a page of TOML; more is not a mapping (and /dev/zero would never end).
_MAPPING_BYTES = 4 * 1024 * 1024


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_bounded(path, _MAPPING_BYTES).decode("utf-8"))
    except FileNotFoundError as error:
        raise MappingError(f"Nie znaleziono pliku mapowania: {path}") from error
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"Plik mapowania {path} nie jest poprawnym TOML: {toml_reason(str(error))}.") from None
    except (OSError, ValueError) as error:
        raise MappingError(f"Nie można odczytać pliku mapowania {path}: {why_unreadable(error)}.") from None


def load_mapping(reference: Path, override: Path | MappingType[str, Any] | None = None) -> Mapping:
    """The reference mapping of an adapter, with a deployment's file (or table) laid over it."""
    base = _read(reference)
    extra: MappingType[str, Any] = {}
    if isinstance(override, Path):
        extra = _read(override)
    elif override is not None:
        extra = override
    source = {**base.get("source", {}), **extra.get("source", {})}
    tables: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for logical, spec in base.get("tables", {}).items():
        tables[logical] = spec.get("name", logical)
        columns[logical] = dict(spec.get("columns", {}))
    for logical, spec in extra.get("tables", {}).items():
        if logical not in tables:
            problems.append(f"nieznana tabela '{logical}'")
            continue
        tables[logical] = spec.get("name", tables[logical])
        for column, physical in spec.get("columns", {}).items():
            if column not in columns[logical]:
                problems.append(f"nieznana kolumna '{logical}.{column}'")
            else:
                columns[logical][column] = physical
    codes = {name: {str(k): str(v) for k, v in values.items()} for name, values in base.get("codes", {}).items()}
    for name, values in extra.get("codes", {}).items():
        if name not in codes:
            problems.append(f"nieznany słownik kodów '{name}'")
            continue
        # A deployment's code list replaces the reference one: its codes are the system's own.
        codes[name] = {str(k): str(v) for k, v in values.items()}
    if problems:
        raise MappingError("Plik mapowania jest niezgodny ze schematem adaptera: " + "; ".join(problems) + ".")
    return Mapping(
        schema=source.get("schema") or None,
        key_prefix=str(source.get("key_prefix", "")),
        tables=tables,
        columns=columns,
        codes=codes,
    )
