"""Shared test helpers: where fixtures live, and how a missing system tool is reported."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


def require_tool(name: str, package: str) -> str:
    """The path of a system tool; without it the test fails under CI=true (naming it) and skips locally."""
    path = shutil.which(name)
    if path is None:
        message = f"system tool '{name}' is missing (Debian package '{package}'); .ci/run installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
