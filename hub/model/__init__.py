"""The common XML model as Spyne types: the contract and nothing else (STYLE.md).

Every category of every data set (DESIGN.md, "Data scope") is one section type here; `SECTION_TYPES`
and `DATA_TYPES` tie them to the codes of `hub.catalog`.
"""

from __future__ import annotations

from hub.model.common import Adres, DaneOsobowe, DokumentTozsamosci
from hub.model.feed import Paczka, Rekord
from hub.model.ops import DaneOPS
from hub.model.pup import DanePUP
from hub.model.query import DostepneZbiory, Odpowiedz, RejestrPodstawPrawnych, WynikZbioru, Zapytanie
from hub.model.sr import DaneSR

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
