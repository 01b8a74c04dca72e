"""Fuzz target `settings`: hub/settings.py `load` (TOML, then `parse`) on fuzzed file contents.

Property: the file gives a `Config`, or `ConfigurationError` with a message says what is wrong; nothing
else escapes (a hub started with a bad file names the mistake in Polish, it does not print a traceback).

    .venv/bin/python tests/fuzz/fuzz_settings.py -max_total_time=30 corpus_dir
"""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import tempfile
from pathlib import Path

if __name__ == "__main__":  # run as a program: the repository root is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz import harness

with harness.instrumented(__name__ == "__main__", "hub", "contract", "replica", "tomllib"):
    from contract.errors import ConfigurationError
    from hub import settings


@functools.cache
def _folder() -> Path:
    """A folder of its own for the fuzzed file (relative paths in it resolve here)."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-settings-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def check(data: bytes) -> None:
    """Load `data` as platforma.toml; only `ConfigurationError`, with a message, may escape."""
    path = _folder() / "platforma.toml"
    path.write_bytes(data)
    try:
        settings.load(path)
    except ConfigurationError as error:
        if not error.message.strip():
            raise harness.Finding("ConfigurationError without a message", error) from error


if __name__ == "__main__":
    harness.main("settings", check)
