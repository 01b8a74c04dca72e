"""Reading a signer's certificate: name, PESEL from serialNumber, QCStatements, key usage."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from signing.certificates import QC_STATEMENTS, describe, pesel_from_serial_number, read_qc_statements

from .conftest import JAN_PESEL, NOW
from .pki import TestPKI, new_key, qc_statements_der


@pytest.mark.parametrize(
    ("serial_number", "pesel"),
    [
        (f"PNOPL-{JAN_PESEL}", JAN_PESEL),
        (f"pnopl-{JAN_PESEL}", JAN_PESEL),
        (f"PNOPL-{JAN_PESEL[:-1]}{(int(JAN_PESEL[-1]) + 1) % 10}", None),  # wrong check digit
        (f"IDCPL-{JAN_PESEL}", None),  # an identity card number, not a PESEL
        ("TINPL-0000000000", None),
        (None, None),
    ],
)
def test_pesel_only_from_a_valid_pnopl_serial_number(serial_number: str | None, pesel: str | None) -> None:
    assert pesel_from_serial_number(serial_number) == pesel


def test_qualified_certificate_facts(pki: TestPKI) -> None:
    facts = describe(pki.signer("Anna", "Próbna", pesel=JAN_PESEL).cert)
    assert (facts.signer_name, facts.given_name, facts.surname, facts.pesel) == (
        "Anna Próbna",
        "Anna",
        "Próbna",
        JAN_PESEL,
    )
    assert facts.qc_compliance and facts.qc_sscd and facts.qc_esign and facts.non_repudiation
    assert facts.qualified_for_esignature
    assert "serialNumber=PNOPL-" in facts.subject


def _with_qc(pki: TestPKI, der: bytes) -> x509.Certificate:
    key = new_key("p256")
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Test")]))
        .issuer_name(pki.qualified_ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(99)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(x509.UnrecognizedExtension(QC_STATEMENTS, der), critical=False)
        .sign(pki.qualified_ca.key, hashes.SHA256())
    )


def test_qc_statements_for_a_seal_are_not_esign(pki: TestPKI) -> None:
    statements = read_qc_statements(_with_qc(pki, qc_statements_der(types=("eseal",))))
    assert statements is not None and statements.compliance and not statements.esign


def test_qc_statements_without_sscd(pki: TestPKI) -> None:
    facts = describe(_with_qc(pki, qc_statements_der(sscd=False)))
    assert facts.qc_compliance and not facts.qc_sscd and not facts.qualified_for_esignature


def test_unreadable_qc_statements_count_as_none(pki: TestPKI) -> None:
    assert read_qc_statements(_with_qc(pki, b"\x30\x05\x30\x03\x06\x01")) is None
    assert describe(_with_qc(pki, b"\x04\x00")).qc_compliance is False
