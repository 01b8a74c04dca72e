"""Reading a file a person named: a regular file only (a FIFO would block, a device never end), and bounded."""

from __future__ import annotations

from pathlib import Path


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
