"""TLS client certificates checked against a CRL file (``signing.tls_revocation``), over real handshakes.

The handshakes are pyOpenSSL connections talking through memory buffers, as the hub's would over a
socket; the hub itself is tested in ``tests/integration/test_tls_revocation.py``. The PKI is invented.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from OpenSSL import SSL
from OpenSSL.crypto import X509

from signing import InvalidInput
from signing.tls_revocation import ClientRevocation

NOW = dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Holder:
    """A key and its certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Powiat testowy"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def issue(common_name: str, issuer: Holder | None, *, ca: bool = False, usage: str = "client") -> Holder:
    """A certificate for ``common_name`` (self-signed without ``issuer``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.cert.subject if issuer else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        eku = ExtendedKeyUsageOID.CLIENT_AUTH if usage == "client" else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    return Holder(key, builder.sign(issuer.key if issuer else key, hashes.SHA256()))


def crl_of(
    issuer: Holder, revoked: tuple[x509.Certificate, ...] = (), *, next_update: dt.datetime | None = None
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(next_update or NOW + dt.timedelta(days=7))
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(NOW).build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


def write_crls(path: Path, *crls: x509.CertificateRevocationList, der: bool = False) -> None:
    """Write the CRLs as PEM (or the one CRL as DER), as a CA's cron job would: a new file renamed over the old."""
    encoding = serialization.Encoding.DER if der else serialization.Encoding.PEM
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(b"".join(crl.public_bytes(encoding) for crl in crls))
    os.replace(temporary, path)


@dataclass(frozen=True)
class Pki:
    root: Holder
    server: Holder
    first: Holder
    second: Holder
    ca_file: Path
    crl_file: Path


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    root = issue("Testowe CA systemów", None, ca=True)
    ca_file = tmp_path / "client-ca.pem"
    ca_file.write_bytes(root.cert.public_bytes(serialization.Encoding.PEM))
    crl_file = tmp_path / "client.crl"
    write_crls(crl_file, crl_of(root))
    return Pki(
        root,
        issue("127.0.0.1", root, usage="server"),
        issue("system-ops", root),
        issue("system-pup", root),
        ca_file,
        crl_file,
    )


def server_context(pki: Pki, revocation: ClientRevocation, trusted: tuple[x509.Certificate, ...] = ()) -> SSL.Context:
    """A server context requiring client certificates from the client CAs, as the hub's is."""
    context = SSL.Context(SSL.TLS_METHOD)
    context.use_certificate(pki.server.cert)
    context.use_privatekey(pki.server.key)
    for ca in trusted or (pki.root.cert,):
        context.get_cert_store().add_cert(X509.from_cryptography(ca))  # type: ignore[union-attr]
    context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT)
    context.set_session_cache_mode(SSL.SESS_CACHE_OFF)
    revocation.install(context)
    return context


def accepted(server: SSL.Context, client: Holder, *chain: x509.Certificate) -> bool:
    """Run a handshake over memory buffers; True when the server completed it."""
    client_context = SSL.Context(SSL.TLS_METHOD)
    client_context.use_certificate(client.cert)
    client_context.use_privatekey(client.key)
    for cert in chain:
        client_context.add_extra_chain_cert(cert)
    server_side = SSL.Connection(server, None)
    server_side.set_accept_state()
    client_side = SSL.Connection(client_context, None)
    client_side.set_connect_state()
    done = {"server": False, "client": False}
    for _ in range(20):
        for name, connection in (("client", client_side), ("server", server_side)):
            if done[name]:
                continue
            try:
                connection.do_handshake()
                done[name] = True
            except SSL.WantReadError:
                pass
            except SSL.Error:
                if name == "server":
                    return False
        for source, target in ((client_side, server_side), (server_side, client_side)):
            try:
                target.bio_write(source.bio_read(65536))
            except SSL.WantReadError:
                pass
        if done["server"]:
            return True
    return False


def test_a_revoked_client_is_refused_and_a_good_one_accepted(pki: Pki) -> None:
    write_crls(pki.crl_file, crl_of(pki.root, (pki.first.cert,)))
    server = server_context(pki, ClientRevocation(pki.ca_file, pki.crl_file))
    assert not accepted(server, pki.first)
    assert accepted(server, pki.second)


def test_a_der_crl_is_read_too(pki: Pki) -> None:
    write_crls(pki.crl_file, crl_of(pki.root, (pki.second.cert,)), der=True)
    revocation = ClientRevocation(pki.ca_file, pki.crl_file)
    assert revocation.check(pki.first.cert) is None
    assert "revoked" in (revocation.check(pki.second.cert) or "")


def test_a_rewritten_crl_takes_effect_on_the_next_handshake(pki: Pki) -> None:
    revocation = ClientRevocation(pki.ca_file, pki.crl_file)
    server = server_context(pki, revocation)
    assert accepted(server, pki.first) and accepted(server, pki.second)
    write_crls(pki.crl_file, crl_of(pki.root, (pki.second.cert,)))
    assert accepted(server, pki.first)
    assert not accepted(server, pki.second)
    write_crls(pki.crl_file, crl_of(pki.root, (pki.first.cert,)))
    assert not accepted(server, pki.first)
    assert accepted(server, pki.second)


def test_a_broken_rewrite_keeps_the_previous_crl_and_says_so(pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    write_crls(pki.crl_file, crl_of(pki.root, (pki.first.cert,)))
    revocation = ClientRevocation(pki.ca_file, pki.crl_file)
    server = server_context(pki, revocation)
    pki.crl_file.write_bytes(b"-----BEGIN X509 CRL-----\nuszkodzona\n-----END X509 CRL-----\n")
    with caplog.at_level(logging.ERROR, logger="signing.tls_revocation"):
        assert not accepted(server, pki.first)
        assert accepted(server, pki.second)
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1  # once, not per handshake
    assert "previous one stays in use" in caplog.records[0].message
    pki.crl_file.unlink()
    assert not accepted(server, pki.first) and accepted(server, pki.second)


def test_an_expired_crl_refuses_every_client(pki: Pki) -> None:
    """RFC 5280, 6.3: past nextUpdate the status is unknown; an office system is then not let in."""
    write_crls(pki.crl_file, crl_of(pki.root, next_update=NOW - dt.timedelta(minutes=1)))
    revocation = ClientRevocation(pki.ca_file, pki.crl_file)
    assert not accepted(server_context(pki, revocation), pki.second)
    assert "expired" in (revocation.check(pki.second.cert) or "")


def test_a_revoked_intermediate_refuses_the_clients_under_it(pki: Pki, tmp_path: Path) -> None:
    intermediate = issue("Testowe CA pośrednie", pki.root, ca=True)
    below = issue("system-sr", intermediate)
    pem = serialization.Encoding.PEM
    ca_file = tmp_path / "bundle.pem"
    ca_file.write_bytes(pki.root.cert.public_bytes(pem) + intermediate.cert.public_bytes(pem))
    write_crls(pki.crl_file, crl_of(pki.root), crl_of(intermediate))
    revocation = ClientRevocation(ca_file, pki.crl_file)
    assert revocation.check_all
    trusted = (pki.root.cert, intermediate.cert)
    assert accepted(server_context(pki, revocation, trusted), below)
    write_crls(pki.crl_file, crl_of(pki.root, (intermediate.cert,)), crl_of(intermediate))
    assert not accepted(server_context(pki, revocation, trusted), below)
    assert accepted(server_context(pki, revocation, trusted), pki.first)


def test_a_client_under_an_intermediate_missing_from_the_client_cas_is_refused(pki: Pki) -> None:
    """Its issuer's CRL could not be configured (only the client CAs' are accepted): status unknown."""
    intermediate = issue("Testowe CA pośrednie", pki.root, ca=True)
    below = issue("system-sr", intermediate)
    revocation = ClientRevocation(pki.ca_file, pki.crl_file)
    assert not revocation.check_all  # the root alone: its CRL covers what it issued
    assert not accepted(server_context(pki, revocation), below, intermediate.cert)
    assert accepted(server_context(pki, revocation), pki.first)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("foreign", "CRL_SPOZA_CA_KLIENTOW"),
        ("none", "BRAK_LISTY_CRL_URZEDU"),
        ("garbage", "NIEPRAWIDLOWA_LISTA_CRL"),
        ("missing", "BRAK_PLIKU"),
    ],
)
def test_an_unusable_crl_file_is_refused_at_start(pki: Pki, content: str, code: str) -> None:
    if content == "foreign":
        stranger = issue("Obce CA", None, ca=True)
        write_crls(pki.crl_file, crl_of(pki.root), crl_of(stranger))
    elif content == "none":
        other = issue("Drugie CA systemów", None, ca=True)
        with pki.ca_file.open("ab") as bundle:
            bundle.write(other.cert.public_bytes(serialization.Encoding.PEM))
    elif content == "garbage":
        pki.crl_file.write_bytes(b"\x30\x03\x02\x01\x00")
    else:
        pki.crl_file.unlink()
    with pytest.raises(InvalidInput) as refused:
        ClientRevocation(pki.ca_file, pki.crl_file)
    assert refused.value.code == code, refused.value.message
