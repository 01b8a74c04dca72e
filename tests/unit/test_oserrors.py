"""File errors are told in Polish (contract/oserrors.py): strerror is the C library's English."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from contract.oserrors import reason


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.ENOENT, "nie ma takiego pliku lub katalogu"),
        (errno.EACCES, "brak uprawnień"),
        (errno.ENOSPC, "brak miejsca na dysku"),
    ],
)
def test_common_errors_are_named_in_polish(code: int, expected: str) -> None:
    assert reason(OSError(code, "English text")) == expected


def test_an_unlisted_error_names_its_errno_not_the_english_text() -> None:
    said = reason(OSError(errno.EXDEV, "Invalid cross-device link"))
    assert said == "błąd systemowy EXDEV" and "Invalid" not in said
    assert reason(OSError("no errno")) == "błąd systemowy"
    assert reason(OSError(errno.EADDRINUSE, "Address already in use")) == "adres i port są już zajęte przez inny proces"


def test_a_missing_key_file_is_reported_in_polish_by_the_signing_command(tmp_path: Path) -> None:
    document = tmp_path / "dokument.xml"
    document.write_text("<a/>", encoding="utf-8")
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "sign",
            "--key",
            str(tmp_path / "nie-ma.p12"),
            "--out",
            str(tmp_path / "o.xml"),
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode != 0
    assert "nie ma takiego pliku lub katalogu" in ran.stderr and "No such file" not in ran.stderr, ran.stderr
