"""The query engine (guideline 1.1): identify, check scope, read replicas, record, answer.

Plain Python: it knows the common model only as XML sections (lxml), and nothing of SOAP. Every data set
that returns data writes one disclosure record, committed before the answer leaves; a query outside the
caller's scope is refused whole and the refusal is recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import unquote

from lxml import etree
from sqlalchemy.exc import SQLAlchemyError

from audit import DisclosureRecord, DisclosureRegister, Outcome
from contract import catalog
from contract.errors import (
    ConfigurationError,
    InvalidRequest,
    MissingPurpose,
    NotAllowed,
    PlatformError,
    UnknownCategory,
    UnknownDataSet,
    UnknownLegalBasis,
)
from contract.identifiers import Identifier
from contract.text import visible_text
from hub.domain.policy import Caller, Policy
from hub.domain.scope import expand_kinds, kind_target
from hub.settings import Config
from replica.database import ReplicaReader
from replica.feed import ReplicaIdentity

log = logging.getLogger(__name__)

OK = "OK"
NO_DATA = "BRAK_DANYCH"
REFUSED = "ODMOWA"
UNAVAILABLE = "NIEDOSTEPNY"
AMBIGUOUS = "NIEJEDNOZNACZNY"

_Q = "{" + catalog.QUERY_NS + "}"
_PESEL = "{" + catalog.MODEL_NS + "}Pesel"
_REFUSALS_RECORDED = (NotAllowed, UnknownLegalBasis, UnknownDataSet, UnknownCategory)


@dataclass(frozen=True)
class QueryRequest:
    """A query as the core sees it (decoded from SOAP or a web form).

    The evidence of the exchange, each optional: the caller's own message id (echoed in the answer), the
    case number the query is made in, and `request_digest`, the SHA-256 of the request body as received
    (`digest_of` the SOAP body's element). All three go into every record of the query (`evidence_note`).
    """

    identifier: Identifier
    legal_basis: str
    purpose: str
    scope: Mapping[str, Sequence[str]]
    client_message_id: str | None = None
    case_number: str | None = None
    request_digest: str = ""
    # Kinds of data set asked instead of codes (`Zbior/Rodzaj`): every data set of the kind in the caller's
    # scope, with these categories (`hub.domain.scope.expand_kinds`; issue 16).
    kinds: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass
class DataSetResult:
    """The answer of one data set: status, and when OK the rendered `Dane*` element and its digest."""

    data_set: str
    controller: str
    status: str
    message: str = ""
    element: etree._Element | None = None
    digest: str = ""
    categories: tuple[str, ...] = ()
    #: Every other person identified by PESEL in what was disclosed (the children of DANE_DZIECI), with the
    #: categories naming them: each gets a record of their own, so the per-person report (GDPR art. 15)
    #: finds what was disclosed about them too.
    named_people: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass
class QueryAnswer:
    """The whole answer: the hub's request id, the time, one result per data set asked, and the caller's
    message id and the request's digest it answers (echoed from the request)."""

    request_id: str
    time: dt.datetime
    results: list[DataSetResult] = field(default_factory=list)
    client_message_id: str | None = None
    request_digest: str = ""


#: The names of the evidence in a disclosure record's `reason` (`evidence_note`), as in the SOAP contract.
EVIDENCE_FIELDS = ("IdentyfikatorKomunikatuKlienta", "ZnakSprawy", "SkrotZapytania")


def _escape(value: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in "%;=" or ord(c) < 32 else c for c in value)


def _ambiguous_across(result: DataSetResult) -> DataSetResult:
    return DataSetResult(
        result.data_set,
        result.controller,
        AMBIGUOUS,
        "Identyfikator wskazuje różne osoby (różne numery PESEL) w różnych zbiorach; podaj numer PESEL.",
    )


def evidence_note(request: QueryRequest) -> str:
    """The evidence of a query as stored in its disclosure records' free-text `reason` (the register has no
    column for it; docs/audit.md): `Name=value` pairs joined by `"; "`, in `EVIDENCE_FIELDS` order, absent
    ones left out, `%`, `;`, `=` and control characters percent-encoded. Empty when there is none."""
    values = (request.client_message_id, request.case_number, request.request_digest)
    return "; ".join(f"{name}={_escape(value)}" for name, value in zip(EVIDENCE_FIELDS, values, strict=True) if value)


def read_evidence(note: str) -> dict[str, str]:
    """The evidence in a record's `reason` (its last line; a refusal's reason starts with the refusal)."""
    line = note.rsplit("\n", 1)[-1]
    pairs = (item.split("=", 1) for item in line.split("; ") if "=" in item)
    return {name: unquote(value) for name, value in pairs if name in EVIDENCE_FIELDS}


def digest_of(element: etree._Element) -> str:
    """SHA-256 of the element's Exclusive XML Canonicalization 1.0 (the XML-DSig transform).

    Exclusive C14N makes the digest independent of the namespaces declared around the element in the
    envelope, so a client recomputes it from the answer as received; every XML-DSig stack (xmlsec, Java,
    .NET) implements it, and libxml2 does it in ~20 µs where C14N 2.0 took ~340 µs.
    """
    return hashlib.sha256(etree.tostring(element, method="c14n", exclusive=True)).hexdigest()


#: The answer's prefixes when the caller names none (the SOAP edge passes its envelope's own).
ANSWER_PREFIXES: Mapping[str, str] = {catalog.QUERY_NS: "z", catalog.MODEL_NS: "m"}


_NAMED_IN_DATA = "Osoba wymieniona w udostępnionych danych innej osoby (np. dziecko): wpis dla raportu z art. 15 RODO."


class QueryEngine:
    """Answers queries from the configured replicas under the configured policy."""

    def __init__(
        self,
        config: Config,
        register: DisclosureRegister,
        policy: Policy | None = None,
        *,
        replicas: Mapping[str, ReplicaReader] | None = None,
    ) -> None:
        self.config = config
        self.policy = policy or Policy(config)
        self.register = register
        # The replicas' readers: given (tests give in-memory ones), or opened read-only from the configuration.
        self.replicas: dict[str, ReplicaReader] = (
            dict(replicas)
            if replicas is not None
            else {
                d.code: ReplicaReader(d.replica, expected=ReplicaIdentity(d.code, d.kind, d.controller))
                for d in config.data_sets
                if d.replica is not None
            }
        )

    def ask(
        self,
        caller: Caller,
        request: QueryRequest,
        request_id: str | None = None,
        *,
        prefixes: Mapping[str, str] = ANSWER_PREFIXES,
    ) -> QueryAnswer:
        """Answer one query, or raise a `PlatformError` (refusals are recorded before raising).

        `prefixes` (namespace -> prefix) are those of the envelope the answer leaves in: each `Dane*` element
        is built with them, so it leaves exactly as digested (lxml would otherwise re-prefix it on insertion).
        """
        answer, records = self.prepare(caller, request, request_id, prefixes=prefixes)
        # Guideline 6: the record is durable before any data leaves; if it cannot be written, nothing leaves.
        self.register.append(records)
        return answer

    def prepare(
        self,
        caller: Caller,
        request: QueryRequest,
        request_id: str | None = None,
        *,
        prefixes: Mapping[str, str] = ANSWER_PREFIXES,
    ) -> tuple[QueryAnswer, list[DisclosureRecord]]:
        """`ask` without its last step: the answer and the disclosure records it needs, not yet appended
        (refusals are recorded as in `ask`). The caller appends the records (`record`) before any of the
        answer's data leaves, and only if it will leave: a certificate that cannot be generated from the
        answer discloses nothing, so nothing is recorded."""
        request_id = request_id or str(uuid.uuid4())
        now = dt.datetime.now(dt.UTC)
        if not visible_text(request.purpose or "", "Cel"):
            raise MissingPurpose("Podaj cel pozyskania danych (pole Cel); zapytanie bez celu nie jest przyjmowane.")
        asked: Mapping[str, Sequence[str]] = {**request.scope, **{kind_target(k): c for k, c in request.kinds.items()}}
        if not asked:
            raise InvalidRequest("Wskaż co najmniej jeden zbiór danych.")
        for code, categories in asked.items():
            if not categories:
                raise InvalidRequest(f"Wskaż zakres (kategorie) danych żądanych ze zbioru {code}.")
        scope: Mapping[str, Sequence[str]] = request.scope
        try:
            if request.kinds:
                in_scope = [entry.data_set for entry in self.policy.scope(caller)]
                scope = asked = expand_kinds(self.config, in_scope, request.scope, request.kinds)
            self.policy.check(caller, request.legal_basis, scope)
        except _REFUSALS_RECORDED as refusal:
            self._record_refusal(caller, request, request_id, now, refusal, asked)
            raise
        answer = QueryAnswer(request_id, now, client_message_id=request.client_message_id)
        answer.request_digest = request.request_digest
        note = evidence_note(request)
        records: list[DisclosureRecord] = []
        found = [
            (code, *self._ask_one(code, tuple(dict.fromkeys(categories)), request.identifier, prefixes))
            for code, categories in scope.items()
        ]
        if not request.identifier.pesel and len({p for _c, r, p in found if r.status == OK and p}) > 1:
            # A name and birth date (or a document) naming different people in different data sets (namesakes in
            # two gminas): the caller could not tell whose data is whose, so nobody's is given.
            found = [(c, _ambiguous_across(r) if r.status == OK else r, None) for c, r, _p in found]
        for code, result, subject_pesel in found:
            answer.results.append(result)
            if result.status == OK:
                records.append(
                    DisclosureRecord(
                        time=now,
                        request_id=request_id,
                        user=caller.login,
                        office=caller.office,
                        channel=caller.channel,
                        identifier=request.identifier.describe(),
                        subject_pesel=subject_pesel,
                        data_set=code,
                        controller=result.controller,
                        categories=result.categories,
                        legal_basis=request.legal_basis,
                        purpose=request.purpose.strip(),
                        outcome=Outcome.DISCLOSED,
                        digest=result.digest,
                        reason=note,
                    )
                )
                records.extend(
                    replace(
                        records[-1],
                        subject_pesel=pesel,
                        categories=categories,
                        reason=_NAMED_IN_DATA + (f"\n{note}" if note else ""),
                    )
                    for pesel, categories in result.named_people
                )
        return answer, records

    def record(self, records: Sequence[DisclosureRecord]) -> None:
        """Append what `prepare` returned (durable when this returns, or raises and nothing may leave)."""
        self.register.append(records)

    def check_scope(self, caller: Caller, request: QueryRequest, request_id: str) -> None:
        """Check a request's whole scope as `ask` does, recording a refusal the same way; nothing is read (a
        request for a certificate names what it asks for before anything is disclosed)."""
        try:
            self.policy.check(caller, request.legal_basis, request.scope)
        except _REFUSALS_RECORDED as refusal:
            self._record_refusal(caller, request, request_id, dt.datetime.now(dt.UTC), refusal, request.scope)
            raise

    def _ask_one(
        self, code: str, categories: tuple[str, ...], identifier: Identifier, prefixes: Mapping[str, str]
    ) -> tuple[DataSetResult, str | None]:
        data_set = self.config.data_set(code)
        assert data_set is not None
        controller = self.config.office(data_set.controller).name
        kind = catalog.kind(data_set.kind)
        assert kind is not None
        reader = self.replicas.get(code)
        if reader is None:
            return DataSetResult(code, controller, UNAVAILABLE, "Źródło danych nie jest dostępne."), None
        try:
            elements = [kind.category(c).element for c in categories]  # type: ignore[union-attr]
            people, stored = reader.lookup(identifier, elements)
            if not people:
                return DataSetResult(code, controller, NO_DATA, "Brak danych o tej osobie w zbiorze."), None
            if len(people) > 1:
                return (
                    DataSetResult(
                        code,
                        controller,
                        AMBIGUOUS,
                        "Identyfikator wskazuje więcej niż jedną osobę; podaj numer PESEL "
                        "albo rodzaj i numer dokumentu tożsamości.",
                    ),
                    None,
                )
        except SQLAlchemyError as error:
            # One line per failure, no traceback: a replica replaced by another file failed every query of its
            # data set, and each wrote a traceback (the database's own words say enough).
            log.error(
                "replica of data set %s failed: %s", code, str(getattr(error, "orig", None) or error).split("\n")[0]
            )
            return DataSetResult(code, controller, UNAVAILABLE, "Źródło danych nie odpowiedziało."), None
        except ConfigurationError as error:  # a replica the hub cannot read as it is (replica.database.check_layout)
            log.error("replica of data set %s refused: %s", code, error.message)
            return DataSetResult(code, controller, UNAVAILABLE, "Źródło danych nie odpowiedziało."), None
        data = etree.Element(_Q + kind.data_element, nsmap={p: ns for ns, p in prefixes.items()})
        subject_pesel: str | None = None
        named: dict[str, list[str]] = {}
        for category in kind.categories:  # the model's order, not the caller's
            if category.code in categories and category.element in stored:
                section = etree.fromstring(stored[category.element])
                data.append(section)
                if category.code == catalog.PERSONAL_DATA:
                    subject_pesel = section.findtext(_PESEL)
                    continue
                for value in section.iter(_PESEL):
                    pesel = (value.text or "").strip()
                    if pesel and category.code not in named.setdefault(pesel, []):
                        named[pesel].append(category.code)
        if subject_pesel is None and catalog.PERSONAL_DATA not in categories:
            subject_pesel = identifier.pesel or self._pesel_of(reader, people[0])
        return (
            DataSetResult(
                code,
                controller,
                OK,
                element=data,
                digest=digest_of(data),
                categories=tuple(c.code for c in kind.categories if c.code in categories),
                named_people=tuple((p, tuple(c)) for p, c in named.items() if p != subject_pesel),
            ),
            subject_pesel,
        )

    @staticmethod
    def _pesel_of(reader: ReplicaReader, person_id: int) -> str | None:
        stored = reader.sections(person_id, ["DaneOsobowe"]).get("DaneOsobowe")
        if stored is None:
            return None
        return etree.fromstring(stored).findtext(_PESEL)

    def _record_refusal(
        self,
        caller: Caller,
        request: QueryRequest,
        request_id: str,
        now: dt.datetime,
        refusal: PlatformError,
        asked: Mapping[str, Sequence[str]],
    ) -> None:
        records = []
        note = evidence_note(request)
        for code, categories in asked.items():
            data_set = self.config.data_set(code)
            controller = self.config.office(data_set.controller).name if data_set else ""
            records.append(
                DisclosureRecord(
                    time=now,
                    request_id=request_id,
                    user=caller.login,
                    office=caller.office,
                    channel=caller.channel,
                    identifier=request.identifier.describe(),
                    subject_pesel=request.identifier.pesel,
                    data_set=code,
                    controller=controller,
                    categories=tuple(categories),
                    legal_basis=request.legal_basis,
                    purpose=request.purpose.strip(),
                    outcome=Outcome.REFUSED,
                    reason=f"{refusal.code}: {', '.join(refusal.details)}" + (f"\n{note}" if note else ""),
                )
            )
        self.register.append(records)

    def close(self) -> None:
        for reader in self.replicas.values():
            reader.dispose()
