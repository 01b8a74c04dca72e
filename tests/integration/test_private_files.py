"""`platforma demo` and `platforma serve` make every folder 0700 and every file 0600 (replicas, registers
and their -wal/-shm files, keys, configuration, demo.json), whatever the umask they were started with; a
demo folder made with wider modes is closed when it is reused; the key that signs the register's
checkpoints is not in the register's folder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub import settings
from replica.sqlite import sqlite_file

SIZES = ("--pup", "50", "--ops", "20", "--sr", "30")


def platforma(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator starts it, from a shell whose umask lets everyone read (022)."""
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, COLUMNS="200"),
        preexec_fn=lambda: os.umask(0o022),
    )


def modes(directory: Path) -> dict[str, int]:
    """Every folder and file under `directory` (itself included) with its permission bits."""
    found = {".": stat.S_IMODE(directory.stat().st_mode)}
    for path in directory.rglob("*"):
        found[str(path.relative_to(directory))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(directory: Path) -> None:
    wrong = {
        name: oct(mode)
        for name, mode in modes(directory).items()
        if mode != (0o700 if (directory / name).is_dir() else 0o600)
    }
    assert wrong == {}, "not private to the owner"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("prywatne") / "demo"
    result = platforma("demo", "--dir", str(directory), "--no-serve", "--port", "0", *SIZES)
    assert result.returncode == 0, result.stdout + result.stderr
    return directory


def test_the_demo_makes_every_folder_and_file_private(demo: Path) -> None:
    names = modes(demo)
    for expected in (
        "platforma.toml",
        "demo.json",
        "demo-state.json",
        "hub.sqlite",
        "audyt/audit.sqlite",
        "klucze/klucz-audytu.pem",
        "replicas/ops.sqlite",
        "dziedzinowe",
    ):
        assert expected in names
    assert any(name.endswith(("-wal", "-shm")) for name in names)  # SQLite's own files are checked too
    assert_private(demo)


def test_the_checkpoint_key_is_kept_outside_the_registers_folder(demo: Path) -> None:
    config = settings.load(demo / "platforma.toml")
    register = sqlite_file(config.hub.audit_database)
    assert register is not None and config.hub.audit_key is not None
    key = Path(config.hub.audit_key)
    assert register.exists() and key.exists()
    assert register.parent not in (key.parent, *key.parents)
    assert key.parent not in (register.parent, *register.parents)


def test_a_reused_demo_made_with_wider_modes_is_closed(demo: Path) -> None:
    for name in modes(demo):
        path = demo / name
        path.chmod(0o755 if path.is_dir() else 0o644)
    result = platforma("demo", "--dir", str(demo), "--no-serve", "--port", "0", *SIZES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_private(demo)


def test_serve_creates_its_databases_private(demo: Path) -> None:
    for pattern in ("hub.sqlite*", "audyt/audit.sqlite*"):
        for path in demo.glob(pattern):
            path.unlink()
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(demo / "platforma.toml"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, COLUMNS="200", PYTHONUNBUFFERED="1"),
        preexec_fn=lambda: os.umask(0o022),
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        line = ""
        while "nasłuchuje" not in line:
            line = process.stdout.readline()
            assert line or process.poll() is None, "the hub exited early"
            assert time.monotonic() < deadline, "the hub did not start"
        assert (demo / "hub.sqlite").exists() and (demo / "audyt" / "audit.sqlite").exists()
        assert_private(demo)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_feed_creates_a_private_replica(demo: Path, tmp_path: Path) -> None:
    replica = tmp_path / "nowe" / "ops.sqlite"
    source = f"sqlite:///{demo / 'dziedzinowe' / 'ops-dziedzinowa.sqlite'}"
    result = platforma("feed", "--adapter", "ops", "--source", source, "--target", f"sqlite:///{replica}", "--full",
                       "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert_private(replica.parent)
