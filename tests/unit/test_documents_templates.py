"""Templates (issue 15, guideline 2): a template cannot reach files or the network (refused when it is made,
and denied by the sandbox should it get past), a version in use cannot change, only template editors read and
edit, each change is in the type's history and recorded as ZMIANA_SZABLONU."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import Session

from audit import EventKind, SecurityEvent
from contract.errors import InvalidRequest, NotAllowed
from hub.domain.policy import Caller
from hub.domain.templates import (
    SANDBOX,
    InvalidTemplate,
    RenderingRefused,
    Template,
    TemplateAction,
    TemplateInUse,
    Templates,
    UnknownTemplate,
    render_html,
)
from hub.storage.documents import TemplateChange, TemplateVersion
from hub.storage.tables import HubBase

REQUEST = "WNIOSEK_O_INFORMACJE"
EDITOR = Caller("pup.redaktor", "PUP", "REDAKCJA", roles=frozenset({"REDAKTOR_SZABLONOW"}))
CLERK = Caller("pup.urzednik", "PUP", "KIEROWNICTWO")
DOCUMENT = b'<d:Dokument xmlns:d="urn:x"><d:Tytul>Zaswiadczenie</d:Tytul></d:Dokument>'


class Events:
    def __init__(self) -> None:
        self.recorded: list[SecurityEvent] = []

    def record(self, event: SecurityEvent) -> None:
        self.recorded.append(event)

    def events(self, **_criteria: object) -> list[SecurityEvent]:
        return self.recorded


@pytest.fixture
def store() -> tuple[Templates, Events]:
    engine = create_engine("sqlite://")
    HubBase.metadata.create_all(engine)
    events = Events()
    templates = Templates(engine, events)  # type: ignore[arg-type]
    templates.seed()
    return templates, events


def stylesheet(body: str) -> str:
    return (
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        f'<xsl:template match="/"><html><body>{body}</body></html></xsl:template></xsl:stylesheet>'
    )


def template_with(store: tuple[Templates, Events], xsl: str) -> Template:
    templates, _events = store
    return templates.new_version(EDITOR, REQUEST, templates.active(REQUEST).xsd, xsl, {})


def stored_versions(templates: Templates) -> int:
    with Session(templates.engine) as session:
        return len(session.scalars(select(TemplateVersion.id)).all())


@pytest.mark.parametrize(
    "body",
    [
        "<xsl:copy-of select=\"document('file:///etc/passwd')\"/>",
        "<xsl:copy-of select=\"document( 'http://127.0.0.1:9/dane.xml' )/*\"/>",
        "<xsl:for-each select=\"document('')\"><xsl:value-of select='.'/></xsl:for-each>",
        "<a href=\"{document('file:///etc/hostname')}\">x</a>",
        "<xsl:value-of select=\"count(//x) + string-length(document('/etc/passwd'))\"/>",
    ],
    ids=["file", "network", "itself", "attribute-value-template", "inside-an-expression"],
)
def test_a_template_reading_a_file_or_the_network_is_refused_and_nothing_is_stored(
    store: tuple[Templates, Events], body: str
) -> None:
    templates, events = store
    before = stored_versions(templates)
    with pytest.raises(InvalidTemplate, match="document"):
        template_with(store, stylesheet(body))
    assert stored_versions(templates) == before
    assert not [e for e in events.recorded if e.kind == EventKind.TEMPLATE_CHANGE]


@pytest.mark.parametrize(
    "xsl",
    [
        stylesheet('<xsl:value-of xmlns:dyn="http://exslt.org/dynamic" select="dyn:evaluate(\'1\')"/>'),
        stylesheet('<xsl:value-of xmlns:str="http://exslt.org/strings" select="str:tokenize(\'a b\')"/>'),
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
        'xmlns:exsl="http://exslt.org/common" extension-element-prefixes="exsl"><xsl:template match="/">'
        '<exsl:document href="file:///tmp/zapis.txt">x</exsl:document></xsl:template></xsl:stylesheet>',
    ],
    ids=["dyn-evaluate", "extension-function", "extension-element"],
)
def test_a_template_using_extensions_is_refused(store: tuple[Templates, Events], xsl: str) -> None:
    with pytest.raises(InvalidTemplate, match="rozszerzeń"):
        template_with(store, xsl)


def test_names_axes_and_literal_colons_are_no_calls(store: tuple[Templates, Events]) -> None:
    body = (
        '<p title="Godz.: {count(child::node())}">Data: <xsl:value-of select="concat(\'a:\', d:x/text())" '
        'xmlns:d="urn:x"/></p><xsl:value-of select="my-document-count"/>'
    )
    assert template_with(store, stylesheet(body)).version == 2


def test_the_sandbox_still_denies_a_stylesheet_that_got_past_the_checks(
    store: tuple[Templates, Events], tmp_path: Path
) -> None:
    """The second line: a stylesheet compiled with the sandbox alone (as if the checks missed a way) reads
    neither a local file nor /etc/passwd."""
    secret = tmp_path / "sekret.txt"
    secret.write_text("TAJNE-DANE")
    templates, _events = store
    for target in ("file:///etc/passwd", secret.as_uri()):
        xsl = stylesheet(f"<xsl:copy-of select=\"document('{target}')\"/>")
        template = dataclasses.replace(templates.active(REQUEST), xsl=xsl)
        transform = etree.XSLT(etree.fromstring(xsl.encode()), access_control=SANDBOX)
        try:
            html = render_html(template, DOCUMENT, transform)
        except RenderingRefused:
            continue
        assert b"root:" not in html and b"TAJNE-DANE" not in html


@pytest.mark.parametrize(
    "reach",
    [
        '<xs:include schemaLocation="file:///etc/inny.xsd"/>',
        '<xs:import namespace="urn:y" schemaLocation="http://127.0.0.1:9/y.xsd"/>',
        '<xs:redefine schemaLocation="inny.xsd"/>',
    ],
    ids=["include", "import-with-location", "redefine"],
)
def test_a_schema_reading_another_file_is_refused(store: tuple[Templates, Events], reach: str) -> None:
    templates, _events = store
    xsd = templates.active(REQUEST).xsd.replace("<xs:element", reach + "<xs:element", 1)
    with pytest.raises(InvalidTemplate, match="innych plików"):
        templates.new_version(EDITOR, REQUEST, xsd=xsd)


def test_a_template_with_a_dtd_is_refused(store: tuple[Templates, Events]) -> None:
    xsl = '<!DOCTYPE x SYSTEM "file:///etc/passwd">' + stylesheet("x")
    with pytest.raises(InvalidTemplate, match="DTD"):
        template_with(store, xsl)


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"przestrzen_nazw": "urn:inna:1"}, "Przestrzeń nazw"),
        ({"klasa": "ZASWIADCZENIE"}, "Klasa dokumentu"),
        ({"tytul": 5}, "„tytul”"),
        ({"kategorie": "OKRESY_REJESTRACJI"}, "„kategorie”"),
        ({"opis": "\ud800"}, "UTF-8"),
    ],
    ids=["namespace", "class", "title-not-text", "categories-not-a-list", "lone-surrogate"],
)
def test_metadata_no_document_could_be_made_with_are_refused(
    store: tuple[Templates, Events], metadata: dict[str, object], words: str
) -> None:
    templates, _events = store
    with pytest.raises(InvalidTemplate, match=words):
        templates.new_version(EDITOR, REQUEST, metadata=metadata)
    assert stored_versions(templates) == 4


def test_a_new_version_needs_something_new(store: tuple[Templates, Events]) -> None:
    templates, _events = store
    with pytest.raises(InvalidRequest):
        templates.new_version(EDITOR, REQUEST)
    assert templates.new_version(EDITOR, REQUEST, metadata={"tytul": "Nowy tytuł"}).title == "Nowy tytuł"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"[]",
        b'{"rodzaj": "WNIOSEK_O_INFORMACJE"}',
        json.dumps({"rodzaj": "WNIOSEK_O_INFORMACJE", "metadane": {}, "schemat": 1, "wizualizacja": "x"}).encode(),
        json.dumps({"rodzaj": "WNIOSEK_O_INFORMACJE", "metadane": [], "schemat": "x", "wizualizacja": "x"}).encode(),
        b"\xff\xfe\x00",
    ],
    ids=["empty", "list", "incomplete", "schema-not-text", "metadata-not-an-object", "not-utf8"],
)
def test_a_file_that_is_not_an_export_is_refused(store: tuple[Templates, Events], content: bytes) -> None:
    templates, _events = store
    with pytest.raises(InvalidRequest, match="nie jest eksportem"):
        templates.import_file(EDITOR, content)
    assert stored_versions(templates) == 4


def test_an_export_imports_as_the_next_inactive_version_with_the_same_file(store: tuple[Templates, Events]) -> None:
    templates, _events = store
    exported = templates.export(EDITOR, REQUEST)
    imported = templates.import_file(EDITOR, exported)
    assert (imported.version, imported.active, imported.author) == (2, False, EDITOR.login)
    assert imported.export_file() == exported == templates.export(EDITOR, REQUEST, 2)
    with pytest.raises(UnknownTemplate):
        templates.export(EDITOR, REQUEST, 3)
    with pytest.raises(UnknownTemplate):
        templates.import_file(EDITOR, exported.replace(b"WNIOSEK_O_INFORMACJE", b"NIEZNANY_RODZAJ"))


def test_a_stylesheet_including_a_file_is_refused(store: tuple[Templates, Events], tmp_path: Path) -> None:
    included = tmp_path / "wlaczony.xsl"
    included.write_text(stylesheet("x"))
    xsl = (
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        f'<xsl:include href="{included.as_uri()}"/></xsl:stylesheet>'
    )
    with pytest.raises(InvalidTemplate):
        template_with(store, xsl)


def test_a_version_in_use_cannot_change_but_a_new_one_can_be_made_and_activated(
    store: tuple[Templates, Events],
) -> None:
    templates, events = store
    first = templates.active(REQUEST)
    with Session(templates.engine) as session, session.begin():
        templates.mark_used(session, first.id)
    with pytest.raises(TemplateInUse):
        templates.change(EDITOR, REQUEST, first.version, xsd=None, xsl=stylesheet("inna"))
    second = templates.new_version(EDITOR, REQUEST, first.xsd, stylesheet("druga"), {})
    templates.activate(EDITOR, REQUEST, second.version)
    assert templates.active(REQUEST).version == second.version == 2
    assert templates.get(first.id).xsl == first.xsl
    changes = [e for e in events.recorded if e.kind == EventKind.TEMPLATE_CHANGE]
    assert [e.details.split(" (SHA-256")[0] for e in changes] == [
        f"szablon {REQUEST}: nowa wersja 2",
        f"szablon {REQUEST}: aktywacja wersji 2",
    ]
    assert all(e.actor == EDITOR.login and e.success for e in changes)
    assert not [e for e in events.recorded if e.kind == EventKind.POLICY_CHANGE]


def test_only_template_editors_edit_and_refusals_are_recorded(store: tuple[Templates, Events]) -> None:
    templates, events = store
    with pytest.raises(NotAllowed):
        templates.activate(CLERK, REQUEST, 1)
    assert events.recorded[-1].kind == EventKind.PERMISSION_REFUSED and not events.recorded[-1].success


@pytest.mark.parametrize(
    "read",
    [
        lambda t: t.versions(CLERK),
        lambda t: t.template(CLERK, REQUEST),
        lambda t: t.export(CLERK, REQUEST, 1),
        lambda t: t.history(CLERK, REQUEST),
        lambda t: t.import_file(CLERK, b"nie plik"),
        lambda t: t.new_version(CLERK, REQUEST),
    ],
    ids=["list", "show", "export", "history", "import", "new-version"],
)
def test_only_template_editors_read_and_each_refusal_is_recorded(store: tuple[Templates, Events], read: object) -> None:
    templates, events = store
    with pytest.raises(NotAllowed):
        read(templates)  # type: ignore[operator]
    refusal = events.recorded[-1]
    assert (refusal.kind, refusal.user, refusal.success) == (EventKind.PERMISSION_REFUSED, CLERK.login, False)
    assert "REDAKTOR_SZABLONOW" in refusal.details and stored_versions(templates) == 4


def test_the_history_names_who_did_what_to_which_version_and_when(store: tuple[Templates, Events]) -> None:
    templates, events = store
    second = templates.new_version(EDITOR, REQUEST, xsl=stylesheet("druga"))
    third = templates.import_file(EDITOR, second.export_file())
    changed = templates.change(EDITOR, REQUEST, 3, xsd=None, xsl=stylesheet("trzecia"))
    templates.activate(EDITOR, REQUEST, 3)
    history = templates.history(EDITOR, REQUEST)
    assert [(e.version, e.action, e.actor) for e in history] == [
        (1, TemplateAction.IMPORT, "platforma"),
        (2, TemplateAction.NEW_VERSION, EDITOR.login),
        (3, TemplateAction.IMPORT, EDITOR.login),
        (3, TemplateAction.CHANGE, EDITOR.login),
        (3, TemplateAction.ACTIVATION, EDITOR.login),
    ]
    assert [e.sha256 for e in history[1:]] == [
        second.file_sha256,
        third.file_sha256,
        changed.file_sha256,
        changed.file_sha256,
    ]
    assert history[2].sha256 != history[3].sha256 and {e.office for e in history[1:]} == {"PUP"}
    recorded = [e.details for e in events.recorded if e.kind == EventKind.TEMPLATE_CHANGE]
    assert len(recorded) == 4 and all(e.sha256 in d for e, d in zip(history[1:], recorded, strict=True))
    with pytest.raises(UnknownTemplate):
        templates.history(EDITOR, "NIEZNANY_RODZAJ")


def test_a_version_made_before_the_history_was_kept_appears_as_made_by_its_author(
    store: tuple[Templates, Events],
) -> None:
    templates, _events = store
    second = templates.new_version(EDITOR, REQUEST, xsl=stylesheet("druga"))
    with Session(templates.engine) as session, session.begin():
        session.execute(delete(TemplateChange))  # a hub database from before zmiany_szablonow
    history = templates.history(EDITOR, REQUEST)
    assert [(e.version, e.action, e.actor) for e in history] == [
        (1, TemplateAction.NEW_VERSION, "platforma"),
        (2, TemplateAction.NEW_VERSION, EDITOR.login),
    ]
    assert history[1].sha256 == second.file_sha256
