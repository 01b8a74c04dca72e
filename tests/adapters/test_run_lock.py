"""One feeding run per replica at a time (issue 13 item 6): a second feed of a replica that another run is
writing is refused at once with REPLIKA_ZAJETA and the replica untouched; the lock dies with its holder,
so a killed feeder's run can be resumed at once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from adapters.targets import ReplicaTarget
from demo.data import DomainSummary


def feed(source: str, replica: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hub.cli", "feed", "--adapter", "pup", "--source", source]
    return subprocess.run(
        [*command, "--target", f"sqlite:///{replica}", "--full"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def people(replica: Path) -> int:
    with sqlite3.connect(f"file:{replica}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM osoby").fetchone()[0])


def test_a_second_feed_of_a_replica_being_fed_is_refused_with_a_stable_code(
    domain_dbs: DomainSummary, tmp_path: Path
) -> None:
    replica = tmp_path / "pup.sqlite"
    first = feed(domain_dbs.urls["PUP"], replica)
    assert first.returncode == 0, first.stderr
    before = people(replica)
    holder = ReplicaTarget(f"sqlite:///{replica}", "PUP")  # a run under way
    try:
        second = feed(domain_dbs.urls["PUP"], replica)
    finally:
        holder.close()
    assert second.returncode == 2, second.stdout + second.stderr
    assert "[REPLIKA_ZAJETA]" in second.stderr and "Traceback" not in second.stderr
    assert people(replica) == before
    assert feed(domain_dbs.urls["PUP"], replica).returncode == 0  # free again once the first run closed


def test_the_lock_dies_with_a_killed_feeder(domain_dbs: DomainSummary, tmp_path: Path) -> None:
    replica = tmp_path / "pup.sqlite"
    code = (
        "import sys, time; from adapters.targets import ReplicaTarget; "
        f"ReplicaTarget({f'sqlite:///{replica}'!r}, 'PUP'); print('held', flush=True); time.sleep(300)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert feed(domain_dbs.urls["PUP"], replica).returncode == 2
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        deadline = time.monotonic() + 10
        result = feed(domain_dbs.urls["PUP"], replica)
        assert result.returncode == 0 and time.monotonic() < deadline, result.stderr
    finally:
        holder.kill()
