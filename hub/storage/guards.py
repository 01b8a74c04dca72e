"""Append-only in the database itself (issue 15 item 3, guideline 8): nothing about a beneficiary is edited
on the way, whoever connects to the hub's database.

Triggers refuse any UPDATE, DELETE or TRUNCATE of a stored document, a transition, a receipt or a template
change; a case may change only its state and its refusal reason (each change has its transition row); a
template version only its `aktywna` flag, its content while it is unused, and `uzyta` from false to true
(a version a document was made from never changes again). Installed idempotently whenever the hub opens
its database (SQLite and PostgreSQL), so a database made by an earlier version gains them too. The owner of
the database can still drop the triggers: the documents' hashes and integrity tags (`hub.storage.integrity`),
checked on every read, and the receipts signed by the hub's seal are the second line.
"""

from __future__ import annotations

from sqlalchemy import Table, text
from sqlalchemy.engine import Engine

from hub.storage.documents import Case, Receipt, StoredDocument, TemplateChange, TemplateVersion, Transition
from hub.storage.integrity import IntegrityTag

REFUSED = "Dokumenty, przejścia spraw, poświadczenia i historia szablonów są tylko dopisywane; zmiana odrzucona."

#: Tables whose rows are only ever inserted.
APPEND_ONLY: tuple[Table, ...] = tuple(
    m.__table__  # type: ignore[misc]
    for m in (StoredDocument, Transition, Receipt, TemplateChange, IntegrityTag)
)
#: The columns of a case that may change (its state and, on refusal, the reason).
CASE_MUTABLE = ("stan", "powod_odmowy")
#: The columns of a template version that may change while it is unused (`uzyta` false).
VERSION_WHILE_UNUSED = ("schemat", "wizualizacja", "metadane", "autor_zmiany", "utworzono")


def _case() -> Table:
    return Case.__table__  # type: ignore[return-value]


def _versions() -> Table:
    return TemplateVersion.__table__  # type: ignore[return-value]


def _changed(columns: list[str], *, sqlite: bool) -> str:
    compare = "NEW.{0} IS NOT OLD.{0}" if sqlite else "NEW.{0} IS DISTINCT FROM OLD.{0}"
    return " OR ".join(compare.format(c) for c in columns) or "FALSE"


def _fixed_case_columns() -> list[str]:
    return [c.name for c in _case().columns if c.name not in CASE_MUTABLE]


def _fixed_version_columns() -> list[str]:
    return [c.name for c in _versions().columns if c.name not in (*VERSION_WHILE_UNUSED, "aktywna", "uzyta")]


def sqlite_guards() -> list[str]:
    """SQLite triggers (idempotent)."""
    statements = []
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table.name}_tylko_dopisywanie_{operation.lower()} "
                f"BEFORE {operation} ON {table.name} BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
            )
    case, versions = _case().name, _versions().name
    statements += [
        f"CREATE TRIGGER IF NOT EXISTS {case}_tylko_stan BEFORE UPDATE ON {case} "
        f"WHEN {_changed(_fixed_case_columns(), sqlite=True)} BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {case}_bez_usuwania BEFORE DELETE ON {case} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {versions}_uzyta_niezmienna BEFORE UPDATE ON {versions} "
        f"WHEN {_changed(_fixed_version_columns(), sqlite=True)} "
        f"OR (OLD.uzyta AND ({_changed([*VERSION_WHILE_UNUSED, 'uzyta'], sqlite=True)})) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {versions}_bez_usuwania BEFORE DELETE ON {versions} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END",
    ]
    return statements


def postgresql_guards() -> list[str]:
    """PostgreSQL trigger function and triggers with the same rules (PostgreSQL 14+)."""
    case, versions = _case().name, _versions().name
    function = f"""
CREATE OR REPLACE FUNCTION dokumenty_tylko_dopisywanie() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = '{case}' THEN
        IF {_changed(_fixed_case_columns(), sqlite=False)} THEN
            RAISE EXCEPTION '{REFUSED}';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = '{versions}' THEN
        IF {_changed(_fixed_version_columns(), sqlite=False)}
           OR (OLD.uzyta AND ({_changed([*VERSION_WHILE_UNUSED, "uzyta"], sqlite=False)})) THEN
            RAISE EXCEPTION '{REFUSED}';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{REFUSED}';
END
$$""".strip()
    statements = [function]
    for name in (*(t.name for t in APPEND_ONLY), case, versions):
        statements += [
            f"CREATE OR REPLACE TRIGGER {name}_tylko_dopisywanie BEFORE UPDATE OR DELETE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION dokumenty_tylko_dopisywanie()",
            f"CREATE OR REPLACE TRIGGER {name}_bez_obcinania BEFORE TRUNCATE ON {name} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dokumenty_tylko_dopisywanie()",
        ]
    return statements


def install_guards(engine: Engine) -> None:
    """Install the triggers on the hub's database (SQLite or PostgreSQL; other databases: nothing)."""
    statements = {"sqlite": sqlite_guards, "postgresql": postgresql_guards}.get(engine.dialect.name)
    if statements is None:
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # workers starting at once: one replaces the function at a time
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('dokumenty_tylko_dopisywanie'))"))
        for statement in statements():
            connection.execute(text(statement))
