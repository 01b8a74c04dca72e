"""`platforma feed --data-set`: a gmina's unit (`OPS-0201011`) is fed with its kind's adapter under its own
code, which the replica records and every later run must name."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from demo.data import DomainSummary


def feed(source: str, replica: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hub.cli", "feed", "--adapter", "ops", "--source", source, *extra]
    return subprocess.run(
        [*command, "--target", f"sqlite:///{replica}", "--full"], capture_output=True, text=True, timeout=300
    )


def test_a_unit_is_fed_under_its_own_code_and_keeps_it(domain_dbs: DomainSummary, tmp_path: Path) -> None:
    replica = tmp_path / "OPS-0201011.sqlite"
    first = feed(domain_dbs.urls["OPS"], replica, "--data-set", "OPS-0201011")
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(f"file:{replica}?mode=ro", uri=True) as connection:
        assert connection.execute("SELECT zbior, rodzaj FROM stan_repliki").fetchone() == ("OPS-0201011", "OPS")
        loads = connection.execute("SELECT count(*) FROM osoby").fetchone()[0]
    assert loads == domain_dbs.counts["OPS"]
    unnamed = feed(domain_dbs.urls["OPS"], replica)  # another data set's run (the kind's own code) is refused
    assert unnamed.returncode == 2 and "NIEZGODNY_ZBIOR_REPLIKI" in unnamed.stderr
    again = feed(domain_dbs.urls["OPS"], replica, "--data-set", "OPS-0201011")
    assert again.returncode == 0, again.stderr
