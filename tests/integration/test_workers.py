"""Several worker processes serve one socket; every answer is right and every process stops with the first."""

from __future__ import annotations

import os
import re
import socket
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


def _established(pid: int, port: int) -> int:
    """Established TCP connections on local `port` that process `pid` holds (from /proc)."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "01" and int(local.rsplit(":", 1)[1], 16) == port and inode in inodes:
            count += 1
    return count


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
        # Eight keep-alive connections opened together are spread over the two processes (once the
        # worker, which prints nothing, is serving: until one of its connections lands on it).
        port = int(re.search(r":(\d+)/", url).group(1))  # type: ignore[union-attr]
        for _ in range(100):
            with socket.create_connection(("127.0.0.1", port)) as probe:
                probe.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert probe.recv(65536).startswith(b"HTTP/1.1 200")
                if _established(workers[0], port):
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the worker process never took a connection")
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
        try:
            for client in clients:
                client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for client in clients:
                assert client.recv(65536).startswith(b"HTTP/1.1 200")
            held = [_established(pid, port) for pid in (process.pid, *workers)]
            assert sum(held) == 8 and min(held) >= 3, held
        finally:
            for client in clients:
                client.close()
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
