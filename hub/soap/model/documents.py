"""The documents service's contract types (`urn:pl:platforma-komunikacyjna:dokumenty:1`; issue 15): document
types, requests, cases, documents and receipts. Types only; `hub.soap.services.dokumenty` uses them."""

from __future__ import annotations

from spyne import ByteArray, ComplexModel, DateTime, Enum, Integer, Unicode

from hub.soap.model.common import PeselType, many, named, optional, required

DOCUMENTS_NS = "urn:pl:platforma-komunikacyjna:dokumenty:1"

Code = named(Unicode(min_len=1, max_len=64, pattern="[A-Za-z0-9_.-]+", type_name="Kod"), DOCUMENTS_NS)
Text = named(Unicode(max_len=2000, type_name="Tekst"), DOCUMENTS_NS)
CaseId = named(Unicode(min_len=1, max_len=36, type_name="IdentyfikatorSprawy"), DOCUMENTS_NS)
Digest = named(Unicode(pattern="[0-9a-f]{64}", type_name="SkrotSHA256"), DOCUMENTS_NS)
State = named(
    Enum("ZLOZONY", "ODMOWIONY", "DO_PODPISU", "DOSTARCZONY", "ODEBRANY", type_name="StanSprawy"), DOCUMENTS_NS
)
Role = named(Enum("WNIOSEK", "ZASWIADCZENIE", "ZASWIADCZENIE_PODPISANE", type_name="RolaDokumentu"), DOCUMENTS_NS)


class DocumentsType(ComplexModel):
    """Base of the documents service's types: one namespace, elements in declaration order."""

    __namespace__ = DOCUMENTS_NS


class RodzajDokumentu(DocumentsType):
    """A document type with the metadata of its active template version (guideline 2)."""

    _type_info = [
        ("Kod", required(Code)),
        ("Klasa", required(Code)),
        ("Wersja", required(Integer)),
        ("Tytul", required(Text)),
        ("Opis", Text),
        ("Autor", Text),
        ("PodstawaPrawna", Text),
        ("PrzestrzenNazw", required(Text)),
    ]


class RodzajeDokumentow(DocumentsType):
    """The document types the platform makes."""

    _type_info = [("RodzajDokumentu", many(RodzajDokumentu))]


class ZbiorWniosku(DocumentsType):
    """A data set named in a request, with the categories asked for."""

    _type_info = [("Kod", required(Code)), ("Kategoria", many(Code, min_occurs=1))]


class Wniosek(DocumentsType):
    """A request for a certificate about a person, addressed to the controller office."""

    _type_info = [
        ("Pesel", required(PeselType)),
        ("PodstawaPrawna", required(Code)),
        ("Cel", required(Text)),
        ("RodzajZaswiadczenia", required(Code)),
        ("Adresat", required(Code)),
        ("Zbior", many(ZbiorWniosku, min_occurs=1)),
    ]


class Sprawa(DocumentsType):
    """A case: who asked whom for what, and its state."""

    _type_info = [
        ("IdentyfikatorSprawy", required(CaseId)),
        ("RodzajZaswiadczenia", required(Code)),
        ("Wnioskodawca", required(Text)),
        ("UrzadWnioskodawcy", required(Code)),
        ("UrzadAdresata", required(Code)),
        ("Stan", required(State)),
        ("DataZlozenia", required(DateTime)),
        ("PowodOdmowy", optional(Text)),
    ]


class Sprawy(DocumentsType):
    """Cases of an inbox or outbox, newest first."""

    _type_info = [("Sprawa", many(Sprawa))]


class Dokument(DocumentsType):
    """A stored document exactly as made or received: bytes (base64), SHA-256, the template version."""

    _type_info = [
        ("IdentyfikatorDokumentu", required(CaseId)),
        ("IdentyfikatorSprawy", required(CaseId)),
        ("Rola", required(Role)),
        ("RodzajDokumentu", required(Code)),
        ("WersjaSzablonu", required(Integer)),
        ("SkrotSHA256", required(Digest)),
        ("Tresc", required(ByteArray)),
    ]


class Potwierdzenie(DocumentsType):
    """The outcome of a submission or delivery: the case, the document and the hub's signed receipt."""

    _type_info = [
        ("Sprawa", required(Sprawa)),
        ("Dokument", required(Dokument)),
        ("Poswiadczenie", required(ByteArray)),
    ]


class Wizualizacja(DocumentsType):
    """A document rendered to PDF with its template version, ending with the verification of its signatures."""

    _type_info = [
        ("IdentyfikatorSprawy", required(CaseId)),
        ("Rola", required(Role)),
        ("Tresc", required(ByteArray)),
    ]


class Poswiadczenia(DocumentsType):
    """The receipts of a case (signed XML), oldest first."""

    _type_info = [("Poswiadczenie", many(ByteArray))]


#: Polish documentation of every name above (hub.soap.model.documentation reads it). Type names are keyed
#: `dokumenty:<name>`, elements `<type>/<element>`: nothing here changes another service's documentation.
_TYPES: dict[str, str] = {
    "Kod": "Kod (litery bez znaków diakrytycznych, cyfry, _ . -): rodzaju dokumentu, urzędu, zbioru, kategorii, "
    "podstawy prawnej.",
    "Tekst": "Tekst do 2000 znaków.",
    "IdentyfikatorSprawy": "Identyfikator sprawy lub dokumentu nadany przez platformę (UUID).",
    "SkrotSHA256": "Skrót SHA-256 dokumentu (64 cyfry szesnastkowe, małe litery), liczony z bajtów dokumentu.",
    "StanSprawy": "Stan sprawy (lista zamknięta): ZLOZONY, ODMOWIONY, DO_PODPISU, DOSTARCZONY, ODEBRANY.",
    "RolaDokumentu": "Rola dokumentu w sprawie (lista zamknięta): WNIOSEK, ZASWIADCZENIE (wytworzone, do podpisu), "
    "ZASWIADCZENIE_PODPISANE.",
    "RodzajDokumentu": "Rodzaj dokumentu i metadane aktywnej wersji jego szablonu (wytyczne pkt 2).",
    "RodzajeDokumentow": "Rodzaje dokumentów wytwarzanych przez platformę.",
    "ZbiorWniosku": "Zbiór danych wskazany we wniosku i żądane kategorie.",
    "Wniosek": "Wniosek o zaświadczenie o osobie, skierowany do urzędu administratora zbioru (wytyczne pkt 1.2).",
    "Sprawa": "Sprawa: kto, od kogo i o co wnioskował oraz jej stan.",
    "Sprawy": "Sprawy skrzynki odbiorczej lub nadawczej, od najnowszej.",
    "Dokument": "Dokument przechowywany dokładnie tak, jak go wytworzono lub przyjęto: treść (base64), skrót "
    "SHA-256, wersja szablonu.",
    "Potwierdzenie": "Wynik złożenia lub doręczenia: sprawa, dokument i poświadczenie podpisane pieczęcią huba.",
    "Poswiadczenia": "Poświadczenia sprawy (podpisany XML, UPP i UPD), od najstarszego.",
    "Wizualizacja": "Dokument w postaci PDF według wersji szablonu, z której powstał, zakończony podsumowaniem "
    "podpisów i ich weryfikacji.",
}
# Each operation: its parameters and its answer's element.
OPERATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "ListaRodzajowDokumentow": ((), "RodzajeDokumentow"),
    "ZlozWniosek": (("Wniosek",), "Potwierdzenie"),
    "SkrzynkaOdbiorcza": ((), "Sprawy"),
    "SkrzynkaNadawcza": ((), "Sprawy"),
    "PobierzDokument": (("IdentyfikatorSprawy", "Rola"), "Dokument"),
    "PrzyjmijWniosek": (("IdentyfikatorSprawy",), "Dokument"),
    "OdmowWniosku": (("IdentyfikatorSprawy", "Powod"), "Sprawa"),
    "PobierzDoPodpisu": (("IdentyfikatorSprawy",), "Dokument"),
    "PrzeslijPodpisany": (("IdentyfikatorSprawy", "Tresc"), "Potwierdzenie"),
    "PobierzPoswiadczenia": (("IdentyfikatorSprawy",), "Poswiadczenia"),
    "ZmienSzablon": (("RodzajDokumentu", "Wersja", "Schemat", "Wizualizacja"), "RodzajDokumentu"),
    "PobierzPDF": (("IdentyfikatorSprawy", "Rola"), "Wizualizacja"),
}
_PARAMETERS = {
    "Wniosek": "Wniosek o zaświadczenie.",
    "IdentyfikatorSprawy": "Identyfikator sprawy nadany przez platformę.",
    "Rola": "Rola dokumentu w sprawie: WNIOSEK, ZASWIADCZENIE albo ZASWIADCZENIE_PODPISANE.",
    "Powod": "Powód odmowy, który zobaczy wnioskodawca.",
    "Tresc": "Podpisany dokument XML (base64).",
    "RodzajDokumentu": "Kod rodzaju dokumentu.",
    "Wersja": "Numer wersji szablonu.",
    "Schemat": "Nowy schemat XSD szablonu (gdy się zmienia).",
    "Wizualizacja": "Nowy arkusz XSL szablonu (gdy się zmienia).",
}
DOCUMENTATION_TYPES: dict[str, str] = {f"dokumenty:{name}": text for name, text in _TYPES.items()}
DOCUMENTATION_ELEMENTS: dict[str, str] = {
    "RodzajDokumentu/Kod": "Kod rodzaju dokumentu.",
    "RodzajDokumentu/Klasa": "WNIOSEK albo ZASWIADCZENIE.",
    "RodzajDokumentu/Wersja": "Numer aktywnej wersji szablonu.",
    "RodzajDokumentu/Tytul": "Tytuł dokumentu.",
    "RodzajDokumentu/Opis": "Opis dokumentu.",
    "RodzajDokumentu/Autor": "Autor szablonu.",
    "RodzajDokumentu/PodstawaPrawna": "Podstawa prawna dokumentu.",
    "RodzajDokumentu/PrzestrzenNazw": "Przestrzeń nazw XML dokumentu (jego schematu XSD).",
    "RodzajeDokumentow/RodzajDokumentu": "Rodzaj dokumentu.",
    "ZbiorWniosku/Kod": "Kod zbioru danych.",
    "ZbiorWniosku/Kategoria": "Kod kategorii danych zbioru.",
    "Wniosek/Pesel": "PESEL osoby, której dotyczy wniosek.",
    "Wniosek/PodstawaPrawna": "Kod podstawy prawnej z rejestru platformy.",
    "Wniosek/Cel": "Cel pozyskania informacji.",
    "Wniosek/RodzajZaswiadczenia": "Kod rodzaju żądanego zaświadczenia.",
    "Wniosek/Adresat": "Kod urzędu, do którego skierowano wniosek (administratora zbioru).",
    "Wniosek/Zbior": "Zbiór danych i kategorie, których dotyczy wniosek.",
    "Sprawa/IdentyfikatorSprawy": "Identyfikator sprawy nadany przez platformę.",
    "Sprawa/RodzajZaswiadczenia": "Kod rodzaju żądanego zaświadczenia.",
    "Sprawa/Wnioskodawca": "Login użytkownika, który złożył wniosek.",
    "Sprawa/UrzadWnioskodawcy": "Kod urzędu wnioskodawcy.",
    "Sprawa/UrzadAdresata": "Kod urzędu adresata.",
    "Sprawa/Stan": "Stan sprawy.",
    "Sprawa/DataZlozenia": "Chwila złożenia wniosku (UTC).",
    "Sprawa/PowodOdmowy": "Powód odmowy, gdy wniosku odmówiono.",
    "Sprawy/Sprawa": "Sprawa.",
    "Dokument/IdentyfikatorDokumentu": "Identyfikator dokumentu nadany przez platformę.",
    "Dokument/IdentyfikatorSprawy": "Identyfikator sprawy, do której należy dokument.",
    "Dokument/Rola": "Rola dokumentu w sprawie.",
    "Dokument/RodzajDokumentu": "Kod rodzaju dokumentu.",
    "Dokument/WersjaSzablonu": "Wersja szablonu, z której dokument powstał (i którą zawsze jest wizualizowany).",
    "Dokument/SkrotSHA256": "Skrót SHA-256 treści dokumentu.",
    "Dokument/Tresc": "Dokument XML (base64), bajt w bajt taki, jak przechowywany.",
    "Potwierdzenie/Sprawa": "Sprawa po operacji.",
    "Potwierdzenie/Dokument": "Dokument złożony lub doręczony.",
    "Potwierdzenie/Poswiadczenie": "Poświadczenie (UPP) podpisane pieczęcią huba, do weryfikacji offline.",
    "Poswiadczenia/Poswiadczenie": "Poświadczenie podpisane pieczęcią huba (XML, base64).",
    "Wizualizacja/IdentyfikatorSprawy": "Identyfikator sprawy.",
    "Wizualizacja/Rola": "Rola wizualizowanego dokumentu (wnioskodawca otrzymuje zaświadczenie podpisane).",
    "Wizualizacja/Tresc": "Plik PDF (base64).",
}
for _operation, (_parameters, _answer) in OPERATIONS.items():
    DOCUMENTATION_TYPES[f"dokumenty:{_operation}"] = f"Żądanie operacji {_operation}."
    DOCUMENTATION_TYPES[f"dokumenty:{_operation}Odpowiedz"] = f"Odpowiedź operacji {_operation}."
    DOCUMENTATION_ELEMENTS[f"{_operation}Odpowiedz/{_answer}"] = _TYPES[_answer]
    for _parameter in _parameters:
        DOCUMENTATION_ELEMENTS[f"{_operation}/{_parameter}"] = _PARAMETERS[_parameter]
