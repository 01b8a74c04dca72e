"""Requests and certificates (guideline 1.2 and 2; issue 15): the workflow of one case.

    submit (any user of the requesting office) → ZLOZONY, in the controller office's inbox
    accept (a signer of the controller) → DO_PODPISU: the certificate is generated from the controller's
        replica through the query engine with the requester's scope (a recorded disclosure)
    refuse (a signer of the controller) → ODMOWIONY, with the reason
    upload the signed certificate (a signer whose PESEL is in the certificate) → DOSTARCZONY
    the requester downloads it → ODEBRANY

Every transition is a row of `przejscia_spraw`; documents are stored exactly as made or received, with
their SHA-256, never updated; each submission and delivery gets a receipt signed with the hub's seal.
Plain Python: no SOAP here; the SOAP service and later web pages call these methods.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from lxml import etree
from sqlalchemy import CursorResult, Row, Select, Table, and_, bindparam, exists, func, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from audit import DisclosureRecord, EventLog
from contract import catalog, xmlsafe
from contract.errors import (
    ConfigurationError,
    Detail,
    DetailKind,
    InvalidRequest,
    NotAllowed,
    PlatformError,
)
from contract.identifiers import Identifier
from contract.text import TEXT_MAX_LENGTH, visible_text
from hub.domain.policy import Caller
from hub.domain.query import OK, QueryEngine, QueryRequest
from hub.domain.receipts import DELIVERY, SUBMISSION, Party, ReceiptFacts, ReceiptSigner
from hub.domain.rendering import Renderer, RenderLimits, SignatureSection
from hub.domain.seals import OfficeSeal, Seals, open_seals
from hub.domain.signature_crls import CrlFolder
from hub.domain.templates import Template, Templates, schema_mismatch
from hub.domain.visualisation import signature_count
from hub.settings import Config
from hub.storage.documents import Case, Receipt, StoredDocument, TemplateVersion, Transition
from hub.storage.integrity import (
    DEFAULT_KEY,
    DOCUMENT,
    RECEIPT,
    IntegrityKey,
    IntegrityTag,
    insert_tag,
    open_key,
    tag_of,
)
from hub.storage.tables import User
from signing import (
    RevocationSources,
    SigningError,
    TrustStore,
    VerificationReport,
    VerifierConfig,
    XadesVerifier,
)
from signing import constants as dsig

# States of a case (stable contract values).
SUBMITTED = "ZLOZONY"
REFUSED = "ODMOWIONY"
TO_SIGN = "DO_PODPISU"
DELIVERED = "DOSTARCZONY"
COLLECTED = "ODEBRANY"
STATES = (SUBMITTED, REFUSED, TO_SIGN, DELIVERED, COLLECTED)

# Roles of documents in a case.
REQUEST = "WNIOSEK"
CERTIFICATE = "ZASWIADCZENIE"
SIGNED_CERTIFICATE = "ZASWIADCZENIE_PODPISANE"
REQUEST_TYPE = "WNIOSEK_O_INFORMACJE"
CHANNEL = "DOKUMENTY"


_log = logging.getLogger(__name__)


class UnknownCase(PlatformError):
    """A case (IdentyfikatorSprawy) that does not exist or that the caller's office is not party to."""

    code = "NIEZNANA_SPRAWA"


class WrongState(PlatformError):
    """An operation the case's current state does not allow (e.g. signing a refused request)."""

    code = "NIEDOZWOLONE_PRZEJSCIE"


class NoDataForCertificate(PlatformError):
    """The controller's data set holds nothing about the person: the request can only be refused."""

    code = "BRAK_DANYCH_DO_ZASWIADCZENIA"


class DocumentTampered(PlatformError):
    """A stored document whose bytes no longer match the SHA-256 stored with them (changed behind the hub's back):
    it is not served, sealed or verified against. Ours (soap:Server): the caller did nothing wrong."""

    code = "NARUSZONA_INTEGRALNOSC_DOKUMENTU"
    client_error = False


class SignatureRefused(PlatformError):
    """An uploaded document whose signature is not accepted: the verifier's reasons (`Szczegol`) say why."""

    code = "PODPIS_ODRZUCONY"


@dataclass(frozen=True)
class RequestForm:
    """What a requester fills in: the person, the legal basis, the purpose, the certificate wanted, and
    the data sets with their categories."""

    pesel: str
    legal_basis: str
    purpose: str
    certificate_type: str
    recipient_office: str
    scope: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class CaseView:
    """A case as shown in an inbox or outbox."""

    id: str
    certificate_type: str
    requester: str
    requester_office: str
    recipient_office: str
    state: str
    created: dt.datetime
    refusal: str | None = None


@dataclass(frozen=True)
class DocumentFile:
    """A stored document: its id, role, template version, bytes and SHA-256."""

    id: str
    case_id: str
    role: str
    document_type: str
    template_version: int
    content: bytes
    sha256: str


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submission or delivery: the case, the document and its receipt."""

    case: CaseView
    document: DocumentFile
    receipt: bytes


@dataclass
class SigningPolicy:
    """How uploaded signatures are verified (`signing.XadesVerifier`), and whether they must be qualified.

    With `trust` and `crls` given, `current` builds the verifier again when a CRL file changed."""

    verifier: XadesVerifier | None
    require_qualified: bool = True
    problems: list[str] = field(default_factory=list)
    trust: TrustStore | None = None
    crls: CrlFolder | None = None

    @classmethod
    def trusting(cls, trust: TrustStore, crls: CrlFolder | None) -> SigningPolicy:
        """A policy verifying against `trust` and the CRLs of `crls` (none if None), read again as they change."""
        return cls(_verifier(trust, crls), trust=trust, crls=crls)

    def current(self) -> XadesVerifier | None:
        """The verifier, against the CRLs as they are now (`CrlFolder.refresh`)."""
        if self.crls is not None and self.trust is not None and self.crls.refresh():
            self.verifier = _verifier(self.trust, self.crls)
        return self.verifier


def _verifier(trust: TrustStore, crls: CrlFolder | None) -> XadesVerifier:
    revocation = RevocationSources(crls=crls.crls if crls is not None else ())
    return XadesVerifier(VerifierConfig(trust=trust, revocation=revocation))


@dataclass(frozen=True)
class _CaseRow:
    """A case read with SQLAlchemy Core on the certificate path (the ORM's `session.get`, identity map and
    flushes were about half of each certificate's time beyond its signatures, bench/documents.py)."""

    id: str
    certificate_type: str
    requester: str
    requester_office: str
    requester_group: str
    recipient_office: str
    state: str
    created: dt.datetime
    refusal: str | None


@dataclass(frozen=True)
class _Stored:
    """A stored document as the workflow uses it (inserted or read with Core)."""

    id: str
    case_id: str
    role: str
    template_id: int
    content: bytes
    sha256: str
    tag: str | None = None  # its integrity tag as read (`hub.storage.integrity`); None if it has none


_AnyCase = TypeVar("_AnyCase", Case, _CaseRow)
_AnyDocument = TypeVar("_AnyDocument", StoredDocument, _Stored)
_CASE_FIELDS = tuple(f for f in _CaseRow.__dataclass_fields__)
#: A case and its document of a role, in one round trip (the document absent while it is being made).
_CASE_WITH_DOCUMENT = (
    select(
        *(getattr(Case, name).label(name) for name in _CASE_FIELDS),
        StoredDocument.id.label("document_id"),
        StoredDocument.template_id.label("template_id"),
        StoredDocument.content.label("content"),
        StoredDocument.sha256.label("sha256"),
        IntegrityTag.tag.label("tag"),
    )
    .outerjoin(StoredDocument, and_(StoredDocument.case_id == Case.id, StoredDocument.role == bindparam("role")))
    .outerjoin(IntegrityTag, tag_of(DOCUMENT, StoredDocument.id))
    .where(Case.id == bindparam("case_id"))
)
#: A case's document of a role with its integrity tag.
_DOCUMENT_WITH_TAG = (
    select(StoredDocument, IntegrityTag.tag)
    .outerjoin(IntegrityTag, tag_of(DOCUMENT, StoredDocument.id))
    .where(StoredDocument.case_id == bindparam("case_id"), StoredDocument.role == bindparam("role"))
)
#: The same and, for an acceptance, the id and `uzyta` of the active version of the certificate's type (no
#: second round trip to `Templates.active` when that version is used, and so kept in memory).
_CLAIM = _CASE_WITH_DOCUMENT.add_columns(
    TemplateVersion.id.label("active_template"), TemplateVersion.used.label("active_used")
).outerjoin(
    TemplateVersion, and_(TemplateVersion.document_type == Case.certificate_type, TemplateVersion.active.is_(True))
)
#: A case moved on only if it is still in the state it was read in (`Documents._swap`).
_MOVE = (
    update(Case)
    .where(Case.id == bindparam("case_id"), Case.state == bindparam("before"))
    .values({Case.state: bindparam("after")})
    .execution_options(synchronize_session=False)
)
_STATE = select(Case.state).where(Case.id == bindparam("case_id"))
#: The case's last transition (an acceptance's claim, read in the transaction that made it).
_LAST_TRANSITION = select(func.max(Transition.id)).where(Transition.case_id == bindparam("case_id"))
#: A case in DO_PODPISU moved on only while the acceptance's claim (a transition) is still its last move.
_MOVE_CLAIMED = (
    update(Case)
    .where(
        Case.id == bindparam("case_id"),
        Case.state == TO_SIGN,
        ~exists().where(Transition.case_id == bindparam("case_id"), Transition.id > bindparam("claim")),
    )
    .values({Case.state: bindparam("after")})
    .execution_options(synchronize_session=False)
)
_USER_PESEL = select(User.pesel).where(User.login == bindparam("login"))


class _Insert:
    """A Core INSERT into a mapped table, its values named as the model's attributes (a Core insert names
    columns, which here are Polish)."""

    def __init__(self, model: type[Any]) -> None:
        self.statement = insert(cast(Table, model.__table__))
        self.names = {column.key: column.columns[0].name for column in inspect(model).column_attrs}

    def __call__(self, executor: Session | Connection, **values: object) -> None:
        executor.execute(self.statement, {self.names[key]: value for key, value in values.items()})


_INSERT_DOCUMENT = _Insert(StoredDocument)
_INSERT_TRANSITION = _Insert(Transition)
_INSERT_RECEIPT = _Insert(Receipt)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sha256(content: bytes) -> str:
    """SHA-256 of the exact bytes stored."""
    return hashlib.sha256(content).hexdigest()


def canonical(root: etree._Element) -> bytes:
    """Exclusive C14N of a whole document without its enveloped signature, comments and processing
    instructions included, inside the root and around it (how generated and signed are compared: a signature
    does not cover comments, so a comment added after signing must not pass as part of what was signed)."""
    copy = etree.fromstring(etree.tostring(root.getroottree()), xmlsafe.parser(remove_comments=False, remove_pis=False))
    return _canonical_in_place(copy)


def _canonical_in_place(root: etree._Element) -> bytes:
    """`canonical` of a tree the caller owns and gives up (its enveloped signatures are removed from it)."""
    for signature in root.findall(dsig.ds("Signature")):
        root.remove(signature)
    return etree.tostring(root.getroottree(), method="c14n", exclusive=True, with_comments=True)


def _requesting(case: Case, caller: Caller) -> bool:
    """Whether the caller is an end user of the group that submitted the case's request (who collects its
    certificate): the group's data scope is its end users' (`Policy.check`), not any account placed in it."""
    return (
        caller.office == case.requester_office
        and caller.group == case.requester_group
        and caller.has_role(catalog.END_USER)
    )


def _view(case: Case | _CaseRow) -> CaseView:
    return CaseView(
        case.id,
        case.certificate_type,
        case.requester,
        case.requester_office,
        case.recipient_office,
        case.state,
        case.created,
        case.refusal,
    )


class Documents:
    """The documents service of one hub: templates, cases, signatures, receipts."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        templates: Templates,
        query: QueryEngine,
        events: EventLog,
        signing: SigningPolicy,
        seals: Seals,
        renderer: Renderer,
        integrity: IntegrityKey,
    ) -> None:
        self.config = config
        self.engine = engine
        self.templates = templates
        self.query = query
        self.events = events
        self.signing = signing
        self.seals = seals
        self.renderer = renderer  # HTML and PDF, in worker processes bounded in time and memory
        self.integrity = integrity  # the tags of stored documents and receipts, checked on every read

    @property
    def seal(self) -> ReceiptSigner | None:
        """The hub's own seal, which signs the receipts (opened when first needed: `Seals`)."""
        return self.seals.receipts

    def close(self) -> None:
        """Close the seals' token sessions and stop the rendering processes."""
        self.seals.close()
        self.renderer.close()

    # -- reading ---------------------------------------------------------------------------------------------
    def document_types(self) -> list[Template]:
        """The active version of every document type."""
        return [t for t in self.templates.list() if t.active]

    def inbox(self, caller: Caller) -> list[CaseView]:
        """Cases addressed to the caller's office, newest first."""
        return self._cases(Case.recipient_office == caller.office)

    def outbox(self, caller: Caller) -> list[CaseView]:
        """Cases the caller's office submitted, newest first."""
        return self._cases(Case.requester_office == caller.office)

    def _cases(self, where: object) -> list[CaseView]:
        with Session(self.engine) as session:
            rows = session.scalars(select(Case).where(where).order_by(Case.created.desc()))  # type: ignore[arg-type]
            return [_view(row) for row in rows]

    def case(self, caller: Caller, case_id: str) -> CaseView:
        """One case the caller's office is party to."""
        with Session(self.engine) as session:
            return _view(self._party_case(session, caller, case_id))

    def history(self, caller: Caller, case_id: str) -> list[Transition]:
        """Every transition of a case, in order."""
        with Session(self.engine) as session:
            self._party_case(session, caller, case_id)
            rows = session.scalars(select(Transition).where(Transition.case_id == case_id).order_by(Transition.id))
            result = list(rows)
            session.expunge_all()
            return result

    def document(self, caller: Caller, case_id: str, role: str) -> DocumentFile:
        """A document of a case (the request, the certificate to sign, the signed certificate).

        The requesting group gets the certificate only once it is signed and delivered; collecting it the first
        time moves the case to ODEBRANY and issues the delivery receipt (UPD). Who reads what: `_readable_role`."""
        with Session(self.engine) as session, session.begin():
            case = self._party_case(session, caller, case_id)
            role = self._readable_role(case, caller, role)
            stored = self._stored(session, case_id, role)
            if stored is None:
                raise WrongState(f"Sprawa {case_id} nie ma (jeszcze) dokumentu {role} (stan: {case.state}).")
            # Collected by the requesting group; in a request an office addressed to itself, the signer reading
            # back what they uploaded is not its collection, even when of that group.
            collects = _requesting(case, caller) and caller.login != stored.author
            if role == SIGNED_CERTIFICATE and collects and case.state == DELIVERED:
                try:
                    self._move(session, case, caller, COLLECTED, stored.sha256, "odbiór zaświadczenia")
                except WrongState:
                    return self._file(stored)  # collected by a parallel download, which got the receipt
                self._receipt(
                    session,
                    case.id,
                    stored,
                    DELIVERY,
                    self._party(case.recipient_office),
                    self._party(case.requester_office, caller.login),
                )
            return self._file(stored)

    def for_signing(self, caller: Caller, case_id: str) -> DocumentFile:
        """The generated certificate, for a signer of the controller office to sign outside the hub."""
        with Session(self.engine) as session:
            case = self._controller_case(session, caller, case_id, "pobranie zaświadczenia do podpisu")
            if case.state != TO_SIGN:
                raise WrongState(f"Sprawa {case_id} nie czeka na podpis (stan: {case.state}).")
            stored = self._stored(session, case_id, CERTIFICATE)
            if stored is None:
                if self._generation_recorded(session, case_id):
                    raise DocumentTampered(
                        f"Zaświadczenie sprawy {case_id} wytworzono (zapis w historii sprawy), ale w bazie huba go "
                        "nie ma: usunięto je poza platformą. Zgłoś to administratorowi."
                    )
                raise WrongState(f"Zaświadczenie w sprawie {case_id} jest właśnie wytwarzane; spróbuj za chwilę.")
            return self._file(stored)

    @staticmethod
    def _generation_recorded(session: Session, case_id: str) -> bool:
        """Whether the case's history records its certificate's generation (`accept`: the TO_SIGN → TO_SIGN
        transition with the certificate's SHA-256, in the transaction that stored it)."""
        return (
            session.scalar(
                select(Transition.id)
                .where(
                    Transition.case_id == case_id,
                    Transition.from_state == TO_SIGN,
                    Transition.to_state == TO_SIGN,
                    Transition.sha256 != "",
                )
                .limit(1)
            )
            is not None
        )

    def receipts(self, caller: Caller, case_id: str) -> list[bytes]:
        """The receipts issued in a case, oldest first."""
        with Session(self.engine) as session:
            case = self._party_case(session, caller, case_id)
            rows = session.execute(
                select(Receipt, IntegrityTag.tag)
                .outerjoin(IntegrityTag, tag_of(RECEIPT, Receipt.id))
                .where(Receipt.case_id == case_id)
                .order_by(Receipt.created)
            ).all()
            receipts = [self._checked_receipt(row, tag) for row, tag in rows]
            self._all_receipts(case, [row.kind for row, _ in rows])
            return receipts

    @staticmethod
    def _all_receipts(case: Case, kinds: list[str]) -> None:
        """Each state a case reached issued its receipt in the transaction that reached it (the submission's UPP,
        the delivery's UPP, the collection's UPD): one missing was deleted from the hub's database, with its tag
        (which the tags alone cannot tell), and the list would have been shorter without a word."""
        expected = {SUBMISSION: 1 + (case.state in (DELIVERED, COLLECTED)), DELIVERY: int(case.state == COLLECTED)}
        missing = {kind: count - kinds.count(kind) for kind, count in expected.items() if kinds.count(kind) < count}
        if missing:
            _log.error("Sprawie %s (stan %s) brakuje poświadczeń: %s.", case.id, case.state, missing)
            raise DocumentTampered(
                f"W bazie huba brakuje poświadczeń sprawy {case.id} (stan {case.state}: "
                + ", ".join(f"{kind} ×{count}" for kind, count in missing.items())
                + "); usunięto je poza platformą. Zgłoś to administratorowi."
            )

    def render(self, caller: Caller, case_id: str, role: str) -> bytes:
        """A document rendered to HTML with the template version it was made from."""
        stored = self.document_readonly(caller, case_id, role)
        from_template = _made_from(stored, self.templates.get(self._template_id(stored.id)))
        return self.renderer.html(from_template, stored.content)

    def pdf(self, caller: Caller, case_id: str, role: str) -> bytes:
        """A document as PDF: its template version's visualisation, then the verification of its signatures.

        As with the XML, the requesting office sees the certificate only once it is signed and delivered;
        reading the PDF does not collect the certificate (the XML download does)."""
        with Session(self.engine) as session:
            case = self._party_case(session, caller, case_id)
            role = self._readable_role(case, caller, role)
            stored = self._stored(session, case_id, role)
            if stored is None:
                raise WrongState(f"Sprawa {case_id} nie ma (jeszcze) dokumentu {role} (stan: {case.state}).")
            content, template_id = stored.content, stored.template_id
        template = _made_from(stored, self.templates.get(template_id))
        verifier = self.signing.current()
        found = signature_count(content)
        reports = (verifier.verify(content).render(),) if verifier is not None and found else ()
        return self.renderer.pdf(template, content, SignatureSection(found, reports, verifier_missing=verifier is None))

    def document_readonly(self, caller: Caller, case_id: str, role: str) -> DocumentFile:
        """A document of a case, without moving the case (for rendering); the same documents as `document`."""
        with Session(self.engine) as session:
            case = self._party_case(session, caller, case_id)
            role = self._readable_role(case, caller, role)
            stored = self._stored(session, case_id, role)
            if stored is None:
                raise WrongState(f"Sprawa {case_id} nie ma (jeszcze) dokumentu {role} (stan: {case.state}).")
            return self._file(stored)

    # -- the workflow ----------------------------------------------------------------------------------------
    def submit(self, caller: Caller, form: RequestForm) -> Submitted:
        """Submit a request to the controller office; the request document and its receipt (UPP)."""
        identifier = Identifier.build(pesel=form.pesel)
        certificate = self.templates.active(form.certificate_type)
        if certificate.metadata.get("klasa") != CERTIFICATE:
            raise InvalidRequest(f"{form.certificate_type} nie jest rodzajem zaświadczenia.")
        data_set = self._certificate_data_set(certificate, form.recipient_office)
        wanted = tuple(certificate.metadata.get("kategorie", ()))
        case_id = str(uuid.uuid4())
        self._check_form(caller, form, data_set, wanted, case_id)
        request_template = self.templates.active(REQUEST_TYPE)
        now = _now()
        content = self._request_document(request_template, caller, form, case_id, now, identifier)
        with Session(self.engine) as session, session.begin():
            case = Case(
                id=case_id,
                certificate_type=form.certificate_type,
                requester=caller.login,
                requester_office=caller.office,
                requester_group=caller.group,
                recipient_office=form.recipient_office,
                state=SUBMITTED,
                created=now,
            )
            session.add(case)
            session.flush()
            stored = self._store(session, case_id, REQUEST, request_template, content, caller.login)
            self._transition(session, case_id, caller, "", SUBMITTED, stored.sha256, "złożenie wniosku")
            receipt = self._receipt(
                session,
                case_id,
                stored,
                SUBMISSION,
                self._party(caller.office, caller.login),
                self._party(form.recipient_office),
            )
            return Submitted(_view(case), self._file(stored), receipt)

    def accept(self, caller: Caller, case_id: str) -> DocumentFile:
        """Accept a request: generate the certificate from the controller's replica (a recorded disclosure
        within the requesting group's scope); the case waits for the signature.

        The case is claimed first (moved to DO_PODPISU by one conditional UPDATE, committed), so that of two
        signers accepting at once only one reads the replica and records a disclosure; if generating fails,
        the claim is withdrawn."""
        with self.engine.begin() as connection:
            case, request_doc, row = self._decidable(connection, caller, case_id, REQUEST, "przyjęcie wniosku", _CLAIM)
            if case.state != SUBMITTED:
                raise WrongState(f"Wniosek w sprawie {case_id} nie czeka na rozpatrzenie (stan: {case.state}).")
            assert request_doc is not None
            self._checked(request_doc, request_doc.tag)
            self._advance(connection, case_id, caller, SUBMITTED, TO_SIGN, request_doc.sha256, "przyjęcie wniosku")
            # The claim is this transition: whatever moves the case after it (the timer releasing a claim it took
            # for abandoned, another signer's acceptance after that) makes the claim no longer this one's.
            claim = int(connection.scalar(_LAST_TRANSITION, {"case_id": case_id}) or 0)
        kept = self.templates.kept(row.active_template) if row.active_used else None
        try:
            request_root = xmlsafe.parse_bytes(request_doc.content)
            template = kept or self.templates.active(case.certificate_type)
            content, records = self._certificate_document(template, case, request_root, request_doc.sha256, caller)
            with self.engine.begin() as connection:
                # Still this acceptance's claim, and kept so until the commit (the row's write lock): a refusal, or
                # a claim released by the timer (an acceptance slower than claim_timeout_seconds) and perhaps taken
                # by another signer, makes this a WrongState, and nothing is stored or recorded.
                state = self._swap_claimed(connection, case_id, claim, TO_SIGN)
                if state is not None:
                    raise WrongState(
                        f"Sprawa {case_id} zmieniła w międzyczasie stan (stan: {state}); nic nie zapisano."
                    )
                # The template version is frozen before the disclosure is recorded: a version changed meanwhile
                # refuses the certificate, which then must not have been recorded as disclosed.
                template_id = self._frozen(connection, template)
                # Guideline 6: the disclosure is durable before the certificate is stored (and so before anyone
                # can fetch it); a certificate that was not generated, or not kept, discloses nothing.
                self.query.record(records)
                stored = self._store(connection, case_id, CERTIFICATE, template_id, content, caller.login)
                note = "wytworzenie zaświadczenia"
                self._transition(connection, case_id, caller, TO_SIGN, TO_SIGN, stored.sha256, note)
            return self._file(stored)
        except BaseException:
            with self.engine.begin() as connection:
                # Only this acceptance's own claim is withdrawn, never a later signer's.
                if self._swap_claimed(connection, case_id, claim, SUBMITTED) is None:
                    note = "wycofanie przyjęcia: nie wytworzono zaświadczenia"
                    self._transition(connection, case_id, caller, TO_SIGN, SUBMITTED, "", note)
            raise

    def refuse(self, caller: Caller, case_id: str, reason: str) -> CaseView:
        """Refuse a request, with a reason the requester sees."""
        reason = visible_text(reason or "", "Powod")
        if not reason:
            raise InvalidRequest("Podaj powód odmowy.")
        if len(reason) > TEXT_MAX_LENGTH:
            # The SOAP schema bounds it; the command line did not, and the requester's outbox then carried a
            # PowodOdmowy longer than the published Tekst allows.
            raise InvalidRequest(
                f"Powód odmowy jest za długi: najwyżej {TEXT_MAX_LENGTH} znaków, podano {len(reason)}."
            )
        with Session(self.engine) as session, session.begin():
            case = self._controller_case(session, caller, case_id, "odmowa wniosku")
            if case.state not in (SUBMITTED, TO_SIGN):
                raise WrongState(f"Sprawy {case_id} nie można już odmówić (stan: {case.state}).")
            case.refusal = reason
            self._move(session, case, caller, REFUSED, "", reason)
            return _view(case)

    def upload_signed(self, caller: Caller, case_id: str, signed: bytes) -> Submitted:
        """Accept the signed certificate: verified by `signing/` (intact, whole, exactly as generated,
        qualified, trusted, not revoked, signed by the uploading user); then delivered with a receipt (UPP)."""
        with self.engine.connect() as connection:
            case, generated = self._to_sign(connection, caller, case_id, "przesłanie podpisanego zaświadczenia")
            pesel = connection.scalar(_USER_PESEL, {"login": caller.login})
        report = self._verify(signed, generated.content, pesel)
        note = f"podpis: {report.signer} ({'kwalifikowany' if report.qualified else 'niekwalifikowany'})"
        return self._deliver(caller, case, generated, signed, report, note)

    def seal_certificate(self, caller: Caller, case_id: str) -> Submitted:
        """The second way of signing (issue 15, item 4b): on a signer's request the hub seals the generated
        certificate with the seal it holds for the issuing office (`[[seals]]`: a PKCS#12 or PEM file, or a
        PKCS#11 token); an office without one is `BRAK_PIECZECI_URZEDU` (`hub.domain.seals`). The sealed
        document is verified as an upload is (intact, whole, exactly as generated, trusted, not revoked) and
        its certificate must be the office's seal; then it is delivered."""
        with self.engine.connect() as connection:
            case, generated = self._to_sign(connection, caller, case_id, "opieczętowanie zaświadczenia")
        seal = self.seals.of(case.recipient_office, self._office_name(case.recipient_office))
        signed = seal.seal(generated.content)
        # A seal names no person: the PESEL and qualified-signature checks are for people's signatures.
        report = self._verify(signed, generated.content, None, person=False, seal=seal)
        return self._deliver(caller, case, generated, signed, report, f"pieczęć: {report.signer}")

    def _to_sign(self, connection: Connection, caller: Caller, case_id: str, what: str) -> tuple[_CaseRow, _Stored]:
        """A case waiting for the caller's signature and its generated certificate (checked against its SHA-256)."""
        case, generated, _ = self._decidable(connection, caller, case_id, CERTIFICATE, what)
        if case.state != TO_SIGN:
            raise WrongState(f"Sprawa {case_id} nie czeka na podpis (stan: {case.state}).")
        if generated is None:
            raise WrongState(f"Zaświadczenie w sprawie {case_id} jest właśnie wytwarzane; spróbuj za chwilę.")
        return case, self._checked(generated, generated.tag)

    def _deliver(
        self,
        caller: Caller,
        case: _CaseRow,
        generated: _Stored,
        signed: bytes,
        report: VerificationReport,
        note: str,
    ) -> Submitted:
        with self.engine.begin() as connection:
            # One conditional UPDATE: of two deliveries racing, one moves the case and the other stores nothing.
            state = self._swap(connection, case.id, TO_SIGN, DELIVERED)
            if state is not None:
                raise WrongState(f"Sprawa {case.id} nie czeka już na podpis (stan: {state}).")
            # The generated certificate's version, already marked used when the certificate was stored.
            stored = self._store(
                connection, case.id, SIGNED_CERTIFICATE, generated.template_id, signed, caller.login, report.pesel
            )
            self._transition(connection, case.id, caller, TO_SIGN, DELIVERED, stored.sha256, note)
            receipt = self._receipt(
                connection,
                case.id,
                stored,
                SUBMISSION,
                self._party(case.recipient_office, caller.login),
                self._party(case.requester_office, case.requester),
            )
        return Submitted(_view(replace(case, state=DELIVERED)), self._file(stored), receipt)

    # -- checks ----------------------------------------------------------------------------------------------
    def _check_form(
        self, caller: Caller, form: RequestForm, data_set: str, wanted: tuple[str, ...], case_id: str
    ) -> None:
        if not visible_text(form.purpose or "", "Cel"):
            raise InvalidRequest("Podaj cel wniosku (pole Cel).")
        if not self.config.has_office(form.recipient_office):
            raise InvalidRequest(f"Nieznany urząd adresata: {form.recipient_office}.")
        controller = self.config.data_set(data_set)
        if controller is None or controller.controller != form.recipient_office:
            raise InvalidRequest(
                f"Zaświadczenie {form.certificate_type} wydaje administrator zbioru {data_set}, "
                f"nie urząd {form.recipient_office}."
            )
        asked = set(form.scope.get(data_set, ()))
        missing = [c for c in wanted if c not in asked]
        if missing:
            raise InvalidRequest(
                f"Wniosek o zaświadczenie {form.certificate_type} musi obejmować kategorie zbioru {data_set}: "
                + ", ".join(missing)
                + ".",
                details=tuple(Detail.category(data_set, c) for c in missing),
            )
        # Everything the request names is checked now, as a query naming it would be (unknown data sets and
        # categories, the group's rules, the legal basis), and a refusal is recorded the same way; scope is
        # decided again on acceptance, when the query path records the disclosure.
        self.query.check_scope(
            caller,
            QueryRequest(
                identifier=Identifier.build(pesel=form.pesel),
                legal_basis=form.legal_basis,
                purpose=form.purpose,
                scope={code: list(categories) for code, categories in form.scope.items()},
                case_number=case_id,
            ),
            request_id=case_id,
        )
        elsewhere = sorted(
            code
            for code in form.scope
            if (named := self.config.data_set(code)) is not None and named.controller != form.recipient_office
        )
        if elsewhere:
            raise InvalidRequest(
                f"Wniosek do urzędu {form.recipient_office} może dotyczyć tylko zbiorów, których jest on "
                f"administratorem; {', '.join(elsewhere)} do nich nie należ{'y' if len(elsewhere) == 1 else 'ą'}.",
                details=tuple(Detail.data_set_code(code) for code in elsewhere),
            )

    def _party_case(self, session: Session, caller: Caller, case_id: str) -> Case:
        """A case the caller's office is party to (`_party_check`)."""
        return self._party_check(caller, case_id, session.get(Case, case_id))

    def _party_check(self, caller: Caller, case_id: str, case: _AnyCase | None) -> _AnyCase:
        """The case if the caller's office is party to it. Another office gets the answer a missing case gets
        (its existence is not revealed), and its attempt on an existing case is recorded."""
        if case is None or caller.office not in (case.requester_office, case.recipient_office):
            if case is not None:
                self._record_refusal(
                    caller, f"sprawa {case_id} innego urzędu (urząd {caller.office} nie jest jej stroną)"
                )
            shown = case_id if len(case_id) <= 64 else f"{case_id[:64]}… ({len(case_id)} znaków)"  # a pasted file
            raise UnknownCase(f"Nie ma sprawy {shown} dostępnej dla urzędu {caller.office}.")
        return case

    def _controller_case(self, session: Session, caller: Caller, case_id: str, what: str) -> Case:
        """A case the caller may decide (`_controller_check`)."""
        return self._controller_check(caller, case_id, session.get(Case, case_id), what)

    def _decidable(
        self,
        connection: Connection,
        caller: Caller,
        case_id: str,
        role: str,
        what: str,
        statement: Select[Any] = _CASE_WITH_DOCUMENT,
    ) -> tuple[_CaseRow, _Stored | None, Row[Any]]:
        """A case the caller may decide and its document of `role` as stored (not yet checked against its
        SHA-256: `_checked`), in one query (`statement`, whose whole row is returned too)."""
        row = connection.execute(statement, {"case_id": case_id, "role": role}).first()
        found = None if row is None else _CaseRow(*(row._mapping[name] for name in _CASE_FIELDS))
        case = self._controller_check(caller, case_id, found, what)
        assert row is not None
        if row.document_id is None:
            return case, None, row
        return case, _Stored(row.document_id, case_id, role, row.template_id, row.content, row.sha256, row.tag), row

    def _controller_check(self, caller: Caller, case_id: str, found: _AnyCase | None, what: str) -> _AnyCase:
        """The case if the caller may decide it: a signer of the controller office who is not the request's
        author (the person asking is not the one checking the request and signing what it gets)."""
        case = self._party_check(caller, case_id, found)
        if caller.office != case.recipient_office or not caller.has_role(catalog.SIGNER):
            self._record_refusal(
                caller,
                f"{what} w sprawie {case_id} (wymaga roli {catalog.SIGNER} w urzędzie {case.recipient_office})",
            )
            raise NotAllowed(
                f"Wnioski rozpatruje i zaświadczenia podpisuje osoba z rolą {catalog.SIGNER} w urzędzie "
                f"{case.recipient_office}.",
                details=(Detail(DetailKind.ROLE, catalog.SIGNER),),
            )
        if caller.login == case.requester:
            self._record_refusal(caller, f"{what} w sprawie {case_id}: własny wniosek (zasada dwóch osób)")
            raise NotAllowed(
                "Własnego wniosku nie można rozpatrzyć ani podpisać zaświadczenia, o które się wnioskowało; "
                f"zrobi to inna osoba z rolą {catalog.SIGNER} w urzędzie {case.recipient_office}.",
                details=(Detail(DetailKind.DESCRIPTION, "ZASADA_DWOCH_OSOB: autor wniosku nie rozpatruje go"),),
            )
        return case

    def _readable_role(self, case: Case, caller: Caller, role: str) -> str:
        """Which document a reader gets, if any. A case's documents hold a person's PESEL and the data disclosed
        about them, so they are read by two kinds of people only: in the controller office, those who decide
        requests and sign certificates (role PODPISUJACY), who see every document; and in the requesting
        office, the requesting group, to whose scope the certificate was disclosed, who see the request and the
        certificate only once it is signed and delivered (asking for the certificate, they get the signed one,
        or none yet). Anyone else, an office's feeding system or auditor or another group included, is refused
        (recorded)."""
        if caller.office == case.recipient_office and caller.has_role(catalog.SIGNER):
            return role
        if not _requesting(case, caller):
            self._record_refusal(
                caller,
                f"dokument {role} w sprawie {case.id} (czytają: grupa {case.requester_group} urzędu "
                f"{case.requester_office}, rola {catalog.SIGNER} urzędu {case.recipient_office})",
            )
            raise NotAllowed(
                f"Dokumenty sprawy {case.id} czytają grupa {case.requester_group} urzędu {case.requester_office}, "
                f"która złożyła wniosek, i osoby z rolą {catalog.SIGNER} w urzędzie {case.recipient_office}; "
                "inni ich nie otrzymują.",
                details=(
                    Detail(DetailKind.DESCRIPTION, f"GRUPA: {case.requester_group}"),
                    Detail(DetailKind.ROLE, catalog.SIGNER),
                ),
            )
        return SIGNED_CERTIFICATE if role in (CERTIFICATE, SIGNED_CERTIFICATE) else role

    def _record_refusal(self, caller: Caller, what: str) -> None:
        self.events.record(caller.refusal(what, _now()))

    def _verify(
        self, signed: bytes, generated: bytes, pesel: str | None, *, person: bool = True, seal: OfficeSeal | None = None
    ) -> VerificationReport:
        verifier = self.signing.current()
        if verifier is None:
            raise ConfigurationError("Hub nie ma skonfigurowanych kotwic zaufania podpisów (signature_trust).")
        if not signed.strip():
            raise SignatureRefused(
                "Podpis zaświadczenia nie został przyjęty: przesłany dokument jest pusty.",
                details=(Detail(DetailKind.DESCRIPTION, "BRAK_PODPISU: przesłany dokument jest pusty."),),
            )
        report = verifier.verify(signed)
        reasons: list[Detail] = [Detail(DetailKind.DESCRIPTION, f"{r.code}: {r.message}") for r in report.reasons]
        if person and report.accepted and self.signing.require_qualified and not report.qualified:
            # What it lacks, not "bez QCStatements" for each: a certificate lacking only nonRepudiation was told so.
            certificate = report.certificate
            missing = ", ".join(certificate.missing_for_esignature) if certificate is not None else "danych certyfikatu"
            reasons.append(
                Detail(
                    DetailKind.DESCRIPTION,
                    "PODPIS_NIEKWALIFIKOWANY: Zaświadczenie musi być podpisane kwalifikowanym podpisem elektronicznym "
                    f"(certyfikatowi brakuje: {missing}).",
                )
            )
        if report.accepted and not report.coverage.whole_document:
            reasons.append(
                Detail(
                    DetailKind.DESCRIPTION,
                    "PODPIS_NIE_OBEJMUJE_CALEGO_DOKUMENTU: Podpis nie obejmuje całego dokumentu.",
                )
            )
        if report.intact and not _same_content(signed, generated):
            reasons.append(
                Detail(
                    DetailKind.DESCRIPTION,
                    "TRESC_NIEZGODNA_Z_WYTWORZONA: Podpisany dokument różni się "
                    "od zaświadczenia wytworzonego przez platformę.",
                )
            )
        if person and report.accepted and (pesel is None or report.pesel != pesel):
            reasons.append(
                Detail(
                    DetailKind.DESCRIPTION,
                    "PODPISUJACY_NIEUPRAWNIONY: Podpis złożyła osoba inna niż "
                    "użytkownik przesyłający zaświadczenie (PESEL z certyfikatu nie zgadza się z kontem).",
                )
            )
        if seal is not None and (report.certificate is None or report.certificate.sha256 != seal.sha256):
            reasons.append(
                Detail(
                    DetailKind.DESCRIPTION,
                    f"PIECZEC_INNA_NIZ_URZEDU: Dokument opieczętowano certyfikatem innym niż pieczęć urzędu "
                    f"{seal.office} skonfigurowana w hubie.",
                )
            )
        if reasons:
            raise SignatureRefused(
                "Podpis zaświadczenia nie został przyjęty: " + "; ".join(d.split(": ", 1)[-1] for d in reasons),
                details=reasons,
            )
        return report

    # -- building documents ---------------------------------------------------------------------------------
    def _request_document(
        self,
        template: Template,
        caller: Caller,
        form: RequestForm,
        case_id: str,
        now: dt.datetime,
        identifier: Identifier,
    ) -> bytes:
        d = _Builder(template, self.templates.compiled.schema(template.xsd))
        root = d.root()
        d.description(root, now, form.legal_basis, self._basis_text(form.legal_basis), self._office_name(caller.office))
        d.parties(root, self._party(caller.office, caller.login), self._party(form.recipient_office), case_id)
        body = d.sub(root, "TrescDokumentu")
        d.sub(d.sub(body, "Osoba"), "Pesel", str(identifier.pesel))
        d.sub(body, "Cel", form.purpose.strip())
        d.sub(body, "RodzajZaswiadczenia", form.certificate_type)
        sets = d.sub(body, "Zbiory")
        for code, categories in form.scope.items():
            element = d.sub(sets, "Zbior")
            element.set("Kod", code)
            for category in categories:
                d.sub(element, "Kategoria", category)
        return d.finish(root)

    def _certificate_document(
        self, template: Template, case: _CaseRow, request: etree._Element, request_sha: str, caller: Caller
    ) -> tuple[bytes, list[DisclosureRecord]]:
        """The certificate for an accepted request, built and valid by its template's schema, and the disclosure
        records the caller appends before storing it."""
        ns = "{" + str(etree.QName(request).namespace) + "}"
        pesel = request.findtext(f"{ns}TrescDokumentu/{ns}Osoba/{ns}Pesel") or ""
        legal_basis = request.find(f"{ns}OpisDokumentu/{ns}PodstawaPrawna")
        basis_code = legal_basis.get("Kod", "") if legal_basis is not None else ""
        purpose = request.findtext(f"{ns}TrescDokumentu/{ns}Cel") or ""
        data_set = self._certificate_data_set(template, case.recipient_office)
        categories = list(template.metadata.get("kategorie", ()))
        asked = {
            category.text
            for element in request.iterfind(f"{ns}TrescDokumentu/{ns}Zbiory/{ns}Zbior")
            if element.get("Kod") == data_set
            for category in element.iterfind(f"{ns}Kategoria")
        }
        beyond = [category for category in categories if category not in asked]
        if beyond:
            # A version activated after the request was submitted asks for more than the requester named: the
            # certificate never discloses what the request did not ask for (guideline 6, data minimisation).
            raise InvalidRequest(
                f"Obecna wersja szablonu {template.document_type} obejmuje kategorie, o które wniosek nie prosi: "
                f"{', '.join(beyond)}. Odmów wniosku, podając powód; wnioskodawca złoży nowy.",
                details=tuple(Detail.category(data_set, c) for c in beyond),
            )
        requester = Caller(case.requester, case.requester_office, case.requester_group, channel=CHANNEL)
        query = QueryRequest(
            identifier=Identifier.build(pesel=pesel),
            legal_basis=basis_code,
            purpose=purpose,
            scope={data_set: categories},
            case_number=case.id,
            request_digest=request_sha,
        )
        # Guideline 6: a certificate is a disclosure to the requester; the query path checks the requester's
        # scope; the disclosure is recorded by `accept` once the certificate exists (built and valid by its
        # template's XSD) and before it is stored: a certificate that cannot be generated discloses nothing.
        answer, records = self.query.prepare(requester, query, request_id=case.id)
        result = answer.results[0]
        if result.status != OK or result.element is None:
            raise NoDataForCertificate(
                f"Nie można wytworzyć zaświadczenia: {result.message or result.status} Odmów wniosku, podając powód."
            )
        d = _Builder(template, self.templates.compiled.schema(template.xsd))
        root = d.root()
        d.description(root, answer.time, basis_code, self._basis_text(basis_code), self._office_name(caller.office))
        d.parties(
            root,
            self._party(case.recipient_office, caller.login),
            self._party(case.requester_office),
            case.id,
            request_sha,
        )
        body = d.sub(root, "TrescDokumentu")
        d.sub(d.sub(body, "Osoba"), "Pesel", pesel)
        d.sub(
            body,
            "Stwierdzenie",
            self._statement(template, case.recipient_office, data_set),
        )
        d.sub(body, "IdentyfikatorUjawnienia", answer.request_id)
        body.append(result.element)
        return d.finish(root), records

    def _certificate_data_set(self, template: Template, recipient_office: str) -> str:
        """The data set a certificate type is made from: named (`zbior`), or of a kind (`rodzaj_zbioru`) and
        controlled by the addressed office (each gmina's OPS or SR unit issues from its own data set)."""
        if "zbior" in template.metadata:
            return str(template.metadata["zbior"])
        kind = str(template.metadata.get("rodzaj_zbioru", ""))
        for data_set in self.config.data_sets:
            if data_set.kind == kind and data_set.controller == recipient_office:
                return str(data_set.code)
        raise InvalidRequest(
            f"Zaświadczenie {template.document_type} wydaje urząd administrujący zbiorem rodzaju {kind}; "
            f"urząd {recipient_office} takiego zbioru nie ma."
        )

    def _statement(self, template: Template, office: str, data_set: str) -> str:
        """The certificate's statement, from the template's metadata (`{urzad}`, `{zbior}` replaced; no
        format(): a template editor's text must not reach Python's formatting)."""
        text = str(
            template.metadata.get(
                "stwierdzenie",
                "{urzad} zaświadcza, że w zbiorze {zbior} osoba o wskazanym numerze PESEL ma odnotowane poniższe "
                "okresy rejestracji i zmiany statusu.",
            )
        )
        return text.replace("{urzad}", self._office_name(office)).replace("{zbior}", data_set)

    def _basis_text(self, code: str) -> str:
        basis = self.config.legal_basis(code)
        return basis.citation if basis else code

    def _office_name(self, code: str) -> str:
        return self.config.office(code).name if self.config.has_office(code) else code

    def _party(self, office: str, user: str = "") -> Party:
        return Party(office, self._office_name(office), user)

    # -- storing ---------------------------------------------------------------------------------------------
    def _store(
        self,
        executor: Session | Connection,
        case_id: str,
        role: str,
        template: Template | int,
        content: bytes,
        author: str,
        signer_pesel: str | None = None,
    ) -> _Stored:
        """Insert a document, freezing its template version first unless it is known to be frozen (a version
        read as used stays used: `used` is never reset). A version changed since the document was made from it
        is not frozen and nothing is stored (`WrongState`): the document was validated by what it replaced."""
        template_id = self._frozen(executor, template) if isinstance(template, Template) else template
        stored = _Stored(str(uuid.uuid4()), case_id, role, template_id, content, sha256(content))
        _INSERT_DOCUMENT(
            executor,
            id=stored.id,
            case_id=case_id,
            role=role,
            template_id=template_id,
            content=content,
            sha256=stored.sha256,
            author=author,
            created=_now(),
            signer_pesel=signer_pesel,
        )
        tag = self.integrity.document(stored.id, case_id, role, template_id, stored.sha256)
        insert_tag(executor, DOCUMENT, stored.id, tag)
        return stored

    def _frozen(self, executor: Session | Connection, template: Template) -> int:
        """The id of the template version a document is made from, frozen (marked used) unless it is known to be;
        a version changed since the document was made from it is a `WrongState`."""
        if not template.used and not self.templates.freeze(executor, template):
            raise WrongState(
                f"Wersję {template.version} szablonu {template.document_type} zmieniono w trakcie wytwarzania "
                "dokumentu; nic nie zapisano, spróbuj ponownie."
            )
        return template.id

    def _move(self, session: Session, case: Case, caller: Caller, state: str, digest: str, note: str) -> None:
        """Move a case read by the ORM on (`_advance`); the object takes the new state without a second UPDATE."""
        self._advance(session, case.id, caller, case.state, state, digest, note)
        set_committed_value(case, "state", state)

    def _advance(
        self,
        executor: Session | Connection,
        case_id: str,
        caller: Caller,
        before: str,
        state: str,
        digest: str,
        note: str,
    ) -> None:
        """Move the case on, if it is still in the state it was read in: one conditional UPDATE, so that of
        two requests racing for the same transition (two uploads, two acceptances) exactly one wins, on every
        database (SQLite ignores SELECT … FOR UPDATE); the loser's transaction changes nothing."""
        if self._swap(executor, case_id, before, state) is not None:
            raise WrongState(f"Sprawę {case_id} zmieniono w międzyczasie; odśwież jej stan i spróbuj ponownie.")
        self._transition(executor, case_id, caller, before, state, digest, note)

    @staticmethod
    def _swap(executor: Session | Connection, case_id: str, before: str, after: str) -> str | None:
        """One conditional UPDATE of the case's state (from `before` to `after`, which may be the same: then it
        takes the row's write lock until the commit). None if it took effect, else the case's current state."""
        moved: CursorResult[Any] = executor.execute(  # type: ignore[assignment]
            _MOVE, {"case_id": case_id, "before": before, "after": after}
        )
        if moved.rowcount == 1:
            return None
        return str(executor.scalar(_STATE, {"case_id": case_id}))

    @staticmethod
    def _swap_claimed(executor: Session | Connection, case_id: str, claim: int, after: str) -> str | None:
        """`_swap` from DO_PODPISU, only while the acceptance's claim (transition `claim`) is the case's last move.
        None if it took effect, else the case's current state (`ZLOZONY`, or `DO_PODPISU` under another claim)."""
        moved: CursorResult[Any] = executor.execute(  # type: ignore[assignment]
            _MOVE_CLAIMED, {"case_id": case_id, "claim": claim, "after": after}
        )
        if moved.rowcount == 1:
            return None
        state = str(executor.scalar(_STATE, {"case_id": case_id}))
        return state if state != TO_SIGN else f"{TO_SIGN}, przyjęty ponownie po zwolnieniu przyjęcia"

    @staticmethod
    def _transition(
        executor: Session | Connection,
        case_id: str,
        caller: Caller,
        before: str,
        after: str,
        digest: str,
        note: str,
    ) -> None:
        _INSERT_TRANSITION(
            executor,
            case_id=case_id,
            time=_now(),
            actor=caller.login,
            office=caller.office,
            from_state=before,
            to_state=after,
            sha256=digest,
            note=note,
        )

    def _receipt(
        self,
        executor: Session | Connection,
        case_id: str,
        stored: _Stored | StoredDocument,
        kind: str,
        sender: Party,
        recipient: Party,
    ) -> bytes:
        if self.seal is None:
            raise ConfigurationError("Hub nie ma skonfigurowanej pieczęci do poświadczeń (seal_key).")
        receipt_id = str(uuid.uuid4())
        content = self.seal.issue(
            ReceiptFacts(
                kind, receipt_id, case_id, stored.id, stored.sha256, sender, recipient, _now(), self.config.hub.name
            )
        )
        _INSERT_RECEIPT(
            executor, id=receipt_id, case_id=case_id, kind=kind, document_id=stored.id, content=content, created=_now()
        )
        insert_tag(executor, RECEIPT, receipt_id, self.integrity.receipt(receipt_id, case_id, kind, stored.id, content))
        return content

    def _stored(self, session: Session, case_id: str, role: str) -> StoredDocument | None:
        """A case's document of a role, checked (`_checked`)."""
        found = session.execute(_DOCUMENT_WITH_TAG, {"case_id": case_id, "role": role}).first()
        return None if found is None else self._checked(found[0], found[1])

    def _checked(self, row: _AnyDocument, tag: str | None) -> _AnyDocument:
        """A stored document whose bytes match the SHA-256 stored when it was made (the same bytes the receipts
        name), and whose integrity tag matches what identifies it (`hub.storage.integrity`: bytes and SHA-256
        rewritten together behind the hub's back); `DocumentTampered` if either does not."""
        if sha256(row.content) != row.sha256:
            _log.error(
                "Dokument %s sprawy %s (%s) nie zgadza się ze swoim skrótem SHA-256.", row.id, row.case_id, row.role
            )
            raise DocumentTampered(
                f"Dokument {row.role} sprawy {row.case_id} w bazie huba nie zgadza się ze skrótem SHA-256 zapisanym "
                "przy jego wytworzeniu (zmieniono go poza platformą); nie udostępniono go. Zgłoś to administratorowi."
            )
        expected = self.integrity.document(row.id, row.case_id, row.role, row.template_id, row.sha256)
        if not self.integrity.matches(expected, tag):
            _log.error(
                "Dokument %s sprawy %s (%s) nie ma ważnego znacznika integralności.", row.id, row.case_id, row.role
            )
            raise DocumentTampered(
                f"Dokument {row.role} sprawy {row.case_id} w bazie huba nie ma ważnego znacznika integralności "
                "(zapisano go albo zmieniono razem z jego skrótem poza platformą); nie udostępniono go. "
                "Zgłoś to administratorowi."
            )
        return row

    def _checked_receipt(self, row: Receipt, tag: str | None) -> bytes:
        """A stored receipt's bytes, if its integrity tag matches them; `DocumentTampered` if not."""
        expected = self.integrity.receipt(row.id, row.case_id, row.kind, row.document_id, row.content)
        if not self.integrity.matches(expected, tag):
            _log.error("Poświadczenie %s sprawy %s nie ma ważnego znacznika integralności.", row.id, row.case_id)
            raise DocumentTampered(
                f"Poświadczenie {row.kind} sprawy {row.case_id} w bazie huba nie ma ważnego znacznika integralności "
                "(zapisano go albo zmieniono poza platformą); nie udostępniono go. Zgłoś to administratorowi."
            )
        return row.content

    def release_abandoned_claims(self, older_than: dt.timedelta) -> list[str]:
        """Cases claimed for acceptance (DO_PODPISU) whose certificate was never stored, the claim older than
        `older_than`: the process that claimed them died (kill -9, a lost connection) between the claim and the
        certificate. Each goes back to ZLOZONY by one conditional UPDATE with its transition (actor `system`), so
        that a signer can accept it again; an acceptance still under way then stores nothing (`accept`: `_swap`). Run by
        every hub process on a timer; returns the cases released."""
        cutoff = _now() - older_than
        # Correlated with each case in DO_PODPISU (both looked up by the indexed case id), so the timer reads
        # only the claimed cases' rows, not every transition and certificate the hub ever stored.
        claimed_at = (
            select(func.max(Transition.time))
            .where(Transition.case_id == Case.id, Transition.to_state == TO_SIGN, Transition.from_state == SUBMITTED)
            .scalar_subquery()
        )
        # A certificate once stored is never deleted (append-only), and its generation is a transition of the
        # same transaction: a case with that transition and no certificate had it deleted behind the hub's back
        # (`for_signing` says so), not abandoned; generating it again would disclose anew over the deletion.
        generated = exists().where(
            StoredDocument.case_id == Case.id, StoredDocument.role == CERTIFICATE
        ) | exists().where(
            Transition.case_id == Case.id,
            Transition.from_state == TO_SIGN,
            Transition.to_state == TO_SIGN,
            Transition.sha256 != "",
        )
        released: list[str] = []
        with Session(self.engine) as session:
            stale = session.scalars(select(Case.id).where(Case.state == TO_SIGN, ~generated, claimed_at < cutoff)).all()
        for case_id in stale:
            with Session(self.engine) as session, session.begin():
                moved: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                    update(Case)
                    .where(Case.id == case_id, Case.state == TO_SIGN, ~generated)
                    .values(state=SUBMITTED)
                    .execution_options(synchronize_session=False)
                )
                if moved.rowcount != 1:
                    continue
                session.add(
                    Transition(
                        case_id=case_id,
                        time=_now(),
                        actor="system",
                        office="",
                        from_state=TO_SIGN,
                        to_state=SUBMITTED,
                        sha256="",
                        note=(
                            "wycofanie przyjęcia: zaświadczenia nie wytworzono w czasie claim_timeout_seconds "
                            "(proces huba zakończony albo wytwarzanie wstrzymane)"
                        ),
                    )
                )
            released.append(case_id)
            _log.warning("Sprawa %s wróciła do stanu ZLOZONY: przerwane wytwarzanie zaświadczenia.", case_id)
        return released

    def _template_id(self, document_id: str) -> int:
        with Session(self.engine) as session:
            row = session.get(StoredDocument, document_id)
            assert row is not None
            return row.template_id

    def _file(self, row: _Stored | StoredDocument) -> DocumentFile:
        document_type, version = self.templates.identity(row.template_id)
        return DocumentFile(row.id, row.case_id, row.role, document_type, version, row.content, row.sha256)


def _made_from(stored: DocumentFile | StoredDocument, template: Template) -> Template:
    """The template version a stored document names as its own (`OpisDokumentu`: type and version, in the
    type's namespace, covered by its SHA-256 and any signature), if it is the one its row links it to; a link
    rewritten behind the hub's back (another version's visualisation) is `DocumentTampered`."""
    ns = "{" + template.namespace + "}"
    description = xmlsafe.parse_bytes(stored.content).find(f"{ns}OpisDokumentu")
    named: tuple[str | None, str | None] = (None, None)
    if description is not None:
        named = (description.findtext(f"{ns}RodzajDokumentu"), description.findtext(f"{ns}WersjaSzablonu"))
    if named != (template.document_type, str(template.version)):
        _log.error("Dokument %s sprawy %s (%s) wskazuje inną wersję szablonu.", stored.id, stored.case_id, stored.role)
        raise DocumentTampered(
            f"Dokument {stored.role} sprawy {stored.case_id} wskazuje w bazie huba wersję {template.version} szablonu "
            f"{template.document_type}, a nie tę, z której powstał (zmieniono go poza platformą); nie zwizualizowano "
            "go. Zgłoś to administratorowi."
        )
    return template


def _same_content(signed: bytes, generated: bytes) -> bool:
    # Each document parsed once, with its comments and processing instructions, and canonicalised in place
    # (`canonical` copies its argument first: four parses where two do).
    try:
        exactly = xmlsafe.parse_bytes(signed, keep_comments=True), xmlsafe.parse_bytes(generated, keep_comments=True)
        return _canonical_in_place(exactly[0]) == _canonical_in_place(exactly[1])
    except PlatformError:
        return False


class _Builder:
    """Builds a document in its template's namespace, in the ePUAP shape, and validates it by the XSD."""

    def __init__(self, template: Template, schema: etree.XMLSchema) -> None:
        self.template = template
        self.schema = schema
        self.ns = "{" + template.namespace + "}"

    def root(self) -> etree._Element:
        return etree.Element(self.ns + "Dokument", nsmap={None: self.template.namespace})

    def sub(self, parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, self.ns + tag)
        if text is not None:
            element.text = text
        return element

    def description(self, root: etree._Element, when: dt.datetime, basis: str, citation: str, author: str) -> None:
        opis = self.sub(root, "OpisDokumentu")
        self.sub(opis, "Identyfikator", str(uuid.uuid4()))
        self.sub(opis, "RodzajDokumentu", self.template.document_type)
        self.sub(opis, "WersjaSzablonu", str(self.template.version))
        self.sub(opis, "Tytul", self.template.title)
        self.sub(opis, "DataWytworzenia", when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"))
        self.sub(opis, "PodstawaPrawna", citation).set("Kod", basis)
        self.sub(opis, "Autor", author)

    def parties(
        self, root: etree._Element, sender: Party, recipient: Party, case_id: str, request_sha: str = ""
    ) -> None:
        dane = self.sub(root, "DaneDokumentu")
        for tag, party in (("Nadawca", sender), ("Adresat", recipient)):
            element = self.sub(dane, tag)
            self.sub(element, "Urzad", party.office)
            self.sub(element, "Nazwa", party.name)
            if party.user:
                self.sub(element, "Uzytkownik", party.user)
        self.sub(dane, "IdentyfikatorSprawy", case_id)
        if request_sha:
            self.sub(dane, "SkrotWniosku", request_sha)

    def finish(self, root: etree._Element) -> bytes:
        where = schema_mismatch(self.schema, root)
        if where is not None:
            # The template editor's doing, not the signer's: the version's schema does not accept what the
            # platform makes (libxml2's English report stays out of the message).
            raise ConfigurationError(
                f"Dokument nie powstał: schemat szablonu {self.template.document_type} w wersji "
                f"{self.template.version} go nie przyjmuje ({where}); redaktor szablonów musi wskazać inną wersję."
            )
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


__all__ = ["Documents", "RequestForm", "SigningPolicy"]


def open_documents(
    config: Config, engine: Engine, query: QueryEngine, events: EventLog, seals: Seals | None = None
) -> Documents:
    """The documents service as the configuration sets it up: templates seeded, the trust anchors loaded, the
    seals opened (once, at start, `hub.domain.seals.open_seals`) unless given."""
    settings = config.hub
    templates = Templates(engine, events)
    templates.seed()
    signing = SigningPolicy(None)
    if settings.signature_trust:
        folder = None
        if settings.signature_crls:
            folder = CrlFolder(Path(settings.signature_crls), f"{config.path.name}:hub.signature_crls")
        try:
            trust = TrustStore.from_path(settings.signature_trust)
        except SigningError as error:  # a file of the wrong kind (a PNG, a key): one line of the configuration's
            raise ConfigurationError(f"{config.path.name}:hub.signature_trust: {error.message}") from None
        signing = SigningPolicy.trusting(trust, folder)
    seals = open_seals(config) if seals is None else seals
    limits = RenderLimits(settings.render_timeout_seconds, settings.render_memory_mb, settings.render_processes)
    integrity = open_key(settings.documents_key or config.path.parent / DEFAULT_KEY, engine)
    return Documents(
        config, engine, templates, query, events, signing, seals, Renderer(limits), integrity
    )
