"""TLS files of the wrong kind stop `serve` with one Polish line naming the configuration's field, before
OpenSSL reads them (attack pass: English OpenSSL lists and exit 3, and an encrypted key made OpenSSL ask for a
pass phrase on the terminal)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from contract.errors import ConfigurationError
from hub.settings import HubSettings
from hub.soap.server import tls_options

PEM = serialization.Encoding.PEM


def key_and_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, certificate_path = directory / f"{name}.key", directory / f"{name}.pem"
    key_path.write_bytes(key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    certificate_path.write_bytes(certificate.public_bytes(PEM))
    return key_path, certificate_path


def settings(tmp_path: Path, **files: Path) -> HubSettings:
    raw = {
        "name": "Hub",
        "database": f"sqlite:///{tmp_path}/hub.sqlite",
        "audit_database": f"sqlite:///{tmp_path}/a.sqlite",
    }
    return HubSettings.model_validate({**raw, **{k: str(v) for k, v in files.items()}})


def test_good_files_make_tls_options(tmp_path: Path) -> None:
    key, certificate = key_and_certificate(tmp_path, "hub")
    assert tls_options(settings(tmp_path, tls_key=key, tls_certificate=certificate, client_ca=certificate)) is not None


@pytest.mark.parametrize(
    "case", ["garbage certificate", "key of another", "certificate as key", "encrypted key", "garbage CA"]
)
def test_a_tls_file_of_the_wrong_kind_is_one_line_naming_the_field(tmp_path: Path, case: str) -> None:
    key, certificate = key_and_certificate(tmp_path, "hub")
    other_key, _ = key_and_certificate(tmp_path, "inny")
    garbage = tmp_path / "smieci.pem"
    garbage.write_bytes(b"to nie jest PEM\n")
    encrypted = tmp_path / "zaszyfrowany.key"
    loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
    encrypted.write_bytes(
        loaded.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"haslo"))
    )
    files, field = {
        "garbage certificate": ({"tls_key": key, "tls_certificate": garbage}, "tls_certificate"),
        "key of another": ({"tls_key": other_key, "tls_certificate": certificate}, "tls_key"),
        "certificate as key": ({"tls_key": certificate, "tls_certificate": certificate}, "tls_key"),
        "encrypted key": ({"tls_key": encrypted, "tls_certificate": certificate}, "tls_key"),
        "garbage CA": ({"tls_key": key, "tls_certificate": certificate, "client_ca": garbage}, "client_ca"),
    }[case]
    with pytest.raises(ConfigurationError) as refused:
        tls_options(settings(tmp_path, **files), "platforma.toml:")
    message = refused.value.message
    assert message.startswith(f"platforma.toml:hub.{field}: ") and "\n" not in message
    assert "PEM routines" not in message and "Error" not in message
