"""The auditor's service `/soap/audyt` (guideline 6; GDPR art. 15): disclosure reports.

A thin translation to `audit.reports.build_report`; only callers with the AUDYTOR role may use it, and
every report is itself a recorded event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from spyne import Application, ByteArray, ComplexModel, DateTime, Enum, ServiceBase, Unicode, rpc

from audit.reports import ReportFormat, ReportKind, ReportRequest, Requester, build_report
from contract.errors import InvalidRequest
from contract.identifiers import validate_pesel
from hub.core import HubCore
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


_MEDIA = {ReportFormat.XML: "application/xml", ReportFormat.CSV: "text/csv", ReportFormat.PDF: "application/pdf"}


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class AuditService(ServiceBase):
    """Usługa audytu: raporty z rejestru ujawnień (dla roli AUDYTOR)."""

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
        core = hub_core(ctx)
        caller = caller_of(ctx)
        if not caller.has_role(AUDITOR):
            raise core.accounts.refused(caller, "raport z rejestru ujawnień (wymaga roli AUDYTOR)")
        kind = ReportKind(str(order.Rodzaj))
        pesel = validate_pesel(order.Pesel) if order.Pesel else None
        if kind is ReportKind.PERSON and pesel is None:
            raise InvalidRequest("Raport o osobie wymaga numeru PESEL.")
        if kind is ReportKind.USER and not order.Uzytkownik:
            raise InvalidRequest("Raport o użytkowniku wymaga loginu (Uzytkownik).")
        if kind is ReportKind.OFFICE and not order.Urzad:
            raise InvalidRequest("Raport o urzędzie wymaga kodu urzędu (Urzad).")
        fmt = ReportFormat(str(order.Format))
        request = ReportRequest(
            kind, pesel=pesel, user=order.Uzytkownik, office=order.Urzad, since=_utc(order.Od), until=_utc(order.Do)
        )
        content = build_report(
            core.register.store,
            request,
            fmt,
            requested_by=Requester(caller.login, caller.office, f"SOAP {caller.source}".strip()),
            issuer=core.config.hub.name,
        )
        name = f"raport-{kind.value.lower()}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.{fmt.value}"
        return Raport(NazwaPliku=name, TypMIME=_MEDIA[fmt], Tresc=[content])


def build_application(core: HubCore | None) -> Application:
    """The Spyne application of the audit service; `core=None` builds it for contract export only."""
    return soap_application([AuditService], tns=AUDIT_NS, name="UslugaAudytu", core=core)
