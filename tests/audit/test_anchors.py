"""Anchors kept outside the database: a deleted or replaced checkpoint, or a rewritten or shortened chain, is
seen even when the database alone looks intact, and the store refuses to sign a checkpoint over it.

The brief's attack: the owner of the database deletes the only checkpoint, rewrites a record and recomputes
every later link. From the database alone the chain verifies, and a restarted hub used to sign a fresh
checkpoint over the forgery.
"""

# ruff: noqa: S608 - these tests play a database administrator who edits the tables with hand-written SQL

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from audit.anchors import Anchor, AnchorFile, default_anchor_path
from audit.checkpoints import CheckpointSigner, TrustedKeys
from audit.errors import AnchorFileError, ChainBrokenError
from audit.records import EventKind
from audit.sql import SqlDisclosureRegister
from audit.store import AuditStore, CheckpointPolicy
from audit.verify import ProblemKind, verify
from tests.audit.conftest import Administrator, disclosure, fill, run, security_event
from tests.audit.test_tampering import rewrite_from

U, Z = "rejestr_ujawnien", "zdarzenia_bezpieczenstwa"


def reopen(database: Path, key_file: Path) -> AuditStore:
    """The hub after a restart."""
    return AuditStore(f"sqlite:///{database}", key_file=key_file, policy=CheckpointPolicy(every_records=10))


def one_checkpoint_then_forgery(store: AuditStore, database: Path) -> None:
    """15 records, the only checkpoint over them, 3 more; then the attack of the module's docstring."""
    store.policy = CheckpointPolicy(every_records=1000)
    for index in range(5):
        store.append([disclosure(2 * index), disclosure(2 * index + 1)], [security_event(index)])
    assert store.checkpoint() is not None and len(store.checkpoints()) == 1
    store.append([disclosure(50), disclosure(51)], [security_event(50)])
    admin = Administrator(database)
    admin.run("DELETE FROM punkty_kontrolne")
    admin.run(f"UPDATE {U} SET cel = 'Cel dopisany po fakcie' WHERE nr = 5")
    rewrite_from(admin, 5)
    admin.close()


def test_every_signed_checkpoint_is_anchored_beside_the_key(anchored: AuditStore, key_file: Path) -> None:
    fill(anchored, 12)  # 36 records: checkpoints over records 12, 24 and 36
    anchored.flush_anchors()  # anchors of checkpoints signed during appends are written by a thread
    path = default_anchor_path(key_file)
    assert path == key_file.with_name("klucz-audytu.kotwice") and anchored.anchors is not None
    assert anchored.anchors.path == path
    checkpoints = anchored.checkpoints()
    assert len(checkpoints) == 3
    assert AnchorFile(path).read() == [Anchor.of(c) for c in checkpoints]
    assert path.read_text(encoding="utf-8").startswith("# platforma-komunikacyjna: kotwice")


def test_the_brief_attack_is_seen_by_verify_with_the_anchors(
    anchored: AuditStore, database: Path, key_file: Path, keys: TrustedKeys
) -> None:
    one_checkpoint_then_forgery(anchored, database)
    assert verify(anchored, keys).ok  # the database alone: nothing to see
    report = verify(anchored, keys, anchors=AnchorFile(default_anchor_path(key_file)))
    assert not report.ok and report.anchors == 1
    kinds = {(p.kind, p.nr, p.checkpoint) for p in report.problems}
    assert (ProblemKind.CHECKPOINT_REMOVED, None, 1) in kinds  # the anchor names a checkpoint that is gone
    first = report.first_problem
    assert first is not None and (first.kind, first.nr) == (ProblemKind.CHECKPOINT_MISMATCH, 1)
    assert "Wpisy nr 1–15 nie zgadzają się z kotwicą punktu kontrolnego nr 1" in first.message


def test_the_restarted_store_refuses_to_sign_over_the_forgery(
    anchored: AuditStore, database: Path, key_file: Path
) -> None:
    one_checkpoint_then_forgery(anchored, database)
    anchored.dispose()
    restarted = reopen(database, key_file)
    with pytest.raises(ChainBrokenError) as refused:
        restarted.verify_before_signing()
    # From the last anchor on: the anchored record 15 no longer has its link (the edit is somewhere before).
    assert (refused.value.kind, refused.value.nr) == (ProblemKind.CHECKPOINT_MISMATCH.value, 15)
    with pytest.raises(ChainBrokenError):
        restarted.checkpoint()
    for index in range(5):  # appends go on (a refusal is logged), but nothing is signed over the forgery
        restarted.append([disclosure(100 + index)], [security_event(100 + index)])
    assert restarted.checkpoints() == []
    restarted.dispose()


def test_a_store_that_stays_open_still_sees_a_forgery_made_meanwhile(
    anchored: AuditStore, database: Path, keys: TrustedKeys
) -> None:
    """Before signing, the store skips its own records while no other connection wrote; an edit by another
    connection (the administrator's) makes it check the chain from the last anchor again."""
    fill(anchored, 4)  # checkpoint 1 over record 12
    anchored.flush_anchors()
    admin = Administrator(database)
    admin.run("DELETE FROM punkty_kontrolne")
    admin.run(f"UPDATE {U} SET cel = 'Cel dopisany po fakcie' WHERE nr = 5")
    rewrite_from(admin, 5)
    admin.close()
    fill(anchored, 4)  # a checkpoint is due over record 24: refused (logged), the appends themselves go on
    assert anchored.checkpoints() == [] and anchored.head().nr == 24
    with pytest.raises(ChainBrokenError):
        anchored.checkpoint()


def test_a_checkpoint_replaced_by_one_signed_with_the_hubs_own_key(
    anchored: AuditStore, database: Path, key_file: Path, signer: CheckpointSigner, keys: TrustedKeys
) -> None:
    fill(anchored, 12)  # checkpoints 1-3 over records 12, 24, 36 (each an event, the end of an append)
    anchored.flush_anchors()
    admin = Administrator(database)
    admin.run(f"UPDATE {U} SET uzytkownik = 'ktos.inny' WHERE nr = 20")
    rewrite_from(admin, 20)
    now = dt.datetime.now(dt.UTC)
    links = {nr: admin.db.execute(f"SELECT skrot_wpisu FROM {Z} WHERE nr = ?", (nr,)).fetchone()[0] for nr in (24, 36)}
    forged, forged_head = signer.sign(2, 24, links[24], now, "OKRESOWY"), signer.sign(3, 36, links[36], now, "OKRESOWY")
    admin.run("DELETE FROM punkty_kontrolne WHERE nr_punktu >= 2")
    for checkpoint in (forged, forged_head):
        admin.run(
            "INSERT INTO punkty_kontrolne VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            checkpoint.number,
            checkpoint.nr,
            checkpoint.link,
            checkpoint.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            checkpoint.reason,
            checkpoint.algorithm,
            checkpoint.key_fingerprint,
            checkpoint.signature,
        )
    admin.close()
    assert verify(anchored, keys).ok  # validly signed, by the right key, over a consistent chain
    report = verify(anchored, keys, anchors=anchored.anchors)
    assert {(p.kind, p.checkpoint) for p in report.problems} >= {
        (ProblemKind.CHECKPOINT_REPLACED, 2),
        (ProblemKind.CHECKPOINT_REPLACED, 3),
    }
    first = report.first_problem
    assert first is not None and (first.kind, first.nr) == (ProblemKind.CHECKPOINT_MISMATCH, 13)


def test_a_chain_shorter_than_the_last_anchor(anchored: AuditStore, database: Path, keys: TrustedKeys) -> None:
    fill(anchored, 12)
    anchored.flush_anchors()
    admin = Administrator(database)
    for table in (U, Z):
        admin.run(f"DELETE FROM {table} WHERE nr > 30")
    admin.run("DELETE FROM punkty_kontrolne WHERE nr_punktu = 3")  # the one over record 36 goes too
    admin.close()
    assert verify(anchored, keys).ok
    report = verify(anchored, keys, anchors=anchored.anchors)
    first = report.first_problem
    assert first is not None and (first.kind, first.nr) == (ProblemKind.REMOVED, 31)
    assert "z końca rejestru" in first.message


def test_anchors_are_written_only_after_the_commit(anchored: AuditStore, database: Path, keys: TrustedKeys) -> None:
    """A checkpoint in the database without its anchor (a crash in between) is no finding."""
    fill(anchored, 4)  # checkpoint 1 over record 12, anchored
    unanchored = AuditStore(f"sqlite:///{database}", signer=anchored.signer, policy=CheckpointPolicy(10))
    fill(unanchored, 4)  # checkpoint 2 over record 24, signed by a store without an anchor file
    unanchored.dispose()
    anchored.flush_anchors()
    assert anchored.anchors is not None and len(anchored.anchors.read()) == 1
    assert verify(anchored, keys, anchors=anchored.anchors).ok
    anchored.verify_before_signing()
    fill(anchored, 1)
    assert anchored.checkpoint() is not None


def test_a_missing_anchor_file_stops_signing_until_the_state_is_accepted(
    anchored: AuditStore, database: Path, key_file: Path, keys: TrustedKeys
) -> None:
    fill(anchored, 5)
    anchored.flush_anchors()
    assert anchored.anchors is not None
    anchored.anchors.path.unlink()
    with pytest.raises(AnchorFileError, match="nie istnieje"):
        anchored.verify_before_signing()
    with pytest.raises(AnchorFileError):
        anchored.checkpoint()
    accepted = anchored.accept("inspektor.bezpieczenstwa", "plik kotwic odtworzony po awarii dysku")
    assert [Anchor.of(accepted)] == anchored.anchors.read()
    event = list(anchored.events(kind=EventKind.ACCEPTANCE))[-1]
    assert (event.user, event.actor) == ("inspektor.bezpieczenstwa", "inspektor.bezpieczenstwa")
    assert "plik kotwic odtworzony" in event.details and "BLAD_PLIKU_KOTWIC" in event.details
    fill(anchored, 5)
    anchored.verify_before_signing()
    assert verify(anchored, keys, anchors=anchored.anchors).ok


def test_accepting_a_tampered_state_lets_the_hub_go_on_and_keeps_the_finding(
    anchored: AuditStore, database: Path, key_file: Path, keys: TrustedKeys
) -> None:
    one_checkpoint_then_forgery(anchored, database)
    with pytest.raises(ChainBrokenError):
        anchored.checkpoint()
    checkpoint = anchored.accept("inspektor.bezpieczenstwa", "zgloszenie 2026/17: zmiana wyjasniona")
    assert checkpoint.reason == "PRZYJECIE"
    anchored.verify_before_signing()
    fill(anchored, 4)
    assert anchored.checkpoint() is not None
    report = verify(anchored, keys, anchors=anchored.anchors)
    assert report.ok, report.problems
    assert report.acceptance is not None and report.acceptance.number == checkpoint.number
    assert {p.kind for p in report.accepted} >= {ProblemKind.CHECKPOINT_MISMATCH, ProblemKind.CHECKPOINT_REMOVED}
    admin = Administrator(database)  # tampering after the acceptance is a finding again
    admin.run(f"UPDATE {U} SET cel = 'Znowu' WHERE nr = {checkpoint.nr + 2}")
    admin.close()
    later = verify(anchored, keys, anchors=anchored.anchors).first_problem
    assert later is not None and (later.kind, later.nr) == (ProblemKind.CHANGED, checkpoint.nr + 2)


def test_the_register_the_hub_opens_anchors_beside_its_key(tmp_path: Path, key_file: Path) -> None:
    register = SqlDisclosureRegister(
        f"sqlite:///{tmp_path / 'dane' / 'audit.sqlite'}", key_file=key_file, checkpoint_every=2
    )
    register.append([disclosure(1), disclosure(2)])
    register.store.flush_anchors()
    assert AnchorFile(default_anchor_path(key_file)).read()[0].nr == 2
    register.dispose()


# -- the commands -------------------------------------------------------------------------------------------------
def test_audit_verify_checks_the_anchor_file_by_default(
    anchored: AuditStore, database: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_checkpoint_then_forgery(anchored, database)
    url = f"sqlite:///{database}"
    code, out, _ = run(capsys, "audit", "verify", "--audit-db", url, "--key", str(key_file))
    assert code == 1 and "[NIEZGODNY_Z_PUNKTEM_KONTROLNYM]" in out and "kotwic" in out
    code, out, _ = run(capsys, "audit", "verify", "--audit-db", url, "--key", str(key_file), "--no-anchors")
    assert code == 0 and "nie porównano z plikiem kotwic" in out
    elsewhere = key_file.with_name("inne.kotwice")
    code, _, err = run(capsys, "audit", "verify", "--audit-db", url, "--anchors", str(elsewhere))
    assert code == 2 and "Nie ma pliku kotwic" in err


def test_audit_accept_records_who_and_why(
    anchored: AuditStore, database: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_checkpoint_then_forgery(anchored, database)
    url = f"sqlite:///{database}"
    with pytest.raises(SystemExit):  # --reason is required
        run(capsys, "audit", "accept", "--audit-db", url, "--key", str(key_file))
    code, out, _ = run(
        capsys,
        "audit",
        "accept",
        "--audit-db",
        url,
        "--key",
        str(key_file),
        "--operator",
        "inspektor.od",
        "--reason",
        "zgloszenie 2026/17",
    )
    assert code == 0 and "Przyjęto stan rejestru" in out
    code, out, _ = run(capsys, "audit", "verify", "--audit-db", url, "--key", str(key_file))
    assert code == 0 and "przyjęte przez operatora" in out and "[NIEZGODNY_Z_PUNKTEM_KONTROLNYM]" in out


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_an_anchor_file_that_is_a_fifo_or_a_device_is_refused_not_read(tmp_path: Path, special: str) -> None:
    """Finding (CLI pass): `audit verify --anchors FIFO` (and `serve` with audit_anchors set to one) waited forever,
    and /dev/zero ran out of memory (`Nieoczekiwany błąd (MemoryError)`)."""
    import os

    path = Path(special)
    if special == "fifo":
        path = tmp_path / "kotwice"
        os.mkfifo(path)
    with pytest.raises(AnchorFileError, match="nie jest zwykłym plikiem"):
        AnchorFile(path).read()
