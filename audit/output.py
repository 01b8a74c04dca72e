"""Where an `audit` command writes its output: atomically into a regular file, straight into anything else.

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

STDOUT = "-"
PARTIAL_SUFFIX = ".czesciowy"


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
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    try:
        with partial.open("wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
