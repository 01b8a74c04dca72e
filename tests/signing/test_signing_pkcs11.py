"""Keys in a PKCS#11 token: SoftHSM2 (Debian package ``softhsm2``), keys generated inside the token.

Without softhsm2 these tests fail under CI=true (naming the tool) and skip locally.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from signing import InvalidKey, TrustStore, VerifierConfig, XadesSigner, XadesVerifier, load_key
from signing.cli import main as cli_main
from signing.pkcs11_key import TokenKey, parse_pkcs11_uri
from tests.conftest import require_tool

from .conftest import NOW
from .documents import wniosek
from .pki import TestPKI
from .test_signing_chain import keyinfo_certificates

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "1234"
LABEL = "Podpis-Test"


@dataclass(frozen=True)
class Token:
    rsa_uri: str
    ec_uri: str
    ec_cert_file: Path


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[Token]:
    """A SoftHSM2 token with an RSA key (its certificate stored beside it) and an EC P-256 key."""
    tool = require_tool("softhsm2-util", "softhsm2")
    if not MODULE.exists():
        message = f"the SoftHSM2 PKCS#11 module {MODULE} is missing (Debian package 'softhsm2')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    import pkcs11
    from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    config = directory / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    subprocess.run(
        [tool, "--init-token", "--free", "--label", LABEL, "--so-pin", "87654321", "--pin", PIN],
        check=True,
        capture_output=True,
    )
    library = pkcs11.lib(str(MODULE))
    private = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False}
    with library.get_token(token_label=LABEL).open(rw=True, user_pin=PIN) as session:
        rsa_public, _ = session.generate_keypair(
            KeyType.RSA, 2048, label="jan-rsa", id=b"\x01", store=True, private_template=private
        )
        public_key = rsa.RSAPublicNumbers(
            int.from_bytes(rsa_public[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(rsa_public[Attribute.MODULUS], "big"),
        ).public_key()
        rsa_cert = pki.signer("Jan", "Testowy", public_key=public_key).cert
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: "jan-rsa",
                Attribute.ID: b"\x01",
                Attribute.SUBJECT: rsa_cert.subject.public_bytes(),
                Attribute.VALUE: rsa_cert.public_bytes(serialization.Encoding.DER),
            }
        )
        # The CA certificates, as a card from a qualified trust service provider holds them.
        for label, authority in (("root", pki.root.cert), ("ca-kwalifikowane", pki.qualified_ca.cert)):
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.LABEL: label,
                    Attribute.SUBJECT: authority.subject.public_bytes(),
                    Attribute.VALUE: authority.public_bytes(serialization.Encoding.DER),
                }
            )
        parameters = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
        )
        ec_public, _ = parameters.generate_keypair(label="jan-ec", id=b"\x02", store=True, private_template=private)
        ec_key = serialization.load_der_public_key(encode_ec_public_key(ec_public))
        ec_cert = pki.signer("Jan", "Testowy", public_key=ec_key).cert  # type: ignore[arg-type]
    cert_file = directory / "jan-ec.pem"
    cert_file.write_bytes(ec_cert.public_bytes(serialization.Encoding.PEM))
    base = f"pkcs11:token={LABEL};object=%s?module-path={MODULE}"
    yield Token(rsa_uri=base % "jan-rsa", ec_uri=base % "jan-ec", ec_cert_file=cert_file)
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def test_rsa_key_in_the_token_signs_and_never_leaves_it(token: Token, live_verifier: XadesVerifier) -> None:
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    key = load_key(token.rsa_uri, PIN)
    assert isinstance(key, TokenKey)
    with key:
        signed = XadesSigner(key).sign_enveloped(wniosek(), signing_time=NOW)
    report = live_verifier.verify(signed)
    assert report.accepted and report.qualified, report.render()
    library = pkcs11.lib(str(MODULE))
    with library.get_token(token_label=LABEL).open(user_pin=PIN) as session:
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="jan-rsa")
        assert private[Attribute.SENSITIVE] is True and private[Attribute.EXTRACTABLE] is False
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            private[Attribute.PRIVATE_EXPONENT]


def test_a_token_key_signs_with_the_ca_certificates_the_token_holds(token: Token, pki: TestPKI) -> None:
    """KeyInfo carries the signer's certificate and the qualified CA from the token, not the root (item 15)."""
    with load_key(token.rsa_uri, PIN) as key:  # type: ignore[attr-defined]
        signed = XadesSigner(key).sign_enveloped(wniosek(), signing_time=NOW)
    assert keyinfo_certificates(signed)[1:] == [pki.qualified_ca.cert]
    only_root = XadesVerifier(VerifierConfig(trust=TrustStore.from_certificates([pki.root.cert]), validation_time=NOW))
    report = only_root.verify(signed)
    assert report.accepted and report.qualified, report.render()


def test_ec_key_in_the_token_with_the_certificate_from_a_file(token: Token, live_verifier: XadesVerifier) -> None:
    with load_key(token.ec_uri, PIN, str(token.ec_cert_file)) as key:  # type: ignore[attr-defined]
        signed = XadesSigner(key).sign_enveloped(wniosek(), signing_time=NOW)
    assert live_verifier.verify(signed).accepted


def test_wrong_pin_and_unknown_token(token: Token) -> None:
    with pytest.raises(InvalidKey) as wrong_pin:
        load_key(token.rsa_uri, "0000")
    assert wrong_pin.value.code == "ZLY_PIN"
    with pytest.raises(InvalidKey) as unknown:
        load_key(token.rsa_uri.replace(LABEL, "Nieistniejacy"), PIN)
    assert unknown.value.code == "BRAK_TOKENU"


def test_cli_signs_with_a_token_uri(token: Token, tmp_path: Path, live_verifier: XadesVerifier) -> None:
    document = tmp_path / "wniosek.xml"
    document.write_bytes(wniosek())
    out = tmp_path / "podpisany.xml"
    assert cli_main(["sign", "--key", token.rsa_uri, "--password", PIN, "--out", str(out), str(document)]) == 0
    report = live_verifier.verify(out.read_bytes())
    # The CLI stamps the real current time; only the signature itself is checked here.
    assert report.intact and report.signer == "Jan Testowy"


def test_uri_parsing(tmp_path: Path) -> None:
    pin_file = tmp_path / "pin.txt"
    pin_file.write_text("4321\n")
    uri = parse_pkcs11_uri(
        f"pkcs11:token=Karta%20KIR;object=podpis;id=%01%02?module-path=/usr/lib/x.so&pin-source=file:{pin_file}"
    )
    assert (uri.token, uri.object, uri.id, uri.module_path, uri.pin) == (
        "Karta KIR",
        "podpis",
        b"\x01\x02",
        "/usr/lib/x.so",
        "4321",
    )
    with pytest.raises(InvalidKey) as no_module:
        load_key("pkcs11:token=X;object=y", "1234")
    assert no_module.value.code == "BRAK_MODULU_PKCS11"


def test_two_keys_of_one_token_open_at_once_and_closing_one_leaves_the_other_signing(
    token: Token, live_verifier: XadesVerifier
) -> None:
    """Login belongs to the process and the token, not to a session (PKCS#11 v2.40, 5.6): the second key's
    C_Login was CKR_USER_ALREADY_LOGGED_IN, and closing the first key (C_Logout) logged the second out."""
    first = load_key(token.rsa_uri, PIN)
    second = load_key(token.ec_uri, PIN, str(token.ec_cert_file))
    with pytest.raises(InvalidKey) as other_pin:
        load_key(token.rsa_uri, "0000")  # the token is logged in already: a wrong PIN is still wrong
    assert other_pin.value.code == "ZLY_PIN"
    first.close()  # type: ignore[attr-defined]
    with second:  # type: ignore[attr-defined]
        signed = XadesSigner(second).sign_enveloped(wniosek(), signing_time=NOW)
    assert live_verifier.verify(signed).accepted


def test_keys_of_one_module_sign_from_many_threads_at_once(token: Token, live_verifier: XadesVerifier) -> None:
    """The module was initialised without CKF_OS_LOCKING_OK: its calls are serialised per module, so the keys
    of one token (two sessions) sign from request threads at once and every signature verifies."""
    keys = [load_key(token.rsa_uri, PIN), load_key(token.ec_uri, PIN, str(token.ec_cert_file))]
    signers = [XadesSigner(key) for key in keys]
    barrier = threading.Barrier(8)

    def sign(index: int) -> bytes:
        barrier.wait()
        return signers[index % 2].sign_enveloped(wniosek(), signing_time=NOW)

    try:
        with ThreadPoolExecutor(8) as pool:
            signed = list(pool.map(sign, range(8)))
    finally:
        for key in keys:
            key.close()  # type: ignore[attr-defined]
    assert all(live_verifier.verify(document).accepted for document in signed)
