"""The demo's documents (issue 15, item 9): a test PKI, the hub's seal, each office's seal, signers in PUP and
OPS, and a few cases in various states, so that scripts can play both sides with nothing but `demo.json` and
the WSDL.

The PKI is `signing.testpki`'s (a root, a qualified CA whose certificates carry QCStatements, a CRL), all
invented. Each signer's key and each office's seal (its certificate naming the office, `[[seals]]`) is a
PKCS#12 with its chain in `klucze/`, private to the owner (0600) like the demo's other keys
(docs/security.md "Files and permissions"); the trust anchors the hub uses are in `zaufane/`, the CRL in
`crl/`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from contract.errors import ConfigurationError
from hub import settings as config_module
from hub.core import HubCore
from hub.domain.accounts import hash_password
from hub.domain.documents import CERTIFICATE, RequestForm
from hub.domain.policy import Caller
from hub.soap.services import SERVICES
from signing import XadesSigner, load_crls, load_key
from signing.testpki import Issued, TestPKI, build_pki, synthetic_pesel

KEYS = "klucze"
TRUST = "zaufane"
CRLS = "crl"
SEAL = f"{KEYS}/pieczec.p12"
#: The folders the documents add to the demo (the keys go to the demo's `klucze/`).
DOCUMENT_FOLDERS = (TRUST, CRLS)
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


@dataclass(frozen=True)
class DemoSigner:
    """A demo user who may sign for an office: login, office, group, name and PESEL (invented)."""

    login: str
    office: str
    group: str
    given: str
    surname: str
    pesel: str


SIGNERS = (
    DemoSigner(
        "pup.podpisujacy",
        "PUP",
        "KIEROWNICTWO",
        "Anna",
        "Podpisująca",
        synthetic_pesel(dt.date(1980, 4, 12), 123, True),
    ),
    DemoSigner(
        "ops.podpisujacy",
        "OPS",
        "PRACOWNICY_SOCJALNI",
        "Olga",
        "Opiekuńcza",
        synthetic_pesel(dt.date(1982, 2, 3), 211, True),
    ),
)


def _secret(seed: int, name: str) -> str:
    """A reproducible demo password for a key (never used outside the demo)."""
    return "Klucz-" + hashlib.sha256(f"{seed}:klucz:{name}".encode()).hexdigest()[:12]


def _write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)
        handle.write(content)


def _pkcs12(path: Path, issued: Issued, pki: TestPKI, password: str, name: str) -> None:
    """A PKCS#12 with the key, its certificate and the chain up to the root, 0600."""
    blob = pkcs12.serialize_key_and_certificates(
        name.encode(),
        issued.key,
        issued.cert,
        [pki.qualified_ca.cert, pki.root.cert],
        serialization.BestAvailableEncryption(password.encode()),
    )
    _write_private(path, blob)


def office_seal(code: str) -> str:
    """Where the demo keeps an office's seal (relative to the demo's folder)."""
    return f"{KEYS}/pieczec-{code}.p12"


def _write_office_seals(
    directory: Path, pki: TestPKI, seed: int, offices: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """A seal for every office (the gminas' units too), its certificate naming the office; the `[[seals]]`."""
    seals = []
    for office in offices:
        password = _secret(seed, "pieczec:" + office["code"])
        seal = pki.seal(office["name"])  # ECDSA P-256: quick to make for a powiat of many gminas
        _pkcs12(directory / office_seal(office["code"]), seal, pki, password, "pieczec-" + office["code"])
        seals.append({"office": office["code"], "key": office_seal(office["code"]), "password": password})
    return seals


def _write_pki(
    directory: Path, seed: int, users: list[dict[str, Any]], offices: list[dict[str, Any]]
) -> dict[str, Any]:
    """The PKI's files, the seals and the signers' keys; the signers join `users` with their PESEL and key."""
    pki = build_pki(dt.datetime.now(dt.UTC))
    _write_private(directory / TRUST / "root.pem", pki.root.cert_pem())
    _write_private(directory / TRUST / "ca.pem", pki.qualified_ca.cert_pem())
    seal_password = _secret(seed, "pieczec")
    # The hub's seal names no person (no PESEL) and is not a qualified signature of anyone; it signs receipts.
    _pkcs12(directory / SEAL, pki.signer("Pieczęć", "Platformy", qualified=False), pki, seal_password, "pieczec")
    seals = _write_office_seals(directory, pki, seed, offices)
    for signer in SIGNERS:
        issued = pki.signer(signer.given, signer.surname, pesel=signer.pesel)
        password = _secret(seed, signer.login)
        key = directory / KEYS / f"{signer.login}.p12"
        _pkcs12(key, issued, pki, password, signer.login)
        users.append(
            {
                "login": signer.login,
                "password": _secret(seed, "haslo:" + signer.login).replace("Klucz-", "Demo-Podpis-"),
                "office": signer.office,
                "group": signer.group,
                "roles": ["UZYTKOWNIK", "PODPISUJACY"],
                "pesel": signer.pesel,
                "signing_key": str(key),
                "signing_key_password": password,
            }
        )
    # The hub refuses signatures while the CRL is past its nextUpdate (docs/signing.md "Revocation"), and the
    # demo keeps no CA key to issue another: the CRL speaks until the last certificate it covers expires.
    last = max(issued.cert.not_valid_after_utc for issued in pki.issued)
    crl = pki.crl([], next_update=last).public_bytes(serialization.Encoding.PEM)
    _write_private(directory / CRLS / "ca.crl", crl)
    return {"seal_password": seal_password, "seals": seals}


def _configure(config_path: Path, users: list[dict[str, Any]], seal_password: str, seals: list[dict[str, str]]) -> None:
    """The hub's seal, the offices' seals, trust anchors, CRLs and signers in the demo's platforma.toml."""
    document = tomllib.loads(config_path.read_text(encoding="utf-8"))
    document["hub"].update(seal_key=SEAL, seal_key_password=seal_password, signature_trust=TRUST, signature_crls=CRLS)
    document["seals"] = seals
    for user in users:
        if "pesel" in user:
            document["users"].append(
                {
                    "login": user["login"],
                    "office": user["office"],
                    "group": user["group"],
                    "password_hash": hash_password(user["password"]),
                    "roles": user["roles"],
                    "pesel": user["pesel"],
                }
            )
    text = config_path.read_text(encoding="utf-8").split("\n", 1)[0] + "\n" + tomli_w.dumps(document)
    _write_private(config_path, text.encode("utf-8"))


def _form(core: HubCore, pesel: str, basis: str, certificate: str, office: str, purpose: str) -> RequestForm:
    categories = list(core.documents.templates.active(certificate).metadata.get("kategorie", ()))
    data_set = office  # the first gmina's units control the data sets named as the offices
    return RequestForm(pesel, basis, purpose, certificate, office, {data_set: categories})


def _cases(core: HubCore, users: list[dict[str, Any]], beneficiaries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """A few cases in various states: submitted, to sign, refused, delivered (signed by PUP's signer) and
    collected (sealed by the hub with PUP's seal), and one request of PUP to OPS waiting in OPS's inbox."""
    by_login = {u["login"]: u for u in users}

    def caller(login: str) -> Caller:
        return core.accounts.authenticate(login, by_login[login]["password"], channel="CLI", source="demo")

    ops, pup, pup_signer = caller("ops.pracownik"), caller("pup.kierownik"), caller("pup.podpisujacy")
    in_pup = [b["pesel"] for b in beneficiaries if "PUP" in b["data_sets"]]
    in_ops = [b["pesel"] for b in beneficiaries if "OPS" in b["data_sets"]]
    made: list[tuple[Caller, str]] = []

    def submit(requester: Caller, pesel: str, certificate: str, office: str, basis: str) -> str:
        form = _form(core, pesel, basis, certificate, office, "Demonstracja: ustalenie sytuacji osoby")
        case_id = core.documents.submit(requester, form).case.id
        made.append((requester, case_id))
        return case_id

    # A data set with nobody in it (`--pup 0`) has no case: the others are still made.
    if in_pup:
        pup_certificate = "ZASWIADCZENIE_PUP_REJESTRACJA"
        submit(ops, in_pup[0], pup_certificate, "PUP", "UPS-2004")
        to_sign = submit(ops, in_pup[1 % len(in_pup)], pup_certificate, "PUP", "UPS-2004")
        core.documents.accept(pup_signer, to_sign)
        refused = submit(ops, in_pup[2 % len(in_pup)], pup_certificate, "PUP", "UPS-2004")
        reason = "Demonstracja: wniosek nie wskazuje sprawy, w której dane są potrzebne."
        core.documents.refuse(pup_signer, refused, reason)
        delivered = submit(ops, in_pup[0], pup_certificate, "PUP", "UPS-2004")
        generated = core.documents.accept(pup_signer, delivered).content
        key = by_login["pup.podpisujacy"]
        signed = XadesSigner(load_key(key["signing_key"], key["signing_key_password"])).sign_enveloped(generated)
        core.documents.upload_signed(pup_signer, delivered, signed)
        collected = submit(ops, in_pup[1 % len(in_pup)], pup_certificate, "PUP", "UPS-2004")
        core.documents.accept(pup_signer, collected)
        core.documents.seal_certificate(pup_signer, collected)
        core.documents.document(ops, collected, CERTIFICATE)
    if in_ops:
        submit(pup, in_ops[0], "ZASWIADCZENIE_OPS_SWIADCZENIA", "OPS", "URPSZ-2025")
    views = [core.documents.case(requester, case_id) for requester, case_id in made]
    return [{"id": v.id, "state": v.state, "from": v.requester_office, "to": v.recipient_office} for v in views]


def prepare_documents(directory: Path, state: dict[str, Any], seed: int) -> dict[str, Any]:
    """The PKI, the seals, the signers (added to `state["users"]`) and a few cases; the entries for the
    demo's state: `trust` (the folder of trust anchors the hub uses) and `documents` (the cases made)."""
    users: list[dict[str, Any]] = state["users"]
    secrets = _write_pki(directory, seed, users, state["offices"])
    config_path = Path(state["config"])
    _configure(config_path, users, secrets["seal_password"], secrets["seals"])
    core = HubCore.open(config_module.load(config_path))
    try:
        cases = _cases(core, users, state["beneficiaries"])
    finally:
        core.close()
    return {"trust": str(directory / TRUST), "documents": cases}


def check_crls(directory: Path, now: dt.datetime | None = None) -> None:
    """Refuse a reused demo folder whose CRL is past its nextUpdate (one made before the CRL outlived the
    certificates, with a week's): the hub would refuse every signature, and the demo keeps no CA key to issue
    a new CRL, so the folder is made anew."""
    now = now or dt.datetime.now(dt.UTC)
    for path in sorted((directory / CRLS).glob("*.crl")):
        for crl in load_crls([path.read_bytes()]):
            if crl.next_update_utc is not None and crl.next_update_utc < now:
                raise ConfigurationError(
                    f"Lista CRL demonstracji {path} jest nieaktualna (następna aktualizacja: "
                    f"{crl.next_update_utc:%Y-%m-%d %H:%M} UTC): hub odrzucałby każdy podpis. Usuń katalog "
                    "demonstracji albo wskaż inny (--dir) i uruchom demonstrację ponownie: powstanie od nowa."
                )


def add_demo_json_entries(document: dict[str, Any], state: dict[str, Any], base_url: str) -> None:
    """demo.json's documents entries: every published service's WSDL (the documents service's among them),
    the trust anchors' folder and the demo's cases."""
    document["wsdl"].update({s.path: f"{base_url}/soap/{s.path}?wsdl" for s in SERVICES})
    if "trust" in state:
        document["trust"] = state["trust"]
        document["documents"] = state.get("documents", [])
