"""Document templates (guideline 2; issue 15): versioned XSD + XSL + metadata in the hub database.

A version is immutable once a document was made from it; a document always names its version and is
rendered with it. Only template editors (`REDAKTOR_SZABLONOW`) make, change and activate versions; each
change and each activation is a recorded security event (`ZMIANA_POLITYKI`: a template decides what a
certificate discloses, as a rule does). Rendering is sandboxed: XSLT without file or network access and
without extension functions.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from audit import EventKind, EventLog
from audit.records import SecurityEvent
from contract import xmlsafe
from contract.catalog import TEMPLATE_EDITOR
from contract.errors import Detail, DetailKind, InvalidRequest, NotAllowed, PlatformError
from hub.domain.policy import Caller
from hub.storage.documents import TemplateVersion

#: The document types shipped with the platform, each imported as version 1 on first start.
SHIPPED = Path(__file__).resolve().parent.parent / "documents"

_XSL = "{http://www.w3.org/1999/XSL/Transform}"
#: lxml's sandbox for templates: no file, no network, no directories (lxml XSLTAccessControl).
SANDBOX = etree.XSLTAccessControl(
    read_file=False, write_file=False, create_dir=False, read_network=False, write_network=False
)


class TemplateInUse(PlatformError):
    """A template version from which a document was already made: it cannot be changed; make a new version."""

    code = "SZABLON_W_UZYCIU"


class UnknownTemplate(PlatformError):
    """A document type or template version the platform does not have."""

    code = "NIEZNANY_SZABLON"


class InvalidTemplate(PlatformError):
    """A template whose XSD or XSL cannot be used (not well-formed, not a schema, not a stylesheet)."""

    code = "NIEPRAWIDLOWY_SZABLON"


class RenderingRefused(PlatformError):
    """A template that failed while rendering, e.g. by reaching for a file or the network (sandbox)."""

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


def compile_schema(xsd: str) -> etree.XMLSchema:
    """The template's schema, parsed without DTDs, entities or network; `InvalidTemplate` if unusable."""
    try:
        return etree.XMLSchema(etree.fromstring(xsd.encode(), xmlsafe.parser()))
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as error:
        raise InvalidTemplate(f"Schemat XSD szablonu jest nieprawidłowy: {error}") from None


def compile_stylesheet(xsl: str) -> etree.XSLT:
    """The template's stylesheet in the sandbox (no files, no network, no extensions)."""
    try:
        root = etree.fromstring(xsl.encode(), xmlsafe.parser())
    except etree.XMLSyntaxError as error:
        raise InvalidTemplate(f"Arkusz XSL szablonu jest nieprawidłowy: {error}") from None
    # lxml applies XSLTAccessControl when the stylesheet runs, not to xsl:include/xsl:import while it is
    # compiled (tested: an include of a local file was read); a template is one file, so both are refused.
    if any(True for _ in root.iter(_XSL + "include", _XSL + "import")):
        raise InvalidTemplate("Arkusz XSL szablonu nie może włączać innych plików (xsl:include, xsl:import).")
    try:
        return etree.XSLT(root, access_control=SANDBOX)
    except etree.XSLTParseError as error:
        raise InvalidTemplate(f"Arkusz XSL szablonu jest nieprawidłowy: {error}") from None


class CompiledTemplates:
    """Schemas and stylesheets compiled once per template text and thread, not once per document.

    Keyed by the XSD or XSL text itself, so a change of a version no document was made from yet compiles
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
        key = "xsd:" + xsd
        if key not in cache:
            cache[key] = compile_schema(xsd)
        return cache[key]

    def stylesheet(self, xsl: str) -> etree.XSLT:
        """The compiled, sandboxed stylesheet of an XSL text (`compile_stylesheet`)."""
        cache = self._cache()
        key = "xsl:" + xsl
        if key not in cache:
            cache[key] = compile_stylesheet(xsl)
        return cache[key]


def render_html(template: Template, document: bytes, stylesheet: etree.XSLT | None = None) -> bytes:
    """The document rendered to HTML by its template's XSL, in the sandbox; `RenderingRefused` on failure.

    `stylesheet` is the template's XSL already compiled (`CompiledTemplates.stylesheet`), if the caller has it."""
    transform = stylesheet if stylesheet is not None else compile_stylesheet(template.xsl)
    try:
        result = transform(etree.ElementTree(xmlsafe.parse_bytes(document)))
    except etree.XSLTApplyError as error:
        raise RenderingRefused(
            f"Szablon {template.document_type} w wersji {template.version} nie dał się zastosować: {error}"
        ) from None
    if transform.error_log and any(e.level_name == "ERROR" for e in transform.error_log):
        raise RenderingRefused(
            f"Szablon {template.document_type} w wersji {template.version} próbował sięgnąć poza piaskownicę "
            "(plik, sieć) lub zawiódł; wizualizacja nie powstała."
        )
    return etree.tostring(result, method="html", encoding="UTF-8")


class Templates:
    """The template store: versions, activation, immutability once used, rendering."""

    def __init__(self, engine: Engine, events: EventLog, *, clock: Any = None) -> None:
        self.engine = engine
        self.events = events
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))
        self.compiled = CompiledTemplates()
        # A version's type and number never change (only an unused version's XSD and XSL may).
        self._identities: dict[int, tuple[str, int]] = {}

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
                session.add(
                    TemplateVersion(
                        document_type=metadata["rodzaj"],
                        version=1,
                        xsd=(metadata_file.parent / "schemat.xsd").read_text(encoding="utf-8"),
                        xsl=(metadata_file.parent / "wizualizacja.xsl").read_text(encoding="utf-8"),
                        metadata_json=json.dumps(metadata, ensure_ascii=False),
                        author="platforma",
                        created=self._now(),
                        active=True,
                        used=False,
                    )
                )
                count += 1
        return count

    def list(self) -> list[Template]:
        """Every version of every document type, by type and version."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(TemplateVersion).order_by(TemplateVersion.document_type, TemplateVersion.version)
            )
            return [_template(row) for row in rows]

    def active(self, document_type: str) -> Template:
        """The active version of a document type."""
        with Session(self.engine) as session:
            row = session.scalar(
                select(TemplateVersion).where(
                    TemplateVersion.document_type == document_type, TemplateVersion.active.is_(True)
                )
            )
            if row is None:
                raise UnknownTemplate(f"Nieznany rodzaj dokumentu: {document_type}.")
            return _template(row)

    def get(self, template_id: int) -> Template:
        """One version by its id."""
        with Session(self.engine) as session:
            row = session.get(TemplateVersion, template_id)
            if row is None:
                raise UnknownTemplate(f"Nieznana wersja szablonu: {template_id}.")
            return _template(row)

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
            row = session.scalar(
                select(TemplateVersion).where(
                    TemplateVersion.document_type == document_type, TemplateVersion.version == version
                )
            )
            if row is None:
                raise UnknownTemplate(f"Szablon {document_type} nie ma wersji {version}.")
            return _template(row)

    def mark_used(self, session: Session, template_id: int) -> None:
        """Freeze a version: a document is being made from it (in the caller's transaction)."""
        session.execute(update(TemplateVersion).where(TemplateVersion.id == template_id).values(used=True))

    def new_version(self, caller: Caller, document_type: str, xsd: str, xsl: str, metadata: dict[str, Any]) -> Template:
        """A new, inactive version of a document type (the next number), checked and recorded."""
        self._authorise(caller, f"nowa wersja szablonu {document_type}")
        compile_schema(xsd)
        compile_stylesheet(xsl)
        metadata = {**self.active(document_type).metadata, **metadata, "rodzaj": document_type}
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
                metadata_json=json.dumps(metadata, ensure_ascii=False),
                author=caller.login,
                created=self._now(),
                active=False,
                used=False,
            )
            session.add(row)
            session.flush()
            made = _template(row)
        self._record(caller, f"szablon {document_type}: nowa wersja {made.version}")
        return made

    def change(self, caller: Caller, document_type: str, version: int, *, xsd: str | None, xsl: str | None) -> Template:
        """Change a version no document was made from; a version in use is refused (`SZABLON_W_UZYCIU`)."""
        self._authorise(caller, f"zmiana szablonu {document_type} w wersji {version}")
        with Session(self.engine) as session, session.begin():
            row = session.scalar(
                select(TemplateVersion)
                .where(TemplateVersion.document_type == document_type, TemplateVersion.version == version)
                .with_for_update()
            )
            if row is None:
                raise UnknownTemplate(f"Szablon {document_type} nie ma wersji {version}.")
            if row.used:
                raise TemplateInUse(
                    f"Z wersji {version} szablonu {document_type} wytworzono już dokumenty; wersji tej nie można "
                    "zmienić (dokument zawsze wizualizuje się wersją, z której powstał). Utwórz nową wersję."
                )
            if xsd is not None:
                compile_schema(xsd)
            if xsl is not None:
                compile_stylesheet(xsl)
            row.xsd = xsd if xsd is not None else row.xsd
            row.xsl = xsl if xsl is not None else row.xsl
            made = _template(row)
        self._record(caller, f"szablon {document_type}: zmiana wersji {version}")
        return made

    def activate(self, caller: Caller, document_type: str, version: int) -> Template:
        """Make a version the one new documents are made from; recorded as a security event."""
        self._authorise(caller, f"aktywacja szablonu {document_type} w wersji {version}")
        with Session(self.engine) as session, session.begin():
            row = session.scalar(
                select(TemplateVersion).where(
                    TemplateVersion.document_type == document_type, TemplateVersion.version == version
                )
            )
            if row is None:
                raise UnknownTemplate(f"Szablon {document_type} nie ma wersji {version}.")
            session.execute(
                update(TemplateVersion).where(TemplateVersion.document_type == document_type).values(active=False)
            )
            row.active = True
            made = _template(row)
        self._record(caller, f"szablon {document_type}: aktywacja wersji {version}")
        return made

    def import_file(self, caller: Caller, content: bytes) -> Template:
        """A new version from one exported file (`Template.to_file` as JSON)."""
        try:
            data = json.loads(content)
            return self.new_version(caller, data["rodzaj"], data["schemat"], data["wizualizacja"], data["metadane"])
        except (ValueError, KeyError, TypeError):
            raise InvalidRequest(
                "Plik szablonu nie jest eksportem szablonu (JSON z rodzajem, metadanymi, schematem i wizualizacją)."
            ) from None

    def _authorise(self, caller: Caller, what: str) -> None:
        if not caller.has_role(TEMPLATE_EDITOR):
            self.events.record(
                SecurityEvent(
                    self._now(),
                    EventKind.PERMISSION_REFUSED,
                    caller.login,
                    caller.office,
                    caller.login,
                    caller.source,
                    False,
                    f"{what} (wymaga roli {TEMPLATE_EDITOR})",
                )
            )
            raise NotAllowed(
                f"Szablony dokumentów zmienia tylko redaktor szablonów (rola {TEMPLATE_EDITOR}).",
                details=(Detail(DetailKind.ROLE, TEMPLATE_EDITOR),),
            )

    def _record(self, caller: Caller, what: str) -> None:
        self.events.record(
            SecurityEvent(
                self._now(),
                EventKind.POLICY_CHANGE,
                caller.login,
                caller.office,
                caller.login,
                caller.source,
                True,
                what,
            )
        )
