"""SQL that makes the database recompute each record's hashed message (`audit.chain`), for `audit verify`.

The database builds the message, so the verifier streams one byte string per record instead of a Python
object per field (which would halve its speed). Nothing is rendered that could differ from the stored
value: format 2 concatenates the stored bytes themselves (`||` keeps a NUL; `printf('%s')` would stop at
it) behind their byte lengths. Each message is guarded by a check of the storage types (SQLite stores
any type in any column): a record whose values are not of the type the writer wrote gets no message
(NULL), which the verifier reports as a changed record. In PostgreSQL the column types do that job;
`audit.verify` checks them once per run.

Format-1 records (`audit.chain`) keep their `printf`/`format` form, under the same type check and, in
SQLite, a check that no value holds a NUL byte (the writer never stored one), which makes that form exact.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit import chain

Formats = Sequence[tuple[int, int]]
"""(first record number, format) pairs in ascending order, as stored in `format_lancucha`."""


def message_sql(
    tag: str,
    fields: Sequence[str],
    *,
    dialect: str,
    formats: Formats,
    nullable: Sequence[str] = (),
    flags: Sequence[str] = (),
) -> str:
    """A SQL expression giving the whole hashed message of a row as bytes, or NULL for a mistyped row."""
    spec = _Fields(tag, tuple(fields), tuple(nullable), tuple(flags), dialect)
    expressions = [(first, spec.message(version)) for first, version in formats]
    if len(expressions) == 1:
        return expressions[0][1]
    branches = " ".join(f"WHEN nr >= {int(first)} THEN {sql}" for first, sql in reversed(expressions[1:]))
    return f"(CASE {branches} ELSE {expressions[0][1]} END)"


class _Fields:
    """The fields of one table and how each is typed (text, text or NULL, a flag)."""

    def __init__(
        self, tag: str, fields: tuple[str, ...], nullable: tuple[str, ...], flags: tuple[str, ...], dialect: str
    ) -> None:
        self.tag, self.fields, self.nullable, self.flags = tag, fields, nullable, flags
        self.sqlite = dialect == "sqlite"
        self.text = tuple(f for f in fields if f not in nullable and f not in flags)

    def message(self, version: int) -> str:
        if version == chain.FORMAT_2:
            return self._v2()
        if version == chain.FORMAT_1:
            return self._v1()
        raise ValueError(f"unknown chain format {version}")

    # -- format 2 --------------------------------------------------------------------------------------------
    def _v2(self) -> str:
        lengths = ["1" if f in self.flags else self._octets(f) for f in self.fields]
        header = f"'{self.tag}{chain.FORMAT_2}|%s|%s|{'%s,' * len(self.fields)}', nr, skrot_poprzedniego, "
        header += ", ".join(lengths)
        body = " || ".join(self._bytes(f) for f in self.fields)
        if self.sqlite:
            return f"(CASE WHEN {self._typed()} THEN CAST(printf({header}) || {body} AS BLOB) END)"
        return f"convert_to(format({header}) || {body}, 'UTF8')"

    def _octets(self, field: str) -> str:
        return f"length(CAST({field} AS BLOB))" if self.sqlite else f"octet_length({field})"

    def _bytes(self, field: str) -> str:
        if field in self.flags:
            return field if self.sqlite else f"(CASE {field} WHEN true THEN '1' WHEN false THEN '0' END)"
        if field in self.nullable:
            return f"coalesce({field}, '')"
        return field

    def _typed(self) -> str:
        """SQLite: every value has the storage type the writer gave it.

        Text is told from a blob, a number or NULL by comparisons, not by `typeof()` calls, which cost the
        verifier a quarter of its speed: in SQLite's order NULL < numbers < text < blobs, so a value is text
        exactly when it is `>= ''` and `< x''`; the multi-argument `min()`/`max()` test all fields at once.
        """
        conditions = []
        if len(self.text) > 1:
            listed = ", ".join(self.text)
            conditions.append(f"min({listed}) >= '' AND max({listed}) < x''")
        else:
            conditions += [f"{f} >= '' AND {f} < x''" for f in self.text]
        conditions += [f"({f} IS NULL OR ({f} >= '' AND {f} < x''))" for f in self.nullable]
        conditions += [f"(typeof({f}) = 'integer' AND {f} IN (0, 1))" for f in self.flags]
        return " AND ".join(conditions)

    # -- format 1 --------------------------------------------------------------------------------------------
    def _v1(self) -> str:
        template = f"{self.tag}|%s|%s|"
        arguments = ["nr", "skrot_poprzedniego"]
        for field in self.fields:
            if field in self.flags:
                template += "%s"
                arguments.append(f"(CASE WHEN {field} THEN '1:1' ELSE '1:0' END)")
            elif field in self.nullable:
                template += "%s"
                arguments.append(f"(CASE WHEN {field} IS NULL THEN '-' ELSE length({field}) || ':' || {field} END)")
            else:
                template += "%s:%s"
                arguments += [f"length({field})", field]
        if not self.sqlite:
            return f"convert_to(format('{template}', {', '.join(arguments)}), 'UTF8')"
        text = " || ".join(
            f"coalesce({f}, '')" if f in self.nullable else f for f in self.fields if f not in self.flags
        )
        exact = f"{self._typed()} AND instr({text}, char(0)) = 0"
        return f"(CASE WHEN {exact} THEN CAST(printf('{template}', {', '.join(arguments)}) AS BLOB) END)"
