"""The SR data set (świadczenia rodzinne): guideline items SR 1-3; children carry full personal data."""

from __future__ import annotations

from hub.soap.model.common import (
    DaneOsobowe,
    Date,
    ModelType,
    RequiredAmount,
    RequiredDate,
    RequiredText,
    Text,
    many,
)


class DaneDzieci(ModelType):
    """The children for whom the benefit was granted (SR 1.2), each with the same fields as SR 1.1."""

    _type_info = [("Dziecko", many(DaneOsobowe))]


class PrzyznaneSwiadczenieSR(ModelType):
    """A family benefit granted (SR 2): kind, period, amount; the decision number when known."""

    _type_info = [
        ("Rodzaj", RequiredText),
        ("NumerDecyzji", Text),
        ("DataOd", RequiredDate),
        ("DataDo", Date),
        ("Kwota", RequiredAmount),
    ]


class PrzyznaneSwiadczeniaSR(ModelType):
    _type_info = [("PrzyznaneSwiadczenie", many(PrzyznaneSwiadczenieSR))]


class WyplataSR(ModelType):
    """A family benefit paid (SR 3): kind, payment date, amount."""

    _type_info = [
        ("Rodzaj", RequiredText),
        ("DataWyplaty", RequiredDate),
        ("Kwota", RequiredAmount),
    ]


class WyplaconeSwiadczenia(ModelType):
    _type_info = [("Wyplata", many(WyplataSR))]


class DaneSR(ModelType):
    """What the SR data set holds about the subject of a decision; each element is one category."""

    _type_info = [
        ("DaneOsobowe", DaneOsobowe),
        ("DaneDzieci", DaneDzieci),
        ("PrzyznaneSwiadczenia", PrzyznaneSwiadczeniaSR),
        ("WyplaconeSwiadczenia", WyplaconeSwiadczenia),
    ]
