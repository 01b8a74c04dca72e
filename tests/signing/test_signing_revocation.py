"""Revocation: CRLs and OCSP responses given by the caller or fetched (from a loopback server)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization

from signing import (
    RevocationSources,
    RevocationState,
    SoftwareKey,
    TrustStore,
    VerificationReport,
    VerifierConfig,
    XadesSigner,
    XadesVerifier,
)

from .conftest import NOW
from .documents import wniosek
from .pki import Issued, TestPKI, build_pki

SIGNED_AT = NOW - dt.timedelta(days=3)


def _verify(pki: TestPKI, signer: Issued, **sources: object) -> VerificationReport:
    signed = XadesSigner(SoftwareKey(signer.key, signer.cert)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    config = VerifierConfig(
        trust=TrustStore.from_certificates([pki.root.cert]),
        intermediates=(pki.qualified_ca.cert,),
        revocation=RevocationSources(**sources),  # type: ignore[arg-type]
        validation_time=NOW,
    )
    return XadesVerifier(config).verify(signed)


def test_ocsp_good(pki: TestPKI, jan: Issued) -> None:
    report = _verify(pki, jan, ocsp_responses=(pki.ocsp_response(jan.cert),))
    assert report.accepted
    assert report.revocation is not None
    assert (report.revocation.state, report.revocation.source) == (RevocationState.GOOD, "OCSP")


def test_ocsp_revoked_before_signing(pki: TestPKI) -> None:
    signer = pki.signer()
    report = _verify(
        pki, signer, ocsp_responses=(pki.ocsp_response(signer.cert, revoked_at=SIGNED_AT - dt.timedelta(days=1)),)
    )
    assert not report.valid and "CERTYFIKAT_UNIEWAZNIONY" in report.reason_codes
    assert report.revocation is not None and report.revocation.source == "OCSP"


def test_ocsp_unknown_is_a_note_not_a_failure(pki: TestPKI, jan: Issued) -> None:
    report = _verify(pki, jan, ocsp_responses=(pki.ocsp_response(jan.cert, unknown=True),))
    assert report.accepted
    assert "STATUS_UNIEWAZNIENIA_NIEZNANY" in [w.code for w in report.warnings]


def test_forged_answers_are_ignored(pki: TestPKI) -> None:
    """An OCSP response or a CRL signed by someone other than the issuer carries no weight."""
    signer = pki.signer()
    forger = build_pki(NOW, root_cn="Fałszerz Root", ca_cn="Fałszerz CA")
    forged_ocsp = forger.ocsp_response(signer.cert, issuer=forger.qualified_ca)
    forged_crl = forger.crl([(signer.cert, SIGNED_AT - dt.timedelta(days=1))])
    report = _verify(pki, signer, ocsp_responses=(forged_ocsp,), crls=(forged_crl,))
    assert report.accepted
    assert report.revocation is not None and report.revocation.state is RevocationState.UNKNOWN


@pytest.mark.parametrize("with_eku", [True, False])
def test_delegated_ocsp_responder_needs_the_ocsp_signing_purpose(pki: TestPKI, with_eku: bool) -> None:
    signer = pki.signer()
    responder = pki.ocsp_responder(with_eku=with_eku)
    answer = pki.ocsp_response(signer.cert, revoked_at=SIGNED_AT - dt.timedelta(days=1), responder=responder)
    report = _verify(pki, signer, ocsp_responses=(answer,))
    assert ("CERTYFIKAT_UNIEWAZNIONY" in report.reason_codes) is with_eku


def test_stale_crl_gives_unknown_status(pki: TestPKI, jan: Issued) -> None:
    stale = pki.crl([], this_update=NOW - dt.timedelta(days=20), next_update=NOW - dt.timedelta(days=10))
    report = _verify(pki, jan, crls=(stale,))
    assert report.revocation is not None and report.revocation.state is RevocationState.UNKNOWN
    assert report.revocation.note is not None and "nieaktualna" in report.revocation.note


def test_revocation_after_the_claimed_signing_time(pki: TestPKI) -> None:
    """B-B has no proof of when it was made: strict by default, a note when the claimed time is trusted."""
    signer = pki.signer()
    crl = pki.crl([(signer.cert, SIGNED_AT + dt.timedelta(days=1))])
    strict = _verify(pki, signer, crls=(crl,))
    assert "CERTYFIKAT_UNIEWAZNIONY" in strict.reason_codes and "znacznika czasu" in strict.render()
    signed = XadesSigner(SoftwareKey(signer.key, signer.cert)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)
    lenient = XadesVerifier(
        VerifierConfig(
            trust=TrustStore.from_certificates([pki.root.cert]),
            intermediates=(pki.qualified_ca.cert,),
            revocation=RevocationSources(crls=(crl,)),
            validation_time=NOW,
            trust_claimed_signing_time=True,
        )
    ).verify(signed)
    assert lenient.accepted
    assert "UNIEWAZNIONY_PO_PODPISIE" in [w.code for w in lenient.warnings]


# --- fetched over the network (a server on loopback) -----------------------------------------------------


@dataclasses.dataclass
class Responder:
    """What the loopback server answers, and what it was asked."""

    crl: bytes = b""
    ocsp: bytes | None = None
    requests: list[str] = dataclasses.field(default_factory=list)


@pytest.fixture
def responder() -> Iterator[tuple[Responder, str]]:
    state = Responder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            state.requests.append(f"GET {self.path}")
            self._answer(200, state.crl, "application/pkix-crl")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(f"POST {self.path}")
            if state.ocsp is None:
                self._answer(500, b"", "text/plain")
            else:
                self._answer(200, state.ocsp, "application/ocsp-response")

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_online_ocsp_then_crl(responder: tuple[Responder, str]) -> None:
    state, base = responder
    pki = build_pki(NOW, crl_url=f"{base}/ca.crl", ocsp_url=f"{base}/ocsp")
    signer = pki.signer()
    state.ocsp = pki.ocsp_response(signer.cert)
    state.crl = pki.crl([(signer.cert, SIGNED_AT - dt.timedelta(days=1))]).public_bytes(serialization.Encoding.DER)
    good = _verify(pki, signer, online=True, timeout=2.0)
    assert good.revocation is not None and good.revocation.source == "OCSP" and good.accepted
    assert state.requests == ["POST /ocsp"]
    state.ocsp = None  # the responder fails: the CRL is fetched and says "revoked"
    revoked = _verify(pki, signer, online=True, timeout=2.0)
    assert "CERTYFIKAT_UNIEWAZNIONY" in revoked.reason_codes
    assert revoked.revocation is not None and revoked.revocation.source == "CRL"
    assert state.requests[-2:] == ["POST /ocsp", "GET /ca.crl"]


def test_offline_fetches_nothing(responder: tuple[Responder, str]) -> None:
    state, base = responder
    pki = build_pki(NOW, crl_url=f"{base}/ca.crl", ocsp_url=f"{base}/ocsp")
    report = _verify(pki, pki.signer(), online=False)
    assert report.revocation is not None and report.revocation.state is RevocationState.UNKNOWN
    assert state.requests == []
