"""Templates (issue 15, guideline 2): a template cannot reach files or the network (refused when it is made,
and denied by the sandbox should it get past), a version in use cannot change, only template editors read and
edit, each change is in the type's history and recorded as ZMIANA_SZABLONU."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
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
    metadata_from_json,
    render_html,
    schema_mismatch,
)
from hub.storage.documents import StoredDocument, TemplateChange, TemplateVersion
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


@pytest.mark.parametrize(
    ("body", "element"),
    [
        ('<xsl:document href="/tmp/zapis.txt" method="text">x</xsl:document>', "document"),
        ('<xsl:result-document href="zapis.xml">x</xsl:result-document>', "result-document"),
        ('<xsl:analyze-string select="." regex="a"/>', "analyze-string"),
    ],
    ids=["xslt-1.1-document-writes-a-file", "xslt-2.0-result-document", "xslt-2.0-instruction"],
)
def test_an_element_of_another_xslt_version_is_refused_and_nothing_is_stored(
    store: tuple[Templates, Events], body: str, element: str
) -> None:
    """xsl:document (it writes a file) was stored and activated; only the sandbox stopped it, and every document
    made from the version then failed to render (attack pass)."""
    templates, _events = store
    before = stored_versions(templates)
    with pytest.raises(InvalidTemplate, match=f"xsl:{element} .*XSLT 1.0"):
        template_with(store, stylesheet(body))
    assert stored_versions(templates) == before


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


# -- the templates attack pass (tests/integration/test_templates_attacks.py) ------------------------------------
CERTIFICATE = "ZASWIADCZENIE_PUP_REJESTRACJA"
OPS_CERTIFICATE = "ZASWIADCZENIE_OPS_SWIADCZENIA"
#: The words of libxml2's and libxslt's reports that must not reach an editor.
LIBRARY_ENGLISH = ("is not", "element", "Expected", "unknown", "stylesheet", "required", "missing")


@pytest.mark.parametrize(
    ("field", "text", "line"),
    [
        ("xsd", '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n\n<xs:element/></xs:schema>', 3),
        (
            "xsl",
            '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n<xsl:nieznany/>'
            "</xsl:stylesheet>",
            2,
        ),
        ("xsl", "<html><body>nie arkusz</body></html>", None),
    ],
    ids=["schema-element-without-name", "unknown-xsl-instruction", "not-a-stylesheet"],
)
def test_a_schema_or_stylesheet_that_does_not_compile_is_refused_in_polish_naming_only_its_line(
    store: tuple[Templates, Events], field: str, text: str, line: int | None
) -> None:
    templates, _events = store
    with pytest.raises(InvalidTemplate) as refused:
        templates.new_version(EDITOR, REQUEST, **{field: text})
    message = refused.value.message
    assert not [w for w in LIBRARY_ENGLISH if w in message.replace("element arkusza", "")], message
    assert (f"(wiersz {line})" in message) if line else "wiersz" not in message
    assert stored_versions(templates) == 4


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"tytul": "Zaświadczenie\u0000"}, "„tytul” zawiera niedozwolony znak U+0000"),
        ({"opis": "Opis\u000b"}, "„opis” zawiera niedozwolony znak U+000B"),
        ({"tytul": "Zaświadczenie \u202eynowelunu\u202c"}, "U+202E"),
        ({"kategorie": ["OKRESY\u001f"]}, "„kategorie” zawiera niedozwolony znak U+001F"),
        ({"inne": {"a": ["\u2066"]}}, "„inne” zawiera niedozwolony znak U+2066"),
        ({"pole\u0000": "x"}, "Nazwa pola metadanych zawiera niedozwolony znak U+0000"),
        ({"opis": "\uffff"}, "U+FFFF"),
        ({"inne": [[[[[[[[["głęboko"]]]]]]]]]}, "zbyt głęboko"),
    ],
    ids=["nul", "vertical-tab", "direction-override", "in-a-list", "nested", "in-a-name", "not-xml", "too-deep"],
)
def test_metadata_a_reader_would_not_see_as_stored_are_refused_on_every_route(
    store: tuple[Templates, Events], metadata: dict[str, object], words: str
) -> None:
    templates, _events = store
    with pytest.raises(InvalidTemplate, match=re.escape(words)):
        templates.new_version(EDITOR, REQUEST, metadata=metadata)
    exported = json.loads(templates.export(EDITOR, REQUEST))
    exported["metadane"].update(metadata)
    with pytest.raises(InvalidTemplate, match=re.escape(words)):
        templates.import_file(EDITOR, json.dumps(exported).encode())
    assert stored_versions(templates) == 4


def test_json_nested_deeper_than_python_reads_is_the_callers_mistake(store: tuple[Templates, Events]) -> None:
    templates, _events = store
    deep = "[" * 50_000 + "]" * 50_000
    with pytest.raises(InvalidTemplate, match="JSON"):
        metadata_from_json('{"opis": ' + deep + "}")
    with pytest.raises(InvalidRequest, match="nie jest eksportem"):
        templates.import_file(EDITOR, ('{"rodzaj": "' + REQUEST + '", "x": ' + deep + "}").encode())


@pytest.mark.parametrize("document_type", ["\ud800", "zaswiadczenie", "A" * 65, ""])
def test_a_type_whose_name_is_no_code_is_unknown_and_not_echoed(
    store: tuple[Templates, Events], document_type: str
) -> None:
    templates, _events = store
    exported = json.loads(templates.export(EDITOR, REQUEST))
    with pytest.raises(UnknownTemplate) as refused:
        templates.import_file(EDITOR, json.dumps({**exported, "rodzaj": document_type}).encode())
    assert document_type not in refused.value.message or not document_type
    with pytest.raises(UnknownTemplate):
        templates.new_version(EDITOR, document_type, xsl=stylesheet("x"))


@pytest.mark.parametrize("claim", ["another-types-file", "metadata-naming-another-type", "another-types-namespace"])
def test_a_template_of_one_type_does_not_become_a_version_of_another(
    store: tuple[Templates, Events], claim: str
) -> None:
    templates, _events = store
    pup = json.loads(templates.export(EDITOR, CERTIFICATE))
    ops = json.loads(templates.export(EDITOR, OPS_CERTIFICATE))
    if claim == "another-types-file":
        # PUP's export as OPS's, both names changed: its data set (and namespace) are PUP's
        metadata = {**pup["metadane"], "rodzaj": OPS_CERTIFICATE}
        imported, words = {**pup, "rodzaj": OPS_CERTIFICATE, "metadane": metadata}, "zbioru wskazanego w metadanych"
    elif claim == "metadata-naming-another-type":
        imported, words = {**pup, "metadane": {**pup["metadane"], "rodzaj": OPS_CERTIFICATE}}, "inny rodzaj"
    else:
        namespace = pup["metadane"]["przestrzen_nazw"]
        schema = ops["schemat"].replace(ops["metadane"]["przestrzen_nazw"], namespace)
        imported = {**ops, "schemat": schema, "metadane": {**ops["metadane"], "przestrzen_nazw": namespace}}
        words = f"ma już rodzaj dokumentu {CERTIFICATE}"
    with pytest.raises(InvalidTemplate, match=words):
        templates.import_file(EDITOR, json.dumps(imported).encode())
    assert stored_versions(templates) == 4


def test_a_change_and_a_document_made_from_the_version_exclude_each_other(store: tuple[Templates, Events]) -> None:
    """`freeze` (a document stored) and `change` are each one conditional UPDATE: a document made from what a
    change replaced is not stored, and a version frozen first is not changed."""
    templates, _events = store
    read = templates.active(REQUEST)
    templates.change(EDITOR, REQUEST, read.version, xsd=None, xsl=stylesheet("zmieniona"))
    with Session(templates.engine) as session, session.begin():
        assert not templates.freeze(session, read)
    assert not templates.active(REQUEST).used
    changed = templates.active(REQUEST)
    with Session(templates.engine) as session, session.begin():
        assert templates.freeze(session, changed)
    with pytest.raises(TemplateInUse):
        templates.change(EDITOR, REQUEST, read.version, xsd=None, xsl=stylesheet("jeszcze raz"))
    assert templates.active(REQUEST).xsl == changed.xsl


def _request_made(templates: Templates) -> None:
    """A request document stored as the platform makes it (the sample a new schema must accept)."""
    ns = templates.active(REQUEST).namespace
    content = (
        f'<Dokument xmlns="{ns}"><OpisDokumentu><Identyfikator>1</Identyfikator><RodzajDokumentu>{REQUEST}'
        "</RodzajDokumentu><WersjaSzablonu>1</WersjaSzablonu><Tytul>Wniosek</Tytul><DataWytworzenia>"
        '2025-01-01T00:00:00Z</DataWytworzenia><PodstawaPrawna Kod="UPS">Ustawa</PodstawaPrawna><Autor>PUP</Autor>'
        "</OpisDokumentu><DaneDokumentu><Nadawca><Urzad>OPS</Urzad><Nazwa>OPS</Nazwa></Nadawca><Adresat><Urzad>PUP"
        "</Urzad><Nazwa>PUP</Nazwa></Adresat><IdentyfikatorSprawy>s</IdentyfikatorSprawy></DaneDokumentu>"
        "<TrescDokumentu><Osoba><Pesel>44051401359</Pesel></Osoba><Cel>Cel</Cel><RodzajZaswiadczenia>"
        f'{CERTIFICATE}</RodzajZaswiadczenia><Zbiory><Zbior Kod="PUP"><Kategoria>K</Kategoria></Zbior></Zbiory>'
        '</TrescDokumentu><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></Dokument>'
    ).encode()
    etree.fromstring(content)
    with Session(templates.engine) as session, session.begin():
        session.add(
            StoredDocument(
                id="d1",
                case_id="s",
                role="WNIOSEK",
                template_id=templates.active(REQUEST).id,
                content=content,
                sha256="",
                author="x",
                created=dt.datetime.now(dt.UTC),
            )
        )


def test_a_schema_that_does_not_accept_the_documents_the_platform_makes_is_refused(
    store: tuple[Templates, Events],
) -> None:
    """Made, changed to or activated: the type's last document, as made from that version, must be valid by it
    (an acceptance under such a schema failed with libxml2's English, or escaped as BLAD_WEWNETRZNY)."""
    templates, _events = store
    _request_made(templates)
    first = templates.active(REQUEST)
    demanding = first.xsd.replace(
        '<xs:element name="Cel"', '<xs:element name="Dopisek" type="xs:string"/><xs:element name="Cel"'
    )
    assert demanding != first.xsd
    with pytest.raises(InvalidTemplate, match="element Dokument/TrescDokumentu/Cel"):
        templates.new_version(EDITOR, REQUEST, xsd=demanding)
    unused = templates.new_version(EDITOR, REQUEST, xsl=stylesheet("druga"))
    with pytest.raises(InvalidTemplate, match="nie przyjmuje dokumentu"):
        templates.change(EDITOR, REQUEST, unused.version, xsd=demanding, xsl=None)
    with Session(templates.engine) as session, session.begin():  # stored before the check existed
        session.get(TemplateVersion, unused.id).xsd = demanding  # type: ignore[union-attr]
    with pytest.raises(InvalidTemplate, match="nie przyjmuje dokumentu"):
        templates.activate(EDITOR, REQUEST, unused.version)
    assert templates.active(REQUEST).version == first.version
    namespace = "urn:pl:platforma-komunikacyjna:dokumenty:wniosek-o-informacje:2"
    moved = templates.new_version(
        EDITOR, REQUEST, xsd=first.xsd.replace(first.namespace, namespace), metadata={"przestrzen_nazw": namespace}
    )
    assert templates.activate(EDITOR, REQUEST, moved.version).namespace == namespace


_NESTED_SCHEMA = b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x" xmlns="urn:x"
  elementFormDefault="qualified"><xs:element name="Dokument"><xs:complexType><xs:sequence><xs:element name="A">
  <xs:complexType><xs:sequence><xs:element name="B" type="xs:string"/></xs:sequence></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element></xs:schema>"""


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (b'<Dokument xmlns="urn:x"><A><C/></A></Dokument>', "element Dokument/A/C"),
        (b'<p:Dokument xmlns:p="urn:x"><p:A><p:C/></p:A></p:Dokument>', "element Dokument/A/C"),
        (b'<Dokument xmlns="urn:x"><A xmlns:q="urn:x"><q:C/></A></Dokument>', "dokument"),
    ],
    ids=["default-namespace", "prefixed-at-the-root", "prefix-declared-below-the-root"],
)
def test_where_a_schema_refuses_a_document_is_said_whatever_its_prefixes(document: bytes, where: str) -> None:
    """libxml2's error path uses the document's prefixes; xpath() over it raised 'Undefined namespace prefix'
    (BLAD_WEWNETRZNY when a new version was checked against the last stored document)."""
    schema = etree.XMLSchema(etree.fromstring(_NESTED_SCHEMA))
    assert schema_mismatch(schema, etree.fromstring(document)) == where
