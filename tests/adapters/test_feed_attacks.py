"""Feeding replicas attacked as a careless operator or a hostile source would: values the common model
cannot carry, sources and targets of the wrong kind, replicas swapped behind the hub's back, queries during
a feed, replayed batches. Each ends in a person rejected by source key, or one Polish sentence with a
non-zero exit code or a stable code; never in a traceback, lost people, or one office's data served as
another's."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters import adapter_class
from adapters.base import ModelRecord, SourceRejection
from adapters.feeder import FULL, Feeder, FeedOptions
from adapters.targets import ReplicaTarget
from contract.errors import ConfigurationError, ForbiddenXml, MalformedXml, SchemaViolation
from contract.identifiers import Identifier
from demo.data import DomainSummary
from hub.cli import main
from hub.soap.contracts import feed_schema
from replica.database import ReplicaReader
from replica.feed import INCREMENTAL, BatchHeader, ReplicaIdentity
from replica.writer import BatchOutOfOrder, Loader, ParsedRecord, ReplicaWriter
from tests.conftest import FIXTURES

FEED = "urn:pl:platforma-komunikacyjna:zasilanie:1"


def feed(source: Path | str, target: Path | str, *extra: str) -> int:
    source_url = source if isinstance(source, str) else f"sqlite:///{source}"
    return main(
        ["feed", "--adapter", "pup", "--source", source_url, "--target", f"sqlite:///{target}", "--full",
         "--quiet", "--no-parallel", *extra]
    )  # fmt: skip


def set_value(path: Path, table: str, column: str, value: Any) -> int:
    """Give one person's row of `table` the value (bound as it is: text, number or BLOB); their key."""
    connection = sqlite3.connect(path)
    try:
        (person,) = connection.execute(f"SELECT min(id_osoby) FROM {table}").fetchone()  # noqa: S608
        connection.execute(f"UPDATE {table} SET {column} = ? WHERE id_osoby = ?", (value, person))  # noqa: S608
        connection.commit()
        return int(person)
    finally:
        connection.close()


def read_all(adapter: Any) -> list[Any]:
    try:
        return [item for batch in adapter.full(batch_size=50) for item in batch]
    finally:
        adapter.close()


def assert_valid_feed(records: list[ModelRecord]) -> None:
    """The records as one batch: well-formed XML the feed schema takes (what the hub would accept)."""
    document = f'<Paczka xmlns="{FEED}" Zbior="PUP" Rodzaj="PELNA">'.encode()
    document += b"".join(record.to_xml() for record in records) + b"</Paczka>"
    root = etree.fromstring(document)
    schema = feed_schema()
    assert schema.validate(root), schema.error_log


def live_people(path: Path) -> list[tuple[str, str, bytes]]:
    """(source key, table of contents, sections) of every live person: what a query can see."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute(
            "SELECT o.id_zrodlowy, s.spis, s.tresc FROM osoby o JOIN sekcje s ON s.osoba_id = o.id "
            "WHERE o.generacja = (SELECT generacja FROM stan_repliki) ORDER BY o.id_zrodlowy"
        ).fetchall()
    finally:
        connection.close()


# -- values the common model cannot carry --------------------------------------------------------------------
# Each passed the adapter before and made a record the hub refuses: over SOAP the whole batch (and so the run)
# was refused for one person; written to a replica directly, the replica held a section that is no XML.
@pytest.mark.parametrize(
    ("table", "column", "value", "reason"),
    [
        ("osoba", "nazwisko", "Ko\x00walska", "znak niedozwolony w XML (znak sterujący, np. NUL): osoba: nazwisko"),
        ("osoba", "nazwisko", "Ko\x0bwalska", "znak niedozwolony w XML"),
        ("osoba", "imie", "An\ufffena", "znak niedozwolony w XML"),
        ("adres", "miejscowosc", "Łódź\x1b[2J", "znak niedozwolony w XML"),
        ("osoba", "nazwisko", b"Kowalska", "wartość binarna (BLOB) zamiast tekstu: osoba: nazwisko"),
        ("osoba", "imie", "Łucja".encode(), "wartość binarna (BLOB) zamiast tekstu: osoba: imię"),
        ("adres", "nr_domu", "1" * 41, "wartość dłuższa niż 40 znaków: adres: numer domu"),
        ("osoba", "nr_dokumentu", "A" * 41, "wartość dłuższa niż 40 znaków: osoba: numer dokumentu"),
        ("wyplata", "kwota_brutto", "NaN", "nieprawidłowa kwota (nie liczba albo ponad 12 cyfr)"),
        ("wyplata", "kwota_netto", "1234567890123", "nieprawidłowa kwota (nie liczba albo ponad 12 cyfr)"),
        ("osoba", "pesel", "٩٠٠٥١٧١٢٣٤٤", "PESEL nie składa się z 11 cyfr"),  # Arabic-Indic digits
    ],
    ids=["nul", "vertical-tab", "non-character", "escape-sequence", "blob-surname", "blob-first-name",
         "long-house-number", "long-document-number", "nan-amount", "13-digit-amount", "arabic-indic-pesel"],
)  # fmt: skip
def test_a_value_xml_or_the_model_cannot_carry_rejects_only_that_person(
    copy_of: Any, table: str, column: str, value: Any, reason: str
) -> None:
    source = copy_of("PUP")
    person = set_value(source, table, column, value)
    items = read_all(adapter_class("pup")(f"sqlite:///{source}"))  # type: ignore[call-arg]
    rejected = [item for item in items if isinstance(item, SourceRejection)]
    assert [r.source_key for r in rejected] == [f"SYR-{person}"]
    assert reason in rejected[0].reason
    assert str(value) not in rejected[0].reason or len(str(value)) < 4  # the person's value is not shown
    assert_valid_feed([item for item in items if isinstance(item, ModelRecord)])


def test_amounts_the_model_takes_are_kept_to_the_cent(copy_of: Any) -> None:
    source = copy_of("PUP")
    set_value(source, "wyplata", "kwota_brutto", "123456789012")  # twelve digits: the model's most
    set_value(source, "wyplata", "kwota_netto", -12.5)  # a correction
    items = read_all(adapter_class("pup")(f"sqlite:///{source}"))  # type: ignore[call-arg]
    assert all(isinstance(item, ModelRecord) for item in items)
    stored = b"".join(content for item in items for _name, content in item.sections)
    assert b"<m:KwotaBrutto>123456789012.00</m:KwotaBrutto>" in stored and b">-12.50</m:KwotaNetto>" in stored


def test_a_control_character_at_the_source_is_reported_and_the_replica_holds_only_xml(
    copy_of: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = copy_of("PUP")
    person = set_value(source, "osoba", "nazwisko", "Nowak\x00; DROP TABLE osoby")
    replica = tmp_path / "pup.sqlite"
    assert feed(source, replica) == 1
    out = capsys.readouterr().out.replace("\n", " ")
    assert "odrzucono 1" in out and f"SYR-{person}" in out and "znak niedozwolony" in out
    people = live_people(replica)
    assert len(people) == 119 and f"SYR-{person}" not in [key for key, _c, _s in people]
    for _key, _contents, content in people:
        etree.fromstring(b"<s>" + content + b"</s>")  # every stored section is XML the hub can answer with


# -- sources and targets of the wrong kind -------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["pdf", "noise", "empty", "folder", "feed-file"])
def test_a_source_of_the_wrong_kind_stops_the_feed_with_one_polish_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    source = tmp_path / "zrodlo.sqlite"
    if kind == "folder":
        source.mkdir()
    else:
        contents = {
            "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\n" * 100,
            "noise": bytes(range(256)) * 64,
            "empty": b"",
            "feed-file": (FIXTURES / "xml" / "feed_pup_small.xml").read_bytes(),
        }
        source.write_bytes(contents[kind])
    before = source.read_bytes() if source.is_file() else None
    assert feed(source, tmp_path / "pup.sqlite") == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert "Baza dziedzinowa" in err and "Traceback" not in err and "Nieoczekiwany" not in err
    if before is not None:
        assert source.read_bytes() == before  # a source is only ever read


@pytest.mark.parametrize("kind", ["pdf", "folder"])
def test_a_target_that_is_no_replica_database_is_one_polish_sentence_and_exit_2(
    domain_dbs: DomainSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """Before: `Nieoczekiwany błąd (DatabaseError)` with SQLAlchemy's web link, exit 3."""
    target = tmp_path / "pup.sqlite"
    if kind == "folder":
        target.mkdir()
    else:
        target.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 32)
    before = target.read_bytes() if target.is_file() else None
    assert feed(domain_dbs.urls["PUP"], target) == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert "Nie można otworzyć bazy repliki" in err and "[BLAD_KONFIGURACJI]" in err
    assert "Nieoczekiwany" not in err and "sqlalche.me" not in err and "Traceback" not in err
    if before is not None:
        assert target.read_bytes() == before
    # The run's lock went with the refusal: a right target is fed at once by the same process.
    assert feed(domain_dbs.urls["PUP"], tmp_path / "inna.sqlite") == 0


def test_load_into_a_replica_that_is_no_database_is_a_configuration_error_not_a_crash(tmp_path: Path) -> None:
    """`platforma load` (and the hub's feeding service) open replicas with the same writer: before, a raw
    `DatabaseError` (`Nieoczekiwany błąd`, exit 3; an internal error over SOAP)."""
    target = tmp_path / "pup.sqlite"
    target.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 32)
    before = target.read_bytes()
    with pytest.raises(ConfigurationError) as refused:
        Loader(f"sqlite:///{target}", "PUP", feed_schema())
    assert (
        "Nie można otworzyć bazy repliki" in refused.value.message and "file is not a database" in refused.value.message
    )
    assert target.read_bytes() == before


def test_text_in_windows_1250_rejects_only_that_person_without_showing_their_data(
    copy_of: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite's decoding stopped the whole run at the first such value (and quoted the undecodable text in
    its error: a person's surname on the operator's console). Now that person alone is rejected, by source
    key, naming the field and the encoding; everyone else is fed."""
    source = copy_of("PUP")
    connection = sqlite3.connect(source)
    (people,) = connection.execute("SELECT count(*) FROM osoba").fetchone()
    (person,) = connection.execute("SELECT min(id_osoby) FROM osoba").fetchone()
    connection.execute(
        "UPDATE osoba SET nazwisko = CAST(? AS TEXT) WHERE id_osoby = ?", ("Żółtowska".encode("cp1250"), person)
    )
    connection.commit()
    connection.close()
    items = read_all(adapter_class("pup")(f"sqlite:///{source}"))  # type: ignore[call-arg]
    rejected = [item for item in items if isinstance(item, SourceRejection)]
    assert [r.source_key for r in rejected] == [f"SYR-{person}"]
    assert "innym kodowaniu niż UTF-8 (np. Windows-1250): osoba: nazwisko" in rejected[0].reason
    assert_valid_feed([item for item in items if isinstance(item, ModelRecord)])
    replica = tmp_path / "pup.sqlite"
    assert feed(source, replica) == 1  # fed, with records rejected
    captured = capsys.readouterr()
    shown = (captured.out + captured.err).replace("\n", " ")
    assert "\ufffd" not in shown and "towska" not in shown and "with text" not in shown
    live = live_people(replica)
    assert len(live) == people - 1 and f"SYR-{person}" not in {key for key, _, _ in live}


# -- feed files of the wrong kind (`platforma load`) -------------------------------------------------------------
GOOD_FILE = FIXTURES / "xml" / "feed_pup_small.xml"
PACZKA = f'<Paczka xmlns="{FEED}" Zbior="PUP" Rodzaj="PELNA">'


@pytest.mark.parametrize(
    ("contents", "error"),
    [
        (lambda: b"", MalformedXml),
        (lambda: b"%PDF-1.7\n" + bytes(range(256)) * 16, MalformedXml),
        (
            lambda: (
                '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>' + PACZKA + "&c;</Paczka>"
            ).encode(),
            ForbiddenXml,
        ),
        (
            lambda: (
                '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + PACZKA
                + "<Rekord><IdZrodlowy>&e;</IdZrodlowy><Usuniety>true</Usuniety></Rekord></Paczka>"
            ).encode(),
            ForbiddenXml,
        ),
        (lambda: GOOD_FILE.read_bytes().replace(FEED.encode(), b"urn:inny"), SchemaViolation),
    ],
    ids=["empty", "pdf", "entity-bomb", "external-entity", "foreign-namespace"],
)  # fmt: skip
def test_a_feed_file_of_the_wrong_kind_is_refused_with_a_stable_code_and_nothing_written(
    tmp_path: Path, contents: Any, error: type[Exception]
) -> None:
    path = tmp_path / "paczka.xml"
    path.write_bytes(contents())
    replica = tmp_path / "pup.sqlite"
    loader = Loader(f"sqlite:///{replica}", "PUP", feed_schema(), data_set="PUP", controller="PUP")
    try:
        with pytest.raises(error) as refused:
            loader.load(path)
    finally:
        loader.dispose()
    assert "root:" not in refused.value.message  # /etc/passwd was never read into the message
    assert live_people(replica) == []


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.replace("encoding='UTF-8'", "encoding='UTF-16'").encode("utf-16"),
        lambda text: b"\xef\xbb\xbf" + text.encode(),
        lambda text: text.replace("\n", "\r\n").encode(),
    ],
    ids=["utf-16", "utf-8-bom", "crlf"],
)
def test_a_feed_file_in_another_encoding_or_line_ending_loads_the_same_people(tmp_path: Path, encode: Any) -> None:
    reference, other = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    path = tmp_path / "paczka.xml"
    path.write_bytes(encode(GOOD_FILE.read_text(encoding="utf-8")))
    for replica, file in ((reference, GOOD_FILE), (other, path)):
        loader = Loader(f"sqlite:///{replica}", "PUP", feed_schema())
        try:
            assert loader.load(file).loaded == 3
        finally:
            loader.dispose()
    assert live_people(other) == live_people(reference)


# -- replicas changed behind the program's back ------------------------------------------------------------------
def fed_replica(domain_dbs: DomainSummary, folder: Path, kind: str) -> Path:
    path = folder / f"{kind.lower()}.sqlite"
    target = ReplicaTarget(f"sqlite:///{path}", kind, data_set=kind, controller=kind)
    adapter = adapter_class(kind.lower())(domain_dbs.urls[kind])  # type: ignore[call-arg]
    try:
        Feeder(adapter, target).run(FULL)
    finally:
        adapter.close()
        target.close()
    return path


def a_pesel(path: Path) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(connection.execute("SELECT min(pesel) FROM osoby WHERE pesel IS NOT NULL").fetchone()[0])
    finally:
        connection.close()


def test_a_replica_moved_over_by_another_offices_is_refused_by_every_new_connection(
    domain_dbs: DomainSummary, tmp_path: Path
) -> None:
    """The hub checked what a replica holds once, at its first read: a thread that opened its connection after
    the OPS replica had been moved over the PUP one answered PUP queries with OPS people's data."""
    pup, ops = fed_replica(domain_dbs, tmp_path, "PUP"), fed_replica(domain_dbs, tmp_path, "OPS")
    reader = ReplicaReader(f"sqlite:///{pup}", expected=ReplicaIdentity("PUP", "PUP", "PUP"))
    try:
        found, _sections = reader.lookup(Identifier(pesel=a_pesel(pup)), ["DaneOsobowe"])
        assert len(found) == 1  # serving, checked
        ops_pesel = a_pesel(ops)
        staged = tmp_path / "podmieniona.sqlite"
        shutil.copyfile(ops, staged)
        os.replace(staged, pup)  # another office's replica, moved over this one while the hub serves
        answers: list[Any] = []

        def ask() -> None:
            try:
                answers.append(reader.lookup(Identifier(pesel=ops_pesel), ["DaneOsobowe"]))
            except ConfigurationError as error:
                answers.append(error)

        worker = threading.Thread(target=ask)  # a request served by another thread of the hub's pool
        worker.start()
        worker.join(timeout=60)
        assert len(answers) == 1
        assert isinstance(answers[0], ConfigurationError), f"OPS data served as PUP: {answers[0]!r}"[:300]
        assert "zbiór OPS" in answers[0].message and "nie jest udostępniany" in answers[0].message
    finally:
        reader.dispose()


# -- queries while a replica is fed ------------------------------------------------------------------------------
def test_a_query_during_a_full_feed_sees_the_old_snapshot_or_the_new_one_never_a_mix_or_an_error(
    copy_of: Any, tmp_path: Path
) -> None:
    source = copy_of("PUP")
    replica = tmp_path / "pup.sqlite"
    assert feed(source, replica) == 0
    pesel = a_pesel(replica)
    connection = sqlite3.connect(source)
    connection.execute("UPDATE osoba SET nazwisko = 'Nowa-Nazwa'")  # every person changes in the new snapshot
    connection.commit()
    connection.close()
    reader = ReplicaReader(f"sqlite:///{replica}", expected=ReplicaIdentity("PUP", "PUP"))
    seen: list[str] = []
    problems: list[BaseException] = []
    stop = threading.Event()

    def surname() -> str:
        found, sections = reader.lookup(Identifier(pesel=pesel), ["DaneOsobowe"])
        assert len(found) == 1, found
        return "nowa" if b"Nowa-Nazwa" in sections["DaneOsobowe"] else "stara"

    def hammer() -> None:
        while not stop.is_set():
            try:
                seen.append(surname())
            except BaseException as error:  # reported below
                problems.append(error)
                return

    at_batches: list[tuple[bool, str]] = []
    worker = threading.Thread(target=hammer)
    worker.start()
    target = ReplicaTarget(f"sqlite:///{replica}", "PUP")
    adapter = adapter_class("pup")(f"sqlite:///{source}")  # type: ignore[call-arg]
    try:
        options = FeedOptions(batch_records=10, source_batch=20)
        Feeder(adapter, target, options, on_batch=lambda h, _r: at_batches.append((h.final, surname()))).run(FULL)
    finally:
        stop.set()
        worker.join(timeout=60)
        adapter.close()
        target.close()
        reader.dispose()
    assert problems == []
    assert len(at_batches) == 12
    assert [answer for final, answer in at_batches if not final] == ["stara"] * 11  # staged: not yet visible
    assert at_batches[-1] == (True, "nowa")
    assert seen and seen == sorted(seen, key=["stara", "nowa"].index)  # old, then new: never back


# -- a feed killed in the middle of a batch -----------------------------------------------------------------------
KILLED_IN_FOURTH_BATCH = """
import os, signal, sys
from adapters import adapter_class
from adapters.feeder import FULL, Feeder, FeedOptions
from adapters.targets import ReplicaTarget
from replica import writer

original = writer.ReplicaWriter._flush
written = []

def dying(connection, people, sections):
    original(connection, people, sections)
    written.append(len(people))
    if len(written) == 4:  # the fourth batch's people are written, its transaction not yet committed
        os.kill(os.getpid(), signal.SIGKILL)

writer.ReplicaWriter._flush = staticmethod(dying)
source, replica = sys.argv[1:]
target = ReplicaTarget("sqlite:///" + replica, "PUP")
adapter = adapter_class("pup")("sqlite:///" + source)
Feeder(adapter, target, FeedOptions(batch_records=10, source_batch=20)).run(FULL)
"""


def test_a_feed_killed_inside_a_batch_leaves_the_live_replica_intact_and_resumes(
    copy_of: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = copy_of("PUP")
    replica = tmp_path / "pup.sqlite"
    assert feed(source, replica) == 0
    before = live_people(replica)
    connection = sqlite3.connect(source)
    connection.execute("UPDATE osoba SET nazwisko = nazwisko || '-Nowak'")
    connection.commit()
    connection.close()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IN_FOURTH_BATCH, str(source), str(replica)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert live_people(replica) == before  # queries still see the whole old snapshot
    with sqlite3.connect(f"file:{replica}?mode=ro", uri=True) as state:
        run_id, number = state.execute(
            "SELECT id_zasilenia_roboczego, numer_paczki_roboczej FROM stan_repliki"
        ).fetchone()
    assert number == 3 and run_id  # three batches committed; the fourth rolled back with the process
    capsys.readouterr()
    assert feed(source, replica) == 0
    assert f"Zasilenie wznowione {run_id}" in capsys.readouterr().out.replace("\n", "")
    fresh = tmp_path / "od-nowa.sqlite"
    assert feed(source, fresh) == 0
    assert live_people(replica) == live_people(fresh) and len(live_people(fresh)) == 120


# -- replayed batches -------------------------------------------------------------------------------------------
def person(key: str, surname: str) -> ParsedRecord:
    section = f'<m:DaneOsobowe xmlns:m="urn:pl:platforma-komunikacyjna:model:1"><m:Nazwisko>{surname}</m:Nazwisko>'
    section += "<m:Imie>Anna</m:Imie><m:DataUrodzenia>1990-05-17</m:DataUrodzenia></m:DaneOsobowe>"
    return ParsedRecord(key, False, None, surname, "Anna", dt.date(1990, 5, 17), None, None,
                        (("DaneOsobowe", section.encode()),))  # fmt: skip


def test_a_replayed_batch_is_acknowledged_and_applied_once(tmp_path: Path) -> None:
    writer = ReplicaWriter(f"sqlite:///{tmp_path / 'pup.sqlite'}", "PUP", duplicates="refuse")
    try:
        writer.apply(BatchHeader("PUP", "PELNA", "p-1", "pelne", 1), [person("A-1", "Pierwsza")])
        header = BatchHeader("PUP", INCREMENTAL, "z-1", "zmiany", 1, "v1;I;od=;do=")
        first = writer.apply(header, [person("A-2", "Druga")])
        again = writer.apply(header, [person("A-2", "Druga")])
        assert (first.repeated, again.repeated) == (False, True) and again.digest == first.digest
        assert writer.status().people == 2
    finally:
        writer.dispose()
    assert [key for key, _c, _s in live_people(tmp_path / "pup.sqlite")] == ["A-1", "A-2"]


def test_an_incremental_batch_without_a_watermark_keeps_the_feeders_position(tmp_path: Path) -> None:
    """A correction sent without Znacznik (by PHP's SoapClient in the independent clients' pass) wiped the
    watermark, run and number: StanZasilania then had none, and the feeding module refused its next
    incremental run until a new full feed."""
    writer = ReplicaWriter(f"sqlite:///{tmp_path / 'pup.sqlite'}", "PUP", duplicates="refuse")
    try:
        writer.apply(BatchHeader("PUP", "PELNA", "p-1", "pelne", 1, "v1;F;od=;do=2026-01-01"), [person("A-1", "Jedna")])
        changes = BatchHeader("PUP", INCREMENTAL, "z-1", "zmiany", 1, "v1;I;od=2026-01-01;do=2026-02-01")
        writer.apply(changes, [person("A-2", "Druga")])
        before = writer.status()
        writer.apply(BatchHeader("PUP", INCREMENTAL, "korekta-1"), [person("A-3", "Trzecia")])
        after = writer.status()
        assert (after.watermark, after.run_id, after.sequence) == (before.watermark, "zmiany", 1)
        assert after.people == 3  # the correction itself was applied
    finally:
        writer.dispose()


def test_a_batch_number_reused_with_other_people_is_refused_and_a_true_retry_still_acknowledged(tmp_path: Path) -> None:
    # A second feeder resuming the same run (or one that rebuilt its batch) sent number 1 again with another
    # person: it was acknowledged as a repeat (Powtorzona) and the person silently left out.
    writer = ReplicaWriter(f"sqlite:///{tmp_path / 'pup.sqlite'}", "PUP", duplicates="refuse")
    try:
        writer.apply(BatchHeader("PUP", "PELNA", "p-1", "pelne", 1), [person("A-1", "Pierwsza")])
        header = BatchHeader("PUP", INCREMENTAL, "z-1", "zmiany", 1, "v1;I;od=;do=")
        writer.apply(header, [person("A-2", "Druga")])
        with pytest.raises(BatchOutOfOrder, match="została już przyjęta z inną treścią"):
            writer.apply(header, [person("A-3", "Trzecia")])
        with pytest.raises(BatchOutOfOrder):  # the same person with another surname is other content too
            writer.apply(header, [person("A-2", "Druga-Zmieniona")])
        assert [key for key, _c, _s in live_people(tmp_path / "pup.sqlite")] == ["A-1", "A-2"]
        retry = writer.apply(header, [person("A-2", "Druga")])  # the feeder's own retry: the same records
        assert retry.repeated and retry.loaded == 1
        following = writer.apply(BatchHeader("PUP", INCREMENTAL, "z-2", "zmiany", 2, "v1;I;od=;do="),
                                 [person("A-3", "Trzecia")])  # fmt: skip
        assert not following.repeated
        assert [key for key, _c, _s in live_people(tmp_path / "pup.sqlite")] == ["A-1", "A-2", "A-3"]
    finally:
        writer.dispose()


def test_a_batch_applied_by_a_replica_without_the_offered_digest_is_still_acknowledged(tmp_path: Path) -> None:
    # A replica written before `skrot_paczki` existed: the column is added when it is opened for writing, and a
    # batch recorded without it cannot be told from a retry (acknowledged, as before).
    path = tmp_path / "pup.sqlite"
    writer = ReplicaWriter(f"sqlite:///{path}", "PUP", duplicates="refuse")
    header = BatchHeader("PUP", "PELNA", "p-1", "pelne", 1)
    try:
        writer.apply(header, [person("A-1", "Pierwsza")])
    finally:
        writer.dispose()
    with sqlite3.connect(path) as database:
        database.execute("ALTER TABLE zasilenia DROP COLUMN skrot_paczki")
    writer = ReplicaWriter(f"sqlite:///{path}", "PUP", duplicates="refuse")
    try:
        assert writer.apply(header, [person("A-9", "Inna")]).repeated
        with sqlite3.connect(path) as database:
            assert database.execute("SELECT skrot_paczki FROM zasilenia").fetchall() == [(None,)]
    finally:
        writer.dispose()


def test_a_units_batch_report_names_the_units_data_set_not_its_kind(tmp_path: Path) -> None:
    """The receipt of a gmina unit's feed (`/soap/zasilanie`'s `Zbior`) named the kind's data set (`OPS`, gmina
    1's) instead of the one fed (`OPS-9901022`)."""
    writer = ReplicaWriter(f"sqlite:///{tmp_path / 'ops2.sqlite'}", "OPS", data_set="OPS-9901022", duplicates="refuse")
    try:
        report = writer.apply(BatchHeader("OPS-9901022", "PELNA", "p-1", "pelne", 1), [])
        assert (report.data_set, report.kind) == ("OPS-9901022", "PELNA")
    finally:
        writer.dispose()


def test_a_batch_out_of_order_names_the_operation_that_tells_where_to_resume(tmp_path: Path) -> None:
    """The message named `StanZasilenia`, an operation the feeding service does not have."""
    operations = {
        op.get("name")
        for op in etree.parse(str(FIXTURES.parent.parent / "wsdl" / "zasilanie.wsdl")).iter(
            "{http://schemas.xmlsoap.org/wsdl/}operation"
        )
    }
    writer = ReplicaWriter(f"sqlite:///{tmp_path / 'pup.sqlite'}", "PUP", duplicates="refuse")
    try:
        with pytest.raises(BatchOutOfOrder) as refused:
            writer.apply(BatchHeader("PUP", INCREMENTAL, "z-7", "obcy", 7), [person("A-1", "Jedna")])
    finally:
        writer.dispose()
    named = {word.strip(".;,()") for word in str(refused.value).split()} & {"StanZasilania", "StanZasilenia"}
    assert named and named <= operations, (named, operations)


def _with_pesel(key: str, surname: str, pesel: str) -> ParsedRecord:
    base = person(key, surname)
    return ParsedRecord(key, False, pesel, surname, "Anna", base.birth_date, None, None, base.sections)


def _live(path: Path) -> list[tuple[str, str, str]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute(
            "SELECT id_zrodlowy, pesel, nazwisko_klucz FROM osoby "
            "WHERE generacja = (SELECT generacja FROM stan_repliki) ORDER BY id_zrodlowy"
        ).fetchall()
    finally:
        connection.close()


def test_an_incremental_update_refused_for_a_taken_pesel_leaves_the_person_as_it_was(tmp_path: Path) -> None:
    """Attack pass: the domain system gave person B the PESEL of person A; the incremental run said "usunięto 0,
    odrzucono 1", and B was gone from the replica (its old row was deleted before the PESEL was checked)."""
    path = tmp_path / "pup.sqlite"
    writer = ReplicaWriter(f"sqlite:///{path}", "PUP", duplicates="reject")
    try:
        writer.apply(
            BatchHeader("PUP", "PELNA", "p-1", "pelne", 1),
            [_with_pesel("A-1", "Pierwsza", "90051712344"), _with_pesel("A-2", "Druga", "85010112345")],
        )
        before = _live(path)
        report = writer.apply(
            BatchHeader("PUP", INCREMENTAL, "z-1", "zmiany", 1, "v1;I;od=;do="),
            [_with_pesel("A-2", "Zmieniona", "90051712344"), _with_pesel("A-3", "Trzecia", "70010112341")],
        )
        assert [r.source_key for r in report.rejected] == ["A-2"] and (report.loaded, report.deleted) == (1, 0)
        assert [row for row in _live(path) if row[0] != "A-3"] == before
        # Two people exchanging PESELs in one batch are both replaced: the chunk's own people do not count.
        writer.apply(
            BatchHeader("PUP", INCREMENTAL, "z-2", "zmiany", 2, "v1;I;od=;do="),
            [_with_pesel("A-1", "Pierwsza", "85010112345"), _with_pesel("A-2", "Druga", "90051712344")],
        )
    finally:
        writer.dispose()
    assert [(key, pesel) for key, pesel, _surname in _live(path)] == [
        ("A-1", "85010112345"),
        ("A-2", "90051712344"),
        ("A-3", "70010112341"),
    ]


def test_a_document_number_longer_once_upper_cased_is_rejected_alone_not_the_batch(tmp_path: Path) -> None:
    """Contracts pass: `ß`×40 is a schema-valid Numer (1–40 characters) stored upper-cased as 80 characters;
    PostgreSQL refused the whole SOAP batch as BLAD_WEWNETRZNY, its log quoting the number. The record is now
    rejected with a Polish reason before any database sees it, and the rest of the batch is applied."""
    from replica.writer import record_problem

    base = _with_pesel("A-9", "Dziewiąta", "90051712344")
    long_number = ParsedRecord(
        "A-9", False, base.pesel, base.surname, base.first_name, base.birth_date, "PASZPORT", "SS" * 40, base.sections
    )
    problem = record_problem(long_number)
    assert problem is not None and "Numer dokumentu tożsamości" in problem and "40" in problem
    writer = ReplicaWriter(f"sqlite:///{tmp_path / 'pup.sqlite'}", "PUP", duplicates="reject")
    try:
        report = writer.apply(
            BatchHeader("PUP", "PELNA", "p-1", "pelne", 1), [long_number, _with_pesel("A-1", "Jedna", "85010112345")]
        )
    finally:
        writer.dispose()
    assert [r.source_key for r in report.rejected] == ["A-9"] and report.loaded == 1


def test_a_section_with_a_prefixed_xsi_type_is_stored_with_the_prefixs_declaration() -> None:
    """Contracts pass: `<m:Imie xmlns:t="…model:1" xsi:type="t:TekstNiepusty">` is schema-valid, but exclusive C14N
    dropped `t`'s declaration (it is used only in an attribute's value): every later answer about the person was
    invalid against the WSDL and zeep could not read it."""
    from replica.writer import F, M, parse_record

    model = M.strip("{}")
    record = etree.fromstring(
        f'<f:Rekord xmlns:f="{F.strip("{}")}" xmlns:m="{model}" xmlns:t="{model}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><f:IdZrodlowy>X-1</f:IdZrodlowy><f:DanePUP>'
        '<m:DaneOsobowe><m:Nazwisko>Nowak</m:Nazwisko><m:Imie xsi:type="t:TekstNiepusty">Anna</m:Imie>'
        "<m:DataUrodzenia>1990-05-17</m:DataUrodzenia></m:DaneOsobowe>"
        "<m:OkresyRejestracji/></f:DanePUP></f:Rekord>"
    )
    sections = dict(parse_record(record, "DanePUP").sections)
    stored = etree.fromstring(sections["DaneOsobowe"])  # as an answer carries it, on its own
    name = stored.find(f"{M}Imie")
    assert name is not None and name.nsmap.get("t") == model
    # A section without xsi:type stays exclusive C14N: no declaration it does not use.
    assert sections["OkresyRejestracji"] == f'<m:OkresyRejestracji xmlns:m="{model}"></m:OkresyRejestracji>'.encode()


def test_a_modification_stamp_that_is_no_date_is_a_polish_source_error_not_an_internal_one(
    copy_of: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack pass: '31.12.2026 10:00' in one `wyplata.data_modyfikacji` stopped `platforma feed` with
    "Nieoczekiwany błąd (ValueError): Invalid isoformat string…", exit 3."""
    source = copy_of("PUP")
    connection = sqlite3.connect(source)
    try:
        connection.execute(
            "UPDATE wyplata SET data_modyfikacji = '31.12.2026 10:00' "
            "WHERE id_wyplaty = (SELECT min(id_wyplaty) FROM wyplata)"
        )
        connection.commit()
    finally:
        connection.close()
    capsys.readouterr()
    assert feed(source, tmp_path / "rep.sqlite") == 2
    err = capsys.readouterr().err
    assert "wyplata.data_modyfikacji" in err and "nie jest datą i czasem" in err and "Nieoczekiwany" not in err


def test_a_full_feed_that_rejects_every_person_does_not_empty_the_replica(
    copy_of: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack pass: a mapping whose code list was cut short rejected all 50 people; the run published the empty
    snapshot (exit 1, as for one bad record) and every query then answered BRAK_DANYCH."""
    source, replica = copy_of("PUP"), tmp_path / "rep.sqlite"
    assert feed(source, replica) == 0
    before = live_people(replica)
    assert before
    connection = sqlite3.connect(source)
    try:
        connection.execute("UPDATE osoba SET plec = 'X'")
        connection.commit()
    finally:
        connection.close()
    capsys.readouterr()
    assert feed(source, replica) == 2
    err = capsys.readouterr().err
    assert "Odrzucono wszystkie przeczytane rekordy" in err and "nieznany kod w słowniku plec" in err
    assert live_people(replica) == before
