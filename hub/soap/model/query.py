"""The query contract (guideline 1.1): request, response, data-set and legal-basis listings."""

from __future__ import annotations

from spyne import ComplexModel, DateTime, Enum, Unicode

from contract.catalog import QUERY_NS
from hub.soap.model.common import Date, DocumentKind, many, named, optional, required
from hub.soap.model.ops import DaneOPS
from hub.soap.model.pup import DanePUP
from hub.soap.model.sr import DaneSR


class QueryType(ComplexModel):
    __namespace__ = QUERY_NS


ResultStatus = named(
    Enum("OK", "BRAK_DANYCH", "ODMOWA", "NIEDOSTEPNY", "NIEJEDNOZNACZNY", type_name="StatusWyniku"), QUERY_NS
)

Code = named(Unicode(min_len=1, max_len=64, type_name="Kod"), QUERY_NS)
RequiredCode = required(Code)
Name = named(Unicode(max_len=300, type_name="Nazwa"), QUERY_NS)
LongText = named(Unicode(max_len=1000, type_name="Opis"), QUERY_NS)
# The identifiers are checked by the platform (PESEL checksum and date), so a wrong value gets a precise
# fault code (NIEPRAWIDLOWY_PESEL) rather than a generic schema violation.
IdentifierText = named(Unicode(max_len=200, type_name="TekstIdentyfikatora"), QUERY_NS)
Digest = named(Unicode(pattern="[0-9a-f]{64}", type_name="SkrotSHA256"), QUERY_NS)
# Evidence of the exchange (version 1.1): the caller's own message id, echoed; the case the query is made in.
ClientMessageId = named(Unicode(pattern="[A-Za-z0-9._:/+-]{1,128}", type_name="IdentyfikatorKomunikatu"), QUERY_NS)
CaseNumber = named(Unicode(min_len=1, max_len=100, pattern="[^\t\n\r]+", type_name="ZnakSprawy"), QUERY_NS)


class UzytkownikKoncowy(QueryType):
    """SOAP header: the end user on whose behalf an office system (TLS client certificate) calls."""

    _type_info = [("Login", required(named(Unicode(min_len=1, max_len=120, type_name="Login"), QUERY_NS)))]


class DokumentZapytania(QueryType):
    """An identity document named in a query."""

    _type_info = [("Rodzaj", DocumentKind), ("Numer", IdentifierText)]


class IdentyfikatorBeneficjenta(QueryType):
    """One of: PESEL; or surname + first name + date of birth; or an identity document."""

    _type_info = [
        ("Pesel", IdentifierText),
        ("Nazwisko", IdentifierText),
        ("Imie", IdentifierText),
        ("DataUrodzenia", Date),
        ("DokumentTozsamosci", DokumentZapytania),
    ]


class Zakres(QueryType):
    """The categories asked of one data set."""

    _type_info = [("Kategoria", many(Code, 64, 1))]


class Zbior(QueryType):
    """One data set asked for (`Kod`), or every data set of a kind in the caller's scope (`Rodzaj`, version
    1.2), with the scope asked of it."""

    # `Rodzaj` at the end of the sequence: a compatible addition (docs/contracts.md, Rules)
    _type_info = [("Kod", optional(Code)), ("Zakres", required(Zakres)), ("Rodzaj", optional(Code))]


class Zbiory(QueryType):
    _type_info = [("Zbior", many(Zbior, 16, 1))]


class Zapytanie(QueryType):
    """A query about one beneficiary (guideline 1.1)."""

    _type_info = [
        ("IdentyfikatorBeneficjenta", required(IdentyfikatorBeneficjenta)),
        ("PodstawaPrawna", RequiredCode),
        ("Cel", required(LongText)),
        ("Zbiory", required(Zbiory)),
        ("ZnakSprawy", optional(CaseNumber)),
        ("IdentyfikatorKomunikatuKlienta", optional(ClientMessageId)),
    ]


class WynikZbioru(QueryType):
    """The answer of one data set: a status and, when `OK`, exactly the sections that were allowed."""

    _type_info = [
        ("Zbior", RequiredCode),
        ("Administrator", Name),
        ("Status", required(ResultStatus)),
        ("Komunikat", LongText),
        ("SkrotSHA256", Digest),
        ("DanePUP", DanePUP),
        ("DaneOPS", DaneOPS),
        ("DaneSR", DaneSR),
    ]


class Wyniki(QueryType):
    _type_info = [("Wynik", many(WynikZbioru))]


class Odpowiedz(QueryType):
    """The answer to a query: the hub's request id, one result per data set asked, and the evidence of the
    exchange (the caller's message id echoed, the SHA-256 of the request body answered)."""

    _type_info = [
        ("IdentyfikatorZapytania", RequiredCode),
        ("DataOdpowiedzi", required(DateTime)),
        ("Wyniki", Wyniki),
        ("IdentyfikatorKomunikatuKlienta", optional(ClientMessageId)),
        ("SkrotZapytania", optional(Digest)),
    ]


class KategoriaOpis(QueryType):
    _type_info = [("Kod", RequiredCode), ("Nazwa", Name)]


class KategorieOpis(QueryType):
    _type_info = [("Kategoria", many(KategoriaOpis))]


class KodyPodstaw(QueryType):
    _type_info = [("PodstawaPrawna", many(Code))]


TerytCode = named(Unicode(pattern="[0-9]{7}", type_name="KodTERYT"), QUERY_NS)


class ZbiorOpis(QueryType):
    """A data set the caller may ask, with the categories and legal bases open to the caller; its kind and,
    for a gmina's unit, the gmina (version 1.2)."""

    _type_info = [
        ("Kod", RequiredCode),
        ("Nazwa", Name),
        ("Administrator", Name),
        ("Kategorie", KategorieOpis),
        ("PodstawyPrawne", KodyPodstaw),
        ("Rodzaj", optional(Code)),
        ("Gmina", optional(TerytCode)),
        ("NazwaGminy", optional(Name)),
    ]


class DostepneZbiory(QueryType):
    _type_info = [("Zbior", many(ZbiorOpis))]


class KodyZbiorow(QueryType):
    _type_info = [("Zbior", many(Code))]


class PodstawaPrawnaOpis(QueryType):
    """A legal basis in the registry: its code, the citation, the data sets it opens."""

    _type_info = [
        ("Kod", RequiredCode),
        ("Nazwa", Name),
        ("Przepis", LongText),
        ("Zbiory", KodyZbiorow),
    ]


class RejestrPodstawPrawnych(QueryType):
    _type_info = [("PodstawaPrawna", many(PodstawaPrawnaOpis))]


__all__ = [
    "DateTime",
    "DostepneZbiory",
    "IdentyfikatorBeneficjenta",
    "Odpowiedz",
    "RejestrPodstawPrawnych",
    "WynikZbioru",
    "Wyniki",
    "Zapytanie",
]
