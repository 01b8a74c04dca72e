"""The loader: full batches replace, bad records are rejected with their key, bad batches change nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import create_engine, func, select

from contract.errors import ConfigurationError, SchemaViolation, UnknownDataSet
from contract.identifiers import Identifier
from hub.soap.contracts import feed_schema
from replica.database import Person, ReplicaReader, ReplicaState, Sections
from replica.sections import PackedSections, pack_sections, sections_size, unpack_sections
from replica.writer import Loader
from tests.conftest import FIXTURES

XML = FIXTURES / "xml"
FEED = "{urn:pl:platforma-komunikacyjna:zasilanie:1}"


def _count(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        people = connection.scalar(select(func.count()).select_from(Person))
        stored = connection.execute(select(Sections.contents, Sections.content)).all()
    engine.dispose()
    return int(people or 0), sum(len(unpack_sections(contents, content)) for contents, content in stored)


@pytest.fixture
def replica(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pup.sqlite'}"


def _load(url: str, name: str, kind: str = "PUP") -> object:
    loader = Loader(url, kind, feed_schema())
    try:
        return loader.load(XML / name)
    finally:
        loader.dispose()


def test_full_batch_loads_every_person_with_sections(replica: str) -> None:
    report = _load(replica, "feed_pup_small.xml")
    assert report.loaded == 3 and report.read == 3 and not report.rejected  # type: ignore[attr-defined]
    people, sections = _count(replica)
    assert people == 3
    assert sections >= 3 * 3  # personal data, registration periods, visits at least


def _live_people(url: str) -> dict[str, dict[str, bytes]]:
    """The live snapshot read from the tables: source key -> sections by element name."""
    engine = create_engine(url)
    with engine.connect() as connection:
        live = connection.scalar(select(ReplicaState.generation))
        rows = connection.execute(
            select(Person.source_key, Sections.contents, Sections.content)
            .join(Sections, Sections.person_id == Person.id)
            .where(Person.generation == live)
        ).all()
    engine.dispose()
    return {key: unpack_sections(contents, content) for key, contents, content in rows}


def _sent(name: str) -> dict[str, dict[str, bytes]]:
    """The people of a PUP feed file: source key -> the exclusive C14N of each section."""
    root = etree.parse(str(XML / name)).getroot()
    return {
        str(record.findtext(f"{FEED}IdZrodlowy")): {
            etree.QName(section).localname: etree.tostring(section, method="c14n", exclusive=True)
            for section in record.iterfind(f"{FEED}DanePUP/*")
        }
        for record in root.iterfind(f"{FEED}Rekord")
    }


def test_a_second_full_batch_replaces_the_first(replica: str) -> None:
    _load(replica, "feed_pup_small.xml")
    assert _live_people(replica) == _sent("feed_pup_small.xml")
    # Another snapshot: one person changed, one gone, one new (feed_pup_replacing_small.xml).
    report = _load(replica, "feed_pup_replacing_small.xml")
    assert report.loaded == 2 and not report.rejected  # type: ignore[attr-defined]
    assert _live_people(replica) == _sent("feed_pup_replacing_small.xml")
    assert _count(replica)[0] == 2  # nothing is left of the first snapshot


def test_invalid_pesel_rejects_only_that_record_and_names_its_key(replica: str) -> None:
    report = _load(replica, "feed_one_invalid_pesel.xml")
    assert report.loaded == 2  # type: ignore[attr-defined]
    assert [r.source_key for r in report.rejected] == ["SYR-0000003"]  # the second record of the file  # type: ignore[attr-defined]
    assert "PESEL" in report.rejected[0].reason  # type: ignore[attr-defined]


def test_duplicate_source_key_is_rejected(replica: str) -> None:
    report = _load(replica, "feed_duplicate_source_key.xml")
    assert report.loaded == 2  # type: ignore[attr-defined]
    assert "więcej niż raz" in report.rejected[0].reason  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("feed_schema_violation_in_third_record.xml", SchemaViolation),
        ("feed_declares_other_data_set.xml", UnknownDataSet),
    ],
)
def test_a_bad_batch_leaves_the_replica_exactly_as_it_was(replica: str, name: str, error: type) -> None:
    _load(replica, "feed_pup_small.xml")
    before = _count(replica)
    with pytest.raises(error):
        _load(replica, name)
    assert _count(replica) == before


def test_a_feeds_schema_violation_is_told_in_polish(replica: str) -> None:
    with pytest.raises(SchemaViolation) as refused:
        _load(replica, "feed_schema_violation_in_third_record.xml")
    assert refused.value.message == (
        "Paczka nie jest zgodna ze schematem zasilania. Element Nieznane: niedozwolony w tym miejscu."
    )


def test_read_only_reader_finds_people_by_each_identifier(replica: str) -> None:
    _load(replica, "feed_pup_small.xml")
    reader = ReplicaReader(replica)
    try:
        from lxml import etree

        root = etree.parse(str(XML / "feed_pup_small.xml")).getroot()
        m = "{urn:pl:platforma-komunikacyjna:model:1}"
        personal = root.find(f".//{m}DaneOsobowe")
        assert personal is not None
        pesel = personal.findtext(f"{m}Pesel")
        import datetime as dt

        by_pesel = reader.find(Identifier.build(pesel=pesel))
        by_name = reader.find(
            Identifier.build(
                surname=personal.findtext(f"{m}Nazwisko").upper(),  # type: ignore[union-attr]
                first_name=personal.findtext(f"{m}Imie"),
                birth_date=dt.date.fromisoformat(personal.findtext(f"{m}DataUrodzenia")),  # type: ignore[arg-type]
            )
        )
        by_card = reader.find(
            Identifier.build(
                document_kind="DOWOD_OSOBISTY",
                document_number=personal.findtext(f"{m}DokumentTozsamosci/{m}Numer"),
            )
        )
        assert len(by_pesel) == 1 and by_pesel == by_name == by_card
    finally:
        reader.dispose()


def test_the_hubs_replica_connection_cannot_write(replica: str) -> None:
    _load(replica, "feed_pup_small.xml")
    reader = ReplicaReader(replica)
    try:
        with pytest.raises(Exception, match=r"readonly|read-only|query_only"):
            with reader.engine.begin() as connection:
                connection.execute(Person.__table__.delete())
    finally:
        reader.dispose()
    assert _count(replica)[0] == 3


def test_loading_streams_large_files(tmp_path: Path, replica: str) -> None:
    from demo.data import generate

    summary = generate(3, tmp_path / "feeds", pup=400, ops=1, sr=1)
    loader = Loader(replica, "PUP", feed_schema())
    seen: list[int] = []
    report = loader.load(summary.files["PUP"], progress=seen.append)
    loader.dispose()
    assert report.loaded == 400 and sum(seen) == 400
    shutil.rmtree(tmp_path / "feeds")


def test_a_persons_sections_are_read_back_exactly_as_sent(replica: str) -> None:
    """One `sekcje` row a person: the asked sections come back byte for byte (exclusive C14N of the
    sent elements), the others are not given."""
    from lxml import etree

    _load(replica, "feed_pup_small.xml")
    m, f = "{urn:pl:platforma-komunikacyjna:model:1}", "{urn:pl:platforma-komunikacyjna:zasilanie:1}"
    record = etree.parse(str(XML / "feed_pup_small.xml")).getroot().find(f".//{f}DanePUP")
    assert record is not None
    sent = {
        etree.QName(el).localname: etree.tostring(el, method="c14n", exclusive=True)
        for el in record
        if isinstance(el.tag, str)
    }
    assert len(sent) >= 3
    pesel = record.findtext(f"{m}DaneOsobowe/{m}Pesel")
    asked = sorted(sent)[::2]
    reader = ReplicaReader(replica)
    try:
        people, sections = reader.lookup(Identifier.build(pesel=pesel), [*asked, "NieMaTakiejSekcji"])
        assert len(people) == 1
        assert sections == {name: sent[name] for name in asked}
        assert reader.sections(people[0], list(sent)) == sent
    finally:
        reader.dispose()


@pytest.mark.parametrize(
    "sections",
    [
        [],
        [("DaneOsobowe", b"<m:DaneOsobowe/>")],
        [("A", b""), ("B", "<m:B>żółć</m:B>".encode()), ("C", b"x" * 70_000)],
    ],
)
def test_packed_sections_unpack_to_what_was_packed(sections: list[tuple[str, bytes]]) -> None:
    contents, content = pack_sections(sections)
    assert content == b"".join(body for _name, body in sections)
    assert list(unpack_sections(contents, content).items()) == sections
    wanted = {name for name, _ in sections[1:]}
    assert unpack_sections(contents, content, wanted) == {n: b for n, b in sections if n in wanted}


def test_a_replica_in_the_old_layout_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    """A development build stored a row per section; such a replica must be loaded anew, not misread."""
    import sqlite3

    path = tmp_path / "stara.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE sekcje (osoba_id INTEGER, sekcja VARCHAR(64), tresc BLOB)")
    connection.close()
    with pytest.raises(ConfigurationError, match="dawny układ tabeli sekcje"):
        Loader(f"sqlite:///{path}", "PUP", feed_schema())
    reader = ReplicaReader(f"sqlite:///{path}")
    try:
        with pytest.raises(ConfigurationError, match="zasilenie pełne do nowej, pustej bazy"):
            reader.lookup(Identifier.build(pesel="44051401359"), ["DaneOsobowe"])
    finally:
        reader.dispose()


def test_packed_sections_behave_as_the_pairs_they_hold() -> None:
    import pickle

    pairs = (("DaneOsobowe", "<m:DaneOsobowe>Łódź</m:DaneOsobowe>".encode()), ("Wizyty", b"<m:Wizyty/>"))
    packed = PackedSections.of(pairs)
    assert list(packed) == list(pairs) and len(packed) == 2 and packed[1] == pairs[1]
    assert packed == pairs and pack_sections(packed) == pack_sections(pairs)
    assert sections_size(packed) == sections_size(pairs) == sum(len(body) for _name, body in pairs)
    back = pickle.loads(pickle.dumps(packed))  # noqa: S301 (our own pickle)
    assert back == packed and isinstance(back, PackedSections)
