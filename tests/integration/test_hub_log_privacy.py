"""The hub's log after queries whose replica fails holds no PESEL (STYLE: personal data never in logs).

A replica whose table disappeared behind the hub's back failed the lookup, and the hub logged SQLAlchemy's
error with the statement's parameters — the PESEL asked about — in its log file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from zeep import Client
from zeep.wsse.username import UsernameToken

from tests.integration.conftest import RunningHub, start_demo_hub


@pytest.fixture(scope="module")
def own_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_demo_hub(tmp_path_factory.mktemp("log"), "--gminas", "1")
    yield running
    running.process.terminate()
    running.process.wait(timeout=30)


def ask(client: Client, pesel: str) -> list[str]:
    answer = client.service.ZapytanieOBeneficjenta(
        Zapytanie={
            "IdentyfikatorBeneficjenta": {"Pesel": pesel},
            "PodstawaPrawna": "USR-2003",
            "Cel": "Ustalenie sytuacji rodziny",
            "Zbiory": {"Zbior": [{"Kod": "OPS", "Zakres": {"Kategoria": ["DANE_OSOBOWE"]}}]},
        }
    )
    return [result.Status for result in answer.Wyniki.Wynik]


def test_a_failing_replica_leaves_no_pesel_in_the_hubs_log(own_hub: RunningHub) -> None:
    user = own_hub.user("sr.referent")
    client = Client(own_hub.wsdl, wsse=UsernameToken(user["login"], user["password"]))
    pesel = own_hub.person("PUP", "OPS", "SR")
    assert ask(client, pesel) == ["OK"]
    replica = sqlite3.connect(own_hub.directory / "replicas" / "ops.sqlite")
    replica.execute("ALTER TABLE osoby RENAME TO osoby_przeniesione")
    replica.commit()
    replica.close()
    assert ask(client, pesel) == ["NIEDOSTEPNY"]
    own_hub.process.terminate()
    own_hub.process.wait(timeout=30)
    log = (own_hub.directory / "hub.log").read_text(encoding="utf-8", errors="replace")
    assert "replica of data set OPS failed" in log  # the failure is logged ...
    # ... without the person: neither the PESEL asked about nor any other demo PESEL (the demo's own table
    # of sample PESELs is printed to the console, not logged: it ends before the hub's first log line).
    logged = log[log.index("Zatrzymanie: Ctrl+C") :]
    assert pesel not in logged
    assert not [b["pesel"] for b in own_hub.demo["beneficiaries"] if b["pesel"] in logged]
