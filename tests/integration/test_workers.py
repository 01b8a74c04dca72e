"""Several worker processes serve one socket; every answer is right and every process stops with the first."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from zeep import Client
from zeep.wsse.username import UsernameToken

from tests.integration.conftest import RunningHub


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def test_two_workers_answer_and_stop_together(hub: RunningHub) -> None:
    log = hub.directory / "workers.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(hub.directory / "platforma.toml"),
         "--port", "0", "--workers", "2"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200"),
    )  # fmt: skip
    try:
        url = None
        for _ in range(300):
            match = re.search(r"WSDL zapytania: (\S+)", log.read_text(errors="replace"))
            if match:
                url = match.group(1)
                break
            time.sleep(0.1)
        assert url, log.read_text(errors="replace")
        assert "Procesy robocze: 2" in log.read_text(errors="replace")
        workers = _children(process.pid)
        assert len(workers) == 1
        user = hub.user("sr.referent")
        client = Client(url, wsse=UsernameToken(user["login"], user["password"]))
        pesel = hub.person("PUP", "OPS", "SR")
        for _ in range(20):
            answer = client.service.ZapytanieOBeneficjenta(
                Zapytanie={
                    "IdentyfikatorBeneficjenta": {"Pesel": pesel},
                    "PodstawaPrawna": "USR-2003",
                    "Cel": "Sprawdzenie pracy kilku procesów",
                    "Zbiory": {"Zbior": [{"Kod": "PUP", "Zakres": {"Kategoria": ["OKRESY_REJESTRACJI"]}}]},
                }
            )
            assert answer.Wyniki.Wynik[0].Status == "OK"
    finally:
        # Stopped as an impatient operator does: twice. The second signal is ignored, not a traceback.
        process.terminate()
        time.sleep(0.05)
        process.terminate()
        returncode = process.wait(timeout=20)
    assert returncode == 0
    assert "Traceback" not in log.read_text(errors="replace")
    for worker in workers:
        for _ in range(100):
            if not Path(f"/proc/{worker}").exists():
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{worker}").exists(), "a worker outlived the first process"
