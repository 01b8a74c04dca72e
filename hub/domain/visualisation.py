"""A document's visualisation as PDF (issue 15, item 6): the HTML its template version's XSL renders (in the
sandbox), with a last section summarising the signatures found and their verification, as desktop
verifiers print; weasyprint makes the PDF and fetches nothing (a template's `<img src="http://…">`,
stylesheet link, CSS `@import` or `url()` gets no answer: the PDF is made from the document alone).

These functions run in a rendering process bounded in time and memory (`hub.domain.rendering`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import lxml.html
from lxml import etree

from contract import xmlsafe
from contract.errors import ConfigurationError
from hub.domain.templates import RenderingRefused, Template, render_html
from signing import constants as dsig

_STYLE = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }
table { border-collapse: collapse; } td, th { padding: 2pt 4pt; }
section.podpisy { margin-top: 14pt; border-top: 1pt solid #444; page-break-inside: avoid; }
section.podpisy li { margin-bottom: 2pt; }
"""


def signature_count(document: bytes) -> int:
    """How many XML signatures the document carries (enveloped, at any depth)."""
    return sum(1 for _ in xmlsafe.parse_bytes(document).iter(dsig.ds("Signature")))


def _signature_section(reports: Sequence[str], found: int, verifier_missing: bool) -> Any:
    section = lxml.html.Element("section", {"class": "podpisy"})
    heading = etree.SubElement(section, "h2")
    heading.text = "Podpisy elektroniczne i ich weryfikacja"
    summary = etree.SubElement(section, "p")
    if found == 0:
        summary.text = "Dokument nie zawiera podpisu elektronicznego (wersja do podpisu lub wniosek niepodpisany)."
        return section
    if verifier_missing:
        summary.text = (
            f"Podpisów w dokumencie: {found}. Nie zweryfikowano ich: platforma nie ma skonfigurowanych kotwic "
            "zaufania (signature_trust)."
        )
        return section
    summary.text = f"Podpisów w dokumencie: {found}. Wynik weryfikacji przez platformę:"
    for number, report in enumerate(reports, 1):
        lines = report.splitlines()
        title = etree.SubElement(section, "h3")
        title.text = f"Podpis {number}: {lines[0].split(': ', 1)[-1]}"
        items = etree.SubElement(section, "ul")
        for line in lines[1:]:
            etree.SubElement(items, "li").text = line.strip()
    return section


def document_html(
    template: Template,
    document: bytes,
    reports: Sequence[str],
    *,
    verifier_missing: bool = False,
    stylesheet: etree.XSLT | None = None,
) -> bytes:
    """The template's HTML of the document with the signature section appended as the last part of the body
    (`reports`: each signature's verification report as `VerificationReport.render` gives it; `stylesheet`: the
    template's XSL already compiled, if the caller has it)."""
    html = render_html(template, document, stylesheet)
    try:
        page = lxml.html.document_fromstring(html)
    except etree.ParserError:  # "Document is empty": only white space came out
        page = None
    body = page.find("body") if page is not None else None
    if page is None or body is None:
        raise RenderingRefused(
            f"Wizualizacja szablonu {template.document_type} w wersji {template.version} nie ma treści (body)."
        )
    head = page.find("head")
    if head is None:
        head = lxml.html.Element("head")
        page.insert(0, head)
    etree.SubElement(head, "style").text = _STYLE
    body.append(_signature_section(reports, signature_count(document), verifier_missing))
    return bytes(lxml.html.tostring(page, encoding="UTF-8", doctype="<!DOCTYPE html>"))


def pdf_from_html(html: bytes) -> bytes:
    """The PDF of a page; nothing outside the page is fetched (weasyprint's fetcher refuses every URL)."""
    try:
        import weasyprint  # the PDF engine and its system libraries load only when a PDF is asked for
    except (ImportError, OSError) as error:
        raise ConfigurationError(
            f"Wizualizacja PDF wymaga pakietu weasyprint i bibliotek systemowych Pango ({error})."
        ) from error
    result = weasyprint.HTML(string=html.decode("utf-8"), url_fetcher=_refusing_fetcher()).write_pdf()
    return bytes(result)


@functools.cache
def _refusing_fetcher() -> Any:
    """A weasyprint fetcher that fetches nothing. weasyprint 70 takes a `URLFetcher` (a bare function fails on
    its `_fail_on_errors`); an ordinary exception from `fetch` is a resource that could not be had, which
    weasyprint leaves out of the PDF (a `FatalURLFetchingError` would stop the rendering)."""
    from weasyprint.urls import URLFetcher, URLFetchingError

    class NothingFetched(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise URLFetchingError("Wizualizacja nie pobiera zasobów spoza dokumentu.")

    return NothingFetched()
