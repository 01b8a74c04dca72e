"""Writes sections of the common model directly in exclusive-C14N form (what the replica stores).

Building lxml trees costs more than reading the source; these helpers format the canonical text
directly: elements in model order (xsd/model-1.xsd), prefix `m`, the namespace declared on each section
element, character data escaped as C14N does. Tests check the output against the schema and against
lxml's own canonicalisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from adapters.base import MODEL_NS, RowProblem, escape

_CENT = Decimal("0.01")
MAX_TEXT = 500


def section(name: str, body: str) -> tuple[str, bytes]:
    """A section element (one category) with its namespace declaration, as stored."""
    return name, f'<m:{name} xmlns:m="{MODEL_NS}">{body}</m:{name}>'.encode()


def el(name: str, value: Any) -> str:
    """`<m:name>value</m:name>`, or nothing for None."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return f"<m:{name}>{escape(text)}</m:{name}>"


def text(name: str, value: Any, what: str, *, required: bool = False) -> str:
    """A text element (at most 500 characters); a required one must not be empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowProblem(f"brak wymaganej wartości: {what}")
        return ""
    value = str(value).strip()
    if len(value) > MAX_TEXT:
        raise RowProblem(f"wartość dłuższa niż {MAX_TEXT} znaków: {what}")
    return f"<m:{name}>{escape(value)}</m:{name}>"


def wrap(name: str, body: str) -> str:
    """`<m:name>body</m:name>` around already formatted children."""
    return f"<m:{name}>{body}</m:{name}>"


def date(name: str, value: Any, what: str, *, required: bool = False) -> str:
    """A date element; an impossible or unreadable date is a `RowProblem` naming the field."""
    if value is None:
        if required:
            raise RowProblem(f"brak wymaganej daty: {what}")
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise RowProblem(f"niemożliwa lub nieczytelna data: {what} = {value}")
    return f"<m:{name}>{value.isoformat()}</m:{name}>"


def amount(name: str, value: Any, what: str) -> str:
    """A required amount with two decimal places."""
    if value is None:
        raise RowProblem(f"brak wymaganej kwoty: {what}")
    try:
        number = Decimal(str(value)).quantize(_CENT)
    except ArithmeticError as error:
        raise RowProblem(f"nieprawidłowa kwota: {what} = {value}") from error
    return f"<m:{name}>{number}</m:{name}>"


def flag(name: str, value: Any) -> str:
    """A boolean element from 0/1, 'T'/'N' or a bool; None writes nothing."""
    if value is None:
        return ""
    truth = value if isinstance(value, bool) else str(value).strip().upper() in ("1", "T", "TAK", "Y", "TRUE")
    return f"<m:{name}>{'true' if truth else 'false'}</m:{name}>"


def as_date(value: Any) -> dt.date | None:
    """A date for the replica's identity columns, or None when unreadable (the section already failed)."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def addresses(items: Iterable[str]) -> str:
    """`Adresy` around formatted `Adres` elements, or nothing when there are none."""
    body = "".join(items)
    return wrap("Adresy", body) if body else ""


def address(kind: str, post_code: Any, town: Any, street: Any, house: Any, flat: Any, what: str) -> str:
    """One `Adres` in model order."""
    post = str(post_code or "").strip()
    if len(post) == 5 and post.isdigit():
        post = post[:2] + "-" + post[2:]
    if not (len(post) == 6 and post[2] == "-" and (post[:2] + post[3:]).isdigit()):
        raise RowProblem(f"nieprawidłowy kod pocztowy: {what} = {post_code}")
    return wrap(
        "Adres",
        el("RodzajAdresu", kind)
        + el("KodPocztowy", post)
        + text("Miejscowosc", town, f"{what}: miejscowość", required=True)
        + text("Ulica", street, f"{what}: ulica")
        + text("NrDomu", house, f"{what}: numer domu", required=True)
        + text("NrLokalu", flat, f"{what}: numer lokalu"),
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
        document = wrap(
            "DokumentTozsamosci",
            el("Rodzaj", document_kind) + el("Numer", str(document_number).replace(" ", "").upper()),
        )
    pesel_text = str(pesel).strip() if pesel else None
    if pesel_text is not None and not (len(pesel_text) == 11 and pesel_text.isdigit()):
        raise RowProblem(f"PESEL nie składa się z 11 cyfr: {what}")
    return (
        text("Nazwisko", surname, f"{what}: nazwisko", required=True)
        + text("Imie", first_name, f"{what}: imię", required=True)
        + text("DrugieImie", second_name, f"{what}: drugie imię")
        + el("Pesel", pesel_text)
        + date("DataUrodzenia", birth_date, f"{what}: data urodzenia", required=True)
        + document
        + el("Plec", sex)
        + el("StanCywilny", marital)
        + address_xml
    )
