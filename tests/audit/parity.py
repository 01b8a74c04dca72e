"""The tampering matrix of `tests/audit/test_tampering.py` expressed for PostgreSQL: the same logical edits, made
by the owner of the PostgreSQL register after dropping its guard triggers, as `Administrator` (conftest) makes
them in the SQLite file.

Most edits are the same statement in PostgreSQL's spelling. Seven SQLite cases rely on SQLite storing any value
in any column (a NUL inside text, a blob or the text 'false' where the writer stored text or a flag); a
PostgreSQL column holds only its declared type and text never holds a NUL, so the literal edit is refused (or, for
the text 'false' in a boolean, read as the boolean false, which changes nothing). What an owner *can* do there is
change the column's type first and then store such a value: that is the analogue tested, and `verify` must name
it ZMIENIONY_TYP_KOLUMNY for that table and column (it checks the types before reading any record).
"""

# ruff: noqa: S608 - these helpers play a database owner who edits the tables with hand-written SQL

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import chain
from audit.checkpoints import CheckpointSigner
from audit.schema import CHECKPOINTS
from audit.schema import DISCLOSURES as U
from audit.schema import EVENTS as Z
from audit.verify import _select


class PgAdministrator:
    """The owner of a PostgreSQL register: drops the guard triggers, then edits rows directly."""

    def __init__(self, conninfo: str) -> None:
        self.db = psycopg.connect(conninfo, autocommit=True)
        triggers = self.db.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
        ).fetchall()
        assert triggers, "the register has no guard triggers to drop"
        for name, table in triggers:
            self.db.execute(f'DROP TRIGGER "{name}" ON "{table}"')

    def run(self, sql: str, *parameters: object) -> None:
        self.db.execute(sql, parameters or None)

    def refusal(self, sql: str) -> str | None:
        """Run `sql`; PostgreSQL's error message if it refused it, else None."""
        try:
            self.db.execute(sql)
        except psycopg.Error as error:
            return str(error).splitlines()[0]
        return None

    def one(self, sql: str, *parameters: object) -> Any:
        row = self.db.execute(sql, parameters or None).fetchone()
        assert row is not None, sql
        return row[0]

    def table_of(self, nr: int) -> str:
        for table in (U, Z):
            if self.db.execute(f"SELECT 1 FROM {table} WHERE nr = %s", (nr,)).fetchone():
                return table
        raise AssertionError(f"no record {nr}")

    def shift(self, from_nr: int, by: int) -> None:
        """Renumber every record numbered `from_nr` or more by `by` (both tables)."""
        for table in (U, Z):
            self.run(f"UPDATE {table} SET nr = -(nr + %s) WHERE nr >= %s", by, from_nr)
            self.run(f"UPDATE {table} SET nr = -nr WHERE nr < 0")

    def retype(self, table: str, column: str, new_type: str, using: str) -> None:
        self.run(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {new_type} USING ({using})")

    def close(self) -> None:
        self.db.close()


def stored_link(admin: PgAdministrator, nr: int) -> str:
    return str(admin.one(f"SELECT skrot_wpisu FROM {admin.table_of(nr)} WHERE nr = %s", nr))


def message_of(admin: PgAdministrator, nr: int) -> bytes:
    """What record `nr`'s link covers, recomputed from its stored values as the verifier does."""
    row = admin.db.execute(_select("postgresql", f"WHERE nr = {int(nr)}")).fetchone()
    assert row is not None
    return bytes(row[4])


def rehash(admin: PgAdministrator, nr: int) -> None:
    link = chain.relink(message_of(admin, nr))
    admin.run(f"UPDATE {admin.table_of(nr)} SET skrot_wpisu = %s WHERE nr = %s", link, nr)


def rewrite_from(admin: PgAdministrator, nr: int) -> None:
    previous = stored_link(admin, nr - 1)
    for number, _old_previous, _old_link, tag, message in admin.db.execute(
        _select("postgresql", f"WHERE nr >= {int(nr)}")
    ).fetchall():
        new = chain.relink(bytes(message), previous=previous)
        table = U if tag == chain.DISCLOSURE_TAG else Z
        admin.run(f"UPDATE {table} SET skrot_poprzedniego = %s, skrot_wpisu = %s WHERE nr = %s", previous, new, number)
        previous = new


def swap(admin: PgAdministrator, first: int, second: int) -> None:
    first_table, second_table = admin.table_of(first), admin.table_of(second)
    admin.run(f"UPDATE {first_table} SET nr = -1 WHERE nr = %s", first)
    admin.run(f"UPDATE {second_table} SET nr = %s WHERE nr = %s", first, second)
    admin.run(f"UPDATE {first_table} SET nr = %s WHERE nr = -1", second)


def insert_copy(admin: PgAdministrator, nr: int, *, valid_link: bool) -> None:
    """Make room at `nr` and insert a copy of disclosure 19 there, with a proper link or a made-up one."""
    admin.shift(nr, 1)
    cursor = admin.db.execute(f"SELECT * FROM {U} WHERE nr = 19")
    columns = [c.name for c in cursor.description or ()]
    values = cursor.fetchone()
    assert values is not None
    row = dict(zip(columns, values, strict=True))
    row.update(nr=nr, cel="Cel dopisany po fakcie", id_zapytania="zap-wstawione")
    row["skrot_poprzedniego"] = stored_link(admin, nr - 1) if valid_link else "f" * 64
    placeholders = ", ".join("%s" for _ in columns)
    admin.run(f"INSERT INTO {U} ({', '.join(columns)}) VALUES ({placeholders})", *row.values())
    if valid_link:
        rehash(admin, nr)
    else:
        admin.run(f"UPDATE {U} SET skrot_wpisu = %s WHERE nr = %s", "e" * 64, nr)


def foreign_checkpoint(admin: PgAdministrator) -> None:
    intruder = CheckpointSigner(Ed25519PrivateKey.generate())
    forged = intruder.sign(6, 60, stored_link(admin, 60), dt.datetime(2026, 11, 3, tzinfo=dt.UTC), "OKRESOWY")
    admin.run(
        f"INSERT INTO {CHECKPOINTS} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        forged.number,
        forged.nr,
        forged.link,
        chain.format_time(forged.time),
        forged.reason,
        forged.algorithm,
        forged.key_fingerprint,
        forged.signature,
    )


@dataclass(frozen=True)
class Retyped:
    """The PostgreSQL analogue of a SQLite storage-type trick: the column retyped, then the value stored.

    `literal` is the SQLite case's own statement in PostgreSQL's spelling and `refused` what PostgreSQL answers
    (a regular expression), or None where PostgreSQL takes it as a value of the column's type and nothing changes.
    """

    why: str
    literal: str
    refused: str | None
    table: str
    column: str
    new_type: str
    using: str
    then: str | None = None

    def tamper(self, admin: PgAdministrator) -> None:
        admin.retype(self.table, self.column, self.new_type, self.using)
        if self.then is not None:
            admin.run(self.then)


PgTampering = Callable[[PgAdministrator], None]


def _sql(statement: str, *parameters: object) -> PgTampering:
    """One statement, run by the owner."""
    return lambda admin: admin.run(statement, *parameters)


def _steps(*steps: PgTampering) -> PgTampering:
    """Several edits, one after another."""

    def run(admin: PgAdministrator) -> None:
        for step in steps:
            step(admin)

    return run


def _nul(table: str, column: str, nr: int) -> Retyped:
    return Retyped(
        why="no_nul_in_postgresql_text_so_bytea_column",
        literal=f"UPDATE {table} SET {column} = {column} || chr(0) || 'X' WHERE nr = {nr}",
        refused="null character not permitted",
        table=table,
        column=column,
        new_type="bytea",
        using=f"convert_to({column}, 'UTF8')",
        then=f"UPDATE {table} SET {column} = {column} || '\\x00'::bytea || 'X'::bytea WHERE nr = {nr}",
    )


PG_CASES: dict[str, PgTampering | Retyped] = {
    "edit_disclosure_purpose": _sql(f"UPDATE {U} SET cel = 'Inny cel' WHERE nr = 20"),
    "edit_event_outcome": _sql(f"UPDATE {Z} SET sukces = NOT sukces WHERE nr = 21"),
    "nul_after_pesel": _nul(U, "pesel_osoby", 20),
    "nul_after_user": _nul(U, "uzytkownik", 20),
    "nul_after_outcome": _nul(U, "wynik", 23),
    "nul_after_event_details": _nul(Z, "szczegoly", 21),
    "failed_login_as_text_false": Retyped(
        why="text_false_is_the_boolean_false_so_text_column",
        literal=f"UPDATE {Z} SET sukces = 'false' WHERE nr = 27",
        refused=None,  # record 27 is a failed login: 'false' is read as false, the record is unchanged
        table=Z,
        column="sukces",
        new_type="text",
        using="CASE WHEN sukces THEN 'true' ELSE 'false' END",
    ),
    "flag_as_a_blob": Retyped(
        why="no_bytea_in_a_boolean_so_bytea_column",
        literal=f"UPDATE {Z} SET sukces = CAST('0' AS bytea) WHERE nr = 27",
        refused='column "sukces" is of type boolean but expression is of type bytea',
        table=Z,
        column="sukces",
        new_type="bytea",
        using="CASE WHEN sukces THEN '1'::bytea ELSE '0'::bytea END",
    ),
    "pesel_as_a_blob": Retyped(
        why="a_bytea_is_cast_to_its_hex_text_so_bytea_column",
        literal=f"UPDATE {U} SET pesel_osoby = CAST(pesel_osoby AS bytea) WHERE nr = 20",
        refused=r"value too long for type character varying\(11\)",
        table=U,
        column="pesel_osoby",
        new_type="bytea",
        using="convert_to(pesel_osoby, 'UTF8')",
    ),
    "edit_pesel_to_null": _sql(f"UPDATE {U} SET pesel_osoby = NULL WHERE nr = 23"),
    "edit_own_link": _sql(f"UPDATE {U} SET skrot_wpisu = %s WHERE nr = 23", "0" * 64),
    "edit_and_rehash_one": _steps(
        _sql(f"UPDATE {U} SET uzytkownik = 'ktos.inny' WHERE nr = 20"), lambda a: rehash(a, 20)
    ),
    "delete_one": _sql(f"DELETE FROM {U} WHERE nr = 20"),
    "delete_three": _steps(_sql(f"DELETE FROM {U} WHERE nr BETWEEN 19 AND 22"), _sql(f"DELETE FROM {Z} WHERE nr = 21")),
    "delete_and_renumber": _steps(_sql(f"DELETE FROM {U} WHERE nr = 20"), lambda a: a.shift(21, -1)),
    "insert_with_valid_link": lambda a: insert_copy(a, 20, valid_link=True),
    "insert_with_made_up_link": lambda a: insert_copy(a, 20, valid_link=False),
    "swap_adjacent": lambda a: swap(a, 20, 21),
    "swap_distant": lambda a: swap(a, 20, 26),
    "truncate_tail": _steps(_sql(f"DELETE FROM {U} WHERE nr > 50"), _sql(f"DELETE FROM {Z} WHERE nr > 50")),
    "delete_head_of_chain": _steps(_sql(f"DELETE FROM {U} WHERE nr <= 5"), _sql(f"DELETE FROM {Z} WHERE nr <= 5")),
    "rewrite_all_links_after_edit": _steps(
        _sql(f"UPDATE {U} SET cel = 'Inny cel' WHERE nr = 20"), lambda a: rewrite_from(a, 20)
    ),
    "forge_checkpoint_head": _sql(f"UPDATE {CHECKPOINTS} SET skrot = %s WHERE nr_punktu = 3", "a" * 64),
    "forge_checkpoint_position": _sql(f"UPDATE {CHECKPOINTS} SET nr = 35 WHERE nr_punktu = 3"),
    "checkpoint_by_foreign_key": foreign_checkpoint,
    "remove_checkpoint": _sql(f"DELETE FROM {CHECKPOINTS} WHERE nr_punktu = 2"),
}
"""For each SQLite case (same name): the same edit on PostgreSQL, or the `Retyped` analogue."""
