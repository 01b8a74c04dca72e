"""A real PostgreSQL 15 server for the session, started by the tests themselves on a private port.

Debian's `postgresql` package (scripts/bootstrap.sh --test); initdb and postgres refuse root, so they run
as `postgres` via runuser, with a private socket directory, fsync off, listening on 127.0.0.1 only.
Without the binaries the tests fail under CI=true (the default, tests/conftest.py; naming the tool) and
skip only where CI is set to something else; a cluster that does not start is always a failure, naming
the cause (initdb's output, the server's log), never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_tool

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class PostgresServer:
    """A running server: its port and a superuser URL builder."""

    port: int
    directory: Path

    def url(self, database: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}", autocommit=True) as c:
            c.execute(statement)  # type: ignore[call-overload]


def _tool(name: str) -> str:
    candidate = PG_BIN / name
    if candidate.is_file():
        return str(candidate)
    return require_tool(name, "postgresql")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    initdb, postgres_bin = _tool("initdb"), _tool("postgres")
    runuser = require_tool("runuser", "util-linux")
    try:
        import psycopg  # noqa: F401
    except ImportError as error:  # a runtime dependency (setup.cfg): never a reason to skip
        pytest.fail(f"psycopg is not importable ({error}); setup.cfg installs psycopg[binary]", pytrace=False)
    as_postgres = [runuser, "-u", "postgres", "--"] if os.geteuid() == 0 else []
    directory = Path(tempfile.mkdtemp(prefix="platforma-pg-", dir="/tmp"))
    data, sockets = directory / "data", directory / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
        shutil.chown(sockets, "postgres")
    created = subprocess.run(
        [*as_postgres, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
        capture_output=True,
        text=True,
        check=False,
    )
    if created.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(
            f"PostgreSQL 15 did not start: initdb exited with {created.returncode}:\n{created.stdout}{created.stderr}",
            pytrace=False,
        )
    port = _free_port()
    log = (directory / "postgres.log").open("wb")
    process = subprocess.Popen(
        [
            *as_postgres, postgres_bin, "-D", str(data), "-p", str(port), "-k", str(sockets),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = PostgresServer(port, directory)
    deadline = time.monotonic() + 30
    while True:
        try:
            server.sql("SELECT 1")
            break
        except Exception as error:
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    process.kill()
                    cause = "no answer in 30 s"
                else:
                    cause = f"postgres exited with {process.returncode}"
                log_text = (directory / "postgres.log").read_text(errors="replace")
                shutil.rmtree(directory, ignore_errors=True)
                pytest.fail(f"PostgreSQL 15 did not start ({cause}; last error: {error}):\n{log_text}", pytrace=False)
            time.sleep(0.1)
    yield server
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(directory, ignore_errors=True)
