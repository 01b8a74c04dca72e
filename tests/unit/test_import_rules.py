"""The import rules of DESIGN.md "Layout" (setup.cfg [importlinter]) hold, and breaking one fails the check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("contract", "replica", "hub", "adapters", "audit", "signing", "demo")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "setup.cfg")],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _copy_of_the_house(tmp_path: Path) -> Path:
    copy = tmp_path / "house"
    copy.mkdir()
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite*"))
    shutil.copy(ROOT / "setup.cfg", copy / "setup.cfg")
    return copy


def test_the_code_keeps_every_import_rule() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "rule"),
    [
        ("contract/_violation.py", "import hub.core\n", "Rooms point one way"),
        ("replica/_violation.py", "from adapters import base\n", "Rooms point one way"),
        ("audit/_violation.py", "import signing.constants\n", "know nothing of the hub"),
        ("hub/domain/_violation.py", "import hub.soap.server\n", "The hub's parts point one way"),
        ("hub/domain/_violation2.py", "import spyne\n", "Spyne only at the SOAP edge"),
        ("adapters/_violation.py", "import demo.powiat\n", "Rooms point one way"),
    ],
)
def test_a_deliberate_violation_fails_the_check(tmp_path: Path, module: str, line: str, rule: str) -> None:
    house = _copy_of_the_house(tmp_path)
    (house / module).write_text(line)
    result = _lint_imports(house)
    assert result.returncode != 0, result.stdout
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert broken, result.stdout
    assert rule in result.stdout.split("Broken contracts")[-1], result.stdout
