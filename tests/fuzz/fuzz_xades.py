"""Fuzz target `xades`: signing/verifier.py `XadesVerifier.verify` on fuzzed documents.

The verifier is the one of tests/signing/conftest.py's committed fixtures (their root trusted, their CRL
given, the clock pinned, nothing fetched over the network), so that valid seeds go all the way to the
trust decision. Property: `verify` returns a `VerificationReport` (which can be rendered, as JSON and for
people) or raises the signing package's own errors (`SigningError` and below); nothing else escapes.

    .venv/bin/python tests/fuzz/fuzz_xades.py -max_total_time=30 corpus_dir
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from pathlib import Path

if __name__ == "__main__":  # run as a program: the repository root is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cryptography import x509

from tests.fuzz import harness

with harness.instrumented(__name__ == "__main__", "signing"):
    from signing import (
        RevocationSources,
        SigningError,
        TrustStore,
        VerificationReport,
        VerifierConfig,
        XadesVerifier,
        load_crls,
    )

FIXTURES = harness.ROOT / "tests" / "signing" / "fixtures"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # as tests/signing/conftest.py pins it
DETACHED = "valid_detached_payload.pdf"  # the file valid_detached.xml signs


def _certificate(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((FIXTURES / "pki" / name).read_bytes())


@functools.cache
def _verifier() -> XadesVerifier:
    """The verifier of the committed signing fixtures (tests/signing/conftest.py `fixture_verifier`)."""
    return XadesVerifier(
        VerifierConfig(
            trust=TrustStore.from_certificates([_certificate("root.pem")], "katalog"),
            intermediates=(_certificate("qualified_ca.pem"), _certificate("other_ca.pem")),
            revocation=RevocationSources(crls=load_crls([(FIXTURES / "crl_revoked_certificate.pem").read_bytes()])),
            validation_time=NOW,
        )
    )


@functools.cache
def _detached() -> dict[str, bytes]:
    return {DETACHED: (FIXTURES / DETACHED).read_bytes()}


def check(data: bytes) -> None:
    """Verify `data`; a report (renderable) or a `SigningError` are the only outcomes allowed."""
    try:
        report = _verifier().verify(data, detached=_detached())
    except SigningError:
        return
    if not isinstance(report, VerificationReport):
        raise harness.Finding(f"verify returned {type(report).__name__}, not a VerificationReport")
    report.to_json()
    report.render()
    try:
        report.raise_for_problems()
    except SigningError:
        pass


if __name__ == "__main__":
    harness.main("xades", check)
