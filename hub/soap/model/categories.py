"""The closed lists of category codes, one per data set kind of model 1 (`KategoriaPUP`, ...).

A query names categories as open codes (`Zakres/Kategoria`: a plug-in kind brings its own, and an unknown
code is answered with the precise NIEZNANA_KATEGORIA); these enumerations publish each kind's list in
model-1.xsd, generated from `contract.catalog`, so clients can offer and check the codes.
"""

from __future__ import annotations

from typing import Any

from spyne import Enum

from contract import catalog
from hub.soap.model import DATA_TYPES
from hub.soap.model.common import named


def _codes(kind_code: str) -> Any:
    kind = catalog.kind(kind_code)
    assert kind is not None
    return named(Enum(*kind.category_codes, type_name=f"Kategoria{kind_code}"))


CATEGORY_TYPES: dict[str, Any] = {code: _codes(code) for code in DATA_TYPES}
