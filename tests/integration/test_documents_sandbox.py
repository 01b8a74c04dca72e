"""A template that reaches for the network connects nowhere (issue 15): a real listener on loopback hears
nothing when such a template is offered (refused before it is stored) nor when a stylesheet that got past
the checks renders in the sandbox (unit tests block sockets, so this one lives here)."""

from __future__ import annotations

import dataclasses
import socket

import pytest
from lxml import etree
from sqlalchemy import create_engine

from hub.domain.templates import SANDBOX, InvalidTemplate, RenderingRefused, Templates, render_html
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
    with pytest.raises(InvalidTemplate):
        templates.new_version(EDITOR, REQUEST, xsl=xsl)
    template = dataclasses.replace(templates.active(REQUEST), xsl=xsl)
    with pytest.raises(RenderingRefused):
        render_html(template, DOCUMENT, etree.XSLT(etree.fromstring(xsl.encode()), access_control=SANDBOX))
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
