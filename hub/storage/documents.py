"""The documents' tables (issue 15; guideline 1.2 and 2): template versions and their history, cases, their
documents, every transition and every receipt. Template changes, documents, transitions and receipts are
append-only: rows are inserted, never updated; a case's `state` is the one mutable column, and each change of it
has its transition row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.tables import HubBase, UtcDateTime


class TemplateVersion(HubBase):
    """One version of a document type's template (XSD + XSL + metadata); immutable once `used`."""

    __tablename__ = "wersje_szablonow"
    __table_args__ = (UniqueConstraint("rodzaj", "wersja"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_type: Mapped[str] = mapped_column("rodzaj", String(64), index=True)
    version: Mapped[int] = mapped_column("wersja", Integer)
    xsd: Mapped[str] = mapped_column("schemat", Text)
    xsl: Mapped[str] = mapped_column("wizualizacja", Text)
    metadata_json: Mapped[str] = mapped_column("metadane", Text)
    author: Mapped[str] = mapped_column("autor_zmiany", String(120))
    created: Mapped[dt.datetime] = mapped_column("utworzono", UtcDateTime())
    active: Mapped[bool] = mapped_column("aktywna", Boolean, default=False)
    used: Mapped[bool] = mapped_column("uzyta", Boolean, default=False)


class TemplateChange(HubBase):
    """One change of a document type's templates (append-only): which version was made, imported, changed or
    activated, by whom, when, and the SHA-256 of the version's one-file export as the change left it."""

    __tablename__ = "zmiany_szablonow"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_type: Mapped[str] = mapped_column("rodzaj", String(64), index=True)
    version: Mapped[int] = mapped_column("wersja", Integer)
    action: Mapped[str] = mapped_column("czynnosc", String(16))  # UTWORZENIE, IMPORT, ZMIANA, AKTYWACJA
    actor: Mapped[str] = mapped_column("kto", String(120))
    office: Mapped[str] = mapped_column("urzad", String(32))
    time: Mapped[dt.datetime] = mapped_column("czas", UtcDateTime())
    sha256: Mapped[str] = mapped_column("skrot_sha256", String(64))


class Case(HubBase):
    """A request and what became of it: who asked whom, about whom, and the state it is in."""

    __tablename__ = "sprawy_dokumentow"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    certificate_type: Mapped[str] = mapped_column("rodzaj_zaswiadczenia", String(64))
    requester: Mapped[str] = mapped_column("wnioskodawca", String(120), index=True)
    requester_office: Mapped[str] = mapped_column("urzad_wnioskodawcy", String(32), index=True)
    requester_group: Mapped[str] = mapped_column("grupa_wnioskodawcy", String(64))
    recipient_office: Mapped[str] = mapped_column("urzad_adresata", String(32), index=True)
    state: Mapped[str] = mapped_column("stan", String(32))
    created: Mapped[dt.datetime] = mapped_column("utworzono", UtcDateTime())
    refusal: Mapped[str | None] = mapped_column("powod_odmowy", Text, nullable=True)


class StoredDocument(HubBase):
    """One document of a case exactly as made or received, with its SHA-256 and the template version."""

    __tablename__ = "dokumenty"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column("sprawa", ForeignKey("sprawy_dokumentow.id"), index=True)
    role: Mapped[str] = mapped_column("rola", String(32))  # WNIOSEK, ZASWIADCZENIE, ZASWIADCZENIE_PODPISANE
    template_id: Mapped[int] = mapped_column("wersja_szablonu", ForeignKey("wersje_szablonow.id"))
    content: Mapped[bytes] = mapped_column("tresc", LargeBinary)
    sha256: Mapped[str] = mapped_column("skrot_sha256", String(64))
    author: Mapped[str] = mapped_column("autor", String(120))
    created: Mapped[dt.datetime] = mapped_column("utworzono", UtcDateTime())
    signer_pesel: Mapped[str | None] = mapped_column("pesel_podpisujacego", String(11), nullable=True)


class Transition(HubBase):
    """One move of a case between states: who, when, from, to, and the document's hash when one was made."""

    __tablename__ = "przejscia_spraw"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column("sprawa", ForeignKey("sprawy_dokumentow.id"), index=True)
    time: Mapped[dt.datetime] = mapped_column("czas", UtcDateTime())
    actor: Mapped[str] = mapped_column("kto", String(120))
    office: Mapped[str] = mapped_column("urzad", String(32))
    from_state: Mapped[str] = mapped_column("ze_stanu", String(32))
    to_state: Mapped[str] = mapped_column("do_stanu", String(32))
    sha256: Mapped[str] = mapped_column("skrot_sha256", String(64), default="")
    note: Mapped[str] = mapped_column("uwagi", Text, default="")


class Receipt(HubBase):
    """A receipt the hub issued (UPP on submission, UPD on delivery), signed with its seal."""

    __tablename__ = "poswiadczenia"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column("sprawa", ForeignKey("sprawy_dokumentow.id"), index=True)
    kind: Mapped[str] = mapped_column("rodzaj", String(8))
    document_id: Mapped[str] = mapped_column("dokument", ForeignKey("dokumenty.id"))
    content: Mapped[bytes] = mapped_column("tresc", LargeBinary)
    created: Mapped[dt.datetime] = mapped_column("utworzono", UtcDateTime())
