"""Two `platforma demo` runs started together in one folder: the second waits for the first's preparation and
reuses it. Both used to prepare the folder at once, each writing its databases, keys and replicas over the
other's."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from audit.checkpoints import TrustedKeys
from audit.store import AuditStore, OpenMode
from audit.verify import verify


def test_two_demo_runs_in_one_folder_prepare_it_once(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    command = [sys.executable, "-m", "hub.cli", "demo", "--dir", str(directory), "--no-serve", "--port", "0"]
    command += ["--pup", "60", "--ops", "30", "--sr", "30", "--gminas", "1"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, (out.decode()[-2000:], err.decode()[-2000:])
        assert b"Traceback" not in err
    state = json.loads((directory / "demo-state.json").read_text(encoding="utf-8"))
    demo = json.loads((directory / "demo.json").read_text(encoding="utf-8"))
    # One preparation: the users both runs report are the ones in the state (passwords made once).
    assert [u["password"] for u in demo["users"]] == [u["password"] for u in state["users"]]
    store = AuditStore(f"sqlite:///{directory / state['audit_database']}", mode=OpenMode.READ_ONLY)
    try:
        report = verify(store, TrustedKeys.from_files([directory / "klucze" / "klucz-audytu.pem"]))
        assert report.ok, report.problems
    finally:
        store.dispose()


def _demo(directory: Path, *sizes: str) -> list[str]:
    command = [sys.executable, "-m", "hub.cli", "demo", "--dir", str(directory), "--no-serve", "--port", "0"]
    return [*command, "--gminas", "1", *(sizes or ("--pup", "60", "--ops", "30", "--sr", "30"))]


def test_a_demo_killed_while_preparing_is_prepared_again_by_the_next_run(tmp_path: Path) -> None:
    """Attack pass: killed once its checkpoint key was written, every later run failed with "Plik … już istnieje;
    nie nadpisuję klucza" (exit 3) until the folder was removed by hand. A file of the user's own stays."""
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "moje-notatki.txt").write_text("nie ruszać")
    first = subprocess.Popen(_demo(directory), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    key = directory / "klucze" / "klucz-audytu.pem"
    for _ in range(1200):
        if key.exists() or first.poll() is not None:
            break
        time.sleep(0.05)
    first.kill()
    first.wait(timeout=30)
    assert key.exists() and not (directory / "demo-state.json").exists()
    again = subprocess.run(_demo(directory), capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "nie zakończyło się" in again.stderr and "Traceback" not in again.stderr
    assert (directory / "moje-notatki.txt").read_text() == "nie ruszać"
    state = json.loads((directory / "demo-state.json").read_text(encoding="utf-8"))
    store = AuditStore(f"sqlite:///{directory / state['audit_database']}", mode=OpenMode.READ_ONLY)
    try:
        assert verify(store, TrustedKeys.from_files([key])).ok
    finally:
        store.dispose()


def test_a_demo_with_an_empty_data_set_is_prepared_without_its_cases(tmp_path: Path) -> None:
    """`demo --pup 0` ended with "Nieoczekiwany błąd (IndexError)": the demo's cases took the first PUP person."""
    directory = tmp_path / "demo"
    result = subprocess.run(
        _demo(directory, "--pup", "0", "--ops", "30", "--sr", "30"), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    cases = json.loads((directory / "demo-state.json").read_text(encoding="utf-8"))["documents"]
    assert [(c["from"], c["to"]) for c in cases] == [("PUP", "OPS")]
