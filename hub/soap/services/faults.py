"""The one place where domain errors become SOAP Faults (DESIGN.md, Contract conventions).

`soap:Client` for the caller's mistake, `soap:Server` for ours; the fault string is a Polish sentence;
`detail` carries `Blad` (hub.soap.model.fault, declared as every operation's `wsdl:fault`) with the stable
machine code, the message, the structured details and the request id; the one fault without it is
`soap:MustUnderstand`, about a header block, not the Body (SOAP 1.1 §4.4).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from lxml import etree
from spyne import Fault

from contract.catalog import MODEL_NS
from contract.errors import (
    Detail,
    DetailKind,
    InternalError,
    InvalidRequest,
    MalformedXml,
    MethodNotAllowed,
    PlatformError,
    SchemaViolation,
    UnknownOperation,
    as_detail,
)
from contract.schema_messages import polish, subject
from hub.soap.model.fault import Message

log = logging.getLogger(__name__)
_M = "{" + MODEL_NS + "}"
_BLOCKS_NAMED = 5  # header blocks a MustUnderstand fault names, at most

# Spyne's own faults (raised before our code runs), mapped to our codes and Polish sentences.
_SPYNE_FAULTS: tuple[tuple[str, str, str], ...] = (
    ("Client.SchemaValidationError", SchemaViolation.code, "Zapytanie nie jest zgodne ze schematem (WSDL/XSD)."),
    ("Client.XMLSyntaxError", MalformedXml.code, "Zapytanie nie jest poprawnym dokumentem XML."),
    ("Client.ResourceNotFound", UnknownOperation.code, "Usługa nie zna wskazanej operacji."),
    ("Client.ValidationError", SchemaViolation.code, "Wartość w zapytaniu nie jest zgodna ze schematem."),
    ("Client.RequestNotAllowed", MethodNotAllowed.code, "Wywołuj usługę metodą POST z nagłówkiem Content-Type."),
    ("Client", InvalidRequest.code, "Zapytanie SOAP jest nieprawidłowe."),
    ("Server", InternalError.code, "Wystąpił błąd po stronie platformy; zgłoś go administratorowi."),
)


class HubFault(Fault):
    """A Fault built by this module (so the protocol knows not to translate it again)."""


#: Spyne's loggers that report a fault raised while reading a request (with its traceback, at ERROR).
_SPYNE_REQUEST_LOGGERS = ("spyne.server._base", "spyne.server.wsgi", "spyne.application.client")


class _ClientFaultsUnlogged(logging.Filter):
    """Drops Spyne's report of a caller's mistake: a `soap:Client` fault is answered, not a server error, and
    its traceback (with the caller's value in Spyne's English) would let anyone fill the hub's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        fault = record.exc_info[1] if record.exc_info else record.msg
        return not (isinstance(fault, Fault) and str(fault.faultcode).split(".")[0] == "Client")


def quiet_client_faults() -> None:
    """Install `_ClientFaultsUnlogged` on Spyne's loggers (once per process)."""
    for name in _SPYNE_REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _ClientFaultsUnlogged) for f in logger.filters):
            logger.addFilter(_ClientFaultsUnlogged())


#: The model's bound of `Blad/Komunikat` (`hub.soap.model.fault.Message`).
MESSAGE_MAX = int(Message.Attributes.max_len)


def error_detail(code: str, message: str, details: tuple[str, ...] = (), request_id: str | None = None) -> Any:
    """The `Blad` element carried in a fault's `detail` (xsd/model-1.xsd): each detail structured in the
    attributes, its text the 1.0 form (`ZBIOR:PUP`)."""
    blad = etree.Element(_M + "Blad", nsmap={None: MODEL_NS})
    etree.SubElement(blad, _M + "Kod").text = code
    # xsd/model-1.xsd bounds Komunikat at 1,000 characters: a message listing 64 unknown categories is longer;
    # the full list is in the Szczegol elements (and the faultstring).
    shown = message if len(message) <= MESSAGE_MAX else message[: MESSAGE_MAX - 1] + "…"
    etree.SubElement(blad, _M + "Komunikat").text = shown
    for item in map(as_detail, details):
        szczegol = etree.SubElement(blad, _M + "Szczegol", Rodzaj=item.kind.value, Wartosc=item.value[:500])
        if item.data_set:
            szczegol.set("Zbior", item.data_set)
        szczegol.text = item
    if request_id:
        etree.SubElement(blad, _M + "IdentyfikatorZapytania").text = request_id
    return blad


def to_fault(error: PlatformError, request_id: str | None = None) -> HubFault:
    """The SOAP Fault for a domain error."""
    faultcode = "Client" if error.client_error else "Server"
    return HubFault(
        faultcode=faultcode,
        faultstring=error.message,
        detail=error_detail(error.code, error.message, error.details, request_id),
    )


def internal_fault(request_id: str | None = None) -> HubFault:
    """The fault for an unexpected error: no exception text, no stack trace, just the request id."""
    message = "Wystąpił błąd po stronie platformy; zgłoś go administratorowi, podając identyfikator zapytania."
    return HubFault(
        faultcode="Server", faultstring=message, detail=error_detail(InternalError.code, message, (), request_id)
    )


def must_understand_fault(blocks: Sequence[etree._Element]) -> HubFault:
    """The `soap:MustUnderstand` fault naming each header block not understood (SOAP 1.1 §4.4.1). It has no
    `detail`: SOAP 1.1 §4.4 keeps `detail` for errors of the Body, so its faultcode is its stable code."""
    named = [etree.QName(block) for block in blocks]
    listed = ", ".join(
        f"{q.localname[:60]} " + (f"z przestrzeni nazw {q.namespace[:200]}" if q.namespace else "bez przestrzeni nazw")
        for q in named[:_BLOCKS_NAMED]
    ) + (", …" if len(named) > _BLOCKS_NAMED else "")
    which = "obowiązkowego nagłówka" if len(named) == 1 else "obowiązkowych nagłówków"
    return HubFault(
        faultcode="MustUnderstand",
        faultstring=(
            f'Platforma nie obsługuje {which} SOAP (soap:mustUnderstand="1"): {listed}. Komunikatu nie '
            'przetworzono; usuń nagłówek albo oznacz go jako nieobowiązkowy (soap:mustUnderstand="0").'
        ),
    )


def version_mismatch_fault() -> HubFault:
    """`soap:VersionMismatch` for an envelope of another SOAP version (SOAP 1.1 §4.4.1): a SOAP 1.2 client
    learns it spoke the wrong version, not that its request was malformed. No `detail`, as MustUnderstand."""
    return HubFault(
        faultcode="VersionMismatch",
        faultstring=(
            "Platforma obsługuje SOAP 1.1 (koperta http://schemas.xmlsoap.org/soap/envelope/), a komunikat jest "
            "w SOAP 1.2. Komunikatu nie przetworzono; wygeneruj klienta z WSDL jako SOAP 1.1."
        ),
    )


# libxml2's report of a schema violation, as Spyne passes it on: ASCII bytes (other characters as
# numeric character references) of `<file>:<line>:<column>:ERROR:SCHEMASV:<kind>: <description>`.
_LIBXML2_PREFIX = re.compile(r"^[^\n]*?:[0-9]+:[0-9]+:[A-Z]+:[A-Z]+:([A-Z0-9_]+): ")
_ATTRIBUTE = re.compile(r"The attribute '([^']+)' (is not allowed|is required but missing)")
_CHARACTER = re.compile(r"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")


def _text_of(value: Any) -> str:
    """A fault string as text: Spyne gives some as bytes, whose repr (`b"..."`) must never reach a caller."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value or "")
    return _CHARACTER.sub(lambda m: chr(int(m[1], 16) if m[1] else int(m[2])), text)


def schema_problem(faultstring: Any) -> tuple[str, str]:
    """(a Polish clause naming what is wrong, the description) of a schema violation: libxml2's file, line
    and error kind left out, its description in Polish (`contract.schema_messages`), e.g. `Element
    DataUrodzenia: wartość '2000-13-01' nie jest poprawna: wymagana jest data w postaci RRRR-MM-DD.`"""
    text = _text_of(faultstring).strip()
    kind = ""
    found = _LIBXML2_PREFIX.match(text)
    if found is not None:
        kind, text = found[1], text[found.end() :]
    about = subject(text)
    if about is None:
        clause = ""
    elif about.rest.startswith("Missing child element"):
        clause = f"w elemencie {about.element} brakuje wymaganego elementu"
    elif "not expected" in about.rest or kind == "SCHEMAV_CVC_ELT_1":
        clause = f"element {about.element} jest w tym miejscu niedozwolony"
    elif (attribute := _ATTRIBUTE.match(about.rest)) is not None:
        clause = (
            f"element {about.element} ma niedozwolony atrybut {attribute[1]}"
            if attribute[2] == "is not allowed"
            else f"w elemencie {about.element} brakuje wymaganego atrybutu {attribute[1]}"
        )
    elif about.attribute is not None:
        clause = f"wartość atrybutu {about.attribute} elementu {about.element} jest niezgodna ze schematem"
    else:
        clause = f"wartość elementu {about.element} jest niezgodna ze schematem"
    return clause, polish(text)[:500] if text else ""


def translate(fault: Fault) -> Fault:
    """Give Spyne's own faults a stable code and a Polish sentence; ours pass unchanged."""
    if isinstance(fault, HubFault):
        return fault
    code = str(fault.faultcode or "Server")
    for prefix, our_code, message in _SPYNE_FAULTS:
        if code == prefix or code.startswith(prefix + "."):
            details: tuple[Detail, ...] = ()
            if our_code == SchemaViolation.code and fault.faultstring:
                # What is wrong, readably: an element name and libxml2's description, no file, line or repr.
                clause, description = schema_problem(fault.faultstring)
                if clause:
                    message = f"{message.removesuffix('.')}: {clause}."
                details = (Detail(DetailKind.DESCRIPTION, description),) if description else ()
            return HubFault(
                faultcode=prefix.split(".")[0],
                faultstring=message,
                detail=error_detail(our_code, message, details),
            )
    log.warning("untranslated fault code %s", code)
    return internal_fault()
