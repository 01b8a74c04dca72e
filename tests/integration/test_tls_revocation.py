"""Revoked office-system certificates are refused by the running hub, and a new CRL needs no restart.

A hub process over the demo databases serves HTTPS with client certificates required (`client_ca`) and
checked against a CRL file (`client_crl` in the file, or `serve --client-crl`), with one worker and with
two sharing the socket (each worker must check). The CRL is replaced while the hub runs, as a CA's cron
job would do it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from zeep import Client, Transport

from tests.integration.conftest import RunningHub
from tests.integration.tls_pki import make_pki

# Enough new connections that, with two workers, both take some (the worker that accepts each one is not
# chosen by the test): a worker that does not check would serve one of them.
ATTEMPTS = 8


@dataclass(frozen=True)
class RevocationHub:
    url: str
    pki: Path
    crl: Path
    process: subprocess.Popen[bytes]
    log: Path


def write_crl(pki: Path, crl_file: Path, *revoked: str) -> None:
    """A CRL of the test CA revoking the named systems' certificates, renamed over the old file."""
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=1))
    )
    for name in revoked:
        cert = x509.load_pem_x509_certificate((pki / f"{name}.pem").read_bytes())
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(now).build()
        )
    temporary = crl_file.with_suffix(".new")
    temporary.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    os.replace(temporary, crl_file)


@pytest.fixture(
    scope="module",
    params=[(1, "config"), (2, "config"), (2, "option")],
    ids=["one-worker", "two-workers", "two-workers-client-crl-option"],
)
def revocation_hub(request: pytest.FixtureRequest, hub: RunningHub) -> Iterator[RevocationHub]:
    """A hub process with mutual TLS and a CRL that revokes system-ops, from the file or `--client-crl`."""
    workers, where = request.param
    directory = hub.directory / f"crl-{workers}-{where}"
    pki = directory / "pki"
    pki.mkdir(parents=True)
    make_pki(pki, ("system-ops", "system-pup"))
    crl = pki / "klienci.crl"
    write_crl(pki, crl, "system-ops")
    config = (hub.directory / "platforma.toml").read_text(encoding="utf-8")
    config = config.replace(
        "[hub]\n",
        f'[hub]\ntls_certificate = "{pki / "server.pem"}"\ntls_key = "{pki / "server.key"}"\n'
        f'client_ca = "{pki / "ca.pem"}"\n' + (f'client_crl = "{crl}"\n' if where == "config" else ""),
        1,
    )
    config += (
        '\n[[systems]]\nname = "POMOST OPS"\noffice = "OPS"\nsubject_cn = "system-ops"\n'
        '\n[[systems]]\nname = "Syriusz PUP"\noffice = "PUP"\nsubject_cn = "system-pup"\n'
    )
    path = hub.directory / f"platforma-crl-{workers}-{where}.toml"  # beside the demo's: its relative paths hold
    path.write_text(config, encoding="utf-8")
    log = directory / "hub.log"
    command = [sys.executable, "-m", "hub.cli", "serve", "--config", str(path), "--port", "0"]
    process = subprocess.Popen(
        [*command, "--workers", str(workers), *(["--client-crl", str(crl)] if where == "option" else [])],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200"),
    )
    url = None
    for _ in range(300):
        match = re.search(r"WSDL zapytania: (https://\S+)\?wsdl", log.read_text(errors="replace"))
        if match:
            url = match.group(1)
            break
        if process.poll() is not None:
            break
        time.sleep(0.1)
    if url is None or not workers_ready(process, workers - 1):
        process.kill()
        raise RuntimeError("TLS hub with a CRL did not start:\n" + log.read_text(errors="replace"))
    yield RevocationHub(url, pki, crl, process, log)
    process.terminate()
    process.wait(timeout=15)


def workers_ready(process: subprocess.Popen[bytes], count: int) -> bool:
    """Wait until the `count` worker processes the hub started have opened their databases (Linux /proc).

    A worker prints nothing when it listens; it opens the hub's databases just before, so a worker with
    its `.sqlite` files open is about to take connections (a short pause covers the rest).
    """
    for _ in range(600):
        children = [
            entry for entry in Path("/proc").iterdir() if entry.name.isdigit() and _parent(entry) == process.pid
        ]
        if len(children) == count and all(_has_database_open(child) for child in children):
            time.sleep(0.5)
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def _parent(entry: Path) -> int | None:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _has_database_open(entry: Path) -> bool:
    try:
        return any(os.readlink(fd).endswith(".sqlite") for fd in (entry / "fd").iterdir())
    except OSError:
        return False


def served(hub: RevocationHub, system: str) -> bool:
    """Fetch the WSDL over a new connection with `system`'s certificate; False when TLS refuses it."""
    try:
        response = requests.get(
            f"{hub.url}?wsdl",
            verify=str(hub.pki / "ca.pem"),
            cert=(str(hub.pki / f"{system}.pem"), str(hub.pki / f"{system}.key")),
            timeout=10,
        )
    except (requests.exceptions.SSLError, requests.exceptions.ConnectionError):
        return False
    assert response.status_code == 200 and b"definitions" in response.content
    return True


def test_a_revoked_system_is_refused_and_a_good_one_served(revocation_hub: RevocationHub, hub: RunningHub) -> None:
    assert [served(revocation_hub, "system-ops") for _ in range(ATTEMPTS)] == [False] * ATTEMPTS
    assert [served(revocation_hub, "system-pup") for _ in range(ATTEMPTS)] == [True] * ATTEMPTS
    session = requests.Session()
    session.trust_env = False
    session.verify = str(revocation_hub.pki / "ca.pem")
    session.cert = (str(revocation_hub.pki / "system-pup.pem"), str(revocation_hub.pki / "system-pup.key"))
    client = Client(f"{revocation_hub.url}?wsdl", transport=Transport(session=session))
    header = client.get_element("{urn:pl:platforma-komunikacyjna:zapytania:1}UzytkownikKoncowy")
    scope = client.service.ListaZbiorow(_soapheaders=[header(Login="pup.kierownik")])
    assert [z.Kod for z in scope] == ["PUP", "OPS", "SR"]
    assert "TLS client certificate refused (certificate revoked): system-ops" in revocation_hub.log.read_text()


def test_a_new_crl_refuses_the_second_system_without_a_restart(revocation_hub: RevocationHub) -> None:
    assert served(revocation_hub, "system-pup")
    write_crl(revocation_hub.pki, revocation_hub.crl, "system-ops", "system-pup")
    assert [served(revocation_hub, "system-pup") for _ in range(ATTEMPTS)] == [False] * ATTEMPTS
    assert [served(revocation_hub, "system-ops") for _ in range(ATTEMPTS)] == [False] * ATTEMPTS
    assert revocation_hub.process.poll() is None  # the same hub process, never restarted
    write_crl(revocation_hub.pki, revocation_hub.crl, "system-ops")
    assert [served(revocation_hub, "system-pup") for _ in range(ATTEMPTS)] == [True] * ATTEMPTS


def test_a_crl_of_another_ca_stops_the_hub_with_a_polish_message(hub: RunningHub) -> None:
    directory = hub.directory / "crl-obcy"
    pki, stranger = directory / "pki", directory / "obcy"
    pki.mkdir(parents=True)
    stranger.mkdir()
    make_pki(pki, ("system-ops",))
    make_pki(stranger, ("system-ops",))
    crl = pki / "klienci.crl"
    write_crl(stranger, crl)
    path = hub.directory / "platforma-crl-obcy.toml"
    path.write_text(
        (hub.directory / "platforma.toml")
        .read_text(encoding="utf-8")
        .replace(
            "[hub]\n",
            f'[hub]\ntls_certificate = "{pki / "server.pem"}"\ntls_key = "{pki / "server.key"}"\n'
            f'client_ca = "{pki / "ca.pem"}"\nclient_crl = "{crl}"\n',
            1,
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, COLUMNS="200"),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "hub.client_crl: Lista CRL wystawcy Testowe CA platformy" in output and "nie jest podpisana" in output
