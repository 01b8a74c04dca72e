"""A CRL (or OCSP answer) of the signer's issuer past its nextUpdate cannot establish the signer's status
(RFC 5280, 6.3; ETSI EN 319 102-1: INDETERMINATE): the signature is not accepted, with the reason naming
the nextUpdate, as a revoked one is not. A status nobody supplied anything for stays a note."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

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
    cli,
    load_crls,
)

from .conftest import NOW
from .documents import wniosek
from .pki import Issued, TestPKI

SIGNED_AT = NOW - dt.timedelta(days=3)
STALE_UNTIL = NOW - dt.timedelta(days=10)
CODE = "STATUS_UNIEWAZNIENIA_NIEUSTALONY"


def signed_by(signer: Issued) -> bytes:
    return XadesSigner(SoftwareKey(signer.key, signer.cert)).sign_enveloped(wniosek(), signing_time=SIGNED_AT)


def verify(pki: TestPKI, signed: bytes, **sources: object) -> VerificationReport:
    """As the hub's documents service builds its verifier (`open_documents`): anchors and CRLs, nothing more."""
    config = VerifierConfig(
        trust=TrustStore.from_certificates([pki.root.cert]),
        intermediates=(pki.qualified_ca.cert,),
        revocation=RevocationSources(**sources),  # type: ignore[arg-type]
        validation_time=NOW,
    )
    return XadesVerifier(config).verify(signed)


def stale_crl(pki: TestPKI) -> bytes:
    crl = pki.crl([], this_update=NOW - dt.timedelta(days=20), next_update=STALE_UNTIL)
    return crl.public_bytes(serialization.Encoding.PEM)


def test_a_stale_crl_of_the_signers_issuer_makes_the_signature_not_accepted(pki: TestPKI, jan: Issued) -> None:
    report = verify(pki, signed_by(jan), crls=load_crls([stale_crl(pki)]))
    assert not report.accepted and not report.valid
    assert report.reason_codes == (CODE,)
    message = report.reasons[0].message
    assert "nieaktualna" in message and f"{STALE_UNTIL:%Y-%m-%d %H:%M} UTC" in message
    assert report.revocation is not None and report.revocation.state is RevocationState.UNKNOWN
    assert report.revocation.stale


def test_it_is_refused_as_a_revoked_one_is(pki: TestPKI) -> None:
    """The documents service refuses an upload whose report has reasons (`Documents._verify`): a stale CRL
    gives one, of the certificate kind, as a revocation does."""
    signer = pki.signer()
    revoked = verify(pki, signed_by(signer), crls=(pki.crl([(signer.cert, SIGNED_AT - dt.timedelta(days=1))]),))
    stale = verify(pki, signed_by(signer), crls=load_crls([stale_crl(pki)]))
    assert revoked.reasons and stale.reasons
    assert type(stale.reasons[0].exception()) is type(revoked.reasons[0].exception())


def test_a_fresh_crl_beside_the_stale_one_settles_it(pki: TestPKI, jan: Issued) -> None:
    for crls in ((load_crls([stale_crl(pki)])[0], pki.crl([])), (pki.crl([]), load_crls([stale_crl(pki)])[0])):
        report = verify(pki, signed_by(jan), crls=crls)
        assert report.accepted, report.render()


def test_a_stale_ocsp_answer_is_refused_too(pki: TestPKI, jan: Issued) -> None:
    answer = pki.ocsp_response(jan.cert, this_update=NOW - dt.timedelta(days=3))  # valid for one day
    report = verify(pki, signed_by(jan), ocsp_responses=(answer,))
    assert not report.accepted and report.reason_codes == (CODE,)
    assert "odpowiedź OCSP jest nieaktualna" in report.reasons[0].message


def test_no_revocation_data_at_all_stays_a_note(pki: TestPKI, jan: Issued) -> None:
    """A hub without `signature_crls` checks no revocation (docs/signing.md): a note, as before."""
    report = verify(pki, signed_by(jan))
    assert report.accepted
    assert "STATUS_UNIEWAZNIENIA_NIEZNANY" in [warning.code for warning in report.warnings]


@pytest.fixture
def files(tmp_path: Path, pki: TestPKI, jan: Issued) -> dict[str, Path]:
    trust = tmp_path / "zaufane"
    trust.mkdir()
    (trust / "root.pem").write_bytes(pki.root.cert_pem())
    paths = {"trust": trust, "ca": tmp_path / "ca.pem", "doc": tmp_path / "podpisany.xml"}
    paths["ca"].write_bytes(pki.qualified_ca.cert_pem())
    paths["doc"].write_bytes(signed_by(jan))
    paths["stale"] = tmp_path / "stara.crl"
    paths["stale"].write_bytes(stale_crl(pki))
    paths["fresh"] = tmp_path / "aktualna.crl"
    paths["fresh"].write_bytes(pki.crl([]).public_bytes(serialization.Encoding.PEM))
    return paths


def test_platforma_verify_reports_a_stale_crl_as_not_verified(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["verify", "--trust", str(files["trust"]), "--intermediate", str(files["ca"])]
    base += ["--time", NOW.isoformat(), "--offline", "--json"]
    assert cli.main([*base, "--crl", str(files["fresh"]), str(files["doc"])]) == 0
    capsys.readouterr()
    assert cli.main([*base, "--crl", str(files["stale"]), str(files["doc"])]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is False
    assert [reason["code"] for reason in data["reasons"]] == [CODE]
    assert f"{STALE_UNTIL:%Y-%m-%d %H:%M} UTC" in data["reasons"][0]["message"]


def test_the_demos_crl_outlives_its_certificates_and_a_stale_one_in_a_reused_folder_is_named(
    tmp_path: Path, pki: TestPKI
) -> None:
    """A demo folder used again days later must not start refusing every signature: its CRL speaks until the
    certificates it covers expire; a folder holding a stale one (made by an earlier build) is refused by name."""
    from contract.errors import ConfigurationError
    from demo.documents import CRLS, _write_pki, check_crls

    _write_pki(tmp_path, 1, [], [])
    (crl,) = load_crls([(tmp_path / CRLS / "ca.crl").read_bytes()])
    assert crl.next_update_utc is not None
    assert crl.next_update_utc >= dt.datetime.now(dt.UTC) + dt.timedelta(days=300)
    check_crls(tmp_path)
    check_crls(tmp_path, crl.next_update_utc - dt.timedelta(minutes=1))
    (tmp_path / CRLS / "ca.crl").write_bytes(stale_crl(pki))
    with pytest.raises(ConfigurationError) as refused:
        check_crls(tmp_path, NOW)
    assert "ca.crl" in refused.value.message and f"{STALE_UNTIL:%Y-%m-%d %H:%M} UTC" in refused.value.message
