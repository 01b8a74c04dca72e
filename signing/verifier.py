"""The XAdES verifier: python-xmlsec checks the XML-DSig core, this module everything around it.

Order of work (EN 319 102-1 in outline): parse safely; find exactly one signature; make sure every
reference points where it must (the defence against signature wrapping is to know, before any
cryptography, exactly which element each reference selects, with no duplicate identifiers); check the
digests and the SignatureValue with the key of the certificate that SigningCertificateV2 names (xmlsec
does the SignatureValue, and the whole core outside the common profile, see ``VerifierConfig.core``);
then the certificate: validity at the signing time, revocation, path to a trust anchor, qualified status.
Nothing about the document raises: every finding becomes a reason in the report.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import itertools
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote

import xmlsec
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from lxml import etree

from . import constants as c
from ._cache import BoundedCache
from ._xmlsec_io import serving
from .c14n import SUPPORTED as SUPPORTED_C14N
from .c14n import XML_NS, canonicalize, canonicalize_document
from .certificates import CertificateFacts, describe, display_name
from .errors import InvalidInput
from .keys import RSA_MIN_BITS
from .report import Coverage, Reason, VerificationReport
from .revocation import RevocationSources, RevocationState, RevocationStatus, check_revocation
from .safexml import DEFAULT_MAX_BYTES, parse_xml
from .trust import TrustStore, build_path
from .xades import SignedPropertiesData, read_signed_properties

SIGNATURE_METHODS = {
    c.RSA_SHA256: xmlsec.constants.TransformRsaSha256,
    c.RSA_SHA384: xmlsec.constants.TransformRsaSha384,
    c.RSA_SHA512: xmlsec.constants.TransformRsaSha512,
    c.ECDSA_SHA256: xmlsec.constants.TransformEcdsaSha256,
    c.ECDSA_SHA384: xmlsec.constants.TransformEcdsaSha384,
    c.ECDSA_SHA512: xmlsec.constants.TransformEcdsaSha512,
}
DIGEST_METHODS = {
    c.SHA256: (xmlsec.constants.TransformSha256, hashlib.sha256),
    c.SHA384: (xmlsec.constants.TransformSha384, hashlib.sha384),
    c.SHA512: (xmlsec.constants.TransformSha512, hashlib.sha512),
}
C14N_TRANSFORMS = {
    c.C14N_10: xmlsec.constants.TransformInclC14N,
    c.C14N_10_COMMENTS: xmlsec.constants.TransformInclC14NWithComments,
    c.C14N_11: xmlsec.constants.TransformInclC14N11,
    c.C14N_11_COMMENTS: xmlsec.constants.TransformInclC14N11WithComments,
    c.EXC_C14N: xmlsec.constants.TransformExclC14N,
    c.EXC_C14N_COMMENTS: xmlsec.constants.TransformExclC14NWithComments,
}
# Only enveloped-signature and canonicalization: no XPath, XSLT or base64 transforms, which serve no
# purpose in XAdES documents and are known attack surface (W3C XML Signature Best Practices: avoid XSLT
# and XPath transforms).
REFERENCE_TRANSFORMS = {c.ENVELOPED: xmlsec.constants.TransformEnveloped, **C14N_TRANSFORMS}
CERT_DIGESTS: dict[str, hashes.HashAlgorithm] = {
    c.SHA256: hashes.SHA256(),
    c.SHA384: hashes.SHA384(),
    c.SHA512: hashes.SHA512(),
    "http://www.w3.org/2000/09/xmldsig#sha1": hashes.SHA1(),  # noqa: S303 (legacy SigningCertificate only)
}
ID_ATTRIBUTES = ("Id", "ID", "id")


@dataclass(frozen=True)
class VerifierConfig:
    """Options of :class:`XadesVerifier`.

    ``trust``: the anchors; without any, no signature is ``trusted``. ``intermediates``: CA certificates
    that help build a path but are not trusted by themselves. ``revocation``: CRLs and OCSP
    responses to use, and whether to fetch from the certificate's distribution points.
    ``validation_time``: "now" (tests pin it). ``require_whole_document``: a signature that covers only
    parts of an XML document is invalid (on by default: hub documents are signed whole).
    ``trust_claimed_signing_time``: a B-B signature has no trusted time, so by default the certificate
    must be valid, and not revoked, also at the validation time; set this to judge it at the claimed
    SigningTime only. ``core``: with "auto", signatures in the common profile (C14N 1.0 or exclusive,
    enveloped-signature) have their reference digests computed by libxml2's C14N through lxml and their
    SignatureValue checked by xmlsec, several times faster than xmlsec's node-set processing; anything
    else, or "xmlsec", has xmlsec process the whole XML-DSig core.
    """

    trust: TrustStore | None = None
    intermediates: tuple[x509.Certificate, ...] = ()
    revocation: RevocationSources = field(default_factory=RevocationSources)
    validation_time: datetime | None = None
    require_whole_document: bool = True
    trust_claimed_signing_time: bool = False
    max_document_bytes: int = DEFAULT_MAX_BYTES
    clock_skew: timedelta = timedelta(minutes=5)
    core: Literal["auto", "xmlsec"] = "auto"


# --- the verifier ---------------------------------------------------------------------------------------


@dataclass
class _Reference:
    element: etree._Element
    uri: str
    kind: str  # "document", "element", "detached", "signed_properties", "key_info"
    target: etree._Element | None
    transforms: list[str]
    digest_method: str
    label: str


class _Findings:
    def __init__(self) -> None:
        self.reasons: list[Reason] = []
        self.warnings: list[Reason] = []

    def fail(self, code: str, message: str) -> None:
        if all(r.code != code or r.message != message for r in self.reasons):
            self.reasons.append(Reason(code, message, "validity"))

    def distrust(self, code: str, message: str) -> None:
        self.reasons.append(Reason(code, message, "trust"))

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(Reason(code, message, "info"))

    @property
    def invalid(self) -> bool:
        return any(r.affects == "validity" for r in self.reasons)


class XadesVerifier:
    """Verifies XAdES (baseline B and the like) signatures into a :class:`VerificationReport`."""

    def __init__(self, config: VerifierConfig | None = None) -> None:
        self.config = config or VerifierConfig()
        self._keys: BoundedCache[bytes, xmlsec.Key] = BoundedCache()
        self._facts: BoundedCache[x509.Certificate, CertificateFacts] = BoundedCache()
        self._certificates: BoundedCache[str, tuple[x509.Certificate, bool] | None] = BoundedCache()

    def verify(self, document: bytes, *, detached: bytes | Mapping[str, bytes] | None = None) -> VerificationReport:
        """Verify the one signature in ``document`` (an XML document, or a detached signature file).

        For a detached signature give the signed file's content as ``detached`` (bytes when it signs
        one file, or a mapping from the reference URI to content).
        """
        now = (self.config.validation_time or datetime.now(UTC)).astimezone(UTC)
        findings = _Findings()
        try:
            return self._verify(document, detached, now, findings)
        except InvalidInput as exc:
            findings.fail(exc.code, exc.message)
            return _report(findings, now)

    def _verify(
        self,
        document: bytes,
        detached: bytes | Mapping[str, bytes] | None,
        now: datetime,
        findings: _Findings,
    ) -> VerificationReport:
        root = parse_xml(document, max_bytes=self.config.max_document_bytes)
        signatures = list(root.iter(c.ds("Signature")))
        if not signatures:
            raise InvalidInput("Dokument nie zawiera podpisu (ds:Signature).", code="BRAK_PODPISU")
        if len(signatures) > 1:
            raise InvalidInput(
                f"Dokument zawiera {len(signatures)} podpisy; weryfikowany jest dokument z dokładnie jednym "
                "podpisem, aby było jasne, czyj podpis obejmuje które dane.",
                code="WIELE_PODPISOW",
            )
        sig = signatures[0]
        _check_structure(sig)
        ids = _check_unique_ids(root)
        signed_info = _one(sig, c.ds("SignedInfo"), "ds:SignedInfo")
        c14n_method = _one(signed_info, c.ds("CanonicalizationMethod"), "ds:CanonicalizationMethod").get(
            "Algorithm", ""
        )
        signature_method = _one(signed_info, c.ds("SignatureMethod"), "ds:SignatureMethod").get("Algorithm", "")
        if c14n_method not in SUPPORTED_C14N:
            raise InvalidInput(f"Niedozwolona metoda kanonikalizacji: {c14n_method}", code="NIEOBSLUGIWANY_ALGORYTM")
        if signature_method not in SIGNATURE_METHODS:
            raise InvalidInput(
                f"Niedozwolony algorytm podpisu: {signature_method} (dozwolone RSA i ECDSA z SHA-2).",
                code="NIEOBSLUGIWANY_ALGORYTM",
            )
        qualifying = sig.findall(f"{c.ds('Object')}/{c.xades('QualifyingProperties')}")
        if len(qualifying) != 1:
            raise InvalidInput(
                "Podpis nie jest podpisem XAdES: brak dokładnie jednego elementu QualifyingProperties.",
                code="NIEPRAWIDLOWA_STRUKTURA",
            )
        if qualifying[0].get("Target") != f"#{sig.get('Id')}" or not sig.get("Id"):
            raise InvalidInput(
                "Właściwości XAdES (QualifyingProperties/@Target) nie wskazują tego podpisu.",
                code="NIEPRAWIDLOWA_STRUKTURA",
            )
        signed_properties = _one(qualifying[0], c.xades("SignedProperties"), "xades:SignedProperties")
        references = self._references(root, sig, signed_info, signed_properties, ids, detached, findings)
        # A reference that was refused (external, or to nothing) is never handed to xmlsec.
        refused = any(r.code in ("ODWOLANIE_ZEWNETRZNE", "NIEZNALEZIONE_ODWOLANIE") for r in findings.reasons)
        coverage = _coverage(references)
        if self.config.require_whole_document and coverage.elements and not coverage.whole_document:
            findings.fail(
                "PODPIS_NIE_OBEJMUJE_CALEGO_DOKUMENTU",
                "Podpis obejmuje tylko część dokumentu (" + ", ".join(coverage.elements) + "); reszta dokumentu "
                "mogła zostać dopisana lub zmieniona bez naruszenia podpisu.",
            )
        properties = read_signed_properties(signed_properties)
        if properties.signing_time is None:
            findings.fail("BRAK_CZASU_PODPISU", "Podpis nie zawiera czasu złożenia (xades:SigningTime).")
        signer_cert, keyinfo_certs = self._signer_certificate(sig, properties, findings)
        report_base: dict[str, Any] = {"coverage": coverage, "signature_method": signature_method}
        if signer_cert is None:
            return _report(findings, now, **report_base)
        facts = self._facts.get(signer_cert, lambda: describe(signer_cert))
        intact = not refused and self._check_core(
            sig, c14n_method, signature_method, signer_cert, references, root, detached, findings
        )
        signing_time = properties.signing_time or now
        self._check_signing_time(properties, now, findings)
        self._check_certificate(facts, signing_time, now, findings)
        _check_key(signer_cert, findings)
        return self._check_trust(
            findings, now, signer_cert, keyinfo_certs, facts, signing_time, intact, report_base, properties
        )

    # --- references: what exactly does the signature cover? ---------------------------------------------

    def _references(
        self,
        root: etree._Element,
        sig: etree._Element,
        signed_info: etree._Element,
        signed_properties: etree._Element,
        ids: dict[str, etree._Element],
        detached: bytes | Mapping[str, bytes] | None,
        findings: _Findings,
    ) -> list[_Reference]:
        references: list[_Reference] = []
        is_detached_signature = root is sig
        key_info = sig.find(c.ds("KeyInfo"))
        for element in signed_info.iterfind(c.ds("Reference")):
            uri = element.get("URI")
            transforms = [t.get("Algorithm", "") for t in element.iterfind(f"{c.ds('Transforms')}/{c.ds('Transform')}")]
            digest_method = _one(element, c.ds("DigestMethod"), "ds:DigestMethod").get("Algorithm", "")
            if digest_method not in DIGEST_METHODS:
                raise InvalidInput(
                    f"Niedozwolony algorytm skrótu: {digest_method} (dozwolone SHA-256, SHA-384, SHA-512).",
                    code="NIEOBSLUGIWANY_ALGORYTM",
                )
            for transform in transforms:
                if transform not in REFERENCE_TRANSFORMS:
                    raise InvalidInput(f"Niedozwolona transformacja: {transform}", code="NIEDOZWOLONA_TRANSFORMACJA")
            if uri is None:
                raise InvalidInput("Odwołanie (ds:Reference) bez atrybutu URI.", code="NIEOBSLUGIWANE_ODWOLANIE")
            if uri == "":
                if is_detached_signature:
                    findings.fail("ODWOLANIE_DO_WNETRZA_PODPISU", "Podpis zewnętrzny obejmuje samego siebie, nie dane.")
                    references.append(_Reference(element, uri, "key_info", sig, transforms, digest_method, "podpis"))
                    continue
                references.append(_Reference(element, uri, "document", root, transforms, digest_method, "dokument"))
                continue
            if uri.startswith("#"):
                if uri.startswith("#xpointer("):
                    raise InvalidInput(f"Nieobsługiwane odwołanie XPointer: {uri}", code="NIEOBSLUGIWANE_ODWOLANIE")
                target = ids.get(uri[1:])
                if target is None:
                    findings.fail(
                        "NIEZNALEZIONE_ODWOLANIE", f"Nie znaleziono elementu, do którego odwołuje się podpis: {uri}"
                    )
                    continue
                references.append(
                    self._classify(
                        element,
                        uri,
                        target,
                        sig,
                        signed_properties,
                        key_info,
                        transforms,
                        digest_method,
                        root,
                        findings,
                    )
                )
                continue
            if not is_detached_signature:
                findings.fail(
                    "ODWOLANIE_ZEWNETRZNE",
                    f"Podpis w dokumencie odwołuje się do zasobu zewnętrznego {uri}; takie odwołania nie są "
                    "rozwiązywane (ani pliki, ani sieć).",
                )
                continue
            if transforms:
                raise InvalidInput(
                    f"Odwołanie do pliku zewnętrznego {uri} ma transformacje; podpis zewnętrzny obejmuje "
                    "plik bez zmian.",
                    code="NIEDOZWOLONA_TRANSFORMACJA",
                )
            references.append(
                _Reference(element, uri, "detached", None, transforms, digest_method, f"plik {unquote(uri)}")
            )
        kinds = [r.kind for r in references]
        if "signed_properties" not in kinds:
            findings.fail(
                "BRAK_SIGNEDPROPERTIES",
                "Podpis nie obejmuje właściwości XAdES (brak odwołania do SignedProperties): czas podpisu i "
                "certyfikat podpisującego nie są podpisane.",
            )
        if not any(kind in ("document", "element", "detached") for kind in kinds):
            findings.fail("BRAK_ODWOLANIA_DO_DOKUMENTU", "Podpis nie obejmuje żadnej części dokumentu ani pliku.")
        detached_refs = [r for r in references if r.kind == "detached"]
        if detached_refs and detached is None:
            raise InvalidInput(
                "To podpis zewnętrzny: do weryfikacji potrzebny jest podpisany plik "
                + ", ".join(unquote(r.uri) for r in detached_refs)
                + ".",
                code="BRAK_DANYCH_ZEWNETRZNYCH",
            )
        return references

    def _classify(
        self,
        element: etree._Element,
        uri: str,
        target: etree._Element,
        sig: etree._Element,
        signed_properties: etree._Element,
        key_info: etree._Element | None,
        transforms: list[str],
        digest_method: str,
        root: etree._Element,
        findings: _Findings,
    ) -> _Reference:
        type_ = element.get("Type")
        if target is signed_properties:
            if type_ != c.SIGNED_PROPERTIES_TYPE:
                findings.warn(
                    "BRAK_TYPU_ODWOLANIA",
                    "Odwołanie do SignedProperties nie ma atrybutu Type wymaganego przez XAdES.",
                )
            return _Reference(element, uri, "signed_properties", target, transforms, digest_method, "SignedProperties")
        if type_ == c.SIGNED_PROPERTIES_TYPE:
            findings.fail(
                "BRAK_SIGNEDPROPERTIES",
                f"Odwołanie typu SignedProperties ({uri}) wskazuje element inny niż SignedProperties tego podpisu.",
            )
        if key_info is not None and target is key_info:
            return _Reference(element, uri, "key_info", target, transforms, digest_method, "KeyInfo")
        if _is_within(target, sig):
            findings.fail(
                "ODWOLANIE_DO_WNETRZA_PODPISU",
                f"Podpis odwołuje się ({uri}) do elementu wewnątrz samego podpisu ({_path(target)}), a nie do "
                "treści dokumentu.",
            )
            return _Reference(element, uri, "inside_signature", target, transforms, digest_method, _path(target))
        if c.ENVELOPED in transforms and not _is_within(sig, target):
            # The enveloped-signature transform says the signature sits inside the signed element; here
            # it does not, so the signed element was moved away from its signature (XSW).
            findings.fail(
                "PODPISANY_ELEMENT_PRZENIESIONY",
                f"Podpisany element {_path(target)} nie zawiera podpisu, choć podpis jest otaczany: element "
                "przeniesiono w inne miejsce dokumentu, a na jego miejscu może być inna treść.",
            )
        if target is root:
            return _Reference(element, uri, "document", target, transforms, digest_method, "dokument")
        return _Reference(element, uri, "element", target, transforms, digest_method, _path(target))

    # --- the XML-DSig core, by xmlsec -----------------------------------------------------------------------

    def _check_core(
        self,
        sig: etree._Element,
        c14n_method: str,
        signature_method: str,
        cert: x509.Certificate,
        references: list[_Reference],
        root: etree._Element,
        detached: bytes | Mapping[str, bytes] | None,
        findings: _Findings,
    ) -> bool:
        served: dict[str, bytes] = {}
        for ref in references:
            if ref.kind == "detached":
                if isinstance(detached, bytes | bytearray):
                    served[ref.uri] = bytes(detached)
                elif detached is not None and (ref.uri in detached or unquote(ref.uri) in detached):
                    served[ref.uri] = detached.get(ref.uri, detached.get(unquote(ref.uri), b""))
                else:
                    findings.fail("BRAK_DANYCH_ZEWNETRZNYCH", f"Nie podano pliku {unquote(ref.uri)} do weryfikacji.")
                    return False
        der = cert.public_bytes(Encoding.DER)
        try:
            # A context takes a copy of the key, so one loaded key serves every verification.
            key = self._keys.get(der, lambda: xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer))
        except xmlsec.Error:
            findings.fail("BRAK_CERTYFIKATU", "Biblioteka xmlsec nie przyjęła klucza publicznego z certyfikatu.")
            return False
        signed_info = sig.find(c.ds("SignedInfo"))
        if (
            self.config.core == "auto"
            and signed_info is not None
            and _fast_profile(c14n_method, signed_info, references)
        ):
            return _check_core_fast(
                sig, signed_info, c14n_method, signature_method, key, references, root, served, findings
            )
        ctx = xmlsec.SignatureContext()
        ctx.key = key
        # Whitelists (xmlsec refuses anything not enabled once a list is set): exactly the algorithms
        # already checked against REFERENCE_TRANSFORMS, DIGEST_METHODS and SIGNATURE_METHODS above.
        reference_transforms = {REFERENCE_TRANSFORMS[t] for ref in references for t in ref.transforms}
        reference_transforms |= {DIGEST_METHODS[ref.digest_method][0] for ref in references}
        for transform in reference_transforms:
            ctx.enable_reference_transform(transform)
        for transform in (C14N_TRANSFORMS[c14n_method], SIGNATURE_METHODS[signature_method]):
            ctx.enable_signature_transform(transform)
        for ref in references:
            if ref.target is not None and ref.uri.startswith("#"):
                name, namespace = _id_attribute(ref.target, ref.uri[1:])
                ctx.register_id(ref.target, name, namespace)
        try:
            with serving(served):
                ctx.verify(sig)
            return True
        except xmlsec.Error:
            pass
        self._diagnose(sig, references, root, served, findings)
        return False

    def _diagnose(
        self,
        sig: etree._Element,
        references: list[_Reference],
        root: etree._Element,
        served: dict[str, bytes],
        findings: _Findings,
    ) -> None:
        """Tell which reference broke, by recomputing its digest; if none did, the SignatureValue is wrong."""
        broken = _broken_references(references, sig, root, served)
        _report_broken(broken, findings)
        if not broken:
            findings.fail(
                "NIEPRAWIDLOWA_WARTOSC_PODPISU",
                "Wartość podpisu (SignatureValue) nie zgadza się z kluczem certyfikatu podpisującego.",
            )

    def _signer_certificate(
        self, sig: etree._Element, properties: SignedPropertiesData, findings: _Findings
    ) -> tuple[x509.Certificate | None, list[x509.Certificate]]:
        """The signing certificate from KeyInfo, checked against SigningCertificate(V2)."""
        certs: list[x509.Certificate] = []
        authorities: set[x509.Certificate] = set()
        for element in sig.iterfind(f"{c.ds('KeyInfo')}/{c.ds('X509Data')}/{c.ds('X509Certificate')}"):
            text = element.text or ""
            loaded = self._certificates.get(text, functools.partial(_load_certificate, text))
            if loaded is None:
                findings.fail("NIEPRAWIDLOWA_STRUKTURA", "Nie można odczytać certyfikatu z ds:KeyInfo.")
                continue
            certs.append(loaded[0])
            if loaded[1]:
                authorities.add(loaded[0])
        if not certs:
            findings.fail(
                "BRAK_CERTYFIKATU",
                "Podpis nie zawiera certyfikatu podpisującego w ds:KeyInfo/ds:X509Data (EN 319 132-1, 6.3 a).",
            )
            return None, []
        end_entity = [cert for cert in certs if cert not in authorities] or certs
        if not properties.certificate_digests:
            findings.fail(
                "CERTYFIKAT_NIEZGODNY_Z_PODPISANYM",
                "Podpis nie zawiera podpisanego odniesienia do certyfikatu (SigningCertificateV2).",
            )
            return end_entity[0], certs
        referenced = [
            cert
            for cert in end_entity
            if any(
                digest.algorithm in CERT_DIGESTS and cert.fingerprint(CERT_DIGESTS[digest.algorithm]) == digest.value
                for digest in properties.certificate_digests
            )
        ]
        if referenced:
            return referenced[0], certs
        findings.fail(
            "CERTYFIKAT_NIEZGODNY_Z_PODPISANYM",
            "Certyfikat w ds:KeyInfo nie jest certyfikatem wskazanym w podpisanych właściwościach "
            "(SigningCertificateV2): podpisujący nie jest tym, kogo wskazuje podpis.",
        )
        return end_entity[0], certs

    # --- time, certificate, trust ---------------------------------------------------------------------------

    def _check_signing_time(self, properties: SignedPropertiesData, now: datetime, findings: _Findings) -> None:
        if properties.signing_time is not None and properties.signing_time > now + self.config.clock_skew:
            findings.fail(
                "CZAS_PODPISU_Z_PRZYSZLOSCI",
                f"Deklarowany czas podpisu {properties.signing_time:%Y-%m-%d %H:%M:%S} UTC jest późniejszy niż "
                "chwila weryfikacji.",
            )

    def _check_certificate(
        self, facts: CertificateFacts, signing_time: datetime, now: datetime, findings: _Findings
    ) -> None:
        if signing_time > facts.not_after:
            findings.fail(
                "CERTYFIKAT_WYGASL",
                f"Certyfikat podpisującego wygasł {facts.not_after:%Y-%m-%d %H:%M} UTC, przed deklarowanym czasem "
                "podpisu.",
            )
        if signing_time < facts.not_before:
            findings.fail(
                "CERTYFIKAT_JESZCZE_NIEWAZNY",
                f"Certyfikat podpisującego jest ważny dopiero od {facts.not_before:%Y-%m-%d %H:%M} UTC, później "
                "niż deklarowany czas podpisu.",
            )
        if not self.config.trust_claimed_signing_time and now > facts.not_after >= signing_time:
            findings.fail(
                "CERTYFIKAT_WYGASL",
                f"Certyfikat podpisującego wygasł {facts.not_after:%Y-%m-%d %H:%M} UTC; podpis B-B nie ma "
                "znacznika czasu, więc nie da się wykazać, że złożono go wcześniej.",
            )
        # RFC 5280, 4.2.1.3: a signing certificate must allow digitalSignature or nonRepudiation.
        if facts.key_usage_present and not (facts.non_repudiation or facts.digital_signature):
            findings.fail(
                "NIEDOZWOLONE_UZYCIE_KLUCZA",
                "Rozszerzenie keyUsage certyfikatu nie pozwala na składanie podpisu.",
            )

    def _check_trust(
        self,
        findings: _Findings,
        now: datetime,
        signer_cert: x509.Certificate,
        keyinfo_certs: list[x509.Certificate],
        facts: CertificateFacts,
        signing_time: datetime,
        intact: bool,
        report_base: dict[str, Any],
        properties: SignedPropertiesData,
    ) -> VerificationReport:
        store = self.config.trust
        moments = [(signing_time, "w chwili podpisu")]
        if not self.config.trust_claimed_signing_time:
            moments.append((now, "w chwili weryfikacji"))
        chain: tuple[x509.Certificate, ...] = (signer_cert,)
        anchor_name = anchor_source = None
        trusted = False
        if store is None or len(store) == 0:
            findings.distrust(
                "BRAK_KOTWIC_ZAUFANIA", "Nie skonfigurowano kotwic zaufania (katalogu ani listy zaufania)."
            )
        else:
            candidates = [cert for cert in (*keyinfo_certs, *self.config.intermediates) if cert != signer_cert]
            path = build_path(signer_cert, store, candidates, moments)
            chain = path.certificates
            for problem in path.problems:
                findings.distrust(problem.code, problem.message)
            if path.anchor is not None:
                anchor_name = display_name(path.anchor.certificate.subject)
                anchor_source = path.anchor.source
            trusted = path.trusted
        revocation = self._check_revocation(chain, signing_time, now, findings)
        if properties.signing_certificate_version == 1:
            findings.warn(
                "PRZESTARZALY_SIGNINGCERTIFICATE",
                "Podpis używa przestarzałego elementu SigningCertificate zamiast SigningCertificateV2.",
            )
        if not facts.qualified_for_esignature:
            findings.warn(
                "CERTYFIKAT_NIEKWALIFIKOWANY",
                "Certyfikat nie jest kwalifikowanym certyfikatem podpisu elektronicznego; brakuje: "
                + ", ".join(facts.missing_for_esignature)
                + ".",
            )
        elif trusted and anchor_source != "lista zaufania":
            findings.warn(
                "KWALIFIKOWANY_BEZ_LISTY_ZAUFANIA",
                "Status kwalifikowany wynika z certyfikatu (QCStatements); kotwica pochodzi z katalogu, nie z "
                "listy zaufania.",
            )
        findings.warn(
            "CZAS_DEKLAROWANY",
            "Czas podpisu jest deklarowany przez podpisującego (XAdES B-B nie zawiera znacznika czasu).",
        )
        valid = intact and not findings.invalid
        return _report(
            findings,
            now,
            valid=valid,
            trusted=trusted,
            qualified=valid and trusted and facts.qualified_for_esignature,
            intact=intact,
            signing_time=properties.signing_time,
            certificate=facts,
            chain=tuple(display_name(cert.subject) for cert in chain),
            trust_anchor=anchor_name,
            trust_anchor_source=anchor_source,
            revocation=revocation,
            **report_base,
        )

    def _check_revocation(
        self, chain: tuple[x509.Certificate, ...], signing_time: datetime, now: datetime, findings: _Findings
    ) -> RevocationStatus | None:
        if len(chain) < 2:
            findings.warn(
                "STATUS_UNIEWAZNIENIA_NIEZNANY",
                "Nie sprawdzono unieważnienia: nie znaleziono certyfikatu wystawcy.",
            )
            return RevocationStatus(RevocationState.UNKNOWN, note="nieznany wystawca")
        statuses = [
            check_revocation(cert, issuer, self.config.revocation, now) for cert, issuer in itertools.pairwise(chain)
        ]
        for index, status in enumerate(statuses):
            if status.state is not RevocationState.REVOKED:
                continue
            who = "podpisującego" if index == 0 else f"wystawcy {display_name(chain[index].subject)}"
            when = status.revoked_at
            if when is None or when <= signing_time or status.reason == "certificateHold":
                findings.fail(
                    "CERTYFIKAT_UNIEWAZNIONY",
                    f"Certyfikat {who} został unieważniony"
                    + (f" {when:%Y-%m-%d %H:%M} UTC" if when else "")
                    + " (przed deklarowanym czasem podpisu; źródło: "
                    + f"{status.source}).",
                )
            elif not self.config.trust_claimed_signing_time:
                findings.fail(
                    "CERTYFIKAT_UNIEWAZNIONY",
                    f"Certyfikat {who} został unieważniony {when:%Y-%m-%d %H:%M} UTC, po deklarowanym czasie "
                    "podpisu; podpis B-B nie ma znacznika czasu, więc nie da się wykazać, że złożono go wcześniej.",
                )
            else:
                findings.warn(
                    "UNIEWAZNIONY_PO_PODPISIE",
                    f"Certyfikat {who} został unieważniony {when:%Y-%m-%d %H:%M} UTC, po deklarowanym czasie podpisu.",
                )
        signer_status = statuses[0]
        if signer_status.stale:
            # The issuer's CRL (or OCSP answer) was given and has expired: RFC 5280, 6.3 cannot establish the
            # status, and ETSI EN 319 102-1 makes such a signature INDETERMINATE, not valid. Only a status
            # nobody supplied at all stays a note (docs/signing.md "Revocation").
            findings.fail(
                "STATUS_UNIEWAZNIENIA_NIEUSTALONY",
                f"Nie ustalono statusu unieważnienia certyfikatu podpisującego: {signer_status.note}; "
                "podpisu nie można uznać za ważny, dopóki nie będzie aktualnej listy CRL lub odpowiedzi OCSP.",
            )
        elif signer_status.state is RevocationState.UNKNOWN:
            findings.warn(
                "STATUS_UNIEWAZNIENIA_NIEZNANY",
                f"Nie ustalono statusu unieważnienia certyfikatu podpisującego ({signer_status.note}).",
            )
        return signer_status


# --- helpers ---------------------------------------------------------------------------------------------


def _report(findings: _Findings, now: datetime, **fields: Any) -> VerificationReport:
    fields.setdefault("valid", False)
    fields.setdefault("trusted", False)
    fields.setdefault("qualified", False)
    fields.setdefault("intact", False)
    return VerificationReport(
        validation_time=now, reasons=tuple(findings.reasons), warnings=tuple(findings.warnings), **fields
    )


def _check_structure(sig: etree._Element) -> None:
    """The element order of XML Signature 1.1, 4 (its schema), which xmlsec enforces and the lxml core must too.

    Without it the lxml core reads the first SignatureValue or DigestValue, or Transform of any
    Transforms, where xmlsec (and xmlsec1, signxml) refuse the signature, so "valid" would differ by core.
    """

    def children(element: etree._Element) -> list[str]:
        names = []
        for child in element:
            if isinstance(child.tag, str):
                qname = etree.QName(child)
                names.append(qname.localname if qname.namespace == c.DS_NS else "?")
        return names

    def refuse(name: str) -> None:
        raise InvalidInput(
            f"Element ds:{name} podpisu ma niedozwolony układ elementów (XML Signature 1.1, 4).",
            code="NIEPRAWIDLOWA_STRUKTURA",
        )

    tags = children(sig)
    after = tags[3:] if tags[2:3] == ["KeyInfo"] else tags[2:]
    if tags[:2] != ["SignedInfo", "SignatureValue"] or any(name != "Object" for name in after):
        refuse("Signature")
    signed_info = sig.find(c.ds("SignedInfo"))
    assert signed_info is not None  # the first child, as just checked
    tags = children(signed_info)
    if tags[:2] != ["CanonicalizationMethod", "SignatureMethod"] or not tags[2:] or set(tags[2:]) != {"Reference"}:
        refuse("SignedInfo")
    for reference in signed_info.iterfind(c.ds("Reference")):
        tags = children(reference)
        if tags not in (["DigestMethod", "DigestValue"], ["Transforms", "DigestMethod", "DigestValue"]):
            refuse("Reference")
        transforms = reference.find(c.ds("Transforms"))
        if transforms is not None and (not len(transforms) or set(children(transforms)) != {"Transform"}):
            refuse("Transforms")


def _check_key(cert: x509.Certificate, findings: _Findings) -> None:
    """ETSI TS 119 312 via the signer's own limits: RSA keys of at least 2048 bits; no TLS-server or TSA key.

    RFC 5280, 4.2.1.12: with extendedKeyUsage present, the key serves only the purposes it lists; a key
    limited to TLS servers, time-stamping or OCSP is not a document signer's.
    """
    try:
        public_key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        findings.fail(
            "NIEOBSLUGIWANY_ALGORYTM",
            "Certyfikat podpisującego zawiera klucz nieznanego albo nieobsługiwanego rodzaju (obsługiwane: RSA, EC).",
        )
        return
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < RSA_MIN_BITS:
        findings.fail(
            "ZA_SLABY_KLUCZ",
            f"Klucz RSA certyfikatu podpisującego ma {public_key.key_size} bitów; wymagane co najmniej {RSA_MIN_BITS} "
            "(ETSI TS 119 312).",
        )
    try:
        purposes = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except (x509.ExtensionNotFound, ValueError):
        return
    if purposes and purposes <= _NOT_FOR_DOCUMENTS:
        findings.fail(
            "NIEDOZWOLONE_UZYCIE_KLUCZA",
            "Rozszerzenie extendedKeyUsage certyfikatu ogranicza klucz do serwerów TLS, znakowania czasem lub OCSP; "
            "nie służy on do podpisywania dokumentów.",
        )


_NOT_FOR_DOCUMENTS = {
    ExtendedKeyUsageOID.SERVER_AUTH,
    ExtendedKeyUsageOID.TIME_STAMPING,
    ExtendedKeyUsageOID.OCSP_SIGNING,
}


def _one(parent: etree._Element, tag: str, name: str) -> etree._Element:
    found = parent.findall(tag)
    if len(found) != 1:
        raise InvalidInput(f"Podpis musi zawierać dokładnie jeden element {name}.", code="NIEPRAWIDLOWA_STRUKTURA")
    return found[0]


_ID_XPATH = etree.XPath("//@Id | //@ID | //@id | //@xml:id", namespaces={"xml": XML_NS})


def _check_unique_ids(root: etree._Element) -> dict[str, etree._Element]:
    """Map every identifier to its element; refuse a document in which one is used twice.

    Duplicate identifiers are the basis of most signature-wrapping attacks: the verifier's "#id" lookup
    and the application's reading would see different elements.
    """
    values: list[Any] = _ID_XPATH(root)
    counts = Counter(str(value) for value in values)
    duplicates = sorted(value for value, count in counts.items() if count > 1)
    if duplicates:
        raise InvalidInput(
            "Identyfikator " + ", ".join(duplicates) + " występuje w dokumencie więcej niż raz (możliwa próba "
            "ataku przez przeniesienie podpisanego elementu, XML signature wrapping).",
            code="ZDUPLIKOWANY_IDENTYFIKATOR",
        )
    return {str(value): value.getparent() for value in values}


def _id_attribute(element: etree._Element, value: str) -> tuple[str, str | None]:
    for name in ID_ATTRIBUTES:
        if element.get(name) == value:
            return name, None
    return "id", XML_NS


def _is_within(element: etree._Element, ancestor: etree._Element) -> bool:
    node: etree._Element | None = element
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


def _path(element: etree._Element) -> str:
    parts = []
    node: etree._Element | None = element
    while node is not None:
        parts.append(etree.QName(node).localname)
        node = node.getparent()
    return "/" + "/".join(reversed(parts))


def _coverage(references: list[_Reference]) -> Coverage:
    return Coverage(
        whole_document=any(r.kind == "document" for r in references),
        elements=tuple(r.label for r in references if r.kind == "element"),
        detached=tuple(unquote(r.uri) for r in references if r.kind == "detached"),
    )


def _b64(text: str | None) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _reference_digest(ref: _Reference, sig: etree._Element, root: etree._Element, served: dict[str, bytes]) -> bytes:
    hasher = DIGEST_METHODS[ref.digest_method][1]
    if ref.kind == "detached":
        return hasher(served.get(ref.uri, b"")).digest()
    if ref.target is None:
        raise ValueError("no target")
    c14n = next((t for t in ref.transforms if t in SUPPORTED_C14N), c.C14N_10)
    if c.ENVELOPED in ref.transforms and _is_within(ref.target, sig):
        # The transform removes the whole Signature subtree, and the target with it.
        return hasher(b"").digest()
    # Only URI="" selects the whole document with the comments and PIs around the root element; "#id"
    # naming the root element selects that element's subtree alone (XML-DSig 1.1, 4.4.3.3).
    whole_document = ref.uri == "" and ref.target is root
    if c.ENVELOPED in ref.transforms and _is_within(sig, ref.target):
        with _detached_from_tree(sig):
            if whole_document:
                return hasher(canonicalize_document(root, c14n)).digest()
            return hasher(canonicalize(ref.target, c14n, reference=True)).digest()
    if whole_document:
        return hasher(canonicalize_document(root, c14n)).digest()
    return hasher(canonicalize(ref.target, c14n, reference=True)).digest()


def _broken_references(
    references: list[_Reference], sig: etree._Element, root: etree._Element, served: dict[str, bytes]
) -> list[_Reference]:
    broken = []
    for ref in references:
        expected = _b64(ref.element.findtext(c.ds("DigestValue")))
        try:
            actual = _reference_digest(ref, sig, root, served)
        except (InvalidInput, ValueError):
            broken.append(ref)
            continue
        if actual != expected:
            broken.append(ref)
    return broken


def _report_broken(broken: list[_Reference], findings: _Findings) -> None:
    for ref in broken:
        what = {
            "document": "Treść dokumentu została zmieniona po podpisaniu",
            "signed_properties": "Podpisane właściwości XAdES (SignedProperties) zostały zmienione po podpisaniu",
            "detached": f"Plik {unquote(ref.uri)} różni się od podpisanego",
        }.get(ref.kind, f"Element {ref.label} został zmieniony po podpisaniu")
        uri = ref.uri or '""'
        findings.fail("NIEZGODNY_SKROT", f"{what} (skrót odwołania URI={uri} nie zgadza się).")


_FAST_C14N = {c.C14N_10, c.C14N_10_COMMENTS, c.EXC_C14N, c.EXC_C14N_COMMENTS}


def _fast_profile(c14n_method: str, signed_info: etree._Element, references: list[_Reference]) -> bool:
    """The signature stays within what lxml's C14N computes exactly as the XML-DSig rules say.

    C14N 1.0 (inclusive or exclusive, without an InclusiveNamespaces prefix list); per reference at most
    an enveloped-signature transform first and one canonicalization last. C14N 1.1 (signxml's default)
    and anything else goes to xmlsec.
    """
    if c14n_method not in _FAST_C14N or signed_info.find(f".//{{{c.EXC_C14N}}}InclusiveNamespaces") is not None:
        return False
    for ref in references:
        transforms = ref.transforms
        if transforms[:1] == [c.ENVELOPED]:
            transforms = transforms[1:]
        if len(transforms) > 1 or (transforms and transforms[0] not in _FAST_C14N):
            return False
    return True


def _check_core_fast(
    sig: etree._Element,
    signed_info: etree._Element,
    c14n_method: str,
    signature_method: str,
    key: xmlsec.Key,
    references: list[_Reference],
    root: etree._Element,
    served: dict[str, bytes],
    findings: _Findings,
) -> bool:
    """XML-DSig core validation (XML Signature 1.1, 3.2): references first, then the SignatureValue."""
    broken = _broken_references(references, sig, root, served)
    _report_broken(broken, findings)
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    try:
        ctx.verify_binary(
            canonicalize(signed_info, c14n_method),
            SIGNATURE_METHODS[signature_method],
            _b64(sig.findtext(c.ds("SignatureValue"))),
        )
    except xmlsec.Error:
        findings.fail(
            "NIEPRAWIDLOWA_WARTOSC_PODPISU",
            "Wartość podpisu (SignatureValue) nie zgadza się z kluczem certyfikatu podpisującego.",
        )
        return False
    return not broken


@contextmanager
def _detached_from_tree(sig: etree._Element) -> Iterator[None]:
    """Take the signature out of its tree for a moment, as the enveloped-signature transform does.

    The transform removes the Signature element only: the text after it stays, so its tail is given to
    the previous sibling (or the parent's text) and everything is put back afterwards.
    """
    parent = sig.getparent()
    if parent is None:
        yield
        return
    index = parent.index(sig)
    tail = sig.tail
    previous = sig.getprevious()
    saved = previous.tail if previous is not None else parent.text
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(sig)
    try:
        yield
    finally:
        parent.insert(index, sig)
        sig.tail = tail
        if previous is not None:
            previous.tail = saved
        else:
            parent.text = saved


#: What cryptography raises from a certificate whose parts are malformed: it parses names and extensions
#: only when they are first read, so they are read here, once, where the certificate enters (tests/fuzz).
_MALFORMED_CERTIFICATE = (ValueError, TypeError, x509.DuplicateExtension, x509.InvalidVersion)


def _load_certificate(text: str) -> tuple[x509.Certificate, bool] | None:
    """A KeyInfo certificate read whole (names, extensions, the facts the report shows), or None."""
    try:
        cert = x509.load_der_x509_certificate(_b64(text))
        describe(cert)
        return cert, _is_ca(cert)
    except _MALFORMED_CERTIFICATE:
        return None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False
