"""Spyne's SOAP 1.1 protocol, hardened: our XML parser, Polish faults, and pre-rendered sections.

Pre-rendered sections: the query engine hands over `Dane*` elements already built from the replica's
stored XML (and digested); serializing them again through Spyne's object model would only cost time.
The WSDL still types them fully (hub.soap.model).
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from spyne import Fault
from spyne.protocol.soap import Soap11

from contract.errors import InvalidRequest, PlatformError, SchemaViolation
from contract.xmlsafe import parse_bytes
from hub.soap.services import faults

_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


class PreRendered:
    """An lxml element to be placed in the response as it is."""

    __slots__ = ("element",)

    def __init__(self, element: etree._Element) -> None:
        self.element = element


class HubSoap11(Soap11):
    """SOAP 1.1 with the hub's hardened parser and fault translation.

    `raw_requests`: operations (by body element tag) whose schema-valid request element is handed to the
    service as it is, skipping Spyne's object model (the service then reads it with lxml).
    """

    def __init__(self, *args: Any, raw_requests: set[str] | frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.raw_requests = frozenset(raw_requests)

    def deserialize(self, ctx: Any, message: Any) -> None:
        if message is self.REQUEST and ctx.method_request_string in self.raw_requests:
            self.event_manager.fire_event("before_deserialize", ctx)
            ctx.in_object = [ctx.in_body_doc]
            self.event_manager.fire_event("after_deserialize", ctx)
            return
        try:
            super().deserialize(ctx, message)
        except (ValueError, OverflowError):
            # A schema-valid value Python cannot hold (`2020-01-01T24:00:00Z`, a year past 9999): the caller's
            # mistake, answered as a fault, never an empty 500 (found by trying the running hub).
            raise faults.to_fault(
                SchemaViolation(
                    "Wartość w żądaniu (data, czas albo liczba) jest poprawna według schematu, ale nie do przyjęcia, "
                    "np. godzina 24:00 albo rok spoza zakresu 1–9999."
                )
            ) from None

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        transport = ctx.transport
        if transport is not None and hasattr(transport, "get_request_method"):
            if transport.get_request_method() != "POST" or transport.get_request_content_type() is None:
                transport.resp_code = "405 Method Not Allowed"
                raise faults.translate(Fault("Client.RequestNotAllowed", "POST required"))
        data = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in ctx.in_string)
        try:
            root = parse_bytes(data)
        except PlatformError as error:
            raise faults.to_fault(error) from None
        ctx.in_document = (root, {})

    def decompose_incoming_envelope(self, ctx: Any, message: Any) -> None:
        # Spyne reads the tag of the Body's first element unguarded: an envelope without a Body, or a Body
        # without an element, must be the caller's mistake, not an AttributeError (found by tests/fuzz).
        root = ctx.in_document[0] if isinstance(ctx.in_document, tuple) else ctx.in_document
        is_envelope = root is not None and root.tag == f"{{{_SOAP_ENV}}}Envelope"
        body = root.find(f"{{{_SOAP_ENV}}}Body") if is_envelope else None
        if body is None or not any(isinstance(child.tag, str) for child in body):
            raise faults.to_fault(
                InvalidRequest("Komunikat nie jest kopertą SOAP 1.1 z elementem żądania w soap:Body.")
            ) from None
        super().decompose_incoming_envelope(ctx, message)

    def validate_body(self, ctx: Any, message: Any) -> None:
        if message is self.REQUEST and ctx.method_request_string not in self.app.interface.service_method_map:
            raise faults.translate(Fault("Client.ResourceNotFound", ctx.method_request_string))
        try:
            super().validate_body(ctx, message)
        except Fault as fault:
            raise faults.translate(fault) from None

    def fault_to_parent(self, ctx: Any, cls: Any, inst: Any, parent: Any, ns: Any, *args: Any, **kwargs: Any) -> Any:
        return super().fault_to_parent(ctx, cls, faults.translate(inst), parent, ns, *args, **kwargs)

    def to_parent(self, ctx: Any, cls: Any, inst: Any, parent: Any, ns: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inst, PreRendered):
            if isinstance(parent, etree._Element):
                parent.append(inst.element)
            else:
                parent.write(inst.element)
            return None
        return super().to_parent(ctx, cls, inst, parent, ns, *args, **kwargs)
