"""Writes sections of the common model directly in exclusive-C14N form (what the replica stores).

Building lxml trees costs more than reading the source; these helpers format the canonical text
directly: elements in model order (xsd/model-1.xsd), prefix `m`, the namespace declared on each section
element, character data escaped as C14N does. Tests check the output against the schema and against
lxml's own canonicalisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from adapters.base import MODEL_NS, NOT_XML, RowProblem, escape_checked
from contract.identifiers import has_pesel_form

_CENT = Decimal("0.01")
MAX_TEXT = 500
#: The model's `Numer` (house, flat, identity document): at most 40 characters.
MAX_NUMBER = 40
#: The model's `Kwota`: at most 12 digits (xs:totalDigits), 2 of them after the point.
AMOUNT_DIGITS = 12
_BINARY = (bytes, bytearray, memoryview)


def section(name: str, body: str) -> tuple[str, bytes]:
    """A section element (one category) with its namespace declaration, as stored."""
    return name, f'<m:{name} xmlns:m="{MODEL_NS}">{body}</m:{name}>'.encode()


# Formatted elements by (name, value): codes, dictionary names, places and dates repeat across people, so
# most elements are formatted once. The cache is bounded (cleared when full), so memory stays flat.
_FORMATTED: dict[tuple[str, Any], str] = {}
_CACHE_LIMIT = 20_000
# Dates: births span ~30,000 days and histories a few thousand more; a smaller bound would be cleared
# over and over on a big register (a few MB).
_DATE_LIMIT = 60_000


def _remember(key: tuple[str, Any], formatted: str) -> str:
    if len(_FORMATTED) >= _CACHE_LIMIT:
        _FORMATTED.clear()
    _FORMATTED[key] = formatted
    return formatted


def el(name: str, value: Any) -> str:
    """`<m:name>value</m:name>`, or nothing for None."""
    if value is None:
        return ""
    if isinstance(value, _BINARY):
        raise RowProblem(f"wartość binarna (BLOB) zamiast tekstu: {name}")
    key = (name, value)
    found = _FORMATTED.get(key)
    if found is not None:
        return found
    text = _source_text(value, name)
    return _remember(key, f"<m:{name}>{escape_checked(text)}</m:{name}>")


def text(name: str, value: Any, what: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """A text element (at most `limit` characters, trimmed); a required one must not be empty."""
    if value is not None:
        found = _FORMATTED.get((name, value))
        if found is not None:
            return found
    formatted = _text_element(name, value, what, required, limit)
    return _remember((name, value), formatted) if formatted else formatted


def _text_element(name: str, value: Any, what: str, required: bool, limit: int = MAX_TEXT) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowProblem(f"brak wymaganej wartości: {what}")
        return ""
    trimmed = _source_text(value, what).strip()
    if len(trimmed) > limit:
        raise RowProblem(f"wartość dłuższa niż {limit} znaków: {what}")
    return f"<m:{name}>{escape_checked(trimmed)}</m:{name}>"


def _source_text(value: Any, what: str) -> str:
    """A source value as text: a BLOB is refused (its `str` would be `b'...'`: a name silently changed), as
    is a character XML does not allow (named by field)."""
    if isinstance(value, _BINARY):
        raise RowProblem(f"wartość binarna (BLOB) zamiast tekstu: {what}")
    text = value if isinstance(value, str) else str(value)
    found = NOT_XML.search(text)
    if found is not None:
        if "\udc80" <= found.group() <= "\udcff":  # bytes that were not UTF-8 (`adapters.sql`)
            raise RowProblem(f"tekst zapisany w innym kodowaniu niż UTF-8 (np. Windows-1250): {what}")
        raise RowProblem(f"tekst zawiera znak niedozwolony w XML (znak sterujący, np. NUL): {what}")
    return text


def document_number_text(value: Any, what: str) -> str:
    """An identity document's number as the model and the replica keep it: no spaces, upper case, at most
    40 characters."""
    number = _source_text(value, what).replace(" ", "").upper()
    if len(number) > MAX_NUMBER:
        raise RowProblem(f"wartość dłuższa niż {MAX_NUMBER} znaków: {what}")
    return number


def pesel_text(value: Any, what: str) -> str | None:
    """A PESEL as text, or None for none: eleven ASCII digits (the model's pattern; `str.isdigit` would also
    take other scripts' digits), or a `RowProblem`."""
    if not value:
        return None
    text = _source_text(value, what).strip()
    if not has_pesel_form(text):
        raise RowProblem(f"PESEL nie składa się z 11 cyfr: {what}")
    return text


def wrap(name: str, body: str) -> str:
    """`<m:name>body</m:name>` around already formatted children."""
    return f"<m:{name}>{body}</m:{name}>"


def date(name: str, value: Any, what: str, *, required: bool = False) -> str:
    """A date element; an impossible or unreadable date is a `RowProblem` naming the field."""
    if value is None:
        if required:
            raise RowProblem(f"brak wymaganej daty: {what}")
        return ""
    found = _FORMATTED.get((name, value))
    if found is not None:
        return found
    return _remember((name, value), _date_element(name, value, what, required))


def _date_element(name: str, value: Any, what: str, required: bool) -> str:
    if value is None:
        if required:
            raise RowProblem(f"brak wymaganej daty: {what}")
        return ""
    parsed = as_date(value)
    if parsed is None:
        raise RowProblem(f"niemożliwa lub nieczytelna data: {what}")  # the value is the person's: not shown
    return f"<m:{name}>{parsed.isoformat()}</m:{name}>"


def amount(name: str, value: Any, what: str) -> str:
    """A required amount with two decimal places."""
    if value is None:
        raise RowProblem(f"brak wymaganej kwoty: {what}")
    return f"<m:{name}>{_amount_text(value, what)}</m:{name}>"


def _amount_text(value: Any, what: str | None) -> str:
    """An amount with two decimal places that the model's `Kwota` takes, or a `RowProblem`: not a number
    ('NaN' quantizes without an error), or more than 12 digits."""
    if isinstance(value, (int, float)) and abs(value) < 1e10:
        return f"{value:.2f}"  # exact to the cent, and at most 12 digits, at this magnitude (NaN is not <)
    # The reason names the column, never the person's value (docs/adapters.md; an attack pass found the amount).
    problem = f"nieprawidłowa kwota (nie liczba albo ponad {AMOUNT_DIGITS} cyfr){f': {what}' if what else ''}"
    try:
        number = Decimal(str(value)).quantize(_CENT)
    except ArithmeticError as error:
        raise RowProblem(problem) from error
    if not number.is_finite() or _digits(number) > AMOUNT_DIGITS:
        raise RowProblem(problem)
    return str(number)


def _digits(number: Decimal) -> int:
    """The digits xs:totalDigits counts (trailing zeros of the fraction and leading zeros not included)."""
    _sign, digits, exponent = number.normalize().as_tuple()
    return len(digits) + max(0, int(exponent))


def flag(name: str, value: Any) -> str:
    """A boolean element from 0/1, 'T'/'N' or a bool; None writes nothing."""
    if value is None:
        return ""
    truth = value if isinstance(value, bool) else str(value).strip().upper() in ("1", "T", "TAK", "Y", "TRUE")
    return f"<m:{name}>{'true' if truth else 'false'}</m:{name}>"


def as_date(value: Any) -> dt.date | None:
    """A source value as a date (SQLite keeps dates as text), or None when it is none or unreadable."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def addresses(items: Iterable[str]) -> str:
    """`Adresy` around formatted `Adres` elements, or nothing when there are none."""
    body = "".join(items)
    return wrap("Adresy", body) if body else ""


def post_code(value: Any, what: str) -> str:
    """`KodPocztowy` (five digits get their dash), or nothing when the source has none: a homeless
    client's place of stay or an address abroad has no Polish post code (model 1.1). A value that is
    present but no post code is a `RowProblem`."""
    post = str(value or "").strip()
    if not post:
        return ""
    if len(post) == 5 and post.isdigit():
        post = post[:2] + "-" + post[2:]
    if not (len(post) == 6 and post[2] == "-" and (post[:2] + post[3:]).isdigit()):
        raise RowProblem(f"nieprawidłowy kod pocztowy: {what}")  # the value may be an address: not shown
    return el("KodPocztowy", post)


def address(kind: str, post: Any, town: Any, street: Any, house: Any, flat: Any, what: str) -> str:
    """One `Adres` in model order; the town is required, the post code and the house number are not."""
    return wrap(
        "Adres",
        el("RodzajAdresu", kind)
        + post_code(post, what)
        + text("Miejscowosc", town, f"{what}: miejscowość", required=True)
        + text("Ulica", street, f"{what}: ulica")
        + text("NrDomu", house, f"{what}: numer domu", limit=MAX_NUMBER)
        + text("NrLokalu", flat, f"{what}: numer lokalu", limit=MAX_NUMBER),
    )


def personal(
    *,
    surname: Any,
    first_name: Any,
    second_name: Any,
    pesel: Any,
    birth_date: Any,
    document_kind: str | None,
    document_number: Any,
    sex: str,
    marital: str | None,
    address_xml: str,
    what: str = "osoba",
) -> str:
    """The content of `DaneOsobowe` (or `Dziecko`) in model order, from already translated codes."""
    document = ""
    if document_kind and document_number:
        number = document_number_text(document_number, f"{what}: numer dokumentu")
        document = wrap("DokumentTozsamosci", el("Rodzaj", document_kind) + el("Numer", number))
    pesel_value = pesel_text(pesel, what)
    return (
        text("Nazwisko", surname, f"{what}: nazwisko", required=True)
        + text("Imie", first_name, f"{what}: imię", required=True)
        + text("DrugieImie", second_name, f"{what}: drugie imię")
        + el("Pesel", pesel_value)
        + date("DataUrodzenia", birth_date, f"{what}: data urodzenia", required=True)
        + document
        + el("Plec", sex)
        + el("StanCywilny", marital)
        + address_xml
    )


class Lookup(dict[Any, str]):
    """value -> formatted text, computed on first use; a C-speed lookup afterwards.

    Bounded: cleared when `limit` values are held, so memory stays flat. A value whose computation
    raises (`RowProblem`) is not remembered.
    """

    def __init__(self, compute: Callable[[Any], str], limit: int = _CACHE_LIMIT) -> None:
        super().__init__()
        self.compute = compute
        self.limit = limit

    def __missing__(self, value: Any) -> str:
        formatted = self.compute(value)
        if len(self) >= self.limit:
            self.clear()
        self[value] = formatted
        return formatted


def text_lookup(name: str, what: str, *, required: bool = False, limit: int = MAX_TEXT) -> Lookup:
    """value -> the element exactly as `text(name, value, what, required=..., limit=...)` writes it."""
    return Lookup(lambda value: _text_element(name, value, what, required, limit))


def date_lookup(name: str, what: str, *, required: bool = False) -> Lookup:
    """value -> the element exactly as `date(name, value, what, required=...)` writes it."""
    return Lookup(lambda value: _date_element(name, value, what, required), _DATE_LIMIT)


def flag_lookup(name: str) -> Callable[[Any], str]:
    """A function value -> the element as `flag(name, value)` writes it; 0 and 1 looked up, not computed."""
    known = {0: f"<m:{name}>false</m:{name}>", 1: f"<m:{name}>true</m:{name}>"}

    def formatted(value: Any) -> str:
        # Exactly int: 1.0 or True must go through `flag`, which reads them differently (True, '1.0').
        if type(value) is int and value in known:
            return known[value]
        return flag(name, value)

    return formatted


def _iso(value: Any) -> str:
    if value is None:
        raise RowProblem("brak wymaganej daty")
    parsed = as_date(value)
    if parsed is None:
        raise RowProblem("niemożliwa lub nieczytelna data")
    return parsed.isoformat()


def _escaped(value: Any) -> str:
    trimmed = "" if value is None else _source_text(value, "historia osoby").strip()
    if not trimmed:
        raise RowProblem("brak wymaganej wartości")
    if len(trimmed) > MAX_TEXT:
        raise RowProblem(f"wartość dłuższa niż {MAX_TEXT} znaków")
    return escape_checked(trimmed)


def _money(value: Any) -> str:
    if value is None:
        raise RowProblem("brak wymaganej kwoty")
    return _amount_text(value, None)


#: ISO[value]: a date as xs:date text (RowProblem when impossible or missing).
ISO = Lookup(_iso, _DATE_LIMIT)
#: TXT[value]: trimmed, escaped, non-empty text of at most 500 characters (RowProblem otherwise).
TXT = Lookup(_escaped)
#: AMT[value]: an amount with two decimal places.
AMT = Lookup(_money)
