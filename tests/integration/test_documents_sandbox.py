"""A template that reaches for the network connects nowhere (issue 15): a real listener on loopback hears
nothing while the template renders (unit tests block sockets, so this one lives here)."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import create_engine

from hub.domain.templates import RenderingRefused, Templates, render_html
from hub.storage.tables import HubBase
from tests.unit.test_documents_templates import DOCUMENT, EDITOR, REQUEST, Events, stylesheet


def test_a_template_reaching_the_network_connects_nowhere() -> None:
    engine = create_engine("sqlite://")
    HubBase.metadata.create_all(engine)
    templates = Templates(engine, Events())  # type: ignore[arg-type]
    templates.seed()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/dane.xml"
    xsl = stylesheet(f"<xsl:copy-of select=\"document('{url}')\"/>")
    template = templates.new_version(EDITOR, REQUEST, templates.active(REQUEST).xsd, xsl, {})
    with pytest.raises(RenderingRefused):
        render_html(template, DOCUMENT)
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
