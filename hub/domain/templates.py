"""Document templates (guideline 2; issue 15): versioned XSD + XSL + metadata in the hub database.

A version is immutable once a document was made from it; a document always names its version and is
rendered with it. Only template editors (`REDAKTOR_SZABLONOW`) read the versions, make, import, change and
activate them; each of these changes is a row of the type's history (`zmiany_szablonow`) and a recorded
security event `ZMIANA_SZABLONU`, each refusal an `ODMOWA_UPRAWNIEN`. A template is one file and reaches
nothing outside it: its XSD includes and imports no other schema, its XSL includes nothing, calls neither
`document()` nor extension functions (all refused when it is compiled, `hub.domain.stylesheet_check`), and
runs in lxml's sandbox without file or network access (the second line, should a way past the checks be found).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit import EventKind, EventLog
from audit.records import SecurityEvent
from contract import xmlsafe
from contract.catalog import TEMPLATE_EDITOR
from contract.errors import Detail, DetailKind, ForbiddenXml, InvalidRequest, MalformedXml, NotAllowed, PlatformError
from contract.text import TEXT_MAX_LENGTH, forbidden_character
from hub.domain.policy import Caller
from hub.domain.stylesheet_check import reaching_out
from hub.storage.documents import StoredDocument, TemplateChange, TemplateVersion
from hub.storage.tables import lock_for_writing

#: The document types shipped with the platform, each imported as version 1 on first start.
SHIPPED = Path(__file__).resolve().parent.parent / "documents"

_XSL = "{http://www.w3.org/1999/XSL/Transform}"
_XS = "{http://www.w3.org/2001/XMLSchema}"
_DS = "{http://www.w3.org/2000/09/xmldsig#}"
#: lxml's sandbox for templates: no file, no network, no directories (lxml XSLTAccessControl).
SANDBOX = etree.XSLTAccessControl(
    read_file=False, write_file=False, create_dir=False, read_network=False, write_network=False
)
#: A document type's code (`rodzaj`), as the shipped ones and the column (64 characters) have it.
_TYPE_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
#: Metadata that name the data set a type's documents are made from: the same in every version of a type.
_SOURCE_METADATA = ("zbior", "rodzaj_zbioru")
#: How deep metadata may nest (the shipped ones nest 1 level: a list of categories).
_METADATA_DEPTH = 8
#: Metadata whose value must be text, and the one that must be a list of codes (`metadane.json`).
_TEXT_METADATA = (
    "rodzaj",
    "klasa",
    "przestrzen_nazw",
    "tytul",
    "opis",
    "autor",
    "podstawa_prawna",
    "zbior",
    "rodzaj_zbioru",
    "stwierdzenie",
)
_KEPT_VERSIONS = 256
"""How many used versions `Templates` keeps in memory (a powiat has a few dozen)."""
#: The id and flags of a type's active version, and of a version by id (`Templates.active`, `Templates.get`).
_ACTIVE_FLAGS = select(TemplateVersion.id.label("id"), TemplateVersion.used.label("used")).where(
    TemplateVersion.document_type == bindparam("document_type"), TemplateVersion.active.is_(True)
)
_FLAGS = select(TemplateVersion.active.label("active"), TemplateVersion.used.label("used")).where(
    TemplateVersion.id == bindparam("id")
)
_NUMBERING_ATTEMPTS = 32
"""How often a new version is numbered again when another took its number (far more than editors at once)."""
SYSTEM_AUTHOR = "platforma"
"""The author of the shipped versions, imported on first start."""
#: The SHA-256 a version's last change recorded for its one-file export, read in the statement that reads the
#: version (`Templates._checked`; two statements could see a change between them on PostgreSQL).
_RECORDED_SHA256 = (
    select(TemplateChange.sha256)
    .where(
        TemplateChange.document_type == TemplateVersion.document_type,
        TemplateChange.version == TemplateVersion.version,
    )
    .order_by(TemplateChange.id.desc())
    .limit(1)
    .correlate(TemplateVersion)
    .scalar_subquery()
)

_log = logging.getLogger(__name__)


class TemplateAction(enum.StrEnum):
    """What a change of a document type's templates did (the type's history, `zmiany_szablonow`)."""

    NEW_VERSION = "UTWORZENIE"
    IMPORT = "IMPORT"
    CHANGE = "ZMIANA"
    ACTIVATION = "AKTYWACJA"


class TemplateInUse(PlatformError):
    """A template version from which a document was already made: it cannot be changed; make a new version."""

    code = "SZABLON_W_UZYCIU"


class UnknownTemplate(PlatformError):
    """A document type or template version the platform does not have."""

    code = "NIEZNANY_SZABLON"


class TemplateTampered(PlatformError):
    """A template version whose XSD, XSL or metadata no longer match the SHA-256 its history recorded (changed
    behind the hub's back): no document is made or rendered with it. Ours (soap:Server): the caller did nothing
    wrong."""

    code = "NARUSZONA_INTEGRALNOSC_SZABLONU"
    client_error = False


class InvalidTemplate(PlatformError):
    """A template that cannot be used, so nothing is stored: an XSD or XSL that is not well-formed, not a schema
    or stylesheet, or reaches outside the template (includes, `document()`, extension functions), or metadata
    that do not fit its schema."""

    code = "NIEPRAWIDLOWY_SZABLON"


class RenderingRefused(PlatformError):
    """A document that could not be rendered: its template failed (reached for a file or the network, an XSLT
    error, no content) or its rendering ran past the time or memory bound (`[hub] render_*`)."""

    code = "BLAD_WIZUALIZACJI"


@dataclass(frozen=True)
class Template:
    """One template version as the core sees it."""

    id: int
    document_type: str
    version: int
    xsd: str
    xsl: str
    metadata: dict[str, Any]
    active: bool
    used: bool
    author: str
    created: dt.datetime

    @property
    def namespace(self) -> str:
        return str(self.metadata["przestrzen_nazw"])

    @property
    def title(self) -> str:
        return str(self.metadata.get("tytul", ""))

    def to_file(self) -> dict[str, Any]:
        """The version as one JSON-ready object (export/import of a template as one file)."""
        return {"rodzaj": self.document_type, "metadane": self.metadata, "schemat": self.xsd, "wizualizacja": self.xsl}

    def export_file(self) -> bytes:
        """The version as one file (JSON in UTF-8), as `platforma templates export` writes it and `import` reads it."""
        return (json.dumps(self.to_file(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @property
    def file_sha256(self) -> str:
        """SHA-256 (hex) of the one-file export: names the version's XSD, XSL and metadata together."""
        return hashlib.sha256(self.export_file()).hexdigest()


def _template(row: TemplateVersion) -> Template:
    return Template(
        row.id,
        row.document_type,
        row.version,
        row.xsd,
        row.xsl,
        json.loads(row.metadata_json),
        row.active,
        row.used,
        row.author,
        row.created,
    )


def _parse(text: str, what: str) -> etree._Element:
    """A template's XSD or XSL parsed as any document from outside: no DTD, no entities, no network."""
    try:
        return xmlsafe.parse_bytes(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidTemplate(f"{what} szablonu zawiera znaki, których nie da się zapisać w UTF-8.") from None
    except (ForbiddenXml, MalformedXml) as error:
        raise InvalidTemplate(f"{what} szablonu jest nieprawidłowy: {error.message}") from None


def compile_schema(xsd: str) -> etree.XMLSchema:
    """The template's schema, parsed without DTDs, entities or network; `InvalidTemplate` if unusable."""
    root = _parse(xsd, "Schemat XSD")
    # libxml2 loads an xs:include, xs:redefine, xs:override or an xs:import's schemaLocation while it compiles
    # the schema, from a file or over the network: a template is one file, so none may point elsewhere.
    reaching = root.iter(_XS + "include", _XS + "redefine", _XS + "override", _XS + "import")
    if any(node.tag != _XS + "import" or node.get("schemaLocation") is not None for node in reaching):
        raise InvalidTemplate(
            "Schemat XSD szablonu nie może wczytywać innych plików (xs:include, xs:redefine, xs:override, "
            "xs:import ze schemaLocation)."
        )
    try:
        return etree.XMLSchema(root)
    except etree.XMLSchemaParseError as error:
        # libxml2's report is English for a programmer; the editor gets the line it points at.
        raise InvalidTemplate(
            f"Schemat XSD szablonu nie jest poprawnym schematem XML Schema{_at_line(error.error_log)}."
        ) from None


def schema_mismatch(schema: etree.XMLSchema, root: etree._Element) -> str | None:
    """None if the schema accepts the document; otherwise where it does not, in Polish ("element
    Dokument/TrescDokumentu/Stwierdzenie"), without libxml2's English."""
    try:
        if schema.validate(root):
            return None
    except etree.XMLSchemaValidateError:  # e.g. a counted repetition libxml2 cannot turn into an automaton
        return "walidator nie umie sprawdzić dokumentu tym schematem"
    prefixes = {prefix: uri for prefix, uri in root.nsmap.items() if prefix}
    for entry in schema.error_log:
        try:  # libxml2's path may use a prefix the document does not declare ("Undefined namespace prefix")
            found = root.xpath(entry.path, namespaces=prefixes) if entry.path else []
        except etree.XPathError:
            continue
        if isinstance(found, list) and found and isinstance(found[0], etree._Element):
            names = [etree.QName(e).localname for e in (*reversed(list(found[0].iterancestors())), found[0])]
            return "element " + "/".join(names)
    return "dokument"


def _at_line(log: etree._ListErrorLog) -> str:
    """Where a library's error log points, as a Polish phrase (" (wiersz 3)"), or "" when it does not say."""
    lines = [entry.line for entry in log if entry.line > 0]
    return f" (wiersz {lines[0]})" if lines else ""


def compile_stylesheet(xsl: str) -> etree.XSLT:
    """The template's stylesheet in the sandbox (no files, no network, no extensions)."""
    root = _parse(xsl, "Arkusz XSL")
    # lxml applies XSLTAccessControl when the stylesheet runs, not to xsl:include/xsl:import while it is
    # compiled (tested: an include of a local file was read); a template is one file, so both are refused.
    if any(True for _ in root.iter(_XSL + "include", _XSL + "import")):
        raise InvalidTemplate("Arkusz XSL szablonu nie może włączać innych plików (xsl:include, xsl:import).")
    if root.tag not in (_XSL + "stylesheet", _XSL + "transform") and root.get(_XSL + "version") is None:
        raise InvalidTemplate(
            "Wizualizacja szablonu nie jest arkuszem XSLT (jej korzeniem nie jest element arkusza z przestrzeni nazw "
            "XSLT)."
        )
    reason = reaching_out(root)
    if reason is not None:
        raise InvalidTemplate(reason)
    try:
        return etree.XSLT(root, access_control=SANDBOX)
    except etree.XSLTParseError as error:
        # libxslt's report is English for a programmer; the editor gets the line it points at.
        raise InvalidTemplate(
            f"Arkusz XSL szablonu nie jest poprawnym arkuszem XSLT 1.0{_at_line(error.error_log)}."
        ) from None


class CompiledTemplates:
    """Schemas compiled once per template text and thread, not once per document (stylesheets are compiled in
    the rendering workers, `hub.domain.rendering`).

    Keyed by the XSD text itself, so a change of a version no document was made from yet compiles
    anew, and a version in use (immutable) compiles once. Per thread, because an lxml schema or stylesheet
    keeps the error log of its last run on itself. Compiling the certificate's XSD was 0.3 ms of each
    certificate (bench/documents.py, issue 15).
    """

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._local = threading.local()

    def _cache(self) -> dict[str, Any]:
        cache: dict[str, Any] | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        if len(cache) > self._size:
            cache.clear()
        return cache

    def schema(self, xsd: str) -> etree.XMLSchema:
        """The compiled schema of an XSD text (`compile_schema`)."""
        cache = self._cache()
        if xsd not in cache:
            cache[xsd] = compile_schema(xsd)
        return cache[xsd]


#: What a terminating xsl:message says once `runnable_stylesheet` has put it there (XSLT 1.0, 13: the message's
#: own text is the template editor's, possibly with the document's data, and is never passed on).
STOPPED_BY_MESSAGE = "platforma:xsl-message-terminate"


def runnable_stylesheet(xsl: str) -> etree.XSLT:
    """The template's stylesheet as rendering runs it: checked and compiled as `compile_stylesheet` does, with
    each xsl:message taken out (XSLT 1.0, 13: a message does not change the result, and libxslt logs it as an
    error, which failed every rendering) unless it ends the transformation (terminate="yes"), whose text is
    replaced by `STOPPED_BY_MESSAGE` so that the refusal can say what stopped it."""
    root = _parse(xsl, "Arkusz XSL")
    for message in list(root.iter(_XSL + "message")):
        if (message.get("terminate") or "").strip() == "yes":
            for child in list(message):
                message.remove(child)
            message.text = STOPPED_BY_MESSAGE
        else:
            _remove_keeping_tail(message)
    return compile_stylesheet(etree.tostring(root, encoding="unicode"))


def _remove_keeping_tail(element: etree._Element) -> None:
    parent, tail = element.getparent(), element.tail or ""
    if parent is None:
        return
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def render_html(template: Template, document: bytes, stylesheet: etree.XSLT | None = None) -> bytes:
    """The document rendered to HTML by its template's XSL, in the sandbox; `RenderingRefused` on failure, with
    one Polish sentence saying why (never libxslt's English, which names files and paths).

    `stylesheet` is the template's XSL already compiled (`runnable_stylesheet`), if the caller has it."""
    transform = stylesheet if stylesheet is not None else runnable_stylesheet(template.xsl)
    subject = f"Szablon {template.document_type} w wersji {template.version}"
    try:
        result = transform(etree.ElementTree(xmlsafe.parse_bytes(document)))
        failed = any(e.level_name in ("ERROR", "FATAL") for e in transform.error_log)
    except etree.XSLTApplyError:
        failed = True
    if failed:
        raise RenderingRefused(f"{subject} {_why_failed(transform.error_log)}; wizualizacja nie powstała.")
    if result.getroot() is None:
        # A stylesheet whose templates match nothing in the document (e.g. one kept when the namespace changed)
        # gives an empty result, which lxml serialises as None.
        raise RenderingRefused(
            f"{subject} nie dał dla tego dokumentu żadnej treści (arkusz XSL nie pasuje do dokumentu, np. po zmianie "
            "przestrzeni nazw); wizualizacja nie powstała."
        )
    return etree.tostring(result, method="html", encoding="UTF-8")


def _why_failed(log: etree._ListErrorLog) -> str:
    """What stopped a transformation, in Polish, from libxslt's log (its messages are stable English, the
    sandbox's from libxslt's security.c and documents.c)."""
    messages = [entry.message for entry in log]
    if STOPPED_BY_MESSAGE in messages:
        return 'zakończył wizualizację instrukcją xsl:message terminate="yes"'
    if any(" refused" in m or " denied" in m for m in messages):
        return (
            "próbował odczytać lub zapisać plik albo sięgnąć do sieci (np. funkcją document()), na co piaskownica "
            "wizualizacji nie pozwala"
        )
    if any("recursion" in m for m in messages):
        return "wywołuje swoje szablony zbyt głęboko (rekurencja bez końca)"
    if any(entry.domain_name == "XPATH" for entry in log):
        return "używa wyrażenia XPath lub funkcji, których XSLT 1.0 nie zna lub nie może obliczyć"
    return "nie dał się zastosować do dokumentu (błąd wykonania arkusza XSL)"


@dataclass(frozen=True)
class TemplateHistoryEntry:
    """One change in a document type's history: what was done to which version, by whom, when, and the SHA-256
    of the version's one-file export as the change left it."""

    time: dt.datetime
    document_type: str
    version: int
    action: TemplateAction
    actor: str
    office: str
    sha256: str


def _target_namespace(xsd: str) -> str | None:
    return _parse(xsd, "Schemat XSD").get("targetNamespace")


def metadata_from_json(text: str) -> dict[str, Any]:
    """Metadata changes given as a JSON object (`platforma templates new-version --metadata`, SOAP `Metadane`)."""
    try:
        metadata = json.loads(text)
    except (ValueError, RecursionError):  # Python's decoder recurses per level: 50,000 "[" overflow it
        raise InvalidTemplate("Metadane szablonu nie są poprawnym obiektem JSON.") from None
    if not isinstance(metadata, dict):
        raise InvalidTemplate("Metadane szablonu muszą być obiektem JSON (pary nazwa: wartość).")
    return metadata


def check_metadata(metadata: dict[str, Any], namespace: str | None, previous: dict[str, Any]) -> None:
    """Refuse metadata no document can be made with: a text field that is not text, categories that are not a
    list of codes, text a reader would not see as stored, a namespace other than the schema's, or a class other
    than the type's (`InvalidTemplate`)."""
    _check_metadata_text(metadata, "", 0)
    for name in _TEXT_METADATA:
        if name in metadata and not isinstance(metadata[name], str):
            raise InvalidTemplate(f"Pole metadanych „{name}” musi być tekstem.")
        if name in metadata and len(metadata[name]) > TEXT_MAX_LENGTH:
            # Each goes into answers (`Tytul`, `Opis`, … of type Tekst) and documents: longer, they broke the
            # published contract for every client that validates an answer.
            raise InvalidTemplate(
                f"Pole metadanych „{name}” jest za długie (długość {len(metadata[name])}); dozwolone jest najwyżej "
                f"{TEXT_MAX_LENGTH} znaków."
            )
    categories = metadata.get("kategorie", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise InvalidTemplate("Pole metadanych „kategorie” musi być listą kodów kategorii.")
    if metadata.get("przestrzen_nazw") != namespace:
        raise InvalidTemplate(
            "Przestrzeń nazw w metadanych szablonu (przestrzen_nazw) różni się od przestrzeni docelowej jego "
            "schematu XSD (targetNamespace); dokument nie byłby zgodny ze schematem."
        )
    try:
        json.dumps(metadata, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidTemplate("Metadane szablonu zawierają znaki, których nie da się zapisać w UTF-8.") from None
    if metadata.get("klasa") != previous.get("klasa"):
        raise InvalidTemplate(
            f"Klasa dokumentu ({previous.get('klasa')}) nie zmienia się między wersjami szablonu; utwórz nowy rodzaj."
        )


def _check_metadata_text(value: Any, field: str, depth: int) -> None:
    """Metadata text goes into every document made from the version (`Tytul`) and into answers, and XML cannot
    carry a control: each name and text is held to the rule for free text (`contract.text`); a number is one
    JSON has (not NaN or Infinity); and metadata nest no deeper than `_METADATA_DEPTH`."""
    if depth > _METADATA_DEPTH:
        raise InvalidTemplate(f"Metadane szablonu są zagnieżdżone zbyt głęboko (najwyżej {_METADATA_DEPTH} poziomów).")
    if isinstance(value, str):
        character = forbidden_character(value)
        if character is not None:
            raise InvalidTemplate(
                f"Pole metadanych „{field}” zawiera niedozwolony znak {character} (znaki sterujące i znaki zmiany "
                "kierunku tekstu nie są przyjmowane).",
                details=(Detail(DetailKind.DESCRIPTION, f"{field}: {character}"),),
            )
    elif isinstance(value, float) and not math.isfinite(value):
        # Python's decoder reads NaN and Infinity, which are no JSON (RFC 8259, 6): stored, they made the
        # version's export a file no other JSON reader reads.
        raise InvalidTemplate(
            f"Pole metadanych „{field}” ma wartość NaN lub Infinity, której JSON nie zna; podaj liczbę albo tekst."
        )
    elif isinstance(value, dict):
        for name, item in value.items():
            character = forbidden_character(name)
            if character is not None:
                raise InvalidTemplate(f"Nazwa pola metadanych zawiera niedozwolony znak {character}.")
            _check_metadata_text(item, field or name, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_metadata_text(item, field, depth + 1)


class Templates:
    """The template store: versions, activation, immutability once used, history, rendering."""

    def __init__(self, engine: Engine, events: EventLog, *, clock: Any = None) -> None:
        self.engine = engine
        self.events = events
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))
        self.compiled = CompiledTemplates()
        # A version's type and number never change (only an unused version's XSD and XSL may).
        self._identities: dict[int, tuple[str, int]] = {}
        # Used versions by id: their XSD, XSL and metadata never change again (`uzyta` is never reset, and the
        # database's triggers refuse a change, hub/storage/guards.py), so every process and hub sharing the
        # database may keep them; whether a version is active is read every time.
        self._used: dict[int, Template] = {}

    def seed(self, folder: Path = SHIPPED) -> int:
        """Import each shipped document type as version 1 (active) when the database has none of it."""
        count = 0
        for metadata_file in sorted(folder.glob("*/metadane.json")):
            metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
            with Session(self.engine) as session, session.begin():
                known = session.scalar(
                    select(TemplateVersion.id).where(TemplateVersion.document_type == metadata["rodzaj"])
                )
                if known is not None:
                    continue
                row = TemplateVersion(
                    document_type=metadata["rodzaj"],
                    version=1,
                    xsd=(metadata_file.parent / "schemat.xsd").read_text(encoding="utf-8"),
                    xsl=(metadata_file.parent / "wizualizacja.xsl").read_text(encoding="utf-8"),
                    metadata_json=json.dumps(metadata, ensure_ascii=False),
                    author=SYSTEM_AUTHOR,
                    created=self._now(),
                    active=True,
                    used=False,
                )
                session.add(row)
                session.flush()
                self._history(session, _template(row), TemplateAction.IMPORT, SYSTEM_AUTHOR, "")
                count += 1
        return count

    def list(self) -> list[Template]:
        """Every version of every document type, by type and version; each checked against its history (a
        version rewritten behind the hub's back is `TemplateTampered`, not listed as it is)."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(TemplateVersion, _RECORDED_SHA256).order_by(
                    TemplateVersion.document_type, TemplateVersion.version
                )
            )
            return [self._checked(row, recorded) for row, recorded in rows]

    def versions(self, caller: Caller) -> Sequence[Template]:
        """Every version of every document type, for a template editor (`list`, authorised)."""
        self._authorise(caller, "lista wersji szablonów")
        return self.list()

    def active(self, document_type: str) -> Template:
        """The active version of a document type.

        One narrow query (id and flags) when the version is used and so kept (`_used`); reading and parsing
        the whole row every time was 0.2 ms of each certificate (bench/documents.py)."""
        with self.engine.connect() as connection:
            flags = connection.execute(_ACTIVE_FLAGS, {"document_type": document_type}).first()
        kept = self._used.get(flags.id) if flags is not None and flags.used else None
        if kept is not None:
            return kept if kept.active else replace(kept, active=True)
        with Session(self.engine) as session:
            row = session.execute(
                select(TemplateVersion, _RECORDED_SHA256).where(
                    TemplateVersion.document_type == document_type, TemplateVersion.active.is_(True)
                )
            ).first()
            if row is None:
                raise UnknownTemplate(f"Nieznany rodzaj dokumentu: {document_type}.")
            return self._keep(self._checked(*row))

    def get(self, template_id: int) -> Template:
        """One version by its id."""
        with self.engine.connect() as connection:
            flags = connection.execute(_FLAGS, {"id": template_id}).first()
        kept = self._used.get(template_id) if flags is not None and flags.used else None
        if kept is not None and flags is not None:
            return kept if kept.active == flags.active else replace(kept, active=bool(flags.active))
        with Session(self.engine) as session:
            row = session.execute(
                select(TemplateVersion, _RECORDED_SHA256).where(TemplateVersion.id == template_id)
            ).first()
            if row is None:
                raise UnknownTemplate(f"Nieznana wersja szablonu: {template_id}.")
            return self._keep(self._checked(*row))

    @staticmethod
    def _checked(row: TemplateVersion, recorded: str | None) -> Template:
        """A version read from the database (with `recorded`, `_RECORDED_SHA256`), if its content is what its
        last recorded change left (the SHA-256 of its one-file export in `zmiany_szablonow`); `TemplateTampered`
        if not (its row rewritten with the triggers dropped: a document would be rendered with a stylesheet it
        was not made with). A version made before the history was kept has no row to compare with."""
        template = _template(row)
        if recorded is not None and recorded != template.file_sha256:
            _log.error(
                "Wersja %s szablonu %s nie zgadza się ze skrótem SHA-256 z historii.", row.version, row.document_type
            )
            raise TemplateTampered(
                f"Wersja {row.version} szablonu {row.document_type} w bazie huba nie zgadza się ze skrótem SHA-256 "
                "zapisanym w historii szablonu (zmieniono ją poza platformą); nie użyto jej. "
                "Zgłoś to administratorowi."
            )
        return template

    def _keep(self, template: Template) -> Template:
        """Keep a used version (immutable) for the next `active` or `get`."""
        if template.used:
            if len(self._used) >= _KEPT_VERSIONS:
                self._used.clear()
            self._used[template.id] = template
        return template

    def kept(self, template_id: int) -> Template | None:
        """A used version already in memory, as active (for a caller that has just read it used and active in its
        own query, saving `active` its round trip); None when not kept yet."""
        kept = self._used.get(template_id)
        return kept if kept is None or kept.active else replace(kept, active=True)

    def identity(self, template_id: int) -> tuple[str, int]:
        """The document type and version number of a version by its id (read once: they never change)."""
        known = self._identities.get(template_id)
        if known is None:
            template = self.get(template_id)
            known = self._identities[template_id] = (template.document_type, template.version)
        return known

    def version(self, document_type: str, version: int) -> Template:
        """One version by type and number."""
        with Session(self.engine) as session:
            row = session.execute(
                select(TemplateVersion, _RECORDED_SHA256).where(
                    TemplateVersion.document_type == document_type, TemplateVersion.version == version
                )
            ).first()
            if row is None:
                raise UnknownTemplate(f"Szablon {document_type} nie ma wersji {version}.")
            return self._checked(*row)

    def template(self, caller: Caller, document_type: str, version: int | None = None) -> Template:
        """One version for a template editor: the given one, or the active one when `version` is None."""
        self._authorise(caller, f"odczyt szablonu {document_type}")
        return self.version(document_type, version) if version is not None else self.active(document_type)

    def export(self, caller: Caller, document_type: str, version: int | None = None) -> bytes:
        """One version as one file (`Template.export_file`), for a template editor; the active one by default."""
        return self.template(caller, document_type, version).export_file()

    def history(self, caller: Caller, document_type: str) -> Sequence[TemplateHistoryEntry]:
        """Who made, imported, changed and activated which version of a document type, and when, oldest first.

        A version made before the history was kept appears as made by its author when it was created."""
        self._authorise(caller, f"historia szablonu {document_type}")
        with Session(self.engine) as session:
            versions = session.scalars(
                select(TemplateVersion).where(TemplateVersion.document_type == document_type)
            ).all()
            if not versions:
                raise UnknownTemplate(f"Nieznany rodzaj dokumentu: {document_type}.")
            rows = session.scalars(
                select(TemplateChange).where(TemplateChange.document_type == document_type).order_by(TemplateChange.id)
            ).all()
            entries = [
                TemplateHistoryEntry(
                    r.time, r.document_type, r.version, TemplateAction(r.action), r.actor, r.office, r.sha256
                )
                for r in rows
            ]
            creating = (TemplateAction.NEW_VERSION.value, TemplateAction.IMPORT.value)
            recorded = {r.version for r in rows if r.action in creating}
            for row in versions:
                if row.version not in recorded:
                    template = _template(row)
                    entries.append(
                        TemplateHistoryEntry(
                            template.created,
                            document_type,
                            template.version,
                            TemplateAction.NEW_VERSION,
                            template.author,
                            "",
                            template.file_sha256,
                        )
                    )
        return sorted(entries, key=lambda e: (e.time, e.version))

    def mark_used(self, session: Session | Connection, template_id: int) -> None:
        """Freeze a version: a document is being made from it (in the caller's transaction)."""
        session.execute(update(TemplateVersion).where(TemplateVersion.id == template_id).values(used=True))

    def freeze(self, session: Session | Connection, template: Template) -> bool:
        """Freeze a version a document was made from, in the transaction that stores the document, if its XSD
        and XSL are still those the document was made with; False (nothing frozen) if they changed meanwhile.

        One conditional UPDATE, as `change` is one (`uzyta` still false): of a change and a document made from
        the version at once exactly one takes effect, on SQLite too (which ignores SELECT … FOR UPDATE). Before,
        a certificate made by a schema replaced meanwhile was stored under the schema that replaced it."""
        frozen: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(TemplateVersion)
            .where(
                TemplateVersion.id == template.id,
                TemplateVersion.xsd == template.xsd,
                TemplateVersion.xsl == template.xsl,
            )
            .values(used=True)
            .execution_options(synchronize_session=False)
        )
        return frozen.rowcount == 1

    def _check_generates(
        self, session: Session, document_type: str, xsd: str, metadata: dict[str, Any], version: int | None = None
    ) -> None:
        """Refuse a schema that does not accept the documents the platform makes of the type: the type's last
        stored document, as the generator would make it from this version (its namespace, number and title; no
        signature), must be valid by it. A type no document was made of yet is not checked (the generator
        needs an answer of the query engine); its first document then fails in Polish instead."""
        sample = session.scalar(
            select(StoredDocument.content)
            .join(TemplateVersion, StoredDocument.template_id == TemplateVersion.id)
            .where(TemplateVersion.document_type == document_type)
            .order_by(StoredDocument.created.desc(), StoredDocument.id)
            .limit(1)
        )
        if sample is None:
            return
        root = _as_made_by(xmlsafe.parse_bytes(sample), str(metadata.get("przestrzen_nazw")), metadata, version)
        where = schema_mismatch(self.compiled.schema(xsd), root)
        if where is not None:
            raise InvalidTemplate(
                f"Schemat XSD szablonu {document_type} nie przyjmuje dokumentu, jaki platforma wytwarza z tego "
                f"rodzaju (sprawdzono na ostatnim wytworzonym dokumencie: {where}); z takiej wersji nie powstałby "
                "żaden dokument."
            )

    def new_version(
        self,
        caller: Caller,
        document_type: str,
        xsd: str | None = None,
        xsl: str | None = None,
        metadata: dict[str, Any] | str | None = None,
    ) -> Template:
        """A new, inactive version of a document type (the next number), checked and recorded; what is not given
        is taken from the active version, metadata (an object, or its JSON text as a caller sent it) merged over
        it. At least one of the three must be given. The caller's role is checked first: one without it learns
        nothing of how the rest is checked, and the refusal is recorded."""
        self._authorise(caller, f"nowa wersja szablonu {document_type}")
        if isinstance(metadata, str):
            metadata = metadata_from_json(metadata)
        return self._new_version(caller, document_type, xsd, xsl, metadata, TemplateAction.NEW_VERSION)

    def _new_version(
        self,
        caller: Caller,
        document_type: str,
        xsd: str | None,
        xsl: str | None,
        metadata: dict[str, Any] | None,
        action: TemplateAction,
    ) -> Template:
        if xsd is None and xsl is None and metadata is None:
            raise InvalidRequest("Podaj co najmniej jedno z: schemat XSD, wizualizację XSL, zmiany metadanych.")
        if not _TYPE_CODE.fullmatch(document_type):
            # Not echoed: a name that is no code may hold what neither the database nor XML can carry.
            raise UnknownTemplate("Nieznany rodzaj dokumentu (kod rodzaju to wielkie litery, cyfry i podkreślenia).")
        current = self.active(document_type)
        if metadata is not None and metadata.get("rodzaj", document_type) != document_type:
            raise InvalidTemplate(
                f"Metadane szablonu (pole „rodzaj”) wskazują inny rodzaj dokumentu niż {document_type}, którego "
                "wersją miałyby być; szablon jednego rodzaju nie staje się wersją innego."
            )
        xsd = current.xsd if xsd is None else xsd
        xsl = current.xsl if xsl is None else xsl
        compile_schema(xsd)
        compile_stylesheet(xsl)
        merged = {**current.metadata, **(metadata or {}), "rodzaj": document_type}
        check_metadata(merged, _target_namespace(xsd), current.metadata)
        self._check_same_kind(document_type, merged, current.metadata)
        with Session(self.engine) as session:
            self._check_generates(session, document_type, xsd, merged)
        metadata_json = json.dumps(merged, ensure_ascii=False)
        # Two editors making a version of one type at once both read the same last number; the unique
        # (rodzaj, wersja) refuses the second insert, which counts again (8 at once were BLAD_WEWNETRZNY for 3).
        for attempt in range(_NUMBERING_ATTEMPTS):
            try:
                made = self._insert_next(caller, document_type, xsd, xsl, metadata_json, action)
                break
            except IntegrityError:
                if attempt == _NUMBERING_ATTEMPTS - 1:
                    raise
        what = "import wersji" if action is TemplateAction.IMPORT else "nowa wersja"
        self._record(caller, made, f"{what} {made.version}")
        return made

    def _check_same_kind(self, document_type: str, metadata: dict[str, Any], previous: dict[str, Any]) -> None:
        """Refuse a version that would make the type another one: made from another data set than its versions
        are, or in a namespace another type's versions have (the documents of the two could not be told apart;
        PUP's exported certificate imported as OPS's was stored as OPS's next version)."""
        for name in _SOURCE_METADATA:
            if metadata.get(name) != previous.get(name):
                raise InvalidTemplate(
                    f"Dokumenty rodzaju {document_type} powstają ze zbioru wskazanego w metadanych (pole „{name}”: "
                    f"{previous.get(name) or 'brak'}), który nie zmienia się między wersjami szablonu; utwórz nowy "
                    "rodzaj."
                )
        namespace = str(metadata.get("przestrzen_nazw"))
        with Session(self.engine) as session:
            others = session.execute(
                select(TemplateVersion.document_type, TemplateVersion.metadata_json).where(
                    TemplateVersion.document_type != document_type,
                    TemplateVersion.metadata_json.contains(
                        json.dumps(namespace, ensure_ascii=False)[1:-1], autoescape=True
                    ),
                )
            ).all()
        owner = next((t for t, m in others if json.loads(m).get("przestrzen_nazw") == namespace), None)
        if owner is not None:
            raise InvalidTemplate(
                f"Przestrzeń nazw {namespace} ma już rodzaj dokumentu {owner}; dokumentów dwóch rodzajów nie dałoby "
                "się odróżnić."
            )

    def _insert_next(
        self, caller: Caller, document_type: str, xsd: str, xsl: str, metadata_json: str, action: TemplateAction
    ) -> Template:
        """Insert the type's next version and its history row in one transaction."""
        with Session(self.engine) as session, session.begin():
            last = session.scalar(
                select(TemplateVersion.version)
                .where(TemplateVersion.document_type == document_type)
                .order_by(TemplateVersion.version.desc())
            )
            row = TemplateVersion(
                document_type=document_type,
                version=(last or 0) + 1,
                xsd=xsd,
                xsl=xsl,
                metadata_json=metadata_json,
                author=caller.login,
                created=self._now(),
                active=False,
                used=False,
            )
            session.add(row)
            session.flush()
            made = _template(row)
            self._history(session, made, action, caller.login, caller.office)
        return made

    def change(self, caller: Caller, document_type: str, version: int, *, xsd: str | None, xsl: str | None) -> Template:
        """Change a version no document was made from; a version in use is refused (`SZABLON_W_UZYCIU`)."""
        self._authorise(caller, f"zmiana szablonu {document_type} w wersji {version}")
        in_use = TemplateInUse(
            f"Z wersji {version} szablonu {document_type} wytworzono już dokumenty; wersji tej nie można "
            "zmienić (dokument zawsze wizualizuje się wersją, z której powstał). Utwórz nową wersję."
        )
        with Session(self.engine) as session, session.begin():
            lock_for_writing(session, TemplateVersion.__table__)
            row = session.scalar(
                select(TemplateVersion)
                .where(TemplateVersion.document_type == document_type, TemplateVersion.version == version)
                .with_for_update()
            )
            if row is None:
                raise UnknownTemplate(f"Szablon {document_type} nie ma wersji {version}.")
            if row.used:
                raise in_use
            if xsd is not None:
                compile_schema(xsd)
                metadata = json.loads(row.metadata_json)
                check_metadata(metadata, _target_namespace(xsd), metadata)
                self._check_generates(session, document_type, xsd, metadata, version)
            if xsl is not None:
                compile_stylesheet(xsl)
            # Only while no document was made from it: one conditional UPDATE, which `freeze` (a document
            # stored) and this change cannot both pass (both succeeded, racing, before).
            changed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(TemplateVersion)
                .where(TemplateVersion.id == row.id, TemplateVersion.used.is_(False))
                .values(xsd=row.xsd if xsd is None else xsd, xsl=row.xsl if xsl is None else xsl)
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:
                raise in_use
            session.refresh(row)
            made = _template(row)
            self._history(session, made, TemplateAction.CHANGE, caller.login, caller.office)
        self._record(caller, made, f"zmiana wersji {version}")
        return made

    def activate(self, caller: Caller, document_type: str, version: int) -> Template:
        """Make a version the one new documents are made from (if its schema accepts them, `_check_generates`);
        recorded as a security event."""
        self._authorise(caller, f"aktywacja szablonu {document_type} w wersji {version}")
        with Session(self.engine) as session, session.begin():
            # The type's versions locked first, in one order: two activations on PostgreSQL each updated them all
            # in its own order and deadlocked (one of them a BLAD_WEWNETRZNY). On SQLite the database's write lock,
            # before the version is read: a change committed meanwhile made it hash content no longer stored.
            lock_for_writing(session, TemplateVersion.__table__)
            session.execute(
                select(TemplateVersion.id)
                .where(TemplateVersion.document_type == document_type)
                .order_by(TemplateVersion.id)
                .with_for_update()
            ).all()
            row = session.scalar(
                select(TemplateVersion).where(
                    TemplateVersion.document_type == document_type, TemplateVersion.version == version
                )
            )
            if row is None:
                raise UnknownTemplate(f"Szablon {document_type} nie ma wersji {version}.")
            self._check_generates(session, document_type, row.xsd, json.loads(row.metadata_json), version)
            session.execute(
                update(TemplateVersion).where(TemplateVersion.document_type == document_type).values(active=False)
            )
            row.active = True
            made = _template(row)
            self._history(session, made, TemplateAction.ACTIVATION, caller.login, caller.office)
        self._record(caller, made, f"aktywacja wersji {version}")
        return made

    def import_file(self, caller: Caller, content: bytes) -> Template:
        """A new, inactive version from one exported file (`Template.export_file`: JSON)."""
        self._authorise(caller, "import szablonu z pliku")
        try:
            data = json.loads(content)
            fields = [data["rodzaj"], data["schemat"], data["wizualizacja"]]
            metadata = data["metadane"]
        except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: JSON nested 50,000 deep
            fields, metadata = [], None
        if len(fields) != 3 or not all(isinstance(f, str) for f in fields) or not isinstance(metadata, dict):
            raise InvalidRequest(
                "Plik szablonu nie jest eksportem szablonu (JSON z rodzajem, metadanymi, schematem i wizualizacją)."
            )
        document_type, xsd, xsl = fields
        return self._new_version(caller, document_type, xsd, xsl, metadata, TemplateAction.IMPORT)

    def _authorise(self, caller: Caller, what: str) -> None:
        if not caller.has_role(TEMPLATE_EDITOR):
            self.events.record(caller.refusal(f"{what} (wymaga roli {TEMPLATE_EDITOR})", self._now()))
            raise NotAllowed(
                f"Szablony dokumentów zmienia tylko redaktor szablonów (rola {TEMPLATE_EDITOR}).",
                details=(Detail(DetailKind.ROLE, TEMPLATE_EDITOR),),
            )

    def _history(self, session: Session, template: Template, action: TemplateAction, actor: str, office: str) -> None:
        """A row of the type's history, in the transaction of the change it records."""
        session.add(
            TemplateChange(
                document_type=template.document_type,
                version=template.version,
                action=action.value,
                actor=actor,
                office=office,
                time=self._now(),
                sha256=template.file_sha256,
            )
        )

    def _record(self, caller: Caller, template: Template, what: str) -> None:
        self.events.record(
            SecurityEvent(
                self._now(),
                EventKind.TEMPLATE_CHANGE,
                caller.login,
                caller.office,
                caller.login,
                caller.source,
                True,
                f"szablon {template.document_type}: {what} (SHA-256 pliku {template.file_sha256})",
            )
        )


def _as_made_by(root: etree._Element, namespace: str, metadata: dict[str, Any], version: int | None) -> etree._Element:
    """A stored document as the generator would make it from another version of its type: the elements of its
    template's namespace moved to `namespace` (the data of the query engine keep theirs), that version's
    number and title, and no signature (the generator makes none)."""
    old = etree.QName(root).namespace
    for signature in root.findall(_DS + "Signature"):
        root.remove(signature)
    for element in root.iter(etree.Element):
        if etree.QName(element).namespace == old:
            element.tag = etree.QName(namespace, etree.QName(element).localname).text
    ns = "{" + namespace + "}"
    if version is not None:
        for number in root.iterfind(f"{ns}OpisDokumentu/{ns}WersjaSzablonu"):
            number.text = str(version)
    for title in root.iterfind(f"{ns}OpisDokumentu/{ns}Tytul"):
        title.text = str(metadata.get("tytul", ""))
    return root
