"""Rendering bounded in time and memory (docs/documents.md, "Rendering"; attack pass on templates, finding 16).

libxslt cannot be interrupted from another thread: a stylesheet that never finishes (two calls of itself per
level, 40 levels: 2^40 calls) held a hub thread at 100 % CPU for good, and two such requests every thread the hub
has. So every rendering, the HTML of `Documents.render` and the HTML and PDF of `Documents.pdf`, runs in a small
pool of worker processes (pebble's `ProcessPool`): a rendering that runs longer than `[hub]
render_timeout_seconds` has its process killed and replaced, and each process lives under an address-space limit
of `render_memory_mb` (RLIMIT_AS), so a rendering that grows past it fails, or its process dies, instead of the
hub. The hub's thread waits for the answer; the pool's own threads kill and replace, and the hub's other threads
go on answering.

A worker is started with `spawn` (a fresh interpreter), not `fork`: the hub is threaded (a child forked while
another thread holds a lock inherits it locked) and holds the listening socket and the databases, none of which
a rendering needs. A start costs about 1 s (imports, weasyprint's fonts); the pool starts at the first rendering
and stays warm.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import multiprocessing
import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from pebble import ProcessExpired, ProcessPool

from contract.errors import ConfigurationError, PlatformError
from hub.domain.templates import RenderingRefused, Template, render_html, runnable_stylesheet
from hub.domain.visualisation import document_html, pdf_from_html

_log = logging.getLogger(__name__)

#: How long beyond the rendering's own bound the hub's thread waits for a process to take it up (all busy, or
#: one being replaced) before it gives up on it too.
_QUEUE_GRACE_SECONDS = 5.0
#: CPU seconds a rendering may use beyond its wall-clock bound before the kernel stops its process
#: (RLIMIT_CPU): the second line, for a process whose hub died without killing it.
_CPU_GRACE_SECONDS = 2
#: How many compiled stylesheets a worker keeps (a template version in use is immutable, so one compile each).
_STYLESHEETS_KEPT = 16
#: A rendering that failed after its process's address space came this close to the bound ran out of memory:
#: libxml2 reports a failed allocation as whatever it was doing ("Undefined variable" for a string too long).
_NEAR_THE_BOUND = 0.9


@dataclass(frozen=True)
class RenderLimits:
    """How long one rendering may run (wall clock), how much memory its process may map, how many run at once."""

    timeout_seconds: float = 10.0
    memory_mb: int = 512
    processes: int = 2


@dataclass(frozen=True)
class SignatureSection:
    """What the PDF's last section says: how many signatures the document carries, each one's verification
    report (`VerificationReport.render`), or that the hub has no trust anchors to verify them with."""

    found: int
    reports: tuple[str, ...] = ()
    verifier_missing: bool = False


@dataclass(frozen=True)
class _Job:
    """One rendering as a worker receives it: HTML only when `signatures` is None, else the PDF."""

    template: Template
    document: bytes
    signatures: SignatureSection | None
    cpu_seconds: int
    memory_mb: int


@dataclass(frozen=True)
class _Outcome:
    """What a worker sends back: the bytes, or why not. Exceptions stay in the worker: one that does not
    unpickle in the hub would break the whole pool."""

    content: bytes = b""
    refusal: str | None = None  # a PlatformError's Polish message
    configuration: str | None = None  # a ConfigurationError's (weasyprint or its libraries missing)
    failure: str | None = None  # the type of anything else
    out_of_memory: bool = False


class Renderer:
    """Renders documents in worker processes bounded by `RenderLimits`; `RenderingRefused` (BLAD_WIZUALIZACJI)
    when a rendering fails, runs out of time or memory, or its process dies."""

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._pool: ProcessPool | None = None

    def html(self, template: Template, document: bytes) -> bytes:
        """The document's HTML by its template version's XSL (`render_html`)."""
        return self.run(_render, self._job(template, document, None), subject=_subject(template))

    def pdf(self, template: Template, document: bytes, signatures: SignatureSection) -> bytes:
        """The document's PDF: its HTML with the section on its signatures (`document_html`, `pdf_from_html`)."""
        return self.run(_render, self._job(template, document, signatures), subject=_subject(template))

    def run(self, function: Callable[..., Any], *args: Any, subject: str) -> bytes:
        """`function(*args)` in a worker process within the limits (a module-level function, as pickle names it;
        `subject` names what is rendered in the refusals: "szablon X w wersji N")."""
        timeout = self.limits.timeout_seconds
        future = self._executor().schedule(function, args=args, timeout=timeout)
        try:
            result = future.result(timeout=2 * timeout + _QUEUE_GRACE_SECONDS)
        except TimeoutError:  # the worker's bound (pebble killed it) or, queued too long, the wait's own
            future.cancel()
            _log.warning("Wizualizacja (%s) przerwana po %s s.", subject, timeout)
            raise RenderingRefused(
                f"Wizualizacja dokumentu ({subject}) przekroczyła limit czasu ({_seconds(timeout)} s) i została "
                "przerwana; arkusz XSL lub strona są zbyt złożone."
            ) from None
        except ProcessExpired as died:
            _log.warning("Proces wizualizacji (%s) zakończył się nieoczekiwanie (kod %s).", subject, died.exitcode)
            raise RenderingRefused(
                f"Proces wizualizacji dokumentu ({subject}) zakończył się nieoczekiwanie (np. po przekroczeniu "
                f"limitu pamięci {self.limits.memory_mb} MB); wizualizacja nie powstała."
            ) from None
        except MemoryError:
            result = _Outcome(out_of_memory=True)
        except PlatformError:
            raise
        except Exception as error:  # the pool itself failed (BrokenProcessPool): a new one is made next time
            _log.error("Pula procesów wizualizacji zawiodła (%s): %s", subject, type(error).__name__)
            result = _Outcome(failure=type(error).__name__)
        return self._unwrap(result, subject)

    def close(self) -> None:
        """Stop the worker processes (a rendering still running is killed)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            pool.join(timeout=10)

    def _retire(self) -> None:
        """After a rendering ran out of memory: new renderings go to a new pool, the old one finishes what it
        runs and ends. A worker that came near its bound keeps that peak (VmPeak) for life, and a later failure
        of any kind in it would be told as one more lack of memory (tested: the second of two such renderings
        in one worker was told as an XPath error)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            threading.Thread(target=pool.join, daemon=True, name="wizualizacja-koniec-puli").start()

    def _job(self, template: Template, document: bytes, signatures: SignatureSection | None) -> _Job:
        cpu = int(self.limits.timeout_seconds) + _CPU_GRACE_SECONDS
        return _Job(template, document, signatures, cpu, self.limits.memory_mb)

    def _executor(self) -> ProcessPool:
        """The running pool, made at the first rendering, and again if it broke (all its workers gone)."""
        with self._lock:
            if self._pool is None or not self._pool.active:
                if self._pool is not None:
                    self._pool.stop()
                self._pool = ProcessPool(
                    max_workers=self.limits.processes,
                    initializer=_start_worker,
                    initargs=(self.limits.memory_mb,),
                    context=multiprocessing.get_context("spawn"),
                )
            return self._pool

    def _unwrap(self, result: Any, subject: str) -> bytes:
        if isinstance(result, bytes | bytearray):
            return bytes(result)
        if not isinstance(result, _Outcome):
            result = _Outcome(failure=type(result).__name__)
        if result.out_of_memory:
            self._retire()
            raise RenderingRefused(
                f"Wizualizacja dokumentu ({subject}) przekroczyła limit pamięci ({self.limits.memory_mb} MB) i "
                "została przerwana."
            )
        if result.configuration is not None:
            raise ConfigurationError(result.configuration)
        if result.refusal is not None:
            raise RenderingRefused(result.refusal)
        if result.failure is not None:
            _log.error("Wizualizacja (%s) zawiodła: %s", subject, result.failure)
            raise RenderingRefused(
                f"Wizualizacja dokumentu ({subject}) nie powstała: program składający stronę lub PDF zawiódł na "
                "tym dokumencie."
            )
        return result.content


def _subject(template: Template) -> str:
    return f"szablon {template.document_type} w wersji {template.version}"


def _seconds(value: float) -> str:
    return f"{value:g}".replace(".", ",")


# -- in the worker process -------------------------------------------------------------------------------------------
def _start_worker(memory_mb: int) -> None:
    """A worker's start: warm, then bounded. Never fails (pebble would take the pool for broken)."""
    # pebble's worker ends on SIGTERM in a Python handler, which never runs while libxslt loops in C; pebble then
    # waits 3 s before SIGKILL. The default action ends the process at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _one_malloc_arena()
    _warm()
    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # A dying worker writes no core file: it would hold the document (personal data).
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _one_malloc_arena() -> None:
    """Every thread allocates from glibc's main arena. Threads that weasyprint's libraries start and end (GLib,
    fontconfig) left a 64 MB arena reserved each: a warm worker mapped 298 MB (peak 362 MB) instead of 167 MB,
    and the address-space bound then counted reservations, not memory (a plain PDF refused at 384 MB)."""
    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)
    except (OSError, AttributeError):  # not glibc: nothing to set
        pass


#: mallopt's parameter number for the most arenas (glibc's malloc.h).
_M_ARENA_MAX = -8


def _warm() -> None:
    """Load weasyprint and its fonts once, before the first rendering (about 0.5 s of the first PDF)."""
    try:
        pdf_from_html("<html><body><p>Zaświadczenie</p></body></html>".encode())
    except Exception as error:  # weasyprint missing: the rendering that needs it says so
        _log.debug("Rozgrzewka wizualizacji: %s", type(error).__name__)


def _render(job: _Job) -> _Outcome:
    """One rendering in a worker (the function the pool runs)."""
    _bound_cpu(job.cpu_seconds)
    peak = _address_space_peak()
    outcome = _render_bounded(job)
    if outcome.refusal is not None or outcome.failure is not None:
        after = _address_space_peak()
        if peak is not None and after is not None and after > peak and after >= _NEAR_THE_BOUND * job.memory_mb:
            return _Outcome(out_of_memory=True)
    return outcome


def _render_bounded(job: _Job) -> _Outcome:
    try:
        stylesheet = _stylesheet(job.template.xsl)
        if job.signatures is None:
            return _Outcome(render_html(job.template, job.document, stylesheet))
        signatures = job.signatures
        html = document_html(
            job.template,
            job.document,
            signatures.reports,
            verifier_missing=signatures.verifier_missing,
            stylesheet=stylesheet,
        )
        return _Outcome(pdf_from_html(html))
    except MemoryError:
        _stylesheet.cache_clear()
        return _Outcome(out_of_memory=True)
    except ConfigurationError as error:
        return _Outcome(configuration=error.message)
    except PlatformError as error:
        return _Outcome(refusal=error.message)
    except Exception as error:  # weasyprint's or lxml's own failure: named by type, never by its English text
        return _Outcome(failure=type(error).__name__)


@functools.lru_cache(maxsize=_STYLESHEETS_KEPT)
def _stylesheet(xsl: str) -> etree.XSLT:
    return runnable_stylesheet(xsl)


def _address_space_peak() -> float | None:
    """The process's largest address space so far, in MB (Linux: VmPeak), or None where it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _bound_cpu(seconds: int) -> None:
    """The CPU this rendering may use on top of what the process used so far (RLIMIT_CPU counts the process's
    whole life, so the soft limit moves up with each rendering; SIGXCPU ends the process)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime) + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
