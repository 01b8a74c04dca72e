"""A second hub over the session hub's databases, serving with two worker processes on one socket, and users
of its own made straight in the hub database (so that a test's lockouts touch nobody else's account)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from audit import SecurityEvent
from audit.sql import SqlEventLog
from hub import settings as config_module
from hub.domain.accounts import Accounts, hash_password
from hub.settings import UserEntry
from hub.storage.tables import hub_engine
from tests.integration.conftest import RunningHub


@dataclass
class WorkerHub:
    """`platforma serve --workers 2`: its address."""

    base: str

    def wsdl(self, service: str = "zapytania") -> str:
        return f"{self.base}/soap/{service}?wsdl"

    def endpoint(self, service: str = "zapytania") -> str:
        return f"{self.base}/soap/{service}"


@contextmanager
def two_workers(hub: RunningHub, log_name: str) -> Iterator[WorkerHub]:
    """Serve the session hub's configuration with two worker processes until the block ends."""
    with serving(hub, log_name, workers=2) as running:
        yield running


@contextmanager
def serving(hub: RunningHub, log_name: str, *, workers: int = 1, threads: int | None = None) -> Iterator[WorkerHub]:
    """Another hub over the session hub's databases (as hubs sharing one database are), with `workers` processes
    and, if given, `threads` WSGI threads in each, until the block ends."""
    log = hub.directory / log_name
    config = hub.directory / "platforma.toml"
    if threads is not None:  # a copy beside the original, so that its relative paths name the same files
        text = config.read_text(encoding="utf-8").replace("[hub]\n", f"[hub]\nthreads = {threads}\n", 1)
        config = hub.directory / f"{log_name}.toml"
        config.write_text(text, encoding="utf-8")
        config.chmod(0o600)
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(config), "--port", "0", "--workers", str(workers)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200"),
    )  # fmt: skip
    try:
        for _ in range(300):
            match = re.search(r"Platforma nasłuchuje: (\S+)/", log.read_text(errors="replace"))
            if match and (workers == 1 or f"Procesy robocze: {workers}" in log.read_text(errors="replace")):
                break
            if process.poll() is not None:
                raise RuntimeError(log.read_text(errors="replace"))
            time.sleep(0.1)
        else:
            raise RuntimeError("the hub did not start:\n" + log.read_text(errors="replace"))
        yield WorkerHub(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=20)


def hub_events(hub: RunningHub, login: str) -> list[SecurityEvent]:
    """The security events about `login` in the hub's audit database, in the order they were written."""
    config = config_module.load(hub.directory / "platforma.toml")
    events = SqlEventLog(config.hub.audit_database)
    try:
        return list(events.events(user=login))
    finally:
        events.dispose()


def add_user(hub: RunningHub, login: str, password: str, *, like: str = "sr.referent") -> None:
    """A user in the same office and group as `like`, ready to use (no forced password change)."""
    config = config_module.load(hub.directory / "platforma.toml")
    model = hub.user(like)
    accounts = Accounts(hub_engine(config.hub.database))
    try:
        accounts.import_users(
            [
                UserEntry(
                    login=login, office=model["office"], group=model["group"], password_hash=hash_password(password)
                )
            ]
        )
    finally:
        accounts.engine.dispose()


def admin_cli(
    hub: RunningHub, actor: str, *args: str, new_password: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `platforma <command> <action> --config … --as ACTOR …` as a demo user, in a process of its own."""
    env = dict(os.environ, PLATFORMA_HASLO=hub.user(actor)["password"], COLUMNS="200")
    if new_password is not None:
        env["PLATFORMA_NOWE_HASLO"] = new_password
    config = str(hub.directory / "platforma.toml")
    command = [sys.executable, "-m", "hub.cli", *args[:2], "--config", config, "--as", actor, *args[2:]]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
