"""Templates (issue 15, guideline 2): a template cannot reach files or the network, a version in use cannot
change, only template editors edit, and activation is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from audit import EventKind, SecurityEvent
from contract.errors import NotAllowed
from hub.domain.policy import Caller
from hub.domain.templates import (
    InvalidTemplate,
    RenderingRefused,
    Template,
    TemplateInUse,
    Templates,
    render_html,
)
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


def test_a_template_reading_a_local_file_gets_nothing(store: tuple[Templates, Events], tmp_path: Path) -> None:
    secret = tmp_path / "sekret.txt"
    secret.write_text("TAJNE-DANE")
    for target in ("file:///etc/passwd", secret.as_uri()):
        template = template_with(store, stylesheet(f"<xsl:copy-of select=\"document('{target}')\"/>"))
        try:
            html = render_html(template, DOCUMENT)
        except RenderingRefused:
            continue
        assert b"root:" not in html and b"TAJNE-DANE" not in html


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
    assert [e.details for e in events.recorded if e.kind == EventKind.POLICY_CHANGE][-1].endswith("aktywacja wersji 2")


def test_only_template_editors_edit_and_refusals_are_recorded(store: tuple[Templates, Events]) -> None:
    templates, events = store
    with pytest.raises(NotAllowed):
        templates.activate(CLERK, REQUEST, 1)
    assert events.recorded[-1].kind == EventKind.PERMISSION_REFUSED and not events.recorded[-1].success
