"""Independent clients and verifiers: tools that share no code with the hub call every served SOAP service and
check every signature the hub makes.

- PHP's SoapClient and node-soap, generated from the served WSDLs, call the operations of /soap/zasilanie,
  /soap/audyt, /soap/audyt-2 and /soap/dokumenty that tests/integration/test_contracts_clients.py does not
  (it covers /soap/zapytania, /soap/konta and PobierzSzablon), and read each declared fault's code and
  Polish message; the receipts and the sealed certificate they download verify with xmlsec1.
- Receipts (sealed by the hub) and certificates sealed with an office's seal verify with `xmlsec1 --verify`
  trusting only the PKI's root, and with signxml's XAdESVerifier; SigningTime and SigningCertificateV2 are
  checked against the certificate embedded in KeyInfo; one changed byte fails in both verifiers.
- The audit register's checkpoint signatures verify with `openssl pkeyutl` from the documented payload.
- The PDF's signature summary says what the embedded certificate says.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.exceptions import InvalidSignature as SignxmlInvalidSignature
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from tests.conftest import require_tool
from tests.integration.test_contracts_clients import NODE_SOAP, node_soap
from tests.integration.test_documents import CERTIFICATE_TYPE, DocumentsHub, served_documents_hub
from tests.signing.pki import synthetic_pesel

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
XADES = "{" + XADES_NS + "}"
RECEIPT = "{urn:pl:platforma-komunikacyjna:dokumenty:poswiadczenia:1}"


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocumentsHub]:
    yield from served_documents_hub(tmp_path_factory.mktemp("niezalezni"))


def _pesel(docs: DocumentsHub) -> str:
    return docs.person("PUP", "OPS")


# -- PHP SoapClient and node-soap ------------------------------------------------------------------------------------

PHP_CLIENT = r"""<?php
// Runs a JSON plan of SOAP calls with SoapClient generated from each served WSDL; one JSON line per call.
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
[$_, $planFile, $outDir] = $argv;
$plan = json_decode(file_get_contents($planFile), true, 512, JSON_THROW_ON_ERROR);
$saved = [];

function walk($value, array $path) {
    foreach ($path as $segment) {
        if (is_object($value)) { $value = get_object_vars($value); }
        if (is_array($value) && array_is_list($value) && !ctype_digit($segment)) { $value = $value[0] ?? null; }
        if (is_object($value)) { $value = get_object_vars($value); }
        $value = is_array($value) ? ($value[$segment] ?? null) : null;
    }
    return $value;
}
function resolve($value, array $saved) {
    if (is_array($value) && array_key_exists('$base64', $value)) { return base64_decode($value['$base64']); }
    if (is_array($value)) { return array_map(fn($v) => resolve($v, $saved), $value); }
    if (is_string($value) && preg_match('/^\{\{(\w+)\.([\w.]+)\}\}$/', $value, $m)) {
        return (string) walk($saved[$m[1]], explode('.', $m[2]));
    }
    return $value;
}
foreach ($plan['calls'] as $step) {
    $client = new SoapClient($plan['wsdl'][$step['usluga']], ['cache_wsdl' => WSDL_CACHE_NONE, 'exceptions' => true]);
    $xml = '<wsse:Security xmlns:wsse="' . WSSE . '"><wsse:UsernameToken>'
        . '<wsse:Username>' . htmlspecialchars($step['login']) . '</wsse:Username>'
        . '<wsse:Password>' . htmlspecialchars($plan['hasla'][$step['login']])
        . '</wsse:Password></wsse:UsernameToken></wsse:Security>';
    $client->__setSoapHeaders([new SoapHeader(WSSE, 'Security', new SoapVar($xml, XSD_ANYXML), true)]);
    try {
        $answer = $client->__soapCall($step['operacja'], [resolve($step['argumenty'], $saved)]);
        $saved[$step['krok']] = $answer;
        foreach ($step['pliki'] as $path => $name) {
            $found = walk($answer, explode('.', $path));
            foreach (is_array($found) ? array_values($found) : [$found] as $i => $content) {
                file_put_contents("$outDir/$name-$i", $content);
            }
        }
        $line = ['krok' => $step['krok'], 'wynik' => 'OK', 'odpowiedz' => $answer];
    } catch (SoapFault $fault) {
        $blad = $fault->detail->Blad ?? null;
        $line = ['krok' => $step['krok'], 'wynik' => 'BLAD', 'faultcode' => $fault->faultcode,
            'faultstring' => $fault->faultstring, 'kod' => $blad->Kod ?? null, 'komunikat' => $blad->Komunikat ?? null];
    }
    echo json_encode($line, JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
}
"""

NODE_CLIENT = r"""
// Runs a JSON plan of SOAP calls with node-soap clients generated from each served WSDL; one JSON line per call.
'use strict';
const fs = require('fs');
const soap = require('soap');
const [planFile, outDir] = process.argv.slice(2);
const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
const saved = {};

function walk(value, path) {
  for (const segment of path) {
    if (Array.isArray(value) && !/^\d+$/.test(segment)) value = value[0];
    value = value === undefined || value === null ? undefined : value[segment];
  }
  return value;
}
function resolve(value) {
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object') {
    if ('$base64' in value) return value.$base64;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  }
  const found = typeof value === 'string' && /^\{\{(\w+)\.([\w.]+)\}\}$/.exec(value);
  return found ? String(walk(saved[found[1]], found[2].split('.'))) : value;
}

(async () => {
  for (const step of plan.calls) {
    const client = await soap.createClientAsync(plan.wsdl[step.usluga]);
    const options = { passwordType: 'PasswordText', hasTimeStamp: false };
    client.setSecurity(new soap.WSSecurity(step.login, plan.hasla[step.login], options));
    let line;
    try {
      const [answer] = await client[step.operacja + 'Async'](resolve(step.argumenty));
      saved[step.krok] = answer;
      for (const [path, name] of Object.entries(step.pliki)) {
        const found = walk(answer, path.split('.'));
        (Array.isArray(found) ? found : [found]).forEach((content, i) => {
          fs.writeFileSync(`${outDir}/${name}-${i}`, Buffer.from(String(content), 'base64'));
        });
      }
      line = { krok: step.krok, wynik: 'OK', odpowiedz: answer };
    } catch (error) {
      const fault = error.root && error.root.Envelope.Body.Fault;
      if (!fault) throw error;
      const blad = fault.detail && fault.detail.Blad;
      line = { krok: step.krok, wynik: 'BLAD', faultcode: fault.faultcode, faultstring: fault.faultstring,
        kod: blad && blad.Kod, komunikat: blad && blad.Komunikat };
    }
    console.log(JSON.stringify(line));
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
"""

CASE = "{{wniosek.Potwierdzenie.Sprawa.IdentyfikatorSprawy}}"
REFUSED_CASE = "{{wniosek2.Potwierdzenie.Sprawa.IdentyfikatorSprawy}}"
# Each call: step, service, login, operation, the code of the declared fault expected (None: an answer), and a
# Polish fragment of that fault's message.
EXPECTED: list[tuple[str, str, str, str, str | None, str | None]] = [
    ("stan", "zasilanie", "pup.system", "StanZasilania", None, None),
    ("stan_obcy", "zasilanie", "pup.system", "StanZasilania", "BRAK_UPRAWNIEN", "administratorem zbioru OPS jest OPS"),
    ("zasil", "zasilanie", "pup.system", "Zasil", None, None),
    ("zasil_obcy", "zasilanie", "pup.system", "Zasil", "BRAK_UPRAWNIEN", "może zasilać tylko zbiór"),
    ("raport", "audyt", "audytor", "RaportUjawnien", None, None),
    ("raport_obcy", "audyt", "ops.pracownik", "RaportUjawnien", "BRAK_UPRAWNIEN", "wymaga roli AUDYTOR"),
    ("raport2", "audyt-2", "audytor", "RaportUjawnien", None, None),
    ("raport2_obcy", "audyt-2", "ops.pracownik", "RaportUjawnien", "BRAK_UPRAWNIEN", "wymaga roli AUDYTOR"),
    ("rodzaje", "dokumenty", "ops.pracownik", "ListaRodzajowDokumentow", None, None),
    ("wniosek", "dokumenty", "ops.pracownik", "ZlozWniosek", None, None),
    ("wniosek_niepelny", "dokumenty", "ops.pracownik", "ZlozWniosek", "NIEPRAWIDLOWE_ZAPYTANIE", "musi obejmować"),
    ("odbiorcza", "dokumenty", "pup.podpisujacy", "SkrzynkaOdbiorcza", None, None),
    ("przyjmij_obcy", "dokumenty", "ops.pracownik", "PrzyjmijWniosek", "BRAK_UPRAWNIEN", "rolą PODPISUJACY"),
    ("przyjmij", "dokumenty", "pup.podpisujacy", "PrzyjmijWniosek", None, None),
    ("do_podpisu", "dokumenty", "pup.podpisujacy", "PobierzDoPodpisu", None, None),
    ("przeslij_zly", "dokumenty", "pup.podpisujacy", "PrzeslijPodpisany", "PODPIS_ODRZUCONY", "nie został przyjęty"),
    ("opieczetuj", "dokumenty", "pup.podpisujacy", "OpieczetujZaswiadczenie", None, None),
    ("pobierz", "dokumenty", "ops.pracownik", "PobierzDokument", None, None),
    ("poswiadczenia", "dokumenty", "ops.pracownik", "PobierzPoswiadczenia", None, None),
    ("pdf", "dokumenty", "ops.pracownik", "PobierzPDF", None, None),
    ("nadawcza", "dokumenty", "ops.pracownik", "SkrzynkaNadawcza", None, None),
    ("wniosek2", "dokumenty", "ops.pracownik", "ZlozWniosek", None, None),
    ("odmow", "dokumenty", "pup.podpisujacy", "OdmowWniosku", None, None),
    ("do_podpisu_odmowiony", "dokumenty", "pup.podpisujacy", "PobierzDoPodpisu", "NIEDOZWOLONE_PRZEJSCIE", None),
    ("szablony", "dokumenty", "pup.redaktor", "ListaSzablonow", None, None),
    ("historia", "dokumenty", "pup.redaktor", "HistoriaSzablonu", None, None),
    ("szablon", "dokumenty", "pup.redaktor", "PobierzSzablon", None, None),
    ("zmien_w_uzyciu", "dokumenty", "pup.redaktor", "ZmienSzablon", "SZABLON_W_UZYCIU", "nie można zmienić"),
    ("nowa_wersja_obcy", "dokumenty", "ops.pracownik", "NowaWersjaSzablonu", "BRAK_UPRAWNIEN", "redaktor szablonów"),
    ("importuj_obcy", "dokumenty", "pup.podpisujacy", "ImportujSzablon", "BRAK_UPRAWNIEN", "redaktor szablonów"),
    ("aktywuj_brak", "dokumenty", "pup.redaktor", "AktywujSzablon", "NIEZNANY_SZABLON", "nie ma wersji 99"),
]
SERVICES = ("zasilanie", "audyt", "audyt-2", "dokumenty")


def _plan(docs: DocumentsHub, client: str) -> dict[str, Any]:
    """The calls of EXPECTED with their arguments; node-soap takes XML attributes under `attributes`."""
    pesel = _pesel(docs)
    fed = synthetic_pesel(dt.date(1991, 2, 3), 700 if client == "php" else 710, female=True)
    request = {
        "Pesel": pesel,
        "PodstawaPrawna": "UPS-2004",
        "Cel": f"Test klienta niezależnego ({client})",
        "RodzajZaswiadczenia": CERTIFICATE_TYPE,
        "Adresat": "PUP",
        "Zbior": [{"Kod": "PUP", "Kategoria": ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]}],
    }

    def batch(data_set: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        attributes = {"Zbior": data_set, "Rodzaj": "PRZYROSTOWA"}
        body: dict[str, Any] = {"Rekord": records} if records else {}
        return {**body, "attributes": attributes} if client == "node" else {**body, **attributes}

    record = {
        "IdZrodlowy": f"NIEZALEZNY-{client}",
        "DanePUP": {
            "DaneOsobowe": {
                "Nazwisko": "Niezależna",
                "Imie": "Ewa",
                "Pesel": fed,
                "DataUrodzenia": "1991-02-03",
                "Plec": "K",
            }
        },
    }
    order = {"Rodzaj": "OSOBA", "Pesel": pesel, "Format": "xml"}
    case = {"IdentyfikatorSprawy": CASE}
    arguments: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
        "stan": ({"Zbior": "PUP"}, {}),
        "stan_obcy": ({"Zbior": "OPS"}, {}),
        "zasil": (batch("PUP", [record]), {}),
        "zasil_obcy": (batch("OPS", []), {}),
        "raport": ({"Zamowienie": order}, {"Raport.Tresc": "raport"}),
        "raport_obcy": ({"Zamowienie": order}, {}),
        "raport2": ({"Zamowienie": {**order, "Format": "XML"}}, {"Raport.Tresc": "raport2"}),
        "raport2_obcy": ({"Zamowienie": {**order, "Format": "XML"}}, {}),
        "rodzaje": ({}, {}),
        "wniosek": ({"Wniosek": request}, {"Potwierdzenie.Poswiadczenie": "upp"}),
        "wniosek_niepelny": (
            {"Wniosek": {**request, "Zbior": [{"Kod": "PUP", "Kategoria": ["OKRESY_REJESTRACJI"]}]}},
            {},
        ),
        "odbiorcza": ({}, {}),
        "przyjmij_obcy": (case, {}),
        "przyjmij": (case, {}),
        "do_podpisu": (case, {"Dokument.Tresc": "do-podpisu"}),
        "przeslij_zly": (
            {**case, "Tresc": {"$base64": base64.b64encode(b"<a>niepodpisany</a>").decode()}},
            {},
        ),
        "opieczetuj": (
            case,
            {"Potwierdzenie.Dokument.Tresc": "opieczetowane", "Potwierdzenie.Poswiadczenie": "upp-zaswiadczenia"},
        ),
        "pobierz": ({**case, "Rola": "ZASWIADCZENIE"}, {"Dokument.Tresc": "odebrane"}),
        "poswiadczenia": (case, {"Poswiadczenia.Poswiadczenie": "poswiadczenie"}),
        "pdf": ({**case, "Rola": "ZASWIADCZENIE"}, {"Wizualizacja.Tresc": "pdf"}),
        "nadawcza": ({}, {}),
        "wniosek2": ({"Wniosek": request}, {}),
        "odmow": ({"IdentyfikatorSprawy": REFUSED_CASE, "Powod": "Brak podstawy do wydania zaświadczenia."}, {}),
        "do_podpisu_odmowiony": ({"IdentyfikatorSprawy": REFUSED_CASE}, {}),
        "szablony": ({}, {}),
        "historia": ({"RodzajDokumentu": CERTIFICATE_TYPE}, {}),
        "szablon": ({"RodzajDokumentu": CERTIFICATE_TYPE, "Wersja": 1}, {}),
        "zmien_w_uzyciu": ({"RodzajDokumentu": CERTIFICATE_TYPE, "Wersja": 1, "Wizualizacja": "<x/>"}, {}),
        "nowa_wersja_obcy": ({"RodzajDokumentu": CERTIFICATE_TYPE, "Metadane": "{}"}, {}),
        "importuj_obcy": ({"PlikSzablonu": {"$base64": base64.b64encode(b"PK\x03\x04").decode()}}, {}),
        "aktywuj_brak": ({"RodzajDokumentu": CERTIFICATE_TYPE, "Wersja": 99}, {}),
    }
    calls = []
    for step, service, login, operation, _code, _fragment in EXPECTED:
        args, files = arguments[step]
        calls.append(
            {"krok": step, "usluga": service, "login": login, "operacja": operation, "argumenty": args, "pliki": files}
        )
    return {
        "wsdl": {service: f"{docs.base}/soap/{service}?wsdl" for service in SERVICES},
        "hasla": docs.passwords,
        "calls": calls,
    }


def _php() -> list[str]:
    php = require_tool("php", "php-cli")
    probe = subprocess.run([php, "-m"], capture_output=True, text=True, check=True)
    if "soap" not in probe.stdout.split():
        require_tool("php-soap-extension-missing", "php-soap")
    return [php]


def _node() -> list[str]:
    return [str(node_soap())]


@pytest.fixture(scope="module", params=["php", "node"])
def client_run(
    request: pytest.FixtureRequest, docs: DocumentsHub, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, dict[str, Any]], Path]:
    """One run of the plan by PHP's SoapClient or node-soap: its lines by step, and the folder of its files."""
    client = str(request.param)
    command = _php() if client == "php" else _node()
    directory = tmp_path_factory.mktemp(f"klient-{client}")
    script = directory / ("klient.php" if client == "php" else "klient.js")
    script.write_text(PHP_CLIENT if client == "php" else NODE_CLIENT, encoding="utf-8")
    plan = directory / "plan.json"
    plan.write_text(json.dumps(_plan(docs, client), ensure_ascii=False), encoding="utf-8")
    out = directory / "pliki"
    out.mkdir()
    result = subprocess.run(
        [*command, str(script), str(plan), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, NODE_PATH=str(NODE_SOAP / "node_modules")),
        check=False,
    )
    assert result.returncode == 0, client + ": " + result.stderr[-3000:] + result.stdout[-3000:]
    # One JSON line per call, split at "\n" only: str.splitlines also splits at U+0085, U+2028 and other
    # characters a PDF's bytes may hold and PHP's JSON_UNESCAPED_UNICODE writes unescaped.
    lines = {line["krok"]: line for line in map(json.loads, filter(None, result.stdout.split("\n")))}
    return client, lines, out


def _pick(value: Any, path: str) -> Any:
    """A field of an answer as either client decodes it (a list of one may come as the one)."""
    for segment in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        value = value.get(segment) if isinstance(value, dict) else None
    return value


def _many(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def test_independent_clients_call_every_other_operation_and_read_declared_faults_in_polish(
    client_run: tuple[str, dict[str, dict[str, Any]], Path],
) -> None:
    client, lines, _out = client_run
    assert list(lines) == [step for step, *_ in EXPECTED], lines.keys()
    for step, _service, _login, _operation, code, fragment in EXPECTED:
        line = lines[step]
        if code is None:
            assert line["wynik"] == "OK", (client, line)
            continue
        assert (line["wynik"], line["kod"]) == ("BLAD", code), (client, line)
        assert str(line["faultcode"]).endswith("Client"), (client, line)
        # The fault string is the Polish sentence the detail's Komunikat carries, not a stack trace or English.
        assert line["faultstring"] == line["komunikat"] and line["faultstring"].endswith("."), (client, line)
        assert not re.search(r"Traceback|Error|Exception|expected|invalid", line["faultstring"]), (client, line)
        if fragment:
            assert fragment in line["faultstring"], (client, line)
    case_id = _pick(lines["wniosek"]["odpowiedz"], "Potwierdzenie.Sprawa.IdentyfikatorSprawy")
    assert case_id and re.fullmatch(r"[0-9a-f-]{36}", case_id)
    inbox = _many(_pick(lines["odbiorcza"]["odpowiedz"], "Sprawy.Sprawa"))
    assert case_id in [s["IdentyfikatorSprawy"] for s in inbox]
    outbox = _many(_pick(lines["nadawcza"]["odpowiedz"], "Sprawy.Sprawa"))
    assert [s["Stan"] for s in outbox if s["IdentyfikatorSprawy"] == case_id] == ["ODEBRANY"]
    assert _pick(lines["opieczetuj"]["odpowiedz"], "Potwierdzenie.Sprawa.Stan") == "DOSTARCZONY"
    assert _pick(lines["odmow"]["odpowiedz"], "Sprawa.Stan") == "ODMOWIONY"
    assert str(_pick(lines["zasil"]["odpowiedz"], "Zastosowano")) == "1", lines["zasil"]
    assert _pick(lines["stan"]["odpowiedz"], "Stan.Zbior") == "PUP"
    kinds = [_pick(k, "Kod") for k in _many(_pick(lines["rodzaje"]["odpowiedz"], "RodzajeDokumentow.RodzajDokumentu"))]
    assert CERTIFICATE_TYPE in kinds and "WNIOSEK_O_INFORMACJE" in kinds
    assert _pick(lines["szablon"]["odpowiedz"], "EksportSzablonu.Szablon.RodzajDokumentu") == CERTIFICATE_TYPE


def test_the_same_moment_is_the_same_xsd_datetime_in_every_operation(
    client_run: tuple[str, dict[str, dict[str, Any]], Path],
) -> None:
    """A case's DataZlozenia as ZlozWniosek gives it and as the inboxes give it; every xs:dateTime a client is
    given names its offset (without one, xs:dateTime is local time of unknown zone: in Poland one or two
    hours away from the UTC the hub means)."""
    client, lines, _out = client_run
    case_id = _pick(lines["wniosek"]["odpowiedz"], "Potwierdzenie.Sprawa.IdentyfikatorSprawy")
    submitted = _pick(lines["wniosek"]["odpowiedz"], "Potwierdzenie.Sprawa.DataZlozenia")
    in_boxes = [
        s["DataZlozenia"]
        for step in ("odbiorcza", "nadawcza")
        for s in _many(_pick(lines[step]["odpowiedz"], "Sprawy.Sprawa"))
        if s["IdentyfikatorSprawy"] == case_id
    ]
    assert len(in_boxes) == 2

    def instant(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))

    assert all(instant(t) == instant(submitted) for t in in_boxes), (client, submitted, in_boxes)
    times = re.findall(r'"(?:DataZlozenia|Utworzono|Czas)": "([^"]+)"', json.dumps([lines[s] for s in lines]))
    assert times and all(instant(t).tzinfo is not None for t in times), (client, times)


def test_what_independent_clients_download_verifies_with_xmlsec1_trusting_only_the_root(
    docs: DocumentsHub, client_run: tuple[str, dict[str, dict[str, Any]], Path]
) -> None:
    client, _lines, out = client_run
    sealed = (out / "opieczetowane-0").read_bytes()
    assert (out / "odebrane-0").read_bytes() == sealed
    assert (out / "pdf-0").read_bytes().startswith(b"%PDF")
    for name in ("raport-0", "raport2-0"):
        assert etree.fromstring((out / name).read_bytes()).tag == "{urn:pl:platforma-komunikacyjna:raport:1}Raport"
    receipts = sorted(out.glob("poswiadczenie-*"))
    kinds = [etree.QName(etree.fromstring(path.read_bytes())[0]).localname for path in receipts]
    assert kinds == ["UPP", "UPP", "UPD"]  # the request submitted, the certificate submitted, then delivered
    assert receipts[0].read_bytes() == (out / "upp-0").read_bytes()
    assert receipts[1].read_bytes() == (out / "upp-zaswiadczenia-0").read_bytes()
    for path in [out / "opieczetowane-0", *receipts]:
        checked = _xmlsec1(docs, path)
        assert checked.returncode == 0, (client, path.name, checked.stderr)


# -- signatures: xmlsec1 and signxml, trusting only the root -----------------------------------------------------


def _xmlsec1(docs: DocumentsHub, path: Path) -> subprocess.CompletedProcess[str]:
    """`xmlsec1 --verify` with the demo's trust root alone: the intermediate must come from KeyInfo."""
    command = [
        require_tool("xmlsec1", "xmlsec1"),
        "--verify",
        "--trusted-pem",
        str(docs.trust / "root.pem"),
        "--id-attr:Id",
        f"{XADES_NS}:SignedProperties",
        str(path),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _signxml(docs: DocumentsHub, data: bytes) -> list[Any]:
    """signxml's XAdESVerifier with the root alone; nonRepudiation is enough (Polish seals carry no
    digitalSignature, which signxml requires by default)."""

    def key_usage(_policy: object, _cert: x509.Certificate, usage: x509.KeyUsage | None) -> None:
        if usage is None or not (usage.content_commitment or usage.digital_signature):
            raise ValueError("certyfikat nie pozwala na podpis")

    policy = x509.verification.ExtensionPolicy.permit_all().require_present(
        x509.KeyUsage, x509.verification.Criticality.AGNOSTIC, key_usage
    )
    return list(
        XAdESVerifier().verify(
            data,
            ca_pem_file=str(docs.trust / "root.pem"),
            expect_config=XAdESSignatureConfiguration(expect_references=2),
            ee_policy=policy,
        )
    )


@pytest.fixture(scope="module")
def artefacts(docs: DocumentsHub) -> dict[str, Any]:
    """A case through zeep: the UPP of its submission, the certificate sealed with PUP's seal, the UPD of the
    delivery, both receipts as collected, its PDF; with the clock before and after."""
    before = dt.datetime.now(dt.UTC)
    submitted = docs.client("ops.pracownik").service.ZlozWniosek(
        Wniosek={
            "Pesel": _pesel(docs),
            "PodstawaPrawna": "UPS-2004",
            "Cel": "Sprawdzenie podpisów narzędziami niezależnymi",
            "RodzajZaswiadczenia": CERTIFICATE_TYPE,
            "Adresat": "PUP",
            "Zbior": [{"Kod": "PUP", "Kategoria": ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]}],
        }
    )
    case_id = submitted.Sprawa.IdentyfikatorSprawy
    pup = docs.client("pup.podpisujacy").service
    pup.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)
    sealed = pup.OpieczetujZaswiadczenie(IdentyfikatorSprawy=case_id)
    ops = docs.client("ops.pracownik").service
    collected = ops.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE").Tresc
    assert collected == sealed.Dokument.Tresc
    receipts = [bytes(r) for r in ops.PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)]
    pdf = ops.PobierzPDF(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE").Tresc
    after = dt.datetime.now(dt.UTC)
    upp = sealed.Poswiadczenie[0] if isinstance(sealed.Poswiadczenie, list) else sealed.Poswiadczenie
    assert receipts[:2] == [bytes(submitted.Poswiadczenie), bytes(upp)] and len(receipts) == 3
    return {
        "signed": {
            "upp": receipts[0],
            "zaswiadczenie": bytes(collected),
            "upp-zaswiadczenia": receipts[1],
            "upd": receipts[2],
        },
        "pdf": bytes(pdf),
        "before": before,
        "after": after,
    }


SIGNED = ("upp", "zaswiadczenie", "upp-zaswiadczenia", "upd")


@pytest.mark.parametrize("name", SIGNED)
def test_xmlsec1_trusting_only_the_root_verifies_every_hub_signature(
    docs: DocumentsHub, artefacts: dict[str, Any], name: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{name}.xml"
    path.write_bytes(artefacts["signed"][name])
    checked = _xmlsec1(docs, path)
    assert checked.returncode == 0, checked.stderr
    assert "SignedInfo References (ok/all): 2/2" in checked.stderr, checked.stderr


def _signing_time(root: etree._Element) -> dt.datetime:
    text = root.findtext(f".//{XADES}SignedSignatureProperties/{XADES}SigningTime")
    assert text, "SigningTime"
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("name", SIGNED)
def test_signxml_verifies_every_hub_signature_and_its_signed_properties_match_the_certificate(
    docs: DocumentsHub, artefacts: dict[str, Any], name: str
) -> None:
    data = artefacts["signed"][name]
    results = _signxml(docs, data)
    assert results[0].signed_xml is not None and etree.QName(results[0].signed_xml).localname == "Dokument"
    assert results[1].signed_xml.tag == f"{XADES}SignedProperties"
    root = etree.fromstring(data)
    embedded = [
        x509.load_der_x509_certificate(base64.b64decode(e.text or ""))
        for e in root.iterfind(f"{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
    ]
    # The certificate whose key made the signature, as signxml found it; the first in KeyInfo, then the chain.
    signer = next(c for c in embedded if c.public_key().public_bytes(Encoding.PEM, _spki()) == results[0].signature_key)
    assert signer == embedded[0] and len(embedded) == 2
    assert embedded[1].subject == signer.issuer
    digest = root.findtext(f".//{XADES}SigningCertificateV2/{XADES}Cert/{XADES}CertDigest/{DS}DigestValue")
    method = root.find(f".//{XADES}SigningCertificateV2/{XADES}Cert/{XADES}CertDigest/{DS}DigestMethod")
    assert method is not None and method.get("Algorithm") == "http://www.w3.org/2001/04/xmlenc#sha256"
    assert digest == base64.b64encode(hashlib.sha256(signer.public_bytes(Encoding.DER)).digest()).decode()
    signed_at = _signing_time(root)
    assert signer.not_valid_before_utc <= signed_at <= signer.not_valid_after_utc
    holder = signer.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    if name == "zaswiadczenie":
        assert holder == "Powiatowy Urząd Pracy"  # PUP's seal, not the hub's
    else:
        made = root.findtext(f"{RECEIPT}*/{RECEIPT}DataWytworzeniaPoswiadczenia")
        assert made
        # The receipt is signed as it is made: the two times name the same moment (no clock bound on the test).
        assert abs(dt.datetime.fromisoformat(made.replace("Z", "+00:00")) - signed_at) < dt.timedelta(minutes=1)
        assert holder != "Powiatowy Urząd Pracy"


def _spki() -> Any:
    from cryptography.hazmat.primitives.serialization import PublicFormat

    return PublicFormat.SubjectPublicKeyInfo


def _changed(data: bytes, name: str, where: str) -> bytes:
    """`data` with one byte changed: in the signed content, in SigningTime or in SignatureValue."""
    if where == "tresc":
        anchor = b'Algorytm="SHA-256">' if name != "zaswiadczenie" else b"<m:DataOd>"
    elif where == "czas":
        anchor = b"<xades:SigningTime>"
    else:
        anchor = b"<ds:SignatureValue"
        anchor = data[data.index(anchor) :].split(b">", 1)[0] + b">"
    at = data.index(anchor) + len(anchor) + 3
    byte = data[at] ^ 0x01 if where != "podpis" else ord("A") if data[at] != ord("A") else ord("B")  # still Base64
    changed = data[:at] + bytes([byte]) + data[at + 1 :]
    assert changed != data and len(changed) == len(data)
    return changed


@pytest.mark.parametrize("where", ["tresc", "czas", "podpis"])
@pytest.mark.parametrize("name", ["upp", "zaswiadczenie", "upd"])
def test_one_changed_byte_fails_in_xmlsec1_and_signxml(
    docs: DocumentsHub, artefacts: dict[str, Any], name: str, where: str, tmp_path: Path
) -> None:
    changed = _changed(artefacts["signed"][name], name, where)
    path = tmp_path / "zmienione.xml"
    path.write_bytes(changed)
    checked = _xmlsec1(docs, path)
    assert checked.returncode != 0 and "FAIL" in checked.stderr, checked.stderr
    with pytest.raises(SignxmlInvalidSignature):  # InvalidDigest derives from it
        _signxml(docs, changed)


# -- the PDF's signature summary ----------------------------------------------------------------------------------


def test_the_pdfs_signature_summary_says_what_the_embedded_certificate_says(artefacts: dict[str, Any]) -> None:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(artefacts["pdf"]))
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    root = etree.fromstring(artefacts["signed"]["zaswiadczenie"])
    first = root.findtext(f"{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
    signer = x509.load_der_x509_certificate(base64.b64decode(first or ""))
    holder = str(signer.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)
    issuer = str(signer.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)
    assert f"Podpisujący: {holder}" in text, text
    assert f"{holder} ← {issuer}" in text, text
    assert "PODPIS WAŻNY" in text and "Podpisów w dokumencie: 1." in text, text
    assert _signing_time(root).strftime("%Y-%m-%d %H:%M:%S UTC") in text, text
    validity = f"od {signer.not_valid_before_utc:%Y-%m-%d} do {signer.not_valid_after_utc:%Y-%m-%d}"
    assert validity in text, text


# -- checkpoints of the audit register: openssl ---------------------------------------------------------------------


def test_checkpoint_signatures_verify_with_openssl_from_the_documented_payload(
    docs: DocumentsHub, artefacts: dict[str, Any], tmp_path: Path
) -> None:
    openssl = require_tool("openssl", "openssl")
    config = docs.directory / "platforma.toml"
    made = subprocess.run(
        [sys.executable, "-m", "hub.cli", "audit", "checkpoint", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    key = docs.directory / "klucze" / "klucz-audytu.pem"
    public = tmp_path / "publiczny.pem"
    subprocess.run([openssl, "pkey", "-in", str(key), "-pubout", "-out", str(public)], check=True, timeout=30)
    der = subprocess.run(
        [openssl, "pkey", "-pubin", "-in", str(public), "-outform", "DER"], capture_output=True, check=True, timeout=30
    ).stdout
    register = sqlite3.connect(f"file:{docs.directory / 'audyt' / 'audit.sqlite'}?mode=ro", uri=True)
    try:
        rows = register.execute(
            "SELECT nr_punktu, nr, skrot, czas, powod, algorytm, odcisk_klucza, podpis FROM punkty_kontrolne "
            "ORDER BY nr_punktu"
        ).fetchall()
    finally:
        register.close()
    assert rows and [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert any(r[4] == "NA_ZADANIE" for r in rows)

    def verify(payload: bytes, signature: bytes) -> subprocess.CompletedProcess[str]:
        (tmp_path / "dane").write_bytes(payload)
        (tmp_path / "podpis").write_bytes(signature)
        command = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin"]
        command += ["-in", str(tmp_path / "dane"), "-sigfile", str(tmp_path / "podpis")]
        return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)

    for number, nr, link, time, reason, algorithm, fingerprint, signature in rows:
        assert algorithm == "Ed25519" and fingerprint == hashlib.sha256(der).hexdigest()
        fields = ("platforma-komunikacyjna:audyt:punkt-kontrolny:1", str(number), str(nr), link, time, reason)
        payload = "\n".join((*fields, fingerprint)).encode()
        checked = verify(payload, base64.b64decode(signature))
        assert checked.returncode == 0 and "Signature Verified Successfully" in checked.stdout, checked.stderr
        tampered = payload.replace(f"\n{nr}\n".encode(), f"\n{nr + 1}\n".encode(), 1)
        assert tampered != payload
        assert verify(tampered, base64.b64decode(signature)).returncode != 0
