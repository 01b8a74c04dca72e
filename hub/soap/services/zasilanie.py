"""The feed service `/soap/zasilanie` (guideline 4): an office's feeding system sends batches of its own
data set; each batch is validated against xsd/zasilanie-1.xsd and applied all-or-nothing.

Operations: `Zasil` (a `Paczka` → a `Pokwitowanie`) and `StanZasilania` (a data set code → where its
replica stands, for resuming). A thin translation: who may feed what, and the writers, are
`hub.domain.feeding.Feeding` (a feeding system of the data set's controller; refusals recorded).
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from spyne import Application, ServiceBase, rpc

from contract import catalog
from contract.errors import UnknownDataSet
from hub.core import HubCore
from hub.soap.model.common import required
from hub.soap.model.feed import DataSetCode, Odrzucenie, Odrzucone, Paczka, Pokwitowanie, StanRepliki, ZasilenieOtwarte
from hub.soap.services.application import caller_of, hub_core, soap_application
from replica.writer import LoadReport, checked_header, parse_record

SERVICE_NAME = "UslugaZasilania"
F = "{" + catalog.FEED_NS + "}"


def to_receipt(report: LoadReport) -> Pokwitowanie:
    """The SOAP receipt of a load report."""
    rejected = [Odrzucenie(IdZrodlowy=r.source_key or "?", Powod=r.reason[:500]) for r in report.rejected]
    return Pokwitowanie(
        Zbior=report.data_set,
        Rodzaj=report.kind,
        IdPaczki=report.batch_id,
        IdZasilenia=report.run_id,
        NumerPaczki=report.sequence,
        Przeczytano=report.read,
        Zastosowano=report.loaded,
        Usunieto=report.deleted,
        Odrzucono=len(report.rejected),
        Odrzucone=Odrzucone(Odrzucenie=rejected) if rejected else None,
        SkrotSHA256=report.digest,
        Znacznik=report.watermark,
        Powtorzona=report.repeated,
        Opublikowano=report.snapshot_live,
    )


class FeedService(ServiceBase):
    """Usługa zasilania replik (moduły zasilające urzędów, pkt 4 wytycznych)."""

    # The wsdl:service name published in version 1 (JAX-WS names its generated class after it): kept as it is,
    # whatever the Python class is called; every other name in the WSDL is Polish (docs/contracts.md).
    __service_name__ = "FeedService"

    @rpc(
        Paczka.customize(min_occurs=1, nillable=False),
        _returns=Pokwitowanie,
        _body_style="bare",
        _in_message_name="Paczka",
        _out_message_name="Pokwitowanie",
    )
    def Zasil(ctx: Any, batch: Any) -> Pokwitowanie:  # the operation's name in the WSDL
        """Stosuje paczkę rekordów zbioru urzędu wywołującego (całą albo wcale) i zwraca pokwitowanie."""
        feeding = hub_core(ctx).feeding
        caller = caller_of(ctx)
        element = _batch_element(ctx)
        header = checked_header(dict(element.attrib))
        data_element = feeding.data_element(caller, header.data_set)
        records = (parse_record(record, data_element) for record in element.iterchildren(F + "Rekord"))
        return to_receipt(feeding.apply(caller, header, records))

    @rpc(
        required(DataSetCode),
        _returns=StanRepliki,
        _operation_name="StanZasilania",
        _in_variable_names={"code": "Zbior"},
        _out_message_name="StanZasilaniaOdpowiedz",
        _out_variable_name="Stan",
    )
    def state(ctx: Any, code: str) -> StanRepliki:
        """Stan repliki zbioru: znacznik ostatniego zastosowanego zasilenia i otwarte zasilenie pełne."""
        status = hub_core(ctx).feeding.status(caller_of(ctx), code)
        open_run = None
        if status.staging_run_id and status.staging_sequence:
            open_run = ZasilenieOtwarte(
                IdZasilenia=status.staging_run_id,
                NumerPaczki=status.staging_sequence,
                Znacznik=status.staging_watermark,
            )
        return StanRepliki(
            Zbior=code,
            LiczbaOsob=status.people,
            Znacznik=status.watermark,
            IdZasilenia=status.run_id,
            NumerPaczki=status.sequence,
            ZasilenieOtwarte=open_run,
        )


def _batch_element(ctx: Any) -> etree._Element:
    """The `Paczka` element as received (records are read from it, not from Spyne's object copy)."""
    body = ctx.in_body_doc
    if body is not None and body.tag == F + "Paczka":
        return body
    found = body.find(F + "Paczka") if body is not None else None
    if found is None:
        raise UnknownDataSet("Brak elementu Paczka w treści komunikatu.")
    return found


def build_application(core: HubCore | None) -> Application:
    """The Spyne application of the feed service; `core=None` builds it for contract export only."""
    return soap_application([FeedService], tns=catalog.FEED_NS, name=SERVICE_NAME, core=core)
