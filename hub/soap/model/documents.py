"""The documents service's contract types (`urn:pl:platforma-komunikacyjna:dokumenty:1`; issue 15): document
types, template versions and their history, requests, cases, documents and receipts. Types only;
`hub.soap.services.dokumenty` uses them."""

from __future__ import annotations

from spyne import Boolean, ByteArray, ComplexModel, DateTime, Enum, Integer, Unicode

from contract.catalog import TEMPLATE_VERSION_MAX
from contract.text import TEXT_MAX_LENGTH
from hub.soap.model.common import PeselType, many, named, optional, required

DOCUMENTS_NS = "urn:pl:platforma-komunikacyjna:dokumenty:1"

Code = named(Unicode(min_len=1, max_len=64, pattern="[A-Za-z0-9_.-]+", type_name="Kod"), DOCUMENTS_NS)
Text = named(Unicode(max_len=TEXT_MAX_LENGTH, type_name="Tekst"), DOCUMENTS_NS)
CaseId = named(Unicode(min_len=1, max_len=36, type_name="IdentyfikatorSprawy"), DOCUMENTS_NS)
Digest = named(Unicode(pattern="[0-9a-f]{64}", type_name="SkrotSHA256"), DOCUMENTS_NS)
State = named(
    Enum("ZLOZONY", "ODMOWIONY", "DO_PODPISU", "DOSTARCZONY", "ODEBRANY", type_name="StanSprawy"), DOCUMENTS_NS
)
Role = named(Enum("WNIOSEK", "ZASWIADCZENIE", "ZASWIADCZENIE_PODPISANE", type_name="RolaDokumentu"), DOCUMENTS_NS)
# A template's XSD or XSL is longer than a Tekst (the shipped schemas are 3.5 kB); the hub's max_request_bytes
# bounds the whole request anyway.
TemplateText = named(Unicode(max_len=1_000_000, type_name="TrescSzablonu"), DOCUMENTS_NS)
# A version number as the hub stores it (an SQL INTEGER): a larger one is the caller's mistake, not ours.
VersionNumber = named(Integer(ge=1, le=TEMPLATE_VERSION_MAX, type_name="NumerWersji"), DOCUMENTS_NS)
TemplateAction = named(Enum("UTWORZENIE", "IMPORT", "ZMIANA", "AKTYWACJA", type_name="CzynnoscSzablonu"), DOCUMENTS_NS)


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


class Szablon(DocumentsType):
    """One template version: its type and number, whether it is active and frozen, who made it and when."""

    _type_info = [
        ("RodzajDokumentu", required(Code)),
        ("Wersja", required(VersionNumber)),
        ("Aktywna", required(Boolean)),
        ("Uzyta", required(Boolean)),
        ("AutorZmiany", required(Text)),
        ("Utworzono", required(DateTime)),
        ("Tytul", required(Text)),
    ]


class Szablony(DocumentsType):
    """Every version of every document type, by type and version."""

    _type_info = [("Szablon", many(Szablon))]


class EksportSzablonu(DocumentsType):
    """One template version as one file (the export `platforma templates export` writes and import reads)."""

    _type_info = [
        ("Szablon", required(Szablon)),
        ("PlikSzablonu", required(ByteArray)),
        ("SkrotSHA256", required(Digest)),
    ]


class ZmianaSzablonu(DocumentsType):
    """One change in a document type's history: what was done to which version, by whom, when."""

    _type_info = [
        ("Czas", required(DateTime)),
        ("RodzajDokumentu", required(Code)),
        ("Wersja", required(VersionNumber)),
        ("Czynnosc", required(TemplateAction)),
        ("Kto", required(Text)),
        ("Urzad", optional(Code)),
        ("SkrotSHA256", required(Digest)),
    ]


class ZmianySzablonu(DocumentsType):
    """The history of a document type's templates, oldest first."""

    _type_info = [("ZmianaSzablonu", many(ZmianaSzablonu))]


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
    "Tekst": f"Tekst do {TEXT_MAX_LENGTH} znaków.",
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
    "TrescSzablonu": "Tekst części szablonu (schemat XSD, arkusz XSL albo metadane JSON), do 1 000 000 znaków; całe "
    "zapytanie ogranicza ponadto limit rozmiaru zapytania huba.",
    "NumerWersji": "Numer wersji szablonu: liczba całkowita od 1 (kolejne wersje rodzaju dokumentu).",
    "CzynnoscSzablonu": "Czynność na wersji szablonu (lista zamknięta): UTWORZENIE (nowa wersja), IMPORT (nowa "
    "wersja z pliku eksportu), ZMIANA (zmiana wersji, z której nie wytworzono dokumentu), AKTYWACJA.",
    "Szablon": "Wersja szablonu rodzaju dokumentu (wytyczne pkt 2): numer, czy aktywna, czy użyta (wtedy niezmienna), "
    "kto ją utworzył i kiedy, tytuł.",
    "Szablony": "Wszystkie wersje szablonów wszystkich rodzajów dokumentów, według rodzaju i numeru wersji.",
    "EksportSzablonu": "Wersja szablonu jako jeden plik (JSON z rodzajem, metadanymi, schematem XSD i arkuszem XSL), "
    "ten sam, który zapisuje polecenie platforma templates export i przyjmuje ImportujSzablon.",
    "ZmianaSzablonu": "Jedna zmiana w historii szablonów rodzaju dokumentu: co zrobiono z którą wersją, kto i kiedy.",
    "ZmianySzablonu": "Historia szablonów rodzaju dokumentu (kto, co i kiedy zmienił), od najstarszej zmiany.",
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
    "OpieczetujZaswiadczenie": (("IdentyfikatorSprawy",), "Potwierdzenie"),
    "PobierzPoswiadczenia": (("IdentyfikatorSprawy",), "Poswiadczenia"),
    "ZmienSzablon": (("RodzajDokumentu", "Wersja", "Schemat", "Wizualizacja"), "RodzajDokumentu"),
    "PobierzPDF": (("IdentyfikatorSprawy", "Rola"), "Wizualizacja"),
    "ListaSzablonow": ((), "Szablony"),
    "PobierzSzablon": (("RodzajDokumentu", "Wersja"), "EksportSzablonu"),
    "ImportujSzablon": (("PlikSzablonu",), "Szablon"),
    "NowaWersjaSzablonu": (("RodzajDokumentu", "Schemat", "Wizualizacja", "Metadane"), "Szablon"),
    "AktywujSzablon": (("RodzajDokumentu", "Wersja"), "Szablon"),
    "HistoriaSzablonu": (("RodzajDokumentu",), "ZmianySzablonu"),
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
    "PlikSzablonu": "Plik szablonu w postaci eksportu (JSON w UTF-8, base64), np. z PobierzSzablon lub polecenia "
    "platforma templates export; staje się nową, nieaktywną wersją rodzaju, który wskazuje.",
    "Metadane": 'Zmiany metadanych jako obiekt JSON (np. {"tytul": "…"}), jak plik --metadata polecenia '
    "platforma templates new-version; pozostałe metadane pochodzą z wersji aktywnej.",
    # Where an operation gives a parameter another meaning (keyed `Operation/Parameter`).
    "PobierzSzablon/Wersja": "Numer wersji szablonu; bez niego wersja aktywna.",
    "NowaWersjaSzablonu/Schemat": "Schemat XSD nowej wersji; bez niego schemat wersji aktywnej.",
    "NowaWersjaSzablonu/Wizualizacja": "Arkusz XSL nowej wersji; bez niego arkusz wersji aktywnej.",
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
    "Szablon/RodzajDokumentu": "Kod rodzaju dokumentu.",
    "Szablon/Wersja": "Numer wersji szablonu.",
    "Szablon/Aktywna": "Czy z tej wersji powstają nowe dokumenty (jedna aktywna wersja w rodzaju).",
    "Szablon/Uzyta": "Czy z tej wersji wytworzono już dokument; wersja użyta jest niezmienna.",
    "Szablon/AutorZmiany": "Login użytkownika, który utworzył wersję (platforma: wzór dostawcy).",
    "Szablon/Utworzono": "Chwila utworzenia wersji (UTC).",
    "Szablon/Tytul": "Tytuł dokumentu z metadanych wersji.",
    "Szablony/Szablon": "Wersja szablonu.",
    "EksportSzablonu/Szablon": "Wyeksportowana wersja szablonu.",
    "EksportSzablonu/PlikSzablonu": "Plik szablonu (JSON w UTF-8, base64), bajt w bajt jak z platforma templates "
    "export.",
    "EksportSzablonu/SkrotSHA256": "Skrót SHA-256 pliku szablonu (ten sam, który podaje HistoriaSzablonu).",
    "ZmianaSzablonu/Czas": "Chwila zmiany (UTC).",
    "ZmianaSzablonu/RodzajDokumentu": "Kod rodzaju dokumentu.",
    "ZmianaSzablonu/Wersja": "Numer wersji, której dotyczy zmiana.",
    "ZmianaSzablonu/Czynnosc": "Co zrobiono z wersją.",
    "ZmianaSzablonu/Kto": "Login użytkownika, który dokonał zmiany (platforma: wzór dostawcy).",
    "ZmianaSzablonu/Urzad": "Kod urzędu użytkownika, który dokonał zmiany.",
    "ZmianaSzablonu/SkrotSHA256": "Skrót SHA-256 pliku szablonu tej wersji (jak w PobierzSzablon) po zmianie.",
    "ZmianySzablonu/ZmianaSzablonu": "Zmiana szablonu.",
}
for _operation, (_parameters, _answer) in OPERATIONS.items():
    DOCUMENTATION_TYPES[f"dokumenty:{_operation}"] = f"Żądanie operacji {_operation}."
    DOCUMENTATION_TYPES[f"dokumenty:{_operation}Odpowiedz"] = f"Odpowiedź operacji {_operation}."
    DOCUMENTATION_ELEMENTS[f"{_operation}Odpowiedz/{_answer}"] = _TYPES[_answer]
    for _parameter in _parameters:
        _text = _PARAMETERS.get(f"{_operation}/{_parameter}", _PARAMETERS[_parameter])
        DOCUMENTATION_ELEMENTS[f"{_operation}/{_parameter}"] = _text
