"""The auditor's service, version 2 (`/soap/audyt-2`, `urn:pl:platforma-komunikacyjna:audyt:2`).

What version 2 changed against version 1 (`/soap/audyt`, still served; docs/contracts.md): the report
format is an uppercase enumeration (`XML`, `CSV`, `PDF`), each criterion has its own constrained type (the
PESEL 11 digits, a login, an office code) instead of one 120-character `Kod`, the media type is an
enumeration, and the WSDL service is named in Polish (`UslugaAudytu`). The domain call is the same.
"""

from __future__ import annotations

from typing import Any

from spyne import Application, ByteArray, ComplexModel, DateTime, Enum, ServiceBase, Unicode, rpc

from contract.catalog import UNIT_CODE_LENGTH
from hub.core import HubCore
from hub.domain.reports import MEDIA_TYPES
from hub.soap.model.common import PeselType, named, optional, required
from hub.soap.services.application import soap_application
from hub.soap.services.audyt import order_report

AUDIT_NS = "urn:pl:platforma-komunikacyjna:audyt:2"
SERVICE_NAME = "UslugaAudytu"

Kind = named(Enum("OSOBA", "UZYTKOWNIK", "URZAD", "OKRES", type_name="RodzajRaportu"), AUDIT_NS)
Format = named(Enum("XML", "CSV", "PDF", type_name="FormatRaportu"), AUDIT_NS)
Login = named(Unicode(min_len=1, max_len=120, type_name="Login"), AUDIT_NS)
OfficeCode = named(
    Unicode(min_len=1, max_len=UNIT_CODE_LENGTH, pattern="[A-Za-z0-9_.-]+", type_name="KodUrzedu"), AUDIT_NS
)
FileName = named(Unicode(min_len=1, max_len=200, type_name="NazwaPliku"), AUDIT_NS)
MediaType = named(Enum(*sorted(MEDIA_TYPES.values()), type_name="TypMIME"), AUDIT_NS)


class ZamowienieRaportu(ComplexModel):
    """What the report covers: a person (PESEL), a user, an office or a period; times are half-open."""

    __namespace__ = AUDIT_NS
    _type_info = [
        ("Rodzaj", required(Kind)),
        ("Pesel", optional(PeselType)),
        ("Uzytkownik", optional(Login)),
        ("Urzad", optional(OfficeCode)),
        ("Od", optional(DateTime)),
        ("Do", optional(DateTime)),
        ("Format", required(Format)),
    ]


class Raport(ComplexModel):
    """The report file: its content (base64), media type and a suggested file name."""

    __namespace__ = AUDIT_NS
    _type_info = [
        ("NazwaPliku", required(FileName)),
        ("TypMIME", required(MediaType)),
        ("Tresc", required(ByteArray)),
    ]


class AuditServiceV2(ServiceBase):
    """Usługa audytu (wersja 2): raporty z rejestru ujawnień (dla roli AUDYTOR)."""

    __service_name__ = SERVICE_NAME

    @rpc(
        required(ZamowienieRaportu),
        _returns=Raport,
        _operation_name="RaportUjawnien",
        _in_variable_names={"order": "Zamowienie"},
        _out_message_name="RaportUjawnienOdpowiedz",
        _out_variable_name="Raport",
    )
    def report(ctx: Any, order: Any) -> Raport:
        """Raport ujawnień: o osobie (art. 15 RODO), użytkowniku, urzędzie lub okresie."""
        made = order_report(ctx, order)
        return Raport(NazwaPliku=made.name, TypMIME=made.media_type, Tresc=[made.content])


def build_application(core: HubCore | None) -> Application:
    """The Spyne application of the audit service, version 2; `core=None` builds it for contract export only."""
    return soap_application([AuditServiceV2], tns=AUDIT_NS, name=SERVICE_NAME, core=core)
