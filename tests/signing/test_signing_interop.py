"""Interoperability both ways: our signatures verify with xmlsec1 and signxml; signxml's verify with ours.

xmlsec1 (Debian package ``xmlsec1``) is a system tool: without it these tests fail, naming it (CI=true, the
default of tests/conftest.py), and skip only where CI is set otherwise. signxml is a test dependency.
signxml 5.2 is used with C14N 1.1 or inclusive 1.0 only: its XAdES signatures with exclusive C14N carry
wrong SignedProperties digests (STACK.md).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration
from signxml.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from signing import SignerConfig, SoftwareKey, TrustStore, VerifierConfig, XadesSigner, XadesVerifier, load_key
from signing import constants as c
from tests.conftest import require_tool

from .conftest import NOW, P12_PASSWORD
from .documents import wniosek
from .pki import Issued, TestPKI

SIGNED_AT = NOW - dt.timedelta(hours=1)
SIGNED_PROPERTIES_ID = f"--id-attr:Id={c.XADES_NS}:SignedProperties"


def _xmlsec1(
    tmp_path: Path, pki: TestPKI, signed: bytes, name: str = "signed.xml", *, given_ca: bool = True
) -> subprocess.CompletedProcess[str]:
    """``xmlsec1 --verify`` trusting the root; with ``given_ca`` it is also handed the qualified CA."""
    tool = require_tool("xmlsec1", "xmlsec1")
    (tmp_path / "root.pem").write_bytes(pki.root.cert_pem())
    (tmp_path / "ca.pem").write_bytes(pki.qualified_ca.cert_pem())
    (tmp_path / name).write_bytes(signed)
    return subprocess.run(
        [
            tool,
            "--verify",
            "--trusted-pem",
            "root.pem",
            *(["--untrusted-pem", "ca.pem"] if given_ca else []),
            "--verification-gmt-time",
            NOW.strftime("%Y-%m-%d %H:%M:%S"),
            "--id-attr:Id",
            f"{c.XADES_NS}:SignedProperties",
            name,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("kind", ["rsa2048", "p256"])
def test_xmlsec1_verifies_our_enveloped_signature(tmp_path: Path, pki: TestPKI, kind: str) -> None:
    signer = pki.signer("Jan", "Testowy", key_kind=kind)
    signed = XadesSigner(SoftwareKey(signer.key, signer.cert)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    result = _xmlsec1(tmp_path, pki, signed)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout + result.stderr


def test_xmlsec1_verifies_our_detached_signature(tmp_path: Path, pki: TestPKI, jan: Issued) -> None:
    payload = b"%PDF-1.4 zalacznik"
    (tmp_path / "zalacznik.pdf").write_bytes(payload)
    signature = XadesSigner(SoftwareKey(jan.key, jan.cert)).sign_detached(
        payload, "zalacznik.pdf", signing_time=SIGNED_AT
    )
    result = _xmlsec1(tmp_path, pki, signature, "zalacznik.pdf.xades")
    assert result.returncode == 0, result.stderr


def test_xmlsec1_trusting_only_the_root_verifies_a_pkcs12_signature(
    tmp_path: Path, pki: TestPKI, jan_p12: Path
) -> None:
    """The qualified CA comes from the signature's KeyInfo, not from the command line (item 15)."""
    key = load_key(str(jan_p12), P12_PASSWORD)
    signed = XadesSigner(key).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    result = _xmlsec1(tmp_path, pki, signed, given_ca=False)
    assert result.returncode == 0, result.stderr
    # Without the CA in KeyInfo the path to the root cannot be built: refused for that reason, and no other
    # (the signer's certificate is there, err=20 names the missing issuer; nothing got as far as a digest).
    leaf_only = XadesSigner(key, SignerConfig(include_chain=False)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    refused = _xmlsec1(tmp_path, pki, leaf_only, given_ca=False)
    assert refused.returncode == 1, refused.stderr
    assert "err=20; msg=unable to get local issuer certificate" in refused.stderr, refused.stderr
    assert "subject=/C=PL/GN=Jan/SN=Testowy/CN=Jan Testowy" in refused.stderr, refused.stderr
    assert "key is not found" in refused.stderr and "data and digest do not match" not in refused.stderr


def test_xmlsec1_refuses_an_altered_document(tmp_path: Path, pki: TestPKI, jan: Issued) -> None:
    signed = XadesSigner(SoftwareKey(jan.key, jan.cert)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    result = _xmlsec1(tmp_path, pki, signed.replace(b"Testowy</wn:Nazwisko>", b"Inny</wn:Nazwisko>"))
    # The key was found and trusted; the document's reference digest is what fails.
    assert result.returncode == 1, result.stderr
    assert "data and digest do not match" in result.stderr, result.stderr
    assert "\nFAIL\n" in result.stderr and "certificate verification failed" not in result.stderr


def _non_repudiation_policy() -> x509.verification.ExtensionPolicy:
    """signxml requires digitalSignature; Polish qualified certificates carry nonRepudiation only."""

    def key_usage(_policy: object, _cert: x509.Certificate, usage: x509.KeyUsage | None) -> None:
        if usage is None or not (usage.content_commitment or usage.digital_signature):
            raise ValueError("certyfikat nie pozwala na podpis")

    return x509.verification.ExtensionPolicy.permit_all().require_present(
        x509.KeyUsage, x509.verification.Criticality.AGNOSTIC, key_usage
    )


def _signxml_verify(
    tmp_path: Path, pki: TestPKI, data: bytes, *, only_root: bool = False, **kwargs: object
) -> list[object]:
    """signxml's XAdES verifier with the root and qualified CA as its CA file (``only_root``: the root alone)."""
    ca_file = tmp_path / "ca-bundle.pem"
    ca_file.write_bytes(pki.root.cert_pem() + (b"" if only_root else pki.qualified_ca.cert_pem()))
    results = XAdESVerifier().verify(
        data,
        ca_pem_file=str(ca_file),
        expect_config=XAdESSignatureConfiguration(expect_references=2, verification_time=NOW),
        ee_policy=_non_repudiation_policy(),
        **kwargs,
    )
    return list(results)


@pytest.mark.parametrize("kind", ["rsa2048", "p384"])
def test_signxml_verifies_our_enveloped_signature(tmp_path: Path, pki: TestPKI, kind: str) -> None:
    signer = pki.signer("Anna", "Próbna", key_kind=kind)
    signed = XadesSigner(SoftwareKey(signer.key, signer.cert), SignerConfig(include_chain=True)).sign_enveloped(
        wniosek(), signing_time=SIGNED_AT
    )
    results = _signxml_verify(tmp_path, pki, signed)
    document = results[0].signed_xml  # type: ignore[attr-defined]
    assert document is not None and etree.QName(document).localname == "Dokument"
    assert results[1].signed_xml.tag == c.xades("SignedProperties")  # type: ignore[attr-defined]
    # And it fails once the content changes (the test can fail).
    from signxml.exceptions import InvalidDigest

    with pytest.raises(InvalidDigest):
        _signxml_verify(tmp_path, pki, signed.replace("Zażółć".encode(), "Zażółt".encode()))


def test_signxml_trusting_only_the_root_verifies_a_pkcs12_signature(
    tmp_path: Path, pki: TestPKI, jan_p12: Path
) -> None:
    """signxml builds the path from the root through the CA in KeyInfo (item 15)."""
    from signxml.exceptions import InvalidCertificate

    key = load_key(str(jan_p12), P12_PASSWORD)
    signed = XadesSigner(key).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    results = _signxml_verify(tmp_path, pki, signed, only_root=True)
    assert results[1].signed_xml.tag == c.xades("SignedProperties")  # type: ignore[attr-defined]
    leaf_only = XadesSigner(key, SignerConfig(include_chain=False)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    with pytest.raises(InvalidCertificate):
        _signxml_verify(tmp_path, pki, leaf_only, only_root=True)


def test_signxml_verifies_our_detached_signature(tmp_path: Path, pki: TestPKI, jan: Issued) -> None:
    payload = b"dane zewnetrzne"
    signature = XadesSigner(SoftwareKey(jan.key, jan.cert)).sign_detached(payload, "dane.bin", signing_time=SIGNED_AT)
    results = _signxml_verify(tmp_path, pki, signature, uri_resolver=lambda uri: payload if uri == "dane.bin" else None)
    assert results[0].signed_data == payload  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "c14n",
    ["http://www.w3.org/2006/12/xml-c14n11", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"],
    ids=["c14n-1.1", "c14n-1.0"],
)
def test_we_verify_signxml_xades_signatures(pki: TestPKI, jan: Issued, c14n: str) -> None:
    signer = XAdESSigner(c14n_algorithm=c14n)
    signed = etree.tostring(signer.sign(etree.fromstring(wniosek()), key=jan.key, cert=[jan.cert]))
    # signxml stamps the real current time as SigningTime, so this verifier runs on the real clock.
    verifier = XadesVerifier(
        VerifierConfig(trust=TrustStore.from_certificates([pki.root.cert]), intermediates=(pki.qualified_ca.cert,))
    )
    report = verifier.verify(signed)
    assert report.accepted and report.qualified, report.render()
    assert report.coverage.whole_document and report.signer == "Jan Testowy"
    altered_bytes = signed.replace(b"Testowy</wn:Nazwisko>", b"Inny</wn:Nazwisko>")
    assert altered_bytes != signed
    assert "NIEZGODNY_SKROT" in verifier.verify(altered_bytes).reason_codes


def test_signature_config_of_signxml_is_what_we_think(pki: TestPKI) -> None:
    """Guard for the tests above: signxml's defaults we rely on (C14N 1.1, SHA-256)."""
    config = SignatureConfiguration()
    assert config.require_x509
    assert XAdESSignatureConfiguration().expect_references == 3
