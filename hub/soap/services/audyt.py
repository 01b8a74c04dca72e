"""The auditor's service `/soap/audyt` (guideline 6; GDPR art. 15): disclosure reports.

A thin translation to `hub.domain.reports.Reports` (only callers with the AUDYTOR role; every report and
every refusal is recorded).
"""

from __future__ import annotations

from typing import Any

from spyne import Application, ByteArray, ComplexModel, DateTime, Enum, ServiceBase, Unicode, rpc

from hub.core import HubCore
from hub.domain.reports import ReportFile, ReportOrder
from hub.soap.model.common import named, required
from hub.soap.services.application import caller_of, hub_core, soap_application

AUDIT_NS = "urn:pl:platforma-komunikacyjna:audyt:1"
AUDITOR = "AUDYTOR"

Kind = named(Enum("OSOBA", "UZYTKOWNIK", "URZAD", "OKRES", type_name="RodzajRaportu"), AUDIT_NS)
Format = named(Enum("xml", "csv", "pdf", type_name="FormatRaportu"), AUDIT_NS)
Text = named(Unicode(max_len=120, type_name="Kod"), AUDIT_NS)


class ZamowienieRaportu(ComplexModel):
    """What the report covers: a person (PESEL), a user, an office or a period; times are half-open."""

    __namespace__ = AUDIT_NS
    _type_info = [
        ("Rodzaj", required(Kind)),
        ("Pesel", Text),
        ("Uzytkownik", Text),
        ("Urzad", Text),
        ("Od", DateTime),
        ("Do", DateTime),
        ("Format", required(Format)),
    ]


class Raport(ComplexModel):
    """The report file: its content (base64), media type and a suggested file name."""

    __namespace__ = AUDIT_NS
    _type_info = [
        ("NazwaPliku", required(Text)),
        ("TypMIME", required(Text)),
        ("Tresc", required(ByteArray)),
    ]


class AuditService(ServiceBase):
    """Usługa audytu: raporty z rejestru ujawnień (dla roli AUDYTOR)."""

    # The wsdl:service name published in version 1 (JAX-WS names its generated class after it): kept as it is,
    # whatever the Python class is called; every other name in the WSDL is Polish (docs/contracts.md).
    __service_name__ = "AuditService"

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


def order_report(ctx: Any, order: Any) -> ReportFile:
    """The report a `ZamowienieRaportu` (of either version) asks for, made for the caller."""
    caller = caller_of(ctx)
    wanted = ReportOrder(
        kind=str(order.Rodzaj),
        format=str(order.Format),
        pesel=order.Pesel,
        user=order.Uzytkownik,
        office=order.Urzad,
        since=order.Od,
        until=order.Do,
    )
    return hub_core(ctx).reports.build(caller, wanted, channel=f"SOAP {caller.source}".strip())


def build_application(core: HubCore | None) -> Application:
    """The Spyne application of the audit service; `core=None` builds it for contract export only."""
    return soap_application([AuditService], tns=AUDIT_NS, name="UslugaAudytu", core=core)
