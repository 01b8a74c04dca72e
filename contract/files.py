"""Reading a file a person named: a regular file only (a FIFO would block, a device never end), and bounded.
Writing one: never seen half-written, and never a device or a FIFO replaced by a regular file."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from contract.oserrors import reason


class NotARegularFile(ValueError):
    """The path names a device, a FIFO or a socket."""


class FileTooLarge(ValueError):
    """The file holds more than the reader takes."""


def is_special(path: Path) -> bool:
    """True if `path` exists and is neither a folder nor a regular file (a device, a FIFO, a socket)."""
    return path.exists() and not path.is_dir() and not path.is_file()


def read_bounded(path: Path, limit: int) -> bytes:
    """The file's bytes, at most `limit` of them (`FileTooLarge` beyond, `NotARegularFile` for a device or a
    FIFO); `OSError` as `open` raises it (a missing file, a folder, no permission)."""
    if is_special(path):
        raise NotARegularFile(str(path))
    with path.open("rb") as handle:
        content = handle.read(limit + 1)
    if len(content) > limit:
        raise FileTooLarge(str(path))
    return content


def why_unreadable(error: OSError | ValueError) -> str:
    """A short Polish reason why `read_bounded` (and decoding) failed, for a message that names the file."""
    if isinstance(error, NotARegularFile):
        return "to nie jest zwykły plik (urządzenie, potok lub gniazdo)"
    if isinstance(error, FileTooLarge):
        return "plik jest za duży"
    if isinstance(error, UnicodeDecodeError):
        return "plik nie jest zapisany w UTF-8"
    if isinstance(error, OSError):
        return reason(error)
    return str(error)


def mode_for_others(path: Path) -> int | None:
    """The permission bits of `path` (0o644) if its group or other users may read, change or run it; None for a
    private file, or one that cannot be looked at (opening it then says what is wrong)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


def write_whole(path: Path, content: bytes) -> None:
    """`content` into `path`, private to its owner (0600): a regular file (or a new name) is written beside it and
    renamed over it, so a failure (a full disk) leaves the earlier file or none, never half of the new one; a
    device or a FIFO (`/dev/null`, `/dev/stdout`) is written to directly, as renaming would replace it with a
    regular file (as root, `/dev/null` itself). A symbolic link is followed. `OSError` names `path`."""
    if is_special(path):
        with path.open("wb") as handle:
            handle.write(content)
        return
    final = Path(os.path.realpath(path))
    if final.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    try:
        descriptor, partial = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".czesciowy")
    except OSError as error:  # mkstemp names its random file; the person named `path`
        raise type(error)(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, final)
    except BaseException as error:  # an interrupted write too: no half-made file stays behind
        with contextlib.suppress(OSError):
            os.unlink(partial)
        if isinstance(error, OSError):
            raise type(error)(error.errno, error.strerror, str(path)) from None
        raise
