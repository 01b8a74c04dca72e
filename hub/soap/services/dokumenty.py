"""The documents service `/soap/dokumenty` (`urn:pl:platforma-komunikacyjna:dokumenty:1`; guideline 1.2 and
2, issue 15): document types, requests, inbox and outbox, certificates to sign and signed, receipts, and the
administration of templates (versions, export and import as one file, activation, history).

A thin translation to `hub.domain.documents.Documents` and its `Templates`: permission checks, states,
signatures and the checks of a template are there.
"""

from __future__ import annotations

from typing import Any

from spyne import Application, ByteArray, ServiceBase, rpc

from hub.core import HubCore
from hub.domain.documents import CaseView, DocumentFile, RequestForm, Submitted
from hub.domain.templates import Template, TemplateHistoryEntry
from hub.soap.model.common import optional, required
from hub.soap.model.documents import (
    DOCUMENTS_NS,
    CaseId,
    Code,
    Dokument,
    EksportSzablonu,
    Poswiadczenia,
    Potwierdzenie,
    RodzajDokumentu,
    RodzajeDokumentow,
    Role,
    Sprawa,
    Sprawy,
    Szablon,
    Szablony,
    TemplateText,
    Text,
    VersionNumber,
    Wizualizacja,
    Wniosek,
    ZmianaSzablonu,
    ZmianySzablonu,
)
from hub.soap.services.application import caller_of, hub_core, soap_application

SERVICE_NAME = "UslugaDokumentow"


def _type(template: Template) -> RodzajDokumentu:
    meta = template.metadata
    return RodzajDokumentu(
        Kod=template.document_type,
        Klasa=meta.get("klasa", ""),
        Wersja=template.version,
        Tytul=template.title,
        Opis=meta.get("opis"),
        Autor=meta.get("autor"),
        PodstawaPrawna=meta.get("podstawa_prawna"),
        PrzestrzenNazw=template.namespace,
    )


def _version(template: Template) -> Szablon:
    return Szablon(
        RodzajDokumentu=template.document_type,
        Wersja=template.version,
        Aktywna=template.active,
        Uzyta=template.used,
        AutorZmiany=template.author,
        Utworzono=template.created,
        Tytul=template.title,
    )


def _change(entry: TemplateHistoryEntry) -> ZmianaSzablonu:
    return ZmianaSzablonu(
        Czas=entry.time,
        RodzajDokumentu=entry.document_type,
        Wersja=entry.version,
        Czynnosc=entry.action.value,
        Kto=entry.actor,
        Urzad=entry.office or None,
        SkrotSHA256=entry.sha256,
    )


def _bytes(content: Any) -> bytes:
    """A ByteArray parameter as bytes (Spyne gives a list of chunks)."""
    return b"".join(content) if isinstance(content, list | tuple) else bytes(content or b"")


def _case(case: CaseView) -> Sprawa:
    return Sprawa(
        IdentyfikatorSprawy=case.id,
        RodzajZaswiadczenia=case.certificate_type,
        Wnioskodawca=case.requester,
        UrzadWnioskodawcy=case.requester_office,
        UrzadAdresata=case.recipient_office,
        Stan=case.state,
        DataZlozenia=case.created,
        PowodOdmowy=case.refusal,
    )


def _document(document: DocumentFile) -> Dokument:
    return Dokument(
        IdentyfikatorDokumentu=document.id,
        IdentyfikatorSprawy=document.case_id,
        Rola=document.role,
        RodzajDokumentu=document.document_type,
        WersjaSzablonu=document.template_version,
        SkrotSHA256=document.sha256,
        Tresc=[document.content],
    )


def _confirmation(made: Submitted) -> Potwierdzenie:
    return Potwierdzenie(Sprawa=_case(made.case), Dokument=_document(made.document), Poswiadczenie=[made.receipt])


def _core(ctx: Any) -> HubCore:
    return hub_core(ctx)


class DocumentService(ServiceBase):
    """Usługa dokumentów: wnioski i zaświadczenia z szablonów, podpisy kwalifikowane, poświadczenia."""

    __service_name__ = SERVICE_NAME

    @rpc(
        _returns=RodzajeDokumentow,
        _operation_name="ListaRodzajowDokumentow",
        _out_message_name="ListaRodzajowDokumentowOdpowiedz",
        _out_variable_name="RodzajeDokumentow",
    )
    def document_types(ctx: Any) -> RodzajeDokumentow:
        """Rodzaje dokumentów z metadanymi aktywnych wersji szablonów."""
        return RodzajeDokumentow(RodzajDokumentu=[_type(t) for t in _core(ctx).documents.document_types()])

    @rpc(
        required(Wniosek),
        _returns=Potwierdzenie,
        _operation_name="ZlozWniosek",
        _in_variable_names={"request": "Wniosek"},
        _out_message_name="ZlozWniosekOdpowiedz",
        _out_variable_name="Potwierdzenie",
    )
    def submit(ctx: Any, request: Any) -> Potwierdzenie:
        """Składa wniosek o zaświadczenie do urzędu administratora zbioru; zwraca poświadczenie przedłożenia."""
        scope: dict[str, list[str]] = {}
        for named in request.Zbior or ():  # a data set named twice is asked once, as in a query
            scope.setdefault(named.Kod, []).extend(named.Kategoria or ())
        form = RequestForm(
            pesel=request.Pesel,
            legal_basis=request.PodstawaPrawna,
            purpose=request.Cel,
            certificate_type=request.RodzajZaswiadczenia,
            recipient_office=request.Adresat,
            scope={code: list(dict.fromkeys(categories)) for code, categories in scope.items()},
        )
        return _confirmation(_core(ctx).documents.submit(caller_of(ctx), form))

    @rpc(
        _returns=Sprawy,
        _operation_name="SkrzynkaOdbiorcza",
        _out_message_name="SkrzynkaOdbiorczaOdpowiedz",
        _out_variable_name="Sprawy",
    )
    def inbox(ctx: Any) -> Sprawy:
        """Sprawy skierowane do urzędu wywołującego."""
        return Sprawy(Sprawa=[_case(c) for c in _core(ctx).documents.inbox(caller_of(ctx))])

    @rpc(
        _returns=Sprawy,
        _operation_name="SkrzynkaNadawcza",
        _out_message_name="SkrzynkaNadawczaOdpowiedz",
        _out_variable_name="Sprawy",
    )
    def outbox(ctx: Any) -> Sprawy:
        """Sprawy złożone przez urząd wywołującego."""
        return Sprawy(Sprawa=[_case(c) for c in _core(ctx).documents.outbox(caller_of(ctx))])

    @rpc(
        required(CaseId),
        required(Role),
        _returns=Dokument,
        _operation_name="PobierzDokument",
        _in_variable_names={"case_id": "IdentyfikatorSprawy", "role": "Rola"},
        _out_message_name="PobierzDokumentOdpowiedz",
        _out_variable_name="Dokument",
    )
    def fetch(ctx: Any, case_id: str, role: str) -> Dokument:
        """Dokument sprawy (XML); pierwsze pobranie podpisanego zaświadczenia przez wnioskodawcę to doręczenie."""
        return _document(_core(ctx).documents.document(caller_of(ctx), case_id, str(role)))

    @rpc(
        required(CaseId),
        _returns=Dokument,
        _operation_name="PrzyjmijWniosek",
        _in_variable_names={"case_id": "IdentyfikatorSprawy"},
        _out_message_name="PrzyjmijWniosekOdpowiedz",
        _out_variable_name="Dokument",
    )
    def accept(ctx: Any, case_id: str) -> Dokument:
        """Przyjmuje wniosek: platforma wytwarza zaświadczenie z repliki (ujawnienie zapisane w rejestrze)."""
        return _document(_core(ctx).documents.accept(caller_of(ctx), case_id))

    @rpc(
        required(CaseId),
        required(Text),
        _returns=Sprawa,
        _operation_name="OdmowWniosku",
        _in_variable_names={"case_id": "IdentyfikatorSprawy", "reason": "Powod"},
        _out_message_name="OdmowWnioskuOdpowiedz",
        _out_variable_name="Sprawa",
    )
    def refuse(ctx: Any, case_id: str, reason: str) -> Sprawa:
        """Odmawia wniosku z podaniem powodu."""
        return _case(_core(ctx).documents.refuse(caller_of(ctx), case_id, reason))

    @rpc(
        required(CaseId),
        _returns=Dokument,
        _operation_name="PobierzDoPodpisu",
        _in_variable_names={"case_id": "IdentyfikatorSprawy"},
        _out_message_name="PobierzDoPodpisuOdpowiedz",
        _out_variable_name="Dokument",
    )
    def for_signing(ctx: Any, case_id: str) -> Dokument:
        """Wytworzone zaświadczenie do podpisania poza platformą (dowolnym narzędziem XAdES)."""
        return _document(_core(ctx).documents.for_signing(caller_of(ctx), case_id))

    @rpc(
        required(CaseId),
        required(ByteArray),
        _returns=Potwierdzenie,
        _operation_name="PrzeslijPodpisany",
        _in_variable_names={"case_id": "IdentyfikatorSprawy", "content": "Tresc"},
        _out_message_name="PrzeslijPodpisanyOdpowiedz",
        _out_variable_name="Potwierdzenie",
    )
    def upload_signed(ctx: Any, case_id: str, content: Any) -> Potwierdzenie:
        """Przyjmuje podpisane zaświadczenie po weryfikacji podpisu; doręcza je wnioskodawcy."""
        return _confirmation(_core(ctx).documents.upload_signed(caller_of(ctx), case_id, _bytes(content)))

    @rpc(
        required(CaseId),
        _returns=Potwierdzenie,
        _operation_name="OpieczetujZaswiadczenie",
        _in_variable_names={"case_id": "IdentyfikatorSprawy"},
        _out_message_name="OpieczetujZaswiadczenieOdpowiedz",
        _out_variable_name="Potwierdzenie",
    )
    def seal(ctx: Any, case_id: str) -> Potwierdzenie:
        """Opatruje wytworzone zaświadczenie pieczęcią urzędu, którą przechowuje platforma (zamiast podpisu
        osoby; urząd bez pieczęci: BRAK_PIECZECI_URZEDU); po weryfikacji doręcza je wnioskodawcy."""
        return _confirmation(_core(ctx).documents.seal_certificate(caller_of(ctx), case_id))

    @rpc(
        required(CaseId),
        _returns=Poswiadczenia,
        _operation_name="PobierzPoswiadczenia",
        _in_variable_names={"case_id": "IdentyfikatorSprawy"},
        _out_message_name="PobierzPoswiadczeniaOdpowiedz",
        _out_variable_name="Poswiadczenia",
    )
    def receipts(ctx: Any, case_id: str) -> Poswiadczenia:
        """Poświadczenia przedłożenia i doręczenia wydane w sprawie."""
        return Poswiadczenia(Poswiadczenie=[[r] for r in _core(ctx).documents.receipts(caller_of(ctx), case_id)])

    @rpc(
        required(CaseId),
        required(Role),
        _returns=Wizualizacja,
        _operation_name="PobierzPDF",
        _in_variable_names={"case_id": "IdentyfikatorSprawy", "role": "Rola"},
        _out_message_name="PobierzPDFOdpowiedz",
        _out_variable_name="Wizualizacja",
    )
    def pdf(ctx: Any, case_id: str, role: str) -> Wizualizacja:
        """Dokument sprawy jako PDF według jego wersji szablonu, z podsumowaniem weryfikacji podpisów."""
        content = _core(ctx).documents.pdf(caller_of(ctx), case_id, str(role))
        return Wizualizacja(IdentyfikatorSprawy=case_id, Rola=str(role), Tresc=[content])

    @rpc(
        required(Code),
        required(VersionNumber),
        TemplateText,
        TemplateText,
        _returns=RodzajDokumentu,
        _operation_name="ZmienSzablon",
        _in_variable_names={
            "document_type": "RodzajDokumentu",
            "version": "Wersja",
            "xsd": "Schemat",
            "xsl": "Wizualizacja",
        },
        _out_message_name="ZmienSzablonOdpowiedz",
        _out_variable_name="RodzajDokumentu",
    )
    def change_template(
        ctx: Any, document_type: str, version: int, xsd: str | None, xsl: str | None
    ) -> RodzajDokumentu:
        """Zmienia wersję szablonu, z której nie wytworzono jeszcze dokumentu (rola REDAKTOR_SZABLONOW)."""
        templates = _core(ctx).documents.templates
        return _type(templates.change(caller_of(ctx), document_type, version, xsd=xsd, xsl=xsl))

    @rpc(
        _returns=Szablony,
        _operation_name="ListaSzablonow",
        _out_message_name="ListaSzablonowOdpowiedz",
        _out_variable_name="Szablony",
    )
    def template_versions(ctx: Any) -> Szablony:
        """Wszystkie wersje szablonów wszystkich rodzajów dokumentów (rola REDAKTOR_SZABLONOW)."""
        return Szablony(Szablon=[_version(t) for t in _core(ctx).documents.templates.versions(caller_of(ctx))])

    @rpc(
        required(Code),
        optional(VersionNumber),
        _returns=EksportSzablonu,
        _operation_name="PobierzSzablon",
        _in_variable_names={"document_type": "RodzajDokumentu", "version": "Wersja"},
        _out_message_name="PobierzSzablonOdpowiedz",
        _out_variable_name="EksportSzablonu",
    )
    def export_template(ctx: Any, document_type: str, version: int | None) -> EksportSzablonu:
        """Wersja szablonu (domyślnie aktywna) jako jeden plik, jak z platforma templates export (rola
        REDAKTOR_SZABLONOW)."""
        template = _core(ctx).documents.templates.template(caller_of(ctx), document_type, version)
        return EksportSzablonu(
            Szablon=_version(template), PlikSzablonu=[template.export_file()], SkrotSHA256=template.file_sha256
        )

    @rpc(
        required(ByteArray),
        _returns=Szablon,
        _operation_name="ImportujSzablon",
        _in_variable_names={"content": "PlikSzablonu"},
        _out_message_name="ImportujSzablonOdpowiedz",
        _out_variable_name="Szablon",
    )
    def import_template(ctx: Any, content: Any) -> Szablon:
        """Nowa, nieaktywna wersja szablonu z pliku eksportu (rola REDAKTOR_SZABLONOW)."""
        return _version(_core(ctx).documents.templates.import_file(caller_of(ctx), _bytes(content)))

    @rpc(
        required(Code),
        optional(TemplateText),
        optional(TemplateText),
        optional(TemplateText),
        _returns=Szablon,
        _operation_name="NowaWersjaSzablonu",
        _in_variable_names={
            "document_type": "RodzajDokumentu",
            "xsd": "Schemat",
            "xsl": "Wizualizacja",
            "metadata": "Metadane",
        },
        _out_message_name="NowaWersjaSzablonuOdpowiedz",
        _out_variable_name="Szablon",
    )
    def new_template_version(
        ctx: Any, document_type: str, xsd: str | None, xsl: str | None, metadata: str | None
    ) -> Szablon:
        """Nowa, nieaktywna wersja szablonu; czego nie podano, pochodzi z wersji aktywnej (rola
        REDAKTOR_SZABLONOW)."""
        templates = _core(ctx).documents.templates
        return _version(templates.new_version(caller_of(ctx), document_type, xsd, xsl, metadata))

    @rpc(
        required(Code),
        required(VersionNumber),
        _returns=Szablon,
        _operation_name="AktywujSzablon",
        _in_variable_names={"document_type": "RodzajDokumentu", "version": "Wersja"},
        _out_message_name="AktywujSzablonOdpowiedz",
        _out_variable_name="Szablon",
    )
    def activate_template(ctx: Any, document_type: str, version: int) -> Szablon:
        """Włącza wersję szablonu: z niej powstają odtąd nowe dokumenty (rola REDAKTOR_SZABLONOW; zdarzenie
        ZMIANA_SZABLONU)."""
        return _version(_core(ctx).documents.templates.activate(caller_of(ctx), document_type, version))

    @rpc(
        required(Code),
        _returns=ZmianySzablonu,
        _operation_name="HistoriaSzablonu",
        _in_variable_names={"document_type": "RodzajDokumentu"},
        _out_message_name="HistoriaSzablonuOdpowiedz",
        _out_variable_name="ZmianySzablonu",
    )
    def template_history(ctx: Any, document_type: str) -> ZmianySzablonu:
        """Historia szablonów rodzaju dokumentu: kto, co i kiedy zmienił (rola REDAKTOR_SZABLONOW)."""
        history = _core(ctx).documents.templates.history(caller_of(ctx), document_type)
        return ZmianySzablonu(ZmianaSzablonu=[_change(e) for e in history])


def build_application(core: HubCore | None) -> Application:
    """The Spyne application of the documents service; `core=None` builds it for contract export only."""
    return soap_application([DocumentService], tns=DOCUMENTS_NS, name=SERVICE_NAME, core=core)
