"""Attacks on the verifier and the commands, judged by independent tools where they have a say.

Each test here failed on the code it was written against: the verifier's own (lxml) core accepting
signatures xmlsec1 and the xmlsec core refuse, a claimed signing time that crashed the verifier, weak or
TLS-only keys accepted, CRLs of another scope read as "not revoked", and ``verify`` reading /dev/zero
until memory ran out or printing no JSON on errors with ``--json``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from lxml import etree

from signing import (
    RevocationSources,
    RevocationState,
    SoftwareKey,
    TrustStore,
    VerifierConfig,
    XadesSigner,
    XadesVerifier,
    cli,
)
from signing import constants as c
from signing.c14n import canonicalize
from tests.conftest import require_tool

from .conftest import NOW, fixture_path
from .documents import NS, wniosek
from .forge import parse, resign, serialize, signature_of
from .pki import Issued, TestPKI, person_name

ROOT = Path(__file__).resolve().parents[2]
SIGNED_AT = NOW - dt.timedelta(hours=2)
Mutation = Callable[[etree._Element], None]


def _sign(issued: Issued, document: bytes | None = None) -> bytes:
    return XadesSigner(SoftwareKey(issued.key, issued.cert)).sign_enveloped(
        document or wniosek(), signing_time=SIGNED_AT
    )


def _verifier(pki: TestPKI, core: str = "auto", crls: tuple[x509.CertificateRevocationList, ...] = ()) -> XadesVerifier:
    return XadesVerifier(
        VerifierConfig(
            trust=TrustStore.from_certificates([pki.root.cert], "katalog"),
            intermediates=(pki.qualified_ca.cert,),
            revocation=RevocationSources(crls=crls or (pki.crl([]),)),
            validation_time=NOW,
            core=core,  # type: ignore[arg-type]
        )
    )


def _xmlsec1(tmp_path: Path, pki: TestPKI, signed: bytes) -> int:
    """xmlsec1's verdict (0: valid), trusting the root, with the document's and SignedProperties' Id."""
    tool = require_tool("xmlsec1", "xmlsec1")
    (tmp_path / "root.pem").write_bytes(pki.root.cert_pem())
    (tmp_path / "ca.pem").write_bytes(pki.qualified_ca.cert_pem())
    (tmp_path / "signed.xml").write_bytes(signed)
    return subprocess.run(
        [
            tool,
            "--verify",
            "--trusted-pem",
            "root.pem",
            "--untrusted-pem",
            "ca.pem",
            "--verification-gmt-time",
            NOW.strftime("%Y-%m-%d %H:%M:%S"),
            "--id-attr:Id",
            f"{c.XADES_NS}:SignedProperties",
            "--id-attr:Id",
            f"{NS}:Dokument",
            "signed.xml",
        ],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    ).returncode


def _issue(
    pki: TestPKI, *, key: rsa.RSAPrivateKey | None = None, eku: list[x509.ObjectIdentifier] | None = None
) -> Issued:
    """A signer certificate from the qualified CA with a chosen key or extendedKeyUsage."""
    key = key or rsa.generate_private_key(65537, 2048)
    builder = (
        x509.CertificateBuilder()
        .subject_name(person_name("Ewa", "Próbna", None))
        .issuer_name(pki.qualified_ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return Issued(key, builder.sign(pki.qualified_ca.key, hashes.SHA256()))


def _signed_by(issued: Issued, jan: Issued) -> bytes:
    """Jan's signature with his certificate (KeyInfo and SigningCertificateV2) swapped for ``issued``'s, re-signed.

    xmlsec signs, so keys our signer refuses (RSA 1024) can be tried on the verifier.
    """
    root = parse(_sign(jan))
    sig = signature_of(root)
    der = issued.cert.public_bytes(serialization.Encoding.DER)
    sig.find(f".//{c.ds('X509Certificate')}").text = base64.b64encode(der).decode()
    digest = sig.find(f".//{c.xades('CertDigest')}/{c.ds('DigestValue')}")
    digest.text = base64.b64encode(issued.cert.fingerprint(hashes.SHA256())).decode()
    resign(root, issued)
    return serialize(root)


# --- the lxml core must refuse what xmlsec refuses ---------------------------------------------------------


def _duplicate_signature_value(sig: etree._Element) -> None:
    value = sig.find(c.ds("SignatureValue"))
    twin = copy.deepcopy(value)
    twin.attrib.pop("Id", None)
    value.addnext(twin)


def _foreign_element_in_signed_info(sig: etree._Element) -> None:
    etree.SubElement(sig.find(c.ds("SignedInfo")), "{urn:obcy}Dodatek").text = "x"


def _second_transforms(sig: etree._Element) -> None:
    sig.find(f".//{c.ds('Reference')}/{c.ds('Transforms')}").addnext(etree.Element(c.ds("Transforms")))


def _extra_element_in_reference(sig: etree._Element) -> None:
    etree.SubElement(sig.find(f".//{c.ds('Reference')}"), c.ds("Dodatek"))


def _key_info_first(sig: etree._Element) -> None:
    sig.insert(0, copy.deepcopy(sig.find(c.ds("KeyInfo"))))


@pytest.mark.parametrize(
    "mutate",
    [
        _duplicate_signature_value,
        _foreign_element_in_signed_info,
        _second_transforms,
        _extra_element_in_reference,
        _key_info_first,
    ],
)
def test_a_signature_outside_the_xml_dsig_schema_is_refused_by_both_cores_as_by_xmlsec1(
    mutate: Mutation, tmp_path: Path, pki: TestPKI, jan: Issued
) -> None:
    """Digests untouched and the SignatureValue re-made over the new SignedInfo: only the structure is wrong."""
    root = parse(_sign(jan))
    sig = signature_of(root)
    mutate(sig)
    signed_info = sig.find(c.ds("SignedInfo"))
    canonical = canonicalize(signed_info, signed_info.find(c.ds("CanonicalizationMethod")).get("Algorithm"))
    sig.find(c.ds("SignatureValue")).text = base64.b64encode(
        jan.key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    ).decode()
    forged = serialize(root)
    assert _xmlsec1(tmp_path, pki, forged) != 0
    for core in ("auto", "xmlsec"):
        report = _verifier(pki, core).verify(forged)
        assert not report.accepted and "NIEPRAWIDLOWA_STRUKTURA" in report.reason_codes, (core, report.render())


def test_a_signature_by_id_on_the_root_of_a_document_with_a_stylesheet_verifies_in_both_cores(
    tmp_path: Path, pki: TestPKI, jan: Issued
) -> None:
    """ "#id" selects the root element without the PI and comment before it (XML-DSig 1.1, 4.4.3.3)."""
    document = wniosek().replace(
        b"\n<wn:Dokument", b'\n<?xml-stylesheet type="text/xsl" href="styl.xsl"?>\n<!-- uwaga -->\n<wn:Dokument', 1
    )
    root = parse(_sign(jan, document))
    signature_of(root).find(f"{c.ds('SignedInfo')}/{c.ds('Reference')}").set("URI", "#Dokument-1")
    resign(root, jan)
    signed = serialize(root)
    assert _xmlsec1(tmp_path, pki, signed) == 0
    for core in ("auto", "xmlsec"):
        report = _verifier(pki, core).verify(signed)
        assert report.accepted, (core, report.render())


# --- what the signed properties claim ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "claimed",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        # ISO 8601 forms that are no xsd:dateTime (EN 319 132-1): Python's reader took them (attack pass).
        "2026-W49",
        "2026-12-05",
        "20261205T050023Z",
        "2026-12-05 05:00:23Z",
    ],
)
def test_a_signing_time_outside_the_calendar_is_a_reason_not_an_exception(
    claimed: str, pki: TestPKI, jan: Issued
) -> None:
    root = parse(_sign(jan))
    root.find(f".//{c.xades('SigningTime')}").text = claimed
    resign(root, jan)
    report = _verifier(pki).verify(serialize(root))
    assert not report.accepted and "NIEPRAWIDLOWA_STRUKTURA" in report.reason_codes, report.render()


# --- the signer's certificate and key ----------------------------------------------------------------------


def test_an_rsa_1024_signer_is_not_accepted_though_xmlsec1_checks_the_math_only(
    tmp_path: Path, pki: TestPKI, jan: Issued
) -> None:
    weak = _issue(pki, key=rsa.generate_private_key(65537, 1024))  # noqa: S505 (must be refused)
    forged = _signed_by(weak, jan)
    assert _xmlsec1(tmp_path, pki, forged) == 0
    report = _verifier(pki).verify(forged)
    assert report.intact and not report.accepted, report.render()
    assert "ZA_SLABY_KLUCZ" in report.reason_codes
    assert "2048" in report.render()


@pytest.mark.parametrize(
    "purposes",
    [[ExtendedKeyUsageOID.SERVER_AUTH], [ExtendedKeyUsageOID.TIME_STAMPING], [ExtendedKeyUsageOID.OCSP_SIGNING]],
)
def test_a_key_limited_to_tls_servers_time_stamps_or_ocsp_does_not_sign_documents(
    purposes: list[x509.ObjectIdentifier], pki: TestPKI
) -> None:
    report = _verifier(pki).verify(_sign(_issue(pki, eku=purposes)))
    assert report.intact and not report.accepted
    assert "NIEDOZWOLONE_UZYCIE_KLUCZA" in report.reason_codes, report.render()


def test_a_key_for_signing_and_tls_clients_still_signs(pki: TestPKI) -> None:
    signer = _issue(pki, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH])
    report = _verifier(pki).verify(_sign(signer))
    assert report.accepted, report.render()


# --- revocation: a CRL says "not revoked" only for what it covers -----------------------------------------


def _crl(pki: TestPKI, extension: x509.ExtensionType) -> x509.CertificateRevocationList:
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.qualified_ca.cert.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=7))
        .add_extension(x509.CRLNumber(4242), critical=False)
        .add_extension(extension, critical=True)
        .sign(pki.qualified_ca.key, hashes.SHA256())
    )


def _partition(*, ca_only: bool = False, reasons: frozenset[x509.ReasonFlags] | None = None) -> x509.ExtensionType:
    return x509.IssuingDistributionPoint(None, None, False, ca_only, reasons, False, False)


@pytest.mark.parametrize(
    "scope",
    [
        _partition(ca_only=True),
        _partition(reasons=frozenset({x509.ReasonFlags.ca_compromise})),
        x509.DeltaCRLIndicator(4241),
    ],
    ids=["only-ca-certificates", "only-some-reasons", "delta-crl"],
)
def test_a_crl_that_does_not_cover_every_revocation_of_the_signer_is_not_good(
    scope: x509.ExtensionType, pki: TestPKI
) -> None:
    """RFC 5280, 5.2.4, 5.2.5, 6.3.3: an ARL, a reason partition or a delta CRL cannot say "not revoked"."""
    signer = pki.signer("Ewa", "Próbna")
    report = _verifier(pki, crls=(_crl(pki, scope),)).verify(_sign(signer))
    assert report.revocation is not None and report.revocation.state is RevocationState.UNKNOWN, report.render()


def test_a_delta_crl_that_lists_the_signer_still_revokes(pki: TestPKI) -> None:
    signer = pki.signer("Ewa", "Próbna")
    delta = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.qualified_ca.cert.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=1))
        .add_extension(x509.DeltaCRLIndicator(1), critical=True)
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(signer.cert.serial_number)
            .revocation_date(SIGNED_AT - dt.timedelta(days=1))
            .build()
        )
        .sign(pki.qualified_ca.key, hashes.SHA256())
    )
    report = _verifier(pki, crls=(delta,)).verify(_sign(signer))
    assert "CERTYFIKAT_UNIEWAZNIONY" in report.reason_codes, report.render()


# --- the commands ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["missing-document", "directory", "garbage-crl", "missing-trust"])
def test_verify_json_prints_json_on_errors_too(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    valid = str(fixture_path("valid_enveloped.xml"))
    garbage = tmp_path / "lista.crl"
    garbage.write_bytes(b"to nie jest CRL")
    argv = {
        "missing-document": [str(tmp_path / "brak.xml")],
        "directory": [str(tmp_path)],
        "garbage-crl": ["--crl", str(garbage), valid],
        "missing-trust": ["--trust", str(tmp_path / "brak"), valid],
    }[case]
    assert cli.main(["verify", "--json", "--offline", *argv]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["accepted"] is False and data["error"]["code"]
    assert data["error"]["message"] and "Traceback" not in captured.err + captured.out
    # As every other command's --json reports an error, for scripts that read them all alike.
    assert data["blad"] == {"kod": data["error"]["code"], "komunikat": data["error"]["message"]}
    assert captured.err.startswith("Błąd: ")


def test_verify_reads_at_most_the_size_limit_of_an_endless_input(tmp_path: Path) -> None:
    """``verify`` under a 1.5 GB address-space limit: a device (/dev/zero) is refused before it is read (exit 2,
    NIEPRAWIDLOWY_PLIK), and a regular file far beyond the limit (sparse, 4 GB) is read only up to it and refused
    as too big (exit 1, DOKUMENT_ZA_DUZY); never a MemoryError."""
    huge = tmp_path / "ogromny.xml"
    with huge.open("wb") as handle:
        handle.truncate(4 * 1024**3)
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024,) * 2)\n"
        "from signing import cli\n"
        "sys.exit(cli.main(['verify', '--json', '--offline', sys.argv[1]]))\n"
    )

    def verify(path: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, path], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )

    device = verify("/dev/zero")
    assert device.returncode == 2, device.stderr
    assert json.loads(device.stdout)["blad"]["kod"] == "NIEPRAWIDLOWY_PLIK"
    too_big = verify(str(huge))
    assert too_big.returncode == 1, too_big.stderr
    assert "DOKUMENT_ZA_DUZY" in [reason["code"] for reason in json.loads(too_big.stdout)["reasons"]]
