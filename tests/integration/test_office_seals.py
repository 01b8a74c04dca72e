"""Office seals (issue 15, item 4b): the hub seals a certificate with the seal it holds for the office that
issues it — PUP's in a PKCS#11 token (SoftHSM2, its PIN in an environment variable), OPS's in a PKCS#12 file —
and signs receipts with its own seal (here in a second token of the same module). SR has no seal: its
certificates are refused for sealing (`BRAK_PIECZECI_URZEDU`), never sealed with the hub's seal.

The hub is the demo powiat (`platforma demo --no-serve`) configured as tests/integration/test_documents.py
does, then given the tokens. Without softhsm2 these tests fail under CI=true (naming it) and skip locally.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from contract.errors import ConfigurationError
from hub import settings
from hub.core import HubCore
from hub.domain.accounts import hash_password
from hub.domain.documents import CERTIFICATE, RequestForm, SignatureRefused
from hub.domain.seals import NoOfficeSeal, OfficeSeal
from signing import InvalidKey, XadesSigner, load_key
from signing import constants as c
from signing.testpki import Issued, TestPKI, build_pki, synthetic_pesel
from tests.conftest import missing, require_tool
from tests.integration.test_documents import SEAL_PASSWORD, _configure, _p12, _run
from tests.signing.test_signing_chain import keyinfo_certificates

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "4321"
PUP_TOKEN, HUB_TOKEN = "Pieczec-PUP", "Pieczec-Huba"
PUP_PIN, HUB_PIN = "PIN_PIECZECI_PUP", "PIN_PIECZECI_HUBA"  # environment variables holding the PINs
PINS = {PUP_PIN: PIN, HUB_PIN: PIN}
PUP_SEAL = f"pkcs11:token={PUP_TOKEN};object=pieczec-pup?module-path={MODULE}"
HUB_SEAL = f"pkcs11:token={HUB_TOKEN};object=pieczec-huba?module-path={MODULE}"
SR_SIGNER = ("sr.podpisujacy", synthetic_pesel(dt.date(1979, 7, 21), 317, female=False))


@dataclass
class SealedHub:
    """A configured demo hub: its base configuration (seals[1] PUP in the token, seals[2] OPS in PKCS#12, no
    SR seal), the PKI, the seals' certificates and an open core."""

    directory: Path
    config: dict[str, Any]
    demo: dict[str, Any]
    passwords: dict[str, str]
    pki: TestPKI
    seals: dict[str, x509.Certificate]
    environment: dict[str, str]
    core: HubCore

    def caller(self, login: str, core: HubCore | None = None) -> Any:
        return (core or self.core).accounts.authenticate(login, self.passwords[login], channel="CLI", source="test")

    def person(self, data_set: str) -> str:
        return str(next(b["pesel"] for b in self.demo["beneficiaries"] if data_set in b["data_sets"]))

    def variant(self, name: str, change: Callable[[dict[str, Any]], None]) -> Path:
        """The base configuration changed by `change`, written beside it (its relative paths still hold)."""
        config = copy.deepcopy(self.config)
        change(config)
        path = self.directory / f"{name}.toml"
        path.write_text(tomli_w.dumps(config), encoding="utf-8")
        return path


# -- the tokens --------------------------------------------------------------------------------------------------


def _softhsm(directory: Path) -> Any:
    """SoftHSM2 with its tokens in `directory`, (re)initialised so that it reads this configuration."""
    tool = require_tool("softhsm2-util", "softhsm2")
    if not MODULE.exists():
        missing(f"the SoftHSM2 PKCS#11 module {MODULE} is missing (Debian package 'softhsm2')")
    import pkcs11

    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    for label in (PUP_TOKEN, HUB_TOKEN):
        command = [tool, "--init-token", "--free", "--label", label, "--so-pin", "87654321", "--pin", PIN]
        subprocess.run(command, check=True, capture_output=True)
    library = pkcs11.lib(str(MODULE))
    library.reinitialize()  # SoftHSM reads SOFTHSM2_CONF when initialised: another test module's tokens are elsewhere
    return library


def _token_seal(library: Any, token: str, label: str, issue: Callable[[Any], Issued], pki: TestPKI) -> x509.Certificate:
    """An EC P-256 key made in the token, its certificate (issued by `issue` for its public key) stored under the
    same label and the CA certificates beside it, as an HSM holding a qualified seal keeps them."""
    from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

    private = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False}
    with library.get_token(token_label=token).open(rw=True, user_pin=PIN) as session:
        parameters = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
        )
        public, _ = parameters.generate_keypair(label=label, id=label.encode(), store=True, private_template=private)
        certificate = issue(serialization.load_der_public_key(encode_ec_public_key(public))).cert
        for name, cert in ((label, certificate), ("root", pki.root.cert), ("ca", pki.qualified_ca.cert)):
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.LABEL: name,
                    Attribute.SUBJECT: cert.subject.public_bytes(),
                    Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
                }
            )
        # A key with no certificate anywhere (a misconfiguration below).
        parameters.generate_keypair(label="bez-certyfikatu", store=True, private_template=private)
    return certificate


def _bare_key(path: Path, issued: Issued) -> None:
    """A PKCS#12 holding a key and no certificate."""
    encryption = serialization.BestAvailableEncryption(SEAL_PASSWORD.encode())
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"klucz", issued.key, None, None, encryption))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SealedHub]:
    directory = tmp_path_factory.mktemp("pieczecie")
    previous_conf = os.environ.get("SOFTHSM2_CONF")
    library = _softhsm(tmp_path_factory.mktemp("softhsm"))
    demo = [sys.executable, "-m", "hub.cli", "demo", "--dir", str(directory), "--no-serve", "--port", "0"]
    _run([*demo, "--pup", "300", "--ops", "150", "--sr", "200"], directory / "demo.log")
    state = json.loads((directory / "demo.json").read_text(encoding="utf-8"))
    passwords = {u["login"]: u["password"] for u in state["users"]}
    pki = build_pki(dt.datetime.now(dt.UTC))
    _configure(directory, pki, passwords)  # the hub seal and PUP, OPS and SR seals as PKCS#12 of this PKI
    path = directory / "platforma.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    offices = {o["code"]: o["name"] for o in config["offices"]}
    seals = {
        "PUP": _token_seal(library, PUP_TOKEN, "pieczec-pup", lambda k: pki.seal(offices["PUP"], public_key=k), pki),
        "HUB": _token_seal(
            library, HUB_TOKEN, "pieczec-huba", lambda k: pki.signer("Pieczęć", "Platformy", public_key=k), pki
        ),
    }
    ops_seal = load_key(str(directory / "pieczec-OPS.p12"), SEAL_PASSWORD).certificate
    seals["OPS"] = ops_seal
    (directory / "pieczec-OPS.pem").write_bytes(ops_seal.public_bytes(serialization.Encoding.PEM))
    _bare_key(directory / "sam-klucz.p12", pki.seal("Klucz bez certyfikatu"))
    other = pki.seal("Inny urząd", key_kind="p256").cert  # an EC certificate, as the token's key, of another key
    (directory / "pieczec-innego-klucza.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    config["hub"].update(seal_key=HUB_SEAL, seal_key_password_env=HUB_PIN)
    config["hub"].pop("seal_key_password")
    config["seals"] = [
        {"office": "PUP", "key": PUP_SEAL, "password_env": PUP_PIN},
        next(seal for seal in config["seals"] if seal["office"] == "OPS"),
    ]
    login, pesel = SR_SIGNER
    passwords.setdefault(login, f"Dokumenty-{login}-2026!")
    if not any(user["login"] == login for user in config["users"]):
        roles = ["UZYTKOWNIK", "PODPISUJACY"]
        user = {"login": login, "office": "SR", "group": "REFERENCI", "roles": roles, "pesel": pesel}
        config["users"].append(user | {"password_hash": hash_password(passwords[login])})
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    core = HubCore.open(settings.load(path, environ=PINS))
    yield SealedHub(
        directory, config, state, passwords, pki, seals, {"SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"]}, core
    )
    core.close()
    if previous_conf is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous_conf
    library.finalize()  # the next user of the module initialises it with its own configuration


# -- helpers -----------------------------------------------------------------------------------------------------


def _accepted(hub: SealedHub, office: str, core: HubCore | None = None) -> tuple[Any, str]:
    """A certificate of `office` requested and accepted, waiting for its signature: the office's signer, the case."""
    core = core or hub.core
    if office == "PUP":
        form = RequestForm(
            hub.person("PUP"),
            "UPS-2004",
            "Ustalenie sytuacji osoby ubiegającej się o zasiłek",
            "ZASWIADCZENIE_PUP_REJESTRACJA",
            "PUP",
            {"PUP": ["OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]},
        )
        requester = "ops.pracownik"
    else:
        kinds = {"OPS": ("ZASWIADCZENIE_OPS_SWIADCZENIA", "SWIADCZENIA")}
        kinds["SR"] = ("ZASWIADCZENIE_SR_WYPLACONE_SWIADCZENIA", "WYPLACONE_SWIADCZENIA")
        certificate_type, category = kinds[office]
        form = RequestForm(
            hub.person(office), "URPSZ-2025", "Ustalenie uprawnień", certificate_type, office, {office: [category]}
        )
        requester = "pup.kierownik"
    case_id = core.documents.submit(hub.caller(requester, core), form).case.id
    signer = hub.caller({"PUP": "pup.podpisujacy", "OPS": "ops.podpisujacy", "SR": SR_SIGNER[0]}[office], core)
    core.documents.accept(signer, case_id)
    return signer, case_id


def _signer(document: bytes) -> x509.Certificate:
    """The signing certificate embedded in a document's signature (the first of KeyInfo)."""
    return keyinfo_certificates(document)[0]


def _start_error(path: Path, environ: dict[str, str]) -> str:
    """What stops the hub at start with this configuration."""
    try:
        core = HubCore.open(settings.load(path, environ=environ))
    except ConfigurationError as error:
        return error.message
    core.close()
    pytest.fail(f"the hub started with {path.name}")


# -- sealing -----------------------------------------------------------------------------------------------------


def test_a_pup_certificate_is_sealed_in_pups_token_and_verifies_with_xmlsec1_and_platforma_verify(
    hub: SealedHub, tmp_path: Path
) -> None:
    signer, case_id = _accepted(hub, "PUP")
    delivered = hub.core.documents.seal_certificate(signer, case_id)
    assert delivered.case.state == "DOSTARCZONY"
    collected = hub.core.documents.document(hub.caller("ops.pracownik"), case_id, CERTIFICATE)
    assert collected.content == delivered.document.content
    assert _signer(collected.content) == hub.seals["PUP"]
    assert _signer(collected.content) not in (hub.seals["OPS"], hub.seals["HUB"])
    path = tmp_path / "zaswiadczenie.xml"
    path.write_bytes(collected.content)
    trust = hub.directory / "zaufane"
    xmlsec1 = require_tool("xmlsec1", "xmlsec1")
    command = [xmlsec1, "--verify", "--trusted-pem", str(trust / "root.pem")]
    command += ["--id-attr:Id", f"{c.XADES_NS}:SignedProperties", str(path)]
    checked = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    command = [sys.executable, "-m", "hub.cli", "verify", "--trust", str(trust), "--offline", str(path)]
    verified = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Podpisujący: Powiatowy Urząd Pracy" in verified.stdout
    notes = [t.note for t in hub.core.documents.history(signer, case_id)]
    assert "pieczęć: Powiatowy Urząd Pracy" in notes


def test_the_receipts_of_a_sealed_certificate_are_signed_with_the_hubs_seal(hub: SealedHub) -> None:
    signer, case_id = _accepted(hub, "PUP")
    delivered = hub.core.documents.seal_certificate(signer, case_id)
    hub.core.documents.document(hub.caller("ops.pracownik"), case_id, CERTIFICATE)  # collected: UPD
    receipts = hub.core.documents.receipts(signer, case_id)
    assert delivered.receipt in receipts and len(receipts) == 3  # UPP submitted, UPP delivered, UPD collected
    verifier = hub.core.documents.signing.verifier
    assert verifier is not None
    for receipt in receipts:
        assert _signer(receipt) == hub.seals["HUB"]
        assert verifier.verify(receipt).accepted


def test_an_ops_certificate_is_sealed_with_the_pkcs12_seal_of_ops(hub: SealedHub) -> None:
    signer, case_id = _accepted(hub, "OPS")
    sealed = hub.core.documents.seal_certificate(signer, case_id)
    certificate = _signer(sealed.document.content)
    assert certificate == hub.seals["OPS"] and certificate not in (hub.seals["PUP"], hub.seals["HUB"])
    organisation = certificate.subject.get_attributes_for_oid(x509.oid.NameOID.ORGANIZATION_NAME)
    assert [a.value for a in organisation] == ["Ośrodek Pomocy Społecznej"]
    verifier = hub.core.documents.signing.verifier
    assert verifier is not None and verifier.verify(sealed.document.content).accepted


def test_an_office_without_a_seal_of_its_own_is_refused_not_sealed_with_the_hubs(hub: SealedHub) -> None:
    signer, case_id = _accepted(hub, "SR")
    with pytest.raises(NoOfficeSeal) as refused:
        hub.core.documents.seal_certificate(signer, case_id)
    assert refused.value.code == "BRAK_PIECZECI_URZEDU"
    assert "Dział Świadczeń Rodzinnych" in refused.value.message
    assert hub.core.documents.case(signer, case_id).state == "DO_PODPISU"


def test_certificates_sealed_from_several_threads_with_the_token_all_verify(hub: SealedHub) -> None:
    cases = [_accepted(hub, "PUP") for _ in range(6)]
    barrier = threading.Barrier(len(cases))

    def seal(signer: Any, case_id: str) -> bytes:
        barrier.wait()
        return hub.core.documents.seal_certificate(signer, case_id).document.content

    with ThreadPoolExecutor(len(cases)) as pool:
        sealed = [f.result() for f in [pool.submit(seal, signer, case_id) for signer, case_id in cases]]
    verifier = hub.core.documents.signing.verifier
    assert verifier is not None
    for (signer, case_id), document in zip(cases, sealed, strict=True):
        report = verifier.verify(document)
        assert report.accepted and report.coverage.whole_document, report.render()
        assert report.certificate is not None and report.certificate.organization == "Powiatowy Urząd Pracy"
        assert hub.core.documents.case(signer, case_id).state == "DOSTARCZONY"
        assert all(_signer(r) == hub.seals["HUB"] for r in hub.core.documents.receipts(signer, case_id))


def test_a_seal_that_is_not_the_offices_configured_certificate_is_refused(
    hub: SealedHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token (or file) gives a key other than the one configured at start: OPS's seal, trusted, signs for
    PUP. The verification before delivery compares the signer with PUP's configured seal certificate."""
    signer, case_id = _accepted(hub, "PUP")
    ops_key = load_key(str(hub.directory / "pieczec-OPS.p12"), SEAL_PASSWORD)
    swapped = OfficeSeal("PUP", hub.seals["PUP"], XadesSigner(ops_key))
    monkeypatch.setattr(hub.core.documents.seals, "of", lambda office, name="": swapped)
    with pytest.raises(SignatureRefused) as refused:
        hub.core.documents.seal_certificate(signer, case_id)
    assert any(d.startswith("PIECZEC_INNA_NIZ_URZEDU") for d in refused.value.details)
    assert hub.core.documents.case(signer, case_id).state == "DO_PODPISU"


def test_a_token_gone_since_the_start_is_a_configuration_error_naming_the_office(
    hub: SealedHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HSM restarted or a card pulled out: the token's error, in Polish, not the signing library's exception."""
    signer, case_id = _accepted(hub, "PUP")

    def gone(_data: bytes) -> bytes:
        raise InvalidKey("Błąd tokenu PKCS#11: DeviceRemoved.", code="BLAD_TOKENU")

    monkeypatch.setattr(hub.core.documents.seals.of("PUP").signer.key, "sign", gone)
    with pytest.raises(ConfigurationError) as refused:
        hub.core.documents.seal_certificate(signer, case_id)
    assert (
        refused.value.message
        == "Pieczęć urzędu PUP nie daje się użyć: Błąd tokenu PKCS#11: DeviceRemoved [BLAD_TOKENU]"
    )
    assert hub.core.documents.case(signer, case_id).state == "DO_PODPISU"


def test_a_hub_seal_gone_while_a_receipt_is_issued_is_a_configuration_error_and_nothing_is_delivered(
    hub: SealedHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The office's seal signs, then the hub's token is gone when the delivery receipt is signed: the token's
    error in Polish (it was the signing library's exception), and the delivery's transaction writes nothing."""
    signer, case_id = _accepted(hub, "PUP")
    receipts = hub.core.documents.seals.receipts
    assert receipts is not None and receipts._signer.key is not hub.core.documents.seals.of("PUP").signer.key

    def gone(_data: bytes) -> bytes:
        raise InvalidKey("Błąd tokenu PKCS#11: DeviceRemoved.", code="BLAD_TOKENU")

    monkeypatch.setattr(receipts._signer.key, "sign", gone)
    with pytest.raises(ConfigurationError) as refused:
        hub.core.documents.seal_certificate(signer, case_id)
    assert refused.value.message == (
        "Pieczęć huba (seal_key) nie daje się użyć do poświadczenia: Błąd tokenu PKCS#11: DeviceRemoved [BLAD_TOKENU]"
    )
    assert hub.core.documents.case(signer, case_id).state == "DO_PODPISU"
    assert [t.to_state for t in hub.core.documents.history(signer, case_id)][-1] == "DO_PODPISU"


@pytest.mark.parametrize(
    ("problem", "reason"), [("uniewazniona", "CERTYFIKAT_UNIEWAZNIONY"), ("obca", "BRAK_ZAUFANIA")]
)
def test_a_revoked_or_untrusted_office_seal_is_refused_before_delivery(
    hub: SealedHub, problem: str, reason: str
) -> None:
    """The hub verifies what it sealed: a seal revoked on a CRL of `signature_crls`, or issued by a CA outside
    `signature_trust`, delivers nothing."""
    if problem == "uniewazniona":
        seal = hub.pki.seal("Dział Świadczeń Rodzinnych")
        crl = hub.pki.crl([(seal.cert, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))])
        (hub.directory / "crl-pieczeci").mkdir(exist_ok=True)
        (hub.directory / "crl-pieczeci" / "ca.crl").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    else:
        seal = build_pki(dt.datetime.now(dt.UTC), root_cn="Obcy Root CA").seal("Dział Świadczeń Rodzinnych")
    _p12(seal, [hub.pki.qualified_ca.cert], hub.directory / f"pieczec-SR-{problem}.p12")
    sr_seal = {"office": "SR", "key": f"pieczec-SR-{problem}.p12", "password": SEAL_PASSWORD}

    def change(config: dict[str, Any]) -> None:
        config["seals"].append(sr_seal)
        if problem == "uniewazniona":
            config["hub"]["signature_crls"] = "crl-pieczeci"

    core = HubCore.open(settings.load(hub.variant(f"sr-{problem}", change), environ=PINS))
    try:
        signer, case_id = _accepted(hub, "SR", core)
        with pytest.raises(SignatureRefused) as refused:
            core.documents.seal_certificate(signer, case_id)
        assert any(d.startswith(reason) for d in refused.value.details), refused.value.details
        assert core.documents.case(signer, case_id).state == "DO_PODPISU"
    finally:
        core.close()


# -- misconfigured seals stop the start --------------------------------------------------------------------------


def _seal(index: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        seal = config["seals"][index - 1]
        for name, value in fields.items():
            if value is None:
                seal.pop(name, None)
            else:
                seal[name] = value

    return change


def _no_change(config: dict[str, Any]) -> None:
    pass


MISCONFIGURED = [
    # (name, change, environment, where, what it says)
    ("brak-pliku", _seal(2, key="nie-ma-pieczeci.p12"), PINS, "seals[2].key", "nie ma takiego pliku"),
    ("zle-haslo", _seal(2, password="zle-haslo"), PINS, "seals[2].password", "[ZLE_HASLO_LUB_PLIK]"),
    ("zly-pin", _no_change, {**PINS, PUP_PIN: "0000"}, "seals[1].password_env", "[ZLY_PIN]"),
    ("bez-pinu", _no_change, {HUB_PIN: PIN}, "seals[1].password_env", f"zmienna środowiskowa {PUP_PIN}"),
    ("brak-tokenu", _seal(1, key=PUP_SEAL.replace(PUP_TOKEN, "Nie-ma")), PINS, "seals[1].key", "[BRAK_TOKENU]"),
    (
        "klucz-bez-certyfikatu-w-tokenie",
        _seal(1, key=PUP_SEAL.replace("pieczec-pup", "bez-certyfikatu")),
        PINS,
        "seals[1].key",
        "[BRAK_CERTYFIKATU]",
    ),
    ("klucz-bez-certyfikatu-w-pliku", _seal(2, key="sam-klucz.p12"), PINS, "seals[2].key", "[BRAK_CERTYFIKATU]"),
    (
        "certyfikat-innego-klucza",  # an EC key, the certificate of another EC key: the probe signature fails
        _seal(1, key=PUP_SEAL.replace("pieczec-pup", "bez-certyfikatu"), certificate="pieczec-innego-klucza.pem"),
        PINS,
        "seals[1].certificate",
        "[KLUCZ_NIE_PASUJE]",
    ),
    (
        "certyfikat-klucza-rsa",  # an EC key, OPS's RSA certificate: another kind of key altogether
        _seal(1, key=PUP_SEAL.replace("pieczec-pup", "bez-certyfikatu"), certificate="pieczec-OPS.pem"),
        PINS,
        "seals[1].certificate",
        "[KLUCZ_NIE_PASUJE]",
    ),
    ("zly-pin-huba", _no_change, {**PINS, HUB_PIN: "0000"}, "hub.seal_key_password_env", "pieczęć huba"),
    (  # the certificate names the office's organisation, not the one the configuration expects
        "pieczec-innego-podmiotu",
        _seal(2, organization="Miejski Ośrodek Pomocy Społecznej w Innym Mieście"),
        PINS,
        "seals[2].key",
        "[PIECZEC_INNEGO_PODMIOTU]",
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "environment", "where", "says"), MISCONFIGURED, ids=[m[0] for m in MISCONFIGURED]
)
def test_a_misconfigured_seal_stops_the_start_with_one_polish_line(
    hub: SealedHub,
    name: str,
    change: Callable[[dict[str, Any]], None],
    environment: dict[str, str],
    where: str,
    says: str,
) -> None:
    path = hub.variant(name, change)
    message = _start_error(path, environment)
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"{path.name}:{where}: "), message
    assert says in message
    if where.startswith("seals"):
        office = hub.config["seals"][int(where[6]) - 1]["office"]
        assert f"urzędu {office}" in message


def test_a_seal_key_file_others_may_read_stops_the_start_a_group_may_read_it(hub: SealedHub) -> None:
    """A seal's private key readable by every user of the machine (0644) is refused at start naming the field;
    0640 (a group, as docs/deployment.md allows) and 0600 are accepted."""
    for mode, refused in ((0o644, True), (0o604, True), (0o640, False), (0o600, False)):
        copied = hub.directory / f"pieczec-OPS-{mode:o}.p12"
        shutil.copy(hub.directory / "pieczec-OPS.p12", copied)
        copied.chmod(mode)
        path = hub.variant(f"uprawnienia-{mode:o}", _seal(2, key=copied.name))
        if refused:
            message = _start_error(path, PINS)
            assert message == (
                f"{path.name}:seals[2].key: plik klucza pieczęci urzędu OPS ({copied}) mogą czytać lub zmieniać "
                f"wszyscy użytkownicy systemu (uprawnienia {mode:04o}); ustaw 0600 poleceniem chmod 600 "
                "[KLUCZ_DOSTEPNY_DLA_WSZYSTKICH]"
            )
        else:
            HubCore.open(settings.load(path, environ={**hub.environment, **PINS})).close()


def test_one_seal_for_two_offices_is_refused_and_another_name_is_accepted_when_configured(hub: SealedHub) -> None:
    """OPS's seal configured for SR too: SR's certificates would carry OPS's seal (found at start). A seal whose
    certificate names the institution otherwise than the configuration is accepted once `organization` says so."""
    ops_name = load_key(str(hub.directory / "pieczec-OPS.p12"), SEAL_PASSWORD).certificate.subject
    organization = ops_name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value

    def twice(config: dict[str, Any]) -> None:
        config["seals"].append({**config["seals"][1], "office": "SR", "organization": organization})

    message = _start_error(hub.variant("jedna-pieczec-dwa-urzedy", twice), PINS)
    assert "seals[3].key" in message and "urzędu OPS" in message and "[PIECZEC_INNEGO_PODMIOTU]" in message

    renamed = hub.variant("inna-nazwa", _seal(2, organization=str(organization).upper()))
    HubCore.open(settings.load(renamed, environ={**hub.environment, **PINS})).close()


def test_the_hubs_seal_may_not_be_an_offices_seal(hub: SealedHub) -> None:
    """PUP's seal configured as the hub's: every receipt would read as issued by PUP (found by the tampering
    pass, copying pieczec-PUP.p12 over the hub's seal file). The check of one seal per office left the hub's out."""

    def hub_seals_as_pup(config: dict[str, Any]) -> None:
        config["hub"].update(seal_key=PUP_SEAL, seal_key_password_env=PUP_PIN)

    message = _start_error(hub.variant("pieczec-huba-urzedu", hub_seals_as_pup), PINS)
    assert "hub.seal_key: pieczęć huba jest pieczęcią urzędu PUP" in message
    assert "[PIECZEC_INNEGO_PODMIOTU]" in message and "Traceback" not in message


def test_platforma_serve_with_a_wrong_pin_prints_one_line_and_no_traceback(hub: SealedHub) -> None:
    path = hub.variant("serve-zly-pin", _no_change)
    environment = {**os.environ, **hub.environment, **PINS, PUP_PIN: "0000"}
    command = [sys.executable, "-m", "hub.cli", "serve", "--config", str(path), "--port", "0"]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=environment)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert ran.stderr.splitlines() == [
        f"Błąd: {path.name}:seals[1].password_env: pieczęć urzędu PUP nie daje się użyć: "
        "Nieprawidłowy PIN tokenu [ZLY_PIN]"
    ]
    assert "nasłuchuje" not in ran.stdout
