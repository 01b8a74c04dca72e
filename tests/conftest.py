"""Shared test helpers: where fixtures live, and how a missing system tool is reported."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent

# A bare `pytest` behaves as scripts/test.sh (and CI): a test whose system tool or runtime dependency is
# missing fails, naming it, instead of skipping. Only an explicit CI=false (or any other value) in the
# environment lets such tests skip, on a machine that lacks the tool on purpose.
os.environ.setdefault("CI", "true")


def missing(message: str) -> NoReturn:
    """Stop a test whose tool or dependency is missing: a failure under CI=true (the default), else a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_tool(name: str, package: str) -> str:
    """The path of a system tool; without it the test fails under CI=true (naming it) and skips otherwise."""
    path = shutil.which(name)
    if path is None:
        missing(f"system tool '{name}' is missing (Debian package '{package}', scripts/bootstrap.sh --test)")
    return path
