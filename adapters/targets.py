"""Where a feeder sends its batches: the hub's SOAP feed service, or a replica database directly
(a node's local replica in the traditional model, or a benchmark)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import requests
from lxml import etree

from adapters.base import FEED_NS, MODEL_NS, ModelRecord, SourceUnavailable
from adapters.feeder import FeedError
from replica.feed import BatchHeader, LoadReport, Rejection, ReplicaStatus

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"  # noqa: S105
F = "{" + FEED_NS + "}"
M = "{" + MODEL_NS + "}"


def open_target(
    url: str, *, login: str | None = None, password: str | None = None, kind: str = "", data_set: str | None = None
) -> Any:
    """A target for `--target`: an http(s) URL is the hub's feed service; anything else a replica URL (of
    `data_set`, by default the kind's own)."""
    if url.startswith(("http://", "https://")):
        if not login or password is None:
            raise FeedError("Do zasilania przez SOAP podaj login i hasło systemu urzędu (--login, --password-file).")
        return SoapTarget(url, login, password)
    return ReplicaTarget(url, kind, data_set=data_set)


class ReplicaTarget:
    """Writes a replica database directly with the hub's replica writer (the only writer of replicas).

    A replica that holds another data set, kind or controller is refused when the target opens, before
    the source is read (`replica.writer.check_identity`); a new one records `data_set` (by default the
    kind's code), the kind and `controller`.
    """

    def __init__(self, url: str, kind: str, *, data_set: str | None = None, controller: str | None = None) -> None:
        from contract.errors import PlatformError
        from replica.runlock import RunLock
        from replica.writer import ReplicaWriter

        try:
            # One run per replica at a time, held until `close` (or this process's end): before anything is read.
            self.lock = RunLock(url, data_set or kind)
        except PlatformError as error:
            raise FeedError(f"{error.message} [{error.code}]", fault_code=error.code) from error
        try:
            self.writer = ReplicaWriter(
                url, kind, data_set=data_set, controller=controller, duplicates="refuse", bulk=True
            )
        except PlatformError as error:
            self.lock.release()
            raise FeedError(f"{error.message} [{error.code}]", fault_code=error.code) from error
        try:
            self.writer.verify(data_set or kind)
        except PlatformError as error:
            self.writer.dispose()
            self.lock.release()
            raise FeedError(f"{error.message} [{error.code}]", fault_code=error.code) from error

    def status(self, data_set: str) -> ReplicaStatus:
        """Where the replica stands."""
        return self.writer.status()

    def send(self, header: BatchHeader, records: Sequence[ModelRecord]) -> LoadReport:
        """Apply the batch in one transaction."""
        from contract.errors import PlatformError

        try:
            return self.writer.apply(header, records)
        except PlatformError as error:
            raise FeedError(error.message, fault_code=error.code) from error

    def close(self) -> None:
        """Release the replica's connections and the run's lock."""
        self.writer.dispose()
        self.lock.release()


class SoapTarget:
    """The hub's `/soap/zasilanie`: WS-Security UsernameToken, one HTTP POST per batch."""

    def __init__(self, url: str, login: str, password: str, timeout: float = 300.0) -> None:
        self.url = url.removesuffix("?wsdl")
        self.timeout = timeout
        self.session = requests.Session()
        self.header = (
            f'<soap:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
            f"<wsse:Username>{escape(login)}</wsse:Username>"
            f'<wsse:Password Type="{PASSWORD_TEXT}">{escape(password)}</wsse:Password>'
            "</wsse:UsernameToken></wsse:Security></soap:Header>"
        ).encode()

    def _post(self, body: bytes) -> etree._Element:
        envelope = b'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="' + SOAP_ENV.encode() + b'">'
        envelope += self.header + b"<soap:Body>" + body + b"</soap:Body></soap:Envelope>"
        try:
            response = self.session.post(
                self.url,
                data=envelope,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise FeedError(f"Hub nie odpowiada pod adresem {self.url} ({type(error).__name__}).") from error
        try:
            root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as error:
            raise FeedError(f"Hub odpowiedział niepoprawnym XML (HTTP {response.status_code}).") from error
        fault = root.find(f".//{{{SOAP_ENV}}}Fault")
        if fault is not None:
            code = root.findtext(f".//{M}Blad/{M}Kod") or "BLAD"
            message = fault.findtext("faultstring") or "Hub odrzucił paczkę."
            raise FeedError(f"{message} [{code}]", fault_code=code)
        return root

    def status(self, data_set: str) -> ReplicaStatus:
        """`StanZasilania` of the data set."""
        root = self._post(
            f'<StanZasilania xmlns="{FEED_NS}"><Zbior>{escape(data_set)}</Zbior></StanZasilania>'.encode()
        )
        state = root.find(f".//{F}Stan")
        if state is None:
            raise FeedError("Hub nie zwrócił stanu zasilania.")
        open_run = state.find(f"{F}ZasilenieOtwarte")

        def number(element: etree._Element | None, name: str) -> int | None:
            text = element.findtext(F + name) if element is not None else None
            return int(text) if text else None

        return ReplicaStatus(
            generation=None,
            watermark=state.findtext(f"{F}Znacznik"),
            run_id=state.findtext(f"{F}IdZasilenia"),
            sequence=number(state, "NumerPaczki"),
            staging_run_id=open_run.findtext(f"{F}IdZasilenia") if open_run is not None else None,
            staging_sequence=number(open_run, "NumerPaczki"),
            staging_watermark=open_run.findtext(f"{F}Znacznik") if open_run is not None else None,
            people=number(state, "LiczbaOsob") or 0,
        )

    def send(self, header: BatchHeader, records: Sequence[ModelRecord]) -> LoadReport:
        """`Zasil` one batch; a fault becomes a `FeedError` with the hub's code."""
        attributes = (
            f"Zbior={quoteattr(header.data_set)} Rodzaj={quoteattr(header.kind)} "
            f"IdPaczki={quoteattr(header.batch_id or '')} "
            f"Utworzono={quoteattr(dt.datetime.now(dt.UTC).isoformat(timespec='seconds'))} "
            f'IdZasilenia={quoteattr(header.run_id or "")} NumerPaczki="{header.sequence}" '
            f'Znacznik={quoteattr(header.watermark or "")} Koniec="{"true" if header.final else "false"}"'
        )
        body = (
            f'<Paczka xmlns="{FEED_NS}" {attributes}>'.encode()
            + b"".join(record.to_xml() for record in records)
            + b"</Paczka>"
        )
        root = self._post(body)
        receipt = root.find(f".//{F}Pokwitowanie")
        if receipt is None:
            raise FeedError("Hub nie zwrócił pokwitowania paczki.")
        rejected = [
            Rejection(r.findtext(f"{F}IdZrodlowy") or "", r.findtext(f"{F}Powod") or "")
            for r in receipt.iterfind(f"{F}Odrzucone/{F}Odrzucenie")
        ]
        return LoadReport(
            data_set=receipt.findtext(f"{F}Zbior") or header.data_set,
            kind=receipt.findtext(f"{F}Rodzaj") or header.kind,
            read=int(receipt.findtext(f"{F}Przeczytano") or 0),
            loaded=int(receipt.findtext(f"{F}Zastosowano") or 0),
            deleted=int(receipt.findtext(f"{F}Usunieto") or 0),
            rejected=rejected,
            digest=receipt.findtext(f"{F}SkrotSHA256") or "",
            batch_id=receipt.findtext(f"{F}IdPaczki"),
            run_id=receipt.findtext(f"{F}IdZasilenia"),
            sequence=header.sequence,
            watermark=receipt.findtext(f"{F}Znacznik"),
            repeated=(receipt.findtext(f"{F}Powtorzona") or "") == "true",
            snapshot_live=(receipt.findtext(f"{F}Opublikowano") or "") == "true",
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()


__all__ = ["ReplicaTarget", "SoapTarget", "SourceUnavailable", "open_target"]
