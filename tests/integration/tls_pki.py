"""A small test PKI made with `cryptography`: a CA, a server certificate for 127.0.0.1, client certificates."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Powiat testowy"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write(directory: Path, stem: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    (directory / f"{stem}.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (directory / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def make_pki(directory: Path, clients: tuple[str, ...]) -> None:
    """Write ca.pem, server.pem/.key (CN and SAN 127.0.0.1) and <cn>.pem/.key for each client, plus rogue.*."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Testowe CA platformy"))
        .issuer_name(_name("Testowe CA platformy"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    _write(directory, "ca", ca_key, ca)

    def issue(
        common_name: str,
        usage: x509.ObjectIdentifier,
        issuer_key: ec.EllipticCurvePrivateKey,
        issuer: x509.Certificate | None,
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(issuer.subject if issuer else _name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
        return key, builder.sign(issuer_key, hashes.SHA256())

    key, cert = issue("127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH, ca_key, ca)
    _write(directory, "server", key, cert)
    for client in clients:
        key, cert = issue(client, ExtendedKeyUsageOID.CLIENT_AUTH, ca_key, ca)
        _write(directory, client, key, cert)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    key, cert = issue(clients[0], ExtendedKeyUsageOID.CLIENT_AUTH, rogue_key, None)  # self-issued, same CN
    _write(directory, "rogue", rogue_key, cert)
