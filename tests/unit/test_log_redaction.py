"""No PESEL in a log line: database errors leave their parameters out, and every line the commands log is
redacted (contract.logs). A replica that failed under a query logged SQLAlchemy's error with
'[parameters: (1, '<PESEL>', 2, 0)]' in the hub's log."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from contract.logs import REDACTED, RedactingFormatter, redact

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("hub", "replica", "audit", "adapters", "signing", "contract", "demo")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[parameters: (1, '44051401359', 2, 0)]", f"[parameters: (1, '{REDACTED}', 2, 0)]"),
        ("PESEL:44051401358 (wrong check digit)", f"PESEL:{REDACTED} (wrong check digit)"),
        (
            "a 12-digit 440514013590 and a 10-digit 4405140135 stay",
            "a 12-digit 440514013590 and a 10-digit 4405140135 stay",
        ),
    ],
)
def test_each_stand_alone_run_of_eleven_digits_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_formatter_redacts_the_traceback_too() -> None:
    try:
        raise RuntimeError("lookup of 44051401359 failed")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "request %s", ("92010112345",), None)
        import sys

        record.exc_info = sys.exc_info()
    line = RedactingFormatter("%(levelname)s %(message)s").format(record)
    assert "44051401359" not in line and "92010112345" not in line and line.count(REDACTED) >= 2


def create_engine_calls() -> list[tuple[str, int, bool]]:
    calls = []
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", "")) == "create_engine"
                ):
                    hidden = any(
                        k.arg == "hide_parameters" and isinstance(k.value, ast.Constant) and k.value.value is True
                        for k in node.keywords
                    )
                    calls.append((str(path.relative_to(ROOT)), node.lineno, hidden))
    return calls


def test_every_engine_leaves_the_parameters_out_of_its_errors() -> None:
    calls = create_engine_calls()
    assert len(calls) >= 8  # the scan finds the engines
    assert [(path, line) for path, line, hidden in calls if not hidden] == []
