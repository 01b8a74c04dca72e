"""The feed service `/soap/zasilanie` (guideline 4): an office's feeding system sends batches of its own
data set; each batch is validated against xsd/zasilanie-1.xsd and applied all-or-nothing.

Operations: `Zasil` (a `Paczka` → a `Pokwitowanie`) and `StanZasilania` (a data set code → where its
replica stands, for resuming). The caller authenticates as in the query service and must hold the role
`SYSTEM_ZASILAJACY` of the office that is the data set's controller. The hub writes replicas only here,
through the data set's writer URL (`writer = "<URL>"` in `[[data_sets]]`; for SQLite the replica file).
"""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree
from spyne import Application, ServiceBase, rpc

from contract import catalog
from contract.errors import ConfigurationError, NotAllowed, UnknownDataSet
from hub.core import HubCore
from hub.domain.policy import Caller
from hub.soap.model.common import required
from hub.soap.model.feed import DataSetCode, Odrzucenie, Odrzucone, Paczka, Pokwitowanie, StanRepliki, ZasilenieOtwarte
from hub.soap.services.application import caller_of, hub_core, soap_application
from replica.writer import BatchHeader, LoadReport, ReplicaWriter, parse_record

SERVICE_NAME = "UslugaZasilania"
FEEDING_ROLE = "SYSTEM_ZASILAJACY"
F = "{" + catalog.FEED_NS + "}"


class NoReplica(UnknownDataSet):
    """The data set's replica is not kept by this hub (a node holds it): feed the node instead."""

    code = "BRAK_REPLIKI"


class Writers:
    """One replica writer per data set, opened on first use; batches of one data set never interleave."""

    def __init__(self, core: HubCore) -> None:
        self.core = core
        self._writers: dict[str, ReplicaWriter] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._urls = writer_urls(core)

    def for_data_set(self, code: str) -> tuple[ReplicaWriter, threading.Lock]:
        """The writer and the lock of a data set."""
        with self._guard:
            writer = self._writers.get(code)
            if writer is None:
                data_set = self.core.config.data_set(code)
                assert data_set is not None
                url = self._urls.get(code)
                if url is None:
                    raise ConfigurationError(
                        f'Zbiór {code} nie ma skonfigurowanego konta zapisu repliki (writer = "URL" w [[data_sets]]).'
                    )
                writer = ReplicaWriter(url, data_set.kind, duplicates="refuse")
                self._writers[code] = writer
                self._locks[code] = threading.Lock()
            return writer, self._locks[code]

    def close(self) -> None:
        """Release every writer's connections."""
        with self._guard:
            for writer in self._writers.values():
                writer.dispose()
            self._writers.clear()


def writer_urls(core: HubCore) -> dict[str, str]:
    """The URL the feed path writes each local replica with (`DataSet.writer_url`)."""
    return {d.code: url for d in core.config.data_sets if (url := d.writer_url) is not None}


def _writers(ctx: Any) -> Writers:
    writers: Writers = ctx.app.writers
    return writers


def authorise(core: HubCore, caller: Caller, code: str) -> None:
    """The caller must be a feeding system of the office that controls the data set (guideline 5)."""
    if not caller.has_role(FEEDING_ROLE):
        raise NotAllowed(
            "Zasilać replikę może tylko system dziedzinowy urzędu (rola SYSTEM_ZASILAJACY).",
            details=(f"ROLA:{FEEDING_ROLE}",),
        )
    data_set = core.config.data_set(code)
    if data_set is None:
        raise UnknownDataSet(f"Nieznany zbiór danych: {code}.", details=(f"ZBIOR:{code}",))
    if data_set.controller != caller.office:
        raise NotAllowed(
            f"System urzędu {caller.office} może zasilać tylko zbiór, którego administratorem jest ten urząd; "
            f"administratorem zbioru {code} jest {data_set.controller}.",
            details=(f"ZBIOR:{code}",),
        )
    if data_set.replica is None:
        raise NoReplica(f"Replika zbioru {code} nie jest prowadzona przez ten hub; zasilaj węzeł urzędu.")


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

    @rpc(
        Paczka.customize(min_occurs=1, nillable=False),
        _returns=Pokwitowanie,
        _body_style="bare",
        _in_message_name="Paczka",
        _out_message_name="Pokwitowanie",
    )
    def Zasil(ctx: Any, batch: Any) -> Pokwitowanie:  # the operation's name in the WSDL
        """Stosuje paczkę rekordów zbioru urzędu wywołującego (całą albo wcale) i zwraca pokwitowanie."""
        core = hub_core(ctx)
        authorise(core, caller_of(ctx), str(batch.Zbior))
        element = _batch_element(ctx)
        header = BatchHeader.from_attributes(dict(element.attrib))
        writer, lock = _writers(ctx).for_data_set(header.data_set)
        data_element = writer.kind.data_element
        records = (parse_record(record, data_element) for record in element.iterchildren(F + "Rekord"))
        with lock:
            report = writer.apply(header, records)
        return to_receipt(report)

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
        core = hub_core(ctx)
        authorise(core, caller_of(ctx), code)
        writer, _lock = _writers(ctx).for_data_set(code)
        status = writer.status()
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
    application = soap_application([FeedService], tns=catalog.FEED_NS, name=SERVICE_NAME, core=core)
    application.writers = Writers(core) if core is not None else None
    return application
