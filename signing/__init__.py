"""XAdES signatures and qualified-certificate verification for the Platforma komunikacyjna.

The public surface is small, as in signxml: a signer, a verifier, their configuration objects, the
report, the trust store, key sources, and a tree of typed exceptions. ``signing`` knows nothing of the
hub; the hub calls it.

    signer = XadesSigner(load_key("klucz.p12", password="..."))
    signed = signer.sign_enveloped(document_bytes)
    report = XadesVerifier(VerifierConfig(trust=TrustStore.from_path("TSL-PL.xml"))).verify(signed)
    report.accepted, report.qualified, report.signer, report.pesel
"""

from .errors import InvalidCertificate, InvalidDigest, InvalidInput, InvalidKey, InvalidSignature, SigningError
from .keys import SigningKey, SoftwareKey, load_key, load_pem, load_pkcs12
from .report import Coverage, Reason, VerificationReport
from .revocation import RevocationSources, RevocationState, RevocationStatus, load_crls
from .signer import SignerConfig, XadesSigner
from .trust import TrustAnchor, TrustStore
from .verifier import VerifierConfig, XadesVerifier

__all__ = [
    "Coverage",
    "InvalidCertificate",
    "InvalidDigest",
    "InvalidInput",
    "InvalidKey",
    "InvalidSignature",
    "Reason",
    "RevocationSources",
    "RevocationState",
    "RevocationStatus",
    "SignerConfig",
    "SigningError",
    "SigningKey",
    "SoftwareKey",
    "TrustAnchor",
    "TrustStore",
    "VerificationReport",
    "VerifierConfig",
    "XadesSigner",
    "XadesVerifier",
    "load_crls",
    "load_key",
    "load_pem",
    "load_pkcs12",
]
