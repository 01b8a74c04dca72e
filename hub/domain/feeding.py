"""Feeding replicas through the hub (guideline 4): who may feed which data set, and the one writer per data
set that applies batches all-or-nothing. The SOAP service `/soap/zasilanie` (and any later edge) calls this;
every refusal is recorded as a security event, as for every other service."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Protocol

from contract.catalog import FEEDING_SYSTEM
from contract.errors import ConfigurationError, Detail, DetailKind, NotAllowed, UnknownDataSet
from hub.domain.policy import Caller
from hub.settings import Config, DataSet
from replica.writer import BatchHeader, LoadReport, RecordLike, ReplicaStatus, ReplicaWriter


class NoReplica(UnknownDataSet):
    """The data set's replica is not kept by this hub (a node holds it): feed the node instead."""

    code = "BRAK_REPLIKI"


class RefusalRecorder(Protocol):
    """What records a permission refusal and gives the error to raise (`Accounts.refused`)."""

    def refused(self, actor: Caller, what: str) -> NotAllowed: ...


class Feeding:
    """Authorises feeding systems and applies their batches; one writer and one lock per data set."""

    def __init__(self, config: Config, refusals: RefusalRecorder) -> None:
        self.config = config
        self.refusals = refusals
        self._writers: dict[str, tuple[ReplicaWriter, threading.Lock]] = {}
        self._guard = threading.Lock()

    def authorise(self, caller: Caller, code: str) -> DataSet:
        """The data set a feeding system of its controller may feed (guideline 5); refusals are recorded."""
        if not caller.has_role(FEEDING_SYSTEM):
            raise self._refuse(
                caller,
                f"zasilanie zbioru {code} (wymaga roli {FEEDING_SYSTEM})",
                "Zasilać replikę może tylko system dziedzinowy urzędu (rola SYSTEM_ZASILAJACY).",
                Detail(DetailKind.ROLE, FEEDING_SYSTEM),
            )
        data_set = self.config.data_set(code)
        if data_set is None:
            raise UnknownDataSet(f"Nieznany zbiór danych: {code}.", details=(Detail.data_set_code(code),))
        if data_set.controller != caller.office:
            raise self._refuse(
                caller,
                f"zasilanie zbioru {code} administratora {data_set.controller}",
                f"System urzędu {caller.office} może zasilać tylko zbiór, którego administratorem jest ten urząd; "
                f"administratorem zbioru {code} jest {data_set.controller}.",
                Detail.data_set_code(code),
            )
        if data_set.replica is None:
            raise NoReplica(f"Replika zbioru {code} nie jest prowadzona przez ten hub; zasilaj węzeł urzędu.")
        return data_set

    def apply(self, caller: Caller, header: BatchHeader, records: Iterable[RecordLike]) -> LoadReport:
        """Apply one batch of the caller's own data set, whole or not at all."""
        data_set = self.authorise(caller, header.data_set)
        writer, lock = self._writer(data_set)
        with lock:
            return writer.apply(header, records)

    def status(self, caller: Caller, code: str) -> ReplicaStatus:
        """Where the caller's replica stands (to resume an interrupted feed)."""
        writer, _lock = self._writer(self.authorise(caller, code))
        return writer.status()

    def data_element(self, caller: Caller, code: str) -> str:
        """The model element that carries a record's data in this data set's batches."""
        writer, _lock = self._writer(self.authorise(caller, code))
        return writer.kind.data_element

    def close(self) -> None:
        """Release every writer's connections."""
        with self._guard:
            for writer, _lock in self._writers.values():
                writer.dispose()
            self._writers.clear()

    def _writer(self, data_set: DataSet) -> tuple[ReplicaWriter, threading.Lock]:
        with self._guard:
            found = self._writers.get(data_set.code)
            if found is None:
                url = data_set.writer_url
                if url is None:
                    raise ConfigurationError(
                        f"Zbiór {data_set.code} nie ma skonfigurowanego konta zapisu repliki "
                        '(writer = "URL" w [[data_sets]]).'
                    )
                writer = ReplicaWriter(
                    url, data_set.kind, data_set=data_set.code, controller=data_set.controller, duplicates="refuse"
                )
                found = writer, threading.Lock()
                self._writers[data_set.code] = found
            return found

    def _refuse(self, caller: Caller, what: str, message: str, detail: Detail) -> NotAllowed:
        self.refusals.refused(caller, what)  # the security event (guideline 7); its own message is generic
        return NotAllowed(message, details=(detail,))
