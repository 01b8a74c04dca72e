"""Every fixture file, verified: its name says what must happen, this table says exactly what.

Attack fixtures (signature wrapping, foreign references, altered content, swapped certificates, DTDs...)
must fail with their specific reason code; the valid ones must pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from signing import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature, XadesVerifier

from .conftest import FIXTURES, JAN_PESEL, fixture_path


@dataclass(frozen=True)
class Expected:
    accepted: bool
    code: str | None = None  # a reason code that must be among the report's reasons
    qualified: bool = False
    intact: bool | None = None  # the cryptographic core, when the case says something about it
    exception: type[Exception] | None = None


EXPECTED: dict[str, Expected] = {
    "valid_enveloped.xml": Expected(True, qualified=True, intact=True),
    "valid_enveloped_ecdsa_p384.xml": Expected(True, qualified=True, intact=True),
    "valid_enveloped_with_chain.xml": Expected(True, qualified=True, intact=True),
    "valid_signed_by_id.xml": Expected(True, qualified=True, intact=True),
    "non_qualified_certificate.xml": Expected(True, qualified=False, intact=True),
    "document_unsigned.xml": Expected(False, "BRAK_PODPISU", exception=InvalidInput),
    "untrusted_signer.xml": Expected(False, "BRAK_ZAUFANIA", intact=True, exception=InvalidCertificate),
    "expired_certificate.xml": Expected(False, "CERTYFIKAT_WYGASL", intact=True, exception=InvalidCertificate),
    "not_yet_valid_certificate.xml": Expected(
        False, "CERTYFIKAT_JESZCZE_NIEWAZNY", intact=True, exception=InvalidCertificate
    ),
    "revoked_certificate.xml": Expected(False, "CERTYFIKAT_UNIEWAZNIONY", intact=True, exception=InvalidCertificate),
    "altered_content.xml": Expected(False, "NIEZGODNY_SKROT", intact=False, exception=InvalidDigest),
    "altered_signed_properties.xml": Expected(False, "NIEZGODNY_SKROT", intact=False, exception=InvalidDigest),
    "altered_signature_value.xml": Expected(
        False, "NIEPRAWIDLOWA_WARTOSC_PODPISU", intact=False, exception=InvalidSignature
    ),
    "xsw_moved_document.xml": Expected(
        False, "PODPISANY_ELEMENT_PRZENIESIONY", intact=True, exception=InvalidSignature
    ),
    "xsw_moved_into_signature.xml": Expected(False, "ODWOLANIE_DO_WNETRZA_PODPISU", exception=InvalidSignature),
    "xsw_duplicated_document.xml": Expected(False, "ZDUPLIKOWANY_IDENTYFIKATOR", exception=InvalidSignature),
    "xsw_wrapped_document.xml": Expected(
        False, "PODPIS_NIE_OBEJMUJE_CALEGO_DOKUMENTU", intact=True, exception=InvalidSignature
    ),
    "xsw_duplicated_signed_properties.xml": Expected(False, "ZDUPLIKOWANY_IDENTYFIKATOR", exception=InvalidSignature),
    "reference_into_signature.xml": Expected(
        False, "ODWOLANIE_DO_WNETRZA_PODPISU", intact=True, exception=InvalidSignature
    ),
    "reference_only_signed_properties.xml": Expected(False, "BRAK_ODWOLANIA_DO_DOKUMENTU", exception=InvalidSignature),
    "reference_external_file.xml": Expected(False, "ODWOLANIE_ZEWNETRZNE", intact=False, exception=InvalidSignature),
    "xslt_transform.xml": Expected(False, "NIEDOZWOLONA_TRANSFORMACJA", exception=InvalidInput),
    "two_signatures.xml": Expected(False, "WIELE_PODPISOW", exception=InvalidInput),
    "signing_certificate_mismatch.xml": Expected(
        False, "CERTYFIKAT_NIEZGODNY_Z_PODPISANYM", exception=InvalidCertificate
    ),
    "keyinfo_certificate_swapped.xml": Expected(
        False, "CERTYFIKAT_NIEZGODNY_Z_PODPISANYM", intact=False, exception=InvalidCertificate
    ),
    "signature_sha1.xml": Expected(False, "NIEOBSLUGIWANY_ALGORYTM", exception=InvalidInput),
    "doctype_external_entity.xml": Expected(False, "DOCTYPE_NIEDOZWOLONY", exception=InvalidInput),
    "doctype_billion_laughs.xml": Expected(False, "DOCTYPE_NIEDOZWOLONY", exception=InvalidInput),
    "doctype_external_dtd.xml": Expected(False, "DOCTYPE_NIEDOZWOLONY", exception=InvalidInput),
    "doctype_id_injection.xml": Expected(False, "DOCTYPE_NIEDOZWOLONY", exception=InvalidInput),
    "doctype_utf16.xml": Expected(False, "DOCTYPE_NIEDOZWOLONY", exception=InvalidInput),
}
# Files that are inputs of other tests, not documents with an outcome of their own.
SUPPORTING = {"valid_detached.xml", "valid_detached_payload.pdf", "crl_revoked_certificate.pem", "trusted_list.xml"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_outcome(name: str, fixture_verifier: XadesVerifier) -> None:
    expected = EXPECTED[name]
    report = fixture_verifier.verify(fixture_path(name).read_bytes())
    assert report.accepted is expected.accepted, report.render()
    assert report.qualified is expected.qualified, report.render()
    if expected.code is not None:
        assert expected.code in report.reason_codes, report.render()
    else:
        assert report.reasons == (), report.render()
    if expected.intact is not None:
        assert report.intact is expected.intact, report.render()
    if expected.exception is not None:
        with pytest.raises(expected.exception) as raised:
            report.raise_for_problems()
        assert raised.value.code == report.reasons[0].code
        assert raised.value.message  # a Polish sentence, not empty


def test_every_fixture_file_has_an_expected_outcome() -> None:
    files = {path.name for path in FIXTURES.iterdir() if path.is_file()}
    assert files == set(EXPECTED) | SUPPORTING


def test_valid_report_names_the_signer_and_what_is_covered(fixture_verifier: XadesVerifier) -> None:
    report = fixture_verifier.verify(fixture_path("valid_enveloped.xml").read_bytes())
    assert report.signer == "Jan Testowy"
    assert report.pesel == JAN_PESEL
    assert report.coverage.whole_document
    assert report.coverage.elements == ()
    assert report.signing_time is not None and report.signing_time.isoformat() == "2026-11-20T10:00:00+00:00"
    assert report.certificate is not None
    assert report.certificate.qc_compliance and report.certificate.qc_sscd and report.certificate.qc_esign
    assert report.certificate.non_repudiation
    assert report.chain == ("Jan Testowy", "Testowe Kwalifikowane CA 2026", "Testowy Narodowy Root CA")
    assert report.revocation is not None and report.revocation.state.value == "GOOD"


def test_non_qualified_certificate_is_valid_but_says_why_not_qualified(fixture_verifier: XadesVerifier) -> None:
    report = fixture_verifier.verify(fixture_path("non_qualified_certificate.xml").read_bytes())
    assert report.accepted and not report.qualified
    warning = next(w for w in report.warnings if w.code == "CERTYFIKAT_NIEKWALIFIKOWANY")
    assert "QcCompliance" in warning.message and "niezaprzeczalność" in warning.message
    assert report.pesel is None


def test_wrapped_document_reports_the_signed_part(fixture_verifier: XadesVerifier) -> None:
    report = fixture_verifier.verify(fixture_path("xsw_wrapped_document.xml").read_bytes())
    assert not report.coverage.whole_document
    assert report.coverage.elements == ("/Pakiet/Dokument",)


def test_detached_fixture_verifies_with_its_payload_only(fixture_verifier: XadesVerifier) -> None:
    signature = fixture_path("valid_detached.xml").read_bytes()
    payload = fixture_path("valid_detached_payload.pdf").read_bytes()
    good = fixture_verifier.verify(signature, detached=payload)
    assert good.accepted and good.coverage.detached == ("valid_detached_payload.pdf",)
    altered = fixture_verifier.verify(signature, detached=payload[:-1] + b"\x00")
    assert not altered.accepted and "NIEZGODNY_SKROT" in altered.reason_codes
    missing = fixture_verifier.verify(signature)
    assert "BRAK_DANYCH_ZEWNETRZNYCH" in missing.reason_codes


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fast_core_and_xmlsec_core_agree(name: str, fixture_verifier: XadesVerifier) -> None:
    """The lxml-C14N fast path and xmlsec's own reference processing reach the same verdict."""
    import dataclasses

    xmlsec_only = XadesVerifier(dataclasses.replace(fixture_verifier.config, core="xmlsec"))
    data = fixture_path(name).read_bytes()
    fast, reference = fixture_verifier.verify(data), xmlsec_only.verify(data)
    assert (fast.intact, fast.valid, fast.trusted) == (reference.intact, reference.valid, reference.trusted)
    assert set(fast.reason_codes) == set(reference.reason_codes)
