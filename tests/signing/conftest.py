"""Fixtures of the signing tests: a synthetic PKI, pinned clocks, and no network beyond loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pytest_socket import enable_socket, socket_allow_hosts

from signing import RevocationSources, TrustStore, VerifierConfig, XadesVerifier, load_crls

from .pki import Issued, TestPKI, build_pki, synthetic_pesel

FIXTURES = Path(__file__).parent / "fixtures"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
JAN_PESEL = synthetic_pesel(dt.date(1985, 3, 15), 123, female=False)
P12_PASSWORD = "haslo-p12"


def fixture_path(name: str) -> Path:
    """The path of a fixture file, resolved from this file."""
    return FIXTURES / name


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    """No test reaches the network; servers on 127.0.0.1 (online CRL/OCSP tests) are allowed."""
    socket_allow_hosts(["127.0.0.1", "::1", "localhost"], allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    """A fresh root and qualified CA for tests that sign live."""
    return build_pki(NOW)


@pytest.fixture(scope="session")
def jan(pki: TestPKI) -> Issued:
    """Jan Testowy: a qualified RSA-2048 signer with a PESEL."""
    return pki.signer("Jan", "Testowy", pesel=JAN_PESEL)


@pytest.fixture(scope="session")
def jan_p12(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI, jan: Issued) -> Path:
    """Jan's key in a PKCS#12 file with the whole chain, root first (the order some CAs export it in)."""
    path = tmp_path_factory.mktemp("p12") / "jan.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"jan",
            jan.key,
            jan.cert,
            [pki.root.cert, pki.qualified_ca.cert],
            serialization.BestAvailableEncryption(P12_PASSWORD.encode()),
        )
    )
    path.chmod(0o600)  # `platforma sign` refuses a key others may read, as ssh does
    return path


@pytest.fixture(scope="session")
def live_trust(pki: TestPKI) -> TrustStore:
    return TrustStore.from_certificates([pki.root.cert], "katalog")


@pytest.fixture(scope="session")
def live_verifier(pki: TestPKI, live_trust: TrustStore) -> XadesVerifier:
    """A verifier trusting the live PKI's root, with an empty CRL of the qualified CA."""
    return XadesVerifier(
        VerifierConfig(
            trust=live_trust,
            intermediates=(pki.qualified_ca.cert,),
            revocation=RevocationSources(crls=(pki.crl([]),)),
            validation_time=NOW,
        )
    )


def fixture_certificate(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(fixture_path(f"pki/{name}").read_bytes())


@pytest.fixture(scope="session")
def fixture_verifier() -> XadesVerifier:
    """A verifier for the committed fixtures: their root trusted, their CRL supplied, clock pinned."""
    return XadesVerifier(
        VerifierConfig(
            trust=TrustStore.from_certificates([fixture_certificate("root.pem")], "katalog"),
            intermediates=(fixture_certificate("qualified_ca.pem"), fixture_certificate("other_ca.pem")),
            revocation=RevocationSources(crls=load_crls([fixture_path("crl_revoked_certificate.pem").read_bytes()])),
            validation_time=NOW,
        )
    )
