"""The project's domain errors: each has a stable machine code and a Polish message for a clerk.

Raised in the core; exactly one place maps them to SOAP Faults (`hub.soap.services.faults`). Each error may
carry `details`: structured `Detail`s (what kind of thing, its value, the data set it concerns), so that no
consumer parses a pre-formatted string; each still reads as its 1.0 text (`ZBIOR:PUP`) where a string is
expected (the disclosure register's reason, clients of contract 1.0).

The first line of each class's docstring says when the error is raised: `docs/integration.md` lists it in
the fault table (`fault_table`), and a test keeps the two equal.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class DetailKind(enum.StrEnum):
    """What a detail names (`Szczegol/@Rodzaj` in a fault)."""

    DATA_SET = "ZBIOR"
    CATEGORY = "KATEGORIA"
    LEGAL_BASIS = "PODSTAWA_PRAWNA"
    ROLE = "ROLA"
    SOURCE_KEY = "IDENTYFIKATOR_ZRODLOWY"
    DESCRIPTION = "OPIS"


class Detail(str):
    """One structured detail of an error: `kind`, `value` and, where it matters, the `data_set`.

    A `str` whose text is the detail's 1.0 form (`ZBIOR:PUP`, `PUP:SWIADCZENIA`, `PODSTAWA_PRAWNA:X@PUP`),
    so code that joins or compares details as text keeps working; new code reads the attributes.
    """

    kind: DetailKind
    value: str
    data_set: str

    def __new__(cls, kind: DetailKind, value: str, data_set: str = "", *, text: str | None = None) -> Detail:
        made = super().__new__(cls, text if text is not None else _legacy_text(kind, value, data_set))
        made.kind = DetailKind(kind)
        made.value = value
        made.data_set = data_set
        return made

    def __reduce__(self) -> tuple[object, ...]:
        return (_detail, (self.kind, self.value, self.data_set, str(self)))

    @classmethod
    def data_set_code(cls, code: str) -> Detail:
        """A data set (`ZBIOR:PUP`)."""
        return cls(DetailKind.DATA_SET, code)

    @classmethod
    def category(cls, data_set: str, code: str) -> Detail:
        """A category of a data set (`PUP:SWIADCZENIA`)."""
        return cls(DetailKind.CATEGORY, code, data_set)

    @classmethod
    def legal_basis(cls, code: str, data_set: str = "") -> Detail:
        """A legal basis, for one data set or the whole request (`PODSTAWA_PRAWNA:X@PUP`)."""
        return cls(DetailKind.LEGAL_BASIS, code, data_set)


def _detail(kind: DetailKind, value: str, data_set: str, text: str) -> Detail:
    return Detail(kind, value, data_set, text=text)


def _legacy_text(kind: DetailKind, value: str, data_set: str) -> str:
    if kind == DetailKind.CATEGORY:
        return f"{data_set}:{value}"
    if kind in (DetailKind.DATA_SET, DetailKind.LEGAL_BASIS, DetailKind.ROLE):
        return f"{kind.value}:{value}" + (f"@{data_set}" if data_set else "")
    return value


def as_detail(item: str) -> Detail:
    """A detail given as plain text (a description, a source key) as a `Detail` of kind `OPIS`."""
    return item if isinstance(item, Detail) else Detail(DetailKind.DESCRIPTION, item)


class PlatformError(Exception):
    """Base of all domain errors. `code` is a stable contract value; `message` is Polish."""

    code = "BLAD_PLATFORMY"
    client_error = True

    def __init__(self, message: str, *, details: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details: tuple[Detail, ...] = tuple(as_detail(item) for item in details)


class InvalidPesel(PlatformError):
    """A PESEL of the wrong length, with a wrong check digit or an impossible date of birth."""

    code = "NIEPRAWIDLOWY_PESEL"


class InvalidIdentifier(PlatformError):
    """An incomplete name + date of birth, an unknown document kind, an ID-card number with a wrong check
    digit, or a date of birth outside 0001-9999."""

    code = "NIEPRAWIDLOWY_IDENTYFIKATOR"


class UnknownDataSet(PlatformError):
    """A data set code the platform does not know (`Szczegol Rodzaj="ZBIOR"` names it)."""

    code = "NIEZNANY_ZBIOR"


class UnknownCategory(PlatformError):
    """A category code the data set does not have (`Szczegol Rodzaj="KATEGORIA"` names each)."""

    code = "NIEZNANA_KATEGORIA"


class UnknownLegalBasis(PlatformError):
    """A legal basis that is not in the platform's registry (`ListaPodstawPrawnych`)."""

    code = "NIEZNANA_PODSTAWA_PRAWNA"


class MissingPurpose(PlatformError):
    """An empty purpose (`Cel`)."""

    code = "BRAK_CELU"


class InvalidRequest(PlatformError):
    """A request that is well-formed but incomplete or contradictory (no data set, an empty scope, a report
    period that ends before it starts)."""

    code = "NIEPRAWIDLOWE_ZAPYTANIE"


class NotAllowed(PlatformError):
    """Outside the caller's scope or role; the query is refused whole and the refusal recorded (`Szczegol`
    names each element not allowed: `ZBIOR`, `KATEGORIA`, `PODSTAWA_PRAWNA`, `ROLA`)."""

    code = "BRAK_UPRAWNIEN"


class AuthenticationRequired(PlatformError):
    """No WS-Security UsernameToken and no TLS client certificate with a named end user."""

    code = "BRAK_UWIERZYTELNIENIA"


class AuthenticationFailed(PlatformError):
    """A wrong login or password, a locked account, or an unknown client certificate (never says which)."""

    code = "BLEDNE_UWIERZYTELNIENIE"


class MalformedXml(PlatformError):
    """The request is not well-formed XML."""

    code = "NIEPRAWIDLOWY_XML"


class ForbiddenXml(PlatformError):
    """A DTD, an entity declaration or an entity reference in the request (XXE, entity bombs)."""

    code = "NIEDOZWOLONA_KONSTRUKCJA_XML"


class RequestTooLarge(PlatformError):
    """A request body over the configured limit (HTTP 413)."""

    code = "ZBYT_DUZE_ZAPYTANIE"


class ReportTooLarge(PlatformError):
    """A report over the entries a SOAP answer (or any PDF) may hold: narrow it, or stream it from the command line."""

    code = "ZBYT_DUZY_RAPORT"


class SchemaViolation(PlatformError):
    """The request is not valid against the WSDL's schema (`Szczegol Rodzaj="OPIS"` says what)."""

    code = "NIEZGODNOSC_ZE_SCHEMATEM"


class UnknownOperation(PlatformError):
    """The body names an operation the service does not have."""

    code = "NIEZNANA_OPERACJA"


class UnknownService(PlatformError):
    """The address names no service of the hub (HTTP 404): a mistyped `/soap/<usługa>`, or one below it."""

    code = "NIEZNANA_USLUGA"


class MethodNotAllowed(PlatformError):
    """Not an HTTP POST with a Content-Type (HTTP 405, `Allow: POST`), or a compressed body (`Content-Encoding`
    other than identity, HTTP 415)."""

    code = "NIEDOZWOLONE_ZADANIE"


class InternalError(PlatformError):
    """Ours: quote `IdentyfikatorZapytania` when reporting it."""

    code = "BLAD_WEWNETRZNY"
    client_error = False


class ConfigurationError(PlatformError):
    """Ours: the hub's configuration or a replica cannot be used as it is."""

    code = "BLAD_KONFIGURACJI"
    client_error = False


class WeakPassword(PlatformError):
    """A new password that is too short, too guessable or equal to the old one."""

    code = "SLABE_HASLO"


class PasswordChangeRequired(PlatformError):
    """The account must change its password (`ZmianaHasla`) before any other operation."""

    code = "WYMAGANA_ZMIANA_HASLA"
