"""Mutual TLS for office systems, acting for end users, SOAP lockout, and live policy changes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from zeep import Client, Transport
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from audit import EventKind
from audit.sql import SqlEventLog
from tests.integration.conftest import MODEL, RunningHub
from tests.integration.tls_pki import make_pki

PURPOSE = "Weryfikacja sytuacji osoby"


def cli(hub: RunningHub, actor: str, *args: str, new_password: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `platforma …` as a demo user against the running hub's configuration."""
    env = dict(os.environ, PLATFORMA_HASLO=hub.user(actor)["password"], COLUMNS="200")
    if new_password is not None:
        env["PLATFORMA_NOWE_HASLO"] = new_password
    command = [
        sys.executable,
        "-m",
        "hub.cli",
        *args[:2],
        "--config",
        str(hub.directory / "platforma.toml"),
        "--as",
        actor,
        *args[2:],
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def fault_code(error: pytest.ExceptionInfo[Fault]) -> str:
    return str(error.value.detail.findtext(f"{MODEL}Blad/{MODEL}Kod"))


@pytest.fixture(scope="module")
def tls_hub(hub: RunningHub) -> Iterator[tuple[str, Path]]:
    """A second hub process over the same databases, serving HTTPS and requiring client certificates."""
    pki = hub.directory / "pki"
    pki.mkdir(exist_ok=True)
    make_pki(pki, ("system-ops", "system-pup"))
    config = (hub.directory / "platforma.toml").read_text(encoding="utf-8")
    config = config.replace(
        "[hub]\n",
        f'[hub]\ntls_certificate = "{pki / "server.pem"}"\ntls_key = "{pki / "server.key"}"\n'
        f'client_ca = "{pki / "ca.pem"}"\n',
        1,
    )
    config += (
        '\n[[systems]]\nname = "POMOST OPS"\noffice = "OPS"\nsubject_cn = "system-ops"\n'
        '\n[[systems]]\nname = "Syriusz PUP"\noffice = "PUP"\nsubject_cn = "system-pup"\n'
    )
    path = hub.directory / "platforma-tls.toml"
    path.write_text(config, encoding="utf-8")
    log = hub.directory / "tls.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(path), "--port", "0"],
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
    if url is None:
        process.kill()
        raise RuntimeError("TLS hub did not start:\n" + log.read_text(errors="replace"))
    yield url, pki
    process.terminate()
    process.wait(timeout=15)


def tls_client(url: str, pki: Path, cert: str, **kwargs: object) -> Client:
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides `verify` (requests #3829)
    session.verify = str(pki / "ca.pem")
    session.cert = (str(pki / f"{cert}.pem"), str(pki / f"{cert}.key"))
    return Client(f"{url}?wsdl", transport=Transport(session=session), **kwargs)  # type: ignore[arg-type]


def acting_for(client: Client, login: str) -> list[object]:
    header = client.get_element("{urn:pl:platforma-komunikacyjna:zapytania:1}UzytkownikKoncowy")
    return [header(Login=login)]


def test_a_client_without_a_certificate_is_refused_by_tls(tls_hub: tuple[str, Path]) -> None:
    url, pki = tls_hub
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(f"{url}?wsdl", verify=str(pki / "ca.pem"), timeout=10)


def test_a_certificate_from_another_issuer_is_refused_by_tls(tls_hub: tuple[str, Path]) -> None:
    url, pki = tls_hub
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(
            f"{url}?wsdl", verify=str(pki / "ca.pem"), cert=(str(pki / "rogue.pem"), str(pki / "rogue.key")), timeout=10
        )


def test_office_system_acts_for_its_own_end_user(tls_hub: tuple[str, Path], hub: RunningHub) -> None:
    url, pki = tls_hub
    client = tls_client(url, pki, "system-ops")
    scope = client.service.ListaZbiorow(_soapheaders=acting_for(client, "ops.pracownik"))
    assert [z.Kod for z in scope] == ["PUP", "SR"]
    answer = client.service.ZapytanieOBeneficjenta(
        Zapytanie={
            "IdentyfikatorBeneficjenta": {"Pesel": hub.person("PUP", "OPS", "SR")},
            "PodstawaPrawna": "UPS-2004",
            "Cel": PURPOSE,
            "Zbiory": {"Zbior": [{"Kod": "PUP", "Zakres": {"Kategoria": ["OKRESY_REJESTRACJI"]}}]},
        },
        _soapheaders=acting_for(client, "ops.pracownik"),
    )
    assert answer.Wyniki.Wynik[0].Status == "OK"


def test_ops_system_cannot_act_for_a_pup_user(tls_hub: tuple[str, Path], hub: RunningHub) -> None:
    url, pki = tls_hub
    client = tls_client(url, pki, "system-ops")
    with pytest.raises(Fault) as refused:
        client.service.ListaZbiorow(_soapheaders=acting_for(client, "pup.kierownik"))
    assert fault_code(refused) == "BLEDNE_UWIERZYTELNIENIE"
    events = SqlEventLog(f"sqlite:///{hub.demo['audit_database']}")
    refusals = list(events.events(kind=EventKind.PERMISSION_REFUSED, user="pup.kierownik"))
    assert refusals and refusals[-1].actor == "POMOST OPS"


def test_username_token_still_works_over_mutual_tls(tls_hub: tuple[str, Path], hub: RunningHub) -> None:
    url, pki = tls_hub
    user = hub.user("sr.referent")
    client = tls_client(url, pki, "system-pup", wsse=UsernameToken(user["login"], user["password"]))
    assert [z.Kod for z in client.service.ListaZbiorow()] == ["PUP", "OPS"]


def test_brute_force_over_soap_locks_and_the_right_password_then_fails(hub: RunningHub) -> None:
    password = "Wiosenna-Burza-Nad-Jeziorem-7"
    added = cli(
        hub,
        "ops.admin",
        "users",
        "add",
        "ops.nowak",
        "--office",
        "OPS",
        "--group",
        "ASYSTENCI_RODZINY",
        new_password=password,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    for _ in range(5):
        with pytest.raises(Fault) as wrong:
            Client(hub.wsdl, wsse=UsernameToken("ops.nowak", "proba-hasla")).service.ListaZbiorow()
        assert fault_code(wrong) == "BLEDNE_UWIERZYTELNIENIE"
    with pytest.raises(Fault) as locked:
        Client(hub.wsdl, wsse=UsernameToken("ops.nowak", password)).service.ListaZbiorow()
    assert fault_code(locked) == "BLEDNE_UWIERZYTELNIENIE"
    unlocked = cli(hub, "ops.admin", "users", "unlock", "ops.nowak")
    assert unlocked.returncode == 0, unlocked.stderr
    with pytest.raises(Fault) as must_change:
        Client(hub.wsdl, wsse=UsernameToken("ops.nowak", password)).service.ListaZbiorow()
    assert fault_code(must_change) == "WYMAGANA_ZMIANA_HASLA"
    events = [e.kind for e in SqlEventLog(f"sqlite:///{hub.demo['audit_database']}").events(user="ops.nowak")]
    assert events.count(EventKind.FAILED_LOGIN) == 6 and events.count(EventKind.LOCK) == 1
    assert EventKind.UNLOCK in events and EventKind.USER_CHANGE in events


def test_a_policy_change_takes_effect_on_the_next_query_and_is_recorded(hub: RunningHub) -> None:
    client = Client(hub.wsdl, wsse=UsernameToken("pup.posrednik", hub.user("pup.posrednik")["password"]))
    assert [z.Kod for z in client.service.ListaZbiorow()] == ["OPS"]
    changed = cli(hub, "platforma.admin", "policy", "set", "PUP", "POSREDNICY", "SR", "--categories", "DANE_DZIECI")
    assert changed.returncode == 0, changed.stderr
    try:
        assert [z.Kod for z in client.service.ListaZbiorow()] == ["OPS", "SR"]
    finally:
        removed = cli(hub, "platforma.admin", "policy", "remove", "PUP", "POSREDNICY", "SR")
        assert removed.returncode == 0, removed.stderr
    assert [z.Kod for z in client.service.ListaZbiorow()] == ["OPS"]
    refused = cli(hub, "pup.posrednik", "policy", "set", "PUP", "POSREDNICY", "SR", "--categories", "DANE_DZIECI")
    assert refused.returncode == 2 and "Brak uprawnień" in refused.stderr
    changes = list(SqlEventLog(f"sqlite:///{hub.demo['audit_database']}").events(kind=EventKind.POLICY_CHANGE))
    assert [c.user for c in changes[-2:]] == ["platforma.admin", "platforma.admin"]
    assert "DANE_DZIECI" in changes[-2].details
