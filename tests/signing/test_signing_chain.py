"""The signer's chain in KeyInfo: embedded leaf first and without the root, so that a verifier holding
only the root builds the path; an embedded certificate never becomes a trust anchor.

The interoperability side (signxml and xmlsec1 with only the root) is in ``test_signing_interop.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from signing import (
    RevocationSources,
    RevocationState,
    SignerConfig,
    SoftwareKey,
    TrustStore,
    VerifierConfig,
    XadesSigner,
    XadesVerifier,
    load_key,
)
from signing import constants as c
from signing.cli import main as cli_main

from .conftest import NOW, P12_PASSWORD
from .documents import wniosek
from .pki import Issued, TestPKI, build_pki

SIGNED_AT = NOW - dt.timedelta(hours=1)


def keyinfo_certificates(signed: bytes) -> list[x509.Certificate]:
    """The certificates of ds:KeyInfo/ds:X509Data, in document order."""
    root = etree.fromstring(signed)
    path = f".//{c.ds('KeyInfo')}/{c.ds('X509Data')}/{c.ds('X509Certificate')}"
    return [x509.load_der_x509_certificate(base64.b64decode(e.text or "")) for e in root.iterfind(path)]


def root_only_verifier(root: x509.Certificate, *crls: x509.CertificateRevocationList) -> XadesVerifier:
    """A verifier that knows the root and nothing else: no intermediates configured."""
    return XadesVerifier(
        VerifierConfig(
            trust=TrustStore.from_certificates([root], "katalog"),
            revocation=RevocationSources(crls=crls),
            validation_time=NOW,
        )
    )


def test_a_pkcs12_key_signs_with_its_chain_leaf_first_and_without_the_root(
    jan_p12: Path, pki: TestPKI, jan: Issued
) -> None:
    signed = XadesSigner(load_key(str(jan_p12), P12_PASSWORD)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    assert keyinfo_certificates(signed) == [jan.cert, pki.qualified_ca.cert]


def test_our_verifier_holding_only_the_root_accepts_a_pkcs12_signature(jan_p12: Path, pki: TestPKI) -> None:
    signed = XadesSigner(load_key(str(jan_p12), P12_PASSWORD)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    report = root_only_verifier(pki.root.cert, pki.crl([])).verify(signed)
    assert report.accepted and report.qualified, report.render()
    assert report.chain == ("Jan Testowy", "Testowe Kwalifikowane CA 2026", "Testowy Narodowy Root CA")
    # The embedded CA is also the issuer the CRL is checked against.
    assert report.revocation is not None and report.revocation.state is RevocationState.GOOD


def test_platforma_sign_then_verify_with_only_the_root(
    tmp_path: Path, jan_p12: Path, pki: TestPKI, jan: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "wniosek.xml"
    document.write_bytes(wniosek())
    out = tmp_path / "wniosek.podpisany.xml"
    argv = ["sign", "--key", str(jan_p12), "--password", P12_PASSWORD, "--out", str(out), str(document)]
    assert cli_main(argv) == 0
    assert keyinfo_certificates(out.read_bytes()) == [jan.cert, pki.qualified_ca.cert]
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root.cert_pem())
    capsys.readouterr()
    # The CLI signed with the real clock, so it verifies on the real clock too (no --time).
    code = cli_main(["verify", "--json", "--offline", "--trust", str(root), str(out)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, data
    assert data["trusted"] is True and data["reasons"] == []


def test_platforma_sign_no_chain_embeds_only_the_signer(tmp_path: Path, jan_p12: Path, jan: Issued) -> None:
    document = tmp_path / "wniosek.xml"
    document.write_bytes(wniosek())
    out = tmp_path / "wniosek.podpisany.xml"
    argv = ["sign", "--no-chain", "--key", str(jan_p12), "--password", P12_PASSWORD, "--out", str(out)]
    assert cli_main([*argv, str(document)]) == 0
    assert keyinfo_certificates(out.read_bytes()) == [jan.cert]


def test_a_longer_chain_is_ordered_from_the_signer_up_and_strays_are_left_out(tmp_path: Path) -> None:
    three_levels = build_pki(NOW, root_cn="Testowy Root Trzypoziomowy", ca_cn="Nieużywane CA")
    policy_ca = three_levels.subordinate_ca("Testowe CA Polityki", path_length=1)
    issuing_ca = three_levels.subordinate_ca("Testowe CA Wydające", issuer=policy_ca, path_length=0)
    signer = three_levels.signer("Anna", "Próbna", issuer=issuing_ca)
    stray = build_pki(NOW, root_cn="Obcy Root", ca_cn="Obce CA").qualified_ca
    bundle = tmp_path / "anna.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"anna",
            signer.key,
            signer.cert,
            [three_levels.root.cert, stray.cert, issuing_ca.cert, policy_ca.cert],
            serialization.NoEncryption(),
        )
    )
    signed = XadesSigner(load_key(str(bundle))).sign_detached(b"dane", "dane.bin", signing_time=SIGNED_AT)
    assert keyinfo_certificates(signed) == [signer.cert, issuing_ca.cert, policy_ca.cert]
    report = root_only_verifier(three_levels.root.cert).verify(signed, detached=b"dane")
    assert report.accepted, report.render()
    assert report.chain == ("Anna Próbna", "Testowe CA Wydające", "Testowe CA Polityki", "Testowy Root Trzypoziomowy")


def test_an_embedded_root_is_never_a_trust_anchor(pki: TestPKI) -> None:
    """A forger's own root and CA, named like the real ones, carried in KeyInfo, do not make it trusted."""
    forged = build_pki(NOW, root_cn="Testowy Narodowy Root CA", ca_cn="Testowe Kwalifikowane CA 2026")
    forger = forged.signer("Jan", "Testowy")
    key = SoftwareKey(forger.key, forger.cert, (forged.qualified_ca.cert, forged.root.cert))
    signed = XadesSigner(key, SignerConfig(include_chain=True)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    # The signer leaves roots out even when the key carries one; put the forged root in by hand (KeyInfo
    # is not signed), as a forger would.
    assert keyinfo_certificates(signed) == [forger.cert, forged.qualified_ca.cert]
    signed = _with_extra_keyinfo_certificate(signed, forged.root.cert)
    report = root_only_verifier(pki.root.cert).verify(signed)
    assert report.valid and not report.trusted, report.render()
    assert "BRAK_ZAUFANIA" in report.reason_codes


def _with_extra_keyinfo_certificate(signed: bytes, cert: x509.Certificate) -> bytes:
    """The signature with ``cert`` appended to X509Data (KeyInfo is not signed, so nothing else changes)."""
    root = etree.fromstring(signed)
    x509_data = root.find(f".//{c.ds('KeyInfo')}/{c.ds('X509Data')}")
    assert x509_data is not None
    etree.SubElement(x509_data, c.ds("X509Certificate")).text = base64.b64encode(
        cert.public_bytes(serialization.Encoding.DER)
    ).decode("ascii")
    return etree.tostring(root)
