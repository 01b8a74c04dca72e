"""The audit register and its commands attacked as a careless operator or an intruder would: files copied,
emptied or caught half-written behind the program's back, and inputs of the wrong kind to every command.

Each test names what must happen: a clear Polish sentence on stderr and exit code 2 (never a traceback),
nothing lost or half-written, tampering detected and named.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from audit.anchors import HEADER, AnchorFile
from audit.checkpoints import TrustedKeys
from audit.errors import AnchorFileError
from audit.records import EventKind
from audit.store import AuditStore, CheckpointPolicy, OpenMode
from audit.verify import ProblemKind, verify
from hub import cli as platforma
from tests.audit.conftest import AUDITOR_PASSWORD, Administrator, fill, hub_config, run
from tests.audit.test_tampering import rewrite_from

LINK = "a" * 64


@pytest.fixture
def filled(anchored: AuditStore, database: Path) -> Path:
    """A register of 60 records with 5 checkpoints and their anchors, closed as the hub closes it."""
    fill(anchored)
    anchored.dispose()
    return database


def refused(code: int, err: str, message: str) -> bool:
    return code == 2 and err.startswith("Błąd: ") and message in err and "Traceback" not in err


# -- files behind the program's back ------------------------------------------------------------------------------
def test_a_copy_of_the_database_file_made_after_the_hub_stopped_holds_the_whole_register(
    filled: Path, tmp_path: Path, keys: TrustedKeys
) -> None:
    # The operator's backup: `cp audit.sqlite` once the hub is stopped. Every record used to stay in
    # `audit.sqlite-wal` (the last connection to close was read-only and could not fold the log back), so the
    # copy held no register at all, and deleting the "temporary" -wal file lost every record.
    backup = tmp_path / "kopia" / "audit.sqlite"
    backup.parent.mkdir()
    shutil.copyfile(filled, backup)
    copy = AuditStore(f"sqlite:///{backup}", mode=OpenMode.READ_ONLY)
    try:
        report = verify(copy, keys)
    finally:
        copy.dispose()
    assert report.ok and report.records == 60 and report.checkpoints == 5, report.problems


def test_an_anchor_line_caught_half_written_is_not_taken_for_a_damaged_file(
    filled: Path, key_file: Path, keys: TrustedKeys
) -> None:
    # Another process (the hub, a purge) appends anchors while `verify` or the store reads the file: a reader
    # sees the last line part-written. That used to be "plik zmieniono albo uszkodzono": verify exited 2 and
    # the hub refused to sign its checkpoint (seen with a purge run beside an appending hub).
    anchors = AnchorFile(key_file.with_name(key_file.stem + ".kotwice"))
    whole = anchors.path.read_bytes()
    last = whole.rstrip(b"\n").rsplit(b"\n", 1)[1]
    anchors.path.write_bytes(whole[: len(whole) - len(last) // 2 - 1])  # the last line cut in the middle
    reader = AuditStore(f"sqlite:///{filled}", mode=OpenMode.READ_ONLY)
    hub = AuditStore(f"sqlite:///{filled}", key_file=key_file, policy=CheckpointPolicy(every_records=10))
    try:
        report = verify(reader, keys, anchors=anchors)
        assert report.ok and report.anchors == 4, report.problems
        hub.verify_before_signing()
        anchors.path.write_bytes(whole)  # the writer finishes its line
        assert verify(reader, keys, anchors=anchors).anchors == 5
        assert hub.checkpoint() is None  # nothing new since checkpoint 5, and no refusal
    finally:
        reader.dispose()
        hub.dispose()


def test_an_anchor_line_torn_by_a_crash_does_not_stop_signing_once_the_next_one_is_appended(
    filled: Path, key_file: Path, keys: TrustedKeys
) -> None:
    # The hub died in the middle of writing checkpoint 5's anchor: half a line, no newline. The next append keeps
    # it apart on its own line; it used to be refused as a changed file from then on by verify, by the hub before
    # every checkpoint and by `audit accept`, the documented way out (only a hand edit of the file helped).
    anchors = AnchorFile(key_file.with_name(key_file.stem + ".kotwice"))
    whole = anchors.path.read_bytes()
    last = whole.rstrip(b"\n").rsplit(b"\n", 1)[1]
    anchors.path.write_bytes(whole[: len(whole) - len(last) // 2 - 1])  # the crash: checkpoint 5 half anchored
    hub = AuditStore(f"sqlite:///{filled}", key_file=key_file, policy=CheckpointPolicy(every_records=10))
    try:
        fill(hub, 4)  # 12 more records: checkpoint 6 signed and anchored after the torn line
        hub.flush_anchors()
        lines = anchors.path.read_bytes().split(b"\n")
        assert lines[-3] == last[: len(last) - len(last) // 2] and lines[-2].startswith(b"6 "), lines[-3:]
        report = verify(hub, keys, anchors=anchors)
        assert report.ok and report.anchors == 5, report.problems  # checkpoints 1-4 and 6
        hub.verify_before_signing()
        fill(hub, 4)
        hub.flush_anchors()
        assert [a.number for a in anchors.read()] == [1, 2, 3, 4, 6, 7]
    finally:
        hub.dispose()


def test_a_line_in_the_middle_of_the_anchor_file_that_is_no_anchor_is_still_a_changed_file(
    filled: Path, key_file: Path
) -> None:
    anchors = AnchorFile(key_file.with_name(key_file.stem + ".kotwice"))
    lines = anchors.path.read_text().split("\n")
    lines.insert(2, "to nie jest kotwica")
    anchors.path.write_text("\n".join(lines))
    with pytest.raises(AnchorFileError, match="nieczytelny"):
        anchors.read()


def test_an_emptied_anchor_file_stops_signing_as_a_missing_one_does(filled: Path, key_file: Path) -> None:
    # `: > klucz-audytu.kotwice` (or a log rotation that truncates) and then the database owner's forgery: the
    # last checkpoint deleted, the last records edited and relinked. A deleted file stops the hub from signing;
    # an emptied one let it check from the last signed checkpoint left and sign over the forgery.
    key_file.with_name(key_file.stem + ".kotwice").write_bytes(b"")
    admin = Administrator(filled)
    admin.run("DELETE FROM punkty_kontrolne WHERE nr_punktu = 5")
    admin.run("UPDATE rejestr_ujawnien SET cel = 'Cel dopisany po fakcie' WHERE nr = 55")
    rewrite_from(admin, 55)
    admin.close()
    hub = AuditStore(f"sqlite:///{filled}", key_file=key_file, policy=CheckpointPolicy(every_records=10))
    try:
        with pytest.raises(AnchorFileError, match="nie istnieje, jest pusty albo nie ma żadnej kotwicy"):
            hub.verify_before_signing()
        with pytest.raises(AnchorFileError):
            hub.checkpoint()
        assert len(hub.checkpoints()) == 4  # nothing signed over the forgery
    finally:
        hub.dispose()


def _cut_to_header(key_file: Path) -> None:
    key_file.with_name(key_file.stem + ".kotwice").write_text(HEADER + "\n")


def test_an_anchor_file_cut_to_its_header_line_stops_signing_and_fails_verify(
    filled: Path, key_file: Path, keys: TrustedKeys, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack pass: the last checkpoint and the records it covered deleted, the anchor file cut to its header line.
    `audit verify` said "Rejestr jest nienaruszony" (exit 0) and the hub started: an emptied file was refused,
    one with its header left was not. Its checkpoints were signed long ago (here: the grace set to nothing)."""
    monkeypatch.setattr("audit.anchors.ANCHOR_GRACE", dt.timedelta(0))
    admin = Administrator(filled)
    admin.run("DROP TRIGGER IF EXISTS punkty_kontrolne_bez_delete")
    admin.run("DELETE FROM punkty_kontrolne WHERE nr_punktu = 5")
    admin.run("DELETE FROM rejestr_ujawnien WHERE nr > 48")
    admin.run("DELETE FROM zdarzenia_bezpieczenstwa WHERE nr > 48")
    admin.close()
    _cut_to_header(key_file)
    hub = AuditStore(f"sqlite:///{filled}", key_file=key_file, policy=CheckpointPolicy(every_records=10))
    try:
        with pytest.raises(AnchorFileError, match="nie ma żadnej kotwicy"):
            hub.verify_before_signing()
        report = verify(hub, keys, anchors=hub.anchors)
        assert not report.ok and [p.kind for p in report.problems] == [ProblemKind.ANCHORS_MISSING]
    finally:
        hub.dispose()
    code, out, _ = run(capsys, "audit", "verify", "--audit-db", f"sqlite:///{filled}", "--key", str(key_file))
    assert code == 1 and "[BRAK_KOTWIC]" in out and "nienaruszony" not in out, out
    key_file.with_name(key_file.stem + ".kotwice").unlink()  # deleted: the same finding, not an "Uwaga" and exit 0
    code, out, _ = run(capsys, "audit", "verify", "--audit-db", f"sqlite:///{filled}", "--key", str(key_file))
    assert code == 1 and "[BRAK_KOTWIC]" in out, out


def test_an_anchor_file_with_no_anchor_yet_is_no_finding_while_the_first_anchor_may_still_be_written(
    filled: Path, key_file: Path, keys: TrustedKeys
) -> None:
    """The anchor is appended after the checkpoint's commit, by a thread of the process that signed it: another
    process reading the file meanwhile finds the header alone (ANCHOR_GRACE)."""
    _cut_to_header(key_file)
    hub = AuditStore(f"sqlite:///{filled}", key_file=key_file, policy=CheckpointPolicy(every_records=10))
    try:
        hub.verify_before_signing()
        assert verify(hub, keys, anchors=hub.anchors).ok
    finally:
        hub.dispose()


# -- wrong-kind inputs to the commands -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("rejestr-bez-schematu", "Nieprawidłowy adres bazy audytu"),
        ("tajny-login:tajne-haslo@localhost/audyt", "Nieprawidłowy adres bazy audytu"),
        ("mysql://audyt:tajne-haslo@127.0.0.1:1/audyt", "Nie można otworzyć bazy audytu"),
    ],
    ids=["bez-schematu", "bez-schematu-z-haslem", "baza-bez-sterownika"],
)
def test_a_database_url_that_cannot_be_used_is_a_polish_sentence(
    url: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "audit", "verify", "--audit-db", url)
    assert refused(code, err, message), err
    assert "tajne-haslo" not in err + out and "nienaruszony" not in out


@pytest.mark.parametrize("number", ["²", "١٢", "１２"], ids=["superscript", "arabic-indic", "fullwidth"])
def test_an_anchor_numbered_with_other_digits_than_ascii_is_refused(
    filled: Path, number: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # '²' made `int()` fail with a traceback; '١٢' was silently read as record 12.
    code, out, err = run(capsys, "audit", "verify", "--audit-db", f"sqlite:///{filled}", "--anchor", f"{number}:{LINK}")
    assert refused(code, err, "Kotwica ma postać"), err
    assert not out


@pytest.mark.parametrize("days", ["800000", "99999999999"], ids=["przed-rokiem-1", "poza-timedelta"])
@pytest.mark.parametrize("really", [[], ["--yes"]], ids=["na-probe", "naprawde"])
def test_a_retention_age_beyond_the_calendar_is_refused_and_removes_nothing(
    filled: Path, key_file: Path, days: str, really: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{filled}"
    code, _, err = run(
        capsys, "audit", "purge", "--audit-db", url, "--key", str(key_file), "--older-than-days", days, *really
    )
    assert refused(code, err, "Okres przechowywania"), err
    reader = AuditStore(url, mode=OpenMode.READ_ONLY)
    try:
        assert reader.head().nr == 60 and list(reader.events(kind=EventKind.PURGE)) == []
    finally:
        reader.dispose()


@pytest.mark.parametrize(
    "period",
    [["--until", "9999-12-31"], ["--since", "0001-01-01"], ["--since", "0001-01-01T00:30"]],
    ids=["koniec-kalendarza", "poczatek-kalendarza", "poczatek-z-godzina"],
)
def test_a_report_period_at_the_calendars_edge_is_a_polish_sentence(
    filled: Path, tmp_path: Path, period: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "raport.xml"
    code, _, err = run(capsys, "audit", "report", "--audit-db", f"sqlite:///{filled}", "--output", str(target), *period)
    assert refused(code, err, "wykracza poza zakres dat"), err
    assert not target.exists()


def test_platforma_audit_report_with_a_period_at_the_calendars_edge_exits_2(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # It was "Nieoczekiwany błąd (OverflowError)", exit code 3: the hub's last-resort handler.
    monkeypatch.setenv("PLATFORMA_HASLO", AUDITOR_PASSWORD)
    config = hub_config(tmp_path, f"sqlite:///{filled}")
    code = platforma.main(["audit", "report", "--config", str(config), "--actor", "audytor", "--until", "9999-12-31"])
    captured = capsys.readouterr()
    assert refused(code, captured.err, "wykracza poza zakres dat"), captured.err
    assert not captured.out


@pytest.mark.parametrize("pesel", ["90051712345", "١١١١١١١١١١١"], ids=["bad-checksum", "arabic-indic-digits"])
def test_the_standalone_report_refuses_a_pesel_nobody_can_have(
    filled: Path, tmp_path: Path, pesel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `platforma audit report` checks the number as SOAP does; `python -m audit.cli audit report` made an
    # empty "no disclosures" document for it and recorded the report in the register.
    target = tmp_path / "raport.xml"
    url = f"sqlite:///{filled}"
    code, _, err = run(capsys, "audit", "report", "--audit-db", url, "--pesel", pesel, "--output", str(target))
    assert code == 2 and "Numer PESEL" in err and "Traceback" not in err, err
    assert not target.exists()
    reader = AuditStore(url, mode=OpenMode.READ_ONLY)
    try:
        assert list(reader.events(kind=EventKind.REPORT)) == []
    finally:
        reader.dispose()


@pytest.mark.parametrize(
    "target",
    ["audit.sqlite", "audit.sqlite-wal", "klucz-audytu.kotwice", "klucz-audytu.pem", "link-do-bazy"],
    ids=["rejestr", "log-rejestru", "plik-kotwic", "klucz", "dowiazanie-do-rejestru"],
)
def test_a_report_never_replaces_the_register_its_anchors_or_the_key(
    filled: Path, key_file: Path, target: str, keys: TrustedKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    # A mistyped `--output audit.sqlite` replaced the register by the report about it, and said "Zapisano raport".
    filled.with_name("audit.sqlite-wal").touch()  # as a running hub has it (empty: the log was folded back)
    key_file.with_name("link-do-bazy").symlink_to(filled)
    victim = filled.with_name(target) if target.startswith("audit") else key_file.with_name(target)
    before = victim.read_bytes()
    url = f"sqlite:///{filled}"
    code, out, err = run(capsys, "audit", "report", "--audit-db", url, "--since", "2026-11-02", "--output", str(victim))
    assert refused(code, err, "nie zastępuję go raportem"), err
    assert not out
    # The log is SQLite's to remove when the last connection closes; every other file is left as it was.
    assert (victim.read_bytes() if victim.exists() else b"") == (b"" if target.endswith("-wal") else before)
    assert not list(key_file.parent.rglob("*.czesciowy"))
    reader = AuditStore(url, mode=OpenMode.READ_ONLY)
    try:
        report = verify(reader, keys, anchors=AnchorFile(key_file.with_name(key_file.stem + ".kotwice")))
    finally:
        reader.dispose()
    assert report.ok and report.anchors == 5, report.problems


def test_platforma_audit_report_never_replaces_the_register(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLATFORMA_HASLO", AUDITOR_PASSWORD)
    config = hub_config(tmp_path, f"sqlite:///{filled}")
    before = filled.read_bytes()
    code = platforma.main(
        [
            "audit",
            "report",
            "--config",
            str(config),
            "--actor",
            "audytor",
            "--since",
            "2026-11-02",
            "--output",
            str(filled),
        ]
    )
    captured = capsys.readouterr()
    assert refused(code, captured.err, "nie zastępuję go raportem"), captured.err
    assert filled.read_bytes()[:16] == before[:16] == b"SQLite format 3\x00"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("platforma.toml", b'[hub]\nname = "Hub"\ndatabase = "sqlite:///hub.sqlite"\n'),
        ("pieczec.p12", b"\x30\x82\x0a\x1f\x02\x01\x03\x30\x82\x09\xe5"),
        ("notatka.txt", "Ważna notatka operatora.\n".encode()),
    ],
)
def test_a_report_replaces_only_an_earlier_report(
    filled: Path, tmp_path: Path, name: str, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack pass: `--output platforma.toml` (the hub's configuration) or `--output klucze/pieczec.p12` (the
    office seal) was replaced by the report, exit 0; the deny-list knew only the register, anchors and PEM."""
    victim = tmp_path / name
    victim.write_bytes(content)
    url = f"sqlite:///{filled}"
    since = ("--since", "2026-11-02")
    code, _out, err = run(capsys, "audit", "report", "--audit-db", url, *since, "--output", str(victim))
    assert refused(code, err, "nie zastępuję go raportem"), err
    assert victim.read_bytes() == content
    earlier = tmp_path / "raport.out"
    for fmt in ("csv", "xml", "csv"):  # an earlier report of either format is replaced, as an empty file is
        output = ("--format", fmt, "--output", str(earlier))
        code, _out, err = run(capsys, "audit", "report", "--audit-db", url, *since, *output)
        assert code == 0, err
    assert earlier.read_bytes().removeprefix(b"\xef\xbb\xbf").startswith(b"Nr;Czas;")


def test_an_index_rebuilt_without_a_record_is_found_by_verify(
    filled: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whoever can write the file rebuilds the PESEL index without one record and puts the index's old definition
    back (`writable_schema`): no row changes, so the chain verified, while the person's report (GDPR art. 15, read
    through the index) lacked the record. `verify` now checks the tables against their indexes."""
    import sqlite3

    store = AuditStore(f"sqlite:///{filled}", mode=OpenMode.READ_ONLY)
    pesel = next(iter(store.disclosures())).subject_pesel
    assert pesel is not None
    before = len(list(store.disclosures(pesel=pesel)))
    store.dispose()
    with sqlite3.connect(filled) as connection:
        nr = connection.execute("SELECT min(nr) FROM rejestr_ujawnien WHERE pesel_osoby = ?", (pesel,)).fetchone()[0]
        connection.execute("DROP INDEX ix_rejestr_ujawnien_pesel_osoby")
        connection.execute(
            f"CREATE INDEX ix_rejestr_ujawnien_pesel_osoby ON rejestr_ujawnien (pesel_osoby) WHERE nr <> {nr}"
        )
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute(
            "UPDATE sqlite_schema SET sql = 'CREATE INDEX ix_rejestr_ujawnien_pesel_osoby ON rejestr_ujawnien "
            "(pesel_osoby)' WHERE name = 'ix_rejestr_ujawnien_pesel_osoby'"
        )
    store = AuditStore(f"sqlite:///{filled}", mode=OpenMode.READ_ONLY)
    try:
        assert len(list(store.disclosures(pesel=pesel))) == before - 1  # the hidden record: the attack works
        report = verify(store, TrustedKeys.from_files([key_file]))
    finally:
        store.dispose()
    assert not report.ok and report.problems[0].kind == ProblemKind.STRUCTURE, report.problems
    assert "ix_rejestr_ujawnien_pesel_osoby" in report.problems[0].message
    code, out, err = run(capsys, "audit", "verify", "--audit-db", f"sqlite:///{filled}", "--key", str(key_file))
    assert code == 1 and "[ZMIENIONA_STRUKTURA_REJESTRU]" in out and "REINDEX" in out, out + err
    with sqlite3.connect(filled) as connection:
        connection.execute("REINDEX ix_rejestr_ujawnien_pesel_osoby")
    store = AuditStore(f"sqlite:///{filled}", mode=OpenMode.READ_ONLY)
    try:
        assert verify(store, TrustedKeys.from_files([key_file])).ok
        assert len(list(store.disclosures(pesel=pesel))) == before
    finally:
        store.dispose()
