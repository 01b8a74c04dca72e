"""Key sources: PEM (plain, encrypted, with a separate certificate) and PKCS#12."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from signing import InvalidKey, SoftwareKey, XadesSigner, XadesVerifier, load_key

from .conftest import NOW
from .documents import wniosek
from .pki import Issued, TestPKI


def _key_pem(issued: Issued, password: bytes | None = None) -> bytes:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return issued.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def test_pem_with_key_and_certificate_in_one_file(tmp_path: Path, jan: Issued, live_verifier: XadesVerifier) -> None:
    path = tmp_path / "jan.pem"
    path.write_bytes(_key_pem(jan) + jan.cert_pem())
    key = load_key(str(path))
    assert isinstance(key, SoftwareKey) and key.certificate == jan.cert
    assert live_verifier.verify(XadesSigner(key).sign_enveloped(wniosek(), signing_time=NOW)).valid


def test_encrypted_pem_needs_the_right_password(tmp_path: Path, jan: Issued) -> None:
    path = tmp_path / "jan.pem"
    path.write_bytes(_key_pem(jan, b"tajne-haslo") + jan.cert_pem())
    assert load_key(str(path), "tajne-haslo").certificate == jan.cert
    with pytest.raises(InvalidKey) as missing:
        load_key(str(path))
    assert missing.value.code == "WYMAGANE_HASLO"
    with pytest.raises(InvalidKey) as wrong:
        load_key(str(path), "zle-haslo")
    assert wrong.value.code == "ZLE_HASLO_LUB_PLIK"


def test_pem_key_with_the_certificate_in_a_separate_file(tmp_path: Path, pki: TestPKI, jan: Issued) -> None:
    key_file = tmp_path / "klucz.pem"
    key_file.write_bytes(_key_pem(jan))
    with pytest.raises(InvalidKey) as raised:
        load_key(str(key_file))
    assert raised.value.code == "BRAK_CERTYFIKATU"
    cert_file = tmp_path / "certyfikaty.pem"
    cert_file.write_bytes(pki.qualified_ca.cert_pem() + jan.cert_pem())
    key = load_key(str(key_file), certificate_file=str(cert_file))
    assert key.certificate == jan.cert and key.chain == (pki.qualified_ca.cert,)


def test_pkcs12_with_chain(tmp_path: Path, pki: TestPKI, jan: Issued) -> None:
    path = tmp_path / "jan.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"jan",
            jan.key,
            jan.cert,
            [pki.qualified_ca.cert],
            serialization.BestAvailableEncryption(b"haslo-p12"),
        )
    )
    key = load_key(str(path), "haslo-p12")
    assert key.certificate == jan.cert and key.chain == (pki.qualified_ca.cert,)
    with pytest.raises(InvalidKey) as wrong:
        load_key(str(path), "inne")
    assert wrong.value.code == "ZLE_HASLO_LUB_PLIK"


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidKey) as raised:
        load_key(str(tmp_path / "brak.pem"))
    assert raised.value.code == "BRAK_PLIKU" and "brak.pem" in raised.value.message
