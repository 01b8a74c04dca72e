"""Thin Spyne services: SOAP in, calls on the core, SOAP out (STYLE.md). Only here and in hub/soap/model
does Spyne appear.

`SERVICES` is the one list of published services: the server mounts each at `/soap/<path>`, and
`platforma contracts export` writes `wsdl/<path>.wsdl` for each. A service module provides
`build_application(core)` (with `core=None` for contract export only).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedService:
    """A SOAP service: its path under /soap/, the module that builds it, and a Polish description."""

    path: str
    module: str
    title: str


SERVICES: tuple[PublishedService, ...] = (
    PublishedService("zapytania", "hub.soap.services.zapytania", "Usługa zapytań o beneficjenta (pkt 1.1 wytycznych)"),
    PublishedService("konta", "hub.soap.services.konta", "Usługa kont: zmiana hasła, wylogowanie (pkt 7 wytycznych)"),
    PublishedService(
        "audyt", "hub.soap.services.audyt", "Usługa audytu: raporty z rejestru ujawnień (pkt 6 wytycznych)"
    ),
    PublishedService(
        "zasilanie", "hub.soap.services.zasilanie", "Usługa zasilania replik przez systemy urzędów (pkt 4)"
    ),
    PublishedService(
        "audyt-2",
        "hub.soap.services.audyt2",
        "Usługa audytu, wersja 2: raporty z rejestru ujawnień (pkt 6 wytycznych), typy zawężone",
    ),
    PublishedService(
        "dokumenty",
        "hub.soap.services.dokumenty",
        "Usługa dokumentów: wnioski i zaświadczenia z szablonów, podpisy kwalifikowane, poświadczenia (pkt 1.2 i 2)",
    ),
)
