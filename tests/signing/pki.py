"""The synthetic test PKI, now `signing.testpki` (the demo builds its PKI with it too); the tests keep this name."""

from signing.testpki import (
    QC_STATEMENTS_OID,
    Issued,
    PrivateKey,
    TestPKI,
    _ca_name,
    build_pki,
    new_key,
    ocsp_signing_eku,
    person_name,
    qc_statements_der,
    synthetic_pesel,
)

__all__ = [
    "QC_STATEMENTS_OID",
    "Issued",
    "PrivateKey",
    "TestPKI",
    "_ca_name",
    "build_pki",
    "new_key",
    "ocsp_signing_eku",
    "person_name",
    "qc_statements_der",
    "synthetic_pesel",
]
