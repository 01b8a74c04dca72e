"""Where an `audit` command writes its output: atomically into a regular file, straight into anything else.

An existing regular file is replaced only by a report over an earlier report (or an empty file): a mistyped
`--output` must not replace the evidence (the register, its log, the anchors), a key, the seal or the hub's
configuration with a report.

A report written to a file must never be seen half-made, so it is written beside the target as
`<name>.czesciowy` and renamed over it. Renaming is only right for a regular file (or a name that does not
exist yet): renamed over a device such as `/dev/null`, a FIFO or a socket, it would replace that special
file with a regular one (as root, `/dev/null` itself). Those are written to directly, as `-` (standard
output) is. A symbolic link is followed: the file it points to is what gets replaced, not the link.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from audit.anchors import looks_like_anchors
from audit.errors import OutputFileError
from audit.reports import looks_like_a_report

STDOUT = "-"
PARTIAL_SUFFIX = ".czesciowy"


_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _precious(final: Path) -> str | None:
    """What `final` is if a report must not replace it: the audit database (or any SQLite database, or its
    log), an anchor file or a PEM key; None for anything else (a new file, an earlier report)."""
    try:
        with final.open("rb") as handle:
            start = handle.read(512)
    except (FileNotFoundError, IsADirectoryError):
        return None
    if start.startswith(_SQLITE_MAGIC):
        return "baza danych SQLite (np. rejestr audytu)"
    for suffix in _SQLITE_COMPANIONS:
        base = final.with_name(final.name.removesuffix(suffix))
        if final.name.endswith(suffix) and _is_sqlite(base):
            return f"plik pomocniczy bazy danych {base.name}"
    if looks_like_anchors(start):
        return "plik kotwic rejestru audytu"
    if start.startswith(b"-----BEGIN"):
        return "plik klucza lub certyfikatu PEM"
    if not start or looks_like_a_report(start):
        return None
    # Anything else (the hub's configuration, a PKCS#12 seal, a document): a deny-list missed them, so only an
    # earlier report (or an empty file) is replaced.
    return "istniejący plik, który nie jest raportem z rejestru"


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def is_special(target: str | Path) -> bool:
    """True if `target` exists (through symbolic links) and is not a regular file: a device, FIFO, socket."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextlib.contextmanager
def output_stream(target: str | Path | None) -> Iterator[IO[bytes]]:
    """A binary stream for a command's output file; `None` or `-` is standard output.

    A regular file (or a new one) is replaced only when the block ends without an exception; a special
    file is written to directly; a directory raises `IsADirectoryError`.
    """
    if target is None or str(target) == STDOUT:
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    if is_special(target):
        with open(target, "wb") as handle:
            yield handle
        return
    final = Path(os.path.realpath(target))
    if final.is_dir():
        raise IsADirectoryError(errno.EISDIR, "to jest katalog", str(target))
    what = _precious(final)
    if what is not None:
        # `--output audit.sqlite` replaced the register by the report about it, and exited 0.
        raise OutputFileError(f"Plik {target} to {what}: nie zastępuję go raportem. Podaj inny plik (--output).")
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    try:
        opened = partial.open("wb")
    except OSError as error:  # the person named `target`, not the partial file beside it
        raise type(error)(error.errno, error.strerror, str(target)) from None
    try:
        with opened as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
