"""Beneficiary identifiers: PESEL (python-stdnum), name + date of birth, or an identity document."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from stdnum.exceptions import ValidationError
from stdnum.pl import pesel as stdnum_pesel

from contract.errors import InvalidIdentifier, InvalidPesel

DOCUMENT_KINDS = ("DOWOD_OSOBISTY", "PASZPORT", "KARTA_POBYTU", "INNY")

# Polish identity card number: three letters and six digits; letters A=10 ... Z=35,
# weights 7,3,1,9,7,3,1,7,3, weighted sum mod 10 == 0 (the 4th character is the check digit).
_ID_CARD_WEIGHTS = (7, 3, 1, 9, 7, 3, 1, 7, 3)


#: A user's login: 1 to 120 letters without diacritics, digits and `_ . - @` (`pup.kierownik`), as the codes in
#: platforma.toml are. A space, a control character or an empty name makes an account no one can name again in
#: a command, a log line or a table; the database's column holds 120 characters (PostgreSQL refuses more).
#: One rule for the configuration, the CLI and the accounts service.
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_.@\-]{1,120}", re.ASCII)
LOGIN_RULE = "od 1 do 120 znaków: litery bez znaków diakrytycznych, cyfry, _ . - @"


def is_valid_login(value: object) -> bool:
    """Whether `value` may name a new account (`LOGIN_PATTERN`)."""
    return isinstance(value, str) and LOGIN_PATTERN.fullmatch(value) is not None


_PESEL_TEXT = re.compile(r"[0-9]{11}", re.ASCII)


def has_pesel_form(text: str) -> bool:
    """Whether `text` is written as a PESEL is: exactly eleven ASCII digits (`str.isdigit` also takes other
    scripts' digits). The check digit and date are `validate_pesel`'s."""
    return _PESEL_TEXT.fullmatch(text) is not None


def validate_pesel(value: str) -> str:
    """Return the PESEL (eleven ASCII digits; white space around them is dropped), or raise `InvalidPesel`
    with a Polish reason.

    python-stdnum checks the digits, but its clean-up would first take dashes and spaces inside the number
    and other scripts' digits (full-width `８`) for a PESEL: the same person then had several spellings,
    none of which the contract's "11 cyfr" allows.
    """
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not has_pesel_form(text):
        raise InvalidPesel("Numer PESEL jest nieprawidłowy: musi mieć dokładnie 11 cyfr (0–9), bez spacji i kresek.")
    try:
        return str(stdnum_pesel.validate(text))
    except ValidationError as error:
        raise InvalidPesel(
            "Numer PESEL jest nieprawidłowy (błędna suma kontrolna, długość lub data urodzenia)."
        ) from error


def pesel_check_digit(first_ten: str) -> str:
    """The check digit completing ten PESEL digits (for synthetic data)."""
    return str(stdnum_pesel.calc_check_digit(first_ten))


def pesel_birth_date(value: str) -> dt.date:
    """The birth date encoded in a valid PESEL."""
    return stdnum_pesel.get_birth_date(value)


def id_card_checksum_ok(number: str) -> bool:
    """Whether a Polish identity card number (e.g. ABA300000) has a valid check digit."""
    number = number.replace(" ", "").upper()
    if len(number) != 9 or not number[:3].isalpha() or not number[3:].isdigit():
        return False
    values = [ord(c) - 55 if c.isalpha() else int(c) for c in number]
    return sum(v * w for v, w in zip(values, _ID_CARD_WEIGHTS, strict=True)) % 10 == 0


def id_card_check_digit(letters: str, last_five: str) -> str:
    """The check digit for an identity card number made of three letters and five more digits."""
    values = [ord(c) - 55 for c in letters.upper()] + [int(c) for c in last_five]
    weights = _ID_CARD_WEIGHTS[:3] + _ID_CARD_WEIGHTS[4:]
    # The check digit has weight 9 == -1 (mod 10), so it equals the rest of the sum mod 10.
    return str(sum(v * w for v, w in zip(values, weights, strict=True)) % 10)


def normalise_name(value: str) -> str:
    """Case- and accent-insensitive form of a name, for matching (ł is kept apart from l by NFKD)."""
    decomposed = unicodedata.normalize("NFKD", value.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")


@dataclass(frozen=True)
class Identifier:
    """What identifies a beneficiary in a query: exactly one of the three forms."""

    pesel: str | None = None
    surname: str | None = None
    first_name: str | None = None
    birth_date: dt.date | None = None
    document_kind: str | None = None
    document_number: str | None = None

    @classmethod
    def build(
        cls,
        *,
        pesel: str | None = None,
        surname: str | None = None,
        first_name: str | None = None,
        birth_date: dt.date | None = None,
        document_kind: str | None = None,
        document_number: str | None = None,
    ) -> Identifier:
        """Validate and normalise one of the three accepted forms of identifier."""
        if pesel:
            return cls(pesel=validate_pesel(pesel))
        if surname or first_name or birth_date:
            if not (surname and surname.strip() and first_name and first_name.strip() and birth_date):
                raise InvalidIdentifier("Identyfikacja bez numeru PESEL wymaga nazwiska, imienia i daty urodzenia.")
            return cls(surname=surname.strip(), first_name=first_name.strip(), birth_date=birth_date)
        if document_kind or document_number:
            if not (document_kind and document_number and document_number.strip()):
                raise InvalidIdentifier("Identyfikacja dokumentem wymaga rodzaju i numeru dokumentu.")
            if document_kind not in DOCUMENT_KINDS:
                raise InvalidIdentifier(f"Nieznany rodzaj dokumentu tożsamości: {document_kind}.")
            number = document_number.replace(" ", "").upper()
            if document_kind == "DOWOD_OSOBISTY" and not id_card_checksum_ok(number):
                raise InvalidIdentifier("Numer dowodu osobistego jest nieprawidłowy (suma kontrolna).")
            return cls(document_kind=document_kind, document_number=number)
        raise InvalidIdentifier(
            "Podaj identyfikator beneficjenta: PESEL, albo nazwisko, imię i datę urodzenia, "
            "albo rodzaj i numer dokumentu tożsamości."
        )

    def describe(self) -> str:
        """The identifier as recorded in the disclosure register (e.g. `PESEL:90010112345`)."""
        if self.pesel:
            return f"PESEL:{self.pesel}"
        if self.document_kind:
            return f"DOKUMENT:{self.document_kind}:{self.document_number}"
        assert self.birth_date is not None
        return f"OSOBA:{self.surname}|{self.first_name}|{self.birth_date.isoformat()}"
