"""A real hub on an ephemeral loopback port: `platforma demo` in a subprocess, over a small synthetic powiat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MODEL = "{urn:pl:platforma-komunikacyjna:model:1}"


@dataclass
class RunningHub:
    """A hub process and what its demo.json says."""

    directory: Path
    demo: dict[str, Any]
    process: subprocess.Popen[bytes]

    @property
    def wsdl(self) -> str:
        return str(self.demo["wsdl"]["zapytania"])

    @property
    def endpoint(self) -> str:
        return self.wsdl.removesuffix("?wsdl")

    def user(self, login: str) -> dict[str, str]:
        return next(u for u in self.demo["users"] if u["login"] == login)

    def person(self, *data_sets: str) -> str:
        return next(b["pesel"] for b in self.demo["beneficiaries"] if b["data_sets"] == list(data_sets))


def start_demo_hub(directory: Path, *extra: str) -> RunningHub:
    """Start `platforma demo --port 0` and wait until it has written demo.json with its real port."""
    log = (directory / "hub.log").open("wb")
    env = dict(os.environ, COLUMNS="200", PYTHONUNBUFFERED="1")
    command = [
        sys.executable,
        "-m",
        "hub.cli",
        "demo",
        "--dir",
        str(directory),
        "--port",
        "0",
        "--pup",
        "300",
        "--ops",
        "150",
        "--sr",
        "200",
        *extra,
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    demo_json = directory / "demo.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("hub exited early:\n" + (directory / "hub.log").read_text(errors="replace"))
        if demo_json.exists():
            try:
                demo = json.loads(demo_json.read_text(encoding="utf-8"))
                return RunningHub(directory, demo, process)
            except json.JSONDecodeError:
                pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("hub did not start in 120 s:\n" + (directory / "hub.log").read_text(errors="replace"))


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    # One gmina (its units OPS and SR): the powiat these tests were written for; many gminas: test_powiat_query.py
    running = start_demo_hub(tmp_path_factory.mktemp("powiat"), "--gminas", "1")
    yield running
    running.process.terminate()
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()
