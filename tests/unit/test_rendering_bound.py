"""Rendering bounded in time and memory (hub/domain/rendering.py) and refused in Polish (render_html).

The stylesheets are files under rendering/, each named for what must happen to it. The bound's tests run real
worker processes (spawned, as the hub does) with small limits: a stylesheet that never finishes is stopped at
the time bound while the other process keeps rendering, one that builds a gigabyte string at the memory bound,
a worker that dies is replaced; each refusal is BLAD_WIZUALIZACJI with one Polish sentence.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from contract.errors import ConfigurationError
from hub import settings
from hub.domain.rendering import Renderer, RenderLimits, SignatureSection
from hub.domain.templates import (
    SANDBOX,
    STOPPED_BY_MESSAGE,
    RenderingRefused,
    Template,
    render_html,
    runnable_stylesheet,
)
from hub.domain.visualisation import pdf_from_html
from tests.unit.test_settings import VALID

FIXTURES = Path(__file__).resolve().parent / "rendering"
DOCUMENT = '<d:Dokument xmlns:d="urn:x"><d:Tytul>Zaświadczenie o pracy</d:Tytul></d:Dokument>'.encode()
#: libxslt's, libxml2's and Python's English, which must not reach a clerk (as the attack pass's list).
ENGLISH = re.compile(
    r"\b(the|is|not|must|invalid|error|expected|failed|exception|traceback|none|value|line|denied|rights|read|"
    r"unknown|result|returned|evaluation|stylesheet|recursion|depth|exceeded|refused|memory|time)\b",
    re.IGNORECASE,
)
LIMITS = RenderLimits(timeout_seconds=2, memory_mb=384, processes=2)


def template(name: str) -> Template:
    return Template(
        1,
        "ZASWIADCZENIE_TESTOWE",
        3,
        "",
        (FIXTURES / name).read_text(encoding="utf-8"),
        {"przestrzen_nazw": "urn:x"},
        active=True,
        used=True,
        author="test",
        created=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def polish(message: str) -> None:
    assert not ENGLISH.search(message) and "/etc/" not in message and "file:" not in message, message


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    made = Renderer(LIMITS)
    yield made
    made.close()


# -- in-process: what render_html says ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("reads_a_file_behind_a_brace.xsl", "piaskownica"),
        ("reads_a_file_through_dyn_evaluate.xsl", "piaskownica"),
        ("calls_an_xslt2_function.xsl", "XPath"),
        ("recurses_without_end.xsl", "rekurencja"),
        ("stops_with_a_terminating_message.xsl", 'xsl:message terminate="yes"'),
        ("matches_another_namespace.xsl", "przestrzeni nazw"),
    ],
)
def test_a_stylesheet_that_fails_while_rendering_is_refused_with_one_polish_sentence(name: str, said: str) -> None:
    """Compiled with the sandbox alone, as if the checks before storing had missed a way (the second line)."""
    made = template(name)
    root = etree.fromstring(made.xsl.encode())
    for message in root.iter("{http://www.w3.org/1999/XSL/Transform}message"):  # as runnable_stylesheet does
        del message[:]
        message.text = STOPPED_BY_MESSAGE
    with pytest.raises(RenderingRefused) as refused:
        render_html(made, DOCUMENT, etree.XSLT(root, access_control=SANDBOX))
    assert refused.value.code == "BLAD_WIZUALIZACJI"
    assert said in refused.value.message and "ZASWIADCZENIE_TESTOWE w wersji 3" in refused.value.message
    assert "Zaświadczenie o pracy" not in refused.value.message  # no text of the document (nor of a message)
    polish(refused.value.message)


def test_a_plain_message_does_not_stop_the_rendering_and_the_text_around_it_stays() -> None:
    made = template("says_a_message_and_renders.xsl")
    html = render_html(made, DOCUMENT, runnable_stylesheet(made.xsl))
    assert b"<p>Przed po: Za\xc5\x9bwiadczenie o pracy</p>" in html


def test_external_resources_are_left_out_of_the_pdf() -> None:
    """Unit tests block sockets, so a fetch would fail here anyway: this shows the PDF is made (weasyprint 70
    failed on a bare function as fetcher); tests/integration/test_templates_attacks.py listens for the fetch."""
    made = template("links_external_resources.xsl")
    pdf = pdf_from_html(render_html(made, DOCUMENT))
    assert pdf.startswith(b"%PDF")


# -- the bound, in worker processes --------------------------------------------------------------------------------
def test_html_and_pdf_are_rendered_in_the_workers(renderer: Renderer) -> None:
    made = template("renders_the_title.xsl")
    assert "Zaświadczenie o pracy".encode() in renderer.html(made, DOCUMENT)
    pdf = renderer.pdf(made, DOCUMENT, SignatureSection(0))
    assert pdf.startswith(b"%PDF")
    assert len(set(renderer._pool._pool_manager.worker_manager.workers)) == LIMITS.processes  # type: ignore[union-attr]


def test_a_stylesheet_that_never_finishes_is_stopped_at_the_time_bound_while_the_other_process_renders(
    renderer: Renderer,
) -> None:
    normal = template("renders_the_title.xsl")
    renderer.html(normal, DOCUMENT)  # both processes started
    outcome: dict[str, object] = {}

    def endless() -> None:
        started = time.monotonic()
        try:
            renderer.html(template("never_finishes.xsl"), DOCUMENT)
        except RenderingRefused as refused:
            outcome["refused"] = refused
        outcome["seconds"] = time.monotonic() - started
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=endless)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    for _ in range(5):
        assert renderer.html(normal, DOCUMENT)
    done = time.monotonic()
    thread.join(timeout=60)
    refused = outcome["refused"]
    assert isinstance(refused, RenderingRefused) and refused.code == "BLAD_WIZUALIZACJI"
    assert "limit czasu (2 s)" in refused.message, refused.message
    polish(refused.message)
    # Stopped by the bound, not earlier (no timing threshold: the machine may be loaded; the join is the hang guard)
    assert float(str(outcome["seconds"])) >= LIMITS.timeout_seconds, outcome
    # the five others were rendered while the endless one was still running (by the other process)
    assert done < float(str(outcome["ended"])), f"five renderings ended {done - started:.1f} s after they began"
    assert renderer.html(normal, DOCUMENT)  # the killed process was replaced


def test_two_endless_renderings_at_once_are_both_stopped_and_the_pool_renders_again(renderer: Renderer) -> None:
    endless = template("never_finishes.xsl")
    results: list[object] = []

    def render() -> None:
        try:
            results.append(renderer.pdf(endless, DOCUMENT, SignatureSection(0)))
        except RenderingRefused as refused:
            results.append(refused)

    threads = [threading.Thread(target=render) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert time.monotonic() - started >= LIMITS.timeout_seconds  # stopped by the bound (the joins guard a hang)
    assert [type(r) for r in results] == [RenderingRefused, RenderingRefused]
    assert renderer.pdf(template("renders_the_title.xsl"), DOCUMENT, SignatureSection(0)).startswith(b"%PDF")


def test_a_rendering_that_outgrows_the_memory_bound_is_refused(renderer: Renderer) -> None:
    """A gigabyte string (3 GB of memory unbounded): libxml2's allocation fails at 384 MB of address space."""
    with pytest.raises(RenderingRefused, match=r"limit pamięci \(384 MB\)") as refused:
        renderer.html(template("builds_a_gigabyte_string.xsl"), DOCUMENT)
    assert "limit czasu" not in refused.value.message  # stopped by the memory bound, not the time bound
    polish(refused.value.message)
    with pytest.raises(RenderingRefused, match=r"limit pamięci \(384 MB\)") as python_level:
        renderer.run(bytearray, 1 << 30, subject="szablon X w wersji 1")  # Python's own MemoryError
    polish(python_level.value.message)
    assert renderer.html(template("renders_the_title.xsl"), DOCUMENT)


def reserved_but_unused_regions() -> bytes:
    """In a worker: the anonymous mappings of 32 MB or more that are reserved and inaccessible (---p), as glibc's
    per-thread malloc arenas are, one per line."""
    found = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split()
        start, end = (int(part, 16) for part in fields[0].split("-"))
        if fields[1] == "---p" and len(fields) < 6 and end - start >= 32 << 20:
            found.append(f"{(end - start) >> 20} MB")
    return "\n".join(found).encode()


def test_a_warm_worker_holds_no_malloc_arena_reservations_that_the_memory_bound_would_count(
    renderer: Renderer,
) -> None:
    """weasyprint's libraries start and end threads while a worker warms up; each left a 64 MB malloc arena
    reserved, counted by RLIMIT_AS: a warm worker mapped 298 MB (peak 362) of its 384, and a plain PDF after
    two endless renderings was refused for lack of memory (CI). Workers use the main arena alone."""
    assert renderer.pdf(template("renders_the_title.xsl"), DOCUMENT, SignatureSection(0)).startswith(b"%PDF")
    assert renderer.run(reserved_but_unused_regions, subject="szablon X w wersji 1") == b""


def test_a_worker_that_dies_is_refused_in_polish_and_replaced(renderer: Renderer) -> None:
    with pytest.raises(RenderingRefused, match="zakończył się nieoczekiwanie") as refused:
        renderer.run(os.abort, subject="szablon X w wersji 1")
    polish(refused.value.message)
    assert renderer.html(template("renders_the_title.xsl"), DOCUMENT)


def test_a_closed_renderer_starts_again_when_asked() -> None:
    made = Renderer(RenderLimits(timeout_seconds=5, memory_mb=384, processes=1))
    try:
        assert made.html(template("renders_the_title.xsl"), DOCUMENT)
        made.close()
        assert made.html(template("renders_the_title.xsl"), DOCUMENT)
    finally:
        made.close()


def test_the_limits_are_settings_of_the_hub_with_their_defaults(tmp_path: Path) -> None:
    hub = settings.parse(VALID, tmp_path / "platforma.toml").hub
    assert (hub.render_timeout_seconds, hub.render_memory_mb, hub.render_processes) == (10, 512, 2)
    raw = {**VALID, "hub": {**VALID["hub"], "render_memory_mb": 128, "render_timeout_seconds": 0}}
    with pytest.raises(ConfigurationError) as refused:
        settings.parse(raw, tmp_path / "platforma.toml")
    assert refused.value.message.splitlines() == [
        "platforma.toml:hub.render_timeout_seconds: wartość musi być > 0 (podano 0)",
        "platforma.toml:hub.render_memory_mb: wartość musi być ≥ 384 (podano 128)",
    ]
