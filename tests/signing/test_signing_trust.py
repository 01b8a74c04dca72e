"""Trust anchors from a folder or an ETSI TS 119 612 trusted list, and certification path checks."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from signing import InvalidInput, SoftwareKey, TrustStore, VerifierConfig, XadesSigner, XadesVerifier
from signing.trust import build_path

from .conftest import NOW, fixture_certificate, fixture_path
from .documents import wniosek
from .pki import Issued, TestPKI, build_pki


def test_trusted_list_gives_only_granted_qualified_cas() -> None:
    store = TrustStore.from_trusted_list(fixture_path("trusted_list.xml").read_bytes())
    assert [anchor.certificate for anchor in store.anchors] == [fixture_certificate("qualified_ca.pem")]
    anchor = store.anchors[0]
    assert anchor.qualified_ca and anchor.source == "lista zaufania"
    assert anchor.service_name == "Testowe Kwalifikowane CA 2026"


def test_signature_verified_against_the_trusted_list() -> None:
    verifier = XadesVerifier(
        VerifierConfig(trust=TrustStore.from_path(fixture_path("trusted_list.xml")), validation_time=NOW)
    )
    report = verifier.verify(fixture_path("valid_enveloped.xml").read_bytes())
    assert report.accepted and report.qualified, report.render()
    assert report.trust_anchor_source == "lista zaufania"
    assert report.chain == ("Jan Testowy", "Testowe Kwalifikowane CA 2026")
    assert "KWALIFIKOWANY_BEZ_LISTY_ZAUFANIA" not in [w.code for w in report.warnings]
    # The other CA is in the list, but withdrawn: its signer is not trusted.
    assert "BRAK_ZAUFANIA" in verifier.verify(fixture_path("untrusted_signer.xml").read_bytes()).reason_codes


def test_a_file_that_is_not_a_trusted_list_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        TrustStore.from_trusted_list(fixture_path("document_unsigned.xml").read_bytes())
    assert raised.value.code == "NIE_LISTA_ZAUFANIA"
    with pytest.raises(InvalidInput) as doctype:
        TrustStore.from_trusted_list(fixture_path("doctype_external_entity.xml").read_bytes())
    assert doctype.value.code == "DOCTYPE_NIEDOZWOLONY"


def test_folder_of_pem_and_der_certificates(tmp_path: Path) -> None:
    shutil.copy(fixture_path("pki/root.pem"), tmp_path / "root.pem")
    der = fixture_certificate("qualified_ca.pem").public_bytes(serialization.Encoding.DER)
    (tmp_path / "ca.cer").write_bytes(der)
    (tmp_path / "README.txt").write_text("nie certyfikat")
    store = TrustStore.from_path(tmp_path)
    assert {a.certificate for a in store.anchors} == {
        fixture_certificate("root.pem"),
        fixture_certificate("qualified_ca.pem"),
    }
    assert all(a.source == "katalog" for a in store.anchors)
    report = XadesVerifier(VerifierConfig(trust=store, validation_time=NOW)).verify(
        fixture_path("valid_enveloped.xml").read_bytes()
    )
    # The qualified CA is itself an anchor here, so the path ends there.
    assert report.accepted and report.chain == ("Jan Testowy", "Testowe Kwalifikowane CA 2026")


def _intermediate(pki: TestPKI, *, ca: bool, not_after: dt.datetime | None = None) -> Issued:
    """A second-level CA under the qualified CA (optionally broken)."""
    from .pki import _ca_name, new_key

    key = new_key("p256")
    builder = (
        x509.CertificateBuilder()
        .subject_name(_ca_name("Testowe CA Pośrednie"))
        .issuer_name(pki.qualified_ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(777 + int(ca))
        .not_valid_before(NOW - dt.timedelta(days=100))
        .not_valid_after(not_after or NOW + dt.timedelta(days=100))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return Issued(key, builder.sign(pki.qualified_ca.key, hashes.SHA256()))


@pytest.mark.parametrize(
    ("ca", "not_after", "code"),
    [
        (False, None, "WYSTAWCA_NIE_JEST_CA"),
        (True, NOW - dt.timedelta(days=1), "CERTYFIKAT_W_SCIEZCE_NIEWAZNY"),
        (True, None, "PRZEKROCZONA_DLUGOSC_SCIEZKI"),  # the qualified CA has pathLenConstraint 0
    ],
)
def test_path_problems_are_named(pki: TestPKI, ca: bool, not_after: dt.datetime | None, code: str) -> None:
    intermediate = _intermediate(pki, ca=ca, not_after=not_after)
    signer = pki.signer("Jan", "Testowy", issuer=intermediate)
    signed = XadesSigner(SoftwareKey(signer.key, signer.cert)).sign_enveloped(
        wniosek(), signing_time=NOW - dt.timedelta(days=2)
    )
    verifier = XadesVerifier(
        VerifierConfig(
            trust=TrustStore.from_certificates([pki.root.cert]),
            intermediates=(intermediate.cert, pki.qualified_ca.cert),
            validation_time=NOW,
        )
    )
    report = verifier.verify(signed)
    assert report.valid and not report.trusted and not report.accepted, report.render()
    assert code in report.reason_codes


def test_signer_from_another_pki_is_not_trusted(live_verifier: XadesVerifier) -> None:
    stranger_pki = build_pki(NOW, root_cn="Obcy Root", ca_cn="Obce CA")
    stranger = stranger_pki.signer("Jan", "Testowy")
    signed = XadesSigner(SoftwareKey(stranger.key, stranger.cert)).sign_enveloped(wniosek(), signing_time=NOW)
    report = live_verifier.verify(signed)
    assert report.valid and not report.trusted
    assert report.reason_codes == ("BRAK_ZAUFANIA",)


def test_a_certificate_its_trusted_issuer_signed_with_sha1_is_named_so(tmp_path: Path) -> None:
    """A trusted root's SHA-1 signature on a certificate (OpenSSL here refuses to check SHA-1 at all) was
    reported as "the issuer is no trust anchor": the root is one. The reason now names the algorithm."""
    from tests.conftest import require_tool

    openssl = require_tool("openssl", "openssl")

    def run(*arguments: str) -> None:
        subprocess.run([openssl, *arguments], check=True, capture_output=True, timeout=60, cwd=tmp_path)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-sha256",
        "-days", "2", "-subj", "/CN=Testowe CA")
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
        "-subj", "/CN=Jan Testowy")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-sha1",
        "-days", "1", "-out", "leaf.pem")  # fmt: skip
    root = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    leaf = x509.load_pem_x509_certificate((tmp_path / "leaf.pem").read_bytes())
    path = build_path(leaf, TrustStore.from_certificates([root]), [], [])
    assert path.anchor is None
    assert [p.code for p in path.problems] == ["NIEOBSLUGIWANY_ALGORYTM"]
    assert "SHA-1" in path.problems[0].message and "Jan Testowy" in path.problems[0].message
    # Signed with SHA-256 by the same root, the path is built.
    run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-sha256",
        "-days", "1", "-out", "leaf256.pem")  # fmt: skip
    good = x509.load_pem_x509_certificate((tmp_path / "leaf256.pem").read_bytes())
    assert build_path(good, TrustStore.from_certificates([root]), [], []).anchor is not None
