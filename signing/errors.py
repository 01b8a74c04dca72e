"""The exceptions of ``signing``: a small tree that callers can catch precisely.

Every exception carries a stable machine ``code`` (upper-case, ASCII, as the hub's SOAP faults use) and a
Polish ``message`` a clerk can read; further data are attributes, never only text (as signxml's
``InvalidDigest`` and zeep's ``Fault`` do).
"""

from __future__ import annotations


class SigningError(Exception):
    """Base of every error raised by ``signing``."""

    default_code = "BLAD_PODPISU"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def __str__(self) -> str:
        return self.message


class InvalidInput(SigningError):
    """The XML (or other input) is malformed, too large, carries a DTD, or has an unsupported shape."""

    default_code = "NIEPRAWIDLOWE_DANE"


class InvalidKey(SigningError):
    """A key source could not give a usable signing key (wrong password, unsupported key, token error)."""

    default_code = "NIEPRAWIDLOWY_KLUCZ"


class InvalidSignature(SigningError):
    """The signature does not verify, or it does not cover what it must."""

    default_code = "NIEPRAWIDLOWY_PODPIS"


class InvalidDigest(InvalidSignature):
    """A ``ds:Reference`` digest does not match the data it points to."""

    default_code = "NIEZGODNY_SKROT"

    def __init__(self, message: str, *, code: str | None = None, reference_uri: str | None = None) -> None:
        super().__init__(message, code=code)
        self.reference_uri = reference_uri


class InvalidCertificate(SigningError):
    """The signer's certificate is expired, revoked, untrusted, or does not match the signed properties."""

    default_code = "NIEPRAWIDLOWY_CERTYFIKAT"

    def __init__(self, message: str, *, code: str | None = None, subject: str | None = None) -> None:
        super().__init__(message, code=code)
        self.subject = subject
