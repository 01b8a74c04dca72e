"""The OPS data set (jednostka organizacyjna pomocy społecznej): guideline items OPS 1-3."""

from __future__ import annotations

from hub.soap.model.common import (
    Boolean,
    DaneOsobowe,
    Date,
    ModelType,
    RequiredAmount,
    RequiredDate,
    RequiredText,
    Text,
    many,
    required,
)


class InformacjeOgolne(ModelType):
    """Whether the person is registered at the unit and their status there (OPS 2.1, 2.2)."""

    _type_info = [("CzyZarejestrowana", required(Boolean)), ("StatusWJednostce", Text)]


class SwiadczenieOPS(ModelType):
    """A benefit or allowance granted and drawn (OPS 3): name, period, gross and net amount."""

    _type_info = [
        ("Nazwa", RequiredText),
        ("DataOd", RequiredDate),
        ("DataDo", Date),
        ("KwotaBrutto", RequiredAmount),
        ("KwotaNetto", RequiredAmount),
    ]


class Swiadczenia(ModelType):
    _type_info = [("Swiadczenie", many(SwiadczenieOPS))]


class DaneOPS(ModelType):
    """What the OPS data set holds about one person; each element is one category, all optional."""

    _type_info = [
        ("DaneOsobowe", DaneOsobowe),
        ("InformacjeOgolne", InformacjeOgolne),
        ("Swiadczenia", Swiadczenia),
    ]
