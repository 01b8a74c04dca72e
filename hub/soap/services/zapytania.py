"""The query service `/soap/zapytania` (guideline 1.1): ZapytanieOBeneficjenta, ListaZbiorow,
ListaPodstawPrawnych. A thin translation between SOAP objects and `hub.domain.query`."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Mapping
from typing import Any

from lxml import etree
from spyne import Application, ServiceBase, rpc

from contract import catalog
from contract.errors import InvalidIdentifier, InvalidRequest
from contract.identifiers import Identifier
from hub.core import HubCore
from hub.domain.query import QueryAnswer, QueryRequest, digest_of
from hub.domain.scope import grouped
from hub.soap.model.categories import CATEGORY_TYPES
from hub.soap.model.query import (
    DostepneZbiory,
    KategoriaOpis,
    KategorieOpis,
    KodyPodstaw,
    KodyZbiorow,
    Odpowiedz,
    PodstawaPrawnaOpis,
    RejestrPodstawPrawnych,
    UzytkownikKoncowy,
    Zapytanie,
    ZbiorOpis,
)
from hub.soap.services.application import caller_of, hub_core, soap_application
from hub.soap.services.protocol import PreRendered
from hub.soap.services.security import authenticate_listener

log = logging.getLogger(__name__)
SERVICE_NAME = "UslugaZapytan"


# xs:date: an optional minus, a year of four or more digits, month, day, an optional time zone.
_XS_DATE = re.compile(r"(-?)([0-9]{4,})-([0-9]{2})-([0-9]{2})(?:Z|[+-][0-9]{2}:[0-9]{2})?")


def parse_birth_date(text: str) -> dt.date:
    """The date of an xs:date (its time zone, if any, ignored); a date the schema allows but no calendar
    of ours has (year 12345, a year before the common era) is the caller's mistake, `InvalidIdentifier`."""
    match = _XS_DATE.fullmatch(text.strip())
    if match is not None and not match[1] and len(match[2]) == 4:
        try:
            return dt.date(int(match[2]), int(match[3]), int(match[4]))
        except ValueError:
            pass  # year 0000 or an impossible day: refused below, as any other date out of range
    raise InvalidIdentifier(
        "Data urodzenia w identyfikatorze beneficjenta jest poza obsługiwanym zakresem: "
        "podaj datę w postaci RRRR-MM-DD z rokiem od 0001 do 9999."
    )


def request_from_xml(wrapper: etree._Element) -> QueryRequest:
    """The core request read straight from the schema-valid `ZapytanieOBeneficjenta` element.

    The body was validated against xsd/zapytania-1.xsd before this runs (HubSoap11.validate_body), so the
    structure is known; reading it with lxml instead of Spyne's object model saves a tenth of the query.
    """
    q = "{" + catalog.QUERY_NS + "}"
    request = wrapper.find(q + "Zapytanie")
    assert request is not None  # required by the schema
    ident = request.find(q + "IdentyfikatorBeneficjenta")
    assert ident is not None

    def text(parent: etree._Element | None, name: str) -> str | None:
        found = parent.find(q + name) if parent is not None else None
        return found.text if found is not None else None

    birth = text(ident, "DataUrodzenia")
    document = ident.find(q + "DokumentTozsamosci")
    identifier = Identifier.build(
        pesel=text(ident, "Pesel"),
        surname=text(ident, "Nazwisko"),
        first_name=text(ident, "Imie"),
        birth_date=parse_birth_date(birth) if birth else None,
        document_kind=text(document, "Rodzaj"),
        document_number=text(document, "Numer"),
    )
    scope: dict[str, list[str]] = {}
    kinds: dict[str, list[str]] = {}
    for data_set in request.iterfind(f"{q}Zbiory/{q}Zbior"):
        categories = (c.text or "" for c in data_set.iterfind(f"{q}Zakres/{q}Kategoria"))
        _asked(scope, kinds, text(data_set, "Kod"), text(data_set, "Rodzaj")).extend(categories)
    return QueryRequest(
        identifier,
        text(request, "PodstawaPrawna") or "",
        text(request, "Cel") or "",
        scope,
        kinds=kinds,
        client_message_id=text(request, "IdentyfikatorKomunikatuKlienta"),
        case_number=text(request, "ZnakSprawy"),
        # The evidence of what was asked: the body's element as received, canonicalised (exc-c14n), the
        # transform every XML-DSig stack has, so the caller recomputes it from what it sent (docs/integration.md).
        request_digest=digest_of(wrapper),
    )


def _asked(scope: dict[str, list[str]], kinds: dict[str, list[str]], code: str | None, kind: str | None) -> list[str]:
    """The list to which a `Zbior`'s categories go: its code's, or its kind's (`Rodzaj`, version 1.2)."""
    if (code is None) == (kind is None):
        raise InvalidRequest("Każdy Zbior zapytania podaje dokładnie jedno z pól: Kod albo Rodzaj.")
    return scope.setdefault(code, []) if code is not None else kinds.setdefault(kind or "", [])


def to_request(zapytanie: Any) -> QueryRequest:
    """The core request for a SOAP `Zapytanie` as Spyne objects (validation of values happens in the core)."""
    ident = zapytanie.IdentyfikatorBeneficjenta
    document = ident.DokumentTozsamosci
    identifier = Identifier.build(
        pesel=ident.Pesel,
        surname=ident.Nazwisko,
        first_name=ident.Imie,
        birth_date=ident.DataUrodzenia,
        document_kind=str(document.Rodzaj) if document is not None and document.Rodzaj is not None else None,
        document_number=document.Numer if document is not None else None,
    )
    scope: dict[str, list[str]] = {}
    kinds: dict[str, list[str]] = {}
    for zbior in zapytanie.Zbiory.Zbior or []:
        _asked(scope, kinds, zbior.Kod, zbior.Rodzaj).extend(zbior.Zakres.Kategoria or [])
    return QueryRequest(
        identifier,
        zapytanie.PodstawaPrawna or "",
        zapytanie.Cel or "",
        scope,
        kinds=kinds,
        client_message_id=zapytanie.IdentyfikatorKomunikatuKlienta,
        case_number=zapytanie.ZnakSprawy,
    )


def to_response(answer: QueryAnswer, prefixes: Mapping[str, str]) -> PreRendered:
    """The SOAP `Odpowiedz` for a core answer, built directly with lxml.

    Spyne's object model would cost a fifth of the query's time for a handful of elements; the element
    built here follows `Odpowiedz` of xsd/zapytania-1.xsd exactly (tests validate answers against it), with
    the envelope's prefixes so the digested `Dane*` elements leave unchanged.
    """
    q = "{" + catalog.QUERY_NS + "}"
    root = etree.Element(q + "Odpowiedz", nsmap={p: ns for ns, p in prefixes.items()})
    etree.SubElement(root, q + "IdentyfikatorZapytania").text = answer.request_id
    etree.SubElement(root, q + "DataOdpowiedzi").text = answer.time.isoformat()
    results = etree.SubElement(root, q + "Wyniki")
    for result in answer.results:
        item = etree.SubElement(results, q + "Wynik")
        etree.SubElement(item, q + "Zbior").text = result.data_set
        etree.SubElement(item, q + "Administrator").text = result.controller
        etree.SubElement(item, q + "Status").text = result.status
        if result.message:
            etree.SubElement(item, q + "Komunikat").text = result.message
        if result.digest:
            etree.SubElement(item, q + "SkrotSHA256").text = result.digest
        if result.element is not None:
            item.append(result.element)  # `Dane<kind>`: DanePUP, DaneOPS or DaneSR, as digested
    if answer.client_message_id:
        etree.SubElement(root, q + "IdentyfikatorKomunikatuKlienta").text = answer.client_message_id
    if answer.request_digest:
        etree.SubElement(root, q + "SkrotZapytania").text = answer.request_digest
    return PreRendered(root)


class QueryService(ServiceBase):
    """Usługa zapytań o beneficjenta (tryb automatycznej wymiany danych, wytyczne pkt 1.1)."""

    # The wsdl:service name published in version 1 (JAX-WS names its generated class after it): kept as it is,
    # whatever the Python class is called; every other name in the WSDL is Polish (docs/contracts.md).
    __service_name__ = "QueryService"

    @rpc(
        Zapytanie.customize(min_occurs=1, nillable=False),
        _returns=Odpowiedz,
        _operation_name="ZapytanieOBeneficjenta",
        _in_header=(UzytkownikKoncowy,),
        _in_variable_names={"request": "Zapytanie"},
        _out_message_name="ZapytanieOBeneficjentaOdpowiedz",
        _out_variable_name="Odpowiedz",
    )
    def query(ctx: Any, request: Any) -> PreRendered:
        """Zwraca dane beneficjenta z zakresu, do którego uprawniony jest użytkownik."""
        core = hub_core(ctx)
        decoded = request_from_xml(request) if isinstance(request, etree._Element) else to_request(request)
        prefixes = answer_prefixes(ctx.app)
        answer = core.query.ask(caller_of(ctx), decoded, ctx.udc["request_id"], prefixes=prefixes)
        return to_response(answer, prefixes)

    @rpc(
        _returns=DostepneZbiory,
        _operation_name="ListaZbiorow",
        _in_header=(UzytkownikKoncowy,),
        _out_message_name="ListaZbiorowOdpowiedz",
        _out_variable_name="Zbiory",
    )
    def data_sets(ctx: Any) -> DostepneZbiory:
        """Zbiory i kategorie danych, o które może pytać użytkownik, z dopuszczalnymi podstawami prawnymi,
        według rodzaju i gminy."""
        core = hub_core(ctx)
        entries = ((e.data_set, e.categories, e.legal_bases) for e in core.query.policy.scope(caller_of(ctx)))
        zbiory = []
        for entry in grouped(core.config, entries):
            kind = catalog.kind(entry.kind)
            assert kind is not None
            zbiory.append(
                ZbiorOpis(
                    Kod=entry.code,
                    Nazwa=kind.title,
                    Administrator=entry.controller,
                    Kategorie=KategorieOpis(
                        Kategoria=[
                            KategoriaOpis(Kod=c.code, Nazwa=c.title)
                            for c in kind.categories
                            if c.code in entry.categories
                        ]
                    ),
                    PodstawyPrawne=KodyPodstaw(PodstawaPrawna=list(entry.legal_bases)),
                    Rodzaj=entry.kind,
                    Gmina=entry.gmina,
                    NazwaGminy=entry.gmina_name,
                )
            )
        return DostepneZbiory(Zbior=zbiory)

    @rpc(
        _returns=RejestrPodstawPrawnych,
        _operation_name="ListaPodstawPrawnych",
        _in_header=(UzytkownikKoncowy,),
        _out_message_name="ListaPodstawPrawnychOdpowiedz",
        _out_variable_name="PodstawyPrawne",
    )
    def legal_bases(ctx: Any) -> RejestrPodstawPrawnych:
        """Rejestr podstaw prawnych skonfigurowany w platformie."""
        core = hub_core(ctx)
        return RejestrPodstawPrawnych(
            PodstawaPrawna=[
                PodstawaPrawnaOpis(
                    Kod=b.code, Nazwa=b.name, Przepis=b.citation, Zbiory=KodyZbiorow(Zbior=list(b.data_sets))
                )
                for b in core.config.legal_bases
            ]
        )


def build_application(core: HubCore | None, *, identify: Any = authenticate_listener) -> Application:
    """The Spyne application of the query service; `core=None` builds it for contract export only."""
    return soap_application(
        [QueryService],
        tns=catalog.QUERY_NS,
        name=SERVICE_NAME,
        core=core,
        raw_requests={f"{{{catalog.QUERY_NS}}}ZapytanieOBeneficjenta"},
        # `identify` is replaceable only so that bench/auth.py can measure the cost of authentication itself.
        identify=identify,
        types=tuple(CATEGORY_TYPES.values()),
    )


@functools.cache
def answer_prefixes(application: Application) -> dict[str, str]:
    """The prefixes (namespace -> prefix) the application's envelopes use for the query and model namespaces:
    fixed once the application is built, so read once per application, not per request."""
    wanted = (catalog.QUERY_NS, catalog.MODEL_NS)
    return {ns: p for ns, p in application.interface.prefmap.items() if ns in wanted}
