"""The README's zeep example works against the demo as printed (only the demo.json path differs)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT
from tests.integration.conftest import RunningHub


def test_readme_example_runs_against_the_demo(hub: RunningHub) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_lines = readme.splitlines()[:6]
    assert any(line.startswith("scripts/demo.sh") for line in first_lines)
    assert any(line.startswith("scripts/test.sh") for line in first_lines)
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "README must carry a python example"
    code = blocks[0].replace('open("demo/demo.json")', f"open({str(hub.directory / 'demo.json')!r})")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^PUP OK [0-9a-f]{64}$", result.stdout, re.M), result.stdout
    assert re.search(r"^SR OK [0-9a-f]{64}$", result.stdout, re.M), result.stdout


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"^(scripts/test\.sh)", readme, re.M)
    assert command is not None
    assert "exec scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
