"""The common XML model as Spyne types: the contract and nothing else (STYLE.md).

Every category of every data set (DESIGN.md, "Data scope") is one section type here; `SECTION_TYPES`
and `DATA_TYPES` tie them to the codes of `contract.catalog`.
"""

from __future__ import annotations

from hub.soap.model.common import Adres, DaneOsobowe, DokumentTozsamosci
from hub.soap.model.feed import Paczka, Rekord
from hub.soap.model.ops import DaneOPS
from hub.soap.model.pup import DanePUP
from hub.soap.model.query import DostepneZbiory, Odpowiedz, RejestrPodstawPrawnych, WynikZbioru, Zapytanie
from hub.soap.model.sr import DaneSR

DATA_TYPES = {"PUP": DanePUP, "OPS": DaneOPS, "SR": DaneSR}

__all__ = [
    "DATA_TYPES",
    "Adres",
    "DaneOPS",
    "DaneOsobowe",
    "DanePUP",
    "DaneSR",
    "DokumentTozsamosci",
    "DostepneZbiory",
    "Odpowiedz",
    "Paczka",
    "RejestrPodstawPrawnych",
    "Rekord",
    "WynikZbioru",
    "Zapytanie",
]
