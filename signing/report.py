"""The verification report: a result object (not a tuple), rendered in Polish or as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .certificates import CertificateFacts
from .errors import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature, SigningError
from .revocation import RevocationState, RevocationStatus

Affects = Literal["validity", "trust", "info"]

# Which exception each reason code stands for, when a caller asks the report to raise.
_DIGEST_CODES = {"NIEZGODNY_SKROT"}
_INPUT_CODES = {
    "DOCTYPE_NIEDOZWOLONY",
    "DOKUMENT_ZA_DUZY",
    "NIEPRAWIDLOWY_XML",
    "NIEPRAWIDLOWE_DANE",
    "BRAK_PODPISU",
    "WIELE_PODPISOW",
    "NIEPRAWIDLOWA_STRUKTURA",
    "NIEOBSLUGIWANY_ALGORYTM",
    "NIEDOZWOLONA_TRANSFORMACJA",
    "BRAK_DANYCH_ZEWNETRZNYCH",
}
_CERTIFICATE_CODES = {
    "BRAK_CERTYFIKATU",
    "CERTYFIKAT_NIEZGODNY_Z_PODPISANYM",
    "CERTYFIKAT_WYGASL",
    "CERTYFIKAT_JESZCZE_NIEWAZNY",
    "CERTYFIKAT_UNIEWAZNIONY",
    "STATUS_UNIEWAZNIENIA_NIEUSTALONY",
    "NIEDOZWOLONE_UZYCIE_KLUCZA",
    "ZA_SLABY_KLUCZ",
    "BRAK_ZAUFANIA",
    "BRAK_KOTWIC_ZAUFANIA",
    "WYSTAWCA_NIE_JEST_CA",
    "WYSTAWCA_BEZ_KEYCERTSIGN",
    "PRZEKROCZONA_DLUGOSC_SCIEZKI",
    "CERTYFIKAT_W_SCIEZCE_NIEWAZNY",
}


@dataclass(frozen=True)
class Reason:
    """One finding: a stable code, a Polish sentence, and whether it touches validity or trust."""

    code: str
    message: str
    affects: Affects = "validity"

    def to_dict(self) -> dict[str, str]:
        """The reason as JSON-ready data."""
        return {"code": self.code, "message": self.message}

    def exception(self) -> SigningError:
        """The typed exception that stands for this reason."""
        if self.code in _DIGEST_CODES:
            return InvalidDigest(self.message, code=self.code)
        if self.code in _INPUT_CODES:
            return InvalidInput(self.message, code=self.code)
        if self.code in _CERTIFICATE_CODES or self.affects == "trust":
            return InvalidCertificate(self.message, code=self.code)
        return InvalidSignature(self.message, code=self.code)


@dataclass(frozen=True)
class Coverage:
    """What the signature covers."""

    whole_document: bool = False
    elements: tuple[str, ...] = ()  # paths of signed elements, when only parts are signed
    detached: tuple[str, ...] = ()  # URIs of signed external data

    def describe(self) -> str:
        """A Polish description."""
        parts = []
        if self.whole_document:
            parts.append("cały dokument")
        if self.elements:
            parts.append("tylko elementy: " + ", ".join(self.elements))
        if self.detached:
            parts.append("plik zewnętrzny: " + ", ".join(self.detached))
        return "; ".join(parts) or "nic z dokumentu"


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of verifying one XAdES signature.

    ``valid``: the signature is cryptographically intact, covers what it must, and its certificate was
    valid and not revoked; ``trusted``: the certificate chains to a configured trust anchor;
    ``qualified``: moreover a qualified certificate for electronic signatures on a QSCD (QCStatements)
    with non-repudiation. ``accepted`` (valid and trusted) is what the CLI's exit code says.
    """

    valid: bool
    trusted: bool
    qualified: bool
    intact: bool
    validation_time: datetime
    signing_time: datetime | None = None
    coverage: Coverage = field(default_factory=Coverage)
    certificate: CertificateFacts | None = None
    chain: tuple[str, ...] = ()
    trust_anchor: str | None = None
    trust_anchor_source: str | None = None
    revocation: RevocationStatus | None = None
    signature_method: str | None = None
    reasons: tuple[Reason, ...] = ()
    warnings: tuple[Reason, ...] = ()

    @property
    def accepted(self) -> bool:
        """Valid and chained to a trust anchor."""
        return self.valid and self.trusted

    @property
    def signer(self) -> str | None:
        """The signer's name from the certificate."""
        return self.certificate.signer_name if self.certificate else None

    @property
    def pesel(self) -> str | None:
        """The signer's PESEL, when the certificate carries one (serialNumber PNOPL-...)."""
        return self.certificate.pesel if self.certificate else None

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """The codes of all reasons."""
        return tuple(reason.code for reason in self.reasons)

    def raise_for_problems(self) -> None:
        """Raise the typed exception of the first reason, if the signature is not accepted."""
        if self.reasons:
            raise self.reasons[0].exception()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: ``valid``, ``qualified``, ``signer``, ``pesel``, ``signing_time``, ``reasons``..."""
        cert = self.certificate
        return {
            "valid": self.valid,
            "trusted": self.trusted,
            "accepted": self.accepted,
            "qualified": self.qualified,
            "intact": self.intact,
            "signer": self.signer,
            "pesel": self.pesel,
            "signing_time": _iso(self.signing_time),
            "validation_time": _iso(self.validation_time),
            "covers": {
                "whole_document": self.coverage.whole_document,
                "elements": list(self.coverage.elements),
                "detached": list(self.coverage.detached),
                "description": self.coverage.describe(),
            },
            "certificate": None
            if cert is None
            else {
                "subject": cert.subject,
                "issuer": cert.issuer,
                "serial_number": cert.serial_number,
                "not_before": _iso(cert.not_before),
                "not_after": _iso(cert.not_after),
                "qc_compliance": cert.qc_compliance,
                "qc_sscd": cert.qc_sscd,
                "qc_type_esign": cert.qc_esign,
                "non_repudiation": cert.non_repudiation,
            },
            "chain": list(self.chain),
            "trust_anchor": self.trust_anchor,
            "trust_anchor_source": self.trust_anchor_source,
            "revocation": None
            if self.revocation is None
            else {
                "status": self.revocation.state.value,
                "source": self.revocation.source,
                "revoked_at": _iso(self.revocation.revoked_at),
                "reason": self.revocation.reason,
                "note": self.revocation.note,
            },
            "signature_method": self.signature_method,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "warnings": [warning.to_dict() for warning in self.warnings],
        }

    def to_json(self) -> str:
        """The report as JSON (UTF-8 text, Polish letters unescaped)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def render(self) -> str:
        """The report in Polish, for people."""
        lines = [f"Wynik weryfikacji: {_verdict(self)}"]
        lines.append(f"Podpis kryptograficznie poprawny: {_yes(self.intact)}")
        if self.certificate is not None:
            who = self.certificate.signer_name
            if self.certificate.pesel:
                who += f" (PESEL {self.certificate.pesel})"
            lines.append(f"Podpisujący: {who}")
            lines.append(f"Wystawca certyfikatu: {self.certificate.issuer}")
        if self.signing_time is not None:
            lines.append(
                f"Czas złożenia podpisu (deklarowany przez podpisującego): {self.signing_time:%Y-%m-%d %H:%M:%S} UTC"
            )
        lines.append(f"Zakres podpisu: {self.coverage.describe()}")
        if self.certificate is not None:
            cert = self.certificate
            lines.append(
                f"Certyfikat kwalifikowany: {_yes(self.qualified)} (QcCompliance: {_yes(cert.qc_compliance)}, "
                f"QcSSCD: {_yes(cert.qc_sscd)}, QcType esign: {_yes(cert.qc_esign)}, "
                f"niezaprzeczalność: {_yes(cert.non_repudiation)})"
            )
            lines.append(f"Ważność certyfikatu: od {cert.not_before:%Y-%m-%d} do {cert.not_after:%Y-%m-%d}")
        if self.chain:
            lines.append("Ścieżka certyfikacji: " + " ← ".join(self.chain))
        if self.trust_anchor:
            lines.append(f"Kotwica zaufania: {self.trust_anchor} ({self.trust_anchor_source})")
        else:
            lines.append("Kotwica zaufania: nie znaleziono")
        lines.append(f"Status unieważnienia: {_revocation(self.revocation)}")
        lines.append(f"Chwila weryfikacji: {self.validation_time:%Y-%m-%d %H:%M:%S} UTC")
        if self.reasons:
            lines.append("Powody:")
            lines.extend(f"  - [{reason.code}] {reason.message}" for reason in self.reasons)
        if self.warnings:
            lines.append("Uwagi:")
            lines.extend(f"  - [{warning.code}] {warning.message}" for warning in self.warnings)
        return "\n".join(lines)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _yes(flag: bool) -> str:
    return "tak" if flag else "nie"


def _verdict(report: VerificationReport) -> str:
    if report.accepted:
        return "PODPIS WAŻNY" + (" (kwalifikowany)" if report.qualified else " (niekwalifikowany)")
    if report.valid:
        return "PODPIS POPRAWNY, ALE NIEZAUFANY"
    return "PODPIS NIEWAŻNY"


def _revocation(status: RevocationStatus | None) -> str:
    if status is None:
        return "nie sprawdzono"
    if status.state is RevocationState.GOOD:
        return f"nieunieważniony (źródło: {status.source})"
    if status.state is RevocationState.REVOKED:
        when = f" {status.revoked_at:%Y-%m-%d %H:%M} UTC" if status.revoked_at else ""
        return f"UNIEWAŻNIONY{when} (źródło: {status.source})"
    return f"nieznany ({status.note or 'brak danych'})"
