"""Types shared by every data set: address, identity document, personal data, amounts."""

from __future__ import annotations

from typing import Any

from spyne import Boolean, ComplexModel, Date, DateTime, Decimal, Enum, Unicode

from contract.catalog import MODEL_NS


def named(cls: Any, namespace: str = MODEL_NS) -> Any:
    """Put a named simple type into a namespace (Spyne ignores `__namespace__` given to customize)."""
    cls.__namespace__ = namespace
    return cls


def _same_type(cls: Any, **kwargs: Any) -> Any:
    # Customizing drops a simple type's name unless it is passed again; without it Spyne would emit
    # an anonymous copy named after the first field that uses it.
    name = cls.get_type_name()
    if name is not cls.Empty:
        kwargs["type_name"] = name
    return cls.customize(**kwargs)


def required(cls: Any) -> Any:
    """The same type as a mandatory element (minOccurs=1, not nillable)."""
    return _same_type(cls, min_occurs=1, nillable=False)


def optional(cls: Any) -> Any:
    """The same type as an optional element that, when present, has a value (minOccurs=0, not nillable)."""
    return _same_type(cls, min_occurs=0, nillable=False)


def many(cls: Any, max_occurs: int | str = "unbounded", min_occurs: int = 0) -> Any:
    """The same type as a repeated element."""
    return _same_type(cls, min_occurs=min_occurs, max_occurs=max_occurs, nillable=False)


class ModelType(ComplexModel):
    """Base of the common model's types: one namespace, elements in declaration order."""

    __namespace__ = MODEL_NS


Text = named(Unicode(max_len=500, type_name="Tekst"))
RequiredText = required(named(Unicode(min_len=1, max_len=500, type_name="TekstNiepusty")))
Number = named(Unicode(min_len=1, max_len=40, type_name="Numer"))
Amount = named(Decimal(total_digits=12, fraction_digits=2, type_name="Kwota"))
RequiredDate = required(Date)
RequiredAmount = required(Amount)

AddressKind = named(
    Enum("ZAMELDOWANIA", "ZAMIESZKANIA", "KORESPONDENCYJNY", "POBYTU_CZASOWEGO", type_name="RodzajAdresu")
)
DocumentKind = named(Enum("DOWOD_OSOBISTY", "PASZPORT", "KARTA_POBYTU", "INNY", type_name="RodzajDokumentu"))
Sex = named(Enum("K", "M", type_name="Plec"))
MaritalStatus = named(
    Enum(
        "PANNA_KAWALER",
        "ZAMEZNA_ZONATY",
        "ROZWIEDZIONA_ROZWIEDZIONY",
        "WDOWA_WDOWIEC",
        "SEPARACJA",
        "NIEUSTALONY",
        type_name="StanCywilny",
    )
)
PostCode = named(Unicode(pattern=r"[0-9]{2}-[0-9]{3}", type_name="KodPocztowy"))
PeselType = named(Unicode(pattern=r"[0-9]{11}", type_name="Pesel"))


class Adres(ModelType):
    """An address (guideline PUP 1.7): kind, post code, town, street, house and flat number.

    The post code and the house number are optional (model 1.1, docs/contracts.md): a homeless client's
    place of stay or an address abroad has neither, and the person must not be left out of the replica.
    """

    _type_info = [
        ("RodzajAdresu", required(AddressKind)),
        ("KodPocztowy", PostCode),
        ("Miejscowosc", RequiredText),
        ("Ulica", Text),
        ("NrDomu", Number),
        ("NrLokalu", Number),
    ]


class Adresy(ModelType):
    """The addresses of a person, each with its kind."""

    _type_info = [("Adres", many(Adres))]


class DokumentTozsamosci(ModelType):
    """An identity document (guideline PUP 1.4): kind and number."""

    _type_info = [
        ("Rodzaj", required(DocumentKind)),
        ("Numer", required(Number)),
    ]


class DaneOsobowe(ModelType):
    """Personal data of a person (guideline PUP 1, OPS 1, SR 1.1 and 1.2)."""

    _type_info = [
        ("Nazwisko", RequiredText),
        ("Imie", RequiredText),
        ("DrugieImie", Text),
        ("Pesel", PeselType),
        ("DataUrodzenia", RequiredDate),
        ("DokumentTozsamosci", DokumentTozsamosci),
        ("Plec", required(Sex)),
        ("StanCywilny", MaritalStatus),
        ("Adresy", Adresy),
    ]


__all__ = [
    "MODEL_NS",
    "AddressKind",
    "Adres",
    "Adresy",
    "Amount",
    "Boolean",
    "DaneOsobowe",
    "Date",
    "DateTime",
    "DocumentKind",
    "DokumentTozsamosci",
    "Enum",
    "MaritalStatus",
    "ModelType",
    "Number",
    "PeselType",
    "PostCode",
    "RequiredAmount",
    "RequiredDate",
    "RequiredText",
    "Sex",
    "Text",
    "Unicode",
    "many",
    "named",
    "optional",
    "required",
]
