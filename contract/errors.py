"""The project's domain errors: each has a stable machine code and a Polish message for a clerk.

Raised in the core; exactly one place maps them to SOAP Faults (`hub.soap.services.faults`).
"""

from __future__ import annotations


class PlatformError(Exception):
    """Base of all domain errors. `code` is a stable contract value; `message` is Polish."""

    code = "BLAD_PLATFORMY"
    client_error = True

    def __init__(self, message: str, *, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidPesel(PlatformError):
    code = "NIEPRAWIDLOWY_PESEL"


class InvalidIdentifier(PlatformError):
    code = "NIEPRAWIDLOWY_IDENTYFIKATOR"


class UnknownDataSet(PlatformError):
    code = "NIEZNANY_ZBIOR"


class UnknownCategory(PlatformError):
    code = "NIEZNANA_KATEGORIA"


class UnknownLegalBasis(PlatformError):
    code = "NIEZNANA_PODSTAWA_PRAWNA"


class MissingPurpose(PlatformError):
    code = "BRAK_CELU"


class InvalidRequest(PlatformError):
    code = "NIEPRAWIDLOWE_ZAPYTANIE"


class NotAllowed(PlatformError):
    """The query asks for something the caller's scope does not allow; `details` lists what."""

    code = "BRAK_UPRAWNIEN"


class AuthenticationRequired(PlatformError):
    code = "BRAK_UWIERZYTELNIENIA"


class AuthenticationFailed(PlatformError):
    code = "BLEDNE_UWIERZYTELNIENIE"


class MalformedXml(PlatformError):
    code = "NIEPRAWIDLOWY_XML"


class ForbiddenXml(PlatformError):
    """DTDs, entities and processing instructions are refused outright (XXE, entity bombs)."""

    code = "NIEDOZWOLONA_KONSTRUKCJA_XML"


class RequestTooLarge(PlatformError):
    code = "ZBYT_DUZE_ZAPYTANIE"


class SchemaViolation(PlatformError):
    code = "NIEZGODNOSC_ZE_SCHEMATEM"


class InternalError(PlatformError):
    code = "BLAD_WEWNETRZNY"
    client_error = False


class ConfigurationError(PlatformError):
    code = "BLAD_KONFIGURACJI"
    client_error = False


class WeakPassword(PlatformError):
    code = "SLABE_HASLO"


class PasswordChangeRequired(PlatformError):
    code = "WYMAGANA_ZMIANA_HASLA"
