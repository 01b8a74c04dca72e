"""Signing and verifying live: key types, encodings, the XAdES structure, coverage, times, limits."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from lxml import etree

from signing import (
    InvalidInput,
    InvalidKey,
    SignerConfig,
    SoftwareKey,
    TrustStore,
    VerifierConfig,
    XadesSigner,
    XadesVerifier,
)
from signing import constants as c

from .conftest import JAN_PESEL, NOW, fixture_certificate, fixture_path
from .documents import wniosek
from .pki import Issued, TestPKI

SIGNED_AT = NOW - dt.timedelta(hours=2)


def _sign(issued: Issued, document: bytes | None = None, **config: object) -> bytes:
    signer = XadesSigner(SoftwareKey(issued.key, issued.cert), SignerConfig(**config))  # type: ignore[arg-type]
    return signer.sign_enveloped(document or wniosek(), signing_time=SIGNED_AT)


@pytest.mark.parametrize(
    ("kind", "method", "value_length"),
    [
        ("rsa2048", c.RSA_SHA256, 256),
        ("rsa3072", c.RSA_SHA256, 384),
        ("rsa4096", c.RSA_SHA256, 512),
        ("p256", c.ECDSA_SHA256, 64),
        ("p384", c.ECDSA_SHA256, 96),
    ],
)
def test_each_supported_key_signs_a_qualified_signature(
    kind: str, method: str, value_length: int, pki: TestPKI, live_verifier: XadesVerifier
) -> None:
    signer = pki.signer("Anna", "Próbna", pesel=JAN_PESEL, key_kind=kind)
    signed = _sign(signer)
    root = etree.fromstring(signed)
    assert root.find(f".//{c.ds('SignatureMethod')}").get("Algorithm") == method
    # XML-DSig 1.1, 6.4.3: ECDSA values are r || s, each the size of the curve order.
    assert len(base64.b64decode(root.findtext(f".//{c.ds('SignatureValue')}"))) == value_length
    report = live_verifier.verify(signed)
    assert report.accepted and report.qualified, report.render()
    assert report.signer == "Anna Próbna"


def test_unsupported_keys_are_refused(pki: TestPKI) -> None:
    small = pki.signer(key=rsa.generate_private_key(65537, 1024))  # noqa: S505 (must be refused)
    with pytest.raises(InvalidKey) as raised:
        SoftwareKey(small.key, small.cert)
    assert raised.value.code == "NIEOBSLUGIWANY_KLUCZ" and "2048" in raised.value.message
    edwards = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(InvalidKey):
        SoftwareKey(edwards, small.cert)  # type: ignore[arg-type]


def test_key_and_certificate_must_match(pki: TestPKI, jan: Issued) -> None:
    other = pki.signer("Adam", "Inny")
    with pytest.raises(InvalidKey) as raised:
        SoftwareKey(jan.key, other.cert)  # type: ignore[arg-type]
    assert raised.value.code == "KLUCZ_NIE_PASUJE"


def test_signature_has_the_xades_baseline_b_properties(jan: Issued) -> None:
    root = etree.fromstring(_sign(jan))
    sig = root[-1]
    assert sig.tag == c.ds("Signature")
    references = sig.findall(f"{c.ds('SignedInfo')}/{c.ds('Reference')}")
    document_ref, properties_ref = references
    assert document_ref.get("URI") == ""
    assert [t.get("Algorithm") for t in document_ref.iter(c.ds("Transform"))] == [c.ENVELOPED, c.C14N_10]
    assert properties_ref.get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    properties = sig.find(f".//{c.xades('SignedProperties')}")
    assert properties_ref.get("URI") == "#" + properties.get("Id")
    assert sig.find(f".//{c.xades('QualifyingProperties')}").get("Target") == "#" + sig.get("Id")
    assert properties.findtext(f".//{c.xades('SigningTime')}") == SIGNED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    cert_digest = properties.findtext(f".//{c.xades('SigningCertificateV2')}//{c.ds('DigestValue')}")
    der = jan.cert.public_bytes(serialization.Encoding.DER)
    assert base64.b64decode(cert_digest) == hashlib.sha256(der).digest()
    assert properties.find(f".//{c.xades('IssuerSerialV2')}") is None  # EN 319 132-1, 6.3 (j)
    data_object = properties.find(f".//{c.xades('DataObjectFormat')}")
    assert data_object.get("ObjectReference") == "#" + document_ref.get("Id")
    assert data_object.findtext(c.xades("MimeType")) == "text/xml"
    assert base64.b64decode(sig.findtext(f".//{c.ds('X509Certificate')}")) == der


def test_enveloped_signature_keeps_the_document_bytes(jan: Issued) -> None:
    document = wniosek()
    signed = _sign(jan, document)
    end = document.rindex(b"</wn:Dokument>")
    assert signed.startswith(document[:end])
    assert signed.endswith(document[end:])


SHAPES = pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0" encoding="ISO-8859-2"?>\n<wniosek><imię>Zażółć gęślą jaźń</imię></wniosek>'.encode(
            "iso-8859-2"
        ),
        '<?xml version="1.0" encoding="UTF-16"?><wniosek><pole>Łódź</pole></wniosek>'.encode("utf-16"),
        b'<a:Root xmlns:a="urn:a" xmlns="urn:d" xmlns:unused="urn:u" xml:lang="pl"><b>x</b>\n</a:Root>\n',
        b"<pusty/>",
        b"<?xml version='1.0'?><!-- przed --><dokument>tekst</dokument><!-- po dokumencie -->",
        b"\xef\xbb\xbf<dokument><![CDATA[<b>html</b>]]>&amp;</dokument>",
    ],
    ids=["iso-8859-2", "utf-16", "namespaces-and-xml-lang", "empty-root", "comments-outside-root", "bom-cdata"],
)


@SHAPES
def test_documents_of_every_shape_verify(document: bytes, jan: Issued, live_verifier: XadesVerifier) -> None:
    report = live_verifier.verify(_sign(jan, document))
    assert report.accepted, report.render()


def test_exclusive_c14n_is_available(jan: Issued, live_verifier: XadesVerifier) -> None:
    signed = _sign(jan, c14n_method=c.EXC_C14N)
    assert etree.fromstring(signed).find(f".//{c.ds('CanonicalizationMethod')}").get("Algorithm") == c.EXC_C14N
    assert live_verifier.verify(signed).accepted


def test_detached_signature_over_a_file_with_a_polish_name(jan: Issued, live_verifier: XadesVerifier) -> None:
    payload = b"%PDF-1.7 zawartosc"
    signer = XadesSigner(SoftwareKey(jan.key, jan.cert))
    signature = signer.sign_detached(payload, "wniosek o zasiłek.pdf", signing_time=SIGNED_AT)
    root = etree.fromstring(signature)
    assert root.tag == c.ds("Signature")
    assert root.find(f".//{c.ds('Reference')}").get("URI") == "wniosek%20o%20zasi%C5%82ek.pdf"
    assert root.findtext(f".//{c.xades('MimeType')}") == "application/pdf"
    report = live_verifier.verify(signature, detached={"wniosek o zasiłek.pdf": payload})
    assert report.accepted and report.coverage.detached == ("wniosek o zasiłek.pdf",), report.render()
    assert not live_verifier.verify(signature, detached=payload + b" ").accepted


def test_partial_signature_is_reported_and_refused_unless_allowed() -> None:
    wrapped = fixture_path("xsw_wrapped_document.xml").read_bytes()
    config = VerifierConfig(
        trust=TrustStore.from_certificates([fixture_certificate("root.pem")]),
        intermediates=(fixture_certificate("qualified_ca.pem"),),
        validation_time=NOW,
    )
    strict = XadesVerifier(config).verify(wrapped)
    assert not strict.accepted and "PODPIS_NIE_OBEJMUJE_CALEGO_DOKUMENTU" in strict.reason_codes
    lenient = XadesVerifier(dataclasses.replace(config, require_whole_document=False)).verify(wrapped)
    assert lenient.accepted, lenient.render()
    assert lenient.coverage.elements == ("/Pakiet/Dokument",) and not lenient.coverage.whole_document
    assert "tylko elementy" in lenient.render()
    # Moving the signed element away from its signature stays fatal even then.
    moved = XadesVerifier(dataclasses.replace(config, require_whole_document=False)).verify(
        fixture_path("xsw_moved_document.xml").read_bytes()
    )
    assert "PODPISANY_ELEMENT_PRZENIESIONY" in moved.reason_codes and not moved.accepted


def test_size_limits_apply_to_signer_and_verifier(jan: Issued, live_verifier: XadesVerifier) -> None:
    big = wniosek(records=400)
    with pytest.raises(InvalidInput) as raised:
        _sign(jan, big, max_document_bytes=10_000)
    assert raised.value.code == "DOKUMENT_ZA_DUZY"
    small = XadesVerifier(dataclasses.replace(live_verifier.config, max_document_bytes=10_000))
    assert small.verify(_sign(jan, big)).reason_codes == ("DOKUMENT_ZA_DUZY",)


def test_signer_refuses_a_document_with_a_doctype(jan: Issued) -> None:
    with pytest.raises(InvalidInput) as raised:
        _sign(jan, fixture_path("doctype_external_entity.xml").read_bytes())
    assert raised.value.code == "DOCTYPE_NIEDOZWOLONY"


def test_signing_time_in_the_future_is_refused(jan: Issued, live_verifier: XadesVerifier) -> None:
    signer = XadesSigner(SoftwareKey(jan.key, jan.cert))
    signed = signer.sign_enveloped(wniosek(), signing_time=NOW + dt.timedelta(hours=1))
    assert "CZAS_PODPISU_Z_PRZYSZLOSCI" in live_verifier.verify(signed).reason_codes


def test_expiry_after_signing_is_fatal_unless_the_claimed_time_is_trusted(
    pki: TestPKI, live_verifier: XadesVerifier
) -> None:
    short = pki.signer(not_before=NOW - dt.timedelta(days=30), not_after=NOW - dt.timedelta(days=1))
    signer = XadesSigner(SoftwareKey(short.key, short.cert))
    signed = signer.sign_enveloped(wniosek(), signing_time=NOW - dt.timedelta(days=10))
    strict = live_verifier.verify(signed)
    assert "CERTYFIKAT_WYGASL" in strict.reason_codes and "znacznika czasu" in strict.render()
    lenient = XadesVerifier(dataclasses.replace(live_verifier.config, trust_claimed_signing_time=True))
    assert lenient.verify(signed).accepted


def test_report_as_json_has_the_agreed_keys(jan: Issued, live_verifier: XadesVerifier) -> None:
    data = json.loads(live_verifier.verify(_sign(jan)).to_json())
    assert {"valid", "qualified", "signer", "pesel", "signing_time", "reasons"} <= set(data)
    assert data["valid"] is True and data["qualified"] is True
    assert data["signer"] == "Jan Testowy" and data["pesel"] == JAN_PESEL
    assert data["signing_time"] == SIGNED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert data["reasons"] == []
    assert data["covers"]["whole_document"] is True


def test_report_in_polish(jan: Issued, live_verifier: XadesVerifier) -> None:
    text = live_verifier.verify(_sign(jan)).render()
    assert "Wynik weryfikacji: PODPIS WAŻNY (kwalifikowany)" in text
    assert f"Jan Testowy (PESEL {JAN_PESEL})" in text
    assert "Zakres podpisu: cały dokument" in text
    altered = _sign(jan).replace("Zażółć".encode(), "Zażółt".encode())
    text = live_verifier.verify(altered).render()
    assert "PODPIS NIEWAŻNY" in text and "Treść dokumentu została zmieniona po podpisaniu" in text


def test_without_trust_anchors_nothing_is_accepted(jan: Issued) -> None:
    report = XadesVerifier(VerifierConfig(validation_time=NOW)).verify(_sign(jan))
    assert report.valid and not report.trusted and not report.accepted and not report.qualified
    assert report.reason_codes == ("BRAK_KOTWIC_ZAUFANIA",)


@SHAPES
def test_lxml_core_and_xmlsec_core_sign_the_same(
    document: bytes, jan: Issued, live_verifier: XadesVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digests computed by lxml's C14N equal xmlsec's own; RSA PKCS#1 v1.5 then gives the same value."""
    monkeypatch.setattr("signing.signer.secrets.token_hex", lambda _n: "0123456789abcdef")

    def values(core: str) -> list[bytes]:
        signed = _sign(jan, document, core=core)
        assert live_verifier.verify(signed).accepted
        root = etree.fromstring(signed)
        texts = [e.text or "" for e in root.iter(c.ds("DigestValue"), c.ds("SignatureValue"))]
        return [base64.b64decode("".join(text.split())) for text in texts]

    ours, theirs = values("auto"), values("xmlsec")
    assert len(ours) == 4  # document, SignedProperties, certificate digest, SignatureValue
    assert ours == theirs


def test_detached_with_the_xmlsec_core(jan: Issued, live_verifier: XadesVerifier) -> None:
    signer = XadesSigner(SoftwareKey(jan.key, jan.cert), SignerConfig(core="xmlsec"))
    signature = signer.sign_detached(b"dane", "dane.bin", signing_time=SIGNED_AT)
    assert live_verifier.verify(signature, detached=b"dane").accepted


def test_a_document_without_a_canonical_form_is_refused_cleanly(jan: Issued, live_verifier: XadesVerifier) -> None:
    """C14N 1.0 refuses relative namespace URIs; both sides say so instead of raising something foreign."""
    with pytest.raises(InvalidInput) as raised:
        _sign(jan, b'<wniosek xmlns="wzgledny"><pole/></wniosek>')
    assert raised.value.code == "NIEPRAWIDLOWY_XML"
    valid = _sign(jan, b"<wniosek><pole/></wniosek>")
    forged = valid.replace(b"<wniosek>", b'<wniosek xmlns:x="wzgledny">')
    assert "NIEPRAWIDLOWY_XML" in live_verifier.verify(forged).reason_codes
