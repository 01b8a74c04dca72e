"""xmlsec's URI resolution, tamed: detached content from memory, nothing from files or the network.

xmlsec resolves a Reference URI that is not "#..." through input callbacks, by default the local file
system and HTTP: a signature could make us read any file or reach any host. The callbacks are
process-wide in libxmlsec, so they are replaced once, for the whole process, by one that answers only
with the content a caller hands to :func:`serving` for the duration of one sign or verify call (kept per
thread). Only ``signing`` uses xmlsec (STYLE.md), so nobody else loses the default resolvers.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import unquote

import xmlsec

_served = threading.local()
_lock = threading.Lock()
_installed: list[bool] = []


def _current() -> dict[bytes, bytes]:
    mapping: dict[bytes, bytes] | None = getattr(_served, "data", None)
    return mapping if mapping is not None else {}


def _read_into(stream: io.BytesIO, buffer: memoryview) -> int:
    chunk = stream.read(len(buffer))
    buffer[: len(chunk)] = chunk
    return len(chunk)


def _install() -> None:
    with _lock:
        if _installed:
            return
        xmlsec.cleanup_callbacks()
        xmlsec.register_callbacks(
            lambda uri: uri in _current(),
            lambda uri: io.BytesIO(_current()[uri]),
            _read_into,
            lambda stream: stream.close(),
        )
        _installed.append(True)


@contextmanager
def serving(data: Mapping[str, bytes]) -> Iterator[None]:
    """Let xmlsec read ``data`` (URI → content), and nothing else, inside the ``with`` block."""
    _install()
    mapping: dict[bytes, bytes] = {}
    for uri, content in data.items():
        # xmlsec asks for the URI both as written and unescaped; both are answered.
        mapping[uri.encode("utf-8")] = content
        mapping[unquote(uri).encode("utf-8")] = content
    _served.data = mapping
    try:
        yield
    finally:
        _served.data = None
