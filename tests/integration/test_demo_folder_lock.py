"""Two `platforma demo` runs started together in one folder: the second waits for the first's preparation and
reuses it. Both used to prepare the folder at once, each writing its databases, keys and replicas over the
other's."""

from __future__ import annotations

import json
import subprocess
import sys
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
