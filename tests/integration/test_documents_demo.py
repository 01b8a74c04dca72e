"""The demo's documents (issue 15, item 9): with nothing but demo.json and the WSDL, a zeep script plays both
sides: OPS submits a request, PUP's signer accepts it, downloads the certificate, signs it with its
`signing_key` (signxml's XAdES signer) and uploads it; OPS collects it; the receipts verify offline against
the demo's `trust` folder."""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from signxml.xades import XAdESSigner
from zeep import Client
from zeep.wsse.username import UsernameToken

from tests.integration.conftest import RunningHub, start_demo_hub

C14N11 = "http://www.w3.org/2006/12/xml-c14n11"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_demo_hub(tmp_path_factory.mktemp("demo-dokumenty"), "--gminas", "1")
    yield running
    running.process.terminate()
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()


def client(demo: dict[str, Any], user: dict[str, Any]) -> Any:
    return Client(demo["wsdl"]["dokumenty"], wsse=UsernameToken(user["login"], user["password"])).service


def signer_of(demo: dict[str, Any], office: str) -> dict[str, Any]:
    return next(u for u in demo["users"] if u["office"] == office and "signing_key" in u)


def sign_with(user: dict[str, Any], document: bytes) -> bytes:
    """Signed outside the hub with the user's PKCS#12 (key, certificate, chain) and signxml's XAdES signer."""
    blob = Path(user["signing_key"]).read_bytes()
    key, certificate, chain = pkcs12.load_key_and_certificates(blob, user["signing_key_password"].encode())
    assert key is not None and certificate is not None
    signed = XAdESSigner(c14n_algorithm=C14N11).sign(etree.fromstring(document), key=key, cert=[certificate, *chain])
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def verify_offline(trust: str, path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hub.cli", "verify", "--trust", trust, "--offline", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_demo_json_names_the_documents_service_the_signers_keys_and_the_trust_anchors(demo: RunningHub) -> None:
    state = demo.demo
    assert {"dokumenty", "audyt-2"} <= set(state["wsdl"])
    assert Path(state["trust"]).is_dir() and any(Path(state["trust"]).iterdir())
    signers = [u for u in state["users"] if "signing_key" in u]
    assert {u["office"] for u in signers} >= {"PUP", "OPS"}
    for user in signers:
        assert len(user["pesel"]) == 11 and user["signing_key_password"]
        key = Path(user["signing_key"])
        assert key.parent.name == "klucze" and stat.S_IMODE(key.stat().st_mode) == 0o600
        _key, certificate, _chain = pkcs12.load_key_and_certificates(
            key.read_bytes(), user["signing_key_password"].encode()
        )
        assert certificate is not None
        assert f"PNOPL-{user['pesel']}" in certificate.subject.rfc4514_string()
    assert {d["state"] for d in state["documents"]} >= {"ZLOZONY", "DO_PODPISU", "ODMOWIONY", "DOSTARCZONY"}


def test_a_script_plays_both_sides_with_nothing_but_demo_json(demo: RunningHub, tmp_path: Path) -> None:
    state = demo.demo
    ops = client(state, next(u for u in state["users"] if u["login"] == "ops.pracownik"))
    pup_signer = signer_of(state, "PUP")
    pup = client(state, pup_signer)
    pesel = next(b["pesel"] for b in state["beneficiaries"] if "PUP" in b["data_sets"])
    submitted = ops.ZlozWniosek(
        Wniosek={
            "Pesel": pesel,
            "PodstawaPrawna": "UPS-2004",
            "Cel": "Ustalenie sytuacji osoby ubiegającej się o zasiłek",
            "RodzajZaswiadczenia": "ZASWIADCZENIE_PUP_REJESTRACJA",
            "Adresat": "PUP",
            "Zbior": [{"Kod": "PUP", "Kategoria": ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]}],
        }
    )
    case_id = submitted.Sprawa.IdentyfikatorSprawy
    assert case_id in [s.IdentyfikatorSprawy for s in pup.SkrzynkaOdbiorcza() or []]
    pup.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)
    signed = sign_with(pup_signer, pup.PobierzDoPodpisu(IdentyfikatorSprawy=case_id).Tresc)
    delivered = pup.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed)
    assert delivered.Sprawa.Stan == "DOSTARCZONY"
    collected = ops.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    assert collected.Tresc == signed
    certificate = tmp_path / "zaswiadczenie.xml"
    certificate.write_bytes(collected.Tresc)
    verified = verify_offline(state["trust"], certificate)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    receipts = ops.PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)
    assert [etree.QName(etree.fromstring(r)[0]).localname for r in receipts] == ["UPP", "UPP", "UPD"]
    for index, content in enumerate(receipts):
        path = tmp_path / f"poswiadczenie-{index}.xml"
        path.write_bytes(content)
        verified = verify_offline(state["trust"], path)
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_demo_has_a_template_editor_who_lists_the_templates_from_the_wsdl(demo: RunningHub) -> None:
    """The demo's template editor (`redaktor`, REDAKTOR_SZABLONOW) can use the template operations with nothing
    but demo.json and the WSDL; every shipped document type has an active version."""
    state = demo.demo
    editors = [u for u in state["users"] if "REDAKTOR_SZABLONOW" in u["roles"]]
    assert [u["login"] for u in editors] == ["redaktor"]
    versions = client(state, editors[0]).ListaSzablonow()
    active = {v.RodzajDokumentu for v in versions if v.Aktywna}
    assert {"WNIOSEK_O_INFORMACJE", "ZASWIADCZENIE_PUP_REJESTRACJA"} <= active
