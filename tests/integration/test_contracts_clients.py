"""The contracts as integrators meet them: the served WSDLs and schemas are the checked-in files (across a
restart), and clients generated from the served WSDL — zeep, PHP's SoapClient, node-soap — call every
operation of /soap/zapytania and /soap/konta, and a template operation of /soap/dokumenty, and read typed
faults (`Blad`) with their codes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from hub.soap import contracts
from tests.conftest import ROOT, require_tool
from tests.integration.conftest import MODEL, RunningHub, start_demo_hub

CLIENTS = Path(__file__).parent / "clients"
NODE_SOAP = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "platforma-komunikacyjna" / "node-soap"


def base_url(hub: RunningHub) -> str:
    return hub.endpoint.rsplit("/soap/", 1)[0]


def served(hub: RunningHub) -> dict[str, bytes]:
    """Every WSDL (`/soap/<service>?wsdl`) and schema (`/xsd/<file>`, document types' too) the hub serves, by
    checked-in file name."""
    files = {}
    for service in contracts.SERVICES:
        answer = requests.get(f"{base_url(hub)}/soap/{service}?wsdl", timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml")
        files[f"wsdl/{service}.wsdl"] = answer.content
    for name in contracts.published_schemas():
        answer = requests.get(f"{base_url(hub)}/xsd/{name}", timeout=30)
        assert answer.status_code == 200
        files[f"xsd/{name}"] = answer.content
    return files


def checked_in(hub: RunningHub) -> dict[str, bytes]:
    """The checked-in files, each WSDL with this hub's address in `soap:address` (the only difference)."""
    files = {}
    for service in contracts.SERVICES:
        content = (ROOT / "wsdl" / f"{service}.wsdl").read_bytes()
        placeholder = f'location="{contracts.PLACEHOLDER_URL}{service}"'.encode()
        assert content.count(placeholder) == 1
        address = f'location="{base_url(hub)}/soap/{service}"'.encode()
        files[f"wsdl/{service}.wsdl"] = content.replace(placeholder, address)
    for name in contracts.published_schemas():
        files[f"xsd/{name}"] = (ROOT / "xsd" / name).read_bytes()
    return files


def stop(hub: RunningHub) -> None:
    hub.process.terminate()
    try:
        hub.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        hub.process.kill()


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, bytes], RunningHub]]:
    """What a first hub served, and a second hub started afterwards on the same demo (kept for the clients)."""
    directory = tmp_path_factory.mktemp("kontrakty")
    first = start_demo_hub(directory)
    try:
        first_served = served(first)
        assert first_served == checked_in(first)
    finally:
        stop(first)
    (directory / "demo.json").unlink()  # start_demo_hub waits for the new one
    second = start_demo_hub(directory)
    yield first_served, second
    stop(second)


def test_the_served_contracts_are_the_checked_in_files_across_a_restart(
    restarted: tuple[dict[str, bytes], RunningHub],
) -> None:
    first_served, second = restarted
    again = served(second)
    assert again == checked_in(second)
    assert set(again) == set(first_served) and len(again) == len(contracts.SERVICES) + len(
        contracts.published_schemas()
    )
    for name, content in again.items():  # the same bytes both times, the port aside
        port_free = content.replace(base_url(second).encode(), b"HUB")
        assert port_free == first_served[name].replace(_address_of(first_served, name), b"HUB"), name


def _address_of(files: dict[str, bytes], name: str) -> bytes:
    if not name.startswith("wsdl/"):
        return b"\x00never\x00"
    location = etree.fromstring(files[name]).find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert location is not None
    return str(location.get("location")).rsplit("/soap/", 1)[0].encode()


# -- clients --------------------------------------------------------------------------------------------------------

EXPECTED = [
    ("ListaZbiorow", "OK", None),
    ("ListaZbiorow", "BLAD", "BLEDNE_UWIERZYTELNIENIE"),
    ("ListaPodstawPrawnych", "OK", None),
    ("ListaPodstawPrawnych", "BLAD", "BLEDNE_UWIERZYTELNIENIE"),
    ("ZapytanieOBeneficjenta", "OK", None),
    ("ZapytanieOBeneficjenta", "BLAD", "NIEZNANY_ZBIOR"),
    ("ZmianaHasla", "BLAD", "SLABE_HASLO"),
    ("ZmianaHasla", "OK", None),
    ("Wylogowanie", "OK", None),
    ("Wylogowanie", "BLAD", "BRAK_UWIERZYTELNIENIA"),
    ("PobierzSzablon", "BLAD", "BRAK_UPRAWNIEN"),
]
NEW_PASSWORD = "Nowe-Haslo-Klienta-2026!"


def arguments(hub: RunningHub, account: str) -> list[str]:
    query_user, account_user = hub.user("pup.kierownik"), hub.user(account)
    return [
        f"{base_url(hub)}/soap/zapytania?wsdl",
        f"{base_url(hub)}/soap/konta?wsdl",
        query_user["login"],
        query_user["password"],
        account_user["login"],
        account_user["password"],
        hub.person("PUP", "OPS", "SR"),
        NEW_PASSWORD,
        f"{base_url(hub)}/soap/dokumenty?wsdl",
    ]


def check_lines(output: str) -> None:
    lines = [json.loads(line) for line in output.split("\n") if line.strip()]  # not splitlines: see the verifiers
    assert [(line["operacja"], line["wynik"], line.get("kod")) for line in lines] == EXPECTED, output
    by_code = {line.get("kod"): line for line in lines}
    assert by_code["NIEZNANY_ZBIOR"]["szczegoly"] == [["ZBIOR", "ZUS", None]]
    assert by_code["NIEZNANY_ZBIOR"]["faultcode"].endswith("Client")
    assert by_code["BRAK_UPRAWNIEN"]["szczegoly"] == [["ROLA", "REDAKTOR_SZABLONOW", None]]  # a template operation
    assert next(line for line in lines if line["operacja"] == "ZapytanieOBeneficjenta")["odpowiedz"] == "OK"


def zeep_calls(hub: RunningHub, account: str) -> str:
    """The same calls as the PHP and node clients, with zeep; the fault detail parsed as the WSDL's `Blad`."""
    wsdl, konta_wsdl, login, password, account_login, account_password, pesel, new, dokumenty_wsdl = arguments(
        hub, account
    )
    lines: list[dict[str, Any]] = []

    def call(client: Client, name: str, summary: Any, **kwargs: Any) -> None:
        try:
            answer = getattr(client.service, name)(**kwargs)
            lines.append({"operacja": name, "wynik": "OK", "odpowiedz": summary(answer)})
        except Fault as fault:
            blad = client.get_element(f"{MODEL[1:-1].join('{}')}Blad").parse(fault.detail[0], client.wsdl.types)
            details = [[d.Rodzaj, d.Wartosc, d.Zbior] for d in blad.Szczegol]
            lines.append(
                {"operacja": name, "wynik": "BLAD", "faultcode": fault.code, "kod": blad.Kod, "szczegoly": details}
            )

    def query(data_set: str) -> dict[str, Any]:
        return {
            "IdentyfikatorBeneficjenta": {"Pesel": pesel},
            "PodstawaPrawna": "URPSZ-2025",
            "Cel": "Test klienta zeep",
            "Zbiory": {"Zbior": [{"Kod": data_set, "Zakres": {"Kategoria": ["DANE_OSOBOWE"]}}]},
        }

    queries = Client(wsdl, wsse=UsernameToken(login, password))
    stranger = Client(wsdl, wsse=UsernameToken("nieznany.uzytkownik", "Nieznane-Haslo-1"))
    call(queries, "ListaZbiorow", lambda a: len(a))
    call(stranger, "ListaZbiorow", lambda a: 0)
    call(queries, "ListaPodstawPrawnych", lambda a: len(a))
    call(stranger, "ListaPodstawPrawnych", lambda a: 0)
    call(queries, "ZapytanieOBeneficjenta", lambda a: a.Wyniki.Wynik[0].Status, Zapytanie=query("PUP"))
    call(queries, "ZapytanieOBeneficjenta", lambda a: None, Zapytanie=query("ZUS"))
    accounts = Client(konta_wsdl, wsse=UsernameToken(account_login, account_password))
    call(accounts, "ZmianaHasla", str, StareHaslo=account_password, NoweHaslo="abc")
    call(accounts, "ZmianaHasla", str, StareHaslo=account_password, NoweHaslo=new)
    call(Client(konta_wsdl, wsse=UsernameToken(account_login, new)), "Wylogowanie", str)
    call(Client(konta_wsdl), "Wylogowanie", str)
    documents = Client(dokumenty_wsdl, wsse=UsernameToken(login, password))  # not a template editor
    call(documents, "PobierzSzablon", str, RodzajDokumentu="WNIOSEK_O_INFORMACJE", Wersja=1)
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)


def test_a_zeep_client_calls_every_operation_and_reads_typed_faults(restarted: tuple[Any, RunningHub]) -> None:
    check_lines(zeep_calls(restarted[1], "ops.asystent"))


def test_a_php_soapclient_calls_every_operation_and_reads_typed_faults(restarted: tuple[Any, RunningHub]) -> None:
    php = require_tool("php", "php-cli")
    probe = subprocess.run([php, "-m"], capture_output=True, text=True, check=True)
    if "soap" not in probe.stdout.split():
        require_tool("php-soap-extension-missing", "php-soap")
    result = subprocess.run(
        [php, str(CLIENTS / "klient.php"), *arguments(restarted[1], "pup.posrednik")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    check_lines(result.stdout)


def node_soap() -> Path:
    """node-soap installed once (npm) in the user's cache; the test fails under CI and skips locally without npm."""
    node = require_tool("node", "nodejs")
    if not (NODE_SOAP / "node_modules" / "soap" / "package.json").exists():
        npm = require_tool("npm", "npm")
        NODE_SOAP.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(NODE_SOAP), "soap@1"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if installed.returncode != 0:
            message = "npm install soap failed: " + installed.stderr[-2000:]
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    return Path(node)


def test_a_node_soap_client_calls_every_operation_and_reads_typed_faults(restarted: tuple[Any, RunningHub]) -> None:
    node = node_soap()
    result = subprocess.run(
        [str(node), str(CLIENTS / "klient.js"), *arguments(restarted[1], "sr.referent")],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, NODE_PATH=str(NODE_SOAP / "node_modules")),
    )
    assert result.returncode == 0, result.stderr + result.stdout
    check_lines(result.stdout)


# -- evidence of the exchange ---------------------------------------------------------------------------------------

Q = "{urn:pl:platforma-komunikacyjna:zapytania:1}"


def test_the_answer_echoes_the_client_id_and_names_the_digest_of_the_request_and_the_register_keeps_them(
    restarted: tuple[Any, RunningHub],
) -> None:
    from zeep.plugins import HistoryPlugin

    from audit.records import Outcome
    from audit.sql import SqlDisclosureRegister
    from hub.domain.query import read_evidence

    hub = restarted[1]
    user = hub.user("pup.kierownik")
    history = HistoryPlugin()
    client = Client(
        f"{base_url(hub)}/soap/zapytania?wsdl", wsse=UsernameToken(user["login"], user["password"]), plugins=[history]
    )
    query = {
        "IdentyfikatorBeneficjenta": {"Pesel": hub.person("PUP", "OPS", "SR")},
        "PodstawaPrawna": "URPSZ-2025",
        "Cel": "Dowód wymiany",
        "Zbiory": {"Zbior": [{"Kod": "PUP", "Zakres": {"Kategoria": ["DANE_OSOBOWE"]}}]},
        "ZnakSprawy": "PUP.CAZ.8120.15.2026; pilne",
        "IdentyfikatorKomunikatuKlienta": "urn:uuid:7f9c2ba4-e88f-11e8-9f32-f2801f1b9fd1",
    }
    answer = client.service.ZapytanieOBeneficjenta(Zapytanie=query)
    sent = history.last_sent["envelope"].find(f".//{Q}ZapytanieOBeneficjenta")
    expected = hashlib.sha256(etree.tostring(sent, method="c14n", exclusive=True)).hexdigest()
    assert answer.IdentyfikatorKomunikatuKlienta == query["IdentyfikatorKomunikatuKlienta"]
    assert answer.SkrotZapytania == expected
    register = SqlDisclosureRegister(f"sqlite:///{hub.demo['audit_database']}")
    try:
        (record,) = register.records(request_id=answer.IdentyfikatorZapytania)
    finally:
        register.dispose()
    assert record.outcome == Outcome.DISCLOSED
    assert read_evidence(record.reason) == {
        "IdentyfikatorKomunikatuKlienta": query["IdentyfikatorKomunikatuKlienta"],
        "ZnakSprawy": query["ZnakSprawy"],
        "SkrotZapytania": expected,
    }


def test_a_refusal_keeps_the_evidence_after_the_refusal(restarted: tuple[Any, RunningHub]) -> None:
    from audit.sql import SqlDisclosureRegister
    from hub.domain.query import read_evidence

    hub = restarted[1]
    user = hub.user("ops.pracownik")  # may not ask OPS (the clients above changed other users' passwords)
    client = Client(f"{base_url(hub)}/soap/zapytania?wsdl", wsse=UsernameToken(user["login"], user["password"]))
    with pytest.raises(Fault) as refused:
        client.service.ZapytanieOBeneficjenta(
            Zapytanie={
                "IdentyfikatorBeneficjenta": {"Pesel": hub.person("PUP", "OPS", "SR")},
                "PodstawaPrawna": "UPS-2004",
                "Cel": "Dowód wymiany przy odmowie",
                "Zbiory": {"Zbior": [{"Kod": "OPS", "Zakres": {"Kategoria": ["DANE_OSOBOWE"]}}]},
                "ZnakSprawy": "PUP.1.2026",
            }
        )
    request_id = refused.value.detail.findtext(f"{MODEL}Blad/{MODEL}IdentyfikatorZapytania")
    code = refused.value.detail.findtext(f"{MODEL}Blad/{MODEL}Kod")
    assert code == "BRAK_UPRAWNIEN", etree.tostring(refused.value.detail)
    register = SqlDisclosureRegister(f"sqlite:///{hub.demo['audit_database']}")
    try:
        (record,) = register.records(request_id=request_id)
    finally:
        register.dispose()
    assert record.reason.startswith("BRAK_UPRAWNIEN: ZBIOR:OPS\n")
    evidence = read_evidence(record.reason)
    assert evidence["ZnakSprawy"] == "PUP.1.2026" and len(evidence["SkrotZapytania"]) == 64
    assert "IdentyfikatorKomunikatuKlienta" not in evidence
