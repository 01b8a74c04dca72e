"""Spyne's SOAP 1.1 protocol, hardened: our XML parser, the envelope rules, Polish faults, and pre-rendered
sections.

Envelope rules (SOAP 1.1 §4, WS-I Basic Profile 1.1), checked before anything runs, authentication included:
an Envelope holds at most one Header and then exactly one Body with exactly one request element, nothing else
(Spyne reads the first Body's first element and would drop the rest unseen); a header block aimed at the hub
and marked `soap:mustUnderstand="1"` that the hub does not process is a `soap:MustUnderstand` fault (Spyne
ignores it). docs/integration.md, "Envelope", says the same for callers.

Pre-rendered sections: the query engine hands over `Dane*` elements already built from the replica's
stored XML (and digested); serializing them again through Spyne's object model would only cost time.
The WSDL still types them fully (hub.soap.model).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

from lxml import etree
from spyne import Fault
from spyne.protocol.soap import Soap11

from contract.errors import InvalidRequest, PlatformError, SchemaViolation
from contract.xmlsafe import parse_bytes
from hub.soap.services import faults

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"  # SOAP 1.1's envelope namespace
_ENVELOPE, _HEADER, _BODY = (f"{{{SOAP_ENV}}}{name}" for name in ("Envelope", "Header", "Body"))
_MUST_UNDERSTAND = f"{{{SOAP_ENV}}}mustUnderstand"
_ACTOR = f"{{{SOAP_ENV}}}actor"
# SOAP 1.1 §4.2.2: a block without soap:actor is for the ultimate recipient, and this URI names "the first
# SOAP application that processes the message": the hub either way, as it is both. Any other actor is not us.
_FOR_THE_HUB = ("", "http://schemas.xmlsoap.org/soap/actor/next")
# SOAP 1.1 §4.2.3 allows "0" and "1" only (WS-I BP R1013 binds senders to them); "true" and "false" are
# xs:boolean's other forms, which SOAP 1.2 stacks write: read as meant, so that no mandatory block is ignored.
_MANDATORY = {"1": True, "true": True, "0": False, "false": False}
_NOT_AN_ENVELOPE = "Komunikat nie jest kopertą SOAP 1.1 z elementem żądania w soap:Body."
_NAMES_SHOWN = 5  # element names quoted in a fault string, at most


class PreRendered:
    """An lxml element to be placed in the response as it is."""

    __slots__ = ("element",)

    def __init__(self, element: etree._Element) -> None:
        self.element = element


_XML_WHITESPACE = str.maketrans("", "", " \t\r\n")
_BASE64_JUNK = (
    "Dane binarne w żądaniu (Base64) zawierają znak spoza alfabetu Base64 (np. spację nierozdzielającą, literę z "
    "polskim znakiem albo znak interpunkcyjny) lub mają niepełne dopełnienie; zakoduj je ponownie."
)

#: The functions that decode a base64Binary value (Spyne's `ByteArray.from_base64`, the standard library's).
_BASE64_DECODERS = frozenset({"from_base64", "b64decode"})


def _raised_in(error: BaseException, functions: frozenset[str]) -> bool:
    """Whether the exception was raised in (or under) a function of one of these names."""
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_name in functions:
            return True
        frame = frame.tb_next
    return False


class HubSoap11(Soap11):
    """SOAP 1.1 with the hub's hardened parser and fault translation.

    `raw_requests`: operations (by body element tag) whose schema-valid request element is handed to the
    service as it is, skipping Spyne's object model (the service then reads it with lxml).
    `understood_headers`: the header blocks (by tag) the application processes; any other one marked
    mandatory for the hub is refused with `soap:MustUnderstand`.
    """

    def __init__(
        self,
        *args: Any,
        raw_requests: set[str] | frozenset[str] = frozenset(),
        understood_headers: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.raw_requests = frozenset(raw_requests)
        self.understood_headers = frozenset(understood_headers)

    def deserialize(self, ctx: Any, message: Any) -> None:
        if message is self.REQUEST and ctx.method_request_string in self.raw_requests:
            self.event_manager.fire_event("before_deserialize", ctx)
            ctx.in_object = [ctx.in_body_doc]
            self.event_manager.fire_event("after_deserialize", ctx)
            return
        try:
            super().deserialize(ctx, message)
        except (ValueError, OverflowError) as error:
            # A schema-valid value Python cannot hold (`2020-01-01T24:00:00Z`, a year past 9999, Base64 with a
            # character outside ASCII): the caller's mistake, answered as a fault, never an empty 500.
            if _raised_in(error, _BASE64_DECODERS):
                text = _BASE64_JUNK
            else:
                text = (
                    "Wartość w żądaniu (data, czas albo liczba) jest poprawna według schematu, ale nie do przyjęcia, "
                    "np. godzina 24:00 albo rok spoza zakresu 1–9999."
                )
            raise faults.to_fault(SchemaViolation(text)) from None

    def byte_array_from_element(self, ctx: Any, cls: Any, element: etree._Element) -> tuple[bytes, ...]:
        """A base64Binary value decoded strictly: libxml2's check lets a character outside the alphabet through
        (`!!!!`, a `*` every four characters) and the standard decoder drops it, so junk became an empty or a
        different document. XML whitespace is allowed (line-wrapped Base64)."""
        text = (element.text or "").translate(_XML_WHITESPACE)  # not str.split(): it takes U+00A0 for a space
        try:
            return (base64.b64decode(text, validate=True),)
        except (binascii.Error, ValueError):
            raise faults.to_fault(SchemaViolation(_BASE64_JUNK)) from None

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        transport = ctx.transport
        if transport is not None and hasattr(transport, "get_request_method"):
            if transport.get_request_method() != "POST" or not transport.get_request_content_type():
                transport.resp_code = "405 Method Not Allowed"
                if hasattr(transport, "resp_headers"):
                    transport.resp_headers["Allow"] = "POST"  # RFC 9110, 15.5.6 (GET and HEAD: `?wsdl` only)
                raise faults.translate(Fault("Client.RequestNotAllowed", "POST required"))
        data = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in ctx.in_string)
        try:
            root = parse_bytes(data)
        except PlatformError as error:
            raise faults.to_fault(error) from None
        ctx.in_document = (root, {})

    def decompose_incoming_envelope(self, ctx: Any, message: Any) -> None:
        root = ctx.in_document[0] if isinstance(ctx.in_document, tuple) else ctx.in_document
        # In SOAP 1.2's order (part 1, 2.6): the envelope's shape, then the mandatory headers, then the Body.
        header, body = _envelope_parts(root)
        self._check_mandatory_headers(header)
        _check_one_request(body)
        super().decompose_incoming_envelope(ctx, message)

    def _check_mandatory_headers(self, header: etree._Element | None) -> None:
        """SOAP 1.1 §4.2.3, WS-I BP R1025/R1027: a block aimed at the hub with mustUnderstand="1" that it does
        not process faults the whole message, before anything of it is processed."""
        unknown = [
            block
            for block in _elements(header)
            if _is_mandatory(block)
            and block.get(_ACTOR, "").strip() in _FOR_THE_HUB
            and block.tag not in self.understood_headers
        ]
        if unknown:
            raise faults.must_understand_fault(unknown)

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


def _elements(parent: etree._Element | None) -> list[etree._Element]:
    """The element children (no comments or processing instructions)."""
    return [] if parent is None else [child for child in parent if isinstance(child.tag, str)]


def _names(elements: Iterable[etree._Element]) -> str:
    shown = [etree.QName(e).localname[:60] for e in elements]
    return ", ".join(shown[:_NAMES_SHOWN]) + (", …" if len(shown) > _NAMES_SHOWN else "")


_SOAP12_ENVELOPE = "{http://www.w3.org/2003/05/soap-envelope}Envelope"


def _envelope_parts(root: etree._Element | None) -> tuple[etree._Element | None, etree._Element]:
    """(Header or None, Body) of an envelope shaped as SOAP 1.1 §4.1.2 and WS-I BP R1011 require: at most one
    Header, first, then one Body, then nothing. Spyne reads the first Header and the first Body it finds, so a
    second Body (another request) or a second Header (another mandatory block) would go unseen."""
    if root is not None and root.tag == _SOAP12_ENVELOPE:
        raise faults.version_mismatch_fault()
    if root is None or root.tag != _ENVELOPE:
        raise faults.to_fault(InvalidRequest(_NOT_AN_ENVELOPE))
    parts = _elements(root)
    tags = [part.tag for part in parts]
    if _BODY not in tags:  # Spyne would read a missing Body's element unguarded (found by tests/fuzz)
        raise faults.to_fault(InvalidRequest(_NOT_AN_ENVELOPE))
    if tags not in ([_BODY], [_HEADER, _BODY]):
        raise faults.to_fault(
            InvalidRequest(
                f"Koperta SOAP zawiera elementy {_names(parts)}, a dozwolony jest najwyżej jeden soap:Header "
                "i po nim dokładnie jeden soap:Body, bez innych elementów (SOAP 1.1, WS-I Basic Profile 1.1). "
                "Komunikatu nie przetworzono."
            )
        )
    return (parts[0] if len(parts) == 2 else None), parts[-1]


def _check_one_request(body: etree._Element) -> None:
    """The Body holds exactly one request element (a document/literal message has one part, WS-I BP 1.1 R2201
    and R2210; BP 1.2 says it as R9981), so one message is one operation, done whole or not at all."""
    requests = _elements(body)
    if not requests:  # Spyne would read the tag of a missing element unguarded (found by tests/fuzz)
        raise faults.to_fault(InvalidRequest(_NOT_AN_ENVELOPE))
    if etree.QName(requests[0]).namespace == SOAP_ENV:
        # A soap:Fault (or another envelope element) is no request: Spyne took a Fault for an answer, named no
        # operation and failed on that, an empty HTTP 500 (found by trying the running hub).
        raise faults.to_fault(
            InvalidRequest(
                f"Element soap:Body zawiera {_names(requests[:1])} z przestrzeni nazw koperty SOAP, a nie żądanie "
                "operacji usługi. Komunikatu nie przetworzono."
            )
        )
    if len(requests) > 1:
        raise faults.to_fault(
            InvalidRequest(
                f"Element soap:Body zawiera więcej niż jedno żądanie ({_names(requests)}), a dozwolone jest dokładnie "
                "jedno: jeden komunikat to jedna operacja. Nie wykonano żadnego z nich."
            )
        )


def _is_mandatory(block: etree._Element) -> bool:
    value = block.get(_MUST_UNDERSTAND)
    if value is None:
        return False
    mandatory = _MANDATORY.get(value.strip())
    if mandatory is None:
        raise faults.to_fault(
            InvalidRequest(
                f"Atrybut soap:mustUnderstand nagłówka {_names([block])} ma wartość „{value.strip()[:40]}”, "
                "a dozwolone są 0 i 1 (SOAP 1.1). Komunikatu nie przetworzono."
            )
        )
    return mandatory
