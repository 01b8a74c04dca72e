"""The one fault detail of every operation: `Blad` (DESIGN.md, Contract conventions).

`hub.soap.services.faults` builds it; `hub.soap.contracts` declares it as the `wsdl:fault` of every
operation. Each `Szczegol` is structured (`Rodzaj`, `Wartosc`, `Zbior` attributes); its text is the
detail's 1.0 form (`ZBIOR:PUP`), kept for clients written against contract 1.0.
"""

from __future__ import annotations

from spyne import Enum, Unicode, XmlAttribute, XmlData

from contract.errors import DetailKind
from hub.soap.model.common import ModelType, many, named, optional, required

ErrorCode = named(Unicode(pattern="[A-Z][A-Z0-9_]*", max_len=64, type_name="KodBledu"))
DetailKindType = named(Enum(*(kind.value for kind in DetailKind), type_name="RodzajSzczegolu"))
DetailValue = named(Unicode(max_len=500, type_name="WartoscSzczegolu"))
DataSetCode = named(Unicode(min_len=1, max_len=64, type_name="KodZbioru"))
RequestId = named(Unicode(min_len=1, max_len=64, type_name="IdentyfikatorZapytania"))
Message = named(Unicode(max_len=1000, type_name="Komunikat"))


class Szczegol(ModelType):
    """One structured detail of a fault: what kind of thing, its value, the data set it concerns."""

    _type_info = [
        ("Rodzaj", XmlAttribute(DetailKindType, use="required")),
        ("Wartosc", XmlAttribute(DetailValue, use="required")),
        ("Zbior", XmlAttribute(DataSetCode)),
        ("Tekst", XmlData(Unicode)),
    ]


class Blad(ModelType):
    """The `detail` of every fault: a stable code, the Polish message, details, the hub's request id."""

    _type_info = [
        ("Kod", required(ErrorCode)),
        ("Komunikat", required(Message)),
        ("Szczegol", many(Szczegol)),
        ("IdentyfikatorZapytania", optional(RequestId)),
    ]
