"""Regenerate the signing fixtures: ``python -m tests.signing.make_fixtures`` from the repository root.

Every run builds a fresh synthetic PKI, so all signed fixtures are rewritten together; only public
certificates, a CRL and signed documents are kept (no private key is written). Each file's name says
what must happen to it; ``test_signing_fixtures.py`` holds the expected outcome of each.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from lxml import etree

from signing import SignerConfig, SoftwareKey, XadesSigner
from signing import constants as c

from .documents import wniosek
from .forge import deep, parse, resign, serialize, signature_of
from .pki import Issued, TestPKI, build_pki, synthetic_pesel

FIXTURES = Path(__file__).parent / "fixtures"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # the validation time the tests pin
SIGNED_AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
JAN_PESEL = synthetic_pesel(dt.date(1985, 3, 15), 123, female=False)
ANNA_PESEL = synthetic_pesel(dt.date(1992, 7, 4), 456, female=True)
EWA_PESEL = synthetic_pesel(dt.date(2001, 2, 28), 789, female=True)


def _signer(issued: Issued, *, chain: bool = False) -> XadesSigner:
    return XadesSigner(SoftwareKey(issued.key, issued.cert), SignerConfig(include_chain=chain))


def _write(name: str, data: bytes) -> None:
    (FIXTURES / name).write_bytes(data)


def _pem(cert: Issued) -> bytes:
    return cert.cert.public_bytes(serialization.Encoding.PEM)


def _signed_by_id(issued: Issued) -> etree._Element:
    """A document whose data reference is ``#Dokument-1`` (the root's Id), as some tools sign.

    The reference uses exclusive C14N, so the signed element keeps its digest wherever it is moved:
    the wrapping fixtures made from it are cryptographically intact, and only the verifier's
    reference checks can catch them.
    """
    root = parse(_signer(issued).sign_enveloped(wniosek(), signing_time=SIGNED_AT))
    reference = signature_of(root).find(f"{c.ds('SignedInfo')}/{c.ds('Reference')}")
    reference.set("URI", "#Dokument-1")
    reference.find(c.ds("Transforms"))[1].set("Algorithm", c.EXC_C14N)
    resign(root, issued)
    return root


def build(pki: TestPKI, other: TestPKI) -> None:
    """Write every fixture file."""
    FIXTURES.mkdir(exist_ok=True)
    (FIXTURES / "pki").mkdir(exist_ok=True)
    jan = pki.signer("Jan", "Testowy", pesel=JAN_PESEL)
    anna = pki.signer("Anna", "Próbna", pesel=ANNA_PESEL, key_kind="p384")
    eve = pki.signer("Ewa", "Podstawiona", pesel=EWA_PESEL, key_kind="p256")
    plain = pki.signer("Adam", "Zwykły", qualified=False, non_repudiation=False)
    expired = pki.signer(
        "Jan",
        "Testowy",
        pesel=JAN_PESEL,
        not_before=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )
    future = pki.signer(
        "Jan",
        "Testowy",
        pesel=JAN_PESEL,
        not_before=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2028, 12, 1, tzinfo=dt.UTC),
    )
    revoked = pki.signer("Jan", "Testowy", pesel=JAN_PESEL)
    stranger = other.signer("Jan", "Testowy", pesel=JAN_PESEL)

    _write("pki/root.pem", _pem(pki.root))
    _write("pki/qualified_ca.pem", _pem(pki.qualified_ca))
    _write("pki/other_root.pem", _pem(other.root))
    _write("pki/other_ca.pem", _pem(other.qualified_ca))
    _write("pki/jan_testowy.pem", _pem(jan))
    crl = pki.crl([(revoked.cert, dt.datetime(2026, 11, 10, 8, 0, tzinfo=dt.UTC))])
    _write("crl_revoked_certificate.pem", crl.public_bytes(serialization.Encoding.PEM))
    _write("trusted_list.xml", trusted_list(pki, other))

    document = wniosek()
    _write("document_unsigned.xml", document)
    valid = _signer(jan).sign_enveloped(document, signing_time=SIGNED_AT)
    _write("valid_enveloped.xml", valid)
    _write("valid_enveloped_ecdsa_p384.xml", _signer(anna).sign_enveloped(document, signing_time=SIGNED_AT))
    _write("valid_enveloped_with_chain.xml", _signer(jan, chain=True).sign_enveloped(document, signing_time=SIGNED_AT))
    payload = b"%PDF-1.4\n% synthetic attachment for tests\n" + bytes(range(256)) * 8
    _write("valid_detached_payload.pdf", payload)
    _write(
        "valid_detached.xml",
        _signer(jan).sign_detached(payload, "valid_detached_payload.pdf", signing_time=SIGNED_AT),
    )
    by_id = _signed_by_id(jan)
    _write("valid_signed_by_id.xml", serialize(by_id))
    _write("non_qualified_certificate.xml", _signer(plain).sign_enveloped(document, signing_time=SIGNED_AT))
    _write("untrusted_signer.xml", _signer(stranger).sign_enveloped(document, signing_time=SIGNED_AT))
    _write("expired_certificate.xml", _signer(expired).sign_enveloped(document, signing_time=SIGNED_AT))
    _write("not_yet_valid_certificate.xml", _signer(future).sign_enveloped(document, signing_time=SIGNED_AT))
    _write("revoked_certificate.xml", _signer(revoked).sign_enveloped(document, signing_time=SIGNED_AT))

    # Content or signed properties altered after signing; a SignatureValue altered.
    _write("altered_content.xml", valid.replace("Zwracam się z prośbą".encode(), "Zwracam się z żądaniem".encode()))
    root = parse(valid)
    signing_time = root.find(f".//{c.xades('SigningTime')}")
    signing_time.text = "2026-11-01T10:00:00Z"
    _write("altered_signed_properties.xml", serialize(root))
    root = parse(valid)
    value = root.find(f".//{c.ds('SignatureValue')}")
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    _write("altered_signature_value.xml", serialize(root))

    # Signature wrapping (XSW), from a document signed by reference to its root's Id.
    wn = "urn:pl:platforma-komunikacyjna:wnioski:1"
    forged = deep(by_id)
    original = deep(by_id)
    original.remove(signature_of(original))
    forged.set("Id", "Dokument-falszywy")
    forged.find(f".//{{{wn}}}Tresc").text = "Treść podmieniona przez atakującego."
    etree.SubElement(forged, f"{{{wn}}}Zalacznik").append(original)
    _write("xsw_moved_document.xml", serialize(forged))

    forged = deep(by_id)
    original = deep(by_id)
    original.remove(signature_of(original))
    forged.set("Id", "Dokument-falszywy")
    forged.find(f".//{{{wn}}}Tresc").text = "Treść podmieniona przez atakującego."
    etree.SubElement(signature_of(forged), c.ds("Object")).append(original)
    _write("xsw_moved_into_signature.xml", serialize(forged))

    forged = deep(by_id)
    forged.find(
        f".//{{{'urn:pl:platforma-komunikacyjna:wnioski:1'}}}Tresc"
    ).text = "Treść podmieniona przez atakującego."
    hidden = etree.SubElement(forged, "{urn:pl:platforma-komunikacyjna:wnioski:1}Zalacznik")
    hidden.append(deep(by_id))
    hidden[0].remove(signature_of(hidden[0]))
    _write("xsw_duplicated_document.xml", serialize(forged))

    wrapper = etree.Element(
        "{urn:pl:platforma-komunikacyjna:wnioski:1}Pakiet", nsmap={"wn": "urn:pl:platforma-komunikacyjna:wnioski:1"}
    )
    wrapper.append(deep(by_id))
    etree.SubElement(wrapper, "{urn:pl:platforma-komunikacyjna:wnioski:1}Dopisek").text = "Dopisek spoza podpisu."
    _write("xsw_wrapped_document.xml", serialize(wrapper))

    root = parse(valid)
    sig = signature_of(root)
    properties = sig.find(f".//{c.xades('SignedProperties')}")
    copy_holder = etree.SubElement(sig, c.ds("Object"))
    copy_holder.append(deep(properties))
    properties.find(f".//{c.xades('SigningTime')}").text = "2026-10-01T10:00:00Z"
    _write("xsw_duplicated_signed_properties.xml", serialize(root))

    # References to something other than the document.
    root = parse(valid)
    sig = signature_of(root)
    holder = etree.SubElement(sig, c.ds("Object"))
    etree.SubElement(holder, "{urn:pl:platforma-komunikacyjna:wnioski:1}Tresc", Id="Obiekt-1").text = "Zgadzam się."
    sig.find(f"{c.ds('SignedInfo')}/{c.ds('Reference')}").set("URI", "#Obiekt-1")
    sig.find(f"{c.ds('SignedInfo')}/{c.ds('Reference')}/{c.ds('Transforms')}").remove(
        sig.find(f"{c.ds('SignedInfo')}/{c.ds('Reference')}/{c.ds('Transforms')}")[0]
    )
    resign(root, jan)
    _write("reference_into_signature.xml", serialize(root))

    root = parse(valid)
    sig = signature_of(root)
    signed_info = sig.find(c.ds("SignedInfo"))
    signed_info.remove(signed_info.find(c.ds("Reference")))
    resign(root, jan)
    _write("reference_only_signed_properties.xml", serialize(root))

    detached = parse(_signer(jan).sign_detached(b"root:x:0:0", "file:///etc/passwd", signing_time=SIGNED_AT))
    root = parse(document)
    root.append(detached)
    _write("reference_external_file.xml", serialize(root))

    root = parse(valid)
    reference = signature_of(root).find(f"{c.ds('SignedInfo')}/{c.ds('Reference')}")
    transform = etree.SubElement(
        reference.find(c.ds("Transforms")), c.ds("Transform"), Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"
    )
    transform.text = ""
    _write("xslt_transform.xml", serialize(root))

    _write("two_signatures.xml", _signer(anna).sign_enveloped(valid, signing_time=SIGNED_AT))

    # The certificate in KeyInfo is not the one SigningCertificateV2 names: Ewa signs, the signed
    # properties claim Jan.
    root = parse(_signer(eve).sign_enveloped(document, signing_time=SIGNED_AT))
    jan_digest = base64.b64encode(hashlib.sha256(jan.cert.public_bytes(serialization.Encoding.DER)).digest()).decode()
    root.find(f".//{c.xades('CertDigest')}/{c.ds('DigestValue')}").text = jan_digest
    resign(root, eve)
    _write("signing_certificate_mismatch.xml", serialize(root))
    # Jan signs; someone swaps Anna's certificate into KeyInfo.
    root = parse(valid)
    root.find(f".//{c.ds('X509Certificate')}").text = base64.b64encode(
        anna.cert.public_bytes(serialization.Encoding.DER)
    ).decode()
    _write("keyinfo_certificate_swapped.xml", serialize(root))

    # A SHA-1 signature: signed by xmlsec from a template with rsa-sha1.
    root = parse(valid)
    signature_of(root).find(f"{c.ds('SignedInfo')}/{c.ds('SignatureMethod')}").set(
        "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    )
    resign(root, jan)
    _write("signature_sha1.xml", serialize(root))

    # DTDs and entities: refused before anything else.
    _write(
        "doctype_external_entity.xml",
        b'<?xml version="1.0"?>\n<!DOCTYPE wn:Dokument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        + document.split(b"\n", 1)[1].replace(b"PUP/2026/11/000123", b"&xxe;"),
    )
    laughs = "".join(f'<!ENTITY l{i} "&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};">' for i in range(1, 10))
    _write(
        "doctype_billion_laughs.xml",
        f'<?xml version="1.0"?>\n<!DOCTYPE lol [<!ENTITY l0 "lol">{laughs}]>\n<lol>&l9;</lol>\n'.encode(),
    )
    _write(
        "doctype_external_dtd.xml",
        b'<?xml version="1.0"?>\n<!DOCTYPE wn:Dokument SYSTEM "http://example.invalid/wniosek.dtd">\n'
        + valid.split(b"\n", 1)[1],
    )
    _write(
        "doctype_id_injection.xml",
        b'<?xml version="1.0"?>\n<!DOCTYPE wn:Dokument [<!ATTLIST wn:Tresc Id ID #IMPLIED>]>\n'
        + valid.split(b"\n", 1)[1],
    )
    _write(
        "doctype_utf16.xml",
        '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/hostname">]><a>&x;</a>'.encode(
            "utf-16"
        ),
    )


def trusted_list(pki: TestPKI, other: TestPKI) -> bytes:
    """An ETSI TS 119 612 list: the qualified CA granted, another CA withdrawn, a TSA granted."""
    ns = c.TSL_NS

    def service(cert: Issued, kind: str, status: str, name: str) -> str:
        der = base64.b64encode(cert.cert.public_bytes(serialization.Encoding.DER)).decode()
        return (
            "<TSPService><ServiceInformation>"
            f"<ServiceTypeIdentifier>{kind}</ServiceTypeIdentifier>"
            f'<ServiceName><Name xml:lang="pl">{name}</Name></ServiceName>'
            f"<ServiceDigitalIdentity><DigitalId><X509Certificate>{der}</X509Certificate></DigitalId>"
            "</ServiceDigitalIdentity>"
            f"<ServiceStatus>{status}</ServiceStatus>"
            "<StatusStartingTime>2016-07-01T00:00:00Z</StatusStartingTime>"
            "</ServiceInformation></TSPService>"
        )

    granted = c.TSL_STATUS_GRANTED
    withdrawn = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
    services = "".join(
        [
            service(pki.qualified_ca, c.TSL_SERVICE_CA_QC, granted, "Testowe Kwalifikowane CA 2026"),
            service(other.qualified_ca, c.TSL_SERVICE_CA_QC, withdrawn, "Wycofane CA"),
            service(other.root, "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST", granted, "Testowy znacznik czasu"),
        ]
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<TrustServiceStatusList xmlns="{ns}" TSLTag="http://uri.etsi.org/19612/TSLTag" Id="TrustServiceStatusList">'
        "<SchemeInformation><TSLVersionIdentifier>5</TSLVersionIdentifier><TSLSequenceNumber>1</TSLSequenceNumber>"
        "<SchemeTerritory>PL</SchemeTerritory></SchemeInformation>"
        "<TrustServiceProviderList><TrustServiceProvider>"
        '<TSPInformation><TSPName><Name xml:lang="pl">Testowe Centrum Certyfikacji</Name></TSPName></TSPInformation>'
        f"<TSPServices>{services}</TSPServices>"
        "</TrustServiceProvider></TrustServiceProviderList>"
        "</TrustServiceStatusList>\n"
    ).encode()


def main() -> None:
    pki = build_pki(NOW)
    other = build_pki(NOW, root_cn="Obcy Root CA", ca_cn="Obce CA")
    build(pki, other)
    print(f"Fixtures written to {FIXTURES}")


if __name__ == "__main__":
    main()
