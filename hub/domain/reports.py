"""Disclosure reports for auditors (guideline 6; GDPR art. 15): who may order which report, with the same
checks of identifiers as the query path. SOAP (`/soap/audyt`) and the command line call this; every refusal
and every report is recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO

from audit.errors import ReportError, ReportTooLarge
from audit.labels import category_titles
from audit.reports import (
    ReportFormat,
    ReportKind,
    ReportRequest,
    Requester,
    build_report,
    write_report,
)
from audit.store import AuditStore
from contract.catalog import AUDITOR
from contract.errors import Detail, DetailKind, InvalidRequest, NotAllowed
from contract.errors import ReportTooLarge as TooLargeReport
from contract.identifiers import validate_pesel
from contract.polish_time import polish_zone
from hub.domain.feeding import RefusalRecorder
from hub.domain.policy import Caller
from hub.settings import Config, HubSettings

MEDIA_TYPES = {
    ReportFormat.XML: "application/xml",
    ReportFormat.CSV: "text/csv",
    ReportFormat.PDF: "application/pdf",
}


@dataclass(frozen=True)
class ReportOrder:
    """What an auditor asks for: the kind of report, its criteria and format; times are half-open, and one
    without a zone is Polish time."""

    kind: str
    format: str
    pesel: str | None = None
    user: str | None = None
    office: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    include_refusals: bool | None = None
    #: A unit's (office's) or a gmina's disclosures, as a controller sees them (kind ZBIORY): the data sets
    #: they control are looked up in the configuration.
    unit: str | None = None
    gmina: str | None = None


@dataclass(frozen=True)
class ReportFile:
    """A report made: a suggested file name, its media type and its bytes."""

    name: str
    media_type: str
    content: bytes


class Reports:
    """Builds disclosure reports for callers with the AUDYTOR role."""

    def __init__(
        self,
        store: AuditStore,
        refusals: RefusalRecorder,
        issuer: str,
        config: Config | None = None,
        *,
        has_account: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self.refusals = refusals
        self.issuer = issuer
        self.config = config
        #: Whether a login is an account of the hub (`Accounts.has_account`); None: not checked (tests).
        self.has_account = has_account

    def _data_sets(self, order: ReportOrder) -> tuple[str, ...]:
        """The data sets a unit or a gmina controls (kind ZBIORY), from the configuration."""
        if not (order.unit or order.gmina):
            return ()
        if self.config is None:
            raise InvalidRequest("Raport jednostki albo gminy wymaga konfiguracji huba.")
        if order.unit:
            if not self.config.has_office(order.unit):
                raise InvalidRequest(f"Nieznana jednostka (urząd) {order.unit}.")
            offices = {order.unit}
        else:
            offices = {o.code for o in self.config.offices if o.gmina == order.gmina}
            if not offices:
                raise InvalidRequest(f"Nieznana gmina {order.gmina} (kod TERYT z sekcji gminas konfiguracji).")
        codes = tuple(sorted(d.code for d in self.config.data_sets if d.controller in offices))
        if not codes:
            raise InvalidRequest("Wskazana jednostka albo gmina nie administruje żadnym zbiorem.")
        return codes

    def _labels(self) -> Mapping[tuple[str, str], str] | None:
        """Category titles by data set as well as by kind: the register names a gmina unit's data set, whose
        categories are its kind's."""
        if self.config is None:
            return None
        return category_titles({d.code: d.kind for d in self.config.data_sets})

    def _known_office(self, office: str) -> None:
        """An office report names an office of the configuration, or one the register has disclosures of (an
        office since removed from the configuration): a mistyped code got an empty report, which reads as
        "no disclosures"."""
        if self.config is None or self.config.has_office(office) or self.store.has_disclosures_by(office):
            return
        raise InvalidRequest(f"Nieznany urząd {office[:64]}: nie ma go w konfiguracji huba ani w rejestrze ujawnień.")

    def _known_user(self, user: str) -> None:
        """A user report names an account of the hub, or a login the register has records of (an account since
        removed): `ops.pracownk`, or `ops.pracownik ` with a space, got an empty report, which reads as "this user
        received nothing"."""
        if self.has_account is None or self.has_account(user) or self.store.has_disclosures_to(user):
            return
        raise InvalidRequest(
            f"Nieznany użytkownik {user[:120]!r}: nie ma takiego konta w hubie ani jego wpisów w rejestrze ujawnień."
        )

    def request(self, order: ReportOrder) -> tuple[ReportRequest, ReportFormat]:
        """The checked report request: identifiers validated as on the query path, criteria complete."""
        try:
            kind = ReportKind(order.kind.upper())
        except ValueError:
            raise InvalidRequest(f"Nieznany rodzaj raportu: {order.kind}.") from None
        try:
            fmt = ReportFormat(order.format.lower())
        except ValueError:
            raise InvalidRequest(f"Nieznany format raportu: {order.format} (dozwolone: XML, CSV, PDF).") from None
        pesel = validate_pesel(order.pesel) if order.pesel else None
        since, until = _aware(order.since), _aware(order.until)
        for moment in (since, until):
            # Times are compared in Polish local time; a moment at the very edge of the calendar cannot be.
            if moment is not None and not _EARLIEST <= moment <= _LATEST:
                raise InvalidRequest("Okres raportu musi mieścić się między rokiem 1900 a 9998.")
        if since is not None and until is not None and since >= until:
            raise InvalidRequest("Początek okresu raportu musi być wcześniejszy niż jego koniec.")
        if order.office:  # the office of an office report, or a filter of another kind's
            self._known_office(order.office)
        if kind is ReportKind.USER and order.user:
            self._known_user(order.user)
        request = ReportRequest(
            kind,
            pesel=pesel,
            user=order.user,
            office=order.office,
            since=since,
            until=until,
            include_refusals=order.include_refusals,
            data_sets=self._data_sets(order),
        )
        try:
            request.check()
        except ReportError as error:
            raise InvalidRequest(str(error)) from None
        return request, fmt

    def authorise(self, caller: Caller) -> None:
        """Only auditors order reports; a refusal is recorded (guideline 7)."""
        if not caller.has_role(AUDITOR):
            what = f"raport z rejestru ujawnień (wymaga roli {AUDITOR})"
            refused = self.refusals.refused(caller, what)  # the security event (guideline 7)
            raise NotAllowed(refused.message, details=(Detail(DetailKind.ROLE, AUDITOR, text=what),))

    def _limit(self, fmt: ReportFormat, *, streamed: bool) -> tuple[int, str] | None:
        """(the most entries, the setting that says so) of a report made in memory: any PDF, and XML or CSV
        answered over SOAP (`streamed` False); None for XML or CSV written to a stream."""
        if fmt is not ReportFormat.PDF and streamed:
            return None
        setting = "report_max_entries_pdf" if fmt is ReportFormat.PDF else "report_max_entries"
        if self.config is None:  # tests: the settings' own default
            return HubSettings.model_fields[setting].default, setting
        return getattr(self.config.hub, setting), setting

    @staticmethod
    def _too_large(error: ReportTooLarge, fmt: ReportFormat, setting: str) -> TooLargeReport:
        if fmt is ReportFormat.PDF:
            return TooLargeReport(
                f"Raport PDF obejmowałby {error.entries} wpisów, a platforma składa PDF z najwyżej {error.limit} "
                f"(ustawienie [hub] {setting}). Niczego nie zapisano. Zawęź okres, urząd lub zbiory albo zamów "
                "raport w formacie XML lub CSV."
            )
        return TooLargeReport(
            f"Raport obejmowałby {error.entries} wpisów, a w odpowiedzi SOAP platforma wydaje najwyżej {error.limit} "
            f"(ustawienie [hub] {setting}). Niczego nie zapisano. Zawęź okres, urząd lub zbiory albo zamów raport "
            "poleceniem platforma audit report, które zapisuje go strumieniowo."
        )

    def write(self, caller: Caller, order: ReportOrder, output: IO[bytes], *, channel: str) -> int:
        """Write the report to a stream (the command line), recorded as made by `caller`; the entries' count."""
        self.authorise(caller)
        request, fmt = self.request(order)
        limit = self._limit(fmt, streamed=True)
        try:
            return write_report(
                self.store,
                request,
                fmt,
                output,
                requested_by=Requester(caller.login, caller.office, channel),
                issuer=self.issuer,
                labels=self._labels(),
                max_entries=limit[0] if limit else None,
            )
        except ReportTooLarge as error:
            raise self._too_large(error, fmt, limit[1] if limit else "") from None
        except ReportError as error:
            raise InvalidRequest(str(error)) from None

    def build(self, caller: Caller, order: ReportOrder, *, channel: str) -> ReportFile:
        """The report, recorded as made for `caller`; refused (and recorded) without the AUDYTOR role."""
        self.authorise(caller)
        request, fmt = self.request(order)
        limit = self._limit(fmt, streamed=False)
        try:
            content = build_report(
                self.store,
                request,
                fmt,
                requested_by=Requester(caller.login, caller.office, channel),
                issuer=self.issuer,
                labels=self._labels(),
                max_entries=limit[0] if limit else None,
            )
        except ReportTooLarge as error:
            raise self._too_large(error, fmt, limit[1] if limit else "") from None
        except ReportError as error:
            raise InvalidRequest(str(error)) from None
        name = f"raport-{request.kind.value.lower()}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.{fmt.value}"
        return ReportFile(name, MEDIA_TYPES[fmt], content)


_EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(9998, 12, 31, tzinfo=dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A moment without a zone is Polish time, as on the command line (`audit report --since`): a clerk's
    `2026-12-05T07:27:00` over SOAP was read as UTC, an hour off the same words typed at the console."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=polish_zone())
