"""Each kind of tampering with the register is detected, and the first bad record is named with what happened.

The fixture `administrator` holds a chain of 60 records (numbers 1–60; every third one a security event)
with checkpoints signed over records 12, 24, 36, 48 and 60, and edits the SQLite file directly, as a
database administrator could after dropping the guard triggers.
"""

# ruff: noqa: S608 - these tests play a database administrator who edits the tables with hand-written SQL

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from audit import chain
from audit.checkpoints import CheckpointSigner, TrustedKeys
from audit.store import AuditStore, Head
from audit.verify import ProblemKind, _select, verify
from tests.audit.conftest import Administrator

U, Z = "rejestr_ujawnien", "zdarzenia_bezpieczenstwa"


def stored_link(admin: Administrator, nr: int) -> str:
    return str(admin.db.execute(f"SELECT skrot_wpisu FROM {admin.table_of(nr)} WHERE nr = ?", (nr,)).fetchone()[0])


def message_of(admin: Administrator, nr: int) -> bytes:
    """What record `nr`'s link covers, recomputed from its stored values as the verifier does."""
    return bytes(admin.db.execute(_select("sqlite", f"WHERE nr = {nr}")).fetchone()[4])


def rehash(admin: Administrator, nr: int) -> None:
    """Recompute the link of record `nr` from its (edited) content and stored predecessor."""
    admin.run(f"UPDATE {admin.table_of(nr)} SET skrot_wpisu = ? WHERE nr = ?", chain.relink(message_of(admin, nr)), nr)


def rewrite_from(admin: Administrator, nr: int) -> None:
    """Recompute every link from `nr` on, as someone without the checkpoint key would to hide an edit."""
    previous = stored_link(admin, nr - 1)
    for number, _old_previous, _old_link, tag, message in admin.db.execute(
        _select("sqlite", f"WHERE nr >= {nr}")
    ).fetchall():
        new = chain.relink(bytes(message), previous=previous)
        table = U if tag == chain.DISCLOSURE_TAG else Z
        admin.run(f"UPDATE {table} SET skrot_poprzedniego = ?, skrot_wpisu = ? WHERE nr = ?", previous, new, number)
        previous = new


def swap(admin: Administrator, first: int, second: int) -> None:
    first_table, second_table = admin.table_of(first), admin.table_of(second)
    admin.run(f"UPDATE {first_table} SET nr = -1 WHERE nr = ?", first)
    admin.run(f"UPDATE {second_table} SET nr = ? WHERE nr = ?", first, second)
    admin.run(f"UPDATE {first_table} SET nr = ? WHERE nr = -1", second)


def insert_copy(admin: Administrator, nr: int, *, valid_link: bool) -> None:
    """Make room at `nr` and insert a copy of disclosure 19 there, with a proper link or a made-up one."""
    admin.shift(nr, 1)
    columns = [r[1] for r in admin.db.execute(f"PRAGMA table_info({U})").fetchall()]
    values = list(admin.db.execute(f"SELECT * FROM {U} WHERE nr = 19").fetchone())
    row = dict(zip(columns, values, strict=True))
    row.update(nr=nr, cel="Cel dopisany po fakcie", id_zapytania="zap-wstawione")
    if valid_link:
        row["skrot_poprzedniego"] = stored_link(admin, nr - 1)
    else:
        row["skrot_poprzedniego"] = "f" * 64
    placeholders = ", ".join("?" for _ in columns)
    admin.run(f"INSERT INTO {U} ({', '.join(columns)}) VALUES ({placeholders})", *row.values())
    if valid_link:
        rehash(admin, nr)
    else:
        admin.run(f"UPDATE {U} SET skrot_wpisu = ? WHERE nr = ?", "e" * 64, nr)


def foreign_checkpoint(admin: Administrator) -> None:
    intruder = CheckpointSigner(
        __import__("cryptography.hazmat.primitives.asymmetric.ed25519", fromlist=["x"]).Ed25519PrivateKey.generate()
    )
    forged = intruder.sign(6, 60, stored_link(admin, 60), dt.datetime(2026, 11, 3, tzinfo=dt.UTC), "OKRESOWY")
    admin.run(
        "INSERT INTO punkty_kontrolne VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        forged.number,
        forged.nr,
        forged.link,
        chain.format_time(forged.time),
        forged.reason,
        forged.algorithm,
        forged.key_fingerprint,
        forged.signature,
    )


Tampering = Callable[[Administrator], None]

CASES: dict[str, tuple[Tampering, ProblemKind, int | None, str | None]] = {
    "edit_disclosure_purpose": (
        lambda a: a.run(f"UPDATE {U} SET cel = 'Inny cel' WHERE nr = 20"),
        ProblemKind.CHANGED,
        20,
        U,
    ),
    "edit_event_outcome": (
        lambda a: a.run(f"UPDATE {Z} SET sukces = 1 - sukces WHERE nr = 21"),
        ProblemKind.CHANGED,
        21,
        Z,
    ),
    # Hidden from a verifier that renders values in SQL (printf stops at NUL; CASE WHEN 'false' is false),
    # visible to every reader: a per-person report no longer finds the record, a failed login reads as True.
    "nul_after_pesel": (
        lambda a: a.run(f"UPDATE {U} SET pesel_osoby = pesel_osoby || char(0) || 'X' WHERE nr = 20"),
        ProblemKind.CHANGED,
        20,
        U,
    ),
    "nul_after_user": (
        lambda a: a.run(f"UPDATE {U} SET uzytkownik = uzytkownik || char(0) || 'X' WHERE nr = 20"),
        ProblemKind.CHANGED,
        20,
        U,
    ),
    "nul_after_outcome": (
        lambda a: a.run(f"UPDATE {U} SET wynik = wynik || char(0) || 'X' WHERE nr = 23"),
        ProblemKind.CHANGED,
        23,
        U,
    ),
    "nul_after_event_details": (
        lambda a: a.run(f"UPDATE {Z} SET szczegoly = szczegoly || char(0) || 'X' WHERE nr = 21"),
        ProblemKind.CHANGED,
        21,
        Z,
    ),
    "failed_login_as_text_false": (
        lambda a: a.run(f"UPDATE {Z} SET sukces = 'false' WHERE nr = 27"),
        ProblemKind.CHANGED,
        27,
        Z,
    ),
    "flag_as_a_blob": (
        lambda a: a.run(f"UPDATE {Z} SET sukces = CAST('0' AS BLOB) WHERE nr = 27"),
        ProblemKind.CHANGED,
        27,
        Z,
    ),
    "pesel_as_a_blob": (
        lambda a: a.run(f"UPDATE {U} SET pesel_osoby = CAST(pesel_osoby AS BLOB) WHERE nr = 20"),
        ProblemKind.CHANGED,
        20,
        U,
    ),
    "edit_pesel_to_null": (
        lambda a: a.run(f"UPDATE {U} SET pesel_osoby = NULL WHERE nr = 23"),
        ProblemKind.CHANGED,
        23,
        U,
    ),
    "edit_own_link": (
        lambda a: a.run(f"UPDATE {U} SET skrot_wpisu = ? WHERE nr = 23", "0" * 64),
        ProblemKind.CHANGED,
        23,
        U,
    ),
    "edit_and_rehash_one": (
        lambda a: (a.run(f"UPDATE {U} SET uzytkownik = 'ktos.inny' WHERE nr = 20"), rehash(a, 20)),
        ProblemKind.CHANGED,
        20,
        None,
    ),
    "delete_one": (lambda a: a.run(f"DELETE FROM {U} WHERE nr = 20"), ProblemKind.REMOVED, 20, None),
    "delete_three": (
        lambda a: (a.run(f"DELETE FROM {U} WHERE nr BETWEEN 19 AND 22"), a.run(f"DELETE FROM {Z} WHERE nr = 21")),
        ProblemKind.REMOVED,
        19,
        None,
    ),
    "delete_and_renumber": (
        lambda a: (a.run(f"DELETE FROM {U} WHERE nr = 20"), a.shift(21, -1)),
        ProblemKind.REMOVED,
        20,
        None,
    ),
    "insert_with_valid_link": (lambda a: insert_copy(a, 20, valid_link=True), ProblemKind.INSERTED, 20, None),
    "insert_with_made_up_link": (lambda a: insert_copy(a, 20, valid_link=False), ProblemKind.INSERTED, 20, None),
    "swap_adjacent": (lambda a: swap(a, 20, 21), ProblemKind.REORDERED, 20, None),
    "swap_distant": (lambda a: swap(a, 20, 26), ProblemKind.REORDERED, 20, None),
    "truncate_tail": (
        lambda a: (a.run(f"DELETE FROM {U} WHERE nr > 50"), a.run(f"DELETE FROM {Z} WHERE nr > 50")),
        ProblemKind.REMOVED,
        51,
        None,
    ),
    "delete_head_of_chain": (
        lambda a: (a.run(f"DELETE FROM {U} WHERE nr <= 5"), a.run(f"DELETE FROM {Z} WHERE nr <= 5")),
        ProblemKind.REMOVED,
        1,
        None,
    ),
    "rewrite_all_links_after_edit": (
        lambda a: (a.run(f"UPDATE {U} SET cel = 'Inny cel' WHERE nr = 20"), rewrite_from(a, 20)),
        ProblemKind.CHECKPOINT_MISMATCH,
        13,
        None,
    ),
    "forge_checkpoint_head": (
        lambda a: a.run("UPDATE punkty_kontrolne SET skrot = ? WHERE nr_punktu = 3", "a" * 64),
        ProblemKind.CHECKPOINT_SIGNATURE,
        None,
        None,
    ),
    "forge_checkpoint_position": (
        lambda a: a.run("UPDATE punkty_kontrolne SET nr = 35 WHERE nr_punktu = 3"),
        ProblemKind.CHECKPOINT_SIGNATURE,
        None,
        None,
    ),
    "checkpoint_by_foreign_key": (foreign_checkpoint, ProblemKind.CHECKPOINT_UNKNOWN_KEY, None, None),
    "remove_checkpoint": (
        lambda a: a.run("DELETE FROM punkty_kontrolne WHERE nr_punktu = 2"),
        ProblemKind.CHECKPOINT_REMOVED,
        None,
        None,
    ),
}


def test_untouched_chain_verifies(administrator: Administrator, store: AuditStore, keys: TrustedKeys) -> None:
    report = verify(store, keys)
    assert report.ok, report.problems
    assert (report.records, report.first_nr, report.last_nr) == (60, 1, 60)
    assert report.checkpoints == 5 and report.last_signed_nr == 60 and report.unsigned_tail == 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_is_detected_and_named(
    case: str, administrator: Administrator, store: AuditStore, keys: TrustedKeys
) -> None:
    tamper, kind, nr, table = CASES[case]
    tamper(administrator)
    report = verify(store, keys)
    assert not report.ok
    first = report.first_problem
    assert first is not None
    assert first.kind is kind, first
    if nr is not None:
        assert first.nr == nr, first
    if table is not None:
        assert first.table == table, first
    assert first.message  # a Polish sentence for the operator


def test_what_readers_see_after_hidden_tampering_is_what_verify_flags(
    administrator: Administrator, store: AuditStore, keys: TrustedKeys
) -> None:
    pesel = administrator.db.execute(f"SELECT pesel_osoby FROM {U} WHERE nr = 20").fetchone()[0]
    assert [e.success for e in store.events()][8] is False  # record 27: a failed login (the ninth event)
    administrator.run(f"UPDATE {U} SET pesel_osoby = pesel_osoby || char(0) || 'X' WHERE nr = 20")
    administrator.run(f"UPDATE {Z} SET sukces = 'false' WHERE nr = 27")
    assert list(store.disclosures(pesel=pesel)) == []  # the per-person report lost the record
    assert [e.success for e in store.events()][8] is True  # and the failed login reads as a success
    report = verify(store, keys)
    assert [(p.kind, p.nr) for p in report.problems[:1]] == [(ProblemKind.CHANGED, 20)]


def test_forged_checkpoint_is_not_trusted_for_the_chain(
    administrator: Administrator, store: AuditStore, keys: TrustedKeys
) -> None:
    # Delete the tail, then move the last checkpoint down to the new end: its signature gives it away.
    administrator.run(f"DELETE FROM {U} WHERE nr > 50")
    administrator.run(f"DELETE FROM {Z} WHERE nr > 50")
    administrator.run(
        "UPDATE punkty_kontrolne SET nr = 50, skrot = ? WHERE nr_punktu = 5", stored_link(administrator, 50)
    )
    report = verify(store, keys)
    assert not report.ok
    assert [(p.kind, p.checkpoint) for p in report.problems] == [(ProblemKind.CHECKPOINT_SIGNATURE, 5)]
    assert report.last_signed_nr == 48  # only the genuine checkpoints vouch for the chain


def test_without_keys_signatures_are_not_checked_but_the_chain_is(
    administrator: Administrator, store: AuditStore
) -> None:
    administrator.run("UPDATE punkty_kontrolne SET podpis = 'AAAA' WHERE nr_punktu = 1")
    assert verify(store).ok  # nothing to check a signature against
    administrator.run(f"UPDATE {U} SET cel = 'Inny cel' WHERE nr = 2")
    report = verify(store)
    assert not report.signatures_checked
    assert report.first_problem is not None and report.first_problem.nr == 2


def test_the_application_cannot_change_or_delete_records(store: AuditStore, database: object) -> None:
    import sqlite3

    from tests.audit.conftest import fill

    fill(store, 4)
    db = sqlite3.connect(str(database))
    for statement in (
        f"UPDATE {U} SET cel = 'x' WHERE nr = 1",
        f"DELETE FROM {U} WHERE nr = 1",
        f"UPDATE {Z} SET sukces = 0",
        f"DELETE FROM {Z}",
        "UPDATE punkty_kontrolne SET skrot = 'x'",
        "DELETE FROM punkty_kontrolne",
    ):
        with pytest.raises(sqlite3.DatabaseError, match=r"tylko do dopisywania|nie mogą być"):
            db.execute(statement)
    for statement in (
        f"INSERT INTO {U} SELECT * FROM {U} WHERE nr = 1",  # a duplicate: the primary key
        f"UPDATE {Z} SET sukces = 'false'",
    ):
        with pytest.raises(sqlite3.DatabaseError):
            db.execute(statement)
    db.close()
    assert verify(store).ok


def test_values_of_another_storage_type_are_refused(store: AuditStore, database: object) -> None:
    import sqlite3

    from tests.audit.conftest import fill

    fill(store, 1)
    db = sqlite3.connect(str(database))
    for trigger in ("rejestr_ujawnien_bez_zmian", "zdarzenia_bezpieczenstwa_bez_zmian"):
        db.execute(f"DROP TRIGGER {trigger}")  # the CHECKs on storage types stay
    for statement in (
        f"UPDATE {U} SET pesel_osoby = CAST(pesel_osoby AS BLOB) WHERE nr = 1",
        f"UPDATE {U} SET uzytkownik = NULL WHERE nr = 1",
        f"UPDATE {Z} SET sukces = 'false' WHERE nr = 3",
        f"UPDATE {Z} SET sukces = 2 WHERE nr = 3",
        f"UPDATE {Z} SET szczegoly = x'00' WHERE nr = 3",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="constraint failed"):
            db.execute(statement)
    db.execute(f"UPDATE {U} SET pesel_osoby = NULL WHERE nr = 1")  # NULL is allowed there (no PESEL known)
    db.rollback()
    db.close()


def test_an_anchor_kept_outside_protects_the_unsigned_tail(
    administrator: Administrator, store: AuditStore, keys: TrustedKeys
) -> None:
    from tests.audit.conftest import disclosure

    store.append([disclosure(500), disclosure(501)], [])  # records 61-62: after the last checkpoint (60)
    kept = store.head()
    at_61 = Head(61, verify(store, keys, up_to=61).head_link)
    report = verify(store, keys, anchor=kept)
    assert report.ok and report.unsigned_tail == 2
    administrator.run(f"DELETE FROM {U} WHERE nr = 62")  # undetectable from the database alone
    assert verify(store, keys).ok
    report = verify(store, keys, anchor=kept)
    assert report.first_problem is not None
    assert (report.first_problem.kind, report.first_problem.nr) == (ProblemKind.REMOVED, 62)
    administrator.run(f"UPDATE {U} SET cel = 'Inny' WHERE nr = 61")
    rehash(administrator, 61)  # a rewritten tail: only the anchor's link tells
    assert verify(store, keys).ok
    report = verify(store, keys, anchor=at_61)
    assert report.first_problem is not None
    assert (report.first_problem.kind, report.first_problem.nr) == (ProblemKind.CHECKPOINT_MISMATCH, 61)
