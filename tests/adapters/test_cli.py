"""`platforma feed` and `platforma demo-domains` as an operator runs them: summary, exit codes, messages."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hub.cli import main


def test_demo_domains_writes_the_three_reference_databases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo-domains", "--seed", "5", "--out", str(tmp_path), "--pup", "12", "--ops", "6", "--sr", "7"]) == 0
    for name, table, count in (("pup", "rejestracja", 12), ("ops", "swiadczenie", 6), ("sr", "decyzja", 7)):
        connection = sqlite3.connect(tmp_path / f"{name}-dziedzinowa.sqlite")
        assert connection.execute(f"SELECT count(DISTINCT id_osoby) FROM {table}").fetchone()[0] == count  # noqa: S608
        connection.close()
    assert "PUP: 12 osób" in capsys.readouterr().out


def test_feed_prints_a_summary_and_exits_1_when_a_person_is_rejected(
    copy_of: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = copy_of("PUP")
    connection = sqlite3.connect(source)
    (bad,) = connection.execute("SELECT min(id_osoby) FROM osoba").fetchone()
    connection.execute("UPDATE kontakt SET data_planowana = '2025-13-01' WHERE id_osoby = ?", (bad,))
    connection.commit()
    connection.close()
    replica = tmp_path / "replika.sqlite"
    code = main(
        ["feed", "--adapter", "pup", "--source", f"sqlite:///{source}", "--target", f"sqlite:///{replica}",
         "--full", "--quiet", "--no-parallel"]
    )  # fmt: skip
    out = capsys.readouterr().out.replace("\n", " ")
    assert code == 1
    assert "przeczytano 120" in out and "odrzucono 1" in out and f"SYR-{bad}" in out
    assert "niemożliwa lub nieczytelna data" in out and "2025-13-01" not in out  # the person's value is not shown


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--adapter", "zus"], "Nieznany adapter 'zus'"),
        (["--source", "sqlite:////nie/ma/takiej.sqlite"], "nie istnieje"),
        (["--target", "http://127.0.0.1:9/soap/zasilanie"], "login i hasło"),
    ],
)
def test_feed_errors_are_one_polish_sentence_and_exit_2(
    domain_dbs: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    base = {
        "--adapter": "pup",
        "--source": domain_dbs.urls["PUP"],
        "--target": f"sqlite:///{tmp_path / 'r.sqlite'}",
    }
    base.update(dict(zip(arguments[::2], arguments[1::2], strict=True)))
    argv = ["feed", *[part for pair in base.items() for part in pair], "--full", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
